//! The technician's project as saved in `*.gsprov.toml`: site-wide defaults,
//! per-model templates, devices with accounts/ports and overrides, and the
//! provisioning and serving settings. Layering defaults -> model -> device, with
//! the provenance of every effective value.
//!
//! Pure data and validation: reading and writing files is `storage`'s job.

mod import;
pub mod keys;
mod phonebook;
mod region;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::catalog::{self, Catalog};
use crate::formats::binary::Escape;
use crate::formats::crypto::Digest;
use crate::formats::xml::Version as XmlVersion;
use crate::ids::{Family, Mac, Model, PId};

pub use import::{ImportError, ImportReport, RowError, decode_csv, import_csv, sniff_delimiter};
pub use phonebook::{PHONEBOOK_FILE, Phonebook, PhonebookContact};
pub use region::{DhcpOverrideFinding, Layer};

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
    /// Per-model templates, keyed by model name (`GXP2170`).
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

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Defaults,
    Model(Model),
    /// From the device's account/port `n` (1-based).
    Account(u8),
    Device,
    /// Forced by the `[provisioning]` settings (prefix, postfix, XML password).
    Provisioning,
    /// Where to fetch the site phonebook (P330/P331/P332), from `[phonebook]`.
    Phonebook,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Defaults => f.write_str("site defaults"),
            Source::Model(m) => write!(f, "model {m}"),
            Source::Account(n) => write!(f, "account {n}"),
            Source::Device => f.write_str("this device"),
            Source::Provisioning => f.write_str("provisioning settings"),
            Source::Phonebook => f.write_str("the site phonebook"),
        }
    }
}

/// One effective value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub value: String,
    pub source: Source,
}

/// [`Site::effective`] for many devices: the defaults and model layers once
/// per model, cloned for each device (a 10,000-device site has a handful of
/// models, and layering them is most of the work).
pub struct Layering<'a> {
    site: &'a Site,
    models: std::collections::HashMap<&'a Model, Effective>,
}

impl<'a> Layering<'a> {
    /// `self.site.effective(device)`.
    pub fn effective(&mut self, device: &'a Device) -> Effective {
        let site = self.site;
        let base = self.models.entry(&device.model).or_insert_with(|| site.effective_model(&device.model)).clone();
        site.effective_on(base, device)
    }
}

/// The layered result for one device (or model, or the generic file).
/// Keys are canonical: a P-id when one exists, else the alias.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effective(pub BTreeMap<String, Setting>);

impl Effective {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|s| s.value.as_str())
    }

    fn layer(&mut self, values: &Values, source: &Source) {
        for (k, v) in &values.0 {
            self.0.insert(
                canonical_key(k).unwrap_or_else(|_| k.clone()),
                Setting { value: v.clone(), source: source.clone() },
            );
        }
    }

    fn put(&mut self, key: String, value: &str, source: Source) {
        self.0.insert(key, Setting { value: value.to_string(), source });
    }
}

/// A key that is neither a P-id nor an alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a setting name: use a P-value id like P47 or a dotted alias like account.1.sip.server.1.address")]
pub struct KeyError(pub String);

/// The demo office shipped in `assets/` (the app opens on it; tests and
/// screenshots use it).
pub fn demo() -> Site {
    toml::from_str(DEMO).expect("the demo site parses (unit-tested)")
}

/// The demo site's text, as `gsprov new --demo` writes it.
pub const DEMO: &str = include_str!("../../assets/demo.gsprov.toml");

/// The stored form of a key: `P47` for P-ids (any case in), aliases kept as
/// written unless the catalog knows their P-id.
pub fn canonical_key(key: &str) -> Result<String, KeyError> {
    let k = key.trim();
    if let Ok(id) = k.parse::<PId>() {
        return Ok(id.to_string());
    }
    let alias_ok = !k.is_empty()
        && k.contains('.')
        && k.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    if !alias_ok {
        return Err(KeyError(key.to_string()));
    }
    if let Some(id) = Catalog::get().by_alias(k).and_then(|p| p.id) {
        return Ok(id.to_string());
    }
    // account.N.* for N in 2..6 maps onto the phone account layout.
    if let Some((n, rest)) = k.strip_prefix("account.").and_then(|r| r.split_once('.'))
        && let (Ok(n), Some(p1)) = (n.parse::<u8>(), Catalog::get().by_alias(&format!("account.1.{rest}")))
    {
        let phone: Model = "GXP2170".parse().expect("static model name");
        if let Some(id) = p1.id.and_then(|id| Catalog::get().account_pid(&phone, n, id)) {
            return Ok(id.to_string());
        }
    }
    Ok(k.to_string())
}

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
        write!(f, "{s}: {}: {}", self.location, self.message)
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

