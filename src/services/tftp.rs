//! The TFTP server (RFC 1350; options RFC 2347/2348/2349: blksize, tsize,
//! timeout; windowsize RFC 7440), read-only. Requests arrive on a tokio
//! `UdpSocket`; each transfer then runs on a thread of the runtime's blocking
//! pool with its own std socket, as tftpd-hpa runs a process per transfer.
//!
//! Why a thread per transfer: a lock-step transfer is a chain of round trips
//! (16 MB at blksize 1468 is 11 430 of them), so what counts is the time from
//! an ACK arriving to the next DATA leaving. A thread blocked in `recv` is
//! woken by the kernel straight into that path; a task goes through the
//! reactor, the scheduler and a timer per block, and twenty transfers shared
//! two workers (measured: `benches/serve_vs_reference.sh`, `benches/SERVING.md`).
//! The thread checks the cancellation token at least every [`CANCEL_POLL`],
//! and every [`FOLLOW_EVERY`] blocks moves to the CPU its client's packets
//! arrive on ([`cpu::Follow`]).
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
//! "TID"), retransmission. Must not touch: files (bytes come from the served
//! set or [`Shared::open_firmware`]), routing decisions (the router's).

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio_util::sync::CancellationToken;

use super::{Meter, ServiceError, Shared, Throttle, bind_error, cpu, lock};
use crate::formats::tftp::{self, ErrorCode, Mode, Packet};
use crate::formats::useragent::UserAgent;
use crate::serving::router::{Source, Verdict};
use crate::serving::{ContentKind, Interruption, Outcome, Protocol, Refusal, RequestId, Wire};

/// Window size cap: bounds the memory one transfer holds for retransmission.
const MAX_WINDOW: u16 = 64;
/// Retransmission timeout when the client does not ask for one.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// Sends of the same window before the client is declared gone.
const MAX_TRIES: u32 = 6;
/// Longest a transfer thread waits without looking at the cancellation token.
const CANCEL_POLL: Duration = Duration::from_millis(100);
/// Blocks between two looks at which CPU receives the client's packets.
const FOLLOW_EVERY: u64 = 256;
/// Read-ahead of a firmware file.
const FILE_BUFFER: usize = 64 * 1024;
/// Transfers at once from any addresses, before the reserve. Each holds a
/// thread of the blocking pool (512) and at most `MAX_WINDOW_BYTES` plus
/// `FILE_BUFFER` of memory.
const MAX_TRANSFERS: usize = 320;
/// Slots beyond [`MAX_TRANSFERS`] kept for addresses with no transfer under
/// way, so a device that just booted is answered while others hold the rest.
const RESERVE: usize = 64;
/// Transfers at once from one address (a device fetches one file at a time;
/// a few devices behind one address, or a test bench, a handful).
const PER_CLIENT: usize = 16;

/// Longest a transfer waits for its first acknowledgement, whatever
/// `timeout` option the client asked for: a device answers the first DATA or
/// OACK within milliseconds; a request from a spoofed address never does, and
/// must not hold a slot for minutes (issue 25: 600 such requests held every
/// slot for 6-44 s each).
const FIRST_ACK_LIMIT: Duration = Duration::from_secs(3);

/// Who holds which transfer slots. When none is free, the oldest transfer
/// that has never been acknowledged is evicted for the newcomer: it cost
/// nothing to start and a real client acknowledges at once, so a flood of
/// spoofed requests only ever evicts itself.
#[derive(Default)]
struct Slots {
    inner: Mutex<SlotTable>,
}

#[derive(Default)]
struct SlotTable {
    total: usize,
    per: HashMap<IpAddr, usize>,
    /// Transfers never acknowledged yet, oldest first (by slot serial).
    unacked: std::collections::BTreeMap<u64, Arc<SlotState>>,
    serial: u64,
    evicted: u64,
}

