//! Legacy binary `cfg<mac>` file (spec §6): encode P-values into the byte layout
//! old Grandstream units read, and decode such a file back for inspection.
//!
//! Owns the header (length in 16-bit words, checksum, MAC, `0d0a0d0a`), the
//! `P<n>=<v>&...&gnkey=0b82` body, value escaping and NUL padding. Pure: no file
//! system, sockets, clock or randomness; `tools/gscfg.py` is the reference and the
//! vectors in `tests/fixtures/vectors/binary` (a copy of the spec's) are reproduced byte for byte.
//!
//! Encoding is a hot path (thousands of devices per second), so [`encode`] sizes
//! the output exactly first and writes into one allocation, escaping through a
//! per-mode lookup table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{Mac, PId};

/// Bytes before the body: length (4), checksum (2), MAC (6), CR LF CR LF (4).
pub const HEADER_LEN: usize = 16;
/// The separator that ends the header.
pub const CRLFCRLF: [u8; 4] = *b"\r\n\r\n";
/// The key every known writer but one puts last; see spec §6.
pub const DEFAULT_GNKEY: &str = "0b82";

/// How values are escaped inside the `&`-separated body (spec §6 lists which
/// server wrote which style; devices have not been tested against all of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Escape {
    /// RFC 3986: every byte outside `A-Z a-z 0-9 - . _ ~` becomes `%XX` (UTF-8 first).
    /// The recommendation: it never leaves `&`, `=`, `+` or `%` raw in a value.
    #[default]
    Percent,
    /// `x-www-form-urlencoded`: space becomes `+`, `A-Z a-z 0-9 - . _` stay, the rest `%XX`.
    Form,
    /// Only `% & = +`, control bytes and DEL become `%XX`; UTF-8 stays raw.
    Minimal,
    /// No escaping at all; values with `&`, `=` or NUL are refused.
    Raw,
}

impl Escape {
    /// Every mode, in the order a chooser should offer them.
    pub const ALL: [Escape; 4] = [Escape::Percent, Escape::Form, Escape::Minimal, Escape::Raw];

    /// The lower-case name used in settings files and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Escape::Percent => "percent",
            Escape::Form => "form",
            Escape::Minimal => "minimal",
            Escape::Raw => "raw",
        }
    }

    fn table(self) -> &'static [Class; 256] {
        match self {
            Escape::Percent => &PERCENT,
            Escape::Form => &FORM,
            Escape::Minimal => &MINIMAL,
            Escape::Raw => &RAW,
        }
    }
}

impl fmt::Display for Escape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a text is not an escape mode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an escape mode; use percent, form, minimal or raw")]
pub struct EscapeError(pub String);

impl FromStr for Escape {
    type Err = EscapeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Escape::ALL.into_iter().find(|e| e.name().eq_ignore_ascii_case(t)).ok_or_else(|| EscapeError(s.to_string()))
    }
}

/// What one input byte turns into.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Keep,
    Hex,
    Plus,
}

const fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const fn build_table(mode: Escape) -> [Class; 256] {
    let mut t = [Class::Hex; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = match mode {
            Escape::Percent if is_unreserved(b) => Class::Keep,
            Escape::Form if b == b' ' => Class::Plus,
            Escape::Form if is_unreserved(b) && b != b'~' => Class::Keep,
            Escape::Minimal if b >= 0x20 && b != 0x7f && !matches!(b, b'%' | b'&' | b'=' | b'+') => Class::Keep,
            Escape::Raw => Class::Keep,
            _ => Class::Hex,
        };
        i += 1;
    }
    t
}

static PERCENT: [Class; 256] = build_table(Escape::Percent);
static FORM: [Class; 256] = build_table(Escape::Form);
static MINIMAL: [Class; 256] = build_table(Escape::Minimal);
static RAW: [Class; 256] = build_table(Escape::Raw);

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Settings for [`encode`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EncodeOptions {
    /// Value escaping; percent unless a device is known to want otherwise.
    pub escape: Escape,
    /// The body is NUL-padded to a multiple of this; a power of two, at least 2.
    pub align: usize,
    /// Value of the closing `gnkey` field; ASCII letters and digits.
    pub gnkey: String,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions { escape: Escape::Percent, align: 2, gnkey: DEFAULT_GNKEY.to_string() }
    }
}

