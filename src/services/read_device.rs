//! "Read from device" (issue 28, part 2, first generation only): logs in to a
//! device's web API once, on the technician's explicit command, reads the
//! model family's settings back in short batches and lays them beside the
//! site's values as the device's observed layer ([`webapi::observe`]).
//!
//! Two API generations, told apart without a login attempt: `POST
//! /cgi-bin/access` (which carries no password) answers a token on the
//! challenge generation (GXP21xx 1.0.11+, WP8x6: hashed `dologin`, then
//! `config_get?pvalues=`), and anything else means the plain one
//! `check-device` speaks (`dologin` with the password, then
//! `api.values.get?request=`); sources in [`crate::formats::webapi`]. One
//! login attempt per run, never retried: a refusal ends the read and says
//! what the device said (`wrong4`: four attempts left; `locked`). Passwords
//! are never asked for: they read as "unknown, keep the device's value".
//!
//! On the plain generation the same session first asks for the full dump
//! (`download_cfg_xml`, then `download_cfg`; HT8xx V2) and reads in batches
//! only when both are refused. Where `access` is absent and `POST dologin`
//! answers 404/405, the legacy generation follows (`GET
//! dologin?password=`, `download_cfg?sid=`; GXW42xx, older units) as the one
//! attempt; its password travels in the URL, which the result says. Values a
//! dump holds beyond the names asked for (passwords among them) are dropped.
//!
//! Must not touch files or the site. The admin password goes into request
//! bytes only.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::webapi::{Transport, Web, get_on, post_on};
use crate::catalog::{Catalog, FamilyCatalog, ValueKind};
use crate::formats::webapi::{self, LoginRefused, Observed, Refusal};
use crate::ids::{Mac, PId};
use crate::site::{Device, Site};

/// Where, with which admin password, and what to read.
#[derive(Clone)]
pub struct Target {
    pub mac: Mac,
    pub addr: SocketAddr,
    pub password: String,
    /// The site's layered values for the device (P-values).
    pub site: BTreeMap<String, String>,
    /// The P-values read, in number order (no password among them).
    pub names: Vec<String>,
    /// Password P-values the site sets: reported "unknown", never read.
    pub secrets: Vec<String>,
    /// Where the address came from: a learned one gets the admin password
    /// only once the neighbour table says it is the device's (as check-device).
    pub vouch: super::notify::Vouch,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("mac", &self.mac)
            .field("addr", &self.addr)
            .field("password", &"****")
            .field("names", &self.names.len())
            .finish()
    }
}

fn is_secret(key: &str, kind: Option<&ValueKind>) -> bool {
    key == "P2" || kind == Some(&ValueKind::Password) || crate::generate::is_secret_key(key)
}

/// The device at `ip` (port default 80): the site's values for it, every
/// P-value of its family's template and the site, passwords apart. The admin
/// password is `password`, else the site's P2.
pub fn target(
    site: &Site,
    device: &Device,
    ip: IpAddr,
    port: Option<u16>,
    password: Option<&str>,
    vouch: super::notify::Vouch,
) -> Target {
    let eff = site.effective(device);
    let values: BTreeMap<String, String> =
        eff.0.iter().filter(|(k, _)| k.parse::<PId>().is_ok()).map(|(k, s)| (k.clone(), s.value.clone())).collect();
    let family = crate::catalog::Family::of_model(&device.model).family;
    let cat = Catalog::get();
    let mut ids: Vec<(PId, bool)> = FamilyCatalog::get(family)
        .params()
        .iter()
        .filter_map(|p| p.id.map(|id| (id, is_secret(&id.to_string(), Some(&p.kind)))))
        .collect();
    ids.extend(values.keys().filter_map(|k| {
        let id: PId = k.parse().ok()?;
        Some((id, is_secret(k, cat.lookup(k).map(|p| &p.kind))))
    }));
    ids.sort();
    ids.dedup_by_key(|(id, _)| *id);
    let names = ids.iter().filter(|(_, secret)| !secret).map(|(id, _)| id.to_string()).collect();
    let secrets = ids
        .iter()
        .filter(|(id, secret)| *secret && values.contains_key(&id.to_string()))
        .map(|(id, _)| id.to_string())
        .collect();
    Target {
        mac: device.mac,
        addr: SocketAddr::new(ip, port.unwrap_or(80)),
        password: password.map(str::to_string).unwrap_or_else(|| eff.get("P2").unwrap_or("").to_string()),
        site: values,
        names,
        secrets,
        vouch,
    }
}