/// One transfer's slot as the table and the transfer both see it.
struct SlotState {
    serial: u64,
    ip: IpAddr,
    /// Cancelled to evict (a child of the server's token: stopping also ends it).
    token: CancellationToken,
    /// Set (by the table) once evicted: the slot is already counted free.
    released: std::sync::atomic::AtomicBool,
}

/// A held slot; released on drop (unless it was evicted, which released it).
struct Slot {
    slots: Arc<Slots>,
    state: Arc<SlotState>,
}

impl SlotTable {
    fn release(&mut self, ip: IpAddr) {
        self.total = self.total.saturating_sub(1);
        if let Some(n) = self.per.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                self.per.remove(&ip);
            }
        }
    }

    /// Evicts the oldest never-acknowledged transfer; whether there was one.
    fn evict_oldest(&mut self) -> bool {
        let Some((_, victim)) = self.unacked.pop_first() else { return false };
        victim.released.store(true, std::sync::atomic::Ordering::SeqCst);
        victim.token.cancel();
        self.release(victim.ip);
        self.evicted += 1;
        true
    }
}

impl Slots {
    /// A slot for `ip` (cancelled with `cancel`, or when evicted), or why not.
    fn take(self: &Arc<Self>, ip: IpAddr, cancel: &CancellationToken) -> Result<Slot, String> {
        let mut g = lock(&self.inner);
        let mine = g.per.get(&ip).copied().unwrap_or(0);
        if mine >= PER_CLIENT {
            return Err(format!("{ip} already has {mine} transfers under way (limit {PER_CLIENT} per address)"));
        }
        let full =
            |t: &SlotTable, mine: usize| t.total >= MAX_TRANSFERS + RESERVE || (t.total >= MAX_TRANSFERS && mine > 0);
        while full(&g, mine) {
            if !g.evict_oldest() {
                return Err(format!(
                    "{} transfers are under way, every one acknowledged (limit {MAX_TRANSFERS}, plus {RESERVE} kept \
                     for new devices)",
                    g.total
                ));
            }
        }
        g.total += 1;
        *g.per.entry(ip).or_insert(0) += 1;
        g.serial += 1;
        let state = Arc::new(SlotState {
            serial: g.serial,
            ip,
            token: cancel.child_token(),
            released: std::sync::atomic::AtomicBool::new(false),
        });
        g.unacked.insert(state.serial, state.clone());
        Ok(Slot { slots: self.clone(), state })
    }

    /// The transfer was acknowledged once: it is no longer evictable.
    fn acknowledged(&self, state: &SlotState) {
        lock(&self.inner).unacked.remove(&state.serial);
    }
}

impl Slot {
    fn token(&self) -> CancellationToken {
        self.state.token.clone()
    }

