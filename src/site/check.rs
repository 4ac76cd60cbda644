//! Validation: [`Site::check`] names every problem with where it is (keys and
//! values against each family they reach, text fields, duplicate MACs,
//! accounts, `[firmware]`, the phonebook, programmable keys, DHCP overrides),
//! and [`Site::exposure`] where secrets go out unprotected.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::{BinaryMode, Device, Encrypt, Site, Values, canonical_key, keys, region};
use crate::catalog::{self, Catalog};
use crate::formats::xml::Version as XmlVersion;
use crate::ids::{Family, Mac, Model};

/// The template families a layer's values reach, each with the site's models
/// that bring it there (defaults reach every family in the site).
#[derive(Debug, Default)]
struct Reach(BTreeMap<catalog::Family, Vec<String>>);

impl Reach {
    fn of(models: &[Model]) -> Reach {
        let mut r: BTreeMap<catalog::Family, Vec<String>> = BTreeMap::new();
        for m in models {
            let list = r.entry(catalog::Family::of_model(m).family).or_default();
            if !list.iter().any(|x| x == m.as_str()) {
                list.push(m.as_str().to_string());
            }
        }
        Reach(r)
    }

    fn describe(family: catalog::Family, models: &[String]) -> String {
        format!("{family} ({})", models.join(", "))
    }
}

/// ` (did you mean X?)` for a key that is one typo from a known one, else "".
fn did_you_mean(cat: &'static Catalog, key: &str, families: &[catalog::Family]) -> String {
    cat.nearest_key(key, families).map(|k| format!(" (did you mean {k}?)")).unwrap_or_default()
}

/// Checks one value against every family it reaches; with no devices or model
/// templates yet, against the curated catalog. A value some families do not know
/// is a warning naming them: those devices ignore it.
fn check_value_in(
    cat: &'static Catalog,
    key: &str,
    value: &str,
    at: &dyn Fn() -> String,
    reach: &Reach,
    out: &mut Vec<Issue>,
) {
    if reach.0.is_empty() {
        if cat.lookup(key).is_none() {
            out.push(Issue {
                severity: Severity::Warning,
                location: at(),
                message: format!(
                    "{key} is not in the catalog; it is passed to the device as a raw override{}",
                    did_you_mean(cat, key, &[])
                ),
            });
        }
        if let Err(e) = cat.validate(key, value) {
            out.push(Issue { severity: Severity::Error, location: at(), message: e.to_string() });
        }
        return;
    }
    let mut unknown = Vec::new();
    let several = reach.0.len() > 1;
    for (family, models) in &reach.0 {
        match cat.lookup_in(*family, key) {
            None => unknown.push(Reach::describe(*family, models)),
            Some(p) => {
                if let Err(e) = p.validate(key, value) {
                    let message = if several {
                        format!("on {}: {e}", Reach::describe(*family, models))
                    } else {
                        format!("{e} (on {family})")
                    };
                    out.push(Issue { severity: Severity::Error, location: at(), message });
                }
            }
        }
    }
    if unknown.len() == reach.0.len() {
        out.push(Issue {
            severity: Severity::Warning,
            location: at(),
            message: format!(
                "{key} is not in the catalog for {}; it is passed to the device as a raw override{}",
                unknown.join(", "),
                did_you_mean(cat, key, &reach.0.keys().copied().collect::<Vec<_>>())
            ),
        });
    } else if !unknown.is_empty() {
        out.push(Issue {
            severity: Severity::Warning,
            location: at(),
            message: format!(
                "{key} is not a setting of {} (not in its template); those devices ignore it",
                unknown.join(", ")
            ),
        });
    }
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem found by [`Site::check`], with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    /// e.g. `device 3 000b82123456 (Reception).values.P212`.
    pub location: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        // Locations and messages quote site text (labels, values): through the
        // one terminal-safe escaper, so an ESC, BEL or newline in a label can
        // neither drive the terminal nor forge a line, whichever command prints it.
        write!(f, "{s}: {}: {}", crate::formats::printable(&self.location), crate::formats::printable(&self.message))
    }
}

