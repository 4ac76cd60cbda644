//! HTTP/1.1 pieces, bytes <-> types: request and response heads (with hard size
//! limits), `Range`, `Authorization` (Basic and Digest, RFC 7617/7616), base64,
//! percent-decoding and masking secrets in a request target for logs.
//!
//! Owns the wire format only. `services::http` reads from sockets and decides;
//! the `gsprov fetch` client reuses the response side. No I/O, no clock: Digest
//! nonces are built from a time and a secret the caller passes.

use md5::Digest as _;

/// Longest request line accepted (method, target, version).
pub const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Longest request head (request line plus headers).
pub const MAX_HEAD: usize = 16 * 1024;
/// Most header lines accepted.
pub const MAX_HEADERS: usize = 64;
// Header offsets are kept as u16.
const _: () = assert!(MAX_HEAD < u16::MAX as usize);

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    /// The request target as sent (origin form `/a/b?x`, or absolute form).
    pub target: String,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    /// The header lines as sent, in one buffer (one allocation per request,
    /// not two per header), and where each name and trimmed value is in it.
    fields: String,
    spans: Vec<HeaderSpan>,
}

/// Byte ranges of a header's name and value in [`RequestHead::fields`]
/// (a head is at most [`MAX_HEAD`] bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HeaderSpan {
    name: (u16, u16),
    value: (u16, u16),
}

impl RequestHead {
    /// The first header with this name (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let text = |(a, b): (u16, u16)| self.fields.get(usize::from(a)..usize::from(b)).unwrap_or("");
        self.spans.iter().find(|h| text(h.name).eq_ignore_ascii_case(name)).map(|h| text(h.value))
    }

    /// The headers in order: names as sent, values trimmed.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let text = |(a, b): (u16, u16)| self.fields.get(usize::from(a)..usize::from(b)).unwrap_or("");
        self.spans.iter().map(move |h| (text(h.name), text(h.value)))
    }

    /// Whether the connection stays open after the response (HTTP/1.1 default).
    pub fn keep_alive(&self) -> bool {
        let conn = self.header("connection").map(str::to_ascii_lowercase);
        match self.minor {
            0 => conn.is_some_and(|c| c.contains("keep-alive")),
            _ => !conn.is_some_and(|c| c.contains("close")),
        }
    }

    /// Whether a body follows the head (which a GET/HEAD server does not read).
    pub fn has_body(&self) -> bool {
        self.header("transfer-encoding").is_some()
            || self.header("content-length").is_some_and(|v| v.trim().parse::<u64>().map_or(true, |n| n > 0))
    }
}

/// Why a request head is refused; each maps to a status code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("request line longer than {MAX_REQUEST_LINE} bytes")]
    RequestLineTooLong,
    #[error("request head longer than {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("more than {MAX_HEADERS} header lines")]
    TooManyHeaders,
    #[error("malformed request: {0}")]
    Malformed(&'static str),
    #[error("HTTP version {0:?} is not supported")]
    Version(String),
}

