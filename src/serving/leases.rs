//! The bench DHCP server's decisions (issue 29), pure: who is answered
//! ([`eligible`]), the default pool ([`default_pool`]), and the lease book
//! ([`Leases`]): which address a DISCOVER is offered, what a REQUEST gets
//! (ACK, NAK, or silence, RFC 2131 §4.3.2), RELEASE and DECLINE, leases
//! read back from the request log after a restart.
//!
//! Bounded by construction: every entry holds a pool address, so the book
//! never has more entries than the pool has addresses, whatever a flood of
//! DISCOVERs with random MACs sends. Under such a flood the site's devices
//! come first: the others may hold at most the pool less the addresses still
//! owed to site devices without a lease (half the pool at most), and a site
//! device may take over the oldest unconfirmed offer made to another MAC.
//!
//! No sockets or clock: times come from the caller; whether an address is
//! free on the wire (the ARP check) is the service's to say.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::formats::dhcp::{ClientMessage, Kind};
use crate::ids::Mac;
use crate::serving::Protocol;
use crate::serving::discovery::provisioning_url;

/// Which clients the bench DHCP server answers. Every DISCOVER is logged either way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DhcpAnswer {
    /// Grandstream units: a Grandstream OUI (spec §11) or vendor class
    /// `Grandstream ...` / `HT8xx` (spec §5.1, P148).
    #[default]
    Grandstream,
    /// Only MACs the site lists.
    Site,
    /// Every client (a bench with nothing else on it).
    All,
}

/// Addresses in the default pool.
pub const DEFAULT_POOL_SIZE: u32 = 20;

/// Whether a client's message is answered, and why (or why not).
pub fn eligible(answer: DhcpAnswer, mac: Mac, vendor_class: Option<&str>, known: bool) -> Result<String, String> {
    let class = vendor_class.unwrap_or("").trim();
    let lower = class.to_ascii_lowercase();
    let by_class = lower.starts_with("grandstream")
        || (lower.starts_with("ht8") && lower.len() >= 5 && lower[3..5].bytes().all(|b| b.is_ascii_digit()));
    let shown = if class.is_empty() { "no vendor class".to_string() } else { format!("vendor class {class:?}") };
    match answer {
        DhcpAnswer::All => Ok("every client is answered (--dhcp-answer all)".into()),
        DhcpAnswer::Site if known => Ok("a device of the site".into()),
        DhcpAnswer::Site => {
            Err(format!("not answered: {} is not a device of the site (--dhcp-answer site); {shown}", mac.colon()))
        }
        DhcpAnswer::Grandstream if mac.is_grandstream() => Ok(format!("a Grandstream MAC ({shown})")),
        DhcpAnswer::Grandstream if by_class => Ok(format!("a Grandstream {shown}")),
        DhcpAnswer::Grandstream => Err(format!(
            "not answered: {} is not a Grandstream unit (OUI not 00:0B:82/C0:74:AD/EC:74:D7, {shown}); \
             --dhcp-answer all serves every client",
            mac.colon()
        )),
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) }
}

/// The subnet mask of a prefix length (`24` -> `255.255.255.0`).
pub fn netmask(prefix: u8) -> Ipv4Addr {
    Ipv4Addr::from(mask(prefix))
}

/// The default pool: [`DEFAULT_POOL_SIZE`] addresses at the top of the
/// interface's subnet (below the broadcast address), or just below this
/// computer's own address when that is among them. `None` for subnets too
/// small to hold a pool beside this computer (/30 and smaller).
pub fn default_pool(own: Ipv4Addr, prefix: u8) -> Option<(Ipv4Addr, Ipv4Addr)> {
    if !(8..=29).contains(&prefix) {
        return None;
    }
    let m = mask(prefix);
    let network = u32::from(own) & m;
    let broadcast = network | !m;
    let (low, high) = (network + 1, broadcast - 1);
    let size = DEFAULT_POOL_SIZE.min((high - low) / 2);
    let own = u32::from(own);
    let mut last = high;
    let mut first = last + 1 - size;
    if (first..=last).contains(&own) {
        last = own - 1;
        first = last.saturating_sub(size - 1).max(low);
    }
    (first <= last && last >= low).then(|| (Ipv4Addr::from(first), Ipv4Addr::from(last)))
}

