//! The bench DHCP server (issue 29): hands Grandstream units on a staging
//! bench an address and option 66 = this computer's provisioning URL, and
//! is built so that it cannot hurt a live LAN:
//! - it binds the one chosen interface (SO_BINDTODEVICE on Linux) and
//!   refuses an interface whose address is not static ([`check_interface`]);
//! - before it answers anyone it broadcasts a DISCOVER and listens; another
//!   server's OFFER means it does not start ([`ServiceError::ForeignDhcp`],
//!   naming that server's address and MAC, with the option-66 lines to paste
//!   there); while it runs it sends such a DISCOVER every
//!   [`BenchDhcpConfig::guard_every`] and listens on the client port, and a
//!   foreign OFFER/ACK stops it at once with the same message;
//! - it answers Grandstream units only by default ([`leases::eligible`]);
//! - it checks that an address is free on the wire before offering it (the
//!   OS resolves the address, ARP, and the neighbour table is read): the
//!   whole pool at start and every [`RECHECK`], so that a DISCOVER is
//!   answered at once, and an address whose check is older on its own;
//! - it stops by itself after [`BenchDhcpConfig::stop_after`], and with the
//!   servers.
//!
//! Every client message becomes one [`RequestRecord`] (protocol `dhcp`,
//! through [`Shared::note`]: the live log and the request log, not the
//! status fold); the ACK's record carries the lease, which a restart reads
//! back ([`storage::dhcp_leases`]). Records of messages that get nothing are
//! throttled (one per MAC per [`QUIET_EVERY`], [`QUIET_PER_SECOND`] in all),
//! and the lease book holds at most the pool: a DISCOVER flood with random
//! MACs bounds both memory and the log. The decisions are the pure
//! [`crate::serving::leases`]'s; the packets the pure [`crate::formats::dhcp`]'s.
//!
//! Must not touch: files (the leases come in through the caller), the router.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant, UNIX_EPOCH};

use socket2::{Domain, Socket, Type};
use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use super::neighbours::NeighbourTable;
use super::{ServiceError, Shared};
use crate::event::{BenchDhcpConfig, Event};
use crate::formats::dhcp::{self, Answer, ClientMessage, Kind};
use crate::ids::Mac;
use crate::serving::discovery::{DiscoveryEvent, NetInterface, Sighting, Source, model_in_text};
use crate::serving::leases::{self, Leases, Verdict};
use crate::serving::{Lease, Outcome, Protocol, Refusal, Wire};

/// A client whose messages get nothing is recorded at most once in this long.
pub const QUIET_EVERY: Duration = Duration::from_secs(10);
/// Records of messages that got nothing, per second, in all.
pub const QUIET_PER_SECOND: u32 = 20;
/// Clients remembered for [`QUIET_EVERY`] (a flood of random MACs resets the memory, never grows it).
const QUIET_MACS: usize = 1024;
/// Addresses tried per DISCOVER when the ARP check finds them taken.
const TRIES: usize = 4;
/// How often the pool's free addresses are checked again (all at once), and
/// how long such a check counts: a DISCOVER for an address checked since is
/// answered at once, one for an older check waits for its own.
const RECHECK: Duration = Duration::from_secs(30);
const CHECK_VALID: Duration = Duration::from_secs(45);

/// A UDP socket on `port` of every address, tied to one interface (Linux:
/// SO_BINDTODEVICE, so broadcasts leave only there and only its packets
/// arrive), with SO_BROADCAST and SO_REUSEADDR. The DHCP preflight uses it too.
pub(super) fn device_socket(iface: &str, port: u16) -> std::io::Result<std::net::UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(socket2::Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_broadcast(true)?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    s.bind_device(Some(iface.as_bytes()))?;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = iface; // Elsewhere the socket takes every interface's broadcasts; the records say which client asked.
    s.bind(&SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port)).into())?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// Refuses an interface whose IPv4 address is not its own static one: a
