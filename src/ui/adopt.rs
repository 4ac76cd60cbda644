//! File > "Adopt a provisioning folder…": the window that reads an old
//! provisioning folder into a new site ([`crate::adopt`], the same function
//! `gsprov adopt` runs), shows the report per file and the round trip, and
//! opens the adopted site as a new, unsaved document. The folder is read by
//! the file worker, never on the UI thread.

use std::path::PathBuf;

use super::{Action, Runtime};
use crate::adopt::{Adopted, Options, Outcome, Verdict};
use crate::formats::{crypto, printable};
use crate::ui::worker::Job;

#[derive(Default)]
pub struct AdoptUi {
    pub open: bool,
    /// The folder to read, typed or picked.
    pub folder: String,
    pub password: String,
    pub sha256: bool,
    /// `MAC=MODEL` per line, or a bare `MODEL` for every device the files do not tell.
    pub models: String,
    /// The last reading: the folder, and the adopted site or why not.
    pub result: Option<(PathBuf, Result<Box<Adopted>, String>)>,
}

impl AdoptUi {
    /// The worker finished reading `dir`.
    pub fn done(&mut self, dir: PathBuf, result: Result<Box<Adopted>, String>) {
        self.open = true;
        self.result = Some((dir, result));
    }
}

/// The models typed in, one per line, checked as `gsprov adopt --model` checks them.
fn parse_models(text: &str) -> Result<crate::adopt::Models, String> {
    let lines: Vec<(usize, &str)> =
        text.lines().enumerate().map(|(n, l)| (n, l.trim())).filter(|(_, l)| !l.is_empty()).collect();
    crate::adopt::model_hints(lines.iter().map(|(_, l)| *l)).map_err(|(i, why)| {
        format!("Models, line {}: {why}; write MAC=MODEL or MODEL", lines.get(i).map_or(0, |(n, _)| n + 1))
    })
}