/// Why a binary file could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    #[error("padding alignment {0} is not a power of two of at least 2; use 2 (usual), 4 or 16")]
    Align(usize),
    #[error(
        "the value of {pid} contains {what} at byte {offset}, which raw escaping cannot carry; \
         use percent, form or minimal escaping, or change the value"
    )]
    RawUnsafe { pid: PId, what: &'static str, offset: usize },
    #[error("gnkey {0:?} must be 1 to 16 ASCII letters or digits (normally 0b82)")]
    Gnkey(String),
    #[error("the file would be {0} bytes; its length field can count at most 8 GiB, so split the parameters")]
    TooLarge(usize),
}

/// Builds a complete `cfg<mac>` file: header, `P<n>=<v>&...&gnkey=<gnkey>` body
/// in the order given, NUL padding to `opts.align`, and the checksum that makes
/// the big-endian 16-bit word sum of the whole file zero.
///
/// # Errors
/// A bad alignment or gnkey, a raw-mode value containing `&`, `=` or NUL (the
/// error names the P-id), or a file too large for the 32-bit length field.
pub fn encode(mac: Mac, params: &[(PId, &str)], opts: &EncodeOptions) -> Result<Vec<u8>, EncodeError> {
    let align = opts.align;
    if align < 2 || !align.is_power_of_two() {
        return Err(EncodeError::Align(align));
    }
    let gnkey = opts.gnkey.as_bytes();
    if gnkey.is_empty() || gnkey.len() > 16 || !gnkey.iter().all(u8::is_ascii_alphanumeric) {
        return Err(EncodeError::Gnkey(opts.gnkey.clone()));
    }
    let table = opts.escape.table();

    // Pass 1: exact size, and the raw-mode refusal before anything is written.
    let mut body_len = b"gnkey=".len() + gnkey.len();
    for &(pid, value) in params {
        let bytes = value.as_bytes();
        body_len += 1 + decimal_len(pid.number()) + 1 + 1; // P, digits, '=', '&'
        if opts.escape == Escape::Raw {
            if let Some(offset) = bytes.iter().position(|b| matches!(b, b'&' | b'=' | 0)) {
                let what = match bytes[offset] {
                    b'&' => "'&'",
                    b'=' => "'='",
                    _ => "a NUL byte",
                };
                return Err(EncodeError::RawUnsafe { pid, what, offset });
            }
            body_len += bytes.len();
        } else {
            body_len += bytes.iter().map(|&b| if table[b as usize] == Class::Hex { 3 } else { 1 }).sum::<usize>();
        }
    }
    let padded = body_len.next_multiple_of(align);
    let total = HEADER_LEN + padded;
    let words = u32::try_from(total / 2).map_err(|_| EncodeError::TooLarge(total))?;

    // Pass 2: write into one exactly sized buffer.
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&words.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&mac.bytes());
    out.extend_from_slice(&CRLFCRLF);
    for &(pid, value) in params {
        out.push(b'P');
        push_decimal(&mut out, pid.number());
        out.push(b'=');
        for &b in value.as_bytes() {
            match table[b as usize] {
                Class::Keep => out.push(b),
                Class::Plus => out.push(b'+'),
                Class::Hex => {
                    out.extend_from_slice(&[b'%', HEX_UPPER[(b >> 4) as usize], HEX_UPPER[(b & 0x0f) as usize]])
                }
            }
        }
        out.push(b'&');
    }
    out.extend_from_slice(b"gnkey=");
    out.extend_from_slice(gnkey);
    debug_assert_eq!(out.len(), HEADER_LEN + body_len);
    out.resize(total, 0);

    let checksum = 0u16.wrapping_sub(word_sum(&out));
    out[4..6].copy_from_slice(&checksum.to_be_bytes());
    Ok(out)
}

/// Sum of big-endian 16-bit words modulo 2^16; an odd tail counts as `tail << 8`.
pub fn word_sum(data: &[u8]) -> u16 {
    let mut chunks = data.chunks_exact(2);
    let mut sum = chunks.by_ref().fold(0u16, |acc, w| acc.wrapping_add(u16::from_be_bytes([w[0], w[1]])));
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u16::from(*last) << 8);
    }
    sum
}

fn decimal_len(mut n: u32) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

fn push_decimal(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(super::decimal(n, &mut [0u8; 10]).as_bytes());
}

