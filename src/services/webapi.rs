//! "Check device": asks a device's web API, on the technician's explicit
//! command only, whether its accounts registered, which firmware it runs and
//! whether it holds what gsprov served (a few values read back and compared).
//! Requests and answers are [`crate::formats::webapi`]'s; this module owns
//! the blocking HTTP/1.0 client sockets and their time-outs.
//!
//! Steps, each once and never retried (a device may lock its login after a
//! few failures): `GET /cgi-bin/api-get_accounts?passcode=P2` (GRP26xx CTI),
//! `POST /cgi-bin/dologin` with the admin password P2, then
//! `GET /cgi-bin/api.values.get` with the session. A device that does not
//! answer costs at most one time-out: the first silent step ends the check.
//!
//! Must not touch files, the site or the servers. The admin password goes
//! into request bytes only: never into a report, an error text or a log.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::formats::http;
use crate::formats::webapi::{self, AccountState, Difference, Refusal};
use crate::ids::Mac;
use crate::site::{Device, Site};

/// Largest answer read (the API answers are a few hundred bytes).
const MAX_ANSWER: usize = 256 * 1024;
/// At most this many served values are read back.
pub const MAX_READBACK: usize = 24;

/// Where, and with which admin password.
#[derive(Clone)]
pub struct Target {
    pub mac: Mac,
    pub addr: SocketAddr,
    /// P2 as the site serves it (also the CTI passcode).
    pub password: String,
    /// What was served, read back and compared (non-secret P-values only).
    pub served: Vec<(String, String)>,
    /// Why `addr` is this device's: the admin password goes only to a
    /// confirmed address ([`super::notify::Vouch`]).
    pub vouch: super::notify::Vouch,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("mac", &self.mac)
            .field("addr", &self.addr)
            .field("password", &"****")
            .field("served", &self.served.len())
            .field("vouch", &self.vouch)
            .finish()
    }
}

/// A device of the site at `ip` (port default 80): its P2 and the served
/// non-secret P-values (at most [`MAX_READBACK`], in P-number order).
pub fn target(site: &Site, device: &Device, ip: IpAddr, port: Option<u16>, vouch: super::notify::Vouch) -> Target {
    let eff = site.effective(device);
    let cat = crate::catalog::Catalog::get();
    let mut served: Vec<(u32, String, String)> = eff
        .0
        .iter()
        .filter_map(|(k, s)| {
            let n: u32 = k.strip_prefix('P')?.parse().ok()?;
            let secret = k == "P2" || cat.lookup(k).is_some_and(|p| p.kind == crate::catalog::ValueKind::Password);
            (!secret).then(|| (n, k.clone(), s.value.clone()))
        })
        .collect();
    served.sort();
    served.truncate(MAX_READBACK);
    Target {
        mac: device.mac,
        addr: SocketAddr::new(ip, port.unwrap_or(80)),
        password: eff.get("P2").unwrap_or("").to_string(),
        served: served.into_iter().map(|(_, k, v)| (k, v)).collect(),
        vouch,
    }
}

/// How the check ended, as one word (JSON `result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every value read back is what was served.
    Applied,
    /// At least one value differs.
    Differs,
    /// The admin password (P2) was refused.
    WrongPassword,
    /// The device did not answer in time.
    NoAnswer,
    /// Nothing listens there, or no route.
    Unreachable,
    /// It answered, but not as a Grandstream API does (or the site has no P2).
    Unknown,
    /// Nothing confirms the address is the device's: the password was not sent.
    Unconfirmed,
}

impl Verdict {
    pub fn is_success(self) -> bool {
        self == Verdict::Applied
    }

    pub fn word(self) -> &'static str {
        match self {
            Verdict::Applied => "applied",
            Verdict::Differs => "differs",
            Verdict::WrongPassword => "wrong password",
            Verdict::NoAnswer => "no answer",
            Verdict::Unreachable => "unreachable",
            Verdict::Unknown => "unknown",
            Verdict::Unconfirmed => "address not confirmed",
        }
    }
}