/// `site` as it is served to `mac`: with the firmware step the servers and
/// `gsprov generate` put in its P192 (from the firmware folder's `listing`
/// and the firmware the device last reported, `current`;
/// [`crate::serving::firmware::stepped`], as every served file is built).
/// Read from device compares against this, not the site's layered value,
/// so a stepped P192 is no false difference. The app and `gsprov
/// read-device` both call it.
pub fn as_served(
    site: &Site,
    mac: Mac,
    listing: &crate::serving::firmware::FirmwareListing,
    current: Option<&str>,
) -> Site {
    let current = |m: Mac| if m == mac { current.map(str::to_string) } else { None };
    crate::serving::firmware::stepped(site, listing, &current).0
}

/// How the read ended, as one word (JSON `result`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every batch answered.
    Read,
    /// Some batches answered, then the device stopped answering.
    Partial,
    /// The login was accepted, then the device ended the session mid-read
    /// (HTTP 401 or a session error): a unit that allows one web session at
    /// a time does this when someone logs in to its web page. Not a wrong
    /// password; gsprov does not log in again by itself.
    SessionLost,
    /// The admin password was refused (or the login is locked): the device's words say which.
    WrongPassword,
    NoAnswer,
    Unreachable,
    /// Not a Grandstream web API, or no admin password to try.
    Unknown,
    /// The address was learned and the neighbour table does not say it is
    /// the device's: no password was sent.
    Unconfirmed,
}

/// One key of the observed layer.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub key: String,
    #[serde(flatten)]
    pub observed: Observed,
}

/// Which web API a device speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    /// `dologin` with the password, then the full dump (`download_cfg_xml`,
    /// `download_cfg`) where the unit offers one, else `api.values.get`.
    Plain,
    /// `access` token, hashed `dologin`, `config_get`.
    Challenge,
    /// `GET dologin?password=` (the password in the URL), `download_cfg?sid=`:
    /// older units (GXW42xx), used only where `access` and `POST dologin` are absent.
    Legacy,
}

/// One device's read.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub mac: Mac,
    pub addr: SocketAddr,
    pub result: Verdict,
    /// The API generation found (none when the device never answered).
    pub api: Option<Api>,
    /// What a refused login said, read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<LoginRefused>,
    /// The HTTPS port the device redirected to, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub https_port: Option<u16>,
    /// Login attempts made (at most one; a `POST dologin` answered 404/405
    /// reached no login handler and is not one).
    pub logins: u8,
    /// `api.values.get` requests made, and how many names each held at most.
    pub requests: usize,
    /// Full-dump requests made (`download_cfg_xml`, `download_cfg`).
    pub dumps: usize,
    /// The form of the full dump the values came from, when they came from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dump: Option<webapi::DumpFormat>,
    pub observed: Vec<Row>,
    pub explanation: String,
    #[serde(rename = "duration_ms", serialize_with = "ser_millis")]
    pub duration: Duration,
}

fn ser_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl Report {
    /// A report of nothing read yet: no API found, no request made.
    pub fn unread(mac: Mac, addr: SocketAddr) -> Report {
        Report {
            mac,
            addr,
            result: Verdict::Unknown,
            api: None,
            refused: None,
            https_port: None,
            logins: 0,
            requests: 0,
            dumps: 0,
            dump: None,
            observed: Vec::new(),
            explanation: String::new(),
            duration: Duration::ZERO,
        }
    }

    /// How many rows are in each state: same, differs, only on the device, not readable, unknown.
    pub fn counts(&self) -> [usize; 5] {
        let mut c = [0; 5];
        for r in &self.observed {
            c[match r.observed {
                Observed::Same { .. } => 0,
                Observed::Differs { .. } => 1,
                Observed::OnlyOnDevice { .. } => 2,
                Observed::NotReadable => 3,
                Observed::Unknown => 4,
            }] += 1;
        }
        c
    }
}

