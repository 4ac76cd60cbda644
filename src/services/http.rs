//! The HTTP and HTTPS servers: GET and HEAD with Content-Length, Range,
//! optional Basic and Digest authentication (MD5, qop=auth, a fresh nonce for
//! every challenge, valid five minutes, its nonce counts tracked), keep-alive. Tokio tasks; TLS by tokio-rustls. A
//! kept-alive plain connection moves, after [`MOVE_CHECK`] requests, to the
//! runtime of the CPU its packets arrive on, and follows them ([`super::cpu`]);
//! TLS connections stay on the shared runtime.
//!
//! Why not tiny_http (0.12), as first planned: it reads a request line without
//! a length limit (an over-long line grows memory until the client stops), has
//! no read or write timeouts (a stalled client pins a thread, and `stop` cannot
//! cut a transfer blocked in a write), spawns its accept and worker threads
//! detached (no join handles), and its `ssl-rustls` feature pins rustls 0.20 /
//! ring 0.16 beside the rustls 0.23 we use, and panics on a bad key. Here the
//! head is parsed by the pure, size-limited `formats::http`, every read and
//! write has a timeout and races the cancellation token.
//!
//! Owns: listening sockets and connections. Must not touch: files (bodies come
//! from [`Body`](super::Body)), routing decisions (the router's). Credentials
//! are checked here and never logged: records keep neither the Authorization
//! header nor secret query values.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_util::sync::CancellationToken;

use super::nonces::{NONCE_LIFETIME, NonceBook, NonceUse};
use super::request::Pending;
use super::{Body, Meter, ServiceError, Shared, Throttle, bind_error, lock};
use crate::formats::http::{self, Credentials, HeadError, Range, RequestHead};
use crate::formats::useragent;
use crate::generate::FileKind;
use crate::serving::router::Verdict;
use crate::serving::{ContentKind, Interruption, Outcome, Protocol, Refusal, Wire};
use crate::site::HttpAuth;

/// Most connections one listener serves at once (fewer when the open-file
/// limit is low: [`super::connection_cap`]); more wait in the kernel's backlog.
pub(super) const MAX_CONNECTIONS: usize = 4096;
/// Connections at once from one address with the full [`HEAD_TIMEOUT`]: a
/// device opens one or two. Beyond this a connection is on probation: its
/// first request head must arrive within [`PROBATION_HEAD_TIMEOUT`], so a
/// flood of trickling connections (slowloris) is cut almost at once while a
/// client that really sends requests on many connections (a load tester, a
/// few devices behind one address) is served.
const PER_ADDRESS: usize = 16;
/// Time for the first request head of a connection to arrive, whole: a client
/// trickling bytes (slowloris) is cut after this.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// The same for a connection beyond [`PER_ADDRESS`] from its address. A
/// client that has its request ready sends it in well under a millisecond on
/// a LAN.
const PROBATION_HEAD_TIMEOUT: Duration = Duration::from_millis(250);
/// Idle time allowed between requests on a kept-alive connection.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(15);
/// Time for a TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Time one chunk of a body may take to be accepted by the client.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Body chunk size.
const CHUNK: usize = 64 * 1024;
/// Requests between two looks at which CPU a kept-alive connection's packets
/// arrive on ([`Conn::moves_to`]): a look is a system call.
const MOVE_CHECK: u32 = 64;
const REALM: &str = "gsprov";

pub(super) fn bind(rt: &tokio::runtime::Runtime, addr: SocketAddr) -> Result<TcpListener, ServiceError> {
    let _guard = rt.enter();
    let socket = if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() };
    socket
        .and_then(|s| {
            // SO_REUSEADDR, so a restart binds again at once.
            s.set_reuseaddr(true)?;
            s.bind(addr)?;
            // A room of phones powering up together connects at once: the
            // default backlog (128) overflowed with 200 (SYNs dropped, each
            // retried a second later). Room for 1024 (nginx: 511).
            s.listen(1024)
        })
        .map_err(|e| bind_error(addr, &e))
}

