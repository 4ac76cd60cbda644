//! The status bar's count of the site's problems: the same list as
//! `gsprov check` ([`crate::session::site_issues`]), both counts in view
//! (errors and warnings), the list itself on hover.

use std::path::PathBuf;
use std::rc::Rc;

use super::{Action, Doc, Runtime};
use crate::site::{Issue, Severity};
use crate::ui::control::Request;

/// The last list, and what it was computed from: recomputed after an edit, a
/// save under another name, when the interface list comes in, or when the
/// firmware folder was read again (its problems are on the list: a folder
/// created after the first look was still counted missing), never per frame.
#[derive(Default)]
pub struct SiteChecks {
    key: Option<(u64, Option<PathBuf>, usize, u64)>,
    issues: Rc<Vec<Issue>>,
}

impl SiteChecks {
    /// `gsprov check`'s list for the open site.
    pub fn issues(
        &mut self,
        doc: &Doc,
        interfaces: &[crate::serving::discovery::NetInterface],
        firmware_generation: u64,
    ) -> Rc<Vec<Issue>> {
        let key = (doc.revision(), doc.path.clone(), interfaces.len(), firmware_generation);
        if self.key.as_ref() != Some(&key) {
            let known = if interfaces.is_empty() {
                Err("the interface list is not in yet".to_string())
            } else {
                Ok(interfaces)
            };
            self.issues = Rc::new(crate::session::site_issues(doc.path.as_deref(), &doc.site, known));
            self.key = Some(key);
        }
        self.issues.clone()
    }
}

/// "1 error(s), 3 warning(s)" (both always shown), the list on hover; asks
/// for the interface list once, so the P237 check is the terminal's.
pub fn status_bar_ui(ui: &mut egui::Ui, doc: &Doc, rt: &mut Runtime) -> Option<Action> {
    let mut action = None;
    if !rt.serving.interfaces_requested {
        rt.serving.interfaces_requested = true;
        action = Some(Action::Serve(Request::ListInterfaces));
    }
    let issues = rt.board.checks.issues(doc, &rt.serving.interfaces, rt.firmware.generation());
    let errors = issues.iter().filter(|i| i.severity == Severity::Error).count();
    let text = count_text(errors, issues.len() - errors);
    let hover = || {
        let mut lines: Vec<String> = issues.iter().take(12).map(|i| i.to_string()).collect();
        if issues.len() > 12 {
            lines.push(format!("... and {} more (gsprov check lists them all)", issues.len() - 12));
        }
        lines.join("\n")
    };
    let r = if errors > 0 {
        ui.colored_label(ui.visuals().error_fg_color, text)
    } else if issues.is_empty() {
        ui.label(text)
    } else {
        ui.colored_label(ui.visuals().warn_fg_color, text)
    };
    if !issues.is_empty() {
        r.on_hover_text(hover());
    }
    action
}

/// The status bar's words, `gsprov check`'s last line's counts.
pub fn count_text(errors: usize, warnings: usize) -> String {
    format!("{errors} error(s), {warnings} warning(s)")
}
