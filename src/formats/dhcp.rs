//! DHCP packets, pure: the opt-in preflight (spec §5.1: a DHCPDISCOVER that
//! asks for the provisioning options, the reply's options 66/43/150/160,
//! ready-to-paste option-66 settings for common DHCP servers) and the bench
//! DHCP server (issue 29: a client's message read, a server's answer built).
//!
//! Hand-written, not `dhcproto`: a server needs the fixed 236-byte BOOTP
//! header and a walk over TLV options, and this walk also follows option
//! overload (52: options in `file`/`sname`) and RFC 3396 split options.
//! dhcproto 0.15 would bring hickory-proto, idna and url into the build (and
//! change features of crates the rest of the tree shares), does not read
//! overloaded options, and its decoder has `debug_assert!`s on wire lengths
//! (options 80, 81, 94, 151-155), so a crafted packet panics a debug build.
//! No sockets, clock or randomness here: transaction ids and times come from
//! the caller.

use std::net::Ipv4Addr;

use crate::ids::Mac;

pub const MAGIC: [u8; 4] = [99, 130, 83, 99];
/// Options the preflight asks for: subnet, router, DNS, vendor-specific (43),
/// TFTP server name (66), bootfile (67), TFTP servers (150), provisioning URL (160).
pub const REQUESTED: [u8; 8] = [1, 3, 6, 43, 66, 67, 150, 160];
/// The smallest message a BOOTP relay or client must accept (RFC 2131 §2:
/// 576-byte datagrams; RFC 951 pads to 300 bytes of BOOTP).
const MIN_LEN: usize = 300;

/// DHCP message types (option 53, RFC 2132 §9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
}

impl Kind {
    pub fn from_code(code: u8) -> Option<Kind> {
        Some(match code {
            1 => Kind::Discover,
            2 => Kind::Offer,
            3 => Kind::Request,
            4 => Kind::Decline,
            5 => Kind::Ack,
            6 => Kind::Nak,
            7 => Kind::Release,
            8 => Kind::Inform,
            _ => return None,
        })
    }

    /// `DISCOVER`, `OFFER`, ...: the method of a DHCP request record.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Discover => "DISCOVER",
            Kind::Offer => "OFFER",
            Kind::Request => "REQUEST",
            Kind::Decline => "DECLINE",
            Kind::Ack => "ACK",
            Kind::Nak => "NAK",
            Kind::Release => "RELEASE",
            Kind::Inform => "INFORM",
        }
    }
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
    p.resize(p.len().max(MIN_LEN), 0);
    p
}

/// What a DHCP server answered that matters for provisioning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    pub kind: Option<u8>,
    pub xid: u32,
    pub your_ip: Option<Ipv4Addr>,
    pub server: Option<Ipv4Addr>,
    /// The client hardware address the answer is for.
    pub client_mac: Option<Mac>,
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
    #[error("not a BOOTREQUEST with the DHCP magic cookie")]
    NotRequest,
    #[error("hardware type {htype} with a {hlen}-byte address: only Ethernet (1, 6 bytes) is served")]
    NotEthernet { htype: u8, hlen: u8 },
    #[error("no message type (option 53): a BOOTP client, which is not served")]
    NoKind,
    #[error("option {code} at byte {at} runs past the end")]
    Truncated { code: u8, at: usize },
}

fn ip(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

/// One message's options in order of first appearance, each option's data
/// joined when it appears more than once (RFC 3396), from the options field
/// and, when option 52 says so (RFC 2132 §9.3), from `file` then `sname`.
/// The message must be at least 240 bytes with the cookie (checked by the caller).
pub fn options(p: &[u8]) -> Result<Vec<(u8, Vec<u8>)>, DhcpError> {
    let mut out: Vec<(u8, Vec<u8>)> = Vec::new();
    walk(p, 240, p.len(), &mut out)?;
    let overload = out.iter().find(|(c, _)| *c == 52).and_then(|(_, v)| v.first().copied()).unwrap_or(0);
    if overload & 1 != 0 {
        walk(p, 108, 236, &mut out)?;
    }
    if overload & 2 != 0 {
        walk(p, 44, 108, &mut out)?;
    }
    Ok(out)
}

/// Options from `p[start..end]` (an `end` option or the field's end stops it).
fn walk(p: &[u8], start: usize, end: usize, out: &mut Vec<(u8, Vec<u8>)>) -> Result<(), DhcpError> {
    let field = &p[start..end];
    let mut i = 0;
    while i < field.len() {
        let code = field[i];
        if code == 255 {
            break;
        }
        if code == 0 {
            i += 1;
            continue;
        }
        let at = start + i;
        let len = *field.get(i + 1).ok_or(DhcpError::Truncated { code, at })? as usize;
        let v = field.get(i + 2..i + 2 + len).ok_or(DhcpError::Truncated { code, at })?;
        match out.iter_mut().find(|(c, _)| *c == code) {
            Some((_, data)) => data.extend_from_slice(v),
            None => out.push((code, v.to_vec())),
        }
        i += 2 + len;
    }
    Ok(())
}

fn find(opts: &[(u8, Vec<u8>)], code: u8) -> Option<&[u8]> {
    opts.iter().find(|(c, _)| *c == code).map(|(_, v)| v.as_slice())
}

fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).trim_end_matches('\0').to_string()
}

