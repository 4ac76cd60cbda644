//! The desktop app (front end #1): an eframe/egui workstation over the site.
//!
//! Owns no I/O: file work goes to [`worker::Worker`] as typed jobs, server
//! work to the [`control`] thread as requests; both come back as results,
//! drained under a time budget each frame. Panels are drawing functions
//! (`*_ui`) that edit the site only through [`Doc::edit`] and return an
//! [`Action`]; [`App::apply`] is the one place actions are carried out
//! (files opened, jobs and server requests sent).

mod adopt;
mod checklist;
mod control;
mod devices;
mod discovered;
mod doc;
pub mod files;
mod firmware;
mod form;
mod history;
mod import;
pub mod inbox;
mod keys;
mod log;
mod params;
mod read;
mod region;
mod rows;
mod safety;
mod security;
mod server;
pub mod serving;
mod status;
mod steady;
mod warnings;
mod worker;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::ids::{Mac, Model};
use crate::site::{Layer, Site};
use crate::ui::worker::{Done, Job, Worker};

pub use doc::{Derived, Doc};
pub use form::FormView;
pub use safety::Paths;

/// Persisted between runs with eframe storage (`serde(default)` so older
/// saved state still loads).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub recent: Vec<PathBuf>,
    pub dark: bool,
    pub last_site: Option<PathBuf>,
    pub view: View,
    /// The folder of the last file or folder used, where a typed path starts.
    pub last_dir: Option<PathBuf>,
    /// The bring-up checklist was hidden (View > Bring-up checklist shows it).
    pub hide_checklist: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            recent: Vec::new(),
            dark: true,
            last_site: None,
            view: View::Devices,
            last_dir: None,
            hide_checklist: false,
        }
    }
}

/// The main views, one tab each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum View {
    Devices,
    Parameters,
    Files,
    Firmware,
    Server,
    Log,
    Status,
    Discovered,
}

/// Something a panel asks the app to do after drawing.
#[derive(Debug)]
#[must_use]
pub enum Action {
    New,
    Open(Option<PathBuf>),
    OpenDemo,
    Save,
    SaveAs,
    ImportCsv,
    /// Open the "Adopt a provisioning folder" window.
    AdoptFolder,
    /// Replace the open site with an adopted one (unsaved).
    Adopted(Box<Site>),
    Export,
    Select(Mac),
    EditDevice(Mac),
    /// Ask the control thread: servers, discovery, the self-test.
    Serve(control::Request),
    /// Hand a file job to the worker, showing `what` while it runs.
    Background(Job, &'static str),
    /// Switch to a view (a link from another one).
    Show(View),
}

/// A dialog waiting for the technician.
enum Modal {
    /// Unsaved edits would be lost by `then`.
    Unsaved { then: Box<Action> },
}

/// Transient, not persisted.
pub struct Runtime {
    pub worker: Worker,
    pub busy: Option<(&'static str, Instant)>,
    pub notice: Option<(String, bool, Instant)>,
    pub selected: BTreeSet<Mac>,
    /// One switch for every place a secret could show (forms, previews, hex
    /// dumps, the self-test): off by default.
    pub show_secrets: bool,
    pub focus: Option<Mac>,
    pub level: Layer,
    pub devices: devices::DevicesUi,
    pub import: import::ImportUi,
    pub adopt: adopt::AdoptUi,
    pub params: params::ParamsUi,
    pub files: files::FilesUi,
    pub firmware: firmware::FirmwareUi,
    pub serving: serving::Serving,
    pub server: server::ServerUi,
    pub board: status::BoardUi,
    pub discovered: discovered::DiscoveredUi,
    /// "Read from device": reads under way, their results, the panel.
    pub read: read::ReadUi,
    repaint: egui::Context,
    pub log: log::LogUi,
    modal: Option<Modal>,
    allow_close: bool,
    /// A file job waiting for a typed path, because no dialog could open.
    pub path_prompt: Option<PathPrompt>,
    /// Ask for paths in the app instead of file dialogs (set by tests, and
    /// useful where dialogs misbehave).
    pub typed_paths: bool,
    /// Undo/redo, delete and quit confirmations, About.
    pub safety: safety::SafetyUi,
}

/// Asks for a path in the app itself when the system has no file dialog.
pub struct PathPrompt {
    pub job: Job,
    pub text: String,
    pub why: String,
}

pub struct App {
    pub state: State,
    pub doc: Doc,
    pub rt: Runtime,
}

/// The budget for draining background results in one frame.
const DRAIN_BUDGET: Duration = Duration::from_millis(2);

impl App {
    /// Builds the app. Opens `site` when given (in the background), else the
    /// site last worked on (from `storage`), else the demo.
    pub fn new(ctx: &egui::Context, storage: Option<&dyn eframe::Storage>, site: Option<PathBuf>) -> App {
        let state: State = storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default();
        ctx.set_theme(if state.dark { egui::Theme::Dark } else { egui::Theme::Light });
        let repaint = ctx.clone();
        let wake: Arc<dyn Fn() + Send + Sync> = Arc::new(move || repaint.request_repaint());
        let worker = Worker::start(wake.clone());
        let control = crate::ui::control::Control::start(wake).map_err(|e| e.to_string());
        let mut app = App {
            state,
            doc: Doc::new(crate::site::demo(), None),
            rt: Runtime {
                worker,
                busy: None,
                notice: None,
                selected: BTreeSet::new(),
                show_secrets: false,
                focus: None,
                level: Layer::Defaults,
                devices: devices::DevicesUi::default(),
                import: import::ImportUi::default(),
                adopt: adopt::AdoptUi::default(),
                params: params::ParamsUi::default(),
                files: files::FilesUi::default(),
                firmware: firmware::FirmwareUi::default(),
                serving: serving::Serving::new(control),
                repaint: ctx.clone(),
                server: server::ServerUi::default(),
                board: status::BoardUi::default(),
                discovered: discovered::DiscoveredUi::default(),
                read: read::ReadUi::default(),
                log: log::LogUi::default(),
                modal: None,
                allow_close: false,
                path_prompt: None,
                typed_paths: false,
                safety: safety::SafetyUi { paths: safety::Paths::of_this_user(), ..Default::default() },
            },
        };
        if let Some(path) = site {
            app.start(Job::Open(path), "Opening site");
        } else if let Some(last) = app.state.last_site.clone() {
            app.rt.safety.reopening = Some(last.clone());
            app.start(Job::Open(last), "Reopening the site last worked on");
        }
        app
    }

