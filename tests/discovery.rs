//! Discovery against real peers, each test inside a private network namespace
//! it creates: the test binary runs itself again under `unshare -rn` (a new
//! user and network namespace: only a loopback interface, no route out; as
//! root a plain `unshare -n`), and the body runs there. Tests that need a second host (the neighbour sweep,
//! the DHCP preflight, the "nothing leaves" check) make a second namespace
//! inside the first (`unshare -n`) joined by a veth pair in 10.77.0.0/24.
//!
//! Network rule: the multicast group 224.0.1.75, mDNS and every datagram
//! exist only inside those namespaces; they vanish with the test's processes
//! (a process group the parent kills if a child overruns). Nothing
//! synchronises with sleeps: tests wait on events, child output or sockets,
//! with timeouts. When namespaces cannot be made (no unshare, user namespaces
//! forbidden for a normal user, no CAP_SYS_ADMIN for root), each test fails
//! and says which of those it is (tests/netns/mod.rs).

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use gsprov::event::{
    DhcpConfig, DiscoveryConfig, Event, MdnsConfig, PnpAnswer, PnpConfig, ServeConfig, SitePaths, SweepConfig,
};
use gsprov::formats::sip::{self, Message, StartLine};
use gsprov::generate;
use gsprov::services::{Hooks, Supervisor};
use gsprov::serving::discovery::Discovery;
use gsprov::serving::discovery::{DiscoveryEvent, DiscoveryTask, NetInterface, Option66Verdict, Sighting, Source};
use gsprov::serving::{Interruption, Outcome, Protocol, Refusal, RequestRecord};
use gsprov::site::{Account, Device, Site};

const WAIT: Duration = Duration::from_secs(20);
/// Upper bound for stopping servers or discovery in a test. Their own budgets are under a
/// second by design; a loaded 2-core machine can add seconds of scheduling, so the tests
/// allow 10x that, which still catches a stop that hangs on its tasks or the mDNS daemon.
const STOP_BOUND: Duration = Duration::from_secs(10);
/// The GRP2612W's MAC in the captured SUBSCRIBE (spec §5.2).
const PHONE_MAC: &str = "c074ad112233";
const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 1, 75);

// ---------------------------------------------------------------- namespaces

mod netns;

// ---------------------------------------------------------------- helpers

fn site() -> Site {
    let mut s = Site { name: "pnp".into(), ..Site::default() };
    s.defaults.set("P212", "1");
    let mut d = Device::new(PHONE_MAC.parse().unwrap(), "GRP2612W".parse().unwrap());
    d.label = "Front desk".into();
    d.accounts.push(Account { user_id: "201".into(), password: "sip-201".into(), ..Account::default() });
    s.devices.push(d);
    s
}

fn lo() -> NetInterface {
    NetInterface::new("lo", Ipv4Addr::LOCALHOST, 8)
}

fn gs0() -> NetInterface {
    NetInterface::new("gs0", Ipv4Addr::new(10, 77, 0, 2), 24)
}

/// A supervisor and everything it said.
struct Run {
    sup: Supervisor,
    events: Receiver<Event>,
    seen: Vec<Event>,
}

impl Run {
    fn new() -> Run {
        let (sup, events) = Supervisor::new(Hooks::default()).unwrap();
        Run { sup, events, seen: Vec::new() }
    }

    /// Waits for the first event (new or already seen) that `pick` accepts.
    fn wait<T>(&mut self, what: &str, pick: impl Fn(&Event) -> Option<T>) -> T {
        if let Some(t) = self.seen.iter().find_map(&pick) {
            return t;
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = self.events.recv_timeout(left).unwrap_or_else(|_| panic!("no {what}; saw {:#?}", self.seen));
            let got = pick(&ev);
            self.seen.push(ev);
            if let Some(t) = got {
                return t;
            }
        }
    }

    fn record(&mut self, what: &str, pred: impl Fn(&RequestRecord) -> bool) -> RequestRecord {
        self.wait(what, |e| match e {
            Event::Completed(r) if pred(r) => Some(r.clone()),
            _ => None,
        })
    }

    fn sighting(&mut self, what: &str, pred: impl Fn(&Sighting) -> bool) -> Sighting {
        self.wait(what, |e| match e {
            Event::Discovery(DiscoveryEvent::Seen(s)) if pred(s) => Some(s.clone()),
            _ => None,
        })
    }

    /// Forgets what was seen (before starting something that says the same again).
    fn forget(&mut self) {
        self.drain();
        self.seen.clear();
    }

