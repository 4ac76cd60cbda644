//! Runtime state of the servers as the UI knows it: what is running where,
//! failures, the request log, transfers in flight and device status, all built
//! from supervisor events drained each frame.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Instant, SystemTime};

use crate::event::{CertificateInfo, Event, ServiceError, Transfer};
use crate::serving::status::Status;
use crate::serving::{Protocol, RequestId, RequestRecord};
use crate::ui::control::{Control, FetchResult, Reply};

/// One server's state.
#[derive(Debug, Clone)]
pub enum ServerState {
    Running(SocketAddr),
    Failed(ServiceError),
}

/// A transfer in flight, for progress bars.
#[derive(Debug, Clone)]
pub struct InFlight {
    pub transfer: Transfer,
    pub sent: u64,
    pub total: Option<u64>,
}

/// Everything the servers told the UI so far.
pub struct Serving {
    pub control: Option<Control>,
    /// Why the control thread could not start (then nothing can be served).
    pub control_error: Option<String>,
    pub servers: BTreeMap<Protocol, ServerState>,
    pub certificate: Option<CertificateInfo>,
    /// The newest requests, at most [`MAX_LOG`] (the board folds them all;
    /// the request log on disk keeps every one).
    pub log: Vec<RequestRecord>,
    /// Requests folded but no longer in `log` (older than its newest [`MAX_LOG`]).
    pub log_dropped: u64,
    pub in_flight: BTreeMap<RequestId, InFlight>,
    pub status: Status,
    /// The firmware versions last told to the control thread (for the steps).
    pub reported: BTreeMap<crate::ids::Mac, String>,
    /// Set while waiting for the first answer to a start.
    pub starting: Option<Instant>,
    pub start_error: Option<String>,
    pub window_closed: Option<String>,
    /// (files, bytes) being served.
    pub files: Option<(usize, usize)>,
    /// What the last start said the technician should know (the firmware
    /// folder missing, secrets going out unprotected, ...), as `gsprov serve`
    /// prints it.
    pub notes: Vec<String>,
    /// Site revision the served files were generated from.
    pub served_revision: Option<u64>,
    pub fetch: Option<FetchResult>,
    pub fetching: bool,
    /// Bumped whenever `log` changes, so views can cache.
    pub log_generation: u64,
    /// Every device seen on the LAN, from requests, PnP, mDNS and the neighbour table.
    pub discovery: crate::serving::discovery::Discovery,
    pub discovering: bool,
    pub interfaces: Vec<crate::serving::discovery::NetInterface>,
    /// The interface list was asked for once (the answer fills `interfaces`).
    pub interfaces_requested: bool,
    /// Answer SIP plug-and-play SUBSCRIBEs when the servers start.
    pub pnp: bool,
    /// Finished device actions (NOTIFY, check), oldest first, at most [`MAX_ACTIONS`].
    pub actions: Vec<crate::serving::truth::ActionRecord>,
    /// Devices an action was asked for and has not reported yet.
    pub actions_pending: usize,
    /// Run the syslog receiver (UDP, this port) with the servers.
    pub syslog: Option<u16>,
    /// Run the bench DHCP server on the advertised interface with the servers.
    pub dhcp: bool,
    pub dhcp_answer: crate::event::DhcpAnswer,
}

/// Device actions remembered for the live log.
pub const MAX_ACTIONS: usize = 1000;

/// Requests the live log keeps in memory (a request flood must not grow the
/// app without bound); the oldest quarter goes when it is full.
pub const MAX_LOG: usize = 20_000;

impl Serving {
    pub fn new(control: Result<Control, String>) -> Serving {
        let (control, control_error) = match control {
            Ok(c) => (Some(c), None),
            Err(e) => (None, Some(e)),
        };
        Serving {
            control,
            control_error,
            servers: BTreeMap::new(),
            certificate: None,
            log: Vec::new(),
            log_dropped: 0,
            in_flight: BTreeMap::new(),
            status: Status::default(),
            reported: BTreeMap::new(),
            starting: None,
            start_error: None,
            window_closed: None,
            files: None,
            notes: Vec::new(),
            served_revision: None,
            fetch: None,
            fetching: false,
            log_generation: 0,
            discovery: crate::serving::discovery::Discovery::new(),
            discovering: false,
            interfaces: Vec::new(),
            interfaces_requested: false,
            pnp: false,
            actions: Vec::new(),
            actions_pending: 0,
            syslog: None,
            dhcp: false,
            dhcp_answer: crate::event::DhcpAnswer::Grandstream,
        }
    }

    /// The server events waiting to be folded (`None` when the control
    /// thread could not start).
    pub fn inbox(&self) -> Option<std::sync::Arc<crate::ui::inbox::Inbox>> {
        self.control.as_ref().map(|c| c.events.clone())
    }

    pub fn running(&self) -> bool {
        self.servers.values().any(|s| matches!(s, ServerState::Running(_)))
    }

    pub fn addresses(&self) -> Vec<(Protocol, SocketAddr)> {
        self.servers
            .iter()
            .filter_map(|(p, s)| match s {
                ServerState::Running(a) => Some((*p, *a)),
                ServerState::Failed(_) => None,
            })
            .collect()
    }

    /// Shows a site's remembered serving (its request log read back on open):
    /// the status board and the live log start from there.
    pub fn remember(&mut self, status: Status, mut log: Vec<RequestRecord>) {
        self.status = status;
        // The Discovered list shows who asked, as the board does.
        for r in &log {
            self.discovery.remembered(r);
        }
        let over = log.len().saturating_sub(MAX_LOG);
        log.drain(..over);
        self.log = log;
        self.log_dropped = over as u64;
        self.log_generation += 1;
        self.in_flight.clear();
        self.reported.clear();
    }