    /// Starts the servers for the open site (as the Server panel's button does).
    pub fn start_servers(&mut self) {
        let start = server::start(&self.doc, &self.rt);
        self.apply_now(start);
    }

    /// Stops the servers.
    pub fn stop_servers(&mut self) {
        self.apply_now(server::stop());
    }

    fn start(&mut self, job: Job, what: &'static str) {
        if job.needs_dialog() {
            let no_dialog = if self.rt.typed_paths {
                Some("typed paths were chosen for this session".to_string())
            } else {
                worker::dialog_backend().err()
            };
            if let Some(why) = no_dialog {
                self.ask_path(job, why);
                return;
            }
        }
        self.rt.busy = Some((what, Instant::now()));
        self.rt.worker.send(job);
    }

    /// Opens the in-app path prompt for a job whose dialog cannot open.
    fn ask_path(&mut self, job: Job, why: String) {
        let base = self
            .state
            .last_dir
            .clone()
            .or_else(|| self.doc.path.as_ref().and_then(|p| p.parent()).map(|p| p.to_path_buf()))
            .filter(|p| !p.as_os_str().is_empty())
            // The user's home folder on every OS (HOME on Unix, the profile folder on Windows).
            .or_else(|| directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf()))
            .unwrap_or_else(|| PathBuf::from("."));
        let text = match &job {
            Job::PickAndSave { suggested, .. } => base.join(suggested),
            _ => base,
        };
        self.rt.path_prompt = Some(PathPrompt { job, text: text.display().to_string(), why });
    }

    fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.rt.notice = Some((text.into(), error, Instant::now()));
    }

