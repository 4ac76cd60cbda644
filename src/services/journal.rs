//! The request-log writer: one named thread that appends each record's JSON
//! line to the site's request log, letting bursts gather into one write.

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

pub(super) fn start_journal(path: &std::path::Path) -> Result<(mpsc::Sender<String>, Journal), ServiceError> {
    let log_err =
        |e: storage::StorageError| ServiceError::RequestLog { path: path.display().to_string(), reason: e.to_string() };
    let mut log = storage::AppendLog::open(path).map_err(log_err)?;
    let (tx, rx) = mpsc::channel::<String>();
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
            while let Ok(line) = rx.recv() {
                write(&mut log, &line);
                // Let a burst gather, then write it at once. While this thread
                // sleeps instead of waiting in `recv`, a sender does not have
                // to wake it: under load that wake was a syscall per request.
                #[expect(
                    clippy::disallowed_methods,
                    reason = "not synchronisation: a pause that lets a burst of lines gather (see above)"
                )]
                std::thread::sleep(JOURNAL_GATHER);
                while let Ok(line) = rx.try_recv() {
                    write(&mut log, &line);
                }
                let _ = log.flush();
            }
            let _ = log.flush();
            let _ = fin_tx.send(());
        })
        .map_err(|e| ServiceError::Crashed { reason: format!("cannot start the request log writer: {e}") })?;
    Ok((tx, Journal { thread, finished: fin_rx }))
}
