//! The saved text: a site written back into the technician's own file, edited
//! in place as `cargo add` edits a `Cargo.toml` (the `toml_edit` crate).
//! Comments, blank lines, the order of sections and keys, and the spelling of
//! every untouched value survive; a changed value keeps its line and its
//! comment; a removed one loses its line. What is added leaves out every field
//! that reads back as it is when missing (an empty label, `tftp = true`), and
//! new P-values go in numeric order among the others (P192 before P212 before
//! P1409), aliases after them.
//!
//! The result must read back as the site being saved; when it would not (a
//! reordered device list, a hand-written shape this does not follow), the
//! whole site is written afresh instead. Pure text to text: `storage` reads
//! and writes the file.

use std::cmp::Ordering;

use serde::Serialize;
use toml_edit::visit_mut::VisitMut;
use toml_edit::{ArrayOfTables, DocumentMut, Item, Key, Table, TableLike, Value};

use super::{Account, Device, Firmware, FirmwarePin, HttpAuth, Phonebook, PhonebookContact, Site};
use crate::ids::{Mac, Model};

/// The first line of a site file gsprov writes afresh.
pub const HEADER: &str = "# gsprov site file. Edit with gsprov, or by hand: `gsprov check` validates it.\n";

/// The text to save `site` as. `old` is the text of the file the site was
/// read from (or is saved over), kept as far as the site allows; `None`, or
/// text that is no TOML, writes the site afresh.
pub fn saved_text(site: &Site, old: Option<&str>) -> String {
    let fresh = document_of(site);
    let defaults = Defaults::new();
    if let Some(old) = old
        && let Ok(mut doc) = old.parse::<DocumentMut>()
    {
        merge_table(doc.as_table_mut(), fresh.as_table(), Ctx::Struct(Kind::Root), &defaults);
        let text = doc.to_string();
        if reads_as(&text, site) {
            return text;
        }
    }
    let mut doc = DocumentMut::new();
    merge_table(doc.as_table_mut(), fresh.as_table(), Ctx::Struct(Kind::Root), &defaults);
    let text = format!("{HEADER}{doc}");
    if reads_as(&text, site) {
        return text;
    }
    // Every field, as serde writes it (reads back: `site_toml_round_trips`).
    format!("{HEADER}{}", toml::to_string_pretty(site).unwrap_or_else(|e| format!("# serialisation failed: {e}\n")))
}

fn reads_as(text: &str, site: &Site) -> bool {
    toml::from_str::<Site>(text).is_ok_and(|back| back == *site)
}

/// `value` as a TOML document (a table for a struct), shaped as its text
/// would read: tables and arrays of tables, not inline ones (serialised
/// straight into a document: no text to write and parse again).
fn document_of<T: Serialize>(value: &T) -> DocumentMut {
    let mut doc = toml_edit::ser::to_document(value).unwrap_or_default();
    Standard.visit_document_mut(&mut doc);
    doc
}

/// Makes inline tables `[tables]` and arrays of them `[[arrays of tables]]`.
struct Standard;

impl VisitMut for Standard {
    fn visit_item_mut(&mut self, node: &mut Item) {
        let item = std::mem::take(node);
        let item = item.into_table().map(Item::Table).unwrap_or_else(|i| i);
        *node = item.into_array_of_tables().map(Item::ArrayOfTables).unwrap_or_else(|i| i);
        toml_edit::visit_mut::visit_item_mut(self, node);
    }

    fn visit_table_mut(&mut self, node: &mut Table) {
        toml_edit::visit_mut::visit_table_mut(self, node);
        // Only tables under it: no header of its own (`[models.GXP2170]`, not `[models]` first).
        if !node.is_empty() && node.iter().all(|(_, v)| v.is_table() || v.is_array_of_tables()) {
            node.set_implicit(true);
        }
    }
}

/// What loading gives each field that is missing, per kind of table.
struct Defaults {
    root: Table,
    device: Table,
    account: Table,
    contact: Table,
    pin: Table,
}

