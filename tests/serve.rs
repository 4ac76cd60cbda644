//! Starts the real servers on 127.0.0.1 with port 0 (the real ports come back
//! from the start results / `Started` events) and drives them with real
//! clients: curl, tftp-hpa, atftp, raw sockets, and the gsprov binary.
//!
//! Network rule: only loopback is bound or addressed (127.0.0.1, and 127.0.0.x
//! where a test needs several client addresses). Nothing synchronises
//! with sleeps: tests wait on events (or child output) with timeouts. Every
//! test stops its servers (the supervisor stops on drop).

mod support;
use support::desks::mac;
use support::{WAIT, curl, gsprov, http_exchange, run, text, tftp_first_reply};

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use gsprov::event::{CertificateInfo, Event, ServeConfig, SitePaths};
use gsprov::formats::tftp::{Mode, Packet, Request as Rrq};
use gsprov::generate;
use gsprov::services::client::{self, FetchOptions};
use gsprov::services::{Hooks, Supervisor};
use gsprov::serving::DeviceState;
use gsprov::serving::{Interruption, Outcome, Policy, Protocol, Refusal, RequestRecord, Served, Window};
use gsprov::site::{HttpAuth, Site};

/// Where the test's own TFTP clients send from.
const LO: &str = "127.0.0.1:0";
/// Upper bound for `Supervisor::stop` in a test. Its own budget is 0.9 s by design; a loaded
/// 2-core machine can add seconds of scheduling, so the test allows 10x that, which still
/// catches a stop that waits for its stalled transfers (the HTTP write timeout is 30 s) or
/// hangs. Whether it is prompt is shown by the records: every transfer is cut, none abandoned.
const STOP_BOUND: Duration = Duration::from_secs(10);
const FW: &str = "gxp2170fw.bin";

fn ua(mac: &str, model: &str) -> String {
    format!("Grandstream Model HW {model} SW 1.0.11.3 DevId {mac}")
}

/// `n` devices: GXP2170 except device 2 (GXP2135) and device 3 (a legacy GXP2000).
fn site(n: usize) -> Site {
    support::desks::desks("test", n, |i| match i {
        1 => "GXP2135",
        2 => "GXP2000",
        _ => "GXP2170",
    })
}

fn firmware_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

struct Server {
    sup: Supervisor,
    events: Receiver<Event>,
    records: Vec<RequestRecord>,
    seen: Vec<Event>,
    tftp: SocketAddr,
    http: SocketAddr,
    https: SocketAddr,
    cert: CertificateInfo,
    files: HashMap<String, Vec<u8>>,
    dir: tempfile::TempDir,
    config: ServeConfig,
}

impl Server {
    fn start(site: Site) -> Server {
        Self::start_with(site, |_| {})
    }

    fn start_with(site: Site, adjust: impl FnOnce(&mut ServeConfig)) -> Server {
        Self::start_hooks(site, Hooks::default(), adjust)
    }

    fn start_hooks(site: Site, hooks: Hooks, adjust: impl FnOnce(&mut ServeConfig)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let fw = dir.path().join("firmware");
        std::fs::create_dir(&fw).unwrap();
        std::fs::write(fw.join(FW), firmware_bytes(1_000_003)).unwrap();
        std::fs::write(dir.path().join("secret.txt"), b"SECRET-DO-NOT-SERVE").unwrap();
        let output = generate::generate(&site, &mut || [7; 8]).unwrap();
        let files = output.files.iter().map(|f| (f.name.clone(), f.bytes.to_vec())).collect();
        let paths = SitePaths {
            firmware_dir: Some(fw),
            request_log: Some(dir.path().join("test.requests.jsonl")),
            tls_identity: Some(dir.path().join("test.tls.pem")),
        };
        let mut config = ServeConfig::from_site(&site, &output, paths).unwrap();
        config.bind = "127.0.0.1".parse().unwrap();
        config.tftp_port = Some(0);
        config.http_port = Some(0);
        config.https_port = Some(0);
        adjust(&mut config);
        let (mut sup, events) = Supervisor::new(hooks).unwrap();
        let results = sup.start(config.clone());
        let mut addr = HashMap::new();
        for (p, r) in results {
            addr.insert(p, r.unwrap_or_else(|e| panic!("{p} did not start: {e}")));
        }
        let mut s = Server {
            sup,
            events,
            records: Vec::new(),
            seen: Vec::new(),
            tftp: addr[&Protocol::Tftp],
            http: addr[&Protocol::Http],
            https: addr[&Protocol::Https],
            cert: CertificateInfo {
                sha256: String::new(),
                spki_sha256_base64: String::new(),
                key: gsprov::event::CertKey::EcdsaP256,
                path: None,
                created: false,
                fallback: None,
            },
            files,
            dir,
            config,
        };
        // The Started events carry the same addresses and the certificate.
        for _ in 0..3 {
            match s.next_event() {
                Event::Started { protocol, addr: a, certificate } => {
                    assert_eq!(Some(&a), addr.get(&protocol));
                    if let Some(c) = certificate {
                        s.cert = c;
                    }
                }
                other => panic!("expected Started, got {other:?}"),
            }
        }
        assert!(!s.cert.sha256.is_empty());
        s
    }

    fn next_event(&mut self) -> Event {
        let ev = self.events.recv_timeout(WAIT).expect("an event within the timeout");
        if let Event::Completed(r) = &ev {
            self.records.push(r.clone());
        }
        self.seen.push(ev.clone());
        ev
    }

    /// Waits until a record matches.
    fn record(&mut self, pred: impl Fn(&RequestRecord) -> bool) -> RequestRecord {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(r) = self.records.iter().find(|r| pred(r)) {
                return r.clone();
            }
            assert!(Instant::now() < deadline, "no matching record; have {:#?}", self.records);
            self.next_event();
        }
    }

    fn record_for(&mut self, protocol: Protocol, path: &str) -> RequestRecord {
        let path = path.to_string();
        self.record(move |r| r.protocol == protocol && r.path == path)
    }

    fn wait_records(&mut self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.records.len() < n {
            assert!(Instant::now() < deadline, "only {} of {n} records", self.records.len());
            self.next_event();
        }
    }

    /// Waits for `n` transfers of `name` to start.
    fn wait_received(&mut self, name: &str, n: usize) {
        let mut started = 0;
        while started < n {
            if let Event::Received(t) = self.next_event() {
                assert_eq!(t.name, name);
                started += 1;
            }
        }
    }

    /// The firmware image every server instance serves as `FW`.
    fn files_fw(&self) -> Vec<u8> {
        std::fs::read(self.config.firmware_dir.as_ref().unwrap().join(FW)).unwrap()
    }

    /// The request log and the garbage log beside it (issue 25: kept apart).
    fn log_text(&self) -> String {
        ["test.requests.jsonl", "test.garbage.jsonl"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect::<String>()
    }
}

/// One HTTP/1.1 exchange on a fresh connection: (status, body).
fn http_raw(addr: SocketAddr, request: &[u8]) -> (u16, Vec<u8>) {
    let (status, out) = http_exchange(addr, request);
    let body = out.windows(4).position(|w| w == b"\r\n\r\n").map(|i| out[i + 4..].to_vec()).unwrap_or_default();
    (status, body)
}

fn http_get(addr: SocketAddr, target: &str, agent: &str) -> (u16, Vec<u8>) {
    let req = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {agent}\r\nConnection: close\r\n\r\n");
    http_raw(addr, req.as_bytes())
}

fn tftp_fetch(server: SocketAddr, name: &str) -> Result<Vec<u8>, client::FetchError> {
    client::tftp_get(server, name, &FetchOptions::default())
}

