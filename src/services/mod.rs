//! Everything that owns a socket or a thread, behind one [`Supervisor`]: the
//! TFTP, HTTP and HTTPS servers, the SIP plug-and-play responder (`pnp`),
//! discovery (mDNS browsing, the neighbour table and the explicit sweep
//! ([`neighbours`]), the DHCP preflight), the request-log writer, the
//! `gsprov fetch` client ([`client`]), and the desktop app's file worker
//! ([`files`], a plain named thread of its own: file dialogs and saves must
//! not wait on the servers). [`interfaces`] lists the network interfaces;
//! [`discovery`] folds what discovery sees into one list (pure).
//!
//! The supervisor owns one tokio runtime (two workers) and, once HTTP runs,
//! one single-threaded runtime per CPU ([`cpu`]: a kept-alive HTTP connection
//! moves to the CPU its packets arrive on); it starts and stops the
//! servers ([`Command`]), tracks every task (a cancellation token plus a
//! completion channel each task holds a sender of, as in mini-redis), and
//! reports everything as [`Event`]s on a std channel, calling an optional
//! `wake` callback after each (a GUI passes `request_repaint`; no egui here).
//! [`Supervisor::stop`] returns within a second even with transfers in flight:
//! every await point of every task is raced against the cancellation token,
//! and TFTP transfer threads (the blocking pool) look at it every 100 ms.
//!
//! Must not touch: site files and exported trees (only [`crate::storage`]
//! reads and writes files: the firmware folder, the request log and the
//! certificate go through it). Decisions about what a request gets are the
//! pure [`router`]'s; the servers only move bytes.

pub mod client;
mod cpu;
mod dhcp;
mod http;
pub mod interfaces;
mod mdns;
pub mod neighbours;
pub mod notify;
pub mod pnp;
mod syslog;
mod tftp;
mod tls;
pub mod webapi;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::event::DiscoveryConfig;
use crate::event::Transfer;
pub use crate::event::{Command, Event, ServeConfig, ServiceError};
use crate::formats::useragent::UserAgent;
use crate::serving::discovery::{DiscoveryEvent, DiscoveryTask};
use crate::serving::router::{self, Decision, Facts, FirmwareListing};
use crate::serving::{ContentKind, Outcome, RequestId, RequestRecord, Wire};
use crate::serving::{Policy, Protocol, Served};
use crate::serving::{discovery, status::Status};
use crate::storage;

/// Called after every event, from service threads (e.g. `egui::Context::request_repaint`).
pub type Wake = Arc<dyn Fn() + Send + Sync>;
/// The wall clock for request times and serving windows (tests inject a fixed one).
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// What the caller injects. Build with `Hooks { wake: Some(..), ..Hooks::default() }`.
#[derive(Clone)]
pub struct Hooks {
    /// Called after every event.
    pub wake: Option<Wake>,
    /// Request times and serving windows.
    pub clock: Clock,
    /// Minimum time between two progress events of one transfer (default 250 ms).
    pub progress_interval: Duration,
}

impl Default for Hooks {
    fn default() -> Self {
        Hooks { wake: None, clock: Arc::new(SystemTime::now), progress_interval: PROGRESS_EVERY }
    }
}

/// How long [`Supervisor::stop`] waits for tasks before giving up on them.
const STOP_BUDGET: Duration = Duration::from_millis(900);
/// How long a firmware folder listing is trusted before it is read again.
const LISTING_TTL: Duration = Duration::from_secs(2);
/// Minimum time between two progress events of one transfer.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);
/// Transfers smaller than this report no progress (config files).
const PROGRESS_MIN: u64 = 256 * 1024;
/// How long the request log writer lets lines gather before writing them.
const JOURNAL_GATHER: Duration = Duration::from_millis(5);

/// Starts, stops and reconfigures the servers; see the module docs.
///
/// How a front end uses it (the GUI passes `request_repaint` as `wake`):
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::{Duration, Instant};
/// use gsprov::event::{Command, Event, ServeConfig};
/// use gsprov::serving::{Served, Status};
/// use gsprov::services::{Hooks, Supervisor};
/// use gsprov::{generate, storage};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::path::Path::new("office.gsprov.toml");
/// let site = storage::load_site(path)?;
/// let output = generate::checked(&site, &mut generate::os_salts())?;
/// let paths = storage::site_paths(path, &site.serving.firmware_dir);
/// let config = ServeConfig::from_site(&site, &output, paths)?;
///
/// let hooks = Hooks { wake: Some(Arc::new(|| { /* ctx.request_repaint() */ })), ..Hooks::default() };
/// let (mut sup, events) = Supervisor::new(hooks)?;
/// let mut status = Status::new(&config.served);
/// sup.apply(Command::Start(Box::new(config))); // -> Event::Started / Event::Failed per server
///
/// // Every frame: drain under a time budget, never block.
/// let budget = Instant::now() + Duration::from_millis(4);
/// while Instant::now() < budget {
///     match events.try_recv() {
///         Ok(Event::Completed(record)) => status.apply(&record),
///         Ok(_other) => {}
///         Err(_) => break,
///     }
/// }
///
/// // After a site edit: new files, transfers in flight keep theirs.
/// sup.apply(Command::ReplaceFiles(Served::new(&site, &output)));
/// sup.apply(Command::Stop); // returns within 1 s; Event::Stopped per server
/// # Ok(()) }
/// ```
///
/// Events travel on an unbounded std channel on purpose: a front end that
/// stops draining (a minimised window) must not stall the servers, and the
/// volume is bounded by the work itself (one record per request, progress at
/// most every `progress_interval` per transfer). The request log on disk does
/// not depend on the front end draining.
pub struct Supervisor {
    runtime: Option<tokio::runtime::Runtime>,
    events: Emitter,
    clock: Clock,
    progress_interval: Duration,
    next_id: Arc<AtomicU64>,
    /// This process's self-test requests ([`client::SelfTests`]).
    self_tests: client::SelfTests,
    run: Option<Run>,
    discovery: Option<DiscoveryRun>,
    /// The open-file limit after [`raise_open_file_limit`].
    open_files: u64,
    /// The per-CPU runtimes HTTP(S) connections run on, started with the
    /// first HTTP server and kept (two idle threads cost nothing).
    cores: Option<cpu::Cores>,
}

