//! Status board and handover: per device what it fetched and when, its state,
//! IP and firmware, and the truth columns (registered, applied, last syslog
//! line, last action); one line on devices seen but not in the site (the
//! Discovered view lists them); "every device configured"; the handover report; "fetch as this
//! phone"; and, on the selected devices, "Re-provision", "Reboot" and "Check
//! device", each confirmed first and sent through the control thread.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use egui_extras::Column;

use super::serving::{date_time, hms};
use super::{Action, Doc, Runtime};
use crate::ids::Mac;
use crate::serving::ContentKind;
use crate::serving::status::{DeviceState, DeviceStatus};
use crate::serving::truth::ActionKind;
use crate::ui::control::{Request, device_url};
use crate::ui::worker::Job;

pub fn state_color(ui: &egui::Ui, s: DeviceState) -> egui::Color32 {
    match s {
        DeviceState::NeverSeen => ui.visuals().weak_text_color(),
        DeviceState::Probing => egui::Color32::from_rgb(220, 170, 60),
        DeviceState::GotConfig => egui::Color32::from_rgb(90, 180, 120),
        DeviceState::GotFirmware => egui::Color32::from_rgb(90, 150, 220),
        DeviceState::Error => ui.visuals().error_fg_color,
    }
}

/// "fetched cfg at 10:32:05, firmware at 10:40:11": the latest of each.
fn fetched_text(d: &DeviceStatus) -> String {
    let latest = |firmware: bool| {
        d.fetched.iter().filter(|f| matches!(f.kind, ContentKind::Firmware) == firmware).map(|f| f.time).max()
    };
    let mut parts: Vec<String> = Vec::new();
    if let Some(t) = latest(false) {
        parts.push(format!("fetched cfg at {}", hms(t)));
    }
    if let Some(t) = latest(true) {
        parts.push(format!("firmware at {}", hms(t)));
    }
    parts.join(", ")
}

/// What asks the control thread to fetch this device's XML the way the device would.
pub fn fetch_as(doc: &Doc, rt: &mut Runtime, mac: Mac) -> Option<Action> {
    let model =
        doc.site.device(mac).map(|d| d.model.clone()).unwrap_or_else(|| "GXP2170".parse().expect("static model"));
    let naming = crate::generate::naming(&doc.site);
    // The file the device itself would want first: its XML, or the binary for legacy units.
    let name = if model.reads_xml() {
        crate::formats::request::device_xml_name(mac, &naming)
    } else {
        crate::formats::request::binary_name(mac, &naming)
    };
    let Some(url) = device_url(&rt.serving.addresses(), &name) else {
        rt.serving.fetch = None;
        rt.serving.start_error = Some("Start the servers first: the self-test fetches from them.".into());
        return None;
    };
    Some(Action::Serve(Request::Fetch {
        url,
        mac,
        model,
        firmware: "1.0.0.0".into(),
        site: Box::new(doc.site.clone()),
    }))
}

/// The board's own state: the action waiting for confirmation.
#[derive(Default)]
pub struct BoardUi {
    pub confirm: Option<(ActionKind, Vec<Mac>)>,
    /// The confirmation's "I checked these addresses" box.
    pub trust_addresses: bool,
    /// Actions confirmed on the board, per device: each row says "sent" until
    /// its result comes in, and "skipped" where no address was known.
    pub sent: BTreeMap<Mac, Sent>,
    /// The last handover report written (full paths), said beside its button.
    pub report: Option<SavedReport>,
    /// How "Open report" / "Open folder" hand a path to the system (tests
    /// record instead of opening). `None`: [`open_with_system`].
    pub opener: Option<Opener>,
    /// The status bar's problem count ([`super::warnings`]).
    pub checks: super::warnings::SiteChecks,
}

/// Hands a path to the system to open (or, in a test, records it).
pub type Opener = Box<dyn Fn(&Path) -> Result<(), String>>;

/// An action confirmed on the board for one device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub kind: ActionKind,
    pub at: std::time::SystemTime,
    /// No address was known: nothing was sent to it.
    pub skipped: bool,
}

/// Where the handover report went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedReport {
    pub csv: PathBuf,
    pub html: PathBuf,
    /// What opening one of them last said ("could not open ...").
    pub open_error: Option<String>,
}

