//! Sends the resync/reboot SIP `NOTIFY` ([`crate::formats::resync`]) to devices,
//! on the technician's explicit command only: one UDP client transaction per
//! device (RFC 3261 §17.1.2: retransmitted at T1, 2·T1, ... capped at T2,
//! given up at 64·T1), the digest challenge answered with the device's own
//! account credentials, each outcome told apart (accepted, refused, wrong
//! credentials, no answer, unreachable).
//!
//! Credentials go only to an address the technician gave or confirmed, or
//! that the neighbour table, read when the challenge arrives, says is the
//! device's MAC ([`Vouch`]): an address that only a request from the network
//! vouched for never gets a digest answer (issue 25: one that did could be
//! cracked offline for the SIP password).
//!
//! Bulk sends are rate-limited ([`Pace`]) and bounded ([`MAX_TARGETS`]); a
//! silent device costs one thread for at most 64·T1 and blocks nobody else.
//! Owns the client sockets. Must not touch files, the site or the servers;
//! passwords are used for the digest only and never logged or returned.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::formats::resync::{self, Action, Request};
use crate::formats::sip;
use crate::ids::Mac;
use crate::site::{Device, Site};

/// At most this many devices per command.
pub const MAX_TARGETS: usize = 256;

/// RFC 3261 timers (T1 500 ms, T2 4 s, timeout 64·T1 = 32 s by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    pub t1: Duration,
    pub t2: Duration,
    /// Timer F: the transaction is given up this long after the first send.
    pub timeout: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers::from_t1(Duration::from_millis(500))
    }
}

impl Timers {
    /// T2 = 8·T1 (4 s for the default 500 ms), timeout = 64·T1.
    pub fn from_t1(t1: Duration) -> Timers {
        Timers { t1, t2: t1 * 8, timeout: t1 * 64 }
    }

    /// When the NOTIFY goes out again, as offsets from the first send.
    pub fn retransmissions(&self) -> Vec<Duration> {
        let mut at = Duration::ZERO;
        let mut gap = self.t1;
        let mut out = vec![at];
        loop {
            at += gap;
            if at >= self.timeout {
                return out;
            }
            out.push(at);
            gap = (gap * 2).min(self.t2);
        }
    }
}

/// One set of credentials the device may challenge with (an account of the site).
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// Which account (1-based), for the report.
    pub account: usize,
    /// Authenticate ID (or user ID).
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credential(account {}, {:?}, ****)", self.account, self.username)
    }
}

/// Where and as whom.
#[derive(Debug, Clone)]
pub struct Target {
    pub mac: Mac,
    pub addr: SocketAddr,
    /// Account 1's user ID (Request-URI user part), if any.
    pub user: Option<String>,
    /// Tried in order, each once, when the device challenges.
    pub credentials: Vec<Credential>,
    /// Why `addr` is this device's: whether a challenge from it may be answered.
    pub vouch: Vouch,
}

/// Where a target's address came from, and so whether its challenge may be
/// answered with the device's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vouch {
    /// The technician gave the address (`--to`) or confirmed it
    /// (`--confirm-address`): answered.
    Confirmed(String),
    /// Learned (the request log, the status, the neighbour table): answered
    /// only when the neighbour table, read as the challenge arrives, maps the
    /// address to the device's MAC. The text says where it came from.
    Learned(String),
}

impl Vouch {
    pub fn source(&self) -> &str {
        match self {
            Vouch::Confirmed(s) | Vouch::Learned(s) => s,
        }
    }
}

/// Whether the neighbour table says `addr` is `mac`: `Ok` with how it knows,
/// `Err` with why not (another MAC there, no entry: another segment, or loopback).
pub fn confirm_address(
    table: &dyn super::neighbours::NeighbourTable,
    mac: Mac,
    addr: IpAddr,
) -> Result<String, String> {
    let rows = table.read().map_err(|e| format!("the neighbour table cannot be read ({e})"))?;
    let at: Vec<_> = rows.iter().filter(|n| n.ip == addr).collect();
    if at.iter().any(|n| n.mac == mac) {
        return Ok(format!("the neighbour table says {addr} is {}", mac.colon()));
    }
    match at.first() {
        Some(other) => Err(format!(
            "the neighbour table says {addr} is {}, not {}: another host answers at that address",
            other.mac.colon(),
            mac.colon()
        )),
        None => Err(format!(
            "the neighbour table has no entry for {addr} (not on this computer's segment, or loopback), so the \
             link layer cannot confirm it is {}",
            mac.colon()
        )),
    }
}

