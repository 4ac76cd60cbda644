//! The programmable-key grid of a model template or a device (issue 12 item 4):
//! one row per key with its type, account, label and value, where the key
//! comes from (inherited from the model, set here) and a reset; a range fill.
//! Keys are the site's `key.<kind>.<n>.<field>` values ([`crate::site::keys`]);
//! edits go through [`Doc::edit_if`].

use std::collections::BTreeMap;
use std::rc::Rc;

use super::Doc;
use crate::catalog::keys::{self as catkeys, Field, Format, KeyKind, KeyRef, KeyType, Layout};
use crate::site::keys::{self as site_keys, Entry, Fill};
use crate::site::{Layer, Source, Values, device_location};

type Keys = BTreeMap<(KeyKind, u16), Entry>;

/// The grid's state: which kind of keys it shows, the range-fill form, the
/// last fill's outcome, and the layered keys cached per edit.
pub struct KeysUi {
    pub kind: KeyKind,
    pub fill_type: KeyType,
    pub fill_first: String,
    pub fill_last: String,
    pub fill_value: String,
    /// (message, is an error) of the last fill.
    pub message: Option<(String, bool)>,
    /// (revision, level) -> (effective keys, inherited keys, this level's problems).
    cache: Option<(u64, Layer, Rc<Cached>)>,
}

impl Default for KeysUi {
    fn default() -> Self {
        KeysUi {
            kind: KeyKind::Vpk,
            fill_type: KeyType::Blf,
            fill_first: String::new(),
            fill_last: String::new(),
            fill_value: String::new(),
            message: None,
            cache: None,
        }
    }
}

#[derive(Default)]
struct Cached {
    effective: Keys,
    inherited: Keys,
    problems: Vec<String>,
}

fn compute(doc: &Doc, level: &Layer) -> Cached {
    let site = &doc.site;
    // Keys differ by family: none at the site defaults.
    let (effective, inherited, loc) = match level {
        Layer::Defaults => return Cached::default(),
        Layer::Model(m) => {
            (site.effective_model(m), Default::default(), format!("models.{}", site.model_key(m).unwrap_or(m.as_str())))
        }
        Layer::Device(mac) => {
            let Some((i, d)) = site.devices.iter().enumerate().find(|(_, d)| d.mac == *mac) else {
                return Cached::default();
            };
            let inherited = site.inherited_at(level).unwrap_or_default();
            (site.effective(d), inherited, device_location(i, d))
        }
    };
    let problems = doc
        .derived()
        .issues
        .iter()
        .filter(|i| i.location.starts_with(&loc) && i.location.contains("key."))
        .map(|i| format!("{}: {}", i.location, i.message))
        .collect();
    Cached { effective: site_keys::collect(&effective), inherited: site_keys::collect(&inherited), problems }
}

fn provenance(source: &Source) -> String {
    match source {
        Source::Model(m) => format!("inherited from model {m}"),
        Source::Device => "set here".into(),
        other => format!("from {other}"),
    }
}

