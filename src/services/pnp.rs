//! The SIP plug-and-play responder (spec §5.2): one UDP socket on the PnP
//! port (5060), joined to the multicast group 224.0.1.75 on the chosen
//! interface. A factory-fresh Grandstream unit multicasts a `ua-profile`
//! SUBSCRIBE at boot; the responder answers `200 OK` to the packet's source,
//! then sends a NOTIFY (`Content-Type: application/url`, body = the
//! provisioning URL) to the unit's Contact, retransmitted with RFC 3261
//! timer A/B doubling ([`schedule`]) until the unit answers 200.
//!
//! Every SUBSCRIBE becomes one [`RequestRecord`](crate::serving::RequestRecord)
//! (protocol SIP, completed when the exchange ends) and, at once, a
//! [`Sighting`] for discovery. A datagram that is not SIP, or SIP that is not a
//! PnP SUBSCRIBE, is recorded (at most one record per second per sender) and
//! otherwise ignored: no packet can stop the responder.
//!
//! Owns the socket and the NOTIFY transactions. Must not touch: files, the
//! router. Message bytes come from the pure [`crate::formats::sip`].

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{ServiceError, Shared, Throttle, bind_error, lock};
use crate::event::{Event, PnpAnswer, PnpConfig};
use crate::formats::sip::{self, Message, NotifyParams, PnpSubscribe, StartLine};
use crate::serving::discovery::{DiscoveryEvent, Sighting, Source};
use crate::serving::{Interruption, Outcome, Protocol, Refusal, Wire};

/// Exchanges remembered this long after they end, so that a unit's
/// retransmitted SUBSCRIBE is not taken for a new one.
const REMEMBER: Duration = Duration::from_secs(40);
/// At most this many exchanges remembered (a flood cannot grow memory).
const MAX_EXCHANGES: usize = 4096;
/// At most one record per second per sender for datagrams that are ignored.
const IGNORED_EVERY: Duration = Duration::from_secs(1);
/// NOTIFY transactions under way for one address at once: a unit boots with
/// one SUBSCRIBE (and its retransmissions).
const ACTIVE_PER_SOURCE: usize = 4;

/// What the responder needs besides the socket.
#[derive(Debug, Clone)]
pub(super) struct Setup {
    pub(super) answer: PnpAnswer,
    /// `None`: no file server runs; nothing to hand out.
    pub(super) url: Option<String>,
    pub(super) t1: Duration,
    pub(super) max_tries: u32,
    /// Our address as units see it (Via, Contact of the NOTIFY).
    pub(super) local: SocketAddr,
}

/// Binds `0.0.0.0:port` (SO_REUSEADDR, so a softphone on the same computer
/// does not block it) and joins the group on the interface.
pub(super) fn bind(rt: &tokio::runtime::Runtime, cfg: &PnpConfig) -> Result<UdpSocket, ServiceError> {
    let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, cfg.port));
    let fail = |e: std::io::Error| bind_error(addr, &e);
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(socket2::Protocol::UDP)).map_err(fail)?;
    s.set_reuse_address(true).map_err(fail)?;
    // BSDs (macOS) share a multicast port only with SO_REUSEPORT; on Linux it
    // would spread unicast replies over sockets, so it stays off there.
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd"
    ))]
    s.set_reuse_port(true).map_err(fail)?;
    s.bind(&addr.into()).map_err(fail)?;
    s.join_multicast_v4(&cfg.group, &cfg.interface).map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrNotAvailable => ServiceError::AddressNotAvailable { ip: IpAddr::V4(cfg.interface) },
        _ => ServiceError::Bind {
            addr,
            reason: format!(
                "cannot join the plug-and-play multicast group {} on {}: {e} (is the interface up, with multicast?)",
                cfg.group, cfg.interface
            ),
        },
    })?;
    s.set_nonblocking(true).map_err(fail)?;
    let _guard = rt.enter();
    UdpSocket::from_std(s.into()).map_err(fail)
}

/// When the NOTIFYs go out (offsets from the first send: 0, T1, 3·T1, 7·T1, ...,
/// `max_tries` of them) and when the exchange is given up (64·T1, RFC 3261
/// timer B; later than the last send).
pub fn schedule(t1: Duration, max_tries: u32) -> (Vec<Duration>, Duration) {
    let mut sends = Vec::new();
    let mut at = Duration::ZERO;
    let mut gap = t1;
    for _ in 0..max_tries.max(1) {
        sends.push(at);
        at += gap;
        gap *= 2;
    }
    let last = *sends.last().unwrap_or(&Duration::ZERO);
    (sends, (t1 * 64).max(last + t1))
}

