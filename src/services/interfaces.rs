//! The machine's network interfaces with IPv4 addresses (the `if-addrs`
//! crate: getifaddrs on Unix, GetAdaptersAddresses on Windows), so the
//! technician picks the LAN to serve and announce on, and [`choose`] turns a
//! name or an address from the command line into one of them.
//!
//! Owns no socket: [`list`] asks the OS once; [`choose`] is pure.

use std::net::{IpAddr, Ipv4Addr};

use crate::serving::discovery::NetInterface;

/// Why no interface fits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterfaceError {
    #[error("cannot list the network interfaces: {0}")]
    List(String),
    #[error("no interface is called or has the address {wanted:?}; this computer has: {have}")]
    NotFound { wanted: String, have: String },
    #[error("no network interface with an IPv4 address is up (only loopback): connect to the devices' LAN first")]
    NoLan,
}

/// Every interface address that is IPv4, loopback included, in the OS's order.
pub fn list() -> Result<Vec<NetInterface>, InterfaceError> {
    let all = if_addrs::get_if_addrs().map_err(|e| InterfaceError::List(e.to_string()))?;
    Ok(all
        .into_iter()
        .filter(|i| i.is_oper_up() || i.is_loopback() || matches!(i.oper_status, if_addrs::IfOperStatus::Unknown))
        .filter_map(|i| match &i.addr {
            if_addrs::IfAddr::V4(v4) => Some(NetInterface {
                name: i.name.clone(),
                ipv4: v4.ip,
                prefix: v4.prefixlen,
                loopback: i.is_loopback(),
            }),
            if_addrs::IfAddr::V6(_) => None,
        })
        .collect())
}

/// Picks the interface `wanted` names (its name, or one of its IPv4
/// addresses); without a wish, the first interface that is not loopback.
pub fn choose(all: &[NetInterface], wanted: Option<&str>) -> Result<NetInterface, InterfaceError> {
    let Some(w) = wanted.map(str::trim) else {
        return all.iter().find(|i| !i.loopback).cloned().ok_or(InterfaceError::NoLan);
    };
    let ip: Option<IpAddr> = w.parse().ok();
    all.iter()
        .find(|i| i.name == w || ip == Some(IpAddr::V4(i.ipv4)))
        .or_else(|| all.iter().find(|i| i.name.eq_ignore_ascii_case(w)))
        .cloned()
        .ok_or_else(|| InterfaceError::NotFound { wanted: w.to_string(), have: describe(all) })
}

/// The interface that holds `ip` (a server's bind address).
pub fn holding(all: &[NetInterface], ip: Ipv4Addr) -> Option<NetInterface> {
    all.iter().find(|i| i.ipv4 == ip).cloned()
}

/// `eth0 10.0.0.2/24, lo 127.0.0.1/8`.
pub fn describe(all: &[NetInterface]) -> String {
    crate::serving::address::describe(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nics() -> Vec<NetInterface> {
        let mut all = NetInterface::lo_and_eth0();
        all.push(NetInterface::new("Ethernet 2", Ipv4Addr::new(192, 168, 1, 9), 16));
        all
    }

    #[test]
    fn choosing() {
        let all = nics();
        assert_eq!(choose(&all, None).unwrap().name, "eth0");
        assert_eq!(choose(&all, Some("lo")).unwrap().ipv4, Ipv4Addr::LOCALHOST);
        assert_eq!(choose(&all, Some("192.168.1.9")).unwrap().name, "Ethernet 2");
        assert_eq!(choose(&all, Some("ethernet 2")).unwrap().name, "Ethernet 2");
        let e = choose(&all, Some("wlan0")).unwrap_err().to_string();
        assert!(e.contains("eth0 10.0.0.2/24") && e.contains("wlan0"), "{e}");
        assert_eq!(choose(&all[..1], None), Err(InterfaceError::NoLan));
        assert_eq!(holding(&all, Ipv4Addr::new(10, 0, 0, 2)).unwrap().name, "eth0");
        assert_eq!(all[2].network(), Ipv4Addr::new(192, 168, 0, 0));
    }

    #[test]
    fn listing_finds_loopback() {
        // Every machine (and every test namespace) has 127.0.0.1 on loopback.
        let all = list().unwrap();
        assert!(all.iter().any(|i| i.loopback && i.ipv4 == Ipv4Addr::LOCALHOST), "{all:?}");
    }
}
