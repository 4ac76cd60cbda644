//! `gsprov notify`: re-provision or reboot devices with a SIP NOTIFY.

use crate::storage;

use super::targets::{device_addresses, warn_sip_reset};
use super::{Error, Term};

/// `gsprov notify resync|reboot SITE MAC...`: one SIP NOTIFY transaction per
/// device, paced; each outcome printed as it ends.
pub fn notify(args: &crate::cli::NotifyArgs, t: &mut Term) -> Result<(), Error> {
    use crate::services::notify::{self, Pace, Timers};
    let site = storage::load_site(&args.site)?;
    let action: crate::formats::resync::Action = args.action.into();
    let devices = device_addresses(&args.site, &site, &args.macs, args.to, args.confirm_address)?;
    let mut targets = Vec::new();
    for (d, ip, port, vouch) in &devices {
        warn_sip_reset(&site, d, t)?;
        if let notify::Vouch::Learned(source) = vouch {
            writeln!(
                t.err,
                "note: {} at {ip} (from {}): a challenge is answered only if the neighbour table says {ip} is {}",
                d.mac,
                crate::formats::printable(source),
                d.mac.colon()
            )?;
        }
        let target = notify::target(&site, d, *ip, *port, vouch.clone());
        if target.credentials.is_empty() {
            writeln!(
                t.err,
                "note: {} has no account password in the site; a challenged NOTIFY cannot be answered",
                d.mac
            )?;
        }
        targets.push(target);
    }
    let timers = Timers::from_t1(std::time::Duration::from_millis(args.t1_ms));
    let pace = Pace { interval: std::time::Duration::from_millis(args.interval_ms), ..Pace::default() };
    let mut write_error = None;
    let table = crate::services::neighbours::OsTable;
    let reports = notify::send_all(&targets, action, &timers, pace, &table, &mut |r| {
        let line = if args.json { serde_json::to_string(r).unwrap_or_default() } else { r.to_string() };
        if let Err(e) = writeln!(t.out, "{line}").and_then(|()| t.out.flush()) {
            write_error.get_or_insert(e);
        }
    })
    .map_err(|e| Error::Target(e.to_string()))?;
    if let Some(e) = write_error {
        return Err(Error::Output(e));
    }
    let failed = reports.iter().filter(|r| !r.outcome.is_success()).count();
    if failed > 0 {
        return Err(Error::DevicesFailed { what: action.describe(), failed, total: reports.len() });
    }
    Ok(())
}
