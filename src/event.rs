//! Messages between the front ends and the services, one direction each:
//! [`Command`] (front end -> services, imperative) and [`Event`] (services ->
//! front ends, past tense), plus what they carry: the serving configuration
//! ([`ServeConfig`], [`Served`], [`Policy`], [`PnpConfig`]), one
//! [`RequestRecord`] per request, and discovery ([`DiscoveryConfig`],
//! [`DiscoveryEvent`], [`Sighting`]).
//!
//! Plain data: no sockets, threads, files or clock. Any layer may use it; it
//! depends only on `site`, `generate`, `formats` and `ids`. Nothing here ever
//! holds an `Authorization` header; the only secret is the HTTP password inside
//! [`Policy::auth`], which `Debug` masks.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

use crate::formats::request::Naming;
use crate::generate::{File, FileKind, Output};
use crate::ids::{Mac, Model};
use crate::site::{BinaryMode, HttpAuth, Site};

/// A server, and the protocol of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tftp,
    Http,
    Https,
    /// The SIP plug-and-play responder ([`PnpConfig`]): its records are the
    /// `ua-profile` SUBSCRIBEs it heard and what it answered.
    Sip,
    /// The syslog receiver ([`ServeConfig::syslog`]): one record per line a device sent.
    Syslog,
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
        })
    }
}

/// Front end -> services. Applied by `services::Supervisor::apply`.
#[derive(Debug)]
pub enum Command {
    /// Start every enabled server with this configuration (servers already
    /// running are stopped first). Results arrive as [`Event::Started`] /
    /// [`Event::Failed`], one per enabled server.
    Start(Box<ServeConfig>),
    /// Stop every server; transfers in flight are cut. Returns within 1 s.
    Stop,
    /// Serve these files from now on, e.g. after a site edit. Transfers in
    /// flight finish with the bytes they started with.
    ReplaceFiles(Served),
    /// Known-MACs-only, serving window, HTTP authentication.
    SetPolicy(Policy),
    /// Start looking for devices (discovery sources already running are
    /// stopped first). Independent of the servers: [`Command::Stop`] does not
    /// stop discovery. Results arrive as [`Event::Discovery`].
    StartDiscovery(Box<DiscoveryConfig>),
    /// Stop every discovery source. Returns within 1 s.
    StopDiscovery,
}

/// Everything the servers need. Build it with [`ServeConfig::from_site`] and
/// adjust fields (tests bind `127.0.0.1` with port 0).
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address every server binds (`0.0.0.0` = all IPv4 addresses).
    pub bind: IpAddr,
    /// `None` turns a server off; port 0 lets the system choose.
    pub tftp_port: Option<u16>,
    pub http_port: Option<u16>,
    pub https_port: Option<u16>,
    pub served: Served,
    pub policy: Policy,
    /// Folder whose top-level files are served as firmware; `None`: none.
    pub firmware_dir: Option<PathBuf>,
    /// JSON-lines request log, appended to; `None`: events only.
    pub request_log: Option<PathBuf>,
    /// Where the HTTPS certificate and key live (PEM, created on first use);
    /// `None`: a fresh certificate in memory for this run.
    pub tls_identity: Option<PathBuf>,
    /// The SIP plug-and-play responder; `None` (the default): off.
    pub pnp: Option<PnpConfig>,
    /// UDP port of the syslog receiver (on `bind`); `None` (the default): off.
    pub syslog: Option<u16>,
}

/// Why a site's serving settings cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "serving.bind = {0:?} is not an IP address; use 0.0.0.0 (all addresses) or one of this computer's addresses"
    )]
    Bind(String),
}

impl ServeConfig {
    /// The site's `[serving]` settings with its generated files. Companion
    /// paths (request log, certificate, firmware folder) come from `paths`.
    pub fn from_site(site: &Site, output: &Output, paths: SitePaths) -> Result<ServeConfig, ConfigError> {
        let s = &site.serving;
        let bind = s.bind.trim().parse().map_err(|_| ConfigError::Bind(s.bind.clone()))?;
        Ok(ServeConfig {
            bind,
            tftp_port: s.tftp.then_some(s.tftp_port),
            http_port: s.http.then_some(s.http_port),
            https_port: s.https.then_some(s.https_port),
            served: Served::new(site, output),
            policy: Policy { known_macs_only: s.known_macs_only, window: Window::default(), auth: s.auth.clone() },
            firmware_dir: paths.firmware_dir,
            request_log: paths.request_log,
            tls_identity: paths.tls_identity,
            pnp: None,
            syslog: None,
        })
    }

