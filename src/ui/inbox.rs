//! The desktop app's inbox for server events: a bounded queue between the
//! servers (which push, through [`crate::services::Hooks::sink`]) and the UI
//! thread (which folds them into the board and the live log).
//!
//! Bounded three ways (issue 27 item 19: a request flood, a boot storm or a
//! hostile host, while the window is minimised):
//! - progress is coalesced: a transfer has at most one `Progress` queued, the
//!   newest (a bar only shows the last one);
//! - the UI drains it in full whenever no frame is drawn (minimised or hidden:
//!   eframe then runs only `logic`, at most every 100 ms) and whenever it holds
//!   more than [`FOLD_ALL_ABOVE`] events; otherwise within the frame budget;
//! - it never holds more than [`CAPACITY`] events: a server with an event to
//!   push waits until the UI has taken some. With the drains above that only
//!   happens when the UI thread has stopped folding for
//!   `CAPACITY` events' time; dropping records instead would make the board's
//!   counts false.
//!
//! One wake per batch: the UI is woken when the queue goes from empty to not
//! empty (it asks for another frame itself when it leaves events behind).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::event::Event;
use crate::serving::RequestId;

/// Most events queued at once.
pub const CAPACITY: usize = 32_768;

/// Above this many queued events the UI folds them all in one frame rather
/// than 2 ms' worth (a frame that takes longer beats a queue that grows).
pub const FOLD_ALL_ABOVE: usize = 4_096;

/// The queue; shared by the servers' threads (push) and the UI (take).
pub struct Inbox {
    queue: Mutex<Queue>,
    /// Signalled when events are taken (a full queue has room again) or the inbox closes.
    room: Condvar,
    /// Signalled when an event arrives (for [`Inbox::recv_timeout`]).
    arrived: Condvar,
    wake: Arc<dyn Fn() + Send + Sync>,
}

#[derive(Default)]
struct Queue {
    events: VecDeque<Event>,
    /// The sequence number of `events[0]`.
    head: u64,
    /// Each transfer's queued `Progress`, by sequence number.
    progress: HashMap<RequestId, u64>,
    /// The most events ever queued at once.
    peak: usize,
    /// Progress events that replaced a queued one.
    coalesced: u64,
    /// Events pushed in all.
    pushed: u64,
    closed: bool,
}

impl Queue {
    fn pop(&mut self) -> Option<Event> {
        let e = self.events.pop_front()?;
        if let Event::Progress { id, .. } = &e
            && self.progress.get(id) == Some(&self.head)
        {
            self.progress.remove(id);
        }
        self.head += 1;
        Some(e)
    }
}

/// What the inbox has seen, for tests and the curious.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub queued: usize,
    pub peak: usize,
    pub coalesced: u64,
    pub pushed: u64,
}

