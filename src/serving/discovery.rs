//! The merged list of discovered devices: a pure fold over discovery events
//! ([`DiscoveryEvent`], [`Sighting`]) and request records, so that every
//! source lands in one list: PnP SUBSCRIBEs, HTTP/HTTPS/TFTP requests to our
//! servers, syslog senders, bench-DHCP leases, mDNS instances and the
//! neighbour table. One entry per MAC (or per IP while the MAC is not known yet), with
//! what each source told: IP, model, firmware, how and when it was seen, and
//! whether the site lists it. Also the pure helpers discovery needs: the
//! provisioning URL for an interface, reading a Grandstream model or MAC out
//! of mDNS names and TXT records, comparing a DHCP option 66 with our URL,
//! and [`adopt`] (a discovered device -> a site device). The list the
//! technician reads is [`Discovery::rows`] under a [`Filter`] (not in the
//! site / in the site / ignored, a text, a model) with [`Discovery::counts`];
//! ignored units stay in the fold, hidden behind the "ignored" filter.
//! Unknown entries are bounded ([`MAX_UNKNOWN`]): a flood of made-up MACs
//! forgets the one seen longest ago, and says how many.
//!
//! Pure: no sockets, threads or clock (times come from the events). The
//! services emit the events; a front end folds them into its own copy.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::SystemTime;

use serde::Serialize;

use super::record::{Protocol, RequestRecord};
use super::served::Served;
use crate::ids::{Mac, Model};
use crate::site::{Device, Site};

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
    /// An interface whose loopback flag follows its address (`127.0.0.0/8`).
    pub fn new(name: &str, ipv4: Ipv4Addr, prefix: u8) -> NetInterface {
        NetInterface { name: name.into(), ipv4, prefix, loopback: ipv4.is_loopback() }
    }

    /// The interfaces unit tests of the layers above share: `lo 127.0.0.1/8`
    /// and `eth0 10.0.0.2/24`.
    #[cfg(test)]
    pub(crate) fn lo_and_eth0() -> Vec<NetInterface> {
        vec![NetInterface::new("lo", Ipv4Addr::LOCALHOST, 8), NetInterface::new("eth0", Ipv4Addr::new(10, 0, 0, 2), 24)]
    }

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
    /// A lease of the bench DHCP server (MAC, address, model from option 60).
    Dhcp,
    /// A line sent to the syslog receiver (the sender's address; its MAC when
    /// the address fetched as a known device).
    Syslog,
}

impl Source {
    pub fn describe(self) -> &'static str {
        match self {
            Source::Pnp => "PnP",
            Source::Mdns => "mDNS",
            Source::Request => "request",
            Source::Neighbour => "neighbour",
            Source::Dhcp => "DHCP",
            Source::Syslog => "syslog",
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

/// Discovery, services -> front ends (inside `Event::Discovery`).
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

/// One device, as every source saw it together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiscoveredDevice {
    pub mac: Option<Mac>,
    pub ip: Option<IpAddr>,
    /// The model the device said or announced (not the site's).
    pub model: Option<Model>,
    pub firmware: Option<String>,
    /// How it was seen.
    pub sources: BTreeSet<Source>,
    #[serde(serialize_with = "ser_time")]
    pub first_seen: SystemTime,
    #[serde(serialize_with = "ser_time")]
    pub last_seen: SystemTime,
    /// The site lists its MAC.
    pub known: bool,
    /// The site's label for it (empty when unknown).
    pub label: String,
    /// The site's model for it, when known.
    pub site_model: Option<Model>,
    /// The technician chose to ignore it ([`Discovery::ignore`]): hidden
    /// behind the "ignored" filter, never deleted.
    pub ignored: bool,
    /// A Grandstream OUI, or a source that says Grandstream.
    pub grandstream: bool,
    /// The latest detail per source (`SUBSCRIBE from 10.0.0.5:5080`, an mDNS name, ...).
    pub details: BTreeMap<Source, String>,
}

fn ser_time<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&super::record::rfc3339(*t))
}

impl DiscoveredDevice {
    fn new(s: &Sighting) -> Self {
        DiscoveredDevice {
            mac: None,
            ip: None,
            model: None,
            firmware: None,
            sources: BTreeSet::new(),
            first_seen: s.time,
            last_seen: s.time,
            known: false,
            label: String::new(),
            site_model: None,
            ignored: false,
            grandstream: false,
            details: BTreeMap::new(),
        }
    }

    /// `PnP, neighbour`.
    pub fn how_seen(&self) -> String {
        self.sources.iter().map(|s| s.describe()).collect::<Vec<_>>().join(", ")
    }

    fn absorb(&mut self, s: &Sighting) {
        if s.mac.is_some() {
            self.mac = s.mac;
        }
        if s.ip.is_some() {
            self.ip = s.ip;
        }
        if s.model.is_some() {
            self.model = s.model.clone();
        }
        if s.firmware.is_some() {
            self.firmware = s.firmware.clone();
        }
        self.sources.insert(s.source);
        self.first_seen = self.first_seen.min(s.time);
        self.last_seen = self.last_seen.max(s.time);
        if !s.detail.is_empty() {
            self.details.insert(s.source, s.detail.clone());
        }
        // Every source only reports what looks like Grandstream, except
        // requests to our servers and syslog lines (which may come from any device).
        self.grandstream |=
            !matches!(s.source, Source::Request | Source::Syslog) || s.mac.is_some_and(|m| m.is_grandstream());
    }

    fn merge(&mut self, other: DiscoveredDevice) {
        self.mac = self.mac.or(other.mac);
        self.ip = self.ip.or(other.ip);
        self.model = self.model.take().or(other.model);
        self.firmware = self.firmware.take().or(other.firmware);
        self.sources.extend(other.sources);
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        for (k, v) in other.details {
            self.details.entry(k).or_insert(v);
        }
        self.grandstream |= other.grandstream;
    }
}

