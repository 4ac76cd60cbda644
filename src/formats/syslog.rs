//! Syslog datagrams as devices send them to P207 (spec §12 form 7; level P208):
//! RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) and the older BSD
//! form RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOST TAG: MSG`). Parsing never fails:
//! a datagram that is neither is kept as [`Format::Raw`] text, so nothing a
//! device says is dropped.
//!
//! Pure: no sockets, no clock (the receive time is the caller's). Output text
//! is bounded ([`MAX_TEXT`]) and free of control characters, so it is safe to
//! print on a terminal or a log line.

use serde::Serialize;

/// Longest message text kept (the rest is cut, marked with `…`).
pub const MAX_TEXT: usize = 2048;

/// Which framing the datagram had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Rfc5424,
    Rfc3164,
    /// Neither: the whole datagram, as text.
    Raw,
}

/// One syslog line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub format: Format,
    /// 0 (kern) .. 23 (local7).
    pub facility: Option<u8>,
    /// 0 (emerg) .. 7 (debug).
    pub severity: Option<u8>,
    /// As sent (devices' clocks are often wrong before NTP, so it is not interpreted).
    pub timestamp: Option<String>,
    pub hostname: Option<String>,
    /// RFC 5424 APP-NAME or the RFC 3164 tag (without `[pid]:`).
    pub app: Option<String>,
    pub message: String,
}

impl Line {
    /// `emerg` .. `debug`.
    pub fn severity_name(&self) -> &'static str {
        match self.severity {
            Some(0) => "emerg",
            Some(1) => "alert",
            Some(2) => "crit",
            Some(3) => "err",
            Some(4) => "warning",
            Some(5) => "notice",
            Some(6) => "info",
            Some(7) => "debug",
            _ => "raw",
        }
    }
}

impl std::fmt::Display for Line {
    /// `warning sip: Registration failed` or `raw: <text>`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.app {
            Some(app) => write!(f, "{} {app}: {}", self.severity_name(), self.message),
            None => write!(f, "{}: {}", self.severity_name(), self.message),
        }
    }
}

/// Reads one datagram. Never fails.
pub fn parse(bytes: &[u8]) -> Line {
    let text = clean(bytes);
    pri(&text)
        .and_then(|(pri, rest)| rfc5424(pri, rest).or_else(|| rfc3164(pri, rest)))
        .unwrap_or_else(|| raw(text.trim()))
}

fn raw(text: &str) -> Line {
    Line {
        format: Format::Raw,
        facility: None,
        severity: None,
        timestamp: None,
        hostname: None,
        app: None,
        message: bounded(text),
    }
}