    /// No file server, no files: only the PnP responder (e.g. listening for
    /// SUBSCRIBEs while discovering, [`PnpAnswer::Nobody`]).
    pub fn pnp_only(pnp: PnpConfig) -> ServeConfig {
        ServeConfig {
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            tftp_port: None,
            http_port: None,
            https_port: None,
            served: Served::default(),
            policy: Policy::default(),
            firmware_dir: None,
            request_log: None,
            tls_identity: None,
            pnp: Some(pnp),
            syslog: None,
        }
    }

    /// Whether a server is enabled.
    pub fn port(&self, p: Protocol) -> Option<u16> {
        match p {
            Protocol::Tftp => self.tftp_port,
            Protocol::Http => self.http_port,
            Protocol::Https => self.https_port,
            Protocol::Sip => self.pnp.as_ref().map(|p| p.port),
            Protocol::Syslog => self.syslog,
        }
    }
}

/// The SIP plug-and-play responder (spec §5.2): listens on UDP `port` joined
/// to the multicast `group` on the interface whose IPv4 address is
/// `interface`, answers a Grandstream unit's `ua-profile` SUBSCRIBE with
/// `200 OK`, then sends it a NOTIFY whose body is the provisioning URL,
/// retransmitted (RFC 3261 timer A/B style) until the unit answers 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PnpConfig {
    /// The IPv4 address of the interface to listen on (the group is joined
    /// there) and the host of the URL handed out.
    pub interface: Ipv4Addr,
    /// 5060 on a real LAN (devices send there); tests pick another.
    pub port: u16,
    /// 224.0.1.75 ("SIP" all-servers group); tests may pick another.
    pub group: Ipv4Addr,
    pub answer: PnpAnswer,
    /// The URL to hand out (must end in `/`). `None`: built from `interface`
    /// and the first running server of HTTP, HTTPS, TFTP
    /// (`services::discovery::provisioning_url`).
    pub url: Option<String>,
    /// RFC 3261 T1: first NOTIFY retransmission after T1, then 2·T1, 4·T1, ...
    pub t1: Duration,
    /// NOTIFYs sent at most (the first one included); the exchange is given
    /// up 64·T1 after the first (32 s with the default T1 of 500 ms).
    pub max_tries: u32,
}

/// The SIP port and group devices use.
pub const PNP_PORT: u16 = 5060;
pub const PNP_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 1, 75);

impl PnpConfig {
    /// Port 5060, group 224.0.1.75, T1 500 ms, 7 tries, answering Grandstream units.
    pub fn new(interface: Ipv4Addr) -> PnpConfig {
        PnpConfig {
            interface,
            port: PNP_PORT,
            group: PNP_GROUP,
            answer: PnpAnswer::All,
            url: None,
            t1: Duration::from_millis(500),
            max_tries: 7,
        }
    }
}

/// Which SUBSCRIBEs the PnP responder answers. Every one is logged either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PnpAnswer {
    /// Every Grandstream unit (other vendors' phones send the same SUBSCRIBE
    /// and are never answered: the URL holds Grandstream files).
    #[default]
    All,
    /// Only MACs the site lists.
    KnownOnly,
    /// Nobody: listen and log only.
    Nobody,
}

/// Files beside a site (see `storage::site_paths`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SitePaths {
    pub firmware_dir: Option<PathBuf>,
    pub request_log: Option<PathBuf>,
    pub tls_identity: Option<PathBuf>,
}

/// When requests are answered, who gets config files, and HTTP authentication.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Refuse config files to MACs the site does not list.
    pub known_macs_only: bool,
    pub window: Window,
    /// HTTP(S) authentication (Basic and Digest are both accepted).
    pub auth: Option<HttpAuth>,
}

