//! One family's settings, keyed by P-id and alias: the extracted template facts
//! (`assets/catalog/<family>.json`, compiled in) with the hand-curated catalog
//! laid over them where it knows better (value shapes such as host:port and
//! server paths, notes, aliases). Pure; parsed on first use of a family.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::asset::{FamilyAsset, Setting};
use super::family::Family;
use super::{Catalog, Param, ValueError, ValueKind, check_value};
use crate::ids::PId;

/// The compiled-in asset of a family.
fn asset_json(f: Family) -> &'static str {
    match f {
        Family::Gxp21xx => include_str!("../../assets/catalog/GXP21xx.json"),
        Family::Gxp16xx => include_str!("../../assets/catalog/GXP16xx.json"),
        Family::Gxp17xx => include_str!("../../assets/catalog/GXP17xx.json"),
        Family::Gxp14xx => include_str!("../../assets/catalog/GXP14xx.json"),
        Family::Gxp11xx => include_str!("../../assets/catalog/GXP11xx.json"),
        Family::Gxp20xx => include_str!("../../assets/catalog/GXP20xx.json"),
        Family::Grp26xx => include_str!("../../assets/catalog/GRP26xx.json"),
        Family::Ht50x => include_str!("../../assets/catalog/HT50x.json"),
        Family::Ht70x => include_str!("../../assets/catalog/HT70x.json"),
        Family::Ht80x => include_str!("../../assets/catalog/HT80x.json"),
        Family::Ht81x => include_str!("../../assets/catalog/HT81x.json"),
        Family::Wp8xx => include_str!("../../assets/catalog/WP8xx.json"),
        Family::Dp75x => include_str!("../../assets/catalog/DP75x.json"),
        Family::Dp71x => include_str!("../../assets/catalog/DP71x.json"),
        Family::Gxw40xx => include_str!("../../assets/catalog/GXW40xx.json"),
        Family::Gxw42xx => include_str!("../../assets/catalog/GXW42xx.json"),
        Family::Gxv => include_str!("../../assets/catalog/GXV.json"),
        Family::Gac25xx => include_str!("../../assets/catalog/GAC25xx.json"),
        Family::Ghp6xx => include_str!("../../assets/catalog/GHP6xx.json"),
    }
}

/// Where a family's facts came from: template folder and firmware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub folder: String,
    pub firmware: String,
    pub xml: u8,
}

/// One family's settings.
#[derive(Debug)]
pub struct FamilyCatalog {
    family: Family,
    templates: Vec<Source>,
    params: Vec<Param>,
    by_id: HashMap<PId, usize>,
    by_alias: HashMap<String, usize>,
}

impl FamilyCatalog {
    /// The compiled-in catalog of `family`, parsed on first use.
    pub fn get(family: Family) -> &'static FamilyCatalog {
        static TABLES: [OnceLock<FamilyCatalog>; Family::ALL.len()] = [const { OnceLock::new() }; Family::ALL.len()];
        let i = Family::ALL.iter().position(|f| *f == family).unwrap_or(0);
        TABLES[i].get_or_init(|| {
            FamilyCatalog::parse(asset_json(family), Catalog::get())
                .expect("assets/catalog/*.json are valid (checked by a unit test)")
        })
    }

    fn parse(json: &str, curated: &Catalog) -> Result<FamilyCatalog, String> {
        let asset: FamilyAsset = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let templates: Vec<Source> = asset
            .templates
            .iter()
            .map(|t| Source { folder: t.folder.clone(), firmware: t.firmware.clone(), xml: t.xml })
            .collect();
        let family = asset.family;
        let params: Vec<Param> = asset.settings.into_iter().map(|s| param_of(family, &templates, s, curated)).collect();
        let mut by_id = HashMap::with_capacity(params.len());
        let mut by_alias = HashMap::with_capacity(params.len());
        for (i, p) in params.iter().enumerate() {
            if let Some(id) = p.id {
                by_id.entry(id).or_insert(i);
            }
            if let Some(a) = &p.alias {
                by_alias.entry(a.clone()).or_insert(i);
            }
        }
        Ok(FamilyCatalog { family, templates, params, by_id, by_alias })
    }

    pub fn family(&self) -> Family {
        self.family
    }

    /// The templates the facts came from, first one first.
    pub fn templates(&self) -> &[Source] {
        &self.templates
    }

    /// Every setting, in P-id order, then alias-only settings.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// The setting stored under `key` (`P47` or an alias) as this family reads it.
    pub fn get_key(&self, key: &str) -> Option<&Param> {
        match key.parse::<PId>() {
            Ok(id) => self.by_id.get(&id).map(|&i| &self.params[i]),
            Err(_) => self.by_alias.get(key).map(|&i| &self.params[i]),
        }
    }
}

