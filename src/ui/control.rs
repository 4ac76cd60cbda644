//! The desktop app's line to the servers: one named thread that owns the
//! serving [`Session`] (the job `gsprov serve` runs too: this thread only
//! forwards) and does the work a frame must not wait for (generating the
//! files, binding, creating the HTTPS certificate, the "fetch as this phone"
//! self-test). The UI sends [`Request`]s; supervisor [`Event`]s and [`Reply`]s
//! come back on channels, each waking the UI.
//!
//! Device actions (re-provision, reboot, check) run on a second named thread,
//! `gsprov-actions`, one job after another (later ones queue), so a silent
//! device never holds up a start or a stop: NOTIFYs paced one per 200 ms
//! ([`notify::Pace`]), checks one device at a time, each result a
//! [`Reply::Action`] as it ends.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::event::{Command, Event};
use crate::formats::decode::Decoded;
use crate::generate::BuildError;
use crate::ids::{Mac, Model};
use crate::services::client::{self, FetchOptions};
use crate::services::{Hooks, interfaces, notify, webapi};
use crate::serving::truth::{ActionKind, ActionRecord};
use crate::serving::{Policy, Protocol, Served};
use crate::session::{self, Known, Session};
use crate::site::Site;
use crate::ui::inbox::Inbox;

/// What the UI asks for.
#[derive(Debug)]
pub enum Request {
    /// Generate the site's files and start the enabled servers.
    /// `pnp`: also answer SIP plug-and-play SUBSCRIBEs on this interface address.
    Start {
        site: Box<Site>,
        site_path: Option<PathBuf>,
        policy: Policy,
        pnp: Option<std::net::Ipv4Addr>,
        /// Also receive syslog on this UDP port.
        syslog: Option<u16>,
        /// The firmware each device is known to run (the status board's, the
        /// request log's after a restart): each device's next firmware step.
        known: Known,
        /// Also run the bench DHCP server (the session adds options 42 and 2 from the site).
        dhcp: Option<Box<crate::event::BenchDhcpConfig>>,
    },
    /// A command the supervisor takes as is: stop, policy, discovery.
    Supervisor(Command),
    /// Regenerate after an edit and serve the new files (transfers in flight keep theirs).
    Update { site: Box<Site> },
    /// List this computer's network interfaces (answered with [`Reply::Interfaces`]).
    ListInterfaces,
    /// Fetch `url` the way device `mac` would, and decode it with the site's password.
    Fetch { url: String, mac: Mac, model: Model, firmware: String, site: Box<Site> },
    /// Re-provision, reboot or check these devices of `site` at these addresses
    /// (on the technician's confirmed command; at most [`notify::MAX_TARGETS`]).
    /// `trust_addresses`: the technician ticked that the addresses shown are
    /// the devices' (else only the neighbour table's word lets a challenge be answered).
    Act { kind: ActionKind, site: Box<Site>, devices: Vec<(Mac, IpAddr)>, trust_addresses: bool },
    /// The firmware each device last reported (User-Agent): while serving, a
    /// device whose next firmware step changed gets its files regenerated with
    /// the new P192, as `gsprov serve` does.
    Reported(BTreeMap<Mac, String>),
    /// The firmware folder was read again: while serving, devices whose next
    /// step changed get their files regenerated.
    FirmwareReread,
}

/// Answers to requests (servers report through [`Event`]s).
#[derive(Debug)]
pub enum Reply {
    /// Files generated and handed to the servers (the set, so a front end can
    /// keep its device status in step with the site).
    Serving {
        files: usize,
        bytes: usize,
        served: Served,
        /// What serving starts with that the technician should know (the
        /// firmware folder missing, secrets going out unprotected, ...):
        /// with a start; `None` after an edit (the start's still hold).
        notes: Option<Vec<String>>,
    },
    /// The site could not be generated or configured; nothing was started.
    StartFailed(String),
    /// An edit could not be generated (the site now has errors): the servers
    /// go on serving the files from before the edit.
    UpdateRefused(String),
    Fetched(FetchResult),
    /// This computer's interfaces, or why they could not be listed.
    Interfaces(Result<Vec<crate::serving::discovery::NetInterface>, String>),
    /// One device's action ended (fold it as [`Event::Action`]).
    Action(ActionRecord),
}

