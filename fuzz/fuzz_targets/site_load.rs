//! `storage::parse_site` on arbitrary text: never panics; a site that loads can be
//! checked and generated (with a fixed salt) without panicking. Generation may
//! refuse a value (that is an error, not a crash).
#![no_main]

use std::path::Path;

use gsprov::{generate, storage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(site) = storage::parse_site(Path::new("fuzz.gsprov.toml"), text) else { return };
    let _ = site.check();
    if let Ok(out) = generate::generate(&site, &mut || [7u8; 8]) {
        let _ = generate::tree_readme(&site, &out);
        let _ = out.by_name();
    }
    let _ = generate::nginx_conf(&site);
    let _ = storage::site_to_toml(&site);
});
