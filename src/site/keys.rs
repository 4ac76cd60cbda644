//! Programmable keys in the site. A key is stored as up to four virtual
//! settings in the ordinary layered [`Values`] maps, `key.vpk.3.type = "blf"`,
//! `key.vpk.3.value = "201"`, `key.vpk.3.account = "1"` (1-based, as the phone
//! shows it), `key.vpk.3.label = "Anna"`, at a model template or a device, so
//! inheritance, provenance and reset work as for any value. [`expand`] turns
//! them into the device family's P-values or v2 aliases ([`crate::catalog::keys`]);
//! [`check`] says what is wrong with them; [`fill`] writes a range.
//!
//! A raw P-value (or alias) for one of a key's slots and the key itself: the
//! higher layer wins (a device's `P1363` over a model's `key.vpk.1.type`, a
//! device's key over a model's `P1363`); both at the same layer is an error in
//! [`check`] (and the key wins in an unchecked [`expand`]).

use std::collections::BTreeMap;

use crate::catalog::keys::{self as catkeys, Field, Format, KeyKind, KeyRef, KeyType, Layout, Slots};
use crate::formats::xml::Version as XmlVersion;
use crate::ids::Model;

use super::{Effective, Issue, Setting, Severity, Site, Source, Values, canonical_key, text_problem};

/// Longest label and value the templates allow ("Max length allowed is 32 / 64 characters").
pub const MAX_LABEL: usize = 32;
pub const MAX_VALUE: usize = 64;

/// One key's fields as layered, each with where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entry {
    pub ty: Option<Setting>,
    pub account: Option<Setting>,
    pub label: Option<Setting>,
    pub value: Option<Setting>,
}

impl Entry {
    pub fn field(&self, f: Field) -> Option<&Setting> {
        match f {
            Field::Type => self.ty.as_ref(),
            Field::Account => self.account.as_ref(),
            Field::Label => self.label.as_ref(),
            Field::Value => self.value.as_ref(),
        }
    }

    fn field_mut(&mut self, f: Field) -> &mut Option<Setting> {
        match f {
            Field::Type => &mut self.ty,
            Field::Account => &mut self.account,
            Field::Label => &mut self.label,
            Field::Value => &mut self.value,
        }
    }

    /// The key type, when set and valid.
    pub fn key_type(&self) -> Option<KeyType> {
        self.ty.as_ref().and_then(|s| s.value.parse().ok())
    }
}

/// The keys of a layered result, by kind and number; malformed names are skipped
/// ([`check`] reports them).
pub fn collect(eff: &Effective) -> BTreeMap<(KeyKind, u16), Entry> {
    let mut out: BTreeMap<(KeyKind, u16), Entry> = BTreeMap::new();
    // Keys in the site defaults are refused by `check` and never placed.
    for (k, s) in eff.0.iter().filter(|(_, s)| s.source != Source::Defaults) {
        if let Some(Ok(r)) = KeyRef::parse(k) {
            *out.entry((r.kind, r.number)).or_default().field_mut(r.field) = Some(s.clone());
        }
    }
    out
}

/// How high a layer is, for raw-versus-key precedence.
fn rank(s: &Source) -> u8 {
    match s {
        // Filled in only where no layer sets P330-P332 (never a key slot).
        Source::Defaults | Source::Phonebook => 0,
        Source::Model(_) => 1,
        Source::Account(_) => 2,
        Source::Device => 3,
        Source::Provisioning => 4,
    }
}

/// The format a site's XML files use.
pub fn xml_format(site: &Site) -> Format {
    match site.provisioning.xml_version {
        XmlVersion::V1 => Format::PValues,
        XmlVersion::V2 => Format::Aliases,
    }
}

