//! `formats::firmware::parse_header` on any prefix and any claimed file length
//! (what the firmware view reads from the folder): never panics; a header it
//! accepts has members, each named and sized, and its completeness agrees
//! with the length it was given (issue 14).
#![no_main]

use gsprov::formats::firmware::{self, Completeness};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    // The first two bytes choose how much longer than the prefix the file claims to be.
    let Some((head, data)) = input.split_first_chunk::<2>() else { return };
    let len = data.len() as u64 + u64::from(u16::from_le_bytes(*head) % 4096);
    let Ok(h) = firmware::parse_header(data, len) else { return };
    assert!(!h.members.is_empty());
    assert!(h.members.iter().all(|m| !m.name.is_empty() && m.size > 0));
    let want = h.expected_len();
    match h.completeness() {
        Completeness::Complete => assert_eq!(want, len),
        Completeness::Truncated { missing } => assert_eq!(want - missing, len),
        Completeness::TrailingBytes { extra } => assert_eq!(want + extra, len),
    }
    let _ = (h.version(), h.stem());
});