/// Why a text field of the site cannot be used: a control character (ESC,
/// BEL, a newline in a one-line field...). Such characters forge log and
/// terminal lines and break the generated files, so `check`, `import` and
/// `generate` refuse them alike. `multiline` allows newlines and tabs (notes).
pub fn text_problem(value: &str, multiline: bool) -> Option<String> {
    let c = value.chars().find(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))?;
    Some(format!(
        "contains the control character U+{:04X} ({}); remove it (a copy-paste from a terminal or spreadsheet?)",
        c as u32,
        c.escape_default()
    ))
}

impl Site {
    fn reach_of_defaults(&self) -> Reach {
        let mut models: Vec<Model> = self.devices.iter().map(|d| d.model.clone()).collect();
        models.extend(self.models.keys().filter_map(|m| m.parse().ok()));
        Reach::of(&models)
    }

    /// Every problem in the site, errors first. An empty list means "ready".
    pub fn check(&self) -> Vec<Issue> {
        self.check_keeping_dhcp_overrides().0
    }

    /// [`Site::check`], and apart from it its DHCP-override warnings
    /// ([`Site::dhcp_override_issues`]), which front ends print wherever files
    /// go out: the check layers every device once for them and for the key
    /// checks, and a front end need not layer the site again to print them.
    pub fn check_keeping_dhcp_overrides(&self) -> (Vec<Issue>, Vec<Issue>) {
        let mut out = Vec::new();
        let cat = Catalog::get();
        // Locations are built only for an issue: a clean 10,000-device site has none to name.
        let text = |loc: &dyn Fn() -> String, v: &str, multiline: bool, out: &mut Vec<Issue>| {
            if let Some(message) = text_problem(v, multiline) {
                out.push(Issue { severity: Severity::Error, location: loc(), message });
            }
        };
        text(&|| "name".into(), &self.name, false, &mut out);
        let check_values = |loc: &dyn Fn() -> String, values: &Values, reach: &Reach, out: &mut Vec<Issue>| {
            for (k, v) in values.0.iter().filter(|(k, _)| !catalog::keys::is_key_setting(k)) {
                let at = || format!("{}.{k}", loc());
                if let Some(message) = text_problem(k, false).or_else(|| text_problem(v, false)) {
                    out.push(Issue { severity: Severity::Error, location: at(), message });
                    continue;
                }
                match canonical_key(k) {
                    Err(e) => out.push(Issue { severity: Severity::Error, location: at(), message: e.to_string() }),
                    Ok(key) => {
                        if key == "P26015" && v.trim() == "1" {
                            out.push(Issue {
                                severity: Severity::Warning,
                                location: at(),
                                message: "P26015 (Allow SIP Reset) = 1 lets a SIP NOTIFY factory-reset the device; gsprov never sends one, but set it to 0 unless you need it".into(),
                            });
                        }
                        check_value_in(cat, &key, v, &at, reach, out);
                    }
                }
            }
        };
        for m in self.models.keys() {
            if let Ok(model) = m.parse::<Model>()
                && let Some(w) = catalog::Family::of_model(&model).warning(&model)
            {
                out.push(Issue { severity: Severity::Warning, location: format!("models.{m}"), message: w });
            }
        }
        check_values(&|| "defaults".into(), &self.defaults, &self.reach_of_defaults(), &mut out);
        for (m, values) in &self.models {
            if let Err(e) = m.parse::<Model>() {
                out.push(Issue { severity: Severity::Error, location: format!("models.{m}"), message: e.to_string() });
            }
            let reach = m.parse::<Model>().map(|model| Reach::of(std::slice::from_ref(&model))).unwrap_or_default();
            check_values(&|| format!("models.{m}"), values, &reach, &mut out);
        }
        let mut seen: BTreeMap<Mac, usize> = BTreeMap::new();
        for (i, d) in self.devices.iter().enumerate() {
            let loc = || device_location(i, d);
            if let Some(first) = seen.insert(d.mac, i) {
                out.push(Issue {
                    severity: Severity::Error,
                    location: loc(),
                    message: format!("MAC {} is listed twice (also device {})", d.mac.colon(), first + 1),
                });
            }
            if !d.mac.is_grandstream() {
                out.push(Issue {
                    severity: Severity::Warning,
                    location: format!("{}.mac", loc()),
                    message: format!(
                        "{} is not a Grandstream OUI (00:0B:82, C0:74:AD, EC:74:D7); check the label",
                        d.mac.colon()
                    ),
                });
            }
            if let Some(w) = catalog::Family::of_model(&d.model).warning(&d.model) {
                out.push(Issue { severity: Severity::Warning, location: format!("{}.model", loc()), message: w });
            }
            check_values(
                &|| format!("{}.values", loc()),
                &d.values,
                &Reach::of(std::slice::from_ref(&d.model)),
                &mut out,
            );
            text(&|| format!("{}.label", loc()), &d.label, false, &mut out);
            text(&|| format!("{}.location", loc()), &d.location, false, &mut out);
            text(&|| format!("{}.notes", loc()), &d.notes, true, &mut out);
            for (ai, a) in d.accounts.iter().enumerate() {
                for (field, v) in [
                    ("user_id", &a.user_id),
                    ("auth_id", &a.auth_id),
                    ("password", &a.password),
                    ("display_name", &a.display_name),
                    ("name", &a.name),
                    ("sip_server", &a.sip_server),
                ] {
                    text(&|| format!("{} account {}.{field}", loc(), ai + 1), v, false, &mut out);
                }
            }
            let lines = usize::from(d.model.lines());
            let phone_like = matches!(d.model.family(), Family::Phone | Family::AndroidPhone);
            if d.accounts.len() > lines && !phone_like {
                out.push(Issue {
                    severity: Severity::Error,
                    location: format!("{}.accounts", loc()),
                    message: format!("{} has {lines} port(s) but {} accounts are listed", d.model, d.accounts.len()),
                });
            }
            for (ai, a) in d.accounts.iter().enumerate() {
                let aloc = || format!("{} account {}", loc(), ai + 1);
                if a.active && a.user_id.is_empty() {
                    out.push(Issue {
                        severity: Severity::Warning,
                        location: aloc(),
                        message: "active account without a user ID".into(),
                    });
                }
                if !a.sip_server.is_empty()
                    && let Err(p) = crate::catalog::check_value(&crate::catalog::ValueKind::Host, &a.sip_server)
                {
                    out.push(Issue {
                        severity: Severity::Error,
                        location: format!("{}.sip_server", aloc()),
                        message: p,
                    });
                }
                if phone_like && ai >= 6 && self.provisioning.xml_version == XmlVersion::V1 {
                    out.push(Issue {
                        severity: Severity::Warning,
                        location: aloc(),
                        message: format!("account {} exists only as an XML v2 alias; set provisioning.xml_version = \"v2\" or it is left out", ai + 1),
                    });
                }
            }
        }
        // Each device is layered once, for the key checks and the DHCP overrides.
        let mut unset = Vec::with_capacity(self.devices.len());
        out.extend(keys::check(self, &mut |_, eff| unset.push(region::OverridesUnset::of(eff))));
        out.extend(self.check_firmware());
        out.extend(self.check_phonebook());
        let dhcp = region::issues_of(&self.dhcp_overrides_given(&unset));
        out.extend(dhcp.iter().cloned());
        out.extend(self.exposure());
        let p = &self.provisioning;
        if p.encrypt != Encrypt::Off && p.xml_password.is_empty() {
            out.push(Issue {
                severity: Severity::Error,
                location: "provisioning.xml_password".into(),
                message: "encryption is on but the XML password is empty; set xml_password or encrypt = \"off\"".into(),
            });
        }
        if p.encrypts() && p.binary == BinaryMode::Off {
            out.push(Issue {
                severity: Severity::Warning,
                location: "provisioning.binary".into(),
                message: "encrypted XML with no binary file: devices must already know the XML password (P1359)".into(),
            });
        }
        for (key, val) in
            [("P234", &p.prefix), ("P235", &p.postfix), ("P232", &p.firmware_prefix), ("P233", &p.firmware_postfix)]
        {
            if val.contains(['/', '\\']) || val.contains("..") {
                out.push(Issue {
                    severity: Severity::Error,
                    location: format!("provisioning ({key})"),
                    message: format!(
                        "{val:?} contains a path separator or '..'; a prefix/postfix is part of a file name"
                    ),
                });
            }
            if let Some(v) = self.defaults.get(key).filter(|v| !v.is_empty() && *v != val.as_str()) {
                out.push(Issue {
                    severity: Severity::Warning,
                    location: format!("defaults.{key}"),
                    message: format!("{v:?} differs from the [provisioning] setting {val:?}, which wins"),
                });
            }
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.severity));
        (out, dhcp)
    }

    /// Problems in `[firmware]`: names that are not models or MACs, versions
    /// that are not versions, file names that are not bare `.bin` names.
    fn check_firmware(&self) -> Vec<Issue> {
        let mut out = Vec::new();
        let err = |location: String, message: String| Issue { severity: Severity::Error, location, message };
        let pins = self.firmware.models.iter().map(|(k, p)| ("models", k, p));
        for (table, key, pin) in pins.chain(self.firmware.devices.iter().map(|(k, p)| ("devices", k, p))) {
            let at = format!("firmware.{table}.{key}");
            if table == "models" {
                if let Err(e) = key.parse::<Model>() {
                    out.push(err(at.clone(), e.to_string()));
                }
            } else {
                match key.parse::<Mac>() {
                    Err(e) => {
                        out.push(err(at.clone(), format!("{e} (the key of a [firmware.devices] table is a MAC)")))
                    }
                    Ok(mac) if self.device(mac).is_none() => out.push(Issue {
                        severity: Severity::Warning,
                        location: at.clone(),
                        message: format!("{} is not a device of this site; the setting has no effect", mac.colon()),
                    }),
                    Ok(_) => {}
                }
                if !pin.file.is_empty() {
                    out.push(err(
                        format!("{at}.file"),
                        "a file name is set per model ([firmware.models.<model>] file = ...), not per device".into(),
                    ));
                }
            }
            if !pin.target.is_empty()
                && let Err(e) = pin.target.parse::<crate::formats::firmware::Version>()
            {
                out.push(err(format!("{at}.target"), e.to_string()));
            }
            let f = pin.file.trim();
            if !f.is_empty()
                && (f.contains(['/', '\\']) || f.contains("..") || !f.to_ascii_lowercase().ends_with(".bin"))
            {
                out.push(err(
                    format!("{at}.file"),
                    format!(
                        "{f:?} is not a firmware file name; write the bare name the model requests, like gxp2140fw.bin"
                    ),
                ));
            }
        }
        out
    }

    /// Where the site hands out secrets without protection: passwords in a
    /// shared layer (plain `cfg.xml` / `cfg<model>.xml`), TFTP beside HTTP
    /// authentication, and the security check's findings ([`Site::security`]:
    /// passwords in the clear, certificates not checked, NOTIFY without
    /// authentication, SIP from anyone, a factory admin password, unknown MACs
    /// served, TR-069 off). Warnings, part of [`Site::check`]; `generate` and `serve`
    /// print them too, so they are seen wherever files go out.
    pub fn exposure(&self) -> Vec<Issue> {
        let mut out = Vec::new();
        let cat = Catalog::get();
        let p = &self.provisioning;
        let shared_plain = p.encrypt != Encrypt::AllFiles || !p.encrypts();
        if shared_plain && (p.generic_xml || p.model_xml) {
            let layers = std::iter::once(("defaults".to_string(), &self.defaults))
                .chain(self.models.iter().map(|(m, v)| (format!("models.{m}"), v)));
            for (loc, values) in layers {
                for (k, v) in &values.0 {
                    let secret = cat.lookup(k).is_some_and(|p| p.kind == crate::catalog::ValueKind::Password);
                    if secret && !v.is_empty() {
                        out.push(Issue {
                            severity: Severity::Warning,
                            location: format!("{loc}.{k}"),
                            message: "a password in a shared layer goes out in plain cfg.xml / cfg<model>.xml; \
                                      set provisioning.encrypt = \"all-files\" or set it per device"
                                .into(),
                        });
                    }
                }
            }
        }
        let v = &self.serving;
        if v.tftp && v.auth.is_some() {
            let message = if v.allow_secrets_over_tftp {
                "TFTP has no authentication and serving.allow_secrets_over_tftp = true: anyone on the network gets \
                 the files with passwords over TFTP, whatever [serving.auth] says; set it to false or turn TFTP off"
            } else {
                "TFTP has no authentication: with [serving.auth] set, files that carry passwords are refused over \
                 TFTP (devices must use HTTP or HTTPS); set serving.allow_secrets_over_tftp = true to serve them anyway"
            };
            out.push(Issue { severity: Severity::Warning, location: "serving.tftp".into(), message: message.into() });
        }
        // The security check (issue 26): same warnings, with fixes in the app.
        out.extend(self.security().iter().map(super::SecurityFinding::issue));
        out
    }
}

