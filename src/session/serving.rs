//! The serving session: one [`Supervisor`] and the site it serves. It builds
//! the serving config once (the site plus the front end's runtime choices),
//! refuses what must not be served with the same words in both front ends,
//! and keeps the served files current: after an edit, when a device reports
//! another firmware version (its next step changes), and when the firmware
//! folder is read again.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::mpsc::Receiver;

use crate::event::{ConfigError, Event, PnpConfig, ServeConfig, ServiceError};
use crate::generate::BuildError;
use crate::ids::Mac;
use crate::services::{Hooks, Supervisor};
use crate::serving::{Policy, Protocol, Served};
use crate::site::{Issue, Severity, Site};

use super::prepare::{self, Known, Prepared};

/// What a front end decides at run time, over the site's `[serving]`.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// Bind here instead of the site's `serving.bind`.
    pub bind: Option<IpAddr>,
    /// Per file server: `None` keeps the site's setting, `Some(None)` turns
    /// it off, `Some(Some(port))` serves on that port.
    pub tftp: Option<Option<u16>>,
    pub http: Option<Option<u16>>,
    pub https: Option<Option<u16>>,
    /// The policy (serving window, ...) instead of the site's.
    pub policy: Option<Policy>,
    /// Answer SIP plug-and-play SUBSCRIBEs.
    pub pnp: Option<PnpConfig>,
    /// Receive syslog on this UDP port.
    pub syslog: Option<u16>,
    /// Run the bench DHCP server (options 42 and 2 are filled from the site here).
    pub dhcp: Option<crate::event::BenchDhcpConfig>,
}

/// Why nothing was started. The words are the same in the terminal and the app.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("nothing to serve: TFTP, HTTP and HTTPS are all off")]
    NothingToServe,
    #[error("{0}; nothing is served")]
    FirmwareExposed(String),
}

/// What was started (the servers report as [`Event`]s).
#[derive(Debug, Clone)]
pub struct Started {
    pub files: usize,
    pub bytes: usize,
    pub served: Served,
    pub bind: IpAddr,
    pub tftp: bool,
    pub firmware_dir: Option<PathBuf>,
    pub request_log: Option<PathBuf>,
    /// Devices sent to a firmware step, with the P192 each got.
    pub steps: BTreeMap<Mac, String>,
    /// Warnings owed where serving starts (see [`Prepared::notes`]), the
    /// firmware folder's among them.
    pub notes: Vec<Issue>,
}

/// New files handed to the running servers.
#[derive(Debug, Clone)]
pub struct Regenerated {
    pub files: usize,
    pub bytes: usize,
    pub served: Served,
    /// The firmware steps changed (a device reported another version, or the
    /// folder was read again), not only the site.
    pub steps_changed: bool,
}

/// The site being served.
struct Current {
    site: Site,
    path: Option<PathBuf>,
    known: Known,
    steps: BTreeMap<Mac, String>,
}

/// The serving job: one per front end (the terminal's `serve`, the app's
/// control thread).
pub struct Session {
    sup: Supervisor,
    current: Option<Current>,
}

impl Session {
    /// The supervisor's runtime, no server running yet, and its event channel.
    pub fn new(hooks: Hooks) -> Result<(Session, Receiver<Event>), ServiceError> {
        let (sup, events) = Supervisor::new(hooks)?;
        Ok((Session { sup, current: None }, events))
    }

    /// For what the session does not own: discovery, the policy, self-test marks.
    pub fn supervisor(&mut self) -> &mut Supervisor {
        &mut self.sup
    }

    pub fn is_serving(&self) -> bool {
        self.current.is_some()
    }

    /// Checks, prepares and starts serving `site` (saved at `path`, or
    /// unsaved), its devices known to run `known`. Refuses, with nothing
    /// started, a site with errors, an exposed firmware folder or no server on.
    pub fn start(
        &mut self,
        site: Site,
        path: Option<PathBuf>,
        known: Known,
        choices: &Choices,
    ) -> Result<Started, StartError> {
        self.stop();
        let listing = prepare::listing(path.as_deref(), &site.serving.firmware_dir);
        let prepared = prepare::prepare(&site, &listing, &known)?;
        let folder = prepare::firmware_folder(path.as_deref(), &site.serving.firmware_dir);
        if let Some(exposed) = folder.iter().find(|i| i.severity == Severity::Error) {
            return Err(StartError::FirmwareExposed(exposed.message.clone()));
        }
        let paths = prepare::site_paths(path.as_deref(), &site.serving.firmware_dir);
        let mut config = ServeConfig::from_site(&prepared.site, &prepared.output, paths)?;
        apply(&mut config, choices);
        if Protocol::ALL.iter().all(|p| config.port(*p).is_none()) {
            return Err(StartError::NothingToServe);
        }
        let dhcp_notes = match &mut config.dhcp {
            Some(d) => d.site_options(&prepared.site),
            None => Vec::new(),
        };
        let Prepared { output, steps, mut notes, .. } = prepared;
        notes.extend(folder);
        if config.http_port.is_some() || config.https_port.is_some() {
            // Said where serving starts, not only in the log.
            let low = crate::services::low_connections_note(self.sup.http_connections());
            notes.extend(low.map(|message| Issue { severity: Severity::Warning, location: "serving".into(), message }));
        }
        notes.extend(dhcp_notes.into_iter().map(|message| crate::site::Issue {
            severity: Severity::Warning,
            location: "bench DHCP".into(),
            message,
        }));
        let started = Started {
            files: output.files.len(),
            bytes: output.total_bytes(),
            served: config.served.clone(),
            bind: config.bind,
            tftp: config.tftp_port.is_some(),
            firmware_dir: config.firmware_dir.clone(),
            request_log: config.request_log.clone(),
            steps: steps.clone(),
            notes,
        };
        self.sup.start(config);
        self.current = Some(Current { site, path, known, steps });
        Ok(started)
    }

