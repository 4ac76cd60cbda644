//! Files view: for the selected device, the exact files that will be served,
//! with their names (prefix/postfix applied), an XML preview, the binary file as
//! hex beside its decoded parameters, the encrypted flag and size. Built the
//! way the servers build them: with the device's firmware step (P192) from the
//! firmware it is known to run, and saying which firmware that assumed.

use super::{Action, Doc, Runtime};
use crate::formats::binary;
use crate::generate::{self, FileKind};
use crate::ids::Mac;
use crate::serving::firmware::FirmwareListing;
use crate::site::{Encrypt, Site};

/// One device's files as it will get them, or why they cannot be built.
type Previews = Result<Vec<Preview>, String>;

/// A device's files and the firmware step (P192) they carry, if any.
pub type DeviceFiles = (Vec<Preview>, Option<String>);

/// What a device's previews were built from: the site's revision, the
/// device, the firmware it is known to run and the firmware listing's.
type CacheKey = (u64, Mac, Option<String>, u64);

/// Preview cache: generating on every frame would waste the frame budget.
#[derive(Default)]
pub struct FilesUi {
    /// Key -> the device's files, the site's secrets to mask in them, and the
    /// firmware line (which firmware the P192 assumed).
    cache: Option<(CacheKey, Previews, Vec<String>, String)>,
    pub chosen: usize,
}

pub struct Preview {
    pub name: String,
    pub kind: FileKind,
    pub encrypted: bool,
    /// Bytes as served (size, hex).
    pub served_len: usize,
    /// What the device reads after decryption.
    pub plain: Vec<u8>,
}

/// Generates the files one device will fetch, with its firmware step from
/// `listing` and the firmware it runs (`current`), as the servers and
/// `gsprov generate` do ([`crate::serving::firmware::stepped`]). Encrypted
/// files are shown as their plaintext, with the flag set; the salt is fixed
/// because only the size of the served bytes is shown.
pub fn previews(
    site: &Site,
    mac: Mac,
    listing: &FirmwareListing,
    current: Option<&str>,
) -> Result<DeviceFiles, String> {
    let Some(device) = site.device(mac) else { return Err("device not in the site".into()) };
    let mut one = site.clone();
    one.devices = vec![device.clone()];
    one.models.retain(|m, _| m.eq_ignore_ascii_case(device.model.as_str()));
    let (one, mut steps) = crate::serving::firmware::stepped(&one, listing, &|_| current.map(str::to_string));
    let served = generate::generate(&one, &mut || [0u8; 8]).map_err(|e| e.to_string())?;
    let mut plain_site = one.clone();
    plain_site.provisioning.encrypt = Encrypt::Off;
    let plain = generate::generate(&plain_site, &mut || [0u8; 8]).map_err(|e| e.to_string())?;
    // The phonebook lists the whole site, not only the device previewed here.
    let phonebook = generate::phonebook_file(site).map_err(|e| e.to_string())?;
    let files = served
        .files
        .iter()
        .filter(|f| f.model.as_ref().is_none_or(|m| *m == device.model))
        .map(|f| {
            if f.kind == FileKind::Phonebook
                && let Some(book) = &phonebook
            {
                return Preview {
                    name: book.name.clone(),
                    kind: book.kind,
                    encrypted: false,
                    served_len: book.bytes.len(),
                    plain: book.bytes.to_vec(),
                };
            }
            let clear = plain
                .files
                .iter()
                .find(|p| p.name == f.name)
                .map(|p| p.bytes.to_vec())
                .unwrap_or_else(|| f.bytes.to_vec());
            Preview {
                name: f.name.clone(),
                kind: f.kind,
                encrypted: f.encrypted,
                served_len: f.bytes.len(),
                plain: clear,
            }
        })
        .collect();
    Ok((files, steps.remove(&mac)))
}