/// One device's result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mac: Mac,
    pub addr: SocketAddr,
    pub result: Verdict,
    /// Per account, from `api-get_accounts`; `None` when it gave nothing.
    pub accounts: Option<Vec<AccountState>>,
    /// Why `accounts` is `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts_error: Option<String>,
    pub firmware: Option<String>,
    pub model: Option<String>,
    /// The P-values read back.
    pub checked: Vec<String>,
    pub differs: Vec<Difference>,
    #[serde(rename = "duration_ms", serialize_with = "ser_millis")]
    pub duration: Duration,
    pub explanation: String,
}

fn ser_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl Report {
    /// "account 1 (201) registered, account 2 not registered" or why unknown.
    pub fn registration(&self) -> String {
        match &self.accounts {
            Some(a) if a.is_empty() => "no accounts".into(),
            Some(a) => a
                .iter()
                .map(|s| {
                    let id = if s.sip_id.is_empty() { String::new() } else { format!(" ({})", s.sip_id) };
                    format!("account {}{id} {}", s.account, if s.registered { "registered" } else { "not registered" })
                })
                .collect::<Vec<_>>()
                .join(", "),
            None => format!("registration unknown: {}", self.accounts_error.as_deref().unwrap_or("no answer")),
        }
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.mac, self.addr, self.explanation)
    }
}

impl Report {
    /// The record the status fold and the live log take (no credential in it).
    pub fn record(&self, time: std::time::SystemTime) -> crate::serving::truth::ActionRecord {
        use crate::serving::truth::{ActionKind, ActionRecord, CheckFacts};
        let applied = match self.result {
            Verdict::Applied => Some(true),
            Verdict::Differs => Some(false),
            _ => None,
        };
        ActionRecord {
            mac: self.mac,
            time,
            kind: ActionKind::Check,
            ok: self.result.is_success(),
            result: format!("{} ({})", self.explanation, self.addr),
            check: Some(CheckFacts {
                accounts: self.accounts.clone(),
                firmware: self.firmware.clone(),
                applied,
                differs: self.differs.clone(),
            }),
        }
    }
}

/// A transport failure: ends the check.
pub(super) enum Transport {
    Silent(Duration),
    Unreachable(String),
    Garbled(String),
}

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) set_cookie: Option<String>,
    /// A redirect's target.
    pub(super) location: Option<String>,
    pub(super) body: Vec<u8>,
}

/// Where a device's web API is: its address, and whether it speaks HTTPS
/// (a device that redirected there; its certificate is self-signed, so it
/// is not checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Web {
    pub(super) addr: SocketAddr,
    pub(super) tls: bool,
}

pub(super) fn connect_error(e: &std::io::Error, addr: SocketAddr, timeout: Duration) -> Transport {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Transport::Silent(timeout),
        std::io::ErrorKind::ConnectionRefused => {
            Transport::Unreachable(format!("nothing accepts TCP connections on {addr} (is its web port right?)"))
        }
        _ => Transport::Unreachable(format!("{e} (connecting to {addr})")),
    }
}

fn exchange(web: Web, request: &[u8], timeout: Duration) -> Result<Answer, Transport> {
    let addr = web.addr;
    let start = Instant::now();
    let tcp = TcpStream::connect_timeout(&addr, timeout).map_err(|e| connect_error(&e, addr, timeout))?;
    let _ = tcp.set_write_timeout(Some(timeout));
    let _ = tcp.set_read_timeout(Some(timeout));
    let clock = tcp.try_clone().ok();
    let read_timeout = |left: Duration| {
        if let Some(c) = &clock {
            let _ = c.set_read_timeout(Some(left));
        }
    };
    if !web.tls {
        let mut s = tcp;
        return talk(&mut s, request, addr, start, timeout, &read_timeout);
    }
    let config =
        super::client::accept_any_certificate().map_err(|why| Transport::Unreachable(format!("TLS set-up: {why}")))?;
    let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
    let conn = rustls::ClientConnection::new(config, name)
        .map_err(|e| Transport::Unreachable(format!("TLS with {addr}: {e}")))?;
    let mut s = rustls::StreamOwned::new(conn, tcp);
    talk(&mut s, request, addr, start, timeout, &read_timeout)
}

