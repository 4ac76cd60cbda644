//! The opt-in DHCP preflight: one DHCPDISCOVER broadcast on the chosen
//! interface (built by the pure [`crate::formats::dhcp`]), the first OFFER
//! (or ACK) with our transaction id read back, and its provisioning options
//! (66, 43, 150, 160) set beside the URL gsprov hands out. A DISCOVER
//! reserves nothing: the server only offers, and we never REQUEST.
//!
//! Needs UDP port 68 (root or CAP_NET_BIND_SERVICE). On Linux the socket is
//! tied to the interface (SO_BINDTODEVICE), so the broadcast leaves only there.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use tokio_util::sync::CancellationToken;

use crate::event::DhcpConfig;
use crate::formats::dhcp::{self, Kind};
use crate::ids::Mac;
use crate::serving::discovery::compare_option66;
use crate::serving::discovery::{DhcpReport, NetInterface};
use crate::serving::privilege::{self, Os};

/// The interface's hardware address (Linux: sysfs), else a locally
/// administered one: the server then still answers a broadcast DISCOVER.
pub(super) fn interface_mac(iface: &NetInterface) -> Mac {
    let sysfs = std::path::PathBuf::from(format!("/sys/class/net/{}/address", iface.name));
    crate::storage::read_text(&sysfs)
        .ok()
        .and_then(|t| t.trim().parse::<Mac>().ok())
        .filter(|m| m.bytes() != [0; 6])
        .unwrap_or(Mac::from_bytes([0x02, 0x67, 0x73, 0x70, 0x72, 0x76]))
}

fn socket(iface: &NetInterface, cfg: &DhcpConfig) -> Result<std::net::UdpSocket, String> {
    let port = cfg.client_port;
    let err = |what: &str, e: std::io::Error| match e.kind() {
        std::io::ErrorKind::PermissionDenied => match Os::HERE {
            Os::Unix => format!(
                "the DHCP preflight listens on UDP port {port}, which needs root/CAP_NET_BIND_SERVICE: run it with sudo"
            ),
            os => format!("the DHCP preflight listens on UDP port {port}: {}", privilege::bind_denied(os, port)),
        },
        _ => format!("DHCP preflight on {}: {what}: {e}", iface.name),
    };
    super::bench_dhcp::device_socket(&iface.name, port).map_err(|e| err("UDP socket", e))
}

/// Sends one DISCOVER and waits up to `cfg.timeout` for the answer to it.
/// `Ok` with `server: None` when nobody answered.
pub(super) async fn preflight(
    iface: &NetInterface,
    cfg: DhcpConfig,
    xid: u32,
    expected: Option<String>,
    cancel: &CancellationToken,
) -> Result<DhcpReport, String> {
    let socket = tokio::net::UdpSocket::from_std(socket(iface, &cfg)?).map_err(|e| format!("DHCP preflight: {e}"))?;
    let packet = dhcp::request(Kind::Discover, xid, interface_mac(iface), None);
    let to = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::BROADCAST, cfg.server_port));
    socket
        .send_to(&packet, to)
        .await
        .map_err(|e| format!("cannot broadcast the DHCPDISCOVER on {}: {e}", iface.name))?;
    let mut report = DhcpReport {
        interface: iface.name.clone(),
        snippets: expected
            .as_deref()
            .map(|u| dhcp::option66_snippets(u).into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            .unwrap_or_default(),
        expected,
        ..DhcpReport::default()
    };
    let deadline = tokio::time::Instant::now() + cfg.timeout;
    let mut buf = vec![0u8; 1500];
    loop {
        let got = tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep_until(deadline) => break,
            r = socket.recv_from(&mut buf) => r,
        };
        let Ok((n, from)) = got else { continue };
        let reply = match dhcp::parse_reply(&buf[..n]) {
            Ok(r) if r.xid == xid && matches!(r.kind, Some(k) if k == Kind::Offer as u8 || k == Kind::Ack as u8) => r,
            // Other clients' traffic, or garbage: not ours.
            _ => continue,
        };
        report.server = reply.server.or(match from {
            SocketAddr::V4(a) => Some(*a.ip()),
            SocketAddr::V6(_) => None,
        });
        report.offered = reply.your_ip;
        report.option66 = reply.option66;
        report.option43 = reply.option43;
        report.option150 = reply.option150;
        report.option160 = reply.option160;
        break;
    }
    report.verdict = compare_option66(report.server.is_some(), report.option66.as_deref(), report.expected.as_deref());
    Ok(report)
}

/// A transaction id nobody else uses by chance.
pub(super) fn xid() -> u32 {
    let mut b = [0u8; 4];
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        return t.subsec_nanos() ^ 0x6773_7076;
    }
    u32::from_be_bytes(b)
}
