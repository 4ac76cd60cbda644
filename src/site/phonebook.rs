//! `[phonebook]`: a site directory served as `phonebook.xml`, made of the
//! site's devices (label and account 1's user ID, the extension) and extra
//! contacts written in the site file, and the phonebook download values
//! (P330 mode, P331 server path, P332 interval) layered into the devices
//! that can fetch it.
//!
//! Facts (public templates, `../shared/spec/templates/`): P330 "Enable
//! Phonebook XML Download" with per-family codes ([`PhonebookSettings`]);
//! P331 "Phonebook XML Server Path", host/path format, from which the device
//! requests `phonebook.xml` (the FusionPBX notes beside the gxp2140 template
//! rewrite `.../pb<mac>/phonebook.xml`); P332 the download interval.
//!
//! ```toml
//! [phonebook]
//! enabled = true
//! interval = 720          # minutes between downloads (P332)
//!
//! [[phonebook.contacts]]
//! first_name = "Pizza"
//! last_name = "Express"
//! number = "0441234567"
//! group = "Outside"
//! ```

use serde::{Deserialize, Serialize};

use super::{Device, Effective, Issue, Severity, Site, Source, text_problem};
use crate::catalog::Family;
use crate::catalog::phonebook::{PhonebookSettings, Transport};
use crate::formats::phonebook::Contact;

/// The name devices request under P331.
pub const PHONEBOOK_FILE: &str = "phonebook.xml";

/// The default download interval in minutes (the FusionPBX notes use 720).
pub const DEFAULT_INTERVAL: u32 = 720;

/// The site's phonebook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Phonebook {
    /// Generate and serve `phonebook.xml` and point the devices at it.
    pub enabled: bool,
    /// List the site's devices (label, account 1's user ID).
    pub devices: bool,
    /// Minutes between downloads (P332), where the site does not set P332.
    pub interval: u32,
    /// Contacts beside the site's devices.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<PhonebookContact>,
}

impl Default for Phonebook {
    fn default() -> Self {
        Phonebook { enabled: false, devices: true, interval: DEFAULT_INTERVAL, contacts: Vec::new() }
    }
}

impl Phonebook {
    pub fn is_default(&self) -> bool {
        *self == Phonebook::default()
    }
}

/// One extra contact (`[[phonebook.contacts]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhonebookContact {
    pub first_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub last_name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub company: String,
    pub number: String,
    /// The account (1-6) the phone dials from; 0: the phone's default.
    #[serde(skip_serializing_if = "is_zero")]
    pub account: u8,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
}

fn is_zero(n: &u8) -> bool {
    *n == 0
}

impl Site {
    /// The phonebook's entries: the devices with a user ID on account 1 (named
    /// by their label, else their account's display name, else the extension),
    /// then the extra contacts. Empty when the phonebook is off.
    pub fn phonebook_contacts(&self) -> Vec<Contact> {
        let pb = &self.phonebook;
        if !pb.enabled {
            return Vec::new();
        }
        let mut out = Vec::new();
        if pb.devices {
            for d in &self.devices {
                let Some(a) = d.accounts.first().filter(|a| !a.user_id.trim().is_empty()) else { continue };
                let name = [d.label.as_str(), a.display_name.as_str(), a.user_id.as_str()]
                    .into_iter()
                    .map(str::trim)
                    .find(|s| !s.is_empty())
                    .unwrap_or_default();
                out.push(Contact {
                    first_name: name.to_string(),
                    number: a.user_id.trim().to_string(),
                    ..Contact::default()
                });
            }
        }
        out.extend(self.phonebook.contacts.iter().map(|c| Contact {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            company: c.company.clone(),
            number: c.number.clone(),
            account: (c.account > 0).then_some(c.account),
            group: c.group.clone(),
        }));
        out
    }

