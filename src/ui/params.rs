//! Parameter forms generated from the catalog, at three levels (site defaults,
//! model template, device). Each field shows its effective value and where it
//! comes from, with reset-to-inherited; accounts/ports and raw P-values too.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::form::{self, FormView, ListSource, Reach, Row};
use super::{Action, Doc};
use crate::catalog::{Catalog, Family, FamilyCatalog, Param, ValueKind};
use crate::ids::{Mac, Model};
use crate::site::{Account, Effective, Layer, Site, Source, canonical_key};

#[derive(Default)]
pub struct ParamsUi {
    pub find: String,
    pub reveal: BTreeSet<String>,
    pub new_key: String,
    pub new_value: String,
    pub new_model: String,
    /// Bring-up or all parameters.
    pub view: FormView,
    /// At site level: the family whose settings are listed (the first one the
    /// site reaches when unset or no longer reached).
    pub family: Option<Family>,
    /// "Open all" / "Close all": every header's state; `None`: each one's default.
    pub all_open: Option<bool>,
    /// Headers clicked away from that.
    toggled: BTreeSet<String>,
    open_generation: u64,
    /// The programmable-key grid of a model template or device (ui/keys.rs).
    pub keys: super::keys::KeysUi,
    /// (revision, level) -> (effective, inherited): layering once per edit, not per frame.
    layers: Option<LayerCache>,
    /// The rows, per (revision, level, family, view, search, open headers).
    list: Option<form::ListCache>,
    /// (revision, the families the site defaults reach).
    reach: Option<(u64, Rc<Reach>)>,
}

/// (site revision, layer, (effective, inherited)).
type LayerCache = (u64, Layer, Rc<(Effective, Effective)>);

/// (effective with this layer, what this layer would inherit without its own values).
fn layers(site: &Site, level: &Layer) -> (Effective, Effective) {
    site.effective_at(level).zip(site.inherited_at(level)).unwrap_or_default()
}

fn describe(source: &Source) -> String {
    match source {
        Source::Defaults => "inherited from site defaults".into(),
        Source::Model(m) => format!("inherited from model {m}"),
        Source::Account(n) => format!("from account {n}"),
        Source::Device => "overridden here".into(),
        Source::Provisioning => "set by provisioning settings".into(),
        Source::Phonebook => "set for the site phonebook".into(),
    }
}

/// The Parameters view: the layer picker and the layer's form. It draws and
/// edits the site and its own state, the layer shown and the form's.
pub fn params_ui(ui: &mut egui::Ui, doc: &mut Doc, layer: &mut Layer, st: &mut ParamsUi) -> Option<Action> {
    let mut action = None;
    egui::Panel::left("levels").resizable(true).default_size(210.0).show(ui, |ui| {
        action = level_picker_ui(ui, doc, layer, st);
    });
    egui::CentralPanel::default().show(ui, |ui| {
        let level = layer.clone();
        let title = match &level {
            Layer::Defaults => "Site defaults (every device)".to_string(),
            Layer::Model(m) => format!("Model template {m}"),
            Layer::Device(mac) => match doc.site.device(*mac) {
                Some(d) => format!("Device {} {} {}", d.mac.colon(), d.model, d.label),
                None => "Device (removed)".into(),
            },
        };
        ui.heading(title);
        ui.horizontal(|ui| {
            let l = ui.label("Find parameter:");
            ui.add(egui::TextEdit::singleline(&mut st.find).hint_text("label, P-id or alias").desired_width(220.0))
                .labelled_by(l.id);
        });
        ui.separator();
        // One scroll area for the page; the form lays out only its visible rows.
        // A section above the field being typed in may grow with the value: the field stays put.
        super::steady::page(ui, egui::Id::unique("params-page").with(&level), |ui, viewport| {
            match &level {
                Layer::Device(mac) => device_fields_ui(ui, doc, *mac),
                Layer::Defaults => provisioning_ui(ui, doc, &mut st.reveal),
                Layer::Model(_) => {}
            }
            super::security::security_ui(ui, doc, &level);
            super::region::region_ui(ui, doc, &level);
            super::keys::keys_ui(ui, doc, &level, &mut st.keys);
            form_ui(ui, doc, &level, st, viewport);
        });
    });
    action
}

