//! The terminal front end: `new`, `check`, `generate`, `import`, `decode`,
//! `serve` (events as lines or JSON), `fetch` (a device's view), `discover`
//! (the merged list of devices on a LAN) and `interfaces`.
//! Prints to the writers it is given; every failure is a typed [`Error`] whose
//! [`Error::exit_code`] is the documented exit code. Owns no socket or thread:
//! serving goes through `services::Supervisor`, fetching through
//! `services::client`.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use crate::catalog::{Catalog, ValueKind};
use crate::cli::{ArgsError, DiscoverOptions, InterfacesArgs, ParamsArgs, PnpOptions};
use crate::cli::{
    CheckArgs, DecodeArgs, FetchArgs, FirmwareArgs, GenerateArgs, ImportArgs, NewArgs, ServeOptions, exit,
};
use crate::event::{self, Event, ServeConfig, ServiceError};
use crate::event::{DhcpConfig, DiscoveryConfig, MdnsConfig, PnpAnswer, PnpConfig, SweepConfig};
use crate::formats::decode::{self, Decoded};
use crate::formats::{crypto, printable};
use crate::generate;
use crate::services::client::{self, FetchError, FetchOptions};
use crate::services::interfaces::{self, InterfaceError};
use crate::services::{Hooks, Supervisor};
use crate::serving::Protocol;
use crate::serving::Status;
use crate::serving::address;
use crate::serving::discovery::DiscoveryEvent;
use crate::serving::discovery::{self, Discovery};
use crate::site::{self, Severity, Site};
use crate::storage::{self, StorageError};

