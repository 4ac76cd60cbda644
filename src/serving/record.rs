//! One request as the servers saw it and the front ends show it: its
//! [`Protocol`], what it was for ([`ContentKind`]), how it ended ([`Outcome`]:
//! served, refused and why, interrupted), and the [`RequestRecord`] written to
//! the request log and folded into device status. Plus the firmware folder's
//! listing ([`FirmwareFile`]) the router decides from.
//!
//! Plain data: no sockets, threads, files or clock (times come from the
//! servers). Nothing here ever holds an `Authorization` header: `path` has
//! secret query values masked before a record is made.

use std::fmt;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize, Serializer};

use crate::generate::FileKind;
use crate::ids::{Mac, Model};

/// A server, and the protocol of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tftp,
    Http,
    Https,
    /// The SIP plug-and-play responder ([`PnpConfig`]): its records are the
    /// `ua-profile` SUBSCRIBEs it heard and what it answered.
    Sip,
    /// The syslog receiver (`ServeConfig::syslog`): one record per line a device sent.
    Syslog,
    /// The bench DHCP server (`ServeConfig::dhcp`): one record per client message
    /// (DISCOVER, REQUEST, ...) with what was offered or acknowledged, or why nothing.
    Dhcp,
}

impl Protocol {
    /// The file servers (the PnP responder, [`Protocol::Sip`], is configured apart: [`ServeConfig::pnp`]).
    pub const ALL: [Protocol; 3] = [Protocol::Tftp, Protocol::Http, Protocol::Https];

    /// URL scheme: `tftp`, `http`, `https`, `sip`.
    pub fn scheme(self) -> &'static str {
        match self {
            Protocol::Tftp => "tftp",
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Sip => "sip",
            Protocol::Syslog => "syslog",
            Protocol::Dhcp => "dhcp",
        }
    }

    /// The port a URL may leave out (69, 80, 443, 5060).
    pub fn default_port(self) -> u16 {
        match self {
            Protocol::Tftp => 69,
            Protocol::Http => 80,
            Protocol::Https => 443,
            Protocol::Sip => 5060,
            Protocol::Syslog => 514,
            Protocol::Dhcp => 67,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Protocol::Tftp => "TFTP",
            Protocol::Http => "HTTP",
            Protocol::Https => "HTTPS",
            Protocol::Sip => "SIP",
            Protocol::Syslog => "SYSLOG",
            Protocol::Dhcp => "DHCP",
        })
    }
}

/// A request number, unique within one `Supervisor`.
pub type RequestId = u64;

/// What a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContentKind {
    Config(FileKind),
    Firmware,
}

impl Serialize for ContentKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ContentKind::Config(k) => k.serialize(s),
            ContentKind::Firmware => s.serialize_str("firmware"),
        }
    }
}

impl ContentKind {
    pub fn describe(self) -> &'static str {
        match self {
            ContentKind::Config(k) => k.describe(),
            ContentKind::Firmware => "firmware",
        }
    }
}

/// How a request ended.
///
/// In JSON (flattened into a [`RequestRecord`]): `"result": "served" |
/// "refused" | "interrupted"`, `"reason"`, `"expected"` for refusals, and
/// `"outcome"`: its [`Disposition`] (`"served"`, `"not-found"`,
/// `"expected-miss"`, `"refused-by-policy"`, `"failed"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for (the whole file, or the asked range) went out.
    Served,
    /// Nothing was sent. `expected`: a normal step of provisioning (a probe
    /// for a file the site does not generate, the first 401 before credentials).
    Refused { reason: Refusal, expected: bool },
    /// The transfer began and did not finish.
    Interrupted { reason: Interruption },
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match self {
            Outcome::Served => m.serialize_entry("result", "served")?,
            Outcome::Refused { reason, expected } => {
                m.serialize_entry("result", "refused")?;
                m.serialize_entry("reason", reason)?;
                m.serialize_entry("expected", expected)?;
            }
            Outcome::Interrupted { reason } => {
                m.serialize_entry("result", "interrupted")?;
                m.serialize_entry("reason", reason)?;
            }
        }
        m.serialize_entry("outcome", &self.disposition())?;
        m.end()
    }
}