/// Accepts until `cancel`; each connection is a task holding a `done` clone.
/// `done` comes first so it is dropped last, after the listener is closed.
pub(super) async fn serve(
    done: tokio::sync::mpsc::Sender<()>,
    listener: TcpListener,
    protocol: Protocol,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
    cancel: CancellationToken,
) {
    // A quarter of the connections is kept for addresses that made a request
    // that passed the policy before (the site's devices, by the status): a
    // flood of slow connections from elsewhere (slowloris) cannot keep them out.
    let total = shared.http_connections;
    let reserve = (total / 4).max(1);
    let general_total = total - reserve;
    let general = Arc::new(tokio::sync::Semaphore::new(general_total));
    let reserved = Arc::new(tokio::sync::Semaphore::new(reserve));
    if let Some(note) = super::limits::low_connections_note(total) {
        tracing::warn!("{protocol}: {note}");
    }
    let per_address = Arc::new(PerAddress::default());
    // No address holds more than a quarter of the connections: the rest stay
    // for the others, whatever one host does.
    let hard_limit = (shared.http_connections / 4).max(PER_ADDRESS);
    loop {
        let slot = tokio::select! {
            _ = cancel.cancelled() => break,
            p = general.clone().acquire_owned() => match p { Ok(p) => (p, false), Err(_) => break },
            p = reserved.clone().acquire_owned() => match p { Ok(p) => (p, true), Err(_) => break },
        };
        let (stream, peer) = tokio::select! {
            _ = cancel.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly.
                    tracing::warn!("{protocol}: cannot accept a connection: {e}{}", super::fd_hint(&e.to_string()));
                    tokio::select! {
                        _ = cancel.cancelled() => break,
                        _ = tokio::time::sleep(Duration::from_millis(50)) => continue,
                    }
                }
            },
        };
        let known = shared.mac_for_ip(peer.ip()).is_some();
        let permit = match slot {
            (p, false) => p,
            (p, true) if known => p,
            // A reserved slot, for an address never seen: only a general one will do.
            (p, true) => match general.clone().try_acquire_owned() {
                Ok(g) => {
                    drop(p);
                    g
                }
                Err(_) => {
                    drop(p);
                    let _ = stream.set_zero_linger();
                    drop(stream);
                    if let Some(dropped) = shared.junk.admit(peer.ip(), "http-busy") {
                        let p = shared.begin(protocol, peer, "-", "");
                        let why = format!(
                            "connection closed: all {general_total} connections for new addresses are taken (the \
                             other {reserve} are kept for devices that fetched before); the client retries{}",
                            Throttle::note(dropped)
                        );
                        let busy = Outcome::Refused { reason: Refusal::Busy, expected: false };
                        shared.finish(p, busy, Wire::None, Some(why));
                    }
                    continue;
                }
            },
        };
        // Slots running short: a new connection from an address never seen must
        // send its request head at once (probation), so tricklers are cut sooner.
        let short = general.available_permits() < general_total / 4;
        let held = match per_address.take(&per_address, peer.ip(), hard_limit) {
            Some(h) => h,
            None => {
                // Closed at once (a reset, no TIME_WAIT); recorded once a second per address.
                let _ = stream.set_zero_linger();
                drop(stream);
                if let Some(dropped) = shared.junk.admit(peer.ip(), "http-busy") {
                    let p = shared.begin(protocol, peer, "-", "");
                    let why = format!(
                        "connection closed: {} already has {hard_limit} connections open (limit per address); \
                         a device needs one or two{}",
                        peer.ip(),
                        Throttle::note(dropped)
                    );
                    shared.finish(
                        p,
                        Outcome::Refused { reason: Refusal::Busy, expected: false },
                        Wire::None,
                        Some(why),
                    );
                }
                continue;
            }
        };
        let mut held = held;
        held.probation |= short && !known;
        let _ = stream.set_nodelay(true);
        let guards = Guards { _permit: permit, _held: held, _done: done.clone() };
        let (shared, cancel) = (shared.clone(), cancel.clone());
        match tls.clone() {
            // Starts here; moves to the runtime of its packets' CPU once it has
            // served MOVE_CHECK requests ([`plain`]). A device's connection
            // carries one request (`Connection: close`): moving it at once
            // would cost more than it saves (measured with `benches/phones.rs`).
            None => {
                tokio::spawn(plain(stream, Plain { guards, peer, protocol, shared, cancel }, None));
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    let probation = guards._held.probation;
                    let hs = tokio::select! {
                        _ = cancel.cancelled() => return,
                        r = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => r,
                    };
                    match hs {
                        Ok(Ok(tls_stream)) => {
                            connection(tls_stream, peer, protocol, &shared, &cancel, probation, None).await;
                        }
                        Ok(Err(e)) => tracing::debug!("https: handshake with {peer} failed: {e}"),
                        Err(_) => tracing::debug!("https: handshake with {peer} timed out"),
                    }
                    drop(guards);
                });
            }
        }
    }
}