/// How long `serve` lets request events gather after a burst before it looks
/// again: lines appear at most this much later, and a flood of requests does
/// not wake the printing thread once per request.
const EVENT_GATHER: std::time::Duration = std::time::Duration::from_millis(10);
/// Most events `serve` prints in one go, so a flood still shows up promptly
/// and Ctrl-C is still seen; fewer means the queue was empty.
const PRINT_BOUND: usize = 512;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0} error(s) in the site; nothing was generated (see above, or run `gsprov check`)")]
    SiteHasErrors(usize),
    #[error("{0} error(s) found")]
    CheckFailed(usize),
    #[error("{0}")]
    Import(#[from] site::ImportError),
    #[error(transparent)]
    Generate(#[from] generate::GenerateError),
    #[error("{path}: {message}")]
    Undecodable { path: String, message: String },
    #[error("{0} exists; use --force to replace it (the old file is kept as .bak)")]
    Exists(String),
    #[error("cannot write to the terminal: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Config(#[from] event::ConfigError),
    #[error("nothing to serve: TFTP, HTTP and HTTPS are all off")]
    NothingToServe,
    #[error("{protocol} server: {error}")]
    Service { protocol: Protocol, error: ServiceError },
    #[error("{url}: {error}")]
    Fetch { url: String, error: FetchError },
    #[error(transparent)]
    Interface(#[from] InterfaceError),
    #[error("{0}")]
    PnpInterface(String),
    #[error("{0}")]
    Target(String),
    #[error("{failed} of {total} device(s) did not take the {what} (see above)")]
    DevicesFailed { what: &'static str, failed: usize, total: usize },
    #[error("{failed} of {total} device(s) are not confirmed to hold the served configuration (see above)")]
    ChecksFailed { failed: usize, total: usize },
    #[error("{0}; nothing is served")]
    FirmwareExposed(String),
    #[error(transparent)]
    Args(#[from] ArgsError),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Storage(e) if e.is_malformed() => exit::MALFORMED,
            Error::Storage(_) | Error::Output(_) | Error::Exists(_) => exit::IO,
            Error::SiteHasErrors(_) | Error::CheckFailed(_) | Error::Import(_) | Error::Generate(_) => exit::PROBLEMS,
            Error::Undecodable { .. } => exit::MALFORMED,
            Error::Config(_) | Error::NothingToServe => exit::PROBLEMS,
            Error::Service { .. } => exit::SERVICE,
            Error::Fetch { error: FetchError::BadUrl(_), .. } => exit::USAGE,
            Error::Fetch { error, .. } if error.is_refusal() => exit::PROBLEMS,
            Error::Fetch { .. } => exit::SERVICE,
            Error::Interface(InterfaceError::List(_)) => exit::SERVICE,
            Error::Interface(_) | Error::PnpInterface(_) | Error::FirmwareExposed(_) => exit::PROBLEMS,
            Error::Target(_) | Error::DevicesFailed { .. } | Error::ChecksFailed { .. } => exit::PROBLEMS,
            Error::Args(_) => exit::USAGE,
        }
    }
}

/// Where a command prints: results to `out`, problems and notes to `err`.
pub struct Term<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

pub fn new(args: &NewArgs, t: &mut Term) -> Result<(), Error> {
    if args.site.exists() && !args.force {
        return Err(Error::Exists(args.site.display().to_string()));
    }
    let site = if args.demo {
        site::demo()
    } else {
        let mut s = Site { name: "New site".into(), ..Site::default() };
        s.defaults.set("P212", "1");
        s.defaults.set("P237", "192.168.1.2:8080");
        s.defaults.set("P47", "pbx.example.com");
        s
    };
    storage::save_site(&args.site, &site)?;
    writeln!(t.out, "wrote {}", args.site.display())?;
    Ok(())
}

fn print_issues(issues: &[site::Issue], t: &mut Term) -> Result<usize, Error> {
    for i in issues {
        writeln!(t.err, "{i}")?;
    }
    Ok(issues.iter().filter(|i| i.severity == Severity::Error).count())
}

pub fn check(args: &CheckArgs, t: &mut Term) -> Result<(), Error> {
    let site = storage::load_site(&args.site)?;
    let mut issues = site.check();
    if let Some(p237) = site.defaults.get("P237") {
        match interfaces::list() {
            Ok(all) => {
                if let Some(message) = address::names_this_machine(p237, &all) {
                    issues.push(site::Issue { severity: Severity::Warning, location: "defaults.P237".into(), message });
                }
            }
            Err(e) => issues.push(site::Issue {
                severity: Severity::Warning,
                location: "defaults.P237".into(),
                message: format!("not checked against this computer's addresses: {e}"),
            }),
        }
    }
    let paths = storage::site_paths(&args.site, &site.serving.firmware_dir);
    if let Some(message) = storage::firmware_dir_problem(&args.site, &paths) {
        issues.insert(0, site::Issue { severity: Severity::Error, location: "serving.firmware_dir".into(), message });
    }
    if args.json {
        for i in &issues {
            writeln!(t.out, "{}", serde_json::to_string(i).unwrap_or_default())?;
        }
    } else {
        for i in &issues {
            writeln!(t.out, "{i}")?;
        }
    }
    let errors = issues.iter().filter(|i| i.severity == Severity::Error).count();
    if !args.json {
        writeln!(
            t.err,
            "{}: {} device(s), {errors} error(s), {} warning(s)",
            args.site.display(),
            site.devices.len(),
            issues.len() - errors
        )?;
    }
    if errors > 0 { Err(Error::CheckFailed(errors)) } else { Ok(()) }
}

pub fn generate(args: &GenerateArgs, t: &mut Term) -> Result<(), Error> {
    let (site, output) = load_and_generate(&args.site, t)?;
    let extras = generate::export_extras(&site, &output);
    storage::write_tree(&args.out, &output, &extras)?;
    if args.json {
        for f in &output.files {
            let line = json!({
                "name": f.name, "kind": f.kind, "device": f.device.map(|m| m.to_string()),
                "model": f.model.as_ref().map(|m| m.to_string()), "encrypted": f.encrypted, "bytes": f.bytes.len(),
            });
            writeln!(t.out, "{line}")?;
        }
    } else {
        writeln!(
            t.out,
            "wrote {} files ({} devices, {} bytes) to {}",
            output.files.len(),
            site.devices.len(),
            output.total_bytes(),
            args.out.display()
        )?;
    }
    // `gsprov generate` ends right after this: freeing every file's buffer and
    // settings map one by one costs a tenth of a 10,000-device run (perf:
    // free, malloc_consolidate, BTreeMap drops), and the system takes the
    // memory back at once when the process exits (issue #15).
    std::mem::forget((site, output));
    Ok(())
}

pub fn import(args: &ImportArgs, t: &mut Term) -> Result<(), Error> {
    let site = storage::load_site(&args.site)?;
    let (text, encoding) = site::decode_csv(&storage::read_bytes(&args.csv)?);
    if let Some(encoding) = encoding {
        writeln!(
            t.err,
            "warning: {}: not UTF-8; read as {encoding} (check accented names in the preview or the site)",
            args.csv.display()
        )?;
    }
    let (updated, report) = site::import_csv(&site, &text)?;
    for w in &report.warnings {
        writeln!(t.err, "warning: {}: {w}", args.csv.display())?;
    }
    let (add, update) = if args.dry_run { ("would add", "would update") } else { ("added", "updated") };
    let sep = match report.delimiter {
        '\t' => "tab".to_string(),
        c => format!("'{c}'"),
    };
    writeln!(
        t.out,
        "{add} {} device(s), {update} {}, {} unchanged (cells separated by {sep})",
        report.added.len(),
        report.updated.len(),
        report.unchanged.len(),
    )?;
    for m in &report.added {
        writeln!(t.out, "  + {m}")?;
    }
    for m in &report.updated {
        writeln!(t.out, "  ~ {m}")?;
    }
    if !args.dry_run {
        storage::save_site(&args.site, &updated)?;
    }
    Ok(())
}

pub fn decode(args: &DecodeArgs, t: &mut Term) -> Result<(), Error> {
    let path = args.file.display().to_string();
    let bytes = storage::read_bytes(&args.file)?;
    let decoded = decode::any(&bytes, args.password.as_deref(), args.digest.into())
        .map_err(|e| Error::Undecodable { path: path.clone(), message: e.to_string() })?;
    print_decoded(&path, &decoded, args.show_secrets, args.json, serde_json::Map::new(), t)
}

/// Prints decoded parameters, passwords masked unless `show_secrets`. `extra`
/// goes into the JSON object.
fn print_decoded(
    label: &str,
    decoded: &Decoded,
    show_secrets: bool,
    json_out: bool,
    extra: serde_json::Map<String, serde_json::Value>,
    t: &mut Term,
) -> Result<(), Error> {
    let cat = Catalog::get();
    let shown = |k: &str, v: &str| -> String {
        let secret = cat.lookup(k).is_some_and(|p| p.kind == ValueKind::Password)
            || k.ends_with(".password")
            || k.ends_with("Password");
        if secret && !show_secrets && !v.is_empty() { "********".into() } else { v.to_string() }
    };
    if json_out {
        let params: serde_json::Map<String, serde_json::Value> =
            decoded.params.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(shown(k, v)))).collect();
        let mut obj = extra;
        obj.insert("format".into(), json!(decoded.format));
        obj.insert("mac".into(), json!(decoded.mac));
        obj.insert("notes".into(), json!(decoded.notes));
        obj.insert("params".into(), serde_json::Value::Object(params));
        writeln!(t.out, "{}", serde_json::Value::Object(obj))?;
    } else {
        writeln!(t.out, "# {label}: {}", decoded.format)?;
        if let Some(m) = &decoded.mac {
            writeln!(t.out, "# mac {m}")?;
        }
        for n in &decoded.notes {
            writeln!(t.out, "# {n}")?;
        }
        for (k, v) in &decoded.params {
            let label = cat.lookup(k).map(|p| format!("  # {}", p.label)).unwrap_or_default();
            writeln!(t.out, "{k} = {}{label}", shown(k, v))?;
        }
    }
    Ok(())
}

