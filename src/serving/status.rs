//! Device status: a fold over [`RequestRecord`]s. Per known device: when and
//! from which IP it was last seen, its firmware (from the User-Agent), which
//! files it fetched, and a state. Devices that ask but are not in the site are
//! listed as unassigned.
//!
//! The states, defined here once for every front end ([`Step`] classifies a
//! request, [`Status::apply`] moves the state; `tests::state_table` and
//! `tests::state_table_stray_misses_are_notes_once_configured` are the table
//! as request sequences -> state, note and problem):
//!
//! | request                                             | state afterwards                                  |
//! | --------------------------------------------------- | ------------------------------------------------- |
//! | none yet                                            | never seen                                        |
//! | anything, before the config that counts             | probing                                           |
//! | its config served (see [`DeviceStatus::configured`]) | got config                                       |
//! | a firmware image served                             | got firmware                                      |
//! | an expected miss (the `cfg<mac>` probe, ...)        | unchanged                                         |
//! | a firmware image not found (folder empty, image not there, no folder) | unchanged, with a [`DeviceStatus::note`] "no firmware offered (...)": every phone checks for firmware, and a site that offers none is not broken |
//! | once configured, a miss for a name outside its own file set (a `.bin` alias, another model's file, a name no device sends) | unchanged, with the note "404 for NAME: not one of its files": it has what it needs |
//! | the server busy (a bound reached; the device retries) | unchanged, with the note "the server was busy; it retries" |
//! | any other refusal (policy, credentials, a miss before it is configured or for one of its own files), or an interrupted transfer | error, with the explanation as the [`DeviceStatus::problem`] |
//!
//! Only that last row makes a device "error"; a success clears the problem.
//! Every front end counts the site's devices with one function,
//! [`Status::tally`] ([`Tally::headline`] says it): the Status board's headline
//! and rows, the handover report and `gsprov serve`'s closing summary
//! (`tests::headline_rows_and_report_agree`).
//!
//! Pure: the supervisor keeps one to answer policy questions, and a front end
//! can fold the same events into its own copy.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::SystemTime;

use crate::generate::FileKind;
use crate::ids::{Mac, Model};
use crate::serving::{ContentKind, KnownDevice, Outcome, Protocol, Refusal, RequestRecord, Served};

/// Where a device is in provisioning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceState {
    NeverSeen,
    /// It asked for something but has not got its config yet.
    Probing,
    /// It got its config file.
    GotConfig,
    /// It got a firmware image.
    GotFirmware,
    /// Its last request failed in a way a technician should look at.
    Error,
}

impl DeviceState {
    pub fn describe(self) -> &'static str {
        match self {
            DeviceState::NeverSeen => "never seen",
            DeviceState::Probing => "probing",
            DeviceState::GotConfig => "got config",
            DeviceState::GotFirmware => "got firmware",
            DeviceState::Error => "error",
        }
    }
}

/// One file a device received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetch {
    pub name: String,
    pub kind: ContentKind,
    pub time: SystemTime,
    pub protocol: Protocol,
    pub bytes: u64,
}

/// What is known about one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceStatus {
    pub mac: Mac,
    /// The site's model; for an unassigned device, the User-Agent's.
    pub model: Option<Model>,
    pub label: String,
    pub state: DeviceState,
    pub last_seen: Option<SystemTime>,
    pub ip: Option<IpAddr>,
    /// Firmware version from the last User-Agent that said one.
    pub firmware: Option<String>,
    /// Files received, oldest first; at most the newest [`MAX_FETCHES`].
    pub fetched: Vec<Fetch>,
    /// The explanation of the last problem, cleared by the next success.
    pub problem: Option<String>,
    /// What the device says and the last action on it (issue 13; folded by
    /// [`crate::serving::truth`], apart from `state`).
    pub truth: crate::serving::truth::Truth,
    /// Worth knowing, not a problem: "no firmware offered (folder empty)".
    /// Cleared when a firmware image is served.
    pub note: Option<String>,
    /// The file that means "configured" (see [`KnownDevice::primary`]).
    primary: Option<FileKind>,
    /// Kinds of config file ever received (also those gone from `fetched`),
    /// so that folding a request costs the same on the millionth as on the first.
    got_config: ConfigKinds,
    /// A firmware image was ever received.
    got_firmware: bool,
}

/// What the board's row and the handover report say of a device that got a
/// firmware image but not the config file that counts (its state is "got
/// firmware"; the headline does not count it configured).
pub const FIRMWARE_WITHOUT_CONFIG: &str = "got a firmware image, but has not received its config";

/// How many fetches a device's status remembers. A device fetches a handful
/// of files per boot; a client in a loop must not grow memory (and every
/// status copy) without bound. States do not depend on the list.
pub const MAX_FETCHES: usize = 256;

/// A set of [`FileKind`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ConfigKinds(u8);

impl ConfigKinds {
    fn bit(k: FileKind) -> u8 {
        match k {
            FileKind::Binary => 1,
            FileKind::DeviceXml => 2,
            FileKind::ModelXml => 4,
            FileKind::GenericXml => 8,
            FileKind::Bootstrap => 16,
            FileKind::Phonebook => 32,
        }
    }

    fn insert(&mut self, k: FileKind) {
        self.0 |= Self::bit(k);
    }

    fn contains(self, k: FileKind) -> bool {
        self.0 & Self::bit(k) != 0
    }

