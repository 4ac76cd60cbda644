//! What every task of a run shares ([`Shared`]: files, policy, status,
//! events, request log) and the life of one request: its pending record,
//! the junk throttle, progress meter and the bytes of the served file.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::event::Event;
use crate::event::Transfer;
use crate::formats::useragent::UserAgent;
use crate::serving::router::{self, Decision, Facts};
use crate::serving::status::Status;
use crate::serving::{ContentKind, Outcome, RequestId, RequestRecord, Wire};
use crate::serving::{Policy, Protocol, Served};
use crate::storage;

use super::firmware::{FirmwareGate, FirmwareSlot, FirmwareSource};
use super::{Clock, Emitter, client, cpu, lock};

/// Transfers smaller than this report no progress (config files).
const PROGRESS_MIN: u64 = 256 * 1024;

/// What every task of one run shares.
pub(crate) struct Shared {
    pub(super) served: RwLock<Served>,
    pub(super) policy: RwLock<Arc<Policy>>,
    pub(super) firmware: FirmwareSource,
    pub(super) status: Mutex<Status>,
    pub(super) events: Emitter,
    /// (garbage?, JSON line) to the request-log writer ([`super::journal`]).
    pub(super) journal: Option<mpsc::Sender<(bool, String)>>,
    pub(super) clock: Clock,
    pub(super) progress_interval: Duration,
    pub(super) next_id: Arc<AtomicU64>,
    pub(super) self_tests: client::SelfTests,
    pub(super) window_closed: AtomicBool,
    pub(crate) bind: IpAddr,
    pub(crate) digest_secret: [u8; 16],
    /// Junk and busy refusals, recorded at most once a second per address.
    pub(crate) junk: Throttle,
    /// Digest nonce counts seen (replay protection).
    pub(crate) nonces: super::nonces::NonceBook,
    /// Connections one HTTP(S) listener serves at once.
    pub(crate) http_connections: usize,
    /// Firmware transfers at once, both protocols; `None`: no limit.
    pub(super) firmware_slots: Option<Arc<FirmwareGate>>,
    /// Where HTTP(S) connections run ([`cpu::Cores`]).
    pub(crate) cores: cpu::CoreHandles,
}

impl Shared {
    pub(crate) fn now(&self) -> SystemTime {
        (self.clock)()
    }

    /// Whether the site lists this MAC.
    pub(crate) fn is_known(&self, mac: crate::ids::Mac) -> bool {
        self.served.read().unwrap_or_else(PoisonError::into_inner).device(mac).is_some()
    }

