//! The operating system's neighbour (ARP/NDP) table as text: Linux
//! `/proc/net/arp` and `ip neigh`, Windows `arp -a`, macOS/BSD `arp -an`.
//! Pure parsers; reading the table is the discovery service's job.

use std::net::IpAddr;

use crate::ids::Mac;

/// One row: this IP answered with this MAC on this interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbour {
    pub ip: IpAddr,
    pub mac: Mac,
    pub interface: String,
}

impl Neighbour {
    pub fn is_grandstream(&self) -> bool {
        self.mac.is_grandstream()
    }
}

fn mac_of(s: &str) -> Option<Mac> {
    // Windows writes 00-0b-82-..., BSD may drop leading zeros (0:b:82:...).
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() == 6 && parts.iter().all(|p| (1..=2).contains(&p.len())) {
        let mut b = [0u8; 6];
        for (i, p) in parts.iter().enumerate() {
            b[i] = u8::from_str_radix(p, 16).ok()?;
        }
        let mac = Mac::from_bytes(b);
        return (b != [0; 6]).then_some(mac);
    }
    None
}

/// Linux `/proc/net/arp`:
/// `IP address  HW type  Flags  HW address  Mask  Device`; incomplete entries (flags 0x0) are skipped.
pub fn parse_proc_arp(text: &str) -> Vec<Neighbour> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 6 || f[2] == "0x0" {
                return None;
            }
            Some(Neighbour { ip: f[0].parse().ok()?, mac: mac_of(f[3])?, interface: f[5].to_string() })
        })
        .collect()
}

/// Linux `ip neigh` (IPv4 and IPv6): `10.0.0.5 dev eth0 lladdr 00:0b:82:.. REACHABLE`.
/// Entries without `lladdr` (FAILED, INCOMPLETE) are skipped.
pub fn parse_ip_neigh(text: &str) -> Vec<Neighbour> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let ip = f.first()?.parse().ok()?;
            let after = |k: &str| f.iter().position(|w| *w == k).and_then(|i| f.get(i + 1)).copied();
            Some(Neighbour { ip, mac: mac_of(after("lladdr")?)?, interface: after("dev").unwrap_or("").to_string() })
        })
        .collect()
}

/// Windows `arp -a`: blocks headed `Interface: 10.0.0.2 --- 0x5`, rows
/// `10.0.0.5   00-0b-82-12-34-56   dynamic`.
pub fn parse_windows_arp(text: &str) -> Vec<Neighbour> {
    let mut iface = String::new();
    let mut out = Vec::new();
    for l in text.lines() {
        let t = l.trim();
        if let Some(rest) = t.strip_prefix("Interface:") {
            iface = rest.split_whitespace().next().unwrap_or("").to_string();
            continue;
        }
        let f: Vec<&str> = t.split_whitespace().collect();
        if f.len() >= 2
            && let (Ok(ip), Some(mac)) = (f[0].parse(), mac_of(f[1]))
        {
            out.push(Neighbour { ip, mac, interface: iface.clone() });
        }
    }
    out
}

/// macOS/BSD `arp -an`: `? (10.0.0.5) at 0:b:82:12:34:56 on en0 ifscope [ethernet]`.
pub fn parse_bsd_arp(text: &str) -> Vec<Neighbour> {
    text.lines()
        .filter_map(|l| {
            let open = l.find('(')?;
            let close = l[open..].find(')')? + open;
            let ip = l[open + 1..close].parse().ok()?;
            let f: Vec<&str> = l[close + 1..].split_whitespace().collect();
            let after = |k: &str| f.iter().position(|w| *w == k).and_then(|i| f.get(i + 1)).copied();
            Some(Neighbour { ip, mac: mac_of(after("at")?)?, interface: after("on").unwrap_or("").to_string() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linux_proc_arp() {
        let t = "IP address       HW type     Flags       HW address            Mask     Device\n\
                 192.168.1.20     0x1         0x2         00:0b:82:12:34:56     *        eth0\n\
                 192.168.1.21     0x1         0x0         00:00:00:00:00:00     *        eth0\n\
                 192.168.1.1      0x1         0x2         aa:bb:cc:dd:ee:ff     *        eth0\n";
        let n = parse_proc_arp(t);
        assert_eq!(n.len(), 2);
        assert_eq!(n[0].mac.to_string(), "000b82123456");
        assert!(n[0].is_grandstream() && !n[1].is_grandstream());
        assert_eq!(n[0].interface, "eth0");
    }

    #[test]
    fn linux_ip_neigh() {
        let t = "10.0.0.5 dev eth0 lladdr c0:74:ad:01:02:03 REACHABLE\n\
                 10.0.0.6 dev eth0  FAILED\n\
                 fe80::1 dev eth0 lladdr ec:74:d7:aa:bb:cc router STALE\n";
        let n = parse_ip_neigh(t);
        assert_eq!(n.len(), 2);
        assert_eq!(n[1].ip, "fe80::1".parse::<IpAddr>().unwrap());
        assert!(n.iter().all(Neighbour::is_grandstream));
    }

    #[test]
    fn windows_and_bsd() {
        let w = "\nInterface: 192.168.1.2 --- 0x5\n  Internet Address      Physical Address      Type\n  192.168.1.20          00-0b-82-12-34-56     dynamic\n  192.168.1.255         ff-ff-ff-ff-ff-ff     static\n";
        let n = parse_windows_arp(w);
        assert_eq!(n.len(), 2);
        assert_eq!((n[0].mac.to_string().as_str(), n[0].interface.as_str()), ("000b82123456", "192.168.1.2"));
        let b = "? (192.168.1.20) at 0:b:82:12:34:56 on en0 ifscope [ethernet]\n? (192.168.1.30) at (incomplete) on en0 ifscope [ethernet]\n";
        let n = parse_bsd_arp(b);
        assert_eq!(n.len(), 1);
        assert_eq!(n[0].mac.to_string(), "000b82123456");
        assert_eq!(n[0].interface, "en0");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,300}") {
            let _ = (parse_proc_arp(&s), parse_ip_neigh(&s), parse_windows_arp(&s), parse_bsd_arp(&s));
        }
    }
}