impl BoardUi {
    /// Takes note of a report written by the worker (the paths made absolute).
    pub fn report_saved(&mut self, csv: &Path, html: &Path) {
        let full = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        self.report = Some(SavedReport { csv: full(csv), html: full(html), open_error: None });
    }

    fn open(&mut self, path: &Path) {
        let r = match &self.opener {
            Some(f) => f(path),
            None => open_with_system(path),
        };
        if let Some(rep) = &mut self.report {
            rep.open_error = r.err().map(|e| format!("Could not open {}: {e}", path.display()));
        }
    }
}

/// The program that opens a file or a folder in the system's own viewer
/// (the default browser for the HTML, the file manager for a folder):
/// `xdg-open` (freedesktop), `open` (macOS), `explorer` (Windows). A few
/// lines, so no crate: the command is tested as it is built.
pub fn open_command(path: &Path) -> std::process::Command {
    let program = if cfg!(windows) {
        "explorer"
    } else if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let mut c = std::process::Command::new(program);
    c.arg(path);
    c
}

/// Starts [`open_command`] and lets it run on its own (a thread reaps it).
pub fn open_with_system(path: &Path) -> Result<(), String> {
    let mut cmd = open_command(path);
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{program} did not start: {e}"))?;
    // Reaped by a thread of its own, so no zombie is left; if that thread
    // cannot start, the opener still runs (reaped when the app exits).
    let _ = std::thread::Builder::new().name("gsprov-opener".into()).spawn(move || child.wait());
    Ok(())
}

/// Where a device answers: the address of its last request, else discovery's.
fn address_of(rt: &Runtime, mac: Mac) -> Option<std::net::IpAddr> {
    address_and_source(rt, mac).map(|(ip, _)| ip)
}

/// A device's address and where it came from (said in the confirmation).
fn address_and_source(rt: &Runtime, mac: Mac) -> Option<(std::net::IpAddr, &'static str)> {
    rt.serving.status.device(mac).and_then(|s| s.ip).map(|ip| (ip, "its last request that passed the policy")).or_else(
        || {
            rt.serving
                .discovery
                .devices()
                .iter()
                .find(|d| d.mac == Some(mac))
                .and_then(|d| d.ip)
                .map(|ip| (ip, "discovery"))
        },
    )
}

fn kind_title(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Resync => "Re-provision",
        ActionKind::Reboot => "Reboot",
        ActionKind::Check => "Check device",
    }
}

/// The three action buttons for the selection.
fn actions_bar_ui(ui: &mut egui::Ui, doc: &Doc, rt: &mut Runtime) {
    let selected: Vec<Mac> = doc.site.devices.iter().map(|d| d.mac).filter(|m| rt.selected.contains(m)).collect();
    ui.horizontal(|ui| {
        ui.label(format!("{} selected", selected.len()));
        let enabled = !selected.is_empty() && selected.len() <= crate::services::notify::MAX_TARGETS;
        for (kind, hint) in [
            (ActionKind::Resync, "SIP NOTIFY Event: resync: the device fetches its configuration again, no reboot"),
            (ActionKind::Reboot, "SIP NOTIFY Event: check-sync;reboot=true: the device reboots and fetches"),
            (ActionKind::Check, "Web API: registration per account, firmware, and a read-back of served values"),
        ] {
            if ui.add_enabled(enabled, egui::Button::new(kind_title(kind))).on_hover_text(hint).clicked() {
                rt.board.confirm = Some((kind, selected.clone()));
                rt.board.trust_addresses = false;
            }
        }
        if rt.serving.actions_pending > 0 {
            ui.spinner();
            ui.label(format!("{} device action(s) running or queued", rt.serving.actions_pending));
        }
    });
}