    /// Any config file; the unprefixed bootstrap and the phonebook are not one.
    fn any(self) -> bool {
        self.0 & !(Self::bit(FileKind::Bootstrap) | Self::bit(FileKind::Phonebook)) != 0
    }
}

impl DeviceStatus {
    fn new(mac: Mac, known: Option<&KnownDevice>) -> Self {
        DeviceStatus {
            mac,
            model: known.map(|k| k.model.clone()),
            label: known.map(|k| k.label.clone()).unwrap_or_default(),
            state: DeviceState::NeverSeen,
            last_seen: None,
            ip: None,
            firmware: None,
            fetched: Vec::new(),
            problem: None,
            truth: Default::default(),
            note: None,
            primary: known.map(|k| k.primary),
            got_config: ConfigKinds::default(),
            got_firmware: false,
        }
    }

    /// [`FIRMWARE_WITHOUT_CONFIG`] for a device in "got firmware" that is not
    /// configured: the board's row, the handover report and `gsprov serve`'s
    /// summary say it.
    pub fn without_config(&self) -> Option<&'static str> {
        (self.state == DeviceState::GotFirmware && !self.configured()).then_some(FIRMWARE_WITHOUT_CONFIG)
    }

    /// Whether it got the config file that counts.
    pub fn configured(&self) -> bool {
        let got = self.got_config;
        match self.primary {
            Some(FileKind::ModelXml | FileKind::GenericXml) => {
                [FileKind::ModelXml, FileKind::GenericXml, FileKind::DeviceXml].into_iter().any(|k| got.contains(k))
            }
            Some(p) => got.contains(p),
            None => got.any(),
        }
    }

    fn record_fetch(&mut self, f: Fetch) {
        match f.kind {
            ContentKind::Config(k) => self.got_config.insert(k),
            ContentKind::Firmware => self.got_firmware = true,
        }
        if self.fetched.len() >= MAX_FETCHES {
            // Rare (a client in a loop): forget the older half at once, so
            // the shifting costs O(1) per request.
            self.fetched.drain(..MAX_FETCHES / 2);
        }
        self.fetched.push(f);
    }
}

/// What one request means for its device's state (the module doc's table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A file went out (`HEAD` excluded: it asks about a file without fetching it).
    Fetched,
    /// Nothing that moves the state: a `HEAD`, an expected miss.
    Neutral,
    /// Worth knowing, not an error: no firmware offered, a stray miss once
    /// configured, the server busy. The text becomes [`DeviceStatus::note`].
    Note(String),
    /// A refusal or an interruption a technician should look at.
    Problem,
}

impl Step {
    /// `configured`: the device already has the config that counts; `own`:
    /// the name asked for is one of the files served to it.
    pub fn of(r: &RequestRecord, configured: bool, own: bool) -> Step {
        match r.outcome {
            Outcome::Served if r.method == "HEAD" => Step::Neutral,
            Outcome::Served => Step::Fetched,
            Outcome::Refused { expected: true, .. } => Step::Neutral,
            Outcome::Refused { reason: Refusal::NotFound, .. } if r.kind == Some(ContentKind::Firmware) => {
                Step::Note(no_firmware_note(&r.explanation))
            }
            Outcome::Refused { reason: Refusal::NotFound, .. } if configured && !own => {
                Step::Note(format!("404 for {}: not one of its files", asked_name(r)))
            }
            Outcome::Refused { reason: Refusal::Busy, .. } => Step::Note(BUSY_NOTE.into()),
            Outcome::Refused { .. } | Outcome::Interrupted { .. } => Step::Problem,
        }
    }
}

/// The note after a request refused because a bound was reached.
pub const BUSY_NOTE: &str = "the server was busy (too many transfers at once); it retries";

/// The last part of the name a request asked for (its path without folders or query).
fn asked_name(r: &RequestRecord) -> &str {
    let name = r.file.as_deref().unwrap_or(&r.path);
    let name = name.split(['?', '#']).next().unwrap_or(name);
    name.rsplit('/').next().unwrap_or(name)
}

/// The note after the unprefixed bootstrap ([`FileKind::Bootstrap`]), until a config file follows.
pub const BOOTSTRAP_NOTE: &str = "got the unprefixed bootstrap (it sets P234/P235); its own files come next";

/// "no firmware offered (folder empty)", from the router's explanation of a firmware miss.
fn no_firmware_note(explanation: &str) -> String {
    let why = if explanation.contains(crate::serving::router::FOLDER_EMPTY) {
        "folder empty"
    } else if explanation.contains(crate::serving::router::NO_FOLDER) {
        "no firmware folder set"
    } else if explanation.contains(crate::serving::router::FOLDER_UNREADABLE) {
        "firmware folder unreadable"
    } else if explanation.contains(crate::serving::router::ASKS_OLD_PATH) {
        // The image is there, in a step subfolder (the log says so): not "not in the folder".
        "it asked the old path; its image is in a step subfolder: re-provision it"
    } else {
        "not in the firmware folder"
    };
    format!("no firmware offered ({why})")
}

