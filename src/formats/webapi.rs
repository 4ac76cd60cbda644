//! The Grandstream device web API's requests and answers, pure: the GRP26xx
//! CTI `api-get_accounts` answer (registration per account), the
//! `dologin` answer (session id), the `api.values.get` answer (values read
//! back), and the query strings that ask for them.
//!
//! What the documentation says (and what it does not) is recorded on each
//! function. Must not touch sockets; never formats a password into anything
//! but the request bytes the caller sends (no `Display`, no error text).

use std::collections::BTreeMap;

use serde::Serialize;

/// One account as `api-get_accounts` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountState {
    /// 1-based account number (`id`).
    pub account: u32,
    /// The account's SIP user ID (`sip_id`), as the device has it.
    pub sip_id: String,
    /// `reg` = 1.
    pub registered: bool,
}

/// What an answer was, when it was not the success the caller wanted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `{"response":"error", "body": ...}`: the device said no (the body as text).
    #[error("the device answered error ({0})")]
    Error(String),
    /// Not JSON, or JSON of another shape.
    #[error("not a Grandstream API answer: {0}")]
    Unexpected(String),
}

fn json(body: &[u8]) -> Result<serde_json::Value, Refusal> {
    let text = String::from_utf8_lossy(body);
    serde_json::from_str(text.trim()).map_err(|_| {
        let short: String = text.chars().take(60).collect();
        Refusal::Unexpected(crate::formats::printable(&short).into_owned())
    })
}

fn success(v: &serde_json::Value) -> Result<&serde_json::Value, Refusal> {
    let response = v.get("response").and_then(|r| r.as_str()).unwrap_or("");
    let body = v.get("body").unwrap_or(&serde_json::Value::Null);
    if response.eq_ignore_ascii_case("success") {
        return Ok(body);
    }
    if response.eq_ignore_ascii_case("error") {
        let why = match body {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        return Err(Refusal::Error(crate::formats::printable(&why).into_owned()));
    }
    Err(Refusal::Unexpected("no \"response\": \"success\" or \"error\"".into()))
}

/// Percent-encodes a query or form value (RFC 3986 unreserved kept).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `/cgi-bin/api-get_accounts?passcode=PW`. GRP26xx CTI guide, "Account
/// Status Function": `http://Phone-IP-Address/cgi-bin/api-get_accounts?passcode=PASSWORD`,
/// the passcode being "the phone's admin/user level password".
pub fn accounts_target(passcode: &str) -> String {
    format!("/cgi-bin/api-get_accounts?passcode={}", encode(passcode))
}

/// Parses the `api-get_accounts` answer. The CTI guide's example:
/// `{"response":"success", "body": [{"id": 1, "sip_server":"...", "sip_id": "1234",
/// "name": "test_account","reg": 1}, {"id": 2, ..., "reg": 0}]}`.
pub fn accounts(body: &[u8]) -> Result<Vec<AccountState>, Refusal> {
    let v = json(body)?;
    let list = success(&v)?.as_array().ok_or_else(|| Refusal::Unexpected("the body is not a list".into()))?;
    let number = |v: Option<&serde_json::Value>| match v {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            let account = number(a.get("id")).map_or(i as u32 + 1, |n| n as u32);
            let reg =
                number(a.get("reg")).ok_or_else(|| Refusal::Unexpected(format!("account {account}: no \"reg\"")))?;
            let sip_id = a.get("sip_id").and_then(|s| s.as_str()).unwrap_or("");
            Ok(AccountState { account, sip_id: crate::formats::printable(sip_id).into_owned(), registered: reg == 1 })
        })
        .collect()
}

/// The `dologin` form body, in one request that both web UIs read:
/// `password=PW` (third-party integrations of GXP phones post exactly this;
/// not in a Grandstream guide we could read) and `P2=base64(PW)` (the HT8xx V2
/// web UI, per third-party captures of HT802 V2 / HT812 V2 logins). One
/// request, so still one login attempt whichever field the unit reads.
pub fn login_form(password: &str) -> String {
    let p2 = crate::formats::http::base64_encode(password.as_bytes());
    format!("username=admin&password={}&P2={}", encode(password), encode(&p2))
}