/// Sends `request` and reads the answer until the peer closes, within `timeout` from `start`.
fn talk<S: Read + Write>(
    s: &mut S,
    request: &[u8],
    addr: SocketAddr,
    start: Instant,
    timeout: Duration,
    read_timeout: &dyn Fn(Duration),
) -> Result<Answer, Transport> {
    let silent = |e: &std::io::Error| matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock);
    s.write_all(request).and_then(|()| s.flush()).map_err(|e| {
        if silent(&e) { Transport::Silent(timeout) } else { Transport::Unreachable(format!("{e} (sending to {addr})")) }
    })?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(Transport::Silent(timeout));
        }
        read_timeout(left);
        match s.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > MAX_ANSWER {
                    return Err(Transport::Garbled(format!("the answer is larger than {MAX_ANSWER} bytes")));
                }
            }
            Err(e) if silent(&e) => return Err(Transport::Silent(timeout)),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // A reset (or a TLS close without close_notify) after a complete answer is an answer.
            Err(_) if !buf.is_empty() => break,
            Err(e) => return Err(Transport::Unreachable(format!("{e} (reading from {addr})"))),
        }
    }
    match http::parse_response_head(&buf) {
        Ok(Some((head, at))) => Ok(Answer {
            status: head.status,
            set_cookie: head.header("set-cookie").map(str::to_string),
            location: head.header("location").map(str::to_string),
            body: buf[at..].to_vec(),
        }),
        Ok(None) if buf.is_empty() => Err(Transport::Garbled("it closed the connection without an answer".into())),
        Ok(None) | Err(_) => Err(Transport::Garbled("not an HTTP answer".into())),
    }
}

pub(super) fn get(
    addr: SocketAddr,
    target: &str,
    cookie: Option<&str>,
    timeout: Duration,
) -> Result<Answer, Transport> {
    get_on(Web { addr, tls: false }, target, cookie, timeout)
}

pub(super) fn post(addr: SocketAddr, target: &str, form: &str, timeout: Duration) -> Result<Answer, Transport> {
    post_on(Web { addr, tls: false }, target, form, timeout)
}

pub(super) fn get_on(web: Web, target: &str, cookie: Option<&str>, timeout: Duration) -> Result<Answer, Transport> {
    let (addr, origin) = (web.addr, origin(web));
    // Origin and Referer: newer firmware answers 403 without them (see formats::webapi).
    let mut req = format!(
        "GET {target} HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: gsprov\r\nOrigin: {origin}\r\nReferer: {origin}/\r\nConnection: close\r\n"
    );
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    req.push_str("\r\n");
    exchange(web, req.as_bytes(), timeout)
}