/// The discovery sources running now.
struct DiscoveryRun {
    cancel: CancellationToken,
    /// Closes when every discovery task has dropped its sender.
    done: tokio::sync::mpsc::Receiver<()>,
    browser: Option<mdns::Browser>,
    started: Vec<DiscoveryTask>,
}

/// One generation of running servers.
struct Run {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    /// Closes when every task has dropped its sender.
    done: tokio::sync::mpsc::Receiver<()>,
    started: Vec<(Protocol, SocketAddr)>,
    journal: Option<Journal>,
}

struct Journal {
    thread: JoinHandle<()>,
    finished: mpsc::Receiver<()>,
}

impl Supervisor {
    /// The marks this supervisor's servers tag self-test requests by: give
    /// them to [`client::FetchOptions::self_test`] for a fetch that must never
    /// count as the device.
    pub fn self_tests(&self) -> client::SelfTests {
        self.self_tests.clone()
    }

    /// Creates the runtime (no server runs yet) and the event channel the
    /// front end drains (with `try_recv`, under a time budget).
    pub fn new(hooks: Hooks) -> Result<(Supervisor, mpsc::Receiver<Event>), ServiceError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gsprov-serve")
            .enable_all()
            .build()
            .map_err(|e| ServiceError::Crashed { reason: format!("cannot start the server runtime: {e}") })?;
        let (tx, rx) = mpsc::channel();
        let sup = Supervisor {
            runtime: Some(runtime),
            events: Emitter { tx, wake: hooks.wake },
            clock: hooks.clock,
            progress_interval: hooks.progress_interval,
            next_id: Arc::new(AtomicU64::new(1)),
            self_tests: client::SelfTests::default(),
            run: None,
            discovery: None,
            open_files: raise_open_file_limit(),
            cores: None,
        };
        Ok((sup, rx))
    }

    /// Applies one command. `Start` and `Stop` return after binding/stopping
    /// (milliseconds; `Stop` at most one second); results arrive as events.
    pub fn apply(&mut self, cmd: Command) {
        match cmd {
            Command::Start(config) => {
                self.start(*config);
            }
            Command::Stop => self.stop(),
            Command::ReplaceFiles(served) => self.replace_files(served),
            Command::SetPolicy(policy) => self.set_policy(policy),
            Command::StartDiscovery(config) => self.start_discovery(*config),
            Command::StopDiscovery => self.stop_discovery(),
        }
    }

    /// Whether any server runs.
    pub fn is_running(&self) -> bool {
        self.run.as_ref().is_some_and(|r| !r.started.is_empty())
    }

    /// The servers running now and their real addresses.
    pub fn addresses(&self) -> Vec<(Protocol, SocketAddr)> {
        self.run.as_ref().map(|r| r.started.clone()).unwrap_or_default()
    }

    /// A copy of the device status the servers keep (the same fold a front end
    /// can run over [`Event::Completed`]).
    pub fn status(&self) -> Option<Status> {
        self.run.as_ref().map(|r| lock(&r.shared.status).clone())
    }

    /// Starts every enabled server of `config`, stopping running ones first.
    /// Emits one `Started` or `Failed` per enabled server and returns the same
    /// results, in TFTP, HTTP, HTTPS, SIP (PnP responder) order. The PnP
    /// responder starts last: the URL it hands out names a running server.
    pub fn start(&mut self, config: ServeConfig) -> Vec<(Protocol, Result<SocketAddr, ServiceError>)> {
        self.stop();
        let Some(rt) = self.runtime.as_ref() else {
            return Vec::new();
        };
        let enabled: Vec<(Protocol, u16)> =
            Protocol::ALL.iter().filter_map(|&p| config.port(p).map(|port| (p, port))).collect();
        let mut results = Vec::new();
        let fail = |results: &mut Vec<_>, events: &Emitter, p: Protocol, error: ServiceError| {
            events.emit(Event::Failed { protocol: p, error: error.clone() });
            results.push((p, Err(error)));
        };

        let journal = match &config.request_log {
            None => None,
            Some(path) => match start_journal(path) {
                Ok(j) => Some(j),
                Err(error) => {
                    for (p, _) in enabled {
                        fail(&mut results, &self.events, p, error.clone());
                    }
                    return results;
                }
            },
        };
        let (journal_tx, journal) = match journal {
            Some((tx, j)) => (Some(tx), Some(j)),
            None => (None, None),
        };
        let mut secret = [0u8; 16];
        if getrandom::fill(&mut secret).is_err() {
            // Only weakens Digest nonces; a server must still start.
            secret = (self.clock)().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos().to_le_bytes();
        }
        let status = Status::new(&config.served);
        let cores = if enabled.iter().any(|(p, _)| matches!(p, Protocol::Http | Protocol::Https)) {
            self.cores.get_or_insert_with(cpu::Cores::start).handles()
        } else {
            cpu::CoreHandles::default()
        };
        let shared = Arc::new(Shared {
            served: RwLock::new(config.served.clone()),
            policy: RwLock::new(Arc::new(config.policy.clone())),
            firmware: FirmwareSource::new(
                config.firmware_dir.clone(),
                [&config.request_log, &config.tls_identity].into_iter().flatten().cloned().collect(),
            ),
            status: Mutex::new(status),
            events: self.events.clone(),
            journal: journal_tx,
            clock: self.clock.clone(),
            progress_interval: self.progress_interval,
            next_id: self.next_id.clone(),
            self_tests: self.self_tests.clone(),
            window_closed: AtomicBool::new(false),
            bind: config.bind,
            digest_secret: secret,
            junk: Throttle::new(Duration::from_secs(1)),
            nonces: http::NonceBook::default(),
            http_connections: connection_cap(self.open_files),
            firmware_slots: (config.max_firmware_transfers > 0)
                .then(|| Arc::new(FirmwareGate::new(config.max_firmware_transfers))),
            cores,
        });
        let cancel = CancellationToken::new();
        let (done_tx, done_rx) = tokio::sync::mpsc::channel::<()>(1);
        let mut started = Vec::new();

        for (protocol, port) in enabled {
            let addr = SocketAddr::new(config.bind, port);
            let outcome = match protocol {
                Protocol::Tftp => tftp::bind(rt, addr).map(|socket| {
                    let local = socket.local_addr().unwrap_or(addr);
                    let task = tftp::serve(done_tx.clone(), socket, shared.clone(), cancel.clone());
                    rt.spawn(task);
                    (local, None)
                }),
                // Not file servers: started below, after them.
                Protocol::Sip | Protocol::Syslog => continue,
                Protocol::Http | Protocol::Https => {
                    let tls = if protocol == Protocol::Https {
                        match tls::identity(config.tls_identity.as_deref(), config.bind) {
                            Ok(t) => Some(t),
                            Err(e) => {
                                fail(&mut results, &self.events, protocol, e);
                                continue;
                            }
                        }
                    } else {
                        None
                    };
                    http::bind(rt, addr).map(|listener| {
                        let local = listener.local_addr().unwrap_or(addr);
                        let info = tls.as_ref().map(|t| t.info.clone());
                        let acceptor = tls.map(|t| t.acceptor);
                        let task =
                            http::serve(done_tx.clone(), listener, protocol, acceptor, shared.clone(), cancel.clone());
                        rt.spawn(task);
                        (local, info)
                    })
                }
            };
            match outcome {
                Ok((local, certificate)) => {
                    started.push((protocol, local));
                    self.events.emit(Event::Started { protocol, addr: local, certificate });
                    results.push((protocol, Ok(local)));
                }
                Err(e) => fail(&mut results, &self.events, protocol, e),
            }
        }
        if let Some(pnp) = &config.pnp {
            let url = pnp.url.clone().or_else(|| {
                [Protocol::Http, Protocol::Https, Protocol::Tftp].iter().find_map(|p| {
                    started
                        .iter()
                        .find(|(q, _)| q == p)
                        .map(|(_, a)| discovery::provisioning_url(IpAddr::V4(pnp.interface), *p, a.port()))
                })
            });
            match pnp::bind(rt, pnp) {
                Ok(socket) => {
                    let port = socket.local_addr().map_or(pnp.port, |a| a.port());
                    let local = SocketAddr::new(IpAddr::V4(pnp.interface), port);
                    let setup = pnp::Setup {
                        answer: pnp.answer,
                        url: url.clone(),
                        t1: pnp.t1,
                        max_tries: pnp.max_tries,
                        local,
                    };
                    rt.spawn(pnp::serve(done_tx.clone(), socket, shared.clone(), setup, cancel.clone()));
                    started.push((Protocol::Sip, local));
                    self.events.emit(Event::Started { protocol: Protocol::Sip, addr: local, certificate: None });
                    let detail = match (&url, pnp.answer) {
                        (_, crate::event::PnpAnswer::Nobody) | (None, _) => format!(
                            "listening for plug-and-play SUBSCRIBEs to {}:{port} on {} (not answering{})",
                            pnp.group,
                            pnp.interface,
                            if url.is_none() { ": no file server runs" } else { "" }
                        ),
                        (Some(u), answer) => format!(
                            "answering plug-and-play SUBSCRIBEs to {}:{port} on {} with {u} ({})",
                            pnp.group,
                            pnp.interface,
                            if answer == crate::event::PnpAnswer::KnownOnly {
                                "known MACs only"
                            } else {
                                "every Grandstream unit"
                            }
                        ),
                    };
                    self.events.emit(Event::Discovery(DiscoveryEvent::Started { task: DiscoveryTask::Pnp, detail }));
                    results.push((Protocol::Sip, Ok(local)));
                }
                Err(e) => fail(&mut results, &self.events, Protocol::Sip, e),
            }
        }
        if let Some(port) = config.syslog {
            let addr = SocketAddr::new(config.bind, port);
            match syslog::bind(rt, addr) {
                Ok(socket) => {
                    let local = socket.local_addr().unwrap_or(addr);
                    rt.spawn(syslog::serve(done_tx.clone(), socket, shared.clone(), cancel.clone()));
                    started.push((Protocol::Syslog, local));
                    self.events.emit(Event::Started { protocol: Protocol::Syslog, addr: local, certificate: None });
                    results.push((Protocol::Syslog, Ok(local)));
                }
                Err(e) => fail(&mut results, &self.events, Protocol::Syslog, e),
            }
        }
        drop(done_tx);
        self.run = Some(Run { shared, cancel, done: done_rx, started, journal });
        results
    }

    /// Starts the discovery sources of `config` (stopping running ones
    /// first): each emits `Started` or `Failed`, then what it sees, as
    /// [`Event::Discovery`]. The servers are not touched.
    pub fn start_discovery(&mut self, config: DiscoveryConfig) {
        self.stop_discovery();
        let Some(rt) = self.runtime.as_ref() else {
            return;
        };
        let emit = |events: &Emitter, e: DiscoveryEvent| events.emit(Event::Discovery(e));
        let iface = config.interface.clone();
        let cancel = CancellationToken::new();
        let (done_tx, done_rx) = tokio::sync::mpsc::channel::<()>(1);
        let mut started = Vec::new();

        let mut browser = None;
        if let Some(m) = &config.mdns {
            match mdns::start(m, &iface, self.events.clone(), self.clock.clone()) {
                Ok(b) => {
                    browser = Some(b);
                    started.push(DiscoveryTask::Mdns);
                    let detail = format!("browsing {} on {iface} (UDP {})", m.service_types.join(" "), m.port);
                    emit(&self.events, DiscoveryEvent::Started { task: DiscoveryTask::Mdns, detail });
                }
                Err(error) => emit(&self.events, DiscoveryEvent::Failed { task: DiscoveryTask::Mdns, error }),
            }
        }

        let reread = Arc::new(tokio::sync::Notify::new());
        if let Some(every) = config.neighbours {
            let table: Arc<dyn neighbours::NeighbourTable> = Arc::new(neighbours::OsTable);
            let task = neighbour_poll(
                done_tx.clone(),
                table,
                iface.clone(),
                every,
                reread.clone(),
                self.events.clone(),
                self.clock.clone(),
                cancel.clone(),
            );
            rt.spawn(task);
            started.push(DiscoveryTask::Neighbours);
            let detail = format!(
                "reading the neighbour table every {} s for Grandstream MACs (00:0B:82, C0:74:AD, EC:74:D7) on {}",
                every.as_secs_f32(),
                iface.name
            );
            emit(&self.events, DiscoveryEvent::Started { task: DiscoveryTask::Neighbours, detail });
        }

        if let Some(sweep) = config.sweep {
            match neighbours::targets(&sweep, iface.ipv4) {
                Ok(targets) => {
                    let detail = format!(
                        "probing {} addresses of {}/{} from {} (UDP port {}, {} per second)",
                        targets.len(),
                        sweep.network,
                        sweep.prefix,
                        iface.ipv4,
                        sweep.port,
                        sweep.rate
                    );
                    emit(&self.events, DiscoveryEvent::Started { task: DiscoveryTask::Sweep, detail });
                    started.push(DiscoveryTask::Sweep);
                    let (events, cancel, done, reread, own) =
                        (self.events.clone(), cancel.clone(), done_tx.clone(), reread.clone(), iface.ipv4);
                    rt.spawn(async move {
                        let _done = done;
                        let probed = neighbours::sweep(sweep, own, targets, &cancel).await;
                        emit(&events, DiscoveryEvent::SweepFinished { probed });
                        // Let the last ARP replies arrive, then read the table at once.
                        tokio::select! {
                            _ = cancel.cancelled() => {}
                            _ = tokio::time::sleep(Duration::from_secs(1)) => reread.notify_one(),
                        }
                    });
                }
                Err(e) => {
                    emit(&self.events, DiscoveryEvent::Failed { task: DiscoveryTask::Sweep, error: e.to_string() })
                }
            }
        }

        if let Some(d) = config.dhcp {
            started.push(DiscoveryTask::Dhcp);
            let detail = format!("one DHCPDISCOVER on {}, answers awaited {} s", iface.name, d.timeout.as_secs_f32());
            emit(&self.events, DiscoveryEvent::Started { task: DiscoveryTask::Dhcp, detail });
            let (events, cancel, done, iface, url) =
                (self.events.clone(), cancel.clone(), done_tx.clone(), iface.clone(), config.url.clone());
            rt.spawn(async move {
                let _done = done;
                match dhcp::preflight(&iface, d, dhcp::xid(), url, &cancel).await {
                    Ok(report) => emit(&events, DiscoveryEvent::Dhcp(report)),
                    Err(error) => emit(&events, DiscoveryEvent::Failed { task: DiscoveryTask::Dhcp, error }),
                }
            });
        }
        drop(done_tx);
        self.discovery = Some(DiscoveryRun { cancel, done: done_rx, browser, started });
    }

    /// Stops every discovery source; returns within a second.
    pub fn stop_discovery(&mut self) {
        let Some(mut run) = self.discovery.take() else {
            return;
        };
        run.cancel.cancel();
        if let Some(b) = run.browser.as_mut()
            && !b.stop(Duration::from_millis(300))
        {
            tracing::warn!("the mDNS daemon did not confirm its shutdown in time");
        }
        if let Some(rt) = &self.runtime {
            let done = &mut run.done;
            let budget = Duration::from_millis(500);
            if !rt.block_on(async { tokio::time::timeout(budget, done.recv()).await.is_ok() }) {
                tracing::warn!("some discovery tasks did not end within {budget:?}; they are abandoned");
            }
        }
        for task in run.started {
            self.events.emit(Event::Discovery(DiscoveryEvent::Stopped { task }));
        }
    }

    /// Whether discovery runs.
    pub fn is_discovering(&self) -> bool {
        self.discovery.is_some()
    }

    /// Stops every server. Transfers in flight are cut (each still gets its
    /// record). Returns within one second; the ports can be bound again after.
    /// Call it from outside async code (it waits on the runtime).
    pub fn stop(&mut self) {
        let Some(mut run) = self.run.take() else {
            return;
        };
        let began = Instant::now();
        run.cancel.cancel();
        if let Some(rt) = &self.runtime {
            let done = &mut run.done;
            let finished = rt.block_on(async { tokio::time::timeout(STOP_BUDGET, done.recv()).await.is_ok() });
            if !finished {
                tracing::warn!("some server tasks did not end within {STOP_BUDGET:?}; they are abandoned");
            }
        }
        // The journal ends when the last holder of `shared` lets go.
        drop(run.shared);
        if let Some(j) = run.journal {
            let left = (STOP_BUDGET + Duration::from_millis(80)).saturating_sub(began.elapsed());
            if j.finished.recv_timeout(left).is_ok() {
                let _ = j.thread.join();
            } else {
                tracing::warn!("the request log writer did not finish in time");
            }
        }
        for (protocol, _) in run.started {
            self.events.emit(Event::Stopped { protocol });
        }
    }

    /// Serves `served` from now on; transfers in flight keep their bytes.
    pub fn replace_files(&mut self, served: Served) {
        let files = served.len();
        if let Some(run) = &self.run {
            lock(&run.shared.status).set_known(&served);
            *run.shared.served.write().unwrap_or_else(PoisonError::into_inner) = served;
            run.shared.window_closed.store(false, Ordering::SeqCst);
        }
        self.events.emit(Event::FilesReplaced { files });
    }

    /// Replaces known-MACs-only, the serving window and HTTP authentication.
    pub fn set_policy(&mut self, policy: Policy) {
        if let Some(run) = &self.run {
            *run.shared.policy.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(policy);
            run.shared.window_closed.store(false, Ordering::SeqCst);
        }
        self.events.emit(Event::PolicyChanged);
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_discovery();
        self.stop();
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_millis(200));
        }
    }
}

