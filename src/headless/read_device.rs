//! `gsprov read-device`: what each device holds now, beside the site.

use crate::formats::printable;
use crate::formats::webapi::Observed;
use crate::storage;

use super::targets::device_addresses;
use super::{Error, Term};

/// `gsprov read-device SITE MAC...`: one login per device, its settings read
/// (the full dump where the unit offers one, else short batches), then per device a summary and every value that is not
/// the same (or one JSON object with every value). Values the site marks
/// secret are never read, so never printed.
pub fn read_device(args: &crate::cli::ReadDeviceArgs, t: &mut Term) -> Result<(), Error> {
    use crate::services::{notify, read_device as read};
    let site = storage::load_site(&args.site)?;
    let devices = device_addresses(&args.site, &site, &args.macs, args.to, args.confirm_address)?;
    if devices.len() > notify::MAX_TARGETS {
        return Err(Error::Target(format!(
            "{} devices at once; gsprov reads at most {} per command",
            devices.len(),
            notify::MAX_TARGETS
        )));
    }
    let timeout = std::time::Duration::from_secs(args.timeout);
    let mut failed = 0;
    let table = crate::services::neighbours::OsTable;
    // Compared against what each device is served: its P192 carries its firmware step.
    let listing = crate::session::listing(Some(&args.site), &site.serving.firmware_dir);
    let known = crate::session::History::read(&args.site)?.known_firmware();
    for (d, ip, port, vouch) in &devices {
        let served = read::as_served(&site, d.mac, &listing, known.get(&d.mac).map(String::as_str));
        let d = served.device(d.mac).unwrap_or(d);
        let target = read::target(&served, d, *ip, *port, args.password.as_deref(), vouch.clone());
        let mut r = read::read(&target, timeout, &table);
        if r.result == read::Verdict::Unconfirmed {
            r.explanation.push_str(super::targets::CONFIRM_ADDRESS_ADVICE);
        }
        if r.result != read::Verdict::Read {
            failed += 1;
        }
        if args.json {
            writeln!(t.out, "{}", serde_json::to_string(&r).unwrap_or_default())?;
            continue;
        }
        writeln!(t.out, "{} {}: {}", r.mac, r.addr, r.explanation)?;
        for row in &r.observed {
            let line = match &row.observed {
                Observed::Same { .. } => continue,
                Observed::Differs { device, site } => {
                    format!("differs        {}: device {}, site {}", row.key, printable(device), printable(site))
                }
                Observed::OnlyOnDevice { device } => format!("only on device {} = {}", row.key, printable(device)),
                Observed::NotReadable => format!("not readable   {}", row.key),
                Observed::Unknown => format!("unknown        {} (a password: the device keeps its own)", row.key),
            };
            writeln!(t.out, "  {line}")?;
        }
        t.out.flush()?;
    }
    if failed > 0 {
        return Err(Error::ReadsFailed { failed, total: devices.len() });
    }
    Ok(())
}