/// The one vocabulary for how a request ended: the same words in the
/// terminal lines, the JSON (`"outcome"`, kebab-case) and the desktop app's
/// Live log, and the same colour wherever one is shown ([`Disposition::rgb`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Disposition {
    /// Everything asked for went out.
    Served,
    /// No such file, and the device did not expect one: look at the explanation.
    NotFound,
    /// A normal step of provisioning: a probe for a file the site does not
    /// generate, the first 401 before credentials.
    ExpectedMiss,
    /// The server chose not to answer: known-MACs-only, the serving window,
    /// credentials, a write request, a name no device sends.
    RefusedByPolicy,
    /// The request could not be carried out: malformed, busy, a bad range, a
    /// transfer cut short, a file that could not be read.
    Failed,
}

impl Disposition {
    pub fn word(self) -> &'static str {
        match self {
            Disposition::Served => "served",
            Disposition::NotFound => "not found",
            Disposition::ExpectedMiss => "expected miss",
            Disposition::RefusedByPolicy => "refused by policy",
            Disposition::Failed => "failed",
        }
    }

    /// Green, grey, amber, orange, red.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Disposition::Served => [90, 180, 120],
            Disposition::ExpectedMiss => [140, 140, 140],
            Disposition::NotFound => [220, 170, 60],
            Disposition::RefusedByPolicy => [230, 120, 50],
            Disposition::Failed => [220, 70, 70],
        }
    }
}

impl Outcome {
    pub fn disposition(self) -> Disposition {
        match self {
            Outcome::Served => Disposition::Served,
            Outcome::Refused { expected: true, .. } => Disposition::ExpectedMiss,
            Outcome::Refused { reason: Refusal::NotFound, .. } => Disposition::NotFound,
            Outcome::Refused {
                reason: Refusal::Policy | Refusal::Unauthorized | Refusal::ReadOnly | Refusal::BadName,
                ..
            } => Disposition::RefusedByPolicy,
            Outcome::Refused { reason: Refusal::Malformed | Refusal::BadRange | Refusal::Busy, .. }
            | Outcome::Interrupted { .. } => Disposition::Failed,
        }
    }

    /// What the [`Disposition`] word leaves out (`bad name`, `busy`,
    /// `interrupted (TimedOut)`), or `None`. An expected miss says what was missed.
    pub fn detail(self) -> Option<String> {
        let what = |r: Refusal| match r {
            Refusal::NotFound => "not found",
            Refusal::Policy => "refused by policy",
            Refusal::BadName => "bad name",
            Refusal::Unauthorized => "unauthorized",
            Refusal::ReadOnly => "read-only",
            Refusal::Malformed => "malformed",
            Refusal::BadRange => "bad range",
            Refusal::Busy => "busy",
        };
        match self {
            Outcome::Served => None,
            Outcome::Refused { reason, expected: true } => Some(format!("{} (expected)", what(reason))),
            Outcome::Refused { reason: Refusal::NotFound | Refusal::Policy, .. } => None,
            Outcome::Refused { reason, .. } => Some(what(reason).to_string()),
            Outcome::Interrupted { reason } => Some(format!("interrupted ({reason:?})")),
        }
    }

    /// Everything asked for went out.
    pub fn is_served(self) -> bool {
        self == Outcome::Served
    }

    /// Not a device's request but garbage: malformed, a write, a name no
    /// device sends, or refused as busy (what floods produce). Kept apart from
    /// the devices' history in the request log.
    pub fn is_garbage(self) -> bool {
        matches!(
            self,
            Outcome::Refused { reason: Refusal::Malformed | Refusal::Busy | Refusal::ReadOnly | Refusal::BadName, .. }
        )
    }

    /// The request passed the serving policy (HTTP credentials, known MACs,
    /// the window). Only such a request may teach gsprov a device's address or
    /// firmware: a 401 or 403 is anyone's word (issue 25).
    pub fn passed_policy(self) -> bool {
        !matches!(self, Outcome::Refused { reason: Refusal::Unauthorized | Refusal::Policy, .. })
    }

    /// A refusal or interruption a technician should look at.
    pub fn is_problem(self) -> bool {
        match self {
            Outcome::Served => false,
            Outcome::Refused { expected, .. } => !expected,
            Outcome::Interrupted { .. } => true,
        }
    }
}

/// Why nothing was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// No such file in the served set or the firmware folder.
    NotFound,
    /// Known-MACs-only, or outside the serving window.
    Policy,
    /// Path traversal or a name no device sends.
    BadName,
    /// Missing or wrong HTTP credentials.
    Unauthorized,
    /// A write request (TFTP WRQ, HTTP PUT/POST...): the servers are read-only.
    ReadOnly,
    /// Malformed packet or request.
    Malformed,
    /// A Range outside the file.
    BadRange,
    /// A bound was reached (transfers or connections at once, in total or
    /// from one address); the client may retry.
    Busy,
}