impl Defaults {
    fn new() -> Defaults {
        let mut root = document_of(&Site::default()).as_table().clone();
        // Left out of the serialisation while default; loading fills them in.
        root.insert("firmware", Item::Table(document_of(&Firmware::default()).as_table().clone()));
        root.insert("phonebook", Item::Table(document_of(&Phonebook::default()).as_table().clone()));
        if let Some(serving) = root.get_mut("serving").and_then(Item::as_table_mut) {
            serving.insert("auth", Item::Table(document_of(&HttpAuth::default()).as_table().clone()));
        }
        let mac: Mac = "000b82000000".parse().expect("static MAC");
        let model: Model = "GXP2170".parse().expect("static model name");
        let mut device = document_of(&Device::new(mac, model)).as_table().clone();
        // Required: never "as when missing".
        device.remove("mac");
        device.remove("model");
        Defaults {
            root,
            device,
            account: document_of(&Account::default()).as_table().clone(),
            contact: document_of(&PhonebookContact::default()).as_table().clone(),
            pin: document_of(&FirmwarePin::default()).as_table().clone(),
        }
    }

    /// The default table of a struct kind.
    fn of(&self, kind: Kind) -> Option<&Table> {
        let section = |k: &str| self.root.get(k).and_then(Item::as_table);
        match kind {
            Kind::Root => Some(&self.root),
            Kind::Provisioning => section("provisioning"),
            Kind::Serving => section("serving"),
            Kind::Firmware => section("firmware"),
            Kind::Phonebook => section("phonebook"),
            Kind::Auth => section("serving").and_then(|s| s.get("auth")).and_then(Item::as_table),
            Kind::Device => Some(&self.device),
            Kind::Account => Some(&self.account),
            Kind::Contact => Some(&self.contact),
            Kind::Pin => Some(&self.pin),
        }
    }
}

/// The structs of the saved format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Root,
    Provisioning,
    Serving,
    Firmware,
    Phonebook,
    Auth,
    Device,
    Account,
    Contact,
    Pin,
}

/// Where in the saved format a table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// A struct: fixed fields, each with what loading gives when it is missing.
    Struct(Kind),
    /// Settings (`[defaults]`, a model template, a device's values): scalars
    /// read as text (`P212 = 1` is `"1"`), keys in P-value order.
    Values,
    /// `[models]`: model name -> settings; `gxp2170` is `GXP2170`.
    Models,
    /// `[firmware.models]`, `[firmware.devices]`: name -> pin.
    Pins,
}

impl Ctx {
    /// What the value under `key` is.
    fn child(self, key: &str) -> Option<Ctx> {
        Some(match (self, key) {
            (Ctx::Struct(Kind::Root), "defaults") => Ctx::Values,
            (Ctx::Struct(Kind::Root), "models") => Ctx::Models,
            (Ctx::Struct(Kind::Root), "devices") => Ctx::Struct(Kind::Device),
            (Ctx::Struct(Kind::Root), "provisioning") => Ctx::Struct(Kind::Provisioning),
            (Ctx::Struct(Kind::Root), "serving") => Ctx::Struct(Kind::Serving),
            (Ctx::Struct(Kind::Root), "firmware") => Ctx::Struct(Kind::Firmware),
            (Ctx::Struct(Kind::Root), "phonebook") => Ctx::Struct(Kind::Phonebook),
            (Ctx::Struct(Kind::Serving), "auth") => Ctx::Struct(Kind::Auth),
            (Ctx::Struct(Kind::Firmware), "models" | "devices") => Ctx::Pins,
            (Ctx::Struct(Kind::Phonebook), "contacts") => Ctx::Struct(Kind::Contact),
            (Ctx::Struct(Kind::Device), "values") => Ctx::Values,
            (Ctx::Struct(Kind::Device), "accounts") => Ctx::Struct(Kind::Account),
            (Ctx::Models, _) => Ctx::Values,
            (Ctx::Pins, _) => Ctx::Struct(Kind::Pin),
            _ => return None,
        })
    }
}