    fn evicted(&self) -> bool {
        self.state.released.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Called by the transfer at its first acknowledgement.
    fn on_first_ack(&self) -> impl Fn() + Send + Sync + 'static {
        let (slots, state) = (self.slots.clone(), self.state.clone());
        move || slots.acknowledged(&state)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut g = lock(&self.slots.inner);
        g.unacked.remove(&self.state.serial);
        if !self.state.released.swap(true, std::sync::atomic::Ordering::SeqCst) {
            g.release(self.state.ip);
        }
    }
}

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
    let slots: Arc<Slots> = Arc::default();
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
                let slot = match slots.take(peer.ip(), &cancel) {
                    Ok(slot) => slot,
                    Err(why) => {
                        lock(&active).remove(&peer);
                        send_error(&socket, peer, ErrorCode::NotDefined, "server busy, try again").await;
                        if let Some(dropped) = shared.junk.admit(peer.ip(), "tftp-busy") {
                            let p = shared.begin(Protocol::Tftp, peer, "RRQ", &req.filename);
                            let why = format!("refused (busy): {why}; the device retries{}", Throttle::note(dropped));
                            let busy = Outcome::Refused { reason: Refusal::Busy, expected: false };
                            shared.finish(p, busy, Wire::TftpError(ErrorCode::NotDefined.code()), Some(why));
                        }
                        continue;
                    }
                };
                let (shared, socket, active, cancel, done) =
                    (shared.clone(), socket.clone(), active.clone(), cancel.clone(), done.clone());
                tokio::spawn(async move {
                    // Declared first, dropped last: the sockets close before the supervisor hears.
                    let _done = done;
                    let (shared, socket, active, _cancel, slot) = (shared, socket, active, cancel, slot);
                    transfer(req, peer, shared, &socket, &slot).await;
                    lock(&active).remove(&peer);
                    drop(slot);
                });
            }
            Ok(Packet::Wrq(req)) => {
                send_error(&socket, peer, ErrorCode::AccessViolation, "gsprov serves files read-only").await;
                if let Some(dropped) = shared.junk.admit(peer.ip(), "tftp-write") {
                    let p = shared.begin(Protocol::Tftp, peer, "WRQ", &req.filename);
                    let why = format!(
                        "refused: a write request (WRQ); gsprov serves files read-only{}",
                        Throttle::note(dropped)
                    );
                    let outcome = Outcome::Refused { reason: Refusal::ReadOnly, expected: false };
                    shared.finish(p, outcome, Wire::TftpError(ErrorCode::AccessViolation.code()), Some(why));
                }
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
                send_error(&socket, peer, ErrorCode::IllegalOperation, "malformed request").await;
                // Garbage is recorded once a second per sender (a flood would fill the log).
                if let Some(dropped) = shared.junk.admit(peer.ip(), "tftp-malformed") {
                    let p = shared.begin(Protocol::Tftp, peer, method, "");
                    let why = format!(
                        "malformed TFTP packet ({len} bytes): {e}; not something a device sends{}",
                        Throttle::note(dropped)
                    );
                    let outcome = Outcome::Refused { reason: Refusal::Malformed, expected: false };
                    shared.finish(p, outcome, Wire::TftpError(ErrorCode::IllegalOperation.code()), Some(why));
                }
            }
        }
    }
}

async fn send_error(socket: &UdpSocket, peer: SocketAddr, code: ErrorCode, message: &str) {
    let pkt = Packet::Error { code, message: message.into() }.encode();
    let _ = socket.send_to(&pkt, peer).await;
}