    /// Applies finished background jobs, within the frame budget.
    fn drain(&mut self) {
        let deadline = Instant::now() + DRAIN_BUDGET;
        while Instant::now() < deadline {
            let Ok(done) = self.rt.worker.results.try_recv() else { break };
            self.rt.busy = None;
            let Some(done) = self.reopened(done) else { continue };
            match done {
                Done::Opened { path, site, memory } => {
                    self.remember_dir(&path);
                    self.doc = Doc::new(*site, Some(path.clone()));
                    self.rt.selected.clear();
                    self.rt.focus = None;
                    self.rt.level = Layer::Defaults;
                    self.remember(path.clone());
                    match memory {
                        // The request log is this site's history: the board, the
                        // live log and the firmware view show it again, as
                        // `gsprov firmware` reads it (not while other servers run).
                        Ok(m) if !self.rt.serving.running() => {
                            let n = m.log.len();
                            self.rt.serving.remember(m.status, m.log);
                            let plural = if n == 1 { "" } else { "s" };
                            let seen = if n == 0 {
                                String::new()
                            } else {
                                format!(" (its request log remembers {n} request{plural})")
                            };
                            self.notify(format!("Opened {}{seen}", path.display()), false);
                        }
                        Ok(_) => self.notify(format!("Opened {}", path.display()), false),
                        Err(e) => self
                            .notify(format!("Opened {}; its request log could not be read: {e}", path.display()), true),
                    }
                }
                Done::Saved { path, site, firmware_dir_moved } => {
                    self.remember_dir(&path);
                    let mut said = format!("Saved {}", path.display());
                    if let Some((was, now)) = firmware_dir_moved {
                        // The open site names the folder as the saved file does.
                        self.doc.edit_as("write the firmware folder as seen from the new place", |s| {
                            s.serving.firmware_dir = now.clone()
                        });
                        said.push_str(&format!(
                            "; the firmware folder {was:?} is now written as {now:?}, the same folder seen from the \
                             new place"
                        ));
                    }
                    self.doc.mark_saved(*site);
                    self.doc.path = Some(path.clone());
                    self.remember(path.clone());
                    self.notify(said, false);
                }
                Done::CsvRead { path, text, encoding } => {
                    self.remember_dir(&path);
                    self.rt.import.load(path, text, encoding)
                }
                Done::Exported { dir, files, bytes } => {
                    self.remember_dir(&dir);
                    self.notify(format!("Exported {files} files ({bytes} bytes) to {}", dir.display()), false)
                }
                Done::FolderPicked(p) => {
                    self.remember_dir(&p);
                    self.doc.edit_as("choose the firmware folder", |site| {
                        site.serving.firmware_dir = p.display().to_string()
                    });
                }
                Done::ReportSaved { csv, html } => {
                    self.rt.board.report_saved(&csv, &html);
                    self.remember_dir(&csv);
                    self.notify(format!("Saved the handover report: {} and {}", csv.display(), html.display()), false)
                }
                Done::FirmwareListed { site_path, firmware_dir, listing, problems } => {
                    self.rt.firmware.listed(site_path, firmware_dir, *listing, problems)
                }
                Done::AdoptFolderPicked(p) => {
                    self.remember_dir(&p);
                    self.rt.adopt.folder = p.display().to_string();
                }
                Done::Adopted { dir, result } => {
                    self.remember_dir(&dir);
                    self.rt.adopt.done(dir, result);
                }
                Done::Cancelled => {}
                Done::NoDialog { job, why } => self.ask_path(*job, why),
                Done::Failed { what, message } => self.notify(format!("Could not {what}: {message}"), true),
            }
        }
    }

    /// Applies server events and replies, within the frame budget (all of
    /// them when `all`: no frame is drawn, or the inbox is filling); keeps
    /// the served files in step with edits while the servers run.
    fn drain_services(&mut self, all: bool) {
        let deadline = Instant::now() + DRAIN_BUDGET;
        // Whether any server event was folded this pass.
        let mut folded = false;
        let sv = &mut self.rt.serving;
        if let Some(c) = &sv.control {
            let mut replies = Vec::new();
            while let Ok(r) = c.replies.try_recv() {
                replies.push(r);
            }
            let inbox = c.events.clone();
            for r in replies {
                sv.reply(r);
            }
            let all = all || inbox.len() > inbox::FOLD_ALL_ABOVE;
            // All: what is queued now (a flood that goes on is the next pass's).
            loop {
                let batch = inbox.take(if all { usize::MAX } else { 64 });
                if batch.is_empty() {
                    break;
                }
                folded = true;
                for e in batch {
                    sv.apply(e);
                }
                if all || Instant::now() >= deadline {
                    break;
                }
            }
            if !inbox.is_empty() {
                // Left over for the next frame rather than freezing this one.
                self.rt.worker_wake();
            }
        }
        let sv = &mut self.rt.serving;
        if sv.running() && sv.served_revision.is_some_and(|r| r != self.doc.revision()) {
            sv.served_revision = Some(self.doc.revision());
            self.serve(control::Request::Update { site: Box::new(self.doc.site.clone()) });
        }
        // A device that reported another firmware version may have a new
        // firmware step: the control thread regenerates its P192 if so.
        let sv = &mut self.rt.serving;
        if folded && sv.running() {
            let reported: std::collections::BTreeMap<Mac, String> =
                sv.status.known().filter_map(|d| d.firmware.clone().map(|f| (d.mac, f))).collect();
            if reported != sv.reported {
                sv.reported = reported.clone();
                self.serve(control::Request::Reported(reported));
            }
        }
    }

