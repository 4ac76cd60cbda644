//! Programmable keys (issue 12 item 4): one user vocabulary ([`KeyType`]) for
//! line keys / VPKs, MPKs and extension-module keys, translated to each
//! family's P-value numbering and mode codes, or to the XML v2 aliases.
//!
//! Every number here was read from the public templates
//! (`/work/shared/spec/templates/fusionpbx-grandstream/`, see SOURCE.md); the
//! folder and firmware are named at each table. Where FusionPBX's own
//! `{foreach}`/`{for}` loops disagree with the template's comment lines (the
//! Grandstream part), the comment lines win: they describe the firmware.
//! Pure: no I/O.

use std::fmt;
use std::str::FromStr;

use crate::ids::{Model, PId};

use super::Family;

/// Which row of keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    /// Line keys (GXP16xx, older GXP21xx) and virtual multi-purpose keys (VPKs).
    Vpk,
    /// Physical multi-purpose keys.
    Mpk,
    /// Extension-module keys.
    Ext,
}

impl KeyKind {
    pub const ALL: [KeyKind; 3] = [KeyKind::Vpk, KeyKind::Mpk, KeyKind::Ext];

    /// The word in stored keys (`key.vpk.3.type`) and in v2 aliases (`pks.vpk.3`).
    pub const fn word(self) -> &'static str {
        match self {
            KeyKind::Vpk => "vpk",
            KeyKind::Mpk => "mpk",
            KeyKind::Ext => "ext",
        }
    }

    /// What a technician calls it.
    pub const fn label(self) -> &'static str {
        match self {
            KeyKind::Vpk => "Line keys / VPK",
            KeyKind::Mpk => "MPK",
            KeyKind::Ext => "Extension module",
        }
    }

    /// "VPK 3", "MPK 3", "EXT key 3", for messages.
    pub fn key_name(self, k: u16) -> String {
        match self {
            KeyKind::Vpk => format!("VPK {k}"),
            KeyKind::Mpk => format!("MPK {k}"),
            KeyKind::Ext => format!("EXT key {k}"),
        }
    }

    /// "line keys / VPKs", "MPKs", "extension-module keys".
    pub const fn plural(self) -> &'static str {
        match self {
            KeyKind::Vpk => "line keys / VPKs",
            KeyKind::Mpk => "MPKs",
            KeyKind::Ext => "extension-module keys",
        }
    }

    pub fn from_word(w: &str) -> Option<KeyKind> {
        KeyKind::ALL.into_iter().find(|k| k.word().eq_ignore_ascii_case(w))
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// What a key does: the one vocabulary the site stores, whatever the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyType {
    None,
    Line,
    SharedLine,
    SpeedDial,
    Blf,
    PresenceWatcher,
    EventlistBlf,
    SpeedDialActive,
    DialDtmf,
    Voicemail,
    CallReturn,
    Transfer,
    CallPark,
    Intercom,
    LdapSearch,
    Conference,
    MulticastPaging,
    Record,
    CallLog,
    MonitoredCallPark,
    Menu,
    Dnd,
}

impl KeyType {
    pub const ALL: [KeyType; 22] = [
        KeyType::None,
        KeyType::Line,
        KeyType::SharedLine,
        KeyType::SpeedDial,
        KeyType::Blf,
        KeyType::PresenceWatcher,
        KeyType::EventlistBlf,
        KeyType::SpeedDialActive,
        KeyType::DialDtmf,
        KeyType::Voicemail,
        KeyType::CallReturn,
        KeyType::Transfer,
        KeyType::CallPark,
        KeyType::Intercom,
        KeyType::LdapSearch,
        KeyType::Conference,
        KeyType::MulticastPaging,
        KeyType::Record,
        KeyType::CallLog,
        KeyType::MonitoredCallPark,
        KeyType::Menu,
        KeyType::Dnd,
    ];

