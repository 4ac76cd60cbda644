//! Time and region checks: a layer that sets the time zone (P64) or the NTP
//! server (P30) while the devices it reaches still let DHCP override it
//! (P143 for DHCP option 2 over the time zone, P144 for option 42 over NTP,
//! left at a default of 1, or at a default their template does not state).
//! The office router's DHCP then silently replaces what the technician set.
//! Warnings, not refusals; the fix sets the override to 0 at the same level.
//!
//! Facts: `catalog::timezone` (P143/P144 labels and per-family defaults from
//! the templates). Pure.

use std::collections::BTreeSet;

use super::{Effective, Issue, Layer, Severity, Site, Values};
use crate::catalog::Family;
use crate::catalog::timezone::{DHCP_OVERRIDES, OverrideDefault, override_default};

/// One layer setting what DHCP may override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpOverrideFinding {
    pub layer: Layer,
    /// The value set (`P64`, `P30`).
    pub guarded: &'static str,
    /// The override left on (`P143`, `P144`).
    pub key: &'static str,
    /// Families of the reached devices whose default is 1.
    pub on_by_default: Vec<Family>,
    /// Families that have the setting but whose template states no default.
    pub unstated: Vec<Family>,
    /// `defaults`, `models.GXP2170`, `device 2 000b82... (Lobby)`.
    pub location: String,
    pub option: &'static str,
    pub what: &'static str,
}

impl DhcpOverrideFinding {
    /// The one-click fix: `(key, "0")` in the same layer.
    pub fn fix(&self) -> (&'static str, &'static str) {
        (self.key, "0")
    }

    /// The button text.
    pub fn fix_label(&self) -> String {
        format!("Set {} = 0 at this level", self.key)
    }

    pub fn message(&self) -> String {
        let mut why = Vec::new();
        if !self.on_by_default.is_empty() {
            why.push(format!("{} defaults to 1 on {}", self.key, names(&self.on_by_default)));
        }
        if !self.unstated.is_empty() {
            why.push(format!("the {} template states no default for {}", names(&self.unstated), self.key));
        }
        format!(
            "{} is set here, but {} may override the {}: {}; the site's DHCP server then replaces the {} set \
             here. Fix: set {} = 0 at the same level",
            self.guarded,
            self.option,
            self.what,
            why.join(", and "),
            self.what,
            self.key
        )
    }
}

fn names(f: &[Family]) -> String {
    f.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
}

/// Which of [`DHCP_OVERRIDES`]' keys one device's layered values leave unset,
/// by index: all [`Site::dhcp_overrides`] needs of a device's effective, so the
/// check computes each effective once for this and the key checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverridesUnset([bool; DHCP_OVERRIDES.len()]);

impl OverridesUnset {
    pub fn of(eff: &Effective) -> OverridesUnset {
        OverridesUnset(DHCP_OVERRIDES.map(|o| eff.get(o.key).is_none()))
    }
}

impl Site {
    /// Every layer that sets P64 (other than `auto`) or P30 while a device it
    /// reaches leaves the matching DHCP override unset with a default that is
    /// (or may be) 1.
    pub fn dhcp_overrides(&self) -> Vec<DhcpOverrideFinding> {
        let mut layering = self.layering();
        let unset: Vec<OverridesUnset> =
            self.devices.iter().map(|d| OverridesUnset::of(&layering.effective(d))).collect();
        self.dhcp_overrides_given(&unset)
    }

