//! The OS neighbour (ARP) table behind one small trait, [`NeighbourTable`]:
//! Linux reads `/proc/net/arp` (falling back to `ip neigh`), Windows runs
//! `arp -a`, macOS/BSD `arp -an`; the text is parsed by the pure
//! [`crate::formats::neigh`]. Also the explicit sweep: one small UDP datagram
//! to each address of a subnet (at most a /24, rate limited) so that the OS
//! resolves every neighbour's MAC.
//!
//! Reading the table sends nothing. The sweep sends only when the technician
//! asks for it ([`crate::event::SweepConfig`]); tests sweep only inside a
//! network namespace they create.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::event::SweepConfig;
use crate::formats::neigh::{self, Neighbour};
use crate::serving::discovery::{NetInterface, Sighting, Source};

/// Where neighbours come from (a seam for tests and other platforms).
pub trait NeighbourTable: Send + Sync {
    /// The table now. Errors say what could not be read.
    fn read(&self) -> Result<Vec<Neighbour>, String>;
}

/// The running system's table.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsTable;

impl NeighbourTable for OsTable {
    fn read(&self) -> Result<Vec<Neighbour>, String> {
        if cfg!(target_os = "linux") {
            // /proc/net/arp is the cheapest and needs no tool; `ip neigh` also has IPv6.
            match crate::storage::read_text(std::path::Path::new("/proc/net/arp")) {
                Ok(text) => Ok(neigh::parse_proc_arp(&text)),
                Err(proc_err) => run("ip", &["neigh", "show"])
                    .map(|t| neigh::parse_ip_neigh(&t))
                    .map_err(|e| format!("/proc/net/arp: {proc_err}; ip neigh: {e}")),
            }
        } else if cfg!(windows) {
            run("arp", &["-a"]).map(|t| neigh::parse_windows_arp(&t))
        } else {
            run("arp", &["-an"]).map(|t| neigh::parse_bsd_arp(&t))
        }
    }
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{program} {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Sightings for the Grandstream rows of a table read (optionally only one
/// interface's: rows name it, or its address on Windows).
pub fn sightings(rows: &[Neighbour], interface: Option<&NetInterface>, time: SystemTime) -> Vec<Sighting> {
    let on = |n: &Neighbour, i: &NetInterface| {
        n.interface.is_empty() || n.interface == i.name || n.interface == i.ipv4.to_string()
    };
    rows.iter()
        .filter(|n| n.is_grandstream() && interface.is_none_or(|i| on(n, i)))
        .map(|n| Sighting {
            time,
            source: Source::Neighbour,
            mac: Some(n.mac),
            ip: Some(n.ip),
            model: None,
            firmware: None,
            detail: format!("neighbour table: {} is {} on {}", n.ip, n.mac.colon(), n.interface),
        })
        .collect()
}

/// Why a sweep is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    #[error("{network}/{prefix} is larger than a /24 ({hosts} addresses); sweep at most 256 addresses at a time")]
    TooLarge { network: Ipv4Addr, prefix: u8, hosts: u64 },
    #[error("a sweep needs a rate of at least 1 probe per second")]
    NoRate,
}

/// The addresses a sweep probes: every host of `network/prefix` except the
/// network and broadcast addresses (for prefixes up to /30) and `own`.
pub fn targets(cfg: &SweepConfig, own: Ipv4Addr) -> Result<Vec<Ipv4Addr>, SweepError> {
    if cfg.rate == 0 {
        return Err(SweepError::NoRate);
    }
    if cfg.prefix < 24 || cfg.prefix > 32 {
        let hosts = 1u64 << (32 - u32::from(cfg.prefix.min(32)));
        return Err(SweepError::TooLarge { network: cfg.network, prefix: cfg.prefix, hosts });
    }
    let size = 1u32 << (32 - u32::from(cfg.prefix));
    let base = u32::from(cfg.network) & !(size - 1);
    let (first, last) = if size >= 4 { (base + 1, base + size - 2) } else { (base, base + size - 1) };
    Ok((first..=last).map(Ipv4Addr::from).filter(|a| *a != own).collect())
}

/// Sends one 1-byte datagram to each target, `cfg.rate` per second, from
/// `own` (the interface's address). Returns how many were sent; stops early
/// on `cancel`. Send errors (no route, ARP failure) are the point of a sweep
/// and are not reported.
pub(super) async fn sweep(cfg: SweepConfig, own: Ipv4Addr, targets: Vec<Ipv4Addr>, cancel: &CancellationToken) -> u32 {
    let socket = match tokio::net::UdpSocket::bind(SocketAddr::new(IpAddr::V4(own), 0)).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("sweep: cannot bind {own}: {e}");
            return 0;
        }
    };
    let every = Duration::from_secs(1) / cfg.rate.max(1);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent = 0;
    for t in targets {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tick.tick() => {}
        }
        let _ = socket.send_to(&[0], SocketAddr::new(IpAddr::V4(t), cfg.port)).await;
        sent += 1;
    }
    sent
}

