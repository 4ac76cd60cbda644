//! `formats::request::parse` with an arbitrary path and arbitrary naming settings:
//! never panics, and a recognised name with its affixes is rebuilt by `file_name`.
//! Input layout: path, prefix, postfix, firmware prefix, firmware postfix,
//! separated by NUL bytes (missing parts are empty).
#![no_main]

use gsprov::formats::request::{self, Asked, Naming};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let mut next = || parts.next().unwrap_or("");
    let (path, prefix, postfix, fw_prefix, fw_postfix) = (next(), next(), next(), next(), next());
    let naming = Naming { prefix, postfix, fw_prefix, fw_postfix };
    let parsed = request::parse(path, &naming);
    assert!(!parsed.file.contains('/'));
    if parsed.affix_ok && parsed.asked != Asked::Unknown {
        let name = request::file_name(&parsed.asked, &naming).expect("known requests have a name");
        assert!(
            name.eq_ignore_ascii_case(&parsed.file),
            "{:?} parsed as {:?} but is built as {name:?}",
            parsed.file,
            parsed.asked
        );
    }
});
