//! The saved format: the types a `*.gsprov.toml` holds (site-wide defaults,
//! per-model templates, devices with accounts/ports and overrides, the
//! provisioning, serving, firmware and phonebook settings), how they read
//! (`P212 = 1` and `P212 = "1"` alike), the demo site, and the edits that
//! add or find devices.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::Phonebook;
use crate::formats::binary::Escape;
use crate::formats::crypto::Digest;
use crate::formats::xml::Version as XmlVersion;
use crate::ids::{Mac, Model};

/// The site file format this build writes; older files are upgraded on load.
pub const FORMAT_VERSION: u32 = 1;

/// A map of stored settings: key (`P47`, or an alias) -> value text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Values(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for Values {
    /// Accepts `P212 = 1` and `P212 = "1"` alike: technicians write both.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            S(String),
            I(i64),
            F(f64),
            B(bool),
        }
        let raw = BTreeMap::<String, Scalar>::deserialize(d)?;
        Ok(Values(
            raw.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Scalar::S(s) => s,
                        Scalar::I(i) => i.to_string(),
                        Scalar::F(f) => f.to_string(),
                        Scalar::B(b) => u8::from(b).to_string(),
                    };
                    (k, v)
                })
                .collect(),
        ))
    }
}

impl Values {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.0.insert(key.into(), value.into());
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }
}

/// The whole project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Site {
    pub format_version: u32,
    pub name: String,
    pub provisioning: Provisioning,
    pub serving: Serving,
    /// Firmware policy: downgrades, pinned targets, the transfer limit. Left
    /// out of the saved file while it has its defaults.
    #[serde(skip_serializing_if = "Firmware::is_default")]
    pub firmware: Firmware,
    /// `[phonebook]`: the site directory served as `phonebook.xml`. Left out
    /// of the saved file while it has its defaults.
    #[serde(skip_serializing_if = "Phonebook::is_default")]
    pub phonebook: Phonebook,
    /// Site-wide values, the bottom layer.
    pub defaults: Values,
    /// Per-model templates, keyed by model name (`GXP2170`; a key that is a
    /// model name is read in its canonical upper case: `[models.gxp2170]` is
    /// `GXP2170`).
    #[serde(deserialize_with = "model_keys")]
    pub models: BTreeMap<String, Values>,
    pub devices: Vec<Device>,
}

impl Default for Site {
    fn default() -> Self {
        Site {
            format_version: FORMAT_VERSION,
            name: "New site".into(),
            provisioning: Provisioning::default(),
            serving: Serving::default(),
            firmware: Firmware::default(),
            phonebook: Phonebook::default(),
            defaults: Values::default(),
            models: BTreeMap::new(),
            devices: Vec::new(),
        }
    }
}

/// Which XML files may be encrypted with the XML password (P1359).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encrypt {
    /// Plain XML everywhere.
    #[default]
    Off,
    /// `cfg<mac>.xml` only: a unit that falls back to `cfg.xml` may not know the password yet.
    DeviceFiles,
    /// Every XML file, `cfg<model>.xml` and `cfg.xml` included.
    AllFiles,
}

/// What goes into the legacy binary `cfg<mac>` file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BinaryMode {
    /// Legacy models: everything. XML-capable models: only the bootstrap
    /// (server path, method, XML password) when XML is encrypted, else no binary file.
    #[default]
    Auto,
    /// Every value, for every device.
    Full,
    /// Only the bootstrap values, for every device.
    Bootstrap,
    /// No binary files.
    Off,
}

/// How files are named, encoded and protected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Provisioning {
    /// Config file prefix, P234.
    pub prefix: String,
    /// Config file postfix, P235 (after the extension).
    pub postfix: String,
    /// Firmware file prefix, P232.
    pub firmware_prefix: String,
    /// Firmware file postfix, P233.
    pub firmware_postfix: String,
    /// XML config file password, P1359. Empty means no encryption.
    pub xml_password: String,
    pub encrypt: Encrypt,
    /// Key-derivation digest; devices are expected to need MD5 (spec §8).
    pub digest: Digest,
    pub xml_version: XmlVersion,
    pub binary: BinaryMode,
    pub binary_escape: Escape,
    /// Generate `cfg<mac>.xml`.
    pub device_xml: bool,
    /// Generate `cfg<model>.xml` for each model in the site.
    pub model_xml: bool,
    /// Generate the generic `cfg.xml`.
    pub generic_xml: bool,
}