/// Builds the form/validation view of one extracted setting.
fn param_of(family: Family, templates: &[Source], s: Setting, curated: &Catalog) -> Param {
    let id = s.p.map(PId::new);
    let ranges: Vec<(i64, i64)> = s.r.iter().map(|[a, b]| (*a, *b)).collect();
    let codes: Vec<(String, String)> = s.e.iter().map(|[c, m]| (c.clone(), m.clone())).collect();
    let mut kind = match s.t.as_str() {
        "password" => ValueKind::Password,
        // 0/1 that mean something other than off/on (P122 "12 Hour"/"24 Hour",
        // P133 "Fixed"/"Adaptive"): a choice of two, shown and written as such.
        "bool" if !is_off_on(&codes) => ValueKind::Enum(codes.clone()),
        "bool" => ValueKind::Bool,
        "enum" if !codes.is_empty() => ValueKind::Enum(codes.clone()),
        "enum" | "int" => match (ranges.iter().map(|r| r.0).min(), ranges.iter().map(|r| r.1).max()) {
            (Some(min), Some(max)) => ValueKind::Int { min, max },
            _ if s.t == "int" => ValueKind::Int { min: i64::MIN, max: i64::MAX },
            _ => ValueKind::Text { max_len: None },
        },
        _ => ValueKind::Text { max_len: s.len.map(|n| n as usize) },
    };
    let mut notes = String::new();
    let mut alias = s.a.clone();
    let label = s.l.clone();
    // The curated catalog knows value shapes the templates only call "String".
    if let Some(c) = id.and_then(|id| curated.by_id(id))
        && curated_applies(c, family)
        && labels_close(&c.label, &s.l)
    {
        if matches!(c.kind, ValueKind::Host | ValueKind::ServerPath | ValueKind::Password)
            && matches!(kind, ValueKind::Text { .. } | ValueKind::Password)
        {
            kind = c.kind.clone();
        }
        // Codes the curated row documents for newer firmware (P212 3=FTP, 4=FTPS;
        // P194's schedules, which v2 templates list as words) are accepted too.
        // The label stays the family's own: the curated one is written for
        // several families at once.
        if matches!(kind, ValueKind::Bool)
            && let ValueKind::Enum(more) = &c.kind
            && more.len() > 2
            && more.iter().any(|(k, _)| k == "0")
            && more.iter().any(|(k, _)| k == "1")
        {
            kind = ValueKind::Enum(codes.clone());
        }
        if let (ValueKind::Enum(own), ValueKind::Enum(more)) = (&mut kind, &c.kind) {
            for (code, meaning) in more {
                if !own.iter().any(|(k, _)| k == code) {
                    own.push((code.clone(), meaning.clone()));
                }
            }
            own.sort_by_key(|(k, _)| k.parse::<i64>().unwrap_or(i64::MAX));
        }
        notes = c.notes.clone();
        if alias.is_none() && family.reads_aliases() {
            alias = c.alias.clone();
        }
    }
    let allowed = describe_allowed(&kind, &ranges, s.len);
    let src = templates.get(usize::from(s.src));
    Param {
        id,
        alias,
        label,
        section: s.s,
        kind,
        allowed,
        default: s.d.unwrap_or_default(),
        families: family.name().to_string(),
        notes,
        ranges: if ranges.len() > 1 { ranges } else { Vec::new() },
        words: s.w.into_iter().map(|[c, w]| (c, w)).collect(),
        mandatory: s.m,
        source: src.map(|t| format!("{} {}", t.folder, t.firmware)).unwrap_or_default(),
        alias_from_other_family: s.pi,
    }
}