/// What a self-test fetch got.
#[derive(Debug, Clone)]
pub struct FetchResult {
    pub url: String,
    pub mac: Mac,
    /// `Ok((status line, decoded))`, or what went wrong.
    pub outcome: Result<(String, Decoded), String>,
}

/// Handle to the control thread. Dropping it stops the servers and joins the thread.
pub struct Control {
    tx: Option<Sender<Request>>,
    /// Server events, bounded ([`Inbox`]).
    pub events: Arc<Inbox>,
    pub replies: Receiver<Reply>,
    thread: Option<JoinHandle<()>>,
    actions: Option<JoinHandle<()>>,
}

/// One queued device action.
struct ActionJob {
    kind: ActionKind,
    site: Box<Site>,
    devices: Vec<(Mac, IpAddr)>,
    trust_addresses: bool,
}

impl Control {
    pub fn start(wake: Arc<dyn Fn() + Send + Sync>) -> Result<Control, crate::event::ServiceError> {
        let events = Inbox::new(wake.clone());
        let sink = {
            let events = events.clone();
            Arc::new(move |e: Event| events.push(e))
        };
        // Every event goes to the inbox; the session's own channel stays empty.
        let (session, _unused) =
            Session::new(Hooks { wake: Some(wake.clone()), sink: Some(sink), ..Hooks::default() })?;
        let (tx, rx) = mpsc::channel::<Request>();
        let (reply_tx, replies) = mpsc::channel::<Reply>();
        let (jobs_tx, jobs) = mpsc::channel::<ActionJob>();
        let crashed = |e: std::io::Error| crate::event::ServiceError::Crashed { reason: e.to_string() };
        let actions = {
            let (reply_tx, wake) = (reply_tx.clone(), wake.clone());
            std::thread::Builder::new()
                .name("gsprov-actions".into())
                .spawn(move || run_actions(jobs, &reply_tx, &*wake))
                .map_err(crashed)?
        };
        let thread = std::thread::Builder::new()
            .name("gsprov-control".into())
            .spawn(move || run(session, rx, reply_tx, jobs_tx, wake))
            .map_err(crashed)?;
        Ok(Control { tx: Some(tx), events, replies, thread: Some(thread), actions: Some(actions) })
    }

    pub fn send(&self, r: Request) {
        if let Some(tx) = &self.tx {
            // The thread lives as long as this handle; a send only fails after a
            // panic there, and then there is nobody to tell.
            let _ = tx.send(r);
        }
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        // Nobody folds events any more: a server waiting for room goes on.
        self.events.close();
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // The control thread has dropped the job queue: the actions thread ends
        // after the job in hand, which is bounded (64·T1 per NOTIFY, the
        // time-out per check). Joined when already done; otherwise left to end
        // by itself, so closing the window never waits on a silent device.
        if let Some(a) = self.actions.take()
            && a.is_finished()
        {
            let _ = a.join();
        }
    }
}

fn run_actions(jobs: Receiver<ActionJob>, replies: &Sender<Reply>, wake: &(dyn Fn() + Send + Sync)) {
    let reply = |r: ActionRecord| {
        let _ = replies.send(Reply::Action(r));
        wake();
    };
    // The addresses come from the status (requests that passed the serving
    // policy): a challenge or login gets the device's credentials only when
    // the neighbour table confirms the address (issue 25).
    let table = crate::services::neighbours::OsTable;
    for job in jobs {
        let learned = || {
            let source = "the status (its last request that passed the serving policy, or discovery)".to_string();
            if job.trust_addresses {
                notify::Vouch::Confirmed(format!("{source}, checked by the technician"))
            } else {
                notify::Vouch::Learned(source)
            }
        };
        let site = &job.site;
        let devices: Vec<(&crate::site::Device, IpAddr)> = job
            .devices
            .iter()
            .take(notify::MAX_TARGETS)
            .filter_map(|(mac, ip)| site.device(*mac).map(|d| (d, *ip)))
            .collect();
        match job.kind {
            ActionKind::Resync | ActionKind::Reboot => {
                let action = if job.kind == ActionKind::Resync {
                    crate::formats::resync::Action::Resync
                } else {
                    crate::formats::resync::Action::Reboot
                };
                let targets: Vec<notify::Target> =
                    devices.iter().map(|(d, ip)| notify::target(site, d, *ip, None, learned())).collect();
                // At most MAX_TARGETS were taken above, so the bulk send is not refused.
                let (timers, pace) = (notify::Timers::default(), notify::Pace::default());
                let _ = notify::send_all(&targets, action, &timers, pace, &table, &mut |r| {
                    reply(r.record(std::time::SystemTime::now()))
                });
            }
            ActionKind::Check => {
                let targets: Vec<webapi::Target> =
                    devices.iter().map(|(d, ip)| webapi::target(site, d, *ip, None, learned())).collect();
                webapi::check_all(&targets, Duration::from_secs(5), &table, &mut |r| {
                    let mut r = r.clone();
                    if r.result == webapi::Verdict::Unconfirmed {
                        r.explanation.push_str(CHECK_UNCONFIRMED_ADVICE);
                    }
                    reply(r.record(std::time::SystemTime::now()))
                });
            }
        }
    }
}

