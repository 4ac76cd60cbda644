//! The P-value catalog: which parameters exist, how they are labelled and grouped,
//! which values they accept, their XML v2 aliases, and the account/port layouts
//! that turn "account 3" or "FXS port 2" into P-ids (spec §12).
//!
//! Loaded from `assets/p-values.json` (a copy of the spec's catalog, compiled in).
//! Pure data and validation: no I/O beyond parsing the embedded JSON.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::ids::{Family as DeviceKind, Model, PId};

pub mod advisories;
pub mod asset;
mod family;
pub mod keys;
#[cfg(test)]
mod lint;
pub mod phonebook;
mod table;
pub mod timezone;

pub use family::{Family, FamilyError, FamilyMatch};
pub use table::{FamilyCatalog, Source};

const CATALOG_JSON: &str = include_str!("../assets/p-values.json");

/// What a parameter holds; drives validation and the form widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueKind {
    Text {
        max_len: Option<usize>,
    },
    Password,
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// Numeric codes with labels, e.g. `0=TFTP 1=HTTP 2=HTTPS`.
    Enum(Vec<(String, String)>),
    /// `host[:port]`: an IP address or DNS name, optional port.
    Host,
    /// `host[:port][/path]` without a scheme (P237, P192).
    ServerPath,
}

/// One catalog row.
#[derive(Debug, Clone)]
pub struct Param {
    pub id: Option<PId>,
    pub alias: Option<String>,
    pub label: String,
    pub section: String,
    pub kind: ValueKind,
    pub allowed: String,
    pub default: String,
    pub families: String,
    pub notes: String,
    /// Allowed integer ranges when there are several (`0, 1, 10-21`); one range is in `kind`.
    pub ranges: Vec<(i64, i64)>,
    /// XML v2 words for codes (`1` -> `Yes`), from the family's v2 template.
    pub words: Vec<(String, String)>,
    /// The template marks the value mandatory.
    pub mandatory: bool,
    /// Template folder and firmware the facts came from (`gxp21xx 1.0.5.32`); empty for curated rows.
    pub source: String,
    /// The alias's P-id was read from another family's v2 template.
    pub alias_from_other_family: bool,
}

impl Param {
    /// The key a site stores this parameter under: the P-id when there is one.
    pub fn key(&self) -> String {
        match (&self.id, &self.alias) {
            (Some(id), _) => id.to_string(),
            (None, Some(a)) => a.clone(),
            (None, None) => String::new(),
        }
    }

    /// The label without its parenthesised asides, for forms (the full label goes
    /// in a tooltip): "Config upgrade via (older firmware/HT: ...)" -> "Config upgrade via".
    pub fn short_label(&self) -> &str {
        match self.label.find(" (") {
            Some(i) if i > 0 => &self.label[..i],
            _ => &self.label,
        }
    }

    /// Whether the parameter makes sense on this model, from the catalog's free-text
    /// family list. Unknown wording counts as applicable: hiding a field a device
    /// needs is worse than showing one it ignores.
    pub fn applies_to(&self, model: &Model) -> bool {
        let f = self.families.to_ascii_lowercase();
        let fam = model.family();
        let m = model.as_str().to_ascii_lowercase();
        if f.is_empty() || f.starts_with("all") {
            return fam != DeviceKind::Legacy || !f.contains("xml");
        }
        if f.starts_with("phones") {
            return matches!(fam, DeviceKind::Phone | DeviceKind::AndroidPhone | DeviceKind::Legacy);
        }
        if f.starts_with("older phones") {
            return true;
        }
        let hit = |needle: &str| f.contains(needle);
        match fam {
            DeviceKind::Phone => hit(&m[..m.len().min(5)]) || hit("gxp") || hit("grp") || hit("newer firmware"),
            DeviceKind::AndroidPhone => {
                hit("gxv") || hit("wp") || hit("android") || hit("gac") || hit("newer firmware")
            }
            DeviceKind::Ata | DeviceKind::Gateway => hit("ht") || hit("gxw") || hit("ata") || hit("newer firmware"),
            DeviceKind::Legacy => false,
        }
    }