/// The bootstrap values a binary file carries for XML-capable units.
pub const BOOTSTRAP_KEYS: [&str; 5] = ["P212", "P237", "P234", "P235", "P1359"];

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

    fn model_values(&self, model: &Model) -> Option<&Values> {
        self.models
            .get(model.as_str())
            .or_else(|| self.models.iter().find(|(k, _)| k.eq_ignore_ascii_case(model.as_str())).map(|(_, v)| v))
    }

    /// Values forced by the provisioning settings, so every file agrees with the
    /// names the server answers to.
    fn provisioning_layer(&self, eff: &mut Effective) {
        let p = &self.provisioning;
        for (key, v) in
            [("P234", &p.prefix), ("P235", &p.postfix), ("P232", &p.firmware_prefix), ("P233", &p.firmware_postfix)]
        {
            if !v.is_empty() {
                eff.put(key.into(), v, Source::Provisioning);
            }
        }
        // The XML password (P1359) is not layered in: it must never reach a plain
        // XML file. `generate` puts it in the binary bootstrap only.
    }

    /// What the generic `cfg.xml` carries: site defaults only.
    pub fn effective_generic(&self) -> Effective {
        let mut eff = Effective::default();
        eff.layer(&self.defaults, &Source::Defaults);
        self.provisioning_layer(&mut eff);
        eff
    }

    /// What `cfg<model>.xml` carries: defaults and the model template.
    pub fn effective_model(&self, model: &Model) -> Effective {
        let mut eff = Effective::default();
        eff.layer(&self.defaults, &Source::Defaults);
        if let Some(v) = self.model_values(model) {
            eff.layer(v, &Source::Model(model.clone()));
        }
        self.provisioning_layer(&mut eff);
        eff
    }

    /// Everything one device gets: defaults -> model -> accounts -> device
    /// overrides -> provisioning settings.
    pub fn effective(&self, device: &Device) -> Effective {
        self.effective_on(self.effective_model(&device.model), device)
    }

    /// [`Site::effective`] on top of `model_layers`, which must be
    /// `self.effective_model(&device.model)`. Callers layering many devices
    /// use [`Layering`], which computes those once per model.
    fn effective_on(&self, model_layers: Effective, device: &Device) -> Effective {
        let mut eff = model_layers;
        expand_accounts(device, &mut eff);
        eff.layer(&device.values, &Source::Device);
        self.phonebook_layer(device, &mut eff);
        self.provisioning_layer(&mut eff);
        eff
    }

    /// Layers many devices with the defaults and model layers computed once
    /// per model ([`Layering`]).
    pub fn layering(&self) -> Layering<'_> {
        Layering { site: self, models: std::collections::HashMap::new() }
    }

    /// The families site-wide defaults reach: every device's and model template's.
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
    /// shared layer (plain `cfg.xml` / `cfg<model>.xml`), and TFTP beside HTTP
    /// authentication. Warnings, part of [`Site::check`]; `generate` and `serve`
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
        out
    }

    /// Adds a device or, when its MAC is known, replaces the existing one.
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

/// `device 3 000b82123456 (Reception)`: counted from 1, as the app and the
/// site file's order show them (index 2 is the third `[[devices]]`).
pub fn device_location(index: usize, d: &Device) -> String {
    let n = index + 1;
    if d.label.is_empty() { format!("device {n} {}", d.mac) } else { format!("device {n} {} ({})", d.mac, d.label) }
}