/// The confirmation naming every device; "Confirm" gives the action that sends it.
fn confirm_ui(ctx: &egui::Context, doc: &Doc, rt: &mut Runtime) -> Option<Action> {
    let (kind, macs) = rt.board.confirm.clone()?;
    let mut decided: Option<bool> = None;
    let reachable: Vec<(Mac, std::net::IpAddr)> =
        macs.iter().filter_map(|m| address_of(rt, *m).map(|ip| (*m, ip))).collect();
    egui::Window::new(format!("{} {} device(s)?", kind_title(kind), macs.len()))
        .collapsible(false)
        .resizable(false)
        .show(ctx, |ui| {
            for mac in &macs {
                let label = doc.site.device(*mac).map(|d| d.label.as_str()).filter(|l| !l.is_empty()).unwrap_or("-");
                match reachable.iter().find(|(m, _)| m == mac) {
                    Some((_, ip)) => {
                        let from = address_and_source(rt, *mac).map_or("", |(_, s)| s);
                        ui.label(format!("{label}  {}  at {ip} (from {from})", mac.colon()))
                    }
                    None => ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!(
                            "{label}  {}: no address known (no request seen, not discovered): skipped",
                            mac.colon()
                        ),
                    ),
                };
            }
            ui.weak(match kind {
                ActionKind::Resync | ActionKind::Reboot => {
                    "One NOTIFY every 200 ms; a challenge is answered with the device's account credentials only \
                     where the neighbour table confirms the address is that device's."
                }
                ActionKind::Check => {
                    "One device at a time, 5 s at most per answer; the admin password (P2) is sent only where the \
                     neighbour table confirms the address is that device's."
                }
            });
            ui.checkbox(
                &mut rt.board.trust_addresses,
                "I checked these addresses: send the credentials even where the neighbour table cannot confirm them",
            );
            ui.horizontal(|ui| {
                if ui.add_enabled(!reachable.is_empty(), egui::Button::new("Confirm")).clicked() {
                    decided = Some(true);
                }
                if ui.button("Cancel").clicked() {
                    decided = Some(false);
                }
            });
        });
    let go = decided?;
    rt.board.confirm = None;
    if go {
        let at = std::time::SystemTime::now();
        for mac in &macs {
            let skipped = !reachable.iter().any(|(m, _)| m == mac);
            rt.board.sent.insert(*mac, Sent { kind, at, skipped });
        }
    }
    let trust_addresses = rt.board.trust_addresses;
    go.then(|| {
        Action::Serve(Request::Act { kind, site: Box::new(doc.site.clone()), devices: reachable, trust_addresses })
    })
}

/// What the notice says when an action is sent: how it is paced, and whether it
/// waits behind one still running.
pub fn sending_text(kind: ActionKind, devices: usize, queued: usize) -> String {
    let what = match kind {
        ActionKind::Resync | ActionKind::Reboot => {
            format!("{}: {devices} NOTIFY(s), one every 200 ms", kind_title(kind))
        }
        ActionKind::Check => format!("Checking {devices} device(s), one at a time"),
    };
    if queued > 0 { format!("{what}; queued after the {queued} still running") } else { format!("{what}…") }
}

/// Why "Fetch as" is off, on hover (the row says it in short).
pub const FETCH_NEEDS_SERVERS: &str =
    "Start the servers first (Server view): the self-test fetches from this computer's own HTTP, HTTPS or TFTP server.";

/// The state, coloured, and beside it why: the problem of an error, else the
/// note (a truncated line shows in full on hover).
fn state_cell(ui: &mut egui::Ui, state: DeviceState, s: Option<&DeviceStatus>) {
    ui.colored_label(state_color(ui, state), state.describe());
    let problem = s.and_then(|s| s.problem.as_deref()).filter(|_| state == DeviceState::Error);
    if let Some(p) = problem {
        ui.add(egui::Label::new(egui::RichText::new(p).color(ui.visuals().error_fg_color)).truncate());
    } else if let Some(text) = s.and_then(|s| s.without_config()) {
        // Not counted configured by the headline: the row says why.
        ui.add(egui::Label::new(egui::RichText::new(text).color(ui.visuals().warn_fg_color)).truncate());
    } else if let Some(n) = s.and_then(|s| s.note.as_deref()) {
        ui.add(egui::Label::new(egui::RichText::new(n).weak()).truncate());
    }
}