    /// The stored word (`blf`, `speed-dial`).
    pub const fn word(self) -> &'static str {
        match self {
            KeyType::None => "none",
            KeyType::Line => "line",
            KeyType::SharedLine => "shared-line",
            KeyType::SpeedDial => "speed-dial",
            KeyType::Blf => "blf",
            KeyType::PresenceWatcher => "presence-watcher",
            KeyType::EventlistBlf => "eventlist-blf",
            KeyType::SpeedDialActive => "speed-dial-active",
            KeyType::DialDtmf => "dial-dtmf",
            KeyType::Voicemail => "voicemail",
            KeyType::CallReturn => "call-return",
            KeyType::Transfer => "transfer",
            KeyType::CallPark => "call-park",
            KeyType::Intercom => "intercom",
            KeyType::LdapSearch => "ldap-search",
            KeyType::Conference => "conference",
            KeyType::MulticastPaging => "multicast-paging",
            KeyType::Record => "record",
            KeyType::CallLog => "call-log",
            KeyType::MonitoredCallPark => "monitored-call-park",
            KeyType::Menu => "menu",
            KeyType::Dnd => "dnd",
        }
    }

    /// The label a drop-down shows.
    pub const fn label(self) -> &'static str {
        match self {
            KeyType::None => "None",
            KeyType::Line => "Line",
            KeyType::SharedLine => "Shared line",
            KeyType::SpeedDial => "Speed dial",
            KeyType::Blf => "BLF",
            KeyType::PresenceWatcher => "Presence watcher",
            KeyType::EventlistBlf => "Eventlist BLF",
            KeyType::SpeedDialActive => "Speed dial via active account",
            KeyType::DialDtmf => "Dial DTMF",
            KeyType::Voicemail => "Voicemail",
            KeyType::CallReturn => "Call return",
            KeyType::Transfer => "Transfer",
            KeyType::CallPark => "Call park",
            KeyType::Intercom => "Intercom",
            KeyType::LdapSearch => "LDAP search",
            KeyType::Conference => "Conference",
            KeyType::MulticastPaging => "Multicast paging",
            KeyType::Record => "Record",
            KeyType::CallLog => "Call log",
            KeyType::MonitoredCallPark => "Monitored call park",
            KeyType::Menu => "Menu",
            KeyType::Dnd => "DND",
        }
    }

    /// Whether the key needs a value (the extension or number it watches or dials).
    pub const fn needs_value(self) -> bool {
        matches!(
            self,
            KeyType::SpeedDial
                | KeyType::Blf
                | KeyType::PresenceWatcher
                | KeyType::EventlistBlf
                | KeyType::SpeedDialActive
                | KeyType::DialDtmf
                | KeyType::Intercom
                | KeyType::MonitoredCallPark
        )
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A word that names no key type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a key type: use one of {words}", words = KeyType::ALL.iter().map(|t| t.word()).collect::<Vec<_>>().join(", "))]
pub struct KeyTypeError(pub String);

impl FromStr for KeyType {
    type Err = KeyTypeError;

    /// Case-insensitive; spaces and underscores count as dashes (`Speed dial`,
    /// `speed_dial`); `speeddial` and `sd` too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String =
            s.trim().to_ascii_lowercase().chars().map(|c| if c == ' ' || c == '_' { '-' } else { c }).collect();
        let squashed: String = norm.chars().filter(|c| *c != '-').collect();
        KeyType::ALL
            .into_iter()
            .find(|t| {
                t.word() == norm || t.word().replace('-', "") == squashed || t.label().eq_ignore_ascii_case(s.trim())
            })
            .ok_or_else(|| KeyTypeError(s.to_string()))
    }
}

/// Which file format the names and codes are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// P-values: XML version 1 and the binary file.
    PValues,
    /// XML version 2 aliases (`pks.vpk.3.keyMode`).
    Aliases,
}

/// The four settings of one key, as keys of the output (`P1363` or `pks.vpk.1.keyMode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slots {
    pub mode: String,
    pub account: String,
    pub label: String,
    pub value: String,
}

impl Slots {
    fn p(mode: u32, account: u32, label: u32, value: u32) -> Slots {
        let p = |n: u32| PId::new(n).to_string();
        Slots { mode: p(mode), account: p(account), label: p(label), value: p(value) }
    }

    /// In the order mode, account, label, value.
    pub fn all(&self) -> [&str; 4] {
        [&self.mode, &self.account, &self.label, &self.value]
    }

    /// The output key of one field (the mode for [`Field::Type`]).
    pub fn field(&self, f: Field) -> &str {
        match f {
            Field::Type => &self.mode,
            Field::Account => &self.account,
            Field::Label => &self.label,
            Field::Value => &self.value,
        }
    }
}

/// The keys one model has, from the templates' notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub family: Family,
    /// Line keys / VPKs.
    pub vpk: u16,
    /// Of those, the fixed VPKs (v2: only these take Line / Shared line); `None`
    /// when the templates do not say.
    pub fixed_vpk: Option<u16>,
    pub mpk: u16,
    pub ext: u16,
}

impl Layout {
    pub fn count(&self, kind: KeyKind) -> u16 {
        match kind {
            KeyKind::Vpk => self.vpk,
            KeyKind::Mpk => self.mpk,
            KeyKind::Ext => self.ext,
        }
    }
}

/// Extension-module keys: the templates give the numbering (`P23000+5(k-1)`,
/// `pks.ext.N`) but no count; 160 is four GXP2200EXT-style modules of 40. Not
/// a template fact (see the report of issue 12).
pub const EXT_KEYS: u16 = 160;

/// The key layout of a model, or `None` for a family gsprov has no key map for.
pub fn layout(model: &Model) -> Option<Layout> {
    let family = Family::of_model(model).family;
    let m = model.as_str();
    let starts = |ps: &[&str]| ps.iter().any(|p| m.starts_with(p));
    Some(match family {
        // gxp2170 (v2, 1.0.11.79), VPK notes 3-7: "For GXP2130, VPK1 to VPK3 are fixed
        // VPK, VPK4 to VPK12 are dynamic" ... "For GXP2170, VPK1 to VPK12 are fixed,
        // VPK13 to VPK48 are dynamic"; MPK note: "GXP2130 has 8 physical MPK,
        // GXP2160 has 24". Older GXP2100/2110/2120 (gxp21xx v1, 1.0.5.32): line keys
        // 1-6, multipurpose keys 1-18, extension boards.
        Family::Gxp21xx => {
            let (vpk, fixed, mpk) = if starts(&["GXP2130"]) {
                (12, 3, 8)
            } else if starts(&["GXP2135"]) {
                (32, 8, 0)
            } else if starts(&["GXP2140"]) {
                (16, 4, 0)
            } else if starts(&["GXP2160"]) {
                (24, 6, 24)
            } else if starts(&["GXP2170"]) {
                (48, 12, 0)
            } else {
                (6, 6, 18)
            };
            Layout { family, vpk, fixed_vpk: Some(fixed), mpk, ext: EXT_KEYS }
        }
        // gxp16xx (v1, 1.0.4.33): "Line Keys 1 to 3" (FusionPBX's loop stops at 2);
        // "GXP1628/1630 only" Multi-Purpose Keys: MPK 1-7 at P323.., MPK 8 at P353.
        Family::Gxp16xx => Layout {
            family,
            vpk: 3,
            fixed_vpk: Some(3),
            mpk: if starts(&["GXP1628", "GXP1630"]) { 8 } else { 0 },
            ext: 0,
        },
        // grp26xx (v1, 1.0.3.6): VPKs 1-48 (P1363.. for 1-6, P23800.. for 7-48),
        // MPKs 1-24 "GRP2614 only" (v2 grp2612: "For GRP2614/GRP2616/GRP2636", "For
        // GRP2634"); EXT "FOR GRP2615/GRP2624/GRP2670/GRP2650 Only". The templates
        // give no per-model VPK count and disagree on the fixed ones (FusionPBX:
        // 2612=3, 2613=4, 2614=6, 2615=10; grp261x: "GRP2612,GRP2614: 4, GRP2615: 5,
        // GRP2613: 6"), so the family's 48 and no fixed/dynamic split.
        Family::Grp26xx => Layout {
            family,
            vpk: 48,
            fixed_vpk: None,
            mpk: if starts(&["GRP2614", "GRP2616", "GRP2634", "GRP2636"]) { 24 } else { 0 },
            ext: if starts(&["GRP2615", "GRP2624", "GRP2670", "GRP2650"]) { EXT_KEYS } else { 0 },
        },
        _ => return None,
    })
}

