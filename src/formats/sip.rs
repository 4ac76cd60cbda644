//! SIP messages for plug-and-play provisioning (spec §5.2): a tolerant parser
//! (header folding, compact header names, any casing, LF or CRLF), the
//! `ua-profile` SUBSCRIBE a factory-fresh Grandstream unit multicasts at boot,
//! and the `200 OK` and `NOTIFY` (body = provisioning URL) that answer it.
//!
//! Pure: addresses, tags and branch ids come from the caller.

use std::fmt::Write as _;
use std::net::SocketAddr;

use crate::ids::{Mac, Model};

/// Why a datagram is not a usable SIP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    #[error("empty datagram")]
    Empty,
    #[error("the header section is not UTF-8 text (byte {0})")]
    NotText(usize),
    #[error("line 1 is not a SIP request or status line: {0:?}")]
    StartLine(String),
    #[error("line {line}: header without ':' ({text:?})")]
    Header { line: usize, text: String },
    /// A lone CR, NUL or other control character inside a line: echoed into
    /// our answers it would split them (found by fuzzing).
    #[error("line {line} contains a control character ({ch:?})")]
    ControlChar { line: usize, ch: char },
    #[error("Content-Length {declared} but only {actual} body bytes arrived")]
    ShortBody { declared: usize, actual: usize },
    #[error("Content-Length {0:?} is not a number")]
    ContentLength(String),
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("not a ua-profile SUBSCRIBE: {0}")]
    NotPnp(String),
}

/// First line of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { code: u16, reason: String },
}

/// A parsed SIP message. Header names are stored in their full, canonical
/// spelling (`v` -> `Via`), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// RFC 3261 §7.3.3 compact forms, plus canonical casing of the usual names.
fn canonical_name(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let full = match lower.as_str() {
        "v" | "via" => "Via",
        "f" | "from" => "From",
        "t" | "to" => "To",
        "i" | "call-id" => "Call-ID",
        "m" | "contact" => "Contact",
        "l" | "content-length" => "Content-Length",
        "c" | "content-type" => "Content-Type",
        "o" | "event" => "Event",
        "e" | "content-encoding" => "Content-Encoding",
        "k" | "supported" => "Supported",
        "s" | "subject" => "Subject",
        "cseq" => "CSeq",
        "user-agent" => "User-Agent",
        "expires" => "Expires",
        "accept" => "Accept",
        "max-forwards" => "Max-Forwards",
        _ => return name.trim().to_string(),
    };
    full.to_string()
}

