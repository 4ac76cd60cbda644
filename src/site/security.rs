//! The site's security check (issue 26): what a site exposes as it is
//! configured, each finding with what it exposes and, where one exists, a
//! one-click fix at the layer that causes it. Warnings, never errors: the
//! technician decides. No message names a secret's value.
//!
//! Read through [`Site::exposure`], which `check`, `generate`, `serve` and the
//! app already print wherever files go out; the app's bring-up view lists the
//! same findings with their fixes ([`Site::security`]). Pure.

use super::{Encrypt, Issue, Layer, Severity, Site, Values};
use crate::catalog::{Catalog, ValueKind};

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Passwords in files served over HTTP/TFTP with no XML encryption and no HTTP auth.
    SecretsInClear,
    /// HTTPS provisioning with certificate validation off (P8463 / P22030 = 0).
    CertificateNotChecked,
    /// P4428 = 1: SIP NOTIFY (check-sync, reboot) accepted without authentication.
    NotifyWithoutAuth,
    /// P2347 = 0: SIP accepted from anyone, not only the proxy.
    SipFromAnyone,
    /// P2 left at the factory default.
    FactoryAdminPassword,
    /// `serving.known_macs_only` off while device files are served.
    UnknownMacsServed,
    /// P1409 = 0: TR-069 off, which cuts GDMS-managed units off the cloud.
    Tr069Off,
}

/// A one-click fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Set `key` to `value` in `layer`.
    Set { layer: Layer, key: &'static str, value: &'static str },
    /// Remove `key` from `layer` (the device keeps what it has).
    Remove { layer: Layer, key: &'static str },
    /// `provisioning.encrypt = "device-files"`, with a fresh XML password when there is none.
    EncryptDeviceFiles,
    /// `serving.known_macs_only = true`.
    KnownMacsOnly,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: Kind,
    /// `provisioning.encrypt`, `models.HT802.P4428`.
    pub location: String,
    pub message: String,
    pub fix: Option<Fix>,
}

impl Finding {
    /// The fix's button text.
    pub fn fix_label(&self) -> Option<String> {
        Some(match self.fix.as_ref()? {
            Fix::Set { key, value, .. } => format!("Set {key} = {value} at this level"),
            Fix::Remove { key, .. } => format!("Remove {key} at this level"),
            Fix::EncryptDeviceFiles => "Encrypt device files".into(),
            Fix::KnownMacsOnly => "Serve known MACs only".into(),
        })
    }

    /// Applies the fix to `site`; `random` gives the bytes of a new XML
    /// password when one is needed (the caller injects the RNG).
    pub fn apply(&self, site: &mut Site, random: &mut dyn FnMut() -> [u8; 12]) {
        match &self.fix {
            None => {}
            Some(Fix::Set { layer, key, value }) => {
                if let Some(v) = site.values_at_mut(layer) {
                    v.set(*key, *value);
                }
            }
            Some(Fix::Remove { layer, key }) => {
                if let Some(v) = site.values_at_mut(layer) {
                    v.remove(key);
                }
            }
            Some(Fix::EncryptDeviceFiles) => {
                let p = &mut site.provisioning;
                if p.encrypt == Encrypt::Off {
                    p.encrypt = Encrypt::DeviceFiles;
                }
                if p.xml_password.is_empty() {
                    p.xml_password = random().iter().map(|b| format!("{b:02x}")).collect();
                }
            }
            Some(Fix::KnownMacsOnly) => site.serving.known_macs_only = true,
        }
    }

    /// As a `check` warning.
    pub fn issue(&self) -> Issue {
        Issue { severity: Severity::Warning, location: self.location.clone(), message: self.message.clone() }
    }
}

/// Where a unit can be told to trust a certificate, from the public templates
/// (ht802/ht801 1.0.10.6 and dp750 "Trusted CA certificates" P2386; wp820
/// "Trusted CA Certificate 1/2" P2386/P2486; gxp17xx "Trust CA Certificate"
/// P8433-P8438; gxv3370/gxv3480 `CACertificates.1`); the gxp21xx and grp26xx
/// templates list a CA certificate for 802.1X only.
const TRUST: &str = "Per the public templates a unit can be given a trusted CA certificate on HT80x, DP75x and \
                     WP820 (P2386), GXP17xx (P8433-P8438) and GXV (CACertificates.1), not on GXP21xx or GRP26xx \
                     (802.1X only); the first file that carries it still arrives unchecked";

