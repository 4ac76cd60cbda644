//! Messages between the front ends and the services, one direction each:
//! [`Command`] (front end -> services, imperative) and [`Event`] (services ->
//! front ends, past tense), plus the configurations they carry
//! ([`ServeConfig`], [`PnpConfig`], [`DiscoveryConfig`]) and the servers'
//! failures ([`ServiceError`]). What a request is and means (records, the
//! served-files index, the policy, discovery sightings) is the pure
//! [`crate::serving`] layer's; this module only wraps it in messages.
//!
//! Plain data: no sockets, threads, files or clock. Depends on `serving`,
//! `site`, `generate` and `ids`; used by the services and the front ends.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::generate::Output;
use crate::ids::Mac;
use crate::serving::discovery::{Discovery, DiscoveryEvent, NetInterface};
pub use crate::serving::leases::DhcpAnswer;
use crate::serving::{ContentKind, Policy, Protocol, RequestId, RequestRecord, Served, Window};
use crate::site::Site;

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
    /// Folder whose files (top level and `<model>/<version>/`) are served as firmware; `None`: none.
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
    /// Firmware transfers at once, TFTP and HTTP(S) together; the next ones
    /// wait for a slot (they are not refused). 0: no limit.
    pub max_firmware_transfers: usize,
    /// The bench DHCP server; `None` (the default): off.
    pub dhcp: Option<BenchDhcpConfig>,
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
            policy: Policy {
                known_macs_only: s.known_macs_only,
                window: Window::default(),
                auth: s.auth.clone(),
                allow_secrets_over_tftp: s.allow_secrets_over_tftp,
            },
            firmware_dir: paths.firmware_dir,
            request_log: paths.request_log,
            tls_identity: paths.tls_identity,
            pnp: None,
            syslog: None,
            max_firmware_transfers: usize::from(site.firmware.max_transfers),
            dhcp: None,
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
            max_firmware_transfers: 0,
            dhcp: None,
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
            Protocol::Dhcp => self.dhcp.as_ref().map(|d| d.server_port),
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

/// Services -> front ends.
#[derive(Debug, Clone)]
pub enum Event {
    /// A server listens on `addr` (the real address: port 0 resolved).
    /// HTTPS carries its certificate's fingerprints.
    Started { protocol: Protocol, addr: SocketAddr, certificate: Option<CertificateInfo> },
    /// A server could not start, or stopped on an error. `error` reads well
    /// to a technician and says what to do.
    Failed { protocol: Protocol, error: ServiceError },
    /// A transfer that is shown while it runs began: firmware, and files of
    /// 256 KB or more (a config file has only its [`Event::Completed`]).
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
    /// A technician's action on a device ended (NOTIFY, check-device): its
    /// result, for the live log and the status board's truth columns.
    Action(crate::serving::truth::ActionRecord),
}

impl Event {
    /// Folds what this event says about devices (a sighting, a DHCP report, a
    /// request) into a discovery list; every front end folds through here.
    pub fn fold_discovery(&self, list: &mut Discovery) {
        match self {
            Event::Discovery(d) => list.apply(d),
            Event::Completed(r) => list.request(r),
            _ => {}
        }
    }
}

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

/// The HTTPS certificates in use: the first for clients whose handshake
/// offers ECDSA (every current client), the fallback for those that offer only
/// RSA signatures (older embedded TLS stacks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// SHA-256 of the certificate, `AB:CD:...` (what browsers and `gsprov fetch --fingerprint` show).
    pub sha256: String,
    /// Base64 SHA-256 of the public key, for `curl --pinnedpubkey sha256//<this>`.
    pub spki_sha256_base64: String,
    /// Its key type.
    pub key: CertKey,
    /// Where it is stored; `None` for an in-memory certificate.
    pub path: Option<PathBuf>,
    /// Created by this start (first use).
    pub created: bool,
    /// The certificate served to clients that cannot take the first (an RSA one), if any.
    pub fallback: Option<ServedCertificate>,
}

