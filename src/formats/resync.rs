//! The out-of-dialog SIP `NOTIFY` that makes a provisioned device fetch its
//! configuration again (spec §10): `Event: resync` (fetch, no reboot) or
//! `Event: check-sync;reboot=true` (reboot, then fetch), and the digest answer
//! (RFC 3261 §22, RFC 2617 MD5, `qop=auth` when offered) to the device's
//! `401`/`407` challenge.
//!
//! There is deliberately no way to build anything else: no `sys-control`, no
//! reset event (a factory reset is never sent, whatever P26015 says).
//!
//! Pure: addresses, tags, branch, Call-ID and cnonce come from the caller.
//! Must not touch sockets or credentials storage; a password passed in is used
//! for the hash only and never appears in the bytes or in `Debug`.

use std::fmt::Write as _;
use std::net::SocketAddr;

use super::http::{auth_params, md5_hex};
use super::sip::{Message, StartLine};

/// What the NOTIFY asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Fetch the configuration again without rebooting.
    Resync,
    /// Reboot (and fetch the configuration while booting).
    Reboot,
}

impl Action {
    /// The `Event` header value. `resync`: FusionPBX's Grandstream templates
    /// (PR #3014, tested on GXP2130/GXP2160 on Grandstream support's advice);
    /// `check-sync;reboot=true`: the usual reboot event (spec §10).
    pub fn event(self) -> &'static str {
        match self {
            Action::Resync => "resync",
            Action::Reboot => "check-sync;reboot=true",
        }
    }

    /// The event tried once more when the device answers `489 Bad Event` to
    /// [`Action::event`]: `check-sync`. Public sources disagree per model:
    /// FusionPBX PR #3014 moved Grandstream to `resync` on Grandstream support's
    /// advice (GXP2130/GXP2160), while Elastix/Issabel's endpoint class sends
    /// `check-sync` ("GXV3175 wants check-sync, not sys-control"), noting it
    /// reboots the phone. Reboot has no fallback.
    pub fn fallback_event(self) -> Option<&'static str> {
        match self {
            Action::Resync => Some("check-sync"),
            Action::Reboot => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Action::Resync => "re-provision",
            Action::Reboot => "reboot",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Resync => "resync",
            Action::Reboot => "reboot",
        })
    }
}

/// Everything the NOTIFY carries besides the action.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub action: Action,
    /// The device's SIP address.
    pub target: SocketAddr,
    /// The account's user ID for the Request-URI and To (`sip:201@10.0.0.5:5060`);
    /// `None`: `sip:10.0.0.5:5060`.
    pub user: Option<&'a str>,
    /// Our address as the device sees it (Via, From, Contact).
    pub local: SocketAddr,
    pub call_id: &'a str,
    pub from_tag: &'a str,
    /// Without the `z9hG4bK` magic cookie; a new one for each new request.
    pub branch: &'a str,
    pub cseq: u32,
    /// `(header name, value)` from [`authorization`], after a challenge.
    pub authorization: Option<(&'static str, String)>,
    /// The `Event` to send instead of the action's own ([`Action::fallback_event`]).
    pub event: Option<&'static str>,
}

impl Request<'_> {
    /// The Request-URI (also what the digest hashes).
    pub fn uri(&self) -> String {
        match self.user {
            Some(u) if !u.is_empty() => format!("sip:{u}@{}", self.target),
            _ => format!("sip:{}", self.target),
        }
    }
}

/// The NOTIFY's bytes.
pub fn notify(r: &Request) -> Vec<u8> {
    let uri = r.uri();
    let mut s = String::with_capacity(512);
    let _ = write!(s, "NOTIFY {uri} SIP/2.0\r\n");
    let _ = write!(s, "Via: SIP/2.0/UDP {};branch=z9hG4bK{};rport\r\n", r.local, r.branch);
    s.push_str("Max-Forwards: 70\r\n");
    let _ = write!(s, "From: <sip:gsprov@{}>;tag={}\r\n", r.local, r.from_tag);
    let _ = write!(s, "To: <{uri}>\r\n");
    let _ = write!(s, "Call-ID: {}\r\n", r.call_id);
    let _ = write!(s, "CSeq: {} NOTIFY\r\n", r.cseq);
    let _ = write!(s, "Contact: <sip:gsprov@{}>\r\n", r.local);
    let _ = write!(s, "Event: {}\r\n", r.event.unwrap_or(r.action.event()));
    s.push_str("Subscription-State: terminated\r\n");
    if let Some((name, value)) = &r.authorization {
        let _ = write!(s, "{name}: {value}\r\n");
    }
    let _ = write!(s, "User-Agent: gsprov/{}\r\n", env!("CARGO_PKG_VERSION"));
    s.push_str("Content-Length: 0\r\n\r\n");
    s.into_bytes()
}

/// A digest challenge from a `401` (`WWW-Authenticate`) or `407` (`Proxy-Authenticate`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// From a 407: answered with `Proxy-Authorization`.
    pub proxy: bool,
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// `auth` when the challenge offers it (we never use `auth-int`).
    pub qop: Option<String>,
    pub algorithm: Option<String>,
    pub stale: bool,
}