impl fmt::Debug for Policy {
    /// Never prints the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("known_macs_only", &self.known_macs_only)
            .field("window", &self.window)
            .field("auth", &self.auth.as_ref().map(|a| format!("{} / ****", a.username)))
            .finish()
    }
}

/// An optional serving window. Outside it every request is refused (and says why).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// Refuse requests before this time.
    pub start: Option<SystemTime>,
    /// Refuse requests after this time.
    pub stop: Option<SystemTime>,
    /// Stop serving config files once every known device has fetched its
    /// config (firmware goes on being served: upgrades follow the config).
    pub until_all_configured: bool,
}

/// What the site says about one of its devices, for routing and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    pub mac: Mac,
    pub model: Model,
    pub label: String,
    /// The config file that means "this device is configured": its
    /// `cfg<mac>.xml`, else its binary file, else the shared XML files.
    pub primary: FileKind,
}

/// The set of generated files being served, indexed for requests, with what
/// the router needs to explain misses. Cheap to clone (one `Arc`).
#[derive(Debug, Clone, Default)]
pub struct Served(Arc<ServedInner>);

#[derive(Debug, Default)]
struct ServedInner {
    files: HashMap<String, Arc<File>>,
    names: Vec<String>,
    devices: BTreeMap<Mac, KnownDevice>,
    naming: OwnedNaming,
    binary: BinaryMode,
    encrypts: bool,
    device_xml: bool,
    model_xml: bool,
    generic_xml: bool,
    total_bytes: u64,
}

#[derive(Debug, Clone, Default)]
struct OwnedNaming {
    prefix: String,
    postfix: String,
    fw_prefix: String,
    fw_postfix: String,
}

impl Served {
    /// Indexes `output` (generated from `site`) by lower-case name.
    pub fn new(site: &Site, output: &Output) -> Served {
        let p = &site.provisioning;
        let files: HashMap<String, Arc<File>> =
            output.files.iter().map(|f| (f.name.to_ascii_lowercase(), Arc::new(f.clone()))).collect();
        let has = |mac: Mac, kind: FileKind| output.files.iter().any(|f| f.device == Some(mac) && f.kind == kind);
        let devices = site
            .devices
            .iter()
            .map(|d| {
                let primary = if has(d.mac, FileKind::DeviceXml) {
                    FileKind::DeviceXml
                } else if has(d.mac, FileKind::Binary) {
                    FileKind::Binary
                } else if d.model.requests_model_file() && p.model_xml {
                    FileKind::ModelXml
                } else {
                    FileKind::GenericXml
                };
                (d.mac, KnownDevice { mac: d.mac, model: d.model.clone(), label: d.label.clone(), primary })
            })
            .collect();
        let mut names: Vec<String> = output.files.iter().map(|f| f.name.clone()).collect();
        names.sort();
        Served(Arc::new(ServedInner {
            files,
            names,
            devices,
            naming: OwnedNaming {
                prefix: p.prefix.clone(),
                postfix: p.postfix.clone(),
                fw_prefix: p.firmware_prefix.clone(),
                fw_postfix: p.firmware_postfix.clone(),
            },
            binary: p.binary,
            encrypts: p.encrypts(),
            device_xml: p.device_xml,
            model_xml: p.model_xml,
            generic_xml: p.generic_xml,
            total_bytes: output.total_bytes() as u64,
        }))
    }