    /// Alias spelling of a stored value for XML version 2 (`1` -> `Yes`, `2` -> `HTTPS`).
    pub fn alias_value(&self, value: &str) -> String {
        if let Some((_, w)) = self.words.iter().find(|(code, _)| code == value) {
            return w.clone();
        }
        if let Some(words) = self.id.and_then(|id| enum_alias_words(id.number()))
            && let Some((_, w)) = words.iter().find(|(code, _)| *code == value)
        {
            return (*w).to_string();
        }
        if self.kind == ValueKind::Bool && self.alias.is_some() {
            let inverted = self.id.map(|i| i.number()) == Some(4428);
            return match (value, inverted) {
                ("1", false) | ("0", true) => "Yes".into(),
                ("0", false) | ("1", true) => "No".into(),
                _ => value.into(),
            };
        }
        value.to_string()
    }
}

/// Alias words for enum values, where the templates give them (spec §4, §12;
/// the catalog carries them as prose, so they are spelled out here).
fn enum_alias_words(id: u32) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match id {
        212 | 6767 => &[("0", "TFTP"), ("1", "HTTP"), ("2", "HTTPS"), ("3", "FTP"), ("4", "FTPS")],
        238 => &[("0", "AlwaysCheck"), ("1", "CheckWhenChange"), ("2", "SkipCheck")],
        130 => &[("0", "UDP"), ("1", "TCP"), ("2", "TlsOrTcp")],
        194 => &[("0", "No"), ("1", "YesUpgradeMin"), ("2", "YesUpgradeHourOfDay"), ("3", "YesUpgradeDayOfWeek")],
        145 => &[("0", "No"), ("1", "Yes")],
        _ => return None,
    })
}

/// A value the catalog refuses, with a message a technician can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key} ({label}): {problem}")]
pub struct ValueError {
    pub key: String,
    pub label: String,
    pub problem: String,
}

#[derive(Deserialize)]
struct RawCatalog {
    params: Vec<RawParam>,
}

#[derive(Deserialize)]
struct RawParam {
    id: String,
    alias: String,
    label: String,
    section: String,
    #[serde(rename = "type")]
    kind: String,
    allowed: String,
    default: String,
    families: String,
    notes: String,
}

/// Bases of accounts 2..6 on GXP/GRP phones (p-values.json `account_layouts`).
const PHONE_ACCOUNT_BASE: [u32; 5] = [400, 500, 600, 1700, 1800];

/// Per-account fields of a phone account, as account-1 P-id -> offset from B
/// (or from C = 2300 + 100*(n-1) for the P23xx group).
const PHONE_ACCOUNT_OFFSETS: [(u32, u32, bool); 22] = [
    (271, 1, false),
    (47, 2, false),
    (48, 3, false),
    (35, 4, false),
    (36, 5, false),
    (34, 6, false),
    (3, 7, false),
    (103, 8, false),
    (63, 9, false),
    (31, 10, false),
    (81, 11, false),
    (32, 12, false),
    (40, 13, false),
    (52, 14, false),
    (270, 17, false),
    (197, 18, false),
    (33, 26, false),
    (130, 48, false),
    (2301, 1, true),
    (2302, 2, true),
    (2303, 3, true),
    (2312, 12, true),
];

/// Port 2 of two-port ATAs: port-1 P-id -> port-2 P-id.
const ATA_PORT2: [(u32, u32); 8] =
    [(271, 401), (47, 747), (967, 987), (35, 735), (36, 736), (34, 734), (3, 703), (103, 702)];

/// The loaded catalog. Cheap to share: get it with [`Catalog::get`].
#[derive(Debug)]
pub struct Catalog {
    params: Vec<Param>,
    by_id: HashMap<PId, usize>,
    by_alias: HashMap<String, usize>,
}