/// A parsed `cfg<mac>` file. Integrity problems are flags, not errors, so a
/// technician can still read what a damaged file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// MAC address from bytes 6..12.
    pub mac: Mac,
    /// The length field, in 16-bit words.
    pub length_words: u32,
    /// The stored checksum field.
    pub checksum: u16,
    /// Whether the word sum of the whole file is zero.
    pub checksum_ok: bool,
    /// Whether the length field matches the file size.
    pub length_ok: bool,
    /// The P-values in file order, unescaped.
    pub params: Vec<(PId, String)>,
    /// The `gnkey` value, if the file has one.
    pub gnkey: Option<String>,
    /// Trailing NUL bytes after the body.
    pub padding: usize,
}

/// Why bytes are not a readable `cfg<mac>` file. Offsets count from the start of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "file is {0} bytes; a Grandstream binary config has a 16-byte header, so this is not one (truncated download?)"
    )]
    TooShort(usize),
    #[error(
        "bytes at offset 12..16 are {0:02x?}, not the CR LF CR LF that ends the header; this is not a Grandstream binary config"
    )]
    MissingSeparator([u8; 4]),
    #[error(
        "file is {0} bytes, an odd number; the format is made of 16-bit words, so the byte at offset {last} is left over",
        last = .0 - 1
    )]
    OddLength(usize),
    #[error("field at byte offset {offset} ({text:?}) has no '='; the body must be name=value fields joined by '&'")]
    NoEquals { offset: usize, text: String },
    #[error("field name {name:?} at byte offset {offset} is neither a P-value id (P<digits>) nor gnkey")]
    BadName { offset: usize, name: String },
    #[error("the value of {name} at byte offset {offset} is not valid UTF-8 after undoing %XX escapes")]
    InvalidUtf8 { offset: usize, name: String },
}

/// Parses a `cfg<mac>` file, undoing `%XX` escapes (`+` stays `+`).
///
/// # Errors
/// See [`decode_with`].
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    decode_with(bytes, false)
}

/// Parses a `cfg<mac>` file; with `plus_is_space`, `+` in values becomes a space
/// (for files written with [`Escape::Form`]). Never panics.
///
/// # Errors
/// Fewer than 16 bytes, no CR LF CR LF at offset 12, an odd length, a field
/// without `=`, a field name that is neither `P<digits>` nor `gnkey`, or a value
/// that is not UTF-8 once unescaped. Checksum and length mismatches are only flagged.
pub fn decode_with(bytes: &[u8], plus_is_space: bool) -> Result<Decoded, DecodeError> {
    let len = bytes.len();
    if len < HEADER_LEN {
        return Err(DecodeError::TooShort(len));
    }
    let sep = [bytes[12], bytes[13], bytes[14], bytes[15]];
    if sep != CRLFCRLF {
        return Err(DecodeError::MissingSeparator(sep));
    }
    if !len.is_multiple_of(2) {
        return Err(DecodeError::OddLength(len));
    }
    let length_words = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let checksum = u16::from_be_bytes([bytes[4], bytes[5]]);
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&bytes[6..12]);

    let body = &bytes[HEADER_LEN..];
    let content_len = body.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let content = &body[..content_len];

    let mut params = Vec::new();
    let mut gnkey = None;
    let mut scratch = Vec::new();
    if !content.is_empty() {
        let mut start = HEADER_LEN;
        for field in content.split(|&b| b == b'&') {
            let Some(eq) = field.iter().position(|&b| b == b'=') else {
                return Err(DecodeError::NoEquals { offset: start, text: preview(field) });
            };
            let (name, value) = (&field[..eq], &field[eq + 1..]);
            let value_offset = start + eq + 1;
            let text = |scratch: &mut Vec<u8>, shown: &str| {
                unescape_into(value, plus_is_space, scratch);
                String::from_utf8(std::mem::take(scratch))
                    .map_err(|_| DecodeError::InvalidUtf8 { offset: value_offset, name: shown.to_string() })
            };
            if name == b"gnkey" {
                gnkey = Some(text(&mut scratch, "gnkey")?);
            } else {
                let pid = parse_pid(name).ok_or_else(|| DecodeError::BadName { offset: start, name: preview(name) })?;
                params.push((pid, text(&mut scratch, &pid.to_string())?));
            }
            start += field.len() + 1;
        }
    }

    Ok(Decoded {
        mac: Mac::from_bytes(mac),
        length_words,
        checksum,
        checksum_ok: word_sum(bytes) == 0,
        length_ok: u64::from(length_words) * 2 == len as u64,
        params,
        gnkey,
        padding: body.len() - content_len,
    })
}

