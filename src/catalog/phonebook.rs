//! The phonebook download settings of each family: which P330 code selects
//! HTTP, HTTPS or TFTP ("Enable Phonebook XML Download"; the codes differ
//! between families), and what P332 (the download interval) accepts.
//!
//! Read from the family's template facts (`assets/catalog/<Family>.json`), not
//! written down a second time: GXP/GRP/DP75x/WP8xx say 0 No, 1 HTTP, 2 TFTP,
//! 3 HTTPS; GXV3240 says 0 OFF, 1 TFTP, 2 HTTP; GAC2500 0 OFF, 1 TFTP, 2 HTTP,
//! 3 HTTPS; GXP20xx has no HTTPS. Families whose templates name no P330 (the
//! ATAs, gateways, DP71x, GHP6xx) have no phonebook download. Pure.

use super::family::Family;
use super::table::FamilyCatalog;

/// How a device downloads the phonebook (the protocol part of P330).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tftp,
    Http,
    Https,
}

/// One family's phonebook download settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhonebookSettings {
    pub family: Family,
    /// The P330 code of each transport the family offers.
    pub modes: Vec<(Transport, String)>,
    /// P332's allowed ranges (minutes), as the template states them; empty: not stated.
    pub interval_ranges: Vec<(i64, i64)>,
    /// P332 counts hours, not minutes (GXP20xx: "an integer variable in hours").
    pub interval_in_hours: bool,
}

impl PhonebookSettings {
    /// The family's settings, `None` when its templates name no P330.
    pub fn of(family: Family) -> Option<PhonebookSettings> {
        let table = FamilyCatalog::get(family);
        let p330 = table.get_key("P330")?;
        let super::ValueKind::Enum(codes) = &p330.kind else { return None };
        let mut modes = Vec::new();
        for (code, meaning) in codes {
            let m = meaning.to_ascii_uppercase();
            let t = if m.contains("HTTPS") {
                Transport::Https
            } else if m.contains("HTTP") {
                Transport::Http
            } else if m.contains("TFTP") {
                Transport::Tftp
            } else {
                continue;
            };
            modes.push((t, code.clone()));
        }
        if modes.is_empty() {
            return None;
        }
        let p332 = table.get_key("P332");
        let mut interval_ranges = p332.map(|p| p.ranges.clone()).unwrap_or_default();
        if interval_ranges.is_empty()
            && let Some(super::ValueKind::Int { min, max }) = p332.map(|p| &p.kind)
        {
            interval_ranges.push((*min, *max));
        }
        Some(PhonebookSettings { family, modes, interval_ranges, interval_in_hours: family == Family::Gxp20xx })
    }

    /// The P330 code that makes the device download over `t`.
    pub fn code(&self, t: Transport) -> Option<&str> {
        self.modes.iter().find(|(m, _)| *m == t).map(|(_, c)| c.as_str())
    }

    /// The P332 value for an interval of `minutes`, or why the family refuses it.
    pub fn interval(&self, minutes: u32) -> Result<String, String> {
        let value = if self.interval_in_hours { minutes.div_ceil(60) } else { minutes };
        let v = i64::from(value);
        if self.interval_ranges.is_empty() || self.interval_ranges.iter().any(|(a, b)| (*a..=*b).contains(&v)) {
            return Ok(value.to_string());
        }
        let allowed: Vec<String> =
            self.interval_ranges.iter().map(|(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }).collect();
        Err(format!(
            "{} accepts a phonebook download interval (P332) of {} minutes, not {minutes}",
            self.family,
            allowed.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes as each family's template states them (the P330 comment lines of
    /// gxp16xx, gxv3240, gac2500, gxp20xx, dp750, wp820 in the templates folder).
    #[test]
    fn p330_codes_follow_each_familys_template() {
        let code = |f: Family, t: Transport| PhonebookSettings::of(f).and_then(|s| s.code(t).map(str::to_string));
        for f in [Family::Gxp16xx, Family::Gxp21xx, Family::Grp26xx, Family::Dp75x, Family::Wp8xx, Family::Gxp14xx] {
            assert_eq!(code(f, Transport::Http).as_deref(), Some("1"), "{f}");
            assert_eq!(code(f, Transport::Tftp).as_deref(), Some("2"), "{f}");
            assert_eq!(code(f, Transport::Https).as_deref(), Some("3"), "{f}");
        }
        assert_eq!(code(Family::Gxv, Transport::Tftp).as_deref(), Some("1"));
        assert_eq!(code(Family::Gxv, Transport::Http).as_deref(), Some("2"));
        assert_eq!(code(Family::Gxv, Transport::Https), None);
        assert_eq!(code(Family::Gac25xx, Transport::Tftp).as_deref(), Some("1"));
        assert_eq!(code(Family::Gac25xx, Transport::Https).as_deref(), Some("3"));
        assert_eq!(code(Family::Gxp20xx, Transport::Https), None);
        for f in [Family::Ht80x, Family::Ht81x, Family::Gxw42xx, Family::Dp71x, Family::Ghp6xx] {
            assert_eq!(PhonebookSettings::of(f), None, "{f}");
        }
    }

    #[test]
    fn the_interval_follows_the_familys_ranges_and_units() {
        let gxp = PhonebookSettings::of(Family::Gxp16xx).unwrap();
        assert_eq!(gxp.interval(720).as_deref(), Ok("720"));
        assert!(gxp.interval(721).unwrap_err().contains("0, 5-720"), "{:?}", gxp.interval(721));
        // WP8xx: 0, 120, 240, 360, 480, 720 only (wp820 template).
        let wp = PhonebookSettings::of(Family::Wp8xx).unwrap();
        assert_eq!(wp.interval(240).as_deref(), Ok("240"));
        assert!(wp.interval(30).is_err());
        // GXP20xx counts hours (gxp20xx template: "an integer variable in hours").
        assert_eq!(PhonebookSettings::of(Family::Gxp20xx).unwrap().interval(720).as_deref(), Ok("12"));
    }
}