/// The per-device P192 values of the firmware steps last applied.
#[derive(Default)]
struct Steps(std::collections::BTreeMap<crate::ids::Mac, String>);

impl Steps {
    /// The site to generate from when the steps changed since the last call
    /// (the first call with any step counts as a change), else `None`.
    fn update(
        &mut self,
        site_path: &Path,
        site: &Site,
        current: &dyn Fn(crate::ids::Mac) -> Option<String>,
    ) -> Option<Site> {
        let listing = firmware_listing(site_path, site);
        let view = crate::serving::firmware::view(site, &listing, current);
        let now: std::collections::BTreeMap<_, _> =
            view.devices.iter().filter_map(|d| d.p192.clone().map(|p| (d.mac, p))).collect();
        if now == self.0 {
            return None;
        }
        self.0 = now;
        Some(crate::serving::firmware::with_steps(site, &view))
    }
}

fn firmware_listing(site_path: &Path, site: &Site) -> crate::serving::router::FirmwareListing {
    storage::site_firmware(site_path, &site.serving.firmware_dir)
}

/// The firmware each device last reported, from the site's request log.
fn reported_firmware(site_path: &Path) -> Result<std::collections::BTreeMap<crate::ids::Mac, String>, Error> {
    match storage::site_paths(site_path, "").request_log {
        Some(log) => Ok(storage::last_firmware(&log)?),
        None => Ok(Default::default()),
    }
}