    /// Adds P330/P331/P332 to a device's layered values where the site does not
    /// set them: download over the protocol of the config server path (P212,
    /// HTTP when unset) from the config server path P237 itself (the same server
    /// serves `phonebook.xml`). Nothing without P237, or for a family without
    /// phonebook download.
    pub(super) fn phonebook_layer(&self, device: &Device, eff: &mut Effective) {
        if !self.phonebook.enabled {
            return;
        }
        let Some(plan) = self.phonebook_plan(device, eff) else { return };
        for (key, value) in [("P330", plan.mode), ("P331", plan.server), ("P332", plan.interval)] {
            if let Some(v) = value
                && !eff.0.contains_key(key)
            {
                eff.put(key.into(), &v, Source::Phonebook);
            }
        }
    }

    fn phonebook_plan(&self, device: &Device, eff: &Effective) -> Option<Plan> {
        let family = Family::of_model(&device.model).family;
        let settings = PhonebookSettings::of(family)?;
        let server = eff.get("P237").map(str::trim).filter(|s| !s.is_empty())?.to_string();
        let transport = match eff.get("P212").map(str::trim) {
            Some("0") => Transport::Tftp,
            Some("2") => Transport::Https,
            _ => Transport::Http,
        };
        let mode = settings.code(transport).or_else(|| settings.code(Transport::Http)).map(str::to_string);
        Some(Plan { mode, server: Some(server), interval: settings.interval(self.phonebook.interval).ok() })
    }

    /// Problems with `[phonebook]`: bad text, no server path to point the
    /// devices at, devices that cannot fetch it, an interval a family refuses.
    pub(super) fn check_phonebook(&self) -> Vec<Issue> {
        let pb = &self.phonebook;
        let mut out = Vec::new();
        if !pb.enabled {
            return out;
        }
        for (i, c) in pb.contacts.iter().enumerate() {
            let at = format!("phonebook.contacts {}", i + 1);
            for (field, v) in [
                ("first_name", &c.first_name),
                ("last_name", &c.last_name),
                ("company", &c.company),
                ("number", &c.number),
                ("group", &c.group),
            ] {
                if let Some(message) = text_problem(v, false) {
                    out.push(Issue { severity: Severity::Error, location: format!("{at}.{field}"), message });
                }
            }
            if c.number.trim().is_empty() {
                out.push(Issue {
                    severity: Severity::Error,
                    location: format!("{at}.number"),
                    message: "a phonebook contact needs a number to dial".into(),
                });
            }
            if c.first_name.trim().is_empty() && c.last_name.trim().is_empty() && c.company.trim().is_empty() {
                out.push(Issue {
                    severity: Severity::Error,
                    location: format!("{at}.first_name"),
                    message: "a phonebook contact needs a name (first_name, last_name or company)".into(),
                });
            }
            if c.account > 6 {
                out.push(Issue {
                    severity: Severity::Error,
                    location: format!("{at}.account"),
                    message: format!(
                        "account {} does not exist; use 1 to 6, or leave it out for the phone's default",
                        c.account
                    ),
                });
            }
        }
        let mut no_download: Vec<String> = Vec::new();
        let mut no_server = false;
        let mut bad_interval: Vec<String> = Vec::new();
        for d in &self.devices {
            let family = Family::of_model(&d.model).family;
            let Some(settings) = PhonebookSettings::of(family) else {
                if !no_download.contains(&family.to_string()) {
                    no_download.push(family.to_string());
                }
                continue;
            };
            let eff = self.effective(d);
            if eff.get("P331").is_none_or(|v| v.trim().is_empty()) && eff.get("P330").is_none_or(|v| v != "0") {
                no_server = true;
            }
            if eff.0.get("P332").is_none_or(|s| s.source == Source::Phonebook)
                && let Err(e) = settings.interval(pb.interval)
                && !bad_interval.contains(&e)
            {
                bad_interval.push(e);
            }
        }
        if no_server {
            out.push(Issue {
                severity: Severity::Warning,
                location: "phonebook".into(),
                message: "the phonebook is on but the devices are not told where to fetch it: set the config server \
                          path P237 in the site defaults (the phonebook server path P331 follows it) or set P331"
                    .into(),
            });
        }
        for e in bad_interval {
            out.push(Issue {
                severity: Severity::Warning,
                location: "phonebook.interval".into(),
                message: format!("{e}; P332 is left out for those devices (their own default applies)"),
            });
        }
        if !no_download.is_empty() {
            out.push(Issue {
                severity: Severity::Warning,
                location: "phonebook".into(),
                message: format!(
                    "{} cannot download a phonebook (their templates name no phonebook download setting P330); \
                     they are listed but do not fetch it",
                    no_download.join(", ")
                ),
            });
        }
        out
    }
}