/// Option 66 for this server (spec §5.1): the full URL of the first running
/// server of HTTP, HTTPS (what P237 with P212 would say), else the TFTP
/// host alone (a bare host means TFTP; `tftp://host:port/` off port 69).
pub fn option66(ip: Ipv4Addr, started: &[(Protocol, SocketAddr)]) -> Option<String> {
    let port = |p: Protocol| started.iter().find(|(q, _)| *q == p).map(|(_, a)| a.port());
    for p in [Protocol::Http, Protocol::Https] {
        if let Some(port) = port(p) {
            return Some(provisioning_url(IpAddr::V4(ip), p, port));
        }
    }
    port(Protocol::Tftp).map(|port| if port == 69 { ip.to_string() } else { format!("tftp://{ip}:{port}/") })
}

/// What a client's message gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// OFFER this address (DISCOVER).
    Offer(Ipv4Addr),
    /// ACK this address (REQUEST), or the INFORM's ACK (no address).
    Ack(Option<Ipv4Addr>),
    /// NAK, and why.
    Nak(String),
    /// Nothing goes back, and why (RFC 2131 says to stay silent, or the message only tells us something).
    Silent(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    ip: Ipv4Addr,
    until: SystemTime,
    /// ACKed (else only offered).
    bound: bool,
    known: bool,
}

/// The pool and who holds what. See the module docs.
#[derive(Debug, Clone)]
pub struct Leases {
    first: u32,
    last: u32,
    network: u32,
    mask: u32,
    server: Ipv4Addr,
    lease_time: Duration,
    offer_time: Duration,
    by_mac: HashMap<Mac, Entry>,
    /// Addresses someone else turned out to use (DECLINE, the ARP check), until when.
    taken: HashMap<Ipv4Addr, SystemTime>,
}

/// How long an offer is held for the REQUEST that takes it.
pub const OFFER_HOLD: Duration = Duration::from_secs(30);
/// How long an address another host answered for (DECLINE, ARP) is left alone.
pub const TAKEN_HOLD: Duration = Duration::from_secs(300);

impl Leases {
    /// A pool `first..=last` in `server`'s subnet (`prefix`), not holding `server`.
    pub fn new(
        (first, last): (Ipv4Addr, Ipv4Addr),
        server: Ipv4Addr,
        prefix: u8,
        lease_time: Duration,
    ) -> Result<Leases, String> {
        let m = mask(prefix);
        let (f, l, s) = (u32::from(first), u32::from(last), u32::from(server));
        if f > l {
            return Err(format!("the DHCP range {first}-{last} is empty: give the lower address first"));
        }
        if f & m != s & m || l & m != s & m {
            return Err(format!(
                "the DHCP range {first}-{last} is not inside this interface's subnet {}/{prefix}",
                Ipv4Addr::from(s & m)
            ));
        }
        if f == s & m || l == (s & m) | !m {
            return Err(format!("the DHCP range {first}-{last} holds the subnet's network or broadcast address"));
        }
        if (f..=l).contains(&s) {
            return Err(format!("the DHCP range {first}-{last} holds this computer's own address {server}"));
        }
        if l - f >= 1024 {
            return Err(format!(
                "the DHCP range {first}-{last} has {} addresses: a bench needs at most 1024",
                l - f + 1
            ));
        }
        Ok(Leases {
            first: f,
            last: l,
            network: s & m,
            mask: m,
            server,
            lease_time,
            offer_time: OFFER_HOLD,
            by_mac: HashMap::new(),
            taken: HashMap::new(),
        })
    }

    pub fn range(&self) -> (Ipv4Addr, Ipv4Addr) {
        (Ipv4Addr::from(self.first), Ipv4Addr::from(self.last))
    }