    /// Serves the edited `site` (transfers in flight keep their bytes).
    /// `None` when not serving; an error leaves the files from before the edit.
    pub fn update(&mut self, site: Site) -> Option<Result<Regenerated, BuildError>> {
        let current = self.current.as_mut()?;
        current.site = site;
        Some(regenerate(&mut self.sup, current, true))
    }

    /// Devices reported these firmware versions: files are regenerated only
    /// when a device's next step changed. `None`: nothing to do.
    pub fn learn(&mut self, known: Known) -> Option<Result<Regenerated, BuildError>> {
        let current = self.current.as_mut()?;
        let before = current.known.clone();
        current.known.extend(known);
        if current.known == before {
            return None;
        }
        self.restep()
    }

    /// The firmware folder changed (read again): files are regenerated only
    /// when a device's next step changed.
    pub fn reread_firmware(&mut self) -> Option<Result<Regenerated, BuildError>> {
        self.restep()
    }

    fn restep(&mut self) -> Option<Result<Regenerated, BuildError>> {
        let current = self.current.as_mut()?;
        let listing = prepare::listing(current.path.as_deref(), &current.site.serving.firmware_dir);
        let (_, steps) =
            crate::serving::firmware::stepped(&current.site, &listing, &|m| current.known.get(&m).cloned());
        if steps == current.steps {
            return None;
        }
        Some(regenerate(&mut self.sup, current, false))
    }

    /// Stops the servers (within a second); a no-op when none run.
    pub fn stop(&mut self) {
        self.current = None;
        self.sup.stop();
    }
}

/// Generates `current` again and serves the result. `edit`: the site
/// changed (else only the firmware steps did).
fn regenerate(sup: &mut Supervisor, current: &mut Current, edit: bool) -> Result<Regenerated, BuildError> {
    let listing = prepare::listing(current.path.as_deref(), &current.site.serving.firmware_dir);
    let prepared = prepare::prepare(&current.site, &listing, &current.known)?;
    let steps_changed = !edit || prepared.steps != current.steps;
    current.steps = prepared.steps;
    let served = Served::new(&prepared.site, &prepared.output);
    sup.replace_files(served.clone());
    Ok(Regenerated { files: prepared.output.files.len(), bytes: prepared.output.total_bytes(), served, steps_changed })
}

/// The front end's choices over the site's serving config.
fn apply(config: &mut ServeConfig, c: &Choices) {
    if let Some(b) = c.bind {
        config.bind = b;
    }
    if let Some(p) = c.tftp {
        config.tftp_port = p;
    }
    if let Some(p) = c.http {
        config.http_port = p;
    }
    if let Some(p) = c.https {
        config.https_port = p;
    }
    if let Some(p) = &c.policy {
        config.policy = p.clone();
    }
    config.pnp = c.pnp.clone();
    config.syslog = c.syslog;
    config.dhcp = c.dhcp.clone();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device's files are generated again when its next firmware step
    /// changes (it reported another version; the folder gained an image),
    /// and only then.
    #[test]
    fn reports_and_a_reread_folder_regenerate_only_when_a_step_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("office.gsprov.toml");
        let mut site = crate::site::demo();
        site.serving.bind = "127.0.0.1".into();
        site.serving.http_port = 0;
        site.serving.tftp = false;
        site.serving.https = false;
        crate::storage::save_site(&path, &site).unwrap();
        let images = crate::formats::firmware::demo_images();
        let put = |name: &str| {
            let (_, bytes) = images.iter().find(|(n, _)| *n == name).unwrap();
            let to = dir.path().join("firmware").join(name);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(to, bytes).unwrap();
        };
        put("gxp2170/1.0.11.3/gxp2170fw.bin");
        let mac: Mac = "000b82a1b201".parse().unwrap();
        let (mut session, _events) = Session::new(Hooks::default()).unwrap();
        let started = session.start(site, Some(path), Known::default(), &Choices::default()).unwrap();
        // Not seen yet: the first step of its path.
        assert!(started.steps[&mac].ends_with("/gxp2170/1.0.11.3"), "{:?}", started.steps);
        // The same step for an older version: nothing to regenerate.
        assert!(session.learn([(mac, "1.0.9.69".to_string())].into()).is_none());
        // On 1.0.11.3 it has no step left: its files go back to the site's P192.
        let r = session.learn([(mac, "1.0.11.3".to_string())].into()).unwrap().unwrap();
        assert!(r.steps_changed);
        assert!(session.reread_firmware().is_none(), "the folder did not change");
        put("gxp2170/1.0.11.79/gxp2170fw.bin");
        let r = session.reread_firmware().expect("a new step").unwrap();
        assert!(r.steps_changed);
        assert!(session.reread_firmware().is_none());
        session.stop();
        assert!(!session.is_serving());
    }
}
