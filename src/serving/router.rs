//! Decides what a request gets and why: a generated file, a firmware file, or
//! a refusal with a plain-language explanation a technician can act on.
//!
//! Pure: no sockets, files or clock. The servers hand it the request (protocol,
//! path as sent, client, User-Agent, time), the served set, a listing of the
//! firmware folder (names only; it never reads the folder), the policy and what
//! the status fold knows. It never builds a file-system path from a request:
//! firmware is answered with an entry of the listing, so nothing outside the
//! served set can be named, let alone read.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use crate::formats::http::percent_decode;
use crate::formats::request::{self, Asked};
use crate::formats::useragent::UserAgent;
use crate::generate::{File, FileKind};
use crate::ids::Mac;
use crate::serving::FirmwareFile;
use crate::serving::firmware::FirmwareListing;
use crate::serving::{ContentKind, Policy, Protocol, Refusal, Served, rfc3339};
use crate::site::BinaryMode;

/// Longest path accepted (a P237 path is at most 256 characters plus the name).
pub const MAX_PATH: usize = 1024;
/// Longest single name (most file systems' limit).
pub const MAX_NAME: usize = 255;

/// Words of a firmware miss's explanation that the status fold reads to note
/// why no firmware was offered ([`crate::serving::status::Step`]).
pub const FOLDER_EMPTY: &str = "(it is empty)";
pub const NO_FOLDER: &str = "no firmware folder is set";
pub const FOLDER_UNREADABLE: &str = "cannot be read";
/// The image is in a step subfolder but the device asked the old path.
pub const ASKS_OLD_PATH: &str = "it is asking the old path";

/// What a firmware listing holds, for an explanation.
fn sample(listing: &FirmwareListing) -> String {
    let files = listing.files();
    let shown = files.iter().take(8).map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ");
    match files.len() {
        0 => FOLDER_EMPTY.trim_matches(['(', ')']).into(),
        n if n > 8 => format!("it holds {shown} and {} more", n - 8),
        _ => format!("it holds {shown}"),
    }
}

/// A request as the router sees it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub protocol: Protocol,
    /// TFTP file name, or HTTP request target (still percent-encoded, may carry a query).
    pub target: &'a str,
    pub client: SocketAddr,
    pub user_agent: &'a UserAgent,
    /// The MAC this client's IP last asked about (from the status fold), used
    /// when the User-Agent says nothing (TFTP).
    pub ip_mac: Option<Mac>,
    /// The firmware the status fold last saw for that MAC, used when the
    /// User-Agent says nothing (TFTP).
    pub ip_firmware: Option<&'a str>,
    pub now: SystemTime,
}

/// What the status fold knows that the policy needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    /// Every known device has fetched its config (closes a window with `until_all_configured`).
    pub all_configured: bool,
}

/// Where the bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    Generated(Arc<File>),
    Firmware(FirmwareFile),
}

impl Source {
    pub fn name(&self) -> &str {
        match self {
            Source::Generated(f) => &f.name,
            Source::Firmware(f) => &f.name,
        }
    }

    pub fn size(&self) -> u64 {
        match self {
            Source::Generated(f) => f.bytes.len() as u64,
            Source::Firmware(f) => f.size,
        }
    }

    pub fn kind(&self) -> ContentKind {
        match self {
            Source::Generated(f) => ContentKind::Config(f.kind),
            Source::Firmware(_) => ContentKind::Firmware,
        }
    }
}

/// The router's answer.
#[derive(Debug, Clone)]
pub struct Decision {
    pub verdict: Verdict,
    /// The device the request is about (path MAC, else User-Agent MAC).
    pub mac: Option<Mac>,
    /// What the name asks for, when it could be read.
    pub kind: Option<ContentKind>,
    pub explanation: String,
}

#[derive(Debug, Clone)]
pub enum Verdict {
    Serve(Source),
    Refuse { reason: Refusal, expected: bool },
}

impl Decision {
    fn refuse(reason: Refusal, expected: bool, mac: Option<Mac>, kind: Option<ContentKind>, why: String) -> Self {
        Decision { verdict: Verdict::Refuse { reason, expected }, mac, kind, explanation: why }
    }
}