/// What a connection holds until it closes. Fields drop in order: the
/// supervisor's completion sender last, after the connection has closed.
struct Guards {
    _permit: tokio::sync::OwnedSemaphorePermit,
    _held: Held,
    _done: tokio::sync::mpsc::Sender<()>,
}

/// A plain connection's context: what it holds and who it serves, moved
/// with it when it changes runtime.
struct Plain {
    guards: Guards,
    peer: SocketAddr,
    protocol: Protocol,
    shared: Arc<Shared>,
    cancel: CancellationToken,
}

/// Serves a plain HTTP connection; when its packets have moved to another
/// CPU ([`Conn::moves_to`]) it goes on on that CPU's runtime. `resumed`: the
/// bytes already read, for a connection that moved.
fn plain(stream: TcpStream, c: Plain, resumed: Option<Vec<u8>>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        let probation = c.guards._held.probation;
        if let Some((stream, buf, core)) =
            connection(stream, c.peer, c.protocol, &c.shared, &c.cancel, probation, resumed).await
        {
            hand_over(core, stream, c, buf);
        }
    })
}

/// Moves a plain connection to `core`'s runtime (a stream belongs to the
/// reactor of the runtime it runs on, so it goes across as a std stream).
fn hand_over(core: tokio::runtime::Handle, stream: TcpStream, c: Plain, resumed: Vec<u8>) {
    let (protocol, peer) = (c.protocol, c.peer);
    match stream.into_std() {
        Ok(std) => {
            core.spawn(async move {
                match TcpStream::from_std(std) {
                    Ok(stream) => plain(stream, c, Some(resumed)).await,
                    Err(e) => tracing::warn!("{protocol}: cannot hand the connection from {peer} over: {e}"),
                }
            });
        }
        Err(e) => tracing::warn!("{protocol}: cannot hand the connection from {peer} over: {e}"),
    }
}

/// Open connections per client address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One connection counted in [`PerAddress`]; uncounted on drop.
struct Held {
    book: Arc<PerAddress>,
    ip: IpAddr,
    /// Its address already had [`PER_ADDRESS`] connections when it came.
    probation: bool,
}