    pub(crate) fn policy(&self) -> Arc<Policy> {
        self.policy.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Asks the router.
    pub(crate) fn decide(
        &self,
        protocol: Protocol,
        target: &str,
        client: SocketAddr,
        ua: &UserAgent,
        now: SystemTime,
    ) -> Decision {
        let served = self.served.read().unwrap_or_else(PoisonError::into_inner).clone();
        let policy = self.policy();
        let listing = self.firmware.listing();
        let (ip_mac, ip_firmware, all_configured) = {
            let st = lock(&self.status);
            let mac = st.mac_for_ip(client.ip());
            let fw = mac.and_then(|m| st.device(m)).and_then(|d| d.firmware.clone());
            (mac, fw, st.all_configured())
        };
        let req = router::Request {
            protocol,
            target,
            client,
            user_agent: ua,
            ip_mac,
            ip_firmware: ip_firmware.as_deref(),
            now,
        };
        router::route(&req, &served, &listing, &policy, Facts { all_configured })
    }

    pub(crate) fn open_firmware(&self, name: &str) -> Result<std::fs::File, storage::StorageError> {
        self.firmware.open(name)
    }

    /// Waits for a firmware transfer slot (`[firmware] max_transfers`); `None`
    /// when the servers are stopped first. Waiting, not refusing: fifty phones
    /// booting at once are served a few at a time instead of all stalling.
    pub(crate) async fn firmware_slot(&self, ip: IpAddr, cancel: &CancellationToken) -> Option<FirmwareSlot> {
        match &self.firmware_slots {
            None => Some(FirmwareSlot { gate: None, waited: None }),
            Some(gate) => gate.take(ip, cancel).await,
        }
    }

    /// Starts a record for a request that just arrived.
    pub(crate) fn begin(&self, protocol: Protocol, client: SocketAddr, method: &str, path: &str) -> Pending {
        Pending {
            started: Instant::now(),
            record: RequestRecord {
                self_test: self.self_tests.contains(client),
                ..RequestRecord::new(
                    self.next_id.fetch_add(1, Ordering::Relaxed),
                    self.now(),
                    client,
                    protocol,
                    method,
                    &crate::formats::http::mask_target(path),
                )
            },
        }
    }

    pub(crate) fn emit(&self, e: Event) {
        self.events.emit(e);
    }

    /// Ends a request that sent no body (or was cut): how it ended, what went
    /// back on the wire, and why (`None` keeps the router's explanation).
    pub(crate) fn finish(&self, mut p: Pending, outcome: Outcome, wire: Wire, why: Option<String>) {
        p.record.outcome = outcome;
        p.record.status = wire;
        if let Some(why) = why {
            p.record.explanation = why;
        }
        self.complete(p);
    }

    /// The MAC this address last made a request as.
    pub(crate) fn mac_for_ip(&self, ip: IpAddr) -> Option<crate::ids::Mac> {
        lock(&self.status).mac_for_ip(ip)
    }

    /// At stop: one record per kind of junk counted since its last record, so
    /// the log says how much was left out even when no later record came.
    pub(crate) fn flush_junk(&self) {
        use crate::serving::Refusal;
        for (kind, n) in self.junk.drain() {
            let (protocol, rest) = kind.split_once('-').unwrap_or(("", kind));
            let protocol = match protocol {
                "tftp" => Protocol::Tftp,
                "sip" => Protocol::Sip,
                "dhcp" => Protocol::Dhcp,
                _ => Protocol::Http,
            };
            let reason = match rest {
                "busy" => Refusal::Busy,
                "write" => Refusal::ReadOnly,
                _ => Refusal::Malformed,
            };
            let nobody = SocketAddr::from(([0, 0, 0, 0], 0));
            let mut p = self.begin(protocol, nobody, "-", "");
            p.record.outcome = Outcome::Refused { reason, expected: false };
            p.record.explanation = format!("{kind} at stop:{}", Throttle::note(n));
            self.note(p);
        }
    }

    /// Ends a record that is not a request (a syslog line): request log and
    /// event, but no status fold and no serving window.
    pub(crate) fn note(&self, mut p: Pending) {
        p.record.duration = p.started.elapsed();
        if let Some(j) = &self.journal {
            let _ = j.send((p.record.outcome.is_garbage(), p.record.to_json()));
        }
        self.events.emit(Event::Completed(p.record));
    }

    /// Ends a request: status fold, request log, event, serving window.
    pub(crate) fn complete(&self, mut p: Pending) {
        p.record.duration = p.started.elapsed();
        let rec = p.record;
        let all_configured = {
            let mut st = lock(&self.status);
            st.apply(&rec);
            st.all_configured()
        };
        if let Some(j) = &self.journal {
            let _ = j.send((rec.outcome.is_garbage(), rec.to_json()));
        }
        self.events.emit(Event::Completed(rec));
        if all_configured
            && self.policy().window.until_all_configured
            && !self.window_closed.swap(true, Ordering::SeqCst)
        {
            self.events.emit(Event::WindowClosed {
                reason: "every known device has fetched its config; further requests are refused".into(),
            });
        }
    }
}

/// Junk (malformed packets, requests refused as busy, packets the PnP
/// responder ignores) is recorded at most once per kind per period, whatever
/// address it claims to come from: the rest is only counted and named in the
/// next record. A flood from spoofed sources, one datagram per address, then
/// costs one record a second per kind, not one per address (issue 25: 475 B of
/// request log per garbage datagram from a new address).
pub(crate) struct Throttle {
    pub(super) every: Duration,
    /// kind of junk -> (last recorded, counted since, addresses since (at most [`JUNK_SOURCES`])).
    pub(super) seen: Mutex<std::collections::HashMap<&'static str, JunkCount>>,
}

/// One kind of junk: (last recorded, counted since, addresses since).
type JunkCount = (Instant, u64, HashSet<IpAddr>);

/// Distinct addresses counted per kind between two records.
const JUNK_SOURCES: usize = 1024;

/// What a record of junk says of the junk that was not recorded before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unrecorded {
    pub(crate) count: u64,
    /// Distinct addresses among them (at most [`JUNK_SOURCES`]).
    pub(crate) sources: usize,
}

