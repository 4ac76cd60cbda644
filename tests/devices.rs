//! Closing the loop with devices: `gsprov notify`, `gsprov check-device` and
//! `serve --syslog` against a simulated Grandstream device (tests/device) and
//! `sipp` as a second, independent SIP peer. Every test runs inside a private
//! network namespace it creates (tests/netns: only a loopback, no route out);
//! gsprov listens on 127.0.0.1, devices on 127.0.0.2, .3, ... of that
//! namespace's own loopback. Nothing synchronises with sleeps: tests wait on
//! the device's events, gsprov's output or process exit, with timeouts.

mod device;
mod netns;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use device::{Config, Device, Seen};
use gsprov::site::{Account, Device as SiteDevice, Site};

const WAIT: Duration = Duration::from_secs(20);
const MAC_A: &str = "000b82a1b201";
const MAC_B: &str = "000b82a1b202";

fn gsprov() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gsprov"))
}

/// Runs the calling test inside its own network namespace (see `netns::enter`):
/// in the namespace, a fresh folder with [`write_site`]'s site in it; in the
/// parent, which only waits for that child, `None`.
fn in_namespace(test: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    netns::enter(test)?;
    let dir = tempfile::tempdir().unwrap();
    let site = write_site(dir.path());
    Some((dir, site))
}

/// A site with two GRP2612W, each with one account (201/sip-201, 202/sip-202), admin password P2.
fn write_site(dir: &Path) -> PathBuf {
    let mut s = Site { name: "loop".into(), ..Site::default() };
    s.defaults.set("P212", "1");
    s.defaults.set("P64", "auto");
    for (mac, ext) in [(MAC_A, "201"), (MAC_B, "202")] {
        let mut d = SiteDevice::new(mac.parse().unwrap(), "GRP2612W".parse().unwrap());
        d.accounts.push(Account { user_id: ext.into(), password: format!("sip-{ext}"), ..Account::default() });
        d.values.set("P2", "admin-pw");
        s.devices.push(d);
    }
    let path = dir.join("loop.gsprov.toml");
    gsprov::storage::save_site(&path, &s).unwrap();
    path
}

/// `gsprov serve --json` on 127.0.0.1 (HTTP on a free port; syslog optional), its lines on a channel.
struct Serve {
    child: Child,
    lines: Receiver<serde_json::Value>,
    seen: Vec<serde_json::Value>,
}