    /// [`Site::dhcp_overrides`], given what each device (by index) leaves unset.
    pub(super) fn dhcp_overrides_given(&self, unset: &[OverridesUnset]) -> Vec<DhcpOverrideFinding> {
        debug_assert_eq!(unset.len(), self.devices.len());
        // Each layer with its device's index (a MAC may be listed twice), which names it.
        let mut layers: Vec<(Layer, &Values, usize)> = vec![(Layer::Defaults, &self.defaults, 0)];
        // A template key that is no model name reaches no device: no finding.
        layers.extend(self.models.iter().filter_map(|(m, v)| Some((Layer::Model(m.parse().ok()?), v, 0))));
        layers.extend(self.devices.iter().enumerate().map(|(i, d)| (Layer::Device(d.mac), &d.values, i)));
        let location = |layer: &Layer, i: usize| match layer {
            Layer::Defaults => "defaults".to_string(),
            Layer::Model(m) => format!("models.{}", self.model_key(m).unwrap_or(m.as_str())),
            Layer::Device(_) => format!("{}.values", super::device_location(i, &self.devices[i])),
        };
        let mut out = Vec::new();
        for (layer, values, i) in layers {
            for (oi, o) in DHCP_OVERRIDES.iter().enumerate() {
                let guarded = o.guards[0];
                let set = values.get(guarded).map(str::trim).filter(|v| !v.is_empty());
                // `auto` asks for the automatic time zone: nothing of the technician's to override.
                if set.is_none_or(|v| guarded == "P64" && v.eq_ignore_ascii_case("auto")) {
                    continue;
                }
                let (mut on, mut unstated) = (BTreeSet::new(), BTreeSet::new());
                for (d, _) in self.devices.iter().zip(unset).filter(|(d, u)| u.0[oi] && reaches(&layer, d)) {
                    let family = Family::of_model(&d.model).family;
                    match override_default(family, o.key) {
                        OverrideDefault::On => on.insert(family),
                        OverrideDefault::Unstated => unstated.insert(family),
                        OverrideDefault::Off | OverrideDefault::Absent => false,
                    };
                }
                if on.is_empty() && unstated.is_empty() {
                    continue;
                }
                out.push(DhcpOverrideFinding {
                    location: location(&layer, i),
                    layer: layer.clone(),
                    guarded,
                    key: o.key,
                    on_by_default: on.into_iter().collect(),
                    unstated: unstated.into_iter().collect(),
                    option: o.option,
                    what: o.what,
                });
            }
        }
        out
    }

    /// [`Site::dhcp_overrides`] as check warnings (also printed by `serve` and `generate`).
    pub fn dhcp_override_issues(&self) -> Vec<Issue> {
        issues_of(&self.dhcp_overrides())
    }
}

/// Findings as check warnings.
pub(super) fn issues_of(findings: &[DhcpOverrideFinding]) -> Vec<Issue> {
    findings
        .iter()
        .map(|f| Issue {
            severity: Severity::Warning,
            location: format!("{}.{}", f.location, f.guarded),
            message: f.message(),
        })
        .collect()
}

