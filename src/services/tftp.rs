//! The TFTP server (RFC 1350; options RFC 2347/2348/2349: blksize, tsize,
//! timeout; windowsize RFC 7440), read-only, on tokio `UdpSocket`s.
//!
//! Why not the `async-tftp` crate (0.4): it runs its own executor and reactor
//! (async-executor/async-io) beside our tokio runtime; its `Handler` only opens
//! readers, so a server cannot learn whether a transfer finished, timed out or
//! was aborted by the client (the request log must say so); it drops malformed
//! packets and duplicate requests silently (we log them); and its transfers
//! cannot be tied to our cancellation token. The wire format is the pure
//! `formats::tftp` codec; this module only moves packets and keeps time.
//!
//! Owns: the server socket, one socket per transfer (its own port, the TFTP
//! "TID"), retransmission. Must not touch: files (bytes come from
//! [`Body`](super::Body)), routing decisions (the router's).

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use super::router::Verdict;
use super::{Body, Meter, ServiceError, Shared, bind_error, lock};
use crate::event::{Event, Interruption, Outcome, Protocol, Refusal};
use crate::formats::tftp::{self, ErrorCode, Mode, Packet};
use crate::formats::useragent::UserAgent;

/// Window size cap: bounds the memory one transfer holds for retransmission.
const MAX_WINDOW: u16 = 64;
/// Retransmission timeout when the client does not ask for one.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// Sends of the same window before the client is declared gone.
const MAX_TRIES: u32 = 6;

/// Binds the server socket.
pub(super) fn bind(rt: &tokio::runtime::Runtime, addr: SocketAddr) -> Result<UdpSocket, ServiceError> {
    let std_sock = std::net::UdpSocket::bind(addr).map_err(|e| bind_error(addr, &e))?;
    std_sock.set_nonblocking(true).map_err(|e| bind_error(addr, &e))?;
    let _guard = rt.enter();
    UdpSocket::from_std(std_sock).map_err(|e| bind_error(addr, &e))
}

/// Serves until `cancel`. Holds `done` (and gives each transfer a clone), so
/// the supervisor knows when every transfer has ended. `done` is the first
/// parameter so that it is dropped last, after the socket is closed: when the
/// supervisor sees it go, the port is free.
pub(super) async fn serve(
    done: tokio::sync::mpsc::Sender<()>,
    socket: UdpSocket,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) {
    let socket = Arc::new(socket);
    let active: Arc<Mutex<HashSet<SocketAddr>>> = Arc::default();
    let mut buf = vec![0u8; 65536];
    loop {
        let (len, peer) = tokio::select! {
            _ = cancel.cancelled() => break,
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    // ICMP errors from earlier replies surface here; the socket is fine.
                    tracing::debug!("tftp: receive error: {e}");
                    continue;
                }
            },
        };
        let bytes = &buf[..len];
        match Packet::decode(bytes) {
            Ok(Packet::Rrq(req)) => {
                if !lock(&active).insert(peer) {
                    // A retransmitted request for a transfer already under way.
                    continue;
                }
                let (shared, socket, active, cancel, done) =
                    (shared.clone(), socket.clone(), active.clone(), cancel.clone(), done.clone());
                tokio::spawn(async move {
                    // Declared first, dropped last: the sockets close before the supervisor hears.
                    let _done = done;
                    let (shared, socket, active, cancel) = (shared, socket, active, cancel);
                    transfer(req, peer, &shared, &socket, &cancel).await;
                    lock(&active).remove(&peer);
                });
            }
            Ok(Packet::Wrq(req)) => {
                let mut p = shared.begin(Protocol::Tftp, peer, "WRQ", &req.filename);
                send_error(&socket, peer, ErrorCode::AccessViolation, "gsprov serves files read-only").await;
                p.record.outcome = Outcome::Refused { reason: Refusal::ReadOnly, expected: false };
                p.record.status = ErrorCode::AccessViolation.code();
                p.record.explanation = "refused: a write request (WRQ); gsprov serves files read-only".into();
                shared.complete(p);
            }
            // DATA/ACK/ERROR/OACK belong to transfers, which have their own
            // ports; late duplicates land here and are dropped.
            Ok(_) => {}
            Err(e) => {
                let method = match bytes.get(..2) {
                    Some([0, 1]) => "RRQ",
                    Some([0, 2]) => "WRQ",
                    _ => "-",
                };
                let mut p = shared.begin(Protocol::Tftp, peer, method, "");
                send_error(&socket, peer, ErrorCode::IllegalOperation, "malformed request").await;
                p.record.outcome = Outcome::Refused { reason: Refusal::Malformed, expected: false };
                p.record.status = ErrorCode::IllegalOperation.code();
                p.record.explanation =
                    format!("malformed TFTP packet ({len} bytes): {e}; not something a device sends");
                shared.complete(p);
            }
        }
    }
}