/// The output values of one key: (slot key, value, source), mode first.
fn key_values(
    layout: &Layout,
    format: Format,
    kind: KeyKind,
    k: u16,
    e: &Entry,
) -> Result<Vec<(String, String, Source)>, String> {
    let what = kind.key_name(k);
    let ty_s = e.ty.as_ref().ok_or_else(|| format!("{what} has no type"))?;
    let ty: KeyType = ty_s.value.parse().map_err(|err: catkeys::KeyTypeError| err.to_string())?;
    let slots: Slots = catkeys::slots(layout.family, format, kind, k).ok_or_else(|| match format {
        Format::PValues => format!(
            "{what} has no P-value on {} in the templates (XML v1 and binary files); use XML version 2 (provisioning.xml_version = \"v2\")",
            layout.family
        ),
        Format::Aliases => format!(
            "{what} has no XML v2 name on {} (no v2 template); use XML version 1 (provisioning.xml_version = \"v1\")",
            layout.family
        ),
    })?;
    let code = catkeys::mode_code(layout, format, kind, k, ty).ok_or_else(|| {
        let offered: Vec<&str> = catkeys::codes(layout, format, kind, k).iter().map(|(t, _)| t.label()).collect();
        format!(
            "{what} cannot be {} on {} ({}); it takes: {}",
            ty.label(),
            layout.family,
            format_name(format),
            offered.join(", ")
        )
    })?;
    let account = match &e.account {
        Some(s) if !s.value.trim().is_empty() => {
            let n: u8 = s
                .value
                .trim()
                .parse()
                .map_err(|_| format!("{what}: account {:?} is not a number (1 = account 1)", s.value))?;
            if n == 0 {
                return Err(format!("{what}: accounts are numbered from 1"));
            }
            ((n - 1).to_string(), s.source.clone())
        }
        _ => ("0".to_string(), ty_s.source.clone()),
    };
    let text = |f: &Option<Setting>| {
        f.as_ref().map_or_else(|| (String::new(), ty_s.source.clone()), |s| (s.value.clone(), s.source.clone()))
    };
    let (label, value) = (text(&e.label), text(&e.value));
    Ok(vec![
        (slots.mode, code.to_string(), ty_s.source.clone()),
        (slots.account, account.0, account.1),
        (slots.label, label.0, label.1),
        (slots.value, value.0, value.1),
    ])
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::PValues => "P-values, XML v1 and binary",
        Format::Aliases => "XML v2",
    }
}

/// `eff` with its `key.*` settings replaced by `model`'s P-values (`format` =
/// P-values) or v2 aliases. A raw value at a higher layer than the key keeps
/// its slot. Returns the keys that could not be placed, with why.
pub fn expand(eff: &Effective, model: &Model, format: Format) -> (Effective, Vec<(String, String)>) {
    let keys = collect(eff);
    let mut out = Effective(
        eff.0.iter().filter(|(k, _)| !catkeys::is_key_setting(k)).map(|(k, s)| (k.clone(), s.clone())).collect(),
    );
    let mut dropped = Vec::new();
    if keys.is_empty() {
        return (out, dropped);
    }
    let Some(layout) = catkeys::layout(model) else {
        dropped.push(("key.*".into(), format!("{model} has no programmable-key map in gsprov (GXP21xx, GXP16xx, GRP26xx have one); its keys are left out")));
        return (out, dropped);
    };
    for ((kind, k), e) in &keys {
        if k > &layout.count(*kind) {
            dropped.push((
                format!("key.{kind}.{k}"),
                format!("a {model} has {} {}; {} is left out", layout.count(*kind), kind.plural(), kind.key_name(*k)),
            ));
            continue;
        }
        let values = match key_values(&layout, format, *kind, *k, e) {
            Ok(v) => v,
            Err(why) => {
                dropped.push((format!("key.{kind}.{k}"), format!("{why}; it is left out")));
                continue;
            }
        };
        let p_slots = catkeys::slots(layout.family, Format::PValues, *kind, *k);
        for (i, (slot, value, source)) in values.into_iter().enumerate() {
            // The same slot as a raw P-value (v2 aliases the catalog knows are stored as P-ids).
            let raw_keys: Vec<String> =
                [Some(slot.clone()), p_slots.as_ref().map(|p| p.all()[i].to_string())].into_iter().flatten().collect();
            if raw_keys.iter().any(|r| eff.0.get(r).is_some_and(|s| rank(&s.source) > rank(&source))) {
                continue;
            }
            for r in &raw_keys {
                out.0.remove(r);
            }
            out.0.insert(slot, Setting { value, source });
        }
    }
    (out, dropped)
}