    fn drain(&mut self) {
        while let Ok(ev) = self.events.try_recv() {
            self.seen.push(ev);
        }
    }
}

/// The captured GRP2612W SUBSCRIBE (spec §5.2), sent from `from` with this Call-ID.
fn subscribe(from: SocketAddr, call_id: &str, mac: &str, vendor: &str) -> Vec<u8> {
    format!(
        "SUBSCRIBE sip:MAC%3A{M}@224.0.1.75 SIP/2.0\r\n\
Via: SIP/2.0/UDP {from};branch=z9hG4bK1611133778;rport\r\n\
From: <sip:MAC%3A{M}@224.0.1.75>;tag=395400190\r\n\
To: <sip:MAC%3A{M}@224.0.1.75>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 20000 SUBSCRIBE\r\n\
Contact: <sip:{from}>\r\n\
Max-Forwards: 70\r\n\
User-Agent: {vendor} GRP2612W 1.0.5.67\r\n\
Expires: 0\r\n\
Supported: replaces, path\r\n\
Event: ua-profile;profile-type=\"device\";vendor=\"{vendor}\";model=\"GRP2612W\";version=\"1.0.5.67\"\r\n\
Accept: application/url\r\n\
Allow: INVITE, ACK, OPTIONS, CANCEL, BYE, SUBSCRIBE, NOTIFY, INFO, REFER, UPDATE, MESSAGE\r\n\
Content-Length: 0\r\n\r\n",
        M = mac.to_ascii_uppercase()
    )
    .into_bytes()
}

/// A simulated phone: a UDP socket on 127.0.0.1.
struct Phone {
    sock: UdpSocket,
}

impl Phone {
    fn new() -> Phone {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(WAIT)).unwrap();
        Phone { sock }
    }

    fn addr(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    fn multicast(&self, bytes: &[u8], port: u16) {
        self.sock.send_to(bytes, SocketAddr::from((GROUP, port))).unwrap();
    }

    fn recv(&self) -> (Message, SocketAddr, Vec<u8>) {
        let mut buf = [0u8; 4096];
        let (n, from) = self.sock.recv_from(&mut buf).expect("a SIP message for the phone");
        (sip::parse(&buf[..n]).expect("the responder sends SIP"), from, buf[..n].to_vec())
    }

    /// Nothing arrives within `d`.
    fn silent_for(&self, d: Duration) -> bool {
        self.sock.set_read_timeout(Some(d)).unwrap();
        let mut buf = [0u8; 4096];
        let quiet = self.sock.recv_from(&mut buf).is_err();
        self.sock.set_read_timeout(Some(WAIT)).unwrap();
        quiet
    }

    /// Answers a NOTIFY with 200 OK, as the unit does.
    fn ok(&self, notify: &Message, to: SocketAddr) {
        let mut s = String::from("SIP/2.0 200 OK\r\n");
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            s.push_str(&format!("{name}: {}\r\n", notify.header(name).unwrap()));
        }
        s.push_str("Content-Length: 0\r\n\r\n");
        self.sock.send_to(s.as_bytes(), to).unwrap();
    }
}

fn is_notify(m: &Message) -> bool {
    matches!(&m.start, StartLine::Request { method, .. } if method == "NOTIFY")
}

/// A site served over HTTP on 127.0.0.1 with the PnP responder on `pnp_port`.
fn serve_with_pnp(run: &mut Run, pnp_port: u16, t1: Duration, answer: PnpAnswer) -> (SocketAddr, generate::Output) {
    run.forget();
    let s = site();
    let output = generate::generate(&s, &mut || [7; 8]).unwrap();
    let mut config = ServeConfig::from_site(&s, &output, SitePaths::default()).unwrap();
    config.bind = "127.0.0.1".parse().unwrap();
    config.tftp_port = None;
    config.http_port = Some(0);
    config.https_port = None;
    config.pnp = Some(PnpConfig { port: pnp_port, t1, answer, ..PnpConfig::new(Ipv4Addr::LOCALHOST) });
    let results = run.sup.start(config);
    assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
    let http = run.wait("HTTP started", |e| match e {
        Event::Started { protocol: Protocol::Http, addr, .. } => Some(*addr),
        _ => None,
    });
    let sip = run.wait("SIP started", |e| match e {
        Event::Started { protocol: Protocol::Sip, addr, .. } => Some(*addr),
        _ => None,
    });
    assert_eq!(sip, SocketAddr::from((Ipv4Addr::LOCALHOST, pnp_port)));
    (http, output)
}