pub fn adopt_ui(ctx: &egui::Context, rt: &mut Runtime) -> Option<Action> {
    if !rt.adopt.open {
        return None;
    }
    let st = &mut rt.adopt;
    let mut open = st.open;
    let mut action = None;
    egui::Window::new("Adopt a provisioning folder").open(&mut open).default_size([820.0, 560.0]).show(ctx, |ui| {
        ui.label(
            "Reads the files an office's devices fetch today (cfg<mac>, cfg<mac>.xml, cfg<model>.xml, cfg.xml) \
             into a new site: cfg.xml becomes the defaults, cfg<model>.xml the model templates, each device's \
             files the device.",
        );
        egui::Grid::new("adopt-form").num_columns(2).show(ui, |ui| {
            let l = ui.label("Folder:");
            ui.horizontal(|ui| {
                ui.add(egui::TextEdit::singleline(&mut st.folder).desired_width(440.0)).labelled_by(l.id);
                if ui.button("Choose…").clicked() {
                    action = Some(Action::Background(Job::PickAdoptFolder, "Choosing the folder"));
                }
            });
            ui.end_row();
            let l = ui.label("XML password:");
            ui.add(egui::TextEdit::singleline(&mut st.password).password(true).desired_width(260.0))
                .labelled_by(l.id)
                .on_hover_text("P1359, for encrypted files; empty: the P1359 the folder's binary files carry is tried");
            ui.end_row();
            ui.label("");
            ui.checkbox(&mut st.sha256, "SHA-256 key derivation (OpenSSL 1.1+ default; devices expect MD5)");
            ui.end_row();
            let l = ui.label("Models:");
            ui.add(egui::TextEdit::multiline(&mut st.models).desired_rows(3).desired_width(520.0))
                .labelled_by(l.id)
                .on_hover_text("MAC=MODEL, one per line (000b82a1b202=GXP2135), or one MODEL for every device the files do not tell");
            ui.end_row();
        });
        let models = parse_models(&st.models);
        if let Err(e) = &models {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        let ready = !st.folder.trim().is_empty() && models.is_ok();
        if ui.add_enabled(ready, egui::Button::new("Read folder")).clicked()
            && let Ok((models, default_model)) = models
        {
            let dir = PathBuf::from(st.folder.trim());
            let options = Options {
                folder: dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                xml_password: (!st.password.is_empty()).then(|| st.password.clone()),
                digest: if st.sha256 { crypto::Digest::Sha256 } else { crypto::Digest::Md5 },
                models,
                default_model,
            };
            st.result = None;
            action = Some(Action::Background(Job::Adopt { dir, options: Box::new(options) }, "Reading the folder"));
        }
        ui.separator();
        match &st.result {
            None => {
                ui.weak("Nothing read yet.");
            }
            Some((dir, Err(why))) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("{} was not adopted: {}", dir.display(), printable(why)),
                );
            }
            Some((dir, Ok(adopted))) => {
                let r = &adopted.report;
                let same = r.round_trip.iter().filter(|t| t.verdict == Verdict::Same).count();
                let compared = r.round_trip.iter().filter(|t| !matches!(t.verdict, Verdict::New { .. })).count();
                let site = &adopted.site;
                ui.strong(format!(
                    "{}: {} device(s), {} model template(s), {} default value(s); {same} of {compared} file(s) come back the same",
                    dir.display(),
                    site.devices.len(),
                    site.models.len(),
                    site.defaults.0.len()
                ));
                if ui.button("Open as a new site").clicked() {
                    action = Some(Action::Adopted(Box::new(site.clone())));
                }
                egui::ScrollArea::vertical().max_height(360.0).show(ui, |ui| {
                    egui::CollapsingHeader::new(format!("Files ({})", r.files.len())).default_open(true).show(ui, |ui| {
                        egui::Grid::new("adopt-files").striped(true).show(ui, |ui| {
                            for f in &r.files {
                                ui.label(match f.outcome {
                                    Outcome::Understood => "understood",
                                    Outcome::KeptRaw => "kept raw",
                                    Outcome::Skipped => "skipped",
                                });
                                ui.label(printable(&f.name));
                                let mut detail = printable(&f.detail).into_owned();
                                if !f.raw.is_empty() {
                                    detail.push_str(&format!("; raw: {}", f.raw.join(", ")));
                                }
                                ui.label(detail);
                                ui.end_row();
                            }
                        });
                    });
                    if !r.notes.is_empty() {
                        egui::CollapsingHeader::new("Notes").default_open(true).show(ui, |ui| {
                            for n in &r.notes {
                                ui.label(printable(n));
                            }
                        });
                    }
                    egui::CollapsingHeader::new("Round trip").default_open(true).show(ui, |ui| {
                        egui::Grid::new("adopt-round-trip").striped(true).show(ui, |ui| {
                            for t in &r.round_trip {
                                let (word, detail) = match &t.verdict {
                                    Verdict::Same => ("same", String::new()),
                                    Verdict::Differs { missing, added, changed } => (
                                        "DIFFERS",
                                        format!(
                                            "missing {} · added {} · changed {}",
                                            missing.join(", "),
                                            added.join(", "),
                                            changed.join(", ")
                                        ),
                                    ),
                                    Verdict::NotGenerated => ("MISSING", "the adopted site does not generate it".into()),
                                    Verdict::New { why } => ("new", why.clone()),
                                };
                                ui.label(word);
                                ui.label(printable(&t.name));
                                ui.label(detail);
                                ui.end_row();
                            }
                        });
                    });
                    if !r.issues.is_empty() {
                        egui::CollapsingHeader::new(format!("Site check ({})", r.issues.len())).show(ui, |ui| {
                            for i in &r.issues {
                                ui.label(printable(&i.to_string()));
                            }
                        });
                    }
                });
            }
        }
    });
    st.open = open;
    action
}
