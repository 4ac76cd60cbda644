//! What the Parameters form lists: the settings of one template family (the
//! device's, the model's, or at site level the one picked among the families the
//! site reaches), as a "Bring-up" view of what technicians set on site or as
//! every setting in the template's sections, filtered by a search. The list is
//! built once per (revision, level, family, view, search, open sections) and
//! drawn as fixed-height rows of which only the visible ones are laid out, so a
//! 1,500-setting family costs what a screenful costs.

use std::rc::Rc;

use crate::catalog::{Catalog, Family, FamilyCatalog, Param};
use crate::ids::Model;

/// Which settings the form lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormView {
    /// What a technician sets on site (see [`BRING_UP`]).
    #[default]
    BringUp,
    /// Every setting of the family, in the template's sections.
    All,
}

/// Where the listed settings come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListSource {
    /// One template family's settings.
    Family(Family),
    /// No device or model template yet: the curated catalog (what the site's
    /// check validates against too).
    Curated,
}

impl ListSource {
    fn params(self) -> &'static [Param] {
        match self {
            ListSource::Family(f) => FamilyCatalog::get(f).params(),
            ListSource::Curated => Catalog::get().params(),
        }
    }

    /// Whether the source lists `key` (so it has a field, not a raw row).
    pub fn knows(self, key: &str) -> bool {
        match self {
            ListSource::Family(f) => FamilyCatalog::get(f).get_key(key).is_some(),
            ListSource::Curated => Catalog::get().lookup(key).is_some(),
        }
    }
}

/// The families a level's values reach, each with the site's models that bring
/// it there, in family order (as `Site::check` validates them).
pub type Reach = Vec<(Family, Vec<String>)>;

pub fn reach_of(models: impl IntoIterator<Item = Model>) -> Reach {
    let mut out: Reach = Vec::new();
    for m in models {
        let f = Family::of_model(&m).family;
        match out.iter_mut().find(|(g, _)| *g == f) {
            Some((_, list)) => {
                if !list.iter().any(|x| x == m.as_str()) {
                    list.push(m.as_str().to_string());
                }
            }
            None => out.push((f, vec![m.as_str().to_string()])),
        }
    }
    out.sort_by_key(|(f, _)| *f);
    out
}

pub fn describe_reach(family: Family, models: &[String]) -> String {
    format!("{family} ({})", models.join(", "))
}

/// The groups of the bring-up view, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Accounts,
    Time,
    Admin,
    Provisioning,
    Network,
    Syslog,
    /// Time zone, DHCP time zone override, language: the raw settings until the
    /// region helper's widgets (src/ui/region.rs) take this spot.
    Region,
    /// Programmable keys: the raw settings, by template section, until the keys
    /// grid (src/ui/keys.rs) takes this spot.
    Keys,
}

impl Group {
    const ALL: [Group; 8] = [
        Group::Accounts,
        Group::Time,
        Group::Admin,
        Group::Provisioning,
        Group::Network,
        Group::Syslog,
        Group::Region,
        Group::Keys,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Accounts => "Accounts and ports",
            Group::Time => "Time and NTP",
            Group::Admin => "Admin and user passwords",
            Group::Provisioning => "Provisioning",
            Group::Network => "VLAN and QoS",
            Group::Syslog => "Syslog",
            Group::Region => "Time zone and language",
            Group::Keys => "Programmable keys",
        }
    }
}

/// One bring-up setting: its P-id and words one of which the family's label must
/// contain. A P-id means different things in different families (P35 is the
/// SIP user ID on GXP/GRP/HT80x but "FXS Port" on HT81x), so a pick is shown
/// only where the family's label names it.
pub struct Pick {
    pub group: Group,
    pub pid: u32,
    pub words: &'static [&'static str],
}

const fn pick(group: Group, pid: u32, words: &'static [&'static str]) -> Pick {
    Pick { group, pid, words }
}