/// Parses one datagram.
pub fn parse(bytes: &[u8]) -> Result<Message, SipError> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).ok_or(SipError::Empty)?;
    let bytes = &bytes[start..];
    let (head_end, body_start) = match find(bytes, b"\r\n\r\n") {
        Some(i) => (i, i + 4),
        None => match find(bytes, b"\n\n") {
            Some(i) => (i, i + 2),
            None => (bytes.len(), bytes.len()),
        },
    };
    let head = std::str::from_utf8(&bytes[..head_end]).map_err(|e| SipError::NotText(start + e.valid_up_to()))?;
    let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let control = |l: &str| l.chars().find(|c| c.is_control() && *c != '\t');
    let first = lines.next().unwrap_or_default().trim();
    if let Some(ch) = control(first) {
        return Err(SipError::ControlChar { line: 1, ch });
    }
    let start_line = parse_start(first)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for (i, line) in lines.enumerate() {
        if let Some(ch) = control(line) {
            return Err(SipError::ControlChar { line: i + 2, ch });
        }
        if line.starts_with([' ', '\t']) {
            // Folded continuation of the previous header (RFC 3261 §7.3.1).
            match headers.last_mut() {
                Some((_, v)) => {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                None => return Err(SipError::Header { line: i + 2, text: line.into() }),
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let (name, value) = line.split_once(':').ok_or_else(|| SipError::Header { line: i + 2, text: line.into() })?;
        if name.trim().is_empty() || name.contains(' ') {
            return Err(SipError::Header { line: i + 2, text: line.into() });
        }
        headers.push((canonical_name(name), value.trim().to_string()));
    }
    let mut body = bytes[body_start.min(bytes.len())..].to_vec();
    if let Some((_, v)) = headers.iter().find(|(n, _)| n == "Content-Length") {
        let declared: usize = v.trim().parse().map_err(|_| SipError::ContentLength(v.clone()))?;
        if declared > body.len() {
            return Err(SipError::ShortBody { declared, actual: body.len() });
        }
        body.truncate(declared);
    }
    Ok(Message { start: start_line, headers, body })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_start(line: &str) -> Result<StartLine, SipError> {
    let bad = || SipError::StartLine(line.chars().take(80).collect());
    let mut parts = line.splitn(3, ' ');
    let (a, b, c) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if a.eq_ignore_ascii_case("SIP/2.0") {
        let code: u16 = b.parse().map_err(|_| bad())?;
        if !(100..700).contains(&code) {
            return Err(bad());
        }
        return Ok(StartLine::Response { code, reason: c.to_string() });
    }
    let method_ok = !a.is_empty() && a.bytes().all(|x| x.is_ascii_alphabetic());
    if method_ok && !b.is_empty() && c.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(StartLine::Request { method: a.to_ascii_uppercase(), uri: b.to_string() });
    }
    Err(bad())
}

impl Message {
    /// First value of a header (any spelling, compact or full).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = canonical_name(name);
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)).map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order (Via may repeat).
    pub fn headers_named<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + 'a {
        let name = canonical_name(name);
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(&name)).map(|(_, v)| v.as_str())
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    /// `(number, method)` of the CSeq header.
    pub fn cseq(&self) -> Option<(u32, String)> {
        let v = self.header("CSeq")?;
        let mut it = v.split_whitespace();
        let n = it.next()?.parse().ok()?;
        Some((n, it.next().unwrap_or("").to_ascii_uppercase()))
    }
}

/// A `;name=value` parameter of a header value (quotes removed, name any case).
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"'))
    })
}

/// What a plug-and-play SUBSCRIBE tells about the unit that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PnpSubscribe {
    pub mac: Mac,
    pub vendor: String,
    pub model: Option<Model>,
    pub firmware: Option<String>,
    pub user_agent: Option<String>,
    /// Where to send the NOTIFY: the Contact host:port, if it names one.
    pub contact: Option<SocketAddr>,
    /// The Contact URI as sent (`sip:192.168.1.2:5080`), used as NOTIFY request URI.
    pub contact_uri: Option<String>,
    pub call_id: String,
    pub cseq: u32,
    pub from: String,
    pub to: String,
}

/// Reads a `ua-profile` SUBSCRIBE (spec §5.2). Anything else is an error that
/// says why, so the log can show it.
pub fn pnp_subscribe(msg: &Message) -> Result<PnpSubscribe, SipError> {
    let uri = match &msg.start {
        StartLine::Request { method, uri } if method == "SUBSCRIBE" => uri.clone(),
        StartLine::Request { method, .. } => return Err(SipError::NotPnp(format!("method {method}"))),
        StartLine::Response { code, .. } => return Err(SipError::NotPnp(format!("a {code} response"))),
    };
    let event = msg.header("Event").ok_or(SipError::Missing("Event"))?;
    let package = event.split(';').next().unwrap_or("").trim();
    if !package.eq_ignore_ascii_case("ua-profile") {
        return Err(SipError::NotPnp(format!("Event: {package}")));
    }
    let from = msg.header("From").ok_or(SipError::Missing("From"))?.to_string();
    let to = msg.header("To").ok_or(SipError::Missing("To"))?.to_string();
    let call_id = msg.header("Call-ID").ok_or(SipError::Missing("Call-ID"))?.to_string();
    let (cseq, _) = msg.cseq().ok_or(SipError::Missing("CSeq"))?;
    let mac = [from.as_str(), to.as_str(), uri.as_str()]
        .iter()
        .find_map(|s| mac_in_uri(s))
        .ok_or_else(|| SipError::NotPnp("no MAC in From, To or Request-URI (expected sip:MAC%3A<mac>@...)".into()))?;
    // Only a usable SIP URI: it becomes our NOTIFY's request line (fuzzing
    // found Contacts with spaces, which would break that line).
    let contact_uri = msg
        .header("Contact")
        .map(|c| c.split(';').next().unwrap_or(c).trim().trim_matches(['<', '>']).to_string())
        .filter(|u| {
            let lower = u.to_ascii_lowercase();
            (lower.starts_with("sip:") || lower.starts_with("sips:")) && u.len() > 4 && !u.contains(char::is_whitespace)
        });
    let contact = contact_uri.as_deref().and_then(uri_addr);
    Ok(PnpSubscribe {
        mac,
        vendor: param(event, "vendor").unwrap_or("").to_string(),
        model: param(event, "model").and_then(|m| m.parse().ok()),
        firmware: param(event, "version").map(str::to_string),
        user_agent: msg.header("User-Agent").map(str::to_string),
        contact,
        contact_uri,
        call_id,
        cseq,
        from,
        to,
    })
}