/// Routes one request.
pub fn route(req: &Request, served: &Served, firmware: &FirmwareListing, policy: &Policy, facts: Facts) -> Decision {
    let ua_mac = req.user_agent.mac;
    let path = match clean(req.protocol, req.target) {
        Ok(p) => p,
        Err(why) => return Decision::refuse(Refusal::BadName, false, ua_mac, None, why),
    };
    let naming = served.naming();
    let parsed = request::parse(&path, &naming);
    let name = parsed.file.as_str();
    let path_mac = match &parsed.asked {
        Asked::BinaryConfig { mac, .. } | Asked::DeviceXml { mac } => Some(*mac),
        _ => None,
    };
    let mac = path_mac.or(ua_mac);
    let asked_kind = match &parsed.asked {
        Asked::BinaryConfig { .. } => Some(ContentKind::Config(FileKind::Binary)),
        Asked::DeviceXml { .. } => Some(ContentKind::Config(FileKind::DeviceXml)),
        Asked::ModelXml { .. } => Some(ContentKind::Config(FileKind::ModelXml)),
        Asked::GenericXml => Some(ContentKind::Config(FileKind::GenericXml)),
        Asked::Firmware { .. } => Some(ContentKind::Firmware),
        Asked::Unknown => None,
    };
    if name.is_empty() {
        return Decision::refuse(
            Refusal::NotFound,
            false,
            mac,
            None,
            "no file name: this is a provisioning server; devices ask for cfg<mac>, cfg<mac>.xml, cfg<model>.xml, \
             cfg.xml or a firmware file"
                .into(),
        );
    }
    // Once every device is configured only config files stop: firmware
    // downloads follow the config and may still be under way.
    // The phonebook too: devices fetch it again every P332 minutes.
    let facts = if asked_kind == Some(ContentKind::Firmware)
        || firmware.get(name).is_some()
        || served.file(name).is_some_and(|f| f.kind == FileKind::Phonebook)
    {
        Facts { all_configured: false }
    } else {
        facts
    };
    if let Some(why) = window_closed(policy, req.now, facts) {
        return Decision::refuse(Refusal::Policy, false, mac, asked_kind, why);
    }

    // 1. A generated file of exactly this name (any case).
    if let Some(file) = served.file(name) {
        let kind = Some(ContentKind::Config(file.kind));
        let mac = file.device.or(mac);
        if policy.known_macs_only
            && file.device.is_none()
            && let Some(why) = shared_file_refused(req, served)
        {
            return Decision::refuse(Refusal::Policy, false, mac, kind, why);
        }
        if req.protocol == Protocol::Tftp
            && policy.auth.is_some()
            && !policy.allow_secrets_over_tftp
            && file.carries_secrets()
        {
            return Decision::refuse(
                Refusal::Policy,
                false,
                mac,
                kind,
                format!(
                    "refused over TFTP: {} carries passwords and the site requires HTTP authentication \
                     ([serving.auth]), which TFTP cannot do; point the device at HTTP or HTTPS (P212/P237), or set \
                     serving.allow_secrets_over_tftp = true to serve it anyway",
                    file.name
                ),
            );
        }
        let mut explanation = served_note(file, req, served);
        if file.kind == FileKind::Bootstrap {
            let n = served.naming();
            let _ = write!(
                explanation,
                "; it sets the config prefix {:?} (P234) and postfix {:?} (P235), so the device's next requests \
                 ask for the site's names",
                n.prefix, n.postfix
            );
        }
        return Decision { verdict: Verdict::Serve(Source::Generated(file.clone())), mac, kind, explanation };
    }

    // 2. A file of the firmware folder (never a config-shaped name, so the
    // folder cannot bypass known-MACs-only or hand out an exported config).
    if !matches!(
        parsed.asked,
        Asked::BinaryConfig { .. } | Asked::DeviceXml { .. } | Asked::ModelXml { .. } | Asked::GenericXml
    ) && let Some(fw) = firmware_entry(firmware, &parsed.dir, name)
    {
        if let Err(why) = firmware_rules(req, served, firmware, mac, fw) {
            return Decision::refuse(Refusal::NotFound, why.1, mac, Some(ContentKind::Firmware), why.0);
        }
        let version = fw.version().map(|v| format!(", version {v}")).unwrap_or_default();
        let explanation = format!("firmware file {} ({} bytes{version}) from the firmware folder", fw.name, fw.size);
        return Decision {
            verdict: Verdict::Serve(Source::Firmware(fw.clone())),
            mac,
            kind: Some(ContentKind::Firmware),
            explanation,
        };
    }

    // 3. A miss: say why, in words a technician can act on.
    explain_miss(req, &parsed, served, firmware, policy, mac, asked_kind)
}

/// Refuses what no device sends: traversal, Windows paths and device names,
/// encoded separators, control characters, over-long names. Returns the
/// decoded path (HTTP: without query and scheme/authority).
pub fn clean(protocol: Protocol, target: &str) -> Result<String, String> {
    let bad = |what: &str| Err(format!("refused: {what}; devices never send such names, so this is a probe or a typo"));
    if target.len() > MAX_PATH {
        return bad(&format!("the path is {} characters long (limit {MAX_PATH})", target.len()));
    }
    if target.bytes().any(|b| b == 0) {
        return bad("the name contains a NUL byte");
    }
    let path = match protocol {
        // SIP requests never reach the router; treat a name like a TFTP one.
        Protocol::Tftp | Protocol::Sip | Protocol::Syslog | Protocol::Dhcp => target.to_string(),
        Protocol::Http | Protocol::Https => {
            let mut t = target;
            // Absolute form (`http://host/path`), as proxies send it.
            if let Some(rest) = t.strip_prefix("http://").or_else(|| t.strip_prefix("https://")) {
                t = rest.find('/').map_or("/", |i| &rest[i..]);
            }
            let t = t.split(['?', '#']).next().unwrap_or("");
            if !t.starts_with('/') {
                return bad("the request target does not start with '/'");
            }
            let lower = t.to_ascii_lowercase();
            for (enc, what) in [
                ("%2e", "a percent-encoded dot"),
                ("%2f", "a percent-encoded slash"),
                ("%5c", "a percent-encoded backslash"),
                ("%00", "a percent-encoded NUL"),
                ("%25", "a double percent-encoding"),
            ] {
                if lower.contains(enc) {
                    return bad(&format!("the path contains {what} ({enc})"));
                }
            }
            let Some(bytes) = percent_decode(t) else {
                return bad("the path has a '%' that is not followed by two hex digits");
            };
            match String::from_utf8(bytes) {
                Ok(s) => s,
                Err(_) => return bad("the path is not valid text after percent-decoding"),
            }
        }
    };
    if let Some(c) = path.chars().find(|c| c.is_control()) {
        return bad(&format!("the name contains the control character {:?}", c));
    }
    if path.contains('\\') {
        return bad("the name contains a backslash (a Windows path)");
    }
    if let Some(c) = path.chars().find(|c| !c.is_ascii()) {
        return bad(&format!("the name contains {c:?}, which is not ASCII"));
    }
    if let Some(c) = path.chars().find(|c| matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|' | '%' | ' ')) {
        return bad(&format!("the name contains {c:?}"));
    }
    for comp in path.split('/') {
        if comp == "." || comp == ".." {
            return bad(&format!("the path contains a {comp:?} component (path traversal)"));
        }
        if comp.len() > MAX_NAME {
            return bad(&format!("a name is {} characters long (limit {MAX_NAME})", comp.len()));
        }
        if comp.ends_with('.') && !comp.is_empty() {
            return bad("a name ends with a dot");
        }
        let stem = comp.split('.').next().unwrap_or("").to_ascii_uppercase();
        let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$")
            || ((stem.starts_with("COM") || stem.starts_with("LPT"))
                && stem.len() == 4
                && stem.as_bytes()[3].is_ascii_digit());
        if device {
            return bad(&format!("{comp:?} is a Windows device name"));
        }
    }
    Ok(path)
}

