//! Product families as the public configuration templates group them (GXP21xx,
//! GRP26xx, HT80x, ...): one family shares one numbering of P-values. Owns the
//! model -> family mapping, including the nearest-family guess for models gsprov
//! has never seen. Pure; the per-family facts live in `assets/catalog/`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ids::{Family as DeviceKind, Model};

/// A template family: the same P-id means the same setting on every model in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    #[serde(rename = "GXP21xx")]
    Gxp21xx,
    #[serde(rename = "GXP16xx")]
    Gxp16xx,
    #[serde(rename = "GXP17xx")]
    Gxp17xx,
    #[serde(rename = "GXP14xx")]
    Gxp14xx,
    #[serde(rename = "GXP11xx")]
    Gxp11xx,
    #[serde(rename = "GXP20xx")]
    Gxp20xx,
    #[serde(rename = "GRP26xx")]
    Grp26xx,
    #[serde(rename = "HT50x")]
    Ht50x,
    #[serde(rename = "HT70x")]
    Ht70x,
    #[serde(rename = "HT80x")]
    Ht80x,
    #[serde(rename = "HT81x")]
    Ht81x,
    #[serde(rename = "WP8xx")]
    Wp8xx,
    #[serde(rename = "DP75x")]
    Dp75x,
    #[serde(rename = "DP71x")]
    Dp71x,
    #[serde(rename = "GXW40xx")]
    Gxw40xx,
    #[serde(rename = "GXW42xx")]
    Gxw42xx,
    #[serde(rename = "GXV")]
    Gxv,
    #[serde(rename = "GAC25xx")]
    Gac25xx,
    #[serde(rename = "GHP6xx")]
    Ghp6xx,
}

impl Family {
    pub const ALL: [Family; 19] = [
        Family::Gxp21xx,
        Family::Gxp16xx,
        Family::Gxp17xx,
        Family::Gxp14xx,
        Family::Gxp11xx,
        Family::Gxp20xx,
        Family::Grp26xx,
        Family::Ht50x,
        Family::Ht70x,
        Family::Ht80x,
        Family::Ht81x,
        Family::Wp8xx,
        Family::Dp75x,
        Family::Dp71x,
        Family::Gxw40xx,
        Family::Gxw42xx,
        Family::Gxv,
        Family::Gac25xx,
        Family::Ghp6xx,
    ];