/// The session id of a `dologin` answer: `{"response":"success","body":{"sid":"..."}}`,
/// else the `session-identity` cookie of `set_cookie`.
pub fn session(body: &[u8], set_cookie: Option<&str>) -> Result<String, Refusal> {
    let v = json(body)?;
    let body = success(&v)?;
    // `session_token`: the HT8xx V2 answer (see the dump section's sources).
    if let Some(sid) =
        ["sid", "session_token"].iter().find_map(|k| body.get(*k).and_then(|s| s.as_str()).filter(|s| !s.is_empty()))
    {
        return Ok(sid.to_string());
    }
    set_cookie
        .and_then(|c| {
            c.split(';').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (k.trim() == "session-identity").then(|| v.trim().to_string())
            })
        })
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Refusal::Unexpected("login succeeded without a session id".into()))
}

/// The `name=value` pair of a `Set-Cookie` header (its attributes dropped),
/// when it is one a client sends back: a token-like name and value.
pub fn cookie_pair(set_cookie: &str) -> Option<String> {
    let (name, value) = set_cookie.split(';').next()?.trim().split_once('=')?;
    let ok = |t: &str, extra: &[u8]| {
        !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b) || extra.contains(&b))
    };
    (ok(name, b"") && ok(value, b"+/=%")).then(|| format!("{name}={value}"))
}

/// `/cgi-bin/api.values.get?request=A:B:C&sid=SID`: value names separated by
/// ":" (the GXV33xx/WP820 Web API guide, "Return Values Request"; GXP16xx
/// integrations ask for `phone_model:sw_version:...` the same way).
pub fn values_target(names: &[&str], sid: &str) -> String {
    let names: Vec<String> = names.iter().map(|n| encode(n)).collect();
    format!("/cgi-bin/api.values.get?request={}&sid={}", names.join(":"), encode(sid))
}

/// Parses the `api.values.get` answer: `{"response":"success","body":{"P64":"...",...}}`.
/// Numbers are kept as their text.
pub fn values(body: &[u8]) -> Result<BTreeMap<String, String>, Refusal> {
    let v = json(body)?;
    let map = success(&v)?.as_object().ok_or_else(|| Refusal::Unexpected("the body is not an object".into()))?;
    Ok(map
        .iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect())
}

/// One served value the device reads back otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub p: String,
    /// What the device has (empty: it returned nothing for this name).
    pub device: String,
    pub served: String,
}

/// Compares what was served with what came back (only the names asked for).
pub fn compare(served: &[(String, String)], read: &BTreeMap<String, String>) -> Vec<Difference> {
    served
        .iter()
        .filter_map(|(p, want)| {
            let got = read.get(p).map(|s| s.trim()).unwrap_or("");
            (got != want.trim()).then(|| Difference {
                p: p.clone(),
                device: crate::formats::printable(got).into_owned(),
                served: want.clone(),
            })
        })
        .collect()
}

/// Most names in one `api.values.get` request, and most characters in its
/// `request=` list. CVE-2026-2329 (Rapid7, February 2026; GXP1610-GXP1630
/// before 1.0.7.81): the web API copies the colon-separated `request`
/// parameter into a 64-byte stack buffer without a length check, so a long
/// list crashes (or worse) an unpatched GXP16xx. Reads therefore go in
/// batches that stay under that size (public write-ups: ictsec.pl and
/// connectquest.co.in on the Rapid7 disclosure; not tested on hardware).
pub const BATCH_NAMES: usize = 8;
pub const BATCH_CHARS: usize = 60;

/// `names` in batches of at most [`BATCH_NAMES`] names and [`BATCH_CHARS`]
/// characters of `request=` (a name longer than that goes alone).
pub fn batches(names: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut len = 0;
    for n in names {
        let add = encode(n).len() + 1;
        match out.last_mut() {
            Some(b) if b.len() < BATCH_NAMES && len + add <= BATCH_CHARS => {
                b.push(n.clone());
                len += add;
            }
            _ => {
                out.push(vec![n.clone()]);
                len = add;
            }
        }
    }
    out
}

/// One value of a device's observed layer beside the site's intended value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum Observed {
    /// The device holds what the site sets.
    Same { value: String },
    /// The device holds another value.
    Differs { device: String, site: String },
    /// The device holds a value the site does not set.
    OnlyOnDevice { device: String },
    /// Asked for, and not in the answer (or its batch failed).
    NotReadable,
    /// A password: never asked for; "unknown, keep the device's value".
    Unknown,
}