/// How a NOTIFY ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// A 2xx: the device took it. `account` when it answered a challenge;
    /// `event` names the `Event` it took (`check-sync` after a 489 to `resync`).
    Accepted { code: u16, account: Option<usize>, event: String },
    /// The device challenged and the site has no credentials for it.
    NoCredentials { code: u16 },
    /// Challenged again after every account's credentials.
    WrongCredentials { code: u16, tried: usize },
    /// Any other final response (e.g. 489 Bad Event, 481). `tried`: every
    /// `Event` sent, in order (`resync`, then `check-sync` after a 489).
    Refused { code: u16, reason: String, tried: Vec<String> },
    /// The challenge could not be answered (not Digest, other algorithm).
    BadChallenge { why: String },
    /// Nothing came back: `sends` NOTIFYs over `waited_ms`.
    NoAnswer { sends: u32, waited_ms: u64 },
    /// ICMP said no (port or host unreachable), or the send failed.
    Unreachable { why: String },
    /// Challenged by an address nothing confirms is the device's: the
    /// credentials were not sent.
    Unconfirmed { code: u16, source: String, why: String },
}

impl Outcome {
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Accepted { .. })
    }

    /// Plain language: what happened and, when it failed, what to do.
    pub fn explain(&self, action: Action) -> String {
        match self {
            Outcome::Accepted { code, account, event } => {
                let digest =
                    account.map(|a| format!(", digest answered with account {a}'s credentials")).unwrap_or_default();
                let mut text = format!("accepted ({code}{digest}); the device should {} now", after(action));
                if event != action.event() {
                    text.push_str(&format!(
                        " (it refused Event: {} with 489 Bad Event and took Event: {event}, sent once more: some \
                         units reboot on {event})",
                        action.event()
                    ));
                }
                text
            }
            Outcome::NoCredentials { code } => format!(
                "challenged ({code}) and the site has no account password for this device; add its account, or set P4428 = 1 (no NOTIFY authentication)"
            ),
            Outcome::WrongCredentials { code, tried } => format!(
                "refused ({code}) after the digest answer with {tried} account(s): the device's SIP credentials differ from the site's (was the config applied?)"
            ),
            Outcome::Refused { code, reason, tried } if tried.len() > 1 => format!(
                "refused: {code} {reason} to Event: {} as well (tried {}); the firmware supports neither event: \
                 reboot it or re-provision it from its menu",
                tried.last().map(String::as_str).unwrap_or_default(),
                tried.join(", then ")
            ),
            Outcome::Refused { code, reason, .. } => {
                format!("refused: {code} {reason} (the firmware may not support this event)")
            }
            Outcome::BadChallenge { why } => format!("cannot answer the device's challenge: {why}"),
            Outcome::NoAnswer { sends, waited_ms } => format!(
                "no answer after {sends} NOTIFYs over {:.1} s: is the device on, at this address, and is its SIP port right?",
                *waited_ms as f64 / 1000.0
            ),
            Outcome::Unreachable { why } => format!("unreachable: {why}"),
            Outcome::Unconfirmed { code, source, why } => format!(
                "challenged ({code}) but not answered: the address came from {source} and {why}; the account's \
                 credentials were not sent. Check that the address is the device's, then run again with \
                 --confirm-address (or give it with --to ADDR)"
            ),
        }
    }
}

fn after(action: Action) -> &'static str {
    match action {
        Action::Resync => "fetch its configuration",
        Action::Reboot => "reboot and fetch its configuration",
    }
}

/// One device's result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mac: Mac,
    pub addr: SocketAddr,
    pub action: Action,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Datagrams sent, retransmissions and digest answers included.
    pub sends: u32,
    #[serde(rename = "duration_ms", serialize_with = "ser_millis")]
    pub duration: Duration,
    pub explanation: String,
}

fn ser_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}: {}", self.mac, self.addr, self.action, self.explanation)
    }
}