    /// The name the templates and the asset files use (`GXP21xx`).
    pub const fn name(self) -> &'static str {
        match self {
            Family::Gxp21xx => "GXP21xx",
            Family::Gxp16xx => "GXP16xx",
            Family::Gxp17xx => "GXP17xx",
            Family::Gxp14xx => "GXP14xx",
            Family::Gxp11xx => "GXP11xx",
            Family::Gxp20xx => "GXP20xx",
            Family::Grp26xx => "GRP26xx",
            Family::Ht50x => "HT50x",
            Family::Ht70x => "HT70x",
            Family::Ht80x => "HT80x",
            Family::Ht81x => "HT81x",
            Family::Wp8xx => "WP8xx",
            Family::Dp75x => "DP75x",
            Family::Dp71x => "DP71x",
            Family::Gxw40xx => "GXW40xx",
            Family::Gxw42xx => "GXW42xx",
            Family::Gxv => "GXV",
            Family::Gac25xx => "GAC25xx",
            Family::Ghp6xx => "GHP6xx",
        }
    }

    /// Model-name prefixes that belong to this family, most specific first
    /// across the table (see [`Family::of_model`]).
    const fn prefixes(self) -> &'static [&'static str] {
        match self {
            Family::Gxp21xx => &["GXP21"],
            Family::Gxp16xx => &["GXP16"],
            Family::Gxp17xx => &["GXP17"],
            Family::Gxp14xx => &["GXP14"],
            Family::Gxp11xx => &["GXP11"],
            Family::Gxp20xx => &["GXP20", "GXP280", "GXP285", "GXP1200"],
            Family::Grp26xx => &["GRP26"],
            Family::Ht50x => &["HT50"],
            Family::Ht70x => &["HT70"],
            Family::Ht80x => &["HT80"],
            Family::Ht81x => &["HT81"],
            Family::Wp8xx => &["WP8"],
            Family::Dp75x => &["DP75", "DP72", "DP73"],
            Family::Dp71x => &["DP71"],
            Family::Gxw40xx => &["GXW40"],
            Family::Gxw42xx => &["GXW42"],
            Family::Gxv => &["GXV"],
            Family::Gac25xx => &["GAC25"],
            Family::Ghp6xx => &["GHP6"],
        }
    }

    /// Models sold in this family, for "did you mean" hints.
    pub const fn models(self) -> &'static [&'static str] {
        match self {
            Family::Gxp21xx => &["GXP2130", "GXP2135", "GXP2140", "GXP2160", "GXP2170"],
            Family::Gxp16xx => &["GXP1610", "GXP1615", "GXP1620", "GXP1625", "GXP1628", "GXP1630"],
            Family::Gxp17xx => &["GXP1760", "GXP1780", "GXP1782"],
            Family::Gxp14xx => &["GXP1400", "GXP1405", "GXP1450"],
            Family::Gxp11xx => &["GXP1100", "GXP1105", "GXP1160", "GXP1165"],
            Family::Gxp20xx => &["GXP2000", "GXP2010", "GXP2020", "GXP280", "GXP285", "GXP1200"],
            Family::Grp26xx => &[
                "GRP2601", "GRP2602", "GRP2603", "GRP2604", "GRP2612", "GRP2612W", "GRP2613", "GRP2614", "GRP2615",
                "GRP2616", "GRP2624", "GRP2634", "GRP2636", "GRP2650", "GRP2670",
            ],
            Family::Ht50x => &["HT502", "HT503"],
            Family::Ht70x => &["HT701", "HT702", "HT704"],
            Family::Ht80x => &["HT801", "HT802"],
            Family::Ht81x => &["HT812", "HT813", "HT814", "HT818"],
            Family::Wp8xx => &["WP810", "WP816", "WP820", "WP822", "WP825", "WP826", "WP836"],
            Family::Dp75x => &["DP750", "DP752", "DP720", "DP722", "DP730"],
            Family::Dp71x => &["DP715", "DP710"],
            Family::Gxw40xx => &["GXW4004", "GXW4008"],
            Family::Gxw42xx => &["GXW4216", "GXW4224", "GXW4232", "GXW4248"],
            Family::Gxv => &["GXV3240", "GXV3275", "GXV3350", "GXV3370", "GXV3380", "GXV3450", "GXV3470", "GXV3480"],
            Family::Gac25xx => &["GAC2500", "GAC2570"],
            Family::Ghp6xx => &["GHP610", "GHP611", "GHP620", "GHP621", "GHP630", "GHP631"],
        }
    }

    /// The coarse device kind (file formats, account layout) of the family.
    pub const fn kind(self) -> DeviceKind {
        match self {
            Family::Gxp21xx
            | Family::Gxp16xx
            | Family::Gxp17xx
            | Family::Gxp14xx
            | Family::Gxp11xx
            | Family::Grp26xx => DeviceKind::Phone,
            Family::Wp8xx | Family::Gxv | Family::Gac25xx | Family::Ghp6xx => DeviceKind::AndroidPhone,
            Family::Ht50x | Family::Ht70x | Family::Ht80x => DeviceKind::Ata,
            Family::Ht81x | Family::Dp75x | Family::Dp71x | Family::Gxw40xx | Family::Gxw42xx => DeviceKind::Gateway,
            Family::Gxp20xx => DeviceKind::Legacy,
        }
    }

    /// Whether the family's phones read XML v2 aliases (spec §7: newer phones).
    pub const fn reads_aliases(self) -> bool {
        matches!(self.kind(), DeviceKind::Phone | DeviceKind::AndroidPhone)
    }

    /// The family of a model, or the nearest one with an explanation for models
    /// outside the known prefixes.
    pub fn of_model(model: &Model) -> FamilyMatch {
        let m = model.as_str();
        // Longest prefix wins (GXP1200 is a GXP20xx-era unit, not a GXP11xx).
        let exact = Family::ALL
            .iter()
            .flat_map(|f| f.prefixes().iter().map(move |p| (*f, *p)))
            .filter(|(_, p)| m.starts_with(p))
            .max_by_key(|(_, p)| p.len());
        if let Some((family, _)) = exact {
            return FamilyMatch { family, guessed: None };
        }
        let (family, suggestion) = nearest(m);
        FamilyMatch { family, guessed: Some(suggestion) }
    }
}

