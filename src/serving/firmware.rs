//! The firmware folder understood: per file what its header says, per model
//! of the site the file name it will request and whether the folder has it,
//! per device its current firmware beside what it would be served, and the
//! stepped upgrade path (`1.0.9.69 -> 1.0.11.3 -> 1.0.11.79`) through
//! `<model>/<version>/` subfolders (issue 14).
//!
//! Owns the upgrade rules every front end and the router share: which image is
//! a device's next step ([`plan_device`]), when a requested image is refused
//! (already there, a downgrade the site does not allow, beyond a pinned target,
//! skipping a step: [`judge`]), and the per-device P192 that points a device at
//! its next step's folder ([`with_steps`]). Pure: the listing (with headers)
//! and the devices' current versions come from the callers; nothing here reads
//! a file or the clock.
//!
//! "Not offering" an image means the router answers the request with a
//! refusal marked expected and a reason ("already at 1.0.11.3"), so the device
//! carries on with what it runs and the log says why.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::formats::firmware::{Completeness, Layout, Version};
use crate::formats::request;
use crate::generate;
use crate::ids::{Mac, Model};
use crate::serving::{FirmwareFile, Image};
use crate::site::{Firmware as Rules, FirmwarePin, Site};

/// The base firmware name a model requests, where publicly documented: spec
/// §9.1 (`gxp1600fw.bin`, `gxp1160fw.bin`, `gxp2170fw.bin`, `grp2600fw.bin`
/// for GRP260x only, `ht801fw.bin`, `ht802fw.bin`), wazo-provd-plugins' HT80x
/// V2 mapping (`HT801V2`/`HT802V2` -> `ht80xv2fw.bin`) and, for GRP261x
/// (GRP2610-GRP2616, a firmware line of its own: Grandstream ships
/// `Release_GRP261x_*.zip`, wazo-provd-plugins `wazo-grandstream/1.0.5.48`),
/// `grp2610fw.bin` (monta990/gdmsintegration `src/Service/FirmwareService.php`
/// maps GRP260* to `grp2600fw.bin` and the other GRP26* to `grp2610fw.bin` on
/// firmware.grandstream.com; a public access-log parser shows
/// `GET /fw/grp2610fw.bin`). Other models: `None`; the site can
/// name the file with `[firmware.models.<model>] file = ...`.
pub fn known_file(model: &Model) -> Option<&'static str> {
    let m = model.as_str();
    let s = |p: &str| m.starts_with(p);
    Some(if s("HT801V2") || s("HT802V2") {
        "ht80xv2fw.bin"
    } else if s("HT801") {
        "ht801fw.bin"
    } else if s("HT802") {
        "ht802fw.bin"
    } else if s("GXP116") {
        "gxp1160fw.bin"
    } else if s("GXP16") {
        "gxp1600fw.bin"
    } else if s("GXP21") {
        "gxp2170fw.bin"
    } else if s("GRP260") {
        "grp2600fw.bin"
    } else if s("GRP261") {
        "grp2610fw.bin"
    } else {
        return None;
    })
}

fn model_pin<'a>(rules: &'a Rules, model: &Model) -> Option<&'a FirmwarePin> {
    rules.models.iter().find(|(k, _)| k.eq_ignore_ascii_case(model.as_str())).map(|(_, p)| p)
}

fn device_pin(rules: &Rules, mac: Mac) -> Option<&FirmwarePin> {
    rules.devices.iter().find(|(k, _)| k.parse::<Mac>().is_ok_and(|m| m == mac)).map(|(_, p)| p)
}

/// The base name (without P232/P233) `model` requests: the site's override, else [`known_file`].
pub fn base_name(rules: &Rules, model: &Model) -> Option<String> {
    model_pin(rules, model)
        .map(|p| p.file.trim().to_ascii_lowercase())
        .filter(|f| !f.is_empty())
        .or_else(|| known_file(model).map(str::to_string))
}

/// Whether `mac` (a `model`) may be served an older image: device, then model, then site.
pub fn allow_downgrade(rules: &Rules, mac: Mac, model: &Model) -> bool {
    device_pin(rules, mac)
        .and_then(|p| p.allow_downgrade)
        .or_else(|| model_pin(rules, model).and_then(|p| p.allow_downgrade))
        .unwrap_or(rules.allow_downgrade)
}

/// The pinned target version, device over model; `None`: the newest image.
/// (`Site::check` reports a target that is not a version.)
pub fn pinned_target(rules: &Rules, mac: Mac, model: &Model) -> Option<Version> {
    let parse = |p: &FirmwarePin| p.target.parse::<Version>().ok();
    device_pin(rules, mac).and_then(parse).or_else(|| model_pin(rules, model).and_then(parse))
}

/// One image a device can be served: where it is and its header version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub version: Version,
    /// The listing name (`gxp2170/1.0.11.3/gxp2170fw.bin`).
    pub file: String,
    /// Its subfolder (`gxp2170/1.0.11.3`), empty at the top level.
    pub folder: String,
}

