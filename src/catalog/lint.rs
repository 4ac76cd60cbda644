//! The catalog lint: what every family's entries must be for a technician to
//! trust the forms (issue 26). Runs in `cargo test` over all 19 families;
//! a failure names the family, the key and what is wrong. Test-only.

use std::collections::HashMap;

use super::timezone::{LANGUAGE_KEYS, ZONE_KEYS};
use super::{Family, FamilyCatalog, ValueKind};

/// Labels that are a column heading, a note or a type line, not a setting's name.
const JUNK: [&str; 6] = ["web gui option", "note:", "default:", "number:", "string:", "p value"];

fn problems(family: Family) -> Vec<String> {
    let t = FamilyCatalog::get(family);
    let mut out = Vec::new();
    let mut by_label: HashMap<(String, String), String> = HashMap::new();
    for p in t.params() {
        let key = p.key();
        let lower = p.label.to_ascii_lowercase();
        if p.label.trim().is_empty() {
            out.push(format!("{family} {key}: empty label"));
        }
        if let Some(j) = JUNK.iter().find(|j| lower.contains(*j) || lower.starts_with(j.trim_end_matches(':'))) {
            out.push(format!("{family} {key}: label {:?} is {j:?} text, not a name", p.label));
        }
        if let ValueKind::Enum(codes) = &p.kind
            && codes.iter().any(|(c, m)| lower == m.to_ascii_lowercase() || lower == c.to_ascii_lowercase())
        {
            out.push(format!("{family} {key}: label {:?} is one of its own values", p.label));
        }
        if p.id.is_some()
            && let Some(other) = by_label.insert((p.section.clone(), lower.clone()), key.clone())
        {
            out.push(format!("{family} {key} and {other}: same label {:?} in section {:?}", p.label, p.section));
        }
        // Codes listed (allowed shows `code=meaning`) but not offered as a choice.
        if p.allowed.contains('=') && !matches!(p.kind, ValueKind::Enum(_)) {
            out.push(format!("{family} {key}: lists codes ({}) but is {:?}", p.allowed, p.kind));
        }
        // `Number: 0, 1` kept as a number.
        if matches!(p.kind, ValueKind::Int { min: 0, max: 1 }) && p.ranges.is_empty() {
            out.push(format!("{family} {key}: a 0/1 switch typed as a number"));
        }
    }
    out
}

#[test]
fn every_family_is_labelled_and_typed_like_its_web_ui() {
    let all: Vec<String> = Family::ALL.iter().flat_map(|f| problems(*f)).collect();
    assert!(all.is_empty(), "{} catalog problems:\n{}", all.len(), all.join("\n"));
}

/// The zone and language lists are the values of their entries wherever the
/// family's templates list them (GXP20xx's P64 is a number of minutes and
/// lists none; the ATAs and gateways list no languages).
#[test]
fn time_zone_and_language_lists_are_catalog_values() {
    let listed = |f: Family, keys: &[&str]| {
        keys.iter().filter_map(|k| FamilyCatalog::get(f).get_key(k)).find_map(|p| match &p.kind {
            ValueKind::Enum(c) => Some(c.len()),
            _ => None,
        })
    };
    for f in Family::ALL {
        let zones = listed(f, &ZONE_KEYS);
        if f == Family::Gxp20xx {
            assert_eq!(zones, None, "{f}");
            continue;
        }
        assert!(zones.is_some_and(|n| n > 30), "{f}: time zones {zones:?}");
    }
    for f in [
        Family::Gxp21xx,
        Family::Gxp16xx,
        Family::Gxp17xx,
        Family::Gxp14xx,
        Family::Gxp11xx,
        Family::Grp26xx,
        Family::Wp8xx,
        Family::Gxv,
        Family::Gac25xx,
        Family::Gxw42xx,
    ] {
        assert!(listed(f, &LANGUAGE_KEYS).is_some_and(|n| n >= 4), "{f}: languages");
    }
    // Where a family has P1362 at all, it is a list.
    for f in Family::ALL {
        if let Some(p) = FamilyCatalog::get(f).get_key("P1362") {
            assert!(matches!(p.kind, ValueKind::Enum(_)), "{f}: P1362 is {:?}", p.kind);
        }
    }
    let gxp = FamilyCatalog::get(Family::Gxp21xx).get_key("P64").unwrap();
    assert_eq!(gxp.label, "Time Zone");
    let ValueKind::Enum(z) = &gxp.kind else { panic!("{:?}", gxp.kind) };
    assert_eq!(z[0], ("auto".to_string(), "Automatic".to_string()));
}

/// The switches and choices issue 26 found typed wrong.
#[test]
fn switches_are_switches_wherever_they_exist() {
    for f in Family::ALL {
        let t = FamilyCatalog::get(f);
        for k in ["P143", "P144", "P8463", "P22030"] {
            if let Some(p) = t.get_key(k) {
                assert!(matches!(p.kind, ValueKind::Bool | ValueKind::Enum(_)), "{f} {k}: {:?}", p.kind);
            }
        }
    }
    let gxp = FamilyCatalog::get(Family::Gxp21xx);
    let p194 = gxp.get_key("P194").unwrap();
    assert!(matches!(&p194.kind, ValueKind::Enum(c) if c.len() == 4), "{:?}", p194.kind);
    let p238 = gxp.get_key("P238").unwrap();
    let ValueKind::Enum(c) = &p238.kind else { panic!("{:?}", p238.kind) };
    assert!(c.iter().any(|(k, _)| k == "1"), "{c:?}");
    assert!(!c.iter().any(|(_, m)| m.contains("Checkv")), "{c:?}");
    assert_ne!(gxp.get_key("P51").unwrap().label, gxp.get_key("P87").unwrap().label);
    // One family's label, not one written for three.
    assert_eq!(gxp.get_key("P22030").unwrap().label, "Validate Hostname in Certificate");
}

/// The corrections issue 26 asked for, as the public templates state them:
/// grp26xx 1.0.3.6 "Validate Server Certificates ... Default is 0" and
/// "Allow DHCP Option 43 and Option 66 ... 2 - Prefer, fallback when failed";
/// gxp16xx 1.0.4.33 / grp26xx "Additional Override DHCP Option ... 2 - Option
/// 160"; grp2612 1.0.9.103 (GRP261x) has no P8337 but P1007/P1008/P1009
/// "Enable DHCP Option 150/160/161 ... No or Yes".
#[test]
fn corrections_from_the_public_templates() {
    let grp = FamilyCatalog::get(Family::Grp26xx);
    assert_eq!(grp.get_key("P8463").unwrap().default, "0");
    let ValueKind::Enum(p145) = &grp.get_key("P145").unwrap().kind else { panic!() };
    assert!(p145.iter().any(|(c, m)| c == "2" && m.starts_with("Prefer")), "{p145:?}");
    for f in [Family::Gxp16xx, Family::Grp26xx] {
        let ValueKind::Enum(p8337) = &FamilyCatalog::get(f).get_key("P8337").unwrap().kind else { panic!("{f}") };
        assert!(p8337.contains(&("2".to_string(), "Option 160".to_string())), "{f}: {p8337:?}");
    }
    for (k, option) in [("P1007", "150"), ("P1008", "160"), ("P1009", "161")] {
        let p = grp.get_key(k).unwrap();
        assert_eq!(p.kind, ValueKind::Bool, "{k}");
        assert_eq!(p.label, format!("Enable DHCP Option {option}"));
    }
}