fn window_closed(policy: &Policy, now: SystemTime, facts: Facts) -> Option<String> {
    let w = &policy.window;
    if let Some(start) = w.start
        && now < start
    {
        return Some(format!(
            "refused by policy: the serving window opens at {} (UTC); wait, or clear the start time",
            rfc3339(start)
        ));
    }
    if let Some(stop) = w.stop
        && now >= stop
    {
        return Some(format!(
            "refused by policy: the serving window closed at {} (UTC); extend or clear the stop time",
            rfc3339(stop)
        ));
    }
    if w.until_all_configured && facts.all_configured {
        return Some(
            "refused by policy: the serving window closed because every known device has fetched its config; \
             turn off \"stop when all devices are configured\" to serve again"
                .into(),
        );
    }
    None
}

/// Known-MACs-only for `cfg.xml` / `cfg<model>.xml`: the requester must be a
/// known device, identified by its User-Agent or an earlier request from its IP.
fn shared_file_refused(req: &Request, served: &Served) -> Option<String> {
    match req.user_agent.mac.or(req.ip_mac) {
        Some(m) if served.device(m).is_some() => None,
        Some(m) => Some(format!(
            "refused by policy: known-MACs-only is on and {m} (the requesting device) is not in the site; \
             add it to the site or turn known-MACs-only off"
        )),
        None => Some(format!(
            "refused by policy: known-MACs-only is on and this request does not say which device it is \
             (no MAC in a User-Agent, no earlier cfg<mac> request from {}); turn known-MACs-only off to serve \
             shared files to unidentified clients",
            req.client.ip()
        )),
    }
}

fn served_note(file: &File, req: &Request, served: &Served) -> String {
    let mut s = format!("{} ({}{})", file.name, file.kind.describe(), if file.encrypted { ", encrypted" } else { "" });
    if let Some(d) = file.device.and_then(|m| served.device(m)) {
        let label = if d.label.is_empty() { String::new() } else { format!("{}, ", d.label) };
        let _ = write!(s, " for {label}{} {}", d.model, d.mac);
        if let Some(ua_model) = &req.user_agent.model
            && ua_model != &d.model
        {
            let _ = write!(
                s,
                "; note: the User-Agent says {ua_model} but the site lists {} for this MAC; check the site",
                d.model
            );
        }
        if let Some(ua_mac) = req.user_agent.mac
            && ua_mac != d.mac
        {
            let _ = write!(s, "; note: asked by a device whose User-Agent says {ua_mac}");
        }
    }
    s
}

/// Hex digits that differ between two MACs.
fn mac_distance(a: Mac, b: Mac) -> u32 {
    a.bytes().iter().zip(b.bytes()).map(|(x, y)| u32::from(x >> 4 != y >> 4) + u32::from(x & 15 != y & 15)).sum()
}

/// The known MAC one or two hex digits away, if exactly one is that close.
fn nearest_known(mac: Mac, served: &Served) -> Option<(Mac, u32)> {
    let mut best: Option<(Mac, u32)> = None;
    for &m in served.devices().keys() {
        let d = mac_distance(mac, m);
        if (1..=2).contains(&d) && best.is_none_or(|(_, bd)| d < bd) {
            best = Some((m, d));
        }
    }
    best
}

fn describe_device(mac: Mac, served: &Served) -> String {
    match served.device(mac) {
        Some(d) if !d.label.is_empty() => format!("{mac} ({}, {})", d.label, d.model),
        Some(d) => format!("{mac} ({})", d.model),
        None => mac.to_string(),
    }
}