/// The complete images of the folder a `model` device would take: files named
/// `requested` (its firmware name with P232/P233) at the top level or in a
/// `<model or name stem>/<version>/` subfolder, one per version (the top level
/// wins a tie), oldest first.
pub fn images(listing: &FirmwareListing, model: &Model, requested: &str) -> Vec<Step> {
    let stems = [model.file_stem(), requested.to_ascii_lowercase().trim_end_matches("fw.bin").to_string()];
    let mut by_version: BTreeMap<Version, Step> = BTreeMap::new();
    for f in listing.files() {
        if !f.base().eq_ignore_ascii_case(requested) {
            continue;
        }
        let folder = f.folder();
        let fits = folder.is_empty()
            || folder.split_once('/').is_some_and(|(m, _)| stems.iter().any(|s| m.eq_ignore_ascii_case(s)));
        let Image::Header(h) = &f.image else { continue };
        if !fits || is_truncated(f) || foreign_family(f).is_some() {
            continue;
        }
        let step = Step { version: h.version(), file: f.name.clone(), folder: folder.to_string() };
        match by_version.get(&step.version) {
            Some(old) if old.folder.is_empty() => {}
            _ => {
                by_version.insert(step.version, step);
            }
        }
    }
    by_version.into_values().collect()
}

/// The family an image's header names (`ht802`), when its file name names
/// another (`gxp1600fw.bin`): such an image is never a step for any device and
/// never served (issue 25), whichever name it was saved under.
pub fn foreign_family(f: &FirmwareFile) -> Option<String> {
    let Image::Header(h) = &f.image else { return None };
    let family = h.stem()?;
    (!f.base().to_ascii_lowercase().contains(&family)).then_some(family)
}

fn is_truncated(f: &FirmwareFile) -> bool {
    matches!(&f.image, Image::Header(h) if matches!(h.completeness(), Completeness::Truncated { .. }))
}

/// What happens to one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Its next step is served.
    Upgrade,
    /// Its current version is unknown (not seen yet): the first image is offered;
    /// the router refuses it later if the device turns out to be newer.
    Offer,
    UpToDate,
    /// Older than it runs, and the site allows it.
    Downgrade,
    /// Older than it runs; refused.
    DowngradeRefused,
    /// The pinned target is not in the folder.
    TargetMissing,
    /// No complete image for its model in the folder.
    NoImage,
    /// gsprov does not know which file name the model requests.
    NameUnknown,
}

impl Action {
    pub fn describe(self) -> &'static str {
        match self {
            Action::Upgrade => "upgrade",
            Action::Offer => "offered (current version not seen yet)",
            Action::UpToDate => "up to date",
            Action::Downgrade => "downgrade (allowed)",
            Action::DowngradeRefused => "downgrade refused",
            Action::TargetMissing => "pinned target not in the folder",
            Action::NoImage => "no image",
            Action::NameUnknown => "file name unknown",
        }
    }
}

/// One device's firmware plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DevicePlan {
    /// As reported in its User-Agent (may not be a four-part version).
    pub current: Option<String>,
    pub target: Option<Version>,
    /// Versions it goes through after `current`, ending at `target`.
    pub path: Vec<Version>,
    /// The image it is served now.
    pub next: Option<Step>,
    pub action: Action,
    pub allow_downgrade: bool,
}

impl DevicePlan {
    /// `1.0.9.69 -> 1.0.11.3 -> 1.0.11.79`; `?` for an unknown current version.
    pub fn text(&self) -> String {
        let mut parts = vec![self.current.clone().unwrap_or_else(|| "?".into())];
        parts.extend(self.path.iter().map(Version::to_string));
        parts.join(" -> ")
    }
}

/// The plan for one device (`mac`, a `model`) that reports `current`, given the
/// images its model can take ([`images`], oldest first). Every image strictly
/// between its version and the target is a step: a technician who puts
/// `gxp2170/1.0.11.3/` beside `gxp2170/1.0.11.79/` means "through 1.0.11.3".
pub fn plan_device(rules: &Rules, mac: Mac, model: &Model, current: Option<&str>, images: &[Step]) -> DevicePlan {
    let allow = allow_downgrade(rules, mac, model);
    let mut plan = DevicePlan {
        current: current.map(str::to_string),
        target: None,
        path: Vec::new(),
        next: None,
        action: Action::NoImage,
        allow_downgrade: allow,
    };
    let Some(newest) = images.last() else { return plan };
    let target = match pinned_target(rules, mac, model) {
        Some(t) if !images.iter().any(|s| s.version == t) => {
            plan.target = Some(t);
            plan.action = Action::TargetMissing;
            return plan;
        }
        Some(t) => t,
        None => newest.version,
    };
    plan.target = Some(target);
    let at = |v: Version| images.iter().find(|s| s.version == v).cloned();
    match current.and_then(|c| c.parse::<Version>().ok()) {
        None => {
            // Unknown: the oldest image up to the target; the router refuses it if
            // the device turns out to be past it, and the next plan knows better.
            let first = images.iter().find(|s| s.version <= target).cloned();
            plan.path = images.iter().filter(|s| s.version <= target).map(|s| s.version).collect();
            plan.next = first;
            plan.action = Action::Offer;
        }
        Some(c) if c == target => plan.action = Action::UpToDate,
        Some(c) if c < target => {
            plan.path = images.iter().filter(|s| s.version > c && s.version <= target).map(|s| s.version).collect();
            plan.next = plan.path.first().copied().and_then(at);
            plan.action = Action::Upgrade;
        }
        Some(_) => {
            plan.path = vec![target];
            if allow {
                plan.next = at(target);
                plan.action = Action::Downgrade;
            } else {
                plan.action = Action::DowngradeRefused;
            }
        }
    }
    plan
}

