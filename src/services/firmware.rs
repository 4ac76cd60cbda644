//! The firmware folder as the servers see it: its listing (read again at
//! most every [`LISTING_TTL`]) and the limit on firmware transfers at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::serving::firmware::FirmwareListing;
use crate::storage;

use super::lock;

/// How long a firmware folder listing is trusted before it is read again.
const LISTING_TTL: Duration = Duration::from_secs(2);

/// The firmware folder, listed at most every [`LISTING_TTL`].
pub(super) struct FirmwareSource {
    dir: Option<PathBuf>,
    /// Files gsprov writes that must never be served, wherever they are.
    exclude: Vec<PathBuf>,
    cache: Mutex<Option<(Instant, Arc<FirmwareListing>)>>,
    /// The links last said in the log: each change is said once, not every listing.
    links_said: Mutex<Vec<crate::serving::FirmwareLink>>,
}

impl FirmwareSource {
    pub(super) fn new(dir: Option<PathBuf>, exclude: Vec<PathBuf>) -> Self {
        FirmwareSource { dir, exclude, cache: Mutex::new(None), links_said: Mutex::default() }
    }

    pub(super) fn listing(&self) -> Arc<FirmwareListing> {
        let mut cache = lock(&self.cache);
        if let Some((at, l)) = cache.as_ref()
            && at.elapsed() < LISTING_TTL
        {
            return l.clone();
        }
        let listing = Arc::new(match &self.dir {
            None => FirmwareListing::default(),
            Some(d) => {
                let shown = Some(d.display().to_string());
                match storage::list_firmware(d, &self.exclude) {
                    Ok(scan) => {
                        self.say_links(&scan.links);
                        FirmwareListing::new(shown, scan.files, None).with_links(scan.links)
                    }
                    Err(e) => FirmwareListing::new(shown, Vec::new(), Some(e.to_string())),
                }
            }
        });
        *cache = Some((Instant::now(), listing.clone()));
        listing
    }

    pub(super) fn open(&self, name: &str) -> Result<std::fs::File, storage::StorageError> {
        let dir = self.dir.as_deref().unwrap_or(std::path::Path::new("."));
        storage::open_firmware(dir, name, &self.exclude)
    }

    /// Says in the log where each link of the firmware folder points and why
    /// one is refused, when that changed since it was last said.
    fn say_links(&self, links: &[crate::serving::FirmwareLink]) {
        let mut said = lock(&self.links_said);
        if said.as_slice() == links {
            return;
        }
        for l in links.iter().filter(|l| !said.contains(l)) {
            let described = l.describe();
            let line = crate::formats::printable(&described);
            if l.refused.is_some() {
                tracing::warn!("firmware folder: {line}");
            } else {
                tracing::info!("firmware folder: {line}");
            }
        }
        *said = links.to_vec();
    }
}

/// Firmware transfers at once (`[firmware] max_transfers`), TFTP and HTTP(S)
/// together. The next ones wait (they are not refused). One address holds at
/// most `limit - limit / 4` of them (at least one), so a host with stalled or
/// abandoned transfers cannot take every slot from the devices that come
/// next, as the TFTP server keeps a reserve for new addresses.
pub(crate) struct FirmwareGate {
    limit: usize,
    per_address: usize,
    held: Mutex<(usize, HashMap<IpAddr, usize>)>,
    freed: tokio::sync::Notify,
}

impl FirmwareGate {
    pub(crate) fn new(limit: usize) -> FirmwareGate {
        FirmwareGate {
            limit,
            per_address: (limit - limit / 4).max(1),
            held: Mutex::default(),
            freed: tokio::sync::Notify::new(),
        }
    }

    fn try_take(&self, ip: IpAddr) -> bool {
        let mut g = lock(&self.held);
        let (total, per) = &mut *g;
        let mine = per.get(&ip).copied().unwrap_or(0);
        if *total >= self.limit || mine >= self.per_address {
            return false;
        }
        *total += 1;
        *per.entry(ip).or_insert(0) += 1;
        true
    }

    /// Waits for a slot for `ip`; `None` when `cancel` fires first.
    pub(super) async fn take(self: &Arc<Self>, ip: IpAddr, cancel: &CancellationToken) -> Option<FirmwareSlot> {
        let started = Instant::now();
        let mut waited = false;
        loop {
            // Registered before the check, so a slot freed in between still wakes this task.
            let notified = self.freed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.try_take(ip) {
                let waited = waited.then(|| (started.elapsed(), self.limit));
                return Some(FirmwareSlot { gate: Some((self.clone(), ip)), waited });
            }
            waited = true;
            tokio::select! {
                _ = cancel.cancelled() => return None,
                _ = &mut notified => {}
            }
        }
    }
}

/// A firmware transfer slot, held for the transfer (released on drop).
pub(crate) struct FirmwareSlot {
    pub(super) gate: Option<(Arc<FirmwareGate>, IpAddr)>,
    /// How long the transfer waited for it, and the limit, when it waited.
    pub(crate) waited: Option<(Duration, usize)>,
}

impl FirmwareSlot {
    /// For the record's explanation: `; waited 1.2 s for a firmware transfer slot (...)`.
    pub(crate) fn note(&self) -> String {
        match self.waited {
            Some((d, limit)) => format!(
                "; waited {:.1} s for a firmware transfer slot ([firmware] max_transfers = {limit} at once)",
                d.as_secs_f64()
            ),
            None => String::new(),
        }
    }
}

impl Drop for FirmwareSlot {
    fn drop(&mut self) {
        let Some((gate, ip)) = self.gate.take() else { return };
        {
            let mut g = lock(&gate.held);
            let (total, per) = &mut *g;
            *total = total.saturating_sub(1);
            if let Some(n) = per.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per.remove(&ip);
                }
            }
        }
        gate.freed.notify_waiters();
    }
}
