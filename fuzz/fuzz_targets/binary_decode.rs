//! `formats::binary::decode` on arbitrary bytes: never panics, and whatever it
//! reads survives a re-encode (percent escaping) and a second decode unchanged.
#![no_main]

use gsprov::formats::binary::{self, DEFAULT_GNKEY, EncodeOptions, Escape};
use gsprov::ids::PId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for plus_is_space in [false, true] {
        let Ok(decoded) = binary::decode_with(data, plus_is_space) else { return };
        // A decoded gnkey may be anything; the encoder only writes a valid one.
        let gnkey = decoded
            .gnkey
            .clone()
            .filter(|g| !g.is_empty() && g.len() <= 16 && g.bytes().all(|b| b.is_ascii_alphanumeric()))
            .unwrap_or_else(|| DEFAULT_GNKEY.to_string());
        let params: Vec<(PId, &str)> = decoded.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for escape in [Escape::Percent, Escape::Form, Escape::Minimal] {
            let opts = EncodeOptions { escape, gnkey: gnkey.clone(), ..EncodeOptions::default() };
            let bytes = binary::encode(decoded.mac, &params, &opts).expect("decoded params re-encode");
            let again = binary::decode_with(&bytes, escape == Escape::Form).expect("an encoded file decodes");
            assert_eq!(again.mac, decoded.mac);
            assert_eq!(again.params, decoded.params, "params change through encode/decode ({escape})");
            assert_eq!(again.gnkey.as_deref(), Some(gnkey.as_str()));
            assert!(again.checksum_ok && again.length_ok, "the encoder writes a consistent header");
        }
    }
});
