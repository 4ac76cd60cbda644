//! 200 phones booting at once (issue #3: "200 concurrent phones p99 < 50 ms").
//!
//! Starts the real [`Supervisor`] in-process on 127.0.0.1 (ports chosen by the
//! system, request log on, HTTPS off), with a site of `PHONES` GXP2170s made in
//! memory, then releases one thread per phone at the same instant (a barrier:
//! the power comes back after an outage). Each phone has its own address
//! (phone i sends from 127.0.1.i+1, as real phones would: the servers limit
//! transfers per address). Each phone does what a device does
//! after boot: `GET /cfg<mac>.xml` over HTTP with its Grandstream User-Agent on
//! a fresh connection (`Connection: close`, devices do not keep connections),
//! then a TFTP RRQ for the same file with no options (512-byte blocks, lock
//! step: the slowest case RFC 1350 allows). Latency is measured per request,
//! from connect (HTTP) or RRQ (TFTP) to the last byte; the bytes are compared
//! with what the site generated.
//!
//! A benchmark reports, it asserts nothing; the servers are stopped at the end
//! (and the stop time printed). Knobs (environment): `PHONES` (200), `ROUNDS`
//! (5 bursts), `TFTP_BLKSIZE` (unset: no options).
//!
//! ```sh
//! cargo bench --bench phones
//! ```

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use gsprov::event::{Event, ServeConfig, SitePaths};
use gsprov::formats::tftp::{Mode, Packet, Request};
use gsprov::generate;
use gsprov::services::{Hooks, Supervisor};
use gsprov::serving::Protocol;
use gsprov::site::Site;

#[path = "../tests/support/desks.rs"]
mod desks;
use desks::mac;

/// A phone gives up on one request after this long (reported as an error).
const GIVE_UP: Duration = Duration::from_secs(10);
/// TFTP retransmission time of the simulated phone.
const RETRY: Duration = Duration::from_secs(1);

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn site(n: usize) -> Site {
    desks::desks("phones bench", n, |_| "GXP2170")
}

/// One request's result.
struct Sample {
    protocol: Protocol,
    latency: Duration,
    ok: bool,
    retries: u32,
}

/// Phone `i`'s own loopback address (127.0.1.1 for the first, 250 a /24).
fn phone_address(i: usize) -> SocketAddr {
    let (hi, lo) = (i / 250, i % 250);
    let third = u8::try_from(1 + hi).expect("at most 63,750 phones");
    SocketAddr::from((Ipv4Addr::new(127, 0, third, lo as u8 + 1), 0))
}

