//! The safety nets of a desktop app (issue 27 items 12 and 13): the Edit menu
//! with Undo and Redo (Ctrl+Z, Ctrl+Shift+Z, Ctrl+Y) naming what they undo, the
//! confirmation before a delete takes accounts and keys with it, asking before
//! the window closes on running servers or unsaved edits (File > Quit too),
//! and Help > About with the version, licence and where gsprov keeps things.
//!
//! Undo works on the site as [`Doc::undo`] keeps it; while a text field has
//! the keyboard, Ctrl+Z is the field's own (egui's per-field undo), so the
//! app never takes the text from under the cursor. The Edit menu undoes the
//! site at any time.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::{App, Doc, Runtime};
use crate::ids::Mac;
use crate::site::{Device, Site};

/// Where this process keeps its own files, decided by whoever starts the app
/// (the real ones in [`super::run`]; tests pass their own, so no test writes
/// to the user's settings).
#[derive(Debug, Clone, Default)]
pub struct Paths {
    /// The settings file eframe keeps (recent sites, theme, the last site).
    pub settings: Option<PathBuf>,
    /// The folder of the daily log files.
    pub logs: Option<PathBuf>,
}

impl Paths {
    /// This user's: the settings file eframe is told to use, and the log folder
    /// as [`crate::logging`] chooses it. Computes paths only; creates nothing.
    pub fn of_this_user() -> Paths {
        Paths {
            settings: eframe::storage_dir("gsprov").map(|d| d.join("app.ron")),
            logs: crate::logging::dir(std::env::var_os(crate::logging::DIR_ENV)),
        }
    }
}

/// State of this module's windows (not persisted).
#[derive(Default)]
pub struct SafetyUi {
    /// Devices waiting for "Delete" to be confirmed.
    pub confirm_delete: Option<Vec<Mac>>,
    /// The close/quit question is showing.
    pub confirm_close: bool,
    /// File > Quit (or Ctrl+Q) was chosen this frame.
    pub quit: bool,
    /// "Save and quit": close once the save has landed.
    pub quit_after_save: bool,
    /// The app told the window to close (after asking, where it had to).
    pub closed: bool,
    pub about: bool,
    pub paths: Paths,
    /// The site last worked on, being reopened at start.
    pub reopening: Option<PathBuf>,
}

/// How many configured accounts and programmable keys `devices` carry.
pub fn carried(site: &Site, devices: &[Mac]) -> (usize, usize) {
    let mut accounts = 0;
    let mut keys = 0;
    for d in site.devices.iter().filter(|d| devices.contains(&d.mac)) {
        accounts += d.accounts.iter().filter(|a| !a.user_id.trim().is_empty()).count();
        keys += key_count(d);
    }
    (accounts, keys)
}

/// Programmable keys set on the device itself (`key.<kind>.<n>.<field>` values).
fn key_count(d: &Device) -> usize {
    let keys: std::collections::BTreeSet<(&str, &str)> = d
        .values
        .0
        .keys()
        .filter_map(|k| {
            let mut parts = k.strip_prefix("key.")?.splitn(3, '.');
            Some((parts.next()?, parts.next()?))
        })
        .collect();
    keys.len()
}

/// The name of a delete in the Edit menu.
fn delete_name(devices: &[Mac]) -> String {
    match devices {
        [m] => format!("delete device {}", m.colon()),
        ms => format!("delete {} devices", ms.len()),
    }
}

/// "Delete selected": at once when the devices carry no accounts or keys,
/// else after the technician confirms what goes with them.
pub fn delete_selected(doc: &mut Doc, selected: &mut BTreeSet<Mac>, focus: &mut Option<Mac>, safety: &mut SafetyUi) {
    let macs: Vec<Mac> = doc.site.devices.iter().map(|d| d.mac).filter(|m| selected.contains(m)).collect();
    if macs.is_empty() {
        return;
    }
    let (accounts, keys) = carried(&doc.site, &macs);
    if accounts + keys > 0 {
        safety.confirm_delete = Some(macs);
    } else {
        delete(doc, selected, focus, &macs);
    }
}