/// Reads one device: one login, then the batches; every step waits at most `timeout`.
pub fn read(target: &Target, timeout: Duration, table: &dyn super::neighbours::NeighbourTable) -> Report {
    let start = Instant::now();
    let mut r = Report::unread(target.mac, target.addr);
    let end = |mut r: Report, result: Verdict, why: String| {
        r.result = result;
        r.explanation = why;
        if r.api == Some(Api::Legacy) {
            r.explanation.push_str(
                "; note: this unit's older web API takes the admin password in the URL (GET /cgi-bin/dologin?password=…), \
                 unencrypted over HTTP and kept in any request log on the way; gsprov never logs that URL",
            );
        }
        r.duration = start.elapsed();
        r
    };
    let transport = |t: Transport| match t {
        Transport::Silent(d) => (
            Verdict::NoAnswer,
            format!(
                "no answer from {} within {:.1} s: is the device on, at this address, and its web port right?",
                target.addr,
                d.as_secs_f64()
            ),
        ),
        Transport::Unreachable(why) => (Verdict::Unreachable, format!("unreachable: {why}")),
        Transport::Garbled(why) => (Verdict::Unknown, format!("not a Grandstream web API: {why}")),
    };
    if target.password.is_empty() {
        return end(
            r,
            Verdict::Unknown,
            "no admin password: the site has no P2 for this device; give it with --password (or GSPROV_ADMIN_PASSWORD)"
                .into(),
        );
    }
    // A learned address gets the admin password only when the neighbour
    // table says it is the device's; a bare TCP connect (no byte sent) lets
    // the OS resolve a neighbour on this segment first.
    if let super::notify::Vouch::Learned(source) = &target.vouch {
        if let Err(e) = std::net::TcpStream::connect_timeout(&target.addr, timeout) {
            let (v, why) = transport(super::webapi::connect_error(&e, target.addr, timeout));
            return end(r, v, why);
        }
        if let Err(why) = super::notify::confirm_address(table, target.mac, target.addr.ip()) {
            return end(
                r,
                Verdict::Unconfirmed,
                // What to do next is each front end's (a flag, a tick box).
                format!("not read: the address came from {source} and {why}; the admin password was not sent"),
            );
        }
    }
    // Which generation: `access` carries no password, so it costs no attempt.
    let mut web = Web { addr: target.addr, tls: false };
    let mut first = post_on(web, "/cgi-bin/access", &webapi::access_form(), timeout);
    // A unit whose web access is HTTPS redirects there: follow it once, on its own address.
    if let Ok(a) = &first
        && matches!(a.status, 301 | 302 | 303 | 307 | 308)
        && let Some(port) = a.location.as_deref().and_then(webapi::https_port)
    {
        web = Web { addr: SocketAddr::new(target.addr.ip(), port), tls: true };
        r.https_port = Some(port);
        first = post_on(web, "/cgi-bin/access", &webapi::access_form(), timeout);
    }
    let mut access_absent = false;
    let token = match first {
        Err(t) => {
            let (v, why) = transport(t);
            return end(r, v, why);
        }
        Ok(a) if a.status == 200 => webapi::access_token(&a.body).ok(),
        Ok(a) => {
            access_absent = matches!(a.status, 404 | 405);
            None
        }
    };
    r.api = Some(if token.is_some() { Api::Challenge } else { Api::Plain });
    let form = match &token {
        Some(t) => webapi::hashed_login_form(&target.password, t),
        None => webapi::login_form(&target.password),
    };
    // One login attempt, never retried. A `POST dologin` that answers 404 or
    // 405 reached no login handler (nothing counted it): only where `access`
    // is absent too does the legacy `GET dologin?password=` follow, as the
    // one attempt; never after a refusal.
    r.logins = 1;
    // The login answer's own session cookie, sent back on every read: the
    // HT802 V2 write-up (code corpus id 54130528961, firmware 1.0.9.3) says
    // that unit checks its `session_id` cookie, not only the token.
    let mut login_cookie = None;
    let sid = match post_on(web, "/cgi-bin/dologin", &form, timeout) {
        Err(t) => {
            let (v, why) = transport(t);
            return end(r, v, why);
        }
        Ok(a) if a.status == 200 => {
            login_cookie = a.set_cookie.as_deref().and_then(webapi::cookie_pair);
            webapi::session(&a.body, a.set_cookie.as_deref())
        }
        Ok(a) if matches!(a.status, 404 | 405) && access_absent => {
            r.api = Some(Api::Legacy);
            // The password goes in the URL on this generation: request bytes
            // only (transport errors name the address, never the target).
            match get_on(web, &webapi::legacy_login_target(&target.password), None, timeout) {
                Err(t) => {
                    let (v, why) = transport(t);
                    return end(r, v, why);
                }
                Ok(a) if a.status == 200 => webapi::legacy_session(&a.body),
                Ok(a) if a.status == 401 || a.status == 403 => Err(Refusal::Error(format!("HTTP {}", a.status))),
                Ok(a) => Err(Refusal::Unexpected(format!("dologin answered HTTP {}", a.status))),
            }
        }
        Ok(a) if a.status == 401 || a.status == 403 => Err(Refusal::Error(format!("HTTP {}", a.status))),
        Ok(a) => Err(Refusal::Unexpected(format!("dologin answered HTTP {}", a.status))),
    };
    let sid = match sid {
        Ok(s) => s,
        Err(Refusal::Error(said)) => {
            let refused = webapi::login_refused(&said);
            let why = match &refused {
                LoginRefused::Wrong { attempts_left } => format!(
                    "the device refused the admin password (it said wrong{attempts_left}: {attempts_left} attempt(s) left before it locks its web login); no second attempt is made: check the password and run again"
                ),
                LoginRefused::Locked => "the device's web login is locked after too many failed attempts (it said locked): wait until it unlocks, then run again with the right password; no attempt is repeated".to_string(),
                LoginRefused::Other { said } => format!(
                    "the device refused the login (it said: {said}); no second attempt is made, since devices lock the web login after a few failures: check the admin password and run again"
                ),
            };
            r.refused = Some(refused);
            return end(r, Verdict::WrongPassword, why);
        }
        Err(e) => return end(r, Verdict::Unknown, format!("cannot log in: {e}")),
    };
    let mut cookie = format!("session-identity={sid}; session-role=admin");
    if let Some(pair) = login_cookie.filter(|p| !p.starts_with("session-identity=")) {
        cookie.push_str(&format!("; {pair}"));
    }
    let mut read: BTreeMap<String, String> = BTreeMap::new();
    let mut stopped = None;
    // The full dump, same session (no second login): preferred; a refused
    // or absent one (404, another status, a body that is no dump) falls back
    // to the short batches. The legacy generation has only the dump.
    let (dump, refused_dump) = match r.api {
        Some(Api::Plain) => {
            let mut why = None;
            let mut got = None;
            for path in webapi::dump_targets(&sid) {
                r.dumps += 1;
                match get_on(web, &path, Some(&cookie), timeout) {
                    Ok(a) if a.status == 200 => match webapi::dump(&a.body) {
                        Ok(d) => {
                            got = Some(d);
                            break;
                        }
                        Err(e) => why = Some(e.to_string()),
                    },
                    Ok(a) => why = Some(format!("HTTP {}", a.status)),
                    Err(t) => {
                        why = Some(transport(t).1);
                        break;
                    }
                }
            }
            (got, why)
        }
        Some(Api::Legacy) => {
            r.dumps += 1;
            match get_on(web, &webapi::legacy_dump_target(&sid), None, timeout) {
                Err(t) => {
                    let (v, why) = transport(t);
                    return end(r, v, format!("logged in, then the configuration download failed: {why}"));
                }
                Ok(a) if a.status == 200 => match webapi::dump(&a.body) {
                    Ok(d) => (Some(d), None),
                    Err(e) => {
                        return end(
                            r,
                            Verdict::Unknown,
                            format!("logged in, but the configuration download (download_cfg) is not one: {e}"),
                        );
                    }
                },
                Ok(a) => {
                    return end(
                        r,
                        Verdict::Unknown,
                        format!("logged in, but the configuration download (download_cfg) answered HTTP {}", a.status),
                    );
                }
            }
        }
        _ => (None, None),
    };
    let mut dumped = None;
    if let Some(d) = dump {
        r.dump = Some(d.format);
        // Only the names asked for: never a password, whatever the dump holds.
        read.extend(d.values.iter().filter(|(k, _)| target.names.contains(k)).map(|(k, v)| (k.clone(), v.clone())));
        dumped = Some((d.format, d.values.len(), d.bad_lines.len(), read.len()));
        // A full dump holds every setting the unit has: a name it lacks and
        // the site does not set is set on neither side (as an empty answer
        // to a batch); one the site sets stays "not readable".
        for name in &target.names {
            if !d.values.contains_key(name) && !target.site.contains_key(name) {
                read.insert(name.clone(), String::new());
            }
        }
    }
    for batch in webapi::batches(&target.names).into_iter().filter(|_| r.dump.is_none()) {
        let names: Vec<&str> = batch.iter().map(String::as_str).collect();
        r.requests += 1;
        let path = match r.api {
            Some(Api::Challenge) => webapi::config_get_target(&names, &sid),
            _ => webapi::values_target(&names, &sid),
        };
        let parse = |body: &[u8]| match r.api {
            Some(Api::Challenge) => webapi::config_values(body),
            _ => webapi::values(body),
        };
        let answer = match get_on(web, &path, Some(&cookie), timeout) {
            Err(t) => Err((false, transport(t).1)),
            Ok(a) if a.status == 200 => parse(&a.body).map_err(|e| match e {
                Refusal::Error(said) if webapi::session_ended(&said) => (true, format!("it said: {said}")),
                Refusal::Error(said) => (false, format!("the device answered an error (it said: {said})")),
                other => (false, other.to_string()),
            }),
            Ok(a) if a.status == 401 => Err((true, "it answered HTTP 401".to_string())),
            Ok(a) => Err((false, format!("the read answered HTTP {}", a.status))),
        };
        match answer {
            // Only the names asked for count: an answer cannot add others.
            Ok(v) => read.extend(v.into_iter().filter(|(k, _)| batch.contains(k))),
            Err(why) => {
                stopped = Some(why);
                break;
            }
        }
    }
    r.observed = webapi::observe(&target.site, &target.names, &read, &target.secrets)
        .into_iter()
        .map(|(key, observed)| Row { key, observed })
        .collect();
    let [same, differs, only, unreadable, unknown] = r.counts();
    let tally = format!(
        "{same} same, {differs} differ, {only} only on the device, {unreadable} not readable, {unknown} password(s) unknown (the device keeps its own)"
    );
    let summary = match dumped {
        Some((format, all, bad, taken)) => {
            let form = match format {
                webapi::DumpFormat::Xml => "gs_provision XML",
                webapi::DumpFormat::Text => "P<n>=value text",
            };
            let bad = if bad > 0 { format!(", {bad} line(s) that are not P<n>=value skipped") } else { String::new() };
            format!(
                "{taken} values read from the device's full configuration dump ({form}, {all} P-values{bad}; only the family's and the site's settings are compared, passwords never) in {} request(s) (1 login): {tally}",
                r.dumps
            )
        }
        None => {
            let s = format!("{} values read in {} requests (1 login): {tally}", read.len(), r.requests);
            match refused_dump {
                Some(why) => format!(
                    "{s}; the full configuration dump was not offered ({why}), so the values were read in short requests"
                ),
                None => s,
            }
        }
    };
    let summary = match r.https_port {
        Some(port) => format!(
            "{summary}; over HTTPS on port {port}, where the device redirected (its certificate is not checked: devices use self-signed ones)"
        ),
        None => summary,
    };
    match stopped {
        None => end(r, Verdict::Read, summary),
        Some((true, said)) => {
            let done = r.requests - 1;
            end(
                r,
                Verdict::SessionLost,
                format!(
                    "{summary}; the device ended the session after {done} request(s) ({said}). The login was accepted, so \
                     this is not a wrong password: a unit that allows one web session at a time ends ours when someone \
                     logs in to its web page. Log out of the device's web page, then read again (gsprov does not log in \
                     again by itself)"
                ),
            )
        }
        Some((false, why)) => end(r, Verdict::Partial, format!("{summary}; stopped early: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_neither_read_nor_printed() {
        let mut site = crate::site::demo();
        site.devices[0].values.set("P2", "s3cret-admin");
        let vouch = crate::services::notify::Vouch::Confirmed("a test".into());
        let t = target(&site, &site.devices[0], "127.0.0.1".parse().unwrap(), None, None, vouch);
        assert_eq!(t.password, "s3cret-admin");
        assert!(!format!("{t:?}").contains("s3cret"));
        for secret in ["P2", "P34", "P406", "P1359"] {
            assert!(!t.names.contains(&secret.to_string()), "{secret} is never asked for");
        }
        assert!(t.secrets.contains(&"P34".to_string()) && t.secrets.contains(&"P2".to_string()), "{:?}", t.secrets);
        assert!(t.names.contains(&"P30".to_string()) && t.names.len() > 50, "{}", t.names.len());
        // No password: no socket at all.
        let none = Target { password: String::new(), addr: "127.0.0.1:9".parse().unwrap(), ..t };
        let r = read(&none, Duration::from_millis(100), &crate::services::neighbours::OsTable);
        assert_eq!((r.result, r.logins), (Verdict::Unknown, 0));
    }

    /// A loopback web API answering `(status, body)` per request path, which
    /// records each request line; it serves `n` requests, then ends.
    fn scripted(
        answers: &'static [(&'static str, u16, &'static str, &'static str)],
        n: usize,
    ) -> (SocketAddr, std::thread::JoinHandle<Vec<String>>) {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let h = std::thread::Builder::new().name("scripted web API".into()).spawn(move || {
            let mut seen = Vec::new();
            for _ in 0..n {
                let (mut s, _) = listener.accept().unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = vec![0u8; 8192];
                let mut got = 0;
                // The head, then the body its Content-Length announces.
                loop {
                    let k = s.read(&mut buf[got..]).unwrap();
                    got += k;
                    let text = String::from_utf8_lossy(&buf[..got]).into_owned();
                    let Some(i) = text.find("\r\n\r\n") else {
                        assert!(k > 0, "the client closed before a whole request head");
                        continue;
                    };
                    let len = text[..i]
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if k == 0 || got >= i + 4 + len {
                        break;
                    }
                }
                let line = String::from_utf8_lossy(&buf[..got]).lines().next().unwrap_or("").to_string();
                let path = line.split_whitespace().nth(1).unwrap_or("").split('?').next().unwrap_or("").to_string();
                let (status, body, headers) =
                    answers.iter().find(|(p, ..)| *p == path).map_or((404, "", ""), |(_, st, b, h)| (*st, *b, *h));
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let mut seen_line = line.rsplit_once(' ').map_or(line.clone(), |(l, _)| l.to_string());
                if let Some(c) = String::from_utf8_lossy(&buf[..got]).lines().find_map(|l| l.strip_prefix("Cookie: ")) {
                    seen_line.push_str(&format!(" (cookie {c})"));
                }
                seen.push(seen_line);
            }
            seen
        });
        (addr, h.unwrap())
    }

    fn scripted_target(addr: SocketAddr) -> Target {
        let site = crate::site::demo();
        let vouch = crate::services::notify::Vouch::Confirmed("a test".into());
        target(&site, &site.devices[0], addr.ip(), Some(addr.port()), Some("pw-9"), vouch)
    }

    /// The legacy login follows only where `access` and `POST dologin` are
    /// both absent: never after a refusal, never beside a present `access`.
    #[test]
    fn the_legacy_login_is_never_a_second_attempt() {
        // `access` absent, `POST dologin` refuses: a wrong password, nothing more.
        let (addr, h) = scripted(&[("/cgi-bin/dologin", 200, r#"{"response":"error","body":"wrong4"}"#, "")], 2);
        let r = read(&scripted_target(addr), Duration::from_secs(5), &crate::services::neighbours::OsTable);
        assert_eq!((r.result, r.api, r.logins, r.dumps), (Verdict::WrongPassword, Some(Api::Plain), 1, 0));
        assert!(!r.explanation.contains("in the URL"), "{}", r.explanation);
        assert_eq!(h.join().unwrap(), ["POST /cgi-bin/access", "POST /cgi-bin/dologin"]);
        // `access` present (an error answer), `POST dologin` 404: no legacy login either.
        let (addr, h) = scripted(&[("/cgi-bin/access", 200, r#"{"response":"error","body":"failed"}"#, "")], 2);
        let r = read(&scripted_target(addr), Duration::from_secs(5), &crate::services::neighbours::OsTable);
        assert_eq!((r.result, r.api, r.logins), (Verdict::Unknown, Some(Api::Plain), 1), "{}", r.explanation);
        assert_eq!(h.join().unwrap(), ["POST /cgi-bin/access", "POST /cgi-bin/dologin"]);
    }

    /// HT8xx V2 as the write-ups describe it: the login answers
    /// `session_token`, and `download_cfg_xml` the whole configuration.
    #[test]
    fn an_ht8xx_v2_session_token_reads_the_xml_dump() {
        let (addr, h) = scripted(
            &[
                (
                    "/cgi-bin/dologin",
                    200,
                    r#"{"response":"success","body":{"role":"admin","session_token":"e3b0"}}"#,
                    "Set-Cookie: session_id=85769d9612e;\r\n",
                ),
                (
                    "/cgi-bin/download_cfg_xml",
                    200,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gs_provision version=\"1\">\n<config version=\"1\">\n<P2>pw-9</P2>\n<P64>12</P64>\n<P34>sip-x</P34>\n</config>\n</gs_provision>\n",
                    "Content-Type: application/octet-stream\r\n",
                ),
            ],
            3,
        );
        let r = read(&scripted_target(addr), Duration::from_secs(5), &crate::services::neighbours::OsTable);
        assert_eq!((r.result, r.dump, r.dumps, r.requests), (Verdict::Read, Some(webapi::DumpFormat::Xml), 1, 0));
        let seen = h.join().unwrap();
        assert_eq!(
            seen[2],
            "GET /cgi-bin/download_cfg_xml?session_token=e3b0&sid=e3b0 (cookie session-identity=e3b0; session-role=admin; session_id=85769d9612e)",
            "the token, and the unit's own session cookie sent back"
        );
        let p64 = r.observed.iter().find(|o| o.key == "P64").unwrap();
        assert!(matches!(&p64.observed, Observed::Differs { device, .. } if device == "12"), "{p64:?}");
        let shown = serde_json::to_string(&r).unwrap();
        assert!(!shown.contains("pw-9") && !shown.contains("sip-x"), "{shown}");
    }

    struct Empty;
    impl crate::services::neighbours::NeighbourTable for Empty {
        fn read(&self) -> Result<Vec<crate::formats::neigh::Neighbour>, String> {
            Ok(Vec::new())
        }
    }

    /// An address learned from the request log, which the neighbour table
    /// does not confirm, is connected to (so the table could learn it) but
    /// gets not one byte: no login, no password.
    #[test]
    fn a_learned_address_the_neighbour_table_does_not_confirm_gets_no_password() {
        use std::io::Read as _;
        let site = crate::site::demo();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let vouch = crate::services::notify::Vouch::Learned("the request log".into());
        let t = target(&site, &site.devices[0], addr.ip(), Some(addr.port()), Some("admin-pw"), vouch);
        let r = read(&t, Duration::from_secs(2), &Empty);
        assert_eq!((r.result, r.logins, r.requests), (Verdict::Unconfirmed, 0, 0), "{}", r.explanation);
        assert!(
            r.explanation.contains("the request log") && r.explanation.ends_with("the admin password was not sent")
        );
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        assert!(got.is_empty(), "nothing was sent: {got:?}");
    }
}