/// Lossy UTF-8 without a BOM; control characters (also CR, LF, tab) become
/// spaces or `\xNN`, so one datagram is one line.
fn clean(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut out = String::with_capacity(text.len().min(MAX_TEXT * 2));
    for c in text.chars() {
        if out.len() > MAX_TEXT * 4 {
            break;
        }
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn bounded(text: &str) -> String {
    let text = text.trim_end();
    if text.len() <= MAX_TEXT {
        return text.to_string();
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// `<PRI>` with PRI 0..=191, 1–3 digits, no leading zeros (RFC 5424 §6.2.1).
fn pri(text: &str) -> Option<(u8, &str)> {
    let rest = text.strip_prefix('<')?;
    let end = rest.find('>')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    let n: u16 = digits.parse().ok()?;
    (n <= 191).then(|| (n as u8, &rest[end + 1..]))
}

fn nil(field: &str) -> Option<String> {
    (field != "-" && !field.is_empty()).then(|| field.to_string())
}

fn rfc5424(pri: u8, rest: &str) -> Option<Line> {
    let rest = rest.strip_prefix("1 ")?;
    let mut parts = rest.splitn(6, ' ');
    let timestamp = parts.next()?;
    let hostname = parts.next()?;
    let app = parts.next()?;
    let _procid = parts.next()?;
    let _msgid = parts.next()?;
    let after = parts.next().unwrap_or("");
    // Structured data: `-` or one or more `[...]` elements (with `\]` escapes).
    let msg = if let Some(m) = after.strip_prefix('-') {
        m
    } else if after.starts_with('[') {
        let mut depth_end = None;
        let mut escaped = false;
        let mut inside = false;
        for (i, c) in after.char_indices() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '[') => inside = true,
                (false, ']') => {
                    inside = false;
                    if !after[i + 1..].starts_with('[') {
                        depth_end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        if inside {
            return None;
        }
        &after[depth_end?..]
    } else {
        return None;
    };
    Some(Line {
        format: Format::Rfc5424,
        facility: Some(pri >> 3),
        severity: Some(pri & 7),
        timestamp: nil(timestamp),
        hostname: nil(hostname),
        app: nil(app),
        // RFC 5424 §6.4: a UTF-8 message starts with a BOM.
        message: bounded(msg.trim_start().trim_start_matches('\u{feff}')),
    })
}

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// RFC 3164 §4.1: `Mmm dd hh:mm:ss HOSTNAME TAG[pid]: MSG`. A PRI followed by
/// anything else is still a BSD line with no header (§4.3.3): the text is the message.
fn rfc3164(pri: u8, rest: &str) -> Option<Line> {
    let mut line = Line {
        format: Format::Rfc3164,
        facility: Some(pri >> 3),
        severity: Some(pri & 7),
        timestamp: None,
        hostname: None,
        app: None,
        message: String::new(),
    };
    let mut body = rest;
    // A timestamp is ASCII: only then are byte offsets 15 and 16 character boundaries.
    if rest.len() >= 16
        && rest.as_bytes()[..16].is_ascii()
        && MONTHS.contains(&rest.get(..3).unwrap_or(""))
        && rest.as_bytes()[3] == b' '
    {
        let ts = &rest[..15];
        let ok = ts.as_bytes()[6] == b' '
            && ts.as_bytes()[9] == b':'
            && ts.as_bytes()[12] == b':'
            && ts[4..6].trim_start().bytes().all(|b| b.is_ascii_digit());
        if ok && rest.as_bytes()[15] == b' ' {
            line.timestamp = Some(ts.to_string());
            let after = &rest[16..];
            let (host, tail) = after.split_once(' ').unwrap_or((after, ""));
            line.hostname = nil(host);
            body = tail;
        }
    }
    // TAG: up to 32 alphanumerics (devices use `[pid]`, `:` and `_`, `-`, `.` too).
    let tag_len = body.find([':', '[', ' ']).unwrap_or(0);
    let tag = &body[..tag_len];
    if !tag.is_empty() && tag.len() <= 48 && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-./".contains(&b)) {
        let after = &body[tag_len..];
        let after = match after.strip_prefix('[') {
            Some(a) => a.split_once(']').map_or(a, |(_, r)| r),
            None => after,
        };
        if let Some(msg) = after.strip_prefix(':') {
            line.app = Some(tag.to_string());
            body = msg;
        }
    }
    line.message = bounded(body.trim_start());
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5424_examples() {
        // RFC 5424 §6.5 example 1 (with the BOM) and example 3 (structured data).
        let l = parse("<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u{feff}'su root' failed for lonvick on /dev/pts/8".as_bytes());
        assert_eq!(l.format, Format::Rfc5424);
        assert_eq!((l.facility, l.severity), (Some(4), Some(2)));
        assert_eq!(l.timestamp.as_deref(), Some("2003-10-11T22:14:15.003Z"));
        assert_eq!(l.hostname.as_deref(), Some("mymachine.example.com"));
        assert_eq!(l.app.as_deref(), Some("su"));
        assert_eq!(l.message, "'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(l.to_string(), "crit su: 'su root' failed for lonvick on /dev/pts/8");

        let l = parse(b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][x@1 a=\"\\]\"] An application event log entry...");
        assert_eq!(l.format, Format::Rfc5424);
        assert_eq!(l.app.as_deref(), Some("evntslog"));
        assert_eq!(l.message, "An application event log entry...");
        let l = parse(b"<13>1 - - - - - -");
        assert_eq!((l.format, l.hostname, l.message.as_str()), (Format::Rfc5424, None, ""));
    }

    #[test]
    fn rfc3164_examples_and_device_style() {
        // RFC 3164 §5.4 example 1.
        let l = parse(b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(l.format, Format::Rfc3164);
        assert_eq!((l.facility, l.severity), (Some(4), Some(2)));
        assert_eq!(l.timestamp.as_deref(), Some("Oct 11 22:14:15"));
        assert_eq!(l.hostname.as_deref(), Some("mymachine"));
        assert_eq!(l.app.as_deref(), Some("su"));
        assert_eq!(l.message, "'su root' failed for lonvick on /dev/pts/8");
        // Single-digit day is space padded; a tag with a pid.
        let l = parse(b"<134>Feb  5 09:01:02 GXP2170 sip[312]: account 1 registered\n");
        assert_eq!(l.timestamp.as_deref(), Some("Feb  5 09:01:02"));
        assert_eq!(l.app.as_deref(), Some("sip"));
        assert_eq!(l.message, "account 1 registered");
        assert_eq!(l.severity_name(), "info");
        // RFC 3164 §5.4 example 2-ish: no header, just text after the PRI.
        let l = parse(b"<0>Use the BFG!");
        assert_eq!((l.format, l.app, l.message.as_str()), (Format::Rfc3164, None, "Use the BFG!"));
    }

    #[test]
    fn garbage_is_kept_raw_bounded_and_printable() {
        for bytes in [&b"hello"[..], b"<999>x", b"<01>x", b"<>x", b"<12", b"", b"\xff\xfe\x00\x1b[31mred"] {
            let l = parse(bytes);
            assert_eq!(l.format, Format::Raw, "{bytes:?}");
            assert!(!l.message.chars().any(char::is_control), "{:?}", l.message);
        }
        assert_eq!(parse(b"\x1b[31mred").message, "\\x1b[31mred");
        assert_eq!(parse(b"a\r\nb").message, "a  b");
        let huge = vec![b'a'; 70_000];
        let l = parse(&huge);
        assert!(l.message.len() <= MAX_TEXT + 3 && l.message.ends_with('…'));
        let l = parse(&[b"<13>1 - - - - - [unterminated".as_slice(), &[b'x'; 10]].concat());
        assert_eq!(l.format, Format::Rfc3164, "a PRI with a broken 5424 header falls back to 3164 text");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_stays_bounded(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000)) {
            let l = parse(&bytes);
            proptest::prop_assert!(l.message.len() <= MAX_TEXT + 3);
            proptest::prop_assert!(!l.message.chars().any(char::is_control));
        }
    }

    #[test]
    fn a_non_ascii_timestamp_is_not_a_panic() {
        // Found by fuzz/useragent_syslog: a BOM inside the 16-byte timestamp field.
        let line = parse("<13>Dec           \u{feff}   L    x".as_bytes());
        assert!(line.message.contains('L'), "{line:?}");
    }
}