#[test]
fn curl_fetches_over_http_and_https_with_pinned_certificate() {
    let mut s = Server::start(site(3));
    let m = mac(0);
    let name = format!("cfg{m}.xml");
    let agent = ua(&m, "GXP2170");
    let want = s.files[&name].clone();
    for path in
        [format!("/{name}"), format!("/prov/gs/{}", name.to_uppercase()), format!("/CFG{}.Xml", m.to_uppercase())]
    {
        let (rc, code, body) = curl(&["-A", &agent, &format!("http://{}{path}", s.http)]);
        assert_eq!((rc, code), (0, 200), "{path}");
        assert_eq!(body, want, "{path}");
        let r = s.record_for(Protocol::Http, &path);
        assert_eq!(r.outcome, Outcome::Served);
        assert_eq!((r.bytes, r.mac.map(|x| x.to_string())), (want.len() as u64, Some(m.clone())));
        assert_eq!(r.firmware.as_deref(), Some("1.0.11.3"));
        assert_eq!(r.model.as_ref().map(|x| x.to_string()).as_deref(), Some("GXP2170"));
    }
    // HEAD: the length, no body.
    let o =
        Command::new("curl").args(["-s", "-I", "-A", &agent, &format!("http://{}/{name}", s.http)]).output().unwrap();
    let head = text(&o.stdout).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains(&format!("content-length: {}", want.len())), "{head}");
    assert!(head.contains("content-type: application/xml"), "{head}");
    // Range on firmware.
    let fw = firmware_bytes(1_000_003);
    let (rc, code, body) = curl(&["-A", &agent, "-r", "1000-1999", &format!("http://{}/firmware/{FW}", s.http)]);
    assert_eq!((rc, code), (0, 206));
    assert_eq!(body, fw[1000..2000]);
    let (_, code, body) = curl(&["-A", &agent, "-r", "999000-", &format!("http://{}/{FW}", s.http)]);
    assert_eq!((code, body.as_slice()), (206, &fw[999_000..]));
    let (_, code, _) = curl(&["-A", &agent, "-r", "2000000-", &format!("http://{}/{FW}", s.http)]);
    assert_eq!(code, 416);

    // HTTPS, certificate pinned by its public key.
    let pin = format!("sha256//{}", s.cert.spki_sha256_base64);
    let url = format!("https://{}/{name}", s.https);
    let (rc, code, body) = curl(&["-k", "--pinnedpubkey", &pin, "-A", &agent, &url]);
    assert_eq!((rc, code), (0, 200));
    assert_eq!(body, want);
    // ... and trusted as a CA file (the certificate names 127.0.0.1).
    let pem = std::fs::read_to_string(s.cert.path.clone().unwrap()).unwrap();
    let cert_only =
        &pem[pem.find("-----BEGIN CERTIFICATE-----").unwrap()..pem.find("-----END CERTIFICATE-----").unwrap() + 25];
    let ca = s.dir.path().join("ca.pem");
    std::fs::write(&ca, cert_only).unwrap();
    let (rc, code, body) = curl(&["--cacert", ca.to_str().unwrap(), "-A", &agent, &url]);
    assert_eq!((rc, code, body.len()), (0, 200, want.len()));
    // A wrong pin is refused by curl before any byte is read.
    let (rc, _, body) = curl(&["-k", "--pinnedpubkey", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &url]);
    assert_ne!(rc, 0);
    assert!(body.is_empty());
    // Firmware over HTTPS, whole.
    let (_, code, body) = curl(&["-k", "--pinnedpubkey", &pin, "-A", &agent, &format!("https://{}/{FW}", s.https)]);
    assert_eq!((code, body.len()), (200, fw.len()));
    assert!(body == fw);
    let r = s.record(|r| r.protocol == Protocol::Https && r.path == format!("/{FW}"));
    assert_eq!(r.kind.map(|k| k.describe()), Some("firmware"));
    // The certificate is stored beside the site and reused on the next start.
    assert!(s.cert.created);
    s.sup.stop();
    let again = s.sup.start(s.config.clone());
    assert!(again.iter().all(|(_, r)| r.is_ok()));
    let reused = std::iter::from_fn(|| s.events.recv_timeout(WAIT).ok())
        .find_map(|e| match e {
            Event::Started { certificate: Some(c), .. } => Some(c),
            _ => None,
        })
        .unwrap();
    assert_eq!((reused.sha256, reused.created), (s.cert.sha256.clone(), false));
}

#[test]
fn basic_and_digest_auth_and_secrets_never_logged() {
    let mut st = site(2);
    st.serving.auth = Some(HttpAuth { username: "prov".into(), password: "s3cret-pw".into() });
    let mut s = Server::start(st);
    let m = mac(0);
    let agent = ua(&m, "GXP2170");
    let url = format!("http://{}/cfg{m}.xml", s.http);
    let want = s.files[&format!("cfg{m}.xml")].clone();

    let (_, code, body) = curl(&["-A", &agent, &url]);
    assert_eq!(code, 401);
    assert!(!text(&body).contains("P47"));
    let r = s.record(|r| r.status == gsprov::serving::Wire::Http(401));
    assert_eq!(r.outcome, Outcome::Refused { reason: Refusal::Unauthorized, expected: true });
    let (_, code, _) = curl(&["-A", &agent, "--basic", "-u", "prov:wrong", &format!("{url}?wrong")]);
    assert_eq!(code, 401);
    let r = s.record(|r| r.path.ends_with("?wrong"));
    assert_eq!(r.outcome, Outcome::Refused { reason: Refusal::Unauthorized, expected: false });
    assert!(r.explanation.contains("P1360/P1361"), "{}", r.explanation);
    let (_, code, body) = curl(&["-A", &agent, "--basic", "-u", "prov:s3cret-pw", &format!("{url}?basic")]);
    assert_eq!((code, body == want), (200, true));
    let (_, code, body) = curl(&["-A", &agent, "--digest", "-u", "prov:s3cret-pw", &format!("{url}?digest")]);
    assert_eq!((code, body == want), (200, true));
    let (_, code, _) = curl(&["-A", &agent, "--digest", "-u", "prov:nope", &format!("{url}?baddigest")]);
    assert_eq!(code, 401);
    let (_, code, _) =
        curl(&["-A", &agent, "-u", "prov:s3cret-pw", &format!("{url}?user=prov&password=hunter2&token=t0ken")]);
    assert_eq!(code, 200);
    let r = s.record(|r| r.path.contains("user=prov"));
    assert!(r.path.contains("password=***") && r.path.contains("token=***"), "{}", r.path);
    s.record(|r| r.path.ends_with("?digest") && r.outcome == Outcome::Served);
    s.sup.stop();
    while let Ok(e) = s.events.try_recv() {
        s.seen.push(e);
    }
    let log = s.log_text();
    assert!(log.lines().count() >= 7, "{log}");
    let events = format!("{:?}", s.seen);
    for secret in ["s3cret-pw", "hunter2", "t0ken", "cHJvdjpzM2NyZXQtcHc", "Authorization", "authorization"] {
        assert!(!log.contains(secret), "{secret} in the request log");
        assert!(!events.contains(secret), "{secret} in the events");
    }
}

#[test]
fn tftp_hpa_atftp_and_curl_fetch_over_tftp() {
    let mut s = Server::start(site(3));
    let out = s.dir.path().join("got");
    let port = s.tftp.port().to_string();
    let m = mac(0);
    for name in
        [format!("cfg{m}.xml"), format!("CFG{}.XML", m.to_uppercase()), "cfg.xml".into(), "cfggxp2170.xml".into()]
    {
        let _ = std::fs::remove_file(&out);
        let o = Command::new("tftp")
            .args(["127.0.0.1", &port, "-m", "binary", "-c", "get", &name])
            .arg(&out)
            .output()
            .expect("tftp-hpa is installed (.ci/run)");
        assert!(o.status.success(), "{name}: {}", text(&o.stderr));
        assert_eq!(std::fs::read(&out).unwrap(), s.files[&name.to_ascii_lowercase()], "{name}");
        let r = s.record_for(Protocol::Tftp, &name);
        assert_eq!(r.outcome, Outcome::Served);
    }
    // The legacy unit's binary file, with tftp-hpa verbose.
    let legacy = format!("cfg{}", mac(2));
    let o = Command::new("tftp")
        .args(["-v", "127.0.0.1", &port, "-m", "binary", "-c", "get", &legacy])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), s.files[&legacy]);
    // Firmware with blksize 1428 and tsize (atftp).
    let fw_out = s.dir.path().join("fw");
    let o = Command::new("atftp")
        .args(["--option", "blksize 1428", "--option", "tsize 0", "-g", "-r", FW, "-l"])
        .arg(&fw_out)
        .args(["127.0.0.1", &port])
        .output()
        .expect("atftp is installed (.ci/run)");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(std::fs::read(&fw_out).unwrap() == firmware_bytes(1_000_003));
    let r = s.record_for(Protocol::Tftp, FW);
    assert_eq!((r.outcome, r.bytes), (Outcome::Served, 1_000_003));
    // curl speaks TFTP too.
    let (rc, _, body) = curl(&["--tftp-blksize", "1024", &format!("tftp://{}/{legacy}.bin", s.tftp)]);
    assert_eq!(rc, 0);
    assert_eq!(body, s.files[&format!("{legacy}.bin")]);
    // Window size (RFC 7440) 8 with a raw client.
    let got = windowed_fetch(s.tftp, FW, 8, 512);
    assert!(got == firmware_bytes(1_000_003));
    // A miss answers TFTP error 1 and is explained.
    assert_eq!(tftp_first_reply(s.tftp, "cfg000b82ffffff.xml", LO, &[]).unwrap_err().0, 1);
    let r = s.record_for(Protocol::Tftp, "cfg000b82ffffff.xml");
    assert!(r.explanation.contains("not in the site"), "{}", r.explanation);
}

