//! Site -> the set of files each device will request, by name, with the bytes
//! and where every value came from (spec §2, §6, §7, §8).
//!
//! Pure: the caller supplies the salts (one per encrypted file), so the output is
//! deterministic for a given salt source. Writing the files is `storage`'s job.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::catalog::{Catalog, Family, keys};
use crate::formats::request::{self, Naming};
use crate::formats::{binary, crypto, phonebook, xml};
use crate::ids::{Mac, Model, PId};
use crate::site::keys as site_keys;
use crate::site::{
    BOOTSTRAP_KEYS, BinaryMode, Effective, Encrypt, Issue, Layering, Setting, Severity, Site, Source, device_location,
};

/// Which of the four requests a file answers (spec §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// `cfg<mac>` (and its `cfg<mac>.bin` alias).
    Binary,
    /// `cfg<mac>.xml`.
    DeviceXml,
    /// `cfg<model>.xml`.
    ModelXml,
    /// `cfg.xml`.
    GenericXml,
    /// `cfg<mac>` and `cfg<mac>.bin` without the site's prefix/postfix
    /// (P234/P235), for a factory-fresh unit that does not know them yet: a
    /// binary file with the bootstrap values ([`UNPREFIXED_BOOTSTRAP_KEYS`]).
    /// Applying it reloads the settings at once (spec §2), so the unit's next
    /// request already carries the prefix. Never counts as "configured".
    Bootstrap,
    /// `phonebook.xml`: the site directory (`[phonebook]`), fetched from the
    /// phonebook server path P331. Not a config file.
    Phonebook,
}

impl FileKind {
    pub fn describe(self) -> &'static str {
        match self {
            FileKind::Binary => "legacy binary config",
            FileKind::DeviceXml => "per-device XML",
            FileKind::ModelXml => "per-model XML",
            FileKind::GenericXml => "generic XML",
            FileKind::Bootstrap => "bootstrap binary under the unprefixed name",
            FileKind::Phonebook => "site phonebook",
        }
    }
}

/// One file as it will be served.
#[derive(Debug, Clone)]
pub struct File {
    /// The exact name a device requests, prefix and postfix applied.
    pub name: String,
    pub kind: FileKind,
    pub device: Option<Mac>,
    pub model: Option<Model>,
    pub bytes: Arc<[u8]>,
    pub encrypted: bool,
    /// The values in the file and where each came from.
    pub settings: Arc<Effective>,
}

impl File {
    /// Whether the file holds a password (SIP, admin, the XML password P1359):
    /// such files must not go out where nobody authenticates.
    pub fn carries_secrets(&self) -> bool {
        self.settings.0.iter().any(|(k, s)| !s.value.is_empty() && is_secret_key(k))
    }
}

/// A key whose value is a password: a catalog password, or an alias ending in `password`.
pub fn is_secret_key(key: &str) -> bool {
    Catalog::get().lookup(key).is_some_and(|p| p.kind == crate::catalog::ValueKind::Password)
        || key.to_ascii_lowercase().ends_with("password")
}

/// Everything generated for a site.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub files: Vec<File>,
    /// Values that could not be placed (e.g. no alias for XML v2), one per key.
    pub warnings: Vec<Issue>,
    /// The site's DHCP-override warnings ([`Site::dhcp_override_issues`]) as
    /// [`checked`]'s check found them, for front ends to print wherever files
    /// go out. [`generate`] alone does not check, and leaves this empty.
    pub dhcp_overrides: Vec<Issue>,
}

impl Output {
    /// Files keyed by lower-case name: devices ask in any case (spec §9.1).
    pub fn by_name(&self) -> BTreeMap<String, &File> {
        self.files.iter().map(|f| (f.name.to_ascii_lowercase(), f)).collect()
    }

    pub fn total_bytes(&self) -> usize {
        self.files.iter().map(|f| f.bytes.len()).sum()
    }
}

/// A device whose file cannot be encoded.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    #[error("{location}: binary file: {source}")]
    Binary { location: String, source: binary::EncodeError },
    #[error("{location}: XML file: {source}")]
    Xml { location: String, source: xml::XmlError },
    #[error("{0}")]
    Phonebook(#[from] phonebook::PhonebookError),
}

/// Why a site was not turned into files ([`checked`]).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// `site.check()` found errors: nothing is generated for such a site.
    #[error("{} error(s) in the site; nothing was generated (see above, or run `gsprov check`)", .0.len())]
    SiteHasErrors(Vec<Issue>),
    #[error(transparent)]
    Generate(#[from] GenerateError),
}

/// The one way every front end turns a site into files (`gsprov generate`,
/// `gsprov serve`, the desktop app's server and its export): check the site,
/// refuse it when the check finds errors, else generate. The output's
/// warnings are in [`Output::warnings`] and [`Output::dhcp_overrides`].
///
/// Both only read the site, so on a large site the check runs on a second
/// core while this thread generates (issue #15: a quarter of a 10,000-device
/// run is the check); files generated for a site the check refuses are
/// dropped unseen, and the generation's own error only counts once the check
/// has passed, as if it had run after it. Nothing is written here either way.
pub fn checked(site: &Site, salt: &mut dyn FnMut() -> [u8; 8]) -> Result<Output, BuildError> {
    /// Below this many devices a thread costs more than the check it would overlap.
    const MIN_DEVICES_FOR_THREADS: usize = 256;
    let ((issues, dhcp_overrides), generated) = if site.devices.len() < MIN_DEVICES_FOR_THREADS {
        (site.check_keeping_dhcp_overrides(), None)
    } else {
        std::thread::scope(|scope| {
            let check = std::thread::Builder::new()
                .name("gsprov-check".into())
                .spawn_scoped(scope, || site.check_keeping_dhcp_overrides());
            let generated = generate(site, salt);
            let checked = match check {
                // A panic in the check is the check's, as it was on one thread.
                Ok(h) => h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // No second thread: check after all.
                Err(_) => site.check_keeping_dhcp_overrides(),
            };
            (checked, Some(generated))
        })
    };
    let errors: Vec<Issue> = issues.into_iter().filter(|i| i.severity == Severity::Error).collect();
    if !errors.is_empty() {
        return Err(BuildError::SiteHasErrors(errors));
    }
    let output = match generated {
        Some(generated) => generated?,
        None => generate(site, salt)?,
    };
    Ok(Output { dhcp_overrides, ..output })
}