/// What the app adds to Check device's "address not confirmed" result (the
/// terminal adds its flag instead).
pub const CHECK_UNCONFIRMED_ADVICE: &str =
    ". Check that the address is the device's, then Check device again and tick \"I checked these addresses\"";

fn run(
    mut session: Session,
    rx: Receiver<Request>,
    replies: Sender<Reply>,
    jobs: Sender<ActionJob>,
    wake: Arc<dyn Fn() + Send + Sync>,
) {
    let reply = |r: Reply| {
        let _ = replies.send(r);
        wake();
    };
    let regenerated = |r: Option<Result<session::Regenerated, BuildError>>| match r {
        Some(Ok(r)) => reply(Reply::Serving { files: r.files, bytes: r.bytes, served: r.served, notes: None }),
        Some(Err(e)) => reply(Reply::UpdateRefused(build_error(&e))),
        None => {}
    };
    while let Ok(first) = rx.recv() {
        // Edits made while the last one was being generated: only the latest
        // is generated (each carries the whole site).
        let mut batch = vec![first];
        batch.extend(rx.try_iter());
        let last_update = batch.iter().rposition(|r| matches!(r, Request::Update { .. }));
        for (i, req) in batch.into_iter().enumerate() {
            match req {
                Request::Start { site, site_path, policy, pnp, syslog, known, dhcp } => {
                    let choices = session::Choices {
                        policy: Some(policy),
                        pnp: pnp.map(crate::event::PnpConfig::new),
                        syslog,
                        dhcp: dhcp.map(|d| *d),
                        ..session::Choices::default()
                    };
                    match session.start(*site, site_path, known, &choices) {
                        Ok(s) => reply(Reply::Serving {
                            files: s.files,
                            bytes: s.bytes,
                            served: s.served,
                            notes: Some(s.notes.iter().map(|i| i.to_string()).collect()),
                        }),
                        Err(e) => reply(Reply::StartFailed(start_error(&e))),
                    }
                }
                Request::Supervisor(c) => {
                    if matches!(c, Command::Stop) {
                        session.stop();
                    } else {
                        session.supervisor().apply(c)
                    }
                }
                Request::Update { site } if Some(i) == last_update => regenerated(session.update(*site)),
                Request::Update { .. } => {}
                Request::Reported(reported) => regenerated(session.learn(reported)),
                Request::FirmwareReread => regenerated(session.reread_firmware()),
                Request::ListInterfaces => {
                    reply(Reply::Interfaces(interfaces::list().map_err(|e| e.to_string())));
                }
                Request::Fetch { url, mac, model, firmware, site } => {
                    let marks = session.supervisor().self_tests();
                    reply(Reply::Fetched(self_test(&url, mac, &model, &firmware, &site, marks)));
                }
                Request::Act { kind, site, devices, trust_addresses } => {
                    // The actions thread lives as long as this loop's sender.
                    let _ = jobs.send(ActionJob { kind, site, devices, trust_addresses });
                }
            }
        }
    }
    session.stop();
}

/// Why Start servers did nothing, in the words `gsprov serve` uses.
fn start_error(e: &session::StartError) -> String {
    match e {
        session::StartError::Build(e) => build_error(e),
        e => e.to_string(),
    }
}

