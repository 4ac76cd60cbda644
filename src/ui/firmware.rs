//! Firmware view: the firmware folder as devices will see it (each image's
//! header, family, version, size and completeness), the file each model of the
//! site requests, each device's current firmware beside its upgrade path, and
//! the flags, as `gsprov firmware` prints them.
//!
//! Owns no I/O: the folder is listed by the file worker ([`Job::ListFirmware`])
//! and the view is built by the pure `serving::firmware`. For the demo site
//! (no file yet) it shows the demo's synthetic images, built in memory.

use super::{Action, Doc, Runtime};
use crate::formats::firmware;
use crate::serving::FirmwareFile;
use crate::serving::firmware::FirmwareListing;
use crate::serving::firmware::{Level, View};
use crate::ui::worker::Job;

/// The last listing and what it was for.
#[derive(Default)]
pub struct FirmwareUi {
    /// `(site path, firmware_dir)` -> listing; `None` key: the demo's images.
    listing: Option<(Option<(std::path::PathBuf, String)>, FirmwareListing)>,
    /// A listing was asked of the worker for this key.
    pending: Option<(std::path::PathBuf, String)>,
    /// The listed folder's problems, as `gsprov check` says them.
    problems: Vec<crate::site::Issue>,
    /// Bumped with every new listing, so views built from it can cache.
    generation: u64,
    /// When the folder was last asked for ([`recheck_listing`] waits between asks).
    asked_at: Option<std::time::Instant>,
}

impl FirmwareUi {
    /// The listing for `doc`'s site and firmware folder, once the worker answered.
    pub fn current(&self, doc: &Doc) -> Option<&FirmwareListing> {
        let key = doc.path.clone().map(|p| (p, doc.site.serving.firmware_dir.clone()));
        self.listing.as_ref().filter(|(k, _)| *k == key).map(|(_, l)| l)
    }

    /// Stores what the worker listed.
    pub fn listed(
        &mut self,
        site_path: std::path::PathBuf,
        firmware_dir: String,
        listing: FirmwareListing,
        problems: Vec<crate::site::Issue>,
    ) {
        if self.pending.as_ref() == Some(&(site_path.clone(), firmware_dir.clone())) {
            self.pending = None;
        }
        self.listing = Some((Some((site_path, firmware_dir)), listing));
        self.problems = problems;
        self.generation += 1;
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What is wrong with `doc`'s firmware folder (exposed, missing,
    /// unreadable), in `gsprov check`'s words, once the worker listed it.
    pub fn problems(&self, doc: &Doc) -> &[crate::site::Issue] {
        if self.current(doc).is_some() { &self.problems } else { &[] }
    }
}

/// The demo's images (`assets/firmware`), read back with their headers.
fn demo_listing() -> FirmwareListing {
    let files = firmware::demo_images()
        .into_iter()
        .map(|(name, bytes)| FirmwareFile {
            name: name.into(),
            size: bytes.len() as u64,
            image: match firmware::parse_header(&bytes, bytes.len() as u64) {
                Ok(h) => crate::serving::Image::Header(h),
                Err(e) => crate::serving::Image::Unrecognised(e.to_string()),
            },
        })
        .collect();
    FirmwareListing::new(Some("the demo's synthetic images (assets/firmware)".into()), files, None)
}

/// Asks the file worker for the site's firmware folder as the servers see it
/// when the site or its folder changed (or `again`): the Firmware, Server and
/// Files views all read the answer ([`FirmwareUi::current`]).
pub fn ensure_listing(doc: &Doc, rt: &mut Runtime, again: bool) {
    let key = doc.path.clone().map(|p| (p, doc.site.serving.firmware_dir.clone()));
    let fresh = rt.firmware.listing.as_ref().is_some_and(|(k, _)| *k == key);
    match &key {
        None if !fresh => {
            rt.firmware.listing = Some((None, demo_listing()));
            rt.firmware.problems.clear();
            rt.firmware.generation += 1;
        }
        Some(k) if (!fresh || again) && rt.firmware.pending.as_ref() != Some(k) => {
            rt.firmware.pending = Some(k.clone());
            rt.firmware.asked_at = Some(std::time::Instant::now());
            rt.worker.send(Job::ListFirmware { site_path: k.0.clone(), firmware_dir: k.1.clone() });
            if again && rt.serving.running() {
                // The running servers re-list the folder by themselves; the
                // session regenerates the files whose firmware step changed.
                if let Some(c) = &rt.serving.control {
                    c.send(crate::ui::control::Request::FirmwareReread);
                }
            }
        }
        _ => {}
    }
}

/// How long a listing that found a problem is trusted before
/// [`recheck_listing`] reads the folder again.
pub const RECHECK_AFTER: std::time::Duration = std::time::Duration::from_secs(3);

/// Reads the firmware folder again when its last listing is older than
/// [`RECHECK_AFTER`]: for the bring-up checklist, which calls it while its
/// "Firmware folder found" step is unticked, so the step ticks once the
/// technician creates or fills the folder, without "Read the folder again".
/// Called only from a drawn frame and never asks for one: an idle window
/// reads nothing. The running servers are not asked to re-list (their own
/// listing is theirs; "Read the folder again" asks them).
pub fn recheck_listing(doc: &Doc, rt: &mut Runtime) {
    let Some(key) = doc.path.clone().map(|p| (p, doc.site.serving.firmware_dir.clone())) else { return };
    if rt.firmware.pending.is_some() || rt.firmware.asked_at.is_some_and(|t| t.elapsed() < RECHECK_AFTER) {
        return;
    }
    rt.firmware.pending = Some(key.clone());
    rt.firmware.asked_at = Some(std::time::Instant::now());
    rt.worker.send(Job::ListFirmware { site_path: key.0, firmware_dir: key.1 });
}

pub fn firmware_ui(ui: &mut egui::Ui, doc: &Doc, rt: &mut Runtime) -> Option<Action> {
    let again = ui
        .horizontal(|ui| {
            ui.heading("Firmware");
            ui.button("Read the folder again").clicked()
        })
        .inner;
    ensure_listing(doc, rt, again);
    if rt.firmware.pending.is_some() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Reading the firmware folder…");
        });
    }
    let listing = rt.firmware.current(doc)?;
    let status = &rt.serving.status;
    let view =
        crate::serving::firmware::view(&doc.site, listing, &|m| status.device(m).and_then(|d| d.firmware.clone()));
    view_ui(ui, &view);
    None
}

