//! A simulated Grandstream device for the tests, written apart from gsprov's
//! own code (its digest check hashes with the md-5 crate directly): a SIP UA
//! that challenges a resync/check-sync NOTIFY with digest, answers 200 to the
//! right credentials and then fetches its config from gsprov over HTTP (raw
//! HTTP/1.0 over a TcpStream); a web API (`api-get_accounts`,
//! `api-sys_operation`, `dologin`, `api.values.get`); a syslog sender.
//!
//! It binds only the address it is given (127.0.0.x, or an address inside a
//! test's own network namespace). Its threads end when it is dropped.
#![allow(dead_code, reason = "each test binary uses part of it (allow, not expect: some use all of it)")]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use md5::Digest as _;

/// What the device did, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// A NOTIFY arrived (`authorized`: it carried the right digest).
    Notify {
        event: String,
        cseq: u32,
        authorized: bool,
        has_authorization: bool,
    },
    /// The device answered a NOTIFY with this code.
    Answered(u16),
    Rebooted,
    /// It fetched this URL and got this HTTP status and body size.
    Fetched {
        url: String,
        status: u16,
        bytes: usize,
    },
    /// A web API call (path and query, passcode masked).
    Api(String),
}

/// How the simulated device behaves.
#[derive(Debug, Clone)]
pub struct Config {
    pub mac: String,
    pub model: String,
    pub firmware: String,
    pub ip: IpAddr,
    /// `Some((user, password))`: challenge NOTIFYs (P4428 = 0); `None`: accept them (P4428 = 1).
    pub sip_auth: Option<(String, String)>,
    /// Never answer SIP (counts what arrives).
    pub silent: bool,
    /// Where to fetch the config from after a 200 (`http://127.0.0.1:8080/`).
    pub config_url: Option<String>,
    /// Admin password (P2) = CTI passcode.
    pub passcode: String,
    /// Per account: registered?
    pub registered: Vec<bool>,
    /// What `api.values.get` answers.
    pub values: BTreeMap<String, String>,
    /// The web API's port (0: any free one; 80 only inside a test's namespace).
    pub web_port: u16,
    /// Speak the challenge generation (GXP21xx 1.0.11+, WP8x6, as two public
    /// clients describe it): `access` token, `dologin` with
    /// sha256(password + token), `config_get`; Origin and Referer required.
    pub challenge: bool,
    /// Failed logins left before the login locks (challenge generation).
    pub attempts_left: u8,
    /// Web access over HTTPS only: the web port answers every request with a
    /// redirect to an HTTPS port (a self-signed certificate), where the API is.
    pub https: bool,
    /// The NOTIFY events it acts on (by prefix); others get 489 Bad Event.
    pub events: Vec<&'static str>,
    /// One web session at a time: after this many reads (`api.values.get`,
    /// `config_get`) someone logs in to its web page, which ends our
    /// session; later requests with our sid get HTTP 401 (as a Grandstream
    /// GRP browser extension expects after "a login elsewhere changed the sid").
    pub taken_after: Option<usize>,
    /// The full configuration dump the `POST dologin` generation offers after
    /// a login (HT8xx V2, as third-party write-ups describe it: `GET
    /// /cgi-bin/download_cfg_xml?session_token=` answers gs_provision XML,
    /// `GET /cgi-bin/download_cfg?session_token=` `P<n>=value` lines, both as
    /// `application/octet-stream`); the other form answers 404. `None`: both
    /// refused (the error every unknown `/cgi-bin/` path gets).
    pub dump: Option<Dump>,
    /// The legacy generation (Oxidized's GrandStream model): no `access`
    /// (404), `POST dologin` 405, `GET /cgi-bin/dologin?password=PW` answers
    /// `{"body":{"sid":"..."}}`, `GET /cgi-bin/download_cfg?sid=` the text
    /// dump. A wrong password answers `{"response":"error","body":"failed"}`
    /// (an assumption: no public source shows that answer).
    pub legacy: bool,
}

/// The form of a full configuration dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dump {
    Text,
    Xml,
}