/// What the technician reads when a site cannot be served or exported.
pub(crate) fn build_error(e: &BuildError) -> String {
    match e {
        BuildError::SiteHasErrors(errors) => {
            let lines: Vec<String> = errors.iter().map(|i| i.to_string()).collect();
            format!("the site has {} error(s); fix them first:\n{}", errors.len(), lines.join("\n"))
        }
        BuildError::Generate(e) => e.to_string(),
    }
}

/// Fetches as the device would, from this process's own server, marked as the
/// self-test so that it never counts as the device.
fn self_test(url: &str, mac: Mac, model: &Model, firmware: &str, site: &Site, marks: client::SelfTests) -> FetchResult {
    let opts = FetchOptions {
        user_agent: client::grandstream_user_agent(model, firmware, mac),
        credentials: site.serving.auth.clone(),
        timeout: Duration::from_secs(3),
        self_test: Some(marks),
        ..FetchOptions::default()
    };
    let outcome = client::fetch(url, &opts).map_err(|e| e.to_string()).and_then(|got| {
        let status = if got.status == 0 { "TFTP: received".to_string() } else { format!("HTTP {}", got.status) };
        let pw = (!site.provisioning.xml_password.is_empty()).then_some(site.provisioning.xml_password.as_str());
        crate::formats::decode::any(&got.bytes, pw, site.provisioning.digest)
            .map(|d| (format!("{status}, {} bytes", got.bytes.len()), d))
            .map_err(|e| e.to_string())
    });
    FetchResult { url: url.to_string(), mac, outcome }
}

/// The URL the self-test fetches a device's file from: a server this process
/// runs, at its bound address (loopback when bound to every interface). Never
/// the advertised address (P237): that may be another machine.
pub fn device_url(addrs: &[(Protocol, SocketAddr)], name: &str) -> Option<String> {
    let pick = |p: Protocol| addrs.iter().find(|(q, _)| *q == p).map(|(_, a)| *a);
    let (proto, addr) =
        [Protocol::Http, Protocol::Https, Protocol::Tftp].iter().find_map(|&p| pick(p).map(|a| (p, a)))?;
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let host = SocketAddr::new(ip, addr.port());
    Some(format!("{}://{host}/{name}", proto.scheme()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_serve_fetch_stop_through_the_control_thread() {
        let woke = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let w = woke.clone();
        let control = Control::start(Arc::new(move || {
            w.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }))
        .unwrap();
        let mut site = crate::site::demo();
        site.serving.bind = "127.0.0.1".into();
        site.serving.http_port = 0;
        site.serving.tftp = false;
        site.serving.https = false;
        control.send(Request::Start {
            site: Box::new(site.clone()),
            site_path: None,
            policy: Policy::default(),
            pnp: None,
            syslog: None,
            known: Known::default(),
            dhcp: None,
        });
        let recv = Duration::from_secs(10);
        assert!(matches!(control.replies.recv_timeout(recv).unwrap(), Reply::Serving { files: 20, .. }));
        let addr = loop {
            match control.events.recv_timeout(recv).unwrap() {
                Event::Started { protocol: Protocol::Http, addr, .. } => break addr,
                Event::Failed { error, .. } => panic!("{error}"),
                _ => {}
            }
        };
        let mac: Mac = "000b82a1b201".parse().unwrap();
        let url = device_url(&[(Protocol::Http, addr)], &format!("cfg{mac}.xml")).unwrap();
        let model: Model = "GXP2170".parse().unwrap();
        control.send(Request::Fetch { url, mac, model, firmware: "1.0.11.3".into(), site: Box::new(site) });
        let Reply::Fetched(r) = control.replies.recv_timeout(recv).unwrap() else { panic!("expected a fetch result") };
        let (status, decoded) = r.outcome.unwrap();
        assert!(status.starts_with("HTTP 200"), "{status}");
        assert!(decoded.format.starts_with("encrypted XML"), "{}", decoded.format);
        assert!(decoded.params.iter().any(|(k, v)| k == "P35" && v == "201"));
        control.send(Request::Supervisor(Command::Stop));
        loop {
            if let Event::Stopped { protocol: Protocol::Http } = control.events.recv_timeout(recv).unwrap() {
                break;
            }
        }
        drop(control);
        assert!(woke.load(std::sync::atomic::Ordering::SeqCst) >= 3);
        std::net::TcpListener::bind(addr).expect("port released after stop");
    }
}