/// `gsprov firmware SITE`: the firmware view. Exits with the problems code when
/// a flag is an error (a truncated or unreadable image, a missing pinned target).
pub fn firmware(args: &FirmwareArgs, t: &mut Term) -> Result<(), Error> {
    use crate::serving::firmware::{self as fw, Level};
    let site = storage::load_site(&args.site)?;
    let listing = firmware_listing(&args.site, &site);
    let reported = reported_firmware(&args.site)?;
    let view = fw::view(&site, &listing, &|m| reported.get(&m).cloned());
    if args.json {
        writeln!(t.out, "{}", serde_json::to_string(&view).unwrap_or_default())?;
    } else {
        let dir = view.dir.as_deref().unwrap_or("(none: set serving.firmware_dir)");
        writeln!(t.out, "firmware folder {dir}")?;
        if let Some(p) = &view.problem {
            writeln!(t.out, "  cannot be listed: {p}")?;
        }
        writeln!(t.out, "\nfiles:")?;
        if view.files.is_empty() {
            writeln!(t.out, "  (none)")?;
        }
        for f in &view.files {
            let layout = f.layout.map(|l| l.to_string()).unwrap_or_else(|| "-".into());
            let version = f.version.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
            let family = f.family.as_deref().unwrap_or("-");
            let wanted: Vec<String> = f.wanted_by.iter().map(|m| m.to_string()).collect();
            let wanted = if wanted.is_empty() { "no model".into() } else { wanted.join(", ") };
            writeln!(
                t.out,
                "  {}  {} bytes  {layout} {family} {version}  {}  (requested by {wanted})",
                printable(&f.name),
                f.size,
                printable(&f.state)
            )?;
        }
        writeln!(t.out, "\nmodels:")?;
        for m in &view.models {
            let versions: Vec<String> = m.versions.iter().map(|v| v.to_string()).collect();
            let have = if versions.is_empty() { "not in the folder".into() } else { versions.join(", ") };
            writeln!(
                t.out,
                "  {}  requests {}  folder: {have}  ({} device(s))",
                m.model,
                m.request.as_deref().unwrap_or("(unknown name)"),
                m.devices.len()
            )?;
        }
        writeln!(t.out, "\ndevices:")?;
        for d in &view.devices {
            let label = if d.label.is_empty() { String::new() } else { format!(" ({})", printable(&d.label)) };
            let p192 = d.p192.as_deref().map(|p| format!("  P192 = {}", printable(p))).unwrap_or_default();
            writeln!(
                t.out,
                "  {}{label} {}  {}  {}{p192}",
                d.mac,
                d.model,
                printable(&d.path),
                d.plan.action.describe()
            )?;
        }
        if !view.flags.is_empty() {
            writeln!(t.out, "\nflags:")?;
        }
        for f in &view.flags {
            let level = match f.level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Note => "note",
            };
            writeln!(t.out, "  {level}: {}: {}", printable(&f.at), printable(&f.message))?;
        }
    }
    match view.errors() {
        0 => Ok(()),
        n => Err(Error::CheckFailed(n)),
    }
}

/// Loads, checks and generates a site, as `generate` does.
fn load_and_generate(path: &Path, t: &mut Term) -> Result<(Site, generate::Output), Error> {
    let site = storage::load_site(path)?;
    match generate::checked(&site, &mut generate::os_salts()) {
        Ok(output) => {
            print_issues(&output.warnings, t)?;
            // Secrets going out unprotected are said wherever files are written or served, not only by `check`.
            print_issues(&site.exposure(), t)?;
            // So is DHCP silently replacing the time zone or NTP server the site sets.
            print_issues(&output.dhcp_overrides, t)?;
            Ok((site, output))
        }
        Err(generate::BuildError::SiteHasErrors(errors)) => Err(Error::SiteHasErrors(print_issues(&errors, t)?)),
        Err(generate::BuildError::Generate(e)) => Err(e.into()),
    }
}