/// One read request, from routing to the last ACK.
async fn transfer(req: tftp::Request, peer: SocketAddr, shared: Arc<Shared>, main: &UdpSocket, held: &Slot) {
    let cancel = held.token();
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
            let outcome = Outcome::Refused { reason: *reason, expected: *expected };
            shared.finish(p, outcome, Wire::TftpError(code.code()), None);
            return;
        }
        Verdict::Serve(src) => src.clone(),
    };
    let interrupted = |reason| Outcome::Interrupted { reason };
    if req.mode == Mode::Mail {
        send_error(main, peer, ErrorCode::IllegalOperation, "mail mode is not supported").await;
        let outcome = Outcome::Refused { reason: Refusal::Malformed, expected: false };
        let why = "refused: TFTP mail mode; devices use octet".to_string();
        shared.finish(p, outcome, Wire::TftpError(ErrorCode::IllegalOperation.code()), Some(why));
        return;
    }
    // Firmware waits its turn ([firmware] max_transfers); configs never do. The
    // peer stays in `active` meanwhile, so its retransmitted RRQs are dropped.
    let slot = if source.kind() == ContentKind::Firmware {
        match shared.firmware_slot(peer.ip(), &cancel).await {
            Some(slot) => Some(slot),
            None => {
                if held.evicted() {
                    let why = format!("{}; {EVICTED}", p.record.explanation);
                    shared.finish(p, interrupted(Interruption::TimedOut), Wire::TftpError(0), Some(why));
                    return;
                }
                send_error(main, peer, ErrorCode::NotDefined, "server stopping").await;
                let why =
                    format!("{}; the servers were stopped while it waited for a firmware slot", p.record.explanation);
                shared.finish(p, interrupted(Interruption::Stopped), Wire::TftpError(0), Some(why));
                return;
            }
        }
    } else {
        None
    };
    if let Some(slot) = &slot {
        p.record.explanation.push_str(&slot.note());
    }
    let size = source.size();
    let body = match Blocks::open(&shared, &source) {
        Ok(b) => b,
        Err(e) => {
            send_error(main, peer, ErrorCode::NotDefined, "cannot read file").await;
            let why = format!("{}; {e}{}", p.record.explanation, super::fd_hint(&e.to_string()));
            shared.finish(p, interrupted(Interruption::ReadError), Wire::TftpError(0), Some(why));
            return;
        }
    };
    // Each transfer answers from its own port (RFC 1350 §4). Binding and
    // connecting a UDP socket do not block.
    let bound = std::net::UdpSocket::bind(SocketAddr::new(shared.bind, 0))
        .and_then(|s| s.connect(peer).and_then(|()| s.set_read_timeout(Some(CANCEL_POLL))).map(|()| s));
    let sock = match bound {
        Ok(s) => s,
        Err(e) => {
            send_error(main, peer, ErrorCode::NotDefined, "server busy").await;
            let why = format!("no UDP socket for the transfer: {e}{}", super::fd_hint(&e.to_string()));
            shared.finish(p, interrupted(Interruption::ReadError), Wire::TftpError(0), Some(why));
            return;
        }
    };
    // netascii is served byte for byte: translating line ends would corrupt
    // binary and encrypted files, and devices ask in octet mode.
    let (neg, oack) = tftp::negotiate(&req, Some(size), tftp::MAX_BLKSIZE, MAX_WINDOW);
    p.announce(&shared, source.name(), source.kind(), Some(size));
    let first_ack = Box::new(held.on_first_ack());
    let job = Job { sock, body, neg, oack, size, id: p.id(), kind: source.kind(), first_ack };
    let thread = {
        let (shared, cancel) = (shared.clone(), cancel.clone());
        tokio::task::spawn_blocking(move || job.run(&shared, &cancel))
    };
    // Not raced against `cancel`: the thread sees it within CANCEL_POLL, and
    // its socket must be closed before this task lets go of `done`.
    let (sent, result) = match thread.await {
        Ok(r) => r,
        Err(e) => (0, Err((Interruption::ReadError, format!("the transfer thread failed: {e}")))),
    };
    p.record.bytes = sent;
    let result = match result {
        Err((Interruption::Stopped, _)) if held.evicted() => Err((Interruption::TimedOut, EVICTED.to_string())),
        r => r,
    };
    match result {
        Ok(()) => p.record.outcome = Outcome::Served,
        Err((reason, why)) => {
            p.record.outcome = Outcome::Interrupted { reason };
            p.record.explanation = format!("{}; {why}", p.record.explanation);
        }
    }
    shared.complete(p);
}

/// The bytes of a served file, read on a transfer thread.
enum Blocks {
    Memory { bytes: Arc<[u8]>, pos: usize },
    File(std::io::BufReader<std::fs::File>),
}

impl Blocks {
    fn open(shared: &Shared, src: &Source) -> Result<Blocks, crate::storage::StorageError> {
        Ok(match src {
            Source::Generated(f) => Blocks::Memory { bytes: f.bytes.clone(), pos: 0 },
            Source::Firmware(f) => {
                Blocks::File(std::io::BufReader::with_capacity(FILE_BUFFER, shared.open_firmware(&f.name)?))
            }
        })
    }