/// Whether the router serves `file` (an image of version `offered`) to a device
/// reporting `current`; `Err` is the reason it is not offered. Without a known
/// current version or image version, the image is served as before.
pub fn judge(plan: &DevicePlan, offered: Option<Version>, current: Option<&str>) -> Result<(), String> {
    let (Some(v), Some(c)) = (offered, current.and_then(|c| c.parse::<Version>().ok())) else { return Ok(()) };
    if v == c {
        return Err(format!("already at {c}: the device runs this image's version, so it is not offered again"));
    }
    if v < c && !plan.allow_downgrade {
        return Err(format!(
            "{v} would downgrade the device from {c}; not served. Set [firmware] allow_downgrade = true (or per \
             model/device under [firmware.models.<model>] / [firmware.devices.<mac>]) to allow it"
        ));
    }
    if let Some(t) = plan.target
        && v > t
    {
        return Err(format!(
            "{v} is beyond the pinned target {t}; not served (change [firmware] target to go further)"
        ));
    }
    if let Some(n) = &plan.next
        && v > c
        && v > n.version
    {
        let hint = if n.folder.is_empty() { String::new() } else { format!(" in {}/", n.folder) };
        return Err(format!(
            "{v} skips the step {} on the path {}; the device must take {}{hint} first (its P192 points there once its \
             config is fetched again)",
            n.version,
            plan.text(),
            n.version
        ));
    }
    Ok(())
}

/// How serious a flag is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Note,
    Warning,
    Error,
}

/// Something the technician should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flag {
    pub level: Level,
    /// `file gxp2170fw.bin`, `model GXP2170`, `device 000b82a1b201 (Reception)`.
    pub at: String,
    pub message: String,
}

/// One file of the folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRow {
    pub name: String,
    pub size: u64,
    pub layout: Option<Layout>,
    pub version: Option<Version>,
    /// The model stem its member names share (`ht802`).
    pub family: Option<String>,
    /// `complete`, `truncated (77 bytes missing)`, [`DEMO_STATE`], or why the header was not read.
    pub state: String,
    pub members: Vec<String>,
    /// Models of the site that request it.
    pub wanted_by: Vec<Model>,
}

/// A file's state when it is gsprov's synthetic demo image
/// ([`crate::formats::firmware::DEMO_MARKER`]), in the Firmware view and
/// `gsprov firmware`.
pub const DEMO_STATE: &str = "demo image: synthetic, no device accepts it";

/// One model of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelRow {
    pub model: Model,
    /// The name it requests, with P232/P233 (`gxp2170fw.bin`); `None` when unknown.
    pub request: Option<String>,
    /// Versions the folder holds for it, oldest first.
    pub versions: Vec<Version>,
    pub devices: Vec<Mac>,
}

/// One device of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRow {
    pub mac: Mac,
    pub label: String,
    pub model: Model,
    pub plan: DevicePlan,
    /// `1.0.9.69 -> 1.0.11.3 -> 1.0.11.79`.
    pub path: String,
    /// The P192 this device gets when its next step is in a subfolder.
    pub p192: Option<String>,
}

/// The whole firmware view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct View {
    pub dir: Option<String>,
    pub problem: Option<String>,
    pub files: Vec<FileRow>,
    pub models: Vec<ModelRow>,
    pub devices: Vec<DeviceRow>,
    /// Worst first.
    pub flags: Vec<Flag>,
}

impl View {
    pub fn device(&self, mac: Mac) -> Option<&DeviceRow> {
        self.devices.iter().find(|d| d.mac == mac)
    }

    pub fn errors(&self) -> usize {
        self.flags.iter().filter(|f| f.level == Level::Error).count()
    }
}

/// The firmware folder as last listed.
#[derive(Debug, Clone, Default)]
pub struct FirmwareListing {
    /// Lower-case name -> entry.
    files: HashMap<String, FirmwareFile>,
    /// For explanations: the folder, and why it could not be listed.
    pub dir: Option<String>,
    pub problem: Option<String>,
    /// The symbolic links met while listing, served or refused, with where they point.
    pub links: Vec<crate::serving::FirmwareLink>,
}

impl FirmwareListing {
    pub fn new(dir: Option<String>, files: Vec<FirmwareFile>, problem: Option<String>) -> Self {
        FirmwareListing {
            files: files.into_iter().map(|f| (f.name.to_ascii_lowercase(), f)).collect(),
            dir,
            problem,
            links: Vec::new(),
        }
    }