/// Whether to answer a SUBSCRIBE: the URL to hand out, or why not
/// (refusal, whether that is expected, explanation).
pub fn decide<'a>(
    sub: &PnpSubscribe,
    answer: PnpAnswer,
    known: bool,
    url: Option<&'a str>,
) -> Result<&'a str, (Refusal, bool, String)> {
    let grandstream = sub.vendor.eq_ignore_ascii_case("grandstream") || sub.mac.is_grandstream();
    let what = [sub.vendor.as_str(), sub.model.as_ref().map_or("", |m| m.as_str())].join(" ");
    if !grandstream {
        return Err((
            Refusal::Policy,
            true,
            format!("not answered: a {} unit; gsprov answers Grandstream units only", what.trim()),
        ));
    }
    match answer {
        PnpAnswer::Nobody => {
            return Err((Refusal::Policy, true, "not answered: listening only (PnP answer = nobody)".into()));
        }
        PnpAnswer::KnownOnly if !known => {
            return Err((
                Refusal::Policy,
                false,
                format!(
                    "not answered: PnP answers known MACs only and {} is not in the site; adopt it (gsprov discover --adopt) or answer all",
                    sub.mac
                ),
            ));
        }
        PnpAnswer::All | PnpAnswer::KnownOnly => {}
    }
    url.ok_or_else(|| {
        (Refusal::NotFound, false, "not answered: no file server runs, so there is no URL to hand out".into())
    })
}

/// One SUBSCRIBE's exchange, by Call-ID.
struct Exchange {
    subscribe_cseq: u32,
    /// Our 200 OK, sent again for a retransmitted SUBSCRIBE.
    ok: Option<Vec<u8>>,
    source: SocketAddr,
    notify_cseq: u32,
    /// Responses to our NOTIFY go to its transaction.
    responses: Option<mpsc::UnboundedSender<u16>>,
    ended: Option<Instant>,
}

type Exchanges = Arc<Mutex<HashMap<String, Exchange>>>;

/// Answers until `cancel`. Holds `done` (each NOTIFY transaction a clone) so
/// the supervisor knows when the socket is closed.
pub(super) async fn serve(
    done: mpsc::Sender<()>,
    socket: UdpSocket,
    shared: Arc<Shared>,
    setup: Setup,
    cancel: CancellationToken,
) {
    let socket = Arc::new(socket);
    let exchanges: Exchanges = Arc::default();
    let mut ignored_from: HashMap<IpAddr, Instant> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    loop {
        let (len, source) = tokio::select! {
            _ = cancel.cancelled() => break,
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    // ICMP port-unreachable from an earlier send surfaces here; the socket is fine.
                    tracing::debug!("pnp: receive error: {e}");
                    continue;
                }
            },
        };
        let bytes = &buf[..len];
        let msg = match sip::parse(bytes) {
            Ok(m) => m,
            Err(e) => {
                let why = format!("ignored: a {len}-byte datagram that is not SIP ({e})");
                ignore(&shared, &mut ignored_from, source, "-", "", Refusal::Malformed, false, why);
                continue;
            }
        };
        match &msg.start {
            StartLine::Response { code, .. } => response(&exchanges, &msg, *code),
            StartLine::Request { method, uri } if method != "SUBSCRIBE" => {
                let why = format!("ignored: a SIP {method}; the PnP responder answers only ua-profile SUBSCRIBEs");
                ignore(&shared, &mut ignored_from, source, method, uri, Refusal::Policy, true, why);
            }
            StartLine::Request { uri, .. } => match sip::pnp_subscribe(&msg) {
                Err(e) => {
                    let why = format!("ignored: {e}");
                    ignore(&shared, &mut ignored_from, source, "SUBSCRIBE", uri, Refusal::Policy, true, why);
                }
                Ok(sub) => {
                    let uri = uri.clone();
                    subscribe(&shared, &setup, &socket, &exchanges, &done, &cancel, &msg, sub, &uri, source).await;
                }
            },
        }
    }
}