/// A second certificate the HTTPS server presents, to the clients that need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedCertificate {
    pub sha256: String,
    pub spki_sha256_base64: String,
    pub key: CertKey,
    /// Created by this start (first use, or added to a file an earlier gsprov wrote).
    pub created: bool,
}

/// The key type of an HTTPS certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertKey {
    EcdsaP256,
    EcdsaP384,
    Ed25519,
    Rsa { bits: u32 },
}

impl CertKey {
    pub fn is_rsa(self) -> bool {
        matches!(self, CertKey::Rsa { .. })
    }
}

impl std::fmt::Display for CertKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertKey::EcdsaP256 => f.write_str("ECDSA P-256"),
            CertKey::EcdsaP384 => f.write_str("ECDSA P-384"),
            CertKey::Ed25519 => f.write_str("Ed25519"),
            CertKey::Rsa { bits } => write!(f, "RSA {bits}"),
        }
    }
}

/// Why a server could not start or failed. Messages are for technicians.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// The OS refused the port (below 1024 on Linux: root or the capability; on Windows: a
    /// port another program holds exclusively). The text is the running OS's.
    #[error("{}", crate::serving::privilege::bind_denied(crate::serving::privilege::Os::HERE, *port))]
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
    /// Another DHCP server answers on the bench DHCP server's interface:
    /// gsprov refuses to start its own (or stops it at once).
    #[error("{}", foreign_dhcp(interface, *server, mac.as_deref(), url.as_deref()))]
    ForeignDhcp { interface: String, server: Ipv4Addr, mac: Option<String>, url: Option<String> },
    /// The bench DHCP server's interface cannot be used (no static address, ...).
    #[error("the bench DHCP server cannot run on {interface}: {reason}")]
    DhcpInterface { interface: String, reason: String },
}

/// The refusal, with the lines to paste into the other server.
fn foreign_dhcp(interface: &str, server: Ipv4Addr, mac: Option<&str>, url: Option<&str>) -> String {
    let mac = mac.map(|m| format!(", MAC {m}")).unwrap_or_default();
    let mut s = format!(
        "another DHCP server answers on {interface}: {server}{mac}. gsprov does not run a second DHCP server on a \
         network that has one (two servers hand out conflicting addresses); its DHCP is off, the file servers go on. \
         Set option 66 on {server} instead"
    );
    match url {
        Some(url) => {
            s.push_str(&format!(" (to {url}):"));
            for (server, line) in crate::formats::dhcp::option66_snippets(url) {
                s.push_str(&format!("\n  {server}: {line}"));
            }
        }
        None => s.push('.'),
    }
    s
}

/// The bench DHCP server (issue 29): answers DHCP on one interface with a
/// small pool, short leases and option 66 = this server's URL, and refuses
/// to run where another DHCP server answers. Off unless asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchDhcpConfig {
    /// The one interface it binds to (SO_BINDTODEVICE); its static address is
    /// the server identifier, and its subnet holds the pool.
    pub interface: NetInterface,
    /// `None`: [`crate::serving::leases::default_pool`].
    pub range: Option<(Ipv4Addr, Ipv4Addr)>,
    pub answer: DhcpAnswer,
    /// 5-10 minutes: a bench, not an office.
    pub lease_time: Duration,
    /// Option 3; `None`: not sent (a bench has no router unless the technician says so).
    pub router: Option<Ipv4Addr>,
    /// Option 6; empty: not sent.
    pub dns: Vec<Ipv4Addr>,
    /// Option 42 (the site's NTP server, P30, when it is an address); empty: not sent.
    pub ntp: Vec<Ipv4Addr>,
    /// Option 2 in seconds east of UTC (the site's time zone, P64, when it names one offset).
    pub time_offset: Option<i32>,
    /// Option 66; `None`: this server's URL (HTTP, else HTTPS, else the TFTP host).
    pub url: Option<String>,
    /// Option 43 bytes; `None` (the default): not sent.
    pub option43: Option<Vec<u8>>,
    /// Other options only when the technician asks (67, 150, 160, ...).
    pub extra: Vec<(u8, Vec<u8>)>,
    /// How long the check for another server listens before starting.
    pub probe: Duration,
    /// How often, while running, a DISCOVER checks that no other server appeared.
    pub guard_every: Duration,
    /// How long the ARP check waits for an answer before an address counts as free.
    pub arp_wait: Duration,
    /// It stops by itself after this long.
    pub stop_after: Duration,
    /// 67 and 68 on a LAN.
    pub server_port: u16,
    pub client_port: u16,
}