/// Most entries the site does not know kept (as the status board's
/// unassigned table, [`super::status::MAX_UNASSIGNED`]): each request may name
/// a new MAC, and a flood of made-up ones must not grow memory.
pub const MAX_UNKNOWN: usize = super::status::MAX_UNASSIGNED;

/// Which entries [`Discovery::rows`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Show {
    /// Seen, not in the site, not ignored: the ones to adopt.
    #[default]
    NotInSite,
    /// Seen and in the site (not ignored).
    InSite,
    /// Ignored by the technician.
    Ignored,
    /// Everything not ignored.
    All,
}

impl Show {
    pub const ALL: [Show; 4] = [Show::NotInSite, Show::InSite, Show::All, Show::Ignored];

    pub fn describe(self) -> &'static str {
        match self {
            Show::NotInSite => "Not in the site",
            Show::InSite => "In the site",
            Show::Ignored => "Ignored",
            Show::All => "All (not ignored)",
        }
    }

    fn admits(self, d: &DiscoveredDevice) -> bool {
        match self {
            Show::NotInSite => !d.known && !d.ignored,
            Show::InSite => d.known && !d.ignored,
            Show::Ignored => d.ignored,
            Show::All => !d.ignored,
        }
    }
}

/// What the technician narrows the list to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    pub show: Show,
    /// Part of a MAC (any separators), an IP, a model, a firmware version,
    /// a site label or a source name; case-insensitive.
    pub text: String,
    /// Only devices that said this model.
    pub model: Option<Model>,
}

impl Filter {
    /// Whether `d` is listed under this filter.
    pub fn admits(&self, d: &DiscoveredDevice) -> bool {
        if !self.show.admits(d) {
            return false;
        }
        if let Some(m) = &self.model
            && d.model.as_ref() != Some(m)
        {
            return false;
        }
        let t = self.text.trim().to_ascii_lowercase();
        if t.is_empty() {
            return true;
        }
        // `00:0b:82`, `000B82`, `a1-b2`: part of a MAC, whatever the separators.
        let mac_like = t.len() >= 2 && t.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '-');
        let hex: String = t.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        let has = |s: &str| s.to_ascii_lowercase().contains(&t);
        (mac_like && d.mac.is_some_and(|m| m.to_string().contains(&hex)))
            // A whole address is that address (10.0.1.7 is not 10.0.1.70); a part of one, any it starts.
            || d.ip.is_some_and(|ip| match t.parse::<IpAddr>() {
                Ok(want) => ip == want,
                Err(_) => ip.to_string().starts_with(&t),
            })
            || d.model.as_ref().is_some_and(|m| has(m.as_str()))
            || d.site_model.as_ref().is_some_and(|m| has(m.as_str()))
            || d.firmware.as_deref().is_some_and(has)
            || has(&d.label)
            || d.sources.iter().any(|s| has(s.describe()))
    }
}

/// How many entries each filter lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Every entry kept, ignored ones included.
    pub seen: usize,
    pub not_in_site: usize,
    pub in_site: usize,
    pub ignored: usize,
    /// Entries the site did not know, forgotten to stay bounded ([`MAX_UNKNOWN`]).
    pub forgotten: u64,
}

/// The fold. Start with [`Discovery::new`] (or [`Discovery::with_known`]) and
/// [`Discovery::apply`] every event.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    devices: Vec<DiscoveredDevice>,
    /// MAC -> index in `devices`.
    by_mac: HashMap<Mac, usize>,
    /// Entries without a MAC yet (only they are searched by IP for a sighting with a MAC).
    without_mac: usize,
    known: BTreeMap<Mac, (Model, String)>,
    ignored: BTreeSet<Mac>,
    dhcp: Option<DhcpReport>,
    forgotten: u64,
    /// Moves on every change, so views can cache what they derive.
    generation: u64,
}

impl Discovery {
    pub fn new() -> Discovery {
        Discovery::default()
    }

    /// Marks the site's devices as known.
    pub fn with_known(served: &Served) -> Discovery {
        let mut d = Discovery::default();
        d.set_known(served);
        d
    }

    /// Takes a new device list (after a site edit or an adoption).
    pub fn set_known(&mut self, served: &Served) {
        self.known = served.devices().iter().map(|(m, k)| (*m, (k.model.clone(), k.label.clone()))).collect();
        self.mark_all();
    }

    fn mark_all(&mut self) {
        for i in 0..self.devices.len() {
            self.mark(i);
        }
        self.generation += 1;
    }

    /// Marks a site's devices as known (without generating its files).
    pub fn set_site(&mut self, site: &Site) {
        self.known = site.devices.iter().map(|d| (d.mac, (d.model.clone(), d.label.clone()))).collect();
        self.mark_all();
    }

    /// Hides these MACs behind the "ignored" filter (they stay in the list,
    /// and later sightings still update them).
    pub fn ignore(&mut self, macs: impl IntoIterator<Item = Mac>) {
        self.ignored.extend(macs);
        self.mark_all();
    }

    /// Lists these MACs again.
    pub fn unignore(&mut self, macs: impl IntoIterator<Item = Mac>) {
        for m in macs {
            self.ignored.remove(&m);
        }
        self.mark_all();
    }

    /// Folds one event in (others are ignored).
    pub fn apply(&mut self, ev: &DiscoveryEvent) {
        match ev {
            DiscoveryEvent::Seen(s) => self.see(s),
            DiscoveryEvent::Dhcp(r) => self.dhcp = Some(r.clone()),
            _ => {}
        }
    }

    /// Folds a request to our servers in (its MAC, IP and User-Agent are a sighting).
    pub fn request(&mut self, r: &RequestRecord) {
        if let Some(s) = request_sighting(r) {
            self.see(&s);
        }
    }

    /// Folds a record read back from a site's request log in: as
    /// [`Discovery::request`], and the PnP responder's and the bench DHCP
    /// server's records too (live, their sightings came as events; read back,
    /// the record is all there is).
    pub fn remembered(&mut self, r: &RequestRecord) {
        if let Some(s) = history_sighting(r) {
            self.see(&s);
        }
    }