/// The naming rules of a site, borrowed.
pub fn naming(site: &Site) -> Naming<'_> {
    let p = &site.provisioning;
    Naming { prefix: &p.prefix, postfix: &p.postfix, fw_prefix: &p.firmware_prefix, fw_postfix: &p.firmware_postfix }
}

/// A fresh random salt for each encrypted file, from the OS generator, one
/// system call per salt; front ends pass [`os_salts`], its batched form, to
/// [`generate`] (tests pass fixed ones).
pub fn os_salt() -> [u8; 8] {
    let mut s = [0u8; 8];
    // The OS generator only fails on exotic platforms; a fixed salt would still
    // decrypt correctly, so fall back to time-derived bytes rather than abort.
    if getrandom::fill(&mut s).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        s = (t as u64).to_le_bytes();
    }
    s
}

/// [`os_salt`] a batch at a time: one call to the OS generator per 512 salts,
/// handed out in order, instead of one per encrypted file (10,000 system calls
/// for a 10,000-device site). The salt source `generate` and `serve` pass.
pub fn os_salts() -> impl FnMut() -> [u8; 8] {
    const BATCH: usize = 512;
    let mut batch = [[0u8; 8]; BATCH];
    let mut next = BATCH;
    move || {
        if next == BATCH {
            if getrandom::fill(batch.as_flattened_mut()).is_err() {
                return os_salt();
            }
            next = 0;
        }
        next += 1;
        batch[next - 1]
    }
}

/// Builds every file of `site`. `salt` is called once per encrypted file.
pub fn generate(site: &Site, salt: &mut dyn FnMut() -> [u8; 8]) -> Result<Output, GenerateError> {
    let mut g = Generator {
        site,
        salt,
        naming: naming(site),
        out: Output::default(),
        warned: BTreeMap::new(),
        layering: site.layering(),
    };
    for (i, d) in site.devices.iter().enumerate() {
        g.device(i, d)?;
    }
    let p = &site.provisioning;
    if p.model_xml {
        for model in site.models_in_use() {
            if model.requests_model_file() {
                let eff = Arc::new(g.keys_expanded(&site.effective_model(&model), &model, site_keys::xml_format(site)));
                let name = request::model_xml_name(&model, &g.naming);
                let encrypt = p.encrypt == Encrypt::AllFiles && p.encrypts();
                g.xml_file(name, FileKind::ModelXml, None, Some(model.clone()), eff, encrypt)
                    .map_err(|source| GenerateError::Xml { location: format!("models.{model}"), source })?;
            }
        }
    }
    if p.generic_xml {
        // Keys are per model: the generic file, read by every family, carries none
        // (`check` refuses them in the site defaults).
        let generic = site.effective_generic();
        let eff = Arc::new(Effective(generic.0.into_iter().filter(|(k, _)| !keys::is_key_setting(k)).collect()));
        let name = request::generic_xml_name(&g.naming);
        let encrypt = p.encrypt == Encrypt::AllFiles && p.encrypts();
        g.xml_file(name, FileKind::GenericXml, None, None, eff, encrypt)
            .map_err(|source| GenerateError::Xml { location: "defaults".into(), source })?;
    }
    if let Some(file) = phonebook_file(site)? {
        g.out.files.push(file);
    }
    if (!p.prefix.is_empty() || !p.postfix.is_empty()) && p.binary == BinaryMode::Off && !site.devices.is_empty() {
        g.warn(
            "P234",
            format!(
                "the config prefix/postfix ({:?}/{:?}, P234/P235) is set and binary files are off: a factory-fresh \
                 device asks for the unprefixed cfg<mac> and cfg<mac>.xml and gets nothing; set binary = \"auto\" \
                 (an unprefixed bootstrap cfg<mac> is then served) or give the devices P234/P235 some other way",
                p.prefix, p.postfix
            ),
        );
    }
    let mut out = g.out;
    out.warnings.extend(g.warned.into_values());
    Ok(out)
}

/// The site phonebook (`phonebook.xml`), when `[phonebook]` is on: the same
/// file for every device, holding no secrets.
pub fn phonebook_file(site: &Site) -> Result<Option<File>, phonebook::PhonebookError> {
    if !site.phonebook.enabled {
        return Ok(None);
    }
    let bytes: Arc<[u8]> = phonebook::write(&site.phonebook_contacts())?.into();
    Ok(Some(File {
        name: crate::site::PHONEBOOK_FILE.into(),
        kind: FileKind::Phonebook,
        device: None,
        model: None,
        bytes,
        encrypted: false,
        settings: Arc::new(Effective::default()),
    }))
}

struct Generator<'a, 's> {
    site: &'a Site,
    salt: &'s mut dyn FnMut() -> [u8; 8],
    naming: Naming<'a>,
    out: Output,
    /// One warning per key that could not be placed, not one per device.
    warned: BTreeMap<String, Issue>,
    /// Each device's values, the model layers computed once per model.
    layering: Layering<'a>,
}