// ---------------------------------------------------------------- PnP

#[test]
fn pnp_answers_the_grp2612w_subscribe_and_the_phone_fetches_its_config() {
    if netns::enter("pnp_answers_the_grp2612w_subscribe_and_the_phone_fetches_its_config").is_none() {
        return;
    }
    let mut run = Run::new();
    let (http, output) = serve_with_pnp(&mut run, 5060, Duration::from_millis(500), PnpAnswer::All);
    let url = format!("http://127.0.0.1:{}/", http.port());
    let detail = run.wait("the responder's description", |e| match e {
        Event::Discovery(DiscoveryEvent::Started { task: DiscoveryTask::Pnp, detail }) => Some(detail.clone()),
        _ => None,
    });
    assert!(detail.contains(&url), "{detail}");

    // Garbage first: logged, ignored, and the responder goes on.
    let junk = Phone::new();
    junk.multicast(b"\xff\xfe\x00 not sip at all", 5060);
    let r = run.record("the garbage record", |r| r.protocol == Protocol::Sip && r.method == "-");
    assert_eq!(r.outcome, Outcome::Refused { reason: Refusal::Malformed, expected: false });
    assert!(r.explanation.contains("not SIP"), "{}", r.explanation);
    assert!(junk.silent_for(Duration::from_millis(200)), "garbage must not be answered");

    // The real SUBSCRIBE, to 224.0.1.75:5060 like a booting unit.
    let phone = Phone::new();
    let call_id = "490431573-5080-1@BJC.BGI.IG.DA";
    phone.multicast(&subscribe(phone.addr(), call_id, PHONE_MAC, "Grandstream"), 5060);
    let (ok, from, _) = phone.recv();
    assert_eq!(ok.start, StartLine::Response { code: 200, reason: "OK".into() });
    assert_eq!(ok.header("Call-ID"), Some(call_id));
    assert_eq!(ok.cseq(), Some((20000, "SUBSCRIBE".into())));
    assert!(sip::param(ok.header("To").unwrap(), "tag").is_some());
    assert_eq!(from.port(), 5060, "answered from the PnP port");

    let (notify, from, _) = phone.recv();
    assert!(is_notify(&notify), "{notify:?}");
    assert_eq!(notify.header("Event"), Some("ua-profile"));
    assert_eq!(notify.header("Content-Type"), Some("application/url"));
    assert_eq!(notify.header("Call-ID"), Some(call_id));
    assert_eq!(notify.body, format!("{url}\r\n").into_bytes());
    phone.ok(&notify, from);

    let rec = run.record("the SUBSCRIBE record", |r| r.protocol == Protocol::Sip && r.method == "SUBSCRIBE");
    assert_eq!(rec.outcome, Outcome::Served, "{}", rec.explanation);
    assert_eq!((rec.status, rec.mac.unwrap().to_string().as_str()), (gsprov::serving::Wire::Sip(200), PHONE_MAC));
    assert_eq!(rec.model.as_ref().unwrap().as_str(), "GRP2612W");
    assert_eq!(rec.firmware.as_deref(), Some("1.0.5.67"));
    assert!(rec.explanation.contains(&url) && rec.explanation.contains("acknowledged"), "{}", rec.explanation);
    let seen = run.sighting("the PnP sighting", |s| s.source == Source::Pnp);
    assert_eq!(seen.mac.unwrap().to_string(), PHONE_MAC);
    assert_eq!(seen.ip, Some(phone.addr().ip()));

    // The unit then fetches its config from that URL.
    let name = format!("cfg{PHONE_MAC}.xml");
    let o = Command::new("curl")
        .args(["-sS", "-f", "--max-time", "20", "-A"])
        .arg(format!("Grandstream Model HW GRP2612W SW 1.0.5.67 DevId {PHONE_MAC}"))
        .arg(format!("{url}{name}"))
        .output()
        .expect("curl is installed (.ci/run)");
    assert!(o.status.success(), "curl: {}", String::from_utf8_lossy(&o.stderr));
    let want = output.files.iter().find(|f| f.name == name).unwrap();
    assert_eq!(o.stdout, want.bytes.to_vec());
    run.record("the HTTP record", |r| r.protocol == Protocol::Http && r.outcome == Outcome::Served);

    // One merged entry: PnP and the request, known to the site.
    let mut list =
        Discovery::with_known(&ServeConfig::from_site(&site(), &output, SitePaths::default()).unwrap().served);
    for e in &run.seen {
        e.fold_discovery(&mut list);
    }
    let d = list.device(PHONE_MAC.parse().unwrap()).unwrap();
    assert_eq!(d.how_seen(), "PnP, request");
    assert!(d.known && d.label == "Front desk");

    // Whatever starts must stop: the PnP port is free again at once.
    let t0 = Instant::now();
    run.sup.stop();
    assert!(t0.elapsed() < STOP_BOUND, "stop took {:?}", t0.elapsed());
    run.wait("SIP stopped", |e| matches!(e, Event::Stopped { protocol: Protocol::Sip }).then_some(()));
    drop(UdpSocket::bind("0.0.0.0:5060").expect("port 5060 free after stop"));
}

