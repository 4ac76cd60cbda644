//! What a request gets and what it means, decided and folded without touching
//! the world: the served-files index and policy ([`served`]), one record per
//! request ([`record`]), the [`router`] and its miss explainer, the device
//! [`status`] fold, the [`discovery`] fold, the handover [`report`] and the
//! [`address`] check (do P237/P192 point at this computer's servers?), the
//! [`firmware`] view and upgrade plan, the bench DHCP server's [`leases`],
//! and what a port needs on this OS ([`privilege`]).
//!
//! Pure: no sockets, threads, files or clock (times and the firmware listing
//! come from the callers). The services feed it; every front end folds with
//! the same code, so the terminal, the JSON output and the desktop app tell
//! the same story.

pub mod address;
pub mod discovery;
pub mod firmware;
pub mod leases;
pub mod privilege;
pub mod record;
pub mod report;
pub mod router;
pub mod served;
pub mod status;
pub mod truth;

pub use record::{
    ContentKind, Disposition, FirmwareFile, FirmwareLink, Image, Interruption, Lease, Outcome, Protocol, Refusal,
    RequestId, RequestRecord, Wire, rfc3339,
};
pub use served::{KnownDevice, Policy, Served, Window};
pub use status::{DeviceState, DeviceStatus, Status, Summary};