impl HeadError {
    pub fn status(&self) -> u16 {
        match self {
            HeadError::RequestLineTooLong => 414,
            HeadError::HeadTooLarge | HeadError::TooManyHeaders => 431,
            HeadError::Malformed(_) => 400,
            HeadError::Version(_) => 505,
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The end of a head in `buf` (index after the blank line), if complete.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + p;
        let next = &buf[nl + 1..];
        if next.starts_with(b"\r\n") {
            return Some(nl + 3);
        }
        if next.starts_with(b"\n") {
            return Some(nl + 2);
        }
        i = nl + 1;
    }
    None
}

/// Parses a request head from the start of `buf`. `Ok(None)`: incomplete, read
/// more. `Ok(Some((head, used)))`: `used` bytes belong to the head.
pub fn parse_request_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HeadError> {
    // Robustness (RFC 9112 §2.2): ignore empty lines before the request line.
    // They count against the head limit: a flood of them is a head too large.
    let skip = buf.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
    if skip > MAX_HEAD {
        return Err(HeadError::HeadTooLarge);
    }
    let data = &buf[skip..];
    let first_line_end = data.iter().position(|&b| b == b'\n');
    if first_line_end.map_or(data.len(), |e| e) > MAX_REQUEST_LINE {
        return Err(HeadError::RequestLineTooLong);
    }
    let Some(end) = head_end(data) else {
        return if buf.len() > MAX_HEAD { Err(HeadError::HeadTooLarge) } else { Ok(None) };
    };
    if skip + end > MAX_HEAD {
        return Err(HeadError::HeadTooLarge);
    }
    let text = std::str::from_utf8(&data[..end]).map_err(|_| HeadError::Malformed("head is not text"))?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let line = lines.next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed("request line is not METHOD TARGET VERSION"));
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(HeadError::Malformed("bad method"));
    }
    if target.is_empty() || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(HeadError::Malformed("bad request target"));
    }
    let minor = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        v if v.starts_with("HTTP/") => return Err(HeadError::Version(v.to_string())),
        _ => return Err(HeadError::Malformed("bad HTTP version")),
    };
    // Everything after the request line, as sent: names and values are found in it.
    let fields_at = text.find('\n').map_or(text.len(), |i| i + 1);
    let fields = text.get(fields_at..).unwrap_or("");
    let mut spans = Vec::with_capacity(8);
    let mut at = 0usize;
    for raw in fields.split('\n') {
        let start = at;
        at += raw.len() + 1;
        let l = raw.strip_suffix('\r').unwrap_or(raw);
        if l.is_empty() {
            continue;
        }
        if l.starts_with([' ', '\t']) {
            return Err(HeadError::Malformed("folded header line"));
        }
        let (name, value) = l.split_once(':').ok_or(HeadError::Malformed("header line without ':'"))?;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(HeadError::Malformed("bad header name"));
        }
        if spans.len() == MAX_HEADERS {
            return Err(HeadError::TooManyHeaders);
        }
        let value_at = start + name.len() + 1;
        let trimmed = value.trim();
        let lead = value.len() - value.trim_start().len();
        // A head is at most MAX_HEAD (16 KB) bytes: every offset fits in u16.
        let span = |a: usize, len: usize| (a as u16, (a + len) as u16);
        spans.push(HeaderSpan { name: span(start, name.len()), value: span(value_at + lead, trimmed.len()) });
    }
    let head = RequestHead {
        method: method.to_string(),
        target: target.to_string(),
        minor,
        fields: fields.to_string(),
        spans,
    };
    Ok(Some((head, skip + end)))
}

/// A parsed response head (client side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
}

impl ResponseHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Parses a response head; same contract as [`parse_request_head`].
pub fn parse_response_head(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let Some(end) = head_end(buf) else {
        return if buf.len() > MAX_HEAD { Err(HeadError::HeadTooLarge) } else { Ok(None) };
    };
    let text = String::from_utf8_lossy(&buf[..end]);
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !version.starts_with("HTTP/1.") {
        return Err(HeadError::Malformed("not an HTTP/1.x response"));
    }
    let status = parts.next().and_then(|s| s.parse().ok()).ok_or(HeadError::Malformed("bad status code"))?;
    let reason = parts.next().unwrap_or("").to_string();
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())))
        .collect();
    Ok(Some((ResponseHead { status, reason, headers }, end)))
}

/// The standard reason phrase of the statuses this server sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Writes a response head: status line, the given headers, blank line.
pub fn response_head(status: u16, headers: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// What a `Range` header asks of a body of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// No usable range: send everything with 200.
    Full,
    /// Bytes `start..=end`, send with 206.
    Part { start: u64, end: u64 },
    /// Nothing of the body matches: 416.
    Unsatisfiable,
}