    /// Remembers where `path` is, so the next typed path starts there.
    fn remember_dir(&mut self, path: &std::path::Path) {
        let dir = if path.is_dir() { Some(path) } else { path.parent() };
        self.state.last_dir = dir.filter(|d| !d.as_os_str().is_empty()).map(|d| d.to_path_buf());
    }

    /// The path typed in when no file dialog can open.
    fn path_prompt_ui(&mut self, ctx: &egui::Context) {
        let Some(prompt) = &mut self.rt.path_prompt else { return };
        let mut choice = None;
        egui::Window::new("Type a path").collapsible(false).resizable(false).show(ctx, |ui| {
            ui.colored_label(ui.visuals().warn_fg_color, format!("No file dialog: {}.", prompt.why));
            ui.label(format!("Type {}:", prompt.job.asks_for()));
            let l = ui.label("Path");
            let r = ui.add(egui::TextEdit::singleline(&mut prompt.text).desired_width(420.0)).labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                if ui.add_enabled(!prompt.text.trim().is_empty(), egui::Button::new("OK")).clicked() || enter {
                    choice = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    choice = Some(false);
                }
            });
        });
        match choice {
            Some(true) => {
                let Some(prompt) = self.rt.path_prompt.take() else { return };
                let path = PathBuf::from(prompt.text.trim());
                self.start(prompt.job.with_path(path), "Working");
            }
            Some(false) => self.rt.path_prompt = None,
            None => {}
        }
    }

    fn remember(&mut self, path: PathBuf) {
        self.state.recent.retain(|p| p != &path);
        self.state.recent.insert(0, path.clone());
        self.state.recent.truncate(8);
        self.state.last_site = Some(path);
    }

    /// Runs an action, first asking about unsaved edits where it would lose them.
    pub fn apply(&mut self, action: Action) {
        let loses_edits = matches!(action, Action::New | Action::Open(_) | Action::OpenDemo | Action::Adopted(_));
        if loses_edits && self.doc.dirty() {
            self.rt.modal = Some(Modal::Unsaved { then: Box::new(action) });
            return;
        }
        self.apply_now(action);
    }

    fn apply_now(&mut self, action: Action) {
        match action {
            Action::New => {
                self.doc = Doc::new(Site { name: "New site".into(), ..Site::default() }, None);
                self.rt.selected.clear();
                self.rt.focus = None;
                self.rt.level = Layer::Defaults;
            }
            Action::OpenDemo => {
                self.doc = Doc::new(crate::site::demo(), None);
                self.rt.selected.clear();
                self.rt.focus = None;
            }
            Action::Open(Some(p)) => self.start(Job::Open(p), "Opening site"),
            Action::Open(None) => self.start(Job::PickAndOpen, "Choosing a site"),
            Action::Save => match self.doc.path.clone() {
                Some(path) => {
                    let site = Box::new(self.doc.site.clone());
                    self.start(Job::Save { from: Some(path.clone()), path, site }, "Saving")
                }
                None => self.apply_now(Action::SaveAs),
            },
            Action::SaveAs => {
                let suggested = format!("{}.gsprov.toml", slug(&self.doc.site.name));
                let (site, from) = (Box::new(self.doc.site.clone()), self.doc.path.clone());
                self.start(Job::PickAndSave { site, suggested, from }, "Saving");
            }
            Action::ImportCsv => self.rt.import.open = true,
            Action::AdoptFolder => self.rt.adopt.open = true,
            Action::Adopted(site) => {
                self.doc = Doc::new(*site, None);
                self.rt.selected.clear();
                self.rt.focus = None;
                self.rt.level = Layer::Defaults;
                self.rt.adopt.open = false;
                self.notify("Opened the adopted site; save it with Save as…".to_string(), false);
            }
            Action::Export => self.start(Job::Export { site: Box::new(self.doc.site.clone()), dir: None }, "Exporting"),
            Action::Select(mac) => {
                self.rt.selected = [mac].into();
                self.rt.focus = Some(mac);
            }
            Action::EditDevice(mac) => {
                self.rt.focus = Some(mac);
                self.rt.level = Layer::Device(mac);
                self.state.view = View::Parameters;
            }
            Action::Serve(request) => self.serve(request),
            Action::Background(job, what) => self.start(job, what),
            Action::Show(view) => self.state.view = view,
        }
    }

    /// Sends a request to the control thread, keeping the Server panel's
    /// state in step with what was asked.
    fn serve(&mut self, request: control::Request) {
        let sv = &mut self.rt.serving;
        let Some(control) = &sv.control else {
            // The control thread could not start; the Server panel says why.
            return;
        };
        match &request {
            control::Request::Start { .. } => {
                sv.servers.clear();
                sv.window_closed = None;
                sv.start_error = None;
                sv.starting = Some(Instant::now());
                sv.served_revision = Some(self.doc.revision());
            }
            control::Request::Fetch { .. } => sv.fetching = true,
            control::Request::Act { kind, devices, .. } => {
                let text = status::sending_text(*kind, devices.len(), sv.actions_pending);
                sv.actions_pending += devices.len();
                self.rt.notice = Some((text, false, Instant::now()));
            }
            _ => {}
        }
        control.send(request);
    }

    fn shortcuts(&mut self, ctx: &egui::Context) -> Option<Action> {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let sc = |k| KeyboardShortcut::new(Modifiers::COMMAND, k);
        ctx.input_mut(|i| {
            if i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::S)) {
                Some(Action::SaveAs)
            } else if i.consume_shortcut(&sc(Key::S)) {
                Some(Action::Save)
            } else if i.consume_shortcut(&sc(Key::O)) {
                Some(Action::Open(None))
            } else if i.consume_shortcut(&sc(Key::N)) {
                Some(Action::New)
            } else if i.consume_shortcut(&sc(Key::F)) {
                self.rt.devices.focus_filter = true;
                self.state.view = View::Devices;
                None
            } else {
                None
            }
        })
    }

    fn menu_ui(&mut self, ui: &mut egui::Ui) -> Option<Action> {
        let mut action = None;
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("New site      Ctrl+N").clicked() {
                    action = Some(Action::New);
                }
                if ui.button("Open…         Ctrl+O").clicked() {
                    action = Some(Action::Open(None));
                }
                if ui.button("Open demo site").clicked() {
                    action = Some(Action::OpenDemo);
                }
                ui.menu_button("Open recent", |ui| {
                    if self.state.recent.is_empty() {
                        ui.weak("(none yet)");
                    }
                    for p in self.state.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            action = Some(Action::Open(Some(p)));
                        }
                    }
                });
                ui.separator();
                if ui.button("Save          Ctrl+S").clicked() {
                    action = Some(Action::Save);
                }
                if ui.button("Save as…      Ctrl+Shift+S").clicked() {
                    action = Some(Action::SaveAs);
                }
                ui.separator();
                if ui.button("Import CSV…").clicked() {
                    action = Some(Action::ImportCsv);
                }
                if ui.button("Adopt a provisioning folder…").clicked() {
                    action = Some(Action::AdoptFolder);
                }
                if ui.button("Export files to folder…").clicked() {
                    action = Some(Action::Export);
                }
                ui.separator();
                self.quit_item_ui(ui);
            });
            self.edit_menu_ui(ui);
            ui.menu_button("View", |ui| {
                if ui.checkbox(&mut self.state.dark, "Dark theme").changed() {
                    ui.ctx().set_theme(if self.state.dark { egui::Theme::Dark } else { egui::Theme::Light });
                }
                ui.checkbox(&mut self.rt.show_secrets, "Show secrets")
                    .on_hover_text("Passwords in forms, previews, hex dumps and the self-test; off by default");
                let mut shown = !self.state.hide_checklist;
                if ui.checkbox(&mut shown, "Bring-up checklist").changed() {
                    self.state.hide_checklist = !shown;
                }
            });
            self.help_menu_ui(ui);
            ui.separator();
            for (view, label) in [
                (View::Devices, "Devices"),
                (View::Parameters, "Parameters"),
                (View::Files, "Files"),
                (View::Firmware, "Firmware"),
                (View::Server, "Server"),
                (View::Log, "Live log"),
                (View::Status, "Status"),
                (View::Discovered, "Discovered"),
            ] {
                ui.selectable_value(&mut self.state.view, view, label);
            }
            // Each server as it is: one that failed to start says so here too.
            for (protocol, state) in &self.rt.serving.servers {
                match state {
                    serving::ServerState::Running(addr) => {
                        ui.colored_label(egui::Color32::from_rgb(90, 180, 120), format!("{protocol} serving"))
                            .on_hover_text(format!("{protocol} answers on {addr}"));
                    }
                    serving::ServerState::Failed(e) => {
                        ui.colored_label(ui.visuals().error_fg_color, format!("{protocol} failed"))
                            .on_hover_text(format!("{protocol} could not start: {e}"));
                    }
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                let name = match &self.doc.path {
                    Some(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                    None => "(not saved yet)".into(),
                };
                let marker = if self.doc.dirty() { " *" } else { "" };
                ui.label(format!("{} — {name}{marker}", self.doc.site.name)).on_hover_text(if self.doc.dirty() {
                    "Unsaved changes (Ctrl+S saves)"
                } else {
                    "All changes saved"
                });
                if let Some((what, since)) = self.rt.busy {
                    ui.spinner();
                    ui.label(format!("{what}… {:.0}s", since.elapsed().as_secs_f32()));
                }
            });
        });
        action
    }

    fn status_bar_ui(&mut self, ui: &mut egui::Ui) {
        let devices = self.doc.site.devices.len();
        ui.horizontal(|ui| {
            ui.label(format!("{devices} devices"));
            ui.separator();
            if let Some(a) = warnings::status_bar_ui(ui, &self.doc, &mut self.rt) {
                self.apply_now(a);
            }
            if let Some((text, error, at)) = &self.rt.notice
                && (at.elapsed() < Duration::from_secs(8) || *error)
            {
                ui.separator();
                if *error {
                    ui.colored_label(ui.visuals().error_fg_color, text);
                } else {
                    ui.label(text);
                }
            }
        });
    }

    fn modal_ui(&mut self, ctx: &egui::Context) {
        let Some(Modal::Unsaved { .. }) = &self.rt.modal else { return };
        let mut choice = None;
        egui::Modal::new(egui::Id::unique("gsprov-unsaved-changes")).show(ctx, |ui| {
            ui.heading("Unsaved changes");
            ui.label(format!("\"{}\" has edits that are not saved.", self.doc.site.name));
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    choice = Some(0);
                }
                if ui.button("Discard changes").clicked() {
                    choice = Some(1);
                }
                if ui.button("Cancel").clicked() {
                    choice = Some(2);
                }
            });
        });
        match choice {
            Some(0) => {
                self.rt.modal = None;
                self.apply_now(Action::Save);
            }
            Some(1) => {
                let Some(Modal::Unsaved { then }) = self.rt.modal.take() else { return };
                self.doc.mark_saved(self.doc.site.clone());
                self.apply_now(*then);
            }
            Some(_) => self.rt.modal = None,
            None => {}
        }
    }
}

