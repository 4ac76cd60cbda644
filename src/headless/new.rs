//! `gsprov new`: writes a new site file (empty, or the demo).

use crate::cli::NewArgs;
use crate::site::{self, Site};
use crate::storage;

use super::{Error, Term};

pub fn new(args: &NewArgs, t: &mut Term) -> Result<(), Error> {
    if args.site.exists() && !args.force {
        return Err(Error::Exists(args.site.display().to_string()));
    }
    if args.demo {
        // The demo as written, with its comments (its header says it may be edited by hand).
        storage::write_atomic(&args.site, site::DEMO.as_bytes(), args.force)?;
    } else {
        let mut s = Site { name: "New site".into(), ..Site::default() };
        s.defaults.set("P212", "1");
        s.defaults.set("P237", "192.168.1.2:8080");
        s.defaults.set("P47", "pbx.example.com");
        // Written afresh: never merged into a file it replaces (--force).
        storage::save_site_as(&args.site, &s, None)?;
    }
    writeln!(t.out, "wrote {}", args.site.display())?;
    Ok(())
}
