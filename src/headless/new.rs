//! `gsprov new`: writes a new site file (empty, or the demo).

use crate::cli::NewArgs;
use crate::site::{self, Site};
use crate::storage;

use super::{Error, Term};

pub fn new(args: &NewArgs, t: &mut Term) -> Result<(), Error> {
    if args.site.exists() && !args.force {
        return Err(Error::Exists(args.site.display().to_string()));
    }
    let site = if args.demo {
        site::demo()
    } else {
        let mut s = Site { name: "New site".into(), ..Site::default() };
        s.defaults.set("P212", "1");
        s.defaults.set("P237", "192.168.1.2:8080");
        s.defaults.set("P47", "pbx.example.com");
        s
    };
    storage::save_site(&args.site, &site)?;
    writeln!(t.out, "wrote {}", args.site.display())?;
    Ok(())
}