impl Default for Provisioning {
    fn default() -> Self {
        Provisioning {
            prefix: String::new(),
            postfix: String::new(),
            firmware_prefix: String::new(),
            firmware_postfix: String::new(),
            xml_password: String::new(),
            encrypt: Encrypt::Off,
            digest: Digest::Md5,
            xml_version: XmlVersion::V1,
            binary: BinaryMode::Auto,
            binary_escape: Escape::Percent,
            device_xml: true,
            model_xml: true,
            generic_xml: true,
        }
    }
}

impl Provisioning {
    /// True when XML files get encrypted at all.
    pub fn encrypts(&self) -> bool {
        self.encrypt != Encrypt::Off && !self.xml_password.is_empty()
    }
}

/// HTTP authentication the server demands (spec §9.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpAuth {
    pub username: String,
    pub password: String,
}

/// Where and how the built-in servers listen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Serving {
    pub bind: String,
    pub tftp: bool,
    pub tftp_port: u16,
    pub http: bool,
    pub http_port: u16,
    pub https: bool,
    pub https_port: u16,
    /// Folder with firmware images, relative to the site file.
    pub firmware_dir: String,
    /// Refuse config requests from MACs the site does not list.
    pub known_macs_only: bool,
    /// Optional HTTP(S) authentication; `None` serves without.
    pub auth: Option<HttpAuth>,
    /// TFTP has no authentication: with `auth` set, files that carry a password
    /// (SIP, admin, the XML password P1359) are refused over TFTP unless this is
    /// true. `check`, `serve` and the desktop app say which applies.
    pub allow_secrets_over_tftp: bool,
}

impl Default for Serving {
    fn default() -> Self {
        Serving {
            bind: "0.0.0.0".into(),
            tftp: true,
            tftp_port: 69,
            http: true,
            http_port: 8080,
            https: false,
            https_port: 8443,
            firmware_dir: "firmware".into(),
            known_macs_only: false,
            auth: None,
            allow_secrets_over_tftp: false,
        }
    }
}

/// Default for [`Firmware::max_transfers`].
pub const DEFAULT_MAX_FIRMWARE_TRANSFERS: u16 = 8;

/// `[firmware]`: how images in the firmware folder reach devices (issue 14).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Firmware {
    /// Serve an image older than what a device runs. Off: the request is
    /// refused and the reason shown.
    pub allow_downgrade: bool,
    /// Firmware transfers (TFTP and HTTP together) at once; the next ones wait
    /// their turn instead of all stalling. 0 means no limit.
    pub max_transfers: u16,
    /// `[firmware.models.GXP2170]`: per model.
    pub models: BTreeMap<String, FirmwarePin>,
    /// `[firmware.devices.000b82a1b201]`: per device (MAC), over the model's.
    pub devices: BTreeMap<String, FirmwarePin>,
}

impl Default for Firmware {
    fn default() -> Self {
        Firmware {
            allow_downgrade: false,
            max_transfers: DEFAULT_MAX_FIRMWARE_TRANSFERS,
            models: BTreeMap::new(),
            devices: BTreeMap::new(),
        }
    }
}

impl Firmware {
    pub fn is_default(&self) -> bool {
        *self == Firmware::default()
    }
}

/// `[models]` with each key that names a model in the model's own spelling,
/// so every look-up finds it; two spellings of one model are an error, not a
/// silent merge. Keys that are no model name stay as written (`check` names them).
fn model_keys<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Values>, D::Error> {
    let raw = BTreeMap::<String, Values>::deserialize(d)?;
    let mut written: BTreeMap<String, String> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (key, values) in raw {
        let canonical = key.parse::<Model>().map_or_else(|_| key.clone(), |m| m.as_str().to_string());
        if let Some(other) = written.insert(canonical.clone(), key.clone()) {
            return Err(serde::de::Error::custom(format!(
                "[models.{other}] and [models.{key}] are both the template of {canonical}; merge them into one"
            )));
        }
        out.insert(canonical, values);
    }
    Ok(out)
}

/// A pinned target and policy for one model or device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FirmwarePin {
    /// Stop at this version (`1.0.11.79`); empty: the newest image in the folder.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// Over `[firmware] allow_downgrade` for this model or device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_downgrade: Option<bool>,
    /// Models only: the file name the model requests, when gsprov does not
    /// know it (`gxp2140fw.bin`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub file: String,
}

/// One SIP account (phones) or FXS port (ATAs), in order: the first is account 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Account {
    pub active: bool,
    /// SIP user ID, usually the extension.
    pub user_id: String,
    /// Authenticate ID; empty means the same as `user_id`.
    pub auth_id: String,
    pub password: String,
    pub display_name: String,
    /// Account name shown on the phone.
    pub name: String,
    /// SIP server for this account; empty inherits the site's P47.
    pub sip_server: String,
}

