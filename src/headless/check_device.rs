//! `gsprov check-device`: what each device's web API says it holds.

use crate::storage;

use super::targets::{device_addresses, warn_sip_reset};
use super::{Error, Term};

/// `gsprov check-device SITE MAC...`: asks each device's web API for its
/// registration, firmware and a read-back of what was served; one line (or
/// JSON object) per device as it ends.
pub fn check_device(args: &crate::cli::CheckDeviceArgs, t: &mut Term) -> Result<(), Error> {
    use crate::services::{notify, webapi};
    let site = storage::load_site(&args.site)?;
    let devices = device_addresses(&args.site, &site, &args.macs, args.to, args.confirm_address)?;
    if devices.len() > notify::MAX_TARGETS {
        return Err(Error::Target(format!(
            "{} devices at once; gsprov checks at most {} per command",
            devices.len(),
            notify::MAX_TARGETS
        )));
    }
    let mut targets = Vec::new();
    for (d, ip, port, vouch) in &devices {
        warn_sip_reset(&site, d, t)?;
        targets.push(webapi::target(&site, d, *ip, *port, vouch.clone()));
    }
    let mut write_error = None;
    let table = crate::services::neighbours::OsTable;
    let timeout = std::time::Duration::from_secs(args.timeout);
    let reports = webapi::check_all(&targets, timeout, &table, &mut |r| {
        let mut r = r.clone();
        if r.result == webapi::Verdict::Unconfirmed {
            r.explanation.push_str(super::targets::CONFIRM_ADDRESS_ADVICE);
        }
        let r = &r;
        let mut line = if args.json { serde_json::to_string(r).unwrap_or_default() } else { r.to_string() };
        // A public vulnerability in the firmware the unit reported (not in --json: its schema is the report's).
        if !args.json
            && let (Some(fw), Some(d)) = (r.firmware.as_deref(), site.device(r.mac))
        {
            for w in crate::catalog::advisories::warnings(&d.model, fw) {
                line.push_str(&format!("\nwarning: {}: {w}", r.mac));
            }
        }
        if let Err(e) = writeln!(t.out, "{line}").and_then(|()| t.out.flush()) {
            write_error.get_or_insert(e);
        }
    });
    if let Some(e) = write_error {
        return Err(Error::Output(e));
    }
    let failed = reports.iter().filter(|r| !r.result.is_success()).count();
    if failed > 0 {
        return Err(Error::ChecksFailed { failed, total: reports.len() });
    }
    Ok(())
}