/// laptop that got its address from DHCP is on a network that has a DHCP
/// server. Linux reads `ip -o -4 addr` (a DHCP address is `dynamic`, it has
/// a lifetime); Windows `netsh` ("DHCP enabled"); macOS `ipconfig getpacket`.
pub fn check_interface(iface: &NetInterface) -> Result<(), ServiceError> {
    let refuse = |reason: String| ServiceError::DhcpInterface { interface: iface.name.clone(), reason };
    let run = |program: &str, args: &[&str]| {
        std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| refuse(format!("cannot tell whether its address is static: {program} did not run: {e}")))
    };
    if cfg!(target_os = "linux") {
        let out = run("ip", &["-o", "-4", "addr", "show", "dev", &iface.name])?;
        let text = String::from_utf8_lossy(&out.stdout);
        let want = format!("inet {}/", iface.ipv4);
        let line = text.lines().find(|l| l.contains(&want)).ok_or_else(|| {
            refuse(format!("{} is not one of its addresses (`ip -4 addr show dev {}`)", iface.ipv4, iface.name))
        })?;
        if line.split_whitespace().any(|w| w == "dynamic") {
            return Err(refuse(format!(
                "its address {} came from a DHCP server (it has a lease): this network has a DHCP server \
                 already. Give the bench interface a static address (e.g. `sudo ip addr add 192.168.50.1/24 dev {}`) \
                 on a switch with nothing but the bench on it",
                iface.ipv4, iface.name
            )));
        }
        Ok(())
    } else if cfg!(windows) {
        let name = format!("name={}", iface.name);
        let out = run("netsh", &["interface", "ipv4", "show", "config", &name])?;
        let text = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
        match text.lines().find(|l| l.contains("dhcp enabled")) {
            Some(l) if l.trim_end().ends_with("no") => Ok(()),
            Some(_) => Err(refuse("its address comes from DHCP (netsh: DHCP enabled): set a static address".into())),
            None => Err(refuse("netsh did not say whether its address comes from DHCP".into())),
        }
    } else {
        // macOS/BSD: `ipconfig getpacket` prints the lease of an interface configured by DHCP.
        let out = run("ipconfig", &["getpacket", &iface.name])?;
        if out.status.success() && !out.stdout.is_empty() {
            Err(refuse("its address comes from DHCP (ipconfig getpacket shows a lease): set a static address".into()))
        } else {
            Ok(())
        }
    }
}

/// What [`prepare`] made: the sockets and the lease book.
pub(super) struct Prepared {
    server: UdpSocket,
    guard: UdpSocket,
    leases: Leases,
}

/// Checks the interface and the range and binds both ports; nothing is sent yet.
pub(super) fn prepare(rt: &tokio::runtime::Runtime, cfg: &BenchDhcpConfig) -> Result<Prepared, ServiceError> {
    let iface = &cfg.interface;
    let refuse = |reason: String| ServiceError::DhcpInterface { interface: iface.name.clone(), reason };
    if !cfg!(any(target_os = "linux", target_os = "android")) {
        // Without SO_BINDTODEVICE a broadcast answer may leave on another
        // interface (the default route's): not until the per-system binding
        // (IP_BOUND_IF on macOS, IP_UNICAST_IF on Windows) is written and tested.
        return Err(refuse(
            "the bench DHCP server runs on Linux only so far: elsewhere it cannot keep its answers on this one \
             interface"
                .into(),
        ));
    }
    check_interface(iface)?;
    let range = match cfg.range {
        Some(r) => r,
        None => leases::default_pool(iface.ipv4, iface.prefix).ok_or_else(|| {
            refuse(format!("its subnet /{} is too small for a pool: give --dhcp-range", iface.prefix))
        })?,
    };
    let leases = Leases::new(range, iface.ipv4, iface.prefix, cfg.lease_time).map_err(refuse)?;
    let _guard = rt.enter();
    let bind = |port: u16| {
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port));
        device_socket(&iface.name, port).and_then(UdpSocket::from_std).map_err(|e| super::bind_error(addr, &e))
    };
    Ok(Prepared { server: bind(cfg.server_port)?, guard: bind(cfg.client_port)?, leases })
}