/// The observed layer: for every name asked (`read` holds the answers) and
/// every secret the site sets, what the device holds beside `site`'s value.
/// A name the device answers empty and the site does not set is left out
/// (nothing is set on either side).
pub fn observe(
    site: &BTreeMap<String, String>,
    asked: &[String],
    read: &BTreeMap<String, String>,
    secrets: &[String],
) -> Vec<(String, Observed)> {
    let mut out = Vec::new();
    for name in asked {
        let want = site.get(name);
        let state = match (read.get(name), want) {
            (None, _) => Observed::NotReadable,
            (Some(got), Some(want)) if got.trim() == want.trim() => Observed::Same { value: want.clone() },
            (Some(got), Some(want)) => {
                Observed::Differs { device: crate::formats::printable(got).into_owned(), site: want.clone() }
            }
            (Some(got), None) if got.trim().is_empty() => continue,
            (Some(got), None) => Observed::OnlyOnDevice { device: crate::formats::printable(got).into_owned() },
        };
        out.push((name.clone(), state));
    }
    for s in secrets {
        out.push((s.clone(), Observed::Unknown));
    }
    out
}

/// The HTTPS port a redirect names (`Location: https://192.168.1.20:8443/`),
/// 443 when it names none; `None` for anything but an `https://` URL. Only
/// the port is taken: the host stays the device's address (an answer does
/// not choose where gsprov sends a password).
pub fn https_port(location: &str) -> Option<u16> {
    let l = location.trim();
    let rest = l.get(..8).filter(|s| s.eq_ignore_ascii_case("https://")).map(|_| &l[8..])?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let port = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once("]:").map(|(_, p)| p),
        None => authority.rsplit_once(':').map(|(_, p)| p),
    };
    match port {
        Some(p) => p.parse().ok().filter(|p| *p != 0),
        None => Some(443),
    }
}

// ---------------------------------------------------------------------------
// The full dump: `download_cfg_xml` / `download_cfg` after a `dologin`
// ---------------------------------------------------------------------------
//
// No Grandstream guide describes these; third-party, reverse-engineered
// sources do (code corpus, read with read_file):
// - "HT802 V2 MCP Server" README (id 54021898495), from captures of the
//   HT802 V2 web UI: `GET /cgi-bin/download_cfg?session_token=<token>` answers
//   "all 1798 P-values as `P123=value` text", `GET
//   /cgi-bin/download_cfg_xml?session_token=<token>` "the same as XML
//   provisioning format";
// - its api-docs.md (id 54130528961): both answer
//   `application/octet-stream`, the text one as attachment `config.txt`
//   (`P3=...` lines), the XML one `<gs_provision version="1"><mac>..</mac>
//   <config version="1"><P3>..</P3>...`;
// - two HT812 V2 integrations (ids 62534253517, 62680006644):
//   `GET /cgi-bin/download_cfg_xml ?session_token=` -> "full XML config
//   (1880 P-values)"; the same sources say that generation's login answers
//   `body.session_token` (read by [`session`]).
// The legacy generation (Oxidized's GrandStream model, ytti/oxidized
// `lib/oxidized/model/grandstream.rb`) fetches `GET /cgi-bin/download_cfg?sid=<sid>`
// after `GET /cgi-bin/dologin?password=<pw>` answered `{"body":{"sid":"..."}}`;
// Oxidized stores the answer as text and does not say its format, so it is
// read like the dumps above (XML or `P<n>=value` lines, told apart by the first byte).

/// The dump requests of the `POST dologin` generation, preferred first: the
/// XML one (every source names it), then the text one (the HT802 V2 source).
/// The session goes both as `session_token` (the name the sources give) and
/// as `sid` (the name `api.values.get` takes here); a device ignores the other.
pub fn dump_targets(sid: &str) -> [String; 2] {
    let s = encode(sid);
    [
        format!("/cgi-bin/download_cfg_xml?session_token={s}&sid={s}"),
        format!("/cgi-bin/download_cfg?session_token={s}&sid={s}"),
    ]
}

/// The legacy generation's login: `GET /cgi-bin/dologin?password=PW`
/// (Oxidized, which does not percent-encode; here the password is encoded,
/// the same bytes for a plain one). The password travels in the URL: this
/// string is request bytes only, never logged or shown.
pub fn legacy_login_target(password: &str) -> String {
    format!("/cgi-bin/dologin?password={}", encode(password))
}

/// The legacy generation's dump: `GET /cgi-bin/download_cfg?sid=SID`.
pub fn legacy_dump_target(sid: &str) -> String {
    format!("/cgi-bin/download_cfg?sid={}", encode(sid))
}

