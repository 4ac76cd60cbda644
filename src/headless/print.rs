//! The printers `serve` and `discover` share: an event as a line or a JSON
//! object, discovery events, the closing status summary.

use serde_json::json;

use crate::event::Event;
use crate::formats::printable;
use crate::serving::Protocol;
use crate::serving::Status;
use crate::serving::discovery::DiscoveryEvent;
use crate::serving::privilege;

use super::{Error, Term};

pub(super) fn url_of(protocol: Protocol, addr: std::net::SocketAddr, bind: std::net::IpAddr) -> String {
    if bind.is_unspecified() {
        format!("{}://<this computer's address>:{}/", protocol.scheme(), addr.port())
    } else {
        format!("{}://{addr}/", protocol.scheme())
    }
}

pub(super) fn print_event(ev: &Event, json_out: bool, bind: std::net::IpAddr, t: &mut Term) -> Result<(), Error> {
    if json_out {
        let v = match ev {
            Event::Started { protocol, addr, certificate } => json!({
                "event": "started", "protocol": protocol, "addr": addr.to_string(),
                "url": url_of(*protocol, *addr, bind),
                "certificate_sha256": certificate.as_ref().map(|c| c.sha256.clone()),
                "certificate_spki_sha256": certificate.as_ref().map(|c| c.spki_sha256_base64.clone()),
                "certificate_key": certificate.as_ref().map(|c| c.key.to_string()),
                "certificate_rsa_sha256": certificate.as_ref().and_then(|c| c.fallback.as_ref()).map(|f| f.sha256.clone()),
                "certificate_rsa_key": certificate.as_ref().and_then(|c| c.fallback.as_ref()).map(|f| f.key.to_string()),
            }),
            Event::Failed { protocol, error } => {
                json!({"event": "failed", "protocol": protocol, "error": error.to_string()})
            }
            Event::Completed(r) => {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("event".into(), json!("request"));
                }
                v
            }
            Event::WindowClosed { reason } => json!({"event": "window-closed", "reason": reason}),
            Event::Stopped { protocol } => json!({"event": "stopped", "protocol": protocol}),
            Event::Discovery(d) => discovery_json(d),
            Event::Action(a) => {
                let mut v = serde_json::to_value(a).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("event".into(), json!("action"));
                }
                v
            }
            Event::Received(_) | Event::Progress { .. } | Event::FilesReplaced { .. } | Event::PolicyChanged => {
                return Ok(());
            }
        };
        writeln!(t.out, "{v}")?;
        return Ok(());
    }
    match ev {
        Event::Started { protocol: Protocol::Sip, addr, .. } => {
            writeln!(t.out, "SIP   plug-and-play responder on {addr} (UDP)")?;
            firewall_note(t, Protocol::Sip, *addr)?;
        }
        Event::Started { protocol: Protocol::Dhcp, addr, .. } => {
            writeln!(t.out, "DHCP  bench server on {addr} (UDP); no other DHCP server answered")?;
        }
        Event::Started { protocol: Protocol::Syslog, addr, .. } => {
            writeln!(t.out, "SYSLOG receiver on {addr} (UDP); point the devices' P207 here (P208 sets the level)")?;
            firewall_note(t, Protocol::Syslog, *addr)?;
        }
        Event::Started { protocol, addr, certificate } => {
            writeln!(t.out, "{protocol:<5} listening on {addr}   {}", url_of(*protocol, *addr, bind))?;
            if *protocol == Protocol::Tftp && addr.port() != 69 {
                writeln!(
                    t.out,
                    "      note: devices ask TFTP on port 69, not {}: this port is for tests with `gsprov fetch`/tftp; \
                     to serve devices use --tftp-port 69 ({})",
                    addr.port(),
                    privilege::low_port_needs(privilege::Os::HERE)
                )?;
            }
            firewall_note(t, *protocol, *addr)?;
            if let Some(c) = certificate {
                let stored = match (&c.path, c.created) {
                    (Some(p), true) => format!("new, stored in {}", p.display()),
                    (Some(p), false) => format!("from {}", p.display()),
                    (None, _) => "in memory for this run".into(),
                };
                writeln!(t.out, "      certificate {} SHA-256 {} ({stored})", c.key, c.sha256)?;
                writeln!(t.out, "      curl --pinnedpubkey sha256//{}", c.spki_sha256_base64)?;
                if let Some(f) = &c.fallback {
                    let new = if f.created && !c.created { " (new, added to the file)" } else { "" };
                    writeln!(
                        t.out,
                        "      and {} certificate SHA-256 {}{new} for clients that offer no {} (older phone firmware)",
                        f.key, f.sha256, c.key
                    )?;
                }
            }
        }
        Event::Failed { protocol, error } => writeln!(t.err, "{protocol} server: {error}")?,
        Event::Completed(r) => writeln!(t.out, "{r}")?,
        Event::WindowClosed { reason } => writeln!(t.out, "serving window closed: {reason}")?,
        Event::Stopped { protocol } => writeln!(t.out, "{protocol} stopped")?,
        Event::Discovery(d) => writeln!(t.out, "{}", printable(&discovery_line(d)))?,
        Event::Action(a) => writeln!(t.out, "{} {}: {}", a.mac, a.kind.describe(), printable(&a.result))?,
        Event::Received(_) | Event::Progress { .. } | Event::FilesReplaced { .. } | Event::PolicyChanged => {}
    }
    Ok(())
}