fn explain_miss(
    req: &Request,
    parsed: &request::Parsed,
    served: &Served,
    firmware: &FirmwareListing,
    policy: &Policy,
    mac: Option<Mac>,
    kind: Option<ContentKind>,
) -> Decision {
    let naming = served.naming();
    let name = parsed.file.as_str();
    let not_found = |expected: bool, why: String| Decision::refuse(Refusal::NotFound, expected, mac, kind, why);
    let affix_hint = |asked: &Asked, firmware: bool| -> String {
        let expected = request::file_name(asked, &naming).unwrap_or_default();
        let (p, s, pk, sk) = if firmware {
            (naming.fw_prefix, naming.fw_postfix, "P232", "P233")
        } else {
            (naming.prefix, naming.postfix, "P234", "P235")
        };
        let bootstrap = if !firmware && served.binary_mode() != BinaryMode::Off {
            " (a factory-fresh unit gets them from the unprefixed bootstrap cfg<mac>, served to it first)"
        } else {
            ""
        };
        format!(
            "{name} does not carry the site's {} prefix {p:?} ({pk}) and postfix {s:?} ({sk}): the site serves \
             {expected}. The device has other {pk}/{sk} values: provision it once with the site's values{bootstrap}, \
             or change the site's prefix/postfix to match",
            if firmware { "firmware" } else { "config" }
        )
    };
    match &parsed.asked {
        Asked::BinaryConfig { mac: m, .. } | Asked::DeviceXml { mac: m } => {
            let m = *m;
            let Some(dev) = served.device(m) else {
                let mut why = if policy.known_macs_only {
                    format!("refused by policy: known-MACs-only is on and {m} is not in the site")
                } else {
                    format!("{name} asks for MAC {m}, which is not in the site")
                };
                match nearest_known(m, served) {
                    Some((k, d)) => {
                        let _ = write!(
                            why,
                            ". The nearest known MAC is {} ({d} hex digit{} different): check the label and the site",
                            describe_device(k, served),
                            if d == 1 { "" } else { "s" }
                        );
                    }
                    None => why.push_str(". Add the device to the site (or import a CSV) and it will be served"),
                }
                let reason = if policy.known_macs_only { Refusal::Policy } else { Refusal::NotFound };
                return Decision::refuse(reason, false, mac, kind, why);
            };
            if !parsed.affix_ok {
                return not_found(false, affix_hint(&parsed.asked, false));
            }
            let (device_xml, _, _) = served.xml_switches();
            match parsed.asked {
                Asked::BinaryConfig { .. } => {
                    let why = match served.binary_mode() {
                        BinaryMode::Off => "binary files are off (binary = \"off\")".to_string(),
                        _ if dev.model.reads_xml() => format!(
                            "{} reads cfg{m}.xml and needs no binary file (binary = \"auto\" and the XML is not \
                             encrypted)",
                            dev.model
                        ),
                        _ => "no binary file was generated for it".to_string(),
                    };
                    not_found(
                        true,
                        format!(
                            "this 404 is expected: devices probe cfg<mac> before cfg<mac>.xml; {}: {why}",
                            describe_device(m, served)
                        ),
                    )
                }
                _ => {
                    let why = if !dev.model.reads_xml() {
                        format!("{} is a legacy model that reads only the binary cfg{m}", dev.model)
                    } else if !device_xml {
                        "per-device XML files are off (device_xml = false); it falls back to cfg<model>.xml / cfg.xml"
                            .to_string()
                    } else {
                        "no per-device XML was generated for it".to_string()
                    };
                    not_found(true, format!("this 404 is expected: {}: {why}", describe_device(m, served)))
                }
            }
        }
        Asked::ModelXml { model_stem } => {
            if !parsed.affix_ok {
                return not_found(false, affix_hint(&parsed.asked, false));
            }
            let in_site = served.devices().values().any(|d| d.model.file_stem() == *model_stem);
            let (_, model_xml, _) = served.xml_switches();
            let requester = req.user_agent.mac.or(req.ip_mac).and_then(|m| served.device(m));
            if let Some(d) = requester
                && d.model.file_stem() != *model_stem
            {
                return not_found(
                    false,
                    format!(
                        "wrong model file: {} is a {} in the site but asked for {name}; fix the model in the site \
                         (or the device is not the unit you think)",
                        describe_device(d.mac, served),
                        d.model
                    ),
                );
            }
            if !in_site {
                return not_found(
                    true,
                    format!(
                        "no device of model {} is in the site, so there is no {name}; the device moves on to \
                         cfg.xml",
                        model_stem.to_ascii_uppercase()
                    ),
                );
            }
            let why = if model_xml {
                "this model does not use a model file".to_string()
            } else {
                "model files are off (model_xml = false)".to_string()
            };
            not_found(true, format!("this 404 is expected: {why}; the device moves on to cfg.xml"))
        }
        Asked::GenericXml => {
            if !parsed.affix_ok {
                return not_found(false, affix_hint(&parsed.asked, false));
            }
            not_found(
                true,
                "this 404 is expected: the generic cfg.xml is off (generic_xml = false); devices ask for it only \
                 when their own file is missing"
                    .into(),
            )
        }
        Asked::Firmware { name: base } => {
            if !parsed.affix_ok && firmware.get(base).is_some() {
                return not_found(false, affix_hint(&parsed.asked, true));
            }
            let folder = match (&firmware.dir, &firmware.problem) {
                (None, _) => {
                    return not_found(
                        false,
                        format!(
                            "firmware {name} asked for, but no firmware folder is set; set serving.firmware_dir and put the \
                     image there"
                        ),
                    );
                }
                (Some(d), Some(p)) => format!("the firmware folder {d} cannot be read ({p})"),
                (Some(d), None) => {
                    // The image is there, in a step folder the device was not pointed at
                    // (or no longer is): say that, not "download it" (issue 25).
                    let steps: Vec<&str> = firmware
                        .files()
                        .into_iter()
                        .filter(|f| !f.folder().is_empty() && f.base().eq_ignore_ascii_case(base))
                        .map(|f| f.folder())
                        .collect();
                    if !steps.is_empty() {
                        let asked = if parsed.dir.trim_matches('/').is_empty() {
                            "the top level of the firmware folder".to_string()
                        } else {
                            format!("the folder /{}/", parsed.dir.trim_matches('/'))
                        };
                        return not_found(
                            false,
                            format!(
                                "{name} is in the firmware folder {d} under {} (stepped upgrades), but the device \
                                 asked {asked}: {ASKS_OLD_PATH}. Re-provision it (gsprov notify resync, or \
                                 power-cycle it) so it fetches its config with the P192 that points at its next step",
                                steps.iter().map(|f| format!("{f}/")).collect::<Vec<_>>().join(", ")
                            ),
                        );
                    }
                    format!("{name} is not in the firmware folder {d} ({})", sample(firmware))
                }
            };
            not_found(
                false,
                format!(
                    "{folder}. Download the image for this model from Grandstream and put it there under this \
                     exact name, or set the device's firmware upgrade rule (P238) to skip checks"
                ),
            )
        }
        Asked::Unknown => {
            if !parsed.affix_ok {
                return not_found(
                    false,
                    format!(
                        "{name} is not a file this site serves (the site's config prefix is {:?}, postfix {:?})",
                        naming.prefix, naming.postfix
                    ),
                );
            }
            not_found(
                false,
                format!(
                    "{name} is not a name Grandstream devices ask for (cfg<mac>, cfg<mac>.xml, cfg<model>.xml, \
                     cfg.xml or a firmware image); only the generated files and the firmware folder are served"
                ),
            )
        }
    }
}