    /// Applies one supervisor event.
    pub fn apply(&mut self, e: Event) {
        e.fold_discovery(&mut self.discovery);
        match e {
            Event::Started { protocol, addr, certificate } => {
                self.starting = None;
                self.servers.insert(protocol, ServerState::Running(addr));
                if certificate.is_some() {
                    self.certificate = certificate;
                }
            }
            Event::Failed { protocol, error } => {
                self.starting = None;
                self.servers.insert(protocol, ServerState::Failed(error));
            }
            Event::Received(t) => {
                let total = t.size;
                self.in_flight.insert(t.id, InFlight { transfer: t, sent: 0, total });
            }
            Event::Progress { id, sent, total } => {
                if let Some(f) = self.in_flight.get_mut(&id) {
                    f.sent = sent;
                    f.total = total.or(f.total);
                }
            }
            Event::Completed(r) => {
                self.in_flight.remove(&r.id);
                self.status.apply(&r);
                if self.log.len() >= MAX_LOG {
                    let n = MAX_LOG / 4;
                    self.log.drain(..n);
                    self.log_dropped += n as u64;
                }
                self.log.push(r);
                self.log_generation += 1;
            }
            Event::FilesReplaced { .. } | Event::PolicyChanged => {}
            Event::WindowClosed { reason } => self.window_closed = Some(reason),
            Event::Discovery(_) => {}
            Event::Action(a) => {
                self.status.apply_action(&a);
                if self.actions.len() >= MAX_ACTIONS {
                    self.actions.drain(..MAX_ACTIONS / 2);
                }
                self.actions.push(a);
            }
            Event::Stopped { protocol } => {
                if matches!(self.servers.get(&protocol), Some(ServerState::Running(_))) {
                    self.servers.remove(&protocol);
                }
                self.in_flight.retain(|_, f| f.transfer.protocol != protocol);
            }
        }
    }

    pub fn reply(&mut self, r: Reply) {
        match r {
            Reply::Serving { files, bytes, served, notes } => {
                self.files = Some((files, bytes));
                if let Some(notes) = notes {
                    self.notes = notes;
                }
                // The Discovered list's "in the site" follows the open site
                // (`ui::discovered::sync`), served or not.
                self.status.set_known(&served);
                self.start_error = None;
            }
            Reply::StartFailed(e) => {
                self.starting = None;
                self.start_error = Some(e);
            }
            Reply::UpdateRefused(e) => {
                self.start_error =
                    Some(format!("The last edit is not served: {e}\nDevices still get the files from before it."));
            }
            Reply::Fetched(f) => {
                self.fetching = false;
                self.fetch = Some(f);
            }
            Reply::Interfaces(Ok(list)) => self.interfaces = list,
            Reply::Interfaces(Err(e)) => self.start_error = Some(format!("cannot list network interfaces: {e}")),
            Reply::Action(a) => {
                self.actions_pending = self.actions_pending.saturating_sub(1);
                self.apply(Event::Action(a));
            }
        }
    }
}

/// `t` in local time; `None` outside the calendar `time` can represent (a
/// clock gone wrong must not take the window down).
fn local(t: SystemTime) -> Option<time::OffsetDateTime> {
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok()?,
        Err(e) => -i64::try_from(e.duration().as_secs()).ok()?,
    };
    let dt = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
    dt.checked_to_offset(crate::ui::local_offset())
}

/// A local wall-clock time, `10:32:05`.
pub fn hms(t: SystemTime) -> String {
    match local(t) {
        Some(dt) => format!("{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second()),
        None => "--:--:--".into(),
    }
}

/// Date and time for reports, `2026-11-28 10:32`.
pub fn date_time(t: SystemTime) -> String {
    match local(t) {
        Some(dt) => {
            format!("{}-{:02}-{:02} {:02}:{:02}", dt.year(), u8::from(dt.month()), dt.day(), dt.hour(), dt.minute())
        }
        None => "(invalid time)".into(),
    }
}

/// The address of this computer devices should be told: the interface
/// holding the bind address, else the one P237 names when it is this
/// computer's, else the first LAN interface. Never P237 itself: the site may
/// name another machine (`serving::address` says so).
pub fn guess_advertise(
    site: &crate::site::Site,
    interfaces: &[crate::serving::discovery::NetInterface],
) -> Option<IpAddr> {
    let bind = site.serving.bind.trim().parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
    crate::serving::address::this_computer(bind, site.defaults.get("P237"), interfaces).map(|i| IpAddr::V4(i.ipv4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_remembered_request_log_fills_the_discovered_list_too() {
        let mut sv = Serving::new(Err("no control thread in this test".into()));
        let record = |mac: &str| RequestRecord {
            mac: Some(mac.parse().unwrap()),
            ..RequestRecord::new(
                1,
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_000),
                "127.0.0.9:4000".parse().unwrap(),
                Protocol::Http,
                "GET",
                &format!("/cfg{mac}.xml"),
            )
        };
        let mut status = Status::default();
        let log = vec![record("000b82c00001"), record("000b82c00002")];
        for r in &log {
            status.apply(r);
        }
        sv.remember(status, log);
        assert_eq!(sv.status.unassigned().count(), 2);
        assert_eq!(sv.discovery.counts().not_in_site, 2, "the board's summary and the Discovered list agree");
    }

    #[test]
    fn times_out_of_range_do_not_panic() {
        assert_eq!(hms(SystemTime::UNIX_EPOCH + Duration::from_secs(3600 * 10 + 62)).len(), 8);
        assert_eq!(hms(SystemTime::UNIX_EPOCH - Duration::from_secs(u64::MAX / 2)), "--:--:--");
        assert_eq!(date_time(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::MAX / 4)), "(invalid time)");
    }
}
