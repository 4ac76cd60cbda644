//! Where the device actions (`notify`, `check-device`) send: each MAC's address
//! and the warnings owed before acting on a device.

use std::path::Path;

use crate::services::notify::Vouch;
use crate::site::Site;
use crate::storage;

use super::{Error, Term};

/// What the terminal adds to a service's "address not confirmed" result
/// (the service's words name no flag: the app says its own tick box).
pub const CONFIRM_ADDRESS_ADVICE: &str =
    ". Check that the address is the device's, then run again with --confirm-address (or give it with --to ADDR)";

/// A device of the site, where to reach it (address, port if given) and why that address.
pub(super) type Target = (crate::site::Device, std::net::IpAddr, Option<u16>, Vouch);

/// Where each MAC is: `--to` (one MAC only), else the address of its last
/// request that passed the serving policy in the site's request log, else the
/// neighbour table; with where it came from ([`Vouch`]): a learned address
/// gets the device's credentials only when the neighbour table confirms it
/// (or `confirm` says the technician checked it). Only devices of the site are
/// targets (their accounts are the digest credentials).
pub(super) fn device_addresses(
    site_path: &Path,
    site: &Site,
    macs: &[crate::ids::Mac],
    to: Option<crate::cli::Address>,
    confirm: bool,
) -> Result<Vec<Target>, Error> {
    if to.is_some() && macs.len() > 1 {
        return Err(Error::Target(format!("--to names one address, but {} MACs were given; give one MAC", macs.len())));
    }
    let mut out = Vec::new();
    let log = storage::site_paths(site_path, "").request_log;
    let seen = match &log {
        Some(l) => storage::last_clients(l)?,
        None => Default::default(),
    };
    let learned = |source: String| {
        if confirm {
            Vouch::Confirmed(format!("{source}, confirmed with --confirm-address"))
        } else {
            Vouch::Learned(source)
        }
    };
    let mut neighbours: Option<Vec<crate::formats::neigh::Neighbour>> = None;
    for mac in macs {
        let Some(d) = site.device(*mac) else {
            return Err(Error::Target(format!(
                "{mac} is not a device of {}; add it (or adopt it with gsprov discover --adopt) first",
                site_path.display()
            )));
        };
        if let Some(a) = to {
            out.push((d.clone(), a.ip, a.port, Vouch::Confirmed("--to".into())));
            continue;
        }
        if let Some(ip) = seen.get(mac) {
            let source = format!(
                "its last request that passed the serving policy, in {}",
                log.as_ref().map(|l| l.display().to_string()).unwrap_or_default()
            );
            out.push((d.clone(), *ip, None, learned(source)));
            continue;
        }
        let table = neighbours.get_or_insert_with(|| {
            use crate::services::neighbours::NeighbourTable as _;
            crate::services::neighbours::OsTable.read().unwrap_or_default()
        });
        match table.iter().find(|n| n.mac == *mac) {
            Some(n) => out.push((d.clone(), n.ip, None, learned("the neighbour table".into()))),
            None => {
                return Err(Error::Target(format!(
                    "no address known for {mac}: it made no request that passed the serving policy in {} and is not \
                     in the neighbour table; give it with --to ADDR",
                    log.map(|l| l.display().to_string()).unwrap_or_default()
                )));
            }
        }
    }
    Ok(out)
}

/// The P26015 warning before any action towards a device that allows a SIP reset.
pub(super) fn warn_sip_reset(site: &Site, d: &crate::site::Device, t: &mut Term) -> Result<(), Error> {
    if crate::services::notify::allows_sip_reset(site, d) {
        writeln!(
            t.err,
            "warning: the site sets P26015 (Allow SIP Reset) = 1 for {}: a SIP NOTIFY could factory-reset it; gsprov never sends one, but set it to 0",
            d.mac
        )?;
    }
    Ok(())
}