/// The bring-up settings. Source: the labels and comments of the public
/// templates in /work/shared/spec/templates/fusionpbx-grandstream/ (e.g.
/// gxp21xx/mac-template.xml: P30 "NTP Server", P2 "Admin password for web
/// interface", P212 "Firmware Upgrade Via", P237 "Config Server Path", P51
/// "Layer 2 QoS. 802.1Q/VLAN Tag", P87 "802.1p priority value", P207 "Syslog
/// Server", P208 "Syslog Level", P1362 language; ht802/mac-template.xml: P342
/// "Language", P271/P47/P35/P36/P34/P3 for FXS port 1), as extracted into
/// assets/catalog/<Family>.json; `bring_up_picks_name_the_same_setting_per_family`
/// checks them per family.
pub const BRING_UP: &[Pick] = &[
    // Account 1 / FXS port 1; at device level the Accounts block edits them.
    pick(Group::Accounts, 271, &["active"]),
    pick(Group::Accounts, 47, &["sip server"]),
    pick(Group::Time, 30, &["ntp", "time"]),
    // gxp21xx/grp26xx: P102 "Date Display Format" (0-4), P122 "Time Display
    // Format" (0 - 12 Hour, 1 - 24 Hour).
    pick(Group::Time, 102, &["date display", "date format"]),
    pick(Group::Time, 122, &["time display", "time format"]),
    pick(Group::Admin, 2, &["admin"]),
    pick(Group::Admin, 196, &["user password"]),
    pick(Group::Provisioning, 212, &["via", "upgrade", "provision"]),
    pick(Group::Provisioning, 237, &["config server"]),
    pick(Group::Provisioning, 192, &["firmware server"]),
    pick(Group::Provisioning, 194, &["automatic"]),
    pick(Group::Provisioning, 193, &["check", "automatic", "interval"]),
    pick(Group::Provisioning, 238, &["firmware", "check"]),
    pick(Group::Provisioning, 145, &["dhcp"]),
    pick(Group::Network, 51, &["vlan", "802.1q", "layer 2 qos"]),
    pick(Group::Network, 87, &["802.1p", "priority", "layer 2 qos"]),
    pick(Group::Network, 38, &["layer 3 qos", "diff"]),
    pick(Group::Syslog, 207, &["syslog"]),
    pick(Group::Syslog, 208, &["syslog"]),
    // GXP21xx/GRP26xx/GXP17xx label P64 by the heading of its option list
    // ("Web GUI Option: Automatic", "auto Automatic"); GXP16xx "Time Zone: Web GUI Option".
    pick(Group::Region, 64, &["time zone", "web gui option", "auto"]),
    pick(Group::Region, 143, &["time zone"]),
    pick(Group::Region, 1362, &["language"]),
    pick(Group::Region, 342, &["language"]),
];

/// The setting a pick names on this source, if the label confirms it.
fn picked(source: ListSource, p: &Pick) -> Option<&'static Param> {
    let key = format!("P{}", p.pid);
    let param = match source {
        ListSource::Family(f) => FamilyCatalog::get(f).get_key(&key)?,
        ListSource::Curated => Catalog::get().lookup(&key)?,
    };
    let label = param.label.to_ascii_lowercase();
    p.words.iter().any(|w| label.contains(w)).then_some(param)
}

/// A programmable-key setting: its template section and label both name a key.
fn is_key_setting(p: &Param) -> bool {
    let s = p.section.to_ascii_lowercase();
    let l = p.label.to_ascii_lowercase();
    (s.contains("key") || s.contains("vpk") || s.contains("mpk")) && (l.contains("key") || s.contains("key "))
}

/// Settings the "Site and provisioning settings" block edits for the whole
/// site (file and firmware prefix/postfix, the XML password): never a field here.
pub const SITE_WIDE: [&str; 5] = ["P232", "P233", "P234", "P235", "P1359"];

