//! The optional syslog receiver (`serve --syslog`): one UDP socket (514 on a
//! LAN, P207 on the devices points there), each datagram parsed by the pure
//! [`crate::formats::syslog`] (a line that does not parse is kept raw) and
//! turned into one [`RequestRecord`] with protocol `syslog`, attributed to a
//! device by its source address (the MAC that address last requested files
//! as). Records go to the live log and the request JSONL like requests, but do
//! not count as requests in the status fold.
//!
//! Bounded: one receive buffer; at most [`LINES_PER_SECOND`] records in a
//! second (a window opened by the first datagram after a quiet one), the rest
//! counted and reported in one record when that second ends.
//! No datagram can stop the receiver. Owns the socket; must not touch files
//! (the journal writer does) or the router.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use super::{ServiceError, Shared, bind_error};
use crate::formats::syslog::{self, Format};
use crate::serving::{Outcome, Protocol};

/// At most this many lines a second become records (a flood is summarised).
pub const LINES_PER_SECOND: u32 = 200;

pub(super) fn bind(rt: &tokio::runtime::Runtime, addr: SocketAddr) -> Result<UdpSocket, ServiceError> {
    let s = std::net::UdpSocket::bind(addr).map_err(|e| bind_error(addr, &e))?;
    s.set_nonblocking(true).map_err(|e| bind_error(addr, &e))?;
    let _guard = rt.enter();
    UdpSocket::from_std(s).map_err(|e| bind_error(addr, &e))
}

/// Receives until `cancel`; holds `done` so the supervisor knows when the socket is closed.
pub(super) async fn serve(
    done: tokio::sync::mpsc::Sender<()>,
    socket: UdpSocket,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) {
    let _done = done;
    let mut buf = vec![0u8; 65536];
    // The current one-second window: starts with the first datagram after the last one ended.
    let mut window: Option<(Instant, SocketAddr)> = None;
    let (mut lines, mut suppressed) = (0u32, 0u64);
    loop {
        let window_end = window.map(|(t, _)| t + Duration::from_secs(1));
        let tick = async {
            match window_end {
                Some(end) if suppressed > 0 => tokio::time::sleep_until(end.into()).await,
                _ => std::future::pending().await,
            }
        };
        let (len, source) = tokio::select! {
            _ = cancel.cancelled() => break,
            () = tick => {
                if let Some((_, from)) = window.take() {
                    summary(&shared, from, suppressed);
                }
                (lines, suppressed) = (0, 0);
                continue;
            }
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!("syslog: receive error: {e}");
                    continue;
                }
            },
        };
        if window.is_none_or(|(t, _)| t.elapsed() >= Duration::from_secs(1)) {
            if let (Some((_, from)), true) = (window, suppressed > 0) {
                summary(&shared, from, suppressed);
            }
            window = Some((Instant::now(), source));
            (lines, suppressed) = (0, 0);
        }
        if lines >= LINES_PER_SECOND {
            suppressed += 1;
            continue;
        }
        lines += 1;
        record(&shared, source, &buf[..len]);
    }
}

fn record(shared: &Shared, source: SocketAddr, bytes: &[u8]) {
    let line = syslog::parse(bytes);
    let method = line.severity_name();
    let mut p = shared.begin(Protocol::Syslog, source, method, line.app.as_deref().unwrap_or(""));
    p.record.mac = shared.mac_for_ip(source.ip());
    p.record.bytes = bytes.len() as u64;
    p.record.outcome = Outcome::Served;
    p.record.explanation = match line.format {
        Format::Raw => format!("unparsed: {}", line.message),
        _ => line.to_string(),
    };
    shared.note(p);
}

fn summary(shared: &Shared, source: SocketAddr, suppressed: u64) {
    let mut p = shared.begin(Protocol::Syslog, source, "-", "");
    p.record.mac = shared.mac_for_ip(source.ip());
    p.record.explanation = format!(
        "{suppressed} more syslog line(s) in the last second were not shown (more than {LINES_PER_SECOND} a second)"
    );
    shared.note(p);
}