/// Whether 0/1 meanings are off/on (`No`, `Yes (default)`, `Disabled`): a
/// switch. No meanings at all count as a switch too.
fn is_off_on(codes: &[(String, String)]) -> bool {
    const WORDS: [&str; 10] = ["no", "yes", "off", "on", "disabled", "enabled", "disable", "enable", "false", "true"];
    codes.iter().all(|(_, m)| {
        let first: String = m.trim().chars().take_while(char::is_ascii_alphabetic).collect();
        WORDS.contains(&first.to_ascii_lowercase().as_str())
    })
}

/// Whether a curated row speaks of the same setting on this family: its family
/// wording covers a model of the family.
fn curated_applies(c: &Param, family: Family) -> bool {
    family.models().first().and_then(|m| m.parse().ok()).is_some_and(|m| c.applies_to(&m))
}

/// The curated and the template label name the same thing (one word in common
/// suffices; P735 "port 2 user ID" and "Enable 100rel" share none).
pub(super) fn labels_close(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_ascii_lowercase)
            .filter(|w| !["the", "and", "for", "via", "account"].contains(&w.as_str()))
            .collect()
    };
    let wb = words(b);
    b.is_empty() || words(a).iter().any(|w| wb.contains(w))
}

fn describe_allowed(kind: &ValueKind, ranges: &[(i64, i64)], len: Option<u32>) -> String {
    match kind {
        ValueKind::Enum(codes) => codes.iter().map(|(c, m)| format!("{c}={m}")).collect::<Vec<_>>().join(" "),
        ValueKind::Bool => "0/1".into(),
        ValueKind::Int { min, max } if *min == i64::MIN => String::new(),
        ValueKind::Int { .. } if ranges.len() > 1 => ranges
            .iter()
            .map(|(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
            .collect::<Vec<_>>()
            .join(", "),
        ValueKind::Int { min, max } => format!("{min}-{max}"),
        ValueKind::Text { .. } | ValueKind::Password => len.map(|n| format!("max {n} characters")).unwrap_or_default(),
        ValueKind::Host => "host[:port]".into(),
        ValueKind::ServerPath => "host[:port][/path], no scheme".into(),
    }
}

impl Param {
    /// Checks a value against this setting's kind and, for integers listed as
    /// several ranges (`0, 1, 10-21`), against those ranges.
    pub fn check(&self, value: &str) -> Result<(), String> {
        check_value(&self.kind, value)?;
        if self.ranges.len() > 1
            && !value.is_empty()
            && matches!(self.kind, ValueKind::Int { .. })
            && let Ok(n) = value.parse::<i64>()
            && !self.ranges.iter().any(|(a, b)| (*a..=*b).contains(&n))
        {
            return Err(format!("{n} is not one of {}", self.allowed));
        }
        Ok(())
    }

    /// A [`ValueError`] for `key` if `value` does not fit.
    pub fn validate(&self, key: &str, value: &str) -> Result<(), ValueError> {
        self.check(value).map_err(|problem| ValueError { key: key.to_string(), label: self.label.clone(), problem })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_asset_parses_and_names_its_family() {
        for f in Family::ALL {
            let t = FamilyCatalog::parse(asset_json(f), Catalog::get()).unwrap();
            assert_eq!(t.family(), f);
            assert!(!t.templates().is_empty(), "{f}");
            assert!(t.params().len() > 200, "{f}: {}", t.params().len());
        }
    }

    /// P102/P122 as the templates list them: gxp21xx/grp26xx "0: yyyy-mm-dd
    /// eg. 2011-10-31 ... 4: MMMM dd, dddd" (the examples are no codes), grp26xx
    /// "Time Display Format. 0 - 12 Hour, 1 - 24 Hour", grp2612 v2 "12Hour,
    /// 24Hour". A 0/1 whose meanings are not off/on is a choice, not a switch,
    /// and its v2 value is never Yes/No (gxp21xx P1650 "0 - HTTPS, 1 - HTTP").
    #[test]
    fn date_and_time_formats_are_choices_with_the_template_codes() {
        let codes = |f: Family, k: &str| match &FamilyCatalog::get(f).get_key(k).unwrap().kind {
            ValueKind::Enum(c) => c.iter().map(|(c, m)| format!("{c}={m}")).collect::<Vec<_>>(),
            other => panic!("{f} {k}: {other:?}"),
        };
        for f in [Family::Gxp21xx, Family::Grp26xx, Family::Gxp16xx] {
            assert_eq!(
                codes(f, "P102"),
                ["0=yyyy-mm-dd", "1=mm-dd-yyyy", "2=dd-mm-yyyy", "3=dddd, MMMM dd", "4=MMMM dd, dddd"],
                "{f}"
            );
        }
        assert_eq!(codes(Family::Grp26xx, "P122"), ["0=12 Hour", "1=24 Hour"]);
        let p122 = FamilyCatalog::get(Family::Grp26xx).get_key("P122").unwrap();
        assert_eq!(p122.alias_value("1"), "24Hour");
        assert!(p122.check("2").is_err());
        let p1650 = FamilyCatalog::get(Family::Gxp21xx).get_key("P1650").unwrap();
        assert!(matches!(p1650.kind, ValueKind::Enum(_)), "{:?}", p1650.kind);
        assert_eq!(p1650.alias_value("0"), "0");
        // A real switch stays one.
        let p735 = FamilyCatalog::get(Family::Grp26xx).get_key("P735").unwrap();
        assert_eq!(p735.kind, ValueKind::Bool);
    }

    #[test]
    fn p735_means_different_things_per_family() {
        let ht = FamilyCatalog::get(Family::Ht80x).get_key("P735").unwrap();
        let grp = FamilyCatalog::get(Family::Grp26xx).get_key("P735").unwrap();
        assert_eq!(ht.label, "SIP User ID");
        assert_eq!(grp.label, "Enable 100rel");
        assert!(ht.check("1001").is_ok());
        assert_eq!(grp.kind, ValueKind::Bool);
        assert!(grp.check("1001").unwrap_err().contains("not 0 (off) or 1 (on)"));
        assert!(grp.check("1").is_ok());
    }

    #[test]
    fn curated_shapes_and_ranges_apply() {
        let gxp = FamilyCatalog::get(Family::Gxp21xx);
        let p47 = gxp.get_key("P47").unwrap();
        assert_eq!(p47.kind, ValueKind::Host, "the curated host:port shape wins over 'String'");
        assert!(p47.check("10.0.0.300").is_err());
        assert_eq!(gxp.get_key("P237").unwrap().kind, ValueKind::ServerPath);
        // Line key mode: codes 0, 1, 10-21 only (template: "Number: 0, 1, 10-21").
        let mode = gxp.get_key("P1363").unwrap();
        assert!(mode.check("11").is_ok());
        assert!(mode.check("5").is_err());
        let ht = FamilyCatalog::get(Family::Ht80x);
        let vlan = ht.get_key("P51").unwrap();
        assert_eq!(vlan.kind, ValueKind::Int { min: 0, max: 4094 });
        assert!(vlan.check("4095").unwrap_err().contains("outside 0..4094"));
        assert_eq!(ht.templates()[0], Source { folder: "ht802".into(), firmware: "1.0.10.6".into(), xml: 1 });
    }

    #[test]
    fn family_catalog_loads_fast() {
        // The whole set, parsed from scratch (start-up parses only what it uses).
        let t0 = std::time::Instant::now();
        let mut n = 0;
        for f in Family::ALL {
            n += FamilyCatalog::parse(asset_json(f), Catalog::get()).unwrap().params().len();
        }
        let ms = t0.elapsed().as_millis();
        assert!(n > 10_000);
        // Debug builds are several times slower than release; the release figure is in the report.
        assert!(ms < 2_000, "{ms} ms for {n} settings");
    }
}