    /// The file a device gets for this exact name (any case).
    pub fn file(&self, name: &str) -> Option<&Arc<File>> {
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            self.0.files.get(&name.to_ascii_lowercase())
        } else {
            self.0.files.get(name)
        }
    }

    /// Every served name, sorted.
    pub fn names(&self) -> &[String] {
        &self.0.names
    }

    /// Number of served names (`cfg<mac>` and `cfg<mac>.bin` count twice).
    pub fn len(&self) -> usize {
        self.0.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.names.is_empty()
    }

    /// Bytes of all served files together.
    pub fn total_bytes(&self) -> u64 {
        self.0.total_bytes
    }

    /// The site's devices, by MAC.
    pub fn devices(&self) -> &BTreeMap<Mac, KnownDevice> {
        &self.0.devices
    }

    /// One of the site's devices.
    pub fn device(&self, mac: Mac) -> Option<&KnownDevice> {
        self.0.devices.get(&mac)
    }

    /// The site's naming rules (prefix/postfix).
    pub fn naming(&self) -> Naming<'_> {
        let n = &self.0.naming;
        Naming { prefix: &n.prefix, postfix: &n.postfix, fw_prefix: &n.fw_prefix, fw_postfix: &n.fw_postfix }
    }

    /// Provisioning switches, for explaining why a file does not exist.
    pub fn binary_mode(&self) -> BinaryMode {
        self.0.binary
    }

    pub fn encrypts(&self) -> bool {
        self.0.encrypts
    }

    /// `(device_xml, model_xml, generic_xml)` switches of the site.
    pub fn xml_switches(&self) -> (bool, bool, bool) {
        (self.0.device_xml, self.0.model_xml, self.0.generic_xml)
    }
}

/// Services -> front ends.
#[derive(Debug, Clone)]
pub enum Event {
    /// A server listens on `addr` (the real address: port 0 resolved).
    /// HTTPS carries its certificate's fingerprints.
    Started { protocol: Protocol, addr: SocketAddr, certificate: Option<CertificateInfo> },
    /// A server could not start, or stopped on an error. `error` reads well
    /// to a technician and says what to do.
    Failed { protocol: Protocol, error: ServiceError },
    /// A transfer began (a request is being served).
    Received(Transfer),
    /// Bytes sent so far (firmware and other large files, at most 4 per second).
    Progress { id: RequestId, sent: u64, total: Option<u64> },
    /// A request ended: served, refused or interrupted. Exactly one per request.
    Completed(RequestRecord),
    /// The served files were replaced ([`Command::ReplaceFiles`]).
    FilesReplaced { files: usize },
    /// The policy was replaced ([`Command::SetPolicy`]).
    PolicyChanged,
    /// The serving window closed; further requests are refused.
    WindowClosed { reason: String },
    /// A server stopped.
    Stopped { protocol: Protocol },
    /// Something discovery found or did ([`Command::StartDiscovery`], and the
    /// PnP responder's sightings).
    Discovery(DiscoveryEvent),
}

/// A request number, unique within one `Supervisor`.
pub type RequestId = u64;

/// A transfer that has begun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: RequestId,
    pub protocol: Protocol,
    pub client: SocketAddr,
    /// The file being sent (its served name).
    pub name: String,
    pub kind: ContentKind,
    pub size: Option<u64>,
    pub mac: Option<Mac>,
}

/// The HTTPS certificate in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// SHA-256 of the certificate, `AB:CD:...` (what browsers and `gsprov fetch --fingerprint` show).
    pub sha256: String,
    /// Base64 SHA-256 of the public key, for `curl --pinnedpubkey sha256//<this>`.
    pub spki_sha256_base64: String,
    /// Where it is stored; `None` for an in-memory certificate.
    pub path: Option<PathBuf>,
    /// Created by this start (first use).
    pub created: bool,
}

/// Why a server could not start or failed. Messages are for technicians.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error(
        "port {port} needs root/CAP_NET_BIND_SERVICE: run with sudo, use setcap (see README), or choose another port"
    )]
    PrivilegedPort { port: u16 },
    #[error("port {port} is already in use by another program: stop that program or choose another port")]
    PortInUse { port: u16 },
    #[error("{ip} is not an address of this computer: use 0.0.0.0 (all addresses) or one of its addresses")]
    AddressNotAvailable { ip: IpAddr },
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("HTTPS certificate {path}: {reason}; delete the file to have a new one made")]
    Certificate { path: String, reason: String },
    #[error("the request log {path} cannot be written: {reason}")]
    RequestLog { path: String, reason: String },
    /// The runtime or a service thread could not be created.
    #[error("the server stopped unexpectedly: {reason}")]
    Crashed { reason: String },
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "kebab-case")]
pub enum Outcome {
    /// Everything asked for (the whole file, or the asked range) went out.
    Served,
    /// Nothing was sent. `expected`: a normal step of provisioning (a probe
    /// for a file the site does not generate, the first 401 before credentials).
    Refused { reason: Refusal, expected: bool },
    /// The transfer began and did not finish.
    Interrupted { reason: Interruption },
}

