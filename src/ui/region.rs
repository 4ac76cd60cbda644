//! "Time and region" in the Parameters view: a time zone picker (P64) with
//! the values each family's template lists, found by city or offset; the
//! self-defined rule (P246) for `customize`; a display language picker
//! (P1362); and the warning when DHCP would silently replace the time zone or
//! NTP server set at this level (P143/P144 left at 1), with its one-click fix.
//!
//! Edits go through `doc.edit`. The list of warnings is computed once per
//! site revision (it layers every device), kept in egui's memory.

use std::sync::Arc;

use super::Doc;
use crate::catalog::Family;
use crate::catalog::timezone::{self, Zone};
use crate::site::{DhcpOverrideFinding, Layer, Site};

/// The label of the time zone search field.
pub const FIND_ZONE: &str = "Find a time zone (city or GMT offset)";

#[derive(Clone, Default)]
struct Cache {
    revision: Option<u64>,
    findings: Arc<Vec<DhcpOverrideFinding>>,
    find: String,
}

/// The families the level's values reach.
fn families(site: &Site, level: &Layer) -> Vec<Family> {
    let mut out: Vec<Family> = match level {
        Layer::Defaults => site
            .devices
            .iter()
            .map(|d| d.model.clone())
            .chain(site.models.keys().filter_map(|m| m.parse().ok()))
            .map(|m| Family::of_model(&m).family)
            .collect(),
        Layer::Model(m) => vec![Family::of_model(m).family],
        Layer::Device(mac) => site.device(*mac).map(|d| vec![Family::of_model(&d.model).family]).unwrap_or_default(),
    };
    out.sort();
    out.dedup();
    out
}

/// The value this level sets, else the one it inherits.
fn current(site: &Site, level: &Layer, key: &str) -> Option<String> {
    site.effective_at(level)?.get(key).map(str::to_string)
}

fn set(doc: &mut Doc, level: &Layer, key: &str, value: &str) {
    doc.edit(|site| {
        if let Some(v) = site.values_at_mut(level) {
            v.set(key, value);
        }
    });
}

/// The zones every family of `families` lists with the same value (the
/// families do not always agree: `TZA+12` / `TAZ+12`), labelled as the first
/// one lists them; and the families that list none.
pub fn common_zones(families: &[Family]) -> (Vec<&'static Zone>, Vec<Family>) {
    let (listed, unlisted): (Vec<Family>, Vec<Family>) =
        families.iter().partition(|f| !timezone::zones(**f).is_empty());
    let Some(first) = listed.first() else { return (Vec::new(), unlisted) };
    let zones = timezone::zones(*first)
        .iter()
        .filter(|z| listed[1..].iter().all(|f| timezone::zone(*f, &z.value).is_some()))
        .collect();
    (zones, unlisted)
}

/// The languages every family with a list lists.
fn common_languages(families: &[Family]) -> Vec<&'static (String, String)> {
    let listed: Vec<Family> = families.iter().copied().filter(|f| !timezone::languages(*f).is_empty()).collect();
    let Some(first) = listed.first() else { return Vec::new() };
    timezone::languages(*first)
        .iter()
        .filter(|(c, _)| listed[1..].iter().all(|f| timezone::languages(*f).iter().any(|(c2, _)| c2 == c)))
        .collect()
}

/// The values this section edits: a DHCP override finding guarding one of
/// them shows here, under the picker that set it. The others (P30, the NTP
/// server) show beside their field in the form (`params::field_ui`): a
/// warning appearing up here as that field is typed in would push it from
/// under the pointer.
const EDITED_HERE: [&str; 1] = ["P64"];

fn cache_id() -> egui::Id {
    egui::Id::unique("gsprov-region")
}

fn cached(ui: &egui::Ui, doc: &Doc) -> Cache {
    let mut cache: Cache = ui.data(|d| d.get_temp(cache_id())).unwrap_or_default();
    if cache.revision != Some(doc.revision()) {
        cache.findings = Arc::new(doc.site.dhcp_overrides());
        cache.revision = Some(doc.revision());
        ui.data_mut(|d| d.insert_temp(cache_id(), cache.clone()));
    }
    cache
}

/// The DHCP override findings of `level` (computed once per site revision).
pub fn dhcp_findings(ui: &egui::Ui, doc: &Doc, level: &Layer) -> Vec<DhcpOverrideFinding> {
    cached(ui, doc).findings.iter().filter(|f| f.layer == *level).cloned().collect()
}