    /// Folds one sighting in: the entry with its MAC, else the entry with its
    /// IP (which then learns the MAC), else a new entry.
    pub fn see(&mut self, s: &Sighting) {
        self.generation += 1;
        let by_mac = s.mac.and_then(|m| self.by_mac.get(&m).copied());
        // With a MAC, only an entry without one can be the same device by IP
        // (an entry with the MAC was found above); without, any entry at that IP.
        let by_ip = match s.ip {
            Some(ip) if s.mac.is_none() || self.without_mac > 0 => {
                self.devices.iter().position(|d| d.ip == Some(ip) && (s.mac.is_none() || d.mac.is_none()))
            }
            _ => None,
        };
        let i = match (by_mac, by_ip) {
            (Some(m), Some(p)) if m != p && self.devices[p].mac.is_none() => {
                let other = self.devices.remove(p);
                self.devices[if p < m { m - 1 } else { m }].merge(other);
                self.reindex();
                s.mac.and_then(|m| self.by_mac.get(&m).copied()).expect("the entry with the sighting's MAC")
            }
            (Some(m), _) => m,
            (None, Some(p)) => p,
            (None, None) => {
                self.make_room(s);
                self.devices.push(DiscoveredDevice::new(s));
                self.without_mac += 1;
                self.devices.len() - 1
            }
        };
        let had_mac = self.devices[i].mac.is_some();
        self.devices[i].absorb(s);
        if let (false, Some(m)) = (had_mac, self.devices[i].mac) {
            self.without_mac -= 1;
            self.by_mac.insert(m, i);
        }
        self.mark(i);
    }

    /// Before a new entry: when [`MAX_UNKNOWN`] entries the site does not know
    /// are kept and the newcomer is not known either, forgets the one of them
    /// seen longest ago (an ignored one last: the technician chose it).
    fn make_room(&mut self, s: &Sighting) {
        if s.mac.is_some_and(|m| self.known.contains_key(&m)) {
            return;
        }
        if self.devices.iter().filter(|d| !d.known).count() < MAX_UNKNOWN {
            return;
        }
        let oldest = self
            .devices
            .iter()
            .enumerate()
            .filter(|(_, d)| !d.known)
            .min_by_key(|(_, d)| (d.ignored, d.last_seen))
            .map(|(i, _)| i);
        if let Some(i) = oldest {
            self.devices.remove(i);
            self.forgotten += 1;
            self.reindex();
        }
    }

    fn reindex(&mut self) {
        self.by_mac = self.devices.iter().enumerate().filter_map(|(i, d)| d.mac.map(|m| (m, i))).collect();
        self.without_mac = self.devices.iter().filter(|d| d.mac.is_none()).count();
    }

    fn mark(&mut self, i: usize) {
        let d = &mut self.devices[i];
        d.ignored = d.mac.is_some_and(|m| self.ignored.contains(&m));
        match d.mac.and_then(|m| self.known.get(&m)) {
            Some((model, label)) => {
                d.known = true;
                d.label = label.clone();
                d.site_model = Some(model.clone());
            }
            None => {
                d.known = false;
                d.label.clear();
                d.site_model = None;
            }
        }
    }

    /// Every device, in the order first seen.
    pub fn devices(&self) -> &[DiscoveredDevice] {
        &self.devices
    }

    /// The device with this MAC.
    pub fn device(&self, mac: Mac) -> Option<&DiscoveredDevice> {
        self.by_mac.get(&mac).map(|i| &self.devices[*i])
    }

    /// Indices (into [`Discovery::devices`]) of the entries `filter` lists,
    /// in the order first seen.
    pub fn rows(&self, filter: &Filter) -> Vec<usize> {
        self.devices.iter().enumerate().filter(|(_, d)| filter.admits(d)).map(|(i, _)| i).collect()
    }

    /// How many entries each filter lists.
    pub fn counts(&self) -> Counts {
        let mut c = Counts { seen: self.devices.len(), forgotten: self.forgotten, ..Counts::default() };
        for d in &self.devices {
            if d.ignored {
                c.ignored += 1;
            } else if d.known {
                c.in_site += 1;
            } else {
                c.not_in_site += 1;
            }
        }
        c
    }

    /// The models entries under `show` said, with how many of each, by name.
    pub fn models(&self, show: Show) -> Vec<(Model, usize)> {
        let mut m: BTreeMap<Model, usize> = BTreeMap::new();
        for d in self.devices.iter().filter(|d| show.admits(d)) {
            if let Some(model) = &d.model {
                *m.entry(model.clone()).or_default() += 1;
            }
        }
        m.into_iter().collect()
    }

    /// Moves on every change (a sighting, a site or ignore change): a view's
    /// cache of [`Discovery::rows`] is fresh while it stays the same.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Devices the site does not list yet (candidates for [`adopt`]).
    pub fn unknown(&self) -> impl Iterator<Item = &DiscoveredDevice> {
        self.devices.iter().filter(|d| !d.known)
    }

    /// Entries the site did not know, forgotten to stay bounded.
    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }

    /// The last DHCP preflight result.
    pub fn dhcp(&self) -> Option<&DhcpReport> {
        self.dhcp.as_ref()
    }
}

/// A request to our servers that says which device asked.
///
/// A syslog line is a sighting of its sender even without a MAC (its address
/// merges with what the neighbour table or a request says about it); a file
/// request only when it names a MAC or a model.
pub fn request_sighting(r: &RequestRecord) -> Option<Sighting> {
    if matches!(r.protocol, Protocol::Sip | Protocol::Dhcp) {
        // The PnP responder and the DHCP server report their sightings themselves, at once.
        return None;
    }
    if r.self_test {
        // This process pretending to be the device: not a sighting.
        return None;
    }
    let syslog = r.protocol == Protocol::Syslog;
    if !syslog && r.mac.is_none() && r.model.is_none() {
        return None;
    }
    Some(Sighting {
        time: r.time,
        source: if syslog { Source::Syslog } else { Source::Request },
        mac: r.mac,
        ip: Some(r.client.ip()),
        model: r.model.clone(),
        firmware: r.firmware.clone(),
        detail: if syslog {
            format!("syslog from {}", r.client.ip())
        } else {
            format!("{} {} {}", r.protocol, r.method, r.path)
        },
    })
}

