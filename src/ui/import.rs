//! CSV import with a preview: every row is checked before anything changes, bad
//! rows are marked with their reason, and "Apply" stays disabled until the whole
//! file is good (all or nothing, like `gsprov import`).

use std::path::PathBuf;

use super::{Action, Doc, Runtime};
use crate::site::{ImportError, ImportReport, Site, csv_line, import_csv, sniff_delimiter};
use crate::ui::worker::Job;

/// The import as it would go: the new site and what changes, or every bad row.
type Checked = Result<(Site, ImportReport), ImportError>;

#[derive(Default)]
pub struct ImportUi {
    pub open: bool,
    pub text: String,
    pub source: Option<PathBuf>,
    /// The encoding the file was read in when it was not UTF-8.
    pub encoding: Option<&'static str>,
    /// (text it was computed for, site revision, result, the text as a table).
    preview: Option<(String, u64, Checked, Table)>,
}

impl ImportUi {
    pub fn load(&mut self, path: PathBuf, text: String, encoding: Option<&'static str>) {
        self.open = true;
        self.text = text;
        self.source = Some(path);
        self.encoding = encoding;
        self.preview = None;
    }
}

/// Columns whose cells are secrets: masked in the preview unless secrets are shown.
fn is_secret_column(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    let field = lower.strip_prefix("acct").and_then(|r| r.split_once('_')).map_or(lower.as_str(), |(_, f)| f);
    matches!(field, "password" | "sip_password")
        || crate::site::canonical_key(name).is_ok_and(|k| {
            crate::catalog::Catalog::get().lookup(&k).is_some_and(|p| p.kind == crate::catalog::ValueKind::Password)
        })
}

/// The CSV split as the import splits it: the header, then (line, cells) of
/// each non-empty row, and which columns are secrets. Parsed once per text,
/// not on every frame the window is drawn.
struct Table {
    header: Vec<String>,
    secret: Vec<bool>,
    rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    fn parse(text: &str) -> Table {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .trim(csv::Trim::All)
            .delimiter(sniff_delimiter(text))
            .from_reader(text.as_bytes());
        let mut records = reader.records().filter_map(Result::ok);
        let header: Vec<String> = records.next().map(|r| r.iter().map(str::to_string).collect()).unwrap_or_default();
        let rows = records
            .filter(|r| !r.iter().all(str::is_empty))
            .map(|r| (csv_line(text, r.position()), r.iter().map(str::to_string).collect()))
            .collect();
        Table { secret: header.iter().map(|h| is_secret_column(h)).collect(), header, rows }
    }
}

/// The preview: the table, each line numbered, bad lines marked, secrets masked.
fn preview_table(ui: &mut egui::Ui, table: &Table, bad_lines: &[u64], show_secrets: bool) {
    egui::Grid::new("csv-preview-grid").striped(true).show(ui, |ui| {
        if !table.header.is_empty() {
            ui.weak("line");
            for cell in &table.header {
                ui.strong(cell);
            }
            ui.end_row();
        }
        for (n, cells) in &table.rows {
            let bad = bad_lines.contains(n);
            if bad {
                ui.colored_label(ui.visuals().error_fg_color, format!("× {n}"));
            } else {
                ui.weak(n.to_string());
            }
            for (j, cell) in cells.iter().enumerate() {
                let masked = !show_secrets && !cell.is_empty() && table.secret.get(j).copied().unwrap_or(false);
                let shown: String = if masked { "••••••".into() } else { cell.chars().take(40).collect() };
                if bad {
                    ui.colored_label(ui.visuals().error_fg_color, shown);
                } else {
                    ui.label(shown);
                }
            }
            ui.end_row();
        }
    });
}

pub fn import_ui(ctx: &egui::Context, doc: &mut Doc, rt: &mut Runtime) -> Option<Action> {
    if !rt.import.open {
        return None;
    }
    let show_secrets = rt.show_secrets;
    let st = &mut rt.import;
    let stale = st.preview.as_ref().is_none_or(|(t, rev, _, _)| *t != st.text || *rev != doc.revision());
    if stale {
        // Nothing typed yet is not an error: the window says what to do instead.
        let result = (!st.text.trim().is_empty()).then(|| import_csv(&doc.site, &st.text));
        st.preview = result.map(|r| (st.text.clone(), doc.revision(), r, Table::parse(&st.text)));
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
        if let Some(e) = st.encoding {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("The file is not UTF-8; it was read as {e}. Check accented names in the preview."),
            );
        }
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
            egui::ScrollArea::both().id_salt("csv-preview").max_height(300.0).show(ui, |ui| {
                if let Some((_, _, _, table)) = &st.preview {
                    preview_table(ui, table, &bad_lines, show_secrets);
                }
            });
        });
        ui.separator();
        match st.preview.as_ref().map(|p| &p.2) {
            Some(Ok((_, report))) => {
                ui.label(format!(
                    "Ready: {} new device(s), {} updated, {} unchanged.",
                    report.added.len(),
                    report.updated.len(),
                    report.unchanged.len()
                ));
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
            None => {
                ui.label("Paste CSV text on the left or load a file; the first row names the columns.");
            }
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
    if apply && let Some((_, _, Ok((site, report)), _)) = st.preview.take() {
        let from = st.source.as_ref().and_then(|p| p.file_name()).map(|n| format!(" from {}", n.to_string_lossy()));
        let what = format!(
            "CSV import{} ({} added, {} updated)",
            from.unwrap_or_default(),
            report.added.len(),
            report.updated.len()
        );
        doc.edit_as(what, |s| *s = site);
        st.open = false;
        st.text.clear();
        st.source = None;
        st.encoding = None;
    }
    action
}