impl<'a> Generator<'a, '_> {
    fn device(&mut self, index: usize, d: &'a crate::site::Device) -> Result<(), GenerateError> {
        let site = self.site;
        let p = &site.provisioning;
        let layered = self.layering.effective(d);
        // Programmable keys (`key.*`) become this model's P-values for the binary
        // file, and P-values or v2 aliases for the XML.
        let reads_xml = d.model.reads_xml();
        let (eff, xml_eff) = match site_keys::xml_format(site) {
            keys::Format::PValues => {
                let eff = Arc::new(self.keys_expanded_owned(layered, &d.model, keys::Format::PValues));
                (eff.clone(), eff)
            }
            format => {
                let eff = if reads_xml {
                    // The v2 XML carries every key; the binary beside it what P-values can name.
                    site_keys::expand(&layered, &d.model, keys::Format::PValues).0
                } else {
                    self.keys_expanded(&layered, &d.model, keys::Format::PValues)
                };
                (Arc::new(eff), Arc::new(self.keys_expanded(&layered, &d.model, format)))
            }
        };
        let binary_values = match (p.binary, reads_xml) {
            (BinaryMode::Off, _) => None,
            (BinaryMode::Full, _) | (BinaryMode::Auto, false) => Some(Arc::new(with_password(self.site, &eff))),
            (BinaryMode::Bootstrap, _) => Some(Arc::new(bootstrap(self.site, &eff))),
            (BinaryMode::Auto, true) => p.encrypts().then(|| Arc::new(bootstrap(self.site, &eff))),
        };
        if let Some(values) = binary_values {
            self.binary_file(index, d, values, self.naming, FileKind::Binary)?;
        }
        if (!p.prefix.is_empty() || !p.postfix.is_empty()) && p.binary != BinaryMode::Off {
            let values = Arc::new(with_password(self.site, &kept(&eff, &UNPREFIXED_BOOTSTRAP_KEYS)));
            let plain = Naming { prefix: "", postfix: "", ..self.naming };
            self.binary_file(index, d, values, plain, FileKind::Bootstrap)?;
        }
        if reads_xml && p.device_xml {
            let name = request::device_xml_name(d.mac, &self.naming);
            self.xml_file(name, FileKind::DeviceXml, Some(d.mac), Some(d.model.clone()), xml_eff, p.encrypts())
                .map_err(|source| GenerateError::Xml { location: device_location(index, d), source })?;
        }
        Ok(())
    }

    /// One binary file, served as `cfg<mac>` and `cfg<mac>.bin` under `naming`.
    fn binary_file(
        &mut self,
        index: usize,
        d: &crate::site::Device,
        values: Arc<Effective>,
        naming: Naming<'_>,
        kind: FileKind,
    ) -> Result<(), GenerateError> {
        let p = &self.site.provisioning;
        let params = p_values(&values);
        let refs: Vec<(PId, &str)> = params.iter().map(|(k, v)| (*k, *v)).collect();
        let opts = binary::EncodeOptions { escape: p.binary_escape, ..binary::EncodeOptions::default() };
        let bytes: Arc<[u8]> = binary::encode(d.mac, &refs, &opts)
            .map_err(|source| GenerateError::Binary { location: device_location(index, d), source })?
            .into();
        // Older manuals and traffic show `cfg<mac>`, the newer guide `cfg<mac>.bin`:
        // serve the same bytes under both names (spec §2).
        for name in [
            request::binary_name(d.mac, &naming),
            request::file_name(&request::Asked::BinaryConfig { mac: d.mac, bin_suffix: true }, &naming)
                .unwrap_or_default(),
        ] {
            self.out.files.push(File {
                name,
                kind,
                device: Some(d.mac),
                model: Some(d.model.clone()),
                bytes: bytes.clone(),
                encrypted: false,
                settings: values.clone(),
            });
        }
        Ok(())
    }

    /// Builds one XML file; the caller names the location in an error.
    fn xml_file(
        &mut self,
        name: String,
        kind: FileKind,
        mac: Option<Mac>,
        model: Option<Model>,
        eff: Arc<Effective>,
        encrypt: bool,
    ) -> Result<(), xml::XmlError> {
        let p = &self.site.provisioning;
        let entries = match p.xml_version {
            xml::Version::V1 => {
                for key in eff.0.keys().filter(|k| k.parse::<PId>().is_err()) {
                    self.warn(key, format!("{key} has no P-value; it needs XML version 2 (provisioning.xml_version = \"v2\") and is left out"));
                }
                p_values(&eff).into_iter().map(|(id, v)| (xml::Key::P(id), v.to_string())).collect()
            }
            xml::Version::V2 => self.v2_entries(&eff, model.as_ref()),
        };
        let doc = xml::Document { mac, version: p.xml_version, entries };
        let plain = xml::write(&doc)?;
        let bytes: Arc<[u8]> = if encrypt {
            crypto::encrypt(&plain, p.xml_password.as_bytes(), (self.salt)(), p.digest).into()
        } else {
            plain.into()
        };
        self.out.files.push(File { name, kind, device: mac, model, bytes, encrypted: encrypt, settings: eff });
        Ok(())
    }

    /// Version-2 items: P-values become aliases by the model family's map (its v2
    /// template), or the curated map for files every family reads (`cfg.xml`).
    fn v2_entries(&mut self, eff: &Effective, model: Option<&Model>) -> Vec<(xml::Key, String)> {
        let cat = Catalog::get();
        let family = model.map(|m| Family::of_model(m).family);
        let mut out = Vec::with_capacity(eff.0.len());
        for (key, setting) in &eff.0 {
            match key.parse::<PId>() {
                Ok(id) => {
                    let alias = family
                        .map_or_else(|| cat.alias_of(id), |f| cat.alias_in(f, id))
                        .or_else(|| key_alias(family?, model?, id));
                    match alias {
                        Some(alias) => {
                            // The alias name first: it rules out all but key modes without a lookup.
                            let key_mode = keys::mode_alias(&alias).and_then(|km| Some((keys::layout(model?)?, km)));
                            let value = if let Some((layout, (kind, k))) = key_mode {
                                match v2_key_mode(&layout, kind, k, &setting.value) {
                                    Some(v) => v,
                                    None => {
                                        self.warn(
                                            key,
                                            format!(
                                                "{key} = {:?} ({} mode) is a code with no XML v2 equivalent on {} and is left out of v2 files; set {} to a key type instead, or use XML version 1",
                                                setting.value,
                                                kind.key_name(k),
                                                layout.family,
                                                keys::KeyRef { kind, number: k, field: keys::Field::Type }.name(),
                                            ),
                                        );
                                        continue;
                                    }
                                }
                            } else {
                                let param = match family {
                                    Some(f) => cat.lookup_in(f, key),
                                    None => cat.lookup(key),
                                };
                                param.map_or_else(|| setting.value.clone(), |p| p.alias_value(&setting.value))
                            };
                            out.push((xml::Key::Alias(alias), value));
                        }
                        None => {
                            let on = family.map(|f| format!(" on {f}")).unwrap_or_default();
                            self.warn(
                            key,
                            format!("{key} has no XML v2 alias{on} and is left out of v2 files; use XML version 1 for it"),
                        )
                        }
                    }
                }
                Err(_) => out.push((xml::Key::Alias(key.clone()), setting.value.clone())),
            }
        }
        out
    }

    /// `eff` with its programmable keys translated for `model` ([`site_keys::expand`]);
    /// a key that cannot be placed is one warning.
    fn keys_expanded(&mut self, eff: &Effective, model: &Model, format: keys::Format) -> Effective {
        let (out, dropped) = site_keys::expand(eff, model, format);
        for (key, why) in dropped {
            self.warn(&format!("{model} {key}"), why);
        }
        out
    }

    /// [`Generator::keys_expanded`] of an `eff` the caller is done with ([`site_keys::expand_owned`]).
    fn keys_expanded_owned(&mut self, eff: Effective, model: &Model, format: keys::Format) -> Effective {
        let (out, dropped) = site_keys::expand_owned(eff, model, format);
        for (key, why) in dropped {
            self.warn(&format!("{model} {key}"), why);
        }
        out
    }

    fn warn(&mut self, key: &str, message: String) {
        self.warned.entry(key.to_string()).or_insert_with(|| Issue {
            severity: Severity::Warning,
            location: format!("generate ({key})"),
            message,
        });
    }
}

