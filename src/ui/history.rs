//! Undo and redo of site edits (issue 27 item 12): every edit passes through
//! [`super::Doc::edit`], which hands the site after it to [`History::record`];
//! the history keeps the site as it was before, named for the Edit menu
//! ("delete device 00:0B:82:A1:B2:01", "edit P30 on model GXP2170").
//!
//! Why not `egui::util::undoer::Undoer`: it is fed the whole state every frame
//! and compares it (a 1,000-device site, 60 times a second, with ~0 CPU idle
//! as a goal), it needs frames to keep running to notice that typing stopped,
//! and its entries carry no name for "Undo delete device …". Its idea is kept:
//! edits of the same thing within [`COALESCE`] of each other are one step, so
//! typing a value is undone as a whole, not letter by letter.
//!
//! Whether the site is unsaved is not tracked here: [`super::Doc`] compares the
//! site with the saved one after every edit, an undo included, so undoing back
//! to what was saved is "all changes saved" again.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use crate::ids::Mac;
use crate::site::{Device, Site, Values};

/// Edits of the same thing closer together than this are one undo step.
pub const COALESCE: Duration = Duration::from_millis(1500);
/// Steps kept; the oldest go first.
pub const MAX_STEPS: usize = 100;
/// Devices kept in all the steps' sites together, so that a 1,000-device
/// site keeps 20 steps rather than 100 copies of itself (the oldest go first;
/// the last step is always kept).
pub const MAX_DEVICES_KEPT: usize = 20_000;

struct Step {
    /// The site on the other side of this step (before it, on the undo stack;
    /// after it, on the redo stack).
    site: Site,
    what: String,
    /// When the step last grew; `None` once it may not grow any more (an
    /// explicitly named edit, or after an undo).
    open_since: Option<Instant>,
}

/// The undo and redo stacks of one open site.
pub struct History {
    undos: Vec<Step>,
    redos: Vec<Step>,
    /// The site as the last edit left it: what the next edit changes.
    base: Site,
}

impl History {
    pub fn new(site: &Site) -> History {
        History { undos: Vec::new(), redos: Vec::new(), base: site.clone() }
    }

    /// Records that the site became `after`, by an edit named `what` (named
    /// from the change itself when `None`). Unnamed edits of the same thing
    /// coalesce; an edit that changed nothing records nothing.
    pub fn record(&mut self, after: &Site, what: Option<String>, now: Instant) {
        if *after == self.base {
            return;
        }
        let named = what.is_some();
        let what = what.unwrap_or_else(|| describe(&self.base, after));
        self.redos.clear();
        if !named
            && let Some(top) = self.undos.last_mut()
            && top.what == what
            && top.open_since.is_some_and(|t| now.saturating_duration_since(t) < COALESCE)
        {
            top.open_since = Some(now);
            self.base = after.clone();
            return;
        }
        let before = std::mem::replace(&mut self.base, after.clone());
        self.undos.push(Step { site: before, what, open_since: (!named).then_some(now) });
        let kept = |steps: &[Step]| steps.iter().map(|s| s.site.devices.len()).sum::<usize>();
        while self.undos.len() > 1
            && (self.undos.len() > MAX_STEPS || kept(&self.undos) + kept(&self.redos) > MAX_DEVICES_KEPT)
        {
            self.undos.remove(0);
        }
    }

    /// What Undo would undo.
    pub fn undo_name(&self) -> Option<&str> {
        self.undos.last().map(|s| s.what.as_str())
    }

    /// What Redo would redo.
    pub fn redo_name(&self) -> Option<&str> {
        self.redos.last().map(|s| s.what.as_str())
    }

    /// Puts `site` back as it was before the last step; returns that step's name.
    pub fn undo(&mut self, site: &mut Site) -> Option<String> {
        let step = self.undos.pop()?;
        let after = std::mem::replace(site, step.site);
        self.base = site.clone();
        self.redos.push(Step { site: after, what: step.what.clone(), open_since: None });
        Some(step.what)
    }

    /// Does the last undone step again; returns its name.
    pub fn redo(&mut self, site: &mut Site) -> Option<String> {
        let step = self.redos.pop()?;
        let before = std::mem::replace(site, step.site);
        self.base = site.clone();
        self.undos.push(Step { site: before, what: step.what.clone(), open_since: None });
        Some(step.what)
    }
}

/// The words for one MAC, as the Devices table shows it.
fn mac_words(mac: &Mac) -> String {
    mac.colon()
}

