//! Keeping a client's work on the CPU that receives its packets.
//!
//! The kernel reports, per connected socket, the CPU that ran the receive
//! path of its last packet (`SO_INCOMING_CPU`): the NIC queue's CPU for a real
//! device, the sender's own CPU on loopback. Work for that client done on
//! another CPU pays twice per packet: a cross-CPU wake-up (an IPI, dear in a
//! virtual machine) and the socket's data moving between caches. The
//! scheduler does not correct this by itself: it wakes a thread where it last
//! ran unless the waker's CPU is idle, so twenty TFTP transfers settled about
//! half cross-CPU, where tftpd-hpa's forked children start beside their
//! client by chance (measured in `benches/SERVING.md`).
//!
//! - [`Follow`]: a TFTP transfer thread moves to its client's CPU, and is not
//!   pinned there (the scheduler may still move it; the next look moves it back).
//! - [`Cores`]: one single-threaded runtime per CPU, on a thread kept on that
//!   CPU, for kept-alive HTTP connections: a connection that has served a
//!   few dozen requests moves to the runtime of the CPU its packets arrive
//!   on, as a per-CPU server (nginx with `worker_cpu_affinity`, `SO_REUSEPORT`
//!   groups) would place it.
//!
//! Linux only; elsewhere [`Follow`] does nothing and [`Cores`] has no CPUs
//! (every connection stays on the shared runtime).
//!
//! Owns: the per-CPU threads. Must not touch: anything but scheduling.

use std::net::UdpSocket;

#[cfg(target_os = "linux")]
mod sys {
    /// The CPUs this thread may run on.
    #[expect(unsafe_code, reason = "sched_getaffinity has no safe wrapper in std; it only writes a local set")]
    pub(crate) fn allowed() -> Option<libc::cpu_set_t> {
        // SAFETY: an all-zero cpu_set_t is valid.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: pid 0 is this thread; writes at most the size passed into `set`.
        let ok = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) } == 0;
        ok.then_some(set)
    }

    /// Sets the CPUs this thread may run on; leaving the current one migrates it before returning.
    #[expect(unsafe_code, reason = "sched_setaffinity has no safe wrapper in std; it only reads the set")]
    pub(crate) fn set(set: &libc::cpu_set_t) -> bool {
        // SAFETY: reads a valid set of the size passed.
        unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) == 0 }
    }

    /// A set of one CPU; `None` beyond `CPU_SETSIZE`.
    #[expect(unsafe_code, reason = "CPU_SET has no safe wrapper; the index is checked against the set's size")]
    pub(crate) fn only(cpu: usize) -> Option<libc::cpu_set_t> {
        if cpu >= libc::CPU_SETSIZE as usize {
            return None;
        }
        // SAFETY: an all-zero set is valid.
        let mut one: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: cpu < CPU_SETSIZE.
        unsafe { libc::CPU_SET(cpu, &mut one) };
        Some(one)
    }

    /// Whether `set` holds `cpu`.
    #[expect(unsafe_code, reason = "CPU_ISSET has no safe wrapper; the index is checked against the set's size")]
    pub(crate) fn contains(set: &libc::cpu_set_t, cpu: usize) -> bool {
        // SAFETY: cpu < CPU_SETSIZE.
        cpu < libc::CPU_SETSIZE as usize && unsafe { libc::CPU_ISSET(cpu, set) }
    }

    /// The CPUs in `set`, in order.
    pub(crate) fn members(set: &libc::cpu_set_t) -> Vec<usize> {
        (0..libc::CPU_SETSIZE as usize).filter(|&c| contains(set, c)).collect()
    }

    /// The CPU this thread runs on now.
    #[expect(unsafe_code, reason = "sched_getcpu has no safe wrapper in std; it takes no arguments")]
    pub(crate) fn current() -> Option<usize> {
        // SAFETY: no arguments, no memory touched.
        usize::try_from(unsafe { libc::sched_getcpu() }).ok()
    }
}

/// The CPU that received the last packet of a connected socket.
#[cfg(target_os = "linux")]
fn incoming(sock: socket2::SockRef<'_>) -> Option<usize> {
    sock.cpu_affinity().ok()
}

/// Moves a TFTP transfer's thread to the CPU of its client's packets.
pub(crate) struct Follow {
    #[cfg(target_os = "linux")]
    original: Option<libc::cpu_set_t>,
}

impl Follow {
    pub(crate) fn new() -> Follow {
        Follow {
            #[cfg(target_os = "linux")]
            original: sys::allowed(),
        }
    }

    /// Moves this thread to the CPU that received `sock`'s last packet, if it
    /// runs elsewhere and may run there; returns that CPU when it moved. The
    /// thread's affinity is set to that one CPU (which migrates it at once)
    /// and straight back to what it was.
    #[cfg(target_os = "linux")]
    pub(crate) fn follow(&mut self, sock: &UdpSocket) -> Option<usize> {
        let original = self.original.as_ref()?;
        let cpu = incoming(socket2::SockRef::from(sock))?;
        if sys::current() == Some(cpu) || !sys::contains(original, cpu) {
            return None;
        }
        let moved = sys::set(&sys::only(cpu)?);
        // If this fails the thread stays on that one CPU, which is still correct.
        sys::set(original);
        moved.then_some(cpu)
    }