/// What the row's device was last sent and what came of it: "sent, waiting"
/// until the result is in, "skipped" where no address was known, then the
/// result (failed ones in the warning colour), else the last syslog line.
fn last_action_cell(
    ui: &mut egui::Ui,
    sent: Option<&Sent>,
    truth: Option<&crate::serving::truth::Truth>,
    pending: usize,
) {
    let last = truth.and_then(|t| t.last_action.as_ref());
    if let Some(sent) = sent
        && last.is_none_or(|a| a.time < sent.at)
    {
        let what = kind_title(sent.kind);
        if sent.skipped {
            ui.colored_label(ui.visuals().warn_fg_color, format!("{} {what}: skipped, no address known", hms(sent.at)));
            return;
        }
        if pending > 0 {
            ui.spinner();
            ui.label(format!("{} {what}: sent, waiting for the result", hms(sent.at)));
            return;
        }
    }
    let text = match last {
        Some(a) => format!("{} {}", hms(a.time), truth.map(|t| t.last_action_text()).unwrap_or_default()),
        None => String::new(),
    };
    let failed = last.is_some_and(|a| !a.ok);
    let syslog = truth.and_then(|t| t.last_syslog.as_ref()).map(|(t, l)| format!("{} syslog: {l}", hms(*t)));
    let shown = if text.is_empty() { syslog.clone().unwrap_or_default() } else { text.clone() };
    let rich =
        if failed { egui::RichText::new(shown).color(ui.visuals().warn_fg_color) } else { egui::RichText::new(shown) };
    let r = ui.add(egui::Label::new(rich).truncate());
    let hover: Vec<String> = [Some(text), syslog].into_iter().flatten().filter(|t| !t.is_empty()).collect();
    if hover.len() > 1 {
        r.on_hover_text(hover.join("\n"));
    }
}

/// The handover report's button, where it writes, and once written the full
/// paths with "Open report" and "Open folder".
fn report_ui(
    ui: &mut egui::Ui,
    doc: &Doc,
    rt: &mut Runtime,
    tally: &crate::serving::status::Tally,
    action: &mut Option<Action>,
) {
    let stem = format!("{}-handover", super::slug(&doc.site.name));
    let dir =
        doc.path.as_ref().and_then(|p| p.parent()).map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p });
    let dir = dir.map(|d| std::path::absolute(d).unwrap_or_else(|_| d.to_path_buf()));
    ui.horizontal_wrapped(|ui| {
        // A saved site's report goes beside it, without a dialog; an unsaved
        // one asks for a folder (hence the "…").
        let (label, hover) = match &dir {
            Some(d) => (
                "Export handover report".to_string(),
                format!("Writes {stem}.html and {stem}.csv into {} (the site's folder)", d.display()),
            ),
            None => (
                "Export handover report…".to_string(),
                "The site is not saved yet: asks for the folder to write the report to".to_string(),
            ),
        };
        if ui.button(label).on_hover_text(hover).clicked() {
            let rows = crate::serving::report::rows(&doc.site, &rt.serving.status, &date_time);
            let now = date_time(std::time::SystemTime::now());
            let job = Job::SaveReport {
                csv: crate::serving::report::csv(&rows),
                html: crate::serving::report::html(&doc.site.name, &now, tally, &rows),
                stem: stem.clone(),
                dir: dir.clone(),
            };
            rt.board.report = None;
            *action = Some(Action::Background(job, "Saving the handover report"));
        }
        let Some(rep) = rt.board.report.clone() else { return };
        ui.label(format!("Written: {} (and {})", rep.html.display(), rep.csv.display()));
        if ui.button("Open report").on_hover_text("In the system's browser (print it from there)").clicked() {
            rt.board.open(&rep.html);
        }
        if let Some(folder) = rep.html.parent()
            && ui.button("Open folder").on_hover_text("In the system's file manager").clicked()
        {
            rt.board.open(folder);
        }
        if let Some(e) = &rep.open_error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
    });
}