/// Where key `k` (1-based) of `kind` lives on `family`, or `None` when the
/// family's templates give it no name in that format.
pub fn slots(family: Family, format: Format, kind: KeyKind, k: u16) -> Option<Slots> {
    if k == 0 {
        return None;
    }
    let k = u32::from(k);
    match format {
        Format::Aliases => {
            // gxp2170 and grp2612 (v2) loops: pks.vpk.N / pks.mpk.N / pks.ext.N with
            // keyMode, account, description, value. GXP16xx has no v2 template.
            if !matches!(family, Family::Gxp21xx | Family::Grp26xx) {
                return None;
            }
            let base = format!("pks.{}.{k}", kind.word());
            Some(Slots {
                mode: format!("{base}.keyMode"),
                account: format!("{base}.account"),
                label: format!("{base}.description"),
                value: format!("{base}.value"),
            })
        }
        Format::PValues => match (family, kind) {
            // gxp21xx v1 line keys 1-6; gxp16xx `{$start_id=1363}` with +1, +102, +103;
            // grp26xx v1 `{for $line=1 to 6}` the same.
            (Family::Gxp21xx | Family::Gxp16xx | Family::Grp26xx, KeyKind::Vpk) if k <= 6 => {
                let o = 2 * (k - 1);
                Some(Slots::p(1363 + o, 1364 + o, 1465 + o, 1466 + o))
            }
            // grp26xx v1: "line 7 to 48 are sequential starting at 23800 in groups of 4".
            (Family::Grp26xx, KeyKind::Vpk) if k <= 48 => {
                let b = 23800 + 4 * (k - 7);
                Some(Slots::p(b, b + 1, b + 2, b + 3))
            }
            // MPK 1-7: mode P323+(k-1), account/name/value P301/P302/P303+3(k-1)
            // (gxp21xx v1, gxp16xx, grp26xx v1).
            (Family::Gxp21xx | Family::Gxp16xx | Family::Grp26xx, KeyKind::Mpk) if k <= 7 => {
                let o = 3 * (k - 1);
                Some(Slots::p(323 + k - 1, 301 + o, 302 + o, 303 + o))
            }
            // MPK 8-18 in groups of 4 from P353 (gxp21xx v1 P353..P396, grp26xx v1
            // `{$start_id=353}`; gxp16xx has MPK 8 only, at P353).
            (Family::Gxp21xx | Family::Grp26xx, KeyKind::Mpk) | (Family::Gxp16xx, KeyKind::Mpk)
                if k <= 18 && (family != Family::Gxp16xx || k == 8) =>
            {
                let b = 353 + 4 * (k - 8);
                Some(Slots::p(b, b + 1, b + 2, b + 3))
            }
            // grp26xx v1 MPK 19-24: `{$start_id=1440}` in groups of 4 (MPK 24 = P1460..P1463).
            (Family::Grp26xx, KeyKind::Mpk) if (19..=24).contains(&k) => {
                let b = 1440 + 4 * (k - 19);
                Some(Slots::p(b, b + 1, b + 2, b + 3))
            }
            // gxp21xx v1 extension boards: "mode 23000, line 23001, label 23002, value
            // 23003", key k at 23000 + 5(k-1). grp2612 (v2) names P23000..P23003 for EXT
            // MPK 1 too; its stride is taken from gxp21xx.
            (Family::Gxp21xx | Family::Grp26xx, KeyKind::Ext) => {
                let b = 23000 + 5 * (k - 1);
                Some(Slots::p(b, b + 1, b + 2, b + 3))
            }
            _ => None,
        },
    }
}