/// RRQ with windowsize; ACKs each full window.
fn windowed_fetch(server: SocketAddr, name: &str, window: u16, blksize: usize) -> Vec<u8> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let options = vec![("windowsize".to_string(), window.to_string()), ("blksize".into(), blksize.to_string())];
    sock.send_to(&Packet::Rrq(Rrq { filename: name.into(), mode: Mode::Octet, options }).encode(), server).unwrap();
    let mut buf = vec![0u8; 70000];
    let (n, tid) = sock.recv_from(&mut buf).unwrap();
    match Packet::decode(&buf[..n]).unwrap() {
        Packet::OAck { options } => assert!(options.contains(&("windowsize".into(), window.to_string()))),
        other => panic!("expected OACK, got {other:?}"),
    }
    sock.send_to(&Packet::Ack { block: 0 }.encode(), tid).unwrap();
    let mut data = Vec::new();
    let mut expected: u16 = 1;
    let mut in_window = 0;
    loop {
        let (n, from) = sock.recv_from(&mut buf).unwrap();
        assert_eq!(from, tid);
        let Packet::Data { block, data: d } = Packet::decode(&buf[..n]).unwrap() else { panic!("not data") };
        assert_eq!(block, expected, "in-order delivery on loopback");
        data.extend_from_slice(d);
        in_window += 1;
        let last = d.len() < blksize;
        if last || in_window == window {
            sock.send_to(&Packet::Ack { block }.encode(), tid).unwrap();
            in_window = 0;
        }
        if last {
            return data;
        }
        expected = expected.wrapping_add(1);
    }
}

#[test]
fn firmware_transfers_report_progress_and_wake_the_front_end() {
    // Progress every chunk and a counting wake callback: no timing in the test.
    let wakes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = wakes.clone();
    let hooks = Hooks {
        progress_interval: Duration::ZERO,
        wake: Some(std::sync::Arc::new(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })),
        ..Hooks::default()
    };
    let mut s = Server::start_hooks(site(1), hooks, |_| {});
    let m = mac(0);
    for (via_tftp, name) in [(false, FW.to_string()), (true, FW.to_string()), (false, format!("cfg{m}.xml"))] {
        if via_tftp {
            assert_eq!(tftp_fetch(s.tftp, &name).unwrap().len(), 1_000_003);
        } else {
            let (code, _) = http_get(s.http, &format!("/{name}"), &ua(&m, "GXP2170"));
            assert_eq!(code, 200);
        }
        let (mut id, mut progress, mut announced) = (None, Vec::new(), false);
        let record = loop {
            match s.next_event() {
                Event::Received(t) if t.name == name => (id, announced) = (Some(t.id), true),
                Event::Progress { id: pid, sent, total } if Some(pid) == id => progress.push((sent, total)),
                Event::Completed(r) if Some(r.id) == id || r.file.as_deref() == Some(name.as_str()) => break r,
                _ => {}
            }
        };
        // Firmware is shown live; a config file only when it has ended.
        assert_eq!(announced, name == FW, "{name} via TFTP {via_tftp}: announced");
        assert_eq!(record.outcome, Outcome::Served);
        if name == FW {
            assert!(progress.len() >= 10, "{name} via TFTP {via_tftp}: {} progress events", progress.len());
            assert!(progress.windows(2).all(|w| w[0].0 <= w[1].0), "progress only grows");
            assert!(progress.iter().all(|(sent, total)| *total == Some(1_000_003) && *sent <= 1_000_003));
        } else {
            assert!(progress.is_empty(), "config files report no progress");
        }
    }
    assert!(wakes.load(std::sync::atomic::Ordering::Relaxed) >= s.seen.len());
}

#[test]
fn prefix_postfix_and_case_rules() {
    let mut st = site(2);
    st.provisioning.prefix = "gs_".into();
    st.provisioning.postfix = "_v2".into();
    let mut s = Server::start(st);
    let m = mac(0);
    let name = format!("gs_cfg{m}.xml_v2");
    let want = s.files[&name].clone();
    assert_eq!(tftp_fetch(s.tftp, &name).unwrap(), want);
    assert_eq!(tftp_fetch(s.tftp, &name.to_uppercase()).unwrap(), want);
    let (code, body) = http_get(s.http, &format!("/p/GS_CFG{m}.XML_V2"), &ua(&m, "GXP2170"));
    assert_eq!((code, body == want), (200, true));
    // Without the prefix/postfix: a miss that names the expected file.
    assert_eq!(tftp_first_reply(s.tftp, &format!("cfg{m}.xml"), LO, &[]).unwrap_err().0, 1);
    let r = s.record_for(Protocol::Tftp, &format!("cfg{m}.xml"));
    assert!(r.explanation.contains("\"gs_\" (P234)") && r.explanation.contains(&name), "{}", r.explanation);
    let (code, _) = http_get(s.http, &format!("/cfg{m}.xml_v2"), &ua(&m, "GXP2170"));
    assert_eq!(code, 404);
    let r = s.record_for(Protocol::Http, &format!("/cfg{m}.xml_v2"));
    assert_eq!(r.outcome, Outcome::Refused { reason: Refusal::NotFound, expected: false });
}

#[test]
fn every_miss_carries_the_right_explanation() {
    let mut s = Server::start(site(3));
    let known = mac(0);
    let agent = ua(&known, "GXP2170");
    // (target, HTTP status, TFTP error code, expected?, text)
    let cases: Vec<(String, u16, u16, bool, &str)> = vec![
        (
            "cfg000b82000011.xml".into(),
            404,
            1,
            false,
            "nearest known MAC is 000b82000001 (Desk 0, GXP2170) (1 hex digit",
        ),
        (format!("cfg{known}"), 404, 1, true, "this 404 is expected: devices probe cfg<mac> before cfg<mac>.xml"),
        (format!("cfg{known}.bin"), 404, 1, true, "needs no binary file"),
        ("cfggrp2614.xml".into(), 404, 1, false, "wrong model file"),
        ("gxp1600fw.bin".into(), 404, 1, false, "gxp1600fw.bin is not in the firmware folder"),
        ("index.html".into(), 404, 1, false, "not a name Grandstream devices ask for"),
        (format!("cfg{}.xml", mac(2)), 404, 1, true, "legacy model that reads only the binary"),
    ];
    for (target, http_status, tftp_code, expected, want) in &cases {
        let (code, _) = http_get(s.http, &format!("/{target}"), &agent);
        assert_eq!(code, *http_status, "{target}");
        let r = s.record_for(Protocol::Http, &format!("/{target}"));
        assert_eq!(r.outcome, Outcome::Refused { reason: Refusal::NotFound, expected: *expected }, "{target}");
        assert!(r.explanation.contains(want), "HTTP {target}: {}", r.explanation);
        // Over TFTP the same, except that "wrong model" needs to know the device:
        // it does, by the IP that asked for its cfg<mac> over HTTP above.
        assert_eq!(tftp_first_reply(s.tftp, target, LO, &[]).unwrap_err().0, *tftp_code, "{target}");
        let r = s.record_for(Protocol::Tftp, target);
        assert!(r.explanation.contains(want), "TFTP {target}: {}", r.explanation);
    }
    // Known-MACs-only: refused by policy (403 / TFTP access violation).
    s.sup.set_policy(Policy { known_macs_only: true, ..Policy::default() });
    let (code, _) = http_get(s.http, "/cfg0011223344ff.xml", "curl/8");
    assert_eq!(code, 403);
    let r = s.record_for(Protocol::Http, "/cfg0011223344ff.xml");
    assert_eq!(r.outcome, Outcome::Refused { reason: Refusal::Policy, expected: false });
    assert!(r.explanation.contains("known-MACs-only is on"), "{}", r.explanation);
    assert_eq!(tftp_first_reply(s.tftp, "cfg0011223344ff.xml", LO, &[]).unwrap_err().0, 2);
    // Status: the asking unknown device is listed as unassigned.
    let st = s.sup.status().unwrap();
    assert!(st.unassigned().any(|d| d.mac.to_string() == "0011223344ff"));
}

