//! The desktop app's line to the servers: one named thread that owns the
//! [`Supervisor`] and does the work a frame must not wait for (generating the
//! files, binding, creating the HTTPS certificate, the "fetch as this phone"
//! self-test). The UI sends [`Request`]s; supervisor [`Event`]s and [`Reply`]s
//! come back on channels, each waking the UI.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::event::{Command, Event, ServeConfig, SitePaths};
use crate::formats::decode::Decoded;
use crate::generate;
use crate::ids::{Mac, Model};
use crate::services::client::{self, FetchOptions};
use crate::services::{Hooks, Supervisor, interfaces};
use crate::serving::{Policy, Protocol, Served};
use crate::site::Site;
use crate::storage;

/// What the UI asks for.
#[derive(Debug)]
pub enum Request {
    /// Generate the site's files and start the enabled servers.
    /// `pnp`: also answer SIP plug-and-play SUBSCRIBEs on this interface address.
    Start { site: Box<Site>, site_path: Option<PathBuf>, policy: Policy, pnp: Option<std::net::Ipv4Addr> },
    /// A command the supervisor takes as is: stop, policy, discovery.
    Supervisor(Command),
    /// Regenerate after an edit and serve the new files (transfers in flight keep theirs).
    Update { site: Box<Site> },
    /// List this computer's network interfaces (answered with [`Reply::Interfaces`]).
    ListInterfaces,
    /// Fetch `url` the way device `mac` would, and decode it with the site's password.
    Fetch { url: String, mac: Mac, model: Model, firmware: String, site: Box<Site> },
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
}

impl Control {
    pub fn start(wake: Arc<dyn Fn() + Send + Sync>) -> Result<Control, crate::event::ServiceError> {
        let (supervisor, events) = Supervisor::new(Hooks { wake: Some(wake.clone()), ..Hooks::default() })?;
        let (tx, rx) = mpsc::channel::<Request>();
        let (reply_tx, replies) = mpsc::channel::<Reply>();
        let thread = std::thread::Builder::new()
            .name("gsprov-control".into())
            .spawn(move || run(supervisor, rx, reply_tx, wake))
            .map_err(|e| crate::event::ServiceError::Crashed { reason: e.to_string() })?;
        Ok(Control { tx: Some(tx), events, replies, thread: Some(thread) })
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
    }
}

fn run(mut sup: Supervisor, rx: Receiver<Request>, replies: Sender<Reply>, wake: Arc<dyn Fn() + Send + Sync>) {
    let reply = |r: Reply| {
        let _ = replies.send(r);
        wake();
    };
    for req in rx {
        match req {
            Request::Start { site, site_path, policy, pnp } => match config(&site, site_path, policy, pnp) {
                Ok((cfg, files, bytes)) => {
                    reply(Reply::Serving { files, bytes, served: cfg.served.clone() });
                    sup.apply(Command::Start(Box::new(cfg)));
                }
                Err(e) => reply(Reply::StartFailed(e)),
            },
            Request::Supervisor(c) => sup.apply(c),
            Request::Update { site } => match generate::checked(&site, &mut generate::os_salt) {
                Ok(out) => {
                    let (files, bytes) = (out.files.len(), out.total_bytes());
                    let served = Served::new(&site, &out);
                    sup.apply(Command::ReplaceFiles(served.clone()));
                    reply(Reply::Serving { files, bytes, served });
                }
                Err(e) => reply(Reply::UpdateRefused(build_error(&e))),
            },
            Request::ListInterfaces => {
                reply(Reply::Interfaces(interfaces::list().map_err(|e| e.to_string())));
            }
            Request::Fetch { url, mac, model, firmware, site } => {
                reply(Reply::Fetched(self_test(&url, mac, &model, &firmware, &site)));
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
    let out = generate::checked(site, &mut generate::os_salt).map_err(|e| build_error(&e))?;
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

fn self_test(url: &str, mac: Mac, model: &Model, firmware: &str, site: &Site) -> FetchResult {
    let opts = FetchOptions {
        user_agent: client::grandstream_user_agent(model, firmware, mac),
        credentials: site.serving.auth.clone(),
        timeout: Duration::from_secs(3),
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

/// The URL a device would use for its per-device XML, given the running servers.
pub fn device_url(addrs: &[(Protocol, SocketAddr)], advertise: Option<IpAddr>, name: &str) -> Option<String> {
    let pick = |p: Protocol| addrs.iter().find(|(q, _)| *q == p).map(|(_, a)| *a);
    let (proto, addr) =
        [Protocol::Http, Protocol::Https, Protocol::Tftp].iter().find_map(|&p| pick(p).map(|a| (p, a)))?;
    let ip = match (advertise, addr.ip()) {
        (Some(ip), _) => ip,
        (None, ip) if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        (None, ip) => ip,
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
        let url = device_url(&[(Protocol::Http, addr)], None, &format!("cfg{mac}.xml")).unwrap();
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