/// [`expand`] of an `eff` the caller is done with: without programmable keys
/// it is already the result, and is moved instead of copied (a device's
/// values, in the common case of a site without keys).
pub fn expand_owned(eff: Effective, model: &Model, format: Format) -> (Effective, Vec<(String, String)>) {
    if !eff.0.keys().any(|k| catkeys::is_key_setting(k)) {
        return (eff, Vec::new());
    }
    expand(&eff, model, format)
}

/// The format a model's keys are checked in: its XML's, or P-values for a
/// unit that reads only the binary file. (A full binary file beside the XML
/// carries what P-values can name; the XML, read last, has every key.)
fn format_for(site: &Site, model: &Model) -> Format {
    if model.reads_xml() { xml_format(site) } else { Format::PValues }
}

/// Problems with the site's keys: names, types, numbers beyond the model's
/// keys, BLF without a value, a key the file format cannot carry, a raw value
/// for the same slot at the same layer. Each device's layered values are
/// handed to `each_device` (index, effective) once checked, so the rest of
/// the site check need not layer them again.
pub fn check(site: &Site, each_device: &mut dyn FnMut(usize, &Effective)) -> Vec<Issue> {
    let mut out = Vec::new();
    let err = error;
    for k in site.defaults.0.keys().filter(|k| catkeys::is_key_setting(k)) {
        out.push(err(
            format!("defaults.{k}"),
            "programmable keys are set per model ([models.<model>]) or per device, not in the site defaults: key numbers and codes differ by family".into(),
        ));
    }
    // Per layer: names, field values, counts, same-layer conflicts.
    for (m, values) in &site.models {
        let model = m.parse::<Model>().ok();
        check_layer(&format!("models.{m}"), values, model.as_ref(), &mut out);
    }
    for (i, d) in site.devices.iter().enumerate() {
        check_layer(&format!("{}.values", super::device_location(i, d)), &d.values, Some(&d.model), &mut out);
    }
    // Layered: every key as a device (or the model file) gets it.
    for m in site.models.keys() {
        if let Ok(model) = m.parse::<Model>() {
            check_layered(site, &format!("models.{m}"), &site.effective_model(&model), &model, false, &mut out);
        }
    }
    let mut layering = site.layering();
    for (i, d) in site.devices.iter().enumerate() {
        let eff = layering.effective(d);
        check_layered(
            site,
            &super::device_location(i, d),
            &eff,
            &d.model,
            site.models.contains_key(d.model.as_str()),
            &mut out,
        );
        each_device(i, &eff);
    }
    out
}