#[test]
fn traversal_and_odd_names_are_refused_and_leak_nothing() {
    let mut s = Server::start(site(2));
    let long = "a".repeat(300);
    let tftp_names: Vec<String> = [
        "../secret.txt",
        "../../etc/passwd",
        "/../secret.txt",
        "firmware/../../secret.txt",
        "..",
        "C:\\Windows\\win.ini",
        "C:/secret.txt",
        "\\\\host\\share\\cfg.xml",
        "cfg.xml\u{1}",
        "NUL",
        "con.xml",
        "COM1",
        "LPT1.bin",
        "aux.bin",
        "cfg.xml.",
        "./cfg.xml",
        "cfg .xml",
        "cfg%2exml",
        "%2e%2e/secret.txt",
        long.as_str(),
        "secret.txt",
        "/etc/passwd",
        "test.requests.jsonl",
        "../test.tls.pem",
        "cfg\u{e9}.xml",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert!(tftp_names.len() >= 20);
    for name in &tftp_names {
        let reply = tftp_first_reply(s.tftp, name, LO, &[]);
        assert!(reply.is_err(), "{name:?} was answered with data");
        let r = s.record(|r| r.protocol == Protocol::Tftp && r.path == gsprov::formats::http::mask_target(name));
        assert!(matches!(r.outcome, Outcome::Refused { .. }) && r.bytes == 0, "{name:?}: {r:?}");
    }
    let http_targets: Vec<String> = [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/%252e%252e/secret.txt",
        "/firmware/..%5c..%5csecret.txt",
        "/cfg.xml%00",
        "/C:/secret.txt",
        "/C:%5csecret.txt",
        "/NUL",
        "/con.xml",
        "/COM1.bin",
        "/cfg.xml.",
        "/./cfg.xml",
        "/%c0%ae%c0%ae/secret.txt",
        "/%zz",
        "/a/../../secret.txt",
        "//../secret.txt",
        "/secret.txt",
        "/etc/passwd",
        "/test.tls.pem",
        "/%2e/cfg.xml",
        "http://x/../secret.txt",
        "/cfg%20.xml",
        "secret.txt",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("/{long}")])
    .collect();
    assert!(http_targets.len() >= 20);
    for target in &http_targets {
        let (code, body) = http_get(s.http, target, &ua(&mac(0), "GXP2170"));
        assert!((400..500).contains(&code), "{target}: {code}");
        assert!(["not found\n", "bad request\n", "forbidden\n"].contains(&text(&body).as_str()), "{target}: {body:?}");
        let masked = gsprov::formats::http::mask_target(target);
        let r = s.record(|r| r.protocol == Protocol::Http && r.path == masked);
        assert!(matches!(r.outcome, Outcome::Refused { .. }) && r.bytes == 0, "{target}: {r:?}");
    }
    assert!(s.records.iter().all(|r| r.bytes == 0));
}

#[test]
fn malformed_packets_and_requests_never_stop_the_servers() {
    let mut s = Server::start(site(2));
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(WAIT)).unwrap();
    let garbage: Vec<u8> = (0..200u32).map(|i| (i * 37 % 256) as u8).collect();
    // (datagram, TFTP error code expected back)
    let probes: Vec<(&[u8], Option<u16>)> = vec![
        (&garbage, Some(4)),
        (b"", Some(4)),
        (b"\x00", Some(4)),
        (b"\x00\x01cfg.xml", Some(4)),
        (b"\x00\x01cfg.xml\x00oct", Some(4)),
        (b"\x00\x01cfg.xml\x00binary\x00", Some(4)),
        (b"\x00\x01cfg.xml\x00octet\x00blksize\x00", Some(4)),
        (b"\x00\x02upload.bin\x00octet\x00", Some(2)),
        (b"\x00\x09hello", Some(4)),
        (b"\xff\xffxx", Some(4)),
        (b"\x00\x04\x00\x01", None),
        (b"\x00\x03\x00\x01data", None),
        (b"\x00\x05\x00\x01oops\x00", None),
    ];
    for (bytes, want) in &probes {
        udp.send_to(bytes, s.tftp).unwrap();
        if let Some(code) = want {
            let mut buf = [0u8; 600];
            let (n, _) = udp.recv_from(&mut buf).unwrap();
            match Packet::decode(&buf[..n]).unwrap() {
                Packet::Error { code: c, .. } => assert_eq!(c.code(), *code, "{bytes:?}"),
                other => panic!("{bytes:?}: {other:?}"),
            }
        }
    }
    let wrq = s.record(|r| r.method == "WRQ");
    assert_eq!(wrq.outcome, Outcome::Refused { reason: Refusal::ReadOnly, expected: false });
    // HTTP: garbage, an over-long request line, header floods, cut requests.
    let mut flood = String::from("GET / HTTP/1.1\r\n");
    for i in 0..100 {
        flood.push_str(&format!("X-{i}: y\r\n"));
    }
    flood.push_str("\r\n");
    let long_line = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(20_000));
    let raw: Vec<(Vec<u8>, u16)> = vec![
        (garbage.clone(), 400),
        (b"\r\n\r\n".to_vec(), 0), // blank lines only: closed without a word
        (b"HELLO\r\n\r\n".to_vec(), 400),
        (long_line.into_bytes(), 414),
        (flood.into_bytes(), 431),
        (b"GET / HTTP/9.9\r\n\r\n".to_vec(), 505),
        (b"PUT /cfg.xml HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc".to_vec(), 405),
        (b"GET /cfg.xml HTTP/1.1\r\nHost: x".to_vec(), 400),
    ];
    for (bytes, want) in &raw {
        let mut c = TcpStream::connect(s.http).unwrap();
        c.set_read_timeout(Some(WAIT)).unwrap();
        let _ = c.write_all(bytes);
        let _ = c.shutdown(std::net::Shutdown::Write);
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        let code: u16 = text(&out).split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        assert_eq!(code, *want, "{:?}", text(&bytes[..bytes.len().min(40)]));
    }
    // Plain text to the HTTPS port: the handshake fails, the server goes on.
    let mut c = TcpStream::connect(s.https).unwrap();
    c.set_read_timeout(Some(WAIT)).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    // Everything still works.
    let m = mac(0);
    assert_eq!(tftp_fetch(s.tftp, &format!("cfg{m}.xml")).unwrap(), s.files[&format!("cfg{m}.xml")]);
    let (code, body) = http_get(s.http, &format!("/cfg{m}.xml"), &ua(&m, "GXP2170"));
    assert_eq!((code, body == s.files[&format!("cfg{m}.xml")]), (200, true));
    let (_, code, _) = curl(&["-k", &format!("https://{}/cfg{m}.xml", s.https)]);
    assert_eq!(code, 200);
    assert!(s.records.iter().any(|r| r.outcome == Outcome::Refused { reason: Refusal::Malformed, expected: false }));
}