    /// The same listing with the links met while listing it.
    pub fn with_links(mut self, links: Vec<crate::serving::FirmwareLink>) -> Self {
        self.links = links;
        self
    }

    pub fn get(&self, name: &str) -> Option<&FirmwareFile> {
        self.files.get(&name.to_ascii_lowercase())
    }

    /// Every listed file, sorted by name.
    pub fn files(&self) -> Vec<&FirmwareFile> {
        let mut all: Vec<&FirmwareFile> = self.files.values().collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }
}

/// The name `model` requests with the site's P232/P233, if known.
pub fn request_name(site: &Site, model: &Model) -> Option<String> {
    base_name(&site.firmware, model).map(|b| request::firmware_name(&b, &generate::naming(site)))
}

/// Builds the view. `current` gives a device's firmware as last reported (the
/// status fold's User-Agent version), `None` when not seen.
pub fn view(site: &Site, listing: &FirmwareListing, current: &dyn Fn(Mac) -> Option<String>) -> View {
    let rules = &site.firmware;
    let mut flags = Vec::new();
    let mut flag = |level, at: String, message: String| flags.push(Flag { level, at, message });
    let mut models: Vec<ModelRow> = Vec::new();
    let mut images_of: BTreeMap<Model, Vec<Step>> = BTreeMap::new();
    for model in site.models_in_use() {
        let request = request_name(site, &model);
        let devices: Vec<Mac> = site.devices.iter().filter(|d| d.model == model).map(|d| d.mac).collect();
        let imgs = request.as_deref().map(|r| images(listing, &model, r)).unwrap_or_default();
        let n = devices.len();
        match &request {
            None => flag(
                Level::Warning,
                format!("model {model}"),
                format!(
                    "gsprov does not know which firmware file {model} requests; set [firmware.models.{model}] file = \
                     \"<name>fw.bin\" to manage its firmware"
                ),
            ),
            Some(r) if imgs.is_empty() && n > 0 => flag(
                Level::Note,
                format!("model {model}"),
                format!("no complete {r} in the folder: its {n} device(s) get a 404 and keep their firmware"),
            ),
            _ => {}
        }
        models.push(ModelRow {
            model: model.clone(),
            request,
            versions: imgs.iter().map(|s| s.version).collect(),
            devices,
        });
        images_of.insert(model, imgs);
    }

    let mut files = Vec::new();
    for f in listing.files() {
        let at = format!("file {}", f.name);
        let wanted_by: Vec<Model> = models
            .iter()
            .filter(|m| m.request.as_deref().is_some_and(|r| r.eq_ignore_ascii_case(f.base())))
            .map(|m| m.model.clone())
            .collect();
        if wanted_by.is_empty() {
            flag(Level::Warning, at.clone(), format!("no model of the site requests {}; it is never served", f.base()));
        }
        let mut row = FileRow {
            name: f.name.clone(),
            size: f.size,
            layout: None,
            version: None,
            family: None,
            state: String::new(),
            members: Vec::new(),
            wanted_by,
        };
        match &f.image {
            Image::Unread => row.state = "header not read".into(),
            Image::Unreadable(e) => {
                row.state = format!("cannot be read: {e}");
                flag(Level::Error, at.clone(), row.state.clone());
            }
            Image::Unrecognised(e) => {
                row.state = e.clone();
                flag(Level::Warning, at.clone(), e.clone());
            }
            Image::Header(h) => {
                let c = h.completeness();
                row.layout = Some(h.layout);
                row.version = Some(h.version());
                row.family = h.stem();
                row.state = match (h.demo, c) {
                    // gsprov's own synthetic image: it serves, but no device takes it.
                    (true, Completeness::Complete) => DEMO_STATE.to_string(),
                    (true, c) => format!("{DEMO_STATE}; {}", c.describe()),
                    (false, c) => c.describe(),
                };
                row.members =
                    h.members.iter().map(|m| format!("{} {} ({} bytes)", m.name, m.version, m.size)).collect();
                match c {
                    Completeness::Complete => {}
                    Completeness::Truncated { .. } => flag(
                        Level::Error,
                        at.clone(),
                        format!("{}: not served; copy or download the image again", c.describe()),
                    ),
                    Completeness::TrailingBytes { .. } => flag(Level::Warning, at.clone(), c.describe()),
                }
                let said = name_stem(site, f.base());
                if let (Some(fam), Some(said)) = (&row.family, said)
                    && *fam != said
                {
                    flag(
                        Level::Warning,
                        at.clone(),
                        format!(
                            "its members are named {fam}…, its file name says {said}: another family's image, never \
                             a step for any device and never served"
                        ),
                    );
                }
                if let Some((_, ver)) = f.folder().split_once('/')
                    && ver.parse::<Version>().is_ok_and(|v| v != h.version())
                {
                    flag(
                        Level::Warning,
                        at.clone(),
                        format!("its folder says {ver} but its header says {}; the header is used", h.version()),
                    );
                }
            }
        }
        files.push(row);
    }

    // Where each link of the folder points, and why one is not served.
    for l in &listing.links {
        let level = if l.refused.is_some() { Level::Warning } else { Level::Note };
        flag(level, format!("link {}", l.name), l.describe());
    }

    let mut devices = Vec::new();
    for d in &site.devices {
        let imgs = images_of.get(&d.model).map(Vec::as_slice).unwrap_or_default();
        let cur = current(d.mac);
        let mut plan = plan_device(rules, d.mac, &d.model, cur.as_deref(), imgs);
        if base_name(rules, &d.model).is_none() {
            plan.action = Action::NameUnknown;
        }
        let who =
            if d.label.is_empty() { format!("device {}", d.mac) } else { format!("device {} ({})", d.mac, d.label) };
        match plan.action {
            Action::DowngradeRefused => flag(
                Level::Warning,
                who.clone(),
                format!(
                    "runs {} but the target is {}: a downgrade, not served unless allowed ([firmware] allow_downgrade)",
                    plan.current.as_deref().unwrap_or("?"),
                    plan.target.map(|t| t.to_string()).unwrap_or_default()
                ),
            ),
            Action::TargetMissing => flag(
                Level::Error,
                who.clone(),
                format!(
                    "pinned target {} is not in the firmware folder",
                    plan.target.map(|t| t.to_string()).unwrap_or_default()
                ),
            ),
            _ => {}
        }
        // A public vulnerability in the firmware the unit runs (its web API is what check-device talks to).
        if let Some(c) = cur.as_deref() {
            for w in crate::catalog::advisories::warnings(&d.model, c) {
                flag(Level::Warning, who.clone(), w);
            }
        }
        let p192 = match &plan.next {
            Some(step) if !step.folder.is_empty() => {
                let base = site.effective(d).get("P192").unwrap_or_default().trim().trim_end_matches('/').to_string();
                if base.is_empty() {
                    flag(
                        Level::Error,
                        who.clone(),
                        format!(
                            "its next step is in {}/ but P192 (firmware server path) is empty; set P192 in [defaults]",
                            step.folder
                        ),
                    );
                    None
                } else {
                    Some(format!("{base}/{}", step.folder))
                }
            }
            _ => None,
        };
        let path = plan.text();
        devices.push(DeviceRow { mac: d.mac, label: d.label.clone(), model: d.model.clone(), plan, path, p192 });
    }
    flags.sort_by_key(|f| std::cmp::Reverse(f.level));
    View { dir: listing.dir.clone(), problem: listing.problem.clone(), files, models, devices, flags }
}

