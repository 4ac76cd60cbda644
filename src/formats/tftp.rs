//! TFTP packets, bytes <-> types (RFC 1350, options RFC 2347/2348/2349, window
//! size RFC 7440).
//!
//! Owns the wire format only: no sockets, no timers. `services::tftp` drives a
//! transfer with these types; the `gsprov fetch` client reuses them. Every packet
//! round-trips byte for byte (tests below).

use std::fmt;

/// Largest block size RFC 2348 allows.
pub const MAX_BLKSIZE: u16 = 65464;
/// Smallest block size RFC 2348 allows.
pub const MIN_BLKSIZE: u16 = 8;
/// Block size without the `blksize` option.
pub const DEFAULT_BLKSIZE: u16 = 512;
/// Longest retransmission timeout a server accepts (RFC 2349 allows 255 s; a
/// client asking more gets no `timeout` in the OACK and the server's own).
pub const MAX_TIMEOUT: u8 = 5;
/// Bytes a window may hold (block size times window size): the memory one
/// transfer keeps for retransmission. A larger window is answered smaller
/// (RFC 7440 §3 lets the server choose a smaller value).
pub const MAX_WINDOW_BYTES: usize = 128 * 1024;

/// Opcodes (RFC 1350 §5, RFC 2347).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    Rrq = 1,
    Wrq = 2,
    Data = 3,
    Ack = 4,
    Error = 5,
    OAck = 6,
}

/// Transfer mode of a request. Grandstream devices use `octet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Octet,
    Netascii,
    Mail,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Octet => "octet",
            Mode::Netascii => "netascii",
            Mode::Mail => "mail",
        }
    }
}

/// The option names this codec knows; others are kept raw and ignored by servers.
pub mod opt {
    pub const BLKSIZE: &str = "blksize";
    pub const TSIZE: &str = "tsize";
    pub const TIMEOUT: &str = "timeout";
    pub const WINDOWSIZE: &str = "windowsize";
}

/// A read or write request: file name, mode, options in the order sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// As sent; not valid UTF-8 bytes are replaced (such names are refused later).
    pub filename: String,
    pub mode: Mode,
    /// `(name, value)` with the name lower-cased (RFC 2347: case-insensitive).
    pub options: Vec<(String, String)>,
}

impl Request {
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// TFTP error codes (RFC 1350 §5, RFC 2347 code 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotDefined,
    FileNotFound,
    AccessViolation,
    DiskFull,
    IllegalOperation,
    UnknownTid,
    FileExists,
    NoSuchUser,
    OptionRefused,
    Other(u16),
}

impl ErrorCode {
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::NotDefined => 0,
            ErrorCode::FileNotFound => 1,
            ErrorCode::AccessViolation => 2,
            ErrorCode::DiskFull => 3,
            ErrorCode::IllegalOperation => 4,
            ErrorCode::UnknownTid => 5,
            ErrorCode::FileExists => 6,
            ErrorCode::NoSuchUser => 7,
            ErrorCode::OptionRefused => 8,
            ErrorCode::Other(n) => n,
        }
    }

    pub fn from_code(n: u16) -> Self {
        match n {
            0 => ErrorCode::NotDefined,
            1 => ErrorCode::FileNotFound,
            2 => ErrorCode::AccessViolation,
            3 => ErrorCode::DiskFull,
            4 => ErrorCode::IllegalOperation,
            5 => ErrorCode::UnknownTid,
            6 => ErrorCode::FileExists,
            7 => ErrorCode::NoSuchUser,
            8 => ErrorCode::OptionRefused,
            n => ErrorCode::Other(n),
        }
    }
}

/// One TFTP packet. `Data` borrows its payload so a server can send slices of
/// a shared file without copying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet<'a> {
    Rrq(Request),
    Wrq(Request),
    Data {
        block: u16,
        data: &'a [u8],
    },
    Ack {
        block: u16,
    },
    Error {
        code: ErrorCode,
        message: String,
    },
    /// Option acknowledgement, options in the order given.
    OAck {
        options: Vec<(String, String)>,
    },
}