#[test]
fn two_hundred_phones_fetch_over_http_and_tftp_and_every_request_is_logged() {
    const PHONES: usize = 200;
    let mut s = Server::start(site(PHONES));
    let (http, tftp) = (s.http, s.tftp);
    let files = std::sync::Arc::new(s.files.clone());
    let workers: Vec<_> = (0..10)
        .map(|w| {
            let files = files.clone();
            std::thread::Builder::new()
                .name(format!("phones {w}"))
                .spawn(move || {
                    let mut ok = 0;
                    for i in (w..PHONES).step_by(10) {
                        let m = mac(i);
                        let model = match i {
                            1 => "GXP2135",
                            2 => "GXP2000",
                            _ => "GXP2170",
                        };
                        // Legacy units read the binary file; the others their XML.
                        let name = if i == 2 { format!("cfg{m}") } else { format!("cfg{m}.xml") };
                        let (code, body) = http_get(http, &format!("/prov/{name}"), &ua(&m, model));
                        assert_eq!(code, 200, "{name}");
                        assert!(body == files[&name], "{name} over HTTP");
                        let got = client::tftp_get(tftp, &name, &FetchOptions::default()).unwrap();
                        assert!(got == files[&name], "{name} over TFTP");
                        ok += 2;
                    }
                    ok
                })
                .unwrap()
        })
        .collect();
    let served: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(served, 2 * PHONES, "100% served");
    s.wait_records(2 * PHONES);
    let status = s.sup.status().unwrap();
    assert_eq!(status.summary().got_config, PHONES, "{:?}", status.summary());
    assert!(status.known().all(|d| d.state == DeviceState::GotConfig));
    s.sup.stop();
    assert_eq!(s.records.len(), 2 * PHONES);
    assert!(s.records.iter().all(|r| r.outcome == Outcome::Served));
    let ids: HashSet<u64> = s.records.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 2 * PHONES);
    // The JSON-lines log holds every record.
    let log = s.log_text();
    let lines: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2 * PHONES);
    let logged: HashSet<u64> = lines.iter().map(|v| v["id"].as_u64().unwrap()).collect();
    assert_eq!(logged, ids);
    for p in ["tftp", "http"] {
        assert_eq!(lines.iter().filter(|v| v["protocol"] == p).count(), PHONES);
    }
}

#[test]
fn stop_with_five_transfers_in_flight_is_prompt_and_ports_rebind() {
    let mut s = Server::start(site(1));
    let big = s.config.firmware_dir.clone().unwrap().join("big.bin");
    std::fs::write(&big, vec![0x5a; 64 * 1024 * 1024]).unwrap();
    // Three HTTP readers that read a little and then stall.
    let mut held_tcp = Vec::new();
    for _ in 0..3 {
        let mut c = TcpStream::connect(s.http).unwrap();
        c.set_read_timeout(Some(WAIT)).unwrap();
        c.write_all(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nUser-Agent: Grandstream Model HW GXP2170 SW 1 DevId 000b82000001\r\n\r\n").unwrap();
        let mut first = [0u8; 4096];
        c.read_exact(&mut first).unwrap();
        held_tcp.push(c);
    }
    // Two TFTP readers that take the first block and never acknowledge it.
    let held_udp: Vec<UdpSocket> = (0..2).map(|_| stalled_tftp("127.0.0.1", s.tftp)).collect();
    s.wait_received("big.bin", 5);
    let t0 = Instant::now();
    s.sup.stop();
    let took = t0.elapsed();
    assert!(took < STOP_BOUND, "stop took {took:?}");
    assert!(!s.sup.is_running());
    // Every cut transfer still has its record; then each server says it stopped.
    let mut stopped = HashSet::new();
    while let Ok(e) = s.events.try_recv() {
        match e {
            Event::Completed(r) => s.records.push(r),
            Event::Stopped { protocol } => {
                stopped.insert(protocol);
            }
            _ => {}
        }
    }
    assert_eq!(stopped.len(), 3);
    let cut: Vec<_> =
        s.records.iter().filter(|r| r.outcome == Outcome::Interrupted { reason: Interruption::Stopped }).collect();
    assert_eq!(cut.len(), 5, "{:#?}", s.records);
    assert!(cut.iter().all(|r| r.bytes < 64 * 1024 * 1024));
    // The ports are free: bind them directly, then start the servers on them again.
    drop(UdpSocket::bind(s.tftp).expect("TFTP port free after stop"));
    drop(TcpListener::bind(s.http).expect("HTTP port free after stop"));
    drop(TcpListener::bind(s.https).expect("HTTPS port free after stop"));
    let mut again = s.config.clone();
    again.tftp_port = Some(s.tftp.port());
    again.http_port = Some(s.http.port());
    again.https_port = Some(s.https.port());
    let (mut sup2, _events2) = Supervisor::new(Hooks::default()).unwrap();
    let results = sup2.start(again);
    for (p, r) in &results {
        let want = match p {
            Protocol::Tftp => s.tftp,
            Protocol::Http => s.http,
            Protocol::Https => s.https,
            Protocol::Sip | Protocol::Syslog | Protocol::Dhcp => {
                unreachable!("no PnP responder, syslog receiver or bench DHCP server in this config")
            }
        };
        assert_eq!(r.as_ref().ok(), Some(&want), "{p}");
    }
    let m = mac(0);
    assert!(tftp_fetch(s.tftp, &format!("cfg{m}.xml")).is_ok());
    let t0 = Instant::now();
    sup2.stop();
    assert!(t0.elapsed() < STOP_BOUND, "stop took {:?}", t0.elapsed());
    drop((held_tcp, held_udp));
}

#[test]
fn serving_window_policy_and_file_replacement() {
    let mut s = Server::start(site(2));
    s.sup
        .set_policy(Policy { window: Window { until_all_configured: true, ..Window::default() }, ..Policy::default() });
    // Device 0 reads its XML; device 1 (GXP2135) too.
    for i in 0..2 {
        let m = mac(i);
        let (code, _) = http_get(s.http, &format!("/cfg{m}.xml"), &ua(&m, "GXP2170"));
        assert_eq!(code, 200);
    }
    let closed = loop {
        if let Event::WindowClosed { reason } = s.next_event() {
            break reason;
        }
    };
    assert!(closed.contains("every known device"));
    let (code, _) = http_get(s.http, "/cfg.xml", &ua(&mac(0), "GXP2170"));
    assert_eq!(code, 403);
    let r = s.record_for(Protocol::Http, "/cfg.xml");
    assert!(r.explanation.contains("serving window closed"), "{}", r.explanation);
    // A site edit: a third device, served once the files are replaced.
    let bigger = site(3);
    let output = generate::generate(&bigger, &mut || [7; 8]).unwrap();
    s.sup.set_policy(Policy::default());
    s.sup.replace_files(Served::new(&bigger, &output));
    let third = format!("cfg{}", mac(2));
    let want = output.files.iter().find(|f| f.name == third).unwrap().bytes.to_vec();
    assert_eq!(tftp_fetch(s.tftp, &third).unwrap(), want);
    let st = s.sup.status().unwrap();
    assert_eq!(st.known().count(), 3);
    // Outside a time window everything is refused.
    let past = std::time::SystemTime::now() - Duration::from_secs(60);
    s.sup.set_policy(Policy { window: Window { stop: Some(past), ..Window::default() }, ..Policy::default() });
    assert_eq!(tftp_first_reply(s.tftp, &third, LO, &[]).unwrap_err().0, 2);
}

// --- the gsprov binary: serve and fetch -------------------------------------------------

fn demo_into(dir: &Path) -> PathBuf {
    let site = dir.join("office.gsprov.toml");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.gsprov.toml"), &site).unwrap();
    std::fs::create_dir(dir.join("firmware")).unwrap();
    std::fs::write(dir.join("firmware").join(FW), firmware_bytes(100_000)).unwrap();
    site
}

#[test]
fn serve_and_fetch_commands_work_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let site = demo_into(dir.path());
    let mut child = gsprov()
        .args(["serve", site.to_str().unwrap(), "--bind", "127.0.0.1", "--tftp-port", "0", "--http-port", "0"])
        .args(["--https-port", "0", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = support::lines_of(&mut child);
    let mut ports = HashMap::new();
    let mut fingerprint = String::new();
    while ports.len() < 3 {
        let line = lines.recv_timeout(WAIT).expect("serve prints its Started lines");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["event"], "started", "{line}");
        ports.insert(v["protocol"].as_str().unwrap().to_string(), v["addr"].as_str().unwrap().to_string());
        if let Some(fp) = v["certificate_sha256"].as_str() {
            fingerprint = fp.to_string();
        }
    }
    let site_arg = site.to_str().unwrap();
    let fetch = |url: String, extra: &[&str]| {
        let mut c = gsprov();
        c.args(["fetch", "--as", "000b82a1b201", "--site", site_arg]).args(extra).arg(url);
        run(&mut c)
    };
    // HTTP: the encrypted per-device XML, decrypted with the site's password.
    let o = fetch(format!("http://{}/cfg000b82a1b201.xml", ports["http"]), &[]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("encrypted XML") && out.contains("P3 = Reception"), "{out}");
    assert!(out.contains("P2 = ********"), "passwords masked: {out}");
    // HTTPS pinned by the printed fingerprint; a wrong pin is a failure (exit 5).
    let o = fetch(format!("https://{}/cfg000b82a1b201.xml", ports["https"]), &["--fingerprint", &fingerprint]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains(&fingerprint));
    let o = fetch(format!("https://{}/cfg000b82a1b201.xml", ports["https"]), &["--fingerprint", "00:11:22"]);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o.stderr));
    // TFTP: the bootstrap binary file, JSON.
    let o = fetch(format!("tftp://{}/cfg000b82a1b201", ports["tftp"]), &["--json"]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["format"], "legacy binary cfg");
    assert_eq!(v["params"]["P1359"], "********");
    // Firmware: not a config file, reported by size and hash.
    let o = fetch(format!("http://{}/{FW}", ports["http"]), &[]);
    assert!(o.status.success() && text(&o.stdout).contains("100000 bytes"), "{}", text(&o.stdout));
    // A refusal is exit 1.
    let o = fetch(format!("http://{}/cfg000b82a1b299.xml", ports["http"]), &[]);
    assert_eq!(o.status.code(), Some(1));
    // Ctrl-C: the servers stop, a summary is printed, exit 0.
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let mut summary = None;
    let deadline = Instant::now() + WAIT;
    while summary.is_none() && Instant::now() < deadline {
        match lines.recv_timeout(WAIT) {
            Ok(line) => {
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                if v["event"] == "summary" {
                    summary = Some(v);
                }
            }
            Err(_) => break,
        }
    }
    let summary = summary.expect("a summary after Ctrl-C");
    // HTTP, HTTPS, TFTP, firmware, the refusal (the wrong pin never got past TLS).
    assert_eq!(summary["requests"], 5);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let devices = summary["devices"].as_array().unwrap();
    let reception = devices.iter().find(|d| d["mac"] == "000b82a1b201").unwrap();
    assert_eq!(reception["state"], "got-firmware");
    // The request log beside the site.
    let log = std::fs::read_to_string(dir.path().join("office.requests.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 5);
    assert!(dir.path().join("office.tls.pem").exists());
}

#[test]
fn serve_exits_5_when_a_port_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let site = demo_into(dir.path());
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let mut c = gsprov();
    c.args(["serve", site.to_str().unwrap(), "--bind", "127.0.0.1", "--no-tftp", "--no-https", "--http-port", &port]);
    let o = run(&mut c);
    assert_eq!(o.status.code(), Some(5), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(&format!("port {port} is already in use by another program")),
        "{}",
        text(&o.stderr)
    );
}

