//! Process-wide logging, set up once by `main`: lines to stderr for the person at the
//! terminal, and the same events (at least `info`) to a daily log file that a technician
//! can attach to a bug report.
//!
//! The file lives in the platform's data folder (`~/.local/share/gsprov/logs` on Linux,
//! `~/Library/Application Support/gsprov/logs` on macOS, `%LOCALAPPDATA%\gsprov\data\logs`
//! on Windows); `GSPROV_LOG_DIR` moves it, and an empty `GSPROV_LOG_DIR` turns it off (tests,
//! CI, read-only homes). This is the one module besides `storage` that creates a folder:
//! logs are gsprov's own files, not the user's, and a folder that cannot be made only means
//! there is no log file, never a failed command.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

/// Environment variable that moves the log folder; empty turns the log file off.
pub const DIR_ENV: &str = "GSPROV_LOG_DIR";
/// Daily files kept (`gsprov.YYYY-MM-DD.log`); older ones are deleted as new days start.
pub const KEEP_FILES: usize = 14;

/// Where the log files go, given the value of [`DIR_ENV`]: that folder when set, nothing when
/// set empty, else `logs` in the platform's local data folder (None when there is no home).
pub fn dir(env: Option<OsString>) -> Option<PathBuf> {
    match env {
        Some(v) if v.is_empty() => None,
        Some(v) => Some(PathBuf::from(v)),
        None => directories::ProjectDirs::from("", "", "gsprov").map(|d| d.data_local_dir().join("logs")),
    }
}

/// Keeps the file writer's thread alive; dropping it flushes the last lines and joins it.
#[must_use = "dropping the guard stops file logging"]
pub struct Guard {
    _file: Option<WorkerGuard>,
}

/// Installs the global subscriber: stderr at `warn` (`info` with -v, `debug` with -vv), and
/// with `to_file` a rotating file at `info` or more. Never fails: without a usable folder,
/// it logs why (at `info`) and goes on with stderr alone.
pub fn init(verbose: u8, to_file: bool) -> Guard {
    let stderr_level = match verbose {
        0 => LevelFilter::WARN,
        1 => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    let stderr =
        tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_filter(stderr_level);

    let wanted = if to_file { dir(std::env::var_os(DIR_ENV)) } else { None };
    let mut problem = None;
    let (file, guard) = match wanted.map(|d| (open(&d), d)) {
        Some((Ok(appender), _)) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false)
                .with_filter(stderr_level.max(LevelFilter::INFO));
            (Some(layer), Some(guard))
        }
        Some((Err(e), d)) => {
            problem = Some(format!("no log file in {}: {e} (set {DIR_ENV} to another folder)", d.display()));
            (None, None)
        }
        None => (None, None),
    };
    // A subscriber already set (a test harness calling twice) keeps the first one.
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
    if let Some(p) = problem {
        tracing::info!("{p}");
    }
    Guard { _file: guard }
}

fn open(dir: &Path) -> Result<RollingFileAppender, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("gsprov")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_env_var_moves_or_turns_off_the_folder() {
        assert_eq!(dir(Some("/tmp/x".into())), Some(PathBuf::from("/tmp/x")));
        assert_eq!(dir(Some(OsString::new())), None);
    }

    #[test]
    fn the_default_folder_is_logs_in_the_data_folder() {
        let d = dir(None).expect("a home folder (HOME, or the user's passwd entry) gives a data folder");
        assert!(d.ends_with("logs"), "{}", d.display());
        assert!(d.to_string_lossy().contains("gsprov"), "{}", d.display());
        // On Linux, exactly the XDG data folder: $XDG_DATA_HOME (when absolute) or ~/.local/share.
        #[cfg(target_os = "linux")]
        {
            let data = std::env::var_os("XDG_DATA_HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".local/share"));
            assert_eq!(d, data.join("gsprov/logs"));
        }
    }

    #[test]
    fn an_unusable_folder_is_an_error_not_a_panic() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        assert!(open(&file.join("logs")).is_err());
        assert!(open(&tmp.path().join("logs")).is_ok());
    }
}