/// Why bytes are not a TFTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("packet of {0} bytes is too short for a TFTP opcode")]
    TooShort(usize),
    #[error("unknown TFTP opcode {0}")]
    UnknownOpcode(u16),
    #[error("request is truncated: the {0} is not NUL-terminated")]
    Unterminated(&'static str),
    #[error("transfer mode {0:?} is not octet, netascii or mail")]
    BadMode(String),
    #[error("option {0:?} has no value")]
    OptionWithoutValue(String),
    #[error("{0} packet has the wrong length")]
    BadLength(&'static str),
}

impl<'a> Packet<'a> {
    /// Parses one datagram.
    pub fn decode(bytes: &'a [u8]) -> Result<Packet<'a>, DecodeError> {
        if bytes.len() < 2 {
            return Err(DecodeError::TooShort(bytes.len()));
        }
        let op = u16::from_be_bytes([bytes[0], bytes[1]]);
        let rest = &bytes[2..];
        match op {
            1 | 2 => {
                let req = decode_request(rest)?;
                Ok(if op == 1 { Packet::Rrq(req) } else { Packet::Wrq(req) })
            }
            3 => {
                if rest.len() < 2 {
                    return Err(DecodeError::BadLength("DATA"));
                }
                Ok(Packet::Data { block: u16::from_be_bytes([rest[0], rest[1]]), data: &rest[2..] })
            }
            4 => {
                // Some clients pad; only the block number matters.
                if rest.len() < 2 {
                    return Err(DecodeError::BadLength("ACK"));
                }
                Ok(Packet::Ack { block: u16::from_be_bytes([rest[0], rest[1]]) })
            }
            5 => {
                if rest.len() < 2 {
                    return Err(DecodeError::BadLength("ERROR"));
                }
                let code = ErrorCode::from_code(u16::from_be_bytes([rest[0], rest[1]]));
                // The message should be NUL-terminated; be lenient when it is not.
                let msg = &rest[2..];
                let msg = msg.split(|&b| b == 0).next().unwrap_or(&[]);
                Ok(Packet::Error { code, message: String::from_utf8_lossy(msg).into_owned() })
            }
            6 => {
                let mut fields = Fields(rest);
                Ok(Packet::OAck { options: decode_options(&mut fields)? })
            }
            n => Err(DecodeError::UnknownOpcode(n)),
        }
    }

    /// Appends the wire form to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let put_str = |out: &mut Vec<u8>, s: &str| {
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        };
        match self {
            Packet::Rrq(r) | Packet::Wrq(r) => {
                let op = if matches!(self, Packet::Rrq(_)) { Opcode::Rrq } else { Opcode::Wrq };
                out.extend_from_slice(&(op as u16).to_be_bytes());
                put_str(out, &r.filename);
                put_str(out, r.mode.as_str());
                for (k, v) in &r.options {
                    put_str(out, k);
                    put_str(out, v);
                }
            }
            Packet::Data { block, data } => {
                out.extend_from_slice(&(Opcode::Data as u16).to_be_bytes());
                out.extend_from_slice(&block.to_be_bytes());
                out.extend_from_slice(data);
            }
            Packet::Ack { block } => {
                out.extend_from_slice(&(Opcode::Ack as u16).to_be_bytes());
                out.extend_from_slice(&block.to_be_bytes());
            }
            Packet::Error { code, message } => {
                out.extend_from_slice(&(Opcode::Error as u16).to_be_bytes());
                out.extend_from_slice(&code.code().to_be_bytes());
                put_str(out, message);
            }
            Packet::OAck { options } => {
                out.extend_from_slice(&(Opcode::OAck as u16).to_be_bytes());
                for (k, v) in options {
                    put_str(out, k);
                    put_str(out, v);
                }
            }
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        self.encode_into(&mut out);
        out
    }
}

/// NUL-terminated fields of a request or OACK.
struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn next(&mut self, what: &'static str) -> Result<Option<&'a [u8]>, DecodeError> {
        if self.0.is_empty() {
            return Ok(None);
        }
        let end = self.0.iter().position(|&b| b == 0).ok_or(DecodeError::Unterminated(what))?;
        let field = &self.0[..end];
        self.0 = &self.0[end + 1..];
        Ok(Some(field))
    }
}

fn decode_request(bytes: &[u8]) -> Result<Request, DecodeError> {
    let mut fields = Fields(bytes);
    let filename = fields.next("file name")?.ok_or(DecodeError::Unterminated("file name"))?;
    let mode = fields.next("mode")?.ok_or(DecodeError::Unterminated("mode"))?;
    let mode_text = String::from_utf8_lossy(mode).to_ascii_lowercase();
    let mode = match mode_text.as_str() {
        "octet" => Mode::Octet,
        "netascii" => Mode::Netascii,
        "mail" => Mode::Mail,
        _ => return Err(DecodeError::BadMode(mode_text)),
    };
    let options = decode_options(&mut fields)?;
    Ok(Request { filename: String::from_utf8_lossy(filename).into_owned(), mode, options })
}

fn decode_options(fields: &mut Fields) -> Result<Vec<(String, String)>, DecodeError> {
    let mut options = Vec::new();
    while let Some(name) = fields.next("option name")? {
        // Some clients pad requests with NULs; an empty name ends the list.
        if name.is_empty() {
            break;
        }
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let value = fields.next("option value")?.ok_or_else(|| DecodeError::OptionWithoutValue(name.clone()))?;
        options.push((name, String::from_utf8_lossy(value).into_owned()));
    }
    Ok(options)
}

/// What a server agreed to, from a request's options (RFC 2347 negotiation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub blksize: u16,
    /// Retransmission timeout in seconds, if the client asked for one.
    pub timeout: Option<u8>,
    pub windowsize: u16,
    /// Whether the client asked for the size (`tsize`), so the OACK carries it.
    pub tsize: bool,
}

