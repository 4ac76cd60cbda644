//! `gsprov discover`: the merged list of devices on a LAN.

use serde_json::json;

use crate::cli::DiscoverOptions;
use crate::event::{DhcpConfig, DiscoveryConfig, MdnsConfig, PnpAnswer, PnpConfig, SweepConfig};
use crate::event::{Event, ServeConfig};
use crate::formats::printable;
use crate::services::interfaces;
use crate::services::{Hooks, Supervisor};
use crate::serving::Protocol;
use crate::serving::discovery::DiscoveryEvent;
use crate::serving::discovery::{self, Discovery};
use crate::storage;

use super::print::discovery_line;
use super::{Error, Term};

/// `gsprov discover`: listens (PnP, mDNS, neighbour table; a sweep and a DHCP
/// preflight only when asked) for `--seconds`, then prints the merged list.
pub fn discover(args: &DiscoverOptions, t: &mut Term, interrupt: &std::sync::mpsc::Receiver<()>) -> Result<(), Error> {
    let mut site = args.site.as_deref().map(storage::load_site).transpose()?;
    let all = interfaces::list()?;
    let iface = interfaces::choose(&all, args.interface.as_deref())?;
    let url = args.url.clone().or_else(|| {
        site.as_ref().and_then(|s| {
            let v = &s.serving;
            let ip = std::net::IpAddr::V4(iface.ipv4);
            [
                (v.http, Protocol::Http, v.http_port),
                (v.https, Protocol::Https, v.https_port),
                (v.tftp, Protocol::Tftp, v.tftp_port),
            ]
            .into_iter()
            .find(|(on, _, _)| *on)
            .map(|(_, p, port)| discovery::provisioning_url(ip, p, port))
        })
    });
    let mut config = DiscoveryConfig::new(iface.clone());
    config.url = url.clone();
    config.mdns = args.mdns.map(|port| MdnsConfig { port, ..MdnsConfig::default() });
    config.neighbours = Some(std::time::Duration::from_secs(2));
    config.sweep = args.sweep.map(|rate| SweepConfig { rate, ..SweepConfig::of(&iface) });
    if args.dhcp {
        config.dhcp = Some(DhcpConfig::default());
    }

    let mut list = Discovery::new();
    if let Some(s) = &site {
        list.set_site(s);
    }
    let (mut sup, events) =
        Supervisor::new(Hooks::default()).map_err(|error| Error::Service { protocol: Protocol::Sip, error })?;
    if let Some(port) = args.pnp {
        let pnp = PnpConfig { port, answer: PnpAnswer::Nobody, ..PnpConfig::new(iface.ipv4) };
        sup.start(ServeConfig::pnp_only(pnp));
    }
    sup.start_discovery(config);
    if !args.json {
        writeln!(t.err, "looking for Grandstream devices on {iface} for {} s (Ctrl-C to stop early)", args.seconds)?;
    }
    let mut notes = Vec::new();
    let mut handle = |ev: Event, t: &mut Term, notes: &mut Vec<String>| -> Result<(), Error> {
        ev.fold_discovery(&mut list);
        match &ev {
            Event::Failed { protocol, error } => notes.push(format!("{protocol} (plug-and-play listener): {error}")),
            Event::Discovery(DiscoveryEvent::Failed { task, error }) => notes.push(format!("{task}: {error}")),
            _ => {}
        }
        // Progress goes to stderr in both modes: stdout carries only the list.
        let shown = matches!(ev, Event::Discovery(_) | Event::Failed { .. } | Event::Completed(_));
        if shown {
            let line = match &ev {
                Event::Discovery(d) => discovery_line(d),
                Event::Failed { protocol, error } => format!("{protocol} plug-and-play listener: {error}"),
                Event::Completed(r) => r.to_string(),
                _ => String::new(),
            };
            writeln!(t.err, "{}", printable(&line))?;
        }
        Ok(())
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(args.seconds);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() || interrupt.try_recv().is_ok() {
            break;
        }
        match events.recv_timeout(left.min(std::time::Duration::from_millis(200))) {
            Ok(ev) => handle(ev, t, &mut notes)?,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    sup.stop_discovery();
    sup.stop();
    drop(sup);
    while let Ok(ev) = events.try_recv() {
        handle(ev, t, &mut notes)?;
    }

    let mut adopted = Vec::new();
    let mut refused = Vec::new();
    if args.adopt
        && let (Some(s), Some(path)) = (site.as_mut(), args.site.as_deref())
    {
        for d in list.unknown().filter(|d| d.grandstream) {
            match discovery::adopt(s, d) {
                Ok(dev) => {
                    adopted.push(dev.mac);
                    s.devices.push(dev);
                }
                Err(e) => refused.push(format!("{}: {e}", d.mac.map_or_else(|| "?".into(), |m| m.to_string()))),
            }
        }
        if !adopted.is_empty() {
            storage::save_site(path, s)?;
        }
    }

    if args.json {
        let v = json!({
            "interface": iface, "seconds": args.seconds, "url": url,
            "devices": list.devices(), "dhcp": list.dhcp(), "problems": notes,
            "adopted": adopted.iter().map(|m| m.to_string()).collect::<Vec<_>>(), "not_adopted": refused,
        });
        writeln!(t.out, "{v}")?;
        return Ok(());
    }
    if list.devices().is_empty() {
        writeln!(t.out, "no Grandstream device seen on {iface} in {} s", args.seconds)?;
        writeln!(
            t.out,
            "(plug-and-play units announce themselves only while booting: power-cycle them during `gsprov discover`; try --sweep to fill the neighbour table)"
        )?;
    } else {
        writeln!(
            t.out,
            "{:<13} {:<15} {:<9} {:<11} {:<22} {:<9} {:<9} site",
            "MAC", "IP", "MODEL", "FIRMWARE", "SEEN BY", "FIRST", "LAST"
        )?;
        for d in list.devices() {
            let clock = |t: std::time::SystemTime| crate::serving::rfc3339(t).get(11..19).unwrap_or("").to_string();
            let site_col = if d.known { format!("known: {}", d.label) } else { "not in site".into() };
            writeln!(
                t.out,
                "{:<13} {:<15} {:<9} {:<11} {:<22} {:<9} {:<9} {}",
                d.mac.map_or_else(|| "?".into(), |m| m.to_string()),
                d.ip.map_or_else(|| "?".into(), |i| i.to_string()),
                d.model.as_ref().map_or_else(|| "?".into(), |m| m.to_string()),
                d.firmware.as_deref().unwrap_or("?"),
                d.how_seen(),
                clock(d.first_seen),
                clock(d.last_seen),
                site_col.trim_end()
            )?;
        }
    }
    if let Some(r) = list.dhcp() {
        writeln!(t.out, "\nDHCP on {}: {}", r.interface, r.verdict.describe())?;
        if let Some(server) = r.server {
            writeln!(t.out, "  server {server}, offered {}", r.offered.map_or_else(|| "-".into(), |i| i.to_string()))?;
            writeln!(t.out, "  option 66: {}", r.option66.as_deref().unwrap_or("(none)"))?;
            if let Some(o) = &r.option160 {
                writeln!(t.out, "  option 160: {o}")?;
            }
            if !r.option150.is_empty() {
                let ips: Vec<String> = r.option150.iter().map(|i| i.to_string()).collect();
                writeln!(t.out, "  option 150: {}", ips.join(", "))?;
            }
            if let Some(o) = &r.option43 {
                writeln!(t.out, "  option 43: {} bytes", o.len())?;
            }
        }
        if let Some(u) = &r.expected {
            writeln!(t.out, "  gsprov hands out {u}; to point devices at it, set option 66 on the DHCP server:")?;
            for (server, text) in &r.snippets {
                writeln!(t.out, "    {server}: {text}")?;
            }
        }
    }
    for n in &notes {
        writeln!(t.err, "note: {n}")?;
    }
    if !adopted.is_empty() {
        let macs: Vec<String> = adopted.iter().map(|m| m.to_string()).collect();
        writeln!(t.out, "adopted {} device(s) into the site: {}", adopted.len(), macs.join(", "))?;
    }
    for r in &refused {
        writeln!(t.err, "not adopted: {r}")?;
    }
    Ok(())
}
