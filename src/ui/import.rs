//! CSV import with a preview: every row is checked before anything changes, bad
//! rows are marked with their reason, and "Apply" stays disabled until the whole
//! file is good (all or nothing, like `gsprov import`).

use std::path::PathBuf;

use super::{Action, Doc, Runtime};
use crate::site::{ImportError, ImportReport, Site, import_csv};
use crate::ui::worker::Job;

/// The import as it would go: the new site and what changes, or every bad row.
type Checked = Result<(Site, ImportReport), ImportError>;

#[derive(Default)]
pub struct ImportUi {
    pub open: bool,
    pub text: String,
    pub source: Option<PathBuf>,
    /// (text it was computed for, site revision, result).
    preview: Option<(String, u64, Checked)>,
}

impl ImportUi {
    pub fn load(&mut self, path: PathBuf, text: String) {
        self.open = true;
        self.text = text;
        self.source = Some(path);
        self.preview = None;
    }
}

pub fn import_ui(ctx: &egui::Context, doc: &mut Doc, rt: &mut Runtime) -> Option<Action> {
    if !rt.import.open {
        return None;
    }
    let st = &mut rt.import;
    let stale = st.preview.as_ref().is_none_or(|(t, rev, _)| *t != st.text || *rev != doc.revision());
    if stale {
        let result =
            if st.text.trim().is_empty() { Err(ImportError::NoHeader) } else { import_csv(&doc.site, &st.text) };
        st.preview = Some((st.text.clone(), doc.revision(), result));
    }
    let mut open = st.open;
    let mut apply = false;
    let mut pick = false;
    egui::Window::new("Import CSV").open(&mut open).default_size([760.0, 460.0]).show(ctx, |ui| {
        ui.horizontal(|ui| {
            if ui.button("Load file…").clicked() {
                pick = true;
            }
            if let Some(p) = &st.source {
                ui.weak(p.display().to_string());
            }
        });
        ui.weak("Columns: mac, model, label, location, notes, user_id, auth_id, password, display_name, account_name, sip_server, acctN_<field>, P-values. Paste or edit below.");
        let bad_lines: Vec<u64> = match st.preview.as_ref().map(|p| &p.2) {
            Some(Err(ImportError::Rows(rows))) => rows.iter().map(|r| r.line).collect(),
            _ => Vec::new(),
        };
        ui.columns(2, |cols| {
            let l = cols[0].label("CSV text");
            egui::ScrollArea::vertical().id_salt("csv-text").max_height(300.0).show(&mut cols[0], |ui| {
                ui.add(egui::TextEdit::multiline(&mut st.text).code_editor().desired_rows(14).desired_width(f32::INFINITY))
                    .labelled_by(l.id);
            });
            let ui = &mut cols[1];
            ui.strong("Preview");
            egui::ScrollArea::vertical().id_salt("csv-preview").max_height(300.0).show(ui, |ui| {
                for (i, line) in st.text.lines().enumerate().skip(1) {
                    let n = i as u64 + 1;
                    let text = format!("{n:>4}  {}", line.chars().take(60).collect::<String>());
                    if bad_lines.contains(&n) {
                        ui.colored_label(ui.visuals().error_fg_color, format!("× {text}"));
                    } else if !line.trim().is_empty() {
                        ui.label(format!("  {text}"));
                    }
                }
            });
        });
        ui.separator();
        match st.preview.as_ref().map(|p| &p.2) {
            Some(Ok((_, report))) => {
                ui.label(format!("Ready: {} new device(s), {} updated.", report.added.len(), report.updated.len()));
                for w in &report.warnings {
                    ui.colored_label(ui.visuals().warn_fg_color, w.to_string());
                }
            }
            Some(Err(ImportError::Rows(rows))) => {
                ui.colored_label(ui.visuals().error_fg_color, format!("{} bad row(s); nothing changes until they are fixed:", rows.len()));
                for r in rows {
                    ui.colored_label(ui.visuals().error_fg_color, r.to_string());
                }
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            }
            None => {}
        }
        let ready = matches!(st.preview.as_ref().map(|p| &p.2), Some(Ok(_)));
        if ui.add_enabled(ready, egui::Button::new("Apply import")).clicked() {
            apply = true;
        }
    });
    st.open = open;
    let mut action = None;
    if pick {
        action = Some(Action::Background(Job::PickCsv, "Choosing a CSV file"));
    }
    if apply && let Some((_, _, Ok((site, _)))) = st.preview.take() {
        doc.edit(|s| *s = site);
        st.open = false;
        st.text.clear();
        st.source = None;
    }
    action
}