/// What the running server needs besides its sockets.
pub(super) struct Setup {
    pub(super) cfg: BenchDhcpConfig,
    /// Option 66 (`None`: no file server runs, nothing to point at).
    pub(super) url: Option<String>,
    /// Leases read back from the request log: MAC -> (address, expiry in Unix seconds).
    pub(super) restored: BTreeMap<Mac, (Ipv4Addr, u64)>,
    pub(super) table: Arc<dyn NeighbourTable>,
}

/// Why the server ended.
enum End {
    Cancelled,
    TimeUp,
    Foreign { server: Ipv4Addr },
}

/// Runs the check for another server, then serves until cancelled, timed
/// out, or another server shows up. Emits `Started`/`Failed`/`Stopped` for
/// [`Protocol::Dhcp`] itself (it starts after the check, not at bind).
pub(super) async fn serve(
    done: tokio::sync::mpsc::Sender<()>,
    prepared: Prepared,
    shared: Arc<Shared>,
    setup: Setup,
    cancel: CancellationToken,
) {
    let _done = done;
    let Prepared { server, guard, mut leases } = prepared;
    let cfg = &setup.cfg;
    let own = cfg.interface.ipv4;
    let own_mac = super::dhcp::interface_mac(&cfg.interface);
    let broadcast = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::BROADCAST, cfg.server_port));
    let now = shared.now();
    for (mac, (ip, expires)) in &setup.restored {
        leases.restore(*mac, *ip, UNIX_EPOCH + Duration::from_secs(*expires), shared.is_known(*mac), now);
    }
    let mut gbuf = vec![0u8; 1500];
    // The pool's ARP check runs during the check for other servers: one datagram
    // to each free address now, the neighbour table read when the check ends.
    let mut checked: HashMap<Ipv4Addr, Instant> = HashMap::new();
    let pool = leases.free(now);
    poke(&server, &pool).await;

    // The check: one DISCOVER, and every answer that is not ours within `probe`.
    let send_guard = |g: &UdpSocket| {
        let p = dhcp::request(Kind::Discover, super::dhcp::xid(), own_mac, None);
        let _ = g.try_send_to(&p, broadcast);
    };
    send_guard(&guard);
    let probe_end = tokio::time::Instant::now() + cfg.probe;
    // A DISCOVER every `guard_every` meanwhile: servers that check an address
    // before offering it (dnsmasq pings it for up to 3 s) answer a later one sooner.
    let mut again = tokio::time::interval(cfg.guard_every);
    again.reset();
    let foreign = loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep_until(probe_end) => break None,
            _ = again.tick() => send_guard(&guard),
            r = guard.recv_from(&mut gbuf) => {
                if let Ok((n, from)) = r && let Some(s) = foreign_server(&gbuf[..n], from, own) {
                    break Some(s);
                }
            }
        }
    };
    if let Some(server) = foreign {
        refuse(&shared, &setup, &guard, server).await;
        return;
    }
    mark(&setup, &mut leases, &mut checked, &pool, shared.now()).await;

    let (first, last) = leases.range();
    let local = SocketAddr::V4(SocketAddrV4::new(own, cfg.server_port));
    shared.emit(Event::Started { protocol: Protocol::Dhcp, addr: local, certificate: None });
    let detail = format!(
        "bench DHCP on {} ({}): pool {first}-{last}, {} s leases, answering {}, option 66 = {}; checks for other \
         DHCP servers every {} s; stops by itself in {} min",
        cfg.interface.name,
        own,
        cfg.lease_time.as_secs(),
        match cfg.answer {
            leases::DhcpAnswer::Grandstream => "Grandstream units only",
            leases::DhcpAnswer::Site => "the site's devices only",
            leases::DhcpAnswer::All => "every client",
        },
        setup.url.as_deref().unwrap_or("(none: no file server runs)"),
        cfg.guard_every.as_secs_f32(),
        cfg.stop_after.as_secs() / 60,
    );
    shared.emit(Event::Discovery(DiscoveryEvent::Started {
        task: crate::serving::discovery::DiscoveryTask::Dhcp,
        detail,
    }));

    let stop_at = tokio::time::Instant::now() + cfg.stop_after;
    let mut tick = tokio::time::interval(cfg.guard_every);
    tick.reset(); // the first check was just made
    let mut recheck = tokio::time::interval(RECHECK);
    recheck.reset();
    let mut quiet = Quiet::default();
    let mut buf = vec![0u8; 1500];
    let mut ctx =
        Ctx { shared: &shared, setup: &setup, server: &server, own, own_mac, quiet: &mut quiet, checked: &mut checked };
    let end = loop {
        tokio::select! {
            _ = cancel.cancelled() => break End::Cancelled,
            _ = tokio::time::sleep_until(stop_at) => break End::TimeUp,
            _ = tick.tick() => send_guard(&guard),
            _ = recheck.tick() => {
                // The free addresses again, all at once: DISCOVERs then find them checked.
                let pool = leases.free(shared.now());
                poke(&server, &pool).await;
                tokio::select! {
                    _ = cancel.cancelled() => break End::Cancelled,
                    _ = tokio::time::sleep(cfg.arp_wait) => {}
                }
                mark(&setup, &mut leases, ctx.checked, &pool, shared.now()).await;
            }
            r = guard.recv_from(&mut gbuf) => {
                if let Ok((n, from)) = r && let Some(s) = foreign_server(&gbuf[..n], from, own) {
                    break End::Foreign { server: s };
                }
            }
            r = server.recv_from(&mut buf) => {
                let Ok((n, from)) = r else { continue };
                let bytes = buf[..n].to_vec();
                tokio::select! {
                    _ = cancel.cancelled() => break End::Cancelled,
                    _ = ctx.handle(&bytes, from, &mut leases, &cancel) => {}
                }
            }
        }
    };
    match end {
        End::Cancelled => {}
        End::TimeUp => tracing::info!("the bench DHCP server stopped itself after {:?}", cfg.stop_after),
        End::Foreign { server } => refuse(&shared, &setup, &guard, server).await,
    }
    shared.emit(Event::Stopped { protocol: Protocol::Dhcp });
}

