//! Files view: for the selected device, the exact files that will be served,
//! with their names (prefix/postfix applied), an XML preview, the binary file as
//! hex beside its decoded parameters, the encrypted flag and size.

use super::{Action, Doc, Runtime};
use crate::formats::binary;
use crate::generate::{self, FileKind};
use crate::ids::Mac;
use crate::site::{Encrypt, Site};

/// Preview cache: generating on every frame would waste the frame budget.
#[derive(Default)]
pub struct FilesUi {
    cache: Option<(u64, Mac, Result<Vec<Preview>, String>)>,
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

/// Generates the files one device will fetch. Encrypted files are shown as
/// their plaintext, with the flag set; the salt is fixed because only the size
/// of the served bytes is shown.
pub fn previews(site: &Site, mac: Mac) -> Result<Vec<Preview>, String> {
    let Some(device) = site.device(mac) else { return Err("device not in the site".into()) };
    let mut one = site.clone();
    one.devices = vec![device.clone()];
    one.models.retain(|m, _| m.eq_ignore_ascii_case(device.model.as_str()));
    let served = generate::generate(&one, &mut || [0u8; 8]).map_err(|e| e.to_string())?;
    let mut plain_site = one.clone();
    plain_site.provisioning.encrypt = Encrypt::Off;
    let plain = generate::generate(&plain_site, &mut || [0u8; 8]).map_err(|e| e.to_string())?;
    Ok(served
        .files
        .iter()
        .filter(|f| f.model.as_ref().is_none_or(|m| *m == device.model))
        .map(|f| {
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
        .collect())
}

pub fn files_ui(ui: &mut egui::Ui, doc: &Doc, rt: &mut Runtime) -> Option<Action> {
    let Some(mac) = rt.focus.or_else(|| doc.site.devices.first().map(|d| d.mac)) else {
        ui.label("Add a device to see its files.");
        return None;
    };
    let st = &mut rt.files;
    if st.cache.as_ref().is_none_or(|(rev, m, _)| *rev != doc.revision() || *m != mac) {
        st.cache = Some((doc.revision(), mac, previews(&doc.site, mac)));
    }
    let Some((_, _, result)) = &st.cache else { return None };
    let device = doc.site.device(mac);
    ui.heading(format!("Files for {} {}", mac.colon(), device.map(|d| d.label.as_str()).unwrap_or("")));
    ui.weak("The device asks for these in order; a 404 moves it to the next (cfg<mac>, cfg<mac>.xml, cfg<model>.xml, cfg.xml).");
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
    egui::ScrollArea::both().auto_shrink([false, false]).show(ui, |ui| match f.kind {
        FileKind::Binary => {
            ui.columns(2, |cols| {
                cols[0].strong("Hex");
                cols[0].monospace(hex_dump(&f.plain));
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
                            let shown = if crate::catalog::Catalog::get()
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
            let text = String::from_utf8_lossy(&f.plain);
            let theme = egui_extras::syntax_highlighting::CodeTheme::from_memory(ui.ctx(), ui.style());
            egui_extras::syntax_highlighting::code_view_ui(ui, &theme, &text, "xml");
        }
    });
    None
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