impl Throttle {
    pub(crate) fn new(every: Duration) -> Self {
        Throttle { every, seen: Mutex::default() }
    }

    /// `Some(n)`: record this one (`n` of the same kind were not recorded
    /// since the last record of that kind); `None`: count it only.
    pub(crate) fn admit(&self, ip: IpAddr, kind: &'static str) -> Option<Unrecorded> {
        let now = Instant::now();
        let mut seen = lock(&self.seen);
        let (at, dropped, sources) = seen.entry(kind).or_insert_with(|| (now - self.every * 2, 0, HashSet::new()));
        if now.duration_since(*at) < self.every {
            *dropped += 1;
            if sources.len() < JUNK_SOURCES {
                sources.insert(ip);
            }
            return None;
        }
        let n = Unrecorded { count: std::mem::take(dropped), sources: std::mem::take(sources).len() };
        *at = now;
        Some(n)
    }

    /// What was counted and not recorded yet, per kind; the counts start again.
    pub(crate) fn drain(&self) -> Vec<(&'static str, Unrecorded)> {
        let mut seen = lock(&self.seen);
        let mut out: Vec<(&'static str, Unrecorded)> = seen
            .iter_mut()
            .filter(|(_, (_, n, _))| *n > 0)
            .map(|(k, (_, n, a))| (*k, Unrecorded { count: std::mem::take(n), sources: std::mem::take(a).len() }))
            .collect();
        out.sort_by_key(|(k, _)| *k);
        out
    }

    /// The note a record carries about what was not recorded.
    pub(crate) fn note(dropped: Unrecorded) -> String {
        match (dropped.count, dropped.sources) {
            (0, _) => String::new(),
            (n, 1) => {
                format!(" ({n} more like it since the last record, from one address, were counted, not recorded)")
            }
            (n, a) if a >= JUNK_SOURCES => format!(
                " ({n} more like it since the last record, from {JUNK_SOURCES} or more addresses, were counted, not \
                 recorded)"
            ),
            (n, a) => {
                format!(" ({n} more like it since the last record, from {a} addresses, were counted, not recorded)")
            }
        }
    }
}

/// A request in progress, becoming its [`RequestRecord`].
pub(crate) struct Pending {
    pub(super) started: Instant,
    pub(crate) record: RequestRecord,
}

impl Pending {
    pub(crate) fn id(&self) -> RequestId {
        self.record.id
    }

    pub(crate) fn set_user_agent(&mut self, raw: Option<&str>, ua: &UserAgent) {
        self.record.user_agent = raw.map(str::to_string);
        self.record.model = ua.model.clone();
        self.record.firmware = ua.firmware.clone();
    }

    pub(crate) fn set_decision(&mut self, d: &Decision) {
        self.record.mac = d.mac;
        self.record.kind = d.kind;
        self.record.explanation = d.explanation.clone();
        if let router::Verdict::Serve(src) = &d.verdict {
            self.record.file = Some(src.name().to_string());
            self.record.size = Some(src.size());
        }
    }