/// Another server's OFFER or ACK on the client port: its address.
fn foreign_server(p: &[u8], from: SocketAddr, own: Ipv4Addr) -> Option<Ipv4Addr> {
    let r = dhcp::parse_reply(p).ok()?;
    if !matches!(r.kind.and_then(Kind::from_code), Some(Kind::Offer | Kind::Ack)) {
        return None;
    }
    let server = r.server.or(match from {
        SocketAddr::V4(a) => Some(*a.ip()),
        SocketAddr::V6(_) => None,
    })?;
    (server != own).then_some(server)
}

/// Says why gsprov's DHCP does not run: the other server, its MAC (the
/// neighbour table, after one datagram makes the OS resolve it), the lines to paste.
async fn refuse(shared: &Shared, setup: &Setup, socket: &UdpSocket, server: Ipv4Addr) {
    let _ = socket.send_to(&[0], SocketAddr::V4(SocketAddrV4::new(server, 9))).await;
    let mac = resolve(setup.table.clone(), server, setup.cfg.arp_wait.max(Duration::from_millis(500)), None).await;
    let error = ServiceError::ForeignDhcp {
        interface: setup.cfg.interface.name.clone(),
        server,
        mac: mac.map(|m| m.colon()),
        url: setup.url.clone(),
    };
    tracing::warn!("{error}");
    shared.emit(Event::Failed { protocol: Protocol::Dhcp, error });
}