/// Sort order of settings: P-values by number, then aliases by name.
fn setting_order(key: &str) -> (u8, u64, &str) {
    match key.strip_prefix('P').and_then(|n| n.parse::<u64>().ok()) {
        Some(n) => (0, n, ""),
        None => (1, 0, key),
    }
}

/// `old`'s key that names what `new_key` names in a table at `ctx`.
fn matching_key(old: &dyn TableLike, new_key: &str, ctx: Ctx) -> Option<String> {
    if old.contains_key(new_key) {
        return Some(new_key.to_string());
    }
    if ctx == Ctx::Models {
        let model = new_key.parse::<Model>().ok()?;
        return old
            .iter()
            .map(|(k, _)| k)
            .find(|k| k.parse::<Model>().ok().as_ref() == Some(&model))
            .map(str::to_string);
    }
    None
}

/// Writes `new` (a table of the fresh serialisation) into `old`, at `ctx`.
fn merge_table(old: &mut dyn TableLike, new: &dyn TableLike, ctx: Ctx, d: &Defaults) {
    let defaults = match ctx {
        Ctx::Struct(kind) => d.of(kind),
        _ => None,
    };
    let default_of = |key: &str| defaults.and_then(|t| t.get(key));
    // Keys the site no longer has go, unless they read as the default anyway.
    let gone: Vec<String> = old
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| {
            let kept = match ctx {
                Ctx::Models => new.iter().any(|(n, _)| matching_key(old, n, ctx).as_deref() == Some(k)),
                _ => new.contains_key(k),
            };
            !kept && !default_of(k).zip(old.get(k)).is_some_and(|(def, o)| reads_as_default(o, def, ctx, k))
        })
        .collect();
    for k in &gone {
        old.remove(k);
    }
    // A file written afresh always says its format and name.
    let fresh_root = ctx == Ctx::Struct(Kind::Root) && old.is_empty();
    let mut added: Vec<(String, Item)> = Vec::new();
    for (key, new_item) in new.iter() {
        let child = ctx.child(key);
        let keep_always = fresh_root && matches!(key, "format_version" | "name");
        let is_default = !keep_always && default_of(key).is_some_and(|def| reads_as_default(new_item, def, ctx, key));
        match matching_key(old, key, ctx) {
            Some(old_key) => {
                let old_is_default = || {
                    default_of(key).zip(old.get(&old_key)).is_some_and(|(def, o)| reads_as_default(o, def, ctx, key))
                };
                if is_default && !old_is_default() {
                    // Back to what a missing field reads as: the line goes.
                    old.remove(&old_key);
                } else if let Some(old_item) = old.get_mut(&old_key) {
                    merge_item(old_item, new_item, ctx, child, key, d);
                }
            }
            None if is_default || is_empty(new_item) => {}
            None => {
                let mut item = Item::None;
                merge_item(&mut item, new_item, ctx, child, key, d);
                if !is_empty(&item) {
                    added.push((key.to_string(), item));
                }
            }
        }
    }
    if added.is_empty() {
        return;
    }
    if ctx == Ctx::Values {
        // Each new setting right after the last one that sorts before it
        // (first when none does): in order in a sorted table, and beside its
        // neighbours in one the technician ordered otherwise.
        let mut entries: Vec<(Key, Item)> =
            old.iter().map(|(k, v)| (old.key(k).cloned().unwrap_or_else(|| Key::new(k)), v.clone())).collect();
        added.sort_by(|a, b| setting_order(&a.0).cmp(&setting_order(&b.0)));
        for (k, item) in added {
            let at = entries
                .iter()
                .rposition(|(e, _)| setting_order(e.get()).cmp(&setting_order(&k)) == Ordering::Less)
                .map_or(0, |i| i + 1);
            entries.insert(at, (Key::new(k), item));
        }
        old.clear();
        for (k, item) in entries {
            old.entry_format(&k).or_insert(item);
        }
    } else {
        for (k, item) in added {
            old.insert(&k, item);
        }
    }
}

