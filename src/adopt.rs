//! Adopting an office that already runs (issue 28, part 1): the files of an
//! old provisioning folder (`cfg<mac>`, `cfg<mac>.xml`, `cfg<model>.xml`,
//! `cfg.xml`) read back into a [`Site`] whose layers are the ones the devices
//! apply, and the proof that generating that site gives every file the same
//! values ([`RoundTrip`]).
//!
//! Pure: the caller (`storage`) lists the folder and hands over each file's
//! bytes; nothing here touches the file system. Reading a file is
//! `formats` (binary, XML v1/v2, OpenSSL-salted AES); layering and its
//! provenance are `site`'s; the round trip runs the real [`generate`].
//!
//! How the layers are rebuilt (spec §2: a device applies its binary file, then
//! its first XML file that downloads: `cfg<mac>.xml`, else `cfg<model>.xml`,
//! else `cfg.xml`):
//! - `cfg.xml` -> `[defaults]`; `cfg<model>.xml` -> `[models.<model>]`,
//!   less what merely repeats the defaults;
//! - a device's binary and XML together -> the device, less what repeats its
//!   model's layers; its accounts/ports become `[[devices.accounts]]` where
//!   the catalog's layout reproduces them exactly (checked by layering them
//!   back), else they stay raw P-values;
//! - with no shared file in the folder, values every device (of a model) sets
//!   alike are lifted to the defaults (model), and the report says so;
//! - P234/P235 (the names), P232/P233 and the XML password become the site's
//!   `[provisioning]` settings.
//!
//! Nothing is guessed silently: a device whose model neither the technician
//! nor its files tell is an error, and every file is listed with what became
//! of it.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Catalog, ValueKind};
use crate::formats::request::{self, Asked, Naming};
use crate::formats::{binary, crypto, xml};
use crate::generate::{self, FileKind};
use crate::ids::{Family, Mac, Model, PId};
use crate::site::{self, Account, BinaryMode, Device, Encrypt, Site, Values};

/// Largest file taken for a config file; anything bigger is a firmware image
/// or something else (the biggest generated config is a few kilobytes).
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// One entry of the folder, as `storage` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A regular file and its bytes.
    File { name: String, bytes: Vec<u8> },
    /// A regular file larger than [`MAX_CONFIG_BYTES`], not read.
    Large { name: String, size: u64 },
    /// A sub-folder, a link or another special entry, not read.
    Other { name: String, what: &'static str },
}

impl Entry {
    pub fn name(&self) -> &str {
        match self {
            Entry::File { name, .. } | Entry::Large { name, .. } | Entry::Other { name, .. } => name,
        }
    }
}

/// What the technician tells `adopt`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The folder's name, for the site's name.
    pub folder: String,
    /// XML password (P1359) for encrypted files; without it, the P1359 the
    /// binary files carry is tried.
    pub xml_password: Option<String>,
    pub digest: crypto::Digest,
    /// Each device's model (`--model MAC=MODEL`).
    pub models: BTreeMap<Mac, Model>,
    /// The model of every device not otherwise known (`--model MODEL`).
    pub default_model: Option<Model>,
}

/// Per-device models, and the model of every other device.
pub type Models = (BTreeMap<Mac, Model>, Option<Model>);

/// Device models as the technician gives them (`--model`, the app's Models
/// box): `MAC=MODEL` each, or one bare `MODEL` for every device whose files do
/// not tell it. Returns the per-device map and the model for the rest, or
/// the hint that is wrong (counted from 0) and why.
pub fn model_hints<'a>(hints: impl IntoIterator<Item = &'a str>) -> Result<Models, (usize, String)> {
    let mut per = BTreeMap::new();
    let mut rest = None;
    for (i, hint) in hints.into_iter().enumerate() {
        let bad = |why: String| (i, why);
        match hint.split_once('=') {
            Some((mac, model)) => {
                let mac: Mac = mac.trim().parse().map_err(|e: crate::ids::MacError| bad(e.to_string()))?;
                let model: Model = model.parse().map_err(|e: crate::ids::ModelError| bad(e.to_string()))?;
                if per.insert(mac, model).is_some() {
                    return Err(bad(format!("{} is given twice", mac.colon())));
                }
            }
            None => {
                let model: Model = hint.parse().map_err(|e: crate::ids::ModelError| bad(e.to_string()))?;
                if rest.replace(model).is_some() {
                    return Err(bad("only one model without a MAC (the model of all the others)".into()));
                }
            }
        }
    }
    Ok((per, rest))
}

/// Why a folder cannot be adopted. Nothing is written then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdoptError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error(
        "the model of {} is not known: the files do not say it; give it with --model MAC=MODEL (or --model MODEL for all of them)",
        .0.join(", ")
    )]
    UnknownModels(Vec<String>),
    #[error("no Grandstream config file in the folder (cfg<mac>, cfg<mac>.xml, cfg<model>.xml, cfg.xml)")]
    Empty,
}

/// What became of one file of the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Read, and every value placed in the site.
    Understood,
    /// Read; some values are not in the catalog for the device family and are
    /// kept as raw overrides ([`FileNote::raw`]).
    KeptRaw,
    /// Not read, or read and not used; [`FileNote::detail`] says why.
    Skipped,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileNote {
    pub name: String,
    pub outcome: Outcome,
    pub detail: String,
    /// Keys kept as raw overrides (unknown to the catalog for the family).
    pub raw: Vec<String>,
}