/// Starts `gsprov serve <site> --bind 127.0.0.1` with HTTP only on a free port
/// (TFTP off, unless `extra` has TFTP options); returns the child, its stdout lines read so far (through
/// the "press Ctrl-C" line) and the HTTP address.
fn serve_http_only(site: &Path, extra: &[&str]) -> (std::process::Child, Receiver<String>, Vec<String>, SocketAddr) {
    let mut child = gsprov()
        .args(["serve", site.to_str().unwrap(), "--bind", "127.0.0.1", "--no-https", "--http-port", "0"])
        .args(if extra.is_empty() { &["--no-tftp"] } else { extra })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = support::lines_of(&mut child);
    let mut seen = Vec::new();
    let mut addr = None;
    loop {
        let line = lines.recv_timeout(WAIT).unwrap_or_else(|_| panic!("serve starts; printed so far: {seen:#?}"));
        if let Some(rest) = line.strip_prefix("HTTP  listening on ") {
            addr = rest.split_whitespace().next().and_then(|a| a.parse().ok());
        }
        let done = line.contains("press Ctrl-C to stop");
        seen.push(line);
        if done {
            break;
        }
    }
    (child, lines, seen, addr.expect("an HTTP listening line"))
}

/// Ctrl-C, then every stdout line up to the exit, and stderr.
fn interrupt_and_collect(mut child: std::process::Child, lines: Receiver<String>) -> (Vec<String>, String) {
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let mut out = Vec::new();
    while let Ok(line) = lines.recv_timeout(WAIT) {
        out.push(line);
    }
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{out:#?}\n{err}");
    (out, err)
}

#[test]
fn a_phone_that_got_its_config_is_not_an_error_when_no_firmware_is_offered() {
    let dir = tempfile::tempdir().unwrap();
    let site = demo_into(dir.path());
    std::fs::remove_file(dir.path().join("firmware").join(FW)).unwrap(); // an empty firmware folder
    let (child, lines, _, addr) = serve_http_only(&site, &[]);
    let agent = ua("000b82a1b201", "GXP2170");
    for (name, code) in
        [("cfg000b82a1b201", 200), ("cfg000b82a1b201.xml", 200), ("cfggxp2170.xml", 200), ("gxp2170fw.bin", 404)]
    {
        let (_, got, _) = curl(&["-A", &agent, &format!("http://{addr}/{name}")]);
        assert_eq!(got, code, "{name}");
    }
    let (out, _) = interrupt_and_collect(child, lines);
    let all = out.join("\n");
    assert!(all.contains("1 got config, 0 got firmware, 0 probing, 0 with errors"), "{all}");
    let row = out.iter().position(|l| l.contains("000b82a1b201") && l.contains("got config")).expect(&all);
    assert_eq!(out[row + 1].trim(), "note: no firmware offered (folder empty)", "{all}");
}

#[test]
fn serve_warns_when_p237_is_not_this_computer_or_not_the_bound_port() {
    let dir = tempfile::tempdir().unwrap();
    let site = demo_into(dir.path());
    // The demo tells devices 192.168.10.5:8080, an address this computer does not have
    // (nothing is ever sent there: this test only talks to 127.0.0.1).
    let (child, lines, _, addr) = serve_http_only(&site, &[]);
    let (_, err) = interrupt_and_collect(child, lines);
    let port = addr.port();
    let p237 = err.lines().find(|l| l.starts_with("warning: P237: ")).unwrap_or_else(|| panic!("{err}"));
    assert!(p237.contains("devices are told P237 = 192.168.10.5:8080"), "{p237}");
    assert!(p237.contains("192.168.10.5 is not an address of this computer"), "{p237}");
    assert!(p237.contains(&format!("set P237 = 127.0.0.1:{port} in the site defaults")), "{p237}");
    assert!(p237.contains(&format!("\"Point devices at this computer (lo 127.0.0.1, HTTP {port})\"")), "{p237}");
    let p192 = err.lines().find(|l| l.starts_with("warning: P192: ")).unwrap_or_else(|| panic!("{err}"));
    assert!(p192.contains(&format!("set P192 = 127.0.0.1:{port}/firmware")), "{p192}");

    // Right host, wrong port: both ports named.
    let text = std::fs::read_to_string(&site).unwrap().replace("192.168.10.5:8080", "127.0.0.1:8080");
    std::fs::write(&site, text).unwrap();
    let (child, lines, _, addr) = serve_http_only(&site, &[]);
    let (_, err) = interrupt_and_collect(child, lines);
    assert!(!err.contains("not an address of this computer"), "{err}");
    assert!(
        err.contains(&format!(
            "HTTP on port 8080, but HTTP listens on port {}; fix: set P237 = 127.0.0.1:{}",
            addr.port(),
            addr.port()
        )),
        "{err}"
    );
}

#[test]
fn a_factory_fresh_device_gets_an_unprefixed_bootstrap_when_p234_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let site = demo_into(dir.path());
    let text_site =
        std::fs::read_to_string(&site).unwrap().replace("[provisioning]\n", "[provisioning]\nprefix = \"gs_\"\n");
    std::fs::write(&site, text_site).unwrap();
    let (child, lines, seen, http) = serve_http_only(&site, &["--tftp-port", "0"]);
    let started = seen.join("\n");
    assert!(started.contains("factory-fresh devices ask for the unprefixed cfg<mac> first"), "{started}");
    let tftp: SocketAddr = seen
        .iter()
        .find_map(|l| l.strip_prefix("TFTP  listening on ")?.split_whitespace().next()?.parse().ok())
        .expect("a TFTP line");
    // The factory-fresh unit: unprefixed cfg<mac> over TFTP (tftp-hpa), the bootstrap.
    let got = dir.path().join("cfg000b82a1b201");
    let o = Command::new("tftp")
        .args(["127.0.0.1", &tftp.port().to_string(), "-m", "binary", "-c", "get", "cfg000b82a1b201"])
        .arg(&got)
        .output()
        .expect("tftp-hpa is installed (.ci/run)");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = gsprov().args(["decode", "--json"]).arg(&got).output().unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["params"]["P234"], "gs_", "{v}");
    assert_eq!(
        (&v["params"]["P237"], &v["params"]["P212"]),
        (&serde_json::json!("192.168.10.5:8080"), &serde_json::json!("1"))
    );
    assert_eq!(v["params"]["P1359"], "********", "the XML password travels in the bootstrap, masked here");
    assert!(v["params"].get("P2").is_none(), "only the bootstrap values: {v}");
    // The same bytes as cfg<mac>.bin over HTTP (curl); its next requests carry the prefix.
    let agent = ua("000b82a1b201", "GXP2170");
    let (_, code, body) = curl(&["-A", &agent, &format!("http://{http}/cfg000b82a1b201.bin")]);
    assert_eq!((code, body == std::fs::read(&got).unwrap()), (200, true));
    // The unprefixed XML stays a miss (its explanation names the bootstrap)...
    let (_, code, _) = curl(&["-A", &agent, &format!("http://{http}/cfg000b82a1b201.xml")]);
    assert_eq!(code, 404);
    // ...and the prefixed one is its config.
    let (_, code, _) = curl(&["-A", &agent, &format!("http://{http}/gs_cfg000b82a1b201.xml")]);
    assert_eq!(code, 200);
    let (out, _) = interrupt_and_collect(child, lines);
    let all = out.join("\n");
    assert!(all.contains("bootstrap binary under the unprefixed name"), "{all}");
    assert!(all.contains("gets them from the unprefixed bootstrap cfg<mac>"), "{all}");
    let row = out.iter().find(|l| l.starts_with("  000b82a1b201")).expect(&all);
    assert!(row.contains("got config"), "{row}");
}