/// Why a challenge cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("the {code} has no {header} header")]
    Missing { code: u16, header: &'static str },
    #[error("the challenge is {0:?}, not Digest")]
    NotDigest(String),
    #[error("the digest challenge has no nonce")]
    NoNonce,
    #[error("the digest challenge asks for algorithm {0}; gsprov answers MD5 only")]
    Algorithm(String),
    #[error("the digest challenge offers qop {0:?}; gsprov answers auth or none")]
    Qop(String),
}

/// Reads the challenge of a `401`/`407` response.
pub fn challenge(msg: &Message) -> Result<Challenge, ChallengeError> {
    let code = match msg.start {
        StartLine::Response { code, .. } => code,
        StartLine::Request { .. } => 0,
    };
    let (proxy, header) = if code == 407 { (true, "Proxy-Authenticate") } else { (false, "WWW-Authenticate") };
    let value = msg.header(header).ok_or(ChallengeError::Missing { code, header })?.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("digest") {
        return Err(ChallengeError::NotDigest(scheme.chars().take(20).collect()));
    }
    let mut ch = Challenge {
        proxy,
        realm: String::new(),
        nonce: String::new(),
        opaque: None,
        qop: None,
        algorithm: None,
        stale: false,
    };
    for (k, v) in auth_params(rest) {
        match k.to_ascii_lowercase().as_str() {
            "realm" => ch.realm = v,
            "nonce" => ch.nonce = v,
            "opaque" => ch.opaque = Some(v),
            "algorithm" => ch.algorithm = Some(v),
            "stale" => ch.stale = v.eq_ignore_ascii_case("true"),
            "qop" => {
                let offered: Vec<&str> = v.split(',').map(str::trim).collect();
                if offered.iter().any(|q| q.eq_ignore_ascii_case("auth")) {
                    ch.qop = Some("auth".into());
                } else if !v.trim().is_empty() {
                    return Err(ChallengeError::Qop(v));
                }
            }
            _ => {}
        }
    }
    if ch.nonce.is_empty() {
        return Err(ChallengeError::NoNonce);
    }
    if let Some(a) = &ch.algorithm
        && !a.eq_ignore_ascii_case("md5")
    {
        return Err(ChallengeError::Algorithm(a.clone()));
    }
    Ok(ch)
}

/// The `Authorization` (or `Proxy-Authorization`) header for a NOTIFY to `uri`.
/// `cnonce` is used only when the challenge offers `qop=auth` (nc is then 1).
pub fn authorization(
    ch: &Challenge,
    username: &str,
    password: &str,
    uri: &str,
    cnonce: &str,
) -> (&'static str, String) {
    let ha1 = md5_hex(&format!("{username}:{}:{password}", ch.realm));
    let ha2 = md5_hex(&format!("NOTIFY:{uri}"));
    let nc = "00000001";
    let response = match &ch.qop {
        Some(qop) => md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", ch.nonce)),
        None => md5_hex(&format!("{ha1}:{}:{ha2}", ch.nonce)),
    };
    let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut v = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\", algorithm=MD5",
        q(username),
        q(&ch.realm),
        q(&ch.nonce),
        q(uri)
    );
    if let Some(qop) = &ch.qop {
        let _ = write!(v, ", qop={qop}, nc={nc}, cnonce=\"{}\"", q(cnonce));
    }
    if let Some(o) = &ch.opaque {
        let _ = write!(v, ", opaque=\"{}\"", q(o));
    }
    (if ch.proxy { "Proxy-Authorization" } else { "Authorization" }, v)
}

