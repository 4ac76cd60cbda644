//! HTTP Digest nonces: each challenge's own nonce, and the nonce counts seen
//! with correct answers, so a phone answering every 401 afresh is served and
//! a captured `Authorization` header sent again is refused. Shared by every
//! connection of a run ([`super::Shared`]).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::formats::http;

use super::lock;

/// How long a Digest nonce stays valid.
pub(super) const NONCE_LIFETIME: u64 = 300;

/// Digest nonces seen with a correct answer, and the highest nonce count
/// (`nc`) used with each: a captured `Authorization` header sent again is
/// refused (RFC 7616 §3.3: the server may track nc to detect replays). A nonce
/// without qop (and so without nc) is good for one request. Every challenge
/// gets a nonce of its own ([`NonceBook::issue`]), so one client's count never
/// collides with another's.
pub(crate) struct NonceBook {
    /// nonce -> (issue time, highest nc used).
    seen: Mutex<NonceMap>,
    /// The serial of the next nonce; starts at a random value so nonces of two
    /// runs with the same secret would still differ.
    serial: std::sync::atomic::AtomicU64,
}

#[derive(Default)]
struct NonceMap {
    used: HashMap<String, (u64, u32)>,
    /// Nonces issued at or before this time were forgotten to bound memory: a
    /// forgotten nonce would make its old answers look new, so they are answered
    /// as stale (the device retries with a new nonce) instead.
    forgotten_up_to: Option<u64>,
}

impl Default for NonceBook {
    fn default() -> Self {
        let mut start = [0u8; 8];
        // Only makes the serials unpredictable; uniqueness comes from counting.
        let _ = getrandom::fill(&mut start);
        NonceBook { seen: Mutex::default(), serial: u64::from_le_bytes(start).into() }
    }
}

/// Most nonces remembered; expired ones are forgotten first.
const MAX_NONCES: usize = 8192;

/// What the book says of a correct Digest answer.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum NonceUse {
    /// A new nonce, or a higher nonce count: served.
    Fresh,
    /// This nonce and count were used already: a captured header sent again.
    Replayed,
    /// Issued before the book last forgot nonces to stay bounded.
    Forgotten,
}

impl NonceBook {
    /// A nonce for a new challenge, never issued before in this run.
    pub(super) fn issue(&self, now: u64, secret: &[u8; 16]) -> String {
        let serial = self.serial.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        http::digest_nonce(now, serial, secret)
    }

    /// Whether `nc` (hex, with qop) or this nonce (without) is new; records it.
    pub(super) fn fresh(&self, nonce: &str, issued: u64, nc: Option<u32>, now: u64) -> NonceUse {
        let mut m = lock(&self.seen);
        if m.forgotten_up_to.is_some_and(|t| issued <= t) && !m.used.contains_key(nonce) {
            return NonceUse::Forgotten;
        }
        if m.used.len() >= MAX_NONCES && !m.used.contains_key(nonce) {
            m.used.retain(|_, (t, _)| now.saturating_sub(*t) <= NONCE_LIFETIME);
            if m.used.len() >= MAX_NONCES {
                tracing::warn!("more than {MAX_NONCES} Digest nonces in use at once; the oldest are forgotten");
                let oldest = m.used.values().map(|(t, _)| *t).min().unwrap_or(0);
                m.used.retain(|_, (t, _)| *t > oldest);
                m.forgotten_up_to = Some(oldest);
                if issued <= oldest {
                    return NonceUse::Forgotten;
                }
            }
        }
        match (m.used.get_mut(nonce), nc) {
            (Some((_, last)), Some(n)) if n > *last => {
                *last = n;
                NonceUse::Fresh
            }
            (Some(_), _) => NonceUse::Replayed,
            (None, n) => {
                m.used.insert(nonce.to_string(), (issued, n.unwrap_or(0)));
                NonceUse::Fresh
            }
        }
    }
}
