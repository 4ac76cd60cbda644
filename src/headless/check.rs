//! `gsprov check`: the site's problems, as lines or JSON.

use crate::cli::CheckArgs;
use crate::services::interfaces;
use crate::session;
use crate::site::Severity;
use crate::storage;

use super::{Error, Term};

pub fn check(args: &CheckArgs, t: &mut Term) -> Result<(), Error> {
    let site = storage::load_site(&args.site)?;
    // The same list the desktop app's status bar counts.
    let all = interfaces::list().map_err(|e| e.to_string());
    let issues = session::site_issues(Some(&args.site), &site, all.as_deref().map_err(Clone::clone));
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