/// Reads a server's reply (OFFER/ACK).
pub fn parse_reply(p: &[u8]) -> Result<Reply, DhcpError> {
    if p.len() < 240 {
        return Err(DhcpError::Short(p.len()));
    }
    if p[0] != 2 || p[236..240] != MAGIC {
        return Err(DhcpError::NotDhcp);
    }
    let opts = options(p)?;
    let yi = ip(&p[16..20]);
    let ethernet = p[1] == 1 && p[2] == 6;
    Ok(Reply {
        kind: find(&opts, 53).and_then(|v| v.first().copied()),
        xid: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
        your_ip: (!yi.is_unspecified()).then_some(yi),
        server: find(&opts, 54).filter(|v| v.len() == 4).map(ip),
        client_mac: ethernet.then(|| Mac::from_bytes([p[28], p[29], p[30], p[31], p[32], p[33]])),
        option66: find(&opts, 66).map(text),
        option43: find(&opts, 43).map(<[u8]>::to_vec),
        option150: find(&opts, 150).map(|v| v.chunks_exact(4).map(ip).collect()).unwrap_or_default(),
        option160: find(&opts, 160).map(text),
    })
}

/// A client's message, as the bench server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMessage {
    pub kind: Kind,
    pub xid: u32,
    /// The broadcast flag (RFC 2131 §4.1): the client cannot take unicast yet.
    pub broadcast: bool,
    pub ciaddr: Ipv4Addr,
    /// A relay agent's address: the client is not on our segment.
    pub giaddr: Ipv4Addr,
    pub mac: Mac,
    /// Option 50.
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54: the server the client chose (REQUEST after an OFFER).
    pub server_id: Option<Ipv4Addr>,
    /// Option 60, as text (`Grandstream GXP2170`, `HT802`).
    pub vendor_class: Option<String>,
    /// Option 12.
    pub hostname: Option<String>,
    /// Option 55: the options the client asks for, in its order.
    pub asked: Vec<u8>,
}

/// Reads a client's message (DISCOVER, REQUEST, DECLINE, RELEASE, INFORM).
pub fn parse_request(p: &[u8]) -> Result<ClientMessage, DhcpError> {
    if p.len() < 240 {
        return Err(DhcpError::Short(p.len()));
    }
    if p[0] != 1 || p[236..240] != MAGIC {
        return Err(DhcpError::NotRequest);
    }
    if p[1] != 1 || p[2] != 6 {
        return Err(DhcpError::NotEthernet { htype: p[1], hlen: p[2] });
    }
    let opts = options(p)?;
    let kind = find(&opts, 53).filter(|v| v.len() == 1).and_then(|v| Kind::from_code(v[0])).ok_or(DhcpError::NoKind)?;
    let addr = |code| find(&opts, code).filter(|v| v.len() == 4).map(ip);
    Ok(ClientMessage {
        kind,
        xid: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
        broadcast: p[10] & 0x80 != 0,
        ciaddr: ip(&p[12..16]),
        giaddr: ip(&p[24..28]),
        mac: Mac::from_bytes([p[28], p[29], p[30], p[31], p[32], p[33]]),
        requested_ip: addr(50),
        server_id: addr(54),
        vendor_class: find(&opts, 60).map(text),
        hostname: find(&opts, 12).map(text),
        asked: find(&opts, 55).map(<[u8]>::to_vec).unwrap_or_default(),
    })
}