impl Catalog {
    /// The compiled-in catalog, parsed once.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::parse(CATALOG_JSON).expect("assets/p-values.json is valid (checked by a unit test)")
        })
    }

    fn parse(json: &str) -> Result<Catalog, String> {
        let raw: RawCatalog = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let mut params = Vec::with_capacity(raw.params.len());
        for r in raw.params {
            let id = if r.id.is_empty() { None } else { Some(r.id.parse::<PId>().map_err(|e| e.to_string())?) };
            let alias = (!r.alias.is_empty()).then(|| r.alias.clone());
            let kind = kind_of(id, &r.kind, &r.allowed);
            params.push(Param {
                id,
                alias,
                label: r.label,
                section: r.section,
                kind,
                allowed: r.allowed,
                default: r.default,
                families: r.families,
                notes: r.notes,
                ranges: Vec::new(),
                words: Vec::new(),
                mandatory: false,
                source: String::new(),
                alias_from_other_family: false,
            });
        }
        let mut by_id = HashMap::new();
        let mut by_alias = HashMap::new();
        for (i, p) in params.iter().enumerate() {
            if let Some(id) = p.id {
                by_id.insert(id, i);
            }
            if let Some(a) = &p.alias {
                by_alias.insert(a.clone(), i);
            }
        }
        Ok(Catalog { params, by_id, by_alias })
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub fn by_id(&self, id: PId) -> Option<&Param> {
        self.by_id.get(&id).map(|&i| &self.params[i])
    }

    pub fn by_alias(&self, alias: &str) -> Option<&Param> {
        self.by_alias.get(alias).map(|&i| &self.params[i])
    }

    /// Looks a stored key up: `P47`, or an alias.
    pub fn lookup(&self, key: &str) -> Option<&Param> {
        match key.parse::<PId>() {
            Ok(id) => self.by_id(id).or_else(|| self.account_template(id).map(|(_, p)| p)),
            Err(_) => self.by_alias(key),
        }
    }

    /// For a P-id of phone accounts 2..6 or ATA port 2, the account-1 parameter it
    /// mirrors and the account number.
    pub fn account_template(&self, id: PId) -> Option<(u8, &Param)> {
        let n = id.number();
        for (ai, base) in PHONE_ACCOUNT_BASE.iter().enumerate() {
            let account = ai as u32 + 2;
            let c = 2300 + 100 * (account - 1);
            for &(p1, off, from_c) in &PHONE_ACCOUNT_OFFSETS {
                let pid = if from_c { c + off } else { base + off };
                if pid == n {
                    return self.by_id(PId::new(p1)).map(|p| (account as u8, p));
                }
            }
        }
        ATA_PORT2.iter().find(|(_, p2)| *p2 == n).and_then(|&(p1, _)| self.by_id(PId::new(p1)).map(|p| (2, p)))
    }

    /// The P-id of an account-1 field for account/port `n` (1-based) on `model`.
    /// `None` where no P-value exists (phones above 6 accounts: use aliases).
    pub fn account_pid(&self, model: &Model, n: u8, account1: PId) -> Option<PId> {
        let p1 = account1.number();
        if n == 1 {
            return Some(account1);
        }
        match model.family() {
            DeviceKind::Ata => {
                (n == 2).then(|| ATA_PORT2.iter().find(|(a, _)| *a == p1).map(|&(_, b)| PId::new(b))).flatten()
            }
            DeviceKind::Phone | DeviceKind::AndroidPhone | DeviceKind::Legacy => {
                let base = *PHONE_ACCOUNT_BASE.get(usize::from(n).checked_sub(2)?)?;
                let c = 2300 + 100 * (u32::from(n) - 1);
                PHONE_ACCOUNT_OFFSETS
                    .iter()
                    .find(|(a, _, _)| *a == p1)
                    .map(|&(_, off, from_c)| PId::new(if from_c { c + off } else { base + off }))
            }
            DeviceKind::Gateway => None,
        }
    }

    /// The XML v2 alias of a P-id, including accounts 2..6 derived from account 1's
    /// alias (`account.1.` -> `account.N.`).
    pub fn alias_of(&self, id: PId) -> Option<String> {
        if let Some(p) = self.by_id(id) {
            return p.alias.clone();
        }
        let (n, p) = self.account_template(id)?;
        let a = p.alias.as_deref()?;
        // ATA port 2 has no documented alias; only phone accounts are derived.
        if (ATA_PORT2.iter().any(|(_, b)| *b == id.number())) && self.phone_account_of(id).is_none() {
            return None;
        }
        a.strip_prefix("account.1.").map(|rest| format!("account.{n}.{rest}"))
    }

    fn phone_account_of(&self, id: PId) -> Option<u8> {
        let n = id.number();
        PHONE_ACCOUNT_BASE.iter().enumerate().find_map(|(ai, base)| {
            let account = ai as u32 + 2;
            let c = 2300 + 100 * (account - 1);
            PHONE_ACCOUNT_OFFSETS
                .iter()
                .any(|&(_, off, from_c)| n == if from_c { c + off } else { base + off })
                .then_some(account as u8)
        })
    }

    /// Checks a value for the parameter stored under `key`. Unknown keys pass here;
    /// the site reports them as warnings.
    pub fn validate(&self, key: &str, value: &str) -> Result<(), ValueError> {
        let Some(p) = self.lookup(key) else { return Ok(()) };
        check_value(&p.kind, value).map_err(|problem| ValueError {
            key: key.to_string(),
            label: p.label.clone(),
            problem,
        })
    }
}