/// The key grid for a model template or a device; nothing at the site defaults
/// (keys differ by family). `format` is the site's XML format.
pub fn keys_ui(ui: &mut egui::Ui, doc: &mut Doc, level: &Layer, st: &mut KeysUi) {
    let Some(model) = doc.site.model_at(level) else { return };
    let Some(layout) = catkeys::layout(&model) else {
        egui::CollapsingHeader::new("Programmable keys").id_salt("keys").show(ui, |ui| {
            ui.weak(format!("{model}: gsprov has no key map for this family (GXP21xx, GXP16xx and GRP26xx have one)."));
        });
        return;
    };
    if st.cache.as_ref().is_none_or(|(rev, l, _)| *rev != doc.revision() || l != level) {
        st.cache = Some((doc.revision(), level.clone(), Rc::new(compute(doc, level))));
    }
    let cached = st.cache.as_ref().map(|c| c.2.clone()).unwrap_or_default();
    let format = site_keys::xml_format(&doc.site);
    let own: Values = doc
        .site
        .values_at(level)
        .map(|v| {
            Values(
                v.0.iter().filter(|(k, _)| catkeys::is_key_setting(k)).map(|(k, v)| (k.clone(), v.clone())).collect(),
            )
        })
        .unwrap_or_default();
    let mut edits: Vec<(String, Option<String>)> = Vec::new();
    let mut fill: Option<Fill> = None;
    let set = cached.effective.len();
    egui::CollapsingHeader::new(format!("Programmable keys ({set} set)")).id_salt("keys").show(ui, |ui| {
        ui.horizontal(|ui| {
            for kind in KeyKind::ALL {
                let n = layout.count(kind);
                if n > 0 {
                    ui.selectable_value(&mut st.kind, kind, format!("{} ({n})", kind.label()));
                }
            }
        });
        if layout.count(st.kind) == 0 {
            st.kind = KeyKind::Vpk;
        }
        fill = fill_ui(ui, &layout, format, st);
        // What the fill said, on one line that is always there (cut to the
        // width, the whole text on hover): the grid below never moves for it.
        let (text, color) = match &st.message {
            Some((text, true)) => (text.as_str(), Some(ui.visuals().error_fg_color)),
            Some((text, false)) => (text.as_str(), None),
            None => ("", None),
        };
        let mut rich = egui::RichText::new(text);
        if let Some(c) = color {
            rich = rich.color(c);
        }
        let r = ui.add(egui::Label::new(rich).truncate());
        if !text.is_empty() {
            r.on_hover_text(text);
        }
        ui.horizontal(|ui| {
            for (w, t) in [(70.0, "Key"), (190.0, "Type"), (60.0, "Account"), (150.0, "Label"), (150.0, "Value")] {
                ui.add_sized([w, 18.0], egui::Label::new(egui::RichText::new(t).strong()));
            }
        });
        let row_h = ui.spacing().interact_size.y + 4.0;
        let count = usize::from(layout.count(st.kind));
        egui::ScrollArea::vertical().id_salt("key-rows").max_height(360.0).auto_shrink([false, true]).show_rows(
            ui,
            row_h,
            count,
            |ui, range| {
                for i in range {
                    let k = (i + 1) as u16;
                    row_ui(ui, &layout, format, st.kind, k, &cached, &own, &mut edits);
                }
            },
        );
        // Below the rows, so that a problem appearing as a key is typed does
        // not push that key's row from under the pointer.
        for p in &cached.problems {
            ui.colored_label(ui.visuals().error_fg_color, p);
        }
    });
    if edits.is_empty() && fill.is_none() {
        return;
    }
    let mut message = None;
    doc.edit_if(|site| {
        let Some(v) = site.values_at_mut(level) else { return false };
        let mut changed = false;
        for (key, value) in edits {
            changed = true;
            match value {
                Some(value) => v.set(key, value),
                None => match KeyRef::parse(&key) {
                    // A reset removes the whole key from this level.
                    Some(Ok(r)) => {
                        site_keys::clear(v, r.kind, r.number);
                    }
                    _ => {
                        v.remove(&key);
                    }
                },
            }
        }
        if let Some(f) = &fill {
            let mut trial = v.clone();
            match site_keys::fill(&mut trial, &model, format, f) {
                Ok(n) => {
                    *v = trial;
                    changed = true;
                    message = Some((
                        format!("{n} keys set: {} {}..{} = {}", f.ty.label(), f.first_key, f.last_key, f.first_value),
                        false,
                    ));
                }
                Err(e) => message = Some((e.to_string(), true)),
            }
        }
        changed
    });
    if message.is_some() {
        st.message = message;
    }
}

/// The "Fill range" row; returns a fill to apply when the button is pressed.
fn fill_ui(ui: &mut egui::Ui, layout: &Layout, format: Format, st: &mut KeysUi) -> Option<Fill> {
    let mut out = None;
    ui.horizontal(|ui| {
        ui.label("Fill range:");
        let types: Vec<KeyType> = catkeys::codes(layout, format, st.kind, layout.count(st.kind))
            .into_iter()
            .map(|(t, _)| t)
            .chain(catkeys::codes(layout, format, st.kind, 1).into_iter().map(|(t, _)| t))
            .fold(Vec::new(), |mut v, t| {
                if !v.contains(&t) {
                    v.push(t);
                }
                v
            });
        egui::ComboBox::from_id_salt("fill-type")
            .selected_text(st.fill_type.label())
            .width(150.0)
            .show_ui(ui, |ui| {
                for t in types {
                    ui.selectable_value(&mut st.fill_type, t, t.label());
                }
            })
            .response
            .accessible_name("Fill type");
        // Empty boxes: a grey "3" or "201" in them read as values already set.
        let l = ui.label("keys");
        ui.add(egui::TextEdit::singleline(&mut st.fill_first).desired_width(36.0)).labelled_by(l.id);
        let l = ui.label("to");
        ui.add(egui::TextEdit::singleline(&mut st.fill_last).desired_width(36.0)).labelled_by(l.id);
        let l = ui.label("first value");
        ui.add(egui::TextEdit::singleline(&mut st.fill_value).desired_width(80.0)).labelled_by(l.id);
        if ui
            .button("Fill")
            .on_hover_text("Set the type on each key of the range, values counting up (e.g. BLF, 201 on the first key)")
            .clicked()
        {
            match (st.fill_first.trim().parse::<u16>(), st.fill_last.trim().parse::<u16>()) {
                (Ok(first_key), Ok(last_key)) => {
                    out = Some(Fill {
                        kind: st.kind,
                        first_key,
                        last_key,
                        ty: st.fill_type,
                        first_value: st.fill_value.trim().to_string(),
                        account: None,
                    });
                }
                _ => {
                    let example = available(layout, format, st.kind)
                        .first()
                        .map_or(String::new(), |(a, b)| format!(" (e.g. {a} to {b})"));
                    st.message = Some((format!("give the first and last key numbers{example}"), true));
                }
            }
        }
    });
    ui.weak(availability(layout, format, st.kind));
    out
}