impl Config {
    pub fn new(mac: &str, ip: &str) -> Config {
        Config {
            mac: mac.into(),
            model: "GRP2612W".into(),
            firmware: "1.0.5.67".into(),
            ip: ip.parse().unwrap(),
            sip_auth: None,
            silent: false,
            config_url: None,
            passcode: "admin-pw".into(),
            registered: vec![true],
            values: BTreeMap::new(),
            web_port: 0,
            challenge: false,
            attempts_left: 5,
            https: false,
            events: vec!["resync", "check-sync"],
            taken_after: None,
            dump: None,
            legacy: false,
        }
    }
}

pub struct Device {
    pub sip: SocketAddr,
    pub http: SocketAddr,
    seen: Receiver<Seen>,
    pub log: Vec<Seen>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

fn sha256_hex(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn md5_hex(s: &str) -> String {
    md5::Md5::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `k="v", k=v` pairs of a Digest header.
fn params(v: &str) -> BTreeMap<String, String> {
    let rest = v.trim().strip_prefix("Digest").unwrap_or(v);
    let mut out = BTreeMap::new();
    for part in rest.split(',') {
        if let Some((k, v)) = part.split_once('=') {
            out.insert(k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string());
        }
    }
    out
}

fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

impl Device {
    pub fn start(cfg: Config) -> Device {
        let sip = UdpSocket::bind(SocketAddr::new(cfg.ip, 0)).expect("bind the device's SIP port");
        sip.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let http = TcpListener::bind(SocketAddr::new(cfg.ip, cfg.web_port)).expect("bind the device's web port");
        http.set_nonblocking(true).unwrap();
        let (tx, seen) = channel();
        let stop = Arc::new(AtomicBool::new(false));
        let (sip_addr, http_addr) = (sip.local_addr().unwrap(), http.local_addr().unwrap());
        let cfg = Arc::new(cfg);
        let t1 = {
            let (cfg, tx, stop) = (cfg.clone(), tx.clone(), stop.clone());
            std::thread::Builder::new()
                .name("device sip".into())
                .spawn(move || sip_loop(&sip, &cfg, &tx, &stop))
                .unwrap()
        };
        let mut threads = vec![t1];
        let mode = if cfg.https {
            let tls = TcpListener::bind(SocketAddr::new(cfg.ip, 0)).expect("bind the device's HTTPS port");
            tls.set_nonblocking(true).unwrap();
            let port = tls.local_addr().unwrap().port();
            let (cfg, tx, stop) = (cfg.clone(), tx.clone(), stop.clone());
            let config = tls_config(cfg.ip);
            threads.push(
                std::thread::Builder::new()
                    .name("device https".into())
                    .spawn(move || http_loop(&tls, &cfg, &tx, &stop, &Mode::Tls(config)))
                    .unwrap(),
            );
            Mode::Redirect(port)
        } else {
            Mode::Plain
        };
        let t2 = {
            let (cfg, stop) = (cfg.clone(), stop.clone());
            std::thread::Builder::new()
                .name("device http".into())
                .spawn(move || http_loop(&http, &cfg, &tx, &stop, &mode))
                .unwrap()
        };
        threads.push(t2);
        Device { sip: sip_addr, http: http_addr, seen, log: Vec::new(), stop, threads }
    }

    /// Waits (up to `within`) until `pred` holds for something the device did.
    pub fn wait(&mut self, what: &str, within: Duration, pred: impl Fn(&Seen) -> bool) -> Seen {
        if let Some(s) = self.log.iter().find(|s| pred(s)) {
            return s.clone();
        }
        let end = Instant::now() + within;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.seen.recv_timeout(left) {
                Ok(s) => {
                    self.log.push(s.clone());
                    if pred(&s) {
                        return s;
                    }
                }
                Err(_) => panic!("the device never saw {what}; it saw {:#?}", self.log),
            }
        }
    }

    /// Everything seen so far (without waiting).
    pub fn drain(&mut self) -> &[Seen] {
        while let Ok(s) = self.seen.try_recv() {
            self.log.push(s);
        }
        &self.log
    }

    /// Sends one syslog datagram from the device's address to `to`.
    pub fn syslog(&self, to: SocketAddr, bytes: &[u8]) {
        let s = UdpSocket::bind(SocketAddr::new(self.sip.ip(), 0)).unwrap();
        s.send_to(bytes, to).unwrap();
    }
}

impl Drop for Device {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn sip_loop(sock: &UdpSocket, cfg: &Config, tx: &Sender<Seen>, stop: &AtomicBool) {
    let mut buf = [0u8; 8192];
    let nonce = format!("{:x}", Instant::now().elapsed().as_nanos() ^ 0x5eed_1234);
    while !stop.load(Ordering::SeqCst) {
        let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        if !msg.starts_with("NOTIFY ") {
            continue;
        }
        let uri = msg.split_whitespace().nth(1).unwrap_or("").to_string();
        let event = header(&msg, "Event").unwrap_or("").to_string();
        let cseq: u32 = header(&msg, "CSeq").and_then(|c| c.split_whitespace().next()?.parse().ok()).unwrap_or(0);
        let auth = header(&msg, "Authorization");
        let authorized = match (&cfg.sip_auth, auth) {
            (None, _) => true,
            (Some((user, pw)), Some(a)) => {
                let p = params(a);
                let ha1 = md5_hex(&format!("{user}:gs-device:{pw}"));
                let ha2 = md5_hex(&format!("NOTIFY:{uri}"));
                let expect = match p.get("qop") {
                    Some(q) => md5_hex(&format!(
                        "{ha1}:{}:{}:{}:{q}:{ha2}",
                        p.get("nonce").map_or("", String::as_str),
                        p.get("nc").map_or("", String::as_str),
                        p.get("cnonce").map_or("", String::as_str)
                    )),
                    None => md5_hex(&format!("{ha1}:{}:{ha2}", p.get("nonce").map_or("", String::as_str))),
                };
                p.get("username") == Some(user)
                    && p.get("nonce") == Some(&nonce)
                    && p.get("uri") == Some(&uri)
                    && p.get("response") == Some(&expect)
            }
            (Some(_), None) => false,
        };
        let _ = tx.send(Seen::Notify { event: event.clone(), cseq, authorized, has_authorization: auth.is_some() });
        if cfg.silent {
            continue;
        }
        let known = cfg.events.iter().any(|e| event == *e || event.starts_with(&format!("{e};")));
        let code = if !known {
            489
        } else if authorized {
            200
        } else {
            401
        };
        let reason = match code {
            200 => "OK",
            489 => "Bad Event",
            _ => "Unauthorized",
        };
        let mut r = format!("SIP/2.0 {code} {reason}\r\n");
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            if let Some(v) = header(&msg, name) {
                r.push_str(&format!("{name}: {v}\r\n"));
            }
        }
        if code == 401 {
            r.push_str(&format!(
                "WWW-Authenticate: Digest realm=\"gs-device\", nonce=\"{nonce}\", qop=\"auth\", algorithm=MD5\r\n"
            ));
        }
        r.push_str(&format!("User-Agent: Grandstream {} {}\r\nContent-Length: 0\r\n\r\n", cfg.model, cfg.firmware));
        let _ = sock.send_to(r.as_bytes(), from);
        let _ = tx.send(Seen::Answered(code));
        if code == 200 {
            if event.contains("reboot=true") {
                let _ = tx.send(Seen::Rebooted);
            }
            if let Some(base) = &cfg.config_url {
                let url = format!("{base}cfg{}.xml", cfg.mac);
                let (status, bytes) = http_get(cfg, &url);
                let _ = tx.send(Seen::Fetched { url, status, bytes });
            }
        }
    }
}

/// A device's HTTP/1.0 GET with its User-Agent, from its own address.
fn http_get(cfg: &Config, url: &str) -> (u16, usize) {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr: SocketAddr = host.parse().expect("IP:PORT in the URL");
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.bind(&SocketAddr::new(cfg.ip, 0).into()).unwrap();
    if sock.connect_timeout(&addr.into(), Duration::from_secs(5)).is_err() {
        return (0, 0);
    }
    let mut s: TcpStream = sock.into();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let ua = format!("Grandstream Model HW {} SW {} DevId {}", cfg.model, cfg.firmware, cfg.mac);
    let _ = write!(s, "GET /{path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: {ua}\r\n\r\n");
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let text = String::from_utf8_lossy(&all);
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.find("\r\n\r\n").map_or(0, |i| all.len() - i - 4);
    (status, body)
}

fn query(q: &str) -> BTreeMap<String, String> {
    q.split('&').filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.replace("%3A", ":"))).collect()
}