/// Why a transfer stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Interruption {
    /// The client closed the connection or sent a TFTP error.
    ClientGone,
    /// The client stopped answering (TFTP ACKs, TCP reads).
    TimedOut,
    /// The servers were stopped.
    Stopped,
    /// The file could not be read.
    ReadError,
}

/// What went back to the client besides a body: an HTTP status, a SIP status
/// (the PnP responder's NOTIFY answer), a TFTP error code, or nothing (a TFTP
/// transfer that ended normally, a datagram left unanswered). In the request
/// log it is two fields: `"reply": "http" | "sip" | "tftp-error" | "none"` and,
/// except for `none`, `"status": <number>`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "reply", content = "status", rename_all = "kebab-case")]
pub enum Wire {
    #[default]
    None,
    Http(u16),
    Sip(u16),
    TftpError(u16),
}

impl fmt::Display for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wire::None => f.write_str("no status code"),
            Wire::Http(code) => write!(f, "HTTP {code}"),
            Wire::Sip(code) => write!(f, "SIP {code}"),
            Wire::TftpError(code) => write!(f, "TFTP error {code}"),
        }
    }
}

/// One request, as logged (`<site>.requests.jsonl`) and shown. Holds no
/// credentials: `path` has secret query values masked, headers are not kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRecord {
    pub id: RequestId,
    #[serde(serialize_with = "ser_time")]
    pub time: SystemTime,
    pub client: SocketAddr,
    pub protocol: Protocol,
    /// `GET`, `HEAD`, `RRQ`, `WRQ`, ... (`-` when the packet was unreadable).
    pub method: String,
    /// The file name or request target as sent, secrets masked.
    pub path: String,
    pub user_agent: Option<String>,
    /// From the User-Agent.
    pub model: Option<Model>,
    pub firmware: Option<String>,
    /// The device the request is about: the MAC in the file name, else the User-Agent's.
    pub mac: Option<Mac>,
    /// What was served (or would have been): its name and kind.
    pub file: Option<String>,
    pub kind: Option<ContentKind>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// What was answered on the wire ([`Wire`]).
    #[serde(flatten)]
    pub status: Wire,
    /// Body bytes sent.
    pub bytes: u64,
    /// Size of the whole file, when known.
    pub size: Option<u64>,
    #[serde(rename = "duration_ms", serialize_with = "ser_millis")]
    pub duration: Duration,
    /// Plain language: what happened and, for a miss, what to do.
    pub explanation: String,
    /// A DHCP record's address offered or acknowledged (`ServeConfig::dhcp`).
    /// In JSON only when set: the request log keeps leases across a restart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// This process's own self-test ("Fetch as" in the desktop app), known by
    /// its client socket (`services::client::SelfTests`): logged and shown,
    /// never folded into a device's status, firmware or IP. In JSON only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub self_test: bool,
}

/// What the bench DHCP server offered or acknowledged: the address, for how
/// long, and until when (Unix seconds, so that a restart reads it back
/// without parsing times); `bound`: an ACK, the lease a restart keeps; else an OFFER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lease {
    pub ip: std::net::Ipv4Addr,
    pub seconds: u32,
    pub expires: u64,
    pub bound: bool,
}

fn ser_time<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(Stamp::of(*t).as_str())
}