fn level_picker_ui(ui: &mut egui::Ui, doc: &mut Doc, layer: &mut Layer, st: &mut ParamsUi) -> Option<Action> {
    let mut action = None;
    ui.strong("Site");
    ui.selectable_value(layer, Layer::Defaults, "Site defaults");
    ui.add_space(6.0);
    ui.strong("Model templates");
    for m in doc.site.models_in_use() {
        let n = doc.site.devices.iter().filter(|d| d.model == m).count();
        let text = format!("{m}  ({n})");
        if ui.selectable_label(*layer == Layer::Model(m.clone()), text).clicked() {
            *layer = Layer::Model(m);
        }
    }
    ui.horizontal(|ui| {
        ui.add(egui::TextEdit::singleline(&mut st.new_model).hint_text("model").desired_width(90.0));
        let model: Option<Model> = st.new_model.parse().ok();
        if ui.add_enabled(model.is_some(), egui::Button::new("Add template")).clicked()
            && let Some(m) = model
        {
            // Under the key a hand-written `[models.gxp2170]` already has, if any.
            doc.edit(|site| {
                site.values_at_mut(&Layer::Model(m.clone()));
            });
            *layer = Layer::Model(m);
            st.new_model.clear();
        }
    });
    ui.add_space(6.0);
    ui.strong(format!("Devices ({})", doc.site.devices.len()));
    // Only the visible rows are laid out: a site may have a thousand devices.
    let row_h = ui.spacing().interact_size.y;
    egui::ScrollArea::vertical().id_salt("level-devices").auto_shrink([false, true]).show_rows(
        ui,
        row_h,
        doc.site.devices.len(),
        |ui, range| {
            for d in &doc.site.devices[range] {
                let text = if d.label.is_empty() { d.mac.colon() } else { format!("{} · {}", d.label, d.model) };
                let r = ui.selectable_label(*layer == Layer::Device(d.mac), text).on_hover_text(d.mac.colon());
                if r.clicked() {
                    *layer = Layer::Device(d.mac);
                    action = Some(Action::Select(d.mac));
                }
            }
        },
    );
    action
}