/// [`request_sighting`] for a record read back from the request log, where
/// a PnP SUBSCRIBE or a DHCP exchange is a sighting of its own source.
pub fn history_sighting(r: &RequestRecord) -> Option<Sighting> {
    let source = match r.protocol {
        Protocol::Sip => Source::Pnp,
        Protocol::Dhcp => Source::Dhcp,
        _ => return request_sighting(r),
    };
    if r.self_test || r.mac.is_none() {
        return None;
    }
    // A DHCP client asks from 0.0.0.0 before it has an address.
    let ip = Some(r.client.ip()).filter(|ip| !ip.is_unspecified());
    Some(Sighting {
        time: r.time,
        source,
        mac: r.mac,
        ip,
        model: r.model.clone(),
        firmware: r.firmware.clone(),
        detail: format!("{} {} (from the request log)", r.protocol, r.method),
    })
}

/// The URL devices are told to fetch from: `http://10.0.0.2:8080/`
/// (default ports left out, IPv6 in brackets, always ending in `/`).
pub fn provisioning_url(ip: IpAddr, protocol: Protocol, port: u16) -> String {
    let host = match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    if port == protocol.default_port() {
        format!("{}://{host}/", protocol.scheme())
    } else {
        format!("{}://{host}:{port}/", protocol.scheme())
    }
}

/// `(scheme, host, port, path without trailing /)`; a bare host means TFTP (spec §5.1).
fn url_parts(url: &str) -> Option<(String, String, u16, String)> {
    let url = url.trim();
    if url.is_empty() {
        return None;
    }
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (s.to_ascii_lowercase(), r),
        None => ("tftp".to_string(), url),
    };
    let default = match scheme.as_str() {
        "tftp" => 69,
        "http" => 80,
        "https" => 443,
        "ftp" => 21,
        "ftps" => 990,
        _ => 0,
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && p.bytes().all(|b| b.is_ascii_digit()) && !p.is_empty() => {
            (h, p.parse().ok()?)
        }
        _ => (authority, default),
    };
    Some((scheme, host.trim_matches(['[', ']']).to_ascii_lowercase(), port, path.trim_end_matches('/').to_string()))
}

/// How a DHCP server's option 66 compares with the URL gsprov hands out.
pub fn compare_option66(answered: bool, option66: Option<&str>, expected: Option<&str>) -> Option66Verdict {
    if !answered {
        return Option66Verdict::NoAnswer;
    }
    let Some(got) = option66.filter(|v| !v.trim().is_empty()) else {
        return Option66Verdict::Missing;
    };
    let Some(want) = expected else {
        return Option66Verdict::NothingToCompare;
    };
    if url_parts(got).is_some() && url_parts(got) == url_parts(want) {
        Option66Verdict::Matches
    } else {
        Option66Verdict::Differs
    }
}

/// Model-name prefixes of Grandstream products (spec §9.2, the catalog's families).
const MODEL_PREFIXES: [&str; 14] =
    ["GXP", "GRP", "GXV", "GXW", "GAC", "GSC", "GVC", "GDS", "GHP", "DP", "WP", "HT", "BT", "GWN"];

/// A Grandstream model name inside `text` (`GXP2170_000B82A1B201` -> GXP2170):
/// a known prefix, at least three digits, then at most three letters.
pub fn model_in_text(text: &str) -> Option<Model> {
    text.split(|c: char| !c.is_ascii_alphanumeric()).find_map(|token| {
        let t = token.to_ascii_uppercase();
        // `GXP2170`, but also a model glued to a MAC: `GXP2170000B82A1B201` is not one.
        let prefix = MODEL_PREFIXES.iter().find(|p| t.starts_with(**p))?;
        let rest = &t[prefix.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let tail = &rest[digits..];
        let ok = (3..=4).contains(&digits) && tail.len() <= 3 && tail.bytes().all(|b| b.is_ascii_alphabetic());
        if ok { t.parse().ok() } else { None }
    })
}

/// A MAC with a Grandstream OUI inside `text`: `00:0b:82:a1:b2:01`,
/// `00-0B-82-...`, or 12 hex digits in a row (also at the end of a longer run
/// of hex digits, as in `gxp2170-000b82a1b201`).
pub fn grandstream_mac_in_text(text: &str) -> Option<Mac> {
    let separated = text.split(|c: char| !(c.is_ascii_hexdigit() || c == ':' || c == '-')).find_map(|t| {
        let parts: Vec<&str> = t.split([':', '-']).collect();
        if parts.len() == 6 && parts.iter().all(|p| p.len() == 2) {
            let m: Mac = parts.concat().parse().ok()?;
            m.is_grandstream().then_some(m)
        } else {
            None
        }
    });
    separated.or_else(|| {
        text.split(|c: char| !c.is_ascii_hexdigit()).filter(|run| run.len() >= 12).find_map(|run| {
            (0..=run.len() - 12).find_map(|i| {
                let m: Mac = run[i..i + 12].parse().ok()?;
                m.is_grandstream().then_some(m)
            })
        })
    })
}

/// TXT keys that may carry a model, a MAC, a firmware version.
const TXT_MODEL_KEYS: [&str; 5] = ["model", "md", "product", "ty", "hw"];
const TXT_MAC_KEYS: [&str; 4] = ["mac", "macaddress", "hwaddr", "deviceid"];
const TXT_FIRMWARE_KEYS: [&str; 5] = ["fw", "firmware", "version", "sw", "fwversion"];

/// A resolved mDNS instance, as the browser hands it over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MdnsInstance {
    /// `GXP2170_000B82A1B201._http._tcp.local.`
    pub fullname: String,
    pub service_type: String,
    /// `gxp2170-000b82a1b201.local.`
    pub host: String,
    pub port: u16,
    pub addresses: Vec<IpAddr>,
    /// TXT record, key -> value.
    pub txt: Vec<(String, String)>,
}