struct Plan {
    mode: Option<String>,
    server: Option<String>,
    interval: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        let mut site = crate::site::demo();
        site.phonebook.enabled = true;
        site.phonebook.contacts.push(PhonebookContact {
            first_name: "Pizza".into(),
            number: "0441234567".into(),
            group: "Outside".into(),
            ..PhonebookContact::default()
        });
        site
    }

    #[test]
    fn devices_with_an_extension_and_the_extra_contacts_are_listed() {
        let site = site();
        let contacts = site.phonebook_contacts();
        let with_ext = site.devices.iter().filter(|d| d.accounts.first().is_some_and(|a| !a.user_id.is_empty()));
        assert_eq!(contacts.len(), with_ext.count() + 1);
        let first = &site.devices[0];
        assert_eq!(contacts[0].number, first.accounts[0].user_id);
        assert_eq!(contacts.last().unwrap().group, "Outside");
        let mut off = site.clone();
        off.phonebook.enabled = false;
        assert!(off.phonebook_contacts().is_empty());
    }

    #[test]
    fn p330_p331_p332_follow_p212_p237_unless_the_site_sets_them() {
        let mut site = site();
        let d = site.devices.iter().find(|d| d.model.as_str() == "GXP2170").cloned().expect("a GXP2170 in the demo");
        let p237 = site.effective(&d).get("P237").map(str::to_string).expect("demo P237");
        let eff = site.effective(&d);
        // GXP21xx: 1 = HTTP (gxp21xx template); the demo's P212 is HTTP.
        assert_eq!(site.effective(&d).get("P212"), Some("1"));
        assert_eq!(eff.get("P330"), Some("1"));
        assert_eq!(eff.get("P331"), Some(p237.as_str()));
        assert_eq!(eff.get("P332"), Some("720"));
        assert_eq!(eff.0["P330"].source, Source::Phonebook);
        site.defaults.set("P212", "0");
        assert_eq!(site.effective(&d).get("P330"), Some("2"), "TFTP is 2 on GXP21xx");
        site.device_mut(d.mac).unwrap().values.set("P330", "0");
        let d = site.device(d.mac).unwrap().clone();
        assert_eq!(site.effective(&d).get("P330"), Some("0"), "the device's own value wins");
        site.phonebook.enabled = false;
        assert_eq!(site.effective(&d).get("P331"), None);
    }

    #[test]
    fn check_names_missing_server_path_and_bad_contacts() {
        let mut site = site();
        assert!(site.check_phonebook().iter().all(|i| i.severity == Severity::Warning), "{:?}", site.check_phonebook());
        site.defaults.remove("P237");
        for m in site.models.values_mut() {
            m.remove("P237");
        }
        for d in &mut site.devices {
            d.values.remove("P237");
        }
        assert!(site.check_phonebook().iter().any(|i| i.message.contains("not told where to fetch it")));
        site.phonebook.contacts.push(PhonebookContact { number: " ".into(), ..PhonebookContact::default() });
        let issues = site.check_phonebook();
        assert!(issues.iter().any(|i| i.location == "phonebook.contacts 2.number" && i.severity == Severity::Error));
        assert!(issues.iter().any(|i| i.location == "phonebook.contacts 2.first_name"));
    }
}