fn lock(m: &Mutex<Queue>) -> MutexGuard<'_, Queue> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inbox {
    /// An empty inbox; `wake` asks the UI for a pass (`request_repaint`).
    pub fn new(wake: Arc<dyn Fn() + Send + Sync>) -> Arc<Inbox> {
        Arc::new(Inbox { queue: Mutex::default(), room: Condvar::new(), arrived: Condvar::new(), wake })
    }

    /// Queues one event (a server's thread): a transfer's progress replaces
    /// its queued progress; a full queue waits for the UI to take some.
    pub fn push(&self, e: Event) {
        let mut q = lock(&self.queue);
        if q.closed {
            return;
        }
        q.pushed += 1;
        if let Event::Progress { id, .. } = &e
            && let Some(&seq) = q.progress.get(id)
            && seq >= q.head
        {
            let i = usize::try_from(seq - q.head).unwrap_or(usize::MAX);
            if let Some(slot) = q.events.get_mut(i) {
                *slot = e;
                q.coalesced += 1;
                return;
            }
        }
        while q.events.len() >= CAPACITY && !q.closed {
            // The UI has just been woken (the queue is not empty): it takes
            // events within 100 ms even while minimised.
            q = self.room.wait_timeout(q, Duration::from_millis(100)).unwrap_or_else(PoisonError::into_inner).0;
        }
        if q.closed {
            return;
        }
        let seq = q.head + q.events.len() as u64;
        match &e {
            Event::Progress { id, .. } => {
                q.progress.insert(*id, seq);
            }
            // A finished transfer's queued progress is still folded before
            // it; nothing later may replace it.
            Event::Completed(r) => {
                q.progress.remove(&r.id);
            }
            _ => {}
        }
        let was_empty = q.events.is_empty();
        q.events.push_back(e);
        q.peak = q.peak.max(q.events.len());
        drop(q);
        self.arrived.notify_all();
        if was_empty {
            (self.wake)();
        }
    }

    /// Takes at most `max` events, oldest first.
    pub fn take(&self, max: usize) -> Vec<Event> {
        let mut q = lock(&self.queue);
        let full = q.events.len() >= CAPACITY;
        let n = max.min(q.events.len());
        let taken: Vec<Event> = (0..n).filter_map(|_| q.pop()).collect();
        drop(q);
        if full && n > 0 {
            self.room.notify_all();
        }
        taken
    }

    /// Takes every queued event, oldest first.
    pub fn take_all(&self) -> Vec<Event> {
        self.take(usize::MAX)
    }

    /// Waits up to `timeout` for an event and takes it (tests and the
    /// control thread's own test; the UI never blocks).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        let mut q = lock(&self.queue);
        loop {
            if let Some(e) = q.pop() {
                drop(q);
                self.room.notify_all();
                return Some(e);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            q = self.arrived.wait_timeout(q, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    pub fn len(&self) -> usize {
        lock(&self.queue).events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn counts(&self) -> Counts {
        let q = lock(&self.queue);
        Counts { queued: q.events.len(), peak: q.peak, coalesced: q.coalesced, pushed: q.pushed }
    }

    /// Nobody folds any more (the app closes): pushes are dropped and a
    /// server waiting for room goes on at once.
    pub fn close(&self) {
        let mut q = lock(&self.queue);
        q.closed = true;
        q.events.clear();
        q.progress.clear();
        drop(q);
        self.room.notify_all();
        self.arrived.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Transfer;
    use crate::serving::{ContentKind, Protocol, RequestRecord};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting() -> (Arc<Inbox>, Arc<AtomicUsize>) {
        let wakes = Arc::new(AtomicUsize::new(0));
        let w = wakes.clone();
        (
            Inbox::new(Arc::new(move || {
                w.fetch_add(1, Ordering::SeqCst);
            })),
            wakes,
        )
    }

    fn completed(id: u64) -> Event {
        let client = std::net::SocketAddr::from(([127, 0, 0, 2], 69));
        Event::Completed(RequestRecord::new(id, std::time::SystemTime::now(), client, Protocol::Tftp, "RRQ", "x.bin"))
    }

    #[test]
    fn progress_is_coalesced_per_transfer_and_order_is_kept() {
        let (inbox, wakes) = counting();
        let client = std::net::SocketAddr::from(([127, 0, 0, 2], 69));
        for id in [1, 2] {
            inbox.push(Event::Received(Transfer {
                id,
                protocol: Protocol::Tftp,
                client,
                name: "fw.bin".into(),
                kind: ContentKind::Firmware,
                size: Some(1000),
                mac: None,
            }));
        }
        for sent in 1..=1000u64 {
            inbox.push(Event::Progress { id: 1, sent, total: Some(1000) });
            inbox.push(Event::Progress { id: 2, sent: sent / 2, total: Some(1000) });
        }
        // Two transfers, two progress events: the newest of each.
        assert_eq!(inbox.len(), 4);
        assert_eq!(inbox.counts().coalesced, 1998);
        assert_eq!(wakes.load(Ordering::SeqCst), 1, "one wake while the queue was not empty");
        // Taking the first three leaves transfer 2's progress; new progress
        // for transfer 1 queues behind it (its old one is gone).
        let first = inbox.take(3);
        assert!(matches!(first[2], Event::Progress { id: 1, sent: 1000, .. }), "{:?}", first[2]);
        inbox.push(Event::Progress { id: 1, sent: 1001, total: Some(1000) });
        inbox.push(Event::Progress { id: 2, sent: 999, total: Some(1000) });
        inbox.push(completed(2));
        inbox.push(Event::Progress { id: 2, sent: 1000, total: Some(1000) });
        let rest = inbox.take_all();
        let shape: Vec<(u64, u64)> = rest
            .iter()
            .map(|e| match e {
                Event::Progress { id, sent, .. } => (*id, *sent),
                Event::Completed(r) => (r.id, u64::MAX),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(shape, [(2, 999), (1, 1001), (2, u64::MAX), (2, 1000)]);
        assert!(inbox.is_empty());
    }

    #[test]
    fn a_full_inbox_holds_the_pusher_until_the_ui_takes_and_never_grows_past_capacity() {
        let (inbox, _) = counting();
        let total = CAPACITY as u64 * 3;
        let producer = {
            let inbox = inbox.clone();
            std::thread::Builder::new()
                .name("test-flood".into())
                .spawn(move || {
                    for id in 0..total {
                        inbox.push(completed(id));
                    }
                })
                .unwrap()
        };
        let mut got = Vec::new();
        while (got.len() as u64) < total {
            match inbox.recv_timeout(Duration::from_secs(10)) {
                Some(Event::Completed(r)) => got.push(r.id),
                other => panic!("expected a record, got {other:?}"),
            }
            got.extend(inbox.take(1000).into_iter().map(|e| match e {
                Event::Completed(r) => r.id,
                other => panic!("{other:?}"),
            }));
        }
        producer.join().unwrap();
        assert!(got.iter().copied().eq(0..total), "every record, in order");
        let c = inbox.counts();
        assert!(c.peak <= CAPACITY, "{c:?}");
        assert_eq!(c.pushed, total);
    }

    #[test]
    fn closing_releases_a_waiting_pusher() {
        let (inbox, _) = counting();
        for id in 0..CAPACITY as u64 {
            inbox.push(completed(id));
        }
        let producer = {
            let inbox = inbox.clone();
            std::thread::Builder::new()
                .name("test-pusher".into())
                .spawn(move || inbox.push(completed(u64::MAX)))
                .unwrap()
        };
        inbox.close();
        producer.join().unwrap();
        assert!(inbox.is_empty());
    }
}