pub fn status_ui(ui: &mut egui::Ui, doc: &mut Doc, rt: &mut Runtime) -> Option<Action> {
    let mut action = None;
    let sum = rt.serving.status.summary();
    // One count for the headline, the rows and the handover report (rows
    // come from the site, so with the servers stopped every row and every
    // count says "never seen").
    let tally = rt.serving.status.tally(doc.site.devices.iter().map(|d| d.mac));
    ui.horizontal(|ui| {
        if tally.all_good() {
            ui.colored_label(egui::Color32::from_rgb(90, 180, 120), tally.headline());
        } else {
            ui.label(tally.headline());
        }
        ui.separator();
        ui.label(format!("{} unassigned; {} requests", sum.unassigned, sum.requests));
    });
    report_ui(ui, doc, rt, &tally, &mut action);
    actions_bar_ui(ui, doc, rt);
    ui.separator();
    let text_h = ui.text_style_height(&egui::TextStyle::Body) + 8.0;
    let mut fetch: Option<Mac> = None;
    let mut toggle: Option<Mac> = None;
    let table_height = ui.available_height() * 0.6;
    // "Fetch as" needs a running HTTP, HTTPS or TFTP server.
    let can_fetch = device_url(&rt.serving.addresses(), "cfg.xml").is_some();
    // The columns a technician acts on first (the ticked device, its state
    // and why, the result of what was sent to it) fit the default window
    // (1200 points wide); the rest scroll sideways.
    egui::ScrollArea::horizontal().id_salt("status-board-h").show(ui, |ui| {
        super::rows::clickable_rows(ui, "status-board")
            .max_scroll_height(table_height)
            .column(Column::exact(150.0).clip(true))
            .column(Column::exact(330.0).clip(true))
            .column(Column::exact(250.0).clip(true))
            .column(Column::exact(if can_fetch { 230.0 } else { 370.0 }).clip(true))
            .column(Column::exact(80.0).clip(true))
            .column(Column::exact(120.0).clip(true))
            .column(Column::exact(110.0))
            .column(Column::exact(130.0))
            .column(Column::exact(80.0))
            .column(Column::exact(80.0).clip(true))
            .column(Column::exact(200.0).clip(true))
            .header(text_h, |mut h| {
                for t in [
                    "Device",
                    "State",
                    "Last action / syslog",
                    "Read / self-test",
                    "Registered",
                    "Applied",
                    "IP",
                    "MAC",
                    "Model",
                    "Firmware",
                    "Fetched",
                ] {
                    h.col(|ui| {
                        ui.strong(t);
                    });
                }
            })
            .body(|body| {
                body.rows(text_h, doc.site.devices.len(), |mut row| {
                    let d = &doc.site.devices[row.index()];
                    let s = rt.serving.status.device(d.mac);
                    let state = rt.serving.status.state_of(d.mac);
                    row.set_selected(rt.selected.contains(&d.mac));
                    row.col(|ui| {
                        let mut on = rt.selected.contains(&d.mac);
                        let name = if d.label.is_empty() { d.mac.to_string() } else { d.label.clone() };
                        if ui.checkbox(&mut on, name).on_hover_text("Select for Re-provision, Reboot, Check").changed()
                        {
                            toggle = Some(d.mac);
                        }
                    });
                    row.col(|ui| state_cell(ui, state, s));
                    let truth = s.map(|s| &s.truth);
                    row.col(|ui| {
                        last_action_cell(ui, rt.board.sent.get(&d.mac), truth, rt.serving.actions_pending);
                    });
                    row.col(|ui| {
                        super::read::row_button(ui, &mut rt.read, d.mac);
                        let b = ui
                            .add_enabled(can_fetch, egui::Button::new(format!("Fetch as {}", d.mac)).small())
                            .on_hover_text("Fetch this device's file from the running server, as the device would")
                            .on_disabled_hover_text(FETCH_NEEDS_SERVERS);
                        if b.clicked() {
                            fetch = Some(d.mac);
                        }
                        if !can_fetch {
                            ui.weak("start the servers first");
                        }
                    });
                    row.col(|ui| {
                        ui.label(truth.map(|t| t.registered()).unwrap_or_default());
                    });
                    row.col(|ui| {
                        let text = truth.map(|t| t.applied_text()).unwrap_or_default();
                        ui.add(egui::Label::new(text).truncate());
                    });
                    row.col(|ui| {
                        ui.label(s.and_then(|s| s.ip).map(|i| i.to_string()).unwrap_or_default());
                    });
                    row.col(|ui| {
                        ui.monospace(d.mac.colon());
                    });
                    row.col(|ui| {
                        ui.label(d.model.as_str());
                    });
                    row.col(|ui| {
                        ui.label(s.and_then(|s| s.firmware.clone()).unwrap_or_default());
                    });
                    row.col(|ui| {
                        ui.label(s.map(fetched_text).unwrap_or_default());
                    });
                    if row.response().clicked() {
                        action = Some(Action::Select(d.mac));
                    }
                });
            });
    });
    if let Some(mac) = fetch {
        action = fetch_as(doc, rt, mac).or(action);
    }
    if let Some(mac) = toggle
        && !rt.selected.remove(&mac)
    {
        rt.selected.insert(mac);
    }
    if let Some(a) = confirm_ui(ui.ctx(), doc, rt) {
        action = Some(a);
    }
    // Devices that asked (or were seen) but are not in the site: one line,
    // the list itself is the Discovered view's (filter, adopt, ignore).
    if let Some(a) = super::discovered::summary_ui(ui, rt) {
        action = Some(a);
    }
    fetch_window_ui(ui.ctx(), doc, rt);
    action
}