/// How a web listener answers.
enum Mode {
    Plain,
    /// Every request: `302 Location: https://<ip>:<port><target>`.
    Redirect(u16),
    /// The API over TLS.
    Tls(Arc<rustls::ServerConfig>),
}

/// A self-signed certificate for `ip`, made with rcgen directly.
fn tls_config(ip: IpAddr) -> Arc<rustls::ServerConfig> {
    let key = rcgen::generate_simple_self_signed(vec![ip.to_string()]).unwrap();
    let der = rustls::pki_types::PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![key.cert.der().clone()], der)
        .unwrap();
    Arc::new(config)
}

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

/// The device's full dump: every P-value it holds, its admin password (P2)
/// among them, as a real unit's holds its passwords.
fn dump_body(cfg: &Config, form: Dump) -> String {
    let mut values: BTreeMap<String, String> =
        cfg.values.iter().filter(|(k, _)| k.starts_with('P')).map(|(k, v)| (k.clone(), v.clone())).collect();
    values.insert("P2".into(), cfg.passcode.clone());
    match form {
        Dump::Text => values.iter().map(|(k, v)| format!("{k}={v}\r\n")).collect(),
        Dump::Xml => {
            let esc = |v: &str| v.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            let rows: String = values.iter().map(|(k, v)| format!("    <{k}>{}</{k}>\n", esc(v))).collect();
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gs_provision version=\"1\">\n  <mac>{}</mac>\n  <config version=\"1\">\n{rows}  </config>\n</gs_provision>\n",
                cfg.mac
            )
        }
    }
}