/// Reads the neighbour table every `every` (and when `reread` is notified)
/// and reports each new Grandstream (IP, MAC) pair.
#[expect(
    clippy::too_many_arguments,
    reason = "a spawned task owns its world, each piece injected by the caller (STYLE.md rule 6)"
)]
async fn neighbour_poll(
    done: tokio::sync::mpsc::Sender<()>,
    table: Arc<dyn neighbours::NeighbourTable>,
    iface: crate::serving::discovery::NetInterface,
    every: Duration,
    reread: Arc<tokio::sync::Notify>,
    events: Emitter,
    clock: Clock,
    cancel: CancellationToken,
) {
    let _done = done;
    let mut seen = std::collections::HashSet::new();
    let mut failed = false;
    loop {
        let t = table.clone();
        let read = tokio::select! {
            _ = cancel.cancelled() => break,
            r = tokio::task::spawn_blocking(move || t.read()) => r,
        };
        match read {
            Ok(Ok(rows)) => {
                failed = false;
                for s in neighbours::sightings(&rows, Some(&iface), clock()) {
                    if seen.insert((s.ip, s.mac)) {
                        events.emit(Event::Discovery(DiscoveryEvent::Seen(s)));
                    }
                }
            }
            Ok(Err(error)) if !failed => {
                failed = true;
                events.emit(Event::Discovery(DiscoveryEvent::Failed { task: DiscoveryTask::Neighbours, error }));
            }
            Ok(Err(_)) => {}
            Err(e) => tracing::warn!("neighbour table reader: {e}"),
        }
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(every) => {}
            _ = reread.notified() => {}
        }
    }
}