/// Issue 11 item 9: a flood of SUBSCRIBEs must not lock real units out, and a
/// Contact naming a third address must not turn the responder into a reflector.
#[test]
fn pnp_survives_a_subscribe_flood_and_never_notifies_a_third_address() {
    if netns::enter("pnp_survives_a_subscribe_flood_and_never_notifies_a_third_address").is_none() {
        return;
    }
    let mut run = Run::new();
    serve_with_pnp(&mut run, 5060, Duration::from_millis(500), PnpAnswer::All);
    let pnp = SocketAddr::from((Ipv4Addr::LOCALHOST, 5060));
    // 6,000 SUBSCRIBEs, each a new exchange (another vendor: refused, remembered 40 s).
    let flood = UdpSocket::bind("127.0.0.1:0").unwrap();
    let t0 = Instant::now();
    for i in 0..6000 {
        flood
            .send_to(&subscribe(flood.local_addr().unwrap(), &format!("flood-{i}"), "001565000001", "Yealink"), pnp)
            .unwrap();
        if i % 200 == 199 {
            // Let the responder keep up (loopback drops what a full socket buffer cannot hold).
            #[expect(clippy::disallowed_methods, reason = "pacing a flood, not synchronising")]
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let flood_time = t0.elapsed();
    // A real unit is still answered, and only at its own address.
    let phone = Phone::new();
    let witness = UdpSocket::bind("127.0.0.9:0").unwrap();
    let third = witness.local_addr().unwrap();
    let msg = String::from_utf8(subscribe(phone.addr(), "real-1@x", PHONE_MAC, "Grandstream"))
        .unwrap()
        .replace(&format!("Contact: <sip:{}>", phone.addr()), &format!("Contact: <sip:{third}>"));
    // Like a real unit (RFC 3261 timer E: 500 ms, doubling to 4 s), it sends
    // again until answered: a datagram sent while the responder's socket buffer
    // is still full of the flood is lost on loopback as on a LAN.
    let t1 = Instant::now();
    let mut sends = 0;
    let mut wait = Duration::from_millis(500);
    let ok = loop {
        phone.sock.send_to(msg.as_bytes(), pnp).unwrap();
        sends += 1;
        phone.sock.set_read_timeout(Some(wait)).unwrap();
        let mut buf = [0u8; 4096];
        if let Ok((n, _)) = phone.sock.recv_from(&mut buf) {
            break sip::parse(&buf[..n]).expect("the responder sends SIP");
        }
        assert!(
            t1.elapsed() < Duration::from_secs(10),
            "no answer in 10 s ({sends} sends) after a {flood_time:?} flood"
        );
        wait = (wait * 2).min(Duration::from_secs(4));
    };
    phone.sock.set_read_timeout(Some(WAIT)).unwrap();
    assert_eq!(ok.start, StartLine::Response { code: 200, reason: "OK".into() }, "after a {flood_time:?} flood");
    let (notify, from, _) = loop {
        let m = phone.recv();
        // A retransmitted SUBSCRIBE gets the same 200 again.
        if is_notify(&m.0) {
            break m;
        }
        assert_eq!(m.0.start, ok.start, "only the 200 again or the NOTIFY: {:?}", m.0);
    };
    eprintln!("answered {:?} after the flood ({sends} sends, flood took {flood_time:?})", t1.elapsed());
    phone.ok(&notify, from);
    witness.set_read_timeout(Some(Duration::from_millis(1500))).unwrap();
    let mut buf = [0u8; 2048];
    assert!(witness.recv_from(&mut buf).is_err(), "nothing is sent to the third address named in Contact");
    let rec = run.record("the real unit's record", |r| r.mac.is_some_and(|m| m.to_string() == PHONE_MAC));
    assert_eq!(rec.outcome, Outcome::Served, "{}", rec.explanation);
    run.sup.stop();
}

#[test]
fn pnp_notify_is_retransmitted_until_the_200_and_given_up_on_silence() {
    if netns::enter("pnp_notify_is_retransmitted_until_the_200_and_given_up_on_silence").is_none() {
        return;
    }
    let t1 = Duration::from_millis(100);
    let mut run = Run::new();
    serve_with_pnp(&mut run, 5060, t1, PnpAnswer::All);

    // The phone stays silent after the first NOTIFY: it comes again, same transaction.
    let phone = Phone::new();
    phone.multicast(&subscribe(phone.addr(), "retry-1", PHONE_MAC, "Grandstream"), 5060);
    let (ok, _, _) = phone.recv();
    assert!(matches!(ok.start, StartLine::Response { code: 200, .. }));
    let (first, _, first_bytes) = phone.recv();
    let (second, from, second_bytes) = phone.recv();
    assert!(is_notify(&first) && is_notify(&second));
    assert_eq!(first.header("Call-ID"), second.header("Call-ID"));
    assert_eq!(first.cseq(), second.cseq());
    assert_eq!(first_bytes, second_bytes, "a retransmission is the same message");
    // A retransmitted SUBSCRIBE gets the same 200 again, not a second exchange.
    phone.multicast(&subscribe(phone.addr(), "retry-1", PHONE_MAC, "Grandstream"), 5060);
    let again = loop {
        let (m, _, _) = phone.recv();
        if !is_notify(&m) {
            break m;
        }
    };
    assert_eq!(again.header("To"), ok.header("To"));
    phone.ok(&second, from);
    let rec = run.record("the acknowledged exchange", |r| r.protocol == Protocol::Sip && r.method == "SUBSCRIBE");
    assert_eq!(rec.outcome, Outcome::Served, "{}", rec.explanation);
    // Whatever was sent before the exchange ended is queued by now (loopback
    // delivers on send); after it, nothing more, although the next
    // retransmission would have been due within 16·T1.
    phone.sock.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 4096];
    while phone.sock.recv_from(&mut buf).is_ok() {}
    phone.sock.set_nonblocking(false).unwrap();
    assert!(phone.silent_for(t1 * 20), "NOTIFYs keep coming after the 200");

    // A unit that never answers: 7 sends over 64·T1, then the exchange is given up.
    let mute = Phone::new();
    mute.multicast(&subscribe(mute.addr(), "mute-1", "c074ad000002", "Grandstream"), 5060);
    let rec = run.record("the given-up exchange", |r| {
        r.protocol == Protocol::Sip && r.mac.map(|m| m.to_string()).as_deref() == Some("c074ad000002")
    });
    assert_eq!(rec.outcome, Outcome::Interrupted { reason: Interruption::TimedOut }, "{}", rec.explanation);
    let mut notifies = 0;
    while !mute.silent_for(Duration::from_millis(10)) {
        notifies += 1;
    }
    assert_eq!(notifies, 1 + 7, "the 200 OK and 7 NOTIFYs");

    // Another vendor's phone and a listen-only responder: seen, logged, never answered.
    let other = Phone::new();
    other.multicast(&subscribe(other.addr(), "yealink-1", "001565000001", "Yealink"), 5060);
    let rec = run.record("the other vendor's record", |r| {
        r.protocol == Protocol::Sip && r.mac.map(|m| m.to_string()).as_deref() == Some("001565000001")
    });
    assert_eq!(rec.outcome, Outcome::Refused { reason: Refusal::Policy, expected: true });
    assert!(other.silent_for(Duration::from_millis(10)), "the record comes after any answer would have gone");

    run.sup.stop();
    serve_with_pnp(&mut run, 5061, t1, PnpAnswer::Nobody);
    let quiet = Phone::new();
    quiet.multicast(&subscribe(quiet.addr(), "quiet-1", PHONE_MAC, "Grandstream"), 5061);
    let rec = run.record("the listen-only record", |r| {
        r.protocol == Protocol::Sip && r.path.contains("C074AD112233") && r.outcome != Outcome::Served
    });
    assert!(rec.explanation.contains("listening only"), "{}", rec.explanation);
    assert!(quiet.silent_for(Duration::from_millis(10)));
    run.sighting("the listen-only sighting", |s| s.source == Source::Pnp);
    run.sup.stop();
}

// ---------------------------------------------------------------- mDNS

#[test]
fn mdns_finds_an_announced_grandstream_service_with_model_and_mac() {
    if netns::enter("mdns_finds_an_announced_grandstream_service_with_model_and_mac").is_none() {
        return;
    }
    // A fake unit announcing itself (mdns-sd's responder), and a printer.
    let fake = mdns_sd::ServiceDaemon::new().unwrap();
    let unit = mdns_sd::ServiceInfo::new(
        "_http._tcp.local.",
        "GXP2170_000B82A1B201",
        "gxp2170-000b82a1b201.local.",
        "127.0.0.1",
        80,
        &[("model", "GXP2170"), ("fw", "1.0.11.3")][..],
    )
    .unwrap();
    let printer = mdns_sd::ServiceInfo::new(
        "_http._tcp.local.",
        "Office printer",
        "printer.local.",
        "127.0.0.1",
        631,
        &[("ty", "HL-2270DW")][..],
    )
    .unwrap();
    fake.register(unit).unwrap();
    fake.register(printer).unwrap();

    let mut run = Run::new();
    let mut config = DiscoveryConfig::new(lo());
    config.neighbours = None;
    config.mdns = Some(MdnsConfig::default());
    run.sup.start_discovery(config);
    run.wait("mDNS started", |e| {
        matches!(e, Event::Discovery(DiscoveryEvent::Started { task: DiscoveryTask::Mdns, .. })).then_some(())
    });
    let s = run.sighting("the fake unit", |s| s.source == Source::Mdns);
    assert_eq!(s.mac.unwrap().to_string(), "000b82a1b201");
    assert_eq!(s.model.unwrap().as_str(), "GXP2170");
    assert_eq!(s.firmware.as_deref(), Some("1.0.11.3"));
    assert_eq!(s.ip, Some("127.0.0.1".parse().unwrap()));

    let t0 = Instant::now();
    run.sup.stop_discovery();
    assert!(t0.elapsed() < STOP_BOUND, "stop took {:?}", t0.elapsed());
    run.wait("mDNS stopped", |e| {
        matches!(e, Event::Discovery(DiscoveryEvent::Stopped { task: DiscoveryTask::Mdns })).then_some(())
    });
    run.drain();
    let printers = run
        .seen
        .iter()
        .filter(|e| matches!(e, Event::Discovery(DiscoveryEvent::Seen(s)) if s.detail.contains("printer")))
        .count();
    assert_eq!(printers, 0, "only Grandstream units are reported");
    let _ = fake.shutdown();
}

// ---------------------------------------------------------------- neighbours

#[test]
fn the_sweep_fills_the_neighbour_table_and_grandstream_ouis_are_flagged() {
    if netns::enter("the_sweep_fills_the_neighbour_table_and_grandstream_ouis_are_flagged").is_none() {
        return;
    }
    let _peer = netns::Peer::new("00:0b:82:00:00:01");
    let mut run = Run::new();
    let mut config = DiscoveryConfig::new(gs0());
    config.mdns = None;
    config.neighbours = Some(Duration::from_millis(200));
    config.sweep = Some(SweepConfig { network: Ipv4Addr::new(10, 77, 0, 0), prefix: 29, rate: 200, port: 9 });
    run.sup.start_discovery(config);
    let probed = run.wait("the sweep's end", |e| match e {
        Event::Discovery(DiscoveryEvent::SweepFinished { probed }) => Some(*probed),
        _ => None,
    });
    assert_eq!(probed, 5, "10.77.0.1..6 without our own .2");
    let s = run.sighting("the peer in the neighbour table", |s| s.source == Source::Neighbour);
    assert_eq!(s.mac.unwrap().to_string(), "000b82000001");
    assert_eq!(s.ip, Some("10.77.0.1".parse().unwrap()));

    // A sweep larger than a /24 is refused before anything is sent.
    let mut big = DiscoveryConfig::new(gs0());
    big.mdns = None;
    big.neighbours = None;
    big.sweep = Some(SweepConfig { network: Ipv4Addr::new(10, 77, 0, 0), prefix: 16, rate: 200, port: 9 });
    run.sup.start_discovery(big);
    let error = run.wait("the refusal", |e| match e {
        Event::Discovery(DiscoveryEvent::Failed { task: DiscoveryTask::Sweep, error }) => Some(error.clone()),
        _ => None,
    });
    assert!(error.contains("/24"), "{error}");
    run.sup.stop_discovery();
}

// ---------------------------------------------------------------- DHCP

#[test]
fn dhcp_preflight_reads_option_66_from_dnsmasq() {
    // Never a silent pass, in CI or not (as the namespace tests do).
    let has_dnsmasq = Command::new("sh").args(["-c", "command -v dnsmasq"]).output().is_ok_and(|o| o.status.success());
    assert!(
        has_dnsmasq,
        "this test needs dnsmasq as the DHCP server: `apt install dnsmasq-base` (.ci/run installs it)"
    );
    if netns::enter("dhcp_preflight_reads_option_66_from_dnsmasq").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut peer = netns::Peer::new("02:00:00:00:00:01");
    let mut c = peer.command(&format!(
        "exec dnsmasq --no-daemon --conf-file=/dev/null --user=root --group=root --port=0 --log-facility=- \
         --interface=gs1 --bind-interfaces --dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h \
         --dhcp-option=66,\"http://10.77.0.9:8080/\" --dhcp-option=150,10.77.0.3 \
         --dhcp-leasefile={}/leases --pid-file=",
        dir.path().display()
    ));
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    let dnsmasq = peer.start(c);
    let (tx, ready) = std::sync::mpsc::channel();
    let err = dnsmasq.stderr.take().unwrap();
    std::thread::Builder::new()
        .name("dnsmasq stderr".into())
        .spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if line.contains("DHCP, sockets bound") || line.contains("DHCP, IP range") {
                    let _ = tx.send(());
                }
            }
        })
        .unwrap();
    ready.recv_timeout(WAIT).expect("dnsmasq is ready");

    let mut run = Run::new();
    let mut config = DiscoveryConfig::new(gs0());
    config.mdns = None;
    config.neighbours = None;
    config.dhcp = Some(DhcpConfig { timeout: Duration::from_secs(10), ..DhcpConfig::default() });
    config.url = Some("http://10.77.0.2:8080/".into());
    run.sup.start_discovery(config);
    let r = run.wait("the DHCP report", |e| match e {
        Event::Discovery(DiscoveryEvent::Dhcp(r)) => Some(r.clone()),
        Event::Discovery(DiscoveryEvent::Failed { error, .. }) => panic!("{error}"),
        _ => None,
    });
    assert_eq!(r.server, Some(Ipv4Addr::new(10, 77, 0, 1)));
    assert!(r.offered.is_some_and(|ip| ip.octets()[3] >= 100), "{r:?}");
    assert_eq!(r.option66.as_deref(), Some("http://10.77.0.9:8080/"));
    assert_eq!(r.option150, vec![Ipv4Addr::new(10, 77, 0, 3)]);
    assert_eq!(r.verdict, Option66Verdict::Differs);
    assert!(
        r.snippets.iter().any(|(k, v)| k.starts_with("dnsmasq") && v == "dhcp-option=66,\"http://10.77.0.2:8080/\"")
    );
    run.sup.stop_discovery();
}