/// Under a server's first line, where the OS firewall decides whether devices reach it
/// (Windows): what to allow, as a `netsh` line. Nothing on other systems.
fn firewall_note(t: &mut Term, protocol: Protocol, addr: std::net::SocketAddr) -> std::io::Result<()> {
    let what = protocol.to_string();
    match privilege::firewall_note(privilege::Os::HERE, &what, privilege::transport(protocol), addr.port()) {
        Some(note) => writeln!(t.out, "      {note}"),
        None => Ok(()),
    }
}

/// One line for a discovery event.
pub(super) fn discovery_line(d: &DiscoveryEvent) -> String {
    match d {
        DiscoveryEvent::Started { task, detail } => format!("{task}: {detail}"),
        DiscoveryEvent::Failed { task, error } => format!("{task} failed: {error}"),
        DiscoveryEvent::Seen(s) => {
            let who: Vec<String> = [
                s.mac.map(|m| m.to_string()),
                s.model.as_ref().map(|m| m.to_string()),
                s.firmware.clone(),
                s.ip.map(|i| format!("at {i}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            format!("seen by {}: {} ({})", s.source.describe(), who.join(" "), s.detail)
        }
        DiscoveryEvent::SweepFinished { probed } => format!("sweep: {probed} probes sent"),
        DiscoveryEvent::Dhcp(r) => match r.server {
            Some(server) => format!(
                "DHCP preflight on {}: {server} answered; option 66 = {}: {}",
                r.interface,
                r.option66.as_deref().unwrap_or("(none)"),
                r.verdict.describe()
            ),
            None => format!("DHCP preflight on {}: {}", r.interface, r.verdict.describe()),
        },
        DiscoveryEvent::Stopped { task } => format!("{task} stopped"),
    }
}

pub(super) fn discovery_json(d: &DiscoveryEvent) -> serde_json::Value {
    match d {
        DiscoveryEvent::Started { task, detail } => {
            json!({"event": "discovery-started", "task": task, "detail": detail})
        }
        DiscoveryEvent::Failed { task, error } => json!({"event": "discovery-failed", "task": task, "error": error}),
        DiscoveryEvent::Seen(s) => {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("event".into(), json!("seen"));
            }
            v
        }
        DiscoveryEvent::SweepFinished { probed } => json!({"event": "sweep-finished", "probed": probed}),
        DiscoveryEvent::Dhcp(r) => {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("event".into(), json!("dhcp"));
            }
            v
        }
        DiscoveryEvent::Stopped { task } => json!({"event": "discovery-stopped", "task": task}),
    }
}

pub(super) fn print_summary(status: &Status, json_out: bool, t: &mut Term) -> Result<(), Error> {
    let s = status.summary();
    if json_out {
        let devices: Vec<serde_json::Value> = status
            .known()
            .chain(status.unassigned())
            .map(|d| {
                json!({
                    "mac": d.mac.to_string(), "model": d.model.as_ref().map(|m| m.to_string()), "label": d.label,
                    "state": d.state, "ip": d.ip.map(|i| i.to_string()), "firmware": d.firmware,
                    "fetched": d.fetched.iter().map(|f| f.name.clone()).collect::<Vec<_>>(), "problem": d.problem,
                    "note": d.note,
                    "assigned": status.known().any(|k| k.mac == d.mac),
                })
            })
            .collect();
        writeln!(
            t.out,
            "{}",
            json!({"event": "summary", "requests": s.requests, "served": s.served, "bytes": s.bytes,
                   "known": s.known, "configured": s.tally.configured, "never_seen": s.never_seen, "probing": s.probing, "got_config": s.got_config,
                   "got_firmware": s.got_firmware, "error": s.error, "unassigned": s.unassigned,
                   "forgotten": s.forgotten, "devices": devices})
        )?;
        return Ok(());
    }
    // The known devices' headline, in the Status board's and the handover report's words.
    writeln!(
        t.out,
        "summary: {} requests, {} served, {} bytes; {}; {} unassigned",
        s.requests,
        s.served,
        s.bytes,
        s.tally.headline(),
        s.unassigned
    )?;
    if s.forgotten > 0 {
        writeln!(
            t.out,
            "  ({} more unassigned MACs were forgotten: at most {} are kept; a flood of made-up MACs?)",
            s.forgotten,
            crate::serving::status::MAX_UNASSIGNED
        )?;
    }
    // Every known device; unassigned ones up to a screenful (a flood of fake MACs is not listed one by one).
    const SHOWN_UNASSIGNED: usize = 50;
    let hidden = s.unassigned.saturating_sub(SHOWN_UNASSIGNED);
    for d in status.known().chain(status.unassigned().take(SHOWN_UNASSIGNED)) {
        let model = d.model.as_ref().map(|m| m.to_string()).unwrap_or_else(|| "?".into());
        let seen = d.ip.map(|ip| format!(" from {ip}")).unwrap_or_default();
        let fw = d.firmware.as_ref().map(|f| format!(" firmware {f}")).unwrap_or_default();
        let unassigned = if status.known().any(|k| k.mac == d.mac) { "" } else { " [unassigned]" };
        let line = format!("  {} {model:<8} {:<12} {}{seen}{fw}{unassigned}", d.mac, d.state.describe(), d.label);
        writeln!(t.out, "{}", printable(&line))?;
        if let Some(p) = &d.problem {
            writeln!(t.out, "      {}", printable(p))?;
        }
        if let Some(w) = d.without_config() {
            writeln!(t.out, "      {w}")?;
        }
        if let Some(n) = &d.note {
            writeln!(t.out, "      note: {}", printable(n))?;
        }
    }
    if hidden > 0 {
        writeln!(t.out, "  ... and {hidden} more unassigned devices (gsprov serve --json lists them all)")?;
    }
    Ok(())
}