impl Report {
    /// The record the status fold and the live log take (no credential in it).
    pub fn record(&self, time: std::time::SystemTime) -> crate::serving::truth::ActionRecord {
        use crate::serving::truth::{ActionKind, ActionRecord};
        ActionRecord {
            mac: self.mac,
            time,
            kind: match self.action {
                Action::Resync => ActionKind::Resync,
                Action::Reboot => ActionKind::Reboot,
            },
            ok: self.outcome.is_success(),
            result: format!("{} ({})", self.explanation, self.addr),
            check: None,
        }
    }
}

/// Random tokens for Call-ID, tags, branches and cnonces (from the OS).
fn token() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        // Uniqueness, not secrecy, matters here: fall back to the clock.
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        b = (t.as_nanos() as u64).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What one transaction (one CSeq) ended with.
enum Final {
    Code(u16, sip::Message),
    Silent { sends: u32 },
    Unreachable(String),
}

/// Sends one NOTIFY (and its retransmissions) and waits for a final response.
fn transaction(sock: &UdpSocket, req: &Request, timers: &Timers, sent: &mut u32) -> Final {
    let bytes = resync::notify(req);
    let schedule = timers.retransmissions();
    let start = Instant::now();
    let mut next = 0usize;
    let mut provisional = false;
    let mut buf = vec![0u8; 65536];
    loop {
        let now = start.elapsed();
        if now >= timers.timeout {
            return Final::Silent { sends: next as u32 };
        }
        // After a 1xx, RFC 3261 §17.1.2.2 retransmits every T2 instead.
        let due = if provisional { schedule.get(next).map(|_| now) } else { schedule.get(next).copied() };
        if let Some(at) = due
            && now >= at
        {
            if let Err(e) = sock.send(&bytes) {
                return Final::Unreachable(io_why(&e, req.target));
            }
            *sent += 1;
            next += 1;
        }
        let wait_until = if provisional {
            (now + timers.t2).min(timers.timeout)
        } else {
            schedule.get(next).copied().unwrap_or(timers.timeout)
        };
        let wait = wait_until.saturating_sub(start.elapsed()).max(Duration::from_millis(1));
        let _ = sock.set_read_timeout(Some(wait));
        match sock.recv(&mut buf) {
            Ok(n) => {
                let Ok(msg) = sip::parse(&buf[..n]) else { continue };
                match resync::answers(&msg, req.call_id, req.cseq, req.branch) {
                    Some(code) if code < 200 => provisional = true,
                    Some(code) => return Final::Code(code, msg),
                    None => {}
                }
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => return Final::Unreachable(io_why(&e, req.target)),
        }
    }
}

fn io_why(e: &std::io::Error, to: SocketAddr) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => {
            format!("ICMP port unreachable: nothing listens on UDP {to} (is the device's SIP port right?)")
        }
        std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable => {
            format!("{}: no route to {} (is the device on this network?)", e, to.ip())
        }
        _ => format!("{e} (sending to {to})"),
    }
}

/// Sends `action` to one device and waits for the outcome (at most about
/// `timers.timeout` per credential tried).
pub fn send(target: &Target, action: Action, timers: &Timers, table: &dyn super::neighbours::NeighbourTable) -> Report {
    let start = Instant::now();
    let mut sends = 0u32;
    let outcome = run(target, action, timers, table, &mut sends);
    let explanation = outcome.explain(action);
    Report { mac: target.mac, addr: target.addr, action, outcome, sends, duration: start.elapsed(), explanation }
}