/// The key slot a P-value is on `family` (the inverse of [`slots`] in
/// [`Format::PValues`]): `P1367` on GXP21xx is VPK 3's mode. Arithmetic, as
/// it runs for every P-value a v2 file cannot otherwise name.
pub fn slot_of(family: Family, id: PId) -> Option<(KeyKind, u16, Field)> {
    let n = id.number();
    let fields = Field::ALL;
    let found = |kind: KeyKind, k: u32, field: Field| -> Option<(KeyKind, u16, Field)> {
        let k = u16::try_from(k).ok()?;
        let s = slots(family, Format::PValues, kind, k)?;
        (s.field(field) == id.to_string()).then_some((kind, k, field))
    };
    let line_keys = matches!(family, Family::Gxp21xx | Family::Gxp16xx | Family::Grp26xx);
    match n {
        // VPK 1-6: mode/account at 1363.., label/value at 1465.., two apart.
        1363..=1374 if line_keys => found(
            KeyKind::Vpk,
            (n - 1363) / 2 + 1,
            if (n - 1363).is_multiple_of(2) { Field::Type } else { Field::Account },
        ),
        1465..=1476 if line_keys => found(
            KeyKind::Vpk,
            (n - 1465) / 2 + 1,
            if (n - 1465).is_multiple_of(2) { Field::Label } else { Field::Value },
        ),
        23800..=23967 => found(KeyKind::Vpk, (n - 23800) / 4 + 7, fields[((n - 23800) % 4) as usize]),
        // MPK 1-7: mode at 323.., account/label/value at 301.. in threes.
        323..=329 => found(KeyKind::Mpk, n - 323 + 1, Field::Type),
        301..=321 => found(KeyKind::Mpk, (n - 301) / 3 + 1, fields[1 + ((n - 301) % 3) as usize]),
        353..=396 => found(KeyKind::Mpk, (n - 353) / 4 + 8, fields[((n - 353) % 4) as usize]),
        1440..=1463 => found(KeyKind::Mpk, (n - 1440) / 4 + 19, fields[((n - 1440) % 4) as usize]),
        // EXT keys in fives, the fifth P-value of each not a key field.
        23000.. if (n - 23000) % 5 < 4 && n - 23000 < 5 * u32::from(EXT_KEYS) => {
            found(KeyKind::Ext, (n - 23000) / 5 + 1, fields[((n - 23000) % 5) as usize])
        }
        _ => None,
    }
}

use KeyType as T;

/// MPK / EXT / dynamic-VPK codes: gxp21xx v1 MPK comment ("0 - Speed Dial, 1 -
/// BLF, ... 11 - LDAP Search"), grp26xx v1 and the v2 templates ("None (-1),
/// SpeedDial (0), BLF (1), ... Menu (17) ... DND (22)").
const MODERN: [(KeyType, i32); 20] = [
    (T::None, -1),
    (T::SpeedDial, 0),
    (T::Blf, 1),
    (T::PresenceWatcher, 2),
    (T::EventlistBlf, 3),
    (T::SpeedDialActive, 4),
    (T::DialDtmf, 5),
    (T::Voicemail, 6),
    (T::CallReturn, 7),
    (T::Transfer, 8),
    (T::CallPark, 9),
    (T::Intercom, 10),
    (T::LdapSearch, 11),
    (T::Conference, 12),
    (T::MulticastPaging, 13),
    (T::Record, 14),
    (T::CallLog, 15),
    (T::MonitoredCallPark, 16),
    (T::Menu, 17),
    (T::Dnd, 22),
];

/// Line VPKs on the v2 scale: grp26xx v1 "Default (31), SharedLine (32)" (its
/// string list: "default or line"), gxp2170/grp2612 v2 "Line (31), SharedLine (32)".
const MODERN_LINE: [(KeyType, i32); 2] = [(T::Line, 31), (T::SharedLine, 32)];

/// Line keys on the old scale: gxp21xx v1 P1363 "0 - Line, 1 - Shared Line, 10 -
/// Speeddial, 11 - BLF, 12 - Presence Watcher, ... 21 - LDAP Search".
const CLASSIC_LINE: [(KeyType, i32); 14] = [
    (T::Line, 0),
    (T::SharedLine, 1),
    (T::SpeedDial, 10),
    (T::Blf, 11),
    (T::PresenceWatcher, 12),
    (T::EventlistBlf, 13),
    (T::SpeedDialActive, 14),
    (T::DialDtmf, 15),
    (T::Voicemail, 16),
    (T::CallReturn, 17),
    (T::Transfer, 18),
    (T::CallPark, 19),
    (T::Intercom, 20),
    (T::LdapSearch, 21),
];

/// The (type, code) pairs key `k` of `kind` accepts on `layout` in `format`.
pub fn codes(layout: &Layout, format: Format, kind: KeyKind, k: u16) -> Vec<(KeyType, i32)> {
    let modern = |max: i32| MODERN.iter().copied().filter(move |(_, c)| *c <= max);
    match (layout.family, format, kind) {
        // gxp21xx v1 (1.0.5.32) line keys: "Number: 0, 1, 10-21".
        (Family::Gxp21xx, Format::PValues, KeyKind::Vpk) => CLASSIC_LINE.to_vec(),
        // gxp16xx line keys: "Number: 0, 1, 10, 14-18, 20, 21, 23" (23 - Multicast Paging).
        (Family::Gxp16xx, _, KeyKind::Vpk) => CLASSIC_LINE
            .iter()
            .copied()
            .filter(|(_, c)| matches!(c, 0 | 1 | 10 | 14..=18 | 20 | 21))
            .chain([(T::MulticastPaging, 23)])
            .collect(),
        // gxp21xx v1 MPKs "Number: 0-11"; extension boards the same 0-11 (the loop's codes).
        (Family::Gxp21xx, Format::PValues, KeyKind::Mpk | KeyKind::Ext) => {
            modern(11).filter(|(t, _)| *t != T::None).collect()
        }
        // gxp16xx MPKs: the loop's table, 0-11 and 13 - Multicast Paging.
        (Family::Gxp16xx, _, KeyKind::Mpk) => modern(13).filter(|(t, c)| *t != T::None && *c != 12).collect(),
        // gxp2170 v2: fixed VPKs take Line (31) / SharedLine (32), dynamic ones do not.
        (Family::Gxp21xx, Format::Aliases, KeyKind::Vpk) => {
            let fixed = layout.fixed_vpk.is_none_or(|f| k <= f);
            let mut v: Vec<_> = modern(22).collect();
            if fixed {
                v.extend(MODERN_LINE);
            }
            v
        }
        // grp26xx, both formats: one scale for every VPK (v1 1.0.3.6 and v2 1.0.9.103).
        (Family::Grp26xx, _, KeyKind::Vpk) => modern(22).chain(MODERN_LINE).collect(),
        (Family::Gxp21xx | Family::Grp26xx, _, _) => modern(22).collect(),
        _ => Vec::new(),
    }
}