/// The site's `[provisioning]` settings: file naming, encryption, formats.
fn provisioning_ui(ui: &mut egui::Ui, doc: &mut Doc, reveal: &mut BTreeSet<String>) {
    use crate::formats::binary::Escape;
    use crate::formats::crypto::Digest;
    use crate::formats::xml::Version;
    use crate::site::{BinaryMode, Encrypt};
    doc.edit_if(|site| {
    let mut changed = false;
    egui::CollapsingHeader::new("Site and provisioning settings").default_open(true).show(ui, |ui| {
        egui::Grid::new("provisioning").num_columns(2).spacing([12.0, 4.0]).show(ui, |ui| {
            let l = ui.label("Site name");
            changed |= ui.add(egui::TextEdit::singleline(&mut site.name).desired_width(260.0)).labelled_by(l.id).changed();
            ui.end_row();
            let p = &mut site.provisioning;
            for (label, field) in [
                ("Config file prefix (P234)", &mut p.prefix),
                ("Config file postfix (P235)", &mut p.postfix),
                ("Firmware prefix (P232)", &mut p.firmware_prefix),
                ("Firmware postfix (P233)", &mut p.firmware_postfix),
            ] {
                let l = ui.label(label);
                changed |= ui.add(egui::TextEdit::singleline(field).desired_width(160.0)).labelled_by(l.id).changed();
                ui.end_row();
            }
            let l = ui.label("XML password (P1359)");
            ui.horizontal(|ui| {
                let shown = reveal.contains("xml_password");
                changed |= ui
                    .add(egui::TextEdit::singleline(&mut p.xml_password).password(!shown).desired_width(160.0))
                    .labelled_by(l.id)
                    .changed();
                if ui.small_button(if shown { "hide" } else { "show" }).clicked() {
                    if shown {
                        reveal.remove("xml_password");
                    } else {
                        reveal.insert("xml_password".into());
                    }
                }
            });
            ui.end_row();
            let l = ui.label("Encrypt XML files");
            let r = egui::ComboBox::from_id_salt("encrypt")
                .selected_text(match p.encrypt {
                    Encrypt::Off => "off",
                    Encrypt::DeviceFiles => "per-device files",
                    Encrypt::AllFiles => "all XML files",
                })
                .show_ui(ui, |ui| {
                    let mut c = false;
                    c |= ui.selectable_value(&mut p.encrypt, Encrypt::Off, "off").changed();
                    c |= ui.selectable_value(&mut p.encrypt, Encrypt::DeviceFiles, "per-device files").changed();
                    c |= ui.selectable_value(&mut p.encrypt, Encrypt::AllFiles, "all XML files").changed();
                    c
                });
            changed |= r.inner.unwrap_or(false);
            r.response.labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Key derivation digest");
            ui.horizontal(|ui| {
                changed |= ui.radio_value(&mut p.digest, Digest::Md5, "MD5 (devices)").changed();
                changed |= ui.radio_value(&mut p.digest, Digest::Sha256, "SHA-256").changed();
            })
            .response
            .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("XML format");
            ui.horizontal(|ui| {
                changed |= ui.radio_value(&mut p.xml_version, Version::V1, "version 1 (P-values)").changed();
                changed |= ui.radio_value(&mut p.xml_version, Version::V2, "version 2 (aliases)").changed();
            })
            .response
            .labelled_by(l.id);
            ui.end_row();
            let l = ui.label("Binary cfg<mac> file");
            ui.horizontal(|ui| {
                for (m, t) in [(BinaryMode::Auto, "auto"), (BinaryMode::Full, "full"), (BinaryMode::Bootstrap, "bootstrap"), (BinaryMode::Off, "off")] {
                    changed |= ui.radio_value(&mut p.binary, m, t).changed();
                }
            })
            .response
            .labelled_by(l.id)
            .on_hover_text("auto: legacy models get every value; XML models get the bootstrap (server, method, XML password) when XML is encrypted");
            ui.end_row();
            let l = ui.label("Binary value escaping");
            ui.horizontal(|ui| {
                for (m, t) in [(Escape::Percent, "percent"), (Escape::Form, "form"), (Escape::Minimal, "minimal"), (Escape::Raw, "raw")] {
                    changed |= ui.radio_value(&mut p.binary_escape, m, t).changed();
                }
            })
            .response
            .labelled_by(l.id);
            ui.end_row();
            ui.label("Files to generate");
            ui.horizontal(|ui| {
                changed |= ui.checkbox(&mut p.device_xml, "cfg<mac>.xml").changed();
                changed |= ui.checkbox(&mut p.model_xml, "cfg<model>.xml").changed();
                changed |= ui.checkbox(&mut p.generic_xml, "cfg.xml").changed();
            });
            ui.end_row();
        });
    });
    changed
    });
}