fn ser_millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl RequestRecord {
    /// A request just received: served until said otherwise, nothing known
    /// about the device yet. The servers fill in the rest as they decide.
    pub fn new(
        id: RequestId,
        time: SystemTime,
        client: SocketAddr,
        protocol: Protocol,
        method: &str,
        path: &str,
    ) -> Self {
        RequestRecord {
            id,
            time,
            client,
            protocol,
            method: method.to_string(),
            path: path.to_string(),
            user_agent: None,
            model: None,
            firmware: None,
            mac: None,
            file: None,
            kind: None,
            outcome: Outcome::Served,
            status: Wire::None,
            bytes: 0,
            size: None,
            duration: Duration::ZERO,
            explanation: String::new(),
            lease: None,
            self_test: false,
        }
    }

    /// A request-log line read back (the memory of a site's serving, read on
    /// open): `None` for a line that is not a record this version wrote
    /// (garbage, a cut line, another program's JSON). Times and durations
    /// come back to the millisecond the log keeps.
    pub fn from_json(line: &str) -> Option<RequestRecord> {
        let v: serde_json::Value = serde_json::from_str(line).ok()?;
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let enum_of = |k: &str| v.get(k).cloned().filter(|x| !x.is_null());
        let outcome = match v.get("result")?.as_str()? {
            "served" => Outcome::Served,
            "refused" => Outcome::Refused {
                reason: serde_json::from_value(enum_of("reason")?).ok()?,
                expected: v.get("expected")?.as_bool()?,
            },
            "interrupted" => Outcome::Interrupted { reason: serde_json::from_value(enum_of("reason")?).ok()? },
            _ => return None,
        };
        let code = || v.get("status").and_then(|s| s.as_u64()).and_then(|s| u16::try_from(s).ok());
        let status = match v.get("reply")?.as_str()? {
            "none" => Wire::None,
            "http" => Wire::Http(code()?),
            "sip" => Wire::Sip(code()?),
            "tftp-error" => Wire::TftpError(code()?),
            _ => return None,
        };
        let kind = match text("kind") {
            None => None,
            Some(k) if k == "firmware" => Some(ContentKind::Firmware),
            Some(k) => Some(ContentKind::Config(serde_json::from_value(serde_json::Value::String(k)).ok()?)),
        };
        let format =
            time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
        let time = SystemTime::from(time::PrimitiveDateTime::parse(&text("time")?, &format).ok()?.assume_utc());
        Some(RequestRecord {
            id: v.get("id")?.as_u64()?,
            time,
            client: text("client")?.parse().ok()?,
            protocol: serde_json::from_value(enum_of("protocol")?).ok()?,
            method: text("method")?,
            path: text("path")?,
            user_agent: text("user_agent"),
            model: text("model").and_then(|m| m.parse().ok()),
            firmware: text("firmware"),
            mac: text("mac").and_then(|m| m.parse().ok()),
            file: text("file"),
            kind,
            outcome,
            status,
            bytes: v.get("bytes")?.as_u64()?,
            size: v.get("size").and_then(|s| s.as_u64()),
            duration: Duration::from_millis(v.get("duration_ms")?.as_u64()?),
            explanation: text("explanation")?,
            lease: match v.get("lease") {
                None => None,
                Some(l) => Some(Lease {
                    ip: l.get("ip")?.as_str()?.parse().ok()?,
                    seconds: u32::try_from(l.get("seconds")?.as_u64()?).ok()?,
                    expires: l.get("expires")?.as_u64()?,
                    bound: l.get("bound")?.as_bool()?,
                }),
            },
            self_test: v.get("self_test").and_then(|s| s.as_bool()).unwrap_or(false),
        })
    }

    /// One JSON object, no newline: what the derived `Serialize` writes (a
    /// test holds the two equal), written field by field. Through serde it
    /// was 7% of a served request's CPU: the flattened fields make it a map,
    /// every key is escaped, the address formatted through `Display`.
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(320 + self.path.len() + self.explanation.len());
        match self.write_json(&mut out) {
            Ok(()) => String::from_utf8(out).unwrap_or_else(|e| format!("{{\"error\":\"record not UTF-8: {e}\"}}")),
            Err(e) => format!("{{\"error\":\"record not serialisable: {e}\"}}"),
        }
    }

    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        // Leaf values keep their own `Serialize` (names, escaping, numbers).
        fn value<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &str, v: &T) -> serde_json::Result<()> {
            out.push(b',');
            out.push(b'"');
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b"\":");
            serde_json::to_writer(&mut *out, v)
        }
        fn text(out: &mut Vec<u8>, key: &str, v: &str) -> serde_json::Result<()> {
            // Nothing to escape (the usual case): the bytes as they are.
            if v.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
                out.extend_from_slice(b",\"");
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(b"\":\"");
                out.extend_from_slice(v.as_bytes());
                out.push(b'"');
                Ok(())
            } else {
                value(out, key, v)
            }
        }
        fn optional(out: &mut Vec<u8>, key: &str, v: Option<&str>) -> serde_json::Result<()> {
            match v {
                Some(v) => text(out, key, v),
                None => value(out, key, &()),
            }
        }
        out.extend_from_slice(b"{\"id\":");
        serde_json::to_writer(&mut *out, &self.id)?;
        text(out, "time", Stamp::of(self.time).as_str())?;
        {
            // An address never needs escaping.
            let mut client = String::with_capacity(48);
            push_addr(&mut client, self.client);
            out.extend_from_slice(b",\"client\":\"");
            out.extend_from_slice(client.as_bytes());
            out.push(b'"');
        }
        value(out, "protocol", &self.protocol)?;
        text(out, "method", &self.method)?;
        text(out, "path", &self.path)?;
        optional(out, "user_agent", self.user_agent.as_deref())?;
        value(out, "model", &self.model)?;
        optional(out, "firmware", self.firmware.as_deref())?;
        value(out, "mac", &self.mac)?;
        optional(out, "file", self.file.as_deref())?;
        value(out, "kind", &self.kind)?;
        match self.outcome {
            Outcome::Served => text(out, "result", "served")?,
            Outcome::Refused { reason, expected } => {
                text(out, "result", "refused")?;
                value(out, "reason", &reason)?;
                value(out, "expected", &expected)?;
            }
            Outcome::Interrupted { reason } => {
                text(out, "result", "interrupted")?;
                value(out, "reason", &reason)?;
            }
        }
        value(out, "outcome", &self.outcome.disposition())?;
        match self.status {
            Wire::None => text(out, "reply", "none")?,
            Wire::Http(code) => {
                text(out, "reply", "http")?;
                value(out, "status", &code)?;
            }
            Wire::Sip(code) => {
                text(out, "reply", "sip")?;
                value(out, "status", &code)?;
            }
            Wire::TftpError(code) => {
                text(out, "reply", "tftp-error")?;
                value(out, "status", &code)?;
            }
        }
        value(out, "bytes", &self.bytes)?;
        value(out, "size", &self.size)?;
        value(out, "duration_ms", &(self.duration.as_millis() as u64))?;
        text(out, "explanation", &self.explanation)?;
        if let Some(lease) = &self.lease {
            value(out, "lease", lease)?;
        }
        if self.self_test {
            value(out, "self_test", &true)?;
        }
        out.push(b'}');
        Ok(())
    }
}