/// Whether the advertised P237 is this computer: the self-test never goes
/// there, so it says apart whether the devices would reach this server.
fn advertised_text(doc: &Doc, rt: &Runtime) -> String {
    use crate::serving::address::{ServerPath, names_this_machine};
    let Some(p237) = doc.site.defaults.get("P237") else {
        return "P237 is not set in the site defaults: devices keep the server they had.".into();
    };
    match ServerPath::parse(p237).map(|p| p.ipv4()) {
        _ if rt.serving.interfaces.is_empty() => {
            format!("P237 = {p237}: not checked (the interface list is not in yet).")
        }
        Some(Some(_)) => match names_this_machine(p237, &rt.serving.interfaces) {
            Some(w) => w,
            None => format!("P237 = {p237} is one of this computer's addresses."),
        },
        Some(None) => format!("P237 = {p237} is a host name: make sure it resolves to this computer."),
        None => format!("P237 = {p237:?} is not host[:port][/path]."),
    }
}

fn fetch_window_ui(ctx: &egui::Context, doc: &Doc, rt: &mut Runtime) {
    let show_secrets = rt.show_secrets;
    if rt.serving.fetching {
        egui::Window::new("Fetch as this phone").collapsible(false).show(ctx, |ui| {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Fetching…");
            });
        });
        return;
    }
    let Some(f) = rt.serving.fetch.clone() else { return };
    let mut open = true;
    egui::Window::new("Fetch as this phone").open(&mut open).default_size([520.0, 420.0]).show(ctx, |ui| {
        ui.label(format!("{} as {}", f.url, f.mac.colon()));
        ui.weak("Fetched from this computer's own server (tagged as a self-test: it never counts as the device).");
        ui.label(advertised_text(doc, rt));
        match &f.outcome {
            Ok((status, d)) => {
                ui.label(format!("{status}: {}", d.format));
                for n in &d.notes {
                    ui.weak(n);
                }
                egui::ScrollArea::vertical().max_height(300.0).show(ui, |ui| {
                    egui::Grid::new("fetched").striped(true).show(ui, |ui| {
                        let cat = crate::catalog::Catalog::get();
                        for (k, v) in &d.params {
                            let secret = !show_secrets
                                && cat.lookup(k).is_some_and(|p| p.kind == crate::catalog::ValueKind::Password);
                            ui.monospace(k);
                            ui.label(if secret && !v.is_empty() { "••••••••" } else { v });
                            ui.weak(cat.lookup(k).map(|p| p.short_label()).unwrap_or(""));
                            ui.end_row();
                        }
                    });
                });
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("The device would get nothing: {e}"));
                ui.weak("The live log shows the request, tagged [self-test], and why.");
            }
        }
    });
    if !open {
        rt.serving.fetch = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_command_names_the_system_opener_and_the_whole_path() {
        let path = Path::new("/srv/sites/maple street/maple-handover.html");
        let c = open_command(path);
        let want = if cfg!(windows) {
            "explorer"
        } else if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        assert_eq!(c.get_program(), want);
        assert_eq!(c.get_args().collect::<Vec<_>>(), [path.as_os_str()], "one argument, spaces and all");
    }

    #[test]
    fn a_saved_report_is_told_with_absolute_paths() {
        let mut b = BoardUi::default();
        b.report_saved(Path::new("r.csv"), Path::new("r.html"));
        let r = b.report.unwrap();
        assert!(r.csv.is_absolute() && r.html.is_absolute(), "{r:?}");
        assert_eq!(r.html, std::env::current_dir().unwrap().join("r.html"));
    }
}