/// A server's answer to `to` (OFFER, ACK or NAK). `options` go out in the
/// order given, after 53 and 54; data longer than 255 bytes is split (RFC 3396).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub kind: Kind,
    /// The address offered or acknowledged (unspecified for a NAK or an INFORM's ACK).
    pub yiaddr: Ipv4Addr,
    /// Option 54 and `siaddr`: this server.
    pub server: Ipv4Addr,
    pub options: Vec<(u8, Vec<u8>)>,
}

/// The answer's bytes: the client's xid, flags, ciaddr (for an INFORM's ACK),
/// giaddr and chaddr copied (RFC 2131 table 3), padded to 300 bytes.
pub fn answer(to: &ClientMessage, a: &Answer) -> Vec<u8> {
    let mut p = vec![0u8; 236];
    p[0] = 2; // BOOTREPLY
    p[1] = 1;
    p[2] = 6;
    p[4..8].copy_from_slice(&to.xid.to_be_bytes());
    if to.broadcast {
        p[10] = 0x80;
    }
    let nak = a.kind == Kind::Nak;
    if a.kind == Kind::Ack && to.kind == Kind::Inform {
        p[12..16].copy_from_slice(&to.ciaddr.octets());
    }
    if !nak {
        p[16..20].copy_from_slice(&a.yiaddr.octets());
        p[20..24].copy_from_slice(&a.server.octets());
    }
    p[24..28].copy_from_slice(&to.giaddr.octets());
    p[28..34].copy_from_slice(&to.mac.bytes());
    p.extend_from_slice(&MAGIC);
    p.extend_from_slice(&[53, 1, a.kind as u8, 54, 4]);
    p.extend_from_slice(&a.server.octets());
    for (code, data) in &a.options {
        put(&mut p, *code, data);
    }
    p.push(255);
    p.resize(p.len().max(MIN_LEN), 0);
    p
}

/// One option, split into 255-byte pieces of the same code when longer (RFC 3396).
fn put(p: &mut Vec<u8>, code: u8, data: &[u8]) {
    if data.is_empty() {
        p.extend_from_slice(&[code, 0]);
        return;
    }
    for chunk in data.chunks(255) {
        p.push(code);
        p.push(chunk.len() as u8);
        p.extend_from_slice(chunk);
    }
}

