//! Devices view: the site's devices in a sortable, filterable table with
//! multi-select; add (MAC validated as typed), duplicate, delete, range fill.

use egui_extras::Column;

use super::{Action, COMMON_MODELS, Doc, Runtime, parse_model};
use crate::ids::Mac;
use crate::site::{Account, Device};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Mac,
    Label,
    Model,
    Extension,
    Location,
}

/// Editing state of the view (not persisted).
#[derive(Default)]
pub struct DevicesUi {
    pub filter: String,
    pub focus_filter: bool,
    pub new_mac: String,
    pub new_model: String,
    pub new_label: String,
    /// Copy of a device to duplicate under the next added MAC.
    pub template: Option<Device>,
    /// Put the keyboard in the MAC field next frame (Duplicate waits for a MAC).
    pub focus_mac: bool,
    pub fill_from: String,
    pub sort: SortBy,
    pub descending: bool,
    /// (site revision, filter, sort, descending) -> rows shown: sorting 1,000
    /// devices every frame would eat the frame budget.
    cache: Option<RowCache>,
    /// The site revision the selection was last pruned at ([`prune_selection`]).
    pruned_at: Option<u64>,
}

/// (site revision, filter, sort, descending, rows shown).
type RowCache = (u64, String, SortBy, bool, std::rc::Rc<Vec<usize>>);

/// Drops from the selection (and the focus) every MAC the site no longer
/// lists, once per edit or undo/redo (the revision moves on each): after
/// undoing "add device" the selection still held the removed MAC, and
/// "Delete selected (n)" counted it.
pub fn prune_selection(doc: &super::Doc, rt: &mut super::Runtime) {
    if rt.devices.pruned_at == Some(doc.revision()) {
        return;
    }
    rt.devices.pruned_at = Some(doc.revision());
    if rt.selected.is_empty() && rt.focus.is_none() {
        return;
    }
    let macs: std::collections::HashSet<Mac> = doc.site.devices.iter().map(|d| d.mac).collect();
    rt.selected.retain(|m| macs.contains(m));
    if rt.focus.is_some_and(|m| !macs.contains(&m)) {
        rt.focus = None;
    }
}

fn extension(d: &Device) -> &str {
    d.accounts.first().map(|a| a.user_id.as_str()).unwrap_or("")
}

/// What the MAC field currently says about its text.
pub fn mac_feedback(text: &str, doc: &Doc) -> Result<Mac, String> {
    if text.trim().is_empty() {
        return Err("type the MAC from the label, e.g. 00:0B:82:12:34:56".into());
    }
    let mac: Mac = text.parse().map_err(|e: crate::ids::MacError| e.to_string())?;
    if doc.site.device(mac).is_some() {
        return Err(format!("{} is already in the site", mac.colon()));
    }
    Ok(mac)
}

