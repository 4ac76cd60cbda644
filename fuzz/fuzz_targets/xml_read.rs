//! `formats::xml::read` on arbitrary bytes: never panics, and whatever it reads
//! is written back and read again unchanged.
#![no_main]

use gsprov::formats::xml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = xml::read(data) else { return };
    let bytes = match xml::write(&doc) {
        Ok(b) => b,
        Err(e) => panic!("a document the reader accepts must be writable: {e}\n{doc:?}"),
    };
    let again = xml::read(&bytes).unwrap_or_else(|e| panic!("written XML must read back: {e}"));
    assert_eq!(again, doc);
});