impl Default for Negotiated {
    fn default() -> Self {
        Negotiated { blksize: DEFAULT_BLKSIZE, timeout: None, windowsize: 1, tsize: false }
    }
}

/// Server side of option negotiation: accepts what is valid (capping block size
/// at `max_blksize`, window size at `max_window` and at [`MAX_WINDOW_BYTES`]
/// of blocks, timeouts at [`MAX_TIMEOUT`]), ignores what is not, answers an
/// option sent twice once (the first), and returns the OACK options to send
/// (empty: send no OACK, start with DATA 1).
pub fn negotiate(
    req: &Request,
    size: Option<u64>,
    max_blksize: u16,
    max_window: u16,
) -> (Negotiated, Vec<(String, String)>) {
    let mut n = Negotiated::default();
    let mut oack: Vec<(String, String)> = Vec::new();
    for (i, (k, v)) in req.options.iter().enumerate() {
        if req.options[..i].iter().any(|(first, _)| first == k) {
            continue;
        }
        match k.as_str() {
            opt::BLKSIZE => {
                if let Ok(b) = v.trim().parse::<u32>()
                    && b >= u32::from(MIN_BLKSIZE)
                {
                    n.blksize = b.min(u32::from(max_blksize.min(MAX_BLKSIZE))) as u16;
                    oack.push((k.clone(), n.blksize.to_string()));
                }
            }
            opt::TIMEOUT => {
                if let Ok(t) = v.trim().parse::<u8>()
                    && (1..=MAX_TIMEOUT).contains(&t)
                {
                    n.timeout = Some(t);
                    oack.push((k.clone(), t.to_string()));
                }
            }
            opt::TSIZE => {
                // A read request sends 0; the reply carries the real size. Without
                // a known size the option is left out of the OACK.
                if let Some(size) = size {
                    n.tsize = true;
                    oack.push((k.clone(), size.to_string()));
                }
            }
            opt::WINDOWSIZE => {
                if let Ok(w) = v.trim().parse::<u16>()
                    && w >= 1
                {
                    n.windowsize = w.min(max_window.max(1));
                    oack.push((k.clone(), n.windowsize.to_string()));
                }
            }
            _ => {}
        }
    }
    let fits = (MAX_WINDOW_BYTES / usize::from(n.blksize)).max(1) as u16;
    if n.windowsize > fits {
        n.windowsize = fits;
        for (k, v) in &mut oack {
            if k == opt::WINDOWSIZE {
                *v = fits.to_string();
            }
        }
    }
    (n, oack)
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rrq(name: &str, opts: &[(&str, &str)]) -> Request {
        Request {
            filename: name.into(),
            mode: Mode::Octet,
            options: opts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }

    #[test]
    fn golden_bytes() {
        let cases: Vec<(Packet, &[u8])> = vec![
            (Packet::Rrq(rrq("cfg.xml", &[])), b"\x00\x01cfg.xml\x00octet\x00"),
            (
                Packet::Rrq(rrq("a", &[("blksize", "1428"), ("tsize", "0")])),
                b"\x00\x01a\x00octet\x00blksize\x001428\x00tsize\x000\x00",
            ),
            (
                Packet::Wrq(Request { filename: "x".into(), mode: Mode::Netascii, options: vec![] }),
                b"\x00\x02x\x00netascii\x00",
            ),
            (Packet::Data { block: 258, data: b"hi" }, b"\x00\x03\x01\x02hi"),
            (Packet::Data { block: 7, data: b"" }, b"\x00\x03\x00\x07"),
            (Packet::Ack { block: 0xffff }, b"\x00\x04\xff\xff"),
            (
                Packet::Error { code: ErrorCode::FileNotFound, message: "File not found".into() },
                b"\x00\x05\x00\x01File not found\x00",
            ),
            (
                Packet::OAck { options: vec![("blksize".into(), "1428".into()), ("tsize".into(), "9".into())] },
                b"\x00\x06blksize\x001428\x00tsize\x009\x00",
            ),
        ];
        for (packet, bytes) in cases {
            assert_eq!(packet.encode(), bytes, "{packet:?}");
            assert_eq!(Packet::decode(bytes).unwrap(), packet, "{bytes:?}");
        }
    }

    #[test]
    fn lenient_where_clients_differ() {
        // Upper-case mode and option names (RFC 2347: case-insensitive).
        let p = Packet::decode(b"\x00\x01CFG.XML\x00OCTET\x00BLKSIZE\x00512\x00").unwrap();
        assert_eq!(p, Packet::Rrq(rrq("CFG.XML", &[("blksize", "512")])));
        // Trailing NUL padding after the options.
        let p = Packet::decode(b"\x00\x01a\x00octet\x00\x00\x00").unwrap();
        assert_eq!(p, Packet::Rrq(rrq("a", &[])));
        // Unterminated error message.
        let p = Packet::decode(b"\x00\x05\x00\x00oops").unwrap();
        assert_eq!(p, Packet::Error { code: ErrorCode::NotDefined, message: "oops".into() });
    }

    #[test]
    fn malformed() {
        let cases: Vec<(&[u8], DecodeError)> = vec![
            (b"", DecodeError::TooShort(0)),
            (b"\x00", DecodeError::TooShort(1)),
            (b"\x00\x09abc", DecodeError::UnknownOpcode(9)),
            (b"\x00\x01cfg.xml", DecodeError::Unterminated("file name")),
            (b"\x00\x01cfg.xml\x00oct", DecodeError::Unterminated("mode")),
            (b"\x00\x01cfg.xml\x00", DecodeError::Unterminated("mode")),
            (b"\x00\x01cfg.xml\x00binary\x00", DecodeError::BadMode("binary".into())),
            (b"\x00\x01a\x00octet\x00blksize\x00", DecodeError::OptionWithoutValue("blksize".into())),
            (b"\x00\x03\x00", DecodeError::BadLength("DATA")),
            (b"\x00\x04", DecodeError::BadLength("ACK")),
        ];
        for (bytes, err) in cases {
            assert_eq!(Packet::decode(bytes), Err(err), "{bytes:?}");
        }
    }

    #[test]
    fn negotiation() {
        let r = rrq("f", &[("blksize", "1428"), ("tsize", "0"), ("timeout", "3"), ("windowsize", "8"), ("x", "1")]);
        let (n, oack) = negotiate(&r, Some(1000), 65464, 16);
        assert_eq!(n, Negotiated { blksize: 1428, timeout: Some(3), windowsize: 8, tsize: true });
        let names: Vec<&str> = oack.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["blksize", "tsize", "timeout", "windowsize"]);
        assert_eq!(oack[1].1, "1000");
        // Caps and refusals.
        let r = rrq("f", &[("blksize", "99999"), ("timeout", "0"), ("windowsize", "500"), ("blksize", "4")]);
        let (n, oack) = negotiate(&r, None, 1468, 16);
        assert_eq!(n.blksize, 1468);
        assert_eq!(n.windowsize, 16);
        assert_eq!(n.timeout, None);
        assert_eq!(oack.len(), 2);
        let (n, oack) = negotiate(&rrq("f", &[("tsize", "0")]), None, 1468, 16);
        assert!(!n.tsize && oack.is_empty(), "no size known: no OACK");
        // A duplicated option is answered once, the first value.
        let (n, oack) = negotiate(&rrq("f", &[("blksize", "1024"), ("blksize", "512")]), None, 65464, 16);
        assert_eq!((n.blksize, oack), (1024, vec![("blksize".to_string(), "1024".to_string())]));
        // A timeout above MAX_TIMEOUT is not acknowledged (RFC 2349: the OACK must echo it or leave it out).
        let (n, oack) = negotiate(&rrq("f", &[("timeout", "255")]), None, 65464, 16);
        assert!(n.timeout.is_none() && oack.is_empty());
        // The window is bounded in bytes: 65464-byte blocks get a window of 2.
        let (n, oack) = negotiate(&rrq("f", &[("blksize", "65464"), ("windowsize", "64")]), None, 65464, 64);
        assert_eq!((n.windowsize, oack[1].1.as_str()), (2, "2"));
    }

    proptest! {
        #[test]
        fn prop_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = Packet::decode(&bytes);
        }

        #[test]
        fn prop_request_round_trip(
            name in "[ -~&&[^\\x00]]{1,40}",
            opts in proptest::collection::vec(("[a-z]{1,8}", "[0-9]{1,6}"), 0..4),
            wrq in any::<bool>(),
        ) {
            let req = Request { filename: name, mode: Mode::Octet, options: opts };
            let p = if wrq { Packet::Wrq(req) } else { Packet::Rrq(req) };
            let bytes = p.encode();
            prop_assert_eq!(Packet::decode(&bytes).unwrap(), p);
        }

        #[test]
        fn prop_data_round_trip(block in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let p = Packet::Data { block, data: &data };
            let bytes = p.encode();
            prop_assert_eq!(bytes.len(), 4 + data.len());
            prop_assert_eq!(Packet::decode(&bytes).unwrap(), p);
        }
    }
}
