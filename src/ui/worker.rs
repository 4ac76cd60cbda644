//! The file worker: one named thread that does the desktop app's file work
//! (open, save, import, export, native file dialogs) so the UI thread never
//! blocks on a disk or a dialog. Typed jobs in, typed results out; every result
//! wakes the UI.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use crate::generate;
use crate::site::Site;
use crate::storage;

/// What the UI asks for.
#[derive(Debug)]
pub enum Job {
    /// Load a site file.
    Open(PathBuf),
    /// Show an open dialog, then load the chosen site.
    PickAndOpen,
    /// Save to a path (atomic, keeps a .bak), keeping the text of `from`, the
    /// file the site was opened from (`None` for a new site).
    Save { path: PathBuf, site: Box<Site>, from: Option<PathBuf> },
    /// Show a save dialog, then save there.
    PickAndSave { site: Box<Site>, suggested: String, from: Option<PathBuf> },
    /// Show an open dialog for a CSV file and return its text.
    PickCsv,
    /// Read a CSV file's text.
    ReadCsv(PathBuf),
    /// Generate every file and write the tree (dialog when `dir` is None).
    Export { site: Box<Site>, dir: Option<PathBuf> },
    /// Show a folder dialog (firmware folder).
    PickFolder,
    /// Ask for a folder (or use `dir`) and write the handover report there
    /// as `<stem>.csv` and `<stem>.html`.
    SaveReport { csv: String, html: String, stem: String, dir: Option<PathBuf> },
    /// Use this folder as the firmware folder (typed in when no dialog can open).
    UseFolder(PathBuf),
    /// List the site's firmware folder with each image's header.
    ListFirmware { site_path: PathBuf, firmware_dir: String },
    /// Read an old provisioning folder into a new site (File > Adopt).
    Adopt { dir: PathBuf, options: Box<crate::adopt::Options> },
    /// Show a folder dialog for the provisioning folder to adopt.
    PickAdoptFolder,
    /// Use this folder as the one to adopt (typed in when no dialog can open).
    UseAdoptFolder(PathBuf),
}

impl Job {
    /// The same job with a path the technician typed instead of a dialog's
    /// choice (jobs that need no dialog come back as they are).
    pub fn with_path(self, path: PathBuf) -> Job {
        match self {
            Job::PickAndOpen => Job::Open(path),
            Job::PickAndSave { site, from, .. } => Job::Save { path, site, from },
            Job::PickCsv => Job::ReadCsv(path),
            Job::Export { site, .. } => Job::Export { site, dir: Some(path) },
            Job::PickFolder => Job::UseFolder(path),
            Job::PickAdoptFolder => Job::UseAdoptFolder(path),
            Job::SaveReport { csv, html, stem, .. } => Job::SaveReport { csv, html, stem, dir: Some(path) },
            other => other,
        }
    }

    /// Whether this job shows a file dialog.
    pub fn needs_dialog(&self) -> bool {
        matches!(
            self,
            Job::PickAndOpen
                | Job::PickAndSave { .. }
                | Job::PickCsv
                | Job::PickFolder
                | Job::PickAdoptFolder
                | Job::Export { dir: None, .. }
                | Job::SaveReport { dir: None, .. }
        )
    }

    /// What the path typed in for this job names, for the prompt.
    pub fn asks_for(&self) -> &'static str {
        match self {
            Job::PickAndOpen => "the site file to open",
            Job::PickAndSave { .. } => "where to save the site (a .toml file)",
            Job::PickCsv => "the CSV file to import",
            Job::Export { .. } => "the folder to export the files to",
            Job::PickFolder => "the firmware folder",
            Job::PickAdoptFolder => "the provisioning folder to adopt",
            Job::SaveReport { .. } => "the folder for the handover report",
            _ => "a path",
        }
    }
}