/// How long the bench DHCP server runs unless told otherwise.
pub const DHCP_STOP_AFTER: Duration = Duration::from_secs(2 * 60 * 60);

impl BenchDhcpConfig {
    /// On `interface`: default pool, Grandstream units only, 10-minute leases,
    /// no router or DNS, option 66 = this server's URL, a 6 s check for other
    /// servers (a DISCOVER every 2 s) and one every 2 s while running,
    /// stopping after 2 hours.
    pub fn new(interface: NetInterface) -> BenchDhcpConfig {
        BenchDhcpConfig {
            interface,
            range: None,
            answer: DhcpAnswer::Grandstream,
            lease_time: Duration::from_secs(600),
            router: None,
            dns: Vec::new(),
            ntp: Vec::new(),
            time_offset: None,
            url: None,
            option43: None,
            extra: Vec::new(),
            // dnsmasq pings an address for up to 3 s before it offers it: wait for twice that.
            probe: Duration::from_secs(6),
            guard_every: Duration::from_secs(2),
            arp_wait: Duration::from_millis(800),
            stop_after: DHCP_STOP_AFTER,
            server_port: 67,
            client_port: 68,
        }
    }

    /// Options 42 and 2 from the site: P30 when it is an IPv4 address (option 42
    /// carries addresses only), P64 when every family of the site's devices
    /// reads it as the same fixed UTC offset. With what was left out and why.
    pub fn site_options(&mut self, site: &Site) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(ntp) = site.defaults.get("P30").map(str::trim).filter(|v| !v.is_empty()) {
            match ntp.parse::<Ipv4Addr>() {
                Ok(ip) => self.ntp = vec![ip],
                Err(_) => notes.push(format!(
                    "option 42 (NTP) not sent: the site's P30 = {ntp} is a name, and option 42 carries addresses"
                )),
            }
        }
        if let Some(tz) = site.defaults.get("P64").map(str::trim).filter(|v| !v.is_empty()) {
            let families: std::collections::BTreeSet<_> =
                site.devices.iter().map(|d| crate::catalog::Family::of_model(&d.model).family).collect();
            let offsets: std::collections::BTreeSet<Option<i32>> = families
                .iter()
                .map(|f| crate::catalog::timezone::zone(*f, tz).and_then(|z| gmt_offset(&z.offset)))
                .collect();
            match (offsets.len(), offsets.iter().next()) {
                (1, Some(Some(secs))) => self.time_offset = Some(*secs),
                _ => notes.push(format!(
                    "option 2 (time offset) not sent: the site's P64 = {tz} is not one fixed UTC offset for its devices"
                )),
            }
        }
        notes
    }
}

/// `GMT+01:00` -> 3600, `GMT-03:30` -> -12600, `GMT` -> 0.
fn gmt_offset(text: &str) -> Option<i32> {
    let rest = text.trim().strip_prefix("GMT")?;
    if rest.is_empty() {
        return Some(0);
    }
    let (sign, hm) = match rest.as_bytes()[0] {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (h, m) = hm.split_once(':').unwrap_or((hm, "0"));
    Some(sign * (h.parse::<i32>().ok()? * 3600 + m.parse::<i32>().ok()? * 60))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serving::Policy;
    use crate::site::HttpAuth;

    #[test]
    fn command_debug_masks_the_password() {
        let p = Policy {
            auth: Some(HttpAuth { username: "prov".into(), password: "hunter2".into() }),
            ..Policy::default()
        };
        let text = format!("{:?}", Command::SetPolicy(p));
        assert!(text.contains("prov") && !text.contains("hunter2"), "{text}");
    }
}