fn start_journal(path: &std::path::Path) -> Result<(mpsc::Sender<String>, Journal), ServiceError> {
    let log_err =
        |e: storage::StorageError| ServiceError::RequestLog { path: path.display().to_string(), reason: e.to_string() };
    let mut log = storage::AppendLog::open(path).map_err(log_err)?;
    let (tx, rx) = mpsc::channel::<String>();
    let (fin_tx, fin_rx) = mpsc::channel();
    let shown = path.display().to_string();
    let thread = std::thread::Builder::new()
        .name("gsprov-journal".into())
        .spawn(move || {
            let mut failed = false;
            let mut write = |log: &mut storage::AppendLog, line: &str| match log.append(line) {
                Ok(true) => tracing::warn!(
                    "request log {shown} reached {} MB: the older half is now {} (the one before it was dropped)",
                    storage::MAX_LOG_BYTES / (1024 * 1024),
                    storage::AppendLog::rotated_path(std::path::Path::new(&shown)).display()
                ),
                Ok(false) => {}
                Err(e) if !failed => {
                    failed = true;
                    tracing::error!("request log {shown}: {e}");
                }
                Err(_) => {}
            };
            while let Ok(line) = rx.recv() {
                write(&mut log, &line);
                // Let a burst gather, then write it at once. While this thread
                // sleeps instead of waiting in `recv`, a sender does not have
                // to wake it: under load that wake was a syscall per request.
                #[expect(
                    clippy::disallowed_methods,
                    reason = "not synchronisation: a pause that lets a burst of lines gather (see above)"
                )]
                std::thread::sleep(JOURNAL_GATHER);
                while let Ok(line) = rx.try_recv() {
                    write(&mut log, &line);
                }
                let _ = log.flush();
            }
            let _ = log.flush();
            let _ = fin_tx.send(());
        })
        .map_err(|e| ServiceError::Crashed { reason: format!("cannot start the request log writer: {e}") })?;
    Ok((tx, Journal { thread, finished: fin_rx }))
}