fn run(
    target: &Target,
    action: Action,
    timers: &Timers,
    table: &dyn super::neighbours::NeighbourTable,
    sends: &mut u32,
) -> Outcome {
    let bind: SocketAddr = if target.addr.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }.parse().expect("literal");
    let sock = match UdpSocket::bind(bind).and_then(|s| s.connect(target.addr).map(|()| s)) {
        Ok(s) => s,
        Err(e) => return Outcome::Unreachable { why: io_why(&e, target.addr) },
    };
    let local = match sock.local_addr() {
        Ok(a) => a,
        Err(e) => return Outcome::Unreachable { why: e.to_string() },
    };
    let (call_id, from_tag) = (format!("{}@gsprov", token()), token());
    let mut cseq = 1;
    let mut branch = token();
    let mut authorization = None;
    let mut creds = target.credentials.iter();
    let mut account = None;
    // The Event sent; after a 489 to the action's own, its fallback, once.
    let mut event: Option<&'static str> = None;
    loop {
        let req = Request {
            action,
            target: target.addr,
            user: target.user.as_deref(),
            local,
            call_id: &call_id,
            from_tag: &from_tag,
            branch: &branch,
            cseq,
            authorization: authorization.take(),
            event,
        };
        let sent_event = event.unwrap_or(action.event());
        let uri = req.uri();
        match transaction(&sock, &req, timers, sends) {
            Final::Unreachable(why) => return Outcome::Unreachable { why },
            Final::Silent { sends: n } => {
                return Outcome::NoAnswer { sends: n, waited_ms: timers.timeout.as_millis() as u64 };
            }
            Final::Code(code @ 200..=299, _) => {
                return Outcome::Accepted { code, account, event: sent_event.to_string() };
            }
            // 489 Bad Event: this firmware wants another event; tried once, as a
            // new request of the same dialog-less transaction series.
            Final::Code(489, _) if event.is_none() && action.fallback_event().is_some() => {
                event = action.fallback_event();
                // A digest answer is for one request: the device challenges the next one again.
                creds = target.credentials.iter();
                account = None;
                cseq += 1;
                branch = token();
            }
            Final::Code(code @ (401 | 407), msg) => {
                let ch = match resync::challenge(&msg) {
                    Ok(c) => c,
                    Err(e) => return Outcome::BadChallenge { why: e.to_string() },
                };
                // Read now: the device just answered, so a neighbour on this
                // segment is in the table.
                if let Vouch::Learned(source) = &target.vouch
                    && account.is_none()
                    && !target.credentials.is_empty()
                    && let Err(why) = confirm_address(table, target.mac, target.addr.ip())
                {
                    return Outcome::Unconfirmed { code, source: source.clone(), why };
                }
                let Some(c) = creds.next() else {
                    return match account {
                        None => Outcome::NoCredentials { code },
                        Some(_) => Outcome::WrongCredentials { code, tried: target.credentials.len() },
                    };
                };
                authorization = Some(resync::authorization(&ch, &c.username, &c.password, &uri, &token()));
                account = Some(c.account);
                cseq += 1;
                branch = token();
            }
            Final::Code(code, msg) => {
                let reason = match msg.start {
                    sip::StartLine::Response { reason, .. } => reason,
                    sip::StartLine::Request { .. } => String::new(),
                };
                let tried = match event {
                    Some(e) => vec![action.event().to_string(), e.to_string()],
                    None => vec![action.event().to_string()],
                };
                return Outcome::Refused { code, reason, tried };
            }
        }
    }
}

/// The device's SIP port: account 1's local SIP port (P40) as the site serves it, else 5060.
pub fn sip_port(site: &Site, device: &Device) -> u16 {
    site.effective(device).get("P40").and_then(|p| p.trim().parse().ok()).filter(|p| *p != 0).unwrap_or(5060)
}

/// A site device as a target at `ip` (port: `port`, else [`sip_port`]); its
/// accounts with a password are the credentials, in account order.
pub fn target(site: &Site, device: &Device, ip: IpAddr, port: Option<u16>, vouch: Vouch) -> Target {
    let credentials = device
        .accounts
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.password.is_empty())
        .map(|(i, a)| Credential {
            account: i + 1,
            username: if a.auth_id.is_empty() { a.user_id.clone() } else { a.auth_id.clone() },
            password: a.password.clone(),
        })
        .collect();
    Target {
        mac: device.mac,
        addr: SocketAddr::new(ip, port.unwrap_or_else(|| sip_port(site, device))),
        user: device.accounts.first().map(|a| a.user_id.clone()).filter(|u| !u.is_empty()),
        credentials,
        vouch,
    }
}

/// Whether the site lets SIP factory-reset this device (P26015 "Allow SIP
/// Reset" = 1). gsprov never sends a reset; the technician is warned.
pub fn allows_sip_reset(site: &Site, device: &Device) -> bool {
    site.effective(device).get("P26015").is_some_and(|v| v.trim() == "1")
}