/// One row of the form.
#[derive(Debug, Clone)]
pub enum Row {
    /// A section or group header; clicking it opens or closes it.
    Header {
        title: String,
        key: String,
        count: usize,
        open: bool,
    },
    Field(&'static Param),
    Note(String),
}

/// The rows to draw, and counts for the summary line.
#[derive(Debug, Default)]
pub struct List {
    pub rows: Vec<Row>,
    pub fields: usize,
    /// Matches of the search in "All parameters" while the bring-up view shows.
    pub elsewhere: usize,
}

/// What a [`List`] was built for: rebuilt when any of it changes.
#[derive(Debug, Clone, PartialEq)]
pub struct ListKey {
    pub revision: u64,
    pub level: crate::site::Layer,
    pub source: ListSource,
    pub view: FormView,
    pub find: String,
    pub open_generation: u64,
    pub all_open: Option<bool>,
    pub device_level: bool,
}

/// Whether a setting matches the search: label or alias contains it, or it is
/// the P-id (`P30` or `30`; not P300).
pub fn matches_find(p: &Param, find: &str) -> bool {
    if find.is_empty() {
        return true;
    }
    let f = find.to_ascii_lowercase();
    let key = p.key().to_ascii_lowercase();
    p.label.to_ascii_lowercase().contains(&f)
        || key == f
        || key.strip_prefix('p').is_some_and(|n| n == f)
        || p.alias.as_deref().is_some_and(|a| a.to_ascii_lowercase().contains(&f))
}

/// The settings of `source` a form lists (each key once, site-wide ones left out).
fn listable(source: ListSource) -> impl Iterator<Item = &'static Param> {
    let mut seen = std::collections::HashSet::new();
    source.params().iter().filter(move |p| {
        let key = p.key();
        !key.is_empty() && !SITE_WIDE.contains(&key.as_str()) && seen.insert(key)
    })
}

/// One header's worth of rows before it is known whether it is open.
struct Block {
    title: String,
    key: String,
    params: Vec<&'static Param>,
    default_open: bool,
    note: Option<String>,
}

/// Builds the rows. `open(key, default)` says whether a header is open.
pub fn build(key: &ListKey, open: &dyn Fn(&str, bool) -> bool) -> List {
    let find = key.find.trim();
    let searching = !find.is_empty();
    let mut groups: Vec<Block> = Vec::new();
    let mut elsewhere = 0;
    match key.view {
        FormView::All => {
            for p in listable(key.source).filter(|p| matches_find(p, find)) {
                let section = if p.section.is_empty() { "Other settings" } else { p.section.as_str() };
                match groups.iter_mut().find(|g| g.title == section) {
                    Some(g) => g.params.push(p),
                    None => groups.push(Block {
                        title: section.to_string(),
                        key: format!("all/{section}"),
                        params: vec![p],
                        default_open: false,
                        note: None,
                    }),
                }
            }
        }
        FormView::BringUp => {
            let mut shown = std::collections::HashSet::new();
            for group in Group::ALL {
                let mut params: Vec<&'static Param> = match group {
                    Group::Keys => listable(key.source).filter(|p| is_key_setting(p)).collect(),
                    _ => BRING_UP.iter().filter(|p| p.group == group).filter_map(|p| picked(key.source, p)).collect(),
                };
                params.retain(|p| !SITE_WIDE.contains(&p.key().as_str()));
                let note = match group {
                    Group::Accounts if key.device_level => {
                        params.clear();
                        Some("This device's accounts or ports are edited in the block above.".to_string())
                    }
                    Group::Region => Some(
                        "Listed as raw settings for now (time zone, DHCP time zone override, language).".to_string(),
                    ),
                    Group::Keys if !params.is_empty() => {
                        Some("Listed as raw settings, as the template's sections name them.".to_string())
                    }
                    _ => None,
                };
                params.retain(|p| matches_find(p, find));
                shown.extend(params.iter().map(|p| p.key()));
                if params.is_empty() && (searching || note.is_none()) {
                    continue;
                }
                let default_open = group != Group::Keys;
                groups.push(Block {
                    title: group.title().to_string(),
                    key: format!("bring-up/{}", group.title()),
                    params,
                    default_open,
                    note,
                });
            }
            if searching {
                elsewhere = listable(key.source).filter(|p| matches_find(p, find) && !shown.contains(&p.key())).count();
            }
        }
    }
    let mut list = List { elsewhere, ..List::default() };
    for Block { title, key: hkey, params, default_open, note } in groups {
        let is_open = searching || open(&hkey, default_open);
        list.fields += params.len();
        list.rows.push(Row::Header { title, key: hkey, count: params.len(), open: is_open });
        if is_open {
            if let Some(n) = note {
                list.rows.push(Row::Note(n));
            }
            list.rows.extend(params.into_iter().map(Row::Field));
        }
    }
    list
}