/// Turns accounts/ports into P-values following the catalog's layouts (spec §12).
fn expand_accounts(device: &Device, eff: &mut Effective) {
    let cat = Catalog::get();
    let site_server = eff.get("P47").unwrap_or_default().to_string();
    for (i, a) in device.accounts.iter().enumerate() {
        let n = (i + 1) as u8;
        let src = Source::Account(n);
        let server = if a.sip_server.is_empty() { site_server.as_str() } else { a.sip_server.as_str() };
        let auth = if a.auth_id.is_empty() { a.user_id.as_str() } else { a.auth_id.as_str() };
        let active = if a.active { "1" } else { "0" };
        match device.model.family() {
            Family::Gateway => {
                let i = i as u32;
                for (base, v) in [
                    (4060, a.user_id.as_str()),
                    (4090, auth),
                    (4120, a.password.as_str()),
                    (4180, a.display_name.as_str()),
                ] {
                    if !v.is_empty() {
                        eff.put(PId::new(base + i).to_string(), v, src.clone());
                    }
                }
                eff.put(PId::new(4150 + i).to_string(), "0", src.clone());
            }
            _ => {
                // (account-1 P-id, alias tail for accounts above 6, value); empty values are skipped
                // except `active`, so a template's value is not wiped by an unset field.
                let fields: [(u32, &str, &str); 7] = [
                    (271, "enable", if a.active { "1" } else { "0" }),
                    (47, "sip.server.1.address", if n > 1 || !a.sip_server.is_empty() { server } else { "" }),
                    (35, "sip.userid", &a.user_id),
                    (36, "sip.subscriber.userid", auth),
                    (34, "sip.subscriber.password", &a.password),
                    (3, "sip.subscriber.name", &a.display_name),
                    (270, "name", &a.name),
                ];
                for (p1, tail, v) in fields {
                    if v.is_empty() {
                        continue;
                    }
                    match cat.account_pid(&device.model, n, PId::new(p1)) {
                        Some(id) => eff.put(id.to_string(), v, src.clone()),
                        None if matches!(device.model.family(), Family::Phone | Family::AndroidPhone) => {
                            let v = if tail == "enable" { if active == "1" { "Yes" } else { "No" } } else { v };
                            eff.put(format!("account.{n}.{tail}"), v, src.clone())
                        }
                        None => {}
                    }
                }
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
    fn layering_keeps_provenance() {
        let mut site = Site::default();
        site.defaults.set("P47", "pbx.example.com");
        site.defaults.set("P1362", "en");
        site.models.insert("GXP2170".into(), Values([("P1362".to_string(), "de".to_string())].into()));
        let mut d = Device::new("000b82000001".parse().unwrap(), "GXP2170".parse().unwrap());
        d.accounts.push(Account { user_id: "201".into(), password: "pw".into(), ..Account::default() });
        d.accounts.push(Account { user_id: "301".into(), ..Account::default() });
        d.values.set("account.1.sip.subscriber.name", "Front desk");
        let eff = site.effective(&d);
        assert_eq!(eff.0["P1362"], Setting { value: "de".into(), source: Source::Model("GXP2170".parse().unwrap()) });
        assert_eq!(eff.0["P47"].source, Source::Defaults);
        assert_eq!(eff.0["P35"], Setting { value: "201".into(), source: Source::Account(1) });
        assert_eq!(eff.get("P36"), Some("201"), "auth ID defaults to the user ID");
        assert_eq!(eff.get("P404"), Some("301"));
        assert_eq!(eff.get("P402"), Some("pbx.example.com"), "account 2 inherits the site SIP server");
        assert_eq!(eff.0["P3"], Setting { value: "Front desk".into(), source: Source::Device }, "alias stored as P-id");
        assert_eq!(Source::Model("GXP2170".parse().unwrap()).to_string(), "model GXP2170");
    }

    #[test]
    fn ata_and_gateway_ports() {
        let site = Site::default();
        let mut ht = Device::new("c074ad000001".parse().unwrap(), "HT802".parse().unwrap());
        ht.accounts = vec![
            Account { user_id: "a".into(), ..Default::default() },
            Account { user_id: "b".into(), ..Default::default() },
        ];
        let eff = site.effective(&ht);
        assert_eq!(eff.get("P35"), Some("a"));
        assert_eq!(eff.get("P735"), Some("b"));
        assert_eq!(eff.get("P401"), Some("1"));
        let mut gw = Device::new("c074ad000002".parse().unwrap(), "HT814".parse().unwrap());
        gw.accounts = ht.accounts.clone();
        let eff = site.effective(&gw);
        assert_eq!(eff.get("P4060"), Some("a"));
        assert_eq!(eff.get("P4061"), Some("b"));
        assert_eq!(eff.get("P4091"), Some("b"));
    }

    #[test]
    fn accounts_above_six_use_aliases() {
        let site = Site::default();
        let mut d = Device::new("000b82000001".parse().unwrap(), "GXP2170".parse().unwrap());
        d.accounts = (0..7).map(|i| Account { user_id: format!("{}", 100 + i), ..Default::default() }).collect();
        let eff = site.effective(&d);
        assert_eq!(eff.get("P1804"), Some("105"));
        assert_eq!(eff.get("account.7.sip.userid"), Some("106"));
        assert_eq!(eff.get("account.7.enable"), Some("Yes"));
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
        assert!(has("error: defaults.P212: P212 (Config upgrade via"), "{text:#?}");
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
}