impl Outcome {
    /// Everything asked for went out.
    pub fn is_served(self) -> bool {
        self == Outcome::Served
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
}

/// Why a transfer stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    /// HTTP status, or the TFTP error code sent (0 when served).
    pub status: u16,
    /// Body bytes sent.
    pub bytes: u64,
    /// Size of the whole file, when known.
    pub size: Option<u64>,
    #[serde(rename = "duration_ms", serialize_with = "ser_millis")]
    pub duration: Duration,
    /// Plain language: what happened and, for a miss, what to do.
    pub explanation: String,
}

fn ser_time<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

fn ser_millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

impl RequestRecord {
    /// One JSON object, no newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"record not serialisable: {e}\"}}"))
    }
}

impl fmt::Display for RequestRecord {
    /// `12:00:01 10.0.0.5:3456 HTTP GET /cfg000b82a1b201.xml -> served 2.1 kB in 3 ms (GXP2170 1.0.11.3 000b82a1b201): <explanation>`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = rfc3339(self.time);
        let clock = time.get(11..19).unwrap_or(&time);
        write!(f, "{clock} {} {} {} {} -> ", self.client, self.protocol, self.method, self.path)?;
        match self.outcome {
            Outcome::Served => write!(f, "served {} B", self.bytes)?,
            Outcome::Refused { reason, expected } => {
                let what = match reason {
                    Refusal::NotFound => "not found",
                    Refusal::Policy => "refused by policy",
                    Refusal::BadName => "refused (bad name)",
                    Refusal::Unauthorized => "unauthorized",
                    Refusal::ReadOnly => "refused (read-only)",
                    Refusal::Malformed => "malformed",
                    Refusal::BadRange => "bad range",
                };
                write!(f, "{what}{}", if expected { " (expected)" } else { "" })?;
            }
            Outcome::Interrupted { reason } => write!(f, "interrupted ({reason:?}) after {} B", self.bytes)?,
        }
        write!(f, " in {} ms", self.duration.as_millis())?;
        let who: Vec<String> =
            [self.model.as_ref().map(|m| m.to_string()), self.firmware.clone(), self.mac.map(|m| m.to_string())]
                .into_iter()
                .flatten()
                .collect();
        if !who.is_empty() {
            write!(f, " ({})", who.join(" "))?;
        }
        if !self.explanation.is_empty() {
            write!(f, ": {}", self.explanation)?;
        }
        Ok(())
    }
}

/// A network interface with an IPv4 address: where gsprov serves, announces
/// and discovers (the technician picks one; `services::interfaces::list`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct NetInterface {
    /// `eth0`, `en0`, `Ethernet 2`.
    pub name: String,
    pub ipv4: Ipv4Addr,
    /// Network prefix length (24 for 255.255.255.0).
    pub prefix: u8,
    pub loopback: bool,
}

impl NetInterface {
    /// The network address (`10.0.0.0` for 10.0.0.2/24).
    pub fn network(&self) -> Ipv4Addr {
        let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(self.prefix.min(32))) };
        Ipv4Addr::from(u32::from(self.ipv4) & mask)
    }
}

impl fmt::Display for NetInterface {
    /// `eth0 10.0.0.2/24`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.name, self.ipv4, self.prefix)
    }
}