/// Locks, ignoring poisoning: services never panic, and a poisoned status is
/// still the best information there is.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The event channel and the wake callback.
#[derive(Clone)]
pub(crate) struct Emitter {
    tx: mpsc::Sender<Event>,
    wake: Option<Wake>,
}

impl Emitter {
    pub(crate) fn emit(&self, e: Event) {
        // A front end that dropped its receiver no longer listens; serving goes on.
        let _ = self.tx.send(e);
        if let Some(w) = &self.wake {
            w();
        }
    }
}

/// The firmware folder, listed at most every [`LISTING_TTL`].
struct FirmwareSource {
    dir: Option<PathBuf>,
    /// Files gsprov writes that must never be served, wherever they are.
    exclude: Vec<PathBuf>,
    cache: Mutex<Option<(Instant, Arc<FirmwareListing>)>>,
}

impl FirmwareSource {
    fn new(dir: Option<PathBuf>, exclude: Vec<PathBuf>) -> Self {
        FirmwareSource { dir, exclude, cache: Mutex::new(None) }
    }

    fn listing(&self) -> Arc<FirmwareListing> {
        let mut cache = lock(&self.cache);
        if let Some((at, l)) = cache.as_ref()
            && at.elapsed() < LISTING_TTL
        {
            return l.clone();
        }
        let listing = Arc::new(match &self.dir {
            None => FirmwareListing::default(),
            Some(d) => {
                let shown = Some(d.display().to_string());
                match storage::list_firmware(d, &self.exclude) {
                    Ok(files) => FirmwareListing::new(shown, files, None),
                    Err(e) => FirmwareListing::new(shown, Vec::new(), Some(e.to_string())),
                }
            }
        });
        *cache = Some((Instant::now(), listing.clone()));
        listing
    }

    fn open(&self, name: &str) -> Result<std::fs::File, storage::StorageError> {
        let dir = self.dir.as_deref().unwrap_or(std::path::Path::new("."));
        storage::open_firmware(dir, name)
    }
}

/// What every task of one run shares.
pub(crate) struct Shared {
    served: RwLock<Served>,
    policy: RwLock<Arc<Policy>>,
    firmware: FirmwareSource,
    status: Mutex<Status>,
    events: Emitter,
    journal: Option<mpsc::Sender<String>>,
    clock: Clock,
    progress_interval: Duration,
    next_id: Arc<AtomicU64>,
    self_tests: client::SelfTests,
    window_closed: AtomicBool,
    pub(crate) bind: IpAddr,
    pub(crate) digest_secret: [u8; 16],
    /// Junk and busy refusals, recorded at most once a second per address.
    pub(crate) junk: Throttle,
    /// Digest nonce counts seen (replay protection).
    pub(crate) nonces: http::NonceBook,
    /// Connections one HTTP(S) listener serves at once.
    pub(crate) http_connections: usize,
    /// Firmware transfers at once, both protocols; `None`: no limit.
    firmware_slots: Option<Arc<FirmwareGate>>,
    /// Where HTTP(S) connections run ([`cpu::Cores`]).
    pub(crate) cores: cpu::CoreHandles,
}