/// Per layer (a model template's or a device's own values): names, field values,
/// counts, a raw value for a key's slot at the same layer.
pub fn check_layer(loc: &str, values: &Values, model: Option<&Model>, out: &mut Vec<Issue>) {
    let err = error;
    let mut here: BTreeMap<(KeyKind, u16), Vec<Field>> = BTreeMap::new();
    for (k, v) in values.0.iter().filter(|(k, _)| catkeys::is_key_setting(k)) {
        let at = format!("{loc}.{k}");
        let r = match KeyRef::parse(k) {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                out.push(err(at, e));
                continue;
            }
            None => continue,
        };
        if let Some(p) = text_problem(v, false) {
            out.push(err(at, p));
            continue;
        }
        here.entry((r.kind, r.number)).or_default().push(r.field);
        let problem = match r.field {
            Field::Type => v.parse::<KeyType>().err().map(|e| e.to_string()),
            Field::Account => {
                let lines = model.map_or(6, Model::lines);
                match v.trim().parse::<u8>() {
                    Ok(n) if (1..=lines).contains(&n) => None,
                    _ if v.trim().is_empty() => None,
                    _ => Some(format!(
                        "account {v:?}: use 1 to {lines}{}",
                        model.map(|m| format!(" (a {m} has {lines} accounts)")).unwrap_or_default()
                    )),
                }
            }
            Field::Label => (v.chars().count() > MAX_LABEL)
                .then(|| format!("the label is {} characters; the phone takes {MAX_LABEL}", v.chars().count())),
            Field::Value => (v.chars().count() > MAX_VALUE)
                .then(|| format!("the value is {} characters; the phone takes {MAX_VALUE}", v.chars().count())),
        };
        if let Some(message) = problem {
            out.push(err(at, message));
        }
    }
    let Some(model) = model else { return };
    let Some(layout) = catkeys::layout(model) else {
        if let Some(((kind, k), _)) = here.iter().next() {
            out.push(err(
                format!("{loc}.key.{kind}.{k}"),
                format!("{model} has no programmable-key map in gsprov (GXP21xx, GXP16xx and GRP26xx have one); remove its key.* settings"),
            ));
        }
        return;
    };
    for ((kind, k), fields) in &here {
        let count = layout.count(*kind);
        if *k > count {
            let has = if count == 0 {
                format!("a {model} has no {}", kind.plural())
            } else {
                format!("a {model} has {count} {}", kind.plural())
            };
            out.push(err(format!("{loc}.key.{kind}.{k}"), format!("{has}; {} does not exist", kind.key_name(*k))));
            continue;
        }
        if !fields.contains(&Field::Type) {
            continue;
        }
        // A raw value for a slot of this key at the same layer.
        for format in [Format::PValues, Format::Aliases] {
            let Some(slots) = catkeys::slots(layout.family, format, *kind, *k) else { continue };
            for raw in values.0.keys().filter(|r| !catkeys::is_key_setting(r)) {
                let canon = canonical_key(raw).unwrap_or_else(|_| raw.clone());
                if slots.all().contains(&canon.as_str()) || slots.all().contains(&raw.as_str()) {
                    out.push(err(
                        format!("{loc}.{raw}"),
                        format!("{raw} is a setting of key.{kind}.{k} (set at the same level); remove one of them"),
                    ));
                }
            }
        }
    }
}

/// Layered, as a device (or the model file) gets its keys: type set, BLF with a
/// value, a type the key takes in the format of the model's files. With
/// `only_device`, keys wholly from the model template are skipped (said there).
pub fn check_layered(site: &Site, loc: &str, eff: &Effective, model: &Model, only_device: bool, out: &mut Vec<Issue>) {
    let err = error;
    let Some(layout) = catkeys::layout(model) else { return };
    for ((kind, k), e) in collect(eff) {
        if k > layout.count(kind) {
            continue; // said per layer
        }
        let mine =
            [&e.ty, &e.account, &e.label, &e.value].into_iter().flatten().any(|s| matches!(s.source, Source::Device));
        if only_device && !mine {
            continue; // said at the model
        }
        let at = format!("{loc}.key.{kind}.{k}");
        let Some(ty) = e.key_type() else {
            if e.ty.is_none() {
                out.push(err(
                    at,
                    format!("{} has a label, value or account but no type; set key.{kind}.{k}.type", kind.key_name(k)),
                ));
            }
            continue;
        };
        if ty.needs_value() && e.value.as_ref().is_none_or(|s| s.value.trim().is_empty()) {
            out.push(err(
                at.clone(),
                format!(
                    "{} is {} but has no value (the extension or number); set key.{kind}.{k}.value",
                    kind.key_name(k),
                    ty.label()
                ),
            ));
        }
        if let Err(why) = key_values(&layout, format_for(site, model), kind, k, &e) {
            out.push(err(at.clone(), why));
        }
    }
}

fn error(location: String, message: String) -> Issue {
    Issue { severity: Severity::Error, location, message }
}