impl fmt::Display for RequestRecord {
    /// `12:00:01 10.0.0.5:3456 HTTP GET /cfg000b82a1b201.xml -> served 2.1 kB in 3 ms (GXP2170 1.0.11.3 000b82a1b201): <explanation>`.
    /// One line, always: control characters from the network are escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = String::with_capacity(160 + self.path.len() + self.explanation.len());
        self.write_line(&mut line)?;
        f.write_str(&crate::formats::printable(&line))
    }
}

impl RequestRecord {
    fn write_line(&self, f: &mut String) -> fmt::Result {
        use std::fmt::Write as _;
        let stamp = Stamp::of(self.time);
        let tag = if self.self_test { "[self-test] " } else { "" };
        f.push_str(stamp.clock());
        f.push(' ');
        f.push_str(tag);
        push_addr(f, self.client);
        write!(f, " {} {} {} -> ", self.protocol, self.method, self.path)?;
        let word = self.outcome.disposition().word();
        match (self.outcome, self.outcome.detail()) {
            (Outcome::Served, _) => write!(f, "{word} {} B", self.bytes)?,
            (Outcome::Interrupted { .. }, Some(d)) => write!(f, "{word}: {d} after {} B", self.bytes)?,
            (_, Some(d)) => write!(f, "{word}: {d}")?,
            (_, None) => f.push_str(word),
        }
        write!(f, " in {} ms", self.duration.as_millis())?;
        // ` (GXP2170 1.0.11.3 000b82a1b201)`: what is known of the device.
        let mut open = false;
        let mut part = |f: &mut String, show: &dyn fmt::Display| {
            f.push_str(if open { " " } else { " (" });
            open = true;
            write!(f, "{show}")
        };
        if let Some(m) = &self.model {
            part(f, m)?;
        }
        if let Some(v) = &self.firmware {
            part(f, v)?;
        }
        if let Some(m) = &self.mac {
            part(f, m)?;
        }
        if open {
            f.push(')');
        }
        if !self.explanation.is_empty() {
            write!(f, ": {}", self.explanation)?;
        }
        Ok(())
    }
}

/// `2026-01-02T03:04:05.678Z` (UTC, milliseconds): the request log's and the
/// reports' time stamps.
pub fn rfc3339(t: SystemTime) -> String {
    Stamp::of(t).as_str().to_string()
}

/// `addr` as its `Display` writes it (`10.0.0.5:3456`, `[::1]:69`), IPv4
/// without the formatting machinery (every record writes its client twice).
fn push_addr(out: &mut String, addr: SocketAddr) {
    use std::fmt::Write as _;
    fn push_number(out: &mut String, v: u16) {
        out.push_str(crate::formats::decimal(u32::from(v), &mut [0u8; 10]));
    }
    match addr {
        SocketAddr::V4(a) => {
            for (i, o) in a.ip().octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_number(out, u16::from(o));
            }
            out.push(':');
            push_number(out, a.port());
        }
        SocketAddr::V6(a) => {
            let _ = write!(out, "{a}");
        }
    }
}