// ---------------------------------------------------------------- the binary

fn gsprov() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gsprov"))
}

/// Packets sent on `iface`, from /proc/net/dev (this namespace's; /sys shows the host's).
fn tx_packets(iface: &str) -> u64 {
    let dev = std::fs::read_to_string("/proc/net/dev").unwrap();
    let line = dev.lines().find(|l| l.trim_start().starts_with(&format!("{iface}:"))).expect("the interface");
    let fields: Vec<&str> = line.split(':').nth(1).unwrap().split_whitespace().collect();
    fields[9].parse().unwrap()
}

#[test]
fn discover_lists_devices_and_sends_nothing_beyond_the_chosen_interface() {
    if netns::enter("discover_lists_devices_and_sends_nothing_beyond_the_chosen_interface").is_none() {
        return;
    }
    let _peer = netns::Peer::new("00:0b:82:00:00:09");
    // By construction: loopback and the test's own veth, no route out.
    let links = Command::new("ip").args(["-o", "link"]).output().unwrap();
    let links = String::from_utf8_lossy(&links.stdout).into_owned();
    assert_eq!(links.lines().count(), 2, "{links}");
    let routes = Command::new("ip").args(["-4", "route", "show", "table", "all"]).output().unwrap();
    let routes = String::from_utf8_lossy(&routes.stdout).into_owned();
    assert!(!routes.contains("default"), "{routes}");

    // A phone that boots while discover listens (discover only listens to PnP).
    let dir = tempfile::tempdir().unwrap();
    let site_path = dir.path().join("office.gsprov.toml");
    gsprov_ok(&["new", site_path.to_str().unwrap(), "--demo"]);
    let before = tx_packets("gs0");
    let mut child = gsprov()
        .args(["discover", "--seconds", "3", "--json", "--no-mdns", "--interface", "lo", "--site"])
        .arg(&site_path)
        .arg("--adopt")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Progress goes to stderr: wait until the PnP listener is there.
    // (mDNS off here: see the end of the test.)
    let (tx, listening) = std::sync::mpsc::channel();
    let err = child.stderr.take().unwrap();
    let stderr = std::thread::Builder::new()
        .name("discover stderr".into())
        .spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if line.starts_with("PnP responder: listening") {
                    let _ = tx.send(());
                }
                all.push_str(&line);
                all.push('\n');
            }
            all
        })
        .unwrap();
    listening.recv_timeout(WAIT).expect("discover listens for PnP");
    let phone = Phone::new();
    phone.multicast(&subscribe(phone.addr(), "boot-1", PHONE_MAC, "Grandstream"), 5060);
    let out = child.wait_with_output().unwrap();
    let err = stderr.join().unwrap();
    assert!(out.status.success(), "{err}");
    assert!(err.contains("seen by PnP: c074ad112233 GRP2612W 1.0.5.67"), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["interface"]["name"], "lo");
    let devices = v["devices"].as_array().unwrap();
    let d = devices.iter().find(|d| d["mac"] == PHONE_MAC).unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(d["model"], "GRP2612W");
    assert_eq!(d["known"], false);
    assert_eq!(d["sources"][0], "pnp");
    assert!(phone.silent_for(Duration::from_millis(10)), "discover never answers");
    assert_eq!(v["adopted"][0], PHONE_MAC);
    let saved = std::fs::read_to_string(&site_path).unwrap();
    assert!(saved.contains(PHONE_MAC) && saved.contains("GRP2612W"), "{saved}");
    // Nothing left through gs0: no sweep, no DHCP, PnP and the neighbour table on lo only.
    assert_eq!(tx_packets("gs0"), before, "discover sent on an interface it was not given");

    // With mDNS: mdns-sd joins the mDNS group on every interface when it
    // starts (the kernel sends IGMP membership reports, two per join and two
    // per leave, as for avahi); its queries go to the chosen interface only.
    let before = tx_packets("gs0");
    gsprov_ok(&["discover", "--seconds", "1", "--json", "--no-pnp", "--interface", "lo"]);
    let igmp = tx_packets("gs0") - before;
    assert!(igmp <= 4, "{igmp} packets on gs0: more than IGMP membership reports");
}