/// Writes `new` into `old` (a value, table or array of tables; `Item::None`
/// for one being added).
fn merge_item(old: &mut Item, new: &Item, parent: Ctx, ctx: Option<Ctx>, key: &str, d: &Defaults) {
    match (ctx, new) {
        (Some(ctx), Item::Table(n)) => {
            if old.as_table_like().is_none() {
                let mut t = Table::new();
                t.set_implicit(n.is_implicit());
                *old = Item::Table(t);
            }
            if let Some(o) = old.as_table_like_mut() {
                merge_table(o, n, ctx, d);
            }
        }
        (Some(ctx), Item::ArrayOfTables(n)) => {
            let mut olds: Vec<Option<Table>> = match old.as_array_of_tables() {
                Some(a) => a.iter().cloned().map(Some).collect(),
                None => Vec::new(),
            };
            // Devices are found by MAC (the first table of each), accounts and contacts by place.
            let by_mac: std::collections::HashMap<Mac, usize> = match ctx {
                Ctx::Struct(Kind::Device) => {
                    olds.iter().enumerate().rev().filter_map(|(j, t)| Some((mac_of(t.as_ref()?)?, j))).collect()
                }
                _ => Default::default(),
            };
            let mut out = ArrayOfTables::new();
            for (i, n) in n.iter().enumerate() {
                let at = if ctx == Ctx::Struct(Kind::Device) {
                    mac_of(n).and_then(|m| by_mac.get(&m).copied())
                } else {
                    olds.get(i).and_then(|o| o.as_ref()).map(|_| i)
                };
                let mut t = at.and_then(|j| olds[j].take()).unwrap_or_default();
                merge_table(&mut t, n, ctx, d);
                out.push(t);
            }
            *old = Item::ArrayOfTables(out);
        }
        _ => {
            if same(old, new, parent, key) {
                return;
            }
            let mut fresh = new.clone();
            if let (Some(o), Some(n)) = (old.as_value(), fresh.as_value_mut()) {
                // The line keeps its spacing and its comment.
                *n.decor_mut() = o.decor().clone();
            } else if let Some(n) = fresh.as_value_mut() {
                n.decor_mut().clear();
            }
            *old = fresh;
        }
    }
}

fn mac_of(t: &Table) -> Option<Mac> {
    t.get("mac").and_then(Item::as_str).and_then(|m| m.parse().ok())
}

/// Nothing to write: an empty table, array or string-less shell.
fn is_empty(item: &Item) -> bool {
    match item {
        Item::None => true,
        Item::Table(t) => t.is_empty(),
        Item::ArrayOfTables(a) => a.is_empty(),
        Item::Value(Value::Array(a)) => a.is_empty(),
        Item::Value(Value::InlineTable(t)) => t.is_empty(),
        Item::Value(_) => false,
    }
}

/// Whether `item` under `key` reads as `default` does: a struct table whose
/// every field is (or is missing and so reads as) the default's.
fn reads_as_default(item: &Item, default: &Item, ctx: Ctx, key: &str) -> bool {
    match (item.as_table_like(), default.as_table_like(), ctx.child(key)) {
        (Some(t), Some(d), Some(child @ Ctx::Struct(_))) => {
            t.iter().all(|(k, v)| d.get(k).is_some_and(|dv| reads_as_default(v, dv, child, k)))
        }
        _ => same(item, default, ctx, key),
    }
}

/// Whether `a` and `b` read back the same under `key` of a table at `ctx`.
fn same(a: &Item, b: &Item, ctx: Ctx, key: &str) -> bool {
    if let (Some(a), Some(b)) = (a.as_table_like(), b.as_table_like()) {
        let child = ctx.child(key).unwrap_or(ctx);
        return a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| same(v, w, child, k)));
    }
    if let (Some(a), Some(b)) = (a.as_array_of_tables(), b.as_array_of_tables()) {
        let child = ctx.child(key).unwrap_or(ctx);
        return a.len() == b.len()
            && a.iter().zip(b.iter()).all(|(x, y)| {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w, child, k)))
            });
    }
    match (a.as_value(), b.as_value()) {
        (Some(a), Some(b)) => same_value(a, b, ctx, key),
        _ => false,
    }
}

