//! Time and region per family: the time zone values P64 takes (`auto`,
//! `TZA+12`, POSIX rules such as `CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00`,
//! `customize` for the self-defined rule in P246) and the display languages
//! P1362 takes, each with its meaning, read from the family's catalog entries
//! (their values, written by `examples/catalog_extract.rs` from the template's
//! lists: one truth for the form, the bring-up view, validation and v2
//! translation); and the DHCP overrides P143 (DHCP option 2 over the time
//! zone) and P144 (DHCP option 42 over the NTP server P30) with each family's
//! stated default.
//!
//! The families do not agree: GXP16xx lists `TZA+12` for GMT-12:00 where the
//! GXP21xx v2 and GRP26xx templates list `TAZ+12`; WP8xx languages are
//! `en_US`-style; GXP20xx's P64 is a number (minutes) with no list. Pure.

use std::sync::OnceLock;

use super::ValueKind;
use super::family::Family;
use super::table::FamilyCatalog;

/// One time zone of a family's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    /// What P64 is set to.
    pub value: String,
    /// The UTC offset part of the meaning (`GMT+01:00`, `GMT`); empty for
    /// `auto` and `customize`.
    pub offset: String,
    /// The places (`Roma, Paris, Madrid`), or the whole meaning when it names
    /// no offset (`Automatic`).
    pub place: String,
}

impl Zone {
    /// `GMT+01:00 (Roma, Paris)`, `Automatic`.
    pub fn label(&self) -> String {
        match (self.offset.is_empty(), self.place.is_empty()) {
            (true, _) => self.place.clone(),
            (false, true) => self.offset.clone(),
            (false, false) => format!("{} ({})", self.offset, self.place),
        }
    }

    /// Not a fixed zone: `auto` (automatic) and `customize` (the rule in P246).
    pub fn is_special(&self) -> bool {
        self.offset.is_empty()
    }
}

/// The time zone setting's key as `family` stores it: P64, or on families
/// whose template has only the v2 alias (GHP6xx), the alias.
pub const ZONE_KEYS: [&str; 3] = ["P64", "dateTime.timezone", "datetime.timezone"];
/// The display language setting's keys.
pub const LANGUAGE_KEYS: [&str; 2] = ["P1362", "language.gui"];

/// The values of the first of `keys` that `family`'s catalog lists values for.
fn listed(family: Family, keys: &[&str]) -> &'static [(String, String)] {
    keys.iter()
        .filter_map(|k| FamilyCatalog::get(family).get_key(k))
        .find_map(|p| match &p.kind {
            ValueKind::Enum(codes) => Some(codes.as_slice()),
            _ => None,
        })
        .unwrap_or(&[])
}

/// One family's zones, split for display.
fn zone_lists() -> &'static [Vec<Zone>] {
    static PARSED: OnceLock<Vec<Vec<Zone>>> = OnceLock::new();
    PARSED.get_or_init(|| {
        Family::ALL
            .iter()
            .map(|f| listed(*f, &ZONE_KEYS).iter().map(|(v, m)| zone_of(v.clone(), m)).collect())
            .collect()
    })
}

/// Splits `GMT+01:00 (Roma, Paris)` / `GMT+11:00(Vladivostok)` / `GMT-12:00`.
fn zone_of(value: String, meaning: &str) -> Zone {
    let m = meaning.trim();
    if !m.starts_with("GMT") {
        return Zone { value, offset: String::new(), place: m.to_string() };
    }
    let (offset, place) = match m.find('(') {
        Some(i) => (m[..i].trim(), m[i + 1..].trim_end().trim_end_matches(')').trim()),
        None => (m, ""),
    };
    Zone { value, offset: offset.to_string(), place: place.to_string() }
}

/// The time zones `family`'s catalog lists for P64 (empty: none listed, the
/// value is free text there).
pub fn zones(family: Family) -> &'static [Zone] {
    let i = Family::ALL.iter().position(|f| *f == family).unwrap_or(0);
    zone_lists().get(i).map(Vec::as_slice).unwrap_or(&[])
}

/// The meaning of a P64 value on `family`, when its template lists it.
pub fn zone(family: Family, value: &str) -> Option<&'static Zone> {
    zones(family).iter().find(|z| z.value == value.trim())
}

/// The display languages (`code`, `name`) `family`'s catalog lists for P1362.
pub fn languages(family: Family) -> &'static [(String, String)] {
    listed(family, &LANGUAGE_KEYS)
}

/// A DHCP option that can override what the technician set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpOverride {
    /// `P143` or `P144`.
    pub key: &'static str,
    /// The settings it overrides (`P64`/`P246`, `P30`).
    pub guards: &'static [&'static str],
    /// `DHCP option 2 (time offset)`.
    pub option: &'static str,
    /// `time zone`.
    pub what: &'static str,
}

