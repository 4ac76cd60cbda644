//! gsprov: a provisioning workstation for Grandstream SIP devices.
//!
//! Module map, bottom layer first. A module uses only modules listed above it
//! (`tests/layering.rs` fails on any `crate::` path that points up or sideways
//! between the two front ends):
//! - [`ids`]: MAC, P-id and model newtypes, parsed once. [`logging`]: stderr
//!   plus a rotating log file in the data folder, set up by `main`.
//! - [`formats`]: pure bytes <-> types (binary cfg, XML, encryption, reading any
//!   served file back, request names, User-Agent, SIP, TFTP and HTTP packets,
//!   DHCP, the neighbour table's text, syslog lines, the resync NOTIFY, the
//!   device web API's requests and answers).
//! - [`catalog`]: the P-value catalog (`assets/p-values.json`), value validation,
//!   account and port layouts.
//! - [`site`]: the technician's project as saved (and its text, edited in
//!   place so comments and order survive), layering defaults -> model ->
//!   device with provenance, validation, CSV import, the demo site.
//! - [`generate`]: site -> the files each device will request; [`generate::checked`]
//!   is the one check-then-generate every front end uses.
//! - [`adopt`]: an old provisioning folder's files (as bytes) read back into a
//!   site whose layers are the ones the devices apply, with a per-file report
//!   and the round trip through [`generate`] that proves it.
//! - [`serving`]: pure decisions and folds over requests: the served-files index
//!   and policy, request records, the router and its miss explainer, the device
//!   status fold and its truth columns (what the devices say, the last
//!   action), the discovery fold, the handover report, the address check
//!   (do P237/P192 point at this computer's servers?).
//! - [`event`]: `Command` (front end -> services) and `Event` (services -> front
//!   ends), the serving and discovery configurations, the servers' errors.
//! - [`storage`]: the only module that reads or writes user files (site, exports,
//!   firmware folder, request log, HTTPS certificate).
//! - [`services`]: everything that owns a socket or a thread, behind one
//!   [`services::Supervisor`]: TFTP, HTTP and HTTPS servers, the request-log
//!   writer, the SIP plug-and-play responder, mDNS browsing, the neighbour table
//!   and sweep, the DHCP preflight, the bench DHCP server, the interface list,
//!   the `gsprov fetch` client, the syslog receiver, the resync/reboot NOTIFY
//!   sender and the web API clients of check-device and read-device.
//! - [`session`]: the serving job both front ends share: a site prepared for
//!   its devices (firmware folder judged, firmware steps applied, files
//!   generated: one truth for a device's bytes), the serving session that
//!   owns the Supervisor and keeps the served files current, and the memory
//!   of what happened (the request log read back on open).
//! - [`cli`]: clap types turned into validated options; opens nothing.
//! - [`headless`]: the terminal front end (`gsprov generate`, `check`, `serve`,
//!   `fetch`, ...), one file per command. [`ui`]: the desktop app (eframe/egui)
//!   with its own threads (the control thread that owns the serving
//!   [`session::Session`], the device-actions thread, the device-reading
//!   thread, the file worker and its dialogs; server events reach it through
//!   a bounded inbox). The two front ends never use each other.

pub mod ids;
pub mod logging;

pub mod formats;

pub mod catalog;

pub mod site;

pub mod generate;

pub mod adopt;

pub mod serving;

pub mod event;

pub mod storage;

pub mod services;

pub mod session;

pub mod cli;

pub mod headless;
pub mod ui;