fn reaches(layer: &Layer, d: &super::Device) -> bool {
    match layer {
        Layer::Defaults => true,
        Layer::Model(m) => d.model == *m,
        Layer::Device(mac) => d.mac == *mac,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The findings as first written: every device layered afresh for every
    /// layer and override it is reached by.
    fn layered_per_finding(site: &Site) -> Vec<DhcpOverrideFinding> {
        let mut layers: Vec<(Layer, &Values, String)> = vec![(Layer::Defaults, &site.defaults, "defaults".into())];
        layers.extend(
            site.models.iter().filter_map(|(m, v)| Some((Layer::Model(m.parse().ok()?), v, format!("models.{m}")))),
        );
        layers.extend(site.devices.iter().enumerate().map(|(i, d)| {
            (Layer::Device(d.mac), &d.values, format!("{}.values", super::super::device_location(i, d)))
        }));
        let mut out = Vec::new();
        for (layer, values, location) in layers {
            for o in DHCP_OVERRIDES {
                let guarded = o.guards[0];
                let set = values.get(guarded).map(str::trim).filter(|v| !v.is_empty());
                if set.is_none_or(|v| guarded == "P64" && v.eq_ignore_ascii_case("auto")) {
                    continue;
                }
                let (mut on, mut unstated) = (BTreeSet::new(), BTreeSet::new());
                for d in site.devices.iter().filter(|d| reaches(&layer, d)) {
                    if site.effective(d).get(o.key).is_some() {
                        continue;
                    }
                    let family = Family::of_model(&d.model).family;
                    match override_default(family, o.key) {
                        OverrideDefault::On => on.insert(family),
                        OverrideDefault::Unstated => unstated.insert(family),
                        OverrideDefault::Off | OverrideDefault::Absent => false,
                    };
                }
                if on.is_empty() && unstated.is_empty() {
                    continue;
                }
                out.push(DhcpOverrideFinding {
                    layer: layer.clone(),
                    guarded,
                    key: o.key,
                    on_by_default: on.into_iter().collect(),
                    unstated: unstated.into_iter().collect(),
                    location: location.clone(),
                    option: o.option,
                    what: o.what,
                });
            }
        }
        out
    }

    #[test]
    fn findings_from_one_layering_per_device_equal_layering_per_finding() {
        let mut site = crate::site::demo();
        site.defaults.set("P64", "CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00");
        // A model layer that sets NTP, one whose template turns the override off,
        // a device that sets both, one that turns P143 off in its own values, and
        // a MAC listed twice (each listing is named by its own index).
        let models: Vec<String> = site.devices.iter().map(|d| d.model.as_str().to_string()).collect();
        let (a, b) = (models[0].clone(), models.iter().find(|m| **m != models[0]).expect("two models").clone());
        site.models.entry(a).or_default().set("P30", "ntp.a.example");
        site.models.entry(b).or_default().set("P144", "0");
        site.devices[0].values.set("P30", "ntp.device.example");
        site.devices[0].values.set("P64", "EST5EDT");
        site.devices[1].values.set("P143", "0");
        let twice = site.devices[2].clone();
        site.devices.push(twice);
        let site_issues = site.check();
        let want = layered_per_finding(&site);
        assert!(want.len() >= 3, "a finding per kind of layer: {want:#?}");
        assert!(want.iter().any(|f| matches!(f.layer, Layer::Model(_))), "{want:#?}");
        assert!(want.iter().any(|f| matches!(f.layer, Layer::Device(_))), "{want:#?}");
        assert_eq!(site.dhcp_overrides(), want);
        let issues = site.dhcp_override_issues();
        assert_eq!(site.check_keeping_dhcp_overrides().1, issues);
        let in_check: Vec<&Issue> = site_issues.iter().filter(|i| issues.contains(i)).collect();
        assert_eq!(in_check.len(), issues.len(), "the check carries every finding: {site_issues:#?}");
    }

    #[test]
    fn a_time_zone_with_p143_left_at_its_default_warns_and_the_fix_clears_it() {
        let mut site = crate::site::demo();
        // The demo's P30 reaches GXP21xx and GXP16xx phones, whose P144 defaults to 1.
        let ntp: Vec<_> = site.dhcp_overrides().into_iter().filter(|f| f.key == "P144").collect();
        assert_eq!(ntp.len(), 1, "{ntp:?}");
        assert_eq!(ntp[0].layer, Layer::Defaults);
        assert!(ntp[0].on_by_default.contains(&Family::Gxp16xx), "{ntp:?}");
        assert!(!ntp[0].on_by_default.contains(&Family::Ht80x), "HT80x: Default is No");
        assert!(site.dhcp_overrides().iter().all(|f| f.key != "P143"), "P64 = auto overrides nothing");
        site.defaults.set("P64", "CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00");
        let tz = site.dhcp_overrides().into_iter().find(|f| f.key == "P143").expect("a P143 finding");
        assert!(tz.on_by_default.contains(&Family::Gxp16xx));
        assert!(tz.unstated.contains(&Family::Gxp21xx), "{tz:?}");
        assert!(tz.message().contains("P143 defaults to 1 on GXP16xx"), "{}", tz.message());
        let issues = site.check();
        assert!(issues.iter().any(|i| i.location == "defaults.P64" && i.severity == Severity::Warning), "{issues:#?}");
        let (k, v) = tz.fix();
        site.defaults.set(k, v);
        assert!(site.dhcp_overrides().iter().all(|f| f.key != "P143"));
        // A device that sets its own NTP server is named at its own level.
        site.defaults.set("P144", "0");
        site.devices[0].values.set("P30", "ntp.example");
        assert!(site.dhcp_overrides().is_empty(), "P144 = 0 from the defaults reaches it");
    }
}