pub fn region_ui(ui: &mut egui::Ui, doc: &mut Doc, level: &Layer) {
    let fams = families(&doc.site, level);
    if fams.is_empty() {
        return;
    }
    let mut cache = cached(ui, doc);
    egui::CollapsingHeader::new("Time and region").default_open(true).show(ui, |ui| {
        zone_ui(ui, doc, level, &fams, &mut cache.find);
        language_ui(ui, doc, level, &fams);
        for f in cache.findings.iter().filter(|f| f.layer == *level && EDITED_HERE.contains(&f.guarded)) {
            ui.horizontal_wrapped(|ui| {
                ui.colored_label(ui.visuals().warn_fg_color, f.message());
                if ui.button(f.fix_label()).clicked() {
                    let (k, v) = f.fix();
                    set(doc, level, k, v);
                }
            });
        }
    });
    ui.data_mut(|d| d.insert_temp(cache_id(), cache));
    ui.separator();
}

fn zone_ui(ui: &mut egui::Ui, doc: &mut Doc, level: &Layer, fams: &[Family], find: &mut String) {
    let (zones, unlisted) = common_zones(fams);
    let now = current(&doc.site, level, "P64");
    let shown = match now.as_deref() {
        None => "(not set: the device's own)".to_string(),
        Some(v) => zones.iter().find(|z| z.value == v).map(|z| z.label()).unwrap_or_else(|| v.to_string()),
    };
    let mut picked: Option<String> = None;
    ui.horizontal(|ui| {
        egui::ComboBox::from_label("Time zone (P64)").selected_text(&shown).width(360.0).show_ui(ui, |ui| {
            let mut offset = "";
            for z in &zones {
                if z.offset != offset && !z.offset.is_empty() {
                    offset = &z.offset;
                    ui.weak(offset);
                }
                if ui.selectable_label(now.as_deref() == Some(&z.value), z.label()).on_hover_text(&z.value).clicked() {
                    picked = Some(z.value.clone());
                }
            }
        });
        if let Some(v) = &now {
            ui.monospace(v).on_hover_text("the value P64 is set to");
        }
    });
    ui.horizontal(|ui| {
        let l = ui.label(FIND_ZONE);
        ui.add(egui::TextEdit::singleline(find).desired_width(220.0)).labelled_by(l.id);
    });
    let needle = find.trim().to_lowercase();
    if !needle.is_empty() {
        let hits: Vec<&&Zone> = zones
            .iter()
            .filter(|z| z.label().to_lowercase().contains(&needle) || z.value.to_lowercase().contains(&needle))
            .take(12)
            .collect();
        if hits.is_empty() {
            ui.weak("No time zone of this list matches; type the value into P64 below instead.");
        }
        for z in hits {
            if ui.button(z.label()).on_hover_text(&z.value).clicked() {
                picked = Some(z.value.clone());
            }
        }
    }
    if !unlisted.is_empty() {
        let names: Vec<&str> = unlisted.iter().map(|f| f.name()).collect();
        ui.weak(format!("{}: the template lists no time zones; P64 takes a typed value there.", names.join(", ")));
    }
    if fams.len() > 1 && zones.len() < timezone::zones(fams[0]).len() {
        ui.weak("Only the time zones every family here spells the same way are offered; set the others per model.");
    }
    if let Some(v) = picked {
        set(doc, level, "P64", &v);
        find.clear();
    }
    if now.as_deref() == Some("customize") {
        let mut rule = current(&doc.site, level, "P246").unwrap_or_default();
        ui.horizontal(|ui| {
            let l = ui.label("Self-defined time zone rule (P246)");
            let r = ui.add(egui::TextEdit::singleline(&mut rule).desired_width(320.0)).labelled_by(l.id);
            if r.changed() {
                set(doc, level, "P246", &rule);
            }
        });
    }
}

fn language_ui(ui: &mut egui::Ui, doc: &mut Doc, level: &Layer, fams: &[Family]) {
    let langs = common_languages(fams);
    if langs.is_empty() {
        return;
    }
    let now = current(&doc.site, level, "P1362");
    let shown = match now.as_deref() {
        None => "(not set: the device's own)".to_string(),
        Some(v) => {
            langs.iter().find(|(c, _)| c == v).map(|(c, n)| format!("{n} ({c})")).unwrap_or_else(|| v.to_string())
        }
    };
    let mut picked = None;
    egui::ComboBox::from_label("Display language (P1362)").selected_text(shown).width(240.0).show_ui(ui, |ui| {
        for (c, n) in &langs {
            if ui.selectable_label(now.as_deref() == Some(c.as_str()), format!("{n} ({c})")).clicked() {
                picked = Some(c.clone());
            }
        }
    });
    if let Some(c) = picked {
        set(doc, level, "P1362", &c);
    }
}