/// `sip:MAC%3AC074AD112233@224.0.1.75` (also `MAC:` unescaped) -> the MAC.
fn mac_in_uri(s: &str) -> Option<Mac> {
    let lower = s.to_ascii_lowercase();
    let at = lower.find("mac%3a").map(|i| i + 6).or_else(|| lower.find("mac:").map(|i| i + 4))?;
    let hex: String = lower[at..].chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    if hex.len() == 12 { hex.parse().ok() } else { None }
}

/// `sip:192.168.1.2:5080` -> 192.168.1.2:5080 (IP literals only; default port 5060).
fn uri_addr(uri: &str) -> Option<SocketAddr> {
    let rest = uri.strip_prefix("sip:").or_else(|| uri.strip_prefix("SIP:"))?;
    let host_port = rest.rsplit('@').next()?.split(';').next()?;
    if let Ok(a) = host_port.parse::<SocketAddr>() {
        return Some(a);
    }
    host_port.parse::<std::net::IpAddr>().ok().map(|ip| SocketAddr::new(ip, 5060))
}

/// The `200 OK` for a request: Via (with `received`/`rport` filled per RFC 3581),
/// From, To (with our tag), Call-ID and CSeq echoed; `Expires: 0`.
pub fn ok_response(req: &Message, source: SocketAddr, to_tag: &str) -> Vec<u8> {
    let mut s = String::from("SIP/2.0 200 OK\r\n");
    for (i, via) in req.headers_named("Via").enumerate() {
        let mut via = via.to_string();
        if i == 0 {
            via = via.split(';').filter(|p| !p.trim().eq_ignore_ascii_case("rport")).collect::<Vec<_>>().join(";");
            let _ = write!(via, ";received={};rport={}", source.ip(), source.port());
        }
        let _ = write!(s, "Via: {via}\r\n");
    }
    if let Some(f) = req.header("From") {
        let _ = write!(s, "From: {f}\r\n");
    }
    if let Some(t) = req.header("To") {
        if param(t, "tag").is_some() {
            let _ = write!(s, "To: {t}\r\n");
        } else {
            let _ = write!(s, "To: {t};tag={to_tag}\r\n");
        }
    }
    for name in ["Call-ID", "CSeq"] {
        if let Some(v) = req.header(name) {
            let _ = write!(s, "{name}: {v}\r\n");
        }
    }
    s.push_str("Expires: 0\r\nContent-Length: 0\r\n\r\n");
    s.into_bytes()
}

/// What the NOTIFY needs besides the SUBSCRIBE.
#[derive(Debug, Clone)]
pub struct NotifyParams<'a> {
    /// Our address as the unit sees it (for Via and From).
    pub local: SocketAddr,
    /// Provisioning URL ending in `/` (spec §5.2: a folder).
    pub url: &'a str,
    pub branch: &'a str,
    /// The tag our 200 OK put on the To header.
    pub tag: &'a str,
    pub cseq: u32,
}