/// Whether this system can show a file dialog. rfd asks the XDG desktop
/// portal over the D-Bus session bus and falls back to `zenity`; with
/// neither it returns nothing at once and only writes to stderr, which the
/// technician never sees. Checked before each dialog (a PATH and
/// environment look-up, no I/O beyond `stat`).
pub fn dialog_backend() -> Result<(), String> {
    if !cfg!(target_os = "linux") {
        return Ok(());
    }
    let on_path = |name: &str| {
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
    };
    let session_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| PathBuf::from(d).join("bus").exists());
    if on_path("zenity") || session_bus {
        Ok(())
    } else {
        Err("this system has no file dialog (no desktop portal on a D-Bus session and no zenity; \
             `sudo apt install zenity` adds one)"
            .into())
    }
}

/// A dialog that answers faster than this did not open: nobody cancels a
/// dialog within a quarter second.
const DIALOG_FAILED_WITHIN: std::time::Duration = std::time::Duration::from_millis(250);

/// Runs a dialog: `Ok(None)` when the technician cancelled it, `Err` (why)
/// when no dialog could open, so the app asks for the path itself.
fn dialog<T>(show: impl FnOnce() -> Option<T>) -> Result<Option<T>, String> {
    dialog_backend()?;
    let t0 = std::time::Instant::now();
    match show() {
        None if t0.elapsed() < DIALOG_FAILED_WITHIN => {
            Err("the file dialog could not open (is the desktop portal or zenity working?)".into())
        }
        other => Ok(other),
    }
}

/// A site's serving as its request log remembers it: the status board and
/// the live log, as they were when the app last served it.
#[derive(Debug)]
pub struct Memory {
    pub status: crate::serving::Status,
    pub log: Vec<crate::serving::RequestRecord>,
}

/// What happened, past tense.
#[derive(Debug)]
pub enum Done {
    Opened {
        path: PathBuf,
        site: Box<Site>,
        /// What the site's request log remembers (status board, live log),
        /// or why it could not be read.
        memory: Result<Box<Memory>, String>,
    },
    Saved {
        path: PathBuf,
        /// The site as saved (its firmware folder rewritten for a new folder).
        site: Box<Site>,
        /// (as it was, as it is now) when "Save as" rewrote the firmware folder.
        firmware_dir_moved: Option<(String, String)>,
    },
    CsvRead {
        path: PathBuf,
        text: String,
        /// The encoding used when the file was not UTF-8.
        encoding: Option<&'static str>,
    },
    Exported {
        dir: PathBuf,
        files: usize,
        bytes: usize,
    },
    FolderPicked(PathBuf),
    /// The provisioning folder to adopt was chosen.
    AdoptFolderPicked(PathBuf),
    ReportSaved {
        csv: PathBuf,
        html: PathBuf,
    },
    /// The firmware folder as listed for `site_path` and `firmware_dir`.
    FirmwareListed {
        site_path: PathBuf,
        firmware_dir: String,
        listing: Box<crate::serving::firmware::FirmwareListing>,
        /// The folder judged as `gsprov check` and Start servers judge it.
        problems: Vec<crate::site::Issue>,
    },
    /// A provisioning folder read: the adopted site and its report, or why
    /// nothing was adopted.
    Adopted {
        dir: PathBuf,
        result: Result<Box<crate::adopt::Adopted>, String>,
    },
    /// The user closed a dialog without choosing.
    Cancelled,
    /// No dialog could open for this job: the app asks for the path instead.
    NoDialog {
        job: Box<Job>,
        why: String,
    },
    /// Something failed; the message says what and where.
    Failed {
        what: &'static str,
        message: String,
    },
}