/// Whether `msg` answers our NOTIFY: same Call-ID, CSeq and top Via branch.
pub fn answers(msg: &Message, call_id: &str, cseq: u32, branch: &str) -> Option<u16> {
    let StartLine::Response { code, .. } = msg.start else { return None };
    let via = msg.header("Via")?;
    let ok = msg.header("Call-ID") == Some(call_id)
        && msg.cseq() == Some((cseq, "NOTIFY".into()))
        && super::sip::param(via, "branch") == Some(&format!("z9hG4bK{branch}"));
    ok.then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::http::{Credentials, digest_expected, parse_authorization};
    use crate::formats::sip::parse;

    fn req(action: Action, auth: Option<(&'static str, String)>) -> Vec<u8> {
        notify(&Request {
            action,
            target: "10.0.0.5:5062".parse().unwrap(),
            user: Some("201"),
            local: "10.0.0.2:40000".parse().unwrap(),
            call_id: "c1@gsprov",
            from_tag: "t1",
            branch: "b1",
            cseq: 1,
            authorization: auth,
            event: None,
        })
    }

    #[test]
    fn the_notify_is_byte_exact_and_parses_back() {
        let bytes = req(Action::Resync, None);
        let text = String::from_utf8(bytes.clone()).unwrap();
        let expected = format!(
            "NOTIFY sip:201@10.0.0.5:5062 SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.2:40000;branch=z9hG4bKb1;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:gsprov@10.0.0.2:40000>;tag=t1\r\n\
To: <sip:201@10.0.0.5:5062>\r\n\
Call-ID: c1@gsprov\r\n\
CSeq: 1 NOTIFY\r\n\
Contact: <sip:gsprov@10.0.0.2:40000>\r\n\
Event: resync\r\n\
Subscription-State: terminated\r\n\
User-Agent: gsprov/{}\r\n\
Content-Length: 0\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(text, expected);
        let m = parse(&bytes).unwrap();
        assert_eq!(m.method(), Some("NOTIFY"));
        let reboot = parse(&req(Action::Reboot, None)).unwrap();
        assert_eq!(reboot.header("Event"), Some("check-sync;reboot=true"));
    }

    #[test]
    fn rfc2617_vector_without_and_with_qop() {
        // RFC 2617 §3.5 (Mufasa), with our method and URI: checked against the
        // server-side verifier, which has its own vector test in formats::http.
        let ch401 = "SIP/2.0 401 Unauthorized\r\nWWW-Authenticate: Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\nContent-Length: 0\r\n\r\n";
        let ch = challenge(&parse(ch401.as_bytes()).unwrap()).unwrap();
        assert_eq!(ch.qop.as_deref(), Some("auth"));
        assert!(!ch.proxy);
        let uri = "sip:201@10.0.0.5:5062";
        let (name, value) = authorization(&ch, "Mufasa", "Circle Of Life", uri, "0a4f113b");
        assert_eq!(name, "Authorization");
        let Some(Credentials::Digest(d)) = parse_authorization(&value) else { panic!("{value}") };
        assert_eq!(d.uri, uri);
        assert_eq!(d.cnonce.as_deref(), Some("0a4f113b"));
        assert_eq!(d.response, digest_expected(&d, "NOTIFY", "Circle Of Life"));
        assert!(value.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
        assert!(!value.contains("Circle Of Life"), "the password never travels");
        // Known answer, computed by hand from RFC 2617's HA1 for Mufasa:
        // HA1 = 939e7578ed9e3c518a452acee763bce9.
        let ha2 = md5_hex(&format!("NOTIFY:{uri}"));
        let expect = md5_hex(&format!(
            "939e7578ed9e3c518a452acee763bce9:dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:{ha2}"
        ));
        assert_eq!(d.response, expect);

        let ch407 = "SIP/2.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Digest realm=\"gs\", nonce=\"n1\", algorithm=MD5\r\n\r\n";
        let ch = challenge(&parse(ch407.as_bytes()).unwrap()).unwrap();
        assert!(ch.proxy && ch.qop.is_none());
        let (name, value) = authorization(&ch, "201", "pw", uri, "unused");
        assert_eq!(name, "Proxy-Authorization");
        assert!(!value.contains("cnonce"));
        let Some(Credentials::Digest(d)) = parse_authorization(&value) else { panic!() };
        assert_eq!(d.response, digest_expected(&d, "NOTIFY", "pw"));
    }

    #[test]
    fn unusable_challenges_say_why() {
        let p = |s: &str| challenge(&parse(s.as_bytes()).unwrap());
        assert_eq!(p("SIP/2.0 401 x\r\n\r\n"), Err(ChallengeError::Missing { code: 401, header: "WWW-Authenticate" }));
        assert_eq!(
            p("SIP/2.0 401 x\r\nWWW-Authenticate: Basic realm=a\r\n\r\n"),
            Err(ChallengeError::NotDigest("Basic".into()))
        );
        assert_eq!(p("SIP/2.0 401 x\r\nWWW-Authenticate: Digest realm=a\r\n\r\n"), Err(ChallengeError::NoNonce));
        assert_eq!(
            p("SIP/2.0 401 x\r\nWWW-Authenticate: Digest realm=a, nonce=b, algorithm=SHA-256\r\n\r\n"),
            Err(ChallengeError::Algorithm("SHA-256".into()))
        );
        assert_eq!(
            p("SIP/2.0 401 x\r\nWWW-Authenticate: Digest realm=a, nonce=b, qop=auth-int\r\n\r\n"),
            Err(ChallengeError::Qop("auth-int".into()))
        );
    }

    #[test]
    fn responses_are_matched_to_the_transaction() {
        let ok = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.2:40000;branch=z9hG4bKb1;rport=40000\r\nCall-ID: c1@gsprov\r\nCSeq: 1 NOTIFY\r\n\r\n";
        let m = parse(ok.as_bytes()).unwrap();
        assert_eq!(answers(&m, "c1@gsprov", 1, "b1"), Some(200));
        assert_eq!(answers(&m, "c1@gsprov", 2, "b1"), None);
        assert_eq!(answers(&m, "c1@gsprov", 1, "b2"), None);
        assert_eq!(answers(&m, "other", 1, "b1"), None);
        let notify = parse(&req(Action::Resync, None)).unwrap();
        assert_eq!(answers(&notify, "c1@gsprov", 1, "b1"), None);
    }
}