/// Firmware transfers at once (`[firmware] max_transfers`), TFTP and HTTP(S)
/// together. The next ones wait (they are not refused). One address holds at
/// most `limit - limit / 4` of them (at least one), so a host with stalled or
/// abandoned transfers cannot take every slot from the devices that come
/// next, as the TFTP server keeps a reserve for new addresses.
pub(crate) struct FirmwareGate {
    limit: usize,
    per_address: usize,
    held: Mutex<(usize, HashMap<IpAddr, usize>)>,
    freed: tokio::sync::Notify,
}

impl FirmwareGate {
    pub(crate) fn new(limit: usize) -> FirmwareGate {
        FirmwareGate {
            limit,
            per_address: (limit - limit / 4).max(1),
            held: Mutex::default(),
            freed: tokio::sync::Notify::new(),
        }
    }

    fn try_take(&self, ip: IpAddr) -> bool {
        let mut g = lock(&self.held);
        let (total, per) = &mut *g;
        let mine = per.get(&ip).copied().unwrap_or(0);
        if *total >= self.limit || mine >= self.per_address {
            return false;
        }
        *total += 1;
        *per.entry(ip).or_insert(0) += 1;
        true
    }

    /// Waits for a slot for `ip`; `None` when `cancel` fires first.
    async fn take(self: &Arc<Self>, ip: IpAddr, cancel: &CancellationToken) -> Option<FirmwareSlot> {
        let started = Instant::now();
        let mut waited = false;
        loop {
            // Registered before the check, so a slot freed in between still wakes this task.
            let notified = self.freed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.try_take(ip) {
                let waited = waited.then(|| (started.elapsed(), self.limit));
                return Some(FirmwareSlot { gate: Some((self.clone(), ip)), waited });
            }
            waited = true;
            tokio::select! {
                _ = cancel.cancelled() => return None,
                _ = &mut notified => {}
            }
        }
    }
}

/// A firmware transfer slot, held for the transfer (released on drop).
pub(crate) struct FirmwareSlot {
    gate: Option<(Arc<FirmwareGate>, IpAddr)>,
    /// How long the transfer waited for it, and the limit, when it waited.
    pub(crate) waited: Option<(Duration, usize)>,
}

impl FirmwareSlot {
    /// For the record's explanation: `; waited 1.2 s for a firmware transfer slot (...)`.
    pub(crate) fn note(&self) -> String {
        match self.waited {
            Some((d, limit)) => format!(
                "; waited {:.1} s for a firmware transfer slot ([firmware] max_transfers = {limit} at once)",
                d.as_secs_f64()
            ),
            None => String::new(),
        }
    }
}

impl Drop for FirmwareSlot {
    fn drop(&mut self) {
        let Some((gate, ip)) = self.gate.take() else { return };
        {
            let mut g = lock(&gate.held);
            let (total, per) = &mut *g;
            *total = total.saturating_sub(1);
            if let Some(n) = per.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per.remove(&ip);
                }
            }
        }
        gate.freed.notify_waiters();
    }
}

impl Shared {
    pub(crate) fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// Whether the site lists this MAC.
    pub(crate) fn is_known(&self, mac: crate::ids::Mac) -> bool {
        self.served.read().unwrap_or_else(PoisonError::into_inner).device(mac).is_some()
    }