/// The code for `ty` on key `k` of `kind`, or `None` when that key does not take it.
pub fn mode_code(layout: &Layout, format: Format, kind: KeyKind, k: u16, ty: KeyType) -> Option<i32> {
    codes(layout, format, kind, k).into_iter().find(|(t, _)| *t == ty).map(|(_, c)| c)
}

/// The type a stored code means (for showing a raw P-value as a key).
pub fn type_of_code(layout: &Layout, format: Format, kind: KeyKind, k: u16, code: i32) -> Option<KeyType> {
    codes(layout, format, kind, k).into_iter().find(|(_, c)| *c == code).map(|(t, _)| t)
}

/// The v2 (alias) code for a raw P-value mode code `v1` on key `k` of `kind`:
/// v1 code -> [`KeyType`] -> v2 code, the one vocabulary both scales share.
/// A code the vocabulary does not name passes unchanged where the family's two
/// scales agree on every code both know (grp26xx v1 and grp2612 v2 for every
/// key; gxp21xx v1 and gxp2170 v2 for MPKs and extension boards: the templates
/// list the same numbers), since the v2 template lists it under the same number.
/// `None` when the v2 scale has no equivalent (gxp21xx v1 line-key codes the
/// vocabulary does not name; Line on a dynamic VPK).
pub fn v2_mode(layout: &Layout, kind: KeyKind, k: u16, v1: i32) -> Option<i32> {
    if let Some(ty) = type_of_code(layout, Format::PValues, kind, k, v1) {
        return mode_code(layout, Format::Aliases, kind, k, ty);
    }
    let v2 = codes(layout, Format::Aliases, kind, k);
    let same_scale = !v2.is_empty() && codes(layout, Format::PValues, kind, k).iter().all(|pair| v2.contains(pair));
    same_scale.then_some(v1)
}

/// The key whose mode a v2 alias names (`pks.vpk.3.keyMode` -> VPK 3), the
/// inverse of [`slots`]`(.., Format::Aliases, ..).mode`.
pub fn mode_alias(alias: &str) -> Option<(KeyKind, u16)> {
    let rest = alias.strip_prefix("pks.")?.strip_suffix(".keyMode")?;
    let (kind, k) = rest.split_once('.')?;
    let k: u16 = k.parse().ok().filter(|k| *k > 0)?;
    Some((KeyKind::from_word(kind)?, k))
}

/// One field of a key as the site stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Type,
    Account,
    Label,
    Value,
}

impl Field {
    pub const ALL: [Field; 4] = [Field::Type, Field::Account, Field::Label, Field::Value];

    pub const fn word(self) -> &'static str {
        match self {
            Field::Type => "type",
            Field::Account => "account",
            Field::Label => "label",
            Field::Value => "value",
        }
    }
}

/// A site key naming one field of one key: `key.vpk.3.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyRef {
    pub kind: KeyKind,
    pub number: u16,
    pub field: Field,
}

impl KeyRef {
    /// The stored name.
    pub fn name(&self) -> String {
        format!("key.{}.{}.{}", self.kind.word(), self.number, self.field.word())
    }

    /// Parses `key.<vpk|mpk|ext>.<n>.<type|account|label|value>`; `Err` names
    /// the problem for a key that starts with `key.` but is not one.
    pub fn parse(key: &str) -> Option<Result<KeyRef, String>> {
        let rest = key.trim().strip_prefix("key.")?;
        let parts: Vec<&str> = rest.split('.').collect();
        let bad = || {
            Err(format!(
                "{key:?} is not a key setting: write key.<vpk|mpk|ext>.<number>.<type|account|label|value>, e.g. key.vpk.3.type"
            ))
        };
        let [kind, n, field] = parts[..] else { return Some(bad()) };
        let (Some(kind), Ok(number), Some(field)) = (
            KeyKind::from_word(kind),
            n.parse::<u16>(),
            Field::ALL.into_iter().find(|f| f.word().eq_ignore_ascii_case(field)),
        ) else {
            return Some(bad());
        };
        if number == 0 {
            return Some(Err(format!("{key:?}: keys are numbered from 1")));
        }
        Some(Ok(KeyRef { kind, number, field }))
    }
}