/// The MAC the neighbour table has for `ip` (other than `not`), waiting up to `wait` for it.
async fn resolve(table: Arc<dyn NeighbourTable>, ip: Ipv4Addr, wait: Duration, not: Option<Mac>) -> Option<Mac> {
    let deadline = Instant::now() + wait;
    loop {
        let t = table.clone();
        let rows = tokio::task::spawn_blocking(move || t.read()).await.ok().and_then(Result::ok).unwrap_or_default();
        if let Some(n) = rows.iter().find(|n| n.ip == IpAddr::V4(ip) && Some(n.mac) != not) {
            return Some(n.mac);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One datagram to the discard port of each address: the OS resolves them (ARP).
async fn poke(socket: &UdpSocket, ips: &[Ipv4Addr]) {
    for ip in ips {
        let _ = socket.send_to(&[0], SocketAddr::V4(SocketAddrV4::new(*ip, 9))).await;
    }
}

/// After [`poke`]: addresses some host answered for are taken, the others checked free now.
async fn mark(
    setup: &Setup,
    leases: &mut Leases,
    checked: &mut HashMap<Ipv4Addr, Instant>,
    ips: &[Ipv4Addr],
    now: std::time::SystemTime,
) {
    let t = setup.table.clone();
    let rows = tokio::task::spawn_blocking(move || t.read()).await.ok().and_then(Result::ok).unwrap_or_default();
    let at = Instant::now();
    for ip in ips {
        match rows.iter().find(|n| n.ip == IpAddr::V4(*ip)) {
            Some(n) => {
                tracing::info!("bench DHCP: {ip} answers ARP as {}; not offered", n.mac.colon());
                leases.mark_taken(*ip, now);
                checked.remove(ip);
            }
            None => {
                checked.insert(*ip, at);
            }
        }
    }
}

/// Which clients got nothing recently (bounded), and the records of such per second.
#[derive(Default)]
struct Quiet {
    seen: HashMap<Mac, Instant>,
    second: Option<Instant>,
    in_second: u32,
}

impl Quiet {
    /// Whether to record one more message that gets nothing from `mac`.
    fn admit(&mut self, mac: Mac) -> bool {
        let now = Instant::now();
        if self.seen.get(&mac).is_some_and(|at| now.duration_since(*at) < QUIET_EVERY) {
            return false;
        }
        if self.second.is_none_or(|s| now.duration_since(s) >= Duration::from_secs(1)) {
            self.second = Some(now);
            self.in_second = 0;
        }
        if self.in_second >= QUIET_PER_SECOND {
            return false;
        }
        self.in_second += 1;
        if self.seen.len() >= QUIET_MACS {
            self.seen.retain(|_, at| now.duration_since(*at) < QUIET_EVERY);
            if self.seen.len() >= QUIET_MACS {
                self.seen.clear();
            }
        }
        self.seen.insert(mac, now);
        true
    }
}

struct Ctx<'a> {
    shared: &'a Shared,
    setup: &'a Setup,
    server: &'a UdpSocket,
    own: Ipv4Addr,
    own_mac: Mac,
    quiet: &'a mut Quiet,
    /// When each address was last found free.
    checked: &'a mut HashMap<Ipv4Addr, Instant>,
}

impl Ctx<'_> {
    async fn handle(&mut self, bytes: &[u8], from: SocketAddr, leases: &mut Leases, cancel: &CancellationToken) {
        let setup = self.setup;
        let cfg = &setup.cfg;
        let m = match dhcp::parse_request(bytes) {
            Ok(m) => m,
            Err(e) => {
                // Garbage, or another server's packet: recorded at most once a second.
                if let Some(dropped) = self.shared.junk.admit(from.ip(), "dhcp-malformed") {
                    let mut p = self.shared.begin(Protocol::Dhcp, from, "-", "");
                    p.record.outcome = Outcome::Refused { reason: Refusal::Malformed, expected: false };
                    p.record.explanation = format!("ignored: {e}{}", super::Throttle::note(dropped));
                    self.shared.note(p);
                }
                return;
            }
        };
        if m.mac == self.own_mac {
            return; // our own check for other servers
        }
        let known = self.shared.is_known(m.mac);
        let mut p = self.shared.begin(Protocol::Dhcp, from, m.kind.name(), "");
        p.record.mac = Some(m.mac);
        p.record.user_agent = m.vendor_class.clone();
        p.record.model = m.vendor_class.as_deref().and_then(model_in_text);
        let asked = if m.asked.is_empty() {
            "asked for no options".to_string()
        } else {
            format!("asked for options {}", dhcp::codes(&m.asked))
        };
        let who = match &m.vendor_class {
            Some(c) => format!("{} ({c:?})", m.mac.colon()),
            None => m.mac.colon(),
        };
        let quiet = |ctx: &mut Ctx<'_>, mut p: super::request::Pending, reason: Refusal, why: String| {
            if ctx.quiet.admit(m.mac) {
                p.record.outcome = Outcome::Refused { reason, expected: true };
                p.record.explanation = format!("{why}; {asked}");
                ctx.shared.note(p);
            }
        };
        if !m.giaddr.is_unspecified() {
            let why =
                format!("not answered: relayed by {} from another network; the bench serves its own segment", m.giaddr);
            return quiet(self, p, Refusal::Policy, why);
        }
        if let Err(why) = leases::eligible(cfg.answer, m.mac, m.vendor_class.as_deref(), known) {
            return quiet(self, p, Refusal::Policy, why);
        }
        let now = self.shared.now();
        let verdict = if m.kind == Kind::Discover {
            let site_waiting = {
                let served = self.shared.served.read().unwrap_or_else(std::sync::PoisonError::into_inner);
                served.devices().keys().filter(|mac| !leases.holds(**mac, now)).count()
            };
            let mut verdict = Verdict::Silent("no address".into());
            let mut taken = Vec::new();
            for _ in 0..TRIES {
                match leases.candidate(m.mac, m.requested_ip, known, site_waiting, now) {
                    Err(why) => {
                        verdict = Verdict::Silent(why);
                        break;
                    }
                    Ok(ip) => {
                        let busy = tokio::select! {
                            _ = cancel.cancelled() => return,
                            b = self.in_use(ip, m.mac) => b,
                        };
                        match busy {
                            Some(other) => {
                                leases.mark_taken(ip, now);
                                taken.push(format!("{ip} answers ARP as {}", other.colon()));
                            }
                            None => {
                                leases.offer(m.mac, ip, known, now);
                                verdict = Verdict::Offer(ip);
                                break;
                            }
                        }
                    }
                }
            }
            if !taken.is_empty() {
                p.record.path = format!("skipped: {}", taken.join(", "));
            }
            verdict
        } else {
            leases.answer(&m, known, now)
        };
        self.reply(p, &m, verdict, leases, &who, &asked).await;
    }

    /// Whether another host answers for `ip`: the OS resolves it (one datagram
    /// to the discard port), and the neighbour table says who answered.
    async fn in_use(&mut self, ip: Ipv4Addr, client: Mac) -> Option<Mac> {
        if self.checked.get(&ip).is_some_and(|at| at.elapsed() < CHECK_VALID) {
            return None;
        }
        let table = self.setup.table.clone();
        let t = table.clone();
        let rows = tokio::task::spawn_blocking(move || t.read()).await.ok().and_then(Result::ok).unwrap_or_default();
        if let Some(n) = rows.iter().find(|n| n.ip == IpAddr::V4(ip)) {
            return (n.mac != client).then_some(n.mac);
        }
        let _ = self.server.send_to(&[0], SocketAddr::V4(SocketAddrV4::new(ip, 9))).await;
        let found = resolve(table, ip, self.setup.cfg.arp_wait, Some(client)).await;
        if found.is_none() {
            self.checked.insert(ip, Instant::now());
        }
        found
    }

    async fn reply(
        &mut self,
        mut p: super::request::Pending,
        m: &ClientMessage,
        verdict: Verdict,
        leases: &Leases,
        who: &str,
        asked: &str,
    ) {
        let setup = self.setup;
        let cfg = &setup.cfg;
        let seconds = u32::try_from(cfg.lease_time.as_secs()).unwrap_or(u32::MAX);
        let expires = self.shared.now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) + u64::from(seconds);
        let config = self.config_options(leases);
        let (kind, yiaddr, options, why) = match &verdict {
            Verdict::Offer(ip) | Verdict::Ack(Some(ip)) => {
                let mut o = vec![
                    (51, seconds.to_be_bytes().to_vec()),
                    (58, (seconds / 2).to_be_bytes().to_vec()),
                    (59, (seconds / 8 * 7).to_be_bytes().to_vec()),
                ];
                o.extend(config.iter().cloned());
                let kind = if matches!(verdict, Verdict::Offer(_)) { Kind::Offer } else { Kind::Ack };
                p.record.lease = Some(Lease { ip: *ip, seconds, expires, bound: kind == Kind::Ack });
                let what = if kind == Kind::Offer { "offered" } else { "acknowledged" };
                (kind, *ip, o, format!("{what} {ip} to {who} for {seconds} s{}", self.told()))
            }
            Verdict::Ack(None) => {
                (Kind::Ack, Ipv4Addr::UNSPECIFIED, config, format!("answered {who}'s INFORM{}", self.told()))
            }
            Verdict::Nak(why) => {
                (Kind::Nak, Ipv4Addr::UNSPECIFIED, vec![(56, why.clone().into_bytes())], format!("NAK: {why}"))
            }
            Verdict::Silent(why) => {
                let handled = matches!(m.kind, Kind::Release | Kind::Decline);
                if handled {
                    p.record.explanation = format!("{why}; {asked}");
                    self.shared.note(p);
                } else if self.quiet.admit(m.mac) {
                    p.record.outcome = Outcome::Refused { reason: Refusal::NotFound, expected: true };
                    p.record.explanation = format!("not answered: {why}; {asked}");
                    self.shared.note(p);
                }
                return;
            }
        };
        let bytes = dhcp::answer(m, &Answer { kind, yiaddr, server: self.own, options });
        // Broadcast unless the client has its address already (RFC 2131 §4.1): a
        // client without one cannot take unicast, and broadcasting spares an ARP entry.
        let to = if !m.ciaddr.is_unspecified() && kind != Kind::Nak {
            SocketAddr::V4(SocketAddrV4::new(m.ciaddr, cfg.client_port))
        } else {
            SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::BROADCAST, cfg.client_port))
        };
        match self.server.send_to(&bytes, to).await {
            Ok(_) => {
                p.record.status = Wire::None;
                p.record.bytes = bytes.len() as u64;
                p.record.explanation = format!("{why}; {asked}");
                if kind == Kind::Nak {
                    p.record.outcome = Outcome::Refused { reason: Refusal::Policy, expected: true };
                }
            }
            Err(e) => {
                p.record.outcome = Outcome::Refused { reason: Refusal::Busy, expected: false };
                p.record.explanation = format!("could not send the {} to {to}: {e}", kind.name());
            }
        }
        let sighting = (kind == Kind::Ack && yiaddr != Ipv4Addr::UNSPECIFIED).then(|| Sighting {
            time: p.record.time,
            source: Source::Dhcp,
            mac: Some(m.mac),
            ip: Some(IpAddr::V4(yiaddr)),
            model: p.record.model.clone(),
            firmware: None,
            detail: format!("DHCP lease {yiaddr} ({})", m.vendor_class.as_deref().unwrap_or("no vendor class")),
        });
        self.shared.note(p);
        if let Some(s) = sighting {
            self.shared.emit(Event::Discovery(DiscoveryEvent::Seen(s)));
        }
    }

    /// `; option 66 = http://...` for the explanation.
    fn told(&self) -> String {
        match &self.setup.url {
            Some(u) => format!("; option 66 = {u}"),
            None => "; no option 66 (no file server runs)".into(),
        }
    }

    /// Options every address-carrying answer has: mask, then router, DNS, NTP,
    /// time offset only when set, option 66, and 43 and the extra options only when asked for.
    fn config_options(&self, leases: &Leases) -> Vec<(u8, Vec<u8>)> {
        let cfg = &self.setup.cfg;
        let ips = |v: &[Ipv4Addr]| v.iter().flat_map(|i| i.octets()).collect::<Vec<u8>>();
        let mut o = vec![(1, leases.netmask().octets().to_vec())];
        if let Some(r) = cfg.router {
            o.push((3, r.octets().to_vec()));
        }
        if !cfg.dns.is_empty() {
            o.push((6, ips(&cfg.dns)));
        }
        if !cfg.ntp.is_empty() {
            o.push((42, ips(&cfg.ntp)));
        }
        if let Some(off) = cfg.time_offset {
            o.push((2, off.to_be_bytes().to_vec()));
        }
        if let Some(url) = &self.setup.url {
            o.push((66, url.clone().into_bytes()));
        }
        if let Some(v) = &cfg.option43 {
            o.push((43, v.clone()));
        }
        o.extend(cfg.extra.iter().cloned());
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_records_are_bounded_per_mac_and_per_second() {
        let mut q = Quiet::default();
        let m = |n: u32| Mac::from_bytes([2, 0, (n >> 16) as u8, (n >> 8) as u8, n as u8, 1]);
        assert!(q.admit(m(1)));
        assert!(!q.admit(m(1)), "one record per MAC per QUIET_EVERY");
        let admitted = (2..5000).filter(|n| q.admit(m(*n))).count();
        assert_eq!(
            admitted as u32,
            QUIET_PER_SECOND - 1,
            "a flood of random MACs: {QUIET_PER_SECOND} records a second"
        );
        assert!(q.seen.len() <= QUIET_MACS);
    }

    #[test]
    fn another_servers_offer_is_foreign_and_ours_is_not() {
        let own = Ipv4Addr::new(10, 77, 0, 2);
        let m = dhcp::parse_request(&dhcp::request(Kind::Discover, 9, Mac::from_bytes([0, 0x0b, 0x82, 1, 2, 3]), None))
            .unwrap();
        let offer = |server: Ipv4Addr, kind| {
            dhcp::answer(&m, &Answer { kind, yiaddr: Ipv4Addr::new(10, 77, 0, 99), server, options: Vec::new() })
        };
        let from: SocketAddr = "10.77.0.1:67".parse().unwrap();
        assert_eq!(
            foreign_server(&offer(Ipv4Addr::new(10, 77, 0, 1), Kind::Offer), from, own),
            Some(from.ip().to_string().parse().unwrap())
        );
        assert_eq!(
            foreign_server(&offer(Ipv4Addr::new(10, 77, 0, 1), Kind::Ack), from, own),
            Some(Ipv4Addr::new(10, 77, 0, 1))
        );
        assert_eq!(foreign_server(&offer(own, Kind::Offer), from, own), None, "our own broadcast comes back");
        assert_eq!(foreign_server(&offer(Ipv4Addr::new(10, 77, 0, 1), Kind::Nak), from, own), None);
        assert_eq!(foreign_server(b"junk", from, own), None);
    }
}
