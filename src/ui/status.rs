//! Status board and handover: per device what it fetched and when, its state,
//! IP and firmware; unassigned devices that asked (adopt them into the site);
//! "every device configured"; the handover report; "fetch as this phone".

use egui_extras::{Column, TableBuilder};

use super::serving::{date_time, hms};
use super::{Action, Doc, Runtime};
use crate::ids::{Mac, Model};
use crate::serving::ContentKind;
use crate::serving::status::{DeviceState, DeviceStatus};
use crate::site::{Account, Device};
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
    let advertise = rt.server.advertise.trim().parse().ok();
    let naming = crate::generate::naming(&doc.site);
    // The file the device itself would want first: its XML, or the binary for legacy units.
    let name = if model.reads_xml() {
        crate::formats::request::device_xml_name(mac, &naming)
    } else {
        crate::formats::request::binary_name(mac, &naming)
    };
    let Some(url) = device_url(&rt.serving.addresses(), advertise, &name) else {
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
    ui.separator();
    let text_h = ui.text_style_height(&egui::TextStyle::Body) + 8.0;
    let mut fetch: Option<Mac> = None;
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
        .column(Column::initial(95.0))
        .column(Column::initial(110.0))
        .column(Column::initial(80.0))
        .column(Column::initial(260.0).clip(true))
        .column(Column::remainder().at_least(110.0))
        .header(text_h, |mut h| {
            for t in ["Device", "MAC", "Model", "State", "IP", "Firmware", "Fetched", "Self-test"] {
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
                    ui.label(if d.label.is_empty() { "-" } else { &d.label });
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
                    if ui
                        .small_button(format!("Fetch as {}", d.mac))
                        .on_hover_text("Fetch this device's file from the running server, as the device would")
                        .clicked()
                    {
                        fetch = Some(d.mac);
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
    let unassigned = rt.serving.status.unassigned().count();
    if unassigned > 0 {
        ui.separator();
        ui.strong(format!("Unassigned: {unassigned} device(s) asked but are not in the site"));
        let mut adopt: Option<(Mac, Option<Model>)> = None;
        let row_h = ui.spacing().interact_size.y + 4.0;
        // Virtualised too: a busy LAN can have hundreds of strangers.
        egui::ScrollArea::vertical().id_salt("unassigned").show_rows(ui, row_h, unassigned, |ui, range| {
            for u in rt.serving.status.unassigned().skip(range.start).take(range.len()) {
                ui.horizontal(|ui| {
                    ui.monospace(u.mac.colon());
                    ui.label(u.model.as_ref().map(|m| m.to_string()).unwrap_or_else(|| "model unknown".into()));
                    ui.label(u.ip.map(|i| i.to_string()).unwrap_or_default());
                    ui.label(u.firmware.clone().unwrap_or_default());
                    if ui.button(format!("Adopt {}", u.mac)).clicked() {
                        adopt = Some((u.mac, u.model.clone()));
                    }
                });
            }
        });
        if let Some((mac, model)) = adopt {
            let model: Model = model.unwrap_or_else(|| "GXP2170".parse().expect("static model"));
            let mut d = Device::new(mac, model);
            d.label = "adopted".into();
            d.accounts.push(Account::default());
            doc.edit(|site| site.upsert_device(d));
            action = Some(Action::EditDevice(mac));
        }
    }
    discovered_ui(ui, doc, rt, &mut action);
    fetch_window_ui(ui.ctx(), rt);
    action
}

/// Devices seen on the LAN that the site does not list (PnP, mDNS, neighbour
/// table, requests), with Adopt.
fn discovered_ui(ui: &mut egui::Ui, doc: &mut Doc, rt: &mut Runtime, action: &mut Option<Action>) {
    let found: Vec<&crate::serving::discovery::DiscoveredDevice> =
        rt.serving.discovery.devices().iter().filter(|d| !d.known && d.grandstream).collect();
    if found.is_empty() {
        return;
    }
    ui.separator();
    ui.strong(format!("Discovered on the LAN, not in the site: {}", found.len()));
    let mut adopt = None;
    egui::Grid::new("discovered").striped(true).show(ui, |ui| {
        for d in &found {
            ui.monospace(d.mac.map(|m| m.colon()).unwrap_or_else(|| "(MAC unknown)".into()));
            ui.label(d.ip.map(|i| i.to_string()).unwrap_or_default());
            ui.label(d.model.as_ref().map(|m| m.to_string()).unwrap_or_default());
            ui.label(d.firmware.clone().unwrap_or_default());
            ui.label(d.sources.iter().map(|s| s.describe()).collect::<Vec<_>>().join(", "));
            if let Some(mac) = d.mac {
                if ui.button(format!("Adopt {mac}")).clicked() {
                    adopt = Some((*d).clone());
                }
            } else {
                ui.label("");
            }
            ui.end_row();
        }
    });
    if let Some(d) = adopt {
        match crate::serving::discovery::adopt(&doc.site, &d) {
            Ok(device) => {
                let mac = device.mac;
                doc.edit(|site| site.upsert_device(device));
                *action = Some(Action::EditDevice(mac));
            }
            Err(e) => rt.serving.start_error = Some(e.to_string()),
        }
    }
}

fn fetch_window_ui(ctx: &egui::Context, rt: &mut Runtime) {
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
                            let secret = cat.lookup(k).is_some_and(|p| p.kind == crate::catalog::ValueKind::Password);
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
                ui.weak("The live log shows why the server refused it.");
            }
        }
    });
    if !open {
        rt.serving.fetch = None;
    }
}