/// The result of mapping a model to a family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyMatch {
    pub family: Family,
    /// `Some(model)` when the model is unknown and the family is a guess; the
    /// model is the closest known name, for a "did you mean" hint.
    pub guessed: Option<&'static str>,
}

impl FamilyMatch {
    /// The warning for a guessed family, or `None` for a known model.
    pub fn warning(&self, model: &Model) -> Option<String> {
        self.guessed.map(|s| {
            format!(
                "model {model} is not a known Grandstream model; treating it as {} (did you mean {s}?). Check the name on the device label.",
                self.family
            )
        })
    }
}

/// The known model closest to `m` (edit distance, ties broken by the longer
/// common prefix) and its family.
fn nearest(m: &str) -> (Family, &'static str) {
    let common = |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let mut best = (usize::MAX, 0usize, Family::Gxp21xx, "GXP2170");
    for f in Family::ALL {
        for known in f.models() {
            let d = edit_distance(m, known);
            let c = common(m, known);
            if d < best.0 || (d == best.0 && c > best.1) {
                best = (d, c, f, known);
            }
        }
    }
    (best.2, best.3)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<u8> = b.bytes().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a text is not a family name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a template family; known: GXP21xx, GXP16xx, GXP17xx, GRP26xx, HT80x, HT81x, WP8xx, DP75x, GXW42xx, ..."
)]
pub struct FamilyError(pub String);

impl FromStr for Family {
    type Err = FamilyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Family::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| FamilyError(s.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fam(m: &str) -> FamilyMatch {
        Family::of_model(&m.parse().unwrap())
    }

    #[test]
    fn models_map_to_their_family() {
        for (m, f) in [
            ("GXP2170", Family::Gxp21xx),
            ("GXP2135", Family::Gxp21xx),
            ("GXP1625", Family::Gxp16xx),
            ("GXP1782", Family::Gxp17xx),
            ("GRP2612W", Family::Grp26xx),
            ("GRP2614", Family::Grp26xx),
            ("HT802", Family::Ht80x),
            ("HT801", Family::Ht80x),
            ("HT814", Family::Ht81x),
            ("HT818", Family::Ht81x),
            ("WP820", Family::Wp8xx),
            ("DP750", Family::Dp75x),
            ("GXW4216", Family::Gxw42xx),
            ("GXP1200", Family::Gxp20xx),
            ("GXV3370", Family::Gxv),
        ] {
            assert_eq!(fam(m), FamilyMatch { family: f, guessed: None }, "{m}");
        }
    }

    #[test]
    fn unknown_models_get_the_nearest_family_with_a_hint() {
        let g = fam("GPX2170");
        assert_eq!(g.family, Family::Gxp21xx);
        assert_eq!(g.guessed, Some("GXP2170"));
        let w = g.warning(&"GPX2170".parse().unwrap()).unwrap();
        assert!(w.contains("GXP21xx") && w.contains("did you mean GXP2170"), "{w}");
        assert_eq!(fam("HT8O2").family, Family::Ht80x);
        assert!(fam("GXP2170").warning(&"GXP2170".parse().unwrap()).is_none());
    }

    #[test]
    fn family_names_round_trip() {
        for f in Family::ALL {
            assert_eq!(f.name().parse::<Family>().unwrap(), f);
            assert_eq!(serde_json::to_string(&f).unwrap(), format!("\"{}\"", f.name()));
        }
        assert!("GXP99xx".parse::<Family>().is_err());
    }
}
