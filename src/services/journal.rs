//! The request-log writer: one named thread that appends each record's JSON
//! line to the site's request log, letting bursts gather into one write.
//! Garbage records ([`crate::serving::Outcome::is_garbage`]) go to a log of
//! their own beside it ([`storage::garbage_log_path`]), rotated at its own
//! size: a flood can never rotate the devices' history away.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::event::ServiceError;
use crate::storage;

/// How long the request log writer lets lines gather before writing them.
const JOURNAL_GATHER: Duration = Duration::from_millis(5);

pub(super) struct Journal {
    pub(super) thread: JoinHandle<()>,
    pub(super) finished: mpsc::Receiver<()>,
}

pub(super) fn start_journal(path: &std::path::Path) -> Result<(mpsc::Sender<(bool, String)>, Journal), ServiceError> {
    let log_err =
        |e: storage::StorageError| ServiceError::RequestLog { path: path.display().to_string(), reason: e.to_string() };
    let mut log = storage::AppendLog::open(path).map_err(log_err)?;
    let garbage_path = storage::garbage_log_path(path);
    let mut garbage =
        storage::AppendLog::open_capped(&garbage_path, storage::MAX_GARBAGE_LOG_BYTES).map_err(log_err)?;
    let (tx, rx) = mpsc::channel::<(bool, String)>();
    let (fin_tx, fin_rx) = mpsc::channel();
    let shown = path.display().to_string();
    let thread = std::thread::Builder::new()
        .name("gsprov-journal".into())
        .spawn(move || {
            let mut failed = false;
            let mut write = |log: &mut storage::AppendLog, line: &str| match log.append(line) {
                Ok(true) => tracing::warn!(
                    "request log {shown} reached {} MB: the older half is now {} (the one before it was dropped)",
                    storage::MAX_LOG_BYTES / (1024 * 1024),
                    storage::AppendLog::rotated_path(std::path::Path::new(&shown)).display()
                ),
                Ok(false) => {}
                Err(e) if !failed => {
                    failed = true;
                    tracing::error!("request log {shown}: {e}");
                }
                Err(_) => {}
            };
            let mut put =
                |log: &mut storage::AppendLog, garbage: &mut storage::AppendLog, (junk, line): (bool, String)| {
                    if junk {
                        // Its own rotation says nothing: the garbage log is meant to be cut.
                        let _ = garbage.append(&line);
                    } else {
                        write(log, &line);
                    }
                };
            while let Ok(item) = rx.recv() {
                put(&mut log, &mut garbage, item);
                // Let a burst gather, then write it at once. While this thread
                // sleeps instead of waiting in `recv`, a sender does not have
                // to wake it: under load that wake was a syscall per request.
                #[expect(
                    clippy::disallowed_methods,
                    reason = "not synchronisation: a pause that lets a burst of lines gather (see above)"
                )]
                std::thread::sleep(JOURNAL_GATHER);
                while let Ok(item) = rx.try_recv() {
                    put(&mut log, &mut garbage, item);
                }
                let _ = log.flush();
                let _ = garbage.flush();
            }
            let _ = log.flush();
            let _ = garbage.flush();
            let _ = fin_tx.send(());
        })
        .map_err(|e| ServiceError::Crashed { reason: format!("cannot start the request log writer: {e}") })?;
    Ok((tx, Journal { thread, finished: fin_rx }))
}