/// A range fill: `kind` keys `first_key..=last_key` get `ty` with values
/// counting up from `first_value` ("BLF for 201..210 on keys 3..12").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    pub kind: KeyKind,
    pub first_key: u16,
    pub last_key: u16,
    pub ty: KeyType,
    /// The first key's value; each next key gets one more (must be a number).
    pub first_value: String,
    /// 1-based account; `None` leaves the account as it is (account 1 by default).
    pub account: Option<u8>,
}

/// Why a range fill was refused (nothing is written then).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FillError(pub String);

/// Writes a [`Fill`] into `values` (a model template's or a device's) for
/// `model` whose XML uses `format`; all or nothing. Returns the number of keys set.
pub fn fill(values: &mut Values, model: &Model, format: Format, f: &Fill) -> Result<usize, FillError> {
    let e = |s: String| Err(FillError(s));
    let Some(layout) = catkeys::layout(model) else {
        return e(format!("{model} has no programmable-key map in gsprov (GXP21xx, GXP16xx and GRP26xx have one)"));
    };
    if f.first_key == 0 || f.first_key > f.last_key {
        return e(format!("keys {}..{}: give a first key from 1 and a last key not below it", f.first_key, f.last_key));
    }
    let count = layout.count(f.kind);
    if f.last_key > count {
        return e(format!("a {model} has {count} {}; {}..{} does not fit", f.kind.plural(), f.first_key, f.last_key));
    }
    let first: u64 = match f.first_value.trim().parse() {
        Ok(n) => n,
        Err(_) if !f.ty.needs_value() && f.first_value.trim().is_empty() => 0,
        Err(_) => {
            return e(format!(
                "the first value {:?} is not a number: a range counts up from it (201, 202, ...)",
                f.first_value
            ));
        }
    };
    for k in f.first_key..=f.last_key {
        if catkeys::slots(layout.family, format, f.kind, k).is_none()
            || catkeys::mode_code(&layout, format, f.kind, k, f.ty).is_none()
        {
            return e(format!(
                "{} of a {model} cannot be {} ({})",
                f.kind.key_name(k),
                f.ty.label(),
                format_name(format)
            ));
        }
    }
    if let Some(a) = f.account
        && !(1..=model.lines()).contains(&a)
    {
        return e(format!("account {a}: a {model} has accounts 1 to {}", model.lines()));
    }
    for (i, k) in (f.first_key..=f.last_key).enumerate() {
        let name = |field| KeyRef { kind: f.kind, number: k, field }.name();
        values.set(name(Field::Type), f.ty.word());
        if f.ty.needs_value() || !f.first_value.trim().is_empty() {
            values.set(name(Field::Value), (first + i as u64).to_string());
        }
        if let Some(a) = f.account {
            values.set(name(Field::Account), a.to_string());
        }
    }
    Ok(usize::from(f.last_key - f.first_key) + 1)
}