/// A response: to one of our NOTIFYs, or stray.
fn response(exchanges: &Exchanges, msg: &Message, code: u16) {
    let (Some(call_id), Some((n, method))) = (msg.header("Call-ID"), msg.cseq()) else {
        return;
    };
    if method != "NOTIFY" {
        return;
    }
    if let Some(x) = lock(exchanges).get(call_id)
        && x.notify_cseq == n
        && let Some(tx) = &x.responses
    {
        let _ = tx.send(code);
    }
}

/// Records an ignored datagram, at most once per second per sender.
#[expect(
    clippy::too_many_arguments,
    reason = "the fields of one request record, each known only at the call site that refuses"
)]
fn ignore(
    shared: &Shared,
    ignored_from: &mut HashMap<IpAddr, Instant>,
    source: SocketAddr,
    method: &str,
    uri: &str,
    reason: Refusal,
    expected: bool,
    explanation: String,
) {
    let now = Instant::now();
    if ignored_from.get(&source.ip()).is_some_and(|t| now.duration_since(*t) < IGNORED_EVERY) {
        tracing::debug!("pnp: {source}: {explanation}");
        return;
    }
    if ignored_from.len() >= MAX_EXCHANGES {
        ignored_from.clear();
    }
    ignored_from.insert(source.ip(), now);
    // And at most one record a second for all sources together: a flood from
    // spoofed addresses is one line a second, not one per address.
    let Some(dropped) = shared.junk.admit(source.ip(), "sip-ignored") else {
        tracing::debug!("pnp: {source}: {explanation}");
        return;
    };
    let mut p = shared.begin(Protocol::Sip, source, method, uri);
    p.record.outcome = Outcome::Refused { reason, expected };
    p.record.explanation = format!("{explanation}{}", super::Throttle::note(dropped));
    shared.complete(p);
}