/// Handle to the worker thread. Dropping it stops the thread after the job in hand.
pub struct Worker {
    jobs: Option<Sender<Job>>,
    pub results: Receiver<Done>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker; `wake` is called after each result (the UI passes
    /// `egui::Context::request_repaint`).
    pub fn start(wake: Arc<dyn Fn() + Send + Sync>) -> Worker {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let thread = std::thread::Builder::new()
            .name("gsprov-files".into())
            .spawn(move || {
                for job in job_rx {
                    let done = run(job);
                    if done_tx.send(done).is_err() {
                        break;
                    }
                    wake();
                }
            })
            .expect("spawning the file worker thread");
        Worker { jobs: Some(job_tx), results: done_rx, thread: Some(thread) }
    }

    pub fn send(&self, job: Job) {
        if let Some(tx) = &self.jobs {
            // The thread only ends when this handle drops, so a send cannot fail.
            let _ = tx.send(job);
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn failed(what: &'static str, e: impl std::fmt::Display) -> Done {
    Done::Failed { what, message: e.to_string() }
}

fn run(job: Job) -> Done {
    match job {
        Job::Adopt { dir, options } => {
            let result = storage::read_folder(&dir)
                .map_err(|e| e.to_string())
                .and_then(|entries| crate::adopt::adopt(&entries, &options).map_err(|e| e.to_string()))
                .map(Box::new);
            Done::Adopted { dir, result }
        }
        Job::Open(path) => match storage::load_site(&path) {
            Ok(site) => {
                let memory = crate::session::History::read(&path)
                    .map(|history| Box::new(Memory { status: history.status(&site), log: history.records }))
                    .map_err(|e| e.to_string());
                Done::Opened { path, site: Box::new(site), memory }
            }
            Err(e) => failed("open", e),
        },
        Job::PickAndOpen => {
            match dialog(|| {
                rfd::FileDialog::new().add_filter("gsprov site", &["toml"]).set_title("Open site").pick_file()
            }) {
                Ok(Some(p)) => run(Job::Open(p)),
                Ok(None) => Done::Cancelled,
                Err(why) => Done::NoDialog { job: Box::new(Job::PickAndOpen), why },
            }
        }
        Job::Save { path, site, from } => match storage::save_site_as(&path, &site, from.as_deref()) {
            Ok(saved) => Done::Saved { path, site: Box::new(saved.site), firmware_dir_moved: saved.firmware_dir_moved },
            Err(e) => failed("save", e),
        },
        Job::PickAndSave { site, suggested, from } => {
            let save = || {
                rfd::FileDialog::new()
                    .add_filter("gsprov site", &["toml"])
                    .set_file_name(&suggested)
                    .set_title("Save site as")
                    .save_file()
            };
            match dialog(save) {
                Ok(Some(path)) => run(Job::Save { path, site, from }),
                Ok(None) => Done::Cancelled,
                Err(why) => Done::NoDialog { job: Box::new(Job::PickAndSave { site, suggested, from }), why },
            }
        }
        Job::PickCsv => {
            match dialog(|| {
                rfd::FileDialog::new().add_filter("CSV", &["csv", "txt"]).set_title("Import CSV").pick_file()
            }) {
                Ok(Some(p)) => run(Job::ReadCsv(p)),
                Ok(None) => Done::Cancelled,
                Err(why) => Done::NoDialog { job: Box::new(Job::PickCsv), why },
            }
        }
        Job::ReadCsv(path) => match storage::read_bytes(&path) {
            Ok(bytes) => {
                let (text, encoding) = crate::site::decode_csv(&bytes);
                Done::CsvRead { path, text, encoding }
            }
            Err(e) => failed("import", e),
        },
        Job::Export { site, dir } => {
            let dir = match dir {
                Some(d) => d,
                None => match dialog(|| rfd::FileDialog::new().set_title("Export files to folder").pick_folder()) {
                    Ok(Some(d)) => d,
                    Ok(None) => return Done::Cancelled,
                    Err(why) => return Done::NoDialog { job: Box::new(Job::Export { site, dir: None }), why },
                },
            };
            // The same check-then-generate as `gsprov generate`: a site with
            // errors is refused here too, and nothing is written.
            let output = match generate::checked(&site, &mut generate::os_salts()) {
                Ok(o) => o,
                Err(e) => return failed("export", super::control::build_error(&e)),
            };
            let extras = generate::export_extras(&site, &output);
            match storage::write_tree(&dir, &output, &extras) {
                Ok(()) => Done::Exported { dir, files: output.files.len(), bytes: output.total_bytes() },
                Err(e) => failed("export", e),
            }
        }
        Job::ListFirmware { site_path, firmware_dir } => {
            let listing = Box::new(crate::session::listing(Some(&site_path), &firmware_dir));
            let problems = crate::session::firmware_folder(Some(&site_path), &firmware_dir);
            Done::FirmwareListed { site_path, firmware_dir, listing, problems }
        }
        Job::PickFolder => match dialog(|| rfd::FileDialog::new().set_title("Firmware folder").pick_folder()) {
            Ok(Some(p)) => Done::FolderPicked(p),
            Ok(None) => Done::Cancelled,
            Err(why) => Done::NoDialog { job: Box::new(Job::PickFolder), why },
        },
        Job::PickAdoptFolder => {
            match dialog(|| rfd::FileDialog::new().set_title("Provisioning folder to adopt").pick_folder()) {
                Ok(Some(p)) => Done::AdoptFolderPicked(p),
                Ok(None) => Done::Cancelled,
                Err(why) => Done::NoDialog { job: Box::new(Job::PickAdoptFolder), why },
            }
        }
        Job::UseAdoptFolder(p) if p.is_dir() => Done::AdoptFolderPicked(p),
        Job::UseAdoptFolder(p) => failed("adopt the folder", format!("{} is not a folder", p.display())),
        Job::UseFolder(p) if p.is_dir() => Done::FolderPicked(p),
        Job::UseFolder(p) => failed("use the firmware folder", format!("{} is not a folder", p.display())),
        Job::SaveReport { csv, html, stem, dir } => {
            let dir = match dir {
                Some(d) => d,
                None => match dialog(|| {
                    rfd::FileDialog::new().set_title("Save handover report to folder").pick_folder()
                }) {
                    Ok(Some(d)) => d,
                    Ok(None) => return Done::Cancelled,
                    Err(why) => {
                        return Done::NoDialog { job: Box::new(Job::SaveReport { csv, html, stem, dir: None }), why };
                    }
                },
            };
            let (c, h) = (dir.join(format!("{stem}.csv")), dir.join(format!("{stem}.html")));
            match storage::write_atomic(&c, csv.as_bytes(), false)
                .and_then(|()| storage::write_atomic(&h, html.as_bytes(), false))
            {
                Ok(()) => Done::ReportSaved { csv: c, html: h },
                Err(e) => failed("save the report", e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_open_round_trips_and_the_thread_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.gsprov.toml");
        let woke = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let w = woke.clone();
        let worker = Worker::start(Arc::new(move || {
            w.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
        let site = Site { name: "worker test".into(), ..Site::default() };
        worker.send(Job::Save { path: path.clone(), site: Box::new(site), from: None });
        assert!(matches!(worker.results.recv().unwrap(), Done::Saved { .. }));
        worker.send(Job::Open(path));
        match worker.results.recv().unwrap() {
            Done::Opened { site, .. } => assert_eq!(site.name, "worker test"),
            other => panic!("{other:?}"),
        }
        worker.send(Job::Open(dir.path().join("missing.toml")));
        assert!(matches!(worker.results.recv().unwrap(), Done::Failed { what: "open", .. }));
        drop(worker);
        assert_eq!(woke.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[test]
    fn export_refuses_a_site_with_errors_as_gsprov_generate_does() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("tftp");
        let mut site = crate::site::demo();
        site.defaults.set("P212", "banana");
        let errors = match generate::checked(&site, &mut generate::os_salts()) {
            Err(generate::BuildError::SiteHasErrors(e)) => e,
            other => panic!("the check must refuse P212 = banana, got {other:?}"),
        };
        match run(Job::Export { site: Box::new(site), dir: Some(out.clone()) }) {
            Done::Failed { what: "export", message } => {
                assert!(message.contains(&format!("{} error(s)", errors.len())), "{message}");
                assert!(message.contains("P212"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!out.exists(), "nothing may be written for a site with errors");
        // And the good site exports.
        assert!(matches!(
            run(Job::Export { site: Box::new(crate::site::demo()), dir: Some(out.clone()) }),
            Done::Exported { .. }
        ));
        // Every file `generate` makes is in the tree (the demo writes cfg.xml too).
        let made = generate::checked(&crate::site::demo(), &mut generate::os_salts()).unwrap();
        assert!(made.files.iter().any(|f| f.name == "cfg.xml"));
        for f in &made.files {
            assert!(out.join(&f.name).is_file(), "{} not exported", f.name);
        }
    }
}