/// `gsprov serve`: starts the servers, prints one line (or JSON object) per
/// request until `interrupt` receives, then stops and prints a status summary.
pub fn serve(args: &ServeOptions, t: &mut Term, interrupt: &std::sync::mpsc::Receiver<()>) -> Result<(), Error> {
    let (site, output) = load_and_generate(&args.site, t)?;
    let paths = storage::site_paths(&args.site, &site.serving.firmware_dir);
    if let Some(problem) = storage::firmware_dir_problem(&args.site, &paths) {
        return Err(Error::FirmwareExposed(problem));
    }
    // Stepped upgrades: devices whose next image is in a <model>/<version>/
    // folder get P192 pointing there, from what they last reported.
    let reported = reported_firmware(&args.site)?;
    let mut steps = Steps::default();
    let (stepped, output) = match steps.update(&args.site, &site, &|m| reported.get(&m).cloned()) {
        Some(stepped) => {
            let out = generate::checked(&stepped, &mut generate::os_salts()).map_err(|e| match e {
                generate::BuildError::SiteHasErrors(errors) => Error::SiteHasErrors(errors.len()),
                generate::BuildError::Generate(e) => e.into(),
            })?;
            (stepped, out)
        }
        None => (site.clone(), output),
    };
    let mut config = ServeConfig::from_site(&stepped, &output, paths)?;
    if let Some(b) = args.bind {
        config.bind = b;
    }
    config.tftp_port = args.tftp.apply(config.tftp_port);
    config.http_port = args.http.apply(config.http_port);
    config.https_port = args.https.apply(config.https_port);
    if Protocol::ALL.iter().all(|p| config.port(*p).is_none()) {
        return Err(Error::NothingToServe);
    }
    if let Some(pnp) = &args.pnp {
        config.pnp = Some(pnp_config(pnp, config.bind)?);
    }
    config.syslog = args.syslog;
    let served = config.served.clone();
    let config_tftp = config.tftp_port.is_some();
    let firmware_dir = config.firmware_dir.clone();
    let bind = config.bind;
    let (mut sup, events) =
        Supervisor::new(Hooks::default()).map_err(|error| Error::Service { protocol: Protocol::Tftp, error })?;
    sup.start(config);
    let mut status = Status::new(&served);
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
        sup.stop();
        while let Ok(ev) = events.try_recv() {
            print_event(&ev, args.json, bind, t)?;
        }
        return Err(e);
    }
    if !args.json {
        let fw = match &firmware_dir {
            Some(d) => match storage::list_firmware(d, &[]) {
                Ok(files) => format!("firmware folder {} ({} files)", d.display(), files.len()),
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
                if moved
                    && let Some(stepped) =
                        steps.update(&args.site, &site, &|m| status.device(m).and_then(|d| d.firmware.clone()))
                {
                    match generate::checked(&stepped, &mut generate::os_salts()) {
                        Ok(out) => {
                            sup.replace_files(crate::serving::Served::new(&stepped, &out));
                            writeln!(t.err, "firmware steps changed; configs regenerated with the new P192 values")?;
                        }
                        Err(e) => {
                            writeln!(t.err, "firmware steps changed but the configs could not be regenerated: {e}")?
                        }
                    }
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    sup.stop();
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

/// Warns when the devices are told (P237/P192/P212 in the site defaults) to
/// fetch from somewhere other than the servers just started.
fn print_address_check(
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

/// The PnP responder for `serve --pnp`: on `--interface`, else the interface
/// holding the bind address, else the first that is not loopback.
fn pnp_config(args: &PnpOptions, bind: std::net::IpAddr) -> Result<PnpConfig, Error> {
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

fn url_of(protocol: Protocol, addr: std::net::SocketAddr, bind: std::net::IpAddr) -> String {
    if bind.is_unspecified() {
        format!("{}://<this computer's address>:{}/", protocol.scheme(), addr.port())
    } else {
        format!("{}://{addr}/", protocol.scheme())
    }
}

fn print_event(ev: &Event, json_out: bool, bind: std::net::IpAddr, t: &mut Term) -> Result<(), Error> {
    if json_out {
        let v = match ev {
            Event::Started { protocol, addr, certificate } => json!({
                "event": "started", "protocol": protocol, "addr": addr.to_string(),
                "url": url_of(*protocol, *addr, bind),
                "certificate_sha256": certificate.as_ref().map(|c| c.sha256.clone()),
                "certificate_spki_sha256": certificate.as_ref().map(|c| c.spki_sha256_base64.clone()),
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
        }
        Event::Started { protocol: Protocol::Syslog, addr, .. } => {
            writeln!(t.out, "SYSLOG receiver on {addr} (UDP); point the devices' P207 here (P208 sets the level)")?;
        }
        Event::Started { protocol, addr, certificate } => {
            writeln!(t.out, "{protocol:<5} listening on {addr}   {}", url_of(*protocol, *addr, bind))?;
            if *protocol == Protocol::Tftp && addr.port() != 69 {
                writeln!(
                    t.out,
                    "      note: devices ask TFTP on port 69, not {}: this port is for tests with `gsprov fetch`/tftp; \
                     to serve devices use --tftp-port 69 (needs root or `sudo setcap cap_net_bind_service=+ep`)",
                    addr.port()
                )?;
            }
            if let Some(c) = certificate {
                let stored = match (&c.path, c.created) {
                    (Some(p), true) => format!("new, stored in {}", p.display()),
                    (Some(p), false) => format!("from {}", p.display()),
                    (None, _) => "in memory for this run".into(),
                };
                writeln!(t.out, "      certificate SHA-256 {} ({stored})", c.sha256)?;
                writeln!(t.out, "      curl --pinnedpubkey sha256//{}", c.spki_sha256_base64)?;
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

/// One line for a discovery event.
fn discovery_line(d: &DiscoveryEvent) -> String {
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

fn discovery_json(d: &DiscoveryEvent) -> serde_json::Value {
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

/// `gsprov interfaces`: the IPv4 interfaces, to pick one for `--interface`.
pub fn interfaces(args: &InterfacesArgs, t: &mut Term) -> Result<(), Error> {
    let all = interfaces::list()?;
    if args.json {
        writeln!(t.out, "{}", serde_json::to_string(&all).unwrap_or_default())?;
        return Ok(());
    }
    let default = interfaces::choose(&all, None).ok();
    for i in &all {
        let note = if i.loopback {
            " (loopback: this computer only)"
        } else if default.as_ref() == Some(i) {
            " (default)"
        } else {
            ""
        };
        writeln!(t.out, "{:<16} {}/{}{note}", i.name, i.ipv4, i.prefix)?;
    }
    Ok(())
}

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

fn print_summary(status: &Status, json_out: bool, t: &mut Term) -> Result<(), Error> {
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
                   "known": s.known, "never_seen": s.never_seen, "probing": s.probing, "got_config": s.got_config,
                   "got_firmware": s.got_firmware, "error": s.error, "unassigned": s.unassigned,
                   "forgotten": s.forgotten, "devices": devices})
        )?;
        return Ok(());
    }
    writeln!(
        t.out,
        "summary: {} requests, {} served, {} bytes; {} known devices: {} got config, {} got firmware, {} probing, {} with errors, {} never seen; {} unassigned",
        s.requests,
        s.served,
        s.bytes,
        s.known,
        s.got_config,
        s.got_firmware,
        s.probing,
        s.error,
        s.never_seen,
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
        if let Some(n) = &d.note {
            writeln!(t.out, "      note: {}", printable(n))?;
        }
    }
    if hidden > 0 {
        writeln!(t.out, "  ... and {hidden} more unassigned devices (gsprov serve --json lists them all)")?;
    }
    Ok(())
}

/// `gsprov fetch`: fetches like a device, then decodes what came back.
pub fn fetch(args: &FetchArgs, t: &mut Term) -> Result<(), Error> {
    let site = args.site.as_deref().map(storage::load_site).transpose()?;
    let model: crate::ids::Model = match (&args.model, site.as_ref().and_then(|s| s.device(args.mac))) {
        (Some(m), _) => m.clone(),
        (None, Some(d)) => d.model.clone(),
        (None, None) => "GXP2170".parse().expect("GXP2170 is a model name"),
    };
    let site_auth = site.as_ref().and_then(|s| s.serving.auth.clone());
    let credentials = match (&args.user, &args.http_password, site_auth) {
        (Some(u), Some(p), _) => Some(site::HttpAuth { username: u.clone(), password: p.clone() }),
        (_, _, Some(a)) => Some(a),
        _ => None,
    };
    let opts = FetchOptions {
        user_agent: client::grandstream_user_agent(&model, &args.firmware, args.mac),
        fingerprint: args.fingerprint.clone(),
        credentials,
        timeout: std::time::Duration::from_secs(5),
        ..FetchOptions::default()
    };
    let err = &mut *t.err;
    let got = client::fetch_with_progress(&args.url, &opts, &mut |line| {
        let _ = writeln!(err, "{line}");
    })
    .map_err(|error| Error::Fetch { url: args.url.clone(), error })?;
    let how = if got.status == 0 { "TFTP".to_string() } else { format!("HTTP {}", got.status) };
    writeln!(
        t.err,
        "fetched {} as {} ({model} {}): {how}, {} bytes",
        args.url,
        args.mac,
        args.firmware,
        got.bytes.len()
    )?;
    if let Some(c) = &got.certificate {
        writeln!(t.err, "server certificate SHA-256 {c}")?;
    }
    if let Some(out) = &args.out {
        storage::write_atomic(out, &got.bytes, false)?;
    }
    let password = args
        .password
        .clone()
        .or_else(|| site.as_ref().map(|s| s.provisioning.xml_password.clone()).filter(|p| !p.is_empty()));
    let digest = site.as_ref().map_or(crypto::Digest::Md5, |s| s.provisioning.digest);
    let mut extra = serde_json::Map::new();
    extra.insert("url".into(), json!(args.url));
    extra.insert("status".into(), json!(got.status));
    extra.insert("bytes".into(), json!(got.bytes.len()));
    extra.insert("certificate_sha256".into(), json!(got.certificate));
    match decode::any(&got.bytes, password.as_deref(), digest) {
        Ok(d) => print_decoded(&args.url, &d, args.show_secrets, args.json, extra, t),
        Err(e) if crypto::is_salted(&got.bytes) => {
            Err(Error::Undecodable { path: args.url.clone(), message: e.to_string() })
        }
        Err(_) => {
            use sha2::Digest as _;
            let sum: String = sha2::Sha256::digest(&got.bytes).iter().map(|b| format!("{b:02x}")).collect();
            if args.json {
                extra.insert("format".into(), json!("not a config file"));
                extra.insert("sha256".into(), json!(sum));
                writeln!(t.out, "{}", serde_json::Value::Object(extra))?;
            } else {
                writeln!(
                    t.out,
                    "# {}: not a config file (firmware?), {} bytes, SHA-256 {sum}",
                    args.url,
                    got.bytes.len()
                )?;
            }
            Ok(())
        }
    }
}

/// Where each MAC is: `--to` (one MAC only), else the address of its last
/// request in the site's request log, else the neighbour table. Only devices
/// of the site are targets (their accounts are the digest credentials).
fn device_addresses(
    site_path: &Path,
    site: &Site,
    macs: &[crate::ids::Mac],
    to: Option<crate::cli::Address>,
) -> Result<Vec<(crate::site::Device, std::net::IpAddr, Option<u16>)>, Error> {
    if to.is_some() && macs.len() > 1 {
        return Err(Error::Target(format!("--to names one address, but {} MACs were given; give one MAC", macs.len())));
    }
    let mut out = Vec::new();
    let log = storage::site_paths(site_path, "").request_log;
    let seen = match &log {
        Some(l) => storage::last_clients(l)?,
        None => Default::default(),
    };
    let mut neighbours: Option<Vec<crate::formats::neigh::Neighbour>> = None;
    for mac in macs {
        let Some(d) = site.device(*mac) else {
            return Err(Error::Target(format!(
                "{mac} is not a device of {}; add it (or adopt it with gsprov discover --adopt) first",
                site_path.display()
            )));
        };
        if let Some(a) = to {
            out.push((d.clone(), a.ip, a.port));
            continue;
        }
        if let Some(ip) = seen.get(mac) {
            out.push((d.clone(), *ip, None));
            continue;
        }
        let table = neighbours.get_or_insert_with(|| {
            use crate::services::neighbours::NeighbourTable as _;
            crate::services::neighbours::OsTable.read().unwrap_or_default()
        });
        match table.iter().find(|n| n.mac == *mac) {
            Some(n) => out.push((d.clone(), n.ip, None)),
            None => {
                return Err(Error::Target(format!(
                    "no address known for {mac}: it made no request in {} and is not in the neighbour table; give it with --to ADDR",
                    log.map(|l| l.display().to_string()).unwrap_or_default()
                )));
            }
        }
    }
    Ok(out)
}

/// The P26015 warning before any action towards a device that allows a SIP reset.
fn warn_sip_reset(site: &Site, d: &crate::site::Device, t: &mut Term) -> Result<(), Error> {
    if crate::services::notify::allows_sip_reset(site, d) {
        writeln!(
            t.err,
            "warning: the site sets P26015 (Allow SIP Reset) = 1 for {}: a SIP NOTIFY could factory-reset it; gsprov never sends one, but set it to 0",
            d.mac
        )?;
    }
    Ok(())
}

/// `gsprov notify resync|reboot SITE MAC...`: one SIP NOTIFY transaction per
/// device, paced; each outcome printed as it ends.
pub fn notify(args: &crate::cli::NotifyArgs, t: &mut Term) -> Result<(), Error> {
    use crate::services::notify::{self, Pace, Timers};
    let site = storage::load_site(&args.site)?;
    let action: crate::formats::resync::Action = args.action.into();
    let devices = device_addresses(&args.site, &site, &args.macs, args.to)?;
    let mut targets = Vec::new();
    for (d, ip, port) in &devices {
        warn_sip_reset(&site, d, t)?;
        let target = notify::target(&site, d, *ip, *port);
        if target.credentials.is_empty() {
            writeln!(
                t.err,
                "note: {} has no account password in the site; a challenged NOTIFY cannot be answered",
                d.mac
            )?;
        }
        targets.push(target);
    }
    let timers = Timers::from_t1(std::time::Duration::from_millis(args.t1_ms));
    let pace = Pace { interval: std::time::Duration::from_millis(args.interval_ms), ..Pace::default() };
    let mut write_error = None;
    let reports = notify::send_all(&targets, action, &timers, pace, &mut |r| {
        let line = if args.json { serde_json::to_string(r).unwrap_or_default() } else { r.to_string() };
        if let Err(e) = writeln!(t.out, "{line}").and_then(|()| t.out.flush()) {
            write_error.get_or_insert(e);
        }
    })
    .map_err(|e| Error::Target(e.to_string()))?;
    if let Some(e) = write_error {
        return Err(Error::Output(e));
    }
    let failed = reports.iter().filter(|r| !r.outcome.is_success()).count();
    if failed > 0 {
        return Err(Error::DevicesFailed { what: action.describe(), failed, total: reports.len() });
    }
    Ok(())
}

/// `gsprov check-device SITE MAC...`: asks each device's web API for its
/// registration, firmware and a read-back of what was served; one line (or
/// JSON object) per device as it ends.
pub fn check_device(args: &crate::cli::CheckDeviceArgs, t: &mut Term) -> Result<(), Error> {
    use crate::services::{notify, webapi};
    let site = storage::load_site(&args.site)?;
    let devices = device_addresses(&args.site, &site, &args.macs, args.to)?;
    if devices.len() > notify::MAX_TARGETS {
        return Err(Error::Target(format!(
            "{} devices at once; gsprov checks at most {} per command",
            devices.len(),
            notify::MAX_TARGETS
        )));
    }
    let mut targets = Vec::new();
    for (d, ip, port) in &devices {
        warn_sip_reset(&site, d, t)?;
        targets.push(webapi::target(&site, d, *ip, *port));
    }
    let mut write_error = None;
    let reports = webapi::check_all(&targets, std::time::Duration::from_secs(args.timeout), &mut |r| {
        let line = if args.json { serde_json::to_string(r).unwrap_or_default() } else { r.to_string() };
        if let Err(e) = writeln!(t.out, "{line}").and_then(|()| t.out.flush()) {
            write_error.get_or_insert(e);
        }
    });
    if let Some(e) = write_error {
        return Err(Error::Output(e));
    }
    let failed = reports.iter().filter(|r| !r.result.is_success()).count();
    if failed > 0 {
        return Err(Error::ChecksFailed { failed, total: reports.len() });
    }
    Ok(())
}

/// `gsprov params MODEL`: what the catalog knows for the model's family, as
/// lines or one JSON object per setting. An unknown model gets the nearest
/// family and a warning on stderr.
pub fn params(args: &ParamsArgs, t: &mut Term) -> Result<(), Error> {
    use crate::catalog::{Family, FamilyCatalog};
    let matched = Family::of_model(&args.model);
    if let Some(w) = matched.warning(&args.model) {
        writeln!(t.err, "warning: {w}")?;
    }
    let table = FamilyCatalog::get(matched.family);
    let needle = args.search.as_deref().map(str::to_lowercase);
    let hit = |p: &crate::catalog::Param| {
        needle.as_deref().is_none_or(|n| {
            let id = p.id.map(|i| i.to_string().to_lowercase()).unwrap_or_default();
            id == n
                || id.strip_prefix('p') == Some(n)
                || p.label.to_lowercase().contains(n)
                || p.section.to_lowercase().contains(n)
                || p.alias.as_deref().is_some_and(|a| a.to_lowercase().contains(n))
        })
    };
    let kind_name = |k: &ValueKind| match k {
        ValueKind::Text { .. } => "text",
        ValueKind::Password => "password",
        ValueKind::Bool => "bool",
        ValueKind::Int { .. } => "int",
        ValueKind::Enum(_) => "enum",
        ValueKind::Host => "host",
        ValueKind::ServerPath => "server-path",
    };
    let mut shown = 0usize;
    for p in table.params().iter().filter(|p| hit(p)) {
        shown += 1;
        if args.json {
            let mut o = serde_json::Map::new();
            o.insert("family".into(), json!(matched.family.name()));
            o.insert("p".into(), json!(p.id.map(|i| i.to_string())));
            o.insert("alias".into(), json!(p.alias));
            o.insert("label".into(), json!(p.label));
            o.insert("section".into(), json!(p.section));
            o.insert("type".into(), json!(kind_name(&p.kind)));
            match &p.kind {
                ValueKind::Int { min, max } if *min != i64::MIN => {
                    let ranges: Vec<[i64; 2]> = if p.ranges.is_empty() {
                        vec![[*min, *max]]
                    } else {
                        p.ranges.iter().map(|(a, b)| [*a, *b]).collect()
                    };
                    o.insert("ranges".into(), json!(ranges));
                }
                ValueKind::Enum(codes) => {
                    let values: Vec<_> = codes.iter().map(|(c, m)| json!({"value": c, "meaning": m})).collect();
                    o.insert("values".into(), json!(values));
                }
                ValueKind::Text { max_len: Some(n) } => {
                    o.insert("max_len".into(), json!(n));
                }
                _ => {}
            }
            o.insert("default".into(), json!((!p.default.is_empty()).then_some(&p.default)));
            o.insert("mandatory".into(), json!(p.mandatory));
            o.insert("source".into(), json!(p.source));
            if !p.notes.is_empty() {
                o.insert("notes".into(), json!(p.notes));
            }
            writeln!(t.out, "{}", serde_json::Value::Object(o))?;
        } else {
            let id = p.id.map(|i| i.to_string()).unwrap_or_else(|| "-".into());
            let label = if p.label.is_empty() { "(no label in the template)" } else { &p.label };
            let mut line = format!("{id:<7} {label}");
            if let Some(a) = &p.alias {
                line.push_str(&format!("  [{a}]"));
            }
            line.push_str(&format!("  {}", kind_name(&p.kind)));
            if !p.allowed.is_empty() {
                line.push_str(&format!(" {}", p.allowed));
            }
            if !p.default.is_empty() {
                line.push_str(&format!("  default {}", p.default));
            }
            if !p.section.is_empty() {
                line.push_str(&format!("  ({})", p.section));
            }
            writeln!(t.out, "{line}")?;
        }
    }
    if !args.json {
        let sources: Vec<String> = table
            .templates()
            .iter()
            .map(|s| format!("{} {}{}", s.folder, s.firmware, if s.xml == 2 { " (v2)" } else { "" }))
            .collect();
        writeln!(
            t.err,
            "{}: family {}, {shown} of {} settings (from the templates {})",
            args.model,
            matched.family,
            table.params().len(),
            sources.join(", ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_site_parses() {
        assert!(site::demo().devices.len() >= 4);
    }
}