/// Draws `n` rows of `row_h` at the cursor, laying out only those inside
/// `viewport` (the scroll area's visible part, in content coordinates), and
/// moves the cursor past all of them.
pub fn rows_ui(
    ui: &mut egui::Ui,
    viewport: egui::Rect,
    n: usize,
    row_h: f32,
    mut row: impl FnMut(&mut egui::Ui, usize),
) {
    let pitch = row_h + ui.spacing().item_spacing.y;
    let top = ui.cursor().top();
    let left = ui.max_rect().left();
    let width = ui.available_width();
    let origin = top - ui.max_rect().top();
    let first = (((viewport.min.y - origin) / pitch).floor().max(0.0) as usize).min(n);
    let last = ((((viewport.max.y - origin) / pitch).ceil().max(0.0) as usize) + 1).min(n);
    for i in first..last {
        let rect = egui::Rect::from_min_size(egui::pos2(left, top + i as f32 * pitch), egui::vec2(width, row_h));
        ui.scope_builder(
            egui::UiBuilder::new()
                .max_rect(rect)
                .id_salt(("form-row", i))
                .layout(egui::Layout::left_to_right(egui::Align::Center)),
            |ui| row(ui, i),
        );
    }
    let total = egui::Rect::from_min_size(
        egui::pos2(left, top),
        egui::vec2(width, (n as f32 * pitch - ui.spacing().item_spacing.y).max(0.0)),
    );
    ui.advance_cursor_after_rect(total);
}

/// The errors of `value` for `key` on each family it reaches, and the families
/// that ignore it (do not know the key), as `Site::check` reports them.
pub fn problems(p: &Param, key: &str, value: &str, reach: &Reach) -> (Vec<String>, Vec<String>) {
    if value.is_empty() {
        return (Vec::new(), Vec::new());
    }
    if reach.len() <= 1 {
        return (p.check(value).err().into_iter().collect(), Vec::new());
    }
    let cat = Catalog::get();
    let (mut errors, mut ignored) = (Vec::new(), Vec::new());
    for (family, models) in reach {
        match cat.lookup_in(*family, key) {
            None => ignored.push(describe_reach(*family, models)),
            Some(q) => {
                // With the label as that family reads the key: it may mean something else there.
                if let Err(e) = q.validate(key, value) {
                    errors.push(format!("on {}: {e}", describe_reach(*family, models)));
                }
            }
        }
    }
    (errors, ignored)
}

/// Cached list with what it was built for.
pub type ListCache = (ListKey, Rc<List>);

#[cfg(test)]
mod tests {
    use super::*;

    fn key(source: ListSource, view: FormView, find: &str) -> ListKey {
        ListKey {
            revision: 0,
            level: crate::site::Layer::Defaults,
            source,
            view,
            find: find.into(),
            open_generation: 0,
            all_open: None,
            device_level: false,
        }
    }

    fn fields(list: &List) -> Vec<String> {
        list.rows.iter().filter_map(|r| if let Row::Field(p) = r { Some(p.key()) } else { None }).collect()
    }