/// The unicast `NOTIFY` carrying the provisioning URL (`Content-Type:
/// application/url`, body = URL + CRLF), in the SUBSCRIBE's dialog.
pub fn notify(sub: &PnpSubscribe, source: SocketAddr, p: &NotifyParams) -> Vec<u8> {
    let target = sub.contact_uri.clone().unwrap_or_else(|| format!("sip:{source}"));
    let body = format!("{}\r\n", p.url);
    let to_uri = sub.to.split(';').next().unwrap_or(&sub.to).trim();
    let mut s = String::with_capacity(512 + body.len());
    let _ = write!(s, "NOTIFY {target} SIP/2.0\r\n");
    let _ = write!(s, "Via: SIP/2.0/UDP {};branch=z9hG4bK{};rport\r\n", p.local, p.branch);
    let _ = write!(s, "From: {to_uri};tag={}\r\n", p.tag);
    let _ = write!(s, "To: {}\r\n", sub.from);
    let _ = write!(s, "Call-ID: {}\r\n", sub.call_id);
    let _ = write!(s, "CSeq: {} NOTIFY\r\n", p.cseq);
    let _ = write!(s, "Contact: <sip:{}>\r\n", p.local);
    s.push_str("Max-Forwards: 70\r\nEvent: ua-profile\r\nSubscription-State: terminated;reason=timeout\r\n");
    s.push_str("Content-Type: application/url\r\n");
    let _ = write!(s, "Content-Length: {}\r\n\r\n{body}", body.len());
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request a real GRP2612W (firmware 1.0.5.67) sent, spec §5.2.
    pub const GRP2612W: &str = "SUBSCRIBE sip:MAC%3AC074AD112233@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.2:5080;branch=z9hG4bK1611133778;rport\r\n\
From: <sip:MAC%3AC074AD112233@224.0.1.75>;tag=395400190\r\n\
To: <sip:MAC%3AC074AD112233@224.0.1.75>\r\n\
Call-ID: 490431573-5080-1@BJC.BGI.IG.DA\r\n\
CSeq: 20000 SUBSCRIBE\r\n\
Contact: <sip:192.168.1.2:5080>\r\n\
Max-Forwards: 70\r\n\
User-Agent: Grandstream GRP2612W 1.0.5.67\r\n\
Expires: 0\r\n\
Supported: replaces, path\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"Grandstream\";model=\"GRP2612W\";version=\"1.0.5.67\"\r\n\
Accept: application/url\r\n\
Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, UPDATE, MESSAGE\r\n\
Content-Length: 0\r\n\r\n";

    fn src() -> SocketAddr {
        "192.168.1.2:5080".parse().unwrap()
    }

    #[test]
    fn reads_the_captured_grp2612w_subscribe() {
        let m = parse(GRP2612W.as_bytes()).unwrap();
        let s = pnp_subscribe(&m).unwrap();
        assert_eq!(s.mac.to_string(), "c074ad112233");
        assert_eq!(s.model.unwrap().as_str(), "GRP2612W");
        assert_eq!(s.firmware.as_deref(), Some("1.0.5.67"));
        assert_eq!(s.vendor, "Grandstream");
        assert_eq!(s.contact, Some(src()));
        assert_eq!(s.cseq, 20000);
    }

    #[test]
    fn tolerates_compact_names_folding_casing_and_bare_lf() {
        let text = "subscribe sip:x@224.0.1.75 SIP/2.0\n\
v: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bKx\n\
f: <sip:mac%3a000b82aabbcc@224.0.1.75>;tag=1\n\
t: <sip:MAC%3A000B82AABBCC@224.0.1.75>\n\
i: abc\n\
CSEQ: 1 SUBSCRIBE\n\
m: <sip:10.0.0.9>\n\
o: UA-Profile;vendor=Grandstream;\n\
\tmodel=GXP2170;version=1.0.11.3\n\
l: 0\n\n";
        let m = parse(text.as_bytes()).unwrap();
        assert_eq!(m.header("Event"), Some("UA-Profile;vendor=Grandstream; model=GXP2170;version=1.0.11.3"));
        let s = pnp_subscribe(&m).unwrap();
        assert_eq!(s.mac.to_string(), "000b82aabbcc");
        assert_eq!(s.model.unwrap().as_str(), "GXP2170");
        assert_eq!(s.contact, Some("10.0.0.9:5060".parse().unwrap()));
    }

    #[test]
    fn garbage_and_other_requests_are_errors_not_panics() {
        assert_eq!(parse(b""), Err(SipError::Empty));
        assert!(matches!(parse(b"\xff\xfe garbage"), Err(SipError::NotText(_))));
        assert!(matches!(parse(b"HELLO WORLD\r\n\r\n"), Err(SipError::StartLine(_))));
        assert!(matches!(
            parse(b"OPTIONS sip:a SIP/2.0\r\nno colon here\r\n\r\n"),
            Err(SipError::Header { line: 2, .. })
        ));
        // A lone CR inside a header would be echoed into our answers and split them.
        let injected = GRP2612W.replace("5080>\r\nMax-Forwards", "5080>\r\x0cMax-Forwards");
        assert_eq!(parse(injected.as_bytes()), Err(SipError::ControlChar { line: 7, ch: '\r' }));
        assert!(matches!(parse(b"OPTIONS sip:a\0 SIP/2.0\r\n\r\n"), Err(SipError::ControlChar { line: 1, .. })));
        assert!(matches!(
            parse(b"OPTIONS sip:a SIP/2.0\r\nContent-Length: 10\r\n\r\nabc"),
            Err(SipError::ShortBody { declared: 10, actual: 3 })
        ));
        let options = parse(b"OPTIONS sip:a SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n").unwrap();
        assert!(matches!(pnp_subscribe(&options), Err(SipError::NotPnp(_))));
        let other_event = GRP2612W.replace("Event: ua-profile", "Event: presence");
        assert!(matches!(pnp_subscribe(&parse(other_event.as_bytes()).unwrap()), Err(SipError::NotPnp(_))));
        // A Contact that is no SIP URI is not used (the NOTIFY goes to the source).
        let odd = GRP2612W.replace("Contact: <sip:192.168.1.2:5080>", "Contact: <sipstream GRP2612W 1.0.5.67>");
        let sub = pnp_subscribe(&parse(odd.as_bytes()).unwrap()).unwrap();
        assert_eq!((sub.contact_uri, sub.contact), (None, None));
        let no_mac = GRP2612W.replace("MAC%3AC074AD112233", "phone");
        assert!(matches!(pnp_subscribe(&parse(no_mac.as_bytes()).unwrap()), Err(SipError::NotPnp(_))));
    }

    #[test]
    fn ok_and_notify_have_the_right_shape_and_parse_back() {
        let m = parse(GRP2612W.as_bytes()).unwrap();
        let ok = parse(&ok_response(&m, src(), "gs1")).unwrap();
        assert_eq!(ok.start, StartLine::Response { code: 200, reason: "OK".into() });
        assert_eq!(
            ok.header("Via"),
            Some("SIP/2.0/UDP 192.168.1.2:5080;branch=z9hG4bK1611133778;received=192.168.1.2;rport=5080")
        );
        assert_eq!(ok.header("To"), Some("<sip:MAC%3AC074AD112233@224.0.1.75>;tag=gs1"));
        assert_eq!(ok.header("Call-ID"), m.header("Call-ID"));
        assert_eq!(ok.cseq(), Some((20000, "SUBSCRIBE".into())));

        let sub = pnp_subscribe(&m).unwrap();
        let p = NotifyParams {
            local: "192.168.1.10:5060".parse().unwrap(),
            url: "http://192.168.1.10:8080/",
            branch: "b1",
            tag: "gs1",
            cseq: 1,
        };
        let raw = notify(&sub, src(), &p);
        let n = parse(&raw).unwrap();
        assert_eq!(n.start, StartLine::Request { method: "NOTIFY".into(), uri: "sip:192.168.1.2:5080".into() });
        assert_eq!(n.header("Event"), Some("ua-profile"));
        assert_eq!(n.header("Content-Type"), Some("application/url"));
        assert_eq!(n.body, b"http://192.168.1.10:8080/\r\n");
        assert_eq!(n.header("Call-ID"), Some("490431573-5080-1@BJC.BGI.IG.DA"));
        assert_eq!(n.header("To"), Some("<sip:MAC%3AC074AD112233@224.0.1.75>;tag=395400190"));
        assert_eq!(param(n.header("From").unwrap(), "tag"), Some("gs1"));
        assert_eq!(n.cseq(), Some((1, "NOTIFY".into())));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            if let Ok(m) = parse(&bytes) {
                let _ = pnp_subscribe(&m);
                let _ = ok_response(&m, src(), "t");
            }
        }
    }
}