/// Names the change from `before` to `after` for the Edit menu, from the part
/// of the site that changed: devices added or deleted, one device's fields,
/// one value on one layer, or a settings group.
pub fn describe(before: &Site, after: &Site) -> String {
    // Compared first, without building anything: most edits leave the devices alone.
    if before.devices != after.devices {
        return describe_devices(before, after);
    }
    if before.defaults != after.defaults {
        return describe_values(&before.defaults, &after.defaults, "in the site defaults");
    }
    if before.models != after.models {
        let names: BTreeSet<&String> = before.models.keys().chain(after.models.keys()).collect();
        let empty = Values::default();
        let touched: Vec<&String> =
            names.into_iter().filter(|n| before.models.get(*n) != after.models.get(*n)).collect();
        if let [name] = touched.as_slice() {
            let (b, a) = (before.models.get(*name).unwrap_or(&empty), after.models.get(*name).unwrap_or(&empty));
            return describe_values(b, a, &format!("on model {name}"));
        }
        return format!("edit {} model templates", touched.len());
    }
    if before.name != after.name {
        return format!("rename the site to \"{}\"", after.name);
    }
    if before.serving != after.serving {
        return "edit the server settings".into();
    }
    if before.provisioning != after.provisioning {
        return "edit the provisioning settings".into();
    }
    if before.firmware != after.firmware {
        return "edit the firmware policy".into();
    }
    if before.phonebook != after.phonebook {
        return "edit the phonebook".into();
    }
    "edit the site".into()
}

/// The devices differ: which were added, deleted or edited.
fn describe_devices(before: &Site, after: &Site) -> String {
    let macs = |s: &Site| s.devices.iter().map(|d| d.mac).collect::<BTreeSet<Mac>>();
    let (was, now) = (macs(before), macs(after));
    let gone: Vec<&Mac> = was.difference(&now).collect();
    let new: Vec<&Mac> = now.difference(&was).collect();
    match (gone.as_slice(), new.as_slice()) {
        ([], []) => {}
        ([m], []) => return format!("delete device {}", mac_words(m)),
        (g, []) => return format!("delete {} devices", g.len()),
        ([], [m]) => return format!("add device {}", mac_words(m)),
        ([], n) => return format!("add {} devices", n.len()),
        (g, n) => return format!("add {} and delete {} devices", n.len(), g.len()),
    }
    fn by_mac(s: &Site) -> BTreeMap<Mac, &Device> {
        s.devices.iter().map(|d| (d.mac, d)).collect()
    }
    let (old, cur) = (by_mac(before), by_mac(after));
    let changed: Vec<(&Device, &Device)> =
        cur.iter().filter_map(|(m, d)| old.get(m).filter(|o| **o != *d).map(|o| (*o, *d))).collect();
    if let [(o, d)] = changed.as_slice() {
        return describe_device(o, d);
    }
    if changed.len() > 1 {
        return format!("edit {} devices", changed.len());
    }
    "reorder the devices".into()
}

fn describe_device(before: &Device, after: &Device) -> String {
    let mac = mac_words(&after.mac);
    if before.values != after.values {
        return describe_values(&before.values, &after.values, &format!("on device {mac}"));
    }
    if before.accounts != after.accounts {
        let n = before.accounts.len().max(after.accounts.len());
        let which: Vec<usize> = (0..n).filter(|i| before.accounts.get(*i) != after.accounts.get(*i)).collect();
        return match which.as_slice() {
            [i] => format!("edit account {} of {mac}", i + 1),
            _ => format!("edit the accounts of {mac}"),
        };
    }
    let field = if before.label != after.label {
        "label"
    } else if before.model != after.model {
        "model"
    } else if before.location != after.location {
        "location"
    } else if before.notes != after.notes {
        "notes"
    } else {
        "details"
    };
    format!("edit the {field} of {mac}")
}