/// File-name friendly version of a site name.
fn slug(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let s = s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    if s.is_empty() { "site".into() } else { s }
}

impl Runtime {
    /// Asks for another frame: used when a drain stopped at its time budget.
    fn worker_wake(&self) {
        self.repaint.request_repaint();
    }
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.drain();
        // A minimised or hidden window draws no frame: eframe runs only this,
        // at most every 100 ms, so everything queued is folded now.
        let hidden = ctx.input(|i| i.viewport().visible() == Some(false));
        self.drain_services(hidden);
        discovered::sync(&self.doc, &mut self.rt);
        devices::prune_selection(&self.doc, &mut self.rt);
        self.closing(ctx);
        if self.rt.busy.is_some() || self.rt.serving.starting.is_some() || !self.rt.serving.in_flight.is_empty() {
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.safety_shortcuts(&ctx);
        let mut action = self.shortcuts(&ctx);
        egui::Panel::top("menu").show(ui, |ui| {
            if let Some(a) = self.menu_ui(ui) {
                action = Some(a);
            }
        });
        if !self.state.hide_checklist {
            egui::Panel::top("checklist").show(ui, |ui| {
                checklist::checklist_ui(
                    ui,
                    &self.doc,
                    &mut self.rt,
                    &mut self.state.view,
                    &mut self.state.hide_checklist,
                )
            });
        }
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar_ui(ui));
        egui::CentralPanel::default().show(ui, |ui| {
            let a = match self.state.view {
                View::Devices => devices::devices_ui(ui, &mut self.doc, &mut self.rt),
                View::Parameters => params::params_ui(ui, &mut self.doc, &mut self.rt.level, &mut self.rt.params),
                View::Files => files::files_ui(ui, &self.doc, &mut self.rt),
                View::Firmware => firmware::firmware_ui(ui, &self.doc, &mut self.rt),
                View::Server => server::server_ui(ui, &mut self.doc, &mut self.rt),
                View::Log => log::log_ui(ui, &mut self.rt),
                View::Status => status::status_ui(ui, &mut self.doc, &mut self.rt),
                View::Discovered => discovered::discovered_ui(ui, &mut self.doc, &mut self.rt),
            };
            if a.is_some() {
                action = a;
            }
        });
        if let Some(a) = import::import_ui(&ctx, &mut self.doc, &mut self.rt) {
            action = Some(a);
        }
        if let Some(a) = adopt::adopt_ui(&ctx, &mut self.rt) {
            action = Some(a);
        }
        if let Some(a) = read::read_ui(&ctx, &mut self.doc, &mut self.rt) {
            action = Some(a);
        }
        self.modal_ui(&ctx);
        self.safety_windows_ui(&ctx);
        self.path_prompt_ui(&ctx);
        if let Some(a) = action {
            self.apply(a);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // Stop the servers now rather than when the process tears down.
        self.rt.serving.control.take();
    }
}

