//! The serving job both front ends share, written once: a site prepared for
//! its devices ([`prepare`]: the firmware folder judged, each device's
//! firmware step applied, the files generated and the warnings owed
//! wherever files go out), the serving [`Session`] (the serving config built
//! once from the site and the front end's runtime choices, regeneration on
//! edits, on new firmware reports and when the firmware folder is read
//! again), and the memory of what happened ([`History`]: the request log
//! read back on open, so status, firmware knowledge and the log survive a
//! restart).
//!
//! `gsprov generate`, `gsprov serve`, the desktop app's Start servers, its
//! export and its Files view all go through here, so they hand out the same
//! bytes. A front end only prints or draws what the session tells it.
//!
//! Must not touch: sockets and threads (the [`crate::services::Supervisor`]
//! owns them; a [`Session`] owns one), files (through [`crate::storage`]).

mod history;
mod prepare;
mod serving;

pub use history::{History, known_firmware};
pub use prepare::{Known, Prepared, firmware_folder, listing, prepare, site_issues, site_paths};
pub use serving::{Choices, Regenerated, Session, StartError, Started};