/// Whether `name` is one of the files served to the device `mac` of `model`:
/// its own files, its model's file, the shared ones.
fn own_file(served: &Served, mac: Mac, model: Option<&Model>, name: &str) -> bool {
    served.file(name).is_some_and(|f| match f.kind {
        FileKind::GenericXml | FileKind::Phonebook => true,
        FileKind::ModelXml => f.model.is_some() && f.model.as_ref() == model,
        FileKind::Binary | FileKind::DeviceXml | FileKind::Bootstrap => f.device == Some(mac),
    })
}

/// Counts for a summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub known: usize,
    pub never_seen: usize,
    pub probing: usize,
    pub got_config: usize,
    pub got_firmware: usize,
    pub error: usize,
    pub unassigned: usize,
    /// Unassigned devices forgotten to keep the table bounded ([`MAX_UNASSIGNED`]).
    pub forgotten: u64,
    pub requests: u64,
    pub served: u64,
    pub bytes: u64,
    /// The known devices' [`Tally`] (the state counts above come from it).
    pub tally: Tally,
}

/// The site's devices counted by the state their rows show: the one count
/// behind the Status board's headline and rows, the handover report and
/// `gsprov serve`'s summary ([`Status::tally`]). The five states add up to `total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub total: usize,
    /// Got the config that counts, whatever happened since (an error after
    /// the config is counted here and under `error`).
    pub configured: usize,
    pub never_seen: usize,
    pub probing: usize,
    pub got_config: usize,
    pub got_firmware: usize,
    pub error: usize,
}

impl Tally {
    fn add(&mut self, d: Option<&DeviceStatus>) {
        self.total += 1;
        if d.is_some_and(|d| d.configured()) {
            self.configured += 1;
        }
        match d.map_or(DeviceState::NeverSeen, |d| d.state) {
            DeviceState::NeverSeen => self.never_seen += 1,
            DeviceState::Probing => self.probing += 1,
            DeviceState::GotConfig => self.got_config += 1,
            DeviceState::GotFirmware => self.got_firmware += 1,
            DeviceState::Error => self.error += 1,
        }
    }

    /// Every device configured and none in error (false for no devices).
    pub fn all_good(&self) -> bool {
        self.total > 0 && self.configured == self.total && self.error == 0
    }

    /// "1 of 9 devices configured: 1 got config, 0 got firmware, 0 probing,
    /// 0 with errors, 8 never seen", the words of every front end.
    pub fn headline(&self) -> String {
        let lead = if self.all_good() {
            format!("Every device configured ({} of {})", self.configured, self.total)
        } else {
            format!("{} of {} devices configured", self.configured, self.total)
        };
        format!(
            "{lead}: {} got config, {} got firmware, {} probing, {} with errors, {} never seen",
            self.got_config, self.got_firmware, self.probing, self.error, self.never_seen
        )
    }
}

/// Most unassigned devices kept: each request may name a new MAC (a flood of
/// fake ones must not grow memory); the one seen longest ago is forgotten.
pub const MAX_UNASSIGNED: usize = 1024;
/// Most client addresses remembered for identifying TFTP requests.
const MAX_IPS: usize = 65536;

/// The fold.
#[derive(Debug, Clone, Default)]
pub struct Status {
    known: BTreeMap<Mac, DeviceStatus>,
    unassigned: BTreeMap<Mac, DeviceStatus>,
    forgotten: u64,
    by_ip: HashMap<IpAddr, Mac>,
    requests: u64,
    served: u64,
    bytes: u64,
    /// Known devices not configured yet: kept as records are folded, so
    /// [`Status::all_configured`], asked on every request, does not walk
    /// every device (issue #15: 200 phones at once).
    unconfigured: usize,
    /// The files served, to tell a device's own files from names it does not need.
    files: Served,
}

impl Status {
    /// Every device of the served site, never seen.
    pub fn new(served: &Served) -> Status {
        let mut s = Status::default();
        s.set_known(served);
        s
    }

    /// Takes a new device list (after a site edit), keeping what was seen.
    /// Devices removed from the site become unassigned; added ones leave the
    /// unassigned list.
    pub fn set_known(&mut self, served: &Served) {
        self.files = served.clone();
        let mut old = std::mem::take(&mut self.known);
        for (mac, k) in served.devices() {
            let mut st = old
                .remove(mac)
                .or_else(|| self.unassigned.remove(mac))
                .unwrap_or_else(|| DeviceStatus::new(*mac, Some(k)));
            st.model = Some(k.model.clone());
            st.label = k.label.clone();
            st.primary = Some(k.primary);
            self.known.insert(*mac, st);
        }
        for (mac, mut st) in old {
            st.primary = None;
            if st.state != DeviceState::NeverSeen {
                self.unassigned.insert(mac, st);
            }
        }
        self.unconfigured = self.known.values().filter(|d| !d.configured()).count();
    }

