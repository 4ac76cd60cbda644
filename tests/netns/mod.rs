//! Network namespaces for tests (shared by the integration-test binaries):
//! [`enter`] runs a test again inside a fresh network namespace (only a
//! loopback, no route out; as a normal user inside a user namespace too, as
//! root without one, so it works in a chroot or container), [`Peer`] makes a second namespace joined by a veth
//! pair in 10.77.0.0/24. See tests/discovery.rs for the rules.
#![allow(dead_code, reason = "each test binary uses part of it (allow, not expect: some use all of it)")]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const INSIDE: &str = "GSPROV_NETNS_TEST";

/// How this process makes a network namespace: as root, a plain `unshare -n` (works in a
/// chroot or a container that forbids user namespaces); as anyone else, `unshare -rn` (a
/// user namespace that maps us to root inside, then the network namespace). The error is
/// the advice, naming the real cause.
fn unshare_flag() -> Result<&'static str, String> {
    static HOW: OnceLock<Result<&'static str, String>> = OnceLock::new();
    HOW.get_or_init(|| {
        let try_flag = |flag: &str| -> Result<(), String> {
            let o = Command::new("unshare")
                .args([flag, "true"])
                .output()
                .map_err(|e| format!("cannot run unshare (util-linux): {e}"))?;
            if o.status.success() {
                Ok(())
            } else {
                Err(format!("`unshare {flag} true` failed: {}", String::from_utf8_lossy(&o.stderr).trim()))
            }
        };
        if is_root() {
            match try_flag("-n") {
                Ok(()) => Ok("-n"),
                Err(why) => Err(format!(
                    "{why}; as root that means this container withholds CAP_SYS_ADMIN (docker: --cap-add \
                     SYS_ADMIN or --privileged; podman: --cap-add SYS_ADMIN)"
                )),
            }
        } else {
            try_flag("-rn").map(|()| "-rn").map_err(|why| format!("{why}; {}", userns_cause()))
        }
    })
    .clone()
}

/// Whether this process's effective user is root (`id -u`: no unsafe geteuid call for it).
fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.status.success() && o.stdout.trim_ascii() == b"0")
}

/// Why a normal user cannot make a user namespace here, from the kernel's switches.
fn userns_cause() -> String {
    let read = |p: &str| std::fs::read_to_string(p).ok().map(|s| s.trim().to_string());
    if read("/proc/sys/kernel/unprivileged_userns_clone").as_deref() == Some("0") {
        "the kernel forbids unprivileged user namespaces (kernel.unprivileged_userns_clone = 0): run the tests \
         as root, or `sysctl kernel.unprivileged_userns_clone=1`"
            .into()
    } else if read("/proc/sys/user/max_user_namespaces").as_deref() == Some("0") {
        "user namespaces are switched off (user.max_user_namespaces = 0): run the tests as root, or raise it".into()
    } else if read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").as_deref() == Some("1") {
        "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1): \
         run the tests as root"
            .into()
    } else {
        "the kernel allows user namespaces, so a container or seccomp policy forbids them here: run the tests \
         as root (a plain network namespace needs no user namespace)"
            .into()
    }
}

/// Runs the test `name` inside a fresh network namespace (and, when not root, a user
/// namespace). In the parent: runs the child, asserts it passed, returns `None`. In the
/// child: sets up loopback (up, multicast, 224.0.0.0/4 routed to it) and returns `Some`,
/// and the caller runs the body.
pub fn enter(name: &str) -> Option<()> {
    if std::env::var(INSIDE).as_deref() == Ok(name) {
        sh(&["ip link set lo up", "ip link set lo multicast on", "ip route add 224.0.0.0/4 dev lo"]);
        return Some(());
    }
    // Never a silent pass: these tests need a network namespace.
    let flag =
        unshare_flag().unwrap_or_else(|why| panic!("{name} needs a network namespace and cannot make one here: {why}"));
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new("unshare")
        .arg(flag)
        .arg(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(INSIDE, name)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn the test in a namespace");
    let pid = child.id();
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("child output".into())
        .spawn(move || {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text);
            let mut e = String::new();
            let _ = err.read_to_string(&mut e);
            let _ = tx.send(text + &e);
        })
        .unwrap();
    let output = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(o) => o,
        Err(_) => {
            // The whole group: the test and whatever it started (dnsmasq, the peer namespace).
            let _ = Command::new("kill").args(["-KILL", &format!("-{pid}")]).status();
            let _ = child.wait();
            panic!("{name} did not finish within 120 s inside its namespace");
        }
    };
    let status = child.wait().unwrap();
    println!("---- {name} inside its namespace ----\n{output}");
    assert!(status.success(), "{name} failed inside its namespace:\n{output}");
    assert!(output.contains("test result: ok. 1 passed"), "{name} did not run inside its namespace:\n{output}");
    None
}

/// Runs shell commands, each must succeed.
pub fn sh(cmds: &[&str]) {
    for c in cmds {
        let o = Command::new("sh").arg("-c").arg(c).output().unwrap();
        assert!(o.status.success(), "{c}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A second network namespace (a `sleep` holds it) joined to ours by a
/// veth pair: `gs0` here with 10.77.0.2/24, `gs1` there with 10.77.0.1/24
/// and the MAC given. Everything started in it dies with it (Drop).
pub struct Peer {
    holder: Child,
    started: Vec<Child>,
}

impl Peer {
    pub fn new(peer_mac: &str) -> Peer {
        let mut holder = Command::new("unshare")
            .args(["-n", "sh", "-c", "echo ready; exec sleep 600"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("unshare -n");
        let mut line = String::new();
        BufReader::new(holder.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready");
        let peer = Peer { holder, started: Vec::new() };
        let pid = peer.holder.id();
        sh(&[
            &format!("ip link add gs0 type veth peer name gs1 netns {pid}"),
            // No IPv6 on our side: nothing but what the test sends leaves gs0.
            "echo 1 > /proc/sys/net/ipv6/conf/gs0/disable_ipv6",
            "ip addr add 10.77.0.2/24 dev gs0",
            "ip link set gs0 up",
        ]);
        for c in [
            "ip link set lo up".to_string(),
            format!("ip link set gs1 address {peer_mac}"),
            "ip addr add 10.77.0.1/24 dev gs1".into(),
            "ip link set gs1 up".into(),
        ] {
            let o = peer.command(&c).output().unwrap();
            assert!(o.status.success(), "{c}: {}", String::from_utf8_lossy(&o.stderr));
        }
        peer
    }

    /// A shell command to run in the peer namespace.
    pub fn command(&self, cmd: &str) -> Command {
        let mut c = Command::new("nsenter");
        c.args(["-t", &self.holder.id().to_string(), "-n", "sh", "-c", cmd]);
        c
    }

    /// Starts a long-running command there; it is killed on drop.
    pub fn start(&mut self, mut c: Command) -> &mut Child {
        self.started.push(c.spawn().expect("start in the peer namespace"));
        self.started.last_mut().unwrap()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        for c in self.started.iter_mut().chain(std::iter::once(&mut self.holder)) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