    pub(crate) fn policy(&self) -> Arc<Policy> {
        self.policy.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Asks the router.
    pub(crate) fn decide(
        &self,
        protocol: Protocol,
        target: &str,
        client: SocketAddr,
        ua: &UserAgent,
        now: SystemTime,
    ) -> Decision {
        let served = self.served.read().unwrap_or_else(PoisonError::into_inner).clone();
        let policy = self.policy();
        let listing = self.firmware.listing();
        let (ip_mac, ip_firmware, all_configured) = {
            let st = lock(&self.status);
            let mac = st.mac_for_ip(client.ip());
            let fw = mac.and_then(|m| st.device(m)).and_then(|d| d.firmware.clone());
            (mac, fw, st.all_configured())
        };
        let req = router::Request {
            protocol,
            target,
            client,
            user_agent: ua,
            ip_mac,
            ip_firmware: ip_firmware.as_deref(),
            now,
        };
        router::route(&req, &served, &listing, &policy, Facts { all_configured })
    }

    pub(crate) fn open_firmware(&self, name: &str) -> Result<std::fs::File, storage::StorageError> {
        self.firmware.open(name)
    }

    /// Waits for a firmware transfer slot (`[firmware] max_transfers`); `None`
    /// when the servers are stopped first. Waiting, not refusing: fifty phones
    /// booting at once are served a few at a time instead of all stalling.
    pub(crate) async fn firmware_slot(&self, ip: IpAddr, cancel: &CancellationToken) -> Option<FirmwareSlot> {
        match &self.firmware_slots {
            None => Some(FirmwareSlot { gate: None, waited: None }),
            Some(gate) => gate.take(ip, cancel).await,
        }
    }

    /// Starts a record for a request that just arrived.
    pub(crate) fn begin(&self, protocol: Protocol, client: SocketAddr, method: &str, path: &str) -> Pending {
        Pending {
            started: Instant::now(),
            record: RequestRecord {
                self_test: self.self_tests.contains(client),
                ..RequestRecord::new(
                    self.next_id.fetch_add(1, Ordering::Relaxed),
                    self.now(),
                    client,
                    protocol,
                    method,
                    &crate::formats::http::mask_target(path),
                )
            },
        }
    }

    pub(crate) fn emit(&self, e: Event) {
        self.events.emit(e);
    }

    /// Ends a request that sent no body (or was cut): how it ended, what went
    /// back on the wire, and why (`None` keeps the router's explanation).
    pub(crate) fn finish(&self, mut p: Pending, outcome: Outcome, wire: Wire, why: Option<String>) {
        p.record.outcome = outcome;
        p.record.status = wire;
        if let Some(why) = why {
            p.record.explanation = why;
        }
        self.complete(p);
    }

    /// The MAC this address last made a request as.
    pub(crate) fn mac_for_ip(&self, ip: IpAddr) -> Option<crate::ids::Mac> {
        lock(&self.status).mac_for_ip(ip)
    }

    /// Ends a record that is not a request (a syslog line): request log and
    /// event, but no status fold and no serving window.
    pub(crate) fn note(&self, mut p: Pending) {
        p.record.duration = p.started.elapsed();
        if let Some(j) = &self.journal {
            let _ = j.send(p.record.to_json());
        }
        self.events.emit(Event::Completed(p.record));
    }

    /// Ends a request: status fold, request log, event, serving window.
    pub(crate) fn complete(&self, mut p: Pending) {
        p.record.duration = p.started.elapsed();
        let rec = p.record;
        let all_configured = {
            let mut st = lock(&self.status);
            st.apply(&rec);
            st.all_configured()
        };
        if let Some(j) = &self.journal {
            let _ = j.send(rec.to_json());
        }
        self.events.emit(Event::Completed(rec));
        if all_configured
            && self.policy().window.until_all_configured
            && !self.window_closed.swap(true, Ordering::SeqCst)
        {
            self.events.emit(Event::WindowClosed {
                reason: "every known device has fetched its config; further requests are refused".into(),
            });
        }
    }
}

/// How many sources a [`Throttle`] remembers: a flood of spoofed addresses
/// cannot grow memory.
const THROTTLE_SOURCES: usize = 4096;

/// An address and the kind of junk it sent (`"tftp-malformed"`, ...).
type JunkKey = (IpAddr, &'static str);

/// Repeated junk from one address (malformed packets, requests refused as
/// busy): the first in each period is recorded, the rest only counted and
/// named in the next record. Keeps one host from filling the request log.
pub(crate) struct Throttle {
    every: Duration,
    /// (address, kind of junk) -> (last recorded, counted since).
    seen: Mutex<std::collections::HashMap<JunkKey, (Instant, u64)>>,
}

impl Throttle {
    pub(crate) fn new(every: Duration) -> Self {
        Throttle { every, seen: Mutex::default() }
    }

    /// `Some(n)`: record this one (`n` of the same kind were not recorded
    /// since the last record from this address); `None`: count it only.
    pub(crate) fn admit(&self, ip: IpAddr, kind: &'static str) -> Option<u64> {
        let now = Instant::now();
        let mut seen = lock(&self.seen);
        if let Some((at, dropped)) = seen.get_mut(&(ip, kind)) {
            if now.duration_since(*at) < self.every {
                *dropped += 1;
                return None;
            }
            let n = std::mem::take(dropped);
            *at = now;
            return Some(n);
        }
        if seen.len() >= THROTTLE_SOURCES {
            let every = self.every;
            seen.retain(|_, (at, _)| now.duration_since(*at) < every);
            if seen.len() >= THROTTLE_SOURCES {
                tracing::warn!(
                    "more than {THROTTLE_SOURCES} addresses sent junk within {every:?}; their counts were reset"
                );
                seen.clear();
            }
        }
        seen.insert((ip, kind), (now, 0));
        Some(0)
    }

    /// The note a record carries about what was not recorded.
    pub(crate) fn note(dropped: u64) -> String {
        if dropped == 0 {
            String::new()
        } else {
            format!(" ({dropped} more like it from this address since the last record were counted, not recorded)")
        }
    }
}

/// A request in progress, becoming its [`RequestRecord`].
pub(crate) struct Pending {
    started: Instant,
    pub(crate) record: RequestRecord,
}

impl Pending {
    pub(crate) fn id(&self) -> RequestId {
        self.record.id
    }

    pub(crate) fn set_user_agent(&mut self, raw: Option<&str>, ua: &UserAgent) {
        self.record.user_agent = raw.map(str::to_string);
        self.record.model = ua.model.clone();
        self.record.firmware = ua.firmware.clone();
    }

    pub(crate) fn set_decision(&mut self, d: &Decision) {
        self.record.mac = d.mac;
        self.record.kind = d.kind;
        self.record.explanation = d.explanation.clone();
        if let router::Verdict::Serve(src) = &d.verdict {
            self.record.file = Some(src.name().to_string());
            self.record.size = Some(src.size());
        }
    }

    /// Announces the transfer to the front ends ([`Event::Received`]) when they
    /// show it live ([`shown_live`]).
    pub(crate) fn announce(&self, shared: &Shared, name: &str, kind: ContentKind, size: Option<u64>) {
        if shown_live(Some(kind), size) {
            shared.emit(Event::Received(self.transfer(name, kind, size)));
        }
    }

    pub(crate) fn transfer(&self, name: &str, kind: ContentKind, size: Option<u64>) -> Transfer {
        Transfer {
            id: self.record.id,
            protocol: self.record.protocol,
            client: self.record.client,
            name: name.to_string(),
            kind,
            size,
            mac: self.record.mac,
        }
    }
}

/// Whether the front ends show a transfer while it runs ([`Event::Received`],
/// then [`Event::Progress`]): firmware, and any file of [`PROGRESS_MIN`] or
/// more. A config file is sent in one write within a millisecond; its
/// [`Event::Completed`] is all there is to show, and two events per request
/// cost a busy HTTP server about 2% of its CPU.
pub(crate) fn shown_live(kind: Option<ContentKind>, size: Option<u64>) -> bool {
    kind == Some(ContentKind::Firmware) || size.is_some_and(|t| t >= PROGRESS_MIN)
}

/// Throttled progress events for one transfer.
pub(crate) struct Meter<'a> {
    shared: &'a Shared,
    id: RequestId,
    total: Option<u64>,
    last: Instant,
    enabled: bool,
}

impl<'a> Meter<'a> {
    pub(crate) fn new(shared: &'a Shared, id: RequestId, kind: Option<ContentKind>, total: Option<u64>) -> Self {
        Meter { shared, id, total, last: Instant::now(), enabled: shown_live(kind, total) }
    }