pub fn files_ui(ui: &mut egui::Ui, doc: &Doc, rt: &mut Runtime) -> Option<Action> {
    let Some(mac) = rt.focus.or_else(|| doc.site.devices.first().map(|d| d.mac)) else {
        ui.label("Add a device to see its files.");
        return None;
    };
    // The firmware step needs the folder's listing, as the servers read it.
    super::firmware::ensure_listing(doc, rt, false);
    let current = rt.serving.status.device(mac).and_then(|d| d.firmware.clone());
    let key: CacheKey = (doc.revision(), mac, current.clone(), rt.firmware.generation());
    let st = &mut rt.files;
    if st.cache.as_ref().is_none_or(|(k, ..)| *k != key) {
        let empty = FirmwareListing::default();
        let listing = rt.firmware.current(doc).unwrap_or(&empty);
        let built = previews(&doc.site, mac, listing, current.as_deref());
        let step = built.as_ref().ok().and_then(|(_, p192)| p192.clone());
        let line = match (&current, step) {
            (Some(fw), Some(p192)) => format!("Firmware {fw} (last reported): P192 points at its next step, {p192}"),
            (Some(fw), None) => {
                format!("Firmware {fw} (last reported): no firmware step in the folder; the site's P192")
            }
            (None, Some(p192)) => format!(
                "Firmware unknown (this device has not asked yet): P192 points at the first step of its upgrade path, \
                 {p192}"
            ),
            (None, None) => "Firmware unknown (this device has not asked yet): the site's P192".into(),
        };
        let built = built.map(|(files, _)| files);
        st.cache = Some((key, built, site_secrets(&doc.site), line));
    }
    let Some((_, result, site_secrets, firmware_line)) = &st.cache else { return None };
    let secrets: &[String] = if rt.show_secrets { &[] } else { site_secrets };
    let device = doc.site.device(mac);
    ui.heading(format!("Files for {} {}", mac.colon(), device.map(|d| d.label.as_str()).unwrap_or("")));
    ui.weak("The device asks for these in order; a 404 moves it to the next (cfg<mac>, cfg<mac>.xml, cfg<model>.xml, cfg.xml).");
    ui.label(firmware_line);
    let files = match result {
        Ok(f) => f,
        Err(e) => {
            ui.colored_label(ui.visuals().error_fg_color, e);
            return None;
        }
    };
    ui.horizontal_wrapped(|ui| {
        for (i, f) in files.iter().enumerate() {
            let lock = if f.encrypted { "[encrypted] " } else { "" };
            ui.selectable_value(&mut st.chosen, i, format!("{lock}{} ({} B)", f.name, f.served_len));
        }
    });
    ui.separator();
    let Some(f) = files.get(st.chosen.min(files.len().saturating_sub(1))) else {
        ui.label("No files: this device gets nothing (check provisioning settings).");
        return None;
    };
    ui.label(format!(
        "{} · {} bytes served{}",
        f.kind.describe(),
        f.served_len,
        if f.encrypted { " · AES-256-CBC encrypted with the XML password (shown decrypted)" } else { "" }
    ));
    // Secrets are masked in every column (hex, ASCII, decoded, XML) unless
    // View > Show secrets is on: the bytes beside a masked value told it.
    let shown = mask(&f.plain, secrets);
    egui::ScrollArea::both().auto_shrink([false, false]).show(ui, |ui| match f.kind {
        FileKind::Binary | FileKind::Bootstrap => {
            ui.columns(2, |cols| {
                cols[0].strong("Hex");
                cols[0].monospace(hex_dump(&shown));
                cols[1].strong("Decoded");
                match binary::decode(&f.plain) {
                    Ok(d) => {
                        cols[1].monospace(format!(
                            "mac {}  checksum {:04x} {}",
                            d.mac,
                            d.checksum,
                            if d.checksum_ok { "ok" } else { "BAD" }
                        ));
                        for (k, v) in d.params {
                            let shown = if !rt.show_secrets
                                && crate::catalog::Catalog::get()
                                    .lookup(&k.to_string())
                                    .is_some_and(|p| p.kind == crate::catalog::ValueKind::Password)
                            {
                                "••••••••".to_string()
                            } else {
                                v
                            };
                            cols[1].monospace(format!("{k} = {shown}"));
                        }
                    }
                    Err(e) => {
                        cols[1].label(e.to_string());
                    }
                }
            });
        }
        _ => {
            let text = String::from_utf8_lossy(&shown);
            let theme = egui_extras::syntax_highlighting::CodeTheme::from_memory(ui.ctx(), ui.style());
            egui_extras::syntax_highlighting::code_view_ui(ui, &theme, &text, "xml");
        }
    });
    None
}

/// Every secret the site holds (password settings at every level, account
/// passwords, the XML and HTTP passwords), longest first so a secret that
/// contains another is masked whole. Values under 3 characters are left: they
/// would mask unrelated text and are no secret worth the name.
fn site_secrets(site: &Site) -> Vec<String> {
    let cat = crate::catalog::Catalog::get();
    let is_secret = |k: &str| cat.lookup(k).is_some_and(|p| p.kind == crate::catalog::ValueKind::Password);
    let layers =
        std::iter::once(&site.defaults).chain(site.models.values()).chain(site.devices.iter().map(|d| &d.values));
    let mut out: Vec<String> = layers
        .flat_map(|v| v.0.iter().filter(|(k, _)| is_secret(k)).map(|(_, v)| v.clone()))
        .chain(site.devices.iter().flat_map(|d| d.accounts.iter().map(|a| a.password.clone())))
        .chain([site.provisioning.xml_password.clone()])
        .chain(site.serving.auth.iter().map(|a| a.password.clone()))
        .filter(|s| s.chars().count() >= 3)
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}

/// `bytes` with every occurrence of a secret (as is, and XML-escaped)
/// replaced by as many `*`, so offsets and the hex layout stay the same.
fn mask(bytes: &[u8], secrets: &[String]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for s in secrets {
        let escaped = s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
        for needle in [s.as_bytes(), escaped.as_bytes()] {
            let mut i = 0;
            while let Some(at) = out[i..].windows(needle.len()).position(|w| w == needle) {
                let start = i + at;
                out[start..start + needle.len()].fill(b'*');
                i = start + needle.len();
            }
        }
    }
    out
}

fn hex_dump(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 4);
    for (i, chunk) in bytes.chunks(16).enumerate() {
        s.push_str(&format!("{:04x}  ", i * 16));
        for b in chunk {
            s.push_str(&format!("{b:02x} "));
        }
        s.push_str(&"   ".repeat(16 - chunk.len()));
        s.push(' ');
        s.extend(chunk.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }));
        s.push('\n');
    }
    s
}
