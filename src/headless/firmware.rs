//! `gsprov firmware`: the firmware view (folder, models, each device's next step).

use crate::cli::FirmwareArgs;
use crate::formats::printable;
use crate::session;
use crate::storage;

use super::{Error, Term};

/// `gsprov firmware SITE`: the firmware view. Exits with the problems code when
/// a flag is an error (a truncated or unreadable image, a missing pinned target).
pub fn firmware(args: &FirmwareArgs, t: &mut Term) -> Result<(), Error> {
    use crate::serving::firmware::{self as fw, Level};
    let site = storage::load_site(&args.site)?;
    let listing = session::listing(Some(&args.site), &site.serving.firmware_dir);
    let reported = session::History::read(&args.site)?.known_firmware();
    let view = fw::view(&site, &listing, &|m| reported.get(&m).cloned());
    if args.json {
        writeln!(t.out, "{}", serde_json::to_string(&view).unwrap_or_default())?;
    } else {
        let dir = view.dir.as_deref().unwrap_or("(none: set serving.firmware_dir)");
        writeln!(t.out, "firmware folder {dir}")?;
        if let Some(p) = &view.problem {
            writeln!(t.out, "  cannot be listed: {p}")?;
        }
        writeln!(t.out, "\nfiles:")?;
        if view.files.is_empty() {
            writeln!(t.out, "  (none)")?;
        }
        for f in &view.files {
            let layout = f.layout.map(|l| l.to_string()).unwrap_or_else(|| "-".into());
            let version = f.version.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
            let family = f.family.as_deref().unwrap_or("-");
            let wanted: Vec<String> = f.wanted_by.iter().map(|m| m.to_string()).collect();
            let wanted = if wanted.is_empty() { "no model".into() } else { wanted.join(", ") };
            writeln!(
                t.out,
                "  {}  {} bytes  {layout} {family} {version}  {}  (requested by {wanted})",
                printable(&f.name),
                f.size,
                printable(&f.state)
            )?;
        }
        writeln!(t.out, "\nmodels:")?;
        for m in &view.models {
            let versions: Vec<String> = m.versions.iter().map(|v| v.to_string()).collect();
            let have = if versions.is_empty() { "not in the folder".into() } else { versions.join(", ") };
            writeln!(
                t.out,
                "  {}  requests {}  folder: {have}  ({} device(s))",
                m.model,
                m.request.as_deref().unwrap_or("(unknown name)"),
                m.devices.len()
            )?;
        }
        writeln!(t.out, "\ndevices:")?;
        for d in &view.devices {
            let label = if d.label.is_empty() { String::new() } else { format!(" ({})", printable(&d.label)) };
            let p192 = d.p192.as_deref().map(|p| format!("  P192 = {}", printable(p))).unwrap_or_default();
            writeln!(
                t.out,
                "  {}{label} {}  {}  {}{p192}",
                d.mac,
                d.model,
                printable(&d.path),
                d.plan.action.describe()
            )?;
        }
        if !view.flags.is_empty() {
            writeln!(t.out, "\nflags:")?;
        }
        for f in &view.flags {
            let level = match f.level {
                Level::Error => "error",
                Level::Warning => "warning",
                Level::Note => "note",
            };
            writeln!(t.out, "  {level}: {}: {}", printable(&f.at), printable(&f.message))?;
        }
    }
    match view.errors() {
        0 => Ok(()),
        n => Err(Error::CheckFailed(n)),
    }
}
