//! `gsprov interfaces`: this computer's IPv4 interfaces.

use crate::cli::InterfacesArgs;
use crate::services::interfaces;

use super::{Error, Term};

/// `gsprov interfaces`: the IPv4 interfaces, to pick one for `--interface`.
pub fn interfaces(args: &InterfacesArgs, t: &mut Term) -> Result<(), Error> {
    let all = interfaces::list()?;
    if args.json {
        writeln!(t.out, "{}", serde_json::to_string(&all).unwrap_or_default())?;
        return Ok(());
    }
    let default = interfaces::choose(&all, None).ok();
    for i in &all {
        let note = if i.loopback {
            " (loopback: this computer only)"
        } else if default.as_ref() == Some(i) {
            " (default)"
        } else {
            ""
        };
        writeln!(t.out, "{:<16} {}/{}{note}", i.name, i.ipv4, i.prefix)?;
    }
    Ok(())
}