    /// Folds one record in.
    pub fn apply(&mut self, r: &RequestRecord) {
        // The bench DHCP server's records are not requests for files: a client
        // asks from 0.0.0.0 before it has an address, and its lease is a
        // discovery sighting, not a provisioning step.
        if r.protocol == Protocol::Dhcp {
            return;
        }
        self.requests += 1;
        self.bytes += r.bytes;
        if r.outcome.is_served() {
            self.served += 1;
        }
        // The self-test is not the device: it never changes a state, firmware or IP.
        if r.self_test {
            return;
        }
        let ip = r.client.ip();
        let Some(mac) = r.mac.or_else(|| self.by_ip.get(&ip).copied()) else {
            return;
        };
        // A request the policy refused (401, 403) is anyone's word: its MAC,
        // address and firmware teach nothing (a NOTIFY would follow that
        // address, a step would follow that firmware); its refusal still shows.
        let vouched = r.outcome.passed_policy();
        if vouched {
            if self.by_ip.len() >= MAX_IPS && !self.by_ip.contains_key(&ip) {
                self.by_ip.clear();
            }
            self.by_ip.insert(ip, mac);
        }
        if !self.known.contains_key(&mac)
            && !self.unassigned.contains_key(&mac)
            && self.unassigned.len() >= MAX_UNASSIGNED
            && let Some(oldest) = self.unassigned.values().min_by_key(|d| d.last_seen).map(|d| d.mac)
        {
            self.unassigned.remove(&oldest);
            self.forgotten += 1;
        }
        let (entry, known) = match self.known.get_mut(&mac) {
            Some(e) => (e, true),
            None => (self.unassigned.entry(mac).or_insert_with(|| DeviceStatus::new(mac, None)), false),
        };
        let was_configured = entry.configured();
        let own = matches!(r.outcome, Outcome::Refused { reason: Refusal::NotFound, expected: false })
            && own_file(&self.files, mac, entry.model.as_ref(), asked_name(r));
        entry.truth.record(r);
        entry.last_seen = Some(r.time);
        if vouched {
            entry.ip = Some(ip);
            if r.firmware.is_some() && entry.firmware != r.firmware {
                entry.firmware = r.firmware.clone();
            }
            if entry.model.is_none() {
                entry.model = r.model.clone();
            }
        }
        if entry.state == DeviceState::NeverSeen {
            entry.state = DeviceState::Probing;
        }
        match Step::of(r, was_configured, own) {
            Step::Neutral => {}
            Step::Fetched => {
                if let (Some(name), Some(kind)) = (&r.file, r.kind) {
                    match kind {
                        ContentKind::Firmware => entry.note = None,
                        ContentKind::Config(FileKind::Bootstrap) => entry.note = Some(BOOTSTRAP_NOTE.into()),
                        ContentKind::Config(FileKind::Phonebook) => {}
                        ContentKind::Config(_) if entry.note.as_deref() == Some(BOOTSTRAP_NOTE) => entry.note = None,
                        ContentKind::Config(_) => {}
                    }
                    entry.record_fetch(Fetch {
                        name: name.clone(),
                        kind,
                        time: r.time,
                        protocol: r.protocol,
                        bytes: r.bytes,
                    });
                }
                entry.problem = None;
                entry.state = if entry.got_firmware {
                    DeviceState::GotFirmware
                } else if entry.configured() {
                    DeviceState::GotConfig
                } else {
                    DeviceState::Probing
                };
            }
            Step::Note(note) => entry.note = Some(note),
            Step::Problem => {
                entry.state = DeviceState::Error;
                entry.problem = Some(r.explanation.clone());
            }
        }
        if known && entry.configured() != was_configured {
            if was_configured {
                self.unconfigured += 1;
            } else {
                self.unconfigured -= 1;
            }
        }
    }

    /// Folds a finished action (NOTIFY, check) into its device's truth
    /// columns; a MAC the status does not know is ignored (actions target
    /// devices of the site only).
    pub fn apply_action(&mut self, a: &crate::serving::truth::ActionRecord) {
        if let Some(d) = self.known.get_mut(&a.mac).or_else(|| self.unassigned.get_mut(&a.mac)) {
            d.truth.action(a);
        }
    }

    pub fn known(&self) -> impl Iterator<Item = &DeviceStatus> {
        self.known.values()
    }

    pub fn unassigned(&self) -> impl Iterator<Item = &DeviceStatus> {
        self.unassigned.values()
    }

    pub fn device(&self, mac: Mac) -> Option<&DeviceStatus> {
        self.known.get(&mac).or_else(|| self.unassigned.get(&mac))
    }

    /// The MAC an IP last asked about (identifies TFTP clients, which send no User-Agent).
    pub fn mac_for_ip(&self, ip: IpAddr) -> Option<Mac> {
        self.by_ip.get(&ip).copied()
    }

    /// Every known device got its config (false for a site without devices).
    pub fn all_configured(&self) -> bool {
        debug_assert_eq!(self.unconfigured, self.known.values().filter(|d| !d.configured()).count());
        !self.known.is_empty() && self.unconfigured == 0
    }

    /// The state a row shows for `mac`: never seen when nothing about it was
    /// folded (or the servers have not run).
    pub fn state_of(&self, mac: Mac) -> DeviceState {
        self.device(mac).map_or(DeviceState::NeverSeen, |d| d.state)
    }

    /// The devices `macs` (a site's, in any order) counted by the states
    /// their rows show ([`Status::state_of`]); the servers need not run.
    pub fn tally(&self, macs: impl IntoIterator<Item = Mac>) -> Tally {
        let mut t = Tally::default();
        for mac in macs {
            t.add(self.device(mac));
        }
        t
    }

