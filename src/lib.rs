//! gsprov: a provisioning workstation for Grandstream SIP devices.
//!
//! Module map (dependencies point one way, top to bottom):
//! - [`ids`]: MAC, P-id and model newtypes, parsed once.
//! - [`catalog`]: the P-value catalog (`assets/p-values.json`), value validation,
//!   account and port layouts.
//! - [`site`]: the technician's project as saved, layering defaults -> model ->
//!   device with provenance, CSV import.
//! - [`formats`]: pure bytes <-> types (binary cfg, XML, encryption, request names,
//!   User-Agent).
//! - [`generate`]: site -> the files each device will request.
//! - [`storage`]: the only module that reads or writes user files (site, exports,
//!   firmware folder, request log, HTTPS certificate).
//! - [`services`]: everything that owns a socket or a thread, behind one
//!   [`services::Supervisor`]: TFTP, HTTP and HTTPS servers, the request-log
//!   writer, the desktop app's file worker, the `gsprov fetch` client; the pure [`services::router`] decides what
//!   a request gets and why, [`services::status`] folds requests into device status. Discovery too: the
//!   SIP plug-and-play responder ([`services::pnp`]), mDNS browsing, the neighbour table and sweep
//!   ([`services::neighbours`]), the DHCP preflight, the interface list ([`services::interfaces`]);
//!   the pure [`services::discovery`] folds all of it into one list of devices.
//! - [`event`]: `Command` (front end -> services) and `Event` (services -> front
//!   ends), the serving configuration and one `RequestRecord` per request. Any
//!   layer may use it.
//! - [`headless`]: the terminal front end (`gsprov generate`, `check`, `serve`,
//!   `fetch`, ...).
//! - [`ui`]: the desktop app (eframe/egui), a front end over the same library.
//! - [`report`]: the handover report (CSV, HTML), pure.
//! - [`cli`]: clap types turned into validated options; opens nothing.
//! - [`logging`]: stderr plus a rotating log file in the data folder, set up by `main`.

pub mod catalog;
pub mod cli;
pub mod event;
pub mod formats;
pub mod generate;
pub mod headless;
pub mod ids;
pub mod logging;
pub mod services;
pub mod serving;
pub mod site;
pub mod storage;
pub mod ui;