fn gsprov_ok(args: &[&str]) -> String {
    let o = gsprov().args(args).output().unwrap();
    assert!(o.status.success(), "gsprov {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn serve_with_pnp_hands_out_its_url() {
    if netns::enter("serve_with_pnp_hands_out_its_url").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let site_path = dir.path().join("office.gsprov.toml");
    gsprov_ok(&["new", site_path.to_str().unwrap(), "--demo"]);
    let mut child = gsprov()
        .arg("serve")
        .arg(&site_path)
        .args(["--bind", "127.0.0.1", "--http-port", "18080", "--no-tftp", "--no-https", "--pnp", "--interface", "lo"])
        .args(["--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut next = move || -> serde_json::Value {
        let l = lines.next().expect("a line").unwrap();
        serde_json::from_str(&l).unwrap_or_else(|e| panic!("{l}: {e}"))
    };
    loop {
        let v = next();
        if v["event"] == "started" && v["protocol"] == "sip" {
            assert_eq!(v["addr"], "127.0.0.1:5060");
            break;
        }
    }
    let phone = Phone::new();
    phone.multicast(&subscribe(phone.addr(), "cli-1", "c074ada1b203", "Grandstream"), 5060);
    let (ok, _, _) = phone.recv();
    assert!(matches!(ok.start, StartLine::Response { code: 200, .. }));
    let (notify, from, _) = phone.recv();
    assert_eq!(notify.body, b"http://127.0.0.1:18080/\r\n");
    phone.ok(&notify, from);
    loop {
        let v = next();
        if v["event"] == "request" && v["protocol"] == "sip" {
            assert_eq!(v["result"], "served", "{v}");
            assert_eq!(v["mac"], "c074ada1b203");
            break;
        }
    }
    let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    let status = child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn without_a_namespace_discovery_runs_nothing_active() {
    // Safe in the host namespace: the defaults neither sweep nor send DHCP,
    // and nothing here is started.
    let c = DiscoveryConfig::new(lo());
    assert!(c.sweep.is_none() && c.dhcp.is_none());
    assert_eq!(PnpConfig::new(Ipv4Addr::LOCALHOST).group, GROUP);
}