fn same_value(a: &Value, b: &Value, ctx: Ctx, key: &str) -> bool {
    if ctx == Ctx::Values {
        return text_of(a).is_some_and(|t| Some(t) == text_of(b));
    }
    if ctx == Ctx::Struct(Kind::Device) {
        match key {
            "mac" => return a.as_str().and_then(|s| s.parse::<Mac>().ok()) == b.as_str().and_then(|s| s.parse().ok()),
            "model" => {
                return a.as_str().and_then(|s| s.parse::<Model>().ok()) == b.as_str().and_then(|s| s.parse().ok());
            }
            _ => {}
        }
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => x.value() == y.value(),
        (Value::Integer(x), Value::Integer(y)) => x.value() == y.value(),
        (Value::Float(x), Value::Float(y)) => x.value() == y.value(),
        (Value::Boolean(x), Value::Boolean(y)) => x.value() == y.value(),
        (Value::Datetime(x), Value::Datetime(y)) => x.value() == y.value(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(v, w)| same_value(v, w, ctx, key))
        }
        (Value::InlineTable(x), Value::InlineTable(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w, ctx, k)))
        }
        _ => false,
    }
}

/// A setting's value as the site reads it (`Values`' own conversion).
fn text_of(v: &Value) -> Option<String> {
    Some(match v {
        Value::String(s) => s.value().clone(),
        Value::Integer(i) => i.value().to_string(),
        Value::Float(f) => f.value().to_string(),
        Value::Boolean(b) => u8::from(*b.value()).to_string(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{DEMO, Device};

    fn demo() -> Site {
        toml::from_str(DEMO).unwrap()
    }

    /// `text` with `from` (which must occur once) replaced by `to`.
    fn swap(text: &str, from: &str, to: &str) -> String {
        assert_eq!(text.matches(from).count(), 1, "{from:?} once in\n{text}");
        text.replacen(from, to, 1)
    }

    #[test]
    fn an_untouched_site_saves_as_the_same_text() {
        assert_eq!(saved_text(&demo(), Some(DEMO)), DEMO);
        let hand = "# mine\nname = 'Hand'   # single quotes\n\n[defaults]\nP212 = 1\nP271 = true\n\n[models.gxp2170]\nP30 = \"x\"\n";
        let site: Site = toml::from_str(hand).unwrap();
        assert_eq!(saved_text(&site, Some(hand)), hand);
    }

    #[test]
    fn saving_a_hand_commented_site_after_edits_changes_only_the_edited_lines() {
        let mut site = demo();
        site.defaults.set("P1409", "1"); // a line with a comment
        site.defaults.set("P207", "192.168.10.5"); // new: after P194, the last one below it
        site.defaults.set("P8", "0"); // new: before every other
        site.models.get_mut("GXP2170").unwrap().remove("P290");
        site.devices[1].label = "Dr. Rivera-Lopez".into();
        site.devices[2].values.set("P1376", "1");
        site.devices[3].notes.clear(); // back to the default: the line goes
        let mut lobby = Device::new("000b82a1b299".parse().unwrap(), "GXP2170".parse().unwrap());
        lobby.label = "Lobby".into();
        lobby.accounts.push(Account { user_id: "299".into(), ..Account::default() });
        site.devices.push(lobby);
        let saved = saved_text(&site, Some(DEMO));

        let mut want = swap(DEMO, "P1409 = \"0\"                    # keep", "P1409 = \"1\"                    # keep");
        want = swap(&want, "P194 = \"0\"\n", "P194 = \"0\"\nP207 = \"192.168.10.5\"\n");
        want = swap(&want, "[defaults]\n", "[defaults]\nP8 = \"0\"\n");
        want = swap(&want, "P290 = \"{ x+ | *x+ | *xx*x+ }\"\n", "");
        want = swap(&want, "label = \"Dr. Rivera\"", "label = \"Dr. Rivera-Lopez\"");
        want = swap(&want, "P1362 = \"es\"\n", "P1362 = \"es\"\nP1376 = \"1\"\n");
        want = swap(&want, "notes = \"Shared with billing; mount on the wall by the printer.\"\n", "");
        want.push_str("\n[[devices]]\nmac = \"000b82a1b299\"\nmodel = \"GXP2170\"\nlabel = \"Lobby\"\n\n[[devices.accounts]]\nuser_id = \"299\"\n");
        assert_eq!(saved, want);
        assert_eq!(toml::from_str::<Site>(&saved).unwrap(), site);
    }

    #[test]
    fn a_hand_written_model_key_and_value_spellings_are_kept() {
        let hand = "[defaults]\nP212 = 1 # an integer\n\n[models.gxp2170]\nP30 = \"a\"\n\n[[devices]]\nmac = \"00:0B:82:00:00:01\"\nmodel = \"gxp2170\"\n";
        let mut site: Site = toml::from_str(hand).unwrap();
        site.models.get_mut("GXP2170").unwrap().set("P30", "b");
        site.defaults.set("P47", "pbx");
        let saved = saved_text(&site, Some(hand));
        let want = swap(hand, "P30 = \"a\"", "P30 = \"b\"");
        let want = swap(&want, "[defaults]\n", "[defaults]\nP47 = \"pbx\"\n"); // P47 before P212
        assert_eq!(saved, want);
    }

    #[test]
    fn a_site_written_afresh_has_no_empty_fields_and_its_settings_in_numeric_order() {
        let mut site = demo();
        site.defaults = Default::default();
        for k in ["P1409", "P212", "P192", "account.1.sip.server.1.address", "P30"] {
            site.defaults.set(k, "1");
        }
        let text = saved_text(&site, None);
        assert!(text.starts_with(HEADER), "{text}");
        assert!(text.contains("format_version = 1\nname = \"Demo: Maple Street Dental\"\n"), "{text}");
        for empty in ["= \"\"", "= []", "= {}"] {
            assert!(!text.contains(empty), "{empty} in\n{text}");
        }
        assert!(!text.contains("tftp = true") && !text.contains("http_port = 8080"), "defaults left out: {text}");
        assert!(text.contains("tftp_port = 6969"), "{text}");
        let defaults = &text[text.find("[defaults]").unwrap()..];
        let order: Vec<usize> = ["P30 ", "P192", "P212", "P1409", "\"account.1"]
            .iter()
            .map(|k| defaults.find(k).unwrap_or_else(|| panic!("{k} in {defaults}")))
            .collect();
        assert!(order.is_sorted(), "{order:?} in\n{defaults}");
        assert_eq!(toml::from_str::<Site>(&text).unwrap(), site);
        // No old text, or old text that is not TOML: afresh alike.
        assert_eq!(saved_text(&site, Some("not [toml")), text);
    }

    #[test]
    fn a_section_written_at_its_defaults_by_hand_stays_and_goes_only_when_changed() {
        let hand = "name = \"x\"\n\n[firmware]\nallow_downgrade = false # as shipped\n\n[serving]\ntftp = true\n";
        let mut site: Site = toml::from_str(hand).unwrap();
        site.name = "y".into();
        assert_eq!(saved_text(&site, Some(hand)), swap(hand, "\"x\"", "\"y\""));
        site.serving.tftp = false;
        site.firmware.max_transfers = 2;
        let want = swap(hand, "\"x\"", "\"y\"");
        let want = swap(&want, "tftp = true", "tftp = false");
        let want = swap(&want, "# as shipped\n", "# as shipped\nmax_transfers = 2\n");
        assert_eq!(saved_text(&site, Some(hand)), want);
    }

    #[test]
    fn a_reordered_device_list_is_written_afresh_rather_than_wrongly() {
        let mut site = demo();
        site.devices.swap(0, 1);
        let saved = saved_text(&site, Some(DEMO));
        assert_eq!(toml::from_str::<Site>(&saved).unwrap(), site);
    }

    #[derive(Debug, Clone)]
    enum Op {
        SetDefault(u32, String),
        RemoveDefault(usize),
        SetModel(bool, u32, String),
        Label(usize, String),
        Notes(usize, String),
        AddDevice(u32, String),
        RemoveDevice(usize),
        AddAccount(usize, String),
        RemoveAccount(usize),
        TftpPort(u16),
        Tftp(bool),
    }

    fn apply(site: &mut Site, op: Op) {
        let n = site.devices.len();
        match op {
            Op::SetDefault(p, v) => site.defaults.set(format!("P{p}"), v),
            Op::RemoveDefault(i) => {
                if let Some(k) = site.defaults.0.keys().nth(i % site.defaults.0.len().max(1)).cloned() {
                    site.defaults.remove(&k);
                }
            }
            Op::SetModel(ht, p, v) => {
                site.models.get_mut(if ht { "HT802" } else { "GXP2170" }).unwrap().set(format!("P{p}"), v)
            }
            Op::Label(i, v) if n > 0 => site.devices[i % n].label = v,
            Op::Notes(i, v) if n > 0 => site.devices[i % n].notes = v,
            Op::AddDevice(m, label) => {
                let mut d = Device::new(format!("000b82{m:06x}").parse().unwrap(), "GXP2135".parse().unwrap());
                d.label = label;
                site.devices.push(d);
            }
            Op::RemoveDevice(i) if n > 0 => {
                site.devices.remove(i % n);
            }
            Op::AddAccount(i, user) if n > 0 => {
                site.devices[i % n].accounts.push(Account { user_id: user, ..Account::default() })
            }
            Op::RemoveAccount(i) if n > 0 => {
                site.devices[i % n].accounts.pop();
            }
            Op::TftpPort(p) => site.serving.tftp_port = p,
            Op::Tftp(on) => site.serving.tftp = on,
            _ => {}
        }
    }

    fn any_op() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        let text = "[a-zA-Z0-9 .:#'\"\\\\]{0,10}";
        prop_oneof![
            (1u32..3000, text).prop_map(|(p, v)| Op::SetDefault(p, v)),
            any::<usize>().prop_map(Op::RemoveDefault),
            (any::<bool>(), 1u32..3000, text).prop_map(|(h, p, v)| Op::SetModel(h, p, v)),
            (any::<usize>(), text).prop_map(|(i, v)| Op::Label(i, v)),
            (any::<usize>(), text).prop_map(|(i, v)| Op::Notes(i, v)),
            (0u32..0xffffff, text).prop_map(|(m, v)| Op::AddDevice(m, v)),
            any::<usize>().prop_map(Op::RemoveDevice),
            (any::<usize>(), "[0-9]{0,4}").prop_map(|(i, v)| Op::AddAccount(i, v)),
            any::<usize>().prop_map(Op::RemoveAccount),
            any::<u16>().prop_map(Op::TftpPort),
            any::<bool>().prop_map(Op::Tftp),
        ]
    }

    proptest::proptest! {
        /// Any run of edits (that keeps the device order) is written into the
        /// demo's own text (its header comment stays), and reads back as the site.
        #[test]
        fn prop_edits_are_written_in_place_and_read_back(ops in proptest::collection::vec(any_op(), 0..12)) {
            let mut site = demo();
            for op in ops {
                apply(&mut site, op);
            }
            let saved = saved_text(&site, Some(DEMO));
            proptest::prop_assert!(saved.starts_with("# gsprov demo site: a small dental office."), "{}", saved);
            proptest::prop_assert_eq!(toml::from_str::<Site>(&saved).unwrap(), site);
        }
    }
}