pub(super) fn post_on(web: Web, target: &str, form: &str, timeout: Duration) -> Result<Answer, Transport> {
    let (addr, origin) = (web.addr, origin(web));
    let req = format!(
        "POST {target} HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: gsprov\r\nOrigin: {origin}\r\nReferer: {origin}/\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    exchange(web, req.as_bytes(), timeout)
}

fn origin(web: Web) -> String {
    format!("{}://{}", if web.tls { "https" } else { "http" }, web.addr)
}

/// Checks one device; every step waits at most `timeout`, and a silent
/// device ends the check at its first step.
pub fn check(target: &Target, timeout: Duration, table: &dyn super::neighbours::NeighbourTable) -> Report {
    let start = Instant::now();
    let mut r = Report {
        mac: target.mac,
        addr: target.addr,
        result: Verdict::Unknown,
        accounts: None,
        accounts_error: None,
        firmware: None,
        model: None,
        checked: Vec::new(),
        differs: Vec::new(),
        duration: Duration::ZERO,
        explanation: String::new(),
    };
    let end = |mut r: Report, result: Verdict, why: String| {
        r.result = result;
        r.explanation = why;
        r.duration = start.elapsed();
        r
    };
    let transport = |r: Report, t: Transport| match t {
        Transport::Silent(d) => end(
            r,
            Verdict::NoAnswer,
            format!(
                "no answer from {} within {:.1} s: is the device on, at this address, and its web port right?",
                target.addr,
                d.as_secs_f64()
            ),
        ),
        Transport::Unreachable(why) => end(r, Verdict::Unreachable, format!("unreachable: {why}")),
        Transport::Garbled(why) => end(r, Verdict::Unknown, format!("not a Grandstream web API: {why}")),
    };
    if target.password.is_empty() {
        return end(
            r,
            Verdict::Unknown,
            "the site has no admin password (P2) for this device: set it, then check".into(),
        );
    }

    // 0. A learned address gets the admin password only when the neighbour
    // table says it is the device's. A bare TCP connect (no byte sent) lets
    // the OS resolve a neighbour on this segment first.
    if let super::notify::Vouch::Learned(source) = &target.vouch {
        if let Err(e) = TcpStream::connect_timeout(&target.addr, timeout) {
            return transport(r, connect_error(&e, target.addr, timeout));
        }
        if let Err(why) = super::notify::confirm_address(table, target.mac, target.addr.ip()) {
            return end(
                r,
                Verdict::Unconfirmed,
                // What to do next is each front end's (a flag, a tick box).
                format!("not checked: the address came from {source} and {why}; the admin password was not sent"),
            );
        }
    }

    // 1. Registration (GRP26xx CTI).
    let mut passcode_refused = false;
    match get(target.addr, &webapi::accounts_target(&target.password), None, timeout) {
        Err(t) => return transport(r, t),
        Ok(a) if a.status == 200 => match webapi::accounts(&a.body) {
            Ok(list) => r.accounts = Some(list),
            Err(Refusal::Error(why)) => {
                passcode_refused = true;
                r.accounts_error = Some(format!(
                    "the CTI API refused ({why}): wrong passcode (P2), or CTI not allowed for this computer (P32051/P32052)"
                ));
            }
            Err(e) => r.accounts_error = Some(e.to_string()),
        },
        Ok(a) => r.accounts_error = Some(format!("api-get_accounts answered HTTP {}", a.status)),
    }

    // 2. Log in with P2.
    let sid = match post(target.addr, "/cgi-bin/dologin", &webapi::login_form(&target.password), timeout) {
        Err(t) => return transport(r, t),
        Ok(a) if a.status == 200 => webapi::session(&a.body, a.set_cookie.as_deref()),
        Ok(a) if a.status == 401 || a.status == 403 => Err(Refusal::Error(format!("HTTP {}", a.status))),
        Ok(a) => Err(Refusal::Unexpected(format!("dologin answered HTTP {}", a.status))),
    };
    let sid = match sid {
        Ok(s) => s,
        Err(Refusal::Error(why)) => {
            let reg = if passcode_refused { String::new() } else { format!("; {}", r.registration()) };
            return end(
                r,
                Verdict::WrongPassword,
                format!(
                    "the device refused the site's admin password (P2) ({why}){reg}: was the config applied? Set P2 to the device's password"
                ),
            );
        }
        Err(e) => {
            let reg = r.registration();
            return end(r, Verdict::Unknown, format!("{reg}; cannot log in: {e}"));
        }
    };

    // 3. Read back, in short requests: an unpatched GXP16xx overflows a
    // 64-byte buffer on a long `request=` list (CVE-2026-2329, see
    // formats::webapi::BATCH_CHARS).
    let mut names: Vec<String> = vec!["phone_model".into(), "sw_version".into()];
    names.extend(target.served.iter().map(|(p, _)| p.clone()));
    let cookie = format!("session-identity={sid}; session-role=admin");
    let mut read: BTreeMap<String, String> = BTreeMap::new();
    for batch in webapi::batches(&names) {
        let batch: Vec<&str> = batch.iter().map(String::as_str).collect();
        let answer = match get(target.addr, &webapi::values_target(&batch, &sid), Some(&cookie), timeout) {
            Err(t) => return transport(r, t),
            Ok(a) if a.status == 200 => webapi::values(&a.body),
            Ok(a) => Err(Refusal::Unexpected(format!("api.values.get answered HTTP {}", a.status))),
        };
        match answer {
            Ok(v) => read.extend(v),
            Err(e) => {
                let reg = r.registration();
                return end(r, Verdict::Unknown, format!("{reg}; cannot read values back: {e}"));
            }
        }
    }
    let text = |k: &str| read.get(k).map(|v| crate::formats::printable(v).into_owned()).filter(|v| !v.is_empty());
    r.firmware = text("sw_version");
    r.model = text("phone_model");
    r.checked = target.served.iter().map(|(p, _)| p.clone()).collect();
    r.differs = webapi::compare(&target.served, &read);
    let fw = r.firmware.as_deref().map(|f| format!("firmware {f}; ")).unwrap_or_default();
    let reg = r.registration();
    if r.differs.is_empty() {
        let why = format!("{reg}; {fw}applied ({} served values read back)", r.checked.len());
        end(r, Verdict::Applied, why)
    } else {
        let d: Vec<String> = r
            .differs
            .iter()
            .map(|d| {
                let got = if d.device.is_empty() { "empty".to_string() } else { d.device.clone() };
                format!("{} is {got}, we served {}", d.p, d.served)
            })
            .collect();
        let why = format!("{reg}; {fw}differs: {}", d.join("; "));
        end(r, Verdict::Differs, why)
    }
}

/// Checks every target, one after another (the pace is the time-out itself;
/// at most [`crate::services::notify::MAX_TARGETS`]); `each` hears every report.
pub fn check_all(
    targets: &[Target],
    timeout: Duration,
    table: &dyn super::neighbours::NeighbourTable,
    each: &mut dyn FnMut(&Report),
) -> Vec<Report> {
    targets
        .iter()
        .take(crate::services::notify::MAX_TARGETS)
        .map(|t| {
            let r = check(t, timeout, table);
            each(&r);
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_never_prints() {
        let t = Target {
            mac: "000b82000001".parse().unwrap(),
            addr: "127.0.0.1:80".parse().unwrap(),
            password: "s3cret-admin".into(),
            served: vec![("P64".into(), "auto".into())],
            vouch: crate::services::notify::Vouch::Confirmed("a test".into()),
        };
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn a_device_without_p2_is_not_asked() {
        let t = Target {
            mac: "000b82000001".parse().unwrap(),
            // Never connected to: the check stops before any socket.
            addr: "127.0.0.1:9".parse().unwrap(),
            password: String::new(),
            served: vec![],
            vouch: crate::services::notify::Vouch::Learned("a test".into()),
        };
        let r = check(&t, Duration::from_millis(100), &crate::services::neighbours::OsTable);
        assert_eq!(r.result, Verdict::Unknown);
        assert!(r.explanation.contains("no admin password (P2)"), "{}", r.explanation);
    }

    struct Empty;
    impl crate::services::neighbours::NeighbourTable for Empty {
        fn read(&self) -> Result<Vec<crate::formats::neigh::Neighbour>, String> {
            Ok(Vec::new())
        }
    }

    /// A learned address the neighbour table does not confirm gets no
    /// password, and the explanation names no command-line flag: the app
    /// shows it too, and each front end adds its own next step.
    #[test]
    fn an_unconfirmed_address_is_explained_without_a_cli_flag() {
        use std::io::Read as _;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let t = Target {
            mac: "000b82000001".parse().unwrap(),
            addr: listener.local_addr().unwrap(),
            password: "s3cret-admin".into(),
            served: vec![],
            vouch: crate::services::notify::Vouch::Learned("the request log".into()),
        };
        let r = check(&t, Duration::from_secs(2), &Empty);
        assert_eq!(r.result, Verdict::Unconfirmed, "{}", r.explanation);
        assert!(
            r.explanation.contains("the request log") && r.explanation.ends_with("the admin password was not sent"),
            "{}",
            r.explanation
        );
        assert!(!r.explanation.contains("--"), "{}", r.explanation);
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        assert!(got.is_empty(), "nothing was sent: {got:?}");
    }
}
