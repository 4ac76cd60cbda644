//! DHCP for the opt-in preflight (spec §5.1): a DHCPDISCOVER/DHCPINFORM that asks
//! for the provisioning options, the reply's options 66/43/150/160, and
//! ready-to-paste option-66 settings for common DHCP servers. Pure.

use std::net::Ipv4Addr;

use crate::ids::Mac;

pub const MAGIC: [u8; 4] = [99, 130, 83, 99];
/// Options the preflight asks for: subnet, router, DNS, vendor-specific (43),
/// TFTP server name (66), bootfile (67), TFTP servers (150), provisioning URL (160).
pub const REQUESTED: [u8; 8] = [1, 3, 6, 43, 66, 67, 150, 160];

/// DHCP message types (option 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Discover = 1,
    Offer = 2,
    Request = 3,
    Ack = 5,
    Nak = 6,
    Inform = 8,
}

/// Builds a broadcast DISCOVER (or a unicast-able INFORM when `ciaddr` is given).
pub fn request(kind: Kind, xid: u32, mac: Mac, ciaddr: Option<Ipv4Addr>) -> Vec<u8> {
    let mut p = vec![0u8; 236];
    p[0] = 1; // BOOTREQUEST
    p[1] = 1; // Ethernet
    p[2] = 6;
    p[4..8].copy_from_slice(&xid.to_be_bytes());
    p[10] = 0x80; // broadcast flag: we may not have an address yet
    if let Some(ip) = ciaddr {
        p[12..16].copy_from_slice(&ip.octets());
    }
    p[28..34].copy_from_slice(&mac.bytes());
    p.extend_from_slice(&MAGIC);
    p.extend_from_slice(&[53, 1, kind as u8]);
    p.extend_from_slice(&[61, 7, 1]);
    p.extend_from_slice(&mac.bytes());
    let vendor = b"gsprov preflight";
    p.extend_from_slice(&[60, vendor.len() as u8]);
    p.extend_from_slice(vendor);
    p.extend_from_slice(&[55, REQUESTED.len() as u8]);
    p.extend_from_slice(&REQUESTED);
    p.push(255);
    p.resize(p.len().max(300), 0);
    p
}

/// What a DHCP server answered that matters for provisioning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub kind: Option<u8>,
    pub xid: u32,
    pub your_ip: Option<Ipv4Addr>,
    pub server: Option<Ipv4Addr>,
    pub option66: Option<String>,
    pub option43: Option<Vec<u8>>,
    pub option150: Vec<Ipv4Addr>,
    pub option160: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhcpError {
    #[error("{0} bytes is too short for a DHCP message (240 at least)")]
    Short(usize),
    #[error("not a BOOTREPLY with the DHCP magic cookie")]
    NotDhcp,
    #[error("option {code} at byte {at} runs past the end")]
    Truncated { code: u8, at: usize },
}

/// Reads a server's reply (OFFER/ACK).
pub fn parse_reply(p: &[u8]) -> Result<Reply, DhcpError> {
    if p.len() < 240 {
        return Err(DhcpError::Short(p.len()));
    }
    if p[0] != 2 || p[236..240] != MAGIC {
        return Err(DhcpError::NotDhcp);
    }
    let ip = |b: &[u8]| Ipv4Addr::new(b[0], b[1], b[2], b[3]);
    let mut r = Reply { xid: u32::from_be_bytes([p[4], p[5], p[6], p[7]]), ..Reply::default() };
    let yi = ip(&p[16..20]);
    r.your_ip = (!yi.is_unspecified()).then_some(yi);
    let mut i = 240;
    while i < p.len() {
        let code = p[i];
        if code == 255 {
            break;
        }
        if code == 0 {
            i += 1;
            continue;
        }
        let len = *p.get(i + 1).ok_or(DhcpError::Truncated { code, at: i })? as usize;
        let v = p.get(i + 2..i + 2 + len).ok_or(DhcpError::Truncated { code, at: i })?;
        let text = || String::from_utf8_lossy(v).trim_end_matches('\0').to_string();
        match code {
            53 if len == 1 => r.kind = Some(v[0]),
            54 if len == 4 => r.server = Some(ip(v)),
            66 => r.option66 = Some(text()),
            43 => r.option43 = Some(v.to_vec()),
            150 => r.option150 = v.chunks_exact(4).map(ip).collect(),
            160 => r.option160 = Some(text()),
            _ => {}
        }
        i += 2 + len;
    }
    Ok(r)
}

/// Ready-to-paste option-66 settings for the common DHCP servers, for `url`
/// (a bare host means TFTP; a full URL selects the method, spec §5.1).
pub fn option66_snippets(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ISC dhcpd (dhcpd.conf)", format!("option tftp-server-name \"{url}\";")),
        ("dnsmasq (dnsmasq.conf)", format!("dhcp-option=66,\"{url}\"")),
        ("Windows Server (PowerShell)", format!("Set-DhcpServerv4OptionValue -OptionId 66 -Value \"{url}\"")),
        ("MikroTik RouterOS", format!("/ip dhcp-server option add name=gsprov code=66 value=\"s'{url}'\"")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(options: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 236];
        p[0] = 2;
        p[4..8].copy_from_slice(&7u32.to_be_bytes());
        p[16..20].copy_from_slice(&[10, 0, 0, 50]);
        p.extend_from_slice(&MAGIC);
        p.extend_from_slice(options);
        p
    }

    #[test]
    fn discover_asks_for_the_provisioning_options() {
        let mac: Mac = "000b82123456".parse().unwrap();
        let p = request(Kind::Discover, 7, mac, None);
        assert_eq!(&p[236..240], &MAGIC);
        assert_eq!(&p[28..34], &mac.bytes());
        assert!(p.windows(3).any(|w| w == [53, 1, 1]));
        let i = p.iter().position(|&b| b == 55).unwrap();
        assert_eq!(&p[i + 2..i + 2 + REQUESTED.len()], &REQUESTED);
        assert!(p.len() >= 300);
    }

    #[test]
    fn reply_options_are_read() {
        let mut opts = vec![53, 1, 2, 54, 4, 10, 0, 0, 1, 66, 22];
        opts.extend_from_slice(b"http://10.0.0.2:8080/\0");
        opts.extend_from_slice(&[150, 4, 10, 0, 0, 3, 0, 43, 2, 1, 2, 255]);
        let r = parse_reply(&reply(&opts)).unwrap();
        assert_eq!(r.kind, Some(2));
        assert_eq!(r.xid, 7);
        assert_eq!(r.server, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(r.your_ip, Some(Ipv4Addr::new(10, 0, 0, 50)));
        assert_eq!(r.option66.as_deref(), Some("http://10.0.0.2:8080/"));
        assert_eq!(r.option150, vec![Ipv4Addr::new(10, 0, 0, 3)]);
        assert_eq!(r.option43, Some(vec![1, 2]));
        assert_eq!(parse_reply(&reply(&[66, 40, 1])), Err(DhcpError::Truncated { code: 66, at: 240 }));
        assert_eq!(parse_reply(&[0; 10]), Err(DhcpError::Short(10)));
    }

    #[test]
    fn snippets_quote_the_url() {
        let s = option66_snippets("http://10.0.0.2:8080/");
        assert!(s.iter().any(|(n, v)| n.starts_with("dnsmasq") && v == "dhcp-option=66,\"http://10.0.0.2:8080/\""));
        assert_eq!(s.len(), 4);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = parse_reply(&bytes);
        }
    }
}
