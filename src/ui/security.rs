//! "Security" in the Parameters view: the site's security findings
//! ([`Site::security`], the same ones `gsprov check` prints) that concern the
//! level shown — site-wide ones (encryption, known MACs) on the site defaults,
//! a layer's own on that layer — each with what it exposes and its one-click
//! fix. Warnings: nothing is changed until the technician clicks.

use std::sync::Arc;

use super::Doc;
use crate::site::{Layer, SecurityFinding, Site};

#[derive(Clone, Default)]
struct Cache {
    revision: Option<u64>,
    findings: Arc<Vec<SecurityFinding>>,
}

/// Whether a finding belongs on this layer's page.
fn shown_at(f: &SecurityFinding, here: &Layer) -> bool {
    match &f.fix {
        Some(crate::site::SecurityFix::Set { layer, .. } | crate::site::SecurityFix::Remove { layer, .. }) => {
            layer == here
        }
        // Site-wide (provisioning, serving) or fix-less: by where it is.
        _ => match here {
            Layer::Defaults => !f.location.starts_with("models.") && !f.location.starts_with("device "),
            Layer::Model(m) => f.location.starts_with(&format!("models.{}.", m.as_str())),
            Layer::Device(mac) => f.location.contains(&mac.to_string()),
        },
    }
}

/// Fresh bytes for a new XML password from the OS RNG; `None` when it fails
/// (the encryption fix is then not applied rather than given a predictable password).
fn random() -> Option<[u8; 12]> {
    let mut b = [0u8; 12];
    getrandom::fill(&mut b).ok().map(|()| b)
}

pub fn security_ui(ui: &mut egui::Ui, doc: &mut Doc, level: &Layer) {
    let id = egui::Id::unique("gsprov-security");
    let mut cache: Cache = ui.data(|d| d.get_temp(id)).unwrap_or_default();
    if cache.revision != Some(doc.revision()) {
        cache.findings = Arc::new(doc.site.security());
        cache.revision = Some(doc.revision());
    }
    let here: Vec<&SecurityFinding> = cache.findings.iter().filter(|f| shown_at(f, level)).collect();
    if !here.is_empty() {
        egui::CollapsingHeader::new("Security").default_open(true).show(ui, |ui| {
            for f in here {
                ui.horizontal_wrapped(|ui| {
                    ui.colored_label(ui.visuals().warn_fg_color, format!("{}: {}", f.location, f.message));
                    if let Some(label) = f.fix_label()
                        && ui.button(label).clicked()
                    {
                        let f = f.clone();
                        let bytes = random();
                        if bytes.is_some() || f.fix != Some(crate::site::SecurityFix::EncryptDeviceFiles) {
                            doc.edit(|site: &mut Site| f.apply(site, &mut || bytes.unwrap_or_default()));
                        }
                    }
                });
            }
        });
        ui.separator();
    }
    ui.data_mut(|d| d.insert_temp(id, cache));
}