    /// Announces the transfer to the front ends ([`Event::Received`]) when they
    /// show it live ([`shown_live`]).
    pub(crate) fn announce(&self, shared: &Shared, name: &str, kind: ContentKind, size: Option<u64>) {
        if shown_live(Some(kind), size) {
            shared.emit(Event::Received(self.transfer(name, kind, size)));
        }
    }

    pub(crate) fn transfer(&self, name: &str, kind: ContentKind, size: Option<u64>) -> Transfer {
        Transfer {
            id: self.record.id,
            protocol: self.record.protocol,
            client: self.record.client,
            name: name.to_string(),
            kind,
            size,
            mac: self.record.mac,
        }
    }
}

/// Whether the front ends show a transfer while it runs ([`Event::Received`],
/// then [`Event::Progress`]): firmware, and any file of [`PROGRESS_MIN`] or
/// more. A config file is sent in one write within a millisecond; its
/// [`Event::Completed`] is all there is to show, and two events per request
/// cost a busy HTTP server about 2% of its CPU.
pub(crate) fn shown_live(kind: Option<ContentKind>, size: Option<u64>) -> bool {
    kind == Some(ContentKind::Firmware) || size.is_some_and(|t| t >= PROGRESS_MIN)
}

/// Throttled progress events for one transfer.
pub(crate) struct Meter<'a> {
    pub(super) shared: &'a Shared,
    pub(super) id: RequestId,
    pub(super) total: Option<u64>,
    pub(super) last: Instant,
    pub(super) enabled: bool,
}

impl<'a> Meter<'a> {
    pub(crate) fn new(shared: &'a Shared, id: RequestId, kind: Option<ContentKind>, total: Option<u64>) -> Self {
        Meter { shared, id, total, last: Instant::now(), enabled: shown_live(kind, total) }
    }

    pub(crate) fn update(&mut self, sent: u64) {
        if self.enabled && self.last.elapsed() >= self.shared.progress_interval {
            self.last = Instant::now();
            self.shared.emit(Event::Progress { id: self.id, sent, total: self.total });
        }
    }
}

/// The bytes of a served file: shared memory, or a firmware file read in chunks.
pub(crate) enum Body {
    Memory { bytes: Arc<[u8]>, pos: usize },
    File(tokio::io::BufReader<tokio::fs::File>),
}

impl Body {
    /// Opens what the router chose.
    pub(crate) fn open(shared: &Shared, src: &router::Source) -> Result<Body, storage::StorageError> {
        Ok(match src {
            router::Source::Generated(f) => Body::Memory { bytes: f.bytes.clone(), pos: 0 },
            router::Source::Firmware(f) => {
                let file = shared.open_firmware(&f.name)?;
                Body::File(tokio::io::BufReader::with_capacity(64 * 1024, tokio::fs::File::from_std(file)))
            }
        })
    }

    /// Skips the first `n` bytes (HTTP ranges).
    pub(crate) async fn skip(&mut self, n: u64) -> std::io::Result<()> {
        use tokio::io::AsyncSeekExt;
        match self {
            Body::Memory { pos, .. } => *pos = n as usize,
            Body::File(f) => {
                f.seek(std::io::SeekFrom::Start(n)).await?;
            }
        }
        Ok(())
    }

    /// Appends up to `n` bytes to `out`; fewer only at the end of the file.
    pub(crate) async fn read_into(&mut self, out: &mut Vec<u8>, n: usize) -> std::io::Result<usize> {
        use tokio::io::AsyncReadExt;
        match self {
            Body::Memory { bytes, pos } => {
                let end = (*pos + n).min(bytes.len());
                let start = (*pos).min(end);
                out.extend_from_slice(&bytes[start..end]);
                *pos = end;
                Ok(end - start)
            }
            Body::File(f) => {
                let before = out.len();
                out.reserve(n);
                let mut limited = f.take(n as u64);
                loop {
                    let got = limited.read_buf(out).await?;
                    if got == 0 || out.len() - before >= n {
                        break;
                    }
                }
                Ok(out.len() - before)
            }
        }
    }
}