async fn send_error(socket: &UdpSocket, peer: SocketAddr, code: ErrorCode, message: &str) {
    let pkt = Packet::Error { code, message: message.into() }.encode();
    let _ = socket.send_to(&pkt, peer).await;
}

/// One read request, from routing to the last ACK.
async fn transfer(req: tftp::Request, peer: SocketAddr, shared: &Shared, main: &UdpSocket, cancel: &CancellationToken) {
    let mut p = shared.begin(Protocol::Tftp, peer, "RRQ", &req.filename);
    let ua = UserAgent::default();
    let decision = shared.decide(Protocol::Tftp, &req.filename, peer, &ua, p.record.time);
    p.set_decision(&decision);
    let source = match &decision.verdict {
        Verdict::Refuse { reason, expected } => {
            let (code, msg) = match reason {
                Refusal::NotFound => (ErrorCode::FileNotFound, "File not found"),
                Refusal::Malformed | Refusal::BadRange => (ErrorCode::IllegalOperation, "Illegal operation"),
                _ => (ErrorCode::AccessViolation, "Access violation"),
            };
            send_error(main, peer, code, msg).await;
            p.record.outcome = Outcome::Refused { reason: *reason, expected: *expected };
            p.record.status = code.code();
            shared.complete(p);
            return;
        }
        Verdict::Serve(src) => src.clone(),
    };
    if req.mode == Mode::Mail {
        send_error(main, peer, ErrorCode::IllegalOperation, "mail mode is not supported").await;
        p.record.outcome = Outcome::Refused { reason: Refusal::Malformed, expected: false };
        p.record.status = ErrorCode::IllegalOperation.code();
        p.record.explanation = "refused: TFTP mail mode; devices use octet".into();
        shared.complete(p);
        return;
    }
    let size = source.size();
    let mut body = match Body::open(shared, &source) {
        Ok(b) => b,
        Err(e) => {
            send_error(main, peer, ErrorCode::NotDefined, "cannot read file").await;
            p.record.outcome = Outcome::Interrupted { reason: Interruption::ReadError };
            p.record.status = ErrorCode::NotDefined.code();
            p.record.explanation = format!("{}; {e}", p.record.explanation);
            shared.complete(p);
            return;
        }
    };
    // Each transfer answers from its own port (RFC 1350 §4).
    let sock = match UdpSocket::bind(SocketAddr::new(shared.bind, 0)).await {
        Ok(s) if s.connect(peer).await.is_ok() => s,
        _ => {
            send_error(main, peer, ErrorCode::NotDefined, "server busy").await;
            p.record.outcome = Outcome::Interrupted { reason: Interruption::ReadError };
            p.record.explanation = "no UDP port free for the transfer".into();
            shared.complete(p);
            return;
        }
    };
    // netascii is served byte for byte: translating line ends would corrupt
    // binary and encrypted files, and devices ask in octet mode.
    let (neg, oack) = tftp::negotiate(&req, Some(size), tftp::MAX_BLKSIZE, MAX_WINDOW);
    shared.emit(Event::Received(p.transfer(source.name(), source.kind(), Some(size))));
    let mut meter = Meter::new(shared, p.id(), Some(source.kind()), Some(size));
    let mut sent = 0u64;
    let result = tokio::select! {
        _ = cancel.cancelled() => Err((Interruption::Stopped, "the servers were stopped during the transfer".to_string())),
        r = send_file(&sock, &mut body, neg, oack, size, &mut sent, &mut meter) => r,
    };
    p.record.bytes = sent;
    match result {
        Ok(()) => p.record.outcome = Outcome::Served,
        Err((reason, why)) => {
            if reason == Interruption::Stopped {
                let pkt = Packet::Error { code: ErrorCode::NotDefined, message: "server stopped".into() }.encode();
                let _ = sock.try_send(&pkt);
            }
            p.record.outcome = Outcome::Interrupted { reason };
            p.record.explanation = format!("{}; {why}", p.record.explanation);
        }
    }
    shared.complete(p);
}