/// How one file of the folder compares with the adopted site's.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "verdict")]
pub enum Verdict {
    /// The generated file has the same values.
    Same,
    /// Values differ: keys only, never values (they may be passwords).
    Differs { missing: Vec<String>, added: Vec<String>, changed: Vec<String> },
    /// The folder has the file; the adopted site does not generate it.
    NotGenerated,
    /// The adopted site generates a file the folder did not have.
    New { why: String },
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoundTrip {
    pub name: String,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// The report `adopt` returns beside the site.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub prefix: String,
    pub postfix: String,
    pub files: Vec<FileNote>,
    /// Decisions worth reading: lifted values, inferred models, where the
    /// password came from, conflicts between files.
    pub notes: Vec<String>,
    /// The adopted site's own check (errors and warnings).
    pub issues: Vec<site::Issue>,
    pub round_trip: Vec<RoundTrip>,
}

impl Report {
    /// Files of the folder the adopted site reproduces with other values, or not at all.
    pub fn round_trip_differences(&self) -> usize {
        self.round_trip.iter().filter(|r| matches!(r.verdict, Verdict::Differs { .. } | Verdict::NotGenerated)).count()
    }
}

/// The adopted site and what was done.
#[derive(Debug, Clone)]
pub struct Adopted {
    pub site: Site,
    pub report: Report,
}

/// A config file read back.
#[derive(Debug, Clone)]
struct Read {
    name: String,
    asked: Asked,
    encrypted: bool,
    version: Option<xml::Version>,
    mac: Option<Mac>,
    /// As in the file: key (P-id or alias) -> value, the last of a repeated key.
    params: BTreeMap<String, String>,
    repeated: Vec<String>,
}

/// Adopts the folder `entries` (see the module doc).
pub fn adopt(entries: &[Entry], opts: &Options) -> Result<Adopted, AdoptError> {
    let mut report = Report::default();
    let naming_owned = choose_naming(entries);
    let (prefix, postfix) = naming_owned.clone();
    report.prefix = prefix.clone();
    report.postfix = postfix.clone();
    let naming = Naming { prefix: &prefix, postfix: &postfix, fw_prefix: "", fw_postfix: "" };

    // 1. Which entries are config files under the folder's naming.
    let mut config: Vec<(&str, &[u8], Asked)> = Vec::new();
    let mut bootstraps: Vec<(&str, &[u8], Mac)> = Vec::new();
    for e in entries {
        let (name, bytes) = match e {
            Entry::File { name, bytes } => (name.as_str(), bytes.as_slice()),
            Entry::Large { name, size } => {
                report.files.push(skipped(
                    name,
                    format!("{size} bytes: too large for a config file (a firmware image?); not read"),
                ));
                continue;
            }
            Entry::Other { name, what } => {
                report.files.push(skipped(
                    name,
                    format!("{what}; devices fetch files by name from one folder, so it is not read"),
                ));
                continue;
            }
        };
        let parsed = request::parse(name, &naming);
        match (&parsed.asked, parsed.affix_ok) {
            (Asked::BinaryConfig { .. } | Asked::DeviceXml { .. } | Asked::ModelXml { .. } | Asked::GenericXml, true) => {
                config.push((name, bytes, parsed.asked.clone()))
            }
            (Asked::BinaryConfig { mac, .. }, false) if !prefix.is_empty() || !postfix.is_empty() => {
                bootstraps.push((name, bytes, *mac))
            }
            (Asked::BinaryConfig { .. } | Asked::DeviceXml { .. } | Asked::ModelXml { .. } | Asked::GenericXml, false) => {
                report.files.push(skipped(
                    name,
                    format!(
                        "a config name without the folder's prefix/postfix ({prefix:?}/{postfix:?}); devices configured with them never request it"
                    ),
                ))
            }
            (Asked::Firmware { .. }, _) => report.files.push(skipped(
                name,
                "a firmware image: not part of the site; copy it into the site's firmware folder to serve it".into(),
            )),
            (Asked::Unknown, _) => report.files.push(skipped(name, other_file(name))),
        }
    }
    if config.is_empty() {
        return Err(AdoptError::Empty);
    }

    // 2. Binary files first: they may carry the XML password (P1359).
    let mut reads: Vec<Read> = Vec::new();
    for (name, bytes, asked) in config.iter().filter(|(_, _, a)| matches!(a, Asked::BinaryConfig { .. })) {
        reads.push(read_binary(name, bytes, asked.clone())?);
    }
    let from_binaries: BTreeSet<String> =
        reads.iter().filter_map(|r| r.params.get("P1359")).filter(|p| !p.is_empty()).cloned().collect();
    let needs_password = config.iter().any(|(_, b, _)| crypto::is_salted(b));
    let password: Option<String> = match (&opts.xml_password, needs_password) {
        (Some(p), _) => Some(p.clone()),
        (None, true) if from_binaries.len() == 1 => {
            report.notes.push("the XML password is the P1359 the binary files carry".into());
            from_binaries.first().cloned()
        }
        _ => None,
    };
    for (name, bytes, asked) in config.iter().filter(|(_, _, a)| !matches!(a, Asked::BinaryConfig { .. })) {
        reads.push(read_xml(name, bytes, asked.clone(), password.as_deref(), opts.digest)?);
    }
    for r in &reads {
        if let (Some(inside), Asked::BinaryConfig { mac, .. } | Asked::DeviceXml { mac }) = (r.mac, &r.asked)
            && inside != *mac
        {
            return Err(AdoptError::File {
                file: r.name.clone(),
                message: format!(
                    "the file names MAC {} inside but is named for {}; the device would reject it. Rename or remove it",
                    inside.colon(),
                    mac.colon()
                ),
            });
        }
    }

    // 3. The pieces: generic, per model, per device (binary and XML).
    let generic = reads.iter().find(|r| r.asked == Asked::GenericXml);
    let mut model_files: BTreeMap<Model, &Read> = BTreeMap::new();
    let mut binaries: BTreeMap<Mac, Vec<&Read>> = BTreeMap::new();
    let mut device_xml: BTreeMap<Mac, &Read> = BTreeMap::new();
    for r in &reads {
        match &r.asked {
            Asked::ModelXml { model_stem } => match model_stem.parse::<Model>() {
                Ok(m) => {
                    model_files.insert(m, r);
                }
                Err(e) => return Err(AdoptError::File { file: r.name.clone(), message: e.to_string() }),
            },
            Asked::BinaryConfig { mac, .. } => binaries.entry(*mac).or_default().push(r),
            Asked::DeviceXml { mac } => {
                device_xml.insert(*mac, r);
            }
            _ => {}
        }
    }
    for list in binaries.values() {
        if list.len() > 1 && list.iter().any(|r| r.params != list[0].params) {
            report.notes.push(format!(
                "{} and {} differ; the first is adopted (a device asks for one of them)",
                list[0].name, list[1].name
            ));
        }
    }
    let macs: BTreeSet<Mac> = binaries.keys().chain(device_xml.keys()).copied().collect();

    // 4. Each device's model: told, or shown by a model file's own values.
    let generic_raw = generic.map(|g| g.params.clone()).unwrap_or_default();
    let mut models: BTreeMap<Mac, Model> = BTreeMap::new();
    let mut unknown = Vec::new();
    for mac in &macs {
        if let Some(m) = opts.models.get(mac) {
            models.insert(*mac, m.clone());
            continue;
        }
        let mut all: BTreeMap<String, String> = binaries.get(mac).map(|l| l[0].params.clone()).unwrap_or_default();
        if let Some(x) = device_xml.get(mac) {
            all.extend(x.params.clone());
        }
        let fits: Vec<(&Model, Vec<&String>)> = model_files
            .iter()
            .filter_map(|(m, r)| {
                let own: Vec<&String> =
                    r.params.iter().filter(|(k, v)| generic_raw.get(*k) != Some(*v)).map(|(k, _)| k).collect();
                let fits = !own.is_empty() && own.iter().all(|k| all.get(*k) == r.params.get(*k));
                fits.then_some((m, own))
            })
            .collect();
        match (&fits[..], &opts.default_model) {
            ([(m, own)], _) => {
                report.notes.push(format!(
                    "{}: model {m}, because its file repeats what only cfg{}.xml sets ({})",
                    mac,
                    m.file_stem(),
                    own.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
                ));
                models.insert(*mac, (*m).clone());
            }
            (_, Some(m)) => {
                models.insert(*mac, m.clone());
            }
            _ => unknown.push(mac.to_string()),
        }
    }
    if !unknown.is_empty() {
        return Err(AdoptError::UnknownModels(unknown));
    }

    // 5. Provisioning settings.
    let mut site = Site { name: format!("Adopted from {}", opts.folder), ..Site::default() };
    let p = &mut site.provisioning;
    p.prefix = prefix.clone();
    p.postfix = postfix.clone();
    p.digest = opts.digest;
    let encrypted_device = device_xml.values().any(|r| r.encrypted);
    let encrypted_shared = generic.is_some_and(|g| g.encrypted) || model_files.values().any(|r| r.encrypted);
    p.encrypt = match (encrypted_device, encrypted_shared) {
        (_, true) => Encrypt::AllFiles,
        (true, false) => Encrypt::DeviceFiles,
        _ => Encrypt::Off,
    };
    if p.encrypt != Encrypt::Off {
        p.xml_password = password.clone().unwrap_or_default();
    }
    if device_xml.values().any(|r| r.encrypted) && device_xml.values().any(|r| !r.encrypted) {
        report
            .notes
            .push("some cfg<mac>.xml are encrypted and some are not; the adopted site encrypts them all".into());
    }
    let versions: Vec<xml::Version> = reads.iter().filter_map(|r| r.version).collect();
    p.xml_version = if versions.contains(&xml::Version::V2) { xml::Version::V2 } else { xml::Version::V1 };
    if versions.contains(&xml::Version::V1) && versions.contains(&xml::Version::V2) {
        report
            .notes
            .push("the folder mixes XML version 1 and version 2 files; the adopted site writes version 2".into());
    }
    p.device_xml = !device_xml.is_empty();
    p.model_xml = !model_files.is_empty();
    p.generic_xml = generic.is_some();
    if let Some(pw) = from_binaries.first()
        && p.encrypt != Encrypt::Off
        && *pw != p.xml_password
    {
        report.notes.push(
            "the binary files carry a P1359 other than the XML password given; the adopted site hands out the given one"
                .into(),
        );
    }

    // 6. Values, normalised: aliases the catalog knows become P-ids, alias
    // words (`Yes`, `HTTPS`) their codes.
    let norm = |r: &Read, family: Option<crate::catalog::Family>| normalise(&r.params, family);
    let defaults = generic.map(|g| norm(g, None)).unwrap_or_default();
    let mut firmware_affixes: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let device_values: BTreeMap<Mac, BTreeMap<String, String>> = macs
        .iter()
        .map(|mac| {
            let family = Some(crate::catalog::Family::of_model(&models[mac]).family);
            let mut t = binaries.get(mac).map(|l| norm(l[0], family)).unwrap_or_default();
            if let Some(x) = device_xml.get(mac) {
                for (k, v) in norm(x, family) {
                    if t.get(&k).is_some_and(|b| *b != v && k != "P1359") {
                        report.notes.push(format!(
                            "{mac}: the binary file and cfg{mac}.xml disagree on {k}; the XML's value is kept (the device applies it last)"
                        ));
                    }
                    t.insert(k, v);
                }
            }
            (*mac, t)
        })
        .collect();
    for t in device_values.values().chain(std::iter::once(&defaults)) {
        for k in ["P232", "P233"] {
            if let Some(v) = t.get(k) {
                firmware_affixes.entry(k).or_default().insert(v.clone());
            }
        }
    }
    for (k, set) in &firmware_affixes {
        if set.len() == 1 {
            let v = set.first().cloned().unwrap_or_default();
            if *k == "P232" {
                site.provisioning.firmware_prefix = v;
            } else {
                site.provisioning.firmware_postfix = v;
            }
        } else {
            report.notes.push(format!("files disagree on {k} ({} values); it stays a per-file value", set.len()));
        }
    }
    // Values the provisioning settings write into every file.
    let managed: BTreeMap<&str, String> = [
        ("P234", site.provisioning.prefix.clone()),
        ("P235", site.provisioning.postfix.clone()),
        ("P232", site.provisioning.firmware_prefix.clone()),
        ("P233", site.provisioning.firmware_postfix.clone()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let unmanaged = |mut m: BTreeMap<String, String>| {
        m.retain(|k, v| managed.get(k.as_str()) != Some(v) && k != "P1359");
        m
    };
    let defaults = unmanaged(defaults);
    let password_in_files = site.provisioning.encrypts();
    let device_values: BTreeMap<Mac, BTreeMap<String, String>> = device_values
        .into_iter()
        .map(|(mac, mut t)| {
            if !password_in_files && let Some(pw) = t.get("P1359").cloned() {
                // No encrypted XML: the password is an ordinary value of this device.
                let mut t = unmanaged(t);
                t.insert("P1359".into(), pw);
                return (mac, t);
            }
            t = unmanaged(t);
            (mac, t)
        })
        .collect();

    // 7. Layers.
    site.defaults = Values(defaults.clone());
    for (m, r) in &model_files {
        let family = Some(crate::catalog::Family::of_model(m).family);
        let values: BTreeMap<String, String> =
            unmanaged(norm(r, family)).into_iter().filter(|(k, v)| defaults.get(k) != Some(v)).collect();
        let lacking: Vec<&String> = defaults.keys().filter(|k| !r.params.contains_key(*k)).collect();
        if !lacking.is_empty() {
            report.notes.push(format!(
                "{} lacks {} that cfg.xml sets; the adopted site's cfg{}.xml carries them",
                r.name,
                join(&lacking),
                m.file_stem()
            ));
        }
        site.models.insert(m.to_string(), Values(values));
    }
    lift(&mut site, &models, &device_values, &mut report);

    serving_from(&mut site, &mut report);

    // 8. Devices: accounts where the layout gives them back exactly, the rest raw.
    for mac in &macs {
        let model = models[mac].clone();
        let device = place(&site, *mac, model, &device_values[mac]);
        site.devices.push(device);
    }
    let keyed = structure_keys(&mut site);
    if keyed > 0 {
        report.notes.push(format!(
            "{keyed} programmable key(s) read from their P-values into key.* settings (the catalog's key maps give back the same P-values)"
        ));
    }
    let binary_mode = binary_mode(&site, &binaries);
    site.provisioning.binary = binary_mode;

    // 9. The report per file.
    let cat = Catalog::get();
    for r in &reads {
        let family = match &r.asked {
            Asked::ModelXml { model_stem } => model_stem.parse::<Model>().ok(),
            Asked::BinaryConfig { mac, .. } | Asked::DeviceXml { mac } => models.get(mac).cloned(),
            _ => None,
        }
        .map(|m| crate::catalog::Family::of_model(&m).family);
        let raw: Vec<String> = normalise(&r.params, family)
            .keys()
            .filter(|k| match family {
                Some(f) => cat.lookup_in(f, k).is_none(),
                None => cat.lookup(k).is_none(),
            })
            .cloned()
            .collect();
        let what = match &r.asked {
            Asked::GenericXml => "[defaults]".to_string(),
            Asked::ModelXml { model_stem } => format!("[models.{}]", model_stem.to_ascii_uppercase()),
            Asked::BinaryConfig { mac, .. } | Asked::DeviceXml { mac } => {
                let d = site.device(*mac);
                let accounts = d.map_or(0, |d| d.accounts.len());
                format!("device {mac} ({}, {accounts} account(s) structured)", models[mac])
            }
            _ => String::new(),
        };
        let kind = match (&r.asked, r.version) {
            (Asked::BinaryConfig { .. }, _) => "legacy binary cfg".to_string(),
            (_, Some(v)) => format!("{}XML {v}", if r.encrypted { "encrypted " } else { "" }),
            _ => String::new(),
        };
        let mut detail = format!("{kind}, {} value(s) -> {what}", r.params.len());
        if !r.repeated.is_empty() {
            detail.push_str(&format!("; set more than once (the last wins): {}", r.repeated.join(", ")));
        }
        report.files.push(FileNote {
            name: r.name.clone(),
            outcome: if raw.is_empty() { Outcome::Understood } else { Outcome::KeptRaw },
            detail,
            raw,
        });
    }
    for (name, bytes, mac) in &bootstraps {
        match binary::decode(bytes) {
            Ok(b) if b.checksum_ok && b.length_ok => report.files.push(FileNote {
                name: name.to_string(),
                outcome: Outcome::Understood,
                detail: format!(
                    "the unprefixed bootstrap for a factory-fresh {mac}; the adopted site generates it from its settings"
                ),
                raw: Vec::new(),
            }),
            _ => {
                return Err(AdoptError::File {
                    file: name.to_string(),
                    message: "not a readable binary cfg file (bad checksum, length or layout)".into(),
                });
            }
        }
    }
    report.files.sort_by(|a, b| a.name.cmp(&b.name));

    // 10. The site's own check, and the round trip.
    report.issues = site.check();
    report.round_trip = round_trip(&site, &reads, &bootstraps, password.as_deref(), opts.digest);
    Ok(Adopted { site, report })
}

fn skipped(name: &str, detail: String) -> FileNote {
    FileNote { name: name.to_string(), outcome: Outcome::Skipped, detail, raw: Vec::new() }
}

fn join<S: AsRef<str>>(keys: &[S]) -> String {
    keys.iter().map(|k| k.as_ref()).collect::<Vec<_>>().join(", ")
}

/// Why a file that is no Grandstream config name is skipped: what it looks like.
fn other_file(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let hex12 = |s: &str| s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let stem = lower.split('.').next().unwrap_or("");
    let what = if lower.starts_with("sep") && lower.ends_with(".cnf.xml") {
        "a Cisco phone's config (SEP<mac>.cnf.xml)"
    } else if lower.starts_with("spa") && lower.ends_with(".xml") {
        "a Linksys/Cisco SPA config"
    } else if lower.starts_with("y0000000000") {
        "a Yealink common config (y0000000000xx.cfg)"
    } else if hex12(stem) && (lower.ends_with(".cfg") || lower.ends_with(".xml") || lower.ends_with(".boot")) {
        "another vendor's per-MAC config (<mac>.cfg: Yealink, Polycom, snom...)"
    } else if lower.starts_with("snom") {
        "a snom config"
    } else if stem.bytes().all(|b| b.is_ascii_digit()) && !stem.is_empty() {
        "named after an extension, not a MAC"
    } else if name == ".gsprov-export" {
        "gsprov's export marker"
    } else if name == crate::site::PHONEBOOK_FILE {
        "the site phonebook (phonebook.xml); its contacts are not adopted"
    } else {
        "not a name a Grandstream device requests"
    };
    format!("{what}; devices never request it, so it is not read")
}

/// The (prefix, postfix) most config-shaped names in the folder share.
fn choose_naming(entries: &[Entry]) -> (String, String) {
    let mut votes: BTreeMap<(String, String), usize> = BTreeMap::new();
    for e in entries {
        let Entry::File { name, .. } = e else { continue };
        let mut seen = BTreeSet::new();
        for pair in affix_candidates(name) {
            if seen.insert(pair.clone()) {
                *votes.entry(pair).or_default() += 1;
            }
        }
    }
    // Most files first; then the longer affixes (a prefixed folder also holds
    // the unprefixed bootstraps, which are fewer).
    votes.into_iter().max_by_key(|((p, s), n)| (*n, p.len() + s.len())).map(|(pair, _)| pair).unwrap_or_default()
}

/// Every way `name` reads as `<prefix><config name><postfix>`.
fn affix_candidates(name: &str) -> Vec<(String, String)> {
    let lower = name.to_ascii_lowercase();
    let mut out = Vec::new();
    for (i, _) in lower.match_indices("cfg") {
        let rest = &lower[i + 3..];
        let prefix = name[..i].to_string();
        let post = |from: usize| name[i + 3 + from..].to_string();
        if rest.starts_with(".xml") {
            out.push((prefix.clone(), post(4)));
        }
        if rest.len() >= 12 && rest.as_bytes()[..12].iter().all(u8::is_ascii_hexdigit) {
            let after = &rest[12..];
            if after.starts_with(".xml") || after.starts_with(".bin") {
                out.push((prefix.clone(), post(16)));
            } else {
                out.push((prefix.clone(), post(12)));
            }
        } else if let Some(dot) = rest.find(".xml") {
            let stem = &rest[..dot];
            if stem.starts_with(|c: char| c.is_ascii_alphabetic())
                && stem.bytes().all(|b| b.is_ascii_alphanumeric())
                && stem.parse::<Model>().is_ok()
            {
                out.push((prefix.clone(), post(dot + 4)));
            }
        }
    }
    out
}

fn read_binary(name: &str, bytes: &[u8], asked: Asked) -> Result<Read, AdoptError> {
    let err = |message: String| AdoptError::File { file: name.to_string(), message };
    if crypto::is_salted(bytes) || bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return Err(err(
            "named like a binary cfg<mac> but holds XML or encrypted data; a device would not read it".into()
        ));
    }
    let b = binary::decode(bytes).map_err(|e| err(format!("not a binary cfg file: {e}")))?;
    if !b.checksum_ok {
        return Err(err(format!(
            "the checksum ({:04x}) does not match the content: the file is corrupt and devices reject it",
            b.checksum
        )));
    }
    if !b.length_ok {
        return Err(err(format!(
            "the length field ({} words) does not match the file size ({} bytes): the file is truncated or corrupt",
            b.length_words,
            bytes.len()
        )));
    }
    let mut params = BTreeMap::new();
    let mut repeated = Vec::new();
    for (k, v) in b.params {
        if params.insert(k.to_string(), v).is_some() {
            repeated.push(k.to_string());
        }
    }
    Ok(Read { name: name.to_string(), asked, encrypted: false, version: None, mac: Some(b.mac), params, repeated })
}

fn read_xml(
    name: &str,
    bytes: &[u8],
    asked: Asked,
    password: Option<&str>,
    digest: crypto::Digest,
) -> Result<Read, AdoptError> {
    let err = |message: String| AdoptError::File { file: name.to_string(), message };
    let encrypted = crypto::is_salted(bytes);
    let plain;
    let text = if encrypted {
        let pw = password.ok_or_else(|| {
            err("the file is encrypted (OpenSSL Salted__); give the XML password with --xml-password or GSPROV_XML_PASSWORD".into())
        })?;
        plain = crypto::decrypt(bytes, pw.as_bytes(), digest).map_err(|e| {
            err(format!("cannot decrypt with the XML password given ({digest} key derivation): {e}; check the password or --digest"))
        })?;
        plain.as_slice()
    } else {
        bytes
    };
    let doc = xml::read(text).map_err(|e| err(format!("not a gs_provision XML file: {e}")))?;
    let mut params = BTreeMap::new();
    let mut repeated = Vec::new();
    for (k, v) in doc.entries {
        let k = match k {
            xml::Key::P(id) => id.to_string(),
            xml::Key::Alias(a) => a,
        };
        if params.insert(k.clone(), v).is_some() {
            repeated.push(k);
        }
    }
    Ok(Read { name: name.to_string(), asked, encrypted, version: Some(doc.version), mac: doc.mac, params, repeated })
}

/// Keys as the site stores them, values as codes.
fn normalise(params: &BTreeMap<String, String>, family: Option<crate::catalog::Family>) -> BTreeMap<String, String> {
    let cat = Catalog::get();
    params
        .iter()
        .map(|(k, v)| {
            let key = site::canonical_key(k).unwrap_or_else(|_| k.clone());
            let value = if key.parse::<PId>().is_ok() && key != *k {
                // From an alias: its value may be a word.
                let param = match family {
                    Some(f) => cat.lookup_in(f, &key),
                    None => cat.lookup(&key),
                };
                param.and_then(|p| code_of_word(p, v)).unwrap_or_else(|| v.clone())
            } else {
                v.clone()
            };
            (key, value)
        })
        .collect()
}

/// The stored code whose v2 spelling is `word` (`Yes` -> `1`, `HTTPS` -> `2`).
fn code_of_word(p: &crate::catalog::Param, word: &str) -> Option<String> {
    let mut codes: Vec<String> = p.words.iter().map(|(c, _)| c.clone()).collect();
    if let ValueKind::Enum(list) = &p.kind {
        codes.extend(list.iter().map(|(c, _)| c.clone()));
    }
    codes.extend((0..10).map(|n| n.to_string()));
    codes.into_iter().find(|c| c != word && p.alias_value(c) == word)
}

/// With no shared file to reproduce, values every device (of a model) sets
/// alike go to the defaults (the model): the site then says once what the
/// folder said per device. Secrets stay per device.
fn lift(
    site: &mut Site,
    models: &BTreeMap<Mac, Model>,
    devices: &BTreeMap<Mac, BTreeMap<String, String>>,
    report: &mut Report,
) {
    let p = &site.provisioning;
    let common = |macs: &[&Mac]| -> BTreeMap<String, String> {
        let Some(first) = macs.first() else { return BTreeMap::new() };
        devices[*first]
            .iter()
            .filter(|(k, v)| !generate::is_secret_key(k) && macs.iter().all(|m| devices[*m].get(*k) == Some(*v)))
            // Programmable keys stay with each device: their numbers differ by family.
            .filter(|(k, _)| {
                let id = k.parse::<PId>().ok();
                !k.starts_with("key.")
                    && !macs.iter().any(|m| {
                        let family = crate::catalog::Family::of_model(&models[*m]).family;
                        id.is_some_and(|id| {
                            crate::catalog::keys::slot_of(family, id).is_some() || is_account_field(&models[*m], id)
                        })
                    })
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    if !p.generic_xml && !p.model_xml && devices.len() >= 2 {
        let all: Vec<&Mac> = devices.keys().collect();
        let common = common(&all);
        if !common.is_empty() {
            report.notes.push(format!(
                "lifted to [defaults], as all {} devices set them alike (the folder has no cfg.xml): {}",
                all.len(),
                join(&common.keys().collect::<Vec<_>>())
            ));
            site.defaults.0.extend(common);
        }
    }
    let by_model: BTreeMap<&Model, Vec<&Mac>> = models.iter().fold(BTreeMap::new(), |mut acc, (mac, m)| {
        acc.entry(m).or_default().push(mac);
        acc
    });
    for (model, macs) in by_model {
        let gets_file = site.provisioning.model_xml && model.requests_model_file();
        if gets_file || macs.len() < 2 {
            continue;
        }
        let base = site.effective_model(model);
        let lifted: BTreeMap<String, String> =
            common(&macs).into_iter().filter(|(k, v)| base.get(k) != Some(v.as_str())).collect();
        if !lifted.is_empty() {
            report.notes.push(format!(
                "lifted to [models.{model}], as all {} {model} devices set them alike and {model} gets no cfg<model>.xml: {}",
                macs.len(),
                join(&lifted.keys().collect::<Vec<_>>())
            ));
            site.models.entry(model.to_string()).or_default().0.extend(lifted);
        }
    }
}

/// Where the devices fetch from (P237 over P212), when the defaults say it:
/// the site's server listens on that port, and the report says to put this
/// computer at that address (or to change P237).
fn serving_from(site: &mut Site, report: &mut Report) {
    let (Some(path), Some(method)) = (site.defaults.get("P237"), site.defaults.get("P212")) else {
        report.notes.push(
            "no server path (P237) and method (P212) shared by every device: each device keeps its own; check [serving]"
                .into(),
        );
        return;
    };
    let bare = path.split_once("://").map_or(path, |(_, rest)| rest);
    let host_port = bare.split('/').next().unwrap_or("");
    let port = host_port.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
    let v = &mut site.serving;
    let (name, default) = match method.trim() {
        "0" => {
            v.tftp = true;
            ("TFTP", 69)
        }
        "2" => {
            v.https = true;
            ("HTTPS", 443)
        }
        _ => {
            v.http = true;
            ("HTTP", 80)
        }
    };
    let port = port.unwrap_or(default);
    match method.trim() {
        "0" => v.tftp_port = port,
        "2" => v.https_port = port,
        _ => v.http_port = port,
    }
    report.notes.push(format!(
        "the devices fetch from {path} over {name} (P237, P212): the site serves {name} on port {port}; give this computer that address, or change P237 (and P192) before serving"
    ));
}

/// Whether `id` is one of an account's (port's) own fields on `model` (active,
/// user and auth ID, password, names): those stay with the device's accounts.
fn is_account_field(model: &Model, id: PId) -> bool {
    let cat = Catalog::get();
    let n = id.number();
    if model.family() == Family::Gateway && (4060..4210).contains(&n) {
        return true;
    }
    (1..=6u8).any(|a| [271, 35, 36, 34, 3, 270].iter().any(|p1| cat.account_pid(model, a, PId::new(*p1)) == Some(id)))
}

/// A device whose layered values are `target` where the site's layers allow:
/// accounts taken one at a time while layering them back gives the same
/// values, everything else a device override unless the layers below already
/// give it.
fn place(site: &Site, mac: Mac, model: Model, target: &BTreeMap<String, String>) -> Device {
    let proto = Device::new(mac, model);
    let with = |accounts: &[Account]| {
        let mut d = proto.clone();
        d.accounts = accounts.to_vec();
        let below = site.effective(&d);
        d.values = Values(
            target
                .iter()
                .filter(|(k, v)| below.get(k) != Some(v.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        );
        let eff = site.effective(&d);
        let keys: BTreeSet<&String> = eff.0.keys().chain(target.keys()).collect();
        let wrong: BTreeSet<String> =
            keys.into_iter().filter(|k| eff.get(k) != target.get(*k).map(String::as_str)).cloned().collect();
        (d, wrong)
    };
    let base = site.effective_model(&proto.model);
    let mut accounts: Vec<Account> = Vec::new();
    let (mut best, mut wrong) = with(&accounts);
    for n in 1..=proto.model.lines().max(6) {
        let Some(a) = account_of(&proto.model, n, target, base.get("P47")) else { break };
        accounts.push(a);
        let (d, w) = with(&accounts);
        if !w.is_subset(&wrong) {
            break;
        }
        best = d;
        wrong = w;
    }
    best
}

/// Raw programmable-key P-values of each device (`P1363` = VPK 1's mode on
/// GXP21xx) turned into the site's `key.vpk.1.type` settings, one key at a
/// time and only where the family's key map expands them back to the same
/// values; a device whose keys the site check refuses keeps them raw.
/// Returns how many keys were structured.
fn structure_keys(site: &mut Site) -> usize {
    use crate::catalog::keys::{self as catkeys, Field, Format, KeyRef};
    let mut count = 0;
    let mut structured = Vec::new();
    for i in 0..site.devices.len() {
        let model = site.devices[i].model.clone();
        let Some(layout) = catkeys::layout(&model) else { continue };
        let family = crate::catalog::Family::of_model(&model).family;
        let mut groups: BTreeMap<(catkeys::KeyKind, u16), BTreeMap<Field, (String, String)>> = BTreeMap::new();
        for (k, v) in &site.devices[i].values.0 {
            if let Ok(id) = k.parse::<PId>()
                && let Some((kind, n, field)) = catkeys::slot_of(family, id)
            {
                groups.entry((kind, n)).or_default().insert(field, (k.clone(), v.clone()));
            }
        }
        let expanded = |site: &Site, d: &Device| -> BTreeMap<String, String> {
            let (eff, _) = crate::site::keys::expand(&site.effective(d), &model, Format::PValues);
            eff.0.into_iter().map(|(k, s)| (k, s.value)).collect()
        };
        let before_all = site.devices[i].clone();
        let mut here = 0;
        for ((kind, n), fields) in groups {
            let Some((_, mode)) = fields.get(&Field::Type) else { continue };
            let Some(ty) =
                mode.trim().parse().ok().and_then(|c| catkeys::type_of_code(&layout, Format::PValues, kind, n, c))
            else {
                continue;
            };
            let mut trial = site.devices[i].clone();
            for (raw, _) in fields.values() {
                trial.values.remove(raw);
            }
            let name = |field| KeyRef { kind, number: n, field }.name();
            trial.values.set(name(Field::Type), ty.word());
            if let Some((_, a)) = fields.get(&Field::Account)
                && let Ok(a) = a.trim().parse::<u8>()
            {
                trial.values.set(name(Field::Account), (a + 1).to_string());
            }
            for f in [Field::Label, Field::Value] {
                if let Some((_, v)) = fields.get(&f) {
                    trial.values.set(name(f), v.clone());
                }
            }
            if expanded(site, &trial) == expanded(site, &site.devices[i]) {
                site.devices[i] = trial;
                here += 1;
            }
        }
        if here > 0 {
            structured.push((i, before_all, here));
        }
    }
    // One key check for the whole site (not one per device: a large site
    // would be checked once per device); a device whose keys it refuses
    // keeps them raw.
    let issues = crate::site::keys::check(site, &mut |_, _| {});
    for (i, raw, here) in structured {
        // `device 3 000b82a1b201 (Label)`, then `.values.key...` or a space: the MAC makes it this device's.
        let at = crate::site::device_location(i, &site.devices[i]);
        let refused = issues.iter().any(|issue| {
            issue.severity == site::Severity::Error
                && issue.location.strip_prefix(&at).is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', ' ']))
        });
        if refused {
            site.devices[i] = raw;
        } else {
            count += here;
        }
    }
    count
}

/// Account (port) `n` as the catalog's layout reads it from `t`, if `t` has
/// its user ID.
fn account_of(model: &Model, n: u8, t: &BTreeMap<String, String>, site_server: Option<&str>) -> Option<Account> {
    let cat = Catalog::get();
    let get = |p1: u32| -> Option<String> {
        if model.family() == Family::Gateway {
            let i = u32::from(n - 1);
            let id = match p1 {
                35 => 4060,
                36 => 4090,
                34 => 4120,
                3 => 4180,
                _ => return None,
            } + i;
            return t.get(&PId::new(id).to_string()).cloned();
        }
        let id = cat.account_pid(model, n, PId::new(p1))?;
        t.get(&id.to_string()).cloned()
    };
    if model.family() == Family::Gateway && n > model.lines() {
        return None;
    }
    let user_id = get(35).filter(|u| !u.is_empty())?;
    let auth = get(36).unwrap_or_default();
    let server = get(47).unwrap_or_default();
    Some(Account {
        active: get(271).is_none_or(|a| a.trim() != "0"),
        auth_id: if auth == user_id { String::new() } else { auth },
        user_id,
        password: get(34).unwrap_or_default(),
        display_name: get(3).unwrap_or_default(),
        name: get(270).unwrap_or_default(),
        sip_server: if Some(server.as_str()) == site_server { String::new() } else { server },
    })
}

/// The binary-file mode that gives back the folder's binary files.
fn binary_mode(site: &Site, binaries: &BTreeMap<Mac, Vec<&Read>>) -> BinaryMode {
    if binaries.is_empty() {
        return BinaryMode::Off;
    }
    let bootstrap_only =
        binaries.values().all(|l| l[0].params.keys().all(|k| site::BOOTSTRAP_KEYS.contains(&k.as_str())));
    let xml_devices: Vec<&Device> = site.devices.iter().filter(|d| d.model.reads_xml()).collect();
    let every_xml_device_has_one = xml_devices.iter().all(|d| binaries.contains_key(&d.mac));
    let legacy_have_all = site.devices.iter().filter(|d| !d.model.reads_xml()).all(|d| binaries.contains_key(&d.mac));
    if bootstrap_only {
        if site.provisioning.encrypts() && every_xml_device_has_one { BinaryMode::Auto } else { BinaryMode::Bootstrap }
    } else if xml_devices.iter().all(|d| !binaries.contains_key(&d.mac)) && legacy_have_all {
        BinaryMode::Auto
    } else {
        BinaryMode::Full
    }
}

/// Each file of the folder against the adopted site's generated file of the
/// same name (names compared without case, as devices ask, spec §9.1).
fn round_trip(
    site: &Site,
    reads: &[Read],
    bootstraps: &[(&str, &[u8], Mac)],
    password: Option<&str>,
    digest: crypto::Digest,
) -> Vec<RoundTrip> {
    let mut salt = 0u8;
    let out = match generate::generate(site, &mut || {
        salt = salt.wrapping_add(1);
        [salt; 8]
    }) {
        Ok(o) => o,
        Err(e) => {
            return reads
                .iter()
                .map(|r| RoundTrip {
                    name: r.name.clone(),
                    verdict: Verdict::Differs {
                        missing: vec![format!("(the site does not generate: {e})")],
                        added: vec![],
                        changed: vec![],
                    },
                })
                .collect();
        }
    };
    let generated = out.by_name();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut rows = Vec::new();
    let originals =
        reads.iter().map(|r| (r.name.clone(), Some(r.params.clone()))).chain(bootstraps.iter().map(|(n, b, _)| {
            let params =
                binary::decode(b).ok().map(|d| d.params.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
            (n.to_string(), params)
        }));
    for (name, params) in originals {
        let lower = name.to_ascii_lowercase();
        seen.insert(lower.clone());
        let Some(file) = generated.get(&lower) else {
            rows.push(RoundTrip { name, verdict: Verdict::NotGenerated });
            continue;
        };
        let Some(want) = params else { continue };
        let got = match crate::formats::decode::any(&file.bytes, password, digest) {
            Ok(d) => d.params.into_iter().collect::<BTreeMap<_, _>>(),
            Err(e) => {
                rows.push(RoundTrip {
                    name,
                    verdict: Verdict::Differs {
                        missing: vec![format!("(cannot read the generated file: {e})")],
                        added: vec![],
                        changed: vec![],
                    },
                });
                continue;
            }
        };
        let missing: Vec<String> = want.keys().filter(|k| !got.contains_key(*k)).cloned().collect();
        let added: Vec<String> = got.keys().filter(|k| !want.contains_key(*k)).cloned().collect();
        let changed: Vec<String> =
            want.iter().filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v)).map(|(k, _)| k.clone()).collect();
        let verdict = if missing.is_empty() && added.is_empty() && changed.is_empty() {
            Verdict::Same
        } else {
            Verdict::Differs { missing, added, changed }
        };
        rows.push(RoundTrip { name, verdict });
    }
    for f in &out.files {
        let lower = f.name.to_ascii_lowercase();
        if seen.contains(&lower) {
            continue;
        }
        let why = match f.kind {
            FileKind::Binary if f.name.to_ascii_lowercase().contains(".bin") => {
                "the same bytes under the name newer firmware asks for (cfg<mac>.bin)".to_string()
            }
            FileKind::Bootstrap => "the unprefixed bootstrap for a factory-fresh unit".to_string(),
            FileKind::ModelXml => {
                "the folder has none for this model; devices with their own cfg<mac>.xml do not read it".to_string()
            }
            k => k.describe().to_string(),
        };
        rows.push(RoundTrip { name: f.name.clone(), verdict: Verdict::New { why } });
    }
    rows
}

#[cfg(test)]
mod tests;