impl Serve {
    fn start(site: &Path, extra: &[&str]) -> Serve {
        let mut child = gsprov()
            .arg("serve")
            .arg(site)
            .args(["--bind", "127.0.0.1", "--http-port", "0", "--no-tftp", "--no-https", "--json"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("serve stdout".into())
            .spawn(move || {
                for l in BufReader::new(out).lines().map_while(Result::ok) {
                    let v = serde_json::from_str(&l).unwrap_or_else(|e| panic!("{l}: {e}"));
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            })
            .unwrap();
        Serve { child, lines, seen: Vec::new() }
    }

    fn wait(&mut self, what: &str, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        if let Some(v) = self.seen.iter().find(|v| pred(v)) {
            return v.clone();
        }
        let end = Instant::now() + WAIT;
        loop {
            let v = self
                .lines
                .recv_timeout(end.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("serve never printed {what}; printed {:#?}", self.seen));
            self.seen.push(v.clone());
            if pred(&v) {
                return v;
            }
        }
    }

    fn started(&mut self, protocol: &str) -> SocketAddr {
        let v = self.wait(protocol, |v| v["event"] == "started" && v["protocol"] == protocol);
        v["addr"].as_str().unwrap().parse().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
        let end = Instant::now() + WAIT;
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            #[expect(
                clippy::disallowed_methods,
                reason = "polling a child process towards a deadline: try_wait has no timeout"
            )]
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn notify(args: &[&str]) -> (Output, Vec<serde_json::Value>) {
    let o = gsprov().arg("notify").args(args).arg("--json").output().unwrap();
    let lines = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (o, lines)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ---------------------------------------------------------------- notify

#[test]
fn resync_without_auth_is_accepted_and_the_device_fetches_its_config() {
    let Some((_dir, site)) = in_namespace("resync_without_auth_is_accepted_and_the_device_fetches_its_config") else {
        return;
    };
    let mut serve = Serve::start(&site, &[]);
    let http = serve.started("http");
    let mut dev =
        Device::start(Config { config_url: Some(format!("http://{http}/")), ..Config::new(MAC_A, "127.0.0.2") });

    let to = dev.sip.to_string();
    let (o, lines) = notify(&["resync", site.to_str().unwrap(), MAC_A, "--to", &to]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["result"], "accepted", "{}", lines[0]);
    assert_eq!(lines[0]["code"], 200);
    assert_eq!(lines[0]["account"], serde_json::Value::Null, "no challenge, no credentials used");
    assert_eq!(lines[0]["mac"], MAC_A);
    assert_eq!(lines[0]["sends"], 1);

    let n = dev.wait("the NOTIFY", WAIT, |s| matches!(s, Seen::Notify { .. }));
    assert_eq!(n, Seen::Notify { event: "resync".into(), cseq: 1, authorized: true, has_authorization: false });
    let f = dev.wait("its config fetch", WAIT, |s| matches!(s, Seen::Fetched { .. }));
    let Seen::Fetched { status, bytes, .. } = f else { unreachable!() };
    assert_eq!(status, 200);
    assert!(bytes > 100, "{bytes}");
    assert!(!dev.drain().contains(&Seen::Rebooted), "resync does not reboot");
    // gsprov's own log shows the fetch, from the device's address.
    let r = serve.wait("the device's request", |v| v["event"] == "request" && v["mac"] == MAC_A);
    assert_eq!(r["result"], "served", "{r}");
    assert!(r["client"].as_str().unwrap().starts_with("127.0.0.2:"), "{r}");
}

#[test]
fn a_challenge_is_answered_with_the_accounts_digest_and_reboot_reboots() {
    let Some((_dir, site)) = in_namespace("a_challenge_is_answered_with_the_accounts_digest_and_reboot_reboots") else {
        return;
    };
    let mut dev =
        Device::start(Config { sip_auth: Some(("201".into(), "sip-201".into())), ..Config::new(MAC_A, "127.0.0.2") });
    let to = dev.sip.to_string();
    let (o, lines) = notify(&["reboot", site.to_str().unwrap(), MAC_A, "--to", &to]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(lines[0]["result"], "accepted", "{}", lines[0]);
    assert_eq!(lines[0]["account"], 1);
    assert_eq!(lines[0]["sends"], 2);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("sip-201"), "the password is never printed");
    assert!(!stderr(&o).contains("sip-201"));
    let log = dev.wait("the reboot", WAIT, |s| *s == Seen::Rebooted);
    assert_eq!(log, Seen::Rebooted);
    let seen = dev.drain().to_vec();
    let notifies: Vec<_> = seen.iter().filter(|s| matches!(s, Seen::Notify { .. })).collect();
    assert_eq!(
        notifies,
        [
            &Seen::Notify {
                event: "check-sync;reboot=true".into(),
                cseq: 1,
                authorized: false,
                has_authorization: false
            },
            &Seen::Notify {
                event: "check-sync;reboot=true".into(),
                cseq: 2,
                authorized: true,
                has_authorization: true
            },
        ]
    );
}

#[test]
fn wrong_credentials_are_reported_as_such() {
    let Some((_dir, site)) = in_namespace("wrong_credentials_are_reported_as_such") else { return };
    let mut dev = Device::start(Config {
        sip_auth: Some(("201".into(), "not-the-sites".into())),
        ..Config::new(MAC_A, "127.0.0.2")
    });
    let to = dev.sip.to_string();
    let (o, lines) = notify(&["resync", site.to_str().unwrap(), MAC_A, "--to", &to]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(lines[0]["result"], "wrong_credentials", "{}", lines[0]);
    assert_eq!(lines[0]["code"], 401);
    let why = lines[0]["explanation"].as_str().unwrap();
    assert!(why.contains("credentials differ from the site's"), "{why}");
    assert!(stderr(&o).contains("1 of 1 device(s) did not take the re-provision"), "{}", stderr(&o));
    let seen = dev.drain().to_vec();
    assert_eq!(seen.iter().filter(|s| **s == Seen::Answered(401)).count(), 2, "{seen:?}");
    assert!(!seen.contains(&Seen::Answered(200)));
}

#[test]
fn a_silent_device_gets_retransmissions_then_a_clear_timeout() {
    let Some((_dir, site)) = in_namespace("a_silent_device_gets_retransmissions_then_a_clear_timeout") else { return };
    let mut dev = Device::start(Config { silent: true, ..Config::new(MAC_A, "127.0.0.2") });
    let to = dev.sip.to_string();
    let start = Instant::now();
    // T1 = 20 ms: sends at 0, 20, 60, 140, 300, 460, ... 1260 ms; given up at 64·T1 = 1.28 s.
    let (o, lines) = notify(&["resync", site.to_str().unwrap(), MAC_A, "--to", &to, "--t1-ms", "20"]);
    let took = start.elapsed();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(lines[0]["result"], "no_answer", "{}", lines[0]);
    assert_eq!(lines[0]["sends"], 11);
    assert_eq!(lines[0]["waited_ms"], 1280);
    assert!(lines[0]["explanation"].as_str().unwrap().starts_with("no answer after 11 NOTIFYs over 1.3 s"));
    assert!(took < Duration::from_secs(10), "{took:?}");
    let seen = dev.drain().to_vec();
    let n = seen.iter().filter(|s| matches!(s, Seen::Notify { cseq: 1, .. })).count();
    assert_eq!(n, 11, "every retransmission arrived, same transaction: {seen:?}");
}

#[test]
fn a_closed_port_is_reported_unreachable_and_unknown_macs_are_refused() {
    let Some((_dir, site)) = in_namespace("a_closed_port_is_reported_unreachable_and_unknown_macs_are_refused") else {
        return;
    };
    // A port nobody listens on: the kernel answers ICMP port unreachable.
    let closed = std::net::UdpSocket::bind("127.0.0.2:0").unwrap().local_addr().unwrap();
    let (o, lines) = notify(&["resync", site.to_str().unwrap(), MAC_A, "--to", &closed.to_string()]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(lines[0]["result"], "unreachable", "{}", lines[0]);
    assert!(lines[0]["why"].as_str().unwrap().contains("ICMP port unreachable"), "{}", lines[0]);

    let (o, lines) = notify(&["resync", site.to_str().unwrap(), "c074ad000001", "--to", "127.0.0.2"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(lines.is_empty());
    assert!(stderr(&o).contains("c074ad000001 is not a device of"), "{}", stderr(&o));
    // No --to and never seen: no address, nothing sent.
    let (o, _) = notify(&["resync", site.to_str().unwrap(), MAC_B]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no address known for 000b82a1b202"), "{}", stderr(&o));
    // --to names one device.
    let (o, _) = notify(&["resync", site.to_str().unwrap(), MAC_A, MAC_B, "--to", "127.0.0.2"]);
    assert!(stderr(&o).contains("give one MAC"), "{}", stderr(&o));
}

#[test]
fn two_devices_found_by_their_requests_are_notified_paced() {
    let Some((_dir, site)) = in_namespace("two_devices_found_by_their_requests_are_notified_paced") else { return };
    let mut serve = Serve::start(&site, &[]);
    let http = serve.started("http");
    let url = Some(format!("http://{http}/"));
    let mut a = Device::start(Config { config_url: url.clone(), ..Config::new(MAC_A, "127.0.0.2") });
    let mut b = Device::start(Config { config_url: url, ..Config::new(MAC_B, "127.0.0.3") });
    // The first NOTIFY (by --to) makes each fetch: now the request log knows their addresses.
    for (d, mac) in [(&mut a, MAC_A), (&mut b, MAC_B)] {
        let (o, _) = notify(&["resync", site.to_str().unwrap(), mac, "--to", &d.sip.to_string()]);
        assert!(o.status.success(), "{}", stderr(&o));
        d.wait("a fetch", WAIT, |s| matches!(s, Seen::Fetched { status: 200, .. }));
        serve.wait("the fetch logged", |v| v["event"] == "request" && v["mac"] == mac);
    }
    drop(serve); // the log is flushed when serve stops
    // Without --to the address comes from the request log; the SIP port is the site's (5060),
    // where nobody listens in this namespace: so both are unreachable, which proves the lookup.
    let start = Instant::now();
    let (o, lines) = notify(&["resync", site.to_str().unwrap(), MAC_A, MAC_B, "--interval-ms", "300"]);
    assert_eq!(o.status.code(), Some(1));
    let addrs: Vec<&str> = lines.iter().map(|l| l["addr"].as_str().unwrap()).collect();
    assert_eq!(addrs, ["127.0.0.2:5060", "127.0.0.3:5060"], "{lines:?}");
    assert!(lines.iter().all(|l| l["result"] == "unreachable"), "{lines:?}");
    assert!(start.elapsed() >= Duration::from_millis(300), "paced: the second starts 300 ms after the first");
}

// ---------------------------------------------------------------- check-device

fn check_device(args: &[&str]) -> (Output, Vec<serde_json::Value>) {
    let o = gsprov().arg("check-device").args(args).arg("--json").output().unwrap();
    let lines = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (o, lines)
}

/// What the site serves `mac` (every layered value), as a device that applied it holds it.
fn applied_values(site: &Path, mac: &str) -> std::collections::BTreeMap<String, String> {
    let s = gsprov::storage::load_site(site).unwrap();
    let d = s.device(mac.parse().unwrap()).unwrap();
    s.effective(d).0.into_iter().map(|(k, v)| (k, v.value)).collect()
}

#[test]
fn check_device_reads_registration_firmware_and_finds_the_config_applied() {
    let Some((_dir, site)) = in_namespace("check_device_reads_registration_firmware_and_finds_the_config_applied")
    else {
        return;
    };
    let mut dev = Device::start(Config {
        registered: vec![true, false],
        values: applied_values(&site, MAC_A),
        ..Config::new(MAC_A, "127.0.0.2")
    });
    let to = dev.http.to_string();
    let (o, lines) = check_device(&[site.to_str().unwrap(), MAC_A, "--to", &to]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(lines.len(), 1, "{lines:?}");
    let r = &lines[0];
    assert_eq!(r["result"], "applied", "{r}");
    assert_eq!(r["mac"], MAC_A);
    assert_eq!(r["firmware"], "1.0.5.67");
    assert_eq!(r["model"], "GRP2612W");
    assert_eq!(r["accounts"][0]["registered"], true, "{r}");
    assert_eq!(r["accounts"][0]["sip_id"], "201");
    assert_eq!(r["accounts"][1]["registered"], false);
    let checked: Vec<&str> = r["checked"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(checked.contains(&"P64") && checked.contains(&"P212"), "{checked:?}");
    assert!(!checked.contains(&"P2") && !checked.contains(&"P34"), "secrets are not read back: {checked:?}");
    let why = r["explanation"].as_str().unwrap();
    assert!(
        why.starts_with("account 1 (201) registered, account 2 (202) not registered; firmware 1.0.5.67; applied"),
        "{why}"
    );
    // The three documented calls, in order, the passcode never printed.
    let api: Vec<String> =
        dev.drain().iter().filter_map(|s| if let Seen::Api(a) = s { Some(a.clone()) } else { None }).collect();
    assert!(api.len() >= 3, "{api:?}");
    assert_eq!(api[0], "GET /cgi-bin/api-get_accounts?passcode=****");
    assert_eq!(api[1], "POST /cgi-bin/dologin?");
    assert!(api[2].starts_with("GET /cgi-bin/api.values.get?request=phone_model:sw_version:P"), "{}", api[2]);
    // The read-back in requests short enough for an unpatched GXP16xx (CVE-2026-2329: a 64-byte buffer).
    for a in &api[2..] {
        assert!(a.starts_with("GET /cgi-bin/api.values.get?request="), "{a}");
        let list = a.split("request=").nth(1).unwrap().split('&').next().unwrap();
        assert!(list.len() <= 60, "{list}");
    }
    for out in [String::from_utf8_lossy(&o.stdout).into_owned(), stderr(&o)] {
        assert!(!out.contains("admin-pw"), "P2 never printed: {out}");
    }
    // The plain line says the same.
    let o = gsprov().args(["check-device", site.to_str().unwrap(), MAC_A, "--to", &to]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.starts_with(&format!("{MAC_A} {to}: account 1 (201) registered")), "{text}");
    assert!(text.contains("applied ("), "{text}");
}

/// CVE-2026-2329 (GXP1610-1630 before 1.0.7.81: unauthenticated code execution
/// through the web API check-device talks to): the plain output warns, with the
/// fixed version; a unit on the fixed version gets no warning.
#[test]
fn check_device_flags_firmware_with_a_public_web_api_vulnerability() {
    let Some((_dir, site)) = in_namespace("check_device_flags_firmware_with_a_public_web_api_vulnerability") else {
        return;
    };
    let mut s = gsprov::storage::load_site(&site).unwrap();
    s.device_mut(MAC_A.parse().unwrap()).unwrap().model = "GXP1625".parse().unwrap();
    gsprov::storage::save_site(&site, &s).unwrap();
    for (firmware, flagged) in [("1.0.7.79", true), ("1.0.7.81", false)] {
        let dev = Device::start(Config {
            values: applied_values(&site, MAC_A),
            firmware: firmware.into(),
            model: "GXP1625".into(),
            ..Config::new(MAC_A, "127.0.0.2")
        });
        let o = gsprov()
            .args(["check-device", site.to_str().unwrap(), MAC_A, "--to", &dev.http.to_string()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        let warned = text.lines().any(|l| {
            l.starts_with(&format!("warning: {MAC_A}: CVE-2026-2329: firmware {firmware} of the GXP1625"))
                && l.contains("upgrade to 1.0.7.81 or later")
        });
        assert_eq!(warned, flagged, "{firmware}: {text}{}", stderr(&o));
    }
}

#[test]
fn check_device_tells_an_unregistered_device_whose_values_differ() {
    let Some((_dir, site)) = in_namespace("check_device_tells_an_unregistered_device_whose_values_differ") else {
        return;
    };
    let mut s = gsprov::storage::load_site(&site).unwrap();
    s.device_mut(MAC_B.parse().unwrap()).unwrap().values.set("P26015", "1");
    gsprov::storage::save_site(&site, &s).unwrap();
    let mut values = applied_values(&site, MAC_B);
    values.insert("P64".into(), "12".into());
    values.remove("P212");
    let dev = Device::start(Config {
        registered: vec![false],
        values,
        firmware: "1.0.3.9".into(),
        ..Config::new(MAC_B, "127.0.0.3")
    });
    let (o, lines) = check_device(&[site.to_str().unwrap(), MAC_B, "--to", &dev.http.to_string()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 of 1 device(s) are not confirmed to hold the served configuration"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("warning: the site sets P26015 (Allow SIP Reset) = 1 for 000b82a1b202"),
        "{}",
        stderr(&o)
    );
    let r = &lines[0];
    assert_eq!(r["result"], "differs", "{r}");
    assert_eq!(r["accounts"][0]["registered"], false);
    assert_eq!(r["firmware"], "1.0.3.9");
    let differs = r["differs"].as_array().unwrap();
    assert_eq!(differs.len(), 2, "{r}");
    assert!(differs.contains(&serde_json::json!({"p": "P64", "device": "12", "served": "auto"})), "{r}");
    assert!(differs.contains(&serde_json::json!({"p": "P212", "device": "", "served": "1"})), "{r}");
    let why = r["explanation"].as_str().unwrap();
    assert!(why.starts_with("account 1 (202) not registered; firmware 1.0.3.9; differs:"), "{why}");
    assert!(why.contains("P64 is 12, we served auto"), "{why}");
    assert!(why.contains("P212 is empty, we served 1"), "{why}");
}

#[test]
fn check_device_wrong_password_and_a_silent_device_end_clearly() {
    let Some((_dir, site)) = in_namespace("check_device_wrong_password_and_a_silent_device_end_clearly") else {
        return;
    };
    let dev = Device::start(Config { passcode: "the-devices-own".into(), ..Config::new(MAC_A, "127.0.0.2") });
    let (o, lines) = check_device(&[site.to_str().unwrap(), MAC_A, "--to", &dev.http.to_string()]);
    assert_eq!(o.status.code(), Some(1));
    let r = &lines[0];
    assert_eq!(r["result"], "wrong_password", "{r}");
    assert_eq!(r["accounts"], serde_json::Value::Null);
    assert!(r["accounts_error"].as_str().unwrap().contains("wrong passcode (P2)"), "{r}");
    let why = r["explanation"].as_str().unwrap();
    assert!(why.starts_with("the device refused the site's admin password (P2)"), "{why}");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("admin-pw"));

    // Silent: the kernel completes the TCP handshake (a listener that never accepts), nothing answers.
    let silent = std::net::TcpListener::bind("127.0.0.4:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let start = Instant::now();
    let (o, lines) = check_device(&[site.to_str().unwrap(), MAC_A, "--to", &addr, "--timeout", "1"]);
    let took = start.elapsed();
    assert_eq!(o.status.code(), Some(1));
    let r = &lines[0];
    assert_eq!(r["result"], "no_answer", "{r}");
    assert_eq!(
        r["explanation"],
        format!("no answer from {addr} within 1.0 s: is the device on, at this address, and its web port right?")
    );
    assert!(took >= Duration::from_secs(1) && took < Duration::from_secs(4), "one time-out, not three: {took:?}");
    // Nothing listens: unreachable at once.
    drop(silent);
    let (_, lines) = check_device(&[site.to_str().unwrap(), MAC_A, "--to", &addr, "--timeout", "1"]);
    assert_eq!(lines[0]["result"], "unreachable", "{}", lines[0]);
    // Only devices of the site.
    let (o, lines) = check_device(&[site.to_str().unwrap(), "c074ad000001", "--to", &addr]);
    assert!(lines.is_empty());
    assert!(stderr(&o).contains("c074ad000001 is not a device of"), "{}", stderr(&o));
}

// ---------------------------------------------------------------- read-device

fn read_device(args: &[&str], env: &[(&str, &str)]) -> (Output, Vec<serde_json::Value>) {
    let o = gsprov().arg("read-device").args(args).arg("--json").envs(env.iter().copied()).output().unwrap();
    let lines = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    (o, lines)
}

#[test]
fn read_device_lays_what_the_device_holds_beside_the_site_with_one_login_and_short_requests() {
    let Some((_dir, site)) =
        in_namespace("read_device_lays_what_the_device_holds_beside_the_site_with_one_login_and_short_requests")
    else {
        return;
    };
    // The device holds what was served, but P64 changed by hand and a language set on it.
    let mut values = applied_values(&site, MAC_A);
    values.insert("P64".into(), "12".into());
    values.insert("P1362".into(), "de".into());
    let mut dev = Device::start(Config { values, ..Config::new(MAC_A, "127.0.0.2") });
    let to = dev.http.to_string();
    let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &to], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &lines[0];
    assert_eq!(r["result"], "read", "{r}");
    assert_eq!(r["logins"], 1);
    let state = |key: &str| r["observed"].as_array().unwrap().iter().find(|o| o["key"] == key).cloned();
    assert_eq!(
        state("P64").unwrap(),
        serde_json::json!({"key": "P64", "state": "differs", "device": "12", "site": "auto"})
    );
    assert_eq!(state("P212").unwrap()["state"], "same");
    assert_eq!(state("P35").unwrap()["state"], "same", "account 1's user ID: {r}");
    assert_eq!(state("P1362").unwrap(), serde_json::json!({"key": "P1362", "state": "only-on-device", "device": "de"}));
    assert_eq!(state("P34").unwrap()["state"], "unknown", "the SIP password is never read: {r}");
    assert_eq!(state("P2").unwrap()["state"], "unknown");
    // One login; every read short (CVE-2026-2329: 64-byte request buffer); no password asked for.
    let api: Vec<String> =
        dev.drain().iter().filter_map(|s| if let Seen::Api(a) = s { Some(a.clone()) } else { None }).collect();
    assert_eq!(api.iter().filter(|a| a.contains("/cgi-bin/dologin")).count(), 1, "{api:?}");
    let reads: Vec<&String> = api.iter().filter(|a| a.contains("api.values.get")).collect();
    assert_eq!(reads.len() as u64, r["requests"].as_u64().unwrap());
    assert!(reads.len() > 5, "{}", reads.len());
    for a in &reads {
        let list = a.split("request=").nth(1).unwrap().split('&').next().unwrap();
        assert!(list.len() <= 60, "{list}");
        for name in list.split(':') {
            assert!(!["P2", "P34", "P406", "P1359"].contains(&name), "{name} was asked for");
        }
    }
    for out in [String::from_utf8_lossy(&o.stdout).into_owned(), stderr(&o)] {
        assert!(!out.contains("admin-pw") && !out.contains("sip-201"), "no password in the output: {out}");
    }
    // The plain form lists what is not the same.
    let o = gsprov().args(["read-device", site.to_str().unwrap(), MAC_A, "--to", &to]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("  differs        P64: device 12, site auto"), "{text}");
    assert!(text.contains("  only on device P1362 = de"), "{text}");
    assert!(text.contains("  unknown        P34 (a password: the device keeps its own)"), "{text}");
}

/// P192 is compared with what the device is served: the servers put its
/// next firmware step there (from the firmware folder and the firmware its
/// last request reported), not the site's layered value. A device holding
/// its step is "same" (before: a false "differs").
#[test]
fn read_device_compares_p192_with_the_firmware_step_the_device_is_served() {
    let Some((dir, site)) = in_namespace("read_device_compares_p192_with_the_firmware_step_the_device_is_served")
    else {
        return;
    };
    let mac: gsprov::ids::Mac = MAC_A.parse().unwrap();
    let mut s = gsprov::storage::load_site(&site).unwrap();
    s.device_mut(mac).unwrap().model = "GXP2170".parse().unwrap();
    s.defaults.set("P192", "192.0.2.1/firmware");
    s.serving.firmware_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/firmware").display().to_string();
    gsprov::storage::save_site(&site, &s).unwrap();
    // Its last request said 1.0.11.3; the folder steps it to 1.0.11.79.
    let record = serde_json::json!({"id": 1, "time": "2026-12-07T01:14:11.029Z", "client": "127.0.0.2:43656",
        "protocol": "http", "method": "GET", "path": "/cfg000b82a1b201.xml",
        "user_agent": "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b201", "model": "GXP2170",
        "firmware": "1.0.11.3", "mac": MAC_A, "file": "cfg000b82a1b201.xml", "kind": "device-xml",
        "result": "served", "outcome": "served", "reply": "http", "status": 200, "bytes": 864, "size": 864,
        "duration_ms": 0, "explanation": "served"});
    std::fs::write(dir.path().join("loop.requests.jsonl"), format!("{record}\n")).unwrap();
    let listing = gsprov::session::listing(Some(&site), &s.serving.firmware_dir);
    let (stepped, _) = gsprov::serving::firmware::stepped(&s, &listing, &|_| Some("1.0.11.3".into()));
    let step = stepped.effective(stepped.device(mac).unwrap()).get("P192").unwrap().to_string();
    assert!(step.starts_with("192.0.2.1/firmware") && step.contains("1.0.11.79"), "{step}");

    let mut values = applied_values(&site, MAC_A);
    values.insert("P192".into(), step.clone());
    let dev = Device::start(Config { values, model: "GXP2170".into(), ..Config::new(MAC_A, "127.0.0.2") });
    let to = dev.http.to_string();
    let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &to], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &lines[0];
    let p192 = r["observed"].as_array().unwrap().iter().find(|o| o["key"] == "P192").cloned().unwrap();
    assert_eq!(p192["state"], "same", "{r}");
    assert_eq!(p192["value"], step.as_str(), "{r}");
}

#[test]
fn read_device_stops_at_a_refused_login_and_never_tries_twice() {
    let Some((_dir, site)) = in_namespace("read_device_stops_at_a_refused_login_and_never_tries_twice") else {
        return;
    };
    let mut dev = Device::start(Config { passcode: "sticker-pw-77".into(), ..Config::new(MAC_A, "127.0.0.2") });
    let to = dev.http.to_string();
    let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &to], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = &lines[0];
    assert_eq!(r["result"], "wrong_password", "{r}");
    assert_eq!(r["logins"], 1);
    assert_eq!(r["requests"], 0);
    assert!(
        r["explanation"]
            .as_str()
            .unwrap()
            .starts_with("the device refused the login (it said: failed); no second attempt"),
        "{r}"
    );
    let api: Vec<Seen> = dev.drain().to_vec();
    assert_eq!(
        api,
        [Seen::Api("POST /cgi-bin/access?".into()), Seen::Api("POST /cgi-bin/dologin?".into())],
        "the generation asked (no password in it), then one attempt, nothing else"
    );
    // The unit's own password, given once for this run (a sticker password), reads it.
    let (o, lines) =
        read_device(&[site.to_str().unwrap(), MAC_A, "--to", &to], &[("GSPROV_ADMIN_PASSWORD", "sticker-pw-77")]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(lines[0]["result"], "read", "{}", lines[0]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("sticker-pw-77") && !stderr(&o).contains("sticker-pw-77"));
}

#[test]
fn read_device_speaks_the_challenge_generation_and_says_how_many_attempts_are_left() {
    let Some((_dir, site)) =
        in_namespace("read_device_speaks_the_challenge_generation_and_says_how_many_attempts_are_left")
    else {
        return;
    };
    let mut values = applied_values(&site, MAC_A);
    values.insert("P64".into(), "12".into());
    values.remove("P212");
    let mut dev = Device::start(Config { challenge: true, values, ..Config::new(MAC_A, "127.0.0.2") });
    let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &dev.http.to_string()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &lines[0];
    assert_eq!(
        (r["result"].as_str(), r["api"].as_str(), r["logins"].as_u64()),
        (Some("read"), Some("challenge"), Some(1)),
        "{r}"
    );
    let state = |key: &str| r["observed"].as_array().unwrap().iter().find(|o| o["key"] == key).cloned().unwrap();
    assert_eq!(state("P64")["state"], "differs");
    assert_eq!(state("P35")["state"], "same");
    assert_eq!(state("P212")["state"], "not-readable", "the unit does not hold it: {r}");
    assert_eq!(state("P34")["state"], "unknown");
    let api: Vec<String> =
        dev.drain().iter().filter_map(|s| if let Seen::Api(a) = s { Some(a.clone()) } else { None }).collect();
    assert_eq!(api[..2], ["POST /cgi-bin/access?".to_string(), "POST /cgi-bin/dologin?".to_string()]);
    let reads = &api[2..];
    assert!(!reads.is_empty() && reads.iter().all(|a| a.starts_with("GET /cgi-bin/config_get?")), "{api:?}");
    for a in reads {
        let list = a.split("pvalues=").nth(1).unwrap().split('&').next().unwrap();
        assert!(list.len() <= 60, "{list}");
        assert!(!list.split(',').any(|c| c == "2" || c == "34"), "no password asked for: {list}");
    }

    // A wrong password: the attempts the unit says are left, and no second try.
    let mut wrong =
        Device::start(Config { challenge: true, passcode: "sticker".into(), ..Config::new(MAC_A, "127.0.0.3") });
    let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &wrong.http.to_string()], &[]);
    assert_eq!(o.status.code(), Some(1));
    let r = &lines[0];
    assert_eq!(r["result"], "wrong_password");
    assert_eq!(r["refused"], serde_json::json!({"refused": "wrong", "attempts_left": 4}), "{r}");
    assert!(
        r["explanation"].as_str().unwrap().contains("wrong4: 4 attempt(s) left before it locks its web login"),
        "{r}"
    );
    assert_eq!(wrong.drain().iter().filter(|s| matches!(s, Seen::Api(a) if a.contains("dologin"))).count(), 1);
    // A locked unit: said so, one attempt, nothing read.
    let locked = Device::start(Config { challenge: true, attempts_left: 0, ..Config::new(MAC_A, "127.0.0.4") });
    let (_, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &locked.http.to_string()], &[]);
    assert_eq!(lines[0]["refused"], serde_json::json!({"refused": "locked"}), "{}", lines[0]);
    assert!(lines[0]["explanation"].as_str().unwrap().starts_with("the device's web login is locked"), "{}", lines[0]);
    assert_eq!(lines[0]["requests"], 0);
}

#[test]
fn read_device_follows_a_redirect_to_https_on_the_devices_own_address() {
    let Some((_dir, site)) = in_namespace("read_device_follows_a_redirect_to_https_on_the_devices_own_address") else {
        return;
    };
    let mut dev = Device::start(Config {
        https: true,
        challenge: true,
        values: applied_values(&site, MAC_A),
        ..Config::new(MAC_A, "127.0.0.2")
    });
    let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &dev.http.to_string()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &lines[0];
    assert_eq!((r["result"].as_str(), r["api"].as_str()), (Some("read"), Some("challenge")), "{r}");
    let port = r["https_port"].as_u64().unwrap();
    assert_ne!(port, dev.http.port() as u64);
    assert!(r["explanation"].as_str().unwrap().contains(&format!("over HTTPS on port {port}")), "{r}");
    assert_eq!(r["observed"].as_array().unwrap().iter().find(|o| o["key"] == "P64").unwrap()["state"], "same");
    // The plain port saw one request (redirected); login and reads went over TLS.
    let api: Vec<String> =
        dev.drain().iter().filter_map(|s| if let Seen::Api(a) = s { Some(a.clone()) } else { None }).collect();
    assert_eq!(
        api[..3],
        ["POST /cgi-bin/access?", "POST /cgi-bin/access?", "POST /cgi-bin/dologin?"].map(String::from),
        "{api:?}"
    );
    assert_eq!(api.iter().filter(|a| a.contains("dologin")).count(), 1);
}

/// HT8xx V2 (third-party write-ups: `download_cfg_xml` / `download_cfg` after
/// the login, same session): the whole configuration in one request, no
/// batches, one login; passwords in the dump never shown.
#[test]
fn read_device_prefers_the_full_dump_with_one_login_and_no_batches() {
    let Some((_dir, site)) = in_namespace("read_device_prefers_the_full_dump_with_one_login_and_no_batches") else {
        return;
    };
    for (form, word, dumps) in [(device::Dump::Xml, "xml", 1), (device::Dump::Text, "text", 2)] {
        let mut values = applied_values(&site, MAC_A);
        values.insert("P64".into(), "12".into());
        values.insert("P1362".into(), "de".into());
        values.remove("P212");
        let mut dev = Device::start(Config { dump: Some(form), values, ..Config::new(MAC_A, "127.0.0.2") });
        let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &dev.http.to_string()], &[]);
        assert!(o.status.success(), "{}", stderr(&o));
        let r = &lines[0];
        assert_eq!(
            (r["result"].as_str(), r["api"].as_str(), r["dump"].as_str(), r["logins"].as_u64(), r["requests"].as_u64()),
            (Some("read"), Some("plain"), Some(word), Some(1), Some(0)),
            "{r}"
        );
        assert_eq!(r["dumps"], dumps, "{r}");
        let state = |key: &str| r["observed"].as_array().unwrap().iter().find(|o| o["key"] == key).cloned().unwrap();
        assert_eq!(state("P64"), serde_json::json!({"key": "P64", "state": "differs", "device": "12", "site": "auto"}));
        assert_eq!(state("P35")["state"], "same", "{r}");
        assert_eq!(state("P1362"), serde_json::json!({"key": "P1362", "state": "only-on-device", "device": "de"}));
        assert_eq!(state("P212")["state"], "not-readable", "the site sets it, the dump lacks it: {r}");
        let states = r["observed"].as_array().unwrap();
        assert_eq!(
            states.iter().filter(|o| o["state"] == "not-readable").count(),
            1,
            "a name neither the dump nor the site holds is set on neither side: {r}"
        );
        assert_eq!(state("P34")["state"], "unknown", "the dump holds it; it is never taken: {r}");
        assert_eq!(state("P2")["state"], "unknown");
        let why = r["explanation"].as_str().unwrap();
        assert!(why.contains("values read from the device's full configuration dump"), "{why}");
        let api: Vec<String> =
            dev.drain().iter().filter_map(|s| if let Seen::Api(a) = s { Some(a.clone()) } else { None }).collect();
        let mut want = vec!["POST /cgi-bin/access?".to_string(), "POST /cgi-bin/dologin?".to_string()];
        want.push("GET /cgi-bin/download_cfg_xml?session_token=sid-7f3a&sid=sid-7f3a".into());
        if form == device::Dump::Text {
            want.push("GET /cgi-bin/download_cfg?session_token=sid-7f3a&sid=sid-7f3a".into());
        }
        assert_eq!(api, want, "one login, the dump, no batches");
        for out in [String::from_utf8_lossy(&o.stdout).into_owned(), stderr(&o)] {
            assert!(!out.contains("admin-pw") && !out.contains("sip-201"), "no password in the output: {out}");
        }
        // The plain form too.
        let o = gsprov()
            .args(["read-device", site.to_str().unwrap(), MAC_A, "--to", &dev.http.to_string()])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("  differs        P64: device 12, site auto"), "{text}");
        assert!(!text.contains("admin-pw") && !text.contains("sip-201") && !stderr(&o).contains("admin-pw"), "{text}");
    }
}

/// A unit that refuses the dump (both forms): the same session reads the
/// values in short batches, and says why.
#[test]
fn read_device_falls_back_to_short_requests_when_the_dump_is_refused() {
    let Some((_dir, site)) = in_namespace("read_device_falls_back_to_short_requests_when_the_dump_is_refused") else {
        return;
    };
    let mut dev = Device::start(Config { values: applied_values(&site, MAC_A), ..Config::new(MAC_A, "127.0.0.2") });
    let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &dev.http.to_string()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &lines[0];
    assert_eq!(
        (r["result"].as_str(), r["logins"].as_u64(), r["dumps"].as_u64()),
        (Some("read"), Some(1), Some(2)),
        "{r}"
    );
    assert!(r.get("dump").is_none(), "{r}");
    assert!(r["requests"].as_u64().unwrap() > 5, "{r}");
    let why = r["explanation"].as_str().unwrap();
    assert!(why.contains("the full configuration dump was not offered"), "{why}");
    assert!(why.contains("so the values were read in short requests"), "{why}");
    let api: Vec<String> =
        dev.drain().iter().filter_map(|s| if let Seen::Api(a) = s { Some(a.clone()) } else { None }).collect();
    assert_eq!(api.iter().filter(|a| a.contains("dologin")).count(), 1, "the same session: {api:?}");
    assert!(api[2].starts_with("GET /cgi-bin/download_cfg_xml?") && api[3].starts_with("GET /cgi-bin/download_cfg?"));
    assert!(api[4..].iter().all(|a| a.starts_with("GET /cgi-bin/api.values.get?")), "{api:?}");
    assert_eq!(api.len() - 4, r["requests"].as_u64().unwrap() as usize);
}

/// The legacy generation (Oxidized's GrandStream model): only where
/// `access` and `POST dologin` are absent; the password in the URL is said,
/// never shown; a wrong one is not tried again.
#[test]
fn read_device_speaks_the_legacy_generation_and_never_retries_its_password() {
    let Some((_dir, site)) = in_namespace("read_device_speaks_the_legacy_generation_and_never_retries_its_password")
    else {
        return;
    };
    let mut values = applied_values(&site, MAC_A);
    values.insert("P64".into(), "12".into());
    let mut dev = Device::start(Config { legacy: true, values, ..Config::new(MAC_A, "127.0.0.2") });
    let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &dev.http.to_string()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = &lines[0];
    assert_eq!(
        (r["result"].as_str(), r["api"].as_str(), r["dump"].as_str(), r["logins"].as_u64(), r["dumps"].as_u64()),
        (Some("read"), Some("legacy"), Some("text"), Some(1), Some(1)),
        "{r}"
    );
    let state = |key: &str| r["observed"].as_array().unwrap().iter().find(|o| o["key"] == key).cloned().unwrap();
    assert_eq!(state("P64")["state"], "differs");
    assert_eq!(state("P35")["state"], "same");
    assert_eq!(state("P34")["state"], "unknown");
    let why = r["explanation"].as_str().unwrap();
    assert!(why.contains("takes the admin password in the URL"), "{why}");
    let api: Vec<String> =
        dev.drain().iter().filter_map(|s| if let Seen::Api(a) = s { Some(a.clone()) } else { None }).collect();
    assert_eq!(
        api,
        [
            "POST /cgi-bin/access?",
            "POST /cgi-bin/dologin?",
            "GET /cgi-bin/dologin?password=****",
            "GET /cgi-bin/download_cfg?sid=sid-7f3a"
        ]
        .map(String::from)
    );
    for out in [String::from_utf8_lossy(&o.stdout).into_owned(), stderr(&o)] {
        assert!(!out.contains("admin-pw") && !out.contains("sip-201"), "no password in the output: {out}");
    }

    // A wrong password: one GET dologin, then nothing.
    let mut wrong =
        Device::start(Config { legacy: true, passcode: "sticker-9".into(), ..Config::new(MAC_A, "127.0.0.3") });
    let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &wrong.http.to_string()], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = &lines[0];
    assert_eq!(
        (r["result"].as_str(), r["api"].as_str(), r["logins"].as_u64()),
        (Some("wrong_password"), Some("legacy"), Some(1)),
        "{r}"
    );
    assert_eq!((r["requests"].as_u64(), r["dumps"].as_u64()), (Some(0), Some(0)), "{r}");
    let why = r["explanation"].as_str().unwrap();
    assert!(why.contains("no second attempt") && why.contains("takes the admin password in the URL"), "{why}");
    let api: Vec<Seen> = wrong.drain().to_vec();
    assert_eq!(
        api,
        ["POST /cgi-bin/access?", "POST /cgi-bin/dologin?", "GET /cgi-bin/dologin?password=****"]
            .map(|a| Seen::Api(a.into())),
        "one attempt, never retried"
    );
    for out in [String::from_utf8_lossy(&o.stdout).into_owned(), stderr(&o)] {
        assert!(!out.contains("admin-pw") && !out.contains("sticker-9"), "no password in the output: {out}");
    }
}

/// A unit that allows one web session at a time: someone logs in to its web
/// page after 40 of our reads, and the device ends our session (HTTP 401).
/// That is told apart from a wrong password (the login was accepted), the
/// values read before are kept, and no second login is made.
#[test]
fn read_device_tells_a_session_taken_by_another_login_from_a_wrong_password() {
    let Some((_dir, site)) = in_namespace("read_device_tells_a_session_taken_by_another_login_from_a_wrong_password")
    else {
        return;
    };
    for challenge in [false, true] {
        let mut values = applied_values(&site, MAC_A);
        values.insert("P64".into(), "12".into());
        let mut dev =
            Device::start(Config { challenge, values, taken_after: Some(40), ..Config::new(MAC_A, "127.0.0.2") });
        let (o, lines) = read_device(&[site.to_str().unwrap(), MAC_A, "--to", &dev.http.to_string()], &[]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let r = &lines[0];
        assert_eq!((r["result"].as_str(), r["logins"].as_u64()), (Some("session_lost"), Some(1)), "{r}");
        assert!(r.get("refused").is_none(), "not a refused login: {r}");
        assert_eq!(r["requests"], 41, "40 reads answered, the 41st ended: {r}");
        let why = r["explanation"].as_str().unwrap();
        assert!(why.contains("the device ended the session after 40 request(s) (it answered HTTP 401)"), "{why}");
        assert!(why.contains("this is not a wrong password"), "{why}");
        assert!(why.contains("Log out of the device's web page, then read again"), "{why}");
        // What the answered reads held is kept; the rest is "not readable".
        let read: usize = why.split(" values read in 41 requests").next().unwrap().parse().unwrap();
        assert!(read > 0, "{why}");
        let states = r["observed"].as_array().unwrap();
        assert!(states.iter().any(|o| o["state"] == "not-readable"), "the rest are not readable");
        let api: Vec<String> =
            dev.drain().iter().filter_map(|s| if let Seen::Api(a) = s { Some(a.clone()) } else { None }).collect();
        assert_eq!(api.iter().filter(|a| a.contains("dologin")).count(), 1, "one login, never again: {api:?}");
        // The plain generation first asks for the full dump (refused here: both forms).
        assert_eq!(r["dumps"], if challenge { 0 } else { 2 }, "{r}");
        assert_eq!(
            api.len(),
            2 + if challenge { 0 } else { 2 } + 41,
            "access, dologin, 41 reads and nothing after the 401: {api:?}"
        );
        assert!(!String::from_utf8_lossy(&o.stdout).contains("admin-pw") && !stderr(&o).contains("admin-pw"));
    }
}

// ---------------------------------------------------------------- sipp

/// A sipp UAS scenario: challenge the NOTIFY, verify the digest itself
/// (sipp's `verifyauth`), 200 if right, 403 if not.
const SIPP_CHALLENGE: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="grandstream-notify-challenge">
  <recv request="NOTIFY" />
  <send><![CDATA[
SIP/2.0 401 Unauthorized
[last_Via:]
[last_From:]
[last_To:];tag=[pid]sipp
[last_Call-ID:]
[last_CSeq:]
WWW-Authenticate: Digest realm="sipp", nonce="abc123sipp"
Content-Length: 0

]]></send>
  <recv request="NOTIFY">
    <action>
      <verifyauth assign_to="ok" username="201" password="sip-201" />
    </action>
  </recv>
  <nop hide="true" test="ok" next="good" />
  <send next="end"><![CDATA[
SIP/2.0 403 Forbidden
[last_Via:]
[last_From:]
[last_To:];tag=[pid]sipp
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <label id="good" />
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]sipp
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <label id="end" />
</scenario>
"#;

#[test]
fn sipp_checks_our_digest_independently() {
    let Some((dir, site)) = in_namespace("sipp_checks_our_digest_independently") else { return };
    let scenario = dir.path().join("challenge.xml");
    std::fs::write(&scenario, SIPP_CHALLENGE).unwrap();
    for (password, result, code) in [("sip-201", "accepted", 200), ("wrong-pw", "refused", 403)] {
        let mut s = gsprov::storage::load_site(&site).unwrap();
        s.device_mut(MAC_A.parse().unwrap()).unwrap().accounts[0].password = password.into();
        gsprov::storage::save_site(&site, &s).unwrap();
        let port = std::net::UdpSocket::bind("127.0.0.4:0").unwrap().local_addr().unwrap().port();
        let mut sipp = Command::new("sipp")
            .args(["-sf", scenario.to_str().unwrap(), "-i", "127.0.0.4", "-p", &port.to_string(), "-m", "1"])
            .args(["-timeout", "20s", "-timeout_error", "-nostdin"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sipp (Debian package sip-tester)");
        wait_udp_listener("127.0.0.4", port, &mut sipp);
        let (o, lines) = notify(&["resync", site.to_str().unwrap(), MAC_A, "--to", &format!("127.0.0.4:{port}")]);
        assert_eq!(lines[0]["result"], result, "{} {}", lines[0], stderr(&o));
        assert_eq!(lines[0]["code"], code);
        let status = wait_exit(&mut sipp);
        assert!(status.success(), "sipp saw the scenario fail ({status:?})");
    }
}

/// Waits until a UDP socket is bound to ip:port (this namespace's /proc/net/udp).
fn wait_udp_listener(ip: &str, port: u16, child: &mut Child) {
    let ip: std::net::Ipv4Addr = ip.parse().unwrap();
    let want = format!("{:08X}:{port:04X}", u32::from_le_bytes(ip.octets()));
    let end = Instant::now() + WAIT;
    loop {
        let table = std::fs::read_to_string("/proc/net/udp").unwrap();
        if table.lines().any(|l| l.split_whitespace().nth(1) == Some(want.as_str())) {
            return;
        }
        if let Ok(Some(st)) = child.try_wait() {
            panic!("sipp exited before listening: {st:?}");
        }
        assert!(Instant::now() < end, "sipp never listened on {ip}:{port}");
        #[expect(
            clippy::disallowed_methods,
            reason = "polling sipp (its socket table, its exit) towards a deadline: neither has a blocking wait with a timeout"
        )]
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let end = Instant::now() + WAIT;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("sipp did not finish");
        }
        #[expect(
            clippy::disallowed_methods,
            reason = "polling sipp (its socket table, its exit) towards a deadline: neither has a blocking wait with a timeout"
        )]
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---------------------------------------------------------------- syslog

#[test]
fn syslog_lines_are_attributed_garbage_is_kept_raw_and_floods_are_summarised() {
    let Some((dir, site)) = in_namespace("syslog_lines_are_attributed_garbage_is_kept_raw_and_floods_are_summarised")
    else {
        return;
    };
    let mut serve = Serve::start(&site, &["--syslog", "--syslog-port", "0"]);
    let http = serve.started("http");
    let syslog = serve.started("syslog");
    assert_eq!(syslog.ip().to_string(), "127.0.0.1");
    let mut a =
        Device::start(Config { config_url: Some(format!("http://{http}/")), ..Config::new(MAC_A, "127.0.0.2") });
    let b = Device::start(Config::new(MAC_B, "127.0.0.3"));
    // A fetches its config first, so gsprov knows 127.0.0.2 is MAC_A; B never made a request.
    let (o, _) = notify(&["resync", site.to_str().unwrap(), MAC_A, "--to", &a.sip.to_string()]);
    assert!(o.status.success(), "{}", stderr(&o));
    a.wait("a fetch", WAIT, |s| matches!(s, Seen::Fetched { status: 200, .. }));
    serve.wait("the fetch", |v| v["event"] == "request" && v["protocol"] == "http" && v["mac"] == MAC_A);

    a.syslog(syslog, b"<134>Feb  5 09:01:02 GRP2612W sip[312]: account 1 registered");
    let r = serve.wait("A's line", |v| {
        v["protocol"] == "syslog" && v["explanation"].as_str().unwrap_or("").contains("registered")
    });
    assert_eq!(r["mac"], MAC_A, "{r}");
    assert_eq!(r["method"], "info");
    assert_eq!(r["path"], "sip");
    assert_eq!(r["explanation"], "info sip: account 1 registered");
    assert!(r["client"].as_str().unwrap().starts_with("127.0.0.2:"));

    b.syslog(syslog, b"\xff\x00\x1b[2Jnot syslog at all");
    let r = serve.wait("B's garbage", |v| {
        v["protocol"] == "syslog" && v["explanation"].as_str().unwrap_or("").starts_with("unparsed")
    });
    assert_eq!(r["mac"], serde_json::Value::Null, "B made no request: not attributed");
    assert_eq!(r["explanation"], "unparsed: \u{fffd}\\x00\\x1b[2Jnot syslog at all");
    b.syslog(syslog, b"");
    serve.wait("an empty datagram, kept", |v| v["protocol"] == "syslog" && v["explanation"] == "unparsed: ");
    // Still alive after garbage: an RFC 5424 line.
    a.syslog(syslog, b"<11>1 2026-01-02T03:04:05Z GRP2612W prov - - - config download failed");
    let r = serve.wait("A's 5424 line", |v| v["explanation"] == "err prov: config download failed");
    assert_eq!(r["mac"], MAC_A);

    // A flood: 250 datagrams at once; 200 become records, the rest are counted.
    for i in 0..250 {
        a.syslog(syslog, format!("<14>flood {i}").as_bytes());
    }
    let summary = serve.wait("the flood summary", |v| {
        v["protocol"] == "syslog" && v["explanation"].as_str().unwrap_or("").contains("were not shown")
    });
    let shown = serve.seen.iter().filter(|v| v["explanation"].as_str().unwrap_or("").contains("flood")).count();
    // The window opened by the earlier lines may hold them too (4 of its 200).
    assert!((196..=200).contains(&shown), "{shown}: {summary}");
    let n: usize = summary["explanation"].as_str().unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(n >= 1 && shown + n <= 250, "{shown} + {n}: {summary}");
    assert_eq!(summary["mac"], MAC_A);

    // The request JSONL has the syslog records too.
    drop(serve);
    let log = std::fs::read_to_string(dir.path().join("loop.requests.jsonl")).unwrap();
    let syslog_lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["protocol"] == "syslog")
        .collect();
    assert_eq!(syslog_lines.len(), 4 + shown + 1, "{}", syslog_lines.len());
    assert_eq!(syslog_lines[0]["explanation"], "info sip: account 1 registered");
}