pub fn devices_ui(ui: &mut egui::Ui, doc: &mut Doc, rt: &mut Runtime) -> Option<Action> {
    let mut action = None;
    let st = &mut rt.devices;
    ui.horizontal(|ui| {
        let filter_label = ui.label("Filter:");
        let r = ui
            .add(
                egui::TextEdit::singleline(&mut st.filter)
                    .hint_text("MAC, label, model, extension…")
                    .desired_width(220.0),
            )
            .labelled_by(filter_label.id);
        if st.focus_filter {
            r.request_focus();
            st.focus_filter = false;
        }
        ui.separator();
        if ui.button("Import CSV…").clicked() {
            action = Some(Action::ImportCsv);
        }
        let n = rt.selected.len();
        if ui.add_enabled(n > 0, egui::Button::new(format!("Delete selected ({n})"))).clicked() {
            super::safety::delete_selected(doc, &mut rt.selected, &mut rt.focus, &mut rt.safety);
        }
        if ui
            .add_enabled(n == 1, egui::Button::new("Duplicate"))
            .on_hover_text("Copies the selected device; type the new MAC and press Add")
            .clicked()
            && let Some(d) = rt.selected.iter().next().and_then(|m| doc.site.device(*m))
        {
            st.template = Some(d.clone());
            st.new_model = d.model.to_string();
            st.new_label = format!("{} (copy)", d.label);
            st.new_mac.clear();
            st.focus_mac = true;
        }
        if ui.add_enabled(rt.focus.is_some(), egui::Button::new("Edit parameters")).clicked() {
            action = rt.focus.map(Action::EditDevice);
        }
    });
    ui.add_space(4.0);
    add_device_ui(ui, doc, st, &mut rt.selected, &mut rt.focus);
    ui.horizontal(|ui| {
        let fill_label = ui.label("Extensions from");
        ui.add(egui::TextEdit::singleline(&mut st.fill_from).hint_text("e.g. 201").desired_width(60.0))
            .labelled_by(fill_label.id);
        let first = st.fill_from.trim().parse::<u32>().ok();
        let n = rt.selected.len();
        if ui.add_enabled(first.is_some() && n > 0, egui::Button::new(format!("Fill selected ({n})"))).clicked() {
            // Fill in the order shown, which is what the technician sees.
            let order: Vec<Mac> = visible(doc, st)
                .into_iter()
                .map(|i| doc.site.devices[i].mac)
                .filter(|m| rt.selected.contains(m))
                .collect();
            let what = format!("fill the extensions of {} from {}", order.len(), first.unwrap_or(0));
            doc.edit_as(what, |site| site.fill_extensions(&order, first.unwrap_or(0)));
        }
    });
    ui.separator();
    let fresh = st.cache.as_ref().is_none_or(|(rev, f, sort, desc, _)| {
        *rev != doc.revision() || *f != st.filter || *sort != st.sort || *desc != st.descending
    });
    if fresh {
        let rows = std::rc::Rc::new(visible(doc, st));
        st.cache = Some((doc.revision(), st.filter.clone(), st.sort, st.descending, rows));
    }
    let rows = st.cache.as_ref().map(|c| c.4.clone()).unwrap_or_default();
    let status = &rt.serving.status;
    let mut clicked: Option<(Mac, bool)> = None;
    let mut double: Option<Mac> = None;
    let text_h = ui.text_style_height(&egui::TextStyle::Body) + 6.0;
    // A click on a row's text selects it as a click on its blank space does
    // (as in the Live log); the row's menu copies its MAC.
    super::rows::clickable_rows(ui, "devices")
        .column(Column::initial(130.0).at_least(110.0))
        .column(Column::initial(160.0).at_least(80.0).clip(true))
        .column(Column::initial(90.0).at_least(70.0))
        .column(Column::initial(70.0).at_least(50.0))
        .column(Column::initial(120.0).at_least(60.0).clip(true))
        .column(Column::initial(90.0).at_least(70.0))
        .column(Column::initial(110.0).at_least(60.0))
        .column(Column::initial(80.0).at_least(50.0))
        .column(Column::remainder().at_least(80.0).clip(true))
        .header(text_h + 4.0, |mut h| {
            for (label, key) in [
                ("MAC", SortBy::Mac),
                ("Label", SortBy::Label),
                ("Model", SortBy::Model),
                ("Ext.", SortBy::Extension),
                ("Location", SortBy::Location),
            ] {
                h.col(|ui| {
                    let arrow = if st.sort == key { if st.descending { " v" } else { " ^" } } else { "" };
                    if ui
                        .add(egui::Button::new(egui::RichText::new(format!("{label}{arrow}")).strong()).frame(false))
                        .clicked()
                    {
                        if st.sort == key {
                            st.descending = !st.descending;
                        } else {
                            st.sort = key;
                            st.descending = false;
                        }
                    }
                });
            }
            for title in ["Status", "IP", "Firmware", "Last request"] {
                h.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(text_h, rows.len(), |mut row| {
                let d = &doc.site.devices[rows[row.index()]];
                row.set_selected(rt.selected.contains(&d.mac));
                row.col(|ui| {
                    ui.monospace(d.mac.colon());
                    if !d.mac.is_grandstream() {
                        ui.colored_label(ui.visuals().warn_fg_color, "!")
                            .on_hover_text("Not a Grandstream OUI (00:0B:82, C0:74:AD, EC:74:D7)");
                    }
                });
                row.col(|ui| {
                    let r = ui.label(&d.label);
                    if !d.notes.is_empty() {
                        r.on_hover_text(&d.notes);
                    }
                });
                row.col(|ui| {
                    ui.label(d.model.as_str());
                });
                row.col(|ui| {
                    ui.label(extension(d));
                });
                row.col(|ui| {
                    ui.label(&d.location);
                });
                let s = status.device(d.mac);
                let state = s.map_or(crate::serving::status::DeviceState::NeverSeen, |s| s.state);
                row.col(|ui| {
                    ui.colored_label(super::status::state_color(ui, state), state.describe());
                });
                row.col(|ui| {
                    ui.label(s.and_then(|s| s.ip).map(|i| i.to_string()).unwrap_or_default());
                });
                row.col(|ui| {
                    ui.label(s.and_then(|s| s.firmware.clone()).unwrap_or_default());
                });
                row.col(|ui| {
                    let last = s
                        .and_then(|s| s.fetched.last())
                        .map(|f| format!("{} at {}", f.name, super::serving::hms(f.time)));
                    ui.label(last.unwrap_or_default());
                });
                let r = row.response();
                r.context_menu(|ui| {
                    if ui.button("Copy MAC").clicked() {
                        ui.ctx().copy_text(d.mac.colon());
                    }
                });
                if r.double_clicked() {
                    double = Some(d.mac);
                } else if r.clicked() {
                    clicked = Some((d.mac, r.ctx.input(|i| i.modifiers.command || i.modifiers.shift)));
                }
            });
        });
    if let Some((mac, add)) = clicked {
        if add {
            if !rt.selected.remove(&mac) {
                rt.selected.insert(mac);
            }
        } else {
            rt.selected = [mac].into();
        }
        rt.focus = Some(mac);
    }
    if let Some(mac) = double {
        action = Some(Action::EditDevice(mac));
    }
    action
}

fn add_device_ui(
    ui: &mut egui::Ui,
    doc: &mut Doc,
    st: &mut DevicesUi,
    selected: &mut std::collections::BTreeSet<Mac>,
    focus: &mut Option<Mac>,
) {
    let mac = mac_feedback(&st.new_mac, doc);
    let model = parse_model(&st.new_model);
    ui.horizontal(|ui| {
        let mac_label = ui.label("New device MAC:");
        let color = if mac.is_err() && !st.new_mac.is_empty() { Some(ui.visuals().error_fg_color) } else { None };
        let mut edit = egui::TextEdit::singleline(&mut st.new_mac).hint_text("00:0B:82:…").desired_width(150.0);
        if let Some(c) = color {
            edit = edit.text_color(c);
        }
        let r = ui.add(edit).labelled_by(mac_label.id);
        if std::mem::take(&mut st.focus_mac) {
            r.request_focus();
        }
        let model_label = ui.label("Model:");
        egui::ComboBox::from_id_salt("new-model")
            .selected_text(if st.new_model.is_empty() { "choose…".to_string() } else { st.new_model.clone() })
            .show_ui(ui, |ui| {
                for m in COMMON_MODELS {
                    ui.selectable_value(&mut st.new_model, m.to_string(), m);
                }
            })
            .response
            .accessible_name("Common models");
        ui.add(egui::TextEdit::singleline(&mut st.new_model).hint_text("or type").desired_width(80.0))
            .labelled_by(model_label.id);
        let label_label = ui.label("Label:");
        ui.add(egui::TextEdit::singleline(&mut st.new_label).desired_width(140.0)).labelled_by(label_label.id);
        let ok = mac.is_ok() && model.is_some();
        if ui.add_enabled(ok, egui::Button::new("Add device")).clicked()
            && let (Ok(mac), Some(model)) = (&mac, &model)
        {
            let duplicate = st.template.is_some();
            let mut d = st.template.take().unwrap_or_else(|| Device::new(*mac, model.clone()));
            d.mac = *mac;
            d.model = model.clone();
            d.label = st.new_label.trim().to_string();
            if !duplicate && d.accounts.is_empty() {
                d.accounts.push(Account::default());
            }
            if duplicate {
                // A duplicate must not register with the original's credentials,
                // and an active account without a user ID is only a warning to
                // clear: it starts with the original's inactive accounts only.
                for a in &mut d.accounts {
                    a.user_id.clear();
                    a.auth_id.clear();
                    a.password.clear();
                }
                d.accounts.retain(|a| !a.active);
            }
            doc.edit(|site| site.devices.push(d));
            // Selected and focused, as a click on its row would: "Edit parameters" is ready.
            *selected = [*mac].into();
            *focus = Some(*mac);
            st.new_mac.clear();
            st.new_label.clear();
        }
    });
    // One line below the row, always there (a hint while the MAC is empty):
    // what the fields say appears without moving anything under the pointer.
    ui.horizontal(|ui| {
        match &mac {
            Err(e) if st.new_mac.is_empty() => {
                ui.weak(e);
            }
            Err(e) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            Ok(m) if !m.is_grandstream() => {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("{} is not a Grandstream OUI; check the label", m.colon()),
                );
            }
            Ok(m) => {
                ui.weak(format!("valid: {}", m.colon()));
            }
        }
        if !st.new_model.is_empty() && model.is_none() {
            ui.colored_label(ui.visuals().error_fg_color, "Model: letters and digits only, e.g. GXP2170");
        }
    });
}