/// The listing entry a firmware request names: `<model>/<version>/<name>`
/// when the request's folder ends with a listed step folder (P192 pointed the
/// device there), else the top-level `<name>`.
fn firmware_entry<'l>(listing: &'l FirmwareListing, dir: &str, name: &str) -> Option<&'l FirmwareFile> {
    let parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    if let [.., model, version] = parts.as_slice()
        && let Some(f) = listing.get(&format!("{model}/{version}/{name}"))
    {
        return Some(f);
    }
    listing.get(name)
}

/// The firmware rules of `serving::firmware` applied to one request:
/// `Err((why, expected))` when the image is not offered.
fn firmware_rules(
    req: &Request,
    served: &Served,
    listing: &FirmwareListing,
    mac: Option<Mac>,
    fw: &FirmwareFile,
) -> Result<(), (String, bool)> {
    if let crate::serving::Image::Header(h) = &fw.image
        && let crate::formats::firmware::Completeness::Truncated { missing } = h.completeness()
    {
        return Err((
            format!(
                "firmware file {} is truncated ({missing} bytes shorter than its header says); not served: copy or \
                 download the image again",
                fw.name
            ),
            false,
        ));
    }
    if let Some(family) = crate::serving::firmware::foreign_family(fw) {
        return Err((
            format!(
                "firmware file {} is a {family} image (its header's members say so), not the family its name says; \
                 not served to any device: put the right image under this name",
                fw.name
            ),
            false,
        ));
    }
    let Some(device) = mac.and_then(|m| served.device(m)) else { return Ok(()) };
    let current = req.user_agent.firmware.as_deref().or(req.ip_firmware);
    let rules = served.firmware_rules();
    let images = crate::serving::firmware::images(listing, &device.model, fw.base());
    let plan = crate::serving::firmware::plan_device(rules, device.mac, &device.model, current, &images);
    crate::serving::firmware::judge(&plan, fw.version(), current)
        .map_err(|why| (format!("firmware {} not offered to {}: {why}", fw.name, device.mac), true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::useragent;
    use crate::generate;
    use crate::serving::Window;
    use crate::site::{Device, Site};
    use std::time::Duration;

    fn site() -> Site {
        let mut s = Site::default();
        s.provisioning.xml_password = "pw".into();
        s.provisioning.encrypt = crate::site::Encrypt::DeviceFiles;
        for (mac, model, label) in
            [("000b82a1b201", "GXP2170", "Reception"), ("000b82a1b202", "GXP2135", ""), ("000b822726c8", "GXP2000", "")]
        {
            let mut d = Device::new(mac.parse().unwrap(), model.parse().unwrap());
            d.label = label.into();
            s.devices.push(d);
        }
        s
    }

    fn served(s: &Site) -> Served {
        let out = generate::generate(s, &mut || [1; 8]).unwrap();
        Served::new(s, &out)
    }

    fn fw() -> FirmwareListing {
        FirmwareListing::new(
            Some("/srv/fw".into()),
            vec![FirmwareFile { name: "gxp2170fw.bin".into(), size: 1000, ..Default::default() }],
            None,
        )
    }

    fn ask(protocol: Protocol, target: &str, ua: &str, s: &Served, policy: &Policy) -> Decision {
        ask_in(protocol, target, ua, s, policy, &fw())
    }

    fn ask_in(
        protocol: Protocol,
        target: &str,
        ua: &str,
        s: &Served,
        policy: &Policy,
        listing: &FirmwareListing,
    ) -> Decision {
        let ua = useragent::parse(ua);
        let req = Request {
            protocol,
            target,
            client: "10.0.0.5:4000".parse().unwrap(),
            user_agent: &ua,
            ip_mac: None,
            ip_firmware: None,
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1000),
        };
        route(&req, s, listing, policy, Facts::default())
    }

    fn served_name(d: &Decision) -> Option<&str> {
        match &d.verdict {
            Verdict::Serve(s) => Some(s.name()),
            Verdict::Refuse { .. } => None,
        }
    }

    fn refusal(d: &Decision) -> Option<(Refusal, bool)> {
        match d.verdict {
            Verdict::Refuse { reason, expected } => Some((reason, expected)),
            Verdict::Serve(_) => None,
        }
    }

    const UA: &str = "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b201";

    #[test]
    fn serves_generated_files_in_any_case_and_depth() {
        let s = served(&site());
        let p = Policy::default();
        for (proto, target, want) in [
            (Protocol::Tftp, "cfg000b82a1b201.xml", "cfg000b82a1b201.xml"),
            (Protocol::Tftp, "/CFG000B82A1B201.XML", "cfg000b82a1b201.xml"),
            (Protocol::Http, "/prov/gs/cfg000b82a1b201.xml", "cfg000b82a1b201.xml"),
            (Protocol::Http, "/cfg000b82a1b201.xml?x=1", "cfg000b82a1b201.xml"),
            (Protocol::Http, "http://10.0.0.1:8080/cfg000b82a1b201", "cfg000b82a1b201"),
            (Protocol::Tftp, "cfg000b82a1b201.bin", "cfg000b82a1b201.bin"),
            (Protocol::Tftp, "cfggxp2170.xml", "cfggxp2170.xml"),
            (Protocol::Tftp, "cfg.xml", "cfg.xml"),
            (Protocol::Tftp, "GXP2170FW.BIN", "gxp2170fw.bin"),
            (Protocol::Http, "/deep/path/gxp2170fw.bin", "gxp2170fw.bin"),
            (Protocol::Http, "/gxp2170fw.bin", "gxp2170fw.bin"),
        ] {
            let d = ask(proto, target, UA, &s, &p);
            assert_eq!(served_name(&d), Some(want), "{target}: {}", d.explanation);
        }
        let d = ask(Protocol::Http, "/cfg000b82a1b201.xml", UA, &s, &p);
        assert_eq!(d.mac, Some("000b82a1b201".parse().unwrap()));
        assert!(d.explanation.contains("Reception"), "{}", d.explanation);
    }

    #[test]
    fn misses_are_explained() {
        let s = served(&site());
        let p = Policy::default();
        let cases: Vec<(&str, Refusal, bool, &str)> = vec![
            (
                "cfg000b82a1b209.xml",
                Refusal::NotFound,
                false,
                "nearest known MAC is 000b82a1b201 (Reception, GXP2170) (1 hex digit",
            ),
            ("cfg000b82a1b2ff.xml", Refusal::NotFound, false, "2 hex digits"),
            ("cfgffffffffffff.xml", Refusal::NotFound, false, "Add the device to the site"),
            ("cfggxp9999.xml", Refusal::NotFound, true, "no device of model GXP9999"),
            ("gxp1600fw.bin", Refusal::NotFound, false, "not in the firmware folder /srv/fw (it holds gxp2170fw.bin)"),
            ("index.html", Refusal::NotFound, false, "not a name Grandstream devices ask for"),
            ("cfg000b822726c8.xml", Refusal::NotFound, true, "legacy model"),
        ];
        for (target, reason, expected, text) in cases {
            let d = ask(Protocol::Tftp, target, "", &s, &p);
            assert_eq!(refusal(&d), Some((reason, expected)), "{target}: {}", d.explanation);
            assert!(d.explanation.contains(text), "{target}: {}", d.explanation);
        }
        // Not a miss: with encrypted XML, a unit's cfg<mac> is the bootstrap binary that
        // carries the XML password, so it is served under exactly the name asked for.
        let d = ask(Protocol::Tftp, "cfg000b82a1b202", "", &s, &p);
        assert_eq!(served_name(&d), Some("cfg000b82a1b202"), "bootstrap binary is served: {}", d.explanation);
    }

    #[test]
    fn expected_probe_for_xml_capable_units() {
        let mut st = site();
        st.provisioning.encrypt = crate::site::Encrypt::Off;
        let s = served(&st);
        let d = ask(Protocol::Tftp, "cfg000b82a1b201", UA, &s, &Policy::default());
        assert_eq!(refusal(&d), Some((Refusal::NotFound, true)));
        assert!(d.explanation.contains("this 404 is expected: devices probe cfg<mac> before cfg<mac>.xml"));
        let d = ask(Protocol::Tftp, "cfg.xml", UA, &s, &Policy::default());
        assert!(served_name(&d).is_some());
    }

    #[test]
    fn wrong_model_file() {
        let s = served(&site());
        let ua = "Grandstream Model HW GXP2135 SW 1.0 DevId 000b82a1b202";
        let d = ask(Protocol::Http, "/cfggxp2170.xml", ua, &s, &Policy::default());
        // GXP2170 file exists and is served; a model file for a model not in the site is a miss:
        assert!(served_name(&d).is_some());
        let d = ask(Protocol::Http, "/cfggrp2614.xml", ua, &s, &Policy::default());
        assert_eq!(refusal(&d), Some((Refusal::NotFound, false)));
        assert!(d.explanation.contains("wrong model file: 000b82a1b202 (GXP2135) is a GXP2135"), "{}", d.explanation);
    }

    #[test]
    fn prefix_and_postfix() {
        let mut st = site();
        st.provisioning.prefix = "gs_".into();
        st.provisioning.postfix = "_v2".into();
        st.provisioning.firmware_prefix = "fw_".into();
        let s = served(&st);
        let p = Policy::default();
        let d = ask(Protocol::Tftp, "GS_cfg000b82a1b201.xml_V2", UA, &s, &p);
        assert_eq!(served_name(&d), Some("gs_cfg000b82a1b201.xml_v2"));
        let d = ask(Protocol::Tftp, "cfg000b82a1b201.xml", UA, &s, &p);
        assert_eq!(refusal(&d), Some((Refusal::NotFound, false)));
        assert!(d.explanation.contains("prefix \"gs_\" (P234)"), "{}", d.explanation);
        assert!(d.explanation.contains("gs_cfg000b82a1b201.xml_v2"), "{}", d.explanation);
        let d = ask(Protocol::Tftp, "gxp2170fw.bin", UA, &s, &p);
        // The folder holds the bare name: served as stored.
        assert_eq!(served_name(&d), Some("gxp2170fw.bin"));
    }

    #[test]
    fn known_macs_only() {
        let s = served(&site());
        let p = Policy { known_macs_only: true, ..Policy::default() };
        let d = ask(Protocol::Tftp, "cfg000b82a1b209.xml", "", &s, &p);
        assert_eq!(refusal(&d), Some((Refusal::Policy, false)));
        assert!(d.explanation.contains("known-MACs-only") && d.explanation.contains("000b82a1b201"));
        let d = ask(Protocol::Tftp, "cfg.xml", "", &s, &p);
        assert_eq!(refusal(&d), Some((Refusal::Policy, false)), "unidentified client");
        let d = ask(Protocol::Http, "/cfg.xml", UA, &s, &p);
        assert!(served_name(&d).is_some(), "known device by User-Agent");
        let d = ask(Protocol::Http, "/cfg.xml", "Grandstream Model HW GXP2170 SW 1 DevId 001122334455", &s, &p);
        assert_eq!(refusal(&d), Some((Refusal::Policy, false)));
    }

    #[test]
    fn window() {
        let s = served(&site());
        let t = |secs| Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        for (w, open) in [
            (Window { start: t(500), stop: t(2000), until_all_configured: false }, true),
            (Window { start: t(1500), ..Window::default() }, false),
            (Window { stop: t(1000), ..Window::default() }, false),
        ] {
            let p = Policy { window: w, ..Policy::default() };
            let d = ask(Protocol::Tftp, "cfg.xml", "", &s, &p);
            assert_eq!(served_name(&d).is_some(), open, "{w:?}: {}", d.explanation);
        }
        let p = Policy { window: Window { until_all_configured: true, ..Window::default() }, ..Policy::default() };
        let ua = useragent::parse("");
        let req = Request {
            protocol: Protocol::Tftp,
            target: "cfg.xml",
            client: "10.0.0.5:4000".parse().unwrap(),
            user_agent: &ua,
            ip_mac: None,
            ip_firmware: None,
            now: SystemTime::UNIX_EPOCH,
        };
        let d = route(&req, &s, &fw(), &p, Facts { all_configured: true });
        assert!(d.explanation.contains("every known device has fetched its config"));
        let fw_req = Request { target: "gxp2170fw.bin", ..req };
        let d = route(&fw_req, &s, &fw(), &p, Facts { all_configured: true });
        assert!(served_name(&d).is_some(), "firmware goes on after the configs: {}", d.explanation);
    }

    #[test]
    fn attacks_are_refused() {
        let s = served(&site());
        let p = Policy::default();
        let tftp = [
            "../etc/passwd",
            "/../../etc/shadow",
            "a/../cfg.xml",
            "..",
            "C:\\Windows\\win.ini",
            "C:/boot.ini",
            "\\\\server\\share\\cfg.xml",
            "cfg.xml\u{1}",
            "NUL",
            "con.xml",
            "COM1.bin",
            "lpt9",
            "cfg.xml.",
            "./cfg.xml",
            "cfg .xml",
            "cfg\u{e9}.xml",
            "cfg%2exml",
            "cfg*.xml",
        ];
        for t in tftp {
            let d = ask(Protocol::Tftp, t, "", &s, &p);
            assert_eq!(refusal(&d), Some((Refusal::BadName, false)), "{t:?}: {}", d.explanation);
        }
        let long = format!("/{}", "a".repeat(300));
        let http = [
            "/%2e%2e/%2e%2e/etc/passwd",
            "/..%2fetc%2fpasswd",
            "/%2E%2E/cfg.xml",
            "/cfg.xml%00.bin",
            "/a%5c..%5ccfg.xml",
            "/%252e%252e/etc/passwd",
            "/%zz",
            "/%c0%ae%c0%ae/etc/passwd",
            "cfg.xml",
            "http://host/../x",
            long.as_str(),
        ];
        for t in http {
            let d = ask(Protocol::Http, t, "", &s, &p);
            assert_eq!(refusal(&d), Some((Refusal::BadName, false)), "{t:?}: {}", d.explanation);
        }
    }

    #[test]
    fn firmware_folder_cannot_shadow_config_names() {
        let s = served(&site());
        let listing = FirmwareListing::new(
            Some("/fw".into()),
            vec![FirmwareFile { name: "cfg001122334455.xml".into(), size: 5, ..Default::default() }],
            None,
        );
        let ua = useragent::parse("");
        let req = Request {
            protocol: Protocol::Tftp,
            target: "cfg001122334455.xml",
            client: "10.0.0.5:4000".parse().unwrap(),
            user_agent: &ua,
            ip_mac: None,
            ip_firmware: None,
            now: SystemTime::UNIX_EPOCH,
        };
        let d = route(&req, &s, &listing, &Policy::default(), Facts::default());
        assert!(served_name(&d).is_none());
        assert_eq!(mac_distance("000b82a1b201".parse().unwrap(), "000b82a1b210".parse().unwrap()), 2);
    }

    fn image(name: &str, version: &str, cut: u64) -> FirmwareFile {
        use crate::formats::firmware::{self, Layout};
        let v = version.parse().unwrap();
        let bytes = firmware::build_image(Layout::Ht8xx, &[("gxp2170boot.bin", 8, v), ("gxp2170prog.bin", 16, v)]);
        let len = bytes.len() as u64 - cut;
        let image = crate::serving::Image::Header(firmware::parse_header(&bytes, len).unwrap());
        FirmwareFile { name: name.into(), size: len, image }
    }

    fn ask_fw(target: &str, ua: &str, s: &Served, listing: &FirmwareListing) -> Decision {
        ask_in(Protocol::Http, target, ua, s, &Policy::default(), listing)
    }

    fn ua_at(version: &str) -> String {
        format!("Grandstream Model HW GXP2170 SW {version} DevId 000b82a1b201")
    }

    #[test]
    fn firmware_downgrade_refused_then_allowed() {
        let mut st = site();
        let listing = FirmwareListing::new(None, vec![image("gxp2170fw.bin", "1.0.9.69", 0)], None);
        let d = ask_fw("/fw/gxp2170fw.bin", &ua_at("1.0.11.3"), &served(&st), &listing);
        assert_eq!(refusal(&d), Some((Refusal::NotFound, true)), "{}", d.explanation);
        assert!(d.explanation.contains("would downgrade the device from 1.0.11.3"), "{}", d.explanation);
        st.firmware.allow_downgrade = true;
        let d = ask_fw("/fw/gxp2170fw.bin", &ua_at("1.0.11.3"), &served(&st), &listing);
        assert_eq!(served_name(&d), Some("gxp2170fw.bin"), "{}", d.explanation);
        assert!(d.explanation.contains("version 1.0.9.69"), "{}", d.explanation);
    }

    #[test]
    fn firmware_up_to_date_truncated_and_unknown_devices() {
        let st = site();
        let listing = FirmwareListing::new(
            None,
            vec![image("gxp2170fw.bin", "1.0.11.3", 0), image("gxp1600fw.bin", "1.0.4.1", 9)],
            None,
        );
        let d = ask_fw("/gxp2170fw.bin", &ua_at("1.0.11.3"), &served(&st), &listing);
        assert_eq!(refusal(&d), Some((Refusal::NotFound, true)));
        assert!(d.explanation.contains("already at 1.0.11.3"), "{}", d.explanation);
        // Older firmware: served.
        let d = ask_fw("/gxp2170fw.bin", &ua_at("1.0.9.69"), &served(&st), &listing);
        assert_eq!(served_name(&d), Some("gxp2170fw.bin"), "{}", d.explanation);
        // A device the site does not list, or no User-Agent: served as before.
        let d = ask_fw(
            "/gxp2170fw.bin",
            "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82999999",
            &served(&st),
            &listing,
        );
        assert_eq!(served_name(&d), Some("gxp2170fw.bin"), "{}", d.explanation);
        // A truncated image: never served, and a problem.
        let d = ask_fw("/gxp1600fw.bin", "", &served(&st), &listing);
        assert_eq!(refusal(&d), Some((Refusal::NotFound, false)));
        assert!(d.explanation.contains("truncated (9 bytes shorter"), "{}", d.explanation);
    }

    #[test]
    fn firmware_steps_follow_the_requested_folder() {
        let mut st = site();
        st.firmware
            .models
            .insert("GXP2170".into(), crate::site::FirmwarePin { target: "1.0.11.79".into(), ..Default::default() });
        let listing = FirmwareListing::new(
            None,
            vec![
                image("gxp2170/1.0.11.3/gxp2170fw.bin", "1.0.11.3", 0),
                image("gxp2170/1.0.11.79/gxp2170fw.bin", "1.0.11.79", 0),
            ],
            None,
        );
        let s = served(&st);
        let d = ask_fw("/fw/gxp2170/1.0.11.3/gxp2170fw.bin", &ua_at("1.0.9.69"), &s, &listing);
        assert_eq!(served_name(&d), Some("gxp2170/1.0.11.3/gxp2170fw.bin"), "{}", d.explanation);
        let d = ask_fw("/fw/gxp2170/1.0.11.79/gxp2170fw.bin", &ua_at("1.0.9.69"), &s, &listing);
        assert!(d.explanation.contains("skips the step 1.0.11.3"), "{}", d.explanation);
        let d = ask_fw("/fw/gxp2170/1.0.11.79/gxp2170fw.bin", &ua_at("1.0.11.3"), &s, &listing);
        assert_eq!(served_name(&d), Some("gxp2170/1.0.11.79/gxp2170fw.bin"), "{}", d.explanation);
        // A folder that is not listed does not reach anything else.
        let d = ask_fw("/fw/gxp2170/9.9.9.9/gxp2170fw.bin", &ua_at("1.0.11.3"), &s, &listing);
        assert_eq!(refusal(&d).map(|r| r.0), Some(Refusal::NotFound));
        // The old top-level path: the image is there, in its step folders; the
        // explanation says so (issue 25: it said "download it ... put it there").
        let mut listing = listing;
        listing.dir = Some("/srv/fw".into());
        for (target, asked) in [("/gxp2170fw.bin", "the top level"), ("/fw/gxp2170fw.bin", "the folder /fw")] {
            let d = ask_fw(target, &ua_at("1.0.11.3"), &s, &listing);
            assert_eq!(refusal(&d).map(|r| r.0), Some(Refusal::NotFound));
            let e = &d.explanation;
            assert!(e.contains("under gxp2170/1.0.11.3/, gxp2170/1.0.11.79/") && e.contains(asked), "{e}");
            assert!(e.contains("asking the old path") && e.contains("Re-provision"), "{e}");
            assert!(!e.contains("Download"), "{e}");
        }
    }
}