fn device_fields_ui(ui: &mut egui::Ui, doc: &mut Doc, mac: Mac) {
    doc.edit_if(|site| {
        let Some(d) = site.device_mut(mac) else { return false };
        let mut changed = false;
        egui::CollapsingHeader::new("Device").default_open(true).show(ui, |ui| {
            egui::Grid::new("device-fields").num_columns(2).spacing([12.0, 4.0]).show(ui, |ui| {
                for (label, field) in [("Label", &mut d.label), ("Location", &mut d.location)] {
                    let l = ui.label(label);
                    changed |=
                        ui.add(egui::TextEdit::singleline(field).desired_width(260.0)).labelled_by(l.id).changed();
                    ui.end_row();
                }
                let l = ui.label("Model");
                let mut text = d.model.to_string();
                if ui.add(egui::TextEdit::singleline(&mut text).desired_width(120.0)).labelled_by(l.id).changed()
                    && let Ok(m) = text.parse()
                {
                    d.model = m;
                    changed = true;
                }
                ui.end_row();
                let l = ui.label("Notes");
                changed |= ui
                    .add(egui::TextEdit::multiline(&mut d.notes).desired_rows(2).desired_width(260.0))
                    .labelled_by(l.id)
                    .changed();
                ui.end_row();
            });
        });
        let lines = usize::from(d.model.lines());
        let what = if matches!(d.model.family(), crate::ids::Family::Ata | crate::ids::Family::Gateway) {
            "Port"
        } else {
            "Account"
        };
        egui::CollapsingHeader::new(format!("{what}s ({} of {lines})", d.accounts.len())).default_open(true).show(
            ui,
            |ui| {
                let mut remove = None;
                for (i, a) in d.accounts.iter_mut().enumerate() {
                    changed |= account_ui(ui, what, i, a, &mut remove);
                }
                if let Some(i) = remove {
                    d.accounts.remove(i);
                    changed = true;
                }
                if ui.button(format!("Add {}", what.to_lowercase())).clicked() {
                    d.accounts.push(Account::default());
                    changed = true;
                }
                if d.accounts.len() > lines {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        format!("{} has {lines} {}s", d.model, what.to_lowercase()),
                    );
                }
            },
        );
        changed
    });
}

fn account_ui(ui: &mut egui::Ui, what: &str, i: usize, a: &mut Account, remove: &mut Option<usize>) -> bool {
    let mut changed = false;
    let title =
        if a.user_id.is_empty() { format!("{what} {}", i + 1) } else { format!("{what} {} ({})", i + 1, a.user_id) };
    egui::CollapsingHeader::new(title).id_salt(("account", i)).default_open(i == 0).show(ui, |ui| {
        egui::Grid::new(("account-grid", i)).num_columns(2).spacing([12.0, 4.0]).show(ui, |ui| {
            changed |= ui.checkbox(&mut a.active, "Active").changed();
            ui.end_row();
            for (label, field, secret) in [
                ("SIP user ID", &mut a.user_id, false),
                ("Authenticate ID", &mut a.auth_id, false),
                ("SIP password", &mut a.password, true),
                ("Display name", &mut a.display_name, false),
                ("Account name", &mut a.name, false),
                ("SIP server", &mut a.sip_server, false),
            ] {
                let l = ui.label(label);
                let hint = match label {
                    "Authenticate ID" => "same as user ID",
                    "SIP server" => "site SIP server (P47)",
                    _ => "",
                };
                let edit = egui::TextEdit::singleline(field).password(secret).hint_text(hint).desired_width(220.0);
                changed |= ui.add(edit).labelled_by(l.id).changed();
                ui.end_row();
            }
        });
        if ui.button(format!("Remove {} {}", what.to_lowercase(), i + 1)).clicked() {
            *remove = Some(i);
        }
    });
    changed
}