fn random_hex() -> String {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        b = (t.as_nanos() as u64).to_le_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A PnP SUBSCRIBE: sighting, then answer (or not) and record.
#[expect(
    clippy::too_many_arguments,
    reason = "the listener's borrowed handles plus the three parts of this message; grouping the handles is its own refactor"
)]
async fn subscribe(
    shared: &Arc<Shared>,
    setup: &Setup,
    socket: &Arc<UdpSocket>,
    exchanges: &Exchanges,
    done: &mpsc::Sender<()>,
    cancel: &CancellationToken,
    msg: &Message,
    sub: PnpSubscribe,
    uri: &str,
    source: SocketAddr,
) {
    // A retransmission of a SUBSCRIBE being (or just) handled: the same answer again.
    let repeat = {
        let mut xs = lock(exchanges);
        xs.retain(|_, x| x.ended.is_none_or(|t| t.elapsed() < REMEMBER));
        if xs.len() >= MAX_EXCHANGES && !xs.contains_key(&sub.call_id) {
            evict_ended(&mut xs);
        }
        match xs.get(&sub.call_id) {
            // Unanswered ones stay unanswered (one record per unit, not one per retry).
            Some(x) if x.subscribe_cseq == sub.cseq || x.ended.is_none() || x.ok.is_none() => {
                Some(x.ok.clone().map(|ok| (ok, x.source)))
            }
            _ => None,
        }
    };
    if let Some(ok) = repeat {
        if let Some((ok, to)) = ok {
            let _ = socket.send_to(&ok, to).await;
        }
        return;
    }

    let now = shared.now();
    let ua = sub.user_agent.clone().unwrap_or_default();
    shared.emit(Event::Discovery(DiscoveryEvent::Seen(Sighting {
        time: now,
        source: Source::Pnp,
        mac: Some(sub.mac),
        ip: Some(source.ip()),
        model: sub.model.clone(),
        firmware: sub.firmware.clone(),
        detail: format!("SUBSCRIBE from {source} {ua}").trim_end().to_string(),
    })));

    let mut p = shared.begin(Protocol::Sip, source, "SUBSCRIBE", uri);
    p.record.user_agent = sub.user_agent.clone();
    p.record.model = sub.model.clone();
    p.record.firmware = sub.firmware.clone();
    p.record.mac = Some(sub.mac);

    let known = shared.is_known(sub.mac);
    let (full, busy_source) = {
        let xs = lock(exchanges);
        let mine = xs.values().filter(|x| x.ended.is_none() && x.source.ip() == source.ip()).count();
        (xs.len() >= MAX_EXCHANGES, mine >= ACTIVE_PER_SOURCE)
    };
    let url = match decide(&sub, setup.answer, known, setup.url.as_deref()) {
        Ok(_) if full => Err((Refusal::Busy, false, "not answered: too many plug-and-play exchanges at once".into())),
        Ok(_) if busy_source => Err((
            Refusal::Busy,
            false,
            format!(
                "not answered: {} already has {ACTIVE_PER_SOURCE} plug-and-play exchanges under way; a unit sends one",
                source.ip()
            ),
        )),
        other => other.map(str::to_string),
    };
    let url = match url {
        Ok(u) => u,
        Err((reason, expected, explanation)) => {
            lock(exchanges).insert(
                sub.call_id.clone(),
                Exchange {
                    subscribe_cseq: sub.cseq,
                    ok: None,
                    source,
                    notify_cseq: 0,
                    responses: None,
                    ended: Some(Instant::now()),
                },
            );
            // A flood is refused as busy: recorded once a second per address.
            if reason == Refusal::Busy {
                match shared.junk.admit(source.ip(), "sip-busy") {
                    Some(dropped) => {
                        let why = format!("{explanation}{}", Throttle::note(dropped));
                        shared.finish(p, Outcome::Refused { reason, expected }, Wire::None, Some(why));
                    }
                    None => tracing::debug!("pnp: {source}: {explanation}"),
                }
                return;
            }
            shared.finish(p, Outcome::Refused { reason, expected }, Wire::None, Some(explanation));
            return;
        }
    };

    let tag = random_hex();
    let ok = sip::ok_response(msg, source, &tag);
    if let Err(e) = socket.send_to(&ok, source).await {
        tracing::debug!("pnp: cannot answer {source}: {e}");
    }
    let notify_cseq = 1;
    let (tx, rx) = mpsc::unbounded_channel();
    lock(exchanges).insert(
        sub.call_id.clone(),
        Exchange { subscribe_cseq: sub.cseq, ok: Some(ok), source, notify_cseq, responses: Some(tx), ended: None },
    );
    let branch = random_hex();
    let notify = sip::notify(
        &sub,
        source,
        &NotifyParams { local: setup.local, url: &url, branch: &branch, tag: &tag, cseq: notify_cseq },
    );
    // The NOTIFY goes back where the SUBSCRIBE came from: a Contact naming
    // another address would make gsprov a reflector (only its port is taken,
    // for units that listen on another port than they send from).
    let target = sub.contact.filter(|a| a.ip() == source.ip() && a.port() != 0).unwrap_or(source);
    let (shared, socket, exchanges, cancel, done) =
        (shared.clone(), socket.clone(), exchanges.clone(), cancel.clone(), done.clone());
    let (t1, tries) = (setup.t1, setup.max_tries);
    tokio::spawn(async move {
        // Declared first, dropped last: the supervisor hears only after this ends.
        let _done = done;
        let result = transaction(&socket, &notify, target, t1, tries, rx, &cancel).await;
        if let Some(x) = lock(&exchanges).get_mut(&sub.call_id) {
            x.responses = None;
            x.ended = Some(Instant::now());
        }
        p.record.bytes = url.len() as u64;
        let sent = format!("answered 200 OK and sent NOTIFY with {url} to {target}");
        match result {
            Ended::Answered { code, sends } if (200..300).contains(&code) => {
                p.record.status = Wire::Sip(code);
                p.record.explanation = format!("{sent}; the unit acknowledged it ({code}) after {sends} send(s)");
            }
            Ended::Answered { code, sends } => {
                p.record.status = Wire::Sip(code);
                p.record.outcome = Outcome::Interrupted { reason: Interruption::ClientGone };
                p.record.explanation = format!(
                    "{sent}; the unit rejected it with {code} after {sends} send(s) and will not fetch from us"
                );
            }
            Ended::TimedOut { sends } => {
                p.record.outcome = Outcome::Interrupted { reason: Interruption::TimedOut };
                p.record.explanation = format!(
                    "{sent}; no answer to {sends} NOTIFY send(s): is a firewall on this computer dropping SIP, or did the unit go away?"
                );
            }
            Ended::Stopped { sends } => {
                p.record.outcome = Outcome::Interrupted { reason: Interruption::Stopped };
                p.record.explanation = format!("{sent}; stopped after {sends} send(s) before the unit answered");
            }
        }
        shared.complete(p);
    });
}