/// The session of a legacy `dologin` answer, `{"body":{"sid":"..."}}` (no
/// `response` member in Oxidized's reading); `"response":"error"` is a refusal.
pub fn legacy_session(body: &[u8]) -> Result<String, Refusal> {
    let v = json(body)?;
    if v.get("response").and_then(|r| r.as_str()).is_some_and(|r| !r.eq_ignore_ascii_case("success")) {
        success(&v)?;
    }
    match v.get("body") {
        Some(serde_json::Value::String(said)) => Err(Refusal::Error(crate::formats::printable(said).into_owned())),
        Some(b) => b
            .get("sid")
            .and_then(|s| s.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| Refusal::Unexpected("the login answer holds no sid".into())),
        None => Err(Refusal::Unexpected("the login answer holds no body".into())),
    }
}

/// Which form a dump came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DumpFormat {
    /// `gs_provision` XML (P-value elements).
    Xml,
    /// `P<n>=value` lines.
    Text,
}

/// A full configuration dump, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    pub format: DumpFormat,
    /// Every P-value it holds (passwords among them: the caller keeps only
    /// the names it asked for, never a password).
    pub values: BTreeMap<String, String>,
    /// 1-based numbers of text lines that are not `P<n>=value` (skipped).
    pub bad_lines: Vec<usize>,
}

/// Reads a dump: XML when its first byte (after a UTF-8 BOM and blanks) is
/// `<`, else `P<n>=value` lines (CRLF tolerated, blank lines ignored, other
/// lines listed in `bad_lines`). A body with no P-value at all (a JSON error,
/// an HTML login page, an XML file of aliases) is not a dump: `Err`.
pub fn dump(body: &[u8]) -> Result<Dump, Refusal> {
    let text = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    // Error texts never quote the body: a dump holds passwords.
    let (format, values, bad_lines) = if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        let doc = crate::formats::xml::read(body)
            .map_err(|_| Refusal::Unexpected("the XML dump is not gs_provision XML".into()))?;
        let values = doc
            .entries
            .into_iter()
            .filter_map(|(k, v)| match k {
                crate::formats::xml::Key::P(p) => Some((p.to_string(), v)),
                crate::formats::xml::Key::Alias(_) => None,
            })
            .collect();
        (DumpFormat::Xml, values, Vec::new())
    } else {
        let text = String::from_utf8_lossy(text);
        let mut values = BTreeMap::new();
        let mut bad = Vec::new();
        for (i, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            match line.split_once('=').and_then(|(k, v)| Some((k.trim().parse::<crate::ids::PId>().ok()?, v))) {
                Some((p, v)) => {
                    values.insert(p.to_string(), v.to_string());
                }
                None => bad.push(i + 1),
            }
        }
        (DumpFormat::Text, values, bad)
    };
    if values.is_empty() {
        return Err(Refusal::Unexpected(format!("not a configuration dump ({} bytes, no P-value in it)", body.len())));
    }
    Ok(Dump { format, values, bad_lines })
}

// ---------------------------------------------------------------------------
// The challenge generation: `/cgi-bin/access` + hashed `dologin` + `config_get`
// ---------------------------------------------------------------------------
//
// Two third-party clients describe it alike (no Grandstream guide found):
// a GXP2170 client "confirmed end-to-end against a lab GXP2170 (firmware
// 1.0.11.106)" (FreeSDN, code corpus id 57469390680) and a WP826 client
// (code corpus id 55625760794). `POST /cgi-bin/access` with
// `access=sha256_hex(username)` answers a token; `POST /cgi-bin/dologin` with
// `username=U&password=sha256_hex(password + token)` answers the session;
// `GET /cgi-bin/config_get?pvalues=35,404&sid=SID` answers
// `{"configs":[{"pvalue":"35","value":"..."}]}`. Both say requests without
// `Origin` and `Referer` headers get 403. A refused login answers
// `{"response":"error","body":"wrong4"}` ... or `"locked"` after 5 failures
// (the GXP2170 client).

/// The `access` request's form: `access=sha256_hex("admin")`.
pub fn access_form() -> String {
    format!("access={}", sha256_hex("admin"))
}