fn txt_values<'a>(txt: &'a [(String, String)], keys: &'static [&'static str]) -> impl Iterator<Item = &'a str> + 'a {
    txt.iter().filter(|(k, _)| keys.iter().any(|w| k.eq_ignore_ascii_case(w))).map(|(_, v)| v.as_str())
}

/// A sighting when the instance's name, host or TXT record names a Grandstream
/// model, a Grandstream MAC or "Grandstream"; `None` for everything else.
pub fn mdns_sighting(inst: &MdnsInstance, time: SystemTime) -> Option<Sighting> {
    let instance = inst.fullname.strip_suffix(&inst.service_type).unwrap_or(&inst.fullname).trim_end_matches('.');
    let txt = |keys: &'static [&'static str]| txt_values(&inst.txt, keys);
    let pool: Vec<&str> =
        [instance, inst.host.as_str()].into_iter().chain(inst.txt.iter().map(|(_, v)| v.as_str())).collect();
    let model = txt(&TXT_MODEL_KEYS).find_map(model_in_text).or_else(|| pool.iter().find_map(|t| model_in_text(t)));
    let mac = txt(&TXT_MAC_KEYS)
        .find_map(|v| v.parse::<Mac>().ok())
        .or_else(|| pool.iter().find_map(|t| grandstream_mac_in_text(t)));
    let says_grandstream = pool.iter().any(|t| t.to_ascii_lowercase().contains("grandstream"));
    if model.is_none() && !mac.is_some_and(|m| m.is_grandstream()) && !says_grandstream {
        return None;
    }
    let firmware = txt(&TXT_FIRMWARE_KEYS).next().map(str::to_string).filter(|v| !v.is_empty());
    let ip = inst.addresses.iter().find(|a| a.is_ipv4()).or(inst.addresses.first()).copied();
    Some(Sighting {
        time,
        source: Source::Mdns,
        mac,
        ip,
        model,
        firmware,
        detail: format!("mDNS {instance} ({}) at {}:{}", inst.service_type, inst.host, inst.port),
    })
}

/// Why a discovered device cannot be added to the site.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdoptError {
    #[error("its MAC is not known yet (seen only by IP): wait for a PnP SUBSCRIBE, a request or the neighbour table")]
    NoMac,
    #[error("{0} did not say its model: add it by hand with the model on its label")]
    NoModel(Mac),
    #[error("{0} is already in the site")]
    AlreadyInSite(Mac),
}

/// A site device for a discovered one, with the detected model; what was
/// seen goes into its notes. Pure: the caller adds it and saves the site.
pub fn adopt(site: &Site, d: &DiscoveredDevice) -> Result<Device, AdoptError> {
    let mac = d.mac.ok_or(AdoptError::NoMac)?;
    if site.device(mac).is_some() {
        return Err(AdoptError::AlreadyInSite(mac));
    }
    let model = d.model.clone().ok_or(AdoptError::NoModel(mac))?;
    let mut dev = Device::new(mac, model);
    let mut notes = format!("discovered ({}) {}", d.how_seen(), super::record::rfc3339(d.first_seen));
    if let Some(ip) = d.ip {
        notes.push_str(&format!(" at {ip}"));
    }
    if let Some(fw) = &d.firmware {
        notes.push_str(&format!(", firmware {fw}"));
    }
    dev.notes = notes;
    Ok(dev)
}

