//! `gsprov adopt DIR --out SITE`: an old provisioning folder read into a new
//! site ([`crate::adopt`]), its report printed, the site saved with the
//! project's one save function. A folder that cannot be read writes nothing.

use std::fmt::Write as _;

use super::{Error, Term};
use crate::adopt::{self, AdoptError, Outcome, Report, Verdict};
use crate::cli::AdoptArgs;
use crate::formats::printable;
use crate::site::Severity;
use crate::storage;

pub fn adopt(args: &AdoptArgs, t: &mut Term) -> Result<(), Error> {
    let (models, default_model) = args.models()?;
    if args.out.exists() && !args.force {
        return Err(Error::Exists(args.out.display().to_string()));
    }
    let entries = storage::read_folder(&args.dir)?;
    let folder = args
        .dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| args.dir.display().to_string());
    let opts = adopt::Options {
        folder,
        xml_password: args.xml_password.clone(),
        digest: args.digest.into(),
        models,
        default_model,
    };
    let adopted = adopt::adopt(&entries, &opts).map_err(|e| match e {
        AdoptError::File { file, message } => {
            Error::Undecodable { path: args.dir.join(file).display().to_string(), message: printable(&message).into() }
        }
        other => Error::Adopt(other.to_string()),
    })?;
    let report = &adopted.report;
    if args.json {
        writeln!(t.out, "{}", serde_json::to_string(report).unwrap_or_default())?;
    } else {
        t.out.write_all(text(report, &args.dir.display().to_string()).as_bytes())?;
    }
    storage::save_site(&args.out, &adopted.site)?;
    let site = &adopted.site;
    let same = report.round_trip.iter().filter(|r| r.verdict == Verdict::Same).count();
    let compared = report.round_trip.iter().filter(|r| !matches!(r.verdict, Verdict::New { .. })).count();
    writeln!(
        t.err,
        "wrote {}: {} device(s), {} model template(s), {} default value(s); {same} of {compared} file(s) come back the same",
        args.out.display(),
        site.devices.len(),
        site.models.len(),
        site.defaults.0.len(),
    )?;
    let differ = report.round_trip_differences();
    if differ > 0 { Err(Error::AdoptedWithDifferences(differ)) } else { Ok(()) }
}

/// The report for a terminal. File names and details come from the folder:
/// control characters are made visible. Values are never printed.
fn text(r: &Report, dir: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}: config names {}cfg...{}", printable(dir), printable(&r.prefix), printable(&r.postfix));
    for f in &r.files {
        let what = match f.outcome {
            Outcome::Understood => "understood",
            Outcome::KeptRaw => "kept raw",
            Outcome::Skipped => "skipped",
        };
        let _ = write!(s, "  {what:<11} {}: {}", printable(&f.name), printable(&f.detail));
        if !f.raw.is_empty() {
            let _ = write!(s, "; kept as raw values (not in the catalog for this family): {}", f.raw.join(", "));
        }
        s.push('\n');
    }
    if !r.notes.is_empty() {
        s.push_str("notes:\n");
        for n in &r.notes {
            let _ = writeln!(s, "  {}", printable(n));
        }
    }
    s.push_str("round trip (the adopted site generated, file by file):\n");
    for rt in &r.round_trip {
        let name = printable(&rt.name);
        let _ = match &rt.verdict {
            Verdict::Same => writeln!(s, "  same        {name}"),
            Verdict::Differs { missing, added, changed } => {
                let mut parts = Vec::new();
                for (label, keys) in [("missing", missing), ("added", added), ("changed", changed)] {
                    if !keys.is_empty() {
                        parts.push(format!("{label} {}", keys.join(", ")));
                    }
                }
                writeln!(s, "  DIFFERS     {name}: {}", printable(&parts.join("; ")))
            }
            Verdict::NotGenerated => writeln!(s, "  MISSING     {name}: the adopted site does not generate it"),
            Verdict::New { why } => writeln!(s, "  new         {name}: {why}"),
        };
    }
    let errors = r.issues.iter().filter(|i| i.severity == Severity::Error).count();
    let _ = writeln!(s, "site check: {errors} error(s), {} warning(s)", r.issues.len() - errors);
    for i in &r.issues {
        let _ = writeln!(s, "  {}", printable(&i.to_string()));
    }
    s
}
