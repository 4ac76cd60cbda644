//! The desktop app's line to the servers: one named thread that owns the
//! [`Supervisor`] and does the work a frame must not wait for (generating the
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
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::event::{Command, Event, ServeConfig, SitePaths};
use crate::formats::decode::Decoded;
use crate::generate;
use crate::ids::{Mac, Model};
use crate::services::client::{self, FetchOptions};
use crate::services::{Hooks, Supervisor, interfaces, notify, webapi};
use crate::serving::truth::{ActionKind, ActionRecord};
use crate::serving::{Policy, Protocol, Served};
use crate::site::Site;
use crate::storage;

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
    Act { kind: ActionKind, site: Box<Site>, devices: Vec<(Mac, IpAddr)> },
    /// The firmware each device last reported (User-Agent): while serving, a
    /// device whose next firmware step changed gets its files regenerated with
    /// the new P192, as `gsprov serve` does.
    Reported(BTreeMap<Mac, String>),
}

/// The site being served and what the devices reported, so each device's
/// P192 points at its next firmware step (`serving::firmware::with_steps`).
#[derive(Default)]
struct Stepping {
    serving: Option<(Box<Site>, Option<PathBuf>)>,
    reported: BTreeMap<Mac, String>,
    /// The per-device P192 values the files being served carry.
    applied: BTreeMap<Mac, String>,
}

impl Stepping {
    /// The site to generate from: `site` with the step P192 values set.
    fn stepped(&mut self, site: &Site, site_path: Option<&Path>) -> Site {
        // An unsaved site's folder is as typed, relative to the working folder (as in `config`).
        let path = site_path.unwrap_or(Path::new("unsaved.gsprov.toml"));
        let listing = storage::site_firmware(path, &site.serving.firmware_dir);
        let view = crate::serving::firmware::view(site, &listing, &|m| self.reported.get(&m).cloned());
        self.applied = view.devices.iter().filter_map(|d| d.p192.clone().map(|p| (d.mac, p))).collect();
        crate::serving::firmware::with_steps(site, &view)
    }

    /// Whether the steps differ from those being served, after new reports.
    fn changed(&mut self) -> Option<Site> {
        let (site, path) = self.serving.clone()?;
        let before = self.applied.clone();
        let stepped = self.stepped(&site, path.as_deref());
        (self.applied != before).then_some(stepped)
    }
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
    pub events: Receiver<Event>,
    pub replies: Receiver<Reply>,
    thread: Option<JoinHandle<()>>,
    actions: Option<JoinHandle<()>>,
}

/// One queued device action.
struct ActionJob {
    kind: ActionKind,
    site: Box<Site>,
    devices: Vec<(Mac, IpAddr)>,
}

impl Control {
    pub fn start(wake: Arc<dyn Fn() + Send + Sync>) -> Result<Control, crate::event::ServiceError> {
        let (supervisor, events) = Supervisor::new(Hooks { wake: Some(wake.clone()), ..Hooks::default() })?;
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
            .spawn(move || run(supervisor, rx, reply_tx, jobs_tx, wake))
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
    for job in jobs {
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
                    devices.iter().map(|(d, ip)| notify::target(site, d, *ip, None)).collect();
                // At most MAX_TARGETS were taken above, so the bulk send is not refused.
                let _ =
                    notify::send_all(&targets, action, &notify::Timers::default(), notify::Pace::default(), &mut |r| {
                        reply(r.record(std::time::SystemTime::now()))
                    });
            }
            ActionKind::Check => {
                let targets: Vec<webapi::Target> =
                    devices.iter().map(|(d, ip)| webapi::target(site, d, *ip, None)).collect();
                webapi::check_all(&targets, Duration::from_secs(5), &mut |r| {
                    reply(r.record(std::time::SystemTime::now()))
                });
            }
        }
    }
}