/// Family-aware look-ups: what a key means on the devices of one family.
impl Catalog {
    /// The setting stored under `key` as `family` reads it: the family's template
    /// facts first; otherwise a curated row (including derived account P-ids) that
    /// the curated family wording applies to. `None`: the family does not know it.
    pub fn lookup_in(&'static self, family: Family, key: &str) -> Option<&'static Param> {
        if let Some(p) = FamilyCatalog::get(family).get_key(key) {
            return Some(p);
        }
        let model: Model = family.models().first()?.parse().ok()?;
        self.lookup(key).filter(|p| p.applies_to(&model) || p.families.is_empty())
    }

    /// The known alias nearest to an unknown dotted `key`, for a "did you
    /// mean" hint: curated aliases and, for `families`, their templates',
    /// within a few edits. `None` when nothing is close enough to be a typo,
    /// and always for P-ids: numbers have no spelling, and their neighbours
    /// are unrelated settings (P30000 is one edit from P32000).
    pub fn nearest_key(&'static self, key: &str, families: &[Family]) -> Option<String> {
        if key.parse::<PId>().is_ok() {
            return None;
        }
        let budget = (key.len() / 8).clamp(1, 3);
        let tables = families.iter().flat_map(|f| FamilyCatalog::get(*f).params().iter());
        self.params
            .iter()
            .chain(tables)
            .filter_map(|p| p.alias.as_deref())
            .map(|a| (strsim::levenshtein(key, a), a))
            .filter(|(d, _)| (1..=budget).contains(d))
            .min()
            .map(|(_, a)| a.to_string())
    }

    /// Checks `value` for `key` on `family`. Keys the family does not know pass
    /// here; the site reports them as warnings.
    pub fn validate_in(&'static self, family: Family, key: &str, value: &str) -> Result<(), ValueError> {
        match self.lookup_in(family, key) {
            Some(p) => p.validate(key, value),
            None => Ok(()),
        }
    }

    /// The XML v2 alias of a P-id on `family`: the family's own map (from its v2
    /// template or, label-checked, a sibling's), else the curated one, which also
    /// derives accounts 2..6 from account 1.
    pub fn alias_in(&'static self, family: Family, id: PId) -> Option<String> {
        if let Some(p) = FamilyCatalog::get(family).get_key(&id.to_string())
            && let Some(a) = &p.alias
        {
            return Some(a.clone());
        }
        if !family.reads_aliases() {
            return None;
        }
        // The curated alias only where the family does not give the P-id another meaning.
        match (FamilyCatalog::get(family).get_key(&id.to_string()), self.lookup(&id.to_string())) {
            (Some(own), Some(cur)) if !own.label.is_empty() && !table_labels_close(&cur.label, &own.label) => None,
            _ => self.alias_of(id),
        }
    }
}

fn table_labels_close(a: &str, b: &str) -> bool {
    table::labels_close(a, b)
}

fn kind_of(id: Option<PId>, kind: &str, allowed: &str) -> ValueKind {
    // Fields whose catalog type is just "string" but whose content has a shape.
    match id.map(|i| i.number()) {
        Some(237 | 192) => return ValueKind::ServerPath,
        Some(47 | 48 | 2312 | 967 | 30) => return ValueKind::Host,
        _ => {}
    }
    match kind {
        "password" => ValueKind::Password,
        "bool" => ValueKind::Bool,
        "int" => {
            let range = allowed.split_whitespace().next().unwrap_or("");
            let mut it = range.splitn(2, '-');
            match (it.next().and_then(|a| a.parse().ok()), it.next().and_then(|b| b.parse().ok())) {
                (Some(min), Some(max)) => ValueKind::Int { min, max },
                _ => ValueKind::Int { min: i64::MIN, max: i64::MAX },
            }
        }
        "enum" => {
            let codes = parse_enum_codes(allowed);
            if codes.is_empty() {
                // e.g. P145 "0/1; newer alias values ..." : treat as a free integer code.
                ValueKind::Int { min: 0, max: 9 }
            } else {
                ValueKind::Enum(codes)
            }
        }
        _ => {
            let max_len = allowed
                .strip_prefix("max ")
                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|n| n.parse().ok());
            ValueKind::Text { max_len }
        }
    }
}

