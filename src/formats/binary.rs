//! Legacy binary `cfg<mac>` file (spec §6): encode and decode.
//!
//! API to implement (helper task):
//! - `pub enum Escape { Percent, Form, Minimal, Raw }` (default Percent)
//! - `pub struct EncodeOptions { pub escape: Escape, pub align: usize, pub gnkey: String }`
//!   with `Default` = Percent / 2 / "0b82"
//! - `pub fn encode(mac: Mac, params: &[(PId, &str)], opts: &EncodeOptions) -> Result<Vec<u8>, EncodeError>`
//! - `pub struct Decoded { mac, length_words, checksum, checksum_ok, params: Vec<(PId, String)>, gnkey: Option<String>, padding }`
//! - `pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError>`
