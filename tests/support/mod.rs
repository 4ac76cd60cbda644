//! Helpers more than one integration-test binary needs (each `tests/*.rs` is
//! its own crate and includes this with `mod support;`).
#![allow(dead_code, reason = "each test binary uses part of it (allow, not expect: some use all of it)")]

pub mod desks;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::{Child, Command, Output};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use gsprov::formats::tftp::{Mode, Packet, Request as Rrq};

/// How long a test waits for one answer before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// The gsprov binary under test, with no password taken from this shell.
pub fn gsprov() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gsprov"));
    c.env_remove("GSPROV_XML_PASSWORD").env_remove("GSPROV_HTTP_PASSWORD");
    c
}

pub fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// curl with `args`; returns (exit code, HTTP code, body).
pub fn curl(args: &[&str]) -> (i32, u16, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("body");
    let o = Command::new("curl")
        .args(["-s", "-o"])
        .arg(&out)
        .args(["-w", "%{http_code}", "--max-time", "20"])
        .args(args)
        .output()
        .expect("curl is installed (.ci/run)");
    let code = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or(0);
    (o.status.code().unwrap_or(-1), code, std::fs::read(&out).unwrap_or_default())
}

/// One raw exchange on a fresh TCP connection: (HTTP status, the whole response).
pub fn http_exchange(addr: SocketAddr, request: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let status = text(&out).split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out)
}

/// The first reply to a raw RRQ sent from `from` with `opts`: `Ok(first data
/// block, or the OACK packet)` or `Err((TFTP error code, message))`; no reply
/// within [`WAIT`] is `Err((999, why))`.
pub fn tftp_first_reply(
    server: SocketAddr,
    name: &str,
    from: &str,
    opts: &[(&str, &str)],
) -> Result<Vec<u8>, (u16, String)> {
    let sock = UdpSocket::bind(from).unwrap();
    sock.set_read_timeout(Some(WAIT)).unwrap();
    let options = opts.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let rrq = Packet::Rrq(Rrq { filename: name.into(), mode: Mode::Octet, options }).encode();
    sock.send_to(&rrq, server).unwrap();
    let mut buf = vec![0u8; 70000];
    let (n, _) = sock.recv_from(&mut buf).map_err(|e| (999, e.to_string()))?;
    match Packet::decode(&buf[..n]).unwrap() {
        Packet::Data { data, .. } => Ok(data.to_vec()),
        Packet::OAck { options } => Ok(Packet::OAck { options }.encode()),
        Packet::Error { code, message } => Err((code.code(), message)),
        other => panic!("unexpected {other:?}"),
    }
}

/// Reads a child's stdout lines on a named thread, so a test can wait for one
/// with a timeout; the thread ends when the child closes stdout or the
/// receiver is dropped.
pub fn lines_of(child: &mut Child) -> Receiver<String> {
    let out = child.stdout.take().expect("the child's stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("child stdout".into())
        .spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
        .expect("spawn the stdout reader");
    rx
}