/// `0=TFTP 1=HTTP 2=HTTPS (HT8xx/GXP16xx web: also 3=FTP 4=FTPS)` ->
/// [("0","TFTP"),("1","HTTP"),("2","HTTPS"),("3","FTP"),("4","FTPS")].
fn parse_enum_codes(allowed: &str) -> Vec<(String, String)> {
    // Parenthesised asides without codes ("(alias AlwaysCheck)") are not labels.
    let mut cleaned = String::with_capacity(allowed.len());
    let mut rest = allowed;
    while let Some(open) = rest.find('(') {
        cleaned.push_str(&rest[..open]);
        let close = rest[open..].find(')').map_or(rest.len(), |c| open + c + 1);
        let group = &rest[open..close];
        if group.contains('=') {
            cleaned.push_str(group);
        }
        rest = &rest[close..];
    }
    cleaned.push_str(rest);
    let cleaned = cleaned.replace(['(', ')', ':', ';', ','], " ");
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if let Some((code, first)) = words[i].split_once('=')
            && !code.is_empty()
            && code.bytes().all(|b| b.is_ascii_digit())
            && !out.iter().any(|(c, _)| c == code)
        {
            let mut label = vec![first];
            let mut j = i + 1;
            while j < words.len()
                && !words[j].contains('=')
                && !words[j].eq_ignore_ascii_case("alias")
                && !words[j].eq_ignore_ascii_case("also")
                && !words[j].ends_with("xx")
                && !words[j].eq_ignore_ascii_case("some")
            {
                label.push(words[j]);
                j += 1;
            }
            out.push((code.to_string(), label.join(" ").trim().to_string()));
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// Checks a value against a kind. Empty values are always allowed: they clear a
/// setting on the device (`P3=`).
pub fn check_value(kind: &ValueKind, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    if value.contains('\0') {
        return Err("contains a NUL character".into());
    }
    match kind {
        ValueKind::Text { max_len: Some(max) } if value.chars().count() > *max => {
            Err(format!("is {} characters long; at most {max} are allowed", value.chars().count()))
        }
        ValueKind::Text { .. } | ValueKind::Password => Ok(()),
        ValueKind::Bool => match value {
            "0" | "1" => Ok(()),
            _ => Err(format!("{value:?} is not 0 (off) or 1 (on)")),
        },
        ValueKind::Int { min, max } => match value.parse::<i64>() {
            Ok(n) if (*min..=*max).contains(&n) => Ok(()),
            Ok(n) => Err(format!("{n} is outside {min}..{max}")),
            Err(_) => Err(format!("{value:?} is not a whole number ({min}..{max})")),
        },
        ValueKind::Enum(codes) => {
            if codes.iter().any(|(c, _)| c == value) {
                Ok(())
            } else if codes.len() > 12 {
                // A time zone or language list: the whole list is no message.
                let some: Vec<String> = codes.iter().take(3).map(|(c, l)| format!("{c}={l}")).collect();
                Err(format!(
                    "{value:?} is not one of the {} values listed (such as {}, ...; `gsprov params MODEL --search` shows them all)",
                    codes.len(),
                    some.join(", ")
                ))
            } else {
                let list: Vec<String> = codes.iter().map(|(c, l)| format!("{c}={l}")).collect();
                Err(format!("{value:?} is not one of {}", list.join(", ")))
            }
        }
        ValueKind::Host => check_host_port(value),
        ValueKind::ServerPath => {
            let lower = value.to_ascii_lowercase();
            if ["tftp://", "http://", "https://", "ftp://", "ftps://"].iter().any(|s| lower.starts_with(s)) {
                return Err(
                    "must not start with a scheme (tftp://, http://, https://); the method is set by P212".into()
                );
            }
            if value.len() > 256 {
                return Err(format!("is {} characters long; at most 256 are allowed", value.len()));
            }
            let host_port = value.split('/').next().unwrap_or("");
            check_host_port(host_port)
        }
    }
}

fn check_host_port(value: &str) -> Result<(), String> {
    if value.contains(char::is_whitespace) {
        return Err(format!("{value:?} contains a space; expected host or host:port"));
    }
    // Bracketed IPv6 with optional port, bare IPv6, or host[:port].
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (h, tail) = rest.split_once(']').ok_or_else(|| format!("{value:?} has '[' without ']'"))?;
        (h, tail.strip_prefix(':'))
    } else if value.matches(':').count() > 1 {
        (value, None)
    } else {
        match value.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (value, None),
        }
    };
    if let Some(p) = port {
        match p.parse::<u16>() {
            Ok(n) if n > 0 => {}
            _ => return Err(format!("port {p:?} is not a number from 1 to 65535")),
        }
    }
    if host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let looks_like_ip =
        host.split('.').count() == 4 && host.split('.').all(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_digit()));
    if looks_like_ip {
        return Err(format!("{host:?} looks like an IPv4 address but an octet is over 255"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if host.is_empty() || host.len() > 253 || !host.trim_end_matches('.').split('.').all(label_ok) {
        return Err(format!("{host:?} is not a valid host name or IP address"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(s: &str) -> Model {
        s.parse().unwrap()
    }

    #[test]
    fn catalog_loads_every_row() {
        let c = Catalog::get();
        assert_eq!(c.params().len(), 94);
        let p212 = c.lookup("P212").unwrap();
        assert_eq!(
            p212.kind,
            ValueKind::Enum(vec![
                ("0".into(), "TFTP".into()),
                ("1".into(), "HTTP".into()),
                ("2".into(), "HTTPS".into()),
                ("3".into(), "FTP".into()),
                ("4".into(), "FTPS".into())
            ])
        );
        assert_eq!(c.lookup("P193").unwrap().kind, ValueKind::Int { min: 60, max: 5256000 });
        assert_eq!(c.lookup("P234").unwrap().kind, ValueKind::Text { max_len: Some(128) });
        assert_eq!(c.lookup("account.1.sip.server.1.address").unwrap().id, Some(PId::new(47)));
        let p238 = c.lookup("P238").unwrap();
        let ValueKind::Enum(codes) = &p238.kind else { panic!() };
        assert_eq!(codes[1], ("1".into(), "Only when F/W pre/suffix changes".into()));
    }

    #[test]
    fn validation_messages_name_the_problem() {
        let c = Catalog::get();
        assert!(c.validate("P212", "1").is_ok());
        let e = c.validate("P212", "7").unwrap_err().to_string();
        assert!(e.starts_with("P212 (Config upgrade via") && e.contains("0=TFTP"), "{e}");
        assert!(c.validate("P193", "59").unwrap_err().problem.contains("outside 60..5256000"));
        assert!(c.validate("P193", "ten").unwrap_err().problem.contains("not a whole number"));
        assert!(c.validate("P271", "yes").is_err());
        assert!(c.validate("P47", "pbx.example.com:5060").is_ok());
        assert!(c.validate("P47", "10.0.0.1").is_ok());
        assert!(c.validate("P47", "[2001:db8::1]:5060").is_ok());
        assert!(c.validate("P47", "10.0.0.300").unwrap_err().problem.contains("over 255"));
        assert!(c.validate("P47", "pbx:99999").unwrap_err().problem.contains("port"));
        assert!(c.validate("P237", "http://10.0.0.1/prov").unwrap_err().problem.contains("scheme"));
        assert!(c.validate("P237", "10.0.0.1:8080/prov/gs").is_ok());
        assert!(c.validate("P234", &"x".repeat(129)).is_err());
        assert!(c.validate("P99999", "anything").is_ok(), "unknown keys are the site's business");
        assert!(c.validate("P3", "").is_ok(), "empty clears a value");
    }

    #[test]
    fn account_layouts_follow_the_spec() {
        let c = Catalog::get();
        let gxp = model("GXP2170");
        assert_eq!(c.account_pid(&gxp, 2, PId::new(47)), Some(PId::new(402)));
        assert_eq!(c.account_pid(&gxp, 2, PId::new(35)), Some(PId::new(404)));
        assert_eq!(c.account_pid(&gxp, 2, PId::new(2312)), Some(PId::new(2412)));
        assert_eq!(c.account_pid(&gxp, 5, PId::new(34)), Some(PId::new(1706)));
        assert_eq!(c.account_pid(&gxp, 6, PId::new(3)), Some(PId::new(1807)));
        assert_eq!(c.account_pid(&gxp, 7, PId::new(3)), None);
        let ht = model("HT802");
        assert_eq!(c.account_pid(&ht, 2, PId::new(47)), Some(PId::new(747)));
        assert_eq!(c.account_pid(&ht, 2, PId::new(34)), Some(PId::new(734)));
        assert_eq!(c.account_pid(&ht, 3, PId::new(34)), None);
        assert_eq!(c.alias_of(PId::new(404)).as_deref(), Some("account.2.sip.userid"));
        assert_eq!(c.alias_of(PId::new(1807)).as_deref(), Some("account.6.sip.subscriber.name"));
        assert_eq!(c.lookup("P406").unwrap().kind, ValueKind::Password);
    }

    #[test]
    fn alias_values_for_v2() {
        let c = Catalog::get();
        assert_eq!(c.lookup("P212").unwrap().alias_value("2"), "HTTPS");
        assert_eq!(c.lookup("P271").unwrap().alias_value("1"), "Yes");
        assert_eq!(c.lookup("P4428").unwrap().alias_value("1"), "No");
        assert_eq!(c.lookup("P47").unwrap().alias_value("pbx"), "pbx");
    }

    #[test]
    fn applicability_by_family() {
        let c = Catalog::get();
        let p8463 = c.lookup("P8463").unwrap(); // HT80x, HT81x
        assert!(p8463.applies_to(&model("HT802")));
        assert!(!p8463.applies_to(&model("GXP2170")));
        let p1684 = c.lookup("P1684").unwrap(); // phones
        assert!(p1684.applies_to(&model("GXP2170")));
        assert!(!p1684.applies_to(&model("HT802")));
        assert!(c.lookup("P47").unwrap().applies_to(&model("HT802")));
    }
}