    #[cfg(not(target_os = "linux"))]
    pub(crate) fn follow(&mut self, _sock: &UdpSocket) -> Option<usize> {
        None
    }
}

#[cfg(target_os = "linux")]
thread_local! {
    /// The CPU whose runtime this thread runs (`None`: not a per-CPU thread).
    static HOME: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

/// Most per-CPU runtimes: beyond this many CPUs a LAN's devices cannot keep
/// them busy, and each holds a thread. (Linux only, like the runtimes.)
#[cfg(target_os = "linux")]
const MAX_CORES: usize = 8;

/// One single-threaded tokio runtime per CPU (at most [`MAX_CORES`]), each on
/// a thread that may run only there. Dropping it stops them: tasks still on
/// them are dropped (the supervisor has cancelled them first).
pub(crate) struct Cores {
    cores: Vec<Core>,
}

struct Core {
    cpu: usize,
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Cores {
    /// The runtimes, one per CPU this process may use; none when there is one
    /// CPU, off Linux, or when a thread cannot start (connections then stay on
    /// the shared runtime: slower, never wrong).
    pub(crate) fn start() -> Cores {
        #[cfg(not(target_os = "linux"))]
        let cores = Vec::new();
        #[cfg(target_os = "linux")]
        let mut cores = Vec::new();
        #[cfg(target_os = "linux")]
        {
            let cpus = sys::allowed().map(|s| sys::members(&s)).unwrap_or_default();
            if cpus.len() > 1 {
                for cpu in cpus.into_iter().take(MAX_CORES) {
                    match Core::start(cpu) {
                        Ok(c) => cores.push(c),
                        Err(e) => {
                            tracing::warn!("no runtime for CPU {cpu}: {e}; its connections use the shared one");
                        }
                    }
                }
            }
        }
        Cores { cores }
    }

    /// Where to spawn on them. The handles do not keep the runtimes alive:
    /// whoever holds them (a server's task, perhaps on one of these threads)
    /// can never be the one that stops and joins them.
    pub(crate) fn handles(&self) -> CoreHandles {
        CoreHandles(self.cores.iter().map(|c| (c.cpu, c.handle.clone())).collect())
    }
}

/// The per-CPU runtimes' handles, by CPU.
#[derive(Clone, Default)]
#[cfg_attr(
    not(target_os = "linux"),
    expect(dead_code, reason = "off Linux there are no per-CPU runtimes: the list is always empty and never read")
)]
pub(crate) struct CoreHandles(Vec<(usize, tokio::runtime::Handle)>);

impl CoreHandles {
    /// The runtime to move `stream` to: that of the CPU its packets arrive
    /// on, unless this is already that CPU's runtime. From the shared runtime
    /// a connection always moves (its workers run on any CPU).
    pub(crate) fn moving(&self, stream: &tokio::net::TcpStream) -> Option<&tokio::runtime::Handle> {
        #[cfg(target_os = "linux")]
        {
            if self.0.is_empty() {
                return None;
            }
            let cpu = incoming(socket2::SockRef::from(stream))?;
            if HOME.get() == Some(cpu) {
                return None;
            }
            self.0.iter().find(|(c, _)| *c == cpu).map(|(_, h)| h)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = stream;
            None
        }
    }
}

