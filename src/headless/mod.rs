//! The terminal front end: one file per command (`new`, `check`, `generate`,
//! `import`, `decode`, `adopt`, `firmware`, `serve`, `discover`, `interfaces`, `fetch`,
//! `notify`, `check-device`, `read-device`, `params`) and the printers they share
//! ([`print`]). Prints to the writers it is given; every failure is a typed
//! [`Error`] whose [`Error::exit_code`] is the documented exit code. Owns no
//! socket or thread: serving goes through `services::Supervisor`, fetching
//! through `services::client`.

mod adopt;
mod check;
mod check_device;
mod decode;
mod discover;
mod fetch;
mod firmware;
mod generate;
mod import;
mod interfaces;
mod new;
mod notify;
mod params;
mod print;
mod read_device;
mod serve;
mod targets;

pub use adopt::adopt;
pub use check::check;
pub use check_device::check_device;
pub use decode::decode;
pub use discover::discover;
pub use fetch::fetch;
pub use firmware::firmware;
pub use generate::generate;
pub use import::import;
pub use interfaces::interfaces;
pub use new::new;
pub use notify::notify;
pub use params::params;
pub use read_device::read_device;
pub use serve::serve;

use std::io::Write;

use crate::cli::{ArgsError, exit};
use crate::event::{self, ServiceError};
use crate::services::client::FetchError;
use crate::services::interfaces::InterfaceError;
use crate::serving::Protocol;
use crate::site::{self, Severity};
use crate::storage::StorageError;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0} error(s) in the site; nothing was generated (see above, or run `gsprov check`)")]
    SiteHasErrors(usize),
    #[error("{0} error(s) found")]
    CheckFailed(usize),
    #[error("{0}")]
    Import(#[from] site::ImportError),
    #[error(transparent)]
    Generate(#[from] crate::generate::GenerateError),
    #[error("{path}: {message}")]
    Undecodable { path: String, message: String },
    #[error("{0} exists; use --force to replace it (the old file is kept as .bak)")]
    Exists(String),
    #[error("cannot write to the terminal: {0}")]
    Output(#[from] std::io::Error),
    #[error(transparent)]
    Config(#[from] event::ConfigError),
    #[error("nothing to serve: TFTP, HTTP and HTTPS are all off")]
    NothingToServe,
    #[error("{protocol} server: {error}")]
    Service { protocol: Protocol, error: ServiceError },
    #[error("{url}: {error}")]
    Fetch { url: String, error: FetchError },
    #[error(transparent)]
    Interface(#[from] InterfaceError),
    #[error("{0}")]
    PnpInterface(String),
    #[error("{0}")]
    Target(String),
    #[error("{failed} of {total} device(s) did not take the {what} (see above)")]
    DevicesFailed { what: &'static str, failed: usize, total: usize },
    #[error("{failed} of {total} device(s) are not confirmed to hold the served configuration (see above)")]
    ChecksFailed { failed: usize, total: usize },
    #[error("{0}; nothing is served")]
    FirmwareExposed(String),
    #[error(transparent)]
    Args(#[from] ArgsError),
    #[error("{0}; nothing was written")]
    Adopt(String),
    #[error("the site is written, but {0} file(s) of the folder do not come back the same (see the round trip above)")]
    AdoptedWithDifferences(usize),
    #[error("{failed} of {total} device(s) could not be read completely (see above)")]
    ReadsFailed { failed: usize, total: usize },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Storage(e) if e.is_malformed() => exit::MALFORMED,
            Error::Storage(_) | Error::Output(_) | Error::Exists(_) => exit::IO,
            Error::SiteHasErrors(_) | Error::CheckFailed(_) | Error::Import(_) | Error::Generate(_) => exit::PROBLEMS,
            Error::Undecodable { .. } => exit::MALFORMED,
            Error::Config(_) | Error::NothingToServe => exit::PROBLEMS,
            Error::Service { .. } => exit::SERVICE,
            Error::Fetch { error: FetchError::BadUrl(_), .. } => exit::USAGE,
            Error::Fetch { error, .. } if error.is_refusal() => exit::PROBLEMS,
            Error::Fetch { .. } => exit::SERVICE,
            Error::Interface(InterfaceError::List(_)) => exit::SERVICE,
            Error::Interface(_) | Error::PnpInterface(_) | Error::FirmwareExposed(_) => exit::PROBLEMS,
            Error::Target(_) | Error::DevicesFailed { .. } | Error::ChecksFailed { .. } => exit::PROBLEMS,
            Error::Args(_) => exit::USAGE,
            Error::Adopt(_) | Error::AdoptedWithDifferences(_) | Error::ReadsFailed { .. } => exit::PROBLEMS,
        }
    }
}

/// Where a command prints: results to `out`, problems and notes to `err`.
pub struct Term<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

pub(super) fn print_issues(issues: &[site::Issue], t: &mut Term) -> Result<usize, Error> {
    for i in issues {
        writeln!(t.err, "{i}")?;
    }
    Ok(issues.iter().filter(|i| i.severity == Severity::Error).count())
}

/// A site that cannot be generated, as every command reports it: its errors
/// printed one per line, then the error to return. (`Err` only when the
/// terminal cannot be written.)
pub(super) fn build_error(e: crate::generate::BuildError, t: &mut Term) -> Result<Error, Error> {
    Ok(match e {
        crate::generate::BuildError::SiteHasErrors(errors) => Error::SiteHasErrors(print_issues(&errors, t)?),
        crate::generate::BuildError::Generate(e) => e.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_site_parses() {
        assert!(site::demo().devices.len() >= 4);
    }
}