/// The v2 alias of a raw programmable-key P-value the catalog names no alias
/// for (the templates name key 1's only: `P1367` is VPK 3's mode on GXP21xx,
/// `pks.vpk.3.keyMode`), when the model has that key.
fn key_alias(family: Family, model: &Model, id: PId) -> Option<String> {
    let (kind, k, field) = keys::slot_of(family, id)?;
    let layout = keys::layout(model)?;
    if k > layout.count(kind) {
        return None;
    }
    let s = keys::slots(layout.family, keys::Format::Aliases, kind, k)?;
    Some(s.field(field).to_string())
}

/// A raw key-mode P-value on the v2 scale of its alias ([`keys::v2_mode`]):
/// the P-value numbering differs from the alias's on some families (GXP21xx
/// line keys: 11 = BLF in v1, 1 in v2). Empty stays empty; `None` when the
/// code has no v2 equivalent.
fn v2_key_mode(layout: &keys::Layout, kind: keys::KeyKind, k: u16, value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some(value.to_string());
    }
    let v1: i32 = value.trim().parse().ok()?;
    keys::v2_mode(layout, kind, k, v1).map(|c| c.to_string())
}

/// The P-values of a layered result, in numeric order (P2 before P10).
fn p_values(eff: &Effective) -> Vec<(PId, &str)> {
    let mut v: Vec<(PId, &str)> =
        eff.0.iter().filter_map(|(k, s)| k.parse::<PId>().ok().map(|id| (id, s.value.as_str()))).collect();
    v.sort_unstable_by_key(|(id, _)| *id);
    v
}

/// The few values an XML-capable unit needs from the binary file to fetch (and
/// decrypt) its XML: method, server path, file naming, XML password (spec §2, §8).
fn bootstrap(site: &Site, eff: &Effective) -> Effective {
    with_password(site, &kept(eff, &BOOTSTRAP_KEYS))
}

/// What the unprefixed bootstrap ([`FileKind::Bootstrap`]) carries: the
/// bootstrap values plus the firmware path, method and naming, so one file
/// moves a factory-fresh unit onto this server with the site's names.
pub const UNPREFIXED_BOOTSTRAP_KEYS: [&str; 9] =
    ["P212", "P237", "P234", "P235", "P1359", "P192", "P6767", "P232", "P233"];

fn kept(eff: &Effective, keys: &[&str]) -> Effective {
    Effective(keys.iter().filter_map(|k| eff.0.get(*k).map(|s| (k.to_string(), s.clone()))).collect())
}

/// Adds the XML password (P1359) when XML files are encrypted: the binary file is
/// how a unit learns it (spec §8, first bootstrap method).
fn with_password(site: &Site, eff: &Effective) -> Effective {
    let mut out = eff.clone();
    if site.provisioning.encrypts() {
        out.0.insert(
            "P1359".into(),
            Setting { value: site.provisioning.xml_password.clone(), source: Source::Provisioning },
        );
    }
    out
}