/// A time as [`rfc3339`] writes it, on the stack for years 0-9999: every
/// request's record is stamped twice (the log line, the printed clock), so
/// no allocation and no format-description interpreter (it was 3% of an HTTP
/// request's CPU). The calendar is `time`'s; only the digits are written here.
pub(crate) enum Stamp {
    /// Years 0-9999, written here.
    Digits([u8; 24]),
    /// Any other year (signed, five digits and more): `time`'s own text.
    Other(String),
}

impl Stamp {
    pub(crate) fn of(t: SystemTime) -> Stamp {
        let t = time::OffsetDateTime::from(t);
        let year = t.year();
        if !(0..=9999).contains(&year) {
            let format = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            );
            return Stamp::Other(t.format(&format).unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into()));
        }
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut v: u32| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, 4, year as u32);
        put(5, 2, u32::from(u8::from(t.month())));
        put(8, 2, u32::from(t.day()));
        put(11, 2, u32::from(t.hour()));
        put(14, 2, u32::from(t.minute()));
        put(17, 2, u32::from(t.second()));
        put(20, 3, u32::from(t.millisecond()));
        Stamp::Digits(out)
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Only ASCII digits and punctuation are ever written.
            Stamp::Digits(d) => std::str::from_utf8(d).unwrap_or("1970-01-01T00:00:00.000Z"),
            Stamp::Other(s) => s,
        }
    }

    /// `03:04:05` (for a year outside 0-9999, the same bytes of its text).
    pub(crate) fn clock(&self) -> &str {
        let text = self.as_str();
        text.get(11..19).unwrap_or(text)
    }
}

/// A file in the firmware folder, as listed by `storage::list_firmware`: at
/// the top level, or in a `<model>/<version>/` subfolder for stepped upgrades.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FirmwareFile {
    /// The name as stored, `/`-joined below the folder (`gxp2170fw.bin`,
    /// `gxp2170/1.0.11.3/gxp2170fw.bin`); the router matches it without case.
    pub name: String,
    pub size: u64,
    /// What its header says, when it was read.
    pub image: Image,
}

impl FirmwareFile {
    /// The last path component (`gxp2170fw.bin`).
    pub fn base(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or(&self.name)
    }

    /// The subfolder (`gxp2170/1.0.11.3`), empty at the top level.
    pub fn folder(&self) -> &str {
        self.name.rsplit_once('/').map_or("", |(d, _)| d)
    }

    /// The header's version, when the header was read.
    pub fn version(&self) -> Option<crate::formats::firmware::Version> {
        match &self.image {
            Image::Header(h) => Some(h.version()),
            _ => None,
        }
    }
}

/// A symbolic link in the firmware folder (the file itself or a folder on its
/// way), where it points and whether it is served: a technician may link
/// images from a firmware library elsewhere, but a link must never carry a
/// secret out (issue 25).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirmwareLink {
    /// The listing name (`gxp2170fw.bin`, `gxp2170/1.0.11.3/gxp2170fw.bin`).
    pub name: String,
    /// Where it resolves (canonical), or the link text when it leads nowhere.
    pub target: String,
    /// Why it is not served; `None`: served.
    pub refused: Option<String>,
}

impl FirmwareLink {
    /// One line for the Firmware view and the log.
    pub fn describe(&self) -> String {
        match &self.refused {
            None => format!("{} is a link to {}: served", self.name, self.target),
            Some(why) => format!("{} is a link to {}: not served, {why}", self.name, self.target),
        }
    }
}