fn http_fetch(addr: SocketAddr, i: usize, want: &[u8]) -> Sample {
    let m = mac(i);
    let started = Instant::now();
    let result = (|| -> std::io::Result<bool> {
        let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
        sock.bind(&phone_address(i).into())?;
        sock.connect_timeout(&addr.into(), GIVE_UP)?;
        let mut s: TcpStream = sock.into();
        s.set_read_timeout(Some(GIVE_UP))?;
        let req = format!(
            "GET /cfg{m}.xml HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: Grandstream Model HW GXP2170 SW 1.0.11.3 DevId \
             {m}\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes())?;
        let mut out = Vec::with_capacity(want.len() + 512);
        s.read_to_end(&mut out)?;
        let ok = out.starts_with(b"HTTP/1.1 200 ")
            && out.windows(4).position(|w| w == b"\r\n\r\n").is_some_and(|h| &out[h + 4..] == want);
        Ok(ok)
    })();
    Sample { protocol: Protocol::Http, latency: started.elapsed(), ok: result.unwrap_or(false), retries: 0 }
}

fn tftp_fetch(server: SocketAddr, i: usize, want: &[u8], blksize: Option<usize>) -> Sample {
    let started = Instant::now();
    let mut retries = 0;
    let result = (|| -> std::io::Result<bool> {
        let sock = UdpSocket::bind(phone_address(i))?;
        sock.set_read_timeout(Some(RETRY))?;
        let options = blksize.map(|b| vec![("blksize".to_string(), b.to_string())]).unwrap_or_default();
        let rrq = Packet::Rrq(Request { filename: format!("cfg{}.xml", mac(i)), mode: Mode::Octet, options });
        let mut last = rrq.encode();
        let mut last_to = server;
        sock.send_to(&last, last_to)?;
        let mut block_size = 512;
        let mut expected = 1u16;
        let mut data = Vec::with_capacity(want.len());
        let mut buf = vec![0u8; 65536];
        loop {
            let (n, from) = match sock.recv_from(&mut buf) {
                Ok(x) => x,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    if started.elapsed() > GIVE_UP {
                        return Ok(false);
                    }
                    retries += 1;
                    sock.send_to(&last, last_to)?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match Packet::decode(&buf[..n]) {
                Ok(Packet::OAck { options }) => {
                    if let Some((_, v)) = options.iter().find(|(k, _)| k == "blksize") {
                        block_size = v.parse().unwrap_or(512);
                    }
                    last = Packet::Ack { block: 0 }.encode();
                    last_to = from;
                    sock.send_to(&last, from)?;
                }
                Ok(Packet::Data { block, data: chunk }) => {
                    if block == expected {
                        data.extend_from_slice(chunk);
                        expected = expected.wrapping_add(1);
                    }
                    let done = block == expected.wrapping_sub(1) && chunk.len() < block_size;
                    last = Packet::Ack { block }.encode();
                    last_to = from;
                    sock.send_to(&last, from)?;
                    if done {
                        return Ok(data == want);
                    }
                }
                Ok(Packet::Error { .. }) | Err(_) => return Ok(false),
                Ok(_) => {}
            }
        }
    })();
    Sample { protocol: Protocol::Tftp, latency: started.elapsed(), ok: result.unwrap_or(false), retries }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn report(label: &str, samples: &[&Sample]) {
    let mut lat: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    lat.sort();
    let errors = samples.iter().filter(|s| !s.ok).count();
    let retries: u32 = samples.iter().map(|s| s.retries).sum();
    println!(
        "{label:<8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8}",
        samples.len(),
        ms(percentile(&lat, 50.0)),
        ms(percentile(&lat, 95.0)),
        ms(percentile(&lat, 99.0)),
        ms(lat.last().copied().unwrap_or_default()),
        errors,
        retries
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass
    // nothing useful either: this binary takes no arguments.
    let phones = env_or("PHONES", 200);
    let rounds = env_or("ROUNDS", 5);
    let blksize = std::env::var("TFTP_BLKSIZE").ok().and_then(|v| v.parse().ok());

    let site = site(phones);
    let output = generate::generate(&site, &mut || [7; 8]).expect("the bench site generates");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let paths = SitePaths {
        firmware_dir: None,
        request_log: Some(dir.path().join("bench.requests.jsonl")),
        tls_identity: None,
    };
    let mut config = ServeConfig::from_site(&site, &output, paths).expect("serving settings");
    config.bind = "127.0.0.1".parse().expect("loopback");
    config.tftp_port = Some(0);
    config.http_port = Some(0);
    config.https_port = None;
    let files: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..phones)
            .map(|i| {
                let name = format!("cfg{}.xml", mac(i));
                output.files.iter().find(|f| f.name == name).map(|f| f.bytes.to_vec()).expect("each device's XML")
            })
            .collect(),
    );

    let (mut sup, events) = Supervisor::new(Hooks::default()).expect("the server runtime");
    let mut tftp = None;
    let mut http = None;
    for (p, r) in sup.start(config) {
        let addr = r.unwrap_or_else(|e| panic!("{p} did not start: {e}"));
        match p {
            Protocol::Tftp => tftp = Some(addr),
            Protocol::Http => http = Some(addr),
            Protocol::Https | Protocol::Sip | Protocol::Syslog | Protocol::Dhcp => {}
        }
    }
    let (tftp, http) = (tftp.expect("TFTP started"), http.expect("HTTP started"));
    // A front end drains events (as `gsprov serve` does), counting records.
    let drain = std::thread::Builder::new()
        .name("bench-events".into())
        .spawn(move || events.iter().filter(|e| matches!(e, Event::Completed(_))).count())
        .expect("a drain thread");

    let file_size = files.first().map_or(0, Vec::len);
    println!(
        "phones bench: {phones} phones x {rounds} bursts, HTTP {http} (GET, Connection: close), TFTP {tftp} \
         ({}), config file {file_size} B",
        blksize.map_or("no options, 512-byte blocks".to_string(), |b| format!("blksize {b}"))
    );
    let mut samples: Vec<Sample> = Vec::with_capacity(phones * rounds * 2);
    let mut bursts = Vec::new();
    for _ in 0..rounds {
        let barrier = Arc::new(Barrier::new(phones + 1));
        let (tx, rx) = mpsc::channel();
        let handles: Vec<_> = (0..phones)
            .map(|i| {
                let (barrier, tx, files) = (barrier.clone(), tx.clone(), files.clone());
                std::thread::Builder::new()
                    .name(format!("phone-{i}"))
                    .stack_size(256 * 1024)
                    .spawn(move || {
                        barrier.wait();
                        let h = http_fetch(http, i, &files[i]);
                        let t = tftp_fetch(tftp, i, &files[i], blksize);
                        let _ = tx.send((h, t));
                    })
                    .expect("a phone thread")
            })
            .collect();
        drop(tx);
        barrier.wait();
        let began = Instant::now();
        for (h, t) in rx.iter() {
            samples.push(h);
            samples.push(t);
        }
        bursts.push(began.elapsed());
        for h in handles {
            let _ = h.join();
        }
    }

    let stop_began = Instant::now();
    sup.stop();
    let stop_took = stop_began.elapsed();
    drop(sup);
    let records = drain.join().unwrap_or(0);

    println!("\nlatency per request, ms (nearest-rank percentiles over all bursts)");
    println!(
        "{:<8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>7} {:>8}",
        "", "n", "p50", "p95", "p99", "max", "errors", "retries"
    );
    let of = |p: Option<Protocol>| samples.iter().filter(|s| p.is_none_or(|p| s.protocol == p)).collect::<Vec<_>>();
    report("HTTP", &of(Some(Protocol::Http)));
    report("TFTP", &of(Some(Protocol::Tftp)));
    report("all", &of(None));
    bursts.sort();
    println!(
        "\nburst wall time (all {phones} phones, HTTP then TFTP each), ms: median {}, min {}, max {}",
        ms(bursts[bursts.len() / 2]),
        ms(bursts[0]),
        ms(bursts[bursts.len() - 1])
    );
    println!("request records: {records} (expected {}); servers stopped in {} ms", samples.len(), ms(stop_took));
}