/// Whether a stored key is a programmable-key field (`key.` prefix).
pub fn is_key_setting(key: &str) -> bool {
    key.trim().starts_with("key.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lay(m: &str) -> Layout {
        layout(&m.parse().unwrap()).unwrap()
    }

    fn p(s: &Slots) -> [&str; 4] {
        s.all()
    }

    /// GXP21xx v1 (gxp21xx 1.0.5.32): line key k at P1363/P1364/P1465/P1466 + 2(k-1),
    /// the old code scale (10 = speed dial, 11 = BLF, 0 = line); MPK 1-7 at
    /// P323+(k-1) and P301/302/303+3(k-1), 8-18 at P353+4(k-8) with 0 = speed
    /// dial, 1 = BLF; extension boards at P23000+5(k-1).
    #[test]
    fn gxp21xx_v1_table() {
        let f = Family::Gxp21xx;
        let l = lay("GXP2120");
        let cases: [(KeyKind, u16, [&str; 4]); 7] = [
            (KeyKind::Vpk, 1, ["P1363", "P1364", "P1465", "P1466"]),
            (KeyKind::Vpk, 6, ["P1373", "P1374", "P1475", "P1476"]),
            (KeyKind::Mpk, 1, ["P323", "P301", "P302", "P303"]),
            (KeyKind::Mpk, 7, ["P329", "P319", "P320", "P321"]),
            (KeyKind::Mpk, 8, ["P353", "P354", "P355", "P356"]),
            (KeyKind::Mpk, 18, ["P393", "P394", "P395", "P396"]),
            (KeyKind::Ext, 2, ["P23005", "P23006", "P23007", "P23008"]),
        ];
        for (kind, k, want) in cases {
            assert_eq!(p(&slots(f, Format::PValues, kind, k).unwrap()), want, "{kind} {k}");
        }
        assert_eq!(slots(f, Format::PValues, KeyKind::Vpk, 7), None, "the v1 template lists line keys 1-6 only");
        assert_eq!(slots(f, Format::PValues, KeyKind::Mpk, 19), None);
        let code = |kind, k, t| mode_code(&l, Format::PValues, kind, k, t);
        assert_eq!(code(KeyKind::Vpk, 1, KeyType::Line), Some(0));
        assert_eq!(code(KeyKind::Vpk, 1, KeyType::SpeedDial), Some(10));
        assert_eq!(code(KeyKind::Vpk, 3, KeyType::Blf), Some(11));
        assert_eq!(code(KeyKind::Vpk, 3, KeyType::CallPark), Some(19));
        assert_eq!(code(KeyKind::Vpk, 3, KeyType::Intercom), Some(20));
        assert_eq!(code(KeyKind::Vpk, 3, KeyType::None), None, "no None on the v1 line keys");
        assert_eq!(code(KeyKind::Mpk, 1, KeyType::SpeedDial), Some(0));
        assert_eq!(code(KeyKind::Mpk, 9, KeyType::Blf), Some(1));
        assert_eq!(code(KeyKind::Mpk, 9, KeyType::CallPark), Some(9));
        assert_eq!(code(KeyKind::Mpk, 9, KeyType::Line), None);
        assert_eq!(code(KeyKind::Mpk, 9, KeyType::Conference), None, "v1 MPKs: Number 0-11");
        assert_eq!(code(KeyKind::Ext, 1, KeyType::Blf), Some(1));
        assert_eq!(type_of_code(&l, Format::PValues, KeyKind::Vpk, 2, 11), Some(KeyType::Blf));
    }

    /// GXP21xx v2 (gxp2170 1.0.11.79): pks.vpk.N.*, one scale for VPKs, MPKs and
    /// EXT (0 = speed dial, 1 = BLF, -1 = none), Line (31) on the fixed VPKs only
    /// (GXP2170: 1-12; GXP2130: 1-3). FusionPBX's loop writes the v1 codes (0 =
    /// line, 11 = BLF) into pks.vpk.N.keyMode for keys < 13, against its own
    /// comment lines: on a v2 unit 0 is SpeedDial, 11 LDAPSearch.
    #[test]
    fn gxp21xx_v2_table() {
        let f = Family::Gxp21xx;
        let s = slots(f, Format::Aliases, KeyKind::Vpk, 3).unwrap();
        assert_eq!(p(&s), ["pks.vpk.3.keyMode", "pks.vpk.3.account", "pks.vpk.3.description", "pks.vpk.3.value"]);
        assert_eq!(slots(f, Format::Aliases, KeyKind::Mpk, 2).unwrap().mode, "pks.mpk.2.keyMode");
        assert_eq!(slots(f, Format::Aliases, KeyKind::Ext, 40).unwrap().value, "pks.ext.40.value");
        let l = lay("GXP2170");
        assert_eq!((l.vpk, l.fixed_vpk, l.mpk), (48, Some(12), 0));
        let code = |l: &Layout, kind, k, t| mode_code(l, Format::Aliases, kind, k, t);
        assert_eq!(code(&l, KeyKind::Vpk, 3, KeyType::Blf), Some(1));
        assert_eq!(code(&l, KeyKind::Vpk, 3, KeyType::SpeedDial), Some(0));
        assert_eq!(code(&l, KeyKind::Vpk, 12, KeyType::Line), Some(31));
        assert_eq!(code(&l, KeyKind::Vpk, 13, KeyType::Line), None, "VPK 13 is dynamic on a GXP2170");
        assert_eq!(code(&l, KeyKind::Vpk, 13, KeyType::Blf), Some(1));
        assert_eq!(code(&l, KeyKind::Vpk, 13, KeyType::None), Some(-1));
        assert_eq!(code(&l, KeyKind::Ext, 1, KeyType::CallPark), Some(9));
        let g2130 = lay("GXP2130");
        assert_eq!((g2130.vpk, g2130.fixed_vpk, g2130.mpk), (12, Some(3), 8));
        assert_eq!(code(&g2130, KeyKind::Vpk, 4, KeyType::Line), None);
        assert_eq!(code(&g2130, KeyKind::Mpk, 8, KeyType::Blf), Some(1));
        assert_eq!(lay("GXP2160").mpk, 24);
    }

    /// GXP16xx (gxp16xx 1.0.4.33, v1 only): line keys 1-3 at P1363.. with the old
    /// scale but no BLF ("Number: 0, 1, 10, 14-18, 20, 21, 23"); MPKs on GXP1628/1630
    /// only, 1-7 at P323.., 8 at P353..; no v2 names.
    #[test]
    fn gxp16xx_table() {
        let f = Family::Gxp16xx;
        assert_eq!(p(&slots(f, Format::PValues, KeyKind::Vpk, 2).unwrap()), ["P1365", "P1366", "P1467", "P1468"]);
        assert_eq!(p(&slots(f, Format::PValues, KeyKind::Mpk, 3).unwrap()), ["P325", "P307", "P308", "P309"]);
        assert_eq!(p(&slots(f, Format::PValues, KeyKind::Mpk, 8).unwrap()), ["P353", "P354", "P355", "P356"]);
        assert_eq!(slots(f, Format::PValues, KeyKind::Mpk, 9), None);
        assert_eq!(slots(f, Format::PValues, KeyKind::Ext, 1), None);
        assert_eq!(slots(f, Format::Aliases, KeyKind::Vpk, 1), None);
        let l = lay("GXP1630");
        assert_eq!((l.vpk, l.mpk, l.ext), (3, 8, 0));
        assert_eq!(lay("GXP1620").mpk, 0);
        let code = |kind, k, t| mode_code(&l, Format::PValues, kind, k, t);
        assert_eq!(code(KeyKind::Vpk, 1, KeyType::Line), Some(0));
        assert_eq!(code(KeyKind::Vpk, 2, KeyType::SpeedDial), Some(10));
        assert_eq!(code(KeyKind::Vpk, 2, KeyType::Blf), None, "GXP16xx line keys have no BLF");
        assert_eq!(code(KeyKind::Vpk, 2, KeyType::MulticastPaging), Some(23));
        assert_eq!(code(KeyKind::Mpk, 1, KeyType::Blf), Some(1));
        assert_eq!(code(KeyKind::Mpk, 1, KeyType::MulticastPaging), Some(13));
        assert_eq!(code(KeyKind::Mpk, 1, KeyType::Conference), None);
    }

    /// GRP26xx (grp26xx v1 1.0.3.6, grp2612 v2 1.0.9.103): VPK 1-6 at P1363.., 7-48
    /// at P23800+4(k-7); MPK 1-7 P323.., 8-18 P353.., 19-24 P1440..; a third scale
    /// for VPKs: 0 = speed dial, 1 = BLF, 31 = line, 32 = shared line, the same in
    /// v1 and v2. (FusionPBX subtracts 10 from the code of non-fixed keys, which
    /// turns BLF into -9: a template bug, not followed.)
    #[test]
    fn grp26xx_table() {
        let f = Family::Grp26xx;
        let pv = |kind, k| slots(f, Format::PValues, kind, k).unwrap();
        assert_eq!(p(&pv(KeyKind::Vpk, 1)), ["P1363", "P1364", "P1465", "P1466"]);
        assert_eq!(p(&pv(KeyKind::Vpk, 7)), ["P23800", "P23801", "P23802", "P23803"]);
        assert_eq!(p(&pv(KeyKind::Vpk, 48)), ["P23964", "P23965", "P23966", "P23967"]);
        assert_eq!(slots(f, Format::PValues, KeyKind::Vpk, 49), None);
        assert_eq!(p(&pv(KeyKind::Mpk, 8)), ["P353", "P354", "P355", "P356"]);
        assert_eq!(p(&pv(KeyKind::Mpk, 24)), ["P1460", "P1461", "P1462", "P1463"]);
        assert_eq!(p(&pv(KeyKind::Ext, 1)), ["P23000", "P23001", "P23002", "P23003"]);
        assert_eq!(slots(f, Format::Aliases, KeyKind::Vpk, 16).unwrap().mode, "pks.vpk.16.keyMode");
        let l = lay("GRP2612W");
        assert_eq!((l.vpk, l.mpk, l.ext), (48, 0, 0));
        assert_eq!(lay("GRP2614").mpk, 24);
        assert_eq!(lay("GRP2615").ext, EXT_KEYS);
        for format in [Format::PValues, Format::Aliases] {
            let code = |k, t| mode_code(&l, format, KeyKind::Vpk, k, t);
            assert_eq!(code(1, KeyType::Line), Some(31));
            assert_eq!(code(2, KeyType::SharedLine), Some(32));
            assert_eq!(code(3, KeyType::Blf), Some(1));
            assert_eq!(code(12, KeyType::SpeedDial), Some(0));
            assert_eq!(code(12, KeyType::CallPark), Some(9));
            assert_eq!(code(12, KeyType::None), Some(-1));
            assert_eq!(type_of_code(&l, format, KeyKind::Vpk, 1, 31), Some(KeyType::Line));
        }
    }

    /// Raw v1 mode codes on the v2 scale. GXP21xx line keys: gxp21xx v1 P1363
    /// "0 - Line, 1 - Shared Line, 10 - Speeddial, 11 - BLF ... 21 - LDAP Search"
    /// against gxp2170 v2 "SpeedDial (0), BLF (1) ... Line (31), SharedLine (32)";
    /// GXP21xx MPK/EXT and every GRP26xx key: one numbering in both.
    #[test]
    fn v1_mode_codes_on_the_v2_scale() {
        let g2170 = lay("GXP2170");
        let g2130 = lay("GXP2130");
        let grp = lay("GRP2614");
        let cases: [(&Layout, KeyKind, u16, i32, Option<i32>); 17] = [
            (&g2170, KeyKind::Vpk, 1, 0, Some(31)),
            (&g2170, KeyKind::Vpk, 1, 1, Some(32)),
            (&g2170, KeyKind::Vpk, 1, 10, Some(0)),
            (&g2170, KeyKind::Vpk, 1, 11, Some(1)),
            (&g2170, KeyKind::Vpk, 1, 19, Some(9)),
            (&g2170, KeyKind::Vpk, 1, 21, Some(11)),
            (&g2170, KeyKind::Vpk, 1, 5, None),
            (&g2130, KeyKind::Vpk, 4, 0, None),
            (&g2130, KeyKind::Vpk, 4, 11, Some(1)),
            (&g2170, KeyKind::Mpk, 1, 1, Some(1)),
            (&g2170, KeyKind::Ext, 1, 9, Some(9)),
            (&g2170, KeyKind::Ext, 1, -1, Some(-1)),
            (&grp, KeyKind::Vpk, 1, 31, Some(31)),
            (&grp, KeyKind::Vpk, 1, 1, Some(1)),
            (&grp, KeyKind::Vpk, 1, 23, Some(23)),
            (&grp, KeyKind::Mpk, 1, 22, Some(22)),
            (&grp, KeyKind::Ext, 1, 30, Some(30)),
        ];
        for (l, kind, k, v1, want) in cases {
            assert_eq!(v2_mode(l, kind, k, v1), want, "{} {kind} {k} code {v1}", l.family);
        }
        assert_eq!(mode_alias("pks.vpk.12.keyMode"), Some((KeyKind::Vpk, 12)));
        assert_eq!(mode_alias("pks.ext.1.keyMode"), Some((KeyKind::Ext, 1)));
        assert_eq!(mode_alias("pks.softkey.1.keyMode"), None, "softkeys are not programmable keys");
        assert_eq!(mode_alias("pks.vpk.0.keyMode"), None);
        assert_eq!(mode_alias("pks.vpk.1.value"), None);
        assert_eq!(mode_alias("audio.headset.keyMode"), None);
    }

    /// [`slot_of`] is the exact inverse of [`slots`] for every key of every family.
    #[test]
    fn slot_of_inverts_slots() {
        let mut seen = 0;
        for family in [Family::Gxp21xx, Family::Gxp16xx, Family::Grp26xx] {
            for kind in KeyKind::ALL {
                for k in 1..=EXT_KEYS {
                    let Some(s) = slots(family, Format::PValues, kind, k) else { continue };
                    for (field, p) in Field::ALL.into_iter().zip(s.all()) {
                        let id: PId = p.parse().unwrap();
                        assert_eq!(slot_of(family, id), Some((kind, k, field)), "{family} {p}");
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 1500, "{seen}");
        let none = |f, n| slot_of(f, PId::new(n));
        assert_eq!(none(Family::Gxp21xx, 1375), None, "v1 names line keys 1-6 only");
        assert_eq!(none(Family::Gxp21xx, 23800), None, "P23800.. are GRP26xx VPKs");
        assert_eq!(none(Family::Gxp21xx, 23004), None);
        assert_eq!(none(Family::Gxp16xx, 357), None, "GXP16xx has MPK 8 only");
        assert_eq!(none(Family::Ht80x, 1363), None);
        assert_eq!(none(Family::Grp26xx, 47), None);
    }

    #[test]
    fn families_without_a_key_map_have_no_layout() {
        assert_eq!(layout(&"HT802".parse().unwrap()), None);
        assert_eq!(layout(&"GXV3370".parse().unwrap()), None);
    }

    #[test]
    fn key_types_and_refs_parse() {
        assert_eq!("BLF".parse::<KeyType>(), Ok(KeyType::Blf));
        assert_eq!("Speed dial".parse::<KeyType>(), Ok(KeyType::SpeedDial));
        assert_eq!("speeddial".parse::<KeyType>(), Ok(KeyType::SpeedDial));
        assert_eq!("call_park".parse::<KeyType>(), Ok(KeyType::CallPark));
        assert!("blfx".parse::<KeyType>().unwrap_err().to_string().contains("speed-dial"));
        for t in KeyType::ALL {
            assert_eq!(t.word().parse::<KeyType>(), Ok(t));
            assert_eq!(t.label().parse::<KeyType>(), Ok(t));
        }
        let r = KeyRef::parse("key.vpk.3.type").unwrap().unwrap();
        assert_eq!(r, KeyRef { kind: KeyKind::Vpk, number: 3, field: Field::Type });
        assert_eq!(r.name(), "key.vpk.3.type");
        assert!(KeyRef::parse("P1363").is_none());
        assert!(KeyRef::parse("key.vpk.x.type").unwrap().unwrap_err().contains("key.<vpk|mpk|ext>"));
        assert!(KeyRef::parse("key.vpk.0.type").unwrap().unwrap_err().contains("from 1"));
        assert!(KeyRef::parse("key.lk.1.type").unwrap().is_err());
    }
}