fn http_loop(listener: &TcpListener, cfg: &Config, tx: &Sender<Seen>, stop: &AtomicBool, mode: &Mode) {
    let sid = "sid-7f3a";
    let sessions: Mutex<bool> = Mutex::new(false);
    let token = "dG9rZW4tNzc";
    let attempts_left = Mutex::new(cfg.attempts_left);
    let mut reads = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let Ok((s, _)) = listener.accept() else {
            #[expect(
                clippy::disallowed_methods,
                reason = "a non-blocking accept polled with the stop flag: the simulated device has no async runtime"
            )]
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut s: Box<dyn Stream> = match mode {
            Mode::Tls(config) => {
                Box::new(rustls::StreamOwned::new(rustls::ServerConnection::new(config.clone()).unwrap(), s))
            }
            _ => Box::new(s),
        };
        let mut buf = vec![0u8; 16384];
        let mut got = 0;
        // Head, then the body Content-Length announces.
        let req = loop {
            match s.read(&mut buf[got..]) {
                Ok(0) | Err(_) => break String::from_utf8_lossy(&buf[..got]).into_owned(),
                Ok(n) => got += n,
            }
            let text = String::from_utf8_lossy(&buf[..got]).into_owned();
            if let Some(i) = text.find("\r\n\r\n") {
                let len: usize = header(&text[..i], "Content-Length").and_then(|v| v.parse().ok()).unwrap_or(0);
                if got >= i + 4 + len {
                    break text;
                }
            }
        };
        let line = req.lines().next().unwrap_or("");
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let (path, q) = target.split_once('?').unwrap_or((target, ""));
        let mut q = query(q);
        let masked: Vec<String> =
            q.iter()
                .map(|(k, v)| {
                    if k == "passcode" || k == "password" || k == "P2" {
                        format!("{k}=****")
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect();
        let _ = tx.send(Seen::Api(format!("{method} {path}?{}", masked.join("&"))));
        if let Mode::Redirect(port) = mode {
            let _ = write!(
                s,
                "HTTP/1.1 302 Found\r\nLocation: https://{}:{port}{target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                cfg.ip
            );
            continue;
        }
        let body = req.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        if method == "POST" {
            q.extend(query(body));
        }
        let pass_ok = q.get("passcode") == Some(&cfg.passcode);
        let browser_headers = header(&req, "Origin").is_some() && header(&req, "Referer").is_some();
        if matches!(path, "/cgi-bin/api.values.get" | "/cgi-bin/config_get") {
            reads += 1;
            if cfg.taken_after.is_some_and(|n| reads > n) {
                // Someone else's login took the one session: ours is gone.
                *sessions.lock().unwrap() = false;
                let json = "{\"response\":\"error\", \"body\": \"unauthorized\"}";
                let _ = write!(
                    s,
                    "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                    json.len()
                );
                continue;
            }
        }
        let cookie_ok = header(&req, "Cookie").is_some_and(|c| c.contains(sid));
        let (status, json, cookie) = match path {
            "/cgi-bin/access" if cfg.legacy => (404, String::new(), None),
            "/cgi-bin/dologin" if cfg.legacy && method == "POST" => (405, String::new(), None),
            "/cgi-bin/dologin" if cfg.legacy => {
                if q.get("password") == Some(&cfg.passcode) {
                    *sessions.lock().unwrap() = true;
                    (200, format!("{{\"body\": {{\"sid\": \"{sid}\"}}}}"), None)
                } else {
                    (200, "{\"response\":\"error\", \"body\": \"failed\"}".to_string(), None)
                }
            }
            "/cgi-bin/download_cfg" if cfg.legacy => {
                if *sessions.lock().unwrap() && q.get("sid").map(String::as_str) == Some(sid) {
                    (200, dump_body(cfg, Dump::Text), None)
                } else {
                    (200, "{\"response\":\"error\", \"body\": \"session-expired\"}".to_string(), None)
                }
            }
            _ if cfg.legacy => (404, String::new(), None),
            "/cgi-bin/download_cfg_xml" | "/cgi-bin/download_cfg" if cfg.dump.is_some() => {
                let form = if path.ends_with("_xml") { Dump::Xml } else { Dump::Text };
                if cfg.dump != Some(form) {
                    (404, String::new(), None)
                } else if *sessions.lock().unwrap()
                    && (q.get("session_token").map(String::as_str) == Some(sid) || cookie_ok)
                {
                    (200, dump_body(cfg, form), None)
                } else {
                    (200, "{\"response\":\"error\", \"body\": \"session-expired\"}".to_string(), None)
                }
            }
            "/cgi-bin/access" | "/cgi-bin/dologin" | "/cgi-bin/config_get" if cfg.challenge && !browser_headers => {
                (403, String::new(), None)
            }
            "/cgi-bin/access" if cfg.challenge && method == "POST" => {
                if q.get("access") == Some(&sha256_hex("admin")) {
                    (200, format!("{{\"response\":\"success\", \"body\": \"{token}\"}}"), None)
                } else {
                    (200, "{\"response\":\"error\", \"body\": \"failed\"}".to_string(), None)
                }
            }
            "/cgi-bin/dologin" if cfg.challenge && method == "POST" => {
                let mut left = attempts_left.lock().unwrap();
                let right = q.get("username").map(String::as_str) == Some("admin")
                    && q.get("password") == Some(&sha256_hex(&format!("{}{token}", cfg.passcode)));
                if *left == 0 {
                    (200, "{\"response\":\"error\", \"body\": \"locked\"}".to_string(), None)
                } else if right {
                    *sessions.lock().unwrap() = true;
                    (
                        200,
                        format!("{{\"response\":\"success\", \"body\": {{\"sid\": \"{sid}\", \"role\": \"admin\"}}}}"),
                        None,
                    )
                } else {
                    *left -= 1;
                    let said = if *left == 0 { "locked".to_string() } else { format!("wrong{left}") };
                    (200, format!("{{\"response\":\"error\", \"body\": \"{said}\"}}"), None)
                }
            }
            "/cgi-bin/config_get" if cfg.challenge => {
                if *sessions.lock().unwrap() && q.get("sid").map(String::as_str) == Some(sid) {
                    // Only what the unit holds; other numbers are left out of the answer.
                    let rows: Vec<String> = q
                        .get("pvalues")
                        .map(|p| p.replace("%2C", ","))
                        .unwrap_or_default()
                        .split(',')
                        .filter_map(|code| {
                            let v = cfg.values.get(&format!("P{code}"))?;
                            Some(format!("{{\"alias\": \"\", \"pvalue\": \"{code}\", \"value\": \"{v}\"}}"))
                        })
                        .collect();
                    (200, format!("{{\"configs\": [{}]}}", rows.join(", ")), None)
                } else {
                    (200, "{\"response\":\"error\", \"body\": \"session-expired\"}".to_string(), None)
                }
            }
            "/cgi-bin/api-get_accounts" if pass_ok => {
                let accounts: Vec<String> = cfg
                    .registered
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        // Account 1's user ID is P35 when the device holds one.
                        let sip_id = match cfg.values.get("P35") {
                            Some(id) if i == 0 => id.clone(),
                            _ => (200 + i + 1).to_string(),
                        };
                        format!(
                            "{{\"id\": {}, \"sip_server\": \"pbx.example\", \"sip_id\": \"{}\", \"name\": \"a{}\", \"reg\": {}}}",
                            i + 1,
                            sip_id,
                            i + 1,
                            u8::from(*r)
                        )
                    })
                    .collect();
                (200, format!("{{\"response\":\"success\", \"body\": [{}]}}", accounts.join(", ")), None)
            }
            "/cgi-bin/api-sys_operation" if pass_ok => match q.get("request").map(String::as_str) {
                Some("REBOOT") => {
                    let _ = tx.send(Seen::Rebooted);
                    (200, "{\"response\":\"success\", \"body\": \"savereboot\"}".to_string(), None)
                }
                _ => (200, "{\"response\":\"error\", \"body\": \"unknown\"}".to_string(), None),
            },
            "/cgi-bin/dologin" if method == "POST" => {
                if q.get("username").map(String::as_str) == Some("admin") && q.get("password") == Some(&cfg.passcode) {
                    *sessions.lock().unwrap() = true;
                    (
                        200,
                        format!("{{\"response\":\"success\", \"body\": {{\"sid\": \"{sid}\", \"role\": \"admin\"}}}}"),
                        Some(format!("session-identity={sid}; HttpOnly")),
                    )
                } else {
                    (200, "{\"response\":\"error\", \"body\": \"failed\"}".to_string(), None)
                }
            }
            "/cgi-bin/api.values.get" => {
                if *sessions.lock().unwrap() && (q.get("sid").map(String::as_str) == Some(sid) || cookie_ok) {
                    let wanted = q.get("request").cloned().unwrap_or_default();
                    let vals: Vec<String> = wanted
                        .split(':')
                        .map(|k| {
                            let v = match k {
                                "sw_version" | "68" => cfg.firmware.clone(),
                                "phone_model" => cfg.model.clone(),
                                k => cfg.values.get(k).cloned().unwrap_or_default(),
                            };
                            format!("\"{k}\": \"{v}\"")
                        })
                        .collect();
                    (200, format!("{{\"response\":\"success\", \"body\": {{{}}}}}", vals.join(", ")), None)
                } else {
                    (200, "{\"response\":\"error\", \"body\": \"session-expired\"}".to_string(), None)
                }
            }
            p if p.starts_with("/cgi-bin/") => {
                (200, "{\"response\":\"error\", \"body\": \"unauthorized\"}".to_string(), None)
            }
            _ => (404, String::new(), None),
        };
        let ctype = if path.starts_with("/cgi-bin/download_cfg") && status == 200 && !json.starts_with('{') {
            "application/octet-stream\r\nContent-Disposition: attachment; filename=config.txt"
        } else {
            "application/json"
        };
        let mut head = format!(
            "HTTP/1.1 {status} OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n",
            json.len()
        );
        if let Some(c) = cookie {
            head.push_str(&format!("Set-Cookie: {c}\r\n"));
        }
        let _ = write!(s, "{head}\r\n{json}");
        let _ = s.flush();
    }
}