/// [`adopt`] for several: the devices to add, and per entry that cannot be
/// added, its MAC (when known) and why. One pass, so the caller adds them all
/// in one edit.
pub fn adopt_many<'a>(
    site: &Site,
    found: impl IntoIterator<Item = &'a DiscoveredDevice>,
) -> (Vec<Device>, Vec<(Option<Mac>, AdoptError)>) {
    let mut added: Vec<Device> = Vec::new();
    let mut refused = Vec::new();
    let mut macs: BTreeSet<Mac> = BTreeSet::new();
    for d in found {
        match adopt(site, d) {
            Ok(dev) if macs.insert(dev.mac) => added.push(dev),
            Ok(dev) => refused.push((Some(dev.mac), AdoptError::AlreadyInSite(dev.mac))),
            Err(e) => refused.push((d.mac, e)),
        }
    }
    (added, refused)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{self, FileKind};
    use crate::serving::ContentKind;
    use std::time::Duration;

    fn at(s: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(s)
    }

    fn sight(t: u64, source: Source, mac: Option<&str>, ip: Option<&str>, model: Option<&str>) -> Sighting {
        Sighting {
            time: at(t),
            source,
            mac: mac.map(|m| m.parse().unwrap()),
            ip: ip.map(|i| i.parse().unwrap()),
            model: model.map(|m| m.parse().unwrap()),
            firmware: None,
            detail: format!("{source:?}"),
        }
    }

    fn served() -> Served {
        let mut s = Site::default();
        let mut d = Device::new("000b82a1b201".parse().unwrap(), "GXP2170".parse().unwrap());
        d.label = "Reception".into();
        s.devices.push(d);
        let out = generate::generate(&s, &mut || [0; 8]).unwrap();
        Served::new(&s, &out)
    }

    #[test]
    fn sources_merge_by_mac_then_ip() {
        let mut d = Discovery::with_known(&served());
        // mDNS saw an IP and a model, no MAC.
        d.see(&sight(10, Source::Mdns, None, Some("10.0.0.5"), Some("GRP2612W")));
        assert_eq!(d.devices().len(), 1);
        // The neighbour table knows that IP's MAC: same entry.
        d.see(&sight(11, Source::Neighbour, Some("c074ad112233"), Some("10.0.0.5"), None));
        assert_eq!(d.devices().len(), 1);
        // PnP with the MAC.
        let mut pnp = sight(12, Source::Pnp, Some("c074ad112233"), Some("10.0.0.5"), Some("GRP2612W"));
        pnp.firmware = Some("1.0.5.67".into());
        d.see(&pnp);
        let one = &d.devices()[0];
        assert_eq!(one.mac.unwrap().to_string(), "c074ad112233");
        assert_eq!(one.how_seen(), "PnP, mDNS, neighbour");
        assert_eq!((one.first_seen, one.last_seen), (at(10), at(12)));
        assert_eq!(one.firmware.as_deref(), Some("1.0.5.67"));
        assert!(one.grandstream && !one.known);
        // A known device by request.
        let rec = RequestRecord {
            model: Some("GXP2170".parse().unwrap()),
            firmware: Some("1.0.11.3".into()),
            mac: Some("000b82a1b201".parse().unwrap()),
            kind: Some(ContentKind::Config(FileKind::DeviceXml)),
            status: crate::serving::Wire::Sip(200),
            bytes: 1,
            ..RequestRecord::new(
                1,
                at(20),
                "10.0.0.9:4000".parse().unwrap(),
                Protocol::Http,
                "GET",
                "/cfg000b82a1b201.xml",
            )
        };
        d.request(&rec);
        let before = d.devices().len();
        d.request(&RequestRecord { self_test: true, mac: Some("000b82ffffff".parse().unwrap()), ..rec.clone() });
        assert_eq!(d.devices().len(), before, "a self-test is not a sighting");
        let k = d.device("000b82a1b201".parse().unwrap()).unwrap();
        assert!(k.known && k.label == "Reception" && k.sources.contains(&Source::Request));
        assert_eq!(d.unknown().count(), 1);
        // SIP records are not double-counted.
        d.request(&RequestRecord { protocol: Protocol::Sip, time: at(30), ..rec });
        assert_eq!(d.device("000b82a1b201".parse().unwrap()).unwrap().last_seen, at(20));
        // An IP-only entry merges into the MAC entry when both turn out to be one device.
        d.see(&sight(40, Source::Mdns, None, Some("10.0.0.77"), Some("HT802")));
        d.see(&sight(41, Source::Pnp, Some("c074ad112233"), Some("10.0.0.77"), None));
        assert_eq!(d.devices().len(), 2);
        assert_eq!(d.device("c074ad112233".parse().unwrap()).unwrap().model.as_ref().unwrap().as_str(), "GRP2612W");
    }

    fn record(t: u64, protocol: Protocol, client: &str, mac: Option<&str>) -> RequestRecord {
        RequestRecord {
            mac: mac.map(|m| m.parse().unwrap()),
            ..RequestRecord::new(1, at(t), client.parse().unwrap(), protocol, "GET", "/cfg.xml")
        }
    }

    #[test]
    fn every_source_lands_in_one_entry() {
        let mut d = Discovery::new();
        // A syslog line from an address nothing else named yet: an entry by IP.
        d.request(&record(1, Protocol::Syslog, "10.0.0.8:514", None));
        assert_eq!(d.devices().len(), 1);
        assert_eq!(d.devices()[0].how_seen(), "syslog");
        assert!(!d.devices()[0].grandstream, "anything may send syslog");
        // The neighbour table names that address's MAC: the same entry learns it.
        d.see(&sight(2, Source::Neighbour, Some("000b82aa0001"), Some("10.0.0.8"), None));
        d.see(&sight(3, Source::Dhcp, Some("000b82aa0001"), Some("10.0.0.8"), Some("GXP2135")));
        d.see(&sight(4, Source::Pnp, Some("000b82aa0001"), Some("10.0.0.8"), Some("GXP2135")));
        d.see(&sight(5, Source::Mdns, Some("000b82aa0001"), Some("10.0.0.8"), None));
        let mut get = record(6, Protocol::Tftp, "10.0.0.8:3000", Some("000b82aa0001"));
        get.model = Some("GXP2135".parse().unwrap());
        d.request(&get);
        // A later syslog line, now with the MAC the sender's address fetched as.
        d.request(&record(7, Protocol::Syslog, "10.0.0.8:514", Some("000b82aa0001")));
        assert_eq!(d.devices().len(), 1, "{:?}", d.devices());
        let one = &d.devices()[0];
        assert_eq!(one.how_seen(), "PnP, mDNS, request, neighbour, DHCP, syslog");
        assert_eq!(one.model.as_ref().unwrap().as_str(), "GXP2135");
        assert_eq!((one.first_seen, one.last_seen), (at(1), at(7)));
        assert_eq!(one.details[&Source::Syslog], "syslog from 10.0.0.8");
        // A file request that names neither MAC nor model is nobody in particular.
        d.request(&record(8, Protocol::Http, "10.0.0.9:3000", None));
        assert_eq!(d.devices().len(), 1);
    }

    #[test]
    fn a_request_log_read_back_gives_pnp_and_dhcp_sightings_too() {
        let mut pnp = record(1, Protocol::Sip, "10.0.0.5:5060", Some("c074ad112233"));
        pnp.model = Some("GRP2612W".parse().unwrap());
        let dhcp = record(2, Protocol::Dhcp, "0.0.0.0:68", Some("000b82aa0002"));
        let mut live = Discovery::new();
        live.request(&pnp);
        live.request(&dhcp);
        assert!(live.devices().is_empty(), "live, these came as events");
        let mut d = Discovery::new();
        d.remembered(&pnp);
        d.remembered(&dhcp);
        d.remembered(&record(3, Protocol::Http, "10.0.0.6:3000", Some("000b82aa0003")));
        assert_eq!(d.devices().len(), 3);
        let p = d.device("c074ad112233".parse().unwrap()).unwrap();
        assert_eq!((p.how_seen().as_str(), p.ip), ("PnP", Some("10.0.0.5".parse().unwrap())));
        assert_eq!(p.model.as_ref().unwrap().as_str(), "GRP2612W");
        let l = d.device("000b82aa0002".parse().unwrap()).unwrap();
        assert_eq!((l.how_seen().as_str(), l.ip), ("DHCP", None));
    }

    /// `n` unknown MACs, `000b82` + the index; every third a GXP2135, the rest HT802s.
    fn lan(n: u32) -> Discovery {
        let mut d = Discovery::new();
        for i in 0..n {
            let mac = format!("000b82{i:06x}");
            let model = if i % 3 == 0 { "GXP2135" } else { "HT802" };
            let ip = format!("10.0.{}.{}", i / 250, i % 250 + 1);
            d.see(&sight(u64::from(i), Source::Pnp, Some(&mac), Some(&ip), Some(model)));
        }
        d
    }

    #[test]
    fn filters_counts_and_ignore_over_five_hundred_macs() {
        let mut d = lan(500);
        let c = d.counts();
        assert_eq!((c.seen, c.not_in_site, c.in_site, c.ignored), (500, 500, 0, 0));
        assert_eq!(d.models(Show::NotInSite), vec![("GXP2135".parse().unwrap(), 167), ("HT802".parse().unwrap(), 333)]);
        let f = |show, text: &str, model: Option<&str>| Filter {
            show,
            text: text.into(),
            model: model.map(|m| m.parse().unwrap()),
        };
        assert_eq!(d.rows(&f(Show::NotInSite, "", None)).len(), 500);
        // A MAC typed with colons, upper case, or in part.
        assert_eq!(d.rows(&f(Show::NotInSite, "00:0B:82:00:01:F3", None)), vec![0x1f3]);
        // 000b8200001f and 000b820001f0..=000b820001f3 (the last of 500 is 0x1f3).
        assert_eq!(d.rows(&f(Show::NotInSite, "0001f", None)).len(), 5);
        // An address: dots are not a MAC.
        assert_eq!(d.rows(&f(Show::NotInSite, "10.0.1.7", None)).len(), 1);
        assert_eq!(d.rows(&f(Show::NotInSite, "gxp2135", None)).len(), 167);
        assert_eq!(d.rows(&f(Show::NotInSite, "", Some("HT802"))).len(), 333);
        // Ignoring hides, keeps, and a later sighting still updates the entry.
        let ht: Vec<Mac> =
            d.rows(&f(Show::NotInSite, "", Some("HT802"))).iter().map(|i| d.devices()[*i].mac.unwrap()).collect();
        d.ignore(ht.iter().copied());
        let c = d.counts();
        assert_eq!((c.seen, c.not_in_site, c.ignored), (500, 167, 333));
        assert_eq!(d.rows(&f(Show::All, "", None)).len(), 167);
        assert_eq!(d.rows(&f(Show::Ignored, "", None)).len(), 333);
        d.see(&sight(9999, Source::Neighbour, Some(&ht[0].to_string()), Some("10.9.9.9"), None));
        assert_eq!(d.device(ht[0]).unwrap().ip, Some("10.9.9.9".parse().unwrap()));
        assert!(d.device(ht[0]).unwrap().ignored);
        d.unignore([ht[0]]);
        assert_eq!(d.counts().ignored, 332);
        // The site learns some: they move to "in the site".
        let mut site = Site::default();
        site.devices.push(Device::new(ht[0], "HT802".parse().unwrap()));
        let g = d.generation();
        d.set_site(&site);
        assert!(d.generation() > g, "a site change is a change for the caches");
        let c = d.counts();
        assert_eq!((c.not_in_site, c.in_site, c.ignored), (167, 1, 332));
    }

    #[test]
    fn adopt_all_of_a_model_from_three_hundred() {
        let mut d = lan(300);
        let mut site = Site::default();
        let gxp = Filter { model: Some("GXP2135".parse().unwrap()), ..Filter::default() };
        let rows = d.rows(&gxp);
        assert_eq!(rows.len(), 100);
        let (added, refused) = adopt_many(&site, rows.iter().map(|i| &d.devices()[*i]));
        assert_eq!((added.len(), refused.len()), (100, 0));
        // Clean: no account to fill (an active account without a user ID is a warning).
        assert!(added.iter().all(|dev| dev.accounts.is_empty() && dev.model.as_str() == "GXP2135"));
        site.devices.extend(added);
        assert!(site.check().iter().all(|i| !i.message.contains("without a user ID")));
        d.set_site(&site);
        assert!(d.rows(&gxp).is_empty(), "adopted: no longer 'not in the site'");
        assert_eq!(d.counts().in_site, 100);
        assert_eq!(d.counts().not_in_site, 200);
        // Adopting again refuses each, saying why.
        let all: Vec<&DiscoveredDevice> = d.devices().iter().filter(|x| x.known).collect();
        let (again, refused) = adopt_many(&site, all);
        assert!(again.is_empty());
        assert_eq!(refused.len(), 100);
        assert!(matches!(refused[0].1, AdoptError::AlreadyInSite(_)));
    }

    #[test]
    fn a_flood_of_made_up_macs_stays_bounded_and_site_devices_stay() {
        let mut d = Discovery::with_known(&served());
        d.see(&sight(0, Source::Request, Some("000b82a1b201"), Some("10.0.0.2"), None));
        for i in 0..(MAX_UNKNOWN as u64 + 100) {
            d.see(&sight(i + 1, Source::Request, Some(&format!("02{i:010x}")), Some("10.0.0.3"), None));
        }
        let c = d.counts();
        assert_eq!((c.in_site, c.not_in_site, c.forgotten), (1, MAX_UNKNOWN, 100));
        assert!(d.device("000b82a1b201".parse().unwrap()).is_some(), "a site device is never forgotten");
        assert!(d.device("020000000000".parse().unwrap()).is_none(), "the one seen longest ago went");
        assert!(d.device(format!("02{:010x}", MAX_UNKNOWN + 99).parse().unwrap()).is_some());
    }

    #[test]
    fn urls() {
        let ip: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(provisioning_url(ip, Protocol::Http, 8080), "http://10.0.0.2:8080/");
        assert_eq!(provisioning_url(ip, Protocol::Http, 80), "http://10.0.0.2/");
        assert_eq!(provisioning_url(ip, Protocol::Tftp, 69), "tftp://10.0.0.2/");
        assert_eq!(provisioning_url(ip, Protocol::Https, 8443), "https://10.0.0.2:8443/");
        assert_eq!(provisioning_url("fe80::1".parse().unwrap(), Protocol::Http, 80), "http://[fe80::1]/");
    }

    #[test]
    fn option66_comparison() {
        use Option66Verdict::*;
        let want = Some("http://10.0.0.2:8080/");
        assert_eq!(compare_option66(false, None, want), NoAnswer);
        assert_eq!(compare_option66(true, None, want), Missing);
        assert_eq!(compare_option66(true, Some(""), want), Missing);
        assert_eq!(compare_option66(true, Some("HTTP://10.0.0.2:8080"), want), Matches);
        assert_eq!(compare_option66(true, Some("http://10.0.0.2:8080/"), want), Matches);
        assert_eq!(compare_option66(true, Some("http://10.0.0.3:8080/"), want), Differs);
        assert_eq!(compare_option66(true, Some("10.0.0.2"), Some("tftp://10.0.0.2/")), Matches);
        assert_eq!(compare_option66(true, Some("10.0.0.2"), want), Differs);
        assert_eq!(compare_option66(true, Some("10.0.0.2"), None), NothingToCompare);
    }

    #[test]
    fn models_and_macs_in_names() {
        let m = |s: &str| model_in_text(s).map(|m| m.to_string());
        assert_eq!(m("GXP2170_000B82A1B201").as_deref(), Some("GXP2170"));
        assert_eq!(m("grp2612w-c074ad112233.local.").as_deref(), Some("GRP2612W"));
        assert_eq!(m("Grandstream HT802 (office)").as_deref(), Some("HT802"));
        assert_eq!(m("WP820").as_deref(), Some("WP820"));
        assert_eq!(m("HTTP server"), None);
        assert_eq!(m("Brother HL-2270DW"), None);
        assert_eq!(m("GXP21"), None);
        let mac = |s: &str| grandstream_mac_in_text(s).map(|m| m.to_string());
        assert_eq!(mac("GXP2170_000B82A1B201").as_deref(), Some("000b82a1b201"));
        assert_eq!(mac("gxp2170-000b82a1b201.local.").as_deref(), Some("000b82a1b201"));
        assert_eq!(mac("phone C0:74:AD:11:22:33").as_deref(), Some("c074ad112233"));
        assert_eq!(mac("ec-74-d7-00-00-01").as_deref(), Some("ec74d7000001"));
        assert_eq!(mac("printer 001122334455"), None);
    }

    #[test]
    fn mdns_instances() {
        let inst = MdnsInstance {
            fullname: "GXP2170_000B82A1B201._http._tcp.local.".into(),
            service_type: "_http._tcp.local.".into(),
            host: "gxp2170.local.".into(),
            port: 80,
            addresses: vec!["fe80::1".parse().unwrap(), "10.0.0.5".parse().unwrap()],
            txt: vec![("fw".into(), "1.0.11.3".into())],
        };
        let s = mdns_sighting(&inst, at(1)).unwrap();
        assert_eq!(s.model.unwrap().as_str(), "GXP2170");
        assert_eq!(s.mac.unwrap().to_string(), "000b82a1b201");
        assert_eq!(s.ip, Some("10.0.0.5".parse().unwrap()));
        assert_eq!(s.firmware.as_deref(), Some("1.0.11.3"));
        assert!(s.detail.contains("GXP2170_000B82A1B201"), "{}", s.detail);
        // TXT records carry the facts.
        let txt = MdnsInstance {
            fullname: "Front desk._http._tcp.local.".into(),
            service_type: "_http._tcp.local.".into(),
            txt: vec![("model".into(), "GRP2612W".into()), ("mac".into(), "C0:74:AD:11:22:33".into())],
            ..MdnsInstance::default()
        };
        let s = mdns_sighting(&txt, at(1)).unwrap();
        assert_eq!((s.model.unwrap().as_str(), s.mac.unwrap().to_string().as_str()), ("GRP2612W", "c074ad112233"));
        // Anything else is not reported.
        let printer = MdnsInstance {
            fullname: "Brother HL-2270DW._http._tcp.local.".into(),
            service_type: "_http._tcp.local.".into(),
            txt: vec![("mac".into(), "00:11:22:33:44:55".into())],
            ..MdnsInstance::default()
        };
        assert_eq!(mdns_sighting(&printer, at(1)), None);
    }

    #[test]
    fn adoption() {
        let site = Site::default();
        let mut d = Discovery::new();
        let mut s = sight(1_767_225_600, Source::Pnp, Some("c074ad112233"), Some("10.0.0.5"), Some("GRP2612W"));
        s.firmware = Some("1.0.5.67".into());
        d.see(&s);
        let dev = adopt(&site, &d.devices()[0]).unwrap();
        assert_eq!(dev.model.as_str(), "GRP2612W");
        assert_eq!(dev.mac.to_string(), "c074ad112233");
        assert_eq!(dev.notes, "discovered (PnP) 2026-01-01T00:00:00.000Z at 10.0.0.5, firmware 1.0.5.67");
        let mut with = site.clone();
        with.devices.push(dev);
        assert_eq!(adopt(&with, &d.devices()[0]), Err(AdoptError::AlreadyInSite("c074ad112233".parse().unwrap())));
        d.see(&sight(2, Source::Mdns, None, Some("10.0.0.6"), Some("HT802")));
        assert_eq!(adopt(&site, &d.devices()[1]), Err(AdoptError::NoMac));
        d.see(&sight(3, Source::Neighbour, Some("000b82000001"), Some("10.0.0.7"), None));
        assert!(matches!(adopt(&site, &d.devices()[2]), Err(AdoptError::NoModel(_))));
    }
}
