//! The technician's project as saved in `*.gsprov.toml`, one file per job:
//! - `saved`: the saved format (the types, how values read, the demo site,
//!   device edits);
//! - `layering`: defaults -> model -> device with the provenance of every
//!   effective value ([`Site::effective`], [`Effective`], [`canonical_key`]);
//! - `check`: validation ([`Site::check`], [`Issue`], [`Site::exposure`]);
//! - `text`: the saved text, the technician's own file edited in place;
//! - `import` (CSV), [`keys`] (programmable keys), `phonebook`, `region`
//!   (time and region checks).
//!
//! Pure data and validation: reading and writing files is `storage`'s job.

mod check;
mod import;
pub mod keys;
mod layering;
mod phonebook;
mod region;
mod saved;
mod security;
mod text;

pub use check::{Issue, Severity, device_location, text_problem};
pub use import::{ImportError, ImportReport, RowError, csv_line, decode_csv, import_csv, line_at, sniff_delimiter};
pub use layering::{BOOTSTRAP_KEYS, Effective, KeyError, Layer, Layering, Setting, Source, canonical_key};
pub use phonebook::{PHONEBOOK_FILE, Phonebook, PhonebookContact};
pub use region::DhcpOverrideFinding;
pub use saved::{
    Account, BinaryMode, DEFAULT_MAX_FIRMWARE_TRANSFERS, DEMO, Device, Encrypt, FORMAT_VERSION, Firmware, FirmwarePin,
    HttpAuth, Provisioning, Serving, Site, Values, demo,
};
pub use security::{Finding as SecurityFinding, Fix as SecurityFix, Kind as SecurityKind};
pub use text::{HEADER, saved_text};