/// The keys of `kind` that files of `format` can carry on `layout`'s family,
/// as inclusive ranges: `[(1, 6)]` for GXP21xx line keys in XML version 1.
fn available(layout: &Layout, format: Format, kind: KeyKind) -> Vec<(u16, u16)> {
    let keys = (1..=layout.count(kind)).filter(|k| catkeys::slots(layout.family, format, kind, *k).is_some());
    ranges(keys)
}

fn ranges(keys: impl Iterator<Item = u16>) -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = Vec::new();
    for k in keys {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == k => *last = k,
            _ => out.push((k, k)),
        }
    }
    out
}

/// `1 to 6, 9`.
fn ranges_text(r: &[(u16, u16)]) -> String {
    let one = |(a, b): &(u16, u16)| if a == b { a.to_string() } else { format!("{a} to {b}") };
    r.iter().map(one).collect::<Vec<_>>().join(", ")
}

fn version_name(format: Format) -> &'static str {
    match format {
        Format::PValues => "XML version 1",
        Format::Aliases => "XML version 2",
    }
}

/// Which keys of `kind` the site's files can set, in words, and what the
/// others need: `XML version 1 files (this site's) carry VPK 1 to 6; VPK 7 to
/// 48 need XML version 2 (Site defaults > provisioning settings)`.
fn availability(layout: &Layout, format: Format, kind: KeyKind) -> String {
    let other = match format {
        Format::PValues => Format::Aliases,
        Format::Aliases => Format::PValues,
    };
    let here = available(layout, format, kind);
    let there = available(layout, other, kind);
    let has = |r: &[(u16, u16)], k: u16| r.iter().any(|(a, b)| (*a..=*b).contains(&k));
    let missing =
        |in_other: bool| ranges((1..=layout.count(kind)).filter(|k| !has(&here, *k) && has(&there, *k) == in_other));
    let name = kind.key_name(0);
    let name = name.trim_end_matches('0').trim_end();
    let mut text = if here.is_empty() {
        format!("{} files (this site's) carry no {} of {}", version_name(format), kind.plural(), layout.family)
    } else {
        format!("{} files (this site's) carry {name} {}", version_name(format), ranges_text(&here))
    };
    let need = missing(true);
    if !need.is_empty() {
        text.push_str(&format!(
            "; {name} {} need {} (Site defaults > provisioning settings)",
            ranges_text(&need),
            version_name(other)
        ));
    }
    let none = missing(false);
    if !none.is_empty() {
        text.push_str(&format!("; {name} {}: in neither format's {} template", ranges_text(&none), layout.family));
    }
    text
}