/// `P` followed by 1 to 6 ASCII digits, nothing else (stricter than text input).
fn parse_pid(name: &[u8]) -> Option<PId> {
    let digits = name.strip_prefix(b"P")?;
    if digits.is_empty() || digits.len() > 6 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = digits.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    Some(PId::new(n))
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Undoes `%XX` (a `%` not followed by two hex digits stays as is), optionally `+`.
fn unescape_into(raw: &[u8], plus_is_space: bool, out: &mut Vec<u8>) {
    out.clear();
    out.reserve(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'%'
            && let (Some(hi), Some(lo)) =
                (raw.get(i + 1).copied().and_then(hex_val), raw.get(i + 2).copied().and_then(hex_val))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(if b == b'+' && plus_is_space { b' ' } else { b });
        i += 1;
    }
}

/// The first 40 bytes of a field, readable, for error messages.
fn preview(field: &[u8]) -> String {
    String::from_utf8_lossy(&field[..field.len().min(40)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    fn vector_dir() -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vectors/binary");
        assert!(dir.is_dir(), "test vectors missing: expected {} (tests/fixtures/vectors/README.md)", dir.display());
        dir
    }

    fn read_json(path: &std::path::Path) -> serde_json::Value {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn mac() -> Mac {
        "000b82123456".parse().unwrap()
    }

    #[test]
    fn golden_vectors_round_trip_byte_for_byte() {
        let dir = vector_dir();
        let mut seen = 0;
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "bin"))
            .collect();
        names.sort();
        for bin_path in names {
            let stem = bin_path.file_stem().unwrap().to_str().unwrap().to_string();
            let meta = read_json(&dir.join(format!("{stem}.json")));
            let inputs = read_json(&dir.join(format!("{stem}.params.json")));
            let bin = std::fs::read(&bin_path).unwrap();

            let params: Vec<(PId, String)> = inputs
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_str().unwrap().parse().unwrap(), p[1].as_str().unwrap().to_string()))
                .collect();
            let borrowed: Vec<(PId, &str)> = params.iter().map(|(p, v)| (*p, v.as_str())).collect();
            let escape: Escape = meta["escape"].as_str().unwrap().parse().unwrap();
            let opts = EncodeOptions {
                escape,
                align: meta["align"].as_u64().unwrap() as usize,
                gnkey: meta["gnkey"].as_str().unwrap_or(DEFAULT_GNKEY).to_string(),
            };
            let mac: Mac = meta["mac"].as_str().unwrap().parse().unwrap();

            let encoded = encode(mac, &borrowed, &opts).unwrap();
            assert_eq!(hex(&encoded), hex(&bin), "{stem}: re-encoding differs");
            assert_eq!(hex(&encoded[..16]), meta["header_hex"].as_str().unwrap(), "{stem}");

            let d = decode_with(&bin, escape == Escape::Form).unwrap();
            assert!(d.checksum_ok && d.length_ok, "{stem}: {d:?}");
            assert_eq!(d.mac, mac, "{stem}");
            assert_eq!(format!("{:04x}", d.checksum), meta["checksum_hex"].as_str().unwrap(), "{stem}");
            assert_eq!(u64::from(d.length_words), meta["length_field_words"].as_u64().unwrap(), "{stem}");
            assert_eq!(d.padding as u64, meta["padding_nul_bytes"].as_u64().unwrap(), "{stem}");
            assert_eq!(d.gnkey.as_deref(), Some(opts.gnkey.as_str()), "{stem}");
            assert_eq!(d.params, params, "{stem}: decoded params differ");
            seen += 1;
        }
        assert!(seen >= 6, "expected at least 6 binary vectors in {}, found {seen}", dir.display());
    }

    #[test]
    fn worked_example_header() {
        let blob = encode(mac(), &[(PId::new(2), "admin")], &EncodeOptions::default()).unwrap();
        assert_eq!(&blob[..4], &(blob.len() as u32 / 2).to_be_bytes());
        assert_eq!(&blob[6..12], &[0x00, 0x0b, 0x82, 0x12, 0x34, 0x56]);
        assert_eq!(&blob[12..16], b"\r\n\r\n");
        assert_eq!(&blob[16..], b"P2=admin&gnkey=0b82\0");
        assert_eq!(word_sum(&blob), 0);
    }

    #[test]
    fn escaping_matches_the_reference() {
        let body = |escape, v: &str| {
            let opts = EncodeOptions { escape, ..Default::default() };
            let blob = encode(mac(), &[(PId::new(1), v)], &opts).unwrap();
            let end = blob.iter().rposition(|&b| b != 0).unwrap() + 1;
            String::from_utf8(blob[16 + 3..end - "&gnkey=0b82".len()].to_vec()).unwrap()
        };
        assert_eq!(body(Escape::Percent, "a b&c=d~*"), "a%20b%26c%3Dd~%2A");
        assert_eq!(body(Escape::Form, "a b&c=d~"), "a+b%26c%3Dd%7E");
        assert_eq!(body(Escape::Percent, "ü"), "%C3%BC");
        assert_eq!(body(Escape::Minimal, "ü a/%&=+\t\x7f"), "ü a/%25%26%3D%2B%09%7F");
        assert_eq!(body(Escape::Raw, "a b/ü%+"), "a b/ü%+");
    }

    #[test]
    fn encode_rejects_with_a_reason() {
        let raw = EncodeOptions { escape: Escape::Raw, ..Default::default() };
        let err = encode(mac(), &[(PId::new(3), "ok"), (PId::new(34), "a&b")], &raw).unwrap_err();
        assert_eq!(err, EncodeError::RawUnsafe { pid: PId::new(34), what: "'&'", offset: 1 });
        assert!(err.to_string().contains("P34"), "{err}");
        assert!(matches!(encode(mac(), &[(PId::new(3), "x=1")], &raw), Err(EncodeError::RawUnsafe { .. })));
        assert!(matches!(encode(mac(), &[(PId::new(3), "x\0")], &raw), Err(EncodeError::RawUnsafe { .. })));
        for align in [0, 1, 3, 6, 12] {
            let opts = EncodeOptions { align, ..Default::default() };
            assert_eq!(encode(mac(), &[], &opts), Err(EncodeError::Align(align)));
        }
        for gnkey in ["", "0b&2", "ab=", "ü"] {
            let opts = EncodeOptions { gnkey: gnkey.into(), ..Default::default() };
            assert!(matches!(encode(mac(), &[], &opts), Err(EncodeError::Gnkey(_))), "{gnkey}");
        }
        let opts = EncodeOptions { align: 32, gnkey: "74ad".into(), ..Default::default() };
        let blob = encode(mac(), &[], &opts).unwrap();
        assert_eq!(blob.len(), 16 + 32);
        assert_eq!(decode(&blob).unwrap().gnkey.as_deref(), Some("74ad"));
    }

    #[test]
    fn decode_flags_damage_but_still_reads() {
        let blob = encode(mac(), &[(PId::new(3), "Alice")], &EncodeOptions::default()).unwrap();
        let mut bad = blob.clone();
        bad[20] ^= 0x01;
        let d = decode(&bad).unwrap();
        assert!(!d.checksum_ok && d.length_ok);
        bad.extend_from_slice(&[0, 0]);
        let d = decode(&bad).unwrap();
        assert!(!d.length_ok);
        assert_eq!(d.padding, blob.len() - 16 - "P3=Alice&gnkey=0b82".len() + 2);
    }

    #[test]
    fn decode_errors_say_where() {
        assert_eq!(decode(&[0; 15]), Err(DecodeError::TooShort(15)));
        assert!(matches!(decode(&[0; 16]), Err(DecodeError::MissingSeparator(_))));
        let mut h = vec![0u8; 12];
        h.extend_from_slice(b"\r\n\r\n");
        let with = |body: &[u8]| [h.as_slice(), body].concat();
        let empty = decode(&h).unwrap();
        assert!(empty.params.is_empty() && empty.gnkey.is_none() && empty.padding == 0);
        assert_eq!(decode(&with(b"P")), Err(DecodeError::OddLength(17)));
        assert_eq!(decode(&with(b"P1=a&xxx")), Err(DecodeError::NoEquals { offset: 21, text: "xxx".into() }));
        assert_eq!(decode(&with(b"P1=a&Q2=b\0")), Err(DecodeError::BadName { offset: 21, name: "Q2".into() }));
        assert!(matches!(decode(&with(b"p1=a")), Err(DecodeError::BadName { .. })));
        assert!(matches!(decode(&with(b"P1234567=a\0\0")), Err(DecodeError::BadName { .. })));
        let e = decode(&with(b"P1=a&P7=%FF\0")).unwrap_err();
        assert_eq!(e, DecodeError::InvalidUtf8 { offset: 24, name: "P7".into() });
        assert!(e.to_string().contains("offset 24"), "{e}");
        // a '%' without two hex digits is kept literally, '+' only on request
        let d = decode(&with(b"P1=%zz+%4&P2=a+b")).unwrap();
        assert_eq!(d.params, vec![(PId::new(1), "%zz+%4".into()), (PId::new(2), "a+b".into())]);
        let d = decode_with(&with(b"P2=a+b%2B\0"), true).unwrap();
        assert_eq!(d.params, vec![(PId::new(2), "a b+".into())]);
    }

    #[test]
    fn escape_names() {
        for e in Escape::ALL {
            assert_eq!(e.to_string().parse::<Escape>().unwrap(), e);
            assert_eq!(serde_json::to_string(&e).unwrap(), format!("\"{e}\""));
        }
        assert_eq!("FORM".parse::<Escape>().unwrap(), Escape::Form);
        assert!("url".parse::<Escape>().is_err());
        assert_eq!(Escape::default(), Escape::Percent);
    }

    fn any_params(value: impl Strategy<Value = String>) -> impl Strategy<Value = Vec<(PId, String)>> {
        prop::collection::vec(((0u32..1_000_000).prop_map(PId::new), value), 0..12)
    }

    fn any_escape() -> impl Strategy<Value = Escape> {
        prop_oneof![Just(Escape::Percent), Just(Escape::Form), Just(Escape::Minimal)]
    }

    fn any_align() -> impl Strategy<Value = usize> {
        (1u32..6).prop_map(|s| 1usize << s)
    }

    fn round_trip(mac: Mac, params: &[(PId, String)], opts: &EncodeOptions) -> Result<(), TestCaseError> {
        let borrowed: Vec<(PId, &str)> = params.iter().map(|(p, v)| (*p, v.as_str())).collect();
        let blob = encode(mac, &borrowed, opts).unwrap();
        prop_assert_eq!((blob.len() - HEADER_LEN) % opts.align, 0);
        let d = decode_with(&blob, opts.escape == Escape::Form).unwrap();
        prop_assert!(d.checksum_ok && d.length_ok);
        prop_assert_eq!(d.mac, mac);
        prop_assert_eq!(d.gnkey.as_deref(), Some(opts.gnkey.as_str()));
        prop_assert_eq!(&d.params, params);
        Ok(())
    }

    proptest! {
        #[test]
        fn escaped_values_round_trip(
            mac in any::<[u8; 6]>().prop_map(Mac::from_bytes),
            params in any_params(prop_oneof![any::<String>(), "[a-z &=%+:/\\x00\\t~*]{0,20}"]),
            escape in any_escape(),
            align in any_align(),
        ) {
            round_trip(mac, &params, &EncodeOptions { escape, align, ..Default::default() })?;
        }

        #[test]
        fn raw_safe_values_round_trip(
            params in any_params("[^&=%+\\x00]{0,20}"),
            align in any_align(),
        ) {
            round_trip(mac(), &params, &EncodeOptions { escape: Escape::Raw, align, ..Default::default() })?;
        }

        #[test]
        fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), plus in any::<bool>()) {
            let _ = decode_with(&bytes, plus);
            let mut framed = vec![0u8; 12];
            framed.extend_from_slice(b"\r\n\r\n");
            framed.extend_from_slice(&bytes);
            let _ = decode_with(&framed, plus);
        }

        #[test]
        fn decode_never_panics_on_body_like_bytes(body in "[P0-9a-z=&%+\\x00\\xff]{0,60}") {
            let mut framed = vec![0u8; 12];
            framed.extend_from_slice(b"\r\n\r\n");
            framed.extend_from_slice(body.as_bytes());
            let _ = decode(&framed);
        }
    }
}