/// Factory admin passwords: `admin` on GXP/GRP/HT/DP units before the
/// per-unit random password printed on the label.
const FACTORY_ADMIN_PASSWORDS: [&str; 1] = ["admin"];

impl Site {
    /// Every security finding of the site, with its fix.
    pub fn security(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let v = &self.serving;
        let p = &self.provisioning;
        let serves = v.http || v.tftp || v.https;
        if (v.http || v.tftp) && !p.encrypts() && v.auth.is_none() && self.carries_secrets() {
            let over = match (v.http, v.tftp) {
                (true, true) => "HTTP and TFTP",
                (true, false) => "HTTP",
                _ => "TFTP",
            };
            out.push(Finding {
                kind: Kind::SecretsInClear,
                location: "provisioning.encrypt".into(),
                message: format!(
                    "SIP passwords (P34, P406, ...) and the admin password (P2) travel readable over {over}: no XML \
                     encryption and no [serving.auth], so anyone on the LAN who asks for cfg<mac>.xml reads them; \
                     fix: encrypt the device files (xml_password, P1359; the bootstrap binary carries it to the \
                     units) and/or serve HTTPS with [serving.auth]"
                ),
                fix: Some(Fix::EncryptDeviceFiles),
            });
        }
        if serves && !v.known_macs_only && !self.devices.is_empty() {
            out.push(Finding {
                kind: Kind::UnknownMacsServed,
                location: "serving.known_macs_only".into(),
                message: "any MAC gets files: a unit (or anyone) asking for a MAC the site does not list is served \
                          cfg.xml / cfg<model>.xml; fix: serve known MACs only"
                    .into(),
                fix: Some(Fix::KnownMacsOnly),
            });
        }
        for (layer, loc, values) in self.layers() {
            let at = |k: &str| format!("{loc}.{k}");
            for key in ["P8463", "P22030"] {
                if values.get(key).map(str::trim) == Some("0") && (v.https || values.get("P212") == Some("2")) {
                    out.push(Finding {
                        kind: Kind::CertificateNotChecked,
                        location: at(key),
                        message: format!(
                            "{key} = 0: over HTTPS the units accept any certificate, so whoever answers for the \
                             server address can hand them a config. gsprov's certificate is self-signed: turning \
                             {key} on makes the units refuse gsprov unless they trust it. {TRUST}; keep 0 with \
                             gsprov's certificate until they do, or serve one from a CA they already trust"
                        ),
                        fix: None,
                    });
                }
            }
            if values.get("P4428").map(str::trim) == Some("1") {
                out.push(Finding {
                    kind: Kind::NotifyWithoutAuth,
                    location: at("P4428"),
                    message: "P4428 = 1 turns SIP NOTIFY authentication off: anyone who can send the unit a SIP \
                              packet can make it reboot or fetch a config (check-sync); fix: P4428 = 0"
                        .into(),
                    fix: Some(Fix::Set { layer: layer.clone(), key: "P4428", value: "0" }),
                });
            }
            if values.get("P2347").map(str::trim) == Some("0") {
                out.push(Finding {
                    kind: Kind::SipFromAnyone,
                    location: at("P2347"),
                    message: "P2347 = 0: the unit takes SIP from anyone, not only from its proxy (calls and NOTIFYs \
                              straight to its address); fix: P2347 = 1 (accept incoming SIP from proxy only)"
                        .into(),
                    fix: Some(Fix::Set { layer: layer.clone(), key: "P2347", value: "1" }),
                });
            }
            if values.get("P2").is_some_and(|p| FACTORY_ADMIN_PASSWORDS.contains(&p.trim())) {
                out.push(Finding {
                    kind: Kind::FactoryAdminPassword,
                    location: at("P2"),
                    message: "the admin password (P2) is set to the factory default: anyone on the LAN can log in to \
                              the web UI; set a password of your own (gsprov cannot choose one you will know)"
                        .into(),
                    fix: None,
                });
            }
            if values.get("P1409").map(str::trim) == Some("0") {
                out.push(Finding {
                    kind: Kind::Tr069Off,
                    location: at("P1409"),
                    message: "P1409 = 0 turns TR-069 off: units managed by GDMS (Grandstream's cloud) drop out of it \
                              once provisioned; keep it if that is what you want, else remove the setting here so \
                              each unit keeps its own"
                        .into(),
                    fix: Some(Fix::Remove { layer: layer.clone(), key: "P1409" }),
                });
            }
        }
        out
    }