/// The files an export writes beside the generated ones: `nginx.conf` and `README.txt`.
pub fn export_extras(site: &Site, out: &Output) -> [(&'static str, Vec<u8>); 2] {
    [("nginx.conf", nginx_conf(site).into_bytes()), ("README.txt", tree_readme(site, out).into_bytes())]
}

/// An nginx `server` block serving an exported tree, for a site that outgrows the laptop.
pub fn nginx_conf(site: &Site) -> String {
    let auth = if site.serving.auth.is_some() {
        "    # The site uses HTTP authentication: create the file with\n    #   htpasswd -c /etc/nginx/gsprov.htpasswd <user>\n    auth_basic \"gsprov\";\n    auth_basic_user_file /etc/nginx/gsprov.htpasswd;\n"
    } else {
        ""
    };
    format!(
        "# nginx configuration for the gsprov export of site {name:?}.\n\
         # Copy the tree to /srv/gsprov and include this file from the http {{}} block.\n\
         # Point the devices' config server path (P237) at this host; use HTTPS when the\n\
         # XML files are not encrypted, since they carry SIP passwords.\n\
         server {{\n\
         \x20   listen 80;\n\
         \x20   server_name _;\n\
         \x20   root /srv/gsprov;\n\
         \x20   autoindex off;\n\
         {auth}\
         \x20   # Devices may ask in upper case (spec 9.1); the files are stored as named.\n\
         \x20   location ~* \\.xml {{ default_type application/xml; try_files $uri =404; }}\n\
         \x20   # Firmware, with the <model>/<version>/ subfolders of stepped upgrades.\n\
         \x20   location /firmware/ {{ default_type application/octet-stream; try_files $uri =404; }}\n\
         \x20   location / {{ default_type application/octet-stream; try_files $uri =404; }}\n\
         }}\n",
        name = site.name
    )
}

/// The README placed in an exported tree. Lists files, never secrets.
pub fn tree_readme(site: &Site, out: &Output) -> String {
    let mut s = format!(
        "gsprov export of site \"{}\"\n\n\
         Serve this folder over TFTP or HTTP(S) and point the devices at it (P237 config\n\
         server path, P212 method, or DHCP option 66). Devices request, in order:\n\
         cfg<mac> (binary), cfg<mac>.xml, cfg<model>.xml, then cfg.xml; a 404 moves them on.\n\
         nginx.conf beside this file is a ready server block.\n\n\
         Firmware: each device's P192 (firmware server path) is as generated. A device whose\n\
         next firmware step gsprov knew of (from the firmware it reported) points into the\n\
         firmware folder's <model>/<version>/ subfolder; copy the firmware folder with its\n\
         subfolders to firmware/ beside these files (nginx.conf serves /firmware/ and every\n\
         subfolder under it) and keep each device's P192 pointing at this server.\n\n",
        site.name
    );
    if site.provisioning.encrypts() {
        s.push_str("XML files marked 'encrypted' are AES-256-CBC (OpenSSL salted format, MD5 key derivation\nunless the site says otherwise); devices get the password (P1359) from their binary file.\n\n");
    }
    s.push_str("file                                     kind                  device        encrypted  bytes\n");
    s.reserve(out.files.len() * 96);
    for f in &out.files {
        // Written in place: one line per file, tens of thousands of lines for a big site.
        let device = f.device.map(|m| m.to_string());
        let _ = writeln!(
            s,
            "{:<40} {:<21} {:<13} {:<10} {}",
            f.name,
            f.kind.describe(),
            device.as_deref().unwrap_or("-"),
            if f.encrypted { "yes" } else { "no" },
            f.bytes.len()
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_model_layers_are_shared_without_changing_any_device() {
        let mut site = crate::site::demo();
        // Two devices of one model with different overrides: the cached model layers
        // must not carry one device's values into the other.
        let mut twin = site.devices[0].clone();
        twin.mac = "000b82a1b2ff".parse().unwrap();
        twin.values.set("P1362", "fr");
        twin.accounts.truncate(1);
        site.devices.push(twin);
        let out = generate(&site, &mut || [1; 8]).unwrap();
        for d in &site.devices {
            let file = out.files.iter().find(|f| f.kind == FileKind::DeviceXml && f.device == Some(d.mac)).unwrap();
            assert_eq!(*file.settings, site.effective(d), "{}", d.mac);
        }
    }

    /// The demo site grown to `n` devices (copies of its first with fresh MACs).
    fn demo_with(n: usize) -> Site {
        let mut site = crate::site::demo();
        let first = site.devices[0].clone();
        for i in site.devices.len()..n {
            let mut d = first.clone();
            d.mac = format!("000b82{:06x}", 0x10_0000 + i).parse().unwrap();
            site.devices.push(d);
        }
        site
    }

    #[test]
    fn checked_on_two_threads_is_the_check_then_the_generation() {
        let site = demo_with(300);
        let mut salts = 0u8;
        let out = checked(&site, &mut || {
            salts = salts.wrapping_add(1);
            [salts; 8]
        })
        .unwrap();
        let mut again = 0u8;
        let want = generate(&site, &mut || {
            again = again.wrapping_add(1);
            [again; 8]
        })
        .unwrap();
        let files = |o: &Output| o.files.iter().map(|f| (f.name.clone(), f.bytes.to_vec())).collect::<Vec<_>>();
        assert_eq!(files(&out), files(&want), "same files, order and bytes for the same salts");
        assert_eq!(out.warnings, want.warnings);
        assert_eq!(out.dhcp_overrides, site.dhcp_override_issues());
        assert!(!out.dhcp_overrides.is_empty(), "the demo's P30 reaches phones whose P144 defaults to 1");

        // An error anywhere refuses the whole site, with the check's errors.
        let mut bad = site.clone();
        bad.devices[299].values.set("P1362", "\u{1b}[2J");
        let errors: Vec<Issue> = bad.check().into_iter().filter(|i| i.severity == Severity::Error).collect();
        assert!(!errors.is_empty());
        match checked(&bad, &mut || [0; 8]) {
            Err(BuildError::SiteHasErrors(e)) => assert_eq!(e, errors),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn os_salts_come_in_batches_yet_differ() {
        let mut salt = os_salts();
        let salts: std::collections::BTreeSet<[u8; 8]> = (0..1500).map(|_| salt()).collect();
        assert_eq!(salts.len(), 1500, "three batches, no salt twice");
    }

    #[test]
    fn xml_v2_uses_the_family_alias_map() {
        use crate::site::{Device, Encrypt};
        let mut site = Site::default();
        site.provisioning.xml_version = xml::Version::V2;
        site.provisioning.encrypt = Encrypt::Off;
        let mut d = Device::new("000b82000010".parse().unwrap(), "GXP2170".parse().unwrap());
        // A line key (BLF), the time zone, unregister-on-reboot, and one setting
        // no v2 template names.
        for (k, v) in [("P1363", "11"), ("P64", "auto"), ("P81", "1"), ("P2", "secret"), ("P77777", "x")] {
            d.values.set(k, v);
        }
        site.devices.push(d);
        let out = generate(&site, &mut || [1; 8]).unwrap();
        let file = out.files.iter().find(|f| f.kind == FileKind::DeviceXml).unwrap();
        let text = String::from_utf8(file.bytes.to_vec()).unwrap();
        // v1 11 = BLF (gxp21xx P1363); BLF is 1 on the v2 scale (gxp2170 pks.vpk.N.keyMode).
        assert!(text.contains(r#"<item name="pks.vpk.1.keyMode">1</item>"#), "{text}");
        assert!(text.contains(r#"<item name="dateTime.timezone">auto</item>"#), "{text}");
        assert!(text.contains(r#"<item name="account.1.sip.unregisterOnReboot">Yes</item>"#), "{text}");
        assert!(text.contains(r#"<item name="users.admin.password">secret</item>"#), "{text}");
        let dropped: Vec<&str> = out.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(dropped.len(), 1, "{dropped:#?}");
        assert!(dropped[0].starts_with("P77777 has no XML v2 alias on GXP21xx"), "{dropped:#?}");
        // The curated map alone (the generic cfg.xml) knows none of the first three.
        let cat = Catalog::get();
        for id in [1363, 64, 81] {
            assert_eq!(cat.alias_of(PId::new(id)), None, "P{id}");
        }
    }
}

#[cfg(test)]
mod raw_key_mode_tests {
    use super::*;
    use crate::site::Device;

    /// The v2 device XML and warnings for one device of `model` with raw `values`.
    fn v2(model: &str, values: &[(&str, &str)]) -> (BTreeMap<String, String>, Vec<Issue>) {
        let mut site = Site::default();
        site.provisioning.xml_version = xml::Version::V2;
        site.provisioning.encrypt = Encrypt::Off;
        let mut d = Device::new("000b82000011".parse().unwrap(), model.parse().unwrap());
        for (k, v) in values {
            d.values.set(*k, *v);
        }
        site.devices.push(d);
        let out = generate(&site, &mut || [1; 8]).unwrap();
        let file = out.files.iter().find(|f| f.kind == FileKind::DeviceXml).unwrap();
        let entries = xml::read(&file.bytes)
            .unwrap()
            .entries
            .into_iter()
            .filter_map(|(k, v)| match k {
                xml::Key::Alias(a) => Some((a, v)),
                xml::Key::P(_) => None,
            })
            .collect();
        (entries, out.warnings)
    }

    /// (raw P-value, v1 code, alias, v2 code): each case a device of its own.
    fn table(model: &str, cases: &[(&str, &str, &str, &str)]) {
        for (p, v1, alias, want) in cases {
            let (got, warnings) = v2(model, &[(p, v1)]);
            assert_eq!(got.get(*alias).map(String::as_str), Some(*want), "{model} {p} = {v1}: {got:?}");
            assert!(warnings.is_empty(), "{model} {p} = {v1}: {warnings:?}");
        }
    }

    /// GXP21xx: the P-values keep the gxp21xx v1 (1.0.5.32) line-key scale ("0 -
    /// Line, 1 - Shared Line, 10 - Speeddial, 11 - BLF ... 19 - CallPark, 20 -
    /// Intercom, 21 - LDAP Search"); gxp2170 v2 (1.0.11.79) keyMode: "SpeedDial
    /// (0), BLF (1) ... CallPark (9) ... LDAPSearch (11) ... Line (31), SharedLine
    /// (32)". Extension boards: the same 0-11 in both.
    #[test]
    fn gxp2170_raw_v1_key_modes_in_v2() {
        let m = "pks.vpk.1.keyMode";
        let e = "pks.ext.1.keyMode";
        table(
            "GXP2170",
            &[
                ("P1363", "0", m, "31"),
                ("P1363", "1", m, "32"),
                ("P1363", "10", m, "0"),
                ("P1363", "11", m, "1"),
                ("P1363", "12", m, "2"),
                ("P1363", "13", m, "3"),
                ("P1363", "14", m, "4"),
                ("P1363", "15", m, "5"),
                ("P1363", "16", m, "6"),
                ("P1363", "17", m, "7"),
                ("P1363", "18", m, "8"),
                ("P1363", "19", m, "9"),
                ("P1363", "20", m, "10"),
                ("P1363", "21", m, "11"),
                ("P1363", "", m, ""),
                ("P23000", "0", e, "0"),
                ("P23000", "1", e, "1"),
                ("P23000", "9", e, "9"),
                ("P23000", "11", e, "11"),
            ],
        );
    }

    /// GRP26xx: grp26xx v1 (1.0.3.6) and grp2612 v2 (1.0.9.103) number the modes
    /// alike ("SpeedDial (0), BLF (1) ... DND (22), Redial (23) ... Line (31),
    /// SharedLine (32)"), so every code keeps its number, the ones gsprov's key
    /// types do not name (Redial 23, Phonebook 30) too.
    #[test]
    fn grp2614_raw_v1_key_modes_in_v2() {
        let (v, p, e) = ("pks.vpk.1.keyMode", "pks.mpk.1.keyMode", "pks.ext.1.keyMode");
        table(
            "GRP2614",
            &[
                ("P1363", "31", v, "31"),
                ("P1363", "32", v, "32"),
                ("P1363", "0", v, "0"),
                ("P1363", "1", v, "1"),
                ("P1363", "-1", v, "-1"),
                ("P1363", "23", v, "23"),
                ("P323", "1", p, "1"),
                ("P323", "9", p, "9"),
                ("P323", "22", p, "22"),
                ("P23000", "1", e, "1"),
                ("P23000", "30", e, "30"),
            ],
        );
    }

    /// Raw P-values of keys past the first, which the templates name no alias
    /// for, go to the key's v2 slot (keys::slots) with the mode translated:
    /// GXP2170 line key 3 (P1367/P1368/P1469/P1470), GRP2614 VPK 7 (P23800..)
    /// and MPK 8 (P353..). A key the model lacks keeps the old warning.
    #[test]
    fn raw_key_values_past_key_1_reach_their_v2_slots() {
        let (got, warnings) = v2("GXP2170", &[("P1367", "11"), ("P1368", "1"), ("P1469", "Desk"), ("P1470", "203")]);
        for (alias, want) in [
            ("pks.vpk.3.keyMode", "1"),
            ("pks.vpk.3.account", "1"),
            ("pks.vpk.3.description", "Desk"),
            ("pks.vpk.3.value", "203"),
        ] {
            assert_eq!(got.get(alias).map(String::as_str), Some(want), "{alias}: {got:?}");
        }
        assert!(warnings.is_empty(), "{warnings:?}");
        let (got, warnings) = v2("GRP2614", &[("P23800", "1"), ("P23803", "207"), ("P353", "0"), ("P356", "5551")]);
        for (alias, want) in [
            ("pks.vpk.7.keyMode", "1"),
            ("pks.vpk.7.value", "207"),
            ("pks.mpk.8.keyMode", "0"),
            ("pks.mpk.8.value", "5551"),
        ] {
            assert_eq!(got.get(alias).map(String::as_str), Some(want), "{alias}: {got:?}");
        }
        assert!(warnings.is_empty(), "{warnings:?}");
        // GXP2130 VPK 4 is dynamic (gxp2170 note 3): v1 Line (0) has no v2 code there.
        let (got, warnings) = v2("GXP2130", &[("P1369", "0"), ("P1370", "0")]);
        assert!(!got.contains_key("pks.vpk.4.keyMode") && got.contains_key("pks.vpk.4.account"), "{got:?}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.contains("VPK 4 mode") && warnings[0].message.contains("key.vpk.4.type"));
        // A GRP2612W has no MPKs: P353 stays unplaced, with the warning it had.
        let (got, warnings) = v2("GRP2612W", &[("P353", "0")]);
        assert!(!got.keys().any(|k| k.starts_with("pks.mpk.")), "{got:?}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.starts_with("P353 has no XML v2 alias on GRP26xx"), "{warnings:?}");
    }

    /// A v1 code the v2 scale has no number for is left out, with one warning
    /// naming the P-value, the family and the way out, however many devices.
    #[test]
    fn a_v1_code_without_a_v2_equivalent_is_one_warning() {
        let (got, warnings) = v2("GXP2170", &[("P1363", "5"), ("P1364", "0")]);
        assert!(!got.contains_key("pks.vpk.1.keyMode"), "{got:?}");
        assert_eq!(warnings.len(), 1, "{warnings:#?}");
        let w = &warnings[0].message;
        for part in ["P1363", "GXP21xx", "VPK 1", "key.vpk.1.type", "XML version 1"] {
            assert!(w.contains(part), "{part:?} in {w}");
        }
        let mut site = Site::default();
        site.provisioning.xml_version = xml::Version::V2;
        for mac in ["000b82000021", "000b82000022"] {
            let mut d = Device::new(mac.parse().unwrap(), "GXP2170".parse().unwrap());
            d.values.set("P1363", "x");
            site.devices.push(d);
        }
        let out = generate(&site, &mut || [1; 8]).unwrap();
        assert_eq!(out.warnings.len(), 1, "{:#?}", out.warnings);
    }
}

#[cfg(test)]
mod phonebook_v2_tests {
    use super::*;
    use crate::site::Device;

    /// The site phonebook's download settings (P330/P331/P332, from P212 and
    /// P237) as v2 aliases with the templates' words: gxp2170 (1.0.11.79) and
    /// wp8x6 (1.0.1.44) "phonebook.download.mode: Disabled, EnabledUseHTTP,
    /// EnabledUseTFTP, EnabledUseHTTPS", `.server`, `.interval`.
    #[test]
    fn site_phonebook_settings_are_v2_aliases_with_the_template_words() {
        for (model, p212, mode) in [
            ("GXP2170", "1", "EnabledUseHTTP"),
            ("GXP2170", "2", "EnabledUseHTTPS"),
            ("GXP2170", "0", "EnabledUseTFTP"),
            ("WP826", "1", "EnabledUseHTTP"),
        ] {
            let mut site = Site::default();
            site.provisioning.xml_version = xml::Version::V2;
            site.provisioning.encrypt = Encrypt::Off;
            site.phonebook.enabled = true;
            site.defaults.set("P212", p212);
            site.defaults.set("P237", "192.168.10.5:8080/prov");
            site.devices.push(Device::new("000b82000031".parse().unwrap(), model.parse().unwrap()));
            let out = generate(&site, &mut || [1; 8]).unwrap();
            let file = out.files.iter().find(|f| f.kind == FileKind::DeviceXml).unwrap();
            let got: BTreeMap<String, String> = xml::read(&file.bytes)
                .unwrap()
                .entries
                .into_iter()
                .filter_map(|(k, v)| match k {
                    xml::Key::Alias(a) => Some((a, v)),
                    xml::Key::P(_) => None,
                })
                .collect();
            let what = format!("{model} P212={p212}");
            assert_eq!(got.get("phonebook.download.mode").map(String::as_str), Some(mode), "{what}: {got:?}");
            assert_eq!(
                got.get("phonebook.download.server").map(String::as_str),
                Some("192.168.10.5:8080/prov"),
                "{what}"
            );
            assert_eq!(got.get("phonebook.download.interval").map(String::as_str), Some("720"), "{what}");
            let about: Vec<&Issue> = out.warnings.iter().filter(|w| w.location.contains("P33")).collect();
            assert!(about.is_empty(), "{what}: {about:?}");
        }
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;
    use crate::catalog::keys::{KeyKind, KeyType};
    use crate::site::keys::{Fill, fill};
    use crate::site::{Device, Values};

    /// BLF for 201.. on keys `first..=last` of the model template, one device of it.
    fn site(model: &str, xml: xml::Version, first: u16, last: u16) -> Site {
        let mut site = Site::default();
        site.provisioning.xml_version = xml;
        site.provisioning.binary = BinaryMode::Full;
        let m: Model = model.parse().unwrap();
        let mut v = Values::default();
        let f = Fill {
            kind: KeyKind::Vpk,
            first_key: first,
            last_key: last,
            ty: KeyType::Blf,
            first_value: "201".into(),
            account: Some(1),
        };
        fill(&mut v, &m, crate::site::keys::xml_format(&site), &f).unwrap();
        v.set("key.vpk.1.type", "line");
        site.models.insert(model.into(), v);
        site.devices.push(Device::new("000b82000042".parse().unwrap(), m));
        let issues = site.check();
        assert!(issues.iter().all(|i| i.severity != Severity::Error), "{issues:?}");
        site
    }

    fn xml_entries(out: &Output, kind: FileKind) -> BTreeMap<String, String> {
        let f = out.files.iter().find(|f| f.kind == kind).unwrap();
        xml::read(&f.bytes)
            .unwrap()
            .entries
            .into_iter()
            .map(|(k, v)| {
                (
                    match k {
                        xml::Key::P(p) => p.to_string(),
                        xml::Key::Alias(a) => a,
                    },
                    v,
                )
            })
            .collect()
    }

    fn binary_entries(out: &Output) -> BTreeMap<String, String> {
        let f = out.files.iter().find(|f| f.kind == FileKind::Binary).unwrap();
        binary::decode(&f.bytes).unwrap().params.into_iter().map(|(p, v)| (p.to_string(), v)).collect()
    }

    fn expect(got: &BTreeMap<String, String>, want: &[(&str, &str)], what: &str) {
        for (k, v) in want {
            assert_eq!(got.get(*k).map(String::as_str), Some(*v), "{what}: {k} in {got:?}");
        }
        assert!(got.keys().all(|k| !k.starts_with("key.")), "{what}: no virtual key leaks: {got:?}");
    }

    /// GXP2170, v1 file and binary (gxp21xx 1.0.5.32 numbering and codes: line key k
    /// at P1363+2(k-1), 0 = line, 11 = BLF; line keys 1-6 only).
    #[test]
    fn gxp2170_blf_range_in_v1_xml_and_binary() {
        let site = site("GXP2170", xml::Version::V1, 3, 6);
        let out = checked(&site, &mut || [0; 8]).unwrap();
        let want = [
            ("P1363", "0"),
            ("P1364", "0"),
            ("P1367", "11"),
            ("P1368", "0"),
            ("P1470", "201"),
            ("P1373", "11"),
            ("P1476", "204"),
            ("P1475", ""),
        ];
        for (what, got) in [
            ("device XML", xml_entries(&out, FileKind::DeviceXml)),
            ("model XML", xml_entries(&out, FileKind::ModelXml)),
            ("binary", binary_entries(&out)),
        ] {
            expect(&got, &want, what);
        }
        assert!(!xml_entries(&out, FileKind::GenericXml).contains_key("P1367"), "cfg.xml carries no keys");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }

    /// GXP2170, v2 file (gxp2170 1.0.11.79: pks.vpk.N.*, 1 = BLF, 31 = line), keys
    /// 3-12; the binary file beside it keeps the v1 codes and leaves out what v1
    /// cannot name (keys 7-12): the XML, read after it, has them.
    #[test]
    fn gxp2170_blf_range_in_v2_xml() {
        let site = site("GXP2170", xml::Version::V2, 3, 12);
        let out = checked(&site, &mut || [0; 8]).unwrap();
        let want = [
            ("pks.vpk.1.keyMode", "31"),
            ("pks.vpk.3.keyMode", "1"),
            ("pks.vpk.3.account", "0"),
            ("pks.vpk.3.value", "201"),
            ("pks.vpk.12.keyMode", "1"),
            ("pks.vpk.12.value", "210"),
            ("pks.vpk.12.description", ""),
        ];
        expect(&xml_entries(&out, FileKind::DeviceXml), &want, "device XML");
        let bin = binary_entries(&out);
        expect(&bin, &[("P1367", "11"), ("P1470", "201"), ("P1363", "0")], "binary");
        assert!(!bin.contains_key("P1375"), "v1 names line keys 1-6 only");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }

    /// GRP2612W (grp26xx 1.0.3.6 / grp2612 1.0.9.103): VPK 3-6 at P1367.., 7-12 at
    /// P23800+4(k-7), 1 = BLF and 31 = line in both formats.
    #[test]
    fn grp2612w_blf_range_in_v1_and_v2() {
        let site1 = site("GRP2612W", xml::Version::V1, 3, 12);
        let out = checked(&site1, &mut || [0; 8]).unwrap();
        let want = [
            ("P1363", "31"),
            ("P1367", "1"),
            ("P1470", "201"),
            ("P23800", "1"),
            ("P23801", "0"),
            ("P23803", "205"),
            ("P23820", "1"),
            ("P23823", "210"),
        ];
        expect(&xml_entries(&out, FileKind::DeviceXml), &want, "v1 device XML");
        expect(&binary_entries(&out), &want, "binary");
        let site2 = site("GRP2612W", xml::Version::V2, 3, 12);
        let out = checked(&site2, &mut || [0; 8]).unwrap();
        let want = [
            ("pks.vpk.1.keyMode", "31"),
            ("pks.vpk.7.keyMode", "1"),
            ("pks.vpk.7.value", "205"),
            ("pks.vpk.12.value", "210"),
        ];
        expect(&xml_entries(&out, FileKind::DeviceXml), &want, "v2 device XML");
        expect(&xml_entries(&out, FileKind::ModelXml), &want, "v2 model XML");
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    }
}

#[cfg(test)]
mod bootstrap_tests {
    use super::*;

    #[test]
    fn a_prefix_adds_an_unprefixed_bootstrap_or_a_warning() {
        let mut site = crate::site::demo();
        let plain = generate(&site, &mut || [0; 8]).unwrap();
        assert!(plain.files.iter().all(|f| f.kind != FileKind::Bootstrap), "no prefix, no extra file");
        site.provisioning.prefix = "gs_".into();
        let out = generate(&site, &mut || [0; 8]).unwrap();
        let names = out.by_name();
        for d in &site.devices {
            for name in [format!("cfg{}", d.mac), format!("cfg{}.bin", d.mac)] {
                let f = names.get(&name).unwrap_or_else(|| panic!("{name}"));
                assert_eq!(f.kind, FileKind::Bootstrap);
                let decoded = binary::decode(&f.bytes).unwrap();
                let get = |k: &str| decoded.params.iter().find(|(p, _)| p.to_string() == k).map(|(_, v)| v.as_str());
                assert_eq!((get("P234"), get("P237")), (Some("gs_"), Some("192.168.10.5:8080")), "{name}");
                assert_eq!(get("P2"), None, "only bootstrap values");
            }
            assert!(!names.contains_key(&format!("cfg{}.xml", d.mac)), "the XML keeps its prefixed name only");
        }
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        site.provisioning.binary = BinaryMode::Off;
        let out = generate(&site, &mut || [0; 8]).unwrap();
        assert!(out.files.iter().all(|f| f.kind != FileKind::Bootstrap));
        assert!(out.warnings.iter().any(|w| w.message.contains("a factory-fresh device asks for the unprefixed")));
    }
}