    pub fn summary(&self) -> Summary {
        let t = self.tally(self.known.keys().copied());
        Summary {
            known: self.known.len(),
            unassigned: self.unassigned.len(),
            forgotten: self.forgotten,
            requests: self.requests,
            served: self.served,
            bytes: self.bytes,
            never_seen: t.never_seen,
            probing: t.probing,
            got_config: t.got_config,
            got_firmware: t.got_firmware,
            error: t.error,
            tally: t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate;
    use crate::serving::Interruption;
    use crate::site::{Device, Site};
    use std::time::Duration;

    fn served() -> Served {
        let mut s = Site::default();
        for (mac, model) in [("000b82a1b201", "GXP2170"), ("000b822726c8", "GXP2000")] {
            s.devices.push(Device::new(mac.parse().unwrap(), model.parse().unwrap()));
        }
        let out = generate::generate(&s, &mut || [0; 8]).unwrap();
        Served::new(&s, &out)
    }

    fn rec(ip: &str, mac: Option<&str>, file: &str, kind: ContentKind, outcome: Outcome) -> RequestRecord {
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(5);
        RequestRecord {
            firmware: Some("1.0.11.3".into()),
            mac: mac.map(|m| m.parse().unwrap()),
            file: Some(file.into()),
            kind: Some(kind),
            outcome,
            bytes: 10,
            size: Some(10),
            explanation: "why".into(),
            ..RequestRecord::new(1, time, format!("{ip}:1000").parse().unwrap(), Protocol::Tftp, "RRQ", file)
        }
    }

    #[test]
    fn a_refused_request_teaches_no_address_or_firmware() {
        let mut st = Status::new(&served());
        let a: Mac = "000b82a1b201".parse().unwrap();
        let xml = ContentKind::Config(FileKind::DeviceXml);
        st.apply(&rec("10.0.0.5", Some("000b82a1b201"), "cfg000b82a1b201.xml", xml, Outcome::Served));
        for reason in [Refusal::Unauthorized, Refusal::Policy] {
            let mut spoof = rec(
                "127.0.0.77",
                Some("000b82a1b201"),
                "cfg000b82a1b201.xml",
                xml,
                Outcome::Refused { reason, expected: false },
            );
            spoof.firmware = Some("1.0.9.1".into());
            st.apply(&spoof);
        }
        let d = st.device(a).unwrap();
        assert_eq!(d.ip, Some("10.0.0.5".parse().unwrap()));
        assert_eq!(d.firmware.as_deref(), Some("1.0.11.3"));
        assert_eq!(st.mac_for_ip("127.0.0.77".parse().unwrap()), None);
    }

    #[test]
    fn states_follow_requests() {
        let mut st = Status::new(&served());
        let a: Mac = "000b82a1b201".parse().unwrap();
        assert_eq!(st.device(a).unwrap().state, DeviceState::NeverSeen);
        let probe = Outcome::Refused { reason: Refusal::NotFound, expected: true };
        st.apply(&rec(
            "10.0.0.5",
            Some("000b82a1b201"),
            "cfg000b82a1b201",
            ContentKind::Config(FileKind::Binary),
            probe,
        ));
        assert_eq!(st.device(a).unwrap().state, DeviceState::Probing);
        let xml = ContentKind::Config(FileKind::DeviceXml);
        st.apply(&rec("10.0.0.5", Some("000b82a1b201"), "cfg000b82a1b201.xml", xml, Outcome::Served));
        assert_eq!(st.device(a).unwrap().state, DeviceState::GotConfig);
        assert!(!st.all_configured());
        // A firmware request without a MAC is attributed by IP.
        st.apply(&rec("10.0.0.5", None, "gxp2170fw.bin", ContentKind::Firmware, Outcome::Served));
        let d = st.device(a).unwrap();
        assert_eq!(d.state, DeviceState::GotFirmware);
        assert_eq!(d.fetched.len(), 2);
        assert_eq!(d.firmware.as_deref(), Some("1.0.11.3"));
        assert_eq!(st.mac_for_ip("10.0.0.5".parse().unwrap()), Some(a));
        // Interrupted -> error with the explanation.
        let cut = Outcome::Interrupted { reason: Interruption::TimedOut };
        st.apply(&rec("10.0.0.5", Some("000b82a1b201"), "gxp2170fw.bin", ContentKind::Firmware, cut));
        assert_eq!(st.device(a).unwrap().state, DeviceState::Error);
        assert_eq!(st.device(a).unwrap().problem.as_deref(), Some("why"));
        // The legacy unit's binary is its config.
        st.apply(&rec(
            "10.0.0.6",
            Some("000b822726c8"),
            "cfg000b822726c8",
            ContentKind::Config(FileKind::Binary),
            Outcome::Served,
        ));
        assert!(st.all_configured());
        // Unknown devices are unassigned.
        st.apply(&rec("10.0.0.7", Some("c074ad000001"), "cfgc074ad000001.xml", xml, probe));
        assert_eq!(st.unassigned().count(), 1);
        let s = st.summary();
        assert_eq!((s.known, s.got_config, s.error, s.unassigned, s.requests), (2, 1, 1, 1, 6));
    }

    /// The module doc's table: request sequences of one GXP2170 (whose
    /// config is its `cfg<mac>.xml`) -> state and note.
    #[test]
    fn state_table() {
        use ContentKind::{Config, Firmware};
        use FileKind::{Binary, DeviceXml, ModelXml};
        const EMPTY: &str = "gxp2170fw.bin is not in the firmware folder /fw (it is empty). Download ...";
        const NO_DIR: &str = "firmware gxp2170fw.bin asked for, but no firmware folder is set; set ...";
        const OTHER: &str = "gxp2170fw.bin is not in the firmware folder /fw (it holds a.bin). Download ...";
        const OLD_PATH: &str = "gxp2170fw.bin is in the firmware folder /fw under gxp2170/1.0.11.79/ (stepped \
                                upgrades), but the device asked the folder /firmware/: it is asking the old path. \
                                Re-provision it ...";
        let ok = Outcome::Served;
        let probe = Outcome::Refused { reason: Refusal::NotFound, expected: true };
        let missing = Outcome::Refused { reason: Refusal::NotFound, expected: false };
        let policy = Outcome::Refused { reason: Refusal::Policy, expected: false };
        let cut = Outcome::Interrupted { reason: Interruption::ClientGone };
        let (bin, xml, model, fw) = ("cfg000b82a1b201", "cfg000b82a1b201.xml", "cfggxp2170.xml", "gxp2170fw.bin");
        type Req = (&'static str, ContentKind, Outcome, &'static str);
        let table: Vec<(&str, Vec<Req>, DeviceState, Option<&str>)> = vec![
            ("nothing", vec![], DeviceState::NeverSeen, None),
            ("the binary probe", vec![(bin, Config(Binary), probe, "")], DeviceState::Probing, None),
            (
                "the issue's phone: cfg<mac>, cfg<mac>.xml, cfg<model>.xml served, firmware 404 (folder empty)",
                vec![
                    (bin, Config(Binary), ok, ""),
                    (xml, Config(DeviceXml), ok, ""),
                    (model, Config(ModelXml), ok, ""),
                    (fw, Firmware, missing, EMPTY),
                ],
                DeviceState::GotConfig,
                Some("no firmware offered (folder empty)"),
            ),
            (
                "no firmware folder set",
                vec![(xml, Config(DeviceXml), ok, ""), (fw, Firmware, missing, NO_DIR)],
                DeviceState::GotConfig,
                Some("no firmware offered (no firmware folder set)"),
            ),
            (
                "the folder holds other images",
                vec![(xml, Config(DeviceXml), ok, ""), (fw, Firmware, missing, OTHER)],
                DeviceState::GotConfig,
                Some("no firmware offered (not in the firmware folder)"),
            ),
            (
                "the image is in a step subfolder, the device asked the old path",
                vec![(xml, Config(DeviceXml), ok, ""), (fw, Firmware, missing, OLD_PATH)],
                DeviceState::GotConfig,
                Some("no firmware offered (it asked the old path; its image is in a step subfolder: re-provision it)"),
            ),
            (
                "firmware asked before any config",
                vec![(fw, Firmware, missing, EMPTY)],
                DeviceState::Probing,
                Some("no firmware offered (folder empty)"),
            ),
            (
                "the image arrives later: the note goes",
                vec![(xml, Config(DeviceXml), ok, ""), (fw, Firmware, missing, EMPTY), (fw, Firmware, ok, "")],
                DeviceState::GotFirmware,
                None,
            ),
            (
                "the model file alone is not its config",
                vec![(model, Config(ModelXml), ok, "")],
                DeviceState::Probing,
                None,
            ),
            (
                "the unprefixed bootstrap is not the config",
                vec![("cfg000b82a1b201", Config(FileKind::Bootstrap), ok, "")],
                DeviceState::Probing,
                Some(BOOTSTRAP_NOTE),
            ),
            (
                "the bootstrap, then its own (prefixed) XML",
                vec![("cfg000b82a1b201", Config(FileKind::Bootstrap), ok, ""), (xml, Config(DeviceXml), ok, "")],
                DeviceState::GotConfig,
                None,
            ),
            (
                "a policy refusal is an error",
                vec![(xml, Config(DeviceXml), policy, "refused by policy")],
                DeviceState::Error,
                None,
            ),
            (
                "an interrupted firmware transfer is an error",
                vec![(xml, Config(DeviceXml), ok, ""), (fw, Firmware, cut, "gone")],
                DeviceState::Error,
                None,
            ),
            (
                "a success after an error",
                vec![(xml, Config(DeviceXml), policy, "x"), (xml, Config(DeviceXml), ok, "")],
                DeviceState::GotConfig,
                None,
            ),
        ];
        let a: Mac = "000b82a1b201".parse().unwrap();
        for (what, requests, state, note) in table {
            let mut st = Status::new(&served());
            for (file, kind, outcome, why) in &requests {
                let mut r = rec("10.0.0.5", Some("000b82a1b201"), file, *kind, *outcome);
                r.explanation = why.to_string();
                st.apply(&r);
            }
            let d = st.device(a).unwrap();
            assert_eq!(d.state, state, "{what}");
            assert_eq!(d.note.as_deref(), note, "{what}");
            let s = st.summary();
            assert_eq!(s.error, usize::from(state == DeviceState::Error), "{what}");
            assert_eq!(s.got_config, usize::from(state == DeviceState::GotConfig), "{what}");
        }
    }

    /// The table's rows about misses outside a device's own file set and
    /// the busy server: (what, requests, state, note, problem?).
    #[test]
    fn state_table_stray_misses_are_notes_once_configured() {
        use ContentKind::{Config, Firmware};
        use FileKind::{Binary, DeviceXml, ModelXml};
        const EMPTY: &str = "gxp2170fw.bin is not in the firmware folder /fw (it is empty). Download ...";
        let ok = Outcome::Served;
        let missing = Outcome::Refused { reason: Refusal::NotFound, expected: false };
        let busy = Outcome::Refused { reason: Refusal::Busy, expected: false };
        let (xml, alias) = ("cfg000b82a1b201.xml", "cfg000b82a1b201.bin");
        let stray = "404 for cfg000b82a1b201.bin: not one of its files";
        type Req = (&'static str, Option<ContentKind>, Outcome, &'static str);
        type Row = (&'static str, Vec<Req>, DeviceState, Option<&'static str>, bool);
        let table: Vec<Row> = vec![
            (
                "the issue's phone: configured, then a stray 404 for a .bin alias",
                vec![(xml, Some(Config(DeviceXml)), ok, ""), (alias, Some(Config(Binary)), missing, "no such file")],
                DeviceState::GotConfig,
                Some(stray),
                false,
            ),
            (
                "the stray 404 replaces the firmware note; the state stays",
                vec![
                    (xml, Some(Config(DeviceXml)), ok, ""),
                    ("gxp2170fw.bin", Some(Firmware), missing, EMPTY),
                    (alias, Some(Config(Binary)), missing, "no such file"),
                ],
                DeviceState::GotConfig,
                Some(stray),
                false,
            ),
            (
                "a name no device sends, once configured",
                vec![(xml, Some(Config(DeviceXml)), ok, ""), ("/favicon.ico", None, missing, "not a name")],
                DeviceState::GotConfig,
                Some("404 for favicon.ico: not one of its files"),
                false,
            ),
            (
                "another model's file, once configured",
                vec![
                    (xml, Some(Config(DeviceXml)), ok, ""),
                    ("cfggxp2000.xml", Some(Config(ModelXml)), missing, "wrong"),
                ],
                DeviceState::GotConfig,
                Some("404 for cfggxp2000.xml: not one of its files"),
                false,
            ),
            (
                "the same miss before it is configured is an error (a wrong prefix never gets it its config)",
                vec![(alias, Some(Config(Binary)), missing, "does not carry the site's prefix")],
                DeviceState::Error,
                None,
                true,
            ),
            (
                "a miss for one of its own files is an error even once configured",
                vec![(xml, Some(Config(DeviceXml)), ok, ""), (xml, Some(Config(DeviceXml)), missing, "gone")],
                DeviceState::Error,
                None,
                true,
            ),
            (
                "the server busy is a note",
                vec![(xml, Some(Config(DeviceXml)), ok, ""), (xml, Some(Config(DeviceXml)), busy, "busy")],
                DeviceState::GotConfig,
                Some(BUSY_NOTE),
                false,
            ),
        ];
        let a: Mac = "000b82a1b201".parse().unwrap();
        for (what, requests, state, note, problem) in table {
            let mut st = Status::new(&served());
            for (file, kind, outcome, why) in &requests {
                let time = SystemTime::UNIX_EPOCH + Duration::from_secs(5);
                let r = RequestRecord {
                    mac: Some(a),
                    file: outcome.is_served().then(|| file.to_string()),
                    kind: *kind,
                    outcome: *outcome,
                    explanation: why.to_string(),
                    ..RequestRecord::new(1, time, "10.0.0.5:1000".parse().unwrap(), Protocol::Http, "GET", file)
                };
                st.apply(&r);
            }
            let d = st.device(a).unwrap();
            assert_eq!(d.state, state, "{what}");
            assert_eq!(d.note.as_deref(), note, "{what}");
            assert_eq!(d.problem.is_some(), problem, "{what}");
            let t = st.tally([a]);
            assert_eq!((t.error, t.configured), (usize::from(problem), usize::from(d.configured())), "{what}");
        }
    }

    /// The Status board's headline, its rows and the handover report count
    /// the same devices the same way (issue 27 item 1 and 2), and so does
    /// `gsprov serve`'s summary; with the servers never started every row and
    /// every count says "never seen".
    #[test]
    fn headline_rows_and_report_agree() {
        let site = crate::site::demo();
        let out = generate::generate(&site, &mut || [0; 8]).unwrap();
        let served = Served::new(&site, &out);
        let macs: Vec<Mac> = site.devices.iter().map(|d| d.mac).collect();
        assert!(macs.len() >= 4, "the demo has devices enough for every state");
        let ok = Outcome::Served;
        let missing = Outcome::Refused { reason: Refusal::NotFound, expected: false };
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(5);
        let req = |mac: Mac, name: &str, kind: Option<ContentKind>, outcome: Outcome| RequestRecord {
            mac: Some(mac),
            file: outcome.is_served().then(|| name.to_string()),
            kind,
            outcome,
            explanation: "why".into(),
            ..RequestRecord::new(1, t, "10.0.0.5:1000".parse().unwrap(), Protocol::Http, "GET", name)
        };
        let own = |mac: Mac| {
            out.files
                .iter()
                .find(|f| f.device == Some(mac) && f.kind == FileKind::DeviceXml)
                .expect("its XML")
                .name
                .clone()
        };
        let check = |st: &Status, expect: (usize, usize, usize, usize)| {
            let tally = st.tally(macs.iter().copied());
            // The rows: one state each, the five states add up to the devices.
            let states: Vec<DeviceState> = macs.iter().map(|m| st.state_of(*m)).collect();
            let count = |s: DeviceState| states.iter().filter(|x| **x == s).count();
            assert_eq!(
                (tally.never_seen, tally.probing, tally.got_config, tally.got_firmware, tally.error),
                (
                    count(DeviceState::NeverSeen),
                    count(DeviceState::Probing),
                    count(DeviceState::GotConfig),
                    count(DeviceState::GotFirmware),
                    count(DeviceState::Error)
                )
            );
            assert_eq!(tally.total, macs.len());
            assert_eq!((tally.configured, tally.never_seen, tally.probing, tally.error), expect);
            // The report: the same state on every line, the same headline.
            let rows = crate::serving::report::rows(&site, st, &|_| "10:32".into());
            let row_states: Vec<&str> = rows.iter().map(|r| r.state.as_str()).collect();
            assert_eq!(row_states, states.iter().map(|s| s.describe()).collect::<Vec<_>>());
            let html = crate::serving::report::html(&site.name, "today", &tally, &rows);
            assert!(html.contains(&format!("{}.", tally.headline())), "{html}");
            let errors_listed = rows.iter().filter(|r| r.state == "error" && !r.problem.is_empty()).count();
            assert_eq!(errors_listed, tally.error);
            // Every device not configured says why in the report.
            for (r, m) in rows.iter().zip(&macs) {
                if !st.device(*m).is_some_and(|d| d.configured()) {
                    assert!(!r.problem.is_empty(), "{m}: {} without a problem left", r.state);
                }
            }
            tally
        };
        // The servers never started: an empty fold, the site's rows.
        let stopped = check(&Status::default(), (0, macs.len(), 0, 0));
        assert!(stopped.headline().starts_with(&format!("0 of {} devices configured", macs.len())));
        assert!(stopped.headline().ends_with(&format!("0 with errors, {} never seen", macs.len())));
        // Serving: one configured with a stray 404 (a note), one configured then
        // an interrupted transfer (an error), one probing, the rest never seen.
        let mut st = Status::new(&served);
        let (a, b, c) = (macs[0], macs[1], macs[2]);
        st.apply(&req(a, &own(a), Some(ContentKind::Config(FileKind::DeviceXml)), ok));
        st.apply(&req(a, &format!("/cfg{a}.xml.bak"), None, missing));
        st.apply(&req(b, &own(b), Some(ContentKind::Config(FileKind::DeviceXml)), ok));
        let cut = Outcome::Interrupted { reason: crate::serving::Interruption::ClientGone };
        st.apply(&req(b, &own(b), Some(ContentKind::Config(FileKind::DeviceXml)), cut));
        st.apply(&req(c, "cfggxp9999.xml", Some(ContentKind::Config(FileKind::ModelXml)), missing));
        let n = macs.len();
        let tally = check(&st, (2, n - 3, 0, 2));
        assert_eq!(
            (tally.got_config, tally.error),
            (1, 2),
            "a: got config with a note; b: error; c: error (not configured)"
        );
        assert_eq!(st.device(a).unwrap().state, DeviceState::GotConfig);
        assert!(st.device(a).unwrap().note.as_deref().unwrap().contains(&format!("404 for cfg{a}.xml.bak:")));
        assert_eq!(st.summary().tally, tally, "serve's summary counts the same (its site is the served one)");
        assert!(tally.headline().starts_with(&format!("2 of {n} devices configured: 1 got config")));

        // A fourth gets its binary probe and a firmware image, never its XML:
        // "got firmware", not configured, and its row says so.
        let d = macs[3];
        st.apply(&req(d, &format!("cfg{d}"), Some(ContentKind::Config(FileKind::Binary)), ok));
        st.apply(&req(d, "gxp1600fw.bin", Some(ContentKind::Firmware), ok));
        assert_eq!(st.state_of(d), DeviceState::GotFirmware);
        let tally = check(&st, (2, n - 4, 0, 2));
        assert_eq!(tally.got_firmware, 1);
        let rows = crate::serving::report::rows(&site, &st, &|_| "10:32".into());
        assert_eq!(rows[3].problem, FIRMWARE_WITHOUT_CONFIG);
        assert_eq!(st.device(d).unwrap().without_config(), Some(FIRMWARE_WITHOUT_CONFIG), "serve's summary says it");
        assert_eq!(st.device(a).unwrap().without_config(), None);
    }

    #[test]
    fn a_client_in_a_loop_keeps_its_state_in_bounded_memory() {
        let mut st = Status::new(&served());
        let a: Mac = "000b82a1b201".parse().unwrap();
        let xml = ContentKind::Config(FileKind::DeviceXml);
        st.apply(&rec("10.0.0.5", Some("000b82a1b201"), "cfg000b82a1b201.xml", xml, Outcome::Served));
        // The config fetch scrolls out of the list; the device stays configured.
        let bin = ContentKind::Config(FileKind::Binary);
        for _ in 0..10 * MAX_FETCHES {
            st.apply(&rec("10.0.0.5", Some("000b82a1b201"), "cfg000b82a1b201", bin, Outcome::Served));
        }
        let d = st.device(a).unwrap();
        assert!(d.fetched.len() <= MAX_FETCHES);
        assert!(d.fetched.iter().all(|f| f.kind == bin));
        assert!(d.configured());
        assert_eq!(d.state, DeviceState::GotConfig);
        assert_eq!(st.summary().requests, 1 + 10 * MAX_FETCHES as u64);
    }
}