/// The token an `access` answer carries: `{"response":"success","body":"TOKEN"}`.
pub fn access_token(body: &[u8]) -> Result<String, Refusal> {
    let v = json(body)?;
    match success(&v)? {
        serde_json::Value::String(t) if !t.is_empty() => Ok(t.clone()),
        _ => Err(Refusal::Unexpected("the access answer holds no token".into())),
    }
}

/// The hashed `dologin` form of the challenge generation.
pub fn hashed_login_form(password: &str, token: &str) -> String {
    format!("username=admin&password={}", sha256_hex(&format!("{password}{token}")))
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `/cgi-bin/config_get?pvalues=35,404&sid=SID`: numbers without the `P`.
pub fn config_get_target(names: &[&str], sid: &str) -> String {
    let codes: Vec<String> = names.iter().map(|n| encode(n.strip_prefix('P').unwrap_or(n))).collect();
    format!("/cgi-bin/config_get?pvalues={}&sid={}", codes.join(","), encode(sid))
}

/// Parses a `config_get` answer into `P35 -> value`.
pub fn config_values(body: &[u8]) -> Result<BTreeMap<String, String>, Refusal> {
    let v = json(body)?;
    if v.get("response").and_then(|r| r.as_str()).is_some_and(|r| r.eq_ignore_ascii_case("error")) {
        success(&v)?;
    }
    let rows =
        v.get("configs").and_then(|c| c.as_array()).ok_or_else(|| Refusal::Unexpected("no \"configs\" list".into()))?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let p = match row.get("pvalue")? {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let value = match row.get("value") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            let key = if p.bytes().all(|b| b.is_ascii_digit()) { format!("P{p}") } else { p };
            Some((key, value))
        })
        .collect())
}

/// What a refused login said, read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "refused")]
pub enum LoginRefused {
    /// `wrongN`: a wrong password, N attempts left before the login locks.
    Wrong { attempts_left: u8 },
    /// `locked`: too many failures; the device refuses every login for a while.
    Locked,
    /// Anything else, as the device said it.
    Other { said: String },
}

/// Reads a refused login's body text (`wrong4`, `locked`, `failed`...).
pub fn login_refused(said: &str) -> LoginRefused {
    let t = said.trim().trim_matches('"');
    if t.eq_ignore_ascii_case("locked") || t.eq_ignore_ascii_case("lockout") {
        return LoginRefused::Locked;
    }
    if let Some(n) = t.strip_prefix("wrong").and_then(|n| n.parse::<u8>().ok()) {
        return LoginRefused::Wrong { attempts_left: n };
    }
    LoginRefused::Other { said: crate::formats::printable(t).into_owned() }
}