/// `device 3 000b82123456 (Reception)`: counted from 1, as the app and the
/// site file's order show them (index 2 is the third `[[devices]]`).
pub fn device_location(index: usize, d: &Device) -> String {
    let n = index + 1;
    if d.label.is_empty() { format!("device {n} {}", d.mac) } else { format!("device {n} {} ({})", d.mac, d.label) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{Device, FirmwarePin};

    fn demo() -> Site {
        toml::from_str(include_str!("../../assets/demo.gsprov.toml")).unwrap()
    }

    #[test]
    fn allowing_sip_reset_is_a_warning() {
        let mut s = Site::default();
        s.defaults.set("P26015", "1");
        let issues = s.check();
        let w = issues.iter().find(|i| i.message.contains("Allow SIP Reset")).expect("a warning");
        assert_eq!(w.location, "defaults.P26015");
        assert_eq!(w.severity, Severity::Warning);
        assert!(w.message.contains("factory-reset"), "{w}");
        s.defaults.set("P26015", "0");
        assert!(!s.check().iter().any(|i| i.message.contains("factory-reset")));
    }

    #[test]
    fn demo_site_is_clean() {
        let site = demo();
        let issues = site.check();
        assert!(issues.iter().all(|i| i.severity == Severity::Warning), "{issues:#?}");
        assert!(site.devices.len() >= 4);
        assert!(site.devices.iter().any(|d| d.model.family() == Family::Ata));
    }

    #[test]
    fn values_are_checked_against_each_family_they_reach() {
        let mut site = Site::default();
        site.devices.push(Device::new("000b82000001".parse().unwrap(), "HT802".parse().unwrap()));
        site.devices.push(Device::new("000b82000002".parse().unwrap(), "GRP2612W".parse().unwrap()));
        // P735: port 2's SIP user ID on HT80x, "Enable 100rel" (0/1) on GRP26xx.
        site.defaults.set("P735", "1001");
        site.devices[0].values.set("P735", "2002");
        site.devices[1].values.set("P735", "2002");
        let text: Vec<String> = site.check().iter().map(|i| i.to_string()).collect();
        let at = |loc: &str| text.iter().filter(|t| t.contains(loc)).cloned().collect::<Vec<_>>();
        let defaults = at("defaults.P735");
        assert_eq!(defaults.len(), 1, "{text:#?}");
        assert!(
            defaults[0].starts_with("error: defaults.P735: on GRP26xx (GRP2612W): P735 (Enable 100rel)"),
            "{text:#?}"
        );
        assert!(at("device 1 ").iter().all(|t| !t.contains("P735")), "fine on the HT802: {text:#?}");
        assert!(
            at("device 2 ").iter().any(|t| t.contains("P735 (Enable 100rel)") && t.contains("(on GRP26xx)")),
            "{text:#?}"
        );
        // A phone-only setting in the defaults: the ATA family ignores it.
        site.defaults.set("P1363", "11");
        let text: Vec<String> = site.check().iter().map(|i| i.to_string()).collect();
        assert!(
            text.iter().any(|t| t.starts_with("warning: defaults.P1363: P1363 is not a setting of HT80x (HT802)")),
            "{text:#?}"
        );
        // Unknown models get the nearest family and a hint.
        site.devices[0].model = "HT8O2".parse().unwrap();
        let text: Vec<String> = site.check().iter().map(|i| i.to_string()).collect();
        assert!(text.iter().any(|t| t.contains("device 1 ") && t.contains("did you mean HT802")), "{text:#?}");
    }

    #[test]
    fn a_misspelt_alias_or_p_id_gets_the_nearest_known_name() {
        let mut site = Site::default();
        site.devices.push(Device::new("000b82a1b201".parse().unwrap(), "GXP2170".parse().unwrap()));
        site.defaults.set("account.1.sip.servr.1.address", "pbx.example");
        site.defaults.set("P30000", "x");
        site.defaults.set("zz.completely.unrelated", "x");
        let text: Vec<String> = site.check().iter().map(|i| i.to_string()).collect();
        let line = |k: &str| text.iter().find(|t| t.contains(&format!("defaults.{k}:"))).cloned().unwrap_or_default();
        assert!(
            line("account.1.sip.servr.1.address").contains("(did you mean account.1.sip.server.1.address?)"),
            "{text:#?}"
        );
        assert!(!line("P30000").contains("did you mean"), "P-ids get no guess: {text:#?}");
        assert!(!line("zz.completely.unrelated").contains("did you mean"), "no wild guesses: {text:#?}");
    }

    #[test]
    fn check_names_each_problem_and_where() {
        let mut site = Site::default();
        site.defaults.set("P212", "9");
        site.defaults.set("P77777", "x");
        site.defaults.set("not a key", "x");
        let d = Device::new("001122334455".parse().unwrap(), "GXP2170".parse().unwrap());
        site.devices.push(d.clone());
        site.devices.push(d);
        site.provisioning.encrypt = Encrypt::DeviceFiles;
        let issues = site.check();
        let text: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        let has = |s: &str| text.iter().any(|t| t.contains(s));
        assert!(has("error: defaults.P212: P212 (Firmware Upgrade Via"), "{text:#?}");
        assert!(has("warning: defaults.P77777: P77777 is not in the catalog"), "{text:#?}");
        assert!(has("defaults.not a key"), "{text:#?}");
        assert!(has("device 2 001122334455: MAC 00:11:22:33:44:55 is listed twice (also device 1)"), "{text:#?}");
        assert!(has("not a Grandstream OUI"), "{text:#?}");
        assert!(has("provisioning.xml_password"), "{text:#?}");
        assert_eq!(issues[0].severity, Severity::Error, "errors first");
    }

    #[test]
    fn firmware_section_is_validated() {
        let mut site = demo();
        let text = "[firmware]\nallow_downgrade = true\nmax_transfers = 3\n[firmware.models.GXP2170]\ntarget = \"1.0.11.79\"\n";
        let parsed: Site = toml::from_str(&format!("{}\n{text}", crate::site::DEMO)).unwrap();
        assert!(parsed.firmware.allow_downgrade);
        assert_eq!(parsed.firmware.max_transfers, 3);
        assert_eq!(parsed.firmware.models["GXP2170"].target, "1.0.11.79");
        assert!(parsed.check().iter().all(|i| !i.location.starts_with("firmware")), "{:?}", parsed.check());
        // Untouched, the section is not written.
        assert!(!toml::to_string(&site).unwrap().contains("[firmware"));
        let pin =
            |target: &str, file: &str| FirmwarePin { target: target.into(), file: file.into(), ..Default::default() };
        site.firmware.models.insert("GXP 2170".into(), pin("1.0.11", "../x.bin"));
        site.firmware.devices.insert("nothex".into(), pin("", ""));
        site.firmware.devices.insert("000b82ffffff".into(), pin("", "a.bin"));
        let issues: Vec<String> =
            site.check().iter().map(|i| format!("{:?} {}: {}", i.severity, i.location, i.message)).collect();
        for needle in [
            "Error firmware.models.GXP 2170: \"GXP 2170\" is not a model name",
            "Error firmware.models.GXP 2170.target: \"1.0.11\" is not a firmware version",
            "Error firmware.models.GXP 2170.file: \"../x.bin\" is not a firmware file name",
            "Error firmware.devices.nothex:",
            "Warning firmware.devices.000b82ffffff: 00:0B:82:FF:FF:FF is not a device of this site",
            "Error firmware.devices.000b82ffffff.file: a file name is set per model",
        ] {
            assert!(issues.iter().any(|i| i.starts_with(needle)), "{needle:?} not in {issues:#?}");
        }
    }
}