    #[test]
    fn bring_up_picks_name_the_same_setting_per_family() {
        // The phone and ATA families technicians meet most, per the templates
        // (gxp21xx, gxp16xx, grp26xx, ht802, wp820 mac-template.xml).
        for f in [Family::Gxp21xx, Family::Gxp16xx, Family::Grp26xx, Family::Ht80x, Family::Wp8xx] {
            let list = build(&key(ListSource::Family(f), FormView::BringUp, ""), &|_, d| d);
            let got = fields(&list);
            for pid in ["P271", "P47", "P30", "P2", "P212", "P237", "P192", "P207", "P208", "P64"] {
                assert!(got.contains(&pid.to_string()), "{f}: bring-up lacks {pid}: {got:?}");
            }
        }
        for f in [Family::Gxp21xx, Family::Grp26xx, Family::Gxp16xx, Family::Wp8xx] {
            let got = fields(&build(&key(ListSource::Family(f), FormView::BringUp, ""), &|_, d| d));
            for pid in ["P102", "P122"] {
                assert!(got.contains(&pid.to_string()), "{f}: bring-up lacks {pid}: {got:?}");
            }
        }
        // GAC25xx's P122 is labelled "Use" (24 hour format): not confirmed, left out.
        let gac = fields(&build(&key(ListSource::Family(Family::Gac25xx), FormView::BringUp, ""), &|_, d| d));
        assert!(gac.contains(&"P102".to_string()) && !gac.contains(&"P122".to_string()), "{gac:?}");
        // HT81x's P35 is "FXS Port", not a user ID: left out.
        let ht81 = fields(&build(&key(ListSource::Family(Family::Ht81x), FormView::BringUp, ""), &|_, d| d));
        assert!(!ht81.contains(&"P35".to_string()));
        let grp = fields(&build(&key(ListSource::Family(Family::Grp26xx), FormView::BringUp, ""), &|_, d| d));
        assert!(grp.contains(&"P1362".to_string()));
        let ht = fields(&build(&key(ListSource::Family(Family::Ht80x), FormView::BringUp, ""), &|_, d| d));
        assert!(ht.contains(&"P342".to_string()) && ht.contains(&"P51".to_string()));
        // Site-wide settings have their own block.
        assert!(!ht.contains(&"P1359".to_string()));
    }

    #[test]
    fn all_view_has_the_family_sections_and_collapsed_ones_cost_no_rows() {
        let k = key(ListSource::Family(Family::Grp26xx), FormView::All, "");
        let closed = build(&k, &|_, _| false);
        assert!(closed.rows.iter().all(|r| matches!(r, Row::Header { .. })));
        assert!(closed.fields > 1_000, "{}", closed.fields);
        let open = build(&k, &|_, _| true);
        assert_eq!(open.rows.len(), closed.rows.len() + closed.fields);
        assert!(open.rows.iter().any(|r| matches!(r, Row::Header { title, .. } if title == "Maintenance/Syslog")));
    }

    #[test]
    fn search_by_label_pid_and_alias() {
        let k = |find: &str| key(ListSource::Family(Family::Grp26xx), FormView::All, find);
        assert_eq!(fields(&build(&k("P735"), &|_, _| false)), ["P735"]);
        assert_eq!(fields(&build(&k("735"), &|_, _| false)), ["P735"]);
        assert!(fields(&build(&k("100rel"), &|_, _| false)).contains(&"P735".to_string()));
        let by_alias = fields(&build(&k("account.1.sip.server"), &|_, _| false));
        assert!(by_alias.contains(&"P47".to_string()), "{by_alias:?}");
        // Bring-up with a search names how many more "All parameters" has.
        let b = build(&key(ListSource::Family(Family::Grp26xx), FormView::BringUp, "syslog"), &|_, _| false);
        assert!(fields(&b).contains(&"P207".to_string()) && b.elsewhere > 0, "{}", b.elsewhere);
    }

    #[test]
    fn values_are_checked_against_every_family_reached() {
        let reach = reach_of(["HT802", "GAC2500"].map(|m| m.parse::<Model>().unwrap()));
        let p = FamilyCatalog::get(Family::Gac25xx).get_key("P51").unwrap();
        // GAC25xx takes 0-4095 (its template), HT80x 0-4094.
        let (errors, ignored) = problems(p, "P51", "4095", &reach);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("on HT80x (HT802): P51 (") && errors[0].contains("outside 0..4094"),
            "{errors:?}"
        );
        assert!(ignored.is_empty());
        // P1328 (GAC25xx "Ring Timeout (s)") is not in HT80x's template nor curated.
        let bt = FamilyCatalog::get(Family::Gac25xx).get_key("P1328").unwrap();
        let (_, ignored) = problems(bt, "P1328", "room-1", &reach);
        assert_eq!(ignored, ["HT80x (HT802)"]);
    }
}