#[expect(clippy::too_many_arguments, reason = "one row of the grid: its key, the layered data and the edit list")]
fn row_ui(
    ui: &mut egui::Ui,
    layout: &Layout,
    format: Format,
    kind: KeyKind,
    k: u16,
    cached: &Cached,
    own: &Values,
    edits: &mut Vec<(String, Option<String>)>,
) {
    let name = kind.key_name(k);
    let entry = cached.effective.get(&(kind, k));
    let field = |f: Field| entry.and_then(|e| e.field(f)).map(|s| s.value.clone()).unwrap_or_default();
    let key = |f: Field| KeyRef { kind, number: k, field: f }.name();
    let here = Field::ALL.iter().any(|f| own.get(&key(*f)).is_some());
    ui.horizontal(|ui| {
        ui.add_sized([70.0, 18.0], egui::Label::new(&name));
        if !here && entry.is_none() && catkeys::slots(layout.family, format, kind, k).is_none() {
            let other = match format {
                Format::PValues => "XML version 2",
                Format::Aliases => "XML version 1",
            };
            let r = ui
                .weak(format!("not in {} files: needs {other} (Site defaults > provisioning settings)", layout.family));
            let spoken = format!("{name} needs {other}");
            r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &spoken));
            return;
        }
        let current = field(Field::Type);
        let ty: Option<KeyType> = current.parse().ok();
        let shown = match (ty, current.is_empty()) {
            (Some(t), _) => t.label().to_string(),
            (None, true) => "—".to_string(),
            (None, false) => format!("{current} (unknown)"),
        };
        egui::ComboBox::from_id_salt(("key-type", kind, k))
            .selected_text(shown)
            .width(180.0)
            .show_ui(ui, |ui| {
                for (t, code) in catkeys::codes(layout, format, kind, k) {
                    if ui
                        .selectable_label(ty == Some(t), t.label())
                        .on_hover_text(format!("mode code {code}"))
                        .clicked()
                    {
                        edits.push((key(Field::Type), Some(t.word().to_string())));
                    }
                }
            })
            .response
            .accessible_name(format!("{name} type"));
        for (f, width, hint) in [(Field::Account, 50.0, "1"), (Field::Label, 140.0, ""), (Field::Value, 140.0, "")] {
            let mut text = field(f);
            let r = ui
                .add(egui::TextEdit::singleline(&mut text).desired_width(width).hint_text(hint))
                .accessible_name(format!("{name} {}", f.word()));
            if r.changed() {
                edits.push((key(f), Some(text)));
            }
        }
        let inherited = cached.inherited.get(&(kind, k));
        let (text, tip) = match (here, entry) {
            (true, _) if inherited.is_some() => ("overridden here".to_string(), "Reset inherits the model's key"),
            (true, _) => ("set here".to_string(), "Reset removes the key from this level"),
            (false, Some(e)) => {
                let src =
                    [&e.ty, &e.value, &e.label, &e.account].into_iter().flatten().next().map(|s| provenance(&s.source));
                (src.unwrap_or_default(), "")
            }
            (false, None) => ("not set".to_string(), "Not in any file: the phone keeps its own key"),
        };
        // Named with its key for screen readers and tests: every row says "set here".
        let r = ui.weak(&text);
        let spoken = format!("{name} {text}");
        r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, &spoken));
        if !tip.is_empty() {
            r.on_hover_text(tip);
        }
        if here && ui.button("Reset").accessible_name(format!("Reset {name}")).clicked() {
            edits.push((key(Field::Type), None));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(model: &str) -> Layout {
        catkeys::layout(&model.parse().unwrap()).unwrap()
    }

    /// Issue 27 item 17: what the fill can reach is said for the site's XML version.
    #[test]
    fn the_fill_says_which_keys_the_sites_xml_version_carries() {
        let gxp2170 = layout("GXP2170");
        assert_eq!(available(&gxp2170, Format::PValues, KeyKind::Vpk), vec![(1, 6)]);
        assert_eq!(
            availability(&gxp2170, Format::PValues, KeyKind::Vpk),
            "XML version 1 files (this site's) carry VPK 1 to 6; VPK 7 to 48 need XML version 2 \
             (Site defaults > provisioning settings)"
        );
        assert_eq!(
            availability(&gxp2170, Format::Aliases, KeyKind::Vpk),
            "XML version 2 files (this site's) carry VPK 1 to 48"
        );
        // GXP16xx has no XML version 2 template: its keys need version 1.
        let gxp1630 = layout("GXP1630");
        assert_eq!(
            availability(&gxp1630, Format::Aliases, KeyKind::Mpk),
            "XML version 2 files (this site's) carry no MPKs of GXP16xx; MPK 1 to 8 need XML version 1 \
             (Site defaults > provisioning settings)"
        );
        assert_eq!(ranges([1, 2, 3, 5, 7, 8].into_iter()), vec![(1, 3), (5, 5), (7, 8)]);
        assert_eq!(ranges_text(&[(1, 3), (5, 5)]), "1 to 3, 5");
    }
}