fn form_ui(ui: &mut egui::Ui, doc: &mut Doc, level: &Layer, st: &mut ParamsUi, viewport: egui::Rect) {
    let cat = Catalog::get();
    // Which family's settings, and which families the values here reach.
    let (source, reach, guess) = match level {
        Layer::Defaults => {
            if st.reach.as_ref().is_none_or(|(rev, _)| *rev != doc.revision()) {
                let site = &doc.site;
                let models = site
                    .devices
                    .iter()
                    .map(|d| d.model.clone())
                    .chain(site.models.keys().filter_map(|m| m.parse().ok()));
                st.reach = Some((doc.revision(), Rc::new(form::reach_of(models))));
            }
            let reach = st.reach.as_ref().map(|r| r.1.clone()).unwrap_or_default();
            let picked = st.family.filter(|f| reach.iter().any(|(g, _)| g == f)).or_else(|| reach.first().map(|r| r.0));
            (picked.map_or(ListSource::Curated, ListSource::Family), reach, None)
        }
        Layer::Model(m) => {
            let fm = Family::of_model(m);
            (ListSource::Family(fm.family), Rc::new(vec![(fm.family, vec![m.to_string()])]), fm.warning(m))
        }
        Layer::Device(mac) => match doc.site.device(*mac) {
            Some(d) => {
                let fm = Family::of_model(&d.model);
                (
                    ListSource::Family(fm.family),
                    Rc::new(vec![(fm.family, vec![d.model.to_string()])]),
                    fm.warning(&d.model),
                )
            }
            None => return,
        },
    };
    ui.horizontal(|ui| {
        ui.selectable_value(&mut st.view, FormView::BringUp, "Bring-up")
            .on_hover_text("What technicians set on site: accounts, time, passwords, provisioning, VLAN/QoS, syslog, time zone and language, keys");
        ui.selectable_value(&mut st.view, FormView::All, "All parameters")
            .on_hover_text("Every setting of the family, in the template's sections");
        ui.separator();
        if matches!(level, Layer::Defaults) && reach.len() > 1 {
            let l = ui.label("Show the settings of:");
            let current = match source {
                ListSource::Family(f) => f.name(),
                ListSource::Curated => "",
            };
            egui::ComboBox::from_id_salt("form-family")
                .selected_text(current)
                .show_ui(ui, |ui| {
                    for (f, models) in reach.iter() {
                        ui.selectable_value(&mut st.family, Some(*f), form::describe_reach(*f, models));
                    }
                })
                .response
                .labelled_by(l.id);
        }
        if ui.button("Open all").on_hover_text("Open every section").clicked() {
            st.all_open = Some(true);
            st.toggled.clear();
        }
        if ui.button("Close all").on_hover_text("Close every section").clicked() {
            st.all_open = Some(false);
            st.toggled.clear();
        }
    });
    match (level, source) {
        (Layer::Defaults, ListSource::Curated) => {
            ui.weak("No devices or model templates yet: listing the curated settings common to the families; add a device or a model template to see its family's settings.");
        }
        (Layer::Defaults, ListSource::Family(f)) => {
            let all: Vec<String> = reach.iter().map(|(f, m)| form::describe_reach(*f, m)).collect();
            let text = if reach.len() > 1 {
                format!(
                    "Listing {f}'s settings. Values here reach {}; each is checked against every one of them.",
                    all.join(", ")
                )
            } else {
                format!("Listing the settings of {}.", all.join(", "))
            };
            ui.weak(text);
        }
        (_, ListSource::Family(f)) => {
            let source = FamilyCatalog::get(f)
                .templates()
                .iter()
                .map(|t| format!("{} {}", t.folder, t.firmware).trim().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            ui.weak(format!("Settings of {f} (templates: {source})."));
        }
        _ => {}
    }
    if let Some(w) = guess {
        ui.colored_label(ui.visuals().warn_fg_color, w);
    }
    let key = form::ListKey {
        revision: doc.revision(),
        level: level.clone(),
        source,
        view: st.view,
        find: st.find.trim().to_string(),
        open_generation: st.open_generation,
        all_open: st.all_open,
        device_level: matches!(level, Layer::Device(_)),
    };
    if st.list.as_ref().is_none_or(|(k, _)| *k != key) {
        let (all_open, toggled) = (st.all_open, &st.toggled);
        let open = |k: &str, default: bool| all_open.unwrap_or(default) != toggled.contains(k);
        let list = Rc::new(form::build(&key, &open));
        st.list = Some((key, list));
    }
    let list = st.list.as_ref().map(|l| l.1.clone()).unwrap_or_default();
    if st.layers.as_ref().is_none_or(|(rev, l, _)| *rev != doc.revision() || l != level) {
        st.layers = Some((doc.revision(), level.clone(), Rc::new(layers(&doc.site, level))));
    }
    let cached = st.layers.as_ref().map(|c| c.2.clone()).unwrap_or_default();
    let (effective, inherited) = (&cached.0, &cached.1);
    let own: BTreeMap<String, String> = doc
        .site
        .values_at(level)
        .map(|v| v.0.iter().map(|(k, v)| (canonical_key(k).unwrap_or_else(|_| k.clone()), v.clone())).collect())
        .unwrap_or_default();
    if !st.find.trim().is_empty() {
        let mut text = format!("{} setting(s) match", list.fields);
        if list.elsewhere > 0 {
            text.push_str(&format!("; {} more in All parameters", list.elsewhere));
        }
        ui.weak(text);
    }
    let mut edits: Vec<(String, Option<String>)> = Vec::new();
    let mut toggle = None;
    let overrides = super::region::dhcp_findings(ui, doc, level);
    let row_h = ui.spacing().interact_size.y + 2.0;
    form::rows_ui(ui, viewport, list.rows.len(), row_h, |ui, i| match &list.rows[i] {
        Row::Header { title, key, count, open } => {
            let w = ui.spacing().icon_width;
            let (_, icon) = ui.allocate_exact_size(egui::vec2(w, w), egui::Sense::click());
            egui::collapsing_header::paint_default_icon(ui, if *open { 1.0 } else { 0.0 }, &icon);
            let r = ui.add(egui::Button::new(egui::RichText::new(format!("{title} ({count})")).strong()).frame(false));
            if r.clicked() || icon.clicked() {
                toggle = Some(key.clone());
            }
        }
        Row::Note(text) => {
            ui.add_space(ui.spacing().icon_width + 6.0);
            ui.weak(text);
        }
        Row::Field(p) => {
            ui.add_space(ui.spacing().icon_width + 6.0);
            let key = p.key();
            let dhcp = overrides.iter().find(|f| f.guarded == key);
            if let Some(e) = field_ui(ui, p, &key, &own, effective, inherited, &reach, dhcp, st) {
                edits.push(e);
            }
        }
    });
    if let Some(k) = toggle {
        if !st.toggled.remove(&k) {
            st.toggled.insert(k);
        }
        st.open_generation += 1;
    }
    raw_ui(ui, source, cat, &own, &mut edits, st);
    if !edits.is_empty() {
        doc.edit_if(|site| {
            let Some(v) = site.values_at_mut(level) else { return false };
            for (key, value) in edits {
                // Drop any other spelling of the same key (alias vs P-id) first.
                let spellings: Vec<String> =
                    v.0.keys().filter(|k| canonical_key(k).is_ok_and(|c| c == key)).cloned().collect();
                for s in spellings {
                    v.remove(&s);
                }
                if let Some(value) = value {
                    v.set(key, value);
                }
            }
            true
        });
    }
}

/// Width of the label column, so the editors and provenance stay on screen.
const LABEL_WIDTH: f32 = 300.0;

/// Widths of the editor, provenance and reset cells of a row.
const EDITOR_WIDTH: f32 = 250.0;
const SOURCE_WIDTH: f32 = 190.0;
const RESET_WIDTH: f32 = 56.0;

/// A fixed-width cell of a row, so the columns line up without a grid.
fn cell<R>(ui: &mut egui::Ui, width: f32, add: impl FnOnce(&mut egui::Ui) -> R) -> R {
    let h = ui.available_height();
    ui.allocate_ui_with_layout(egui::vec2(width, h), egui::Layout::left_to_right(egui::Align::Center), |ui| {
        ui.set_width(width);
        add(ui)
    })
    .inner
}

/// One row: label, editor, provenance, reset, then what is wrong with the value
/// (on each family it reaches) and which families ignore it. Returns an edit:
/// (key, Some(value)) to set at this level, (key, None) to reset to inherited.
#[expect(clippy::too_many_arguments, reason = "one row reads the level's three layers and the form state")]
fn field_ui(
    ui: &mut egui::Ui,
    p: &Param,
    key: &str,
    own: &BTreeMap<String, String>,
    effective: &Effective,
    inherited: &Effective,
    reach: &Reach,
    dhcp: Option<&crate::site::DhcpOverrideFinding>,
    st: &mut ParamsUi,
) -> Option<(String, Option<String>)> {
    let mut edit = None;
    let tip = format!(
        "{}\n{key}{}\nallowed: {}\ndefault on the device: {}{}{}{}",
        if p.label.is_empty() { "(no label in the template)" } else { &p.label },
        p.alias.as_deref().map(|a| format!("  ·  {a}")).unwrap_or_default(),
        if p.allowed.is_empty() { "any text" } else { &p.allowed },
        if p.default.is_empty() { "—" } else { &p.default },
        if p.section.is_empty() { String::new() } else { format!("\nsection: {}", p.section) },
        if p.source.is_empty() { String::new() } else { format!("\ntemplate: {}", p.source) },
        if p.notes.is_empty() { String::new() } else { format!("\n{}", p.notes) }
    );
    let label = cell(ui, LABEL_WIDTH, |ui| {
        let short = if p.short_label().is_empty() { "(no label)" } else { p.short_label() };
        let text = if p.id.is_some() { format!("{short}  ·  {key}") } else { short.to_string() };
        ui.add(egui::Label::new(text).truncate()).on_hover_text(tip)
    });
    let set_here = own.get(key);
    let current = set_here.map(String::as_str).or_else(|| effective.get(key)).unwrap_or("");
    let new = cell(ui, EDITOR_WIDTH, |ui| value_ui(ui, p, key, current, label.id, st));
    if let Some(v) = new {
        edit = Some((key.to_string(), Some(v)));
    }
    cell(ui, SOURCE_WIDTH, |ui| match (set_here, effective.0.get(key), inherited.0.get(key)) {
        (Some(_), _, Some(inh)) => {
            ui.label("overridden here").on_hover_text(format!(
                "Reset inherits {:?} from {}",
                inh.value,
                short(&inh.source)
            ));
        }
        (Some(_), _, None) => {
            ui.label("set here");
        }
        (None, Some(eff), _) => {
            ui.add(egui::Label::new(egui::RichText::new(describe(&eff.source)).weak()).truncate());
        }
        (None, None, _) => {
            ui.weak("not set").on_hover_text("Not in any file: the device keeps its own value");
        }
    });
    cell(ui, RESET_WIDTH, |ui| {
        if set_here.is_some()
            && ui.button("Reset").on_hover_text(format!("Remove {key} from this level and inherit")).clicked()
        {
            edit = Some((key.to_string(), None));
        }
    });
    let (errors, ignored) = form::problems(p, key, current, reach);
    if !errors.is_empty() {
        let text = errors.join("; ");
        ui.add(egui::Label::new(egui::RichText::new(&text).color(ui.visuals().error_fg_color)).truncate())
            .on_hover_text(text);
    } else if let Some(f) = dhcp {
        // Beside the field it is about: it appears as the value is typed, and
        // a line above the form would push the field from under the pointer.
        if ui.button(f.fix_label()).clicked() {
            let (k, v) = f.fix();
            edit = Some((k.to_string(), Some(v.to_string())));
        }
        let text = f.message();
        ui.add(egui::Label::new(egui::RichText::new(&text).color(ui.visuals().warn_fg_color)).truncate())
            .on_hover_text(text);
    } else if set_here.is_some() && !ignored.is_empty() {
        let text = format!("ignored by {}: not in their templates", ignored.join(", "));
        ui.add(egui::Label::new(egui::RichText::new(&text).color(ui.visuals().warn_fg_color)).truncate())
            .on_hover_text(text);
    }
    edit
}

fn short(source: &Source) -> String {
    match source {
        Source::Defaults => "site defaults".into(),
        other => other.to_string(),
    }
}

fn value_ui(
    ui: &mut egui::Ui,
    p: &Param,
    key: &str,
    current: &str,
    label: egui::Id,
    st: &mut ParamsUi,
) -> Option<String> {
    let mut out = None;
    match &p.kind {
        ValueKind::Enum(codes) => {
            let shown =
                codes.iter().find(|(c, _)| c == current).map(|(c, l)| format!("{c} = {l}")).unwrap_or_else(|| {
                    if current.is_empty() { "—".to_string() } else { format!("{current} (unknown)") }
                });
            egui::ComboBox::from_id_salt(("enum", key))
                .selected_text(shown)
                .width(EDITOR_WIDTH - 10.0)
                .show_ui(ui, |ui| {
                    for (c, l) in codes {
                        if ui.selectable_label(c == current, format!("{c} = {l}")).clicked() {
                            out = Some(c.clone());
                        }
                    }
                })
                .response
                .labelled_by(label);
        }
        ValueKind::Bool => {
            let mut on = current == "1";
            let text = if current.is_empty() {
                "(not set)"
            } else if on {
                "on"
            } else {
                "off"
            };
            if ui.checkbox(&mut on, text).labelled_by(label).changed() {
                out = Some(if on { "1" } else { "0" }.to_string());
            }
        }
        kind => {
            let mut text = current.to_string();
            let secret = *kind == ValueKind::Password && !st.reveal.contains(key);
            ui.horizontal(|ui| {
                // A fixed size: a grid new on this frame (a section opened by
                // "Find parameter") offers its 40 px minimum, and a field that
                // takes what it is offered stays that narrow.
                let width = if *kind == ValueKind::Password { 190.0 } else { 220.0 };
                let size = egui::vec2(width, ui.spacing().interact_size.y);
                let edit = egui::TextEdit::singleline(&mut text).password(secret).id_salt(("value", key));
                let r = ui.add_sized(size, edit).labelled_by(label);
                if r.changed() {
                    out = Some(text.clone());
                }
                if *kind == ValueKind::Password {
                    let shown = st.reveal.contains(key);
                    if ui.small_button(if shown { "hide" } else { "show" }).clicked() {
                        if shown {
                            st.reveal.remove(key);
                        } else {
                            st.reveal.insert(key.to_string());
                        }
                    }
                }
            });
        }
    }
    out
}

/// Keys set at this level that the listed family (or the catalog) does not
/// know, plus an "add" row.
fn raw_ui(
    ui: &mut egui::Ui,
    source: ListSource,
    cat: &Catalog,
    own: &BTreeMap<String, String>,
    edits: &mut Vec<(String, Option<String>)>,
    st: &mut ParamsUi,
) {
    let site_wide = |k: &str| form::SITE_WIDE.contains(&k) && cat.lookup(k).is_some();
    // Programmable keys (`key.*`) have their own grid.
    let raw: Vec<(&String, &String)> = own
        .iter()
        .filter(|(k, _)| !source.knows(k) && !site_wide(k) && !crate::catalog::keys::is_key_setting(k))
        .collect();
    egui::CollapsingHeader::new(format!("Raw P-values ({})", raw.len())).default_open(!raw.is_empty()).show(ui, |ui| {
        match source {
            ListSource::Family(f) => {
                ui.weak(format!("Anything {f}'s templates do not list; passed to the device as written."))
            }
            ListSource::Curated => ui.weak("Anything the catalog does not list; passed to the device as written."),
        };
        egui::Grid::new("raw").num_columns(3).show(ui, |ui| {
            for (k, v) in raw {
                let l = ui.monospace(k);
                let mut text = v.clone();
                if ui.text_edit_singleline(&mut text).labelled_by(l.id).changed() {
                    edits.push((k.clone(), Some(text)));
                }
                if ui.button("Remove").clicked() {
                    edits.push((k.clone(), None));
                }
                ui.end_row();
            }
        });
        ui.horizontal(|ui| {
            let l = ui.label("Add raw value");
            ui.add(egui::TextEdit::singleline(&mut st.new_key).hint_text("P1234 or alias").desired_width(120.0))
                .labelled_by(l.id);
            ui.add(egui::TextEdit::singleline(&mut st.new_value).hint_text("value").desired_width(160.0));
            let key = canonical_key(&st.new_key);
            if ui.add_enabled(key.is_ok(), egui::Button::new("Add")).clicked() {
                if let Ok(k) = key {
                    edits.push((k, Some(std::mem::take(&mut st.new_value))));
                    st.new_key.clear();
                }
            } else if let (Err(e), false) = (key, st.new_key.is_empty()) {
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            }
        });
    });
}