enum Reply {
    /// The client has everything up to this absolute block.
    Acked(u64),
    Resend,
    Timeout,
}

type Failure = (Interruption, String);

/// Sends the OACK (if any) and every block, windowed, with retransmission.
async fn send_file(
    sock: &UdpSocket,
    body: &mut Body,
    neg: tftp::Negotiated,
    oack: Vec<(String, String)>,
    size: u64,
    sent: &mut u64,
    meter: &mut Meter<'_>,
) -> Result<(), Failure> {
    let blk = usize::from(neg.blksize);
    let timeout = neg.timeout.map_or(DEFAULT_TIMEOUT, |t| Duration::from_secs(u64::from(t)));
    let last_block = size / blk as u64 + 1;
    // Absolute block numbers; the wire carries them modulo 65536 (rollover to 0, as tftpd-hpa).
    let mut window: VecDeque<Vec<u8>> = VecDeque::new();
    let mut base: u64 = 1;
    if !oack.is_empty() {
        window.push_back(Packet::OAck { options: oack }.encode());
        base = 0;
    }
    let mut next = 1u64;
    let mut tries = 0u32;
    let mut rbuf = vec![0u8; 2048];
    loop {
        // Data waits until the OACK is acknowledged (block 0).
        let limit = if base == 0 { 1 } else { usize::from(neg.windowsize) };
        while window.len() < limit && next <= last_block {
            let mut pkt = Vec::with_capacity(4 + blk);
            pkt.extend_from_slice(&[0, 3]);
            pkt.extend_from_slice(&(next as u16).to_be_bytes());
            let got = body
                .read_into(&mut pkt, blk)
                .await
                .map_err(|e| (Interruption::ReadError, format!("reading the file failed: {e}")))?;
            if got < blk && next < last_block {
                return Err((Interruption::ReadError, "the file became shorter while it was being sent".into()));
            }
            window.push_back(pkt);
            next += 1;
        }
        for pkt in &window {
            sock.send(pkt).await.map_err(|e| (Interruption::ClientGone, format!("sending failed: {e}")))?;
        }
        match wait_ack(sock, &mut rbuf, base, window.len() as u64, timeout).await? {
            Reply::Acked(n) => {
                let count = (n + 1 - base) as usize;
                window.drain(..count.min(window.len()));
                base = n + 1;
                tries = 0;
                *sent = (base.saturating_sub(1) * blk as u64).min(size);
                meter.update(*sent);
                if base > last_block {
                    *sent = size;
                    return Ok(());
                }
            }
            Reply::Resend | Reply::Timeout => {
                tries += 1;
                if tries >= MAX_TRIES {
                    return Err((
                        Interruption::TimedOut,
                        format!(
                            "no acknowledgement for block {base} after {MAX_TRIES} tries: the device stopped \
                             answering (network problem, or it gave up)"
                        ),
                    ));
                }
            }
        }
    }
}

/// Waits for an ACK inside the window `[base, base + len)`.
async fn wait_ack(sock: &UdpSocket, buf: &mut [u8], base: u64, len: u64, timeout: Duration) -> Result<Reply, Failure> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let n = match tokio::time::timeout_at(deadline, sock.recv(buf)).await {
            Err(_) => return Ok(Reply::Timeout),
            Ok(Err(e)) => {
                return Err((Interruption::ClientGone, format!("the device's port is closed ({e}): it gave up")));
            }
            Ok(Ok(n)) => n,
        };
        match Packet::decode(&buf[..n]) {
            Ok(Packet::Ack { block }) => {
                for i in 0..len {
                    if (base + i) as u16 == block {
                        return Ok(Reply::Acked(base + i));
                    }
                }
                // A duplicate ACK of the block before the window: with window 1
                // ignore it (Sorcerer's Apprentice, RFC 1123 §4.2.3.1); with a
                // larger window the client lost data, so resend now.
                if base > 0 && (base - 1) as u16 == block && len > 1 {
                    return Ok(Reply::Resend);
                }
            }
            Ok(Packet::Error { code, message }) => {
                let why = if code == ErrorCode::OptionRefused {
                    format!("the device refused the TFTP options: {message}")
                } else {
                    format!("the device aborted the transfer (TFTP error {}: {message})", code.code())
                };
                return Err((Interruption::ClientGone, why));
            }
            _ => {}
        }
    }
}