/// How bulk sends are spread out.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Between the starts of two devices' NOTIFYs.
    pub interval: Duration,
    /// Devices in flight at once.
    pub parallel: usize,
}

impl Default for Pace {
    fn default() -> Self {
        Pace { interval: Duration::from_millis(200), parallel: 8 }
    }
}

/// Why a bulk send was refused before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BulkError {
    #[error("{0} devices at once; gsprov sends to at most {MAX_TARGETS} per command")]
    TooMany(usize),
}

/// Sends to every target, starting one every `pace.interval`, at most
/// `pace.parallel` in flight; `each` hears every report as it ends (on the
/// calling thread). `table` confirms learned addresses ([`Vouch::Learned`]).
/// Returns the reports in the targets' order.
pub fn send_all(
    targets: &[Target],
    action: Action,
    timers: &Timers,
    pace: Pace,
    table: &dyn super::neighbours::NeighbourTable,
    each: &mut dyn FnMut(&Report),
) -> Result<Vec<Report>, BulkError> {
    if targets.len() > MAX_TARGETS {
        return Err(BulkError::TooMany(targets.len()));
    }
    let parallel = pace.parallel.max(1);
    let mut reports: Vec<Option<Report>> = vec![None; targets.len()];
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Report)>();
        let mut in_flight = 0usize;
        let mut last_start: Option<Instant> = None;
        for (i, t) in targets.iter().enumerate() {
            while in_flight >= parallel {
                if let Ok((j, r)) = rx.recv() {
                    each(&r);
                    reports[j] = Some(r);
                }
                in_flight -= 1;
            }
            if let Some(at) = last_start {
                #[expect(
                    clippy::disallowed_methods,
                    reason = "not synchronisation: the pace between two NOTIFYs is the rate limit itself"
                )]
                std::thread::sleep(pace.interval.saturating_sub(at.elapsed()));
            }
            last_start = Some(Instant::now());
            let tx = tx.clone();
            let timers = *timers;
            std::thread::Builder::new()
                .name(format!("notify {}", t.mac))
                .spawn_scoped(scope, move || {
                    let _ = tx.send((i, send(t, action, &timers, table)));
                })
                .expect("spawn a notify thread");
            in_flight += 1;
        }
        drop(tx);
        for (j, r) in rx {
            each(&r);
            reports[j] = Some(r);
        }
    });
    Ok(reports.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmissions_double_up_to_t2_until_64_t1() {
        let ms = |v: &[u64]| v.iter().map(|m| Duration::from_millis(*m)).collect::<Vec<_>>();
        // RFC 3261 §17.1.2.2 with T1 = 500 ms, T2 = 4 s: 0, .5, 1.5, 3.5, 7.5, 11.5, ... < 32 s.
        let t = Timers::default();
        assert_eq!(t.retransmissions(), ms(&[0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]));
        assert_eq!(t.timeout, Duration::from_secs(32));
        let short = Timers::from_t1(Duration::from_millis(20));
        assert_eq!(short.retransmissions().len(), 11);
        assert_eq!(short.timeout, Duration::from_millis(1280));
    }

    #[test]
    fn credentials_never_print_their_password() {
        let c = Credential { account: 1, username: "201".into(), password: "s3cret".into() };
        assert!(!format!("{c:?}").contains("s3cret"));
        let t = Target {
            mac: "000b82000001".parse().unwrap(),
            addr: "127.0.0.1:5060".parse().unwrap(),
            user: None,
            credentials: vec![c],
            vouch: Vouch::Confirmed("a test".into()),
        };
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn too_many_targets_send_nothing() {
        let t = Target {
            mac: "000b82000001".parse().unwrap(),
            addr: "127.0.0.1:9".parse().unwrap(),
            user: None,
            credentials: vec![],
            vouch: Vouch::Confirmed("a test".into()),
        };
        let many = vec![t; MAX_TARGETS + 1];
        let table = crate::services::neighbours::OsTable;
        let r = send_all(&many, Action::Resync, &Timers::default(), Pace::default(), &table, &mut |_| {
            panic!("nothing is sent")
        });
        assert_eq!(r.unwrap_err(), BulkError::TooMany(MAX_TARGETS + 1));
    }
}