    /// Appends up to `n` bytes to `out`; fewer only at the end of the file.
    fn read_into(&mut self, out: &mut Vec<u8>, n: usize) -> std::io::Result<usize> {
        match self {
            Blocks::Memory { bytes, pos } => {
                let end = (*pos + n).min(bytes.len());
                let start = (*pos).min(end);
                out.extend_from_slice(&bytes[start..end]);
                *pos = end;
                Ok(end - start)
            }
            Blocks::File(f) => {
                let before = out.len();
                f.by_ref().take(n as u64).read_to_end(out)?;
                Ok(out.len() - before)
            }
        }
    }
}

/// Why an evicted transfer ended (the request log says it).
const EVICTED: &str = "never acknowledged, and its slot was given to a newer request while every slot was taken \
                       (a client that asks and never answers: a spoofed address, or a device that gave up)";

/// What a transfer thread needs.
struct Job {
    sock: std::net::UdpSocket,
    body: Blocks,
    neg: tftp::Negotiated,
    oack: Vec<(String, String)>,
    size: u64,
    id: RequestId,
    kind: ContentKind,
    /// Told once, at the first acknowledgement (the slot is no longer evictable).
    first_ack: Box<dyn Fn() + Send + Sync>,
}

impl Job {
    /// Sends the file; returns the bytes the client acknowledged and how it ended.
    fn run(mut self, shared: &Shared, cancel: &CancellationToken) -> (u64, Result<(), Failure>) {
        let mut meter = Meter::new(shared, self.id, Some(self.kind), Some(self.size));
        let mut sent = 0u64;
        let io = Io { sock: &self.sock, first_ack: &*self.first_ack, cancel };
        let result = send_file(&io, &mut self.body, self.neg, self.oack, self.size, &mut sent, &mut meter);
        if let Err((Interruption::Stopped, _)) = &result {
            let pkt = Packet::Error { code: ErrorCode::NotDefined, message: "server stopped".into() }.encode();
            let _ = self.sock.send(&pkt);
        }
        (sent, result)
    }
}

enum Reply {
    /// The client has everything up to this absolute block.
    Acked(u64),
    Resend,
    Timeout,
}

type Failure = (Interruption, String);

fn stopped() -> Failure {
    (Interruption::Stopped, "the servers were stopped during the transfer".to_string())
}

/// The transfer's socket and what it tells or heeds.
struct Io<'a> {
    sock: &'a std::net::UdpSocket,
    /// Called at the first acknowledgement.
    first_ack: &'a (dyn Fn() + Send + Sync),
    cancel: &'a CancellationToken,
}

