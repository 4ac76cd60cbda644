//! Status board and handover: per device what it fetched and when, its state,
//! IP and firmware, and the truth columns (registered, applied, last syslog
//! line, last action); one line on devices seen but not in the site (the
//! Discovered view lists them); "every device configured"; the handover report; "fetch as this
//! phone"; and, on the selected devices, "Re-provision", "Reboot" and "Check
//! device", each confirmed first and sent through the control thread.

use egui_extras::{Column, TableBuilder};

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

pub fn status_ui(ui: &mut egui::Ui, doc: &mut Doc, rt: &mut Runtime) -> Option<Action> {
    let mut action = None;
    let sum = rt.serving.status.summary();
    let total = doc.site.devices.len();
    let configured =
        doc.site.devices.iter().filter(|d| rt.serving.status.device(d.mac).is_some_and(|s| s.configured())).count();
    ui.horizontal(|ui| {
        if total > 0 && configured == total {
            ui.colored_label(
                egui::Color32::from_rgb(90, 180, 120),
                format!("Every device configured ({configured} of {total})."),
            );
        } else {
            ui.label(format!("{configured} of {total} devices configured"));
        }
        ui.separator();
        ui.label(format!(
            "{} never seen, {} probing, {} with errors, {} unassigned; {} requests",
            sum.never_seen, sum.probing, sum.error, sum.unassigned, sum.requests
        ));
        ui.separator();
        if ui.button("Export handover report…").clicked() {
            let rows = crate::serving::report::rows(&doc.site, &rt.serving.status, &date_time);
            let now = date_time(std::time::SystemTime::now());
            let stem = format!("{}-handover", super::slug(&doc.site.name));
            let dir = doc
                .path
                .as_ref()
                .and_then(|p| p.parent())
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| p.to_path_buf());
            let job = Job::SaveReport {
                csv: crate::serving::report::csv(&rows),
                html: crate::serving::report::html(&doc.site.name, &now, &rows),
                stem,
                dir,
            };
            action = Some(Action::Background(job, "Saving the handover report"));
        }
    });
    actions_bar_ui(ui, doc, rt);
    ui.separator();
    let text_h = ui.text_style_height(&egui::TextStyle::Body) + 8.0;
    let mut fetch: Option<Mac> = None;
    let mut toggle: Option<Mac> = None;
    let table_height = ui.available_height() * 0.6;
    TableBuilder::new(ui)
        .id_salt("status-board")
        .striped(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .max_scroll_height(table_height)
        .column(Column::initial(150.0).clip(true))
        .column(Column::initial(130.0))
        .column(Column::initial(80.0))
        .column(Column::initial(250.0).clip(true))
        .column(Column::initial(110.0))
        .column(Column::initial(80.0))
        .column(Column::initial(200.0).clip(true))
        .column(Column::initial(320.0).clip(true))
        .column(Column::initial(80.0).clip(true))
        .column(Column::initial(120.0).clip(true))
        .column(Column::remainder().at_least(160.0).clip(true))
        .header(text_h, |mut h| {
            for t in [
                "Device",
                "MAC",
                "Model",
                "State",
                "IP",
                "Firmware",
                "Fetched",
                "Self-test",
                "Registered",
                "Applied",
                "Last action / syslog",
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
                let state = s.map_or(DeviceState::NeverSeen, |s| s.state);
                row.set_selected(rt.selected.contains(&d.mac));
                row.col(|ui| {
                    let mut on = rt.selected.contains(&d.mac);
                    let name = if d.label.is_empty() { d.mac.to_string() } else { d.label.clone() };
                    if ui.checkbox(&mut on, name).on_hover_text("Select for Re-provision, Reboot, Check").changed() {
                        toggle = Some(d.mac);
                    }
                });
                row.col(|ui| {
                    ui.monospace(d.mac.colon());
                });
                row.col(|ui| {
                    ui.label(d.model.as_str());
                });
                row.col(|ui| {
                    let r = ui.colored_label(state_color(ui, state), state.describe());
                    if let Some(p) = s.and_then(|s| s.problem.as_deref()) {
                        r.on_hover_text(p);
                    }
                    if let Some(n) = s.and_then(|s| s.note.as_deref()) {
                        ui.weak(n);
                    }
                });
                row.col(|ui| {
                    ui.label(s.and_then(|s| s.ip).map(|i| i.to_string()).unwrap_or_default());
                });
                row.col(|ui| {
                    ui.label(s.and_then(|s| s.firmware.clone()).unwrap_or_default());
                });
                row.col(|ui| {
                    ui.label(s.map(fetched_text).unwrap_or_default());
                });
                row.col(|ui| {
                    super::read::row_button(ui, &mut rt.read, d.mac);
                    if ui
                        .small_button(format!("Fetch as {}", d.mac))
                        .on_hover_text("Fetch this device's file from the running server, as the device would")
                        .clicked()
                    {
                        fetch = Some(d.mac);
                    }
                });
                let truth = s.map(|s| &s.truth);
                row.col(|ui| {
                    ui.label(truth.map(|t| t.registered()).unwrap_or_default());
                });
                row.col(|ui| {
                    let text = truth.map(|t| t.applied_text()).unwrap_or_default();
                    let r = ui.label(&text);
                    if text.len() > 12 {
                        r.on_hover_text(text);
                    }
                });
                row.col(|ui| {
                    let last = truth.and_then(|t| t.last_action.as_ref());
                    let text = match last {
                        Some(a) => {
                            format!("{} {}", hms(a.time), truth.map(|t| t.last_action_text()).unwrap_or_default())
                        }
                        None => String::new(),
                    };
                    let failed = last.is_some_and(|a| !a.ok);
                    let syslog =
                        truth.and_then(|t| t.last_syslog.as_ref()).map(|(t, l)| format!("{} syslog: {l}", hms(*t)));
                    let shown = if text.is_empty() { syslog.clone().unwrap_or_default() } else { text.clone() };
                    let r = if failed { ui.colored_label(ui.visuals().warn_fg_color, shown) } else { ui.label(shown) };
                    let hover: Vec<String> =
                        [Some(text), syslog].into_iter().flatten().filter(|t| !t.is_empty()).collect();
                    if !hover.is_empty() {
                        r.on_hover_text(hover.join("\n"));
                    }
                });
                if row.response().clicked() {
                    action = Some(Action::Select(d.mac));
                }
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