impl Core {
    #[cfg(target_os = "linux")]
    fn start(cpu: usize) -> std::io::Result<Core> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name(format!("gsprov-cpu{cpu}")).spawn(move || {
            let pinned = sys::only(cpu).is_some_and(|one| sys::set(&one));
            HOME.set(Some(cpu));
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
            let rt = match (pinned, rt) {
                (true, Ok(rt)) => rt,
                (false, _) => {
                    let _ = handle_tx.send(Err(std::io::Error::other("cannot keep a thread on it")));
                    return;
                }
                (true, Err(e)) => {
                    let _ = handle_tx.send(Err(e));
                    return;
                }
            };
            let _ = handle_tx.send(Ok(rt.handle().clone()));
            // Runs the connections spawned here until told to stop (or the sender is gone).
            let _ = rt.block_on(stopped);
            rt.shutdown_timeout(std::time::Duration::from_millis(200));
        })?;
        let handle = handle_rx.recv().map_err(|_| std::io::Error::other("the thread ended at once"))??;
        Ok(Core { cpu, handle, stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for Cores {
    fn drop(&mut self) {
        for c in &mut self.cores {
            if let Some(s) = c.stop.take() {
                let _ = s.send(());
            }
        }
        for c in &mut self.cores {
            if let Some(t) = c.thread.take() {
                let _ = t.join();
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{Follow, sys};
    use std::net::UdpSocket;

    /// The CPUs this test may use (at most two): the first is where the
    /// receiving thread starts, the packets come from each in turn.
    fn cpus() -> Vec<usize> {
        sys::members(&sys::allowed().expect("sched_getaffinity")).into_iter().take(2).collect()
    }

    #[test]
    fn a_transfer_thread_moves_to_the_cpu_that_receives_its_clients_packets() {
        let original = sys::allowed().expect("sched_getaffinity");
        let cpus = cpus();
        assert!(!cpus.is_empty());
        // Connected, as a transfer's socket is: the kernel keeps the incoming
        // CPU only for connected UDP sockets.
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.connect(tx.local_addr().unwrap()).unwrap();
        let to = rx.local_addr().unwrap();
        // Start on the first CPU; packets then come from the last one (the
        // other CPU on a machine with two), then from the first.
        assert!(sys::set(&sys::only(cpus[0]).unwrap()));
        assert!(sys::set(&original));
        let mut buf = [0u8; 16];
        for &from in cpus.iter().rev().chain(cpus.first()) {
            std::thread::scope(|s| {
                s.spawn(|| {
                    assert!(sys::set(&sys::only(from).unwrap()));
                    tx.send_to(b"ack", to).unwrap();
                });
            });
            assert_eq!(rx.recv(&mut buf).unwrap(), 3);
            assert_eq!(socket2::SockRef::from(&rx).cpu_affinity().unwrap(), from, "SO_INCOMING_CPU");
            let was = sys::current().unwrap();
            let moved = Follow::new().follow(&rx);
            assert_eq!(moved, (was != from).then_some(from), "moved from CPU {was} to the sender's CPU {from}");
            assert_eq!(sys::current(), Some(from));
            // Moved, not pinned: the thread may run anywhere it could before.
            assert_eq!(sys::members(&sys::allowed().unwrap()), sys::members(&original));
        }
    }

    #[test]
    fn a_connection_moves_to_the_runtime_of_its_packets_cpu_and_follows_them() {
        let cpus = cpus();
        let cores = super::Cores::start();
        let handles = cores.handles();
        if cpus.len() < 2 {
            // One CPU: no runtimes; every connection stays on the shared runtime.
            assert!(cores.cores.is_empty());
            return;
        }
        assert_eq!(cores.cores.iter().map(|c| c.cpu).collect::<Vec<_>>(), cpus);
        // The server side starts on the first CPU, the client on the second.
        let original = sys::allowed().unwrap();
        assert!(sys::set(&sys::only(cpus[0]).unwrap()));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<usize>();
        let first = cpus[1];
        let client = std::thread::Builder::new()
            .name("test-client".into())
            .spawn(move || {
                use std::io::Write as _;
                assert!(sys::set(&sys::only(first).unwrap()));
                let mut c = std::net::TcpStream::connect(addr).unwrap();
                c.write_all(b"one").unwrap();
                let next = go_rx.recv().unwrap();
                assert!(sys::set(&sys::only(next).unwrap()));
                c.write_all(b"two").unwrap();
                let _ = go_rx.recv();
            })
            .unwrap();
        rt.block_on(async {
            use tokio::io::AsyncReadExt as _;
            let (mut s, _) = listener.accept().await.unwrap();
            let mut one = [0u8; 3];
            s.read_exact(&mut one).await.unwrap();
            assert_eq!(&one, b"one");
            let core = handles.moving(&s).expect("moves to the runtime of the client's CPU").clone();
            // A task there runs on that CPU, and from there the connection stays.
            let std = s.into_std().unwrap();
            let there = handles.clone();
            let (on, stays, std) = core
                .spawn(async move {
                    let s = tokio::net::TcpStream::from_std(std).unwrap();
                    let stays = there.moving(&s).is_none();
                    (sys::current(), stays, s.into_std().unwrap())
                })
                .await
                .unwrap();
            assert_eq!((on, stays), (Some(cpus[1]), true));
            // The client's packets now come from the first CPU: it moves there.
            go_tx.send(cpus[0]).unwrap();
            let there = handles.clone();
            let to = core
                .spawn(async move {
                    let mut s = tokio::net::TcpStream::from_std(std).unwrap();
                    let mut two = [0u8; 3];
                    s.read_exact(&mut two).await.unwrap();
                    assert_eq!(&two, b"two");
                    there.moving(&s).cloned().map(|h| (h, s.into_std().unwrap()))
                })
                .await
                .unwrap();
            let (to, _std) = to.expect("moves to the runtime of the first CPU");
            let on = to.spawn(async { sys::current() }).await.unwrap();
            assert_eq!(on, Some(cpus[0]));
        });
        assert!(sys::set(&original));
        go_tx.send(0).unwrap();
        client.join().unwrap();
    }

    /// Whatever starts must stop: dropping the runtimes ends their threads,
    /// with tasks still waiting on them (those are dropped, not leaked).
    #[test]
    fn the_per_cpu_runtimes_stop_when_dropped_even_with_tasks_on_them() {
        let cores = super::Cores::start();
        let cpus = cpus();
        assert_eq!(cores.cores.len(), if cpus.len() > 1 { cpus.len().min(super::MAX_CORES) } else { 0 });
        let waiting: Vec<_> = cores.handles().0.iter().map(|(_, h)| h.spawn(std::future::pending::<()>())).collect();
        drop(cores);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        for w in waiting {
            assert!(rt.block_on(w).unwrap_err().is_cancelled());
        }
    }
}