fn run(
    mut sup: Supervisor,
    rx: Receiver<Request>,
    replies: Sender<Reply>,
    jobs: Sender<ActionJob>,
    wake: Arc<dyn Fn() + Send + Sync>,
) {
    let reply = |r: Reply| {
        let _ = replies.send(r);
        wake();
    };
    let mut steps = Stepping::default();
    let replace = |sup: &mut Supervisor, site: &Site| match generate::checked(site, &mut generate::os_salts()) {
        Ok(out) => {
            let (files, bytes) = (out.files.len(), out.total_bytes());
            let served = Served::new(site, &out);
            sup.apply(Command::ReplaceFiles(served.clone()));
            reply(Reply::Serving { files, bytes, served });
        }
        Err(e) => reply(Reply::UpdateRefused(build_error(&e))),
    };
    for req in rx {
        match req {
            Request::Start { site, site_path, policy, pnp, syslog } => {
                let stepped = steps.stepped(&site, site_path.as_deref());
                match config(&stepped, site_path.clone(), policy, pnp) {
                    Ok((mut cfg, files, bytes)) => {
                        cfg.syslog = syslog;
                        steps.serving = Some((site, site_path));
                        reply(Reply::Serving { files, bytes, served: cfg.served.clone() });
                        sup.apply(Command::Start(Box::new(cfg)));
                    }
                    Err(e) => reply(Reply::StartFailed(e)),
                }
            }
            Request::Supervisor(c) => {
                if matches!(c, Command::Stop) {
                    steps.serving = None;
                }
                sup.apply(c)
            }
            Request::Update { site } => {
                let path = steps.serving.as_ref().and_then(|(_, p)| p.clone());
                let stepped = steps.stepped(&site, path.as_deref());
                if let Some(serving) = &mut steps.serving {
                    serving.0 = site;
                }
                replace(&mut sup, &stepped);
            }
            Request::Reported(reported) => {
                steps.reported = reported;
                if let Some(stepped) = steps.changed() {
                    replace(&mut sup, &stepped);
                }
            }
            Request::ListInterfaces => {
                reply(Reply::Interfaces(interfaces::list().map_err(|e| e.to_string())));
            }
            Request::Fetch { url, mac, model, firmware, site } => {
                reply(Reply::Fetched(self_test(&url, mac, &model, &firmware, &site, sup.self_tests())));
            }
            Request::Act { kind, site, devices } => {
                // The actions thread lives as long as this loop's sender.
                let _ = jobs.send(ActionJob { kind, site, devices });
            }
        }
    }
    sup.stop();
}

fn config(
    site: &Site,
    site_path: Option<PathBuf>,
    policy: Policy,
    pnp: Option<std::net::Ipv4Addr>,
) -> Result<(ServeConfig, usize, usize), String> {
    let out = generate::checked(site, &mut generate::os_salts()).map_err(|e| build_error(&e))?;
    let paths = match &site_path {
        Some(p) => storage::site_paths(p, &site.serving.firmware_dir),
        // Unsaved site: firmware folder as typed, no log file, certificate in memory.
        None => SitePaths {
            firmware_dir: (!site.serving.firmware_dir.trim().is_empty())
                .then(|| PathBuf::from(site.serving.firmware_dir.trim())),
            request_log: None,
            tls_identity: None,
        },
    };
    let mut cfg = ServeConfig::from_site(site, &out, paths).map_err(|e| e.to_string())?;
    cfg.policy = policy;
    cfg.pnp = pnp.map(crate::event::PnpConfig::new);
    Ok((cfg, out.files.len(), out.total_bytes()))
}

/// What the technician reads when a site cannot be served or exported.
pub(crate) fn build_error(e: &generate::BuildError) -> String {
    match e {
        generate::BuildError::SiteHasErrors(errors) => {
            let lines: Vec<String> = errors.iter().map(|i| i.to_string()).collect();
            format!("the site has {} error(s); fix them first:\n{}", errors.len(), lines.join("\n"))
        }
        generate::BuildError::Generate(e) => e.to_string(),
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