/// A firmware file's header, read by `storage` with `formats::firmware`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Image {
    /// Not looked at (listing without headers).
    #[default]
    Unread,
    Header(crate::formats::firmware::Header),
    /// No Grandstream header this build knows: the parser's reason.
    Unrecognised(String),
    /// Could not be read: the OS's reason.
    Unreadable(String),
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(951_782_400_123)), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_767_225_599)), "2025-12-31T23:59:59.000Z");
        assert_eq!(rfc3339(UNIX_EPOCH - Duration::from_millis(1)), "1969-12-31T23:59:59.999Z");
        assert_eq!(Stamp::of(UNIX_EPOCH + Duration::from_secs(1_767_225_599)).clock(), "23:59:59");
    }

    fn arbitrary_record() -> impl proptest::strategy::Strategy<Value = RequestRecord> {
        use proptest::prelude::*;
        let text = || "(\\PC|[\"\\\\\u{0}-\u{1f}\u{7f}]){0,12}";
        let outcome = prop_oneof![
            Just(Outcome::Served),
            (0usize..8, any::<bool>()).prop_map(|(r, expected)| Outcome::Refused {
                reason: [
                    Refusal::NotFound,
                    Refusal::Policy,
                    Refusal::BadName,
                    Refusal::Unauthorized,
                    Refusal::ReadOnly,
                    Refusal::Malformed,
                    Refusal::BadRange,
                    Refusal::Busy
                ][r],
                expected
            }),
            (0usize..4).prop_map(|r| Outcome::Interrupted {
                reason: [
                    Interruption::ClientGone,
                    Interruption::TimedOut,
                    Interruption::Stopped,
                    Interruption::ReadError
                ][r]
            }),
        ];
        let wire = prop_oneof![
            Just(Wire::None),
            any::<u16>().prop_map(Wire::Http),
            any::<u16>().prop_map(Wire::Sip),
            any::<u16>().prop_map(Wire::TftpError),
        ];
        let kind = prop_oneof![
            Just(None),
            Just(Some(ContentKind::Firmware)),
            Just(Some(ContentKind::Config(FileKind::Binary))),
            Just(Some(ContentKind::Config(FileKind::DeviceXml))),
            Just(Some(ContentKind::Config(FileKind::Phonebook))),
        ];
        let client = prop_oneof![
            (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
            (any::<[u16; 8]>(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::from((ip, port))),
        ];
        let strings = (
            text(),
            text(),
            proptest::option::of(text()),
            proptest::option::of(text()),
            proptest::option::of(text()),
            text(),
        );
        let macs = (proptest::option::of(any::<[u8; 6]>()), proptest::option::of("[A-Z0-9]{3,8}"));
        (
            (any::<u64>(), 0u64..4_000_000_000_000, client),
            strings,
            macs,
            (kind, outcome, wire),
            (any::<u64>(), proptest::option::of(any::<u64>()), 0u64..10_000_000, any::<bool>()),
            proptest::option::of((any::<[u8; 4]>(), any::<u32>(), any::<u64>(), any::<bool>())),
        )
            .prop_map(
                |(
                    (id, ms, client),
                    (method, path, user_agent, firmware, file, explanation),
                    (mac, model),
                    (kind, outcome, status),
                    (bytes, size, duration, self_test),
                    lease,
                )| {
                    RequestRecord {
                        id,
                        time: UNIX_EPOCH + Duration::from_millis(ms),
                        client,
                        protocol: Protocol::Http,
                        method,
                        path,
                        user_agent,
                        model: model.map(|m| m.parse().unwrap()),
                        firmware,
                        mac: mac.map(Mac::from_bytes),
                        file,
                        kind,
                        outcome,
                        status,
                        bytes,
                        size,
                        duration: Duration::from_micros(duration),
                        explanation,
                        lease: lease.map(|(ip, seconds, expires, bound)| Lease {
                            ip: ip.into(),
                            seconds,
                            expires,
                            bound,
                        }),
                        self_test,
                    }
                },
            )
    }

    proptest::proptest! {
        /// The hand-written line is what the derived `Serialize` writes, byte
        /// for byte, with every kind of outcome, reply, address and string
        /// (quotes, backslashes, control characters, any Unicode).
        #[test]
        fn to_json_is_the_derived_serialisation(r in arbitrary_record()) {
            proptest::prop_assert_eq!(r.to_json(), serde_json::to_string(&r).unwrap());
        }

        /// A logged line reads back as the record it was, to the millisecond
        /// the log keeps (the memory of serving that a restart reads).
        #[test]
        fn from_json_reads_back_to_json(r in arbitrary_record()) {
            let back = RequestRecord::from_json(&r.to_json());
            let kept = RequestRecord { duration: Duration::from_millis(r.duration.as_millis() as u64), ..r };
            proptest::prop_assert_eq!(back, Some(kept));
        }

        /// Addresses are written as their `Display` writes them.
        #[test]
        fn push_addr_is_display(a in proptest::prelude::any::<SocketAddr>()) {
            let mut out = String::from("x");
            push_addr(&mut out, a);
            proptest::prop_assert_eq!(out, format!("x{a}"));
        }

        /// The digits written by hand are what `time`'s formatter writes, from
        /// year 0 to 9999, to the millisecond; other years are its own text.
        #[test]
        fn stamp_is_times_own_format(ms in -100_000_000_000_000i64..253_402_300_800_000i64) {
            let t = if ms >= 0 {
                UNIX_EPOCH + Duration::from_millis(ms as u64)
            } else {
                UNIX_EPOCH - Duration::from_millis(ms.unsigned_abs())
            };
            let format = time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            );
            proptest::prop_assert_eq!(rfc3339(t), time::OffsetDateTime::from(t).format(&format).unwrap());
        }
    }

    #[test]
    fn one_vocabulary_for_outcomes() {
        use Refusal::*;
        let refused = |reason, expected| Outcome::Refused { reason, expected };
        for (o, word, json, line) in [
            (Outcome::Served, "served", "served", "-> served 0 B in"),
            (refused(NotFound, false), "not found", "not-found", "-> not found in"),
            (refused(NotFound, true), "expected miss", "expected-miss", "-> expected miss: not found (expected) in"),
            (
                refused(Unauthorized, true),
                "expected miss",
                "expected-miss",
                "-> expected miss: unauthorized (expected) in",
            ),
            (refused(Policy, false), "refused by policy", "refused-by-policy", "-> refused by policy in"),
            (refused(BadName, false), "refused by policy", "refused-by-policy", "-> refused by policy: bad name in"),
            (refused(Busy, false), "failed", "failed", "-> failed: busy in"),
            (
                Outcome::Interrupted { reason: Interruption::TimedOut },
                "failed",
                "failed",
                "-> failed: interrupted (TimedOut) after 0 B in",
            ),
        ] {
            assert_eq!(o.disposition().word(), word, "{o:?}");
            let r = RequestRecord {
                outcome: o,
                ..RequestRecord::new(1, UNIX_EPOCH, "127.0.0.1:5000".parse().unwrap(), Protocol::Tftp, "RRQ", "cfg.xml")
            };
            let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
            assert_eq!(v["outcome"], json, "{o:?}");
            assert!(r.to_string().contains(line), "{o:?}: {r}");
        }
    }

    #[test]
    fn record_json_shape() {
        let r = RequestRecord {
            id: 7,
            time: UNIX_EPOCH + Duration::from_secs(60),
            client: "127.0.0.1:5000".parse().unwrap(),
            protocol: Protocol::Http,
            method: "GET".into(),
            path: "/cfg.xml".into(),
            user_agent: None,
            model: None,
            firmware: None,
            mac: Some("000b82123456".parse().unwrap()),
            file: Some("cfg.xml".into()),
            kind: Some(ContentKind::Config(FileKind::GenericXml)),
            outcome: Outcome::Refused { reason: Refusal::NotFound, expected: true },
            status: Wire::Http(404),
            bytes: 0,
            size: None,
            duration: Duration::from_millis(12),
            explanation: "x".into(),
            lease: None,
            self_test: false,
        };
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["time"], "1970-01-01T00:01:00.000Z");
        assert_eq!(v["client"], "127.0.0.1:5000");
        assert_eq!(v["protocol"], "http");
        assert_eq!(v["result"], "refused");
        assert_eq!(v["reason"], "not-found");
        assert_eq!(v["expected"], true);
        assert_eq!(v["kind"], "generic-xml");
        assert_eq!(v["mac"], "000b82123456");
        assert_eq!(v["duration_ms"], 12);
        assert_eq!((&v["reply"], &v["status"]), (&serde_json::json!("http"), &serde_json::json!(404)));
        let tftp = RequestRecord { status: Wire::TftpError(0), ..r.clone() };
        let v: serde_json::Value = serde_json::from_str(&tftp.to_json()).unwrap();
        assert_eq!((&v["reply"], &v["status"]), (&serde_json::json!("tftp-error"), &serde_json::json!(0)));
        let none = RequestRecord { status: Wire::None, ..r.clone() };
        let v: serde_json::Value = serde_json::from_str(&none.to_json()).unwrap();
        assert_eq!((&v["reply"], v.get("status")), (&serde_json::json!("none"), None));
        assert!(r.to_string().contains("not found (expected)"));
        assert_eq!(v["outcome"], "expected-miss");
        assert_eq!(v.get("self_test"), None, "only when true");
        let own = RequestRecord { self_test: true, ..r.clone() };
        let v: serde_json::Value = serde_json::from_str(&own.to_json()).unwrap();
        assert_eq!(v["self_test"], true);
        assert!(own.to_string().contains(" [self-test] 127.0.0.1:5000 HTTP GET"), "{own}");
    }
}