#[test]
fn fetch_explains_a_miss_gives_up_on_a_dead_tftp_port_and_wants_a_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let site = demo_into(dir.path());
    let site_arg = site.to_str().unwrap();
    // No scheme: a usage error (exit 2) that shows the form.
    let o = run(gsprov().args(["fetch", "--as", "000b82a1b201", "--site", site_arg, "127.0.0.1:8080/cfg.xml"]));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("is not a tftp://, http:// or https:// URL"), "{}", text(&o.stderr));

    // A TFTP port where nothing answers (a bound socket that never replies): progress, then
    // a clear message within seconds.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let url = format!("tftp://{}/cfg000b82a1b201", silent.local_addr().unwrap());
    let t0 = Instant::now();
    let o = run(gsprov().args(["fetch", "--as", "000b82a1b201", "--site", site_arg, &url]));
    let took = t0.elapsed();
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(took >= Duration::from_secs(5) && took < Duration::from_secs(10), "gave up after {took:?}");
    assert!(err.contains("after 1 s; asking again (2 of 6)") && err.contains("asking again (6 of 6)"), "{err}");
    assert!(err.contains("no TFTP answer from") && err.contains("is a TFTP server running there"), "{err}");

    // A miss from a gsprov server: the explanation comes in a header to this computer only,
    // never in the body.
    let (child, lines, _, http) = serve_http_only(&site, &[]);
    let o = run(gsprov()
        .args(["fetch", "--as", "000b82a1b201", "--site", site_arg])
        .arg(format!("http://{http}/cfg000b82a1b299.xml")));
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("HTTP 404 Not Found; gsprov explains: cfg000b82a1b299.xml asks for MAC 000b82a1b299"),
        "{err}"
    );
    assert!(err.contains("The nearest known MAC is 000b82a1b201"), "{err}");
    let o = Command::new("curl").args(["-s", "-i", &format!("http://{http}/cfg000b82a1b299.xml")]).output().unwrap();
    let raw = text(&o.stdout);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(head.to_ascii_lowercase().contains("x-gsprov-explanation: cfg000b82a1b299.xml asks for mac"), "{head}");
    assert_eq!(body, "not found\n");
    interrupt_and_collect(child, lines);
}

/// A TFTP read of `big.bin` from the loopback address `from` that takes block 1
/// and never acknowledges it: the transfer stays under way.
fn stalled_tftp(from: &str, server: SocketAddr) -> UdpSocket {
    let u = UdpSocket::bind(format!("{from}:0")).unwrap();
    u.set_read_timeout(Some(WAIT)).unwrap();
    let rrq = Packet::Rrq(Rrq { filename: "big.bin".into(), mode: Mode::Octet, options: vec![] });
    u.send_to(&rrq.encode(), server).unwrap();
    let mut buf = [0u8; 600];
    let (n, _) = u.recv_from(&mut buf).unwrap();
    assert!(matches!(Packet::decode(&buf[..n]).unwrap(), Packet::Data { block: 1, .. }));
    u
}

/// A TCP connection to `to` from the loopback address `from`.
fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&format!("{from}:0").parse::<SocketAddr>().unwrap().into()).unwrap();
    sock.connect(&to.into()).unwrap();
    let c: TcpStream = sock.into();
    c.set_read_timeout(Some(WAIT)).unwrap();
    c
}

#[test]
fn the_sixth_firmware_transfer_waits_for_a_slot_then_completes() {
    let mut s = Server::start_with(site(1), |c| c.max_firmware_transfers = 5);
    let big = s.config.firmware_dir.clone().unwrap().join("big.bin");
    std::fs::write(&big, vec![0x5a; 64 * 1024 * 1024]).unwrap();
    let agent = "Grandstream Model HW GXP2170 SW 1 DevId 000b82000001";
    // Five transfers that stall, each from its own address: three HTTP readers
    // that read a little, two TFTP readers that never acknowledge block 1.
    let mut held_tcp = Vec::new();
    for i in 0..3 {
        let mut c = connect_from(&format!("127.0.0.{}", 11 + i), s.http);
        c.write_all(format!("GET /big.bin HTTP/1.1\r\nHost: x\r\nUser-Agent: {agent}\r\n\r\n").as_bytes()).unwrap();
        let mut first = [0u8; 4096];
        c.read_exact(&mut first).unwrap();
        held_tcp.push(c);
    }
    let held_udp: Vec<UdpSocket> = (0..2).map(|i| stalled_tftp(&format!("127.0.0.{}", 14 + i), s.tftp)).collect();
    s.wait_received("big.bin", 5);
    // The sixth, from a sixth address: it waits (no refusal, no answer yet)...
    let (tx, rx) = std::sync::mpsc::channel();
    let http = s.http;
    let sixth = std::thread::Builder::new()
        .name("sixth transfer".into())
        .spawn(move || {
            let mut c = connect_from("127.0.0.16", http);
            let req = format!("GET /{FW} HTTP/1.1\r\nHost: x\r\nUser-Agent: {agent}\r\nConnection: close\r\n\r\n");
            c.write_all(req.as_bytes()).unwrap();
            let mut out = Vec::new();
            let _ = c.read_to_end(&mut out);
            tx.send(out).unwrap();
        })
        .unwrap();
    let waited_from = Instant::now();
    assert!(rx.recv_timeout(Duration::from_millis(1500)).is_err(), "the sixth was answered while five transfers ran");
    while let Ok(ev) = s.events.try_recv() {
        assert!(!matches!(&ev, Event::Received(t) if t.name == FW), "the sixth started while five ran: {ev:?}");
        if let Event::Completed(r) = ev {
            s.records.push(r);
        }
    }
    // ...until one of the five ends (its reader goes away).
    drop(held_tcp.remove(0));
    let out = rx.recv_timeout(WAIT).expect("the sixth completes once a slot is free");
    sixth.join().unwrap();
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    assert!(out.starts_with(b"HTTP/1.1 200"), "{}", text(&out[..head_end]));
    assert!(out[head_end + 4..] == s.files_fw(), "the sixth got the whole image");
    let r = s.record(|r| r.path == format!("/{FW}"));
    assert_eq!(r.outcome, Outcome::Served);
    assert!(
        r.explanation.contains("for a firmware transfer slot ([firmware] max_transfers = 5 at once)"),
        "{}",
        r.explanation
    );
    eprintln!("the sixth transfer waited {:?} and then completed", waited_from.elapsed());
    let t0 = Instant::now();
    s.sup.stop();
    assert!(t0.elapsed() < STOP_BOUND, "stop took {:?}", t0.elapsed());
    drop((held_tcp, held_udp));
}