impl PerAddress {
    /// Counts one more connection from `ip`; `None` at `hard_limit`.
    fn take(&self, me: &Arc<PerAddress>, ip: IpAddr, hard_limit: usize) -> Option<Held> {
        let mut m = lock(&self.0);
        let n = m.entry(ip).or_insert(0);
        if *n >= hard_limit {
            return None;
        }
        let probation = *n >= PER_ADDRESS;
        *n += 1;
        Some(Held { book: me.clone(), ip, probation })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut m = lock(&self.book.0);
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

/// A connection that can be cut hard (RST), so a stop leaves no TIME_WAIT.
trait Conn: AsyncRead + AsyncWrite + Unpin + Send {
    fn abort(&self);

    /// The runtime it should move to: its packets now arrive on another CPU
    /// than the one serving it. Never for TLS (its state stays where it is).
    fn moves_to(&self, _cores: &super::cpu::CoreHandles) -> Option<tokio::runtime::Handle> {
        None
    }
}

impl Conn for TcpStream {
    fn abort(&self) {
        let _ = self.set_zero_linger();
    }

    fn moves_to(&self, cores: &super::cpu::CoreHandles) -> Option<tokio::runtime::Handle> {
        cores.moving(self).cloned()
    }
}

impl Conn for tokio_rustls::server::TlsStream<TcpStream> {
    fn abort(&self) {
        let _ = self.get_ref().0.set_zero_linger();
    }
}

enum Head {
    Request(RequestHead),
    Closed,
    Bad(HeadError),
    TimedOut { partial: bool },
}

async fn read_head<S: Conn>(io: &mut S, buf: &mut Vec<u8>) -> Head {
    loop {
        match http::parse_request_head(buf) {
            Ok(Some((head, used))) => {
                buf.drain(..used);
                return Head::Request(head);
            }
            Ok(None) => {}
            Err(e) => return Head::Bad(e),
        }
        buf.reserve(4096);
        match io.read_buf(buf).await {
            // Blank lines before a request are allowed; a client that sends only those has said nothing.
            Ok(0) | Err(_) if buf.iter().all(|b| matches!(b, b'\r' | b'\n')) => return Head::Closed,
            Ok(0) | Err(_) => return Head::Bad(HeadError::Malformed("connection closed in the middle of a request")),
            Ok(_) => {}
        }
    }
}

async fn connection<S: Conn>(
    mut io: S,
    peer: SocketAddr,
    protocol: Protocol,
    shared: &Shared,
    cancel: &CancellationToken,
    probation: bool,
    resumed: Option<Vec<u8>>,
) -> Option<(S, Vec<u8>, tokio::runtime::Handle)> {
    let mut first = resumed.is_none();
    let mut wait = match (first, probation) {
        (false, _) => KEEP_ALIVE_TIMEOUT,
        (true, true) => PROBATION_HEAD_TIMEOUT,
        (true, false) => HEAD_TIMEOUT,
    };
    let mut buf = resumed.unwrap_or_else(|| Vec::with_capacity(4096));
    let mut served = 0u32;
    // One waiter on the token for the connection's life, not one per request:
    // every connection shares the token, and registering a waiter locks it.
    let stopped = cancel.cancelled();
    tokio::pin!(stopped);
    loop {
        let head = tokio::select! {
            _ = &mut stopped => {
                io.abort();
                return None;
            }
            r = tokio::time::timeout(wait, read_head(&mut io, &mut buf)) => {
                r.unwrap_or(Head::TimedOut { partial: !buf.is_empty() })
            }
        };
        wait = KEEP_ALIVE_TIMEOUT;
        let keep = match head {
            Head::Request(head) => handle(&mut io, head, peer, protocol, shared, cancel).await,
            Head::Closed | Head::TimedOut { partial: false } => false,
            Head::TimedOut { partial: true } if first && probation => {
                let why = format!(
                    "the request head did not arrive within {} ms: {} already had {PER_ADDRESS} connections \
                     open, and more from one address must send their request at once (slowloris guard)",
                    PROBATION_HEAD_TIMEOUT.as_millis(),
                    peer.ip()
                );
                bad_request(&mut io, peer, protocol, shared, 408, &why).await;
                false
            }
            Head::TimedOut { partial: true } => {
                let why = format!("the request head did not arrive within {} s", HEAD_TIMEOUT.as_secs());
                bad_request(&mut io, peer, protocol, shared, 408, &why).await;
                false
            }
            Head::Bad(e) => {
                bad_request(&mut io, peer, protocol, shared, e.status(), &e.to_string()).await;
                false
            }
        };
        if !keep || cancel.is_cancelled() {
            break;
        }
        first = false;
        served = served.wrapping_add(1);
        if served.is_multiple_of(MOVE_CHECK)
            && let Some(core) = io.moves_to(&shared.cores)
        {
            return Some((io, buf, core));
        }
    }
    if cancel.is_cancelled() {
        io.abort();
    } else {
        let _ = tokio::time::timeout(Duration::from_secs(1), io.shutdown()).await;
    }
    None
}

/// Answers an unreadable request and records it.
async fn bad_request<S: Conn>(
    io: &mut S,
    peer: SocketAddr,
    protocol: Protocol,
    shared: &Shared,
    status: u16,
    why: &str,
) {
    let _ = write_simple(io, status, false, &[], "bad request\n").await;
    // Garbage is recorded once a second per sender (a flood would fill the log).
    if let Some(dropped) = shared.junk.admit(peer.ip(), "http-malformed") {
        let p = shared.begin(protocol, peer, "-", "");
        let why = format!("malformed HTTP request: {why}; not something a device sends{}", Throttle::note(dropped));
        let outcome = Outcome::Refused { reason: Refusal::Malformed, expected: false };
        shared.finish(p, outcome, Wire::Http(status), Some(why));
    }
}

async fn write_simple<S: Conn>(
    io: &mut S,
    status: u16,
    keep: bool,
    extra: &[(&str, String)],
    body: &str,
) -> std::io::Result<()> {
    let mut headers: Vec<(&str, String)> = vec![
        ("Server", "gsprov".into()),
        ("Content-Type", "text/plain; charset=utf-8".into()),
        ("Content-Length", body.len().to_string()),
        ("Connection", if keep { "keep-alive" } else { "close" }.into()),
    ];
    headers.extend(extra.iter().cloned());
    let mut out = http::response_head(status, &headers);
    out.extend_from_slice(body.as_bytes());
    let write = write_and_flush(io, &out);
    tokio::pin!(write);
    if let Some(done) = at_once(write.as_mut()).await {
        return done;
    }
    tokio::time::timeout(WRITE_TIMEOUT, write).await.unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

async fn write_and_flush<S: Conn>(io: &mut S, bytes: &[u8]) -> std::io::Result<()> {
    io.write_all(bytes).await?;
    io.flush().await
}

/// Polls `f` once: its result when it is done at once, `None` when it has to
/// wait (then it goes on where it stopped when awaited). A response that fits
/// the socket's buffer, nearly every one, is written without a timer or a
/// cancellation waiter.
async fn at_once<F: Future>(mut f: std::pin::Pin<&mut F>) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match f.as_mut().poll(cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

/// A header value: printable ASCII only, at most 1000 characters.
fn header_text(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).take(1000).collect()
}

/// How a request ended, for its one record ([`handle`] writes it).
enum Ending {
    /// Nothing (or not all) was sent: how it ended, the status on the wire,
    /// and why (`None` keeps the router's explanation).
    Finish(Outcome, Wire, Option<String>),
    /// The record says it all (served, or a transfer cut short).
    Complete,
}

/// Serves one request and records it, once, whichever way it ends;
/// returns whether the connection stays open.
async fn handle<S: Conn>(
    io: &mut S,
    head: RequestHead,
    peer: SocketAddr,
    protocol: Protocol,
    shared: &Shared,
    cancel: &CancellationToken,
) -> bool {
    let mut p = shared.begin(protocol, peer, &head.method, &head.target);
    let (ending, keep) = respond(io, head, peer, protocol, shared, cancel, &mut p).await;
    match ending {
        Ending::Finish(outcome, wire, why) => shared.finish(p, outcome, wire, why),
        Ending::Complete => shared.complete(p),
    }
    keep
}

/// What [`handle`] answers, and how it ended; never records.
async fn respond<S: Conn>(
    io: &mut S,
    head: RequestHead,
    peer: SocketAddr,
    protocol: Protocol,
    shared: &Shared,
    cancel: &CancellationToken,
    p: &mut Pending,
) -> (Ending, bool) {
    let ua_raw = head.header("user-agent");
    let ua = useragent::parse(ua_raw.unwrap_or(""));
    p.set_user_agent(ua_raw, &ua);
    p.record.mac = ua.mac;
    // A body we do not read would be taken for the next request: close after answering.
    let keep = head.keep_alive() && !head.has_body();
    let is_head = head.method == "HEAD";

    if head.method != "GET" && !is_head {
        let _ = write_simple(io, 405, false, &[("Allow", "GET, HEAD".into())], "method not allowed\n").await;
        let why = format!("refused: {} request; gsprov serves files read-only (GET and HEAD)", head.method);
        let outcome = Outcome::Refused { reason: Refusal::ReadOnly, expected: false };
        return (Ending::Finish(outcome, Wire::Http(405), Some(why)), false);
    }

    let policy = shared.policy();
    if let Some(auth) = &policy.auth
        && let Err(denied) = check_auth(&head, auth, &shared.digest_secret, &shared.nonces, p.record.time)
    {
        // A new nonce for every challenge, also when the old one was stale or
        // replayed: the device answers it afresh with nc=00000001.
        let nonce = shared.nonces.issue(unix_secs(p.record.time), &shared.digest_secret);
        let stale = if denied.stale { ", stale=true" } else { "" };
        let challenges = [
            (
                "WWW-Authenticate",
                format!("Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{nonce}\"{stale}"),
            ),
            ("WWW-Authenticate", format!("Basic realm=\"{REALM}\"")),
        ];
        let ok = write_simple(io, 401, keep, &challenges, "authentication required\n").await.is_ok();
        let outcome = Outcome::Refused { reason: Refusal::Unauthorized, expected: denied.expected };
        return (Ending::Finish(outcome, Wire::Http(401), Some(denied.why)), keep && ok);
    }

    let decision = shared.decide(protocol, &head.target, peer, &ua, p.record.time);
    p.set_decision(&decision);
    let source = match &decision.verdict {
        Verdict::Refuse { reason, expected } => {
            let (status, text) = match reason {
                Refusal::NotFound => (404, "not found\n"),
                Refusal::Policy => (403, "forbidden\n"),
                _ => (400, "bad request\n"),
            };
            // Why, for a client on this computer (`gsprov fetch`, the self-test) only: a
            // LAN client gets the bare status, as from any server.
            let why = if peer.ip().is_loopback() {
                vec![(super::client::EXPLANATION_HEADER, header_text(&decision.explanation))]
            } else {
                Vec::new()
            };
            let ok = write_simple(io, status, keep, &why, text).await.is_ok();
            return (
                Ending::Finish(Outcome::Refused { reason: *reason, expected: *expected }, Wire::Http(status), None),
                keep && ok,
            );
        }
        Verdict::Serve(src) => src.clone(),
    };
    let size = source.size();
    let kind = source.kind();
    let range = head.header("range").map_or(Range::Full, |r| http::parse_range(r, size));
    if range == Range::Unsatisfiable {
        let ok =
            write_simple(io, 416, keep, &[("Content-Range", format!("bytes */{size}"))], "bad range\n").await.is_ok();
        let why = format!("{}; the asked range is outside the file ({size} bytes)", p.record.explanation);
        return (
            Ending::Finish(Outcome::Refused { reason: Refusal::BadRange, expected: false }, Wire::Http(416), Some(why)),
            keep && ok,
        );
    }
    // Firmware waits its turn ([firmware] max_transfers); configs never do.
    let _slot = if kind == ContentKind::Firmware && !is_head {
        match shared.firmware_slot(peer.ip(), cancel).await {
            Some(slot) => {
                p.record.explanation.push_str(&slot.note());
                Some(slot)
            }
            None => {
                io.abort();
                let why =
                    format!("{}; the servers were stopped while it waited for a firmware slot", p.record.explanation);
                return (
                    Ending::Finish(Outcome::Interrupted { reason: Interruption::Stopped }, Wire::None, Some(why)),
                    false,
                );
            }
        }
    } else {
        None
    };
    let mut body = match Body::open(shared, &source) {
        Ok(b) => b,
        Err(e) => {
            let ok = write_simple(io, 500, keep, &[], "cannot read file\n").await.is_ok();
            let why = format!("{}; {e}{}", p.record.explanation, super::fd_hint(&e.to_string()));
            return (
                Ending::Finish(Outcome::Interrupted { reason: Interruption::ReadError }, Wire::Http(500), Some(why)),
                keep && ok,
            );
        }
    };
    let (status, start, len) = match range {
        Range::Part { start, end } => (206, start, end - start + 1),
        _ => (200, 0, size),
    };
    let content_type = match (kind, &source) {
        (ContentKind::Config(FileKind::Binary | FileKind::Bootstrap) | ContentKind::Firmware, _) => {
            "application/octet-stream"
        }
        (_, crate::serving::router::Source::Generated(f)) if f.encrypted => "application/octet-stream",
        _ => "application/xml",
    };
    let mut headers: Vec<(&str, String)> = vec![
        ("Server", "gsprov".into()),
        ("Content-Type", content_type.into()),
        ("Content-Length", len.to_string()),
        ("Accept-Ranges", "bytes".into()),
        ("Cache-Control", "no-store".into()),
        ("Connection", if keep { "keep-alive" } else { "close" }.into()),
    ];
    if status == 206 {
        headers.push(("Content-Range", format!("bytes {start}-{}/{size}", start + len - 1)));
    }
    p.record.status = Wire::Http(status);
    if is_head {
        let ok = write_all(io, &http::response_head(status, &headers), cancel).await.is_ok();
        p.record.outcome = if ok { Outcome::Served } else { Outcome::Interrupted { reason: Interruption::ClientGone } };
        return (Ending::Complete, keep && ok);
    }
    p.announce(shared, source.name(), kind, Some(size));
    let mut meter = Meter::new(shared, p.id(), Some(kind), Some(len));
    let mut sent = 0u64;
    let result =
        send_body(io, &http::response_head(status, &headers), &mut body, start, len, &mut sent, &mut meter, cancel)
            .await;
    p.record.bytes = sent;
    let ok = result.is_ok();
    match result {
        Ok(()) => p.record.outcome = Outcome::Served,
        Err((reason, why)) => {
            p.record.outcome = Outcome::Interrupted { reason };
            p.record.explanation = format!("{}; {why}", p.record.explanation);
            if reason == Interruption::Stopped {
                io.abort();
            }
        }
    }
    (Ending::Complete, keep && ok)
}

type Failure = (Interruption, String);

async fn write_all<S: Conn>(io: &mut S, bytes: &[u8], cancel: &CancellationToken) -> Result<(), Failure> {
    let stopped = || (Interruption::Stopped, "the servers were stopped during the transfer".to_string());
    if cancel.is_cancelled() {
        return Err(stopped());
    }
    let write = write_and_flush(io, bytes);
    tokio::pin!(write);
    let r = match at_once(write.as_mut()).await {
        Some(r) => Ok(r),
        None => tokio::select! {
            _ = cancel.cancelled() => return Err(stopped()),
            r = tokio::time::timeout(WRITE_TIMEOUT, write) => r,
        },
    };
    match r {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err((Interruption::ClientGone, format!("the device closed the connection ({e})"))),
        Err(_) => {
            Err((Interruption::TimedOut, format!("the device stopped reading for {} s", WRITE_TIMEOUT.as_secs())))
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the connection, the body, its byte range and the progress counters are separate borrows of the caller's state; a struct would only rename the list"
)]
async fn send_body<S: Conn>(
    io: &mut S,
    head: &[u8],
    body: &mut Body,
    start: u64,
    len: u64,
    sent: &mut u64,
    meter: &mut Meter<'_>,
    cancel: &CancellationToken,
) -> Result<(), Failure> {
    let read_err = |e: std::io::Error| (Interruption::ReadError, format!("reading the file failed: {e}"));
    if start > 0 {
        body.skip(start).await.map_err(read_err)?;
    }
    // The head goes out with the first chunk: one write for a small file.
    let mut chunk = Vec::with_capacity(head.len() + CHUNK.min(len as usize));
    chunk.extend_from_slice(head);
    loop {
        let want = CHUNK.min((len - *sent) as usize);
        let got = if want > 0 { body.read_into(&mut chunk, want).await.map_err(read_err)? } else { 0 };
        if got < want {
            return Err((Interruption::ReadError, "the file became shorter while it was being sent".into()));
        }
        write_all(io, &chunk, cancel).await?;
        *sent += got as u64;
        meter.update(*sent);
        if *sent >= len {
            return Ok(());
        }
        chunk.clear();
    }
}

fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

struct Denied {
    why: String,
    /// The normal first step of the exchange (no credentials yet, or an old nonce).
    expected: bool,
    stale: bool,
}

/// Checks Basic or Digest credentials. The reasons name no secret.
fn check_auth(
    head: &RequestHead,
    auth: &HttpAuth,
    secret: &[u8; 16],
    nonces: &NonceBook,
    now: SystemTime,
) -> Result<(), Denied> {
    let deny = |why: &str, expected: bool| Denied { why: why.to_string(), expected, stale: false };
    let Some(value) = head.header("authorization") else {
        return Err(deny(
            "authentication required (401): no credentials sent yet; a device answers with its HTTP user name and \
             password (P1360/P1361)",
            true,
        ));
    };
    let wrong = "wrong HTTP user name or password: set P1360/P1361 on the device to the site's serving.auth";
    match http::parse_authorization(value) {
        None => Err(deny("unsupported Authorization header; the server accepts Basic and Digest", false)),
        Some(Credentials::Basic { username, password }) => {
            let ok = http::constant_time_eq(username.as_bytes(), auth.username.as_bytes())
                & http::constant_time_eq(password.as_bytes(), auth.password.as_bytes());
            if ok { Ok(()) } else { Err(deny(wrong, false)) }
        }
        Some(Credentials::Digest(d)) => {
            let Some(issued) = http::digest_nonce_time(&d.nonce, secret) else {
                return Err(Denied {
                    why: "Digest nonce not issued by this server run (restarted?); the device retries with a new one"
                        .into(),
                    expected: true,
                    stale: true,
                });
            };
            if unix_secs(now).saturating_sub(issued) > NONCE_LIFETIME {
                return Err(Denied {
                    why: "Digest nonce expired; the device retries with a new one".into(),
                    expected: true,
                    stale: true,
                });
            }
            if d.realm != REALM || d.uri != head.target {
                return Err(deny("Digest answer for another realm or URL", false));
            }
            let expected = http::digest_expected(&d, &head.method, &auth.password);
            let ok = http::constant_time_eq(d.username.as_bytes(), auth.username.as_bytes())
                & http::constant_time_eq(expected.as_bytes(), d.response.as_bytes());
            if !ok {
                return Err(deny(wrong, false));
            }
            let nc = match (&d.qop, &d.nc) {
                (None, _) => None,
                (Some(_), Some(nc)) => match u32::from_str_radix(nc.trim(), 16) {
                    Ok(n) if n > 0 => Some(n),
                    _ => return Err(deny("Digest answer with a bad nonce count (nc)", false)),
                },
                (Some(_), None) => return Err(deny("Digest answer with qop but no nonce count (nc)", false)),
            };
            match nonces.fresh(&d.nonce, issued, nc, unix_secs(now)) {
                NonceUse::Fresh => Ok(()),
                // stale=true with a new nonce: a device that really did reuse a
                // nonce answers the new one and is served; a replayed capture
                // cannot (it would need the password).
                NonceUse::Replayed => Err(Denied {
                    why: "Digest answer replayed (this nonce and nonce count were already used): a device counts \
                          up, so this is a captured request sent again; refused"
                        .into(),
                    expected: false,
                    stale: true,
                }),
                NonceUse::Forgotten => Err(Denied {
                    why: "Digest nonce too old to check for replay (more than 8192 in use at once); the device \
                          retries with a new one"
                        .into(),
                    expected: true,
                    stale: true,
                }),
            }
        }
    }
}