impl Default for Account {
    fn default() -> Self {
        Account {
            active: true,
            user_id: String::new(),
            auth_id: String::new(),
            password: String::new(),
            display_name: String::new(),
            name: String::new(),
            sip_server: String::new(),
        }
    }
}

/// One device of the site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    pub mac: Mac,
    pub model: Model,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub accounts: Vec<Account>,
    /// Per-device overrides, the top layer.
    #[serde(default)]
    pub values: Values,
}

impl Device {
    pub fn new(mac: Mac, model: Model) -> Self {
        Device {
            mac,
            model,
            label: String::new(),
            location: String::new(),
            notes: String::new(),
            accounts: Vec::new(),
            values: Values::default(),
        }
    }
}

/// The demo office shipped in `assets/` (the app opens on it; tests and
/// screenshots use it).
pub fn demo() -> Site {
    toml::from_str(DEMO).expect("the demo site parses (unit-tested)")
}

/// The demo site's text (`assets/demo.gsprov.toml`), comments and all.
pub const DEMO: &str = include_str!("../../assets/demo.gsprov.toml");

impl Site {
    pub fn device(&self, mac: Mac) -> Option<&Device> {
        self.devices.iter().find(|d| d.mac == mac)
    }

    pub fn device_mut(&mut self, mac: Mac) -> Option<&mut Device> {
        self.devices.iter_mut().find(|d| d.mac == mac)
    }

    /// Models used by devices or templates, sorted.
    pub fn models_in_use(&self) -> Vec<Model> {
        let mut out: Vec<Model> = self.devices.iter().map(|d| d.model.clone()).collect();
        out.extend(self.models.keys().filter_map(|m| m.parse().ok()));
        out.sort();
        out.dedup();
        out
    }

    /// Returns true when it was new.
    pub fn upsert_device(&mut self, device: Device) -> bool {
        match self.devices.iter_mut().find(|d| d.mac == device.mac) {
            Some(d) => {
                *d = device;
                false
            }
            None => {
                self.devices.push(device);
                true
            }
        }
    }

    /// Range fill: gives account 1 of each listed device consecutive user IDs from
    /// `first` (e.g. extensions 201..230), in the order given.
    pub fn fill_extensions(&mut self, macs: &[Mac], first: u32) {
        for (i, mac) in macs.iter().enumerate() {
            if let Some(d) = self.device_mut(*mac) {
                if d.accounts.is_empty() {
                    d.accounts.push(Account::default());
                }
                d.accounts[0].user_id = (first + i as u32).to_string();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Site {
        toml::from_str(include_str!("../../assets/demo.gsprov.toml")).unwrap()
    }

    #[test]
    fn site_toml_round_trips() {
        let site = demo();
        let text = toml::to_string(&site).unwrap();
        let back: Site = toml::from_str(&text).unwrap();
        assert_eq!(site, back);
    }

    #[test]
    fn unknown_fields_and_versions_are_handled() {
        let minimal: Site = toml::from_str("name = \"x\"").unwrap();
        assert_eq!(minimal.format_version, FORMAT_VERSION);
        assert!(minimal.provisioning.device_xml, "missing sections take defaults");
        let err = toml::from_str::<Site>("name = \"x\"\nbogus = 1").unwrap_err().to_string();
        assert!(err.contains("bogus"), "{err}");
        let v: Site = toml::from_str("[defaults]\nP212 = 1\nP271 = true").unwrap();
        assert_eq!(v.defaults.get("P212"), Some("1"));
        assert_eq!(v.defaults.get("P271"), Some("1"));
    }

    #[test]
    fn fill_extensions_numbers_in_order() {
        let mut site = demo();
        let macs: Vec<Mac> = site.devices.iter().map(|d| d.mac).collect();
        site.fill_extensions(&macs, 201);
        for (i, d) in site.devices.iter().enumerate() {
            assert_eq!(d.accounts[0].user_id, (201 + i).to_string());
        }
    }

    #[test]
    fn model_template_keys_are_read_in_the_models_own_spelling() {
        let site: Site =
            toml::from_str("[models.gxp2170]\nP1362 = \"de\"\n[models.\"not a model\"]\nP1 = 1\n").unwrap();
        assert_eq!(site.models.keys().collect::<Vec<_>>(), ["GXP2170", "not a model"]);
        assert_eq!(site.models["GXP2170"].get("P1362"), Some("de"));
        let err =
            toml::from_str::<Site>("[models.gxp2170]\nP1 = 1\n[models.GXP2170]\nP2 = 2\n").unwrap_err().to_string();
        assert!(
            err.contains("[models.GXP2170] and [models.gxp2170] are both the template of GXP2170; merge them into one"),
            "{err}"
        );
    }
}