/// The model stem a file name stands for: `ht802` from `ht802fw.bin` (P232/P233 removed).
fn name_stem(site: &Site, base: &str) -> Option<String> {
    let lower = base.to_ascii_lowercase();
    let p = &site.provisioning;
    let core = lower
        .strip_prefix(p.firmware_prefix.to_ascii_lowercase().as_str())
        .and_then(|s| s.strip_suffix(p.firmware_postfix.to_ascii_lowercase().as_str()))
        .unwrap_or(&lower);
    core.strip_suffix("fw.bin").filter(|s| !s.is_empty()).map(str::to_string)
}

/// The site as its devices get it, and the P192 each stepped device gets:
/// a device whose next firmware step is in a `<model>/<version>/` folder of
/// `listing` has P192 pointing there, from the firmware it runs (`current`,
/// `None` when unknown: then the site's own P192). `gsprov generate`, the
/// Files view and the servers all generate from this, so they hand out the
/// same bytes.
pub fn stepped(
    site: &Site,
    listing: &FirmwareListing,
    current: &dyn Fn(Mac) -> Option<String>,
) -> (Site, BTreeMap<Mac, String>) {
    let view = view(site, listing, current);
    let steps = view.devices.iter().filter_map(|d| d.p192.clone().map(|p| (d.mac, p))).collect();
    (with_steps(site, &view), steps)
}

