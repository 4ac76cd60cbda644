//! `gsprov check`: the site's problems, as lines or JSON.

use crate::cli::CheckArgs;
use crate::services::interfaces;
use crate::serving::address;
use crate::session;
use crate::site::{self, Severity};
use crate::storage;

use super::{Error, Term};

pub fn check(args: &CheckArgs, t: &mut Term) -> Result<(), Error> {
    let site = storage::load_site(&args.site)?;
    let mut issues = site.check();
    if let Some(p237) = site.defaults.get("P237") {
        match interfaces::list() {
            Ok(all) => {
                if let Some(message) = address::names_this_machine(p237, &all) {
                    issues.push(site::Issue { severity: Severity::Warning, location: "defaults.P237".into(), message });
                }
            }
            Err(e) => issues.push(site::Issue {
                severity: Severity::Warning,
                location: "defaults.P237".into(),
                message: format!("not checked against this computer's addresses: {e}"),
            }),
        }
    }
    // The firmware folder as `serve` and Start servers judge it: exposed (an
    // error, first), missing or unreadable (a warning).
    for (i, issue) in session::firmware_folder(Some(&args.site), &site.serving.firmware_dir).into_iter().enumerate() {
        issues.insert(i, issue);
    }
    if args.json {
        for i in &issues {
            writeln!(t.out, "{}", serde_json::to_string(i).unwrap_or_default())?;
        }
    } else {
        for i in &issues {
            writeln!(t.out, "{i}")?;
        }
    }
    let errors = issues.iter().filter(|i| i.severity == Severity::Error).count();
    if !args.json {
        writeln!(
            t.err,
            "{}: {} device(s), {errors} error(s), {} warning(s)",
            args.site.display(),
            site.devices.len(),
            issues.len() - errors
        )?;
    }
    if errors > 0 { Err(Error::CheckFailed(errors)) } else { Ok(()) }
}