    /// Every layer with its location prefix.
    fn layers(&self) -> Vec<(Layer, String, &Values)> {
        let mut out = vec![(Layer::Defaults, "defaults".to_string(), &self.defaults)];
        // A template under a name that is no model is the check's business, not this one's.
        out.extend(
            self.models.iter().filter_map(|(m, v)| Some((Layer::Model(m.parse().ok()?), format!("models.{m}"), v))),
        );
        out.extend(
            self.devices
                .iter()
                .enumerate()
                .map(|(i, d)| (Layer::Device(d.mac), format!("{}.values", super::device_location(i, d)), &d.values)),
        );
        out
    }

    /// Whether the served files carry a password: an account's, or a
    /// password setting in any layer.
    fn carries_secrets(&self) -> bool {
        let cat = Catalog::get();
        let secret = |values: &Values| {
            values.0.iter().any(|(k, v)| !v.is_empty() && cat.lookup(k).is_some_and(|p| p.kind == ValueKind::Password))
        };
        self.devices.iter().any(|d| d.accounts.iter().any(|a| !a.password.is_empty()) || secret(&d.values))
            || secret(&self.defaults)
            || self.models.values().any(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Site {
        super::super::demo()
    }

    #[test]
    fn plain_secrets_are_found_and_encryption_fixes_them() {
        let mut site = demo();
        site.provisioning.encrypt = Encrypt::Off;
        site.provisioning.xml_password.clear();
        let f = site.security().into_iter().find(|f| f.kind == Kind::SecretsInClear).expect("found");
        assert!(f.message.contains("travel readable"), "{}", f.message);
        assert!(!f.message.contains("secret"), "no secret named: {}", f.message);
        f.apply(&mut site, &mut || [7; 12]);
        assert_eq!(site.provisioning.encrypt, Encrypt::DeviceFiles);
        assert_eq!(site.provisioning.xml_password, "07".repeat(12));
        assert!(site.security().iter().all(|f| f.kind != Kind::SecretsInClear));
        // HTTP auth alone also answers it.
        let mut site = demo();
        site.provisioning.encrypt = Encrypt::Off;
        site.serving.auth = Some(super::super::HttpAuth { username: "u".into(), password: "p".into() });
        site.serving.tftp = false;
        assert!(site.security().iter().all(|f| f.kind != Kind::SecretsInClear));
    }

    #[test]
    fn layer_findings_fix_the_layer_that_sets_them() {
        let mut site = demo();
        site.serving.https = true;
        site.defaults.set("P8463", "0");
        site.defaults.set("P2", "admin");
        site.defaults.set("P2347", "0");
        let found = site.security();
        let kinds: Vec<Kind> = found.iter().map(|f| f.kind).collect();
        for k in [
            Kind::CertificateNotChecked,
            Kind::NotifyWithoutAuth,
            Kind::SipFromAnyone,
            Kind::FactoryAdminPassword,
            Kind::Tr069Off,
            Kind::UnknownMacsServed,
        ] {
            assert!(kinds.contains(&k), "{k:?} in {kinds:?}");
        }
        let notify = found.iter().find(|f| f.kind == Kind::NotifyWithoutAuth).unwrap();
        assert_eq!(notify.location, "models.HT802.P4428");
        notify.apply(&mut site, &mut || [0; 12]);
        assert_eq!(site.models["HT802"].get("P4428"), Some("0"));
        let tr = found.iter().find(|f| f.kind == Kind::Tr069Off && f.location == "defaults.P1409").unwrap();
        tr.apply(&mut site, &mut || [0; 12]);
        assert_eq!(site.defaults.get("P1409"), None);
        let admin = found.iter().find(|f| f.kind == Kind::FactoryAdminPassword).unwrap();
        assert!(!admin.message.contains("\"admin\""), "the value is not printed");
        assert!(site.check().iter().all(|i| i.severity == Severity::Error || !i.message.is_empty()));
    }
}