/// Removes every field of one key from `values` (the grid's reset).
pub fn clear(values: &mut Values, kind: KeyKind, number: u16) -> bool {
    let mut any = false;
    for field in Field::ALL {
        any |= values.remove(&KeyRef { kind, number, field }.name()).is_some();
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::Device;

    fn site_with(model: &str, xml: XmlVersion) -> Site {
        let mut s = Site::default();
        s.provisioning.xml_version = xml;
        s.devices.push(Device::new("000b82000001".parse().unwrap(), model.parse().unwrap()));
        s
    }

    #[test]
    fn model_keys_reach_devices_and_a_device_overrides() {
        let mut site = site_with("GXP2170", XmlVersion::V1);
        let mut m = Values::default();
        m.set("key.vpk.3.type", "blf");
        m.set("key.vpk.3.value", "201");
        site.models.insert("GXP2170".into(), m);
        let d = site.devices[0].clone();
        let (eff, dropped) = expand(&site.effective(&d), &d.model, Format::PValues);
        assert!(dropped.is_empty(), "{dropped:?}");
        assert_eq!(eff.get("P1367"), Some("11"));
        assert_eq!(eff.get("P1368"), Some("0"));
        assert_eq!(eff.get("P1470"), Some("201"));
        assert_eq!(eff.0["P1367"].source, Source::Model("GXP2170".parse().unwrap()));
        assert!(eff.0.keys().all(|k| !k.starts_with("key.")));
        site.devices[0].values.set("key.vpk.3.value", "202");
        let d = site.devices[0].clone();
        let (eff, _) = expand(&site.effective(&d), &d.model, Format::PValues);
        assert_eq!((eff.get("P1470"), &eff.0["P1470"].source), (Some("202"), &Source::Device));
        assert_eq!(eff.0["P1367"].source, Source::Model("GXP2170".parse().unwrap()));
        assert!(check(&site, &mut |_, _| {}).is_empty(), "{:?}", check(&site, &mut |_, _| {}));
    }

    #[test]
    fn expand_owned_is_expand_with_keys_and_without() {
        let mut site = site_with("GXP2170", XmlVersion::V1);
        site.defaults.set("P47", "pbx.example");
        let d = site.devices[0].clone();
        for format in [Format::PValues, Format::Aliases] {
            let eff = site.effective(&d);
            assert_eq!(expand_owned(eff.clone(), &d.model, format), expand(&eff, &d.model, format), "no keys");
        }
        site.devices[0].values.set("key.vpk.3.type", "blf");
        site.devices[0].values.set("key.vpk.3.value", "201");
        site.devices[0].values.set("key.vpk.99.type", "blf");
        let d = site.devices[0].clone();
        for format in [Format::PValues, Format::Aliases] {
            let eff = site.effective(&d);
            let (owned, dropped) = expand_owned(eff.clone(), &d.model, format);
            assert_eq!((&owned, &dropped), (&expand(&eff, &d.model, format).0, &expand(&eff, &d.model, format).1));
            assert!(!dropped.is_empty(), "key 99 is beyond a GXP2170's keys");
            assert!(owned.0.keys().all(|k| !k.starts_with("key.")), "{owned:?}");
        }
    }

    #[test]
    fn raw_values_win_from_a_higher_layer_and_conflict_at_the_same_one() {
        let mut site = site_with("GRP2612W", XmlVersion::V1);
        let mut m = Values::default();
        m.set("key.vpk.1.type", "blf");
        m.set("key.vpk.1.value", "201");
        site.models.insert("GRP2612W".into(), m);
        site.devices[0].values.set("P1363", "31");
        let d = site.devices[0].clone();
        let (eff, _) = expand(&site.effective(&d), &d.model, Format::PValues);
        assert_eq!(
            (eff.get("P1363"), &eff.0["P1363"].source),
            (Some("31"), &Source::Device),
            "the device's raw P1363 wins"
        );
        assert_eq!(eff.get("P1466"), Some("201"), "the other slots still come from the key");
        assert!(check(&site, &mut |_, _| {}).is_empty(), "{:?}", check(&site, &mut |_, _| {}));
        // The other way round: the device's key beats the model's raw value.
        site.devices[0].values = Values::default();
        site.models.get_mut("GRP2612W").unwrap().0.clear();
        site.models.get_mut("GRP2612W").unwrap().set("P1363", "31");
        site.devices[0].values.set("key.vpk.1.type", "speed-dial");
        site.devices[0].values.set("key.vpk.1.value", "5551234");
        let d = site.devices[0].clone();
        let (eff, _) = expand(&site.effective(&d), &d.model, Format::PValues);
        assert_eq!(eff.get("P1363"), Some("0"));
        // Same layer: an error naming both.
        site.devices[0].values.set("pks.vpk.1.keyMode", "1");
        let issues = check(&site, &mut |_, _| {});
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert!(issues[0].location.ends_with(".values.pks.vpk.1.keyMode"), "{issues:?}");
        assert!(issues[0].message.contains("key.vpk.1"), "{issues:?}");
    }

    #[test]
    fn check_names_device_model_and_key() {
        let mut site = site_with("GXP2170", XmlVersion::V2);
        site.defaults.set("key.vpk.1.type", "blf");
        let v = &mut site.devices[0].values;
        v.set("key.vpk.49.type", "blf");
        v.set("key.mpk.1.type", "blf");
        v.set("key.vpk.13.type", "line");
        v.set("key.vpk.4.type", "blf");
        v.set("key.vpk.5.label", "Anna");
        v.set("key.vpk.6.type", "bfl");
        v.set("key.vpk.7.type", "speed-dial");
        v.set("key.vpk.7.value", "1");
        v.set("key.vpk.7.account", "9");
        v.set("key.vpk.x.type", "blf");
        let issues = check(&site, &mut |_, _| {});
        let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
        let has = |loc: &str, msg: &str| {
            assert!(text.iter().any(|t| t.contains(loc) && t.contains(msg)), "{loc} / {msg} in {text:#?}")
        };
        has("defaults.key.vpk.1.type", "per model");
        has("device 1 000b82000001.values.key.vpk.49", "a GXP2170 has 48 line keys / VPKs; VPK 49 does not exist");
        has("values.key.mpk.1", "a GXP2170 has no MPKs");
        has("key.vpk.13", "VPK 13 cannot be Line on GXP21xx (XML v2)");
        has("key.vpk.4", "is BLF but has no value");
        has("key.vpk.5", "no type");
        has("key.vpk.6.type", "not a key type");
        has("key.vpk.7.account", "use 1 to 6");
        has("key.vpk.x.type", "key.<vpk|mpk|ext>");
        assert_eq!(issues.len(), 9, "{text:#?}");
        // v1: the GXP21xx template has line keys 1-6 only.
        site.provisioning.xml_version = XmlVersion::V1;
        site.defaults = Values::default();
        site.devices[0].values = Values::default();
        site.devices[0].values.set("key.vpk.7.type", "speed-dial");
        site.devices[0].values.set("key.vpk.7.value", "1");
        let text: Vec<String> = check(&site, &mut |_, _| {}).iter().map(ToString::to_string).collect();
        assert!(
            text.len() == 1 && text[0].contains("no P-value on GXP21xx") && text[0].contains("xml_version = \"v2\""),
            "{text:#?}"
        );
    }

    #[test]
    fn range_fill_is_all_or_nothing() {
        let model: Model = "GRP2612W".parse().unwrap();
        let mut v = Values::default();
        let f = Fill {
            kind: KeyKind::Vpk,
            first_key: 3,
            last_key: 12,
            ty: KeyType::Blf,
            first_value: "201".into(),
            account: Some(1),
        };
        assert_eq!(fill(&mut v, &model, Format::PValues, &f), Ok(10));
        assert_eq!(v.get("key.vpk.3.value"), Some("201"));
        assert_eq!(v.get("key.vpk.12.value"), Some("210"));
        assert_eq!(v.get("key.vpk.12.type"), Some("blf"));
        assert_eq!(v.get("key.vpk.12.account"), Some("1"));
        let before = v.clone();
        let too_far = Fill { first_key: 40, last_key: 50, ..f.clone() };
        assert!(fill(&mut v, &model, Format::PValues, &too_far).unwrap_err().0.contains("has 48"));
        let not_numeric = Fill { first_value: "Anna".into(), ..f.clone() };
        assert!(fill(&mut v, &model, Format::PValues, &not_numeric).unwrap_err().0.contains("not a number"));
        let line_on_dynamic = Fill { ty: KeyType::Line, first_key: 12, last_key: 14, ..f.clone() };
        let gxp: Model = "GXP2170".parse().unwrap();
        assert!(fill(&mut v, &gxp, Format::Aliases, &line_on_dynamic).unwrap_err().0.contains("VPK 13"));
        assert_eq!(v, before);
        assert!(clear(&mut v, KeyKind::Vpk, 3));
        assert_eq!(v.get("key.vpk.3.type"), None);
    }
}