fn delete(doc: &mut Doc, selected: &mut BTreeSet<Mac>, focus: &mut Option<Mac>, macs: &[Mac]) {
    doc.edit_as(delete_name(macs), |site| site.devices.retain(|d| !macs.contains(&d.mac)));
    selected.retain(|m| !macs.contains(m));
    if focus.is_some_and(|f| macs.contains(&f)) {
        *focus = None;
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn delete_confirm_ui(ctx: &egui::Context, doc: &mut Doc, rt: &mut Runtime) {
    let Some(macs) = rt.safety.confirm_delete.clone() else { return };
    let (accounts, keys) = carried(&doc.site, &macs);
    let mut choice = None;
    egui::Modal::new(egui::Id::unique("gsprov-confirm-delete")).show(ctx, |ui| {
        ui.heading(match macs.as_slice() {
            [m] => format!("Delete device {}?", m.colon()),
            ms => format!("Delete {} devices?", ms.len()),
        });
        let mut goes = Vec::new();
        if accounts > 0 {
            goes.push(plural(accounts, "account", "accounts"));
        }
        if keys > 0 {
            goes.push(plural(keys, "programmable key", "programmable keys"));
        }
        let verb = if accounts + keys == 1 { "goes" } else { "go" };
        let it = if macs.len() == 1 { "it" } else { "them" };
        ui.label(format!("{} {verb} with {it}.", goes.join(" and ")));
        ui.weak(format!("Edit > Undo (Ctrl+Z) brings {it} back."));
        ui.horizontal(|ui| {
            if ui.button("Delete").clicked() {
                choice = Some(true);
            }
            if ui.button("Cancel").clicked() {
                choice = Some(false);
            }
        });
    });
    if let Some(yes) = choice {
        rt.safety.confirm_delete = None;
        if yes {
            delete(doc, &mut rt.selected, &mut rt.focus, &macs);
        }
    }
}

impl App {
    /// Undo, redo and quit from the keyboard; Ctrl+Z stays a text field's own
    /// while one has the keyboard.
    pub(super) fn safety_shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        if ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::Q))) {
            self.rt.safety.quit = true;
        }
        if ctx.text_edit_focused() {
            return;
        }
        let redo = KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
        let (undo, redo) = ctx.input_mut(|i| {
            // Ctrl+Shift+Z first: consuming Ctrl+Z would not look at Shift.
            let redo =
                i.consume_shortcut(&redo) || i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::Y));
            (i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::Z)), redo)
        });
        if undo {
            self.undo();
        }
        if redo {
            self.redo();
        }
    }

    pub fn undo(&mut self) {
        if let Some(what) = self.doc.undo() {
            self.notify(format!("Undid: {what}"), false);
        }
    }

    pub fn redo(&mut self) {
        if let Some(what) = self.doc.redo() {
            self.notify(format!("Redid: {what}"), false);
        }
    }

    /// The Edit menu.
    pub(super) fn edit_menu_ui(&mut self, ui: &mut egui::Ui) {
        ui.menu_button("Edit", |ui| {
            let undo = match self.doc.undo_name() {
                Some(w) => format!("Undo {w}"),
                None => "Nothing to undo".into(),
            };
            let r = ui
                .add_enabled(self.doc.undo_name().is_some(), egui::Button::new(undo).shortcut_text("Ctrl+Z"))
                .on_hover_text(
                    "Undoes the site edit; in a text field being typed in, Ctrl+Z undoes that field's typing",
                );
            if r.clicked() {
                self.undo();
                ui.close();
            }
            let redo = match self.doc.redo_name() {
                Some(w) => format!("Redo {w}"),
                None => "Nothing to redo".into(),
            };
            if ui
                .add_enabled(self.doc.redo_name().is_some(), egui::Button::new(redo).shortcut_text("Ctrl+Shift+Z"))
                .clicked()
            {
                self.redo();
                ui.close();
            }
        });
    }

    /// The Help menu.
    pub(super) fn help_menu_ui(&mut self, ui: &mut egui::Ui) {
        ui.menu_button("Help", |ui| {
            if ui.button("About gsprov").clicked() {
                self.rt.safety.about = true;
                ui.close();
            }
        });
    }

    /// File > Quit.
    pub(super) fn quit_item_ui(&mut self, ui: &mut egui::Ui) {
        if ui.add(egui::Button::new("Quit").shortcut_text("Ctrl+Q")).clicked() {
            self.rt.safety.quit = true;
            ui.close();
        }
    }

    /// Called each frame before drawing: a close asked of the window (or of
    /// File, Quit) first asks when servers run or edits are unsaved; "Save
    /// and quit" closes once the save landed.
    pub(super) fn closing(&mut self, ctx: &egui::Context) {
        let os_close = ctx.input(|i| i.viewport().close_requested());
        let quit = std::mem::take(&mut self.rt.safety.quit);
        if (os_close || quit) && !self.rt.allow_close {
            if self.doc.dirty() || self.rt.serving.running() {
                if os_close {
                    ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
                }
                self.rt.safety.confirm_close = true;
            } else if quit {
                self.close_now(ctx);
            }
        }
        if self.rt.safety.quit_after_save && self.rt.busy.is_none() && self.rt.path_prompt.is_none() {
            self.rt.safety.quit_after_save = false;
            // A save that failed or was cancelled leaves the edits unsaved: stay open.
            if !self.doc.dirty() {
                self.close_now(ctx);
            }
        }
    }

    fn close_now(&mut self, ctx: &egui::Context) {
        self.rt.allow_close = true;
        self.rt.safety.closed = true;
        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
    }

    /// What quitting now would cut short, in words.
    fn close_question(&self) -> Vec<String> {
        let mut said = Vec::new();
        let sv = &self.rt.serving;
        if sv.running() {
            let servers: Vec<String> = sv.addresses().iter().map(|(p, a)| format!("{p} on {a}")).collect();
            said.push(format!(
                "The servers are running ({}). Quitting stops them: phones in the middle of provisioning lose \
                 the servers, and a phone fetching its configuration or firmware now stops and tries again only \
                 at its next boot or check.",
                servers.join(", ")
            ));
            let transfers = sv.in_flight.len();
            let waiting = sv.status.known().filter(|d| d.state == crate::serving::status::DeviceState::Probing).count();
            if transfers > 0 || waiting > 0 {
                said.push(format!(
                    "Right now: {} in flight, {} asked but not configured yet.",
                    plural(transfers, "transfer", "transfers"),
                    plural(waiting, "device has", "devices have")
                ));
            }
        }
        if self.doc.dirty() {
            said.push(format!("\"{}\" has edits that are not saved.", self.doc.site.name));
        }
        said
    }

    fn close_confirm_ui(&mut self, ctx: &egui::Context) {
        if !self.rt.safety.confirm_close {
            return;
        }
        let dirty = self.doc.dirty();
        let said = self.close_question();
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("gsprov-confirm-close")).show(ctx, |ui| {
            ui.heading("Quit gsprov?");
            for s in &said {
                ui.label(s);
            }
            ui.horizontal(|ui| {
                if dirty {
                    if ui.button("Save and quit").clicked() {
                        choice = Some(Close::Save);
                    }
                    if ui.button("Discard changes and quit").clicked() {
                        choice = Some(Close::Quit);
                    }
                } else if ui.button("Stop the servers and quit").clicked() {
                    choice = Some(Close::Quit);
                }
                if ui.button("Cancel").clicked() {
                    choice = Some(Close::Stay);
                }
            });
        });
        let Some(choice) = choice else { return };
        self.rt.safety.confirm_close = false;
        match choice {
            Close::Save => {
                self.rt.safety.quit_after_save = true;
                self.apply_now(super::Action::Save);
            }
            Close::Quit => self.close_now(ctx),
            Close::Stay => {}
        }
    }

    fn about_ui(&mut self, ctx: &egui::Context) {
        let mut open = self.rt.safety.about;
        if !open {
            return;
        }
        let paths = &self.rt.safety.paths;
        let shown =
            |p: &Option<PathBuf>, none: &str| p.as_ref().map_or_else(|| none.to_string(), |p| p.display().to_string());
        let request_log = match &self.doc.path {
            Some(p) => crate::storage::site_paths(p, &self.doc.site.serving.firmware_dir)
                .request_log
                .map_or_else(|| "(none)".to_string(), |p| p.display().to_string()),
            None => "(beside the site file, once the site is saved)".into(),
        };
        egui::Window::new("About gsprov").open(&mut open).collapsible(false).resizable(false).show(ctx, |ui| {
            ui.heading("gsprov");
            ui.label("Provisioning workstation for Grandstream SIP devices");
            egui::Grid::new("about-grid").num_columns(2).show(ui, |ui| {
                ui.label("Version");
                ui.label(crate::cli::VERSION);
                ui.end_row();
                ui.label("Licence");
                ui.label(env!("CARGO_PKG_LICENSE"));
                ui.end_row();
                ui.label("Log files");
                ui.label(shown(&paths.logs, "(none: GSPROV_LOG_DIR is empty, or there is no home folder)"));
                ui.end_row();
                ui.label("Request log");
                ui.label(request_log);
                ui.end_row();
                ui.label("Settings");
                ui.label(shown(&paths.settings, "(not kept: no settings folder)"));
                ui.end_row();
            });
        });
        self.rt.safety.about = open;
    }

    /// The answer to reopening the site last worked on: a failure says the
    /// site is gone and leaves the demo open (and forgets that site, so the
    /// next start opens the demo without a word). Anything else is handed back.
    pub(super) fn reopened(&mut self, done: super::worker::Done) -> Option<super::worker::Done> {
        use super::worker::Done;
        let Some(last) = self.rt.safety.reopening.take() else { return Some(done) };
        match done {
            Done::Failed { what: "open", message } => {
                self.state.last_site = None;
                self.notify(
                    format!(
                        "This is the demo site: the site last worked on, {}, could not be opened again ({message})",
                        last.display()
                    ),
                    true,
                );
                None
            }
            Done::Opened { .. } => Some(done),
            other => {
                self.rt.safety.reopening = Some(last);
                Some(other)
            }
        }
    }

    /// This module's windows, drawn after the panels.
    pub(super) fn safety_windows_ui(&mut self, ctx: &egui::Context) {
        delete_confirm_ui(ctx, &mut self.doc, &mut self.rt);
        self.close_confirm_ui(ctx);
        self.about_ui(ctx);
    }
}

enum Close {
    Save,
    Quit,
    Stay,
}