/// `1,3,6,66` for people and logs.
pub fn codes(asked: &[u8]) -> String {
    asked.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")
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

    /// A client's message as busybox udhcpc 1.36 sends it (header fields that
    /// matter, options 53, 61, 50, 60, 55, 12), with Grandstream's MAC.
    fn discover(options: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 236];
        p[0] = 1;
        p[1] = 1;
        p[2] = 6;
        p[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
        p[28..34].copy_from_slice(&[0x00, 0x0b, 0x82, 0x12, 0x34, 0x56]);
        p.extend_from_slice(&MAGIC);
        p.extend_from_slice(options);
        p.push(255);
        p.resize(300, 0);
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
        // The server side reads it back as what it is.
        let m = parse_request(&p).unwrap();
        assert_eq!((m.kind, m.xid, m.mac, m.broadcast), (Kind::Discover, 7, mac, true));
        assert_eq!(m.asked, REQUESTED);
        assert_eq!(m.vendor_class.as_deref(), Some("gsprov preflight"));
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
    fn a_client_message_is_read() {
        let mut o =
            vec![53, 1, 3, 61, 7, 1, 0, 0x0b, 0x82, 0x12, 0x34, 0x56, 50, 4, 10, 77, 0, 234, 54, 4, 10, 77, 0, 2];
        o.extend_from_slice(&[60, 18]);
        o.extend_from_slice(b"Grandstream GXP21\0");
        o.extend_from_slice(&[55, 5, 1, 3, 6, 66, 43, 12, 5]);
        o.extend_from_slice(b"desk1");
        let m = parse_request(&discover(&o)).unwrap();
        assert_eq!(m.kind, Kind::Request);
        assert_eq!(m.xid, 0x1234_5678);
        assert_eq!(m.mac.to_string(), "000b82123456");
        assert_eq!(m.requested_ip, Some(Ipv4Addr::new(10, 77, 0, 234)));
        assert_eq!(m.server_id, Some(Ipv4Addr::new(10, 77, 0, 2)));
        assert_eq!(m.vendor_class.as_deref(), Some("Grandstream GXP21"));
        assert_eq!(m.hostname.as_deref(), Some("desk1"));
        assert_eq!(m.asked, vec![1, 3, 6, 66, 43]);
        assert_eq!(codes(&m.asked), "1,3,6,66,43");
        assert!(!m.broadcast);
    }

    #[test]
    fn garbage_truncation_and_overflow_are_errors_not_panics() {
        assert_eq!(parse_request(&[1; 239]), Err(DhcpError::Short(239)));
        let mut not_request = discover(&[53, 1, 1]);
        not_request[0] = 2;
        assert_eq!(parse_request(&not_request), Err(DhcpError::NotRequest));
        let mut token_ring = discover(&[53, 1, 1]);
        token_ring[1] = 6;
        assert_eq!(parse_request(&token_ring), Err(DhcpError::NotEthernet { htype: 6, hlen: 6 }));

        // An option whose length runs past the datagram's end.
        let mut cut = discover(&[53, 1, 1]);
        cut.truncate(243);
        cut.extend_from_slice(&[60, 200, b'G']);
        assert_eq!(parse_request(&cut), Err(DhcpError::Truncated { code: 60, at: 243 }));
        // Option 52 says sname holds options, and one there overflows the 64-byte field.
        let mut p = discover(&[53, 1, 1, 52, 1, 2]);
        p[44 + 60] = 12;
        p[44 + 61] = 10;
        assert_eq!(parse_request(&p), Err(DhcpError::Truncated { code: 12, at: 104 }));
        // A BOOTP client (no option 53).
        assert_eq!(parse_request(&discover(&[12, 1, b'x'])), Err(DhcpError::NoKind));
    }

    #[test]
    fn overloaded_and_split_options_are_joined() {
        // Option 52 = 3: more options in `file`, then `sname` (RFC 2132 §9.3);
        // option 60 comes in two pieces (RFC 3396).
        let mut p = discover(&[53, 1, 1, 52, 1, 3, 60, 6]);
        p.truncate(248);
        p.extend_from_slice(b"Grands");
        p.push(255);
        p.resize(300, 0);
        p[108..116].copy_from_slice(&[60, 5, b't', b'r', b'e', b'a', b'm', 255]);
        p[44..49].copy_from_slice(&[55, 2, 1, 66, 255]);
        let m = parse_request(&p).unwrap();
        assert_eq!(m.vendor_class.as_deref(), Some("Grandstream"));
        assert_eq!(m.asked, vec![1, 66]);
    }

    #[test]
    fn an_answer_carries_the_client_header_and_long_options_split() {
        let m = parse_request(&discover(&[53, 1, 1])).unwrap();
        let url = format!("http://10.77.0.2:8080/{}/", "d".repeat(300));
        let a = Answer {
            kind: Kind::Offer,
            yiaddr: Ipv4Addr::new(10, 77, 0, 234),
            server: Ipv4Addr::new(10, 77, 0, 2),
            options: vec![(51, 600u32.to_be_bytes().to_vec()), (1, vec![255, 255, 255, 0]), (66, url.clone().into())],
        };
        let bytes = answer(&m, &a);
        assert!(bytes.len() >= 300);
        let r = parse_reply(&bytes).unwrap();
        assert_eq!(r.kind, Some(Kind::Offer as u8));
        assert_eq!(r.xid, 0x1234_5678);
        assert_eq!(r.your_ip, Some(Ipv4Addr::new(10, 77, 0, 234)));
        assert_eq!(r.server, Some(Ipv4Addr::new(10, 77, 0, 2)));
        assert_eq!(r.client_mac, Some(m.mac));
        assert_eq!(r.option66.as_deref(), Some(url.as_str()), "a 300-byte URL is split and joined again");
        assert_eq!(&bytes[20..24], &[10, 77, 0, 2], "siaddr names this server");
        // A NAK carries no address.
        let nak = answer(&m, &Answer { kind: Kind::Nak, options: Vec::new(), ..a });
        assert_eq!(parse_reply(&nak).unwrap().your_ip, None);
    }

    #[test]
    fn snippets_quote_the_url() {
        let s = option66_snippets("http://10.0.0.2:8080/");
        assert!(s.iter().any(|(n, v)| n.starts_with("dnsmasq") && v == "dhcp-option=66,\"http://10.0.0.2:8080/\""));
        assert_eq!(s.len(), 4);
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..700)) {
            let _ = parse_reply(&bytes);
            let _ = parse_request(&bytes);
        }

        /// Any options after a valid header: read or refused, never a panic.
        #[test]
        fn never_panics_on_options(opts in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400), kind in 1u8..9) {
            let mut o = vec![53, 1, kind];
            o.extend_from_slice(&opts);
            let p = discover(&o);
            let _ = parse_request(&p);
        }
    }
}