/// Makes room in a full exchange table: forgets the quarter of ended
/// exchanges that ended first (a flood of refused SUBSCRIBEs must not keep
/// real units out for [`REMEMBER`]).
fn evict_ended(xs: &mut HashMap<String, Exchange>) {
    let mut ended: Vec<(Instant, String)> = xs.iter().filter_map(|(k, x)| x.ended.map(|t| (t, k.clone()))).collect();
    ended.sort_unstable();
    let n = (MAX_EXCHANGES / 4).min(ended.len());
    for (_, k) in ended.into_iter().take(n) {
        xs.remove(&k);
    }
    tracing::warn!("pnp: the exchange table was full; {n} finished exchanges were forgotten early");
}

/// How a NOTIFY transaction ended.
enum Ended {
    Answered { code: u16, sends: u32 },
    TimedOut { sends: u32 },
    Stopped { sends: u32 },
}

/// Sends the NOTIFY on [`schedule`] until a final response arrives.
async fn transaction(
    socket: &UdpSocket,
    notify: &[u8],
    target: SocketAddr,
    t1: Duration,
    max_tries: u32,
    mut responses: mpsc::UnboundedReceiver<u16>,
    cancel: &CancellationToken,
) -> Ended {
    let (sends, give_up) = schedule(t1, max_tries);
    let start = tokio::time::Instant::now();
    let mut sent = 0u32;
    let mut next = sends.iter();
    let mut due = next.next().copied();
    loop {
        let deadline = start + due.unwrap_or(give_up);
        tokio::select! {
            _ = cancel.cancelled() => return Ended::Stopped { sends: sent },
            code = responses.recv() => match code {
                // Provisional: keep waiting (and retransmitting).
                Some(c) if c < 200 => {}
                Some(c) => return Ended::Answered { code: c, sends: sent },
                None => return Ended::Stopped { sends: sent },
            },
            _ = tokio::time::sleep_until(deadline) => {
                if due.is_none() {
                    return Ended::TimedOut { sends: sent };
                }
                if let Err(e) = socket.send_to(notify, target).await {
                    tracing::debug!("pnp: NOTIFY to {target}: {e}");
                }
                sent += 1;
                due = next.next().copied();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retransmissions_double_from_t1_and_give_up_at_64_t1() {
        let ms = Duration::from_millis;
        let (sends, give_up) = schedule(ms(500), 7);
        assert_eq!(sends, vec![ms(0), ms(500), ms(1500), ms(3500), ms(7500), ms(15500), ms(31500)]);
        assert_eq!(give_up, ms(32000));
        let (sends, give_up) = schedule(ms(10), 3);
        assert_eq!((sends.len(), give_up), (3, ms(640)));
        assert_eq!(schedule(ms(10), 0).0.len(), 1);
    }

    fn sub(vendor: &str, mac: &str) -> PnpSubscribe {
        PnpSubscribe {
            mac: mac.parse().unwrap(),
            vendor: vendor.into(),
            model: Some("GRP2612W".parse().unwrap()),
            firmware: None,
            user_agent: None,
            contact: None,
            contact_uri: None,
            call_id: "c".into(),
            cseq: 1,
            from: String::new(),
            to: String::new(),
        }
    }

    #[test]
    fn who_is_answered() {
        let url = Some("http://10.0.0.2:8080/");
        let gs = sub("Grandstream", "c074ad112233");
        assert_eq!(decide(&gs, PnpAnswer::All, false, url), Ok("http://10.0.0.2:8080/"));
        assert_eq!(decide(&gs, PnpAnswer::KnownOnly, true, url), Ok("http://10.0.0.2:8080/"));
        let (r, expected, why) = decide(&gs, PnpAnswer::KnownOnly, false, url).unwrap_err();
        assert!(r == Refusal::Policy && !expected && why.contains("c074ad112233"), "{why}");
        let (_, expected, why) = decide(&gs, PnpAnswer::Nobody, true, url).unwrap_err();
        assert!(expected && why.contains("listening only"), "{why}");
        let (r, _, _) = decide(&gs, PnpAnswer::All, true, None).unwrap_err();
        assert_eq!(r, Refusal::NotFound);
        // Another vendor's phone sends the same SUBSCRIBE; a Grandstream OUI is enough.
        let (_, expected, why) = decide(&sub("Yealink", "001565000001"), PnpAnswer::All, true, url).unwrap_err();
        assert!(expected && why.contains("Yealink"), "{why}");
        assert!(decide(&sub("", "000b82000001"), PnpAnswer::All, false, url).is_ok());
    }
}
