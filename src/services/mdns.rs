//! mDNS/DNS-SD browsing with the `mdns-sd` crate, on the chosen interface
//! only: its daemon runs on a thread of its own (no async runtime); one named
//! thread per browsed service type forwards resolved instances that look
//! like Grandstream units ([`crate::serving::discovery::mdns_sighting`]) as
//! [`DiscoveryEvent::Seen`]. A monitor thread reports daemon errors.
//!
//! Which service types, and why: spec §5.3/§11 found no evidence that
//! Grandstream units announce anything (the WP820 only *queries* mDNS for a
//! provisioning server, P1407), so this browses the generic types an embedded
//! web UI or SIP stack would use (`_http._tcp`, `_https._tcp`, `_sip._udp`)
//! and keeps only instances whose name, host name or TXT record names a
//! Grandstream model or MAC. It sends standard mDNS queries (to 224.0.0.251
//! on the chosen interface) and nothing else.
//!
//! Stopping: [`Browser::stop`] shuts the daemon down (which closes every
//! browse channel) and joins the threads within a bounded time.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use mdns_sd::{DaemonEvent, IfKind, ServiceDaemon, ServiceEvent};

use super::{Clock, Emitter};
use crate::event::{Event, MdnsConfig};
use crate::serving::discovery::{DiscoveryEvent, DiscoveryTask, NetInterface};
use crate::serving::discovery::{MdnsInstance, mdns_sighting};

/// How often a forwarding thread looks at the stop flag when nothing arrives.
const POLL: Duration = Duration::from_millis(100);

/// A running browse.
pub(super) struct Browser {
    daemon: ServiceDaemon,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Starts the daemon on `iface` and browses every configured type.
pub(super) fn start(cfg: &MdnsConfig, iface: &NetInterface, events: Emitter, clock: Clock) -> Result<Browser, String> {
    let daemon = ServiceDaemon::new_with_port(cfg.port).map_err(|e| format!("cannot start mDNS: {e}"))?;
    let mut browser = Browser { daemon, stop: Arc::new(AtomicBool::new(false)), threads: Vec::new() };
    // Only the chosen interface, IPv4: the LAN the technician picked.
    let selected = browser
        .daemon
        .disable_interface(IfKind::All)
        .and_then(|()| browser.daemon.enable_interface(IfKind::Addr(IpAddr::V4(iface.ipv4))));
    if let Err(e) = selected {
        browser.stop(Duration::from_millis(300));
        return Err(format!("cannot select interface {iface} for mDNS: {e}"));
    }
    match browser.daemon.monitor() {
        Ok(rx) => {
            let (events, stop) = (events.clone(), browser.stop.clone());
            let t = spawn("gsprov-mdns-monitor", move || {
                forward(&rx, &stop, |ev| {
                    if let DaemonEvent::Error(e) = ev {
                        events.emit(Event::Discovery(DiscoveryEvent::Failed {
                            task: DiscoveryTask::Mdns,
                            error: format!("mDNS: {e}"),
                        }));
                    }
                })
            });
            browser.push(t)?;
        }
        Err(e) => tracing::debug!("mDNS monitor unavailable: {e}"),
    }
    for (i, ty) in cfg.service_types.iter().enumerate() {
        let rx = match browser.daemon.browse(ty) {
            Ok(rx) => rx,
            Err(e) => {
                browser.stop(Duration::from_millis(300));
                return Err(format!("cannot browse {ty}: {e}"));
            }
        };
        let (events, stop, clock) = (events.clone(), browser.stop.clone(), clock.clone());
        let t = spawn(&format!("gsprov-mdns-{i}"), move || {
            forward(&rx, &stop, |ev| {
                if let ServiceEvent::ServiceResolved(r) = ev {
                    let inst = MdnsInstance {
                        fullname: r.fullname.clone(),
                        service_type: r.ty_domain.clone(),
                        host: r.host.clone(),
                        port: r.port,
                        addresses: r.addresses.iter().map(|a| a.to_ip_addr()).collect(),
                        txt: r.txt_properties.iter().map(|p| (p.key().to_string(), p.val_str().to_string())).collect(),
                    };
                    match mdns_sighting(&inst, clock()) {
                        Some(s) => events.emit(Event::Discovery(DiscoveryEvent::Seen(s))),
                        None => tracing::debug!("mDNS: {} is not a Grandstream unit", inst.fullname),
                    }
                }
            })
        });
        browser.push(t)?;
    }
    Ok(browser)
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, String> {
    std::thread::Builder::new().name(name.into()).spawn(f).map_err(|e| format!("cannot start an mDNS thread: {e}"))
}

/// Hands every message to `handle` until the channel closes or `stop` is set.
fn forward<T>(rx: &mdns_sd::Receiver<T>, stop: &AtomicBool, mut handle: impl FnMut(T)) {
    while !stop.load(Ordering::SeqCst) {
        match rx.recv_timeout(POLL) {
            Ok(msg) => handle(msg),
            Err(mdns_sd::RecvTimeoutError::Timeout) => {}
            Err(mdns_sd::RecvTimeoutError::Disconnected) => break,
        }
    }
}

impl Browser {
    fn push(&mut self, t: Result<JoinHandle<()>, String>) -> Result<(), String> {
        match t {
            Ok(t) => {
                self.threads.push(t);
                Ok(())
            }
            Err(e) => {
                self.stop(Duration::from_millis(300));
                Err(e)
            }
        }
    }

    /// Shuts the daemon down and joins the threads (each looks at the stop
    /// flag at least every 100 ms). Waits for the daemon at most `budget`;
    /// returns whether it confirmed.
    pub(super) fn stop(&mut self, budget: Duration) -> bool {
        self.stop.store(true, Ordering::SeqCst);
        let daemon_done = match self.daemon.shutdown() {
            Ok(rx) => rx.recv_timeout(budget).is_ok(),
            // Already shut down.
            Err(_) => true,
        };
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        daemon_done
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            self.stop(Duration::from_millis(500));
        }
    }
}
