//! `gsprov serve`: the servers in a terminal, one line (or JSON object) per event.

use std::io::Write;

use serde_json::json;

use crate::cli::PnpOptions;
use crate::cli::{PortChoice, ServeOptions};
use crate::event;
use crate::event::Event;
use crate::event::PnpConfig;
use crate::formats::printable;
use crate::services::Hooks;
use crate::services::interfaces::{self, InterfaceError};
use crate::serving::Protocol;
use crate::serving::Status;
use crate::serving::address;
use crate::session::{self, Session};
use crate::site::{self, Site};
use crate::storage;

use super::print::{print_event, print_summary};
use super::{Error, Term, build_error, print_issues};

/// How long `serve` lets request events gather after a burst before it looks
/// again: lines appear at most this much later, and a flood of requests does
/// not wake the printing thread once per request.
const EVENT_GATHER: std::time::Duration = std::time::Duration::from_millis(10);
/// Most events `serve` prints in one go, so a flood still shows up promptly
/// and Ctrl-C is still seen; fewer means the queue was empty.
const PRINT_BOUND: usize = 512;

/// `gsprov serve`: starts the servers, prints one line (or JSON object) per
/// request until `interrupt` receives, then stops and prints a status summary.
pub fn serve(args: &ServeOptions, t: &mut Term, interrupt: &std::sync::mpsc::Receiver<()>) -> Result<(), Error> {
    let site = storage::load_site(&args.site)?;
    // What the site's devices did before (the request log): their status and
    // the firmware they run, so each gets its next firmware step at once.
    let history = session::History::read(&args.site)?;
    let bind = match args.bind {
        Some(b) => b,
        None => site.serving.bind.trim().parse().map_err(|_| event::ConfigError::Bind(site.serving.bind.clone()))?,
    };
    let choices = session::Choices {
        bind: args.bind,
        tftp: port_choice(args.tftp),
        http: port_choice(args.http),
        https: port_choice(args.https),
        policy: None,
        pnp: args.pnp.as_ref().map(|p| pnp_config(p, bind)).transpose()?,
        syslog: args.syslog,
        dhcp: args.dhcp.as_ref().map(|d| dhcp_config(d, args.interface.as_deref(), bind)).transpose()?,
    };
    let dhcp_on = choices.dhcp.is_some();
    let mut dhcp_started = false;
    let (mut session, events) =
        Session::new(Hooks::default()).map_err(|error| Error::Service { protocol: Protocol::Tftp, error })?;
    let started = match session.start(site.clone(), Some(args.site.clone()), history.known_firmware(), &choices) {
        Ok(started) => started,
        Err(e) => return Err(start_error(e, t)?),
    };
    print_issues(&started.notes, t)?;
    let session::Started { served, tftp: config_tftp, firmware_dir, .. } = started;
    let mut status = history.fold(Status::new(&served));
    let mut first_failure = None;
    let mut bound = Vec::new();
    while let Ok(ev) = events.try_recv() {
        match ev {
            // Said once, by the error this returns (in JSON also as an event).
            Event::Failed { protocol, error } => {
                if args.json {
                    print_event(&Event::Failed { protocol, error: error.clone() }, true, bind, t)?;
                }
                first_failure.get_or_insert(Error::Service { protocol, error });
            }
            ev => {
                print_event(&ev, args.json, bind, t)?;
                if let Event::Started { protocol, addr, .. } = ev
                    && Protocol::ALL.contains(&protocol)
                {
                    bound.push((protocol, addr));
                }
            }
        }
    }
    if let Some(e) = first_failure {
        session.stop();
        while let Ok(ev) = events.try_recv() {
            print_event(&ev, args.json, bind, t)?;
        }
        return Err(e);
    }
    if !args.json {
        let fw = match &firmware_dir {
            Some(d) => match storage::list_firmware(d, &[]) {
                Ok(scan) => format!("firmware folder {} ({} files)", d.display(), scan.files.len()),
                Err(_) => format!("firmware folder {} (missing)", d.display()),
            },
            None => "no firmware folder".into(),
        };
        writeln!(
            t.out,
            "serving {:?}: {} files ({} bytes) for {} devices; {fw}",
            site.name,
            served.len(),
            served.total_bytes(),
            served.devices().len()
        )?;
        if let Some(p237) = site.defaults.get("P237") {
            writeln!(
                t.out,
                "devices are told to fetch from P237 = {p237} (site defaults), method P212 = {}",
                site.defaults.get("P212").unwrap_or("?")
            )?;
        }
        let p = &site.provisioning;
        if (!p.prefix.is_empty() || !p.postfix.is_empty()) && p.binary != site::BinaryMode::Off {
            writeln!(
                t.out,
                "config prefix {:?} (P234) / postfix {:?} (P235): factory-fresh devices ask for the unprefixed \
                 cfg<mac> first and get a bootstrap there that sets them (and P237/P212); their next requests carry \
                 the site's names",
                p.prefix, p.postfix
            )?;
        }
    }
    print_address_check(&site, firmware_dir.is_some(), bind, &bound, args.json, t)?;
    if !args.json {
        if config_tftp && site.serving.auth.is_some() {
            let how = if site.serving.allow_secrets_over_tftp {
                "TFTP serves files with passwords WITHOUT authentication (serving.allow_secrets_over_tftp = true)"
            } else {
                "TFTP refuses files with passwords: the site requires HTTP authentication, which TFTP cannot do"
            };
            writeln!(t.out, "{how}")?;
        }
        writeln!(
            t.out,
            "requests are logged to {}; press Ctrl-C to stop",
            storage::site_paths(&args.site, "").request_log.map(|p| p.display().to_string()).unwrap_or_default()
        )?;
        t.out.flush()?;
    }
    loop {
        if interrupt.try_recv().is_ok() {
            break;
        }
        match events.recv_timeout(std::time::Duration::from_millis(200)) {
            Ok(first) => {
                // A burst of requests (200 phones booting) is printed with one write
                // and one flush instead of one per line.
                let mut buf = std::io::BufWriter::new(&mut *t.out);
                let mut bt = Term { out: &mut buf, err: &mut *t.err };
                // Bounded by PRINT_BOUND.
                let mut next = Some(first);
                let mut printed = 0;
                let mut moved = false;
                while let Some(ev) = next {
                    if let Event::Started { protocol: Protocol::Dhcp, .. } = &ev {
                        dhcp_started = true;
                    }
                    if let Event::Failed { protocol: Protocol::Dhcp, error } = &ev
                        && dhcp_on
                        && !dhcp_started
                    {
                        // `serve --dhcp` where another DHCP server answers: nothing else starts.
                        if args.json {
                            print_event(&ev, true, bind, &mut bt)?;
                        }
                        bt.out.flush()?;
                        drop(buf);
                        session.stop();
                        while let Ok(ev) = events.try_recv() {
                            print_event(&ev, args.json, bind, t)?;
                        }
                        return Err(Error::Service { protocol: Protocol::Dhcp, error: error.clone() });
                    }
                    if let Event::Completed(r) = &ev {
                        let before = r.mac.and_then(|m| status.device(m)).and_then(|d| d.firmware.clone());
                        status.apply(r);
                        moved |= r.firmware.is_some() && r.firmware != before;
                    }
                    print_event(&ev, args.json, bind, &mut bt)?;
                    printed += 1;
                    next = if printed < PRINT_BOUND { events.try_recv().ok() } else { None };
                }
                buf.flush()?;
                // Under load, let the next burst gather instead of waiting in
                // `recv`: a sender only wakes a receiver that waits, and that
                // wake (a futex call and a context switch on the serving
                // thread) cost more than printing the line (issue #15). Only
                // once the queue is empty: a loop that stopped at its bound
                // goes straight on, so the queue never grows while it sleeps.
                let drained = printed < PRINT_BOUND;
                if drained && printed > 1 {
                    #[expect(
                        clippy::disallowed_methods,
                        reason = "not synchronisation: a pause that lets a burst of events gather (see above)"
                    )]
                    std::thread::sleep(EVENT_GATHER);
                }
                // A device came back with another version: advance its step.
                if moved {
                    match session.learn(session::known_firmware(&status)) {
                        Some(Ok(_)) => {
                            writeln!(t.err, "firmware steps changed; configs regenerated with the new P192 values")?
                        }
                        Some(Err(e)) => {
                            writeln!(t.err, "firmware steps changed but the configs could not be regenerated: {e}")?
                        }
                        None => {}
                    }
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    session.stop();
    while let Ok(ev) = events.try_recv() {
        if let Event::Completed(r) = &ev {
            status.apply(r);
        }
        print_event(&ev, args.json, bind, t)?;
    }
    print_summary(&status, args.json, t)?;
    t.out.flush()?;
    Ok(())
}

/// A port flag as the session takes it: `None` keeps the site's setting.
fn port_choice(p: PortChoice) -> Option<Option<u16>> {
    match p {
        PortChoice::Site => None,
        PortChoice::On(port) => Some(Some(port)),
        PortChoice::Off => Some(None),
    }
}

/// Why the session did not start, as this command reports it (the site's
/// errors are printed first, one per line).
fn start_error(e: session::StartError, t: &mut Term) -> Result<Error, Error> {
    Ok(match e {
        session::StartError::Build(e) => build_error(e, t)?,
        session::StartError::Config(e) => e.into(),
        session::StartError::NothingToServe => Error::NothingToServe,
        session::StartError::FirmwareExposed(problem) => Error::FirmwareExposed(problem),
    })
}

/// Warns when the devices are told (P237/P192/P212 in the site defaults) to
/// fetch from somewhere other than the servers just started.
pub(super) fn print_address_check(
    site: &Site,
    firmware_served: bool,
    bind: std::net::IpAddr,
    bound: &[(Protocol, std::net::SocketAddr)],
    json_out: bool,
    t: &mut Term,
) -> Result<(), Error> {
    let all = match interfaces::list() {
        Ok(all) => all,
        Err(e) => {
            writeln!(t.err, "warning: cannot check whether P237 points at this computer: {e}")?;
            return Ok(());
        }
    };
    let d = &site.defaults;
    let setup = address::Setup {
        p212: d.get("P212"),
        p237: d.get("P237"),
        p192: d.get("P192"),
        p6767: d.get("P6767"),
        firmware_served,
        bind,
        bound,
        interfaces: &all,
    };
    for f in address::check(&setup) {
        if json_out {
            writeln!(t.out, "{}", json!({"event": "warning", "key": f.key, "message": f.message}))?;
        } else {
            writeln!(t.err, "warning: {}", printable(&f.to_string()))?;
        }
    }
    Ok(())
}

/// The bench DHCP server for `serve --dhcp`: on `--interface`, else the
/// interface holding the bind address, else the first that is not loopback
/// (the session adds options 42 and 2 from the site).
fn dhcp_config(
    args: &crate::cli::DhcpOptions,
    interface: Option<&str>,
    bind: std::net::IpAddr,
) -> Result<crate::event::BenchDhcpConfig, Error> {
    let all = interfaces::list()?;
    let iface = match (interface, bind) {
        (Some(w), _) => interfaces::choose(&all, Some(w))?,
        (None, std::net::IpAddr::V4(v4)) if !v4.is_unspecified() => interfaces::holding(&all, v4)
            .ok_or_else(|| InterfaceError::NotFound { wanted: v4.to_string(), have: interfaces::describe(&all) })?,
        (None, _) => interfaces::choose(&all, None)?,
    };
    let mut c = crate::event::BenchDhcpConfig::new(iface);
    c.range = args.range;
    c.answer = args.answer;
    c.router = args.router;
    c.dns = args.dns.clone();
    c.lease_time = args.lease;
    c.stop_after = args.stop_after;
    for (code, v) in &args.extra {
        if *code == 43 {
            c.option43 = Some(v.clone());
        } else {
            c.extra.push((*code, v.clone()));
        }
    }
    Ok(c)
}

/// The PnP responder for `serve --pnp`: on `--interface`, else the interface
/// holding the bind address, else the first that is not loopback.
pub(super) fn pnp_config(args: &PnpOptions, bind: std::net::IpAddr) -> Result<PnpConfig, Error> {
    let all = interfaces::list()?;
    let bound = match bind {
        std::net::IpAddr::V4(v4) if !v4.is_unspecified() => Some(v4),
        _ => None,
    };
    let iface = match (&args.interface, bound) {
        (Some(w), _) => interfaces::choose(&all, Some(w))?,
        (None, Some(v4)) => interfaces::holding(&all, v4)
            .ok_or_else(|| InterfaceError::NotFound { wanted: v4.to_string(), have: interfaces::describe(&all) })?,
        (None, None) => interfaces::choose(&all, None)?,
    };
    if let Some(v4) = bound
        && v4 != iface.ipv4
    {
        return Err(Error::PnpInterface(format!(
            "the servers listen on {v4} only, but plug-and-play would hand out {} ({}): use --bind 0.0.0.0 or --interface {v4}",
            iface.ipv4, iface.name
        )));
    }
    Ok(PnpConfig { port: args.port, answer: args.answer, url: args.url.clone(), ..PnpConfig::new(iface.ipv4) })
}