/// What to discover with, for [`Command::StartDiscovery`]. Every active
/// source is off unless asked for: only the passive ones (mDNS browse, which
/// sends standard mDNS queries, and reading the OS neighbour table) are on by
/// [`DiscoveryConfig::new`]. The PnP listener is not here: it is the PnP
/// responder of the servers ([`ServeConfig::pnp`], [`PnpAnswer::Nobody`] to
/// only listen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryConfig {
    /// The LAN to look at.
    pub interface: NetInterface,
    /// mDNS/DNS-SD browsing; `None`: off.
    pub mdns: Option<MdnsConfig>,
    /// Read the OS neighbour (ARP) table this often; `None`: never.
    pub neighbours: Option<Duration>,
    /// Probe every address of a subnet so the neighbour table fills; `None`
    /// (the default): never. Only on the technician's explicit request.
    pub sweep: Option<SweepConfig>,
    /// Ask the LAN's DHCP server once what it hands out; `None` (the default): never.
    pub dhcp: Option<DhcpConfig>,
    /// The provisioning URL gsprov hands out, compared with the DHCP server's option 66.
    pub url: Option<String>,
}

impl DiscoveryConfig {
    /// mDNS on the standard port and the neighbour table every 5 s; no sweep, no DHCP probe.
    pub fn new(interface: NetInterface) -> DiscoveryConfig {
        DiscoveryConfig {
            interface,
            mdns: Some(MdnsConfig::default()),
            neighbours: Some(Duration::from_secs(5)),
            sweep: None,
            dhcp: None,
            url: None,
        }
    }
}

/// mDNS/DNS-SD browsing (spec §5.3, §11: no evidence that Grandstream units
/// announce anything; instances whose name, host or TXT record names a
/// Grandstream model or MAC are reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdnsConfig {
    /// 5353 on a real LAN; tests may pick another.
    pub port: u16,
    /// Fully qualified service types, ending in `._tcp.local.` or `._udp.local.`.
    pub service_types: Vec<String>,
}

/// The service types browsed by default.
pub const MDNS_SERVICE_TYPES: [&str; 3] = ["_http._tcp.local.", "_https._tcp.local.", "_sip._udp.local."];

impl Default for MdnsConfig {
    fn default() -> Self {
        MdnsConfig { port: 5353, service_types: MDNS_SERVICE_TYPES.iter().map(|s| s.to_string()).collect() }
    }
}

/// An explicit sweep: one small UDP datagram (to the discard port, 9) to each
/// address of `network/prefix`, at most `rate` per second, so that the OS
/// learns every neighbour's MAC. Refused for networks larger than a /24.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepConfig {
    pub network: Ipv4Addr,
    pub prefix: u8,
    /// Probes per second (at least 1).
    pub rate: u32,
    pub port: u16,
}

impl SweepConfig {
    /// The interface's own subnet (at most a /24 of it), 50 probes per second, port 9.
    pub fn of(interface: &NetInterface) -> SweepConfig {
        let prefix = interface.prefix.max(24);
        let probe = NetInterface { prefix, ..interface.clone() };
        SweepConfig { network: probe.network(), prefix, rate: 50, port: 9 }
    }
}

/// The opt-in DHCP preflight: one DHCPDISCOVER on the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpConfig {
    /// How long to wait for an offer.
    pub timeout: Duration,
    /// 67 and 68 on a real LAN.
    pub server_port: u16,
    pub client_port: u16,
}

impl Default for DhcpConfig {
    fn default() -> Self {
        DhcpConfig { timeout: Duration::from_secs(4), server_port: 67, client_port: 68 }
    }
}

/// How a device was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// Its plug-and-play SUBSCRIBE (MAC, model, firmware, IP).
    Pnp,
    /// An mDNS/DNS-SD instance naming a Grandstream model or MAC.
    Mdns,
    /// A TFTP/HTTP(S) request to our servers (file name, User-Agent).
    Request,
    /// The OS neighbour (ARP) table: a MAC with a Grandstream OUI.
    Neighbour,
}

impl Source {
    pub fn describe(self) -> &'static str {
        match self {
            Source::Pnp => "PnP",
            Source::Mdns => "mDNS",
            Source::Request => "request",
            Source::Neighbour => "neighbour",
        }
    }
}

/// One observation of a device by one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sighting {
    #[serde(serialize_with = "ser_time")]
    pub time: SystemTime,
    pub source: Source,
    pub mac: Option<Mac>,
    pub ip: Option<IpAddr>,
    pub model: Option<Model>,
    pub firmware: Option<String>,
    /// What was seen, for people: `SUBSCRIBE from 10.0.0.5:5080`, an mDNS instance name, ...
    pub detail: String,
}