/// `site` with P192 set on each device whose next step is in a subfolder, so
/// the generated config points it there; generate from this copy.
pub fn with_steps(site: &Site, view: &View) -> Site {
    let mut out = site.clone();
    for row in &view.devices {
        if let (Some(p192), Some(d)) = (&row.p192, out.device_mut(row.mac)) {
            d.values.set("P192", p192.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::firmware::{self, Layout};
    use crate::site::Device;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    /// A listing entry with a synthetic header of `version` for `stem`.
    fn image(name: &str, stem: &str, version: &str, cut: u64) -> FirmwareFile {
        let members = [(format!("{stem}boot.bin"), 10u32, v(version)), (format!("{stem}prog.bin"), 20, v(version))];
        let m: Vec<(&str, u32, Version)> = members.iter().map(|(n, s, v)| (n.as_str(), *s, *v)).collect();
        let bytes = firmware::build_image(Layout::Ht8xx, &m);
        let len = bytes.len() as u64 - cut;
        FirmwareFile {
            name: name.into(),
            size: len,
            image: Image::Header(firmware::parse_header(&bytes, len).unwrap()),
        }
    }

    fn site() -> Site {
        let mut s = Site::default();
        s.defaults.set("P192", "10.0.0.1:8080/fw");
        for (mac, model, label) in [
            ("000b82a1b201", "GXP2170", "Reception"),
            ("000b82a1b202", "GXP2170", "Back office"),
            ("000b82a1b203", "HT802", "Fax"),
            ("000b82a1b204", "GXV3350", "Lobby"),
        ] {
            let mut d = Device::new(mac.parse().unwrap(), model.parse().unwrap());
            d.label = label.into();
            s.devices.push(d);
        }
        s
    }

    fn mac(s: &str) -> Mac {
        s.parse().unwrap()
    }

    fn stepped() -> FirmwareListing {
        FirmwareListing::new(
            Some("/fw".into()),
            vec![
                image("gxp2170/1.0.9.69/gxp2170fw.bin", "gxp2170", "1.0.9.69", 0),
                image("gxp2170/1.0.11.3/gxp2170fw.bin", "gxp2170", "1.0.11.3", 0),
                image("gxp2170/1.0.11.79/gxp2170fw.bin", "gxp2170", "1.0.11.79", 0),
            ],
            None,
        )
    }

    #[test]
    fn known_names() {
        let name = |m: &str| known_file(&m.parse().unwrap());
        assert_eq!(name("GXP2170"), Some("gxp2170fw.bin"));
        assert_eq!(name("GXP2135"), Some("gxp2170fw.bin"));
        assert_eq!(name("GXP1625"), Some("gxp1600fw.bin"));
        assert_eq!(name("GXP1165"), Some("gxp1160fw.bin"));
        assert_eq!(name("HT802"), Some("ht802fw.bin"));
        assert_eq!(name("HT802V2"), Some("ht80xv2fw.bin"));
        assert_eq!(name("GRP2602"), Some("grp2600fw.bin"));
        // GRP261x is its own firmware line: not the GRP260x image.
        assert_eq!(name("GRP2612W"), Some("grp2610fw.bin"));
        assert_eq!(name("GRP2616"), Some("grp2610fw.bin"));
        assert_eq!(name("GXV3350"), None);
    }

    #[test]
    fn the_demo_images_say_they_are_demo_images_and_the_grp2612w_asks_for_grp2610fw() {
        let files = crate::formats::firmware::demo_images()
            .into_iter()
            .map(|(name, bytes)| FirmwareFile {
                name: name.into(),
                size: bytes.len() as u64,
                image: Image::Header(crate::formats::firmware::parse_header(&bytes, bytes.len() as u64).unwrap()),
            })
            .collect();
        let listing = FirmwareListing::new(Some("demo".into()), files, None);
        let v = view(&crate::site::demo(), &listing, &|_| None);
        assert_eq!(v.files.len(), 4);
        for f in &v.files {
            assert_eq!(f.state, DEMO_STATE, "{}", f.name);
        }
        let grp = v.models.iter().find(|m| m.model.as_str() == "GRP2612W").unwrap();
        assert_eq!(grp.request.as_deref(), Some("grp2610fw.bin"));
        assert!(!v.flags.iter().any(|f| f.message.contains("does not know which firmware file GRP2612W")));
        // A vendor's image (no marker) is still "complete".
        let plain = image("gxp2170fw.bin", "gxp2170", "1.0.11.3", 0);
        let v = view(&crate::site::demo(), &FirmwareListing::new(None, vec![plain], None), &|_| None);
        assert_eq!(v.files[0].state, "complete");
    }

    #[test]
    fn mixed_site_view() {
        let mut s = site();
        s.provisioning.firmware_prefix = "gs_".into();
        let listing = FirmwareListing::new(
            Some("/fw".into()),
            vec![
                image("gs_gxp2170fw.bin", "gxp2170", "1.0.11.3", 0),
                // Truncated: 7 bytes missing.
                image("gs_ht802fw.bin", "ht802", "1.0.10.6", 7),
                // Nobody asks for it.
                image("gs_gxp1600fw.bin", "gxp1600", "1.0.4.13", 0),
                // Foreign bytes.
                FirmwareFile {
                    name: "readme.bin".into(),
                    size: 3,
                    image: Image::Unrecognised("not Grandstream firmware: ...".into()),
                },
            ],
            None,
        );
        let view = view(&s, &listing, &|m| (m == mac("000b82a1b201")).then(|| "1.0.9.69".to_string()));
        let msgs: Vec<String> = view.flags.iter().map(|f| format!("{:?} {}: {}", f.level, f.at, f.message)).collect();
        let has = |needle: &str| assert!(msgs.iter().any(|m| m.contains(needle)), "{needle:?} not in {msgs:#?}");
        has("Error file gs_ht802fw.bin: truncated (7 bytes missing): not served");
        has("Warning file gs_gxp1600fw.bin: no model of the site requests gs_gxp1600fw.bin");
        has("Warning file readme.bin: not Grandstream firmware");
        has("Warning model GXV3350: gsprov does not know which firmware file GXV3350 requests");
        has("Note model HT802: no complete gs_ht802fw.bin in the folder: its 1 device(s) get a 404");
        assert_eq!(view.flags[0].level, Level::Error, "worst first");

        let gxp = view.models.iter().find(|m| m.model.as_str() == "GXP2170").unwrap();
        assert_eq!(gxp.request.as_deref(), Some("gs_gxp2170fw.bin"));
        assert_eq!(gxp.versions, vec![v("1.0.11.3")]);
        assert_eq!(gxp.devices.len(), 2);
        let file = view.files.iter().find(|f| f.name == "gs_gxp2170fw.bin").unwrap();
        assert_eq!(
            (file.layout, file.version, file.family.as_deref()),
            (Some(Layout::Ht8xx), Some(v("1.0.11.3")), Some("gxp2170"))
        );
        assert_eq!(file.wanted_by, vec!["GXP2170".parse::<Model>().unwrap()]);

        let r = view.device(mac("000b82a1b201")).unwrap();
        assert_eq!((r.plan.action, r.path.as_str()), (Action::Upgrade, "1.0.9.69 -> 1.0.11.3"));
        assert_eq!(r.p192, None, "a top-level image needs no P192 change");
        let b = view.device(mac("000b82a1b202")).unwrap();
        assert_eq!(b.plan.action, Action::Offer);
        assert_eq!(view.device(mac("000b82a1b203")).unwrap().plan.action, Action::NoImage);
        assert_eq!(view.device(mac("000b82a1b204")).unwrap().plan.action, Action::NameUnknown);
    }

    #[test]
    fn wrong_family_is_flagged() {
        let s = site();
        let listing = FirmwareListing::new(None, vec![image("ht802fw.bin", "ht801", "1.0.10.6", 0)], None);
        let view = view(&s, &listing, &|_| None);
        assert!(
            view.flags.iter().any(|f| f.message.contains("members are named ht801…, its file name says ht802")),
            "{:#?}",
            view.flags
        );
        // Never a step (issue 25: the HT802's own device was planned onto the HT801 image's version).
        let r = view.device(mac("000b82a1b203")).unwrap();
        assert_eq!((r.plan.action, r.plan.next.clone()), (Action::NoImage, None), "{r:?}");
    }

    #[test]
    fn another_familys_image_is_never_a_step_for_any_device() {
        let mut s = site();
        s.devices.push(Device::new(mac("000b82a1b205"), "GXP1625".parse().unwrap()));
        // An HT802 image saved as gxp1600fw.bin, beside a real one in a step folder.
        let listing = FirmwareListing::new(
            None,
            vec![
                image("gxp1600fw.bin", "ht802", "1.0.10.6", 0),
                image("gxp1625/1.0.7.13/gxp1600fw.bin", "gxp1600", "1.0.7.13", 0),
            ],
            None,
        );
        let view = view(&s, &listing, &|_| Some("1.0.4.1".into()));
        let r = view.device(mac("000b82a1b205")).unwrap();
        assert_eq!(r.plan.next.as_ref().map(|n| n.version), Some(v("1.0.7.13")), "{r:?}");
        assert!(!r.path.contains("1.0.10.6"), "{}", r.path);
        assert_eq!(foreign_family(listing.get("gxp1600fw.bin").unwrap()).as_deref(), Some("ht802"));
        assert_eq!(foreign_family(listing.get("gxp1625/1.0.7.13/gxp1600fw.bin").unwrap()), None);
    }

    /// CVE-2026-2329: a GXP16xx that reported 1.0.7.79 is flagged with the
    /// fixed version; one on 1.0.7.81 and a GXP2170 on 1.0.7.79 are not.
    #[test]
    fn firmware_with_a_public_vulnerability_is_flagged() {
        let mut s = site();
        s.devices.push(Device::new(mac("000b82a1b205"), "GXP1625".parse().unwrap()));
        s.devices.push(Device::new(mac("000b82a1b206"), "GXP1625".parse().unwrap()));
        let listing = FirmwareListing::new(None, vec![], None);
        let cur = |m: Mac| Some(if m == mac("000b82a1b206") { "1.0.7.81" } else { "1.0.7.79" }.to_string());
        let view = view(&s, &listing, &cur);
        let cve: Vec<&Flag> = view.flags.iter().filter(|f| f.message.starts_with("CVE-2026-2329")).collect();
        assert_eq!(cve.len(), 1, "{:#?}", view.flags);
        assert_eq!(cve[0].level, Level::Warning);
        assert_eq!(cve[0].at, "device 000b82a1b205");
        assert!(cve[0].message.contains("upgrade to 1.0.7.81 or later"), "{}", cve[0].message);
    }

    #[test]
    fn downgrade_refused_then_allowed() {
        let mut s = site();
        let listing = FirmwareListing::new(None, vec![image("gxp2170fw.bin", "gxp2170", "1.0.9.69", 0)], None);
        let cur = |_| Some("1.0.11.3".to_string());
        let r = view(&s, &listing, &cur).device(mac("000b82a1b201")).unwrap().clone();
        assert_eq!(r.plan.action, Action::DowngradeRefused);
        assert_eq!(r.plan.next, None);
        let err = judge(&r.plan, Some(v("1.0.9.69")), Some("1.0.11.3")).unwrap_err();
        assert!(err.contains("would downgrade the device from 1.0.11.3") && err.contains("allow_downgrade"), "{err}");

        // Allowed for this one device only.
        s.firmware
            .devices
            .insert("000b82a1b201".into(), FirmwarePin { allow_downgrade: Some(true), ..Default::default() });
        let view = view(&s, &listing, &cur);
        let r = view.device(mac("000b82a1b201")).unwrap();
        assert_eq!(r.plan.action, Action::Downgrade);
        assert_eq!(judge(&r.plan, Some(v("1.0.9.69")), Some("1.0.11.3")), Ok(()));
        assert_eq!(view.device(mac("000b82a1b202")).unwrap().plan.action, Action::DowngradeRefused);
    }

    #[test]
    fn up_to_date_is_not_offered() {
        let s = site();
        let listing = FirmwareListing::new(None, vec![image("gxp2170fw.bin", "gxp2170", "1.0.11.3", 0)], None);
        let view = view(&s, &listing, &|_| Some("1.0.11.3".into()));
        let r = view.device(mac("000b82a1b201")).unwrap();
        assert_eq!(r.plan.action, Action::UpToDate);
        let err = judge(&r.plan, Some(v("1.0.11.3")), Some("1.0.11.3")).unwrap_err();
        assert!(err.starts_with("already at 1.0.11.3"), "{err}");
    }

    #[test]
    fn three_step_plan_advances_with_the_reported_version() {
        let mut s = site();
        s.firmware.models.insert("GXP2170".into(), FirmwarePin { target: "1.0.11.79".into(), ..Default::default() });
        let listing = stepped();
        let mut reported = "1.0.9.1".to_string();
        let mut seen = Vec::new();
        for _ in 0..5 {
            let cur = reported.clone();
            let view = view(&s, &listing, &|m| (m == mac("000b82a1b201")).then(|| cur.clone()));
            let r = view.device(mac("000b82a1b201")).unwrap().clone();
            seen.push(r.path.clone());
            let Some(next) = r.plan.next.clone() else {
                assert_eq!(r.plan.action, Action::UpToDate);
                break;
            };
            // The config now points the device at its step's folder...
            assert_eq!(r.p192.as_deref(), Some(format!("10.0.0.1:8080/fw/{}", next.folder).as_str()));
            let stepped_site = with_steps(&s, &view);
            assert_eq!(
                stepped_site.effective(stepped_site.device(mac("000b82a1b201")).unwrap()).get("P192"),
                r.p192.as_deref()
            );
            // ...the requested image passes, a later one would skip the step...
            assert_eq!(judge(&r.plan, Some(next.version), Some(&reported)), Ok(()));
            if next.version < v("1.0.11.79") {
                let err = judge(&r.plan, Some(v("1.0.11.79")), Some(&reported)).unwrap_err();
                assert!(err.contains(&format!("skips the step {}", next.version)), "{err}");
            }
            // ...and the device comes back with the new version in its User-Agent.
            reported = next.version.to_string();
        }
        assert_eq!(
            seen,
            [
                "1.0.9.1 -> 1.0.9.69 -> 1.0.11.3 -> 1.0.11.79",
                "1.0.9.69 -> 1.0.11.3 -> 1.0.11.79",
                "1.0.11.3 -> 1.0.11.79",
                "1.0.11.79"
            ]
        );
    }

    #[test]
    fn pinned_target_stops_early_and_must_exist() {
        let mut s = site();
        s.firmware
            .devices
            .insert("000b82a1b202".into(), FirmwarePin { target: "1.0.11.3".into(), ..Default::default() });
        s.firmware
            .devices
            .insert("000b82a1b201".into(), FirmwarePin { target: "1.0.12.1".into(), ..Default::default() });
        let view = view(&s, &stepped(), &|_| Some("1.0.9.69".into()));
        let b = view.device(mac("000b82a1b202")).unwrap();
        assert_eq!(b.path, "1.0.9.69 -> 1.0.11.3");
        let err = judge(&b.plan, Some(v("1.0.11.79")), Some("1.0.9.69")).unwrap_err();
        assert!(err.contains("beyond the pinned target 1.0.11.3"), "{err}");
        let a = view.device(mac("000b82a1b201")).unwrap();
        assert_eq!(a.plan.action, Action::TargetMissing);
        assert!(view.flags.iter().any(|f| f.level == Level::Error && f.message.contains("pinned target 1.0.12.1")));
    }

    #[test]
    fn folder_version_disagreeing_with_header_is_flagged() {
        let s = site();
        let listing =
            FirmwareListing::new(None, vec![image("gxp2170/1.0.11.3/gxp2170fw.bin", "gxp2170", "1.0.11.4", 0)], None);
        let view = view(&s, &listing, &|_| None);
        assert!(view.flags.iter().any(|f| f.message.contains("folder says 1.0.11.3 but its header says 1.0.11.4")));
    }
}