/// P143 (DHCP option 2 over the time zone P64/P246) and P144 (DHCP option 42
/// over the NTP server P30): the labels of every family's template.
pub const DHCP_OVERRIDES: [DhcpOverride; 2] = [
    DhcpOverride { key: "P143", guards: &["P64", "P246"], option: "DHCP option 2", what: "time zone" },
    DhcpOverride { key: "P144", guards: &["P30"], option: "DHCP option 42", what: "NTP server" },
];

/// What a family's template says P143/P144 default to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideDefault {
    /// "Default is 1": DHCP wins unless the site sets 0.
    On,
    /// "Default is 0" / "No".
    Off,
    /// The family has the setting, but its template states no default.
    Unstated,
    /// The family's template has no such setting.
    Absent,
}

/// The default of `key` (`P143`/`P144`) on `family`, from its template facts.
pub fn override_default(family: Family, key: &str) -> OverrideDefault {
    match FamilyCatalog::get(family).get_key(key) {
        None => OverrideDefault::Absent,
        Some(p) => match p.default.trim() {
            "1" => OverrideDefault::On,
            "0" => OverrideDefault::Off,
            _ => OverrideDefault::Unstated,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_entries_keep_each_familys_spelling() {
        // gxp16xx template: "GMT-12:00 (International Date Line West)  TZA+12";
        // gxp2170 and grp26xx: "... TAZ+12".
        assert_eq!(zones(Family::Gxp16xx).iter().find(|z| z.offset == "GMT-12:00").unwrap().value, "TZA+12");
        assert_eq!(zones(Family::Gxp21xx).iter().find(|z| z.offset == "GMT-12:00").unwrap().value, "TAZ+12");
        // ht802 template: <value=CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00> GMT+01:00 (Roma, Paris, ...).
        let cet = zone(Family::Ht80x, "CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00").unwrap();
        assert_eq!(cet.offset, "GMT+01:00");
        assert!(cet.place.starts_with("Roma, Paris"), "{cet:?}");
        for f in [Family::Gxp16xx, Family::Gxp21xx, Family::Gxp14xx, Family::Gxp17xx, Family::Grp26xx] {
            assert_eq!(zone(f, "auto").map(|z| z.place.as_str()), Some("Automatic"), "{f}");
            assert!(zone(f, "customize").is_some(), "{f}");
            assert!(zones(f).len() > 40, "{f}: {}", zones(f).len());
        }
        // gxp20xx: "Time Zone. Offset in minutes to GMT", no list.
        assert!(zones(Family::Gxp20xx).is_empty());
        // Languages: gxp16xx "en - English ... auto - Automatic"; wp820 "en_US"-style codes.
        assert!(languages(Family::Gxp16xx).iter().any(|(c, n)| c == "en" && n == "English"));
        assert!(languages(Family::Gxp16xx).iter().any(|(c, _)| c == "auto"));
        assert!(languages(Family::Wp8xx).iter().any(|(c, _)| c == "en_US"), "{:?}", languages(Family::Wp8xx));
    }

    /// The defaults as the templates state them ("Default is 1" etc.): gxp16xx,
    /// gxp17xx, gxp1450, gxp116x, wp820 P143 = 1; gxv3240, gac2500 P143 = 0;
    /// P144 = 1 on GXP21xx/16xx/17xx/14xx/11xx, WP8xx, GXV, GAC25xx; 0 on GXP20xx,
    /// GRP26xx, HT70x/80x/81x ("Default is No"), DP71x.
    #[test]
    fn dhcp_override_defaults_per_family() {
        use OverrideDefault::*;
        for f in [Family::Gxp16xx, Family::Gxp17xx, Family::Gxp14xx, Family::Gxp11xx, Family::Wp8xx] {
            assert_eq!(override_default(f, "P143"), On, "{f}");
            assert_eq!(override_default(f, "P144"), On, "{f}");
        }
        assert_eq!(override_default(Family::Gxv, "P143"), Off);
        assert_eq!(override_default(Family::Gac25xx, "P143"), Off);
        assert_eq!(override_default(Family::Gxp21xx, "P144"), On);
        assert_eq!(override_default(Family::Gxp21xx, "P143"), Unstated);
        for f in [Family::Ht80x, Family::Ht70x, Family::Ht81x, Family::Grp26xx, Family::Gxp20xx, Family::Dp71x] {
            assert_eq!(override_default(f, "P144"), Off, "{f}");
        }
        assert_eq!(override_default(Family::Gxw42xx, "P143"), Absent);
    }
}