/// Whether an error a session request answered (after an accepted login)
/// says the session is gone rather than anything else. Public sources: a
/// Grandstream GRP click-to-dial browser extension logs in again when a
/// request answers HTTP 401 because "a login elsewhere changed the sid"
/// (its background.js; the caller handles 401 itself); the GXP2200 GMI Web
/// Service guide's expired session answers `authentication required`. No
/// public source gives a "busy" answer to a login: a unit that allows one web
/// session at a time accepts the new login and ends the older session.
/// `session-expired` and `unauthorized` are read the same way (the error a
/// request without a valid session gets).
pub fn session_ended(said: &str) -> bool {
    let t = said.trim().trim_matches('"').to_ascii_lowercase();
    ["session-expired", "session expired", "unauthorized", "authentication required", "invalid session"]
        .contains(&t.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cti_guides_example_answer_parses() {
        let body =
            br#"{"response":"success", "body": [{"id": 1, "sip_server":"testsipserver.com", "sip_id": "1234", "name":
"test_account","reg": 1}, {"id": 2, "sip_server": "", "sip_id": "", "name":"", "reg": 0}]}"#;
        assert_eq!(
            accounts(body).unwrap(),
            [
                AccountState { account: 1, sip_id: "1234".into(), registered: true },
                AccountState { account: 2, sip_id: String::new(), registered: false },
            ]
        );
        assert_eq!(
            accounts(br#"{"response":"error", "body": "failed"}"#).unwrap_err(),
            Refusal::Error("failed".into())
        );
        assert!(matches!(accounts(b"<html>401</html>").unwrap_err(), Refusal::Unexpected(_)));
        assert!(matches!(
            accounts(br#"{"response":"success","body":[{"id":1}]}"#).unwrap_err(),
            Refusal::Unexpected(_)
        ));
    }

    #[test]
    fn passwords_are_encoded_into_the_request_only() {
        assert_eq!(accounts_target("a&b=c d"), "/cgi-bin/api-get_accounts?passcode=a%26b%3Dc%20d");
        assert_eq!(login_form("p@ss"), "username=admin&password=p%40ss&P2=cEBzcw%3D%3D");
        assert_eq!(
            values_target(&["phone_model", "P64"], "s1"),
            "/cgi-bin/api.values.get?request=phone_model:P64&sid=s1"
        );
    }

    #[test]
    fn session_from_body_or_cookie() {
        assert_eq!(session(br#"{"response":"success","body":{"sid":"abc","role":"admin"}}"#, None).unwrap(), "abc");
        assert_eq!(
            session(br#"{"response":"success","body":{}}"#, Some("session-identity=xyz; HttpOnly")).unwrap(),
            "xyz"
        );
        assert_eq!(
            session(br#"{"response":"error","body":"failed"}"#, None).unwrap_err(),
            Refusal::Error("failed".into())
        );
    }

    #[test]
    fn values_read_back_are_compared_with_what_was_served() {
        let read = values(br#"{"response":"success","body":{"P64":"12","P30":"pool.ntp.org","n":5}}"#).unwrap();
        assert_eq!(read["n"], "5");
        let served = vec![("P64".to_string(), "auto".to_string()), ("P30".to_string(), "pool.ntp.org".to_string())];
        assert_eq!(
            compare(&served, &read),
            [Difference { p: "P64".into(), device: "12".into(), served: "auto".into() }]
        );
        let missing = vec![("P99".to_string(), "1".to_string())];
        assert_eq!(compare(&missing, &read)[0].device, "");
    }

    #[test]
    fn reads_go_in_short_batches_and_the_observed_layer_names_each_state() {
        let names: Vec<String> = (1..=20).map(|n| format!("P{}", 1000 + n)).collect();
        let b = batches(&names);
        assert!(b.iter().all(|b| b.len() <= BATCH_NAMES), "{b:?}");
        assert!(b.iter().all(|b| b.iter().map(|n| n.len() + 1).sum::<usize>() <= BATCH_CHARS));
        assert_eq!(b.concat(), names, "every name once, in order");
        let long = vec!["x".repeat(200), "P1".into()];
        assert_eq!(batches(&long), [vec!["x".repeat(200)], vec!["P1".to_string()]]);

        let site: BTreeMap<String, String> =
            [("P30", "pool.ntp.org"), ("P64", "auto"), ("P47", "pbx")].map(|(k, v)| (k.into(), v.into())).into();
        let read: BTreeMap<String, String> = [("P30", "pool.ntp.org"), ("P64", "12"), ("P1362", "de"), ("P8", "")]
            .map(|(k, v)| (k.into(), v.into()))
            .into();
        let asked: Vec<String> = ["P30", "P64", "P47", "P1362", "P8"].map(String::from).into();
        let got = observe(&site, &asked, &read, &["P34".to_string()]);
        assert_eq!(
            got,
            vec![
                ("P30".to_string(), Observed::Same { value: "pool.ntp.org".into() }),
                ("P64".to_string(), Observed::Differs { device: "12".into(), site: "auto".into() }),
                ("P47".to_string(), Observed::NotReadable),
                ("P1362".to_string(), Observed::OnlyOnDevice { device: "de".into() }),
                ("P34".to_string(), Observed::Unknown),
            ]
        );
    }

    #[test]
    fn the_challenge_generation_hashes_the_password_with_the_token() {
        // sha256("admin") and sha256("pw" + "tok"), as `printf %s admin | sha256sum` gives them.
        assert_eq!(access_form(), "access=8c6976e5b5410415bde908bd4dee15dfb167a9c873fc4bb8a81f6f2ab448a918");
        assert_eq!(
            hashed_login_form("pw", "tok"),
            "username=admin&password=8e9ab5ecf4725e4ecb28ba8ab0d4ac07e1f042c9a2266f72df81eddec3e999b3"
        );
        assert_eq!(access_token(br#"{"response":"success","body":"Zm9vYmFy"}"#).unwrap(), "Zm9vYmFy");
        assert!(access_token(b"<html>404</html>").is_err());
        assert_eq!(config_get_target(&["P35", "P404"], "s"), "/cgi-bin/config_get?pvalues=35,404&sid=s");
        let v =
            config_values(br#"{"configs":[{"alias":"a","pvalue":"35","value":"201"},{"pvalue":404,"value":null}]}"#)
                .unwrap();
        assert_eq!(v["P35"], "201");
        assert_eq!(v["P404"], "");
        assert_eq!(login_refused("wrong4"), LoginRefused::Wrong { attempts_left: 4 });
        assert_eq!(login_refused("locked"), LoginRefused::Locked);
        assert_eq!(login_refused("failed"), LoginRefused::Other { said: "failed".into() });
    }

    #[test]
    fn a_dump_reads_as_text_lines_or_gs_provision_xml() {
        // The text form, as the HT802 V2 api-docs.md shows it (`P3=...` lines), with CRLF, a blank and bad lines.
        let d = dump(b"P3=015551234567\r\nP8=0\r\n\r\nP9=192\r\nnot a line\r\nP47=pbx=1\r\n=x\r\nP30=\r\n").unwrap();
        assert_eq!(d.format, DumpFormat::Text);
        assert_eq!(d.values["P8"], "0");
        assert_eq!(d.values["P47"], "pbx=1", "only the first = splits");
        assert_eq!(d.values["P30"], "");
        assert_eq!(d.values.len(), 5);
        assert_eq!(d.bad_lines, [5, 7]);
        // The XML form, as the same document shows it.
        let x = dump(
            b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gs_provision version=\"1\">\n  <mac>001122334455</mac>\n  <config version=\"1\">\n    <P3>015551234567</P3>\n    <P64>auto</P64>\n  </config>\n</gs_provision>\n",
        )
        .unwrap();
        assert_eq!((x.format, x.values["P64"].as_str(), x.values.len()), (DumpFormat::Xml, "auto", 2));
        // Refusals are not dumps, and their text never quotes the body.
        for body in [&br#"{"response":"error","body":"unauthorized"}"#[..], b"<html>login</html>", b"", b"2=secret-pw"]
        {
            let e = dump(body).unwrap_err();
            assert!(!e.to_string().contains("secret") && !e.to_string().contains("login"), "{e}");
        }
    }

    #[test]
    fn a_set_cookie_gives_its_pair_only() {
        assert_eq!(cookie_pair("session_id=85769d9612e;").as_deref(), Some("session_id=85769d9612e"));
        assert_eq!(cookie_pair("session-identity=xyz; HttpOnly").as_deref(), Some("session-identity=xyz"));
        assert_eq!(cookie_pair("a=b\r\nX: y"), None, "no header injection");
        assert_eq!(cookie_pair("novalue"), None);
    }

    #[test]
    fn the_legacy_generation_puts_the_password_in_the_url_and_answers_a_sid() {
        assert_eq!(legacy_login_target("a b&c"), "/cgi-bin/dologin?password=a%20b%26c");
        assert_eq!(legacy_dump_target("s 1"), "/cgi-bin/download_cfg?sid=s%201");
        assert_eq!(legacy_session(br#"{"body":{"sid":"abc"}}"#).unwrap(), "abc");
        assert_eq!(legacy_session(br#"{"response":"success","body":{"sid":"abc"}}"#).unwrap(), "abc");
        assert_eq!(
            legacy_session(br#"{"response":"error","body":"failed"}"#).unwrap_err(),
            Refusal::Error("failed".into())
        );
        assert!(matches!(legacy_session(br#"{"body":{}}"#).unwrap_err(), Refusal::Unexpected(_)));
        assert_eq!(
            dump_targets("t"),
            ["/cgi-bin/download_cfg_xml?session_token=t&sid=t", "/cgi-bin/download_cfg?session_token=t&sid=t"]
        );
        // The HT8xx V2 login answers `session_token`.
        assert_eq!(
            session(br#"{"response":"success","body":{"role":"admin","session_token":"9f"}}"#, None).unwrap(),
            "9f"
        );
    }

    #[test]
    fn a_redirect_gives_only_its_https_port() {
        assert_eq!(https_port("https://192.168.1.20:8443/cgi-bin/access"), Some(8443));
        assert_eq!(https_port("HTTPS://192.168.1.20/"), Some(443));
        assert_eq!(https_port("https://[fe80::1]:4443/"), Some(4443));
        assert_eq!(https_port("https://[fe80::1]/"), Some(443));
        assert_eq!(https_port("http://192.168.1.20:8080/"), None);
        assert_eq!(https_port("/login"), None);
        assert_eq!(https_port("https://x:0/"), None);
    }
}