    pub(crate) fn update(&mut self, sent: u64) {
        if self.enabled && self.last.elapsed() >= self.shared.progress_interval {
            self.last = Instant::now();
            self.shared.emit(Event::Progress { id: self.id, sent, total: self.total });
        }
    }
}

/// File descriptors kept for everything but HTTP: each TFTP transfer slot
/// (a socket and a firmware file), the listeners, the request log, the runtime.
const FD_RESERVE: u64 = 2 * 384 + 128;

/// Connections one HTTP(S) listener may hold, from the open-file limit: each
/// uses up to two descriptors (socket and firmware file), HTTP and HTTPS share
/// what is left after [`FD_RESERVE`]. At least 16, at most 4096.
pub(crate) fn connection_cap(open_files: u64) -> usize {
    (open_files.saturating_sub(FD_RESERVE) / 4).clamp(16, http::MAX_CONNECTIONS as u64) as usize
}

/// Raises the soft open-file limit to the hard limit (a process starts with
/// 1024 on most Linux systems; every connection and transfer needs one or
/// two). Returns the limit in force afterwards (`u64::MAX`: unknown).
#[expect(unsafe_code, reason = "getrlimit/setrlimit have no safe wrapper in std; the block only passes a local struct")]
pub fn raise_open_file_limit() -> u64 {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return 1024;
            }
            if lim.rlim_cur < lim.rlim_max {
                let old = lim.rlim_cur;
                lim.rlim_cur = lim.rlim_max;
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    lim.rlim_cur = old;
                }
            }
        }
        // rlim_t is u64 on Linux and macOS; the conversion is for the others.
        #[cfg_attr(
            any(target_os = "linux", target_os = "macos"),
            expect(clippy::useless_conversion, reason = "rlim_t is u64 here, not on every unix")
        )]
        u64::from(lim.rlim_cur)
    }
    #[cfg(not(unix))]
    {
        u64::MAX
    }
}

/// What to add to an error that is the open-file limit (EMFILE/ENFILE), so
/// it is not taken for a missing file.
pub(crate) fn fd_hint(error: &str) -> &'static str {
    if error.contains("os error 24") || error.contains("os error 23") || error.contains("Too many open files") {
        " (this is gsprov's open-file limit, not a missing file: too many connections at once; raise the limit \
         with `ulimit -n` before starting gsprov)"
    } else {
        ""
    }
}

/// Maps a bind error to what a technician can do about it.
pub(crate) fn bind_error(addr: SocketAddr, e: &std::io::Error) -> ServiceError {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied if addr.port() < 1024 => {
            ServiceError::PrivilegedPort { port: addr.port() }
        }
        std::io::ErrorKind::AddrInUse => ServiceError::PortInUse { port: addr.port() },
        std::io::ErrorKind::AddrNotAvailable => ServiceError::AddressNotAvailable { ip: addr.ip() },
        _ => ServiceError::Bind { addr, reason: e.to_string() },
    }
}

/// The bytes of a served file: shared memory, or a firmware file read in chunks.
pub(crate) enum Body {
    Memory { bytes: Arc<[u8]>, pos: usize },
    File(tokio::io::BufReader<tokio::fs::File>),
}

impl Body {
    /// Opens what the router chose.
    pub(crate) fn open(shared: &Shared, src: &router::Source) -> Result<Body, storage::StorageError> {
        Ok(match src {
            router::Source::Generated(f) => Body::Memory { bytes: f.bytes.clone(), pos: 0 },
            router::Source::Firmware(f) => {
                let file = shared.open_firmware(&f.name)?;
                Body::File(tokio::io::BufReader::with_capacity(64 * 1024, tokio::fs::File::from_std(file)))
            }
        })
    }

    /// Skips the first `n` bytes (HTTP ranges).
    pub(crate) async fn skip(&mut self, n: u64) -> std::io::Result<()> {
        use tokio::io::AsyncSeekExt;
        match self {
            Body::Memory { pos, .. } => *pos = n as usize,
            Body::File(f) => {
                f.seek(std::io::SeekFrom::Start(n)).await?;
            }
        }
        Ok(())
    }

    /// Appends up to `n` bytes to `out`; fewer only at the end of the file.
    pub(crate) async fn read_into(&mut self, out: &mut Vec<u8>, n: usize) -> std::io::Result<usize> {
        use tokio::io::AsyncReadExt;
        match self {
            Body::Memory { bytes, pos } => {
                let end = (*pos + n).min(bytes.len());
                let start = (*pos).min(end);
                out.extend_from_slice(&bytes[start..end]);
                *pos = end;
                Ok(end - start)
            }
            Body::File(f) => {
                let before = out.len();
                out.reserve(n);
                let mut limited = f.take(n as u64);
                loop {
                    let got = limited.read_buf(out).await?;
                    if got == 0 || out.len() - before >= n {
                        break;
                    }
                }
                Ok(out.len() - before)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_errors_say_what_to_do() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let e = |k| std::io::Error::from(k);
        use std::io::ErrorKind::*;
        let priv_port = bind_error(a("0.0.0.0:69"), &e(PermissionDenied)).to_string();
        assert_eq!(
            priv_port,
            "port 69 needs root/CAP_NET_BIND_SERVICE: run with sudo, use setcap (see README), or choose another port"
        );
        assert_eq!(
            bind_error(a("0.0.0.0:8080"), &e(AddrInUse)).to_string(),
            "port 8080 is already in use by another program: stop that program or choose another port"
        );
        assert!(matches!(bind_error(a("10.9.9.9:80"), &e(AddrNotAvailable)), ServiceError::AddressNotAvailable { .. }));
        assert!(matches!(bind_error(a("0.0.0.0:8080"), &e(PermissionDenied)), ServiceError::Bind { .. }));
    }

    #[test]
    fn supervisor_without_servers_starts_and_stops() {
        let (mut sup, events) = Supervisor::new(Hooks::default()).unwrap();
        assert!(!sup.is_running());
        sup.stop();
        sup.apply(Command::SetPolicy(Policy::default()));
        assert!(matches!(events.try_recv(), Ok(Event::PolicyChanged)));
        drop(sup);
        assert!(events.try_recv().is_err());
    }
}