/// Reads a `Range` header (RFC 9110 §14). Only single byte ranges are honoured;
/// several ranges or another unit get the full body, which the RFC allows.
pub fn parse_range(value: &str, size: u64) -> Range {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Range::Full;
    };
    if spec.contains(',') {
        return Range::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Range::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| if s.bytes().all(|c| c.is_ascii_digit()) { s.parse::<u64>().ok() } else { None };
    if a.is_empty() {
        // Suffix range: the last N bytes.
        return match num(b) {
            Some(n) if n > 0 && size > 0 => Range::Part { start: size.saturating_sub(n), end: size - 1 },
            Some(_) => Range::Unsatisfiable,
            None => Range::Full,
        };
    }
    let Some(start) = num(a) else {
        return Range::Full;
    };
    let end = if b.is_empty() {
        size.saturating_sub(1)
    } else {
        match num(b) {
            Some(e) if e >= start => e.min(size.saturating_sub(1)),
            _ => return Range::Full,
        }
    };
    if start >= size { Range::Unsatisfiable } else { Range::Part { start, end } }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64 (padding optional); `None` on any other character.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = B64.iter().position(|&x| x == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Credentials from an `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic { username: String, password: String },
    Digest(DigestResponse),
}

impl std::fmt::Debug for Credentials {
    /// Never prints a password or a digest response.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username:?}, ****)"),
            Credentials::Digest(d) => write!(f, "Digest({:?}, ****)", d.username),
        }
    }
}

/// The fields of a Digest `Authorization` header (RFC 7616).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestResponse {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub qop: Option<String>,
    pub nc: Option<String>,
    pub cnonce: Option<String>,
    pub algorithm: Option<String>,
}

/// Reads `Basic <base64>` or `Digest k=v, ...`; `None` for anything else.
pub fn parse_authorization(value: &str) -> Option<Credentials> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64_decode(rest)?;
        let text = String::from_utf8(raw).ok()?;
        let (u, p) = text.split_once(':')?;
        return Some(Credentials::Basic { username: u.to_string(), password: p.to_string() });
    }
    if scheme.eq_ignore_ascii_case("digest") {
        let mut d = DigestResponse::default();
        for (k, v) in auth_params(rest) {
            match k.to_ascii_lowercase().as_str() {
                "username" => d.username = v,
                "realm" => d.realm = v,
                "nonce" => d.nonce = v,
                "uri" => d.uri = v,
                "response" => d.response = v.to_ascii_lowercase(),
                "qop" => d.qop = Some(v),
                "nc" => d.nc = Some(v),
                "cnonce" => d.cnonce = Some(v),
                "algorithm" => d.algorithm = Some(v),
                _ => {}
            }
        }
        return Some(Credentials::Digest(d));
    }
    None
}

/// `k=v, k="quoted \"v\""` pairs.
pub fn auth_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=' && *c != ',')).collect();
        if key.is_empty() {
            break;
        }
        if chars.next() != Some('=') {
            continue;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect::<String>().trim().to_string();
        }
        out.push((key.trim().to_string(), value));
    }
    out
}

pub fn md5_hex(text: &str) -> String {
    md5::Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The `response` value a client computes (RFC 7616 §3.4.1, MD5, qop=auth or none).
pub fn digest_expected(d: &DigestResponse, method: &str, password: &str) -> String {
    let ha1 = md5_hex(&format!("{}:{}:{password}", d.username, d.realm));
    let ha2 = md5_hex(&format!("{method}:{}", d.uri));
    match (&d.qop, &d.nc, &d.cnonce) {
        (Some(qop), Some(nc), Some(cnonce)) => md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", d.nonce)),
        _ => md5_hex(&format!("{ha1}:{}:{ha2}", d.nonce)),
    }
}

/// A stateless nonce, fresh for every challenge: the issue time, a serial the
/// caller never repeats within a server run, and a keyed hash of both, so the
/// server can check that it issued the nonce and how old it is without
/// remembering it. One nonce per challenge, not per second: two devices (or one
/// device fetching three files, each on a new connection) answering their own
/// 401 with `nc=00000001` are then never mistaken for a replay (issue 25).
pub fn digest_nonce(unix_secs: u64, serial: u64, secret: &[u8; 16]) -> String {
    let key: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    format!("{unix_secs:x}.{serial:x}-{}", &md5_hex(&format!("{key}:{unix_secs:x}.{serial:x}"))[..16])
}

/// The issue time of a nonce this server made with `secret`, or `None`.
pub fn digest_nonce_time(nonce: &str, secret: &[u8; 16]) -> Option<u64> {
    let (stamp, _) = nonce.split_once('-')?;
    let (t, n) = stamp.split_once('.')?;
    let secs = u64::from_str_radix(t, 16).ok()?;
    let serial = u64::from_str_radix(n, 16).ok()?;
    (digest_nonce(secs, serial, secret) == nonce).then_some(secs)
}

/// A server's Digest challenge (`WWW-Authenticate: Digest ...`), as a client reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestChallenge {
    pub realm: String,
    pub nonce: String,
    /// `auth` when the server offers it (the only protection level answered here).
    pub qop: Option<String>,
    pub opaque: Option<String>,
    pub stale: bool,
}

/// Reads `Digest realm=..., nonce=..., qop="auth,auth-int"`; `None` for another
/// scheme, an algorithm other than MD5, or a challenge without a nonce.
pub fn parse_digest_challenge(value: &str) -> Option<DigestChallenge> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut c = DigestChallenge::default();
    for (k, v) in auth_params(rest) {
        match k.to_ascii_lowercase().as_str() {
            "realm" => c.realm = v,
            "nonce" => c.nonce = v,
            "qop" => c.qop = v.split(',').map(str::trim).find(|q| q.eq_ignore_ascii_case("auth")).map(str::to_string),
            "opaque" => c.opaque = Some(v),
            "stale" => c.stale = v.eq_ignore_ascii_case("true"),
            "algorithm" if !v.eq_ignore_ascii_case("md5") => return None,
            _ => {}
        }
    }
    (!c.nonce.is_empty()).then_some(c)
}

/// The `Authorization` header a client sends for `challenge` (RFC 7616, MD5):
/// the `nc`-th use of this nonce with the client's `cnonce` (random, from the
/// caller). The value carries a digest of the password, so it is never logged.
pub fn digest_authorization(
    challenge: &DigestChallenge,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> String {
    let qop = challenge.qop.as_ref().map(|_| "auth".to_string());
    let d = DigestResponse {
        username: username.to_string(),
        realm: challenge.realm.clone(),
        nonce: challenge.nonce.clone(),
        uri: uri.to_string(),
        response: String::new(),
        nc: qop.as_ref().map(|_| format!("{nc:08x}")),
        cnonce: qop.as_ref().map(|_| cnonce.to_string()),
        qop,
        algorithm: Some("MD5".into()),
    };
    let response = digest_expected(&d, method, password);
    let quoted = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm=MD5",
        quoted(username),
        quoted(&d.realm),
        quoted(&d.nonce),
        quoted(uri)
    );
    if let (Some(nc), Some(cnonce)) = (&d.nc, &d.cnonce) {
        out.push_str(&format!(", qop=auth, nc={nc}, cnonce=\"{}\"", quoted(cnonce)));
    }
    if let Some(o) = &challenge.opaque {
        out.push_str(&format!(", opaque=\"{}\"", quoted(o)));
    }
    out
}

/// Compares without an early exit, so timing does not reveal how much matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `%41` -> `A`. `None` for a `%` not followed by two hex digits.
pub fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            let s = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(s, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Whether a query parameter's value is masked in logs: names that look secret
/// (`password`, `pass`, `pw`, `pwd`, `pin`, `secret`, `token`, `key`, `auth`,
/// `cred`, `sig`) and every P-value (`P1359=`, `P34=`: any of them may be a
/// password, and no device sends them in a query).
fn secret_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    let p_value = n.len() > 1 && n.starts_with('p') && n[1..].bytes().all(|b| b.is_ascii_digit());
    p_value
        || n == "pw"
        || n == "pin"
        || ["pass", "pwd", "secret", "token", "key", "auth", "cred", "sig"].iter().any(|s| n.contains(s))
}

/// A request target fit for a log: user info in an absolute URL and the values
/// of query parameters that may be secret ([`secret_param`], also when
/// percent-encoded) become `***`; control characters are escaped.
pub fn mask_target(target: &str) -> String {
    // What devices send: nothing to mask or escape (one copy, no per-character work).
    if !target.contains(['?', ':']) && !target.chars().any(char::is_control) {
        return target.to_string();
    }
    let mut t = target.to_string();
    if let Some(scheme_end) = t.find("://") {
        let auth_start = scheme_end + 3;
        let auth_end = t[auth_start..].find('/').map_or(t.len(), |i| auth_start + i);
        if let Some(at) = t[auth_start..auth_end].rfind('@') {
            t.replace_range(auth_start..auth_start + at, "***");
        }
    }
    if let Some(q) = t.find('?') {
        let (path, query) = t.split_at(q + 1);
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| {
                let (k, _) = pair.split_once('=').unwrap_or((pair, ""));
                let decoded = percent_decode(&k.replace('+', " "))
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_else(|| k.to_string());
                let secret = secret_param(k) || secret_param(decoded.trim());
                if secret && pair.contains('=') { format!("{k}=***") } else { pair.to_string() }
            })
            .collect();
        t = format!("{path}{}", masked.join("&"));
    }
    super::printable(&t).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn headers_are_found_in_any_case_with_values_trimmed_and_in_order() {
        let raw = b"GET /cfg.xml HTTP/1.1\r\nHost: 10.0.0.1\r\nuser-AGENT:   Grandstream GXP2170  \r\nX-Empty:\r\nRange:bytes=0-9\nHost: second\r\n\r\nNEXT";
        let (h, used) = parse_request_head(raw).unwrap().unwrap();
        assert_eq!(&raw[used..], b"NEXT");
        assert_eq!((h.method.as_str(), h.target.as_str(), h.minor), ("GET", "/cfg.xml", 1));
        assert_eq!(h.header("user-agent"), Some("Grandstream GXP2170"));
        assert_eq!(h.header("USER-AGENT"), Some("Grandstream GXP2170"));
        assert_eq!(h.header("x-empty"), Some(""));
        assert_eq!(h.header("range"), Some("bytes=0-9"));
        assert_eq!(h.header("host"), Some("10.0.0.1"), "the first of two");
        assert_eq!(h.header("missing"), None);
        let all: Vec<(&str, &str)> = h.headers().collect();
        assert_eq!(
            all,
            [
                ("Host", "10.0.0.1"),
                ("user-AGENT", "Grandstream GXP2170"),
                ("X-Empty", ""),
                ("Range", "bytes=0-9"),
                ("Host", "second")
            ]
        );
    }

    #[test]
    fn request_heads() {
        let raw = b"GET /prov/cfg000b82123456.xml HTTP/1.1\r\nHost: 10.0.0.1:8080\r\nUser-Agent: Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82123456\r\n\r\nrest";
        let (h, used) = parse_request_head(raw).unwrap().unwrap();
        assert_eq!(h.method, "GET");
        assert_eq!(h.target, "/prov/cfg000b82123456.xml");
        assert_eq!(h.minor, 1);
        assert_eq!(h.header("host"), Some("10.0.0.1:8080"));
        assert!(h.header("user-agent").unwrap().starts_with("Grandstream"));
        assert_eq!(&raw[used..], b"rest");
        assert!(h.keep_alive() && !h.has_body());
        // Bare LF, leading blank line, HTTP/1.0.
        let (h, _) = parse_request_head(b"\r\nHEAD / HTTP/1.0\nConnection: keep-alive\n\n").unwrap().unwrap();
        assert_eq!((h.method.as_str(), h.minor, h.keep_alive()), ("HEAD", 0, true));
        assert_eq!(parse_request_head(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap(), None);
        assert_eq!(parse_request_head(b"").unwrap(), None);
    }

    #[test]
    fn request_head_errors() {
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(parse_request_head(long.as_bytes()), Err(HeadError::RequestLineTooLong));
        // Detected before the line ends, so a client cannot make the server buffer forever.
        let partial = "G".repeat(MAX_REQUEST_LINE + 1);
        assert_eq!(parse_request_head(partial.as_bytes()), Err(HeadError::RequestLineTooLong));
        let many: String =
            format!("GET / HTTP/1.1\r\n{}\r\n", (0..=MAX_HEADERS).map(|i| format!("X-{i}: y\r\n")).collect::<String>());
        assert_eq!(parse_request_head(many.as_bytes()), Err(HeadError::TooManyHeaders));
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "y".repeat(MAX_HEAD));
        assert_eq!(parse_request_head(big.as_bytes()), Err(HeadError::HeadTooLarge));
        for bad in [
            &b"GET\r\n\r\n"[..],
            b"GET / HTTP/1.1 extra\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET / FTP/1.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nNo colon\r\n\r\n",
            b"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
            b"GET /\x01 HTTP/1.1\r\n\r\n",
            b"\xff\xfe / HTTP/1.1\r\n\r\n",
        ] {
            let e = parse_request_head(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{bad:?}: {e}");
        }
        assert_eq!(parse_request_head(b"GET / HTTP/2.0\r\n\r\n").unwrap_err().status(), 505);
    }

    #[test]
    fn response_heads() {
        let head = response_head(206, &[("Content-Length", "5".into()), ("Content-Range", "bytes 0-4/10".into())]);
        assert_eq!(head, b"HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\nContent-Range: bytes 0-4/10\r\n\r\n");
        let (r, used) = parse_response_head(&[&head[..], b"hello"].concat()).unwrap().unwrap();
        assert_eq!((r.status, r.reason.as_str(), r.header("content-length")), (206, "Partial Content", Some("5")));
        assert_eq!(used, head.len());
    }

    #[test]
    fn ranges() {
        let cases = [
            ("bytes=0-99", 1000, Range::Part { start: 0, end: 99 }),
            ("bytes=500-", 1000, Range::Part { start: 500, end: 999 }),
            ("bytes=-100", 1000, Range::Part { start: 900, end: 999 }),
            ("bytes=-5000", 1000, Range::Part { start: 0, end: 999 }),
            ("bytes=900-5000", 1000, Range::Part { start: 900, end: 999 }),
            ("bytes=1000-", 1000, Range::Unsatisfiable),
            ("bytes=-0", 1000, Range::Unsatisfiable),
            ("bytes=0-", 0, Range::Unsatisfiable),
            ("bytes=5-1", 1000, Range::Full),
            ("bytes=0-1,5-6", 1000, Range::Full),
            ("items=0-1", 1000, Range::Full),
            ("bytes=a-b", 1000, Range::Full),
            ("bytes=+1-2", 1000, Range::Full),
        ];
        for (v, size, want) in cases {
            assert_eq!(parse_range(v, size), want, "{v}");
        }
    }

    #[test]
    fn base64_round_trip_and_vectors() {
        for (plain, enc) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy"), ("a:b", "YTpi")]
        {
            assert_eq!(base64_encode(plain.as_bytes()), enc);
            assert_eq!(base64_decode(enc).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64_decode("Zm9v!"), None);
    }

    #[test]
    fn authorization() {
        let c = parse_authorization("Basic YWRtaW46cGE6c3M=").unwrap();
        assert_eq!(c, Credentials::Basic { username: "admin".into(), password: "pa:ss".into() });
        assert!(!format!("{c:?}").contains("pa:ss"), "Debug never shows a password");
        assert_eq!(parse_authorization("Bearer xyz"), None);
        assert_eq!(parse_authorization("Basic !!!"), None);
        // RFC 2617 §3.5 example (MD5, qop=auth).
        let hdr = r#"Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let Some(Credentials::Digest(d)) = parse_authorization(hdr) else { panic!("digest") };
        assert_eq!(d.username, "Mufasa");
        assert_eq!(d.uri, "/dir/index.html");
        assert_eq!(d.qop.as_deref(), Some("auth"));
        assert_eq!(digest_expected(&d, "GET", "Circle Of Life"), "6629fae49393a05397450978507c4ef1");
        assert_ne!(digest_expected(&d, "GET", "wrong"), d.response);
    }

    #[test]
    fn nonces() {
        let secret = [7u8; 16];
        let n = digest_nonce(1_700_000_000, 5, &secret);
        assert_eq!(digest_nonce_time(&n, &secret), Some(1_700_000_000));
        assert_eq!(digest_nonce_time(&n, &[8u8; 16]), None);
        // Fresh per challenge: another serial in the same second is another nonce.
        assert_ne!(digest_nonce(1_700_000_000, 6, &secret), n);
        // The time or the serial changed: not ours.
        let forged = n.replacen(".5-", ".6-", 1);
        assert_eq!(digest_nonce_time(&forged, &secret), None);
        assert_eq!(digest_nonce_time("6553f100-0000000000000000", &secret), None);
        assert_eq!(digest_nonce_time("junk", &secret), None);
    }

    #[test]
    fn a_client_answer_checks_out_on_the_server_side() {
        let c = parse_digest_challenge(
            r#"Digest realm="gsprov", qop="auth,auth-int", algorithm=MD5, nonce="abc", stale=true"#,
        )
        .unwrap();
        assert_eq!(
            (c.realm.as_str(), c.nonce.as_str(), c.qop.as_deref(), c.stale),
            ("gsprov", "abc", Some("auth"), true)
        );
        assert_eq!(parse_digest_challenge(r#"Basic realm="gsprov""#), None);
        assert_eq!(parse_digest_challenge(r#"Digest realm="x", nonce="n", algorithm=SHA-256"#), None);
        let header = digest_authorization(&c, "GET", "/cfg.xml", "prov", "pw \"q\"", "c0ffee", 3);
        let Some(Credentials::Digest(d)) = parse_authorization(&header) else { panic!("{header}") };
        assert_eq!(d.nc.as_deref(), Some("00000003"));
        assert_eq!(d.uri, "/cfg.xml");
        assert_eq!(digest_expected(&d, "GET", "pw \"q\""), d.response);
        assert!(!header.contains("pw "), "{header}");
    }

    #[test]
    fn percent_and_masking() {
        assert_eq!(percent_decode("a%2Fb%2e").unwrap(), b"a/b.");
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(mask_target("/cfg.xml?user=a&password=hunter2&x=1"), "/cfg.xml?user=a&password=***&x=1");
        assert_eq!(mask_target("/f?PWD=1&apikey=2"), "/f?PWD=***&apikey=***");
        assert_eq!(mask_target("http://bob:hunter2@host/x"), "http://***@host/x");
        assert_eq!(mask_target("/a\u{1b}b"), "/a\\u{1b}b");
        assert_eq!(mask_target("/cfg.xml?pw=x&P1359=y&p34=z&mac=1"), "/cfg.xml?pw=***&P1359=***&p34=***&mac=1");
        assert_eq!(mask_target("/x?pass%77ord=y"), "/x?pass%77ord=***");
        // Blank lines before the request line count against the head limit.
        assert_eq!(parse_request_head(&vec![b'\n'; MAX_HEAD + 1]), Err(HeadError::HeadTooLarge));
        assert_eq!(parse_request_head(&vec![b'\n'; MAX_HEAD / 2]), Ok(None));
        assert!(constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"a", b""));
    }

    proptest! {
        #[test]
        fn prop_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), v in "\\PC{0,40}") {
            let _ = parse_request_head(&bytes);
            let _ = parse_response_head(&bytes);
            let _ = parse_range(&v, 100);
            let _ = parse_authorization(&v);
            let _ = percent_decode(&v);
            let _ = mask_target(&v);
            let _ = base64_decode(&v);
        }

        #[test]
        fn prop_base64(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(base64_decode(&base64_encode(&bytes)).unwrap(), bytes);
        }

        #[test]
        fn prop_range_within_body(v in "bytes=[0-9]{0,4}-[0-9]{0,4}", size in 0u64..5000) {
            if let Range::Part { start, end } = parse_range(&v, size) {
                prop_assert!(start <= end && end < size);
            }
        }
    }
}
