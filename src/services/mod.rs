//! Everything that owns a socket or a thread, behind one [`Supervisor`]: the
//! TFTP, HTTP and HTTPS servers, the SIP plug-and-play responder ([`pnp`]),
//! discovery (mDNS browsing, the neighbour table and the explicit sweep
//! ([`neighbours`]), the DHCP preflight), the bench DHCP server
//! (`bench_dhcp`, `serve --dhcp`), the syslog receiver, the
//! `gsprov fetch` client ([`client`]), the resync/reboot NOTIFY sender
//! ([`notify`]) and the device web API client ([`webapi`]). [`interfaces`]
//! lists the network interfaces.
//!
//! One file per job: this one is the supervisor (start, stop, reconfigure,
//! task tracking); `request` is what every task of a run shares and the life
//! of one request; `firmware` the firmware folder's listing cache and the
//! limit on firmware transfers; `journal` the request-log writer; `limits`
//! the open-file limit and bind errors; `cpu` where work runs.
//!
//! The supervisor owns one tokio runtime (two workers) and, once HTTP runs,
//! one single-threaded runtime per CPU (`cpu`: a kept-alive HTTP connection
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
//! pure [`crate::serving::router`]'s; the servers only move bytes.

mod bench_dhcp;
pub mod client;
mod cpu;
mod dhcp;
mod firmware;
mod http;
pub mod interfaces;
mod journal;
mod limits;
mod mdns;
pub mod neighbours;
mod nonces;
pub mod notify;
pub mod pnp;
pub mod read_device;
mod request;
mod syslog;
mod tftp;
mod tls;
pub mod webapi;

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::event::DiscoveryConfig;
pub use crate::event::{Command, Event, ServeConfig, ServiceError};
use crate::serving::discovery::{DiscoveryEvent, DiscoveryTask};
use crate::serving::{Policy, Protocol, Served};
use crate::serving::{discovery, leases, status::Status};
use crate::storage;

use firmware::{FirmwareGate, FirmwareSource};
use journal::{Journal, start_journal};
pub use limits::low_connections_note;
pub use limits::raise_open_file_limit;
pub(crate) use limits::{bind_error, connection_cap, fd_hint};
use neighbours::neighbour_poll;
pub(crate) use request::{Body, Meter, Shared, Throttle};

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
    /// Where events go instead of the channel [`Supervisor::new`] returns
    /// (which then stays empty). A front end with a bounded queue of its own
    /// passes one (the desktop app's `ui::inbox`); the sink wakes the front
    /// end itself, so `wake` is not called after an event it took.
    pub sink: Option<Sink>,
}

/// Takes each event, instead of the channel ([`Hooks::sink`]).
pub type Sink = Arc<dyn Fn(Event) + Send + Sync>;

impl Default for Hooks {
    fn default() -> Self {
        Hooks { wake: None, clock: Arc::new(SystemTime::now), progress_interval: PROGRESS_EVERY, sink: None }
    }
}

/// How long [`Supervisor::stop`] waits for tasks before giving up on them.
const STOP_BUDGET: Duration = Duration::from_millis(900);
/// Minimum time between two progress events of one transfer.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

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
/// Events travel on an unbounded std channel by default: a front end that
/// stops draining must not stall the servers, and the volume is bounded by
/// the work itself (one record per request, progress at most every
/// `progress_interval` per transfer). A front end that must bound its memory
/// under a request flood passes a [`Hooks::sink`] with a bounded queue (the
/// desktop app does: progress coalesced, drained in full while no frame is
/// drawn). The request log on disk does not depend on the front end draining.
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

impl Supervisor {
    /// The marks this supervisor's servers tag self-test requests by: give
    /// them to [`client::FetchOptions::self_test`] for a fetch that must never
    /// count as the device.
    pub fn self_tests(&self) -> client::SelfTests {
        self.self_tests.clone()
    }

    /// Connections each HTTP(S) server may hold at once, from the open-file
    /// limit in force.
    pub fn http_connections(&self) -> usize {
        connection_cap(self.open_files)
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
            events: Emitter { tx, wake: hooks.wake, sink: hooks.sink },
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
            nonces: nonces::NonceBook::default(),
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
                Protocol::Sip | Protocol::Syslog | Protocol::Dhcp => continue,
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
        if let Some(d) = &config.dhcp {
            // After the file servers: option 66 names one that runs.
            match bench_dhcp::prepare(rt, d) {
                Ok(prepared) => {
                    let restored = config.request_log.as_deref().map(storage::dhcp_leases).transpose();
                    let restored = restored.unwrap_or_else(|e| {
                        tracing::warn!("the bench DHCP server starts without the leases of the request log: {e}");
                        None
                    });
                    let setup = bench_dhcp::Setup {
                        cfg: d.clone(),
                        url: d.url.clone().or_else(|| leases::option66(d.interface.ipv4, &started)),
                        restored: restored.unwrap_or_default(),
                        table: Arc::new(neighbours::OsTable),
                    };
                    rt.spawn(bench_dhcp::serve(done_tx.clone(), prepared, shared.clone(), setup, cancel.clone()));
                }
                Err(e) => fail(&mut results, &self.events, Protocol::Dhcp, e),
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
        // What junk was counted and not yet recorded is said once, now.
        run.shared.flush_junk();
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

/// Locks, ignoring poisoning: services never panic, and a poisoned status is
/// still the best information there is.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The event channel (or the front end's sink) and the wake callback.
#[derive(Clone)]
pub(crate) struct Emitter {
    tx: mpsc::Sender<Event>,
    wake: Option<Wake>,
    sink: Option<Sink>,
}

impl Emitter {
    pub(crate) fn emit(&self, e: Event) {
        if let Some(sink) = &self.sink {
            // The sink wakes its front end when it needs to.
            sink(e);
            return;
        }
        // A front end that dropped its receiver no longer listens; serving goes on.
        let _ = self.tx.send(e);
        if let Some(w) = &self.wake {
            w();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