    pub fn lease_time(&self) -> Duration {
        self.lease_time
    }

    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask)
    }

    /// The pool's addresses nobody holds and nobody was found using, lowest first.
    pub fn free(&mut self, now: SystemTime) -> Vec<Ipv4Addr> {
        self.expire(now);
        (self.first..=self.last)
            .map(Ipv4Addr::from)
            .filter(|ip| self.holder(*ip).is_none() && !self.taken.contains_key(ip))
            .collect()
    }

    /// Whether `mac` holds an address now (bound or offered).
    pub fn holds(&self, mac: Mac, now: SystemTime) -> bool {
        self.by_mac.get(&mac).is_some_and(|e| e.until > now)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        (self.first..=self.last).contains(&u32::from(ip))
    }

    fn on_subnet(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & self.mask == self.network
    }

    /// Entries in the book (at most the pool's size).
    pub fn len(&self) -> usize {
        self.by_mac.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_mac.is_empty()
    }

    /// The bound leases: MAC, address, until when.
    pub fn bound(&self) -> Vec<(Mac, Ipv4Addr, SystemTime)> {
        let mut v: Vec<_> = self.by_mac.iter().filter(|(_, e)| e.bound).map(|(m, e)| (*m, e.ip, e.until)).collect();
        v.sort_by_key(|(_, ip, _)| u32::from(*ip));
        v
    }

    fn expire(&mut self, now: SystemTime) {
        self.by_mac.retain(|_, e| e.until > now);
        self.taken.retain(|_, until| *until > now);
    }

    fn holder(&self, ip: Ipv4Addr) -> Option<Mac> {
        self.by_mac.iter().find(|(_, e)| e.ip == ip).map(|(m, _)| *m)
    }

    /// A lease read back from the request log (a restart keeps leases).
    /// Expired ones, and addresses outside the pool, are left out.
    pub fn restore(&mut self, mac: Mac, ip: Ipv4Addr, until: SystemTime, known: bool, now: SystemTime) {
        if until <= now || !self.contains(ip) {
            return;
        }
        if let Some(other) = self.holder(ip) {
            self.by_mac.remove(&other);
        }
        self.by_mac.insert(mac, Entry { ip, until, bound: true, known });
    }

    /// Forgets a MAC's lease (RELEASE in the log, read back).
    pub fn forget(&mut self, mac: Mac) {
        self.by_mac.remove(&mac);
    }

    /// The address to offer a DISCOVER: the client's lease or offer, else the
    /// address it asks for (option 50) when free, else the lowest free one.
    /// `site_waiting`: site devices without a lease (the reserve others may
    /// not take). `skip`: addresses found in use since (the ARP check) are
    /// passed back through [`Leases::mark_taken`] and the call made again.
    /// The address is not held until [`Leases::offer`].
    pub fn candidate(
        &mut self,
        mac: Mac,
        requested: Option<Ipv4Addr>,
        known: bool,
        site_waiting: usize,
        now: SystemTime,
    ) -> Result<Ipv4Addr, String> {
        self.expire(now);
        if let Some(e) = self.by_mac.get(&mac) {
            return Ok(e.ip);
        }
        let size = (self.last - self.first + 1) as usize;
        if !known {
            let reserve = site_waiting.min(size / 2);
            let others = self.by_mac.values().filter(|e| !e.known).count();
            if others + reserve >= size {
                return Err(format!(
                    "no address for {}: {others} of the {size} addresses are held by devices the site does not \
                     list and {reserve} are kept for site devices",
                    mac.colon()
                ));
            }
        }
        let free = |ip: Ipv4Addr, l: &Leases| l.contains(ip) && l.holder(ip).is_none() && !l.taken.contains_key(&ip);
        if let Some(ip) = requested.filter(|ip| free(*ip, self)) {
            return Ok(ip);
        }
        if let Some(ip) = (self.first..=self.last).map(Ipv4Addr::from).find(|ip| free(*ip, self)) {
            return Ok(ip);
        }
        if known {
            // A site device takes over the oldest offer no one confirmed, made to another MAC.
            let oldest = self.by_mac.iter().filter(|(_, e)| !e.bound && !e.known).min_by_key(|(_, e)| e.until);
            if let Some((&other, e)) = oldest {
                let ip = e.ip;
                self.by_mac.remove(&other);
                return Ok(ip);
            }
        }
        Err(format!("no address for {}: all {size} addresses of the pool are in use", mac.colon()))
    }

    /// Holds `ip` for `mac` until the REQUEST that takes it (or [`OFFER_HOLD`]).
    pub fn offer(&mut self, mac: Mac, ip: Ipv4Addr, known: bool, now: SystemTime) {
        let until = now + self.offer_time;
        match self.by_mac.get_mut(&mac) {
            // Offering again what is bound keeps the lease's own end.
            Some(e) if e.ip == ip && e.bound => {}
            _ => {
                self.by_mac.insert(mac, Entry { ip, until, bound: false, known });
            }
        }
    }

    /// Another host answered for `ip` (the ARP check) or a client declined it.
    pub fn mark_taken(&mut self, ip: Ipv4Addr, now: SystemTime) {
        if let Some(m) = self.holder(ip) {
            self.by_mac.remove(&m);
        }
        self.taken.insert(ip, now + TAKEN_HOLD);
    }

    /// What a REQUEST, DECLINE, RELEASE or INFORM gets (RFC 2131 §4.3.2-4.3.5).
    pub fn answer(&mut self, m: &ClientMessage, known: bool, now: SystemTime) -> Verdict {
        self.expire(now);
        let mine = self.by_mac.get(&m.mac).copied();
        match m.kind {
            Kind::Request => self.request(m, mine, known, now),
            Kind::Release => match mine {
                Some(e) if e.ip == m.ciaddr || m.ciaddr.is_unspecified() => {
                    self.by_mac.remove(&m.mac);
                    Verdict::Silent(format!("released {}", e.ip))
                }
                _ => Verdict::Silent(format!("RELEASE of {}, which this server had not leased to it", m.ciaddr)),
            },
            Kind::Decline => {
                let ip = m.requested_ip.or(mine.map(|e| e.ip));
                match ip {
                    Some(ip) if self.contains(ip) => {
                        self.mark_taken(ip, now);
                        Verdict::Silent(format!(
                            "declined {ip}: the client found it in use; it is not offered for {} s",
                            TAKEN_HOLD.as_secs()
                        ))
                    }
                    _ => Verdict::Silent("DECLINE of an address this server does not hand out".into()),
                }
            }
            Kind::Inform => Verdict::Ack(None),
            Kind::Discover | Kind::Offer | Kind::Ack | Kind::Nak => {
                Verdict::Silent(format!("{} is not a message a client sends here", m.kind.name()))
            }
        }
    }

    fn request(&mut self, m: &ClientMessage, mine: Option<Entry>, known: bool, now: SystemTime) -> Verdict {
        let bind = |l: &mut Leases, ip: Ipv4Addr| {
            l.by_mac.insert(m.mac, Entry { ip, until: now + l.lease_time, bound: true, known });
            Verdict::Ack(Some(ip))
        };
        // SELECTING: the client answers one server's OFFER.
        if let Some(server) = m.server_id {
            if server != self.server {
                if mine.is_some_and(|e| !e.bound) {
                    self.by_mac.remove(&m.mac);
                }
                return Verdict::Silent(format!("the client chose the DHCP server {server}"));
            }
            return match (mine, m.requested_ip) {
                (Some(e), Some(ip)) if e.ip == ip => bind(self, ip),
                (Some(e), None) => bind(self, e.ip),
                (_, Some(ip)) => Verdict::Nak(format!("{ip} was not offered to this client")),
                (None, None) => Verdict::Nak("no address was offered to this client".into()),
            };
        }
        // RENEWING / REBINDING: the client has an address and wants more time.
        if !m.ciaddr.is_unspecified() {
            return match mine {
                Some(e) if e.ip == m.ciaddr => bind(self, e.ip),
                _ if self.holder(m.ciaddr).is_some() => {
                    Verdict::Nak(format!("{} is leased to another client", m.ciaddr))
                }
                _ => Verdict::Silent(format!("renewal of {}, which this server had not leased", m.ciaddr)),
            };
        }
        // INIT-REBOOT: the client asks for the address it had.
        match m.requested_ip {
            Some(ip) if !self.on_subnet(ip) => Verdict::Nak(format!("{ip} is not on this network")),
            Some(ip) => match mine {
                Some(e) if e.ip == ip => bind(self, ip),
                _ if self.holder(ip).is_some() => Verdict::Nak(format!("{ip} is leased to another client")),
                _ if !self.contains(ip) => Verdict::Nak(format!("{ip} is outside this server's range")),
                // RFC 2131 §4.3.2: no record of the client: stay silent.
                _ => Verdict::Silent(format!("no record of {ip} for this client")),
            },
            None => Verdict::Silent("a REQUEST without an address or a server".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    const SERVER: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);

    fn t(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s)
    }

    fn mac(n: u8) -> Mac {
        Mac::from_bytes([0x00, 0x0b, 0x82, 0, 0, n])
    }

    fn pool(n: u8) -> Leases {
        let first = Ipv4Addr::new(10, 77, 0, 100);
        Leases::new((first, Ipv4Addr::new(10, 77, 0, 99 + n)), SERVER, 24, Duration::from_secs(600)).unwrap()
    }

    fn msg(kind: Kind, mac: Mac) -> ClientMessage {
        ClientMessage {
            kind,
            xid: 1,
            broadcast: false,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            mac,
            requested_ip: None,
            server_id: None,
            vendor_class: None,
            hostname: None,
            asked: Vec::new(),
        }
    }

    #[test]
    fn who_is_answered() {
        let other = Mac::from_bytes([0x02, 0, 0, 0, 0, 1]);
        assert!(eligible(DhcpAnswer::Grandstream, mac(1), None, false).is_ok());
        assert!(eligible(DhcpAnswer::Grandstream, other, Some("Grandstream GXP2170"), false).is_ok());
        assert!(eligible(DhcpAnswer::Grandstream, other, Some("HT802"), false).is_ok());
        let no = eligible(DhcpAnswer::Grandstream, other, Some("udhcp 1.36.1"), false).unwrap_err();
        assert!(no.contains("02:00:00:00:00:01") && no.contains("udhcp 1.36.1"), "{no}");
        assert!(eligible(DhcpAnswer::Grandstream, other, Some("HTC phone"), false).is_err());
        assert!(eligible(DhcpAnswer::Site, mac(1), None, false).is_err());
        assert!(eligible(DhcpAnswer::Site, other, None, true).is_ok());
        assert!(eligible(DhcpAnswer::All, other, None, false).is_ok());
    }

    #[test]
    fn the_default_pool_avoids_this_computer() {
        let p = |ip: [u8; 4], prefix| default_pool(Ipv4Addr::from(ip), prefix);
        assert_eq!(p([10, 77, 0, 2], 24), Some((Ipv4Addr::new(10, 77, 0, 235), Ipv4Addr::new(10, 77, 0, 254))));
        assert_eq!(p([192, 168, 1, 240], 24), Some((Ipv4Addr::new(192, 168, 1, 220), Ipv4Addr::new(192, 168, 1, 239))));
        assert_eq!(p([192, 168, 1, 9], 28), Some((Ipv4Addr::new(192, 168, 1, 3), Ipv4Addr::new(192, 168, 1, 8))));
        assert_eq!(p([192, 168, 1, 1], 30), None);
        for prefix in 8..=29 {
            let (a, b) = p([172, 16, 5, 77], prefix).unwrap();
            let own = Ipv4Addr::new(172, 16, 5, 77);
            assert!(Leases::new((a, b), own, prefix, Duration::from_secs(600)).is_ok(), "/{prefix}: {a}-{b}");
        }
    }

    #[test]
    fn a_range_outside_the_subnet_or_over_this_computer_is_refused() {
        let l = |a: [u8; 4], b: [u8; 4]| {
            Leases::new((Ipv4Addr::from(a), Ipv4Addr::from(b)), SERVER, 24, Duration::from_secs(600)).unwrap_err()
        };
        assert!(l([10, 77, 1, 5], [10, 77, 1, 9]).contains("not inside"));
        assert!(l([10, 77, 0, 1], [10, 77, 0, 9]).contains("own address 10.77.0.2"));
        assert!(l([10, 77, 0, 9], [10, 77, 0, 5]).contains("empty"));
        assert!(l([10, 77, 0, 250], [10, 77, 0, 255]).contains("broadcast"));
    }

    #[test]
    fn discover_request_ack_renew_release() {
        let mut l = pool(5);
        let ip = l.candidate(mac(1), None, false, 0, t(0)).unwrap();
        assert_eq!(ip, Ipv4Addr::new(10, 77, 0, 100));
        l.offer(mac(1), ip, false, t(0));
        // Another client is offered another address meanwhile.
        assert_eq!(l.candidate(mac(2), Some(ip), false, 0, t(1)).unwrap(), Ipv4Addr::new(10, 77, 0, 101));
        let mut req = msg(Kind::Request, mac(1));
        req.server_id = Some(SERVER);
        req.requested_ip = Some(ip);
        assert_eq!(l.answer(&req, false, t(2)), Verdict::Ack(Some(ip)));
        assert_eq!(l.bound(), vec![(mac(1), ip, t(602))]);
        // Renewal from the address.
        let mut renew = msg(Kind::Request, mac(1));
        renew.ciaddr = ip;
        assert_eq!(l.answer(&renew, false, t(300)), Verdict::Ack(Some(ip)));
        assert_eq!(l.bound()[0].2, t(900));
        // Another client asking for it at reboot gets a NAK; one asking another network too.
        let mut steal = msg(Kind::Request, mac(3));
        steal.requested_ip = Some(ip);
        assert!(matches!(l.answer(&steal, false, t(301)), Verdict::Nak(_)));
        steal.requested_ip = Some(Ipv4Addr::new(192, 168, 1, 7));
        assert!(matches!(l.answer(&steal, false, t(301)), Verdict::Nak(w) if w.contains("not on this network")));
        // A reboot with the address it holds is ACKed.
        let mut reboot = msg(Kind::Request, mac(1));
        reboot.requested_ip = Some(ip);
        assert_eq!(l.answer(&reboot, false, t(302)), Verdict::Ack(Some(ip)));
        let mut rel = msg(Kind::Release, mac(1));
        rel.ciaddr = ip;
        assert!(matches!(l.answer(&rel, false, t(303)), Verdict::Silent(_)));
        assert!(l.bound().is_empty());
        // The lease ended: a REQUEST for it now has no record, and RFC 2131 says silence.
        assert!(matches!(l.answer(&reboot, false, t(304)), Verdict::Silent(_)));
    }

    #[test]
    fn a_client_that_chose_another_server_frees_our_offer_and_offers_expire() {
        let mut l = pool(2);
        let ip = l.candidate(mac(1), None, false, 0, t(0)).unwrap();
        l.offer(mac(1), ip, false, t(0));
        let mut req = msg(Kind::Request, mac(1));
        req.server_id = Some(Ipv4Addr::new(10, 77, 0, 1));
        req.requested_ip = Some(Ipv4Addr::new(10, 77, 0, 50));
        assert!(matches!(l.answer(&req, false, t(1)), Verdict::Silent(w) if w.contains("10.77.0.1")));
        assert!(l.is_empty());
        l.offer(mac(2), ip, false, t(10));
        assert_eq!(l.candidate(mac(3), None, false, 0, t(11)).unwrap(), Ipv4Addr::new(10, 77, 0, 101));
        // After OFFER_HOLD the unconfirmed offer is gone.
        assert_eq!(l.candidate(mac(3), None, false, 0, t(10 + OFFER_HOLD.as_secs() + 1)).unwrap(), ip);
        // A REQUEST for an address never offered is NAKed.
        let mut wrong = msg(Kind::Request, mac(4));
        wrong.server_id = Some(SERVER);
        wrong.requested_ip = Some(ip);
        assert!(matches!(l.answer(&wrong, false, t(100)), Verdict::Nak(_)));
    }

    #[test]
    fn declined_and_arp_taken_addresses_are_left_alone() {
        let mut l = pool(3);
        let ip = l.candidate(mac(1), None, false, 0, t(0)).unwrap();
        l.mark_taken(ip, t(0));
        let next = l.candidate(mac(1), None, false, 0, t(0)).unwrap();
        assert_ne!(next, ip);
        l.offer(mac(1), next, false, t(0));
        let mut dec = msg(Kind::Decline, mac(1));
        dec.requested_ip = Some(next);
        assert!(matches!(l.answer(&dec, false, t(1)), Verdict::Silent(w) if w.contains("declined")));
        assert_eq!(l.candidate(mac(1), None, false, 0, t(2)).unwrap(), Ipv4Addr::new(10, 77, 0, 102));
        // After TAKEN_HOLD they are offered again.
        assert_eq!(l.candidate(mac(1), None, false, 0, t(TAKEN_HOLD.as_secs() + 5)).unwrap(), ip);
    }

    #[test]
    fn a_flood_of_random_macs_leaves_room_for_site_devices() {
        let mut l = pool(10);
        let mut offered = 0;
        for n in 0..=200u8 {
            let m = Mac::from_bytes([0x00, 0x0b, 0x82, 0xee, n, n]);
            if let Ok(ip) = l.candidate(m, None, false, 3, t(0)) {
                l.offer(m, ip, false, t(0));
                offered += 1;
            }
        }
        assert_eq!(offered, 7, "three of ten kept for the three site devices still waiting");
        assert!(l.len() <= 10);
        for n in 1..=3 {
            let ip = l.candidate(mac(n), None, true, 3, t(1)).unwrap();
            l.offer(mac(n), ip, true, t(1));
        }
        // A fourth site device takes over the oldest offer to a stranger.
        let ip = l.candidate(mac(4), None, true, 1, t(2)).unwrap();
        l.offer(mac(4), ip, true, t(2));
        assert_eq!(l.len(), 10);
        assert!(l.by_mac.values().filter(|e| e.known).count() == 4);
    }

    #[test]
    fn restored_leases_are_kept_and_expired_ones_dropped() {
        let mut l = pool(5);
        l.restore(mac(1), Ipv4Addr::new(10, 77, 0, 103), t(500), true, t(0));
        l.restore(mac(2), Ipv4Addr::new(10, 77, 0, 104), t(5), true, t(10));
        l.restore(mac(3), Ipv4Addr::new(10, 77, 9, 104), t(500), true, t(10));
        assert_eq!(l.bound(), vec![(mac(1), Ipv4Addr::new(10, 77, 0, 103), t(500))]);
        assert_eq!(l.candidate(mac(1), None, true, 0, t(20)).unwrap(), Ipv4Addr::new(10, 77, 0, 103));
        l.forget(mac(1));
        assert!(l.is_empty());
    }

    #[test]
    fn option_66_names_http_first_and_a_bare_tftp_host_last() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let all = [
            (Protocol::Tftp, a("0.0.0.0:69")),
            (Protocol::Http, a("0.0.0.0:8080")),
            (Protocol::Https, a("0.0.0.0:8443")),
        ];
        assert_eq!(option66(SERVER, &all).as_deref(), Some("http://10.77.0.2:8080/"));
        assert_eq!(option66(SERVER, &all[..1]).as_deref(), Some("10.77.0.2"));
        assert_eq!(option66(SERVER, &[(Protocol::Tftp, a("0.0.0.0:6969"))]).as_deref(), Some("tftp://10.77.0.2:6969/"));
        assert_eq!(option66(SERVER, &[all[0], all[2]]).as_deref(), Some("https://10.77.0.2:8443/"));
        assert_eq!(option66(SERVER, &[]), None);
    }

    #[test]
    fn inform_is_acked_without_an_address() {
        let mut l = pool(2);
        let mut inf = msg(Kind::Inform, mac(1));
        inf.ciaddr = Ipv4Addr::new(10, 77, 0, 50);
        assert_eq!(l.answer(&inf, false, t(0)), Verdict::Ack(None));
        assert!(l.is_empty());
    }
}
