//! One truth for a device's bytes: the firmware folder as the servers will
//! see it, each device's next firmware step (its P192) from the firmware
//! gsprov knows it runs, and the files generated from that. `generate`,
//! `serve`, Start servers and the export all call [`prepare`]; the Files
//! view applies the same pure step ([`crate::serving::firmware::stepped`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::event::SitePaths;
use crate::generate::{self, BuildError, Output};
use crate::ids::Mac;
use crate::serving::firmware;
use crate::serving::firmware::FirmwareListing;
use crate::site::{Issue, Severity, Site};
use crate::storage::{self, StorageError};

/// The firmware each device is known to run (its User-Agent's version), from
/// the request log and the running server's status fold.
pub type Known = BTreeMap<Mac, String>;

/// Where an unsaved site's relative paths lead: the working folder.
const UNSAVED: &str = "unsaved.gsprov.toml";

/// The files serving keeps for a site: beside the site file, or for an
/// unsaved site the firmware folder as typed (relative to the working
/// folder), no request log and the certificate in memory.
pub fn site_paths(site_path: Option<&Path>, firmware_dir: &str) -> SitePaths {
    match site_path {
        Some(p) => storage::site_paths(p, firmware_dir),
        None => SitePaths {
            firmware_dir: (!firmware_dir.trim().is_empty()).then(|| PathBuf::from(firmware_dir.trim())),
            request_log: None,
            tls_identity: None,
        },
    }
}

/// The firmware folder listed as the servers see it (empty, with the reason,
/// when it must not be served or cannot be read).
pub fn listing(site_path: Option<&Path>, firmware_dir: &str) -> FirmwareListing {
    storage::site_firmware(site_path.unwrap_or(Path::new(UNSAVED)), firmware_dir)
}

/// The firmware folder judged the same way by `gsprov check`, `gsprov serve`
/// and Start servers: an error when serving it would offer the site's
/// secrets to the network (its words are what `serve` refuses with), a
/// warning when it is missing or cannot be read (devices asking for firmware
/// then get a 404).
pub fn firmware_folder(site_path: Option<&Path>, firmware_dir: &str) -> Vec<Issue> {
    let at = "serving.firmware_dir".to_string();
    let paths = site_paths(site_path, firmware_dir);
    if let Some(problem) = storage::firmware_dir_problem(site_path.unwrap_or(Path::new(UNSAVED)), &paths) {
        return vec![Issue { severity: Severity::Error, location: at, message: problem }];
    }
    let Some(dir) = paths.firmware_dir else { return Vec::new() };
    let warning = |message| vec![Issue { severity: Severity::Warning, location: at.clone(), message }];
    match storage::list_firmware(&dir, &[]) {
        Ok(_) => Vec::new(),
        Err(StorageError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => warning(format!(
            "the firmware folder {} does not exist: devices that ask for firmware get a 404 and keep theirs; \
             create it and put the images there, or clear serving.firmware_dir",
            dir.display()
        )),
        Err(e) => warning(format!("the firmware folder cannot be read: {e}; devices that ask for firmware get a 404")),
    }
}

/// Every problem of a site as `gsprov check` lists them and the desktop app's
/// status bar counts them: the firmware folder first ([`firmware_folder`]),
/// then the site's own ([`Site::check`]), then whether P237 names this
/// computer (`interfaces`: this computer's, or why they are not known; an
/// unknown list is itself a warning, so the count never silently drops one).
pub fn site_issues(
    site_path: Option<&Path>,
    site: &Site,
    interfaces: Result<&[crate::serving::discovery::NetInterface], String>,
) -> Vec<Issue> {
    let mut issues = firmware_folder(site_path, &site.serving.firmware_dir);
    issues.extend(site.check());
    if let Some(p237) = site.defaults.get("P237") {
        let location = "defaults.P237".to_string();
        match interfaces {
            Ok(all) => {
                if let Some(message) = crate::serving::address::names_this_machine(p237, all) {
                    issues.push(Issue { severity: Severity::Warning, location, message });
                }
            }
            Err(e) => issues.push(Issue {
                severity: Severity::Warning,
                location,
                message: format!("not checked against this computer's addresses: {e}"),
            }),
        }
    }
    issues
}

/// A site made ready for its devices.
pub struct Prepared {
    /// The site as generated: each device whose next firmware step is in a
    /// `<model>/<version>/` folder has P192 pointing there.
    pub site: Site,
    pub output: Output,
    /// The P192 each stepped device got.
    pub steps: BTreeMap<Mac, String>,
    /// Devices whose firmware gsprov does not know: their files carry the
    /// first step of their upgrade path, or the site's own P192 when the
    /// folder has no step for them.
    pub unknown_firmware: Vec<Mac>,
    /// Warnings owed wherever files go out: values that could not be placed,
    /// secrets going out unprotected, DHCP overriding the site, the firmware
    /// folder missing.
    pub notes: Vec<Issue>,
}

/// Checks and generates `site` with each device's firmware step, from the
/// firmware folder `listing` and what each device is `known` to run.
pub fn prepare(site: &Site, listing: &FirmwareListing, known: &Known) -> Result<Prepared, BuildError> {
    let (stepped, steps) = firmware::stepped(site, listing, &|m| known.get(&m).cloned());
    let output = generate::checked(&stepped, &mut generate::os_salts())?;
    let mut notes = output.warnings.clone();
    notes.extend(site.exposure());
    notes.extend(output.dhcp_overrides.iter().cloned());
    let unknown_firmware = site.devices.iter().map(|d| d.mac).filter(|m| !known.contains_key(m)).collect();
    Ok(Prepared { site: stepped, output, steps, unknown_firmware, notes })
}