/// Indices of the devices shown, filtered and sorted.
fn visible(doc: &Doc, st: &DevicesUi) -> Vec<usize> {
    let f = st.filter.trim().to_ascii_lowercase();
    let f_hex: String = f.chars().filter(|c| c.is_ascii_hexdigit()).collect();
    let mut idx: Vec<usize> = doc
        .site
        .devices
        .iter()
        .enumerate()
        .filter(|(_, d)| {
            f.is_empty()
                || (f_hex.len() >= 2 && d.mac.to_string().contains(&f_hex))
                || d.label.to_ascii_lowercase().contains(&f)
                || d.model.as_str().to_ascii_lowercase().contains(&f)
                || d.location.to_ascii_lowercase().contains(&f)
                || extension(d).contains(&f)
        })
        .map(|(i, _)| i)
        .collect();
    let key = |i: &usize| {
        let d = &doc.site.devices[*i];
        match st.sort {
            SortBy::Mac => d.mac.to_string(),
            SortBy::Label => d.label.to_lowercase(),
            SortBy::Model => d.model.to_string(),
            SortBy::Extension => format!("{:>12}", extension(d)),
            SortBy::Location => d.location.to_lowercase(),
        }
    };
    idx.sort_by_cached_key(key);
    if st.descending {
        idx.reverse();
    }
    idx
}