fn level_color(ui: &egui::Ui, level: Level) -> egui::Color32 {
    match level {
        Level::Error => ui.visuals().error_fg_color,
        Level::Warning => ui.visuals().warn_fg_color,
        Level::Note => ui.visuals().weak_text_color(),
    }
}

fn view_ui(ui: &mut egui::Ui, view: &View) {
    ui.label(format!("Folder: {}", view.dir.as_deref().unwrap_or("none (set it in the Server view)")));
    if let Some(p) = &view.problem {
        ui.colored_label(ui.visuals().error_fg_color, format!("Cannot be listed: {p}"));
    }
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        ui.add_space(6.0);
        ui.strong("Files");
        if view.files.is_empty() {
            ui.label("No files in the folder.");
        }
        egui::Grid::new("fw-files").striped(true).num_columns(7).show(ui, |ui| {
            for h in ["File", "Size", "Layout", "Family", "Version", "State", "Requested by"] {
                ui.strong(h);
            }
            ui.end_row();
            for f in &view.files {
                ui.label(&f.name);
                ui.label(format!("{} B", f.size));
                ui.label(f.layout.map(|l| l.to_string()).unwrap_or_else(|| "-".into()));
                ui.label(f.family.as_deref().unwrap_or("-"));
                ui.label(f.version.map(|v| v.to_string()).unwrap_or_else(|| "-".into()));
                ui.label(&f.state).on_hover_text(f.members.join("\n"));
                let by: Vec<String> = f.wanted_by.iter().map(|m| m.to_string()).collect();
                ui.label(if by.is_empty() { "no model".into() } else { by.join(", ") });
                ui.end_row();
            }
        });
        ui.add_space(8.0);
        ui.strong("Models");
        egui::Grid::new("fw-models").striped(true).num_columns(4).show(ui, |ui| {
            for h in ["Model", "Requests", "In the folder", "Devices"] {
                ui.strong(h);
            }
            ui.end_row();
            for m in &view.models {
                ui.label(m.model.as_str());
                ui.label(m.request.as_deref().unwrap_or("(name unknown)"));
                let v: Vec<String> = m.versions.iter().map(|v| v.to_string()).collect();
                ui.label(if v.is_empty() { "nothing".into() } else { v.join(", ") });
                ui.label(m.devices.len().to_string());
                ui.end_row();
            }
        });
        ui.add_space(8.0);
        ui.strong("Devices");
        ui.weak(
            "While serving, each device's files carry the P192 of its next step (from the version it last \
             reported); a device that comes back with the new version gets the step after.",
        );
        egui::Grid::new("fw-devices").striped(true).num_columns(5).show(ui, |ui| {
            for h in ["Device", "Model", "Path (current -> steps)", "Action", "P192 for its next step"] {
                ui.strong(h);
            }
            ui.end_row();
            for d in &view.devices {
                let who = if d.label.is_empty() { d.mac.colon() } else { format!("{} ({})", d.label, d.mac.colon()) };
                ui.label(who);
                ui.label(d.model.as_str());
                ui.label(&d.path);
                ui.label(d.plan.action.describe());
                ui.label(d.p192.as_deref().unwrap_or("-"));
                ui.end_row();
            }
        });
        if !view.flags.is_empty() {
            ui.add_space(8.0);
            ui.strong("Flags");
            for f in &view.flags {
                let level = match f.level {
                    Level::Error => "error",
                    Level::Warning => "warning",
                    Level::Note => "note",
                };
                ui.colored_label(level_color(ui, f.level), format!("{level}: {}: {}", f.at, f.message));
            }
        }
    });
}