/// The parts of discovery that start, fail and stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscoveryTask {
    /// The PnP responder of the servers ([`ServeConfig::pnp`]): says what it answers with.
    Pnp,
    Mdns,
    Neighbours,
    Sweep,
    Dhcp,
}

impl fmt::Display for DiscoveryTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            DiscoveryTask::Pnp => "PnP responder",
            DiscoveryTask::Mdns => "mDNS",
            DiscoveryTask::Neighbours => "neighbour table",
            DiscoveryTask::Sweep => "sweep",
            DiscoveryTask::Dhcp => "DHCP preflight",
        })
    }
}

/// Discovery, services -> front ends (inside [`Event::Discovery`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscoveryEvent {
    /// A task began; `detail` says what it does and where.
    Started { task: DiscoveryTask, detail: String },
    /// A task could not start or failed; `error` says what to do.
    Failed { task: DiscoveryTask, error: String },
    /// A device was seen (folded by `services::discovery::Discovery`).
    Seen(Sighting),
    /// The sweep sent its last probe.
    SweepFinished { probed: u32 },
    /// The DHCP preflight's result.
    Dhcp(DhcpReport),
    /// A task stopped.
    Stopped { task: DiscoveryTask },
}

/// What the LAN's DHCP server hands out that matters for provisioning, next
/// to what gsprov would hand out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DhcpReport {
    pub interface: String,
    /// The server that answered (option 54, else the packet's source); `None`: no answer.
    pub server: Option<Ipv4Addr>,
    pub offered: Option<Ipv4Addr>,
    pub option66: Option<String>,
    /// Vendor-specific information, raw (its sub-option layout is unknown, spec §13).
    pub option43: Option<Vec<u8>>,
    pub option150: Vec<Ipv4Addr>,
    pub option160: Option<String>,
    /// The URL gsprov hands out.
    pub expected: Option<String>,
    pub verdict: Option66Verdict,
    /// Ready-to-paste option-66 settings (`formats::dhcp::option66_snippets`), server -> text.
    pub snippets: Vec<(String, String)>,
}

/// How the DHCP server's option 66 compares with gsprov's URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Option66Verdict {
    /// No DHCP server answered.
    #[default]
    NoAnswer,
    /// The server sends no option 66: devices will not find gsprov through DHCP.
    Missing,
    /// Option 66 points at gsprov.
    Matches,
    /// Option 66 points elsewhere: devices will ask that server, not gsprov.
    Differs,
    /// A server answered, but there is no gsprov URL to compare with.
    NothingToCompare,
}

impl Option66Verdict {
    pub fn describe(self) -> &'static str {
        match self {
            Option66Verdict::NoAnswer => "no DHCP server answered",
            Option66Verdict::Missing => {
                "the DHCP server sends no option 66: devices will not learn gsprov's address from DHCP"
            }
            Option66Verdict::Matches => "option 66 points at gsprov",
            Option66Verdict::Differs => {
                "option 66 points elsewhere: devices that honour it (P145 = 1, the default) will ask that server instead of gsprov"
            }
            Option66Verdict::NothingToCompare => "a DHCP server answered; no gsprov URL to compare with",
        }
    }
}

/// `2026-01-02T03:04:05.678Z` (UTC, milliseconds).
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, day) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, d.subsec_millis())
}

/// Days since 1970-01-01 -> (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_format() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_millis(951_782_400_123)), "2000-02-29T00:00:00.123Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_767_225_599)), "2025-12-31T23:59:59.000Z");
    }

    #[test]
    fn policy_debug_masks_the_password() {
        let p = Policy {
            auth: Some(HttpAuth { username: "prov".into(), password: "hunter2".into() }),
            ..Policy::default()
        };
        let text = format!("{p:?} {:?}", Command::SetPolicy(p.clone()));
        assert!(text.contains("prov") && !text.contains("hunter2"), "{text}");
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
            status: 404,
            bytes: 0,
            size: None,
            duration: Duration::from_millis(12),
            explanation: "x".into(),
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
        assert!(r.to_string().contains("not found (expected)"));
    }
}