static LOCAL_OFFSET: std::sync::OnceLock<time::UtcOffset> = std::sync::OnceLock::new();

/// Reads the local UTC offset. Call before any thread starts: on Unix the
/// offset can only be read safely while the process is single-threaded.
pub fn init_local_offset() {
    let _ = LOCAL_OFFSET.set(time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC));
}

/// The offset read by [`init_local_offset`] (UTC when it was not called).
pub fn local_offset() -> time::UtcOffset {
    LOCAL_OFFSET.get().copied().unwrap_or(time::UtcOffset::UTC)
}

/// Opens the desktop app. Blocks until the window closes.
pub fn run(site: Option<PathBuf>) -> eframe::Result {
    let mut viewport = egui::ViewportBuilder::default();
    if let Ok(icon) = eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icons/gsprov-256.png")) {
        viewport = viewport.with_icon(icon);
    }
    let paths = safety::Paths::of_this_user();
    let options = eframe::NativeOptions {
        viewport: viewport.with_title("gsprov").with_inner_size([1200.0, 780.0]).with_min_inner_size([720.0, 480.0]),
        // Named here so that Help > About shows the very file eframe keeps.
        persistence_path: paths.settings.clone(),
        ..Default::default()
    };
    eframe::run_native(
        "gsprov",
        options,
        Box::new(move |cc| {
            let mut app = App::new(&cc.egui_ctx, cc.storage, site);
            app.rt.safety.paths = paths;
            Ok(Box::new(app))
        }),
    )
}

/// Models a technician picks from when adding a device.
pub const COMMON_MODELS: [&str; 16] = [
    "GXP1610", "GXP1625", "GXP1630", "GXP2135", "GXP2140", "GXP2160", "GXP2170", "GRP2612W", "GRP2614", "GRP2616",
    "GXV3350", "WP820", "HT801", "HT802", "HT814", "GXP2000",
];

fn parse_model(s: &str) -> Option<Model> {
    s.parse().ok()
}