/// Sends the OACK (if any) and every block, windowed, with retransmission.
/// Until the first acknowledgement the whole wait is bounded by
/// [`FIRST_ACK_LIMIT`], whatever `timeout` the client asked for.
fn send_file(
    io: &Io<'_>,
    body: &mut Blocks,
    neg: tftp::Negotiated,
    oack: Vec<(String, String)>,
    size: u64,
    sent: &mut u64,
    meter: &mut Meter<'_>,
) -> Result<(), Failure> {
    let (sock, cancel) = (io.sock, io.cancel);
    let started = Instant::now();
    let mut acknowledged = false;
    let blk = usize::from(neg.blksize);
    let asked = neg.timeout.map_or(DEFAULT_TIMEOUT, |t| Duration::from_secs(u64::from(t)));
    let last_block = size / blk as u64 + 1;
    // Absolute block numbers; the wire carries them modulo 65536 (rollover to 0, as tftpd-hpa).
    let mut window: VecDeque<Vec<u8>> = VecDeque::new();
    // Acknowledged packets' buffers, reused: no allocation per block.
    let mut spare: Vec<Vec<u8>> = Vec::new();
    let mut base: u64 = 1;
    if !oack.is_empty() {
        window.push_back(Packet::OAck { options: oack }.encode());
        base = 0;
    }
    let mut next = 1u64;
    let mut tries = 0u32;
    let mut rbuf = vec![0u8; 2048];
    let mut follow = cpu::Follow::new();
    let mut follow_at = 0u64;
    loop {
        if cancel.is_cancelled() {
            return Err(stopped());
        }
        // Data waits until the OACK is acknowledged (block 0).
        let limit = if base == 0 { 1 } else { usize::from(neg.windowsize) };
        while window.len() < limit && next <= last_block {
            let mut pkt = spare.pop().unwrap_or_else(|| Vec::with_capacity(4 + blk));
            pkt.clear();
            pkt.extend_from_slice(&[0, 3]);
            pkt.extend_from_slice(&(next as u16).to_be_bytes());
            let got = body
                .read_into(&mut pkt, blk)
                .map_err(|e| (Interruption::ReadError, format!("reading the file failed: {e}")))?;
            if got < blk && next < last_block {
                return Err((Interruption::ReadError, "the file became shorter while it was being sent".into()));
            }
            window.push_back(pkt);
            next += 1;
        }
        for pkt in &window {
            sock.send(pkt).map_err(|e| (Interruption::ClientGone, format!("sending failed: {e}")))?;
        }
        let timeout = if acknowledged {
            asked
        } else {
            let left = FIRST_ACK_LIMIT.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err((
                    Interruption::TimedOut,
                    format!(
                        "no acknowledgement of the first packet within {} s: the client asked and never answered \
                         (a spoofed address, or a firewall dropping the replies)",
                        FIRST_ACK_LIMIT.as_secs()
                    ),
                ));
            }
            asked.min(left).min(FIRST_ACK_LIMIT / 2)
        };
        match wait_ack(sock, &mut rbuf, base, window.len() as u64, timeout, cancel)? {
            Reply::Acked(n) => {
                if !acknowledged {
                    acknowledged = true;
                    (io.first_ack)();
                }
                let count = (n + 1 - base) as usize;
                spare.extend(window.drain(..count.min(window.len())));
                base = n + 1;
                tries = 0;
                *sent = (base.saturating_sub(1) * blk as u64).min(size);
                meter.update(*sent);
                if n >= follow_at {
                    follow.follow(sock);
                    follow_at = n + FOLLOW_EVERY;
                }
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

/// Waits for an ACK inside the window `[base, base + len)`. The socket's read
/// timeout is [`CANCEL_POLL`] except when the deadline is nearer.
fn wait_ack(
    sock: &std::net::UdpSocket,
    buf: &mut [u8],
    base: u64,
    len: u64,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<Reply, Failure> {
    let deadline = Instant::now() + timeout;
    let mut shortened = false;
    let reply = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Ok(Reply::Timeout);
        }
        if left < CANCEL_POLL {
            // Never zero here: a zero timeout is an error for set_read_timeout.
            let _ = sock.set_read_timeout(Some(left));
            shortened = true;
        }
        let n = match sock.recv(buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                if cancel.is_cancelled() {
                    break Err(stopped());
                }
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                break Err((Interruption::ClientGone, format!("the device's port is closed ({e}): it gave up")));
            }
        };
        match Packet::decode(&buf[..n]) {
            Ok(Packet::Ack { block }) => {
                if let Some(i) = (0..len).find(|i| (base + i) as u16 == block) {
                    break Ok(Reply::Acked(base + i));
                }
                // A duplicate ACK of the block before the window: with window 1
                // ignore it (Sorcerer's Apprentice, RFC 1123 §4.2.3.1); with a
                // larger window the client lost data, so resend now.
                if base > 0 && (base - 1) as u16 == block && len > 1 {
                    break Ok(Reply::Resend);
                }
            }
            Ok(Packet::Error { code, message }) => {
                let why = if code == ErrorCode::OptionRefused {
                    format!("the device refused the TFTP options: {message}")
                } else {
                    format!("the device aborted the transfer (TFTP error {}: {message})", code.code())
                };
                break Err((Interruption::ClientGone, why));
            }
            _ => {}
        }
    };
    if shortened {
        let _ = sock.set_read_timeout(Some(CANCEL_POLL));
    }
    reply
}