/// `xmllint --noout` on `bytes`: the file is well-formed XML (libxml2-utils, .ci/run).
fn xmllint_ok(bytes: &[u8], what: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phonebook.xml");
    std::fs::write(&path, bytes).unwrap();
    let o = Command::new("xmllint")
        .arg("--noout")
        .arg(&path)
        .output()
        .expect("xmllint is installed (libxml2-utils, .ci/run)");
    assert!(o.status.success(), "{what}: xmllint: {}\n{}", text(&o.stderr), text(bytes));
}

#[test]
fn the_site_phonebook_is_served_over_http_and_tftp_and_is_well_formed() {
    let dir = tempfile::tempdir().unwrap();
    let site = demo_into(dir.path());
    let mut toml = std::fs::read_to_string(&site).unwrap();
    toml.push_str(
        "\n[phonebook]\nenabled = true\n\n[[phonebook.contacts]]\nfirst_name = \"Smith & <Sons>\"\n\
         last_name = \"Zoë\"\nnumber = \"0441234567\"\ngroup = \"Outside\"\n",
    );
    std::fs::write(&site, toml).unwrap();
    let (child, lines, seen, http) = serve_http_only(&site, &["--tftp-port", "0"]);
    let tftp: SocketAddr = seen
        .iter()
        .find_map(|l| l.strip_prefix("TFTP  listening on "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("a TFTP listening line: {seen:#?}"));
    // HTTP, as the phone asks: <P331>/phonebook.xml.
    let (rc, code, over_http) = curl(&[&format!("http://{http}/phonebook.xml")]);
    assert_eq!((rc, code), (0, 200), "{}", text(&over_http));
    xmllint_ok(&over_http, "HTTP");
    // TFTP with tftp-hpa.
    let out = dir.path().join("got.xml");
    let o = Command::new("tftp")
        .args(["127.0.0.1", &tftp.port().to_string(), "-m", "binary", "-c", "get", "phonebook.xml"])
        .arg(&out)
        .output()
        .expect("tftp-hpa is installed (.ci/run)");
    assert!(o.status.success(), "{}", text(&o.stderr));
    let over_tftp = std::fs::read(&out).unwrap();
    assert_eq!(over_tftp, over_http);
    xmllint_ok(&over_tftp, "TFTP");
    let book = text(&over_http);
    assert!(
        book.contains("<FirstName>Reception</FirstName>") && book.contains("<phonenumber>201</phonenumber>"),
        "{book}"
    );
    assert!(book.contains("<FirstName>Smith &amp; &lt;Sons&gt;</FirstName>") && book.contains("Zoë"), "{book}");
    assert!(book.contains("<name>Outside</name>"), "{book}");
    // The devices are told where to fetch it: P331 follows the config server path P237.
    let mut c = gsprov();
    c.args(["fetch", "--as", "000b82a1b201", "--site", site.to_str().unwrap()])
        .arg(format!("http://{http}/cfg000b82a1b201.xml"));
    let o = run(&mut c);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let cfg = text(&o.stdout);
    assert!(
        cfg.contains("P330 = 1") && cfg.contains("P331 = 192.168.10.5:8080") && cfg.contains("P332 = 720"),
        "{cfg}"
    );
    let (_, err) = interrupt_and_collect(child, lines);
    assert!(!err.contains("phonebook"), "no phonebook warning for this site: {err}");
}

/// Keeps this thread on `cpu` (the test's client changes CPU on purpose).
#[cfg(target_os = "linux")]
#[expect(unsafe_code, reason = "sched_setaffinity has no safe wrapper in std; it only reads a local set")]
fn run_on(cpu: usize) {
    // SAFETY: an all-zero set is valid; cpu comes from the allowed set (< CPU_SETSIZE).
    let ok = unsafe {
        let mut one: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut one);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &one)
    };
    assert_eq!(ok, 0, "sched_setaffinity to CPU {cpu}");
}

/// The CPUs this thread may run on.
#[cfg(target_os = "linux")]
#[expect(
    unsafe_code,
    reason = "sched_getaffinity and CPU_ISSET have no safe wrapper in std; they only touch a local set"
)]
fn allowed_cpus() -> Vec<usize> {
    // SAFETY: an all-zero set is valid; the call writes at most its size; indexes stay below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        assert_eq!(libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set), 0);
        (0..libc::CPU_SETSIZE as usize).filter(|&c| libc::CPU_ISSET(c, &set)).collect()
    }
}

/// A kept-alive HTTP connection moves to the runtime of the CPU its packets
/// arrive on, and again when the client's packets start arriving on another
/// (the server looks every 64 requests). One whose client changes CPU twice is
/// served whole: every response complete and in order, every request recorded
/// once.
#[cfg(target_os = "linux")]
#[test]
fn a_kept_alive_connection_is_served_whole_while_its_client_changes_cpu() {
    let mut s = Server::start(site(2));
    let cpus = allowed_cpus();
    let m = mac(0);
    let want = s.files[&format!("cfg{m}.xml")].clone();
    let other = mac(1);
    let want_other = s.files[&format!("cfg{other}.xml")].clone();
    let agent = ua(&m, "GXP2170");
    let addr = s.http;
    let n = 3 * 64 + 7;
    let client = std::thread::Builder::new()
        .name("client".into())
        .spawn(move || {
            run_on(cpus[0]);
            let mut c = TcpStream::connect(addr).unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut pending = Vec::new();
            for i in 0..n {
                if i % 64 == 0 {
                    run_on(cpus[(i / 64) % cpus.len()]);
                }
                // Two files in turn: a response in the wrong place would show.
                let (file, body) = if i % 2 == 0 { (&m, &want) } else { (&other, &want_other) };
                let req = format!("GET /cfg{file}.xml HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {agent}\r\n\r\n");
                c.write_all(req.as_bytes()).unwrap();
                let (head, got) = read_response(&mut c, &mut pending);
                assert!(head.starts_with("HTTP/1.1 200 "), "request {i}: {head}");
                assert_eq!(&got, body, "request {i}");
            }
        })
        .unwrap();
    client.join().unwrap();
    s.wait_records(n);
    let served = s.records.iter().filter(|r| r.protocol == Protocol::Http && r.outcome == Outcome::Served).count();
    assert_eq!(served, n);
}

/// One response from a kept-alive connection: its head and its body (by
/// Content-Length); bytes read past it stay in `pending`.
#[cfg(target_os = "linux")]
fn read_response(c: &mut TcpStream, pending: &mut Vec<u8>) -> (String, Vec<u8>) {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse().ok())
                .expect("Content-Length");
            while pending.len() < end + 4 + len {
                let got = c.read(&mut chunk).unwrap();
                assert!(got > 0, "connection closed inside a response");
                pending.extend_from_slice(&chunk[..got]);
            }
            let body = pending[end + 4..end + 4 + len].to_vec();
            pending.drain(..end + 4 + len);
            return (head, body);
        }
        let got = c.read(&mut chunk).unwrap();
        assert!(got > 0, "connection closed before a response");
        pending.extend_from_slice(&chunk[..got]);
    }
}
