//! `site::import_csv` on any text (a spreadsheet export the technician picks):
//! never panics; an import that succeeds leaves no control character in the
//! device text fields (check, import and generate agree) and its site goes
//! through `Site::check` and `generate` without panicking.
#![no_main]

use gsprov::site::{self, Site};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let base = Site::default();
    let Ok((site, _report)) = site::import_csv(&base, text) else { return };
    for d in &site.devices {
        assert!(site::text_problem(&d.label, false).is_none());
        assert!(site::text_problem(&d.location, false).is_none());
        for a in &d.accounts {
            assert!(site::text_problem(&a.display_name, false).is_none());
            assert!(site::text_problem(&a.password, false).is_none());
        }
    }
    let _ = site.check();
    let _ = gsprov::generate::generate(&site, &mut || [7; 8]);
});