/// One key set, changed or reset; or how many.
fn describe_values(before: &Values, after: &Values, place: &str) -> String {
    let keys: BTreeSet<&String> = before.0.keys().chain(after.0.keys()).collect();
    let touched: Vec<&String> = keys.into_iter().filter(|k| before.0.get(*k) != after.0.get(*k)).collect();
    match touched.as_slice() {
        [k] if !after.0.contains_key(*k) => format!("reset {k} {place}"),
        [k] => format!("edit {k} {place}"),
        ks => format!("edit {} values {place}", ks.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64, t0: Instant) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn typing_is_one_step_and_a_pause_starts_another() {
        let t0 = Instant::now();
        let mut site = crate::site::demo();
        let saved = site.clone();
        let mut h = History::new(&site);
        for (i, v) in ["n", "nt", "ntp"].into_iter().enumerate() {
            site.defaults.set("P30", v);
            h.record(&site, None, at(200 * i as u64, t0));
        }
        assert_eq!(h.undo_name(), Some("edit P30 in the site defaults"));
        let typed = site.clone();
        // Typed again after a pause: a second step.
        site.defaults.set("P30", "ntp2");
        h.record(&site, None, at(400 + COALESCE.as_millis() as u64, t0));
        assert_eq!(h.undo(&mut site).as_deref(), Some("edit P30 in the site defaults"));
        assert_eq!(site, typed);
        assert_eq!(h.undo(&mut site).as_deref(), Some("edit P30 in the site defaults"));
        assert_eq!(site, saved, "the whole word is undone in one step");
        assert_eq!(h.undo(&mut site), None);
        assert_eq!(h.redo(&mut site).as_deref(), Some("edit P30 in the site defaults"));
        assert_eq!(site, typed);
    }

    #[test]
    fn named_edits_never_merge_and_a_new_edit_drops_the_redos() {
        let t0 = Instant::now();
        let mut site = crate::site::demo();
        let mut h = History::new(&site);
        let first = site.devices[0].mac;
        site.devices.remove(0);
        h.record(&site, Some(format!("delete device {}", first.colon())), t0);
        site.devices.remove(0);
        h.record(&site, Some("delete device X".into()), t0);
        assert_eq!(h.undo_name(), Some("delete device X"));
        h.undo(&mut site);
        assert_eq!(h.redo_name(), Some("delete device X"));
        site.name = "Other".into();
        h.record(&site, None, t0);
        assert_eq!(h.redo_name(), None, "a new edit after an undo drops what could be redone");
        assert_eq!(h.undo_name(), Some("rename the site to \"Other\""));
        h.undo(&mut site);
        assert_eq!(h.undo(&mut site), Some(format!("delete device {}", first.colon())));
        assert!(site.device(first).is_some());
    }

    #[test]
    fn an_undone_step_does_not_swallow_the_next_edit() {
        let t0 = Instant::now();
        let mut site = crate::site::demo();
        let mut h = History::new(&site);
        site.defaults.set("P30", "a");
        h.record(&site, None, t0);
        h.undo(&mut site);
        h.redo(&mut site);
        site.defaults.set("P30", "ab");
        h.record(&site, None, at(10, t0));
        h.undo(&mut site);
        assert_eq!(site.defaults.get("P30"), Some("a"), "the redone step stays its own step");
    }

    #[test]
    fn names_say_what_changed() {
        let site = crate::site::demo();
        let mac = site.devices[0].mac;
        let mut b = site.clone();
        b.devices[0].label = "Lobby".into();
        assert_eq!(describe(&site, &b), format!("edit the label of {}", mac.colon()));
        let mut c = site.clone();
        c.devices[0].values.set("P30", "x");
        assert_eq!(describe(&site, &c), format!("edit P30 on device {}", mac.colon()));
        let model = site.devices[0].model.to_string();
        let mut d = site.clone();
        d.models.entry(model.clone()).or_default().set("P64", "x");
        assert_eq!(describe(&site, &d), format!("edit P64 on model {model}"));
        let mut e = site.clone();
        e.devices.truncate(1);
        assert_eq!(describe(&site, &e), format!("delete {} devices", site.devices.len() - 1));
        let mut f = site.clone();
        f.serving.http_port = 1;
        assert_eq!(describe(&site, &f), "edit the server settings");
    }

    #[test]
    fn at_most_max_steps_are_kept() {
        let t0 = Instant::now();
        let mut site = Site::default();
        let mut h = History::new(&site);
        for i in 0..MAX_STEPS + 5 {
            site.name = format!("n{i}");
            h.record(&site, Some(format!("step {i}")), t0);
        }
        let mut n = 0;
        while h.undo(&mut site).is_some() {
            n += 1;
        }
        assert_eq!(n, MAX_STEPS);
        assert_eq!(site.name, "n4");
    }

    #[test]
    fn a_big_site_keeps_fewer_copies_of_itself() {
        let t0 = Instant::now();
        let mut site = Site::default();
        let mac = |i: usize| format!("000b82{i:06x}").parse().unwrap();
        for i in 0..1000 {
            site.devices.push(Device::new(mac(i), "GXP2170".parse().unwrap()));
        }
        let mut h = History::new(&site);
        for i in 0..50 {
            site.name = format!("n{i}");
            h.record(&site, Some(format!("step {i}")), t0);
        }
        let mut n = 0;
        while h.undo(&mut site).is_some() {
            n += 1;
        }
        assert_eq!(n, MAX_DEVICES_KEPT / 1000);
        assert_eq!(site.name, "n29");
    }
}