/// Reads the neighbour table every `every` (and when `reread` is notified)
/// and reports each new Grandstream (IP, MAC) pair.
#[expect(
    clippy::too_many_arguments,
    reason = "a spawned task owns its world, each piece injected by the caller (STYLE.md rule 6)"
)]
pub(super) async fn neighbour_poll(
    done: tokio::sync::mpsc::Sender<()>,
    table: std::sync::Arc<dyn NeighbourTable>,
    iface: NetInterface,
    every: Duration,
    reread: std::sync::Arc<tokio::sync::Notify>,
    events: super::Emitter,
    clock: super::Clock,
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
                for s in sightings(&rows, Some(&iface), clock()) {
                    if seen.insert((s.ip, s.mac)) {
                        events.emit(crate::event::Event::Discovery(crate::serving::discovery::DiscoveryEvent::Seen(s)));
                    }
                }
            }
            Ok(Err(error)) if !failed => {
                failed = true;
                events.emit(crate::event::Event::Discovery(crate::serving::discovery::DiscoveryEvent::Failed {
                    task: crate::serving::discovery::DiscoveryTask::Neighbours,
                    error,
                }));
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

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Vec<Neighbour>);
    impl NeighbourTable for Fixed {
        fn read(&self) -> Result<Vec<Neighbour>, String> {
            Ok(self.0.clone())
        }
    }

    #[test]
    fn only_grandstream_rows_become_sightings() {
        let table = Fixed(vec![
            Neighbour {
                ip: "10.0.0.5".parse().unwrap(),
                mac: "000b82123456".parse().unwrap(),
                interface: "eth0".into(),
            },
            Neighbour {
                ip: "10.0.0.1".parse().unwrap(),
                mac: "aabbccddeeff".parse().unwrap(),
                interface: "eth0".into(),
            },
            Neighbour {
                ip: "10.9.0.5".parse().unwrap(),
                mac: "c074ad000001".parse().unwrap(),
                interface: "wlan0".into(),
            },
        ]);
        let rows = table.read().unwrap();
        let eth0 = NetInterface::new("eth0", "10.0.0.2".parse().unwrap(), 24);
        let s = sightings(&rows, Some(&eth0), SystemTime::UNIX_EPOCH);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].mac.unwrap().to_string(), "000b82123456");
        assert_eq!(sightings(&rows, None, SystemTime::UNIX_EPOCH).len(), 2);
    }

    #[test]
    fn sweep_targets_are_bounded() {
        let cfg = |net: &str, prefix| SweepConfig { network: net.parse().unwrap(), prefix, rate: 10, port: 9 };
        let own: Ipv4Addr = "10.0.0.2".parse().unwrap();
        let t = targets(&cfg("10.0.0.0", 24), own).unwrap();
        assert_eq!(t.len(), 253);
        assert_eq!((t[0], t[252]), ("10.0.0.1".parse().unwrap(), "10.0.0.254".parse().unwrap()));
        assert!(!t.contains(&own));
        assert_eq!(targets(&cfg("10.0.0.9", 29), own).unwrap().len(), 6);
        assert_eq!(targets(&cfg("10.0.0.0", 29), own).unwrap().len(), 5);
        assert_eq!(targets(&cfg("10.0.0.7", 32), own).unwrap(), vec!["10.0.0.7".parse::<Ipv4Addr>().unwrap()]);
        assert!(matches!(targets(&cfg("10.0.0.0", 16), own), Err(SweepError::TooLarge { hosts: 65536, .. })));
        assert_eq!(targets(&SweepConfig { rate: 0, ..cfg("10.0.0.0", 24) }, own), Err(SweepError::NoRate));
    }

    #[test]
    fn the_os_table_reads() {
        // Reading sends nothing; any machine has a table (maybe empty).
        assert!(OsTable.read().is_ok());
    }
}
