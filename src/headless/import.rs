//! `gsprov import`: devices from a CSV into the site.

use crate::cli::ImportArgs;
use crate::site;
use crate::storage;

use super::{Error, Term};

pub fn import(args: &ImportArgs, t: &mut Term) -> Result<(), Error> {
    let site = storage::load_site(&args.site)?;
    let (text, encoding) = site::decode_csv(&storage::read_bytes(&args.csv)?);
    if let Some(encoding) = encoding {
        writeln!(
            t.err,
            "warning: {}: not UTF-8; read as {encoding} (check accented names in the preview or the site)",
            args.csv.display()
        )?;
    }
    let (updated, report) = site::import_csv(&site, &text)?;
    for w in &report.warnings {
        writeln!(t.err, "warning: {}: {w}", args.csv.display())?;
    }
    let (add, update) = if args.dry_run { ("would add", "would update") } else { ("added", "updated") };
    let sep = match report.delimiter {
        '\t' => "tab".to_string(),
        c => format!("'{c}'"),
    };
    writeln!(
        t.out,
        "{add} {} device(s), {update} {}, {} unchanged (cells separated by {sep})",
        report.added.len(),
        report.updated.len(),
        report.unchanged.len(),
    )?;
    for m in &report.added {
        writeln!(t.out, "  + {m}")?;
    }
    for m in &report.updated {
        writeln!(t.out, "  ~ {m}")?;
    }
    if !args.dry_run {
        storage::save_site(&args.site, &updated)?;
    }
    Ok(())
}
