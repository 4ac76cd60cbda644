//! Public vulnerabilities in the firmware whose web API gsprov talks to
//! (`check-device`, the firmware view): which family, which versions, what it
//! exposes, the fixed version and the public source. Pure data; a version the
//! list does not know is not flagged (absence of a flag is no all-clear).

use super::family::Family;
use crate::ids::Model;

/// One advisory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advisory {
    pub id: &'static str,
    pub family: Family,
    /// The first version with the fix; every older version is affected.
    pub fixed_in: [u8; 4],
    pub what: &'static str,
    pub source: &'static str,
}

/// CVE-2026-2329: GXP1610/1615/1620/1625/1628/1630, a stack buffer overflow
/// in the web API service, unauthenticated, root code execution; fixed in
/// 1.0.7.81 (Rapid7's disclosure, Feb 2026, as reported by Dark Reading /
/// ictsec.pl and others).
pub const ADVISORIES: [Advisory; 1] = [Advisory {
    id: "CVE-2026-2329",
    family: Family::Gxp16xx,
    fixed_in: [1, 0, 7, 81],
    what: "unauthenticated remote code execution as root through the web API (stack buffer overflow); \
           SIP credentials stored on the unit can be read",
    source: "https://ictsec.pl/posts/Critical-Grandstream-VoIP-Bug-Highlights-SMB-Security-Blind-Spot",
}];

fn parse(version: &str) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut parts = version.trim().split('.');
    for o in &mut out {
        *o = parts.next()?.trim().parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// The advisories `model` running `version` is affected by.
pub fn affecting(model: &Model, version: &str) -> Vec<&'static Advisory> {
    let Some(v) = parse(version) else { return Vec::new() };
    let family = Family::of_model(model).family;
    ADVISORIES.iter().filter(|a| a.family == family && v < a.fixed_in).collect()
}

/// One line per advisory: `CVE-2026-2329: firmware 1.0.7.79 ... (fixed in 1.0.7.81; source)`.
pub fn warnings(model: &Model, version: &str) -> Vec<String> {
    affecting(model, version)
        .into_iter()
        .map(|a| {
            let [x, y, z, w] = a.fixed_in;
            format!(
                "{}: firmware {} of the {model} has a public vulnerability: {}; upgrade to {x}.{y}.{z}.{w} or later ({})",
                a.id,
                version.trim(),
                a.what,
                a.source
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gxp16xx_before_1_0_7_81_is_flagged_and_nothing_else() {
        let gxp1625: Model = "GXP1625".parse().unwrap();
        assert_eq!(affecting(&gxp1625, "1.0.7.79").len(), 1);
        assert!(warnings(&gxp1625, "1.0.4.33")[0].starts_with("CVE-2026-2329: firmware 1.0.4.33 of the GXP1625"));
        assert!(affecting(&gxp1625, "1.0.7.81").is_empty(), "the fixed version");
        assert!(affecting(&gxp1625, "1.0.8.2").is_empty());
        assert!(affecting(&gxp1625, "garbage").is_empty());
        assert!(affecting(&"GXP2170".parse().unwrap(), "1.0.7.79").is_empty(), "another family");
    }
}
