//! Whether the devices are told to fetch from this computer: the site's config
//! server path P237 (and firmware path P192) with the method P212 (P6767 for
//! firmware where set), compared with this machine's interfaces and the ports
//! the servers actually bound ([`check`]); the one-click fix ([`suggest`]:
//! P212/P237/P192 pointing at one interface and the bound port); and the
//! weaker check `gsprov check` runs without servers ([`names_this_machine`]).
//!
//! Pure: the interface list and the bound addresses come from the caller
//! (`services::interfaces`, the servers' `Started` events). It never resolves
//! a host name (a name is reported as "not checked") and never sends anything.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::serving::Protocol;
use crate::serving::discovery::NetInterface;

/// A server path as the devices get it: `host[:port][/path]`, a leading
/// scheme tolerated (spec §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerPath {
    pub host: String,
    pub port: Option<u16>,
    /// `/path` or empty.
    pub path: String,
}

impl ServerPath {
    pub fn parse(value: &str) -> Option<ServerPath> {
        let v = value.trim();
        let v = ["tftp://", "http://", "https://"]
            .iter()
            .find_map(|s| v.get(..s.len()).filter(|p| p.eq_ignore_ascii_case(s)).map(|_| &v[s.len()..]))
            .unwrap_or(v);
        let (hp, path) = match v.find('/') {
            Some(i) => (&v[..i], v[i..].trim_end_matches('/')),
            None => (v, ""),
        };
        if hp.is_empty() {
            return None;
        }
        let (host, port) = match hp.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p.parse().ok()?)),
            _ => (hp, None),
        };
        Some(ServerPath { host: host.to_string(), port, path: path.to_string() })
    }

    /// The address, when the host is an IPv4 literal.
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        self.host.parse().ok()
    }
}

/// The protocol a P212 / P6767 value selects (0 TFTP, 1 HTTP, 2 HTTPS).
pub fn method(value: Option<&str>) -> Option<Protocol> {
    match value.map(str::trim) {
        Some("0") => Some(Protocol::Tftp),
        Some("1") => Some(Protocol::Http),
        Some("2") => Some(Protocol::Https),
        _ => None,
    }
}

/// The P212 code of a protocol.
pub fn method_code(p: Protocol) -> &'static str {
    match p {
        Protocol::Tftp => "0",
        Protocol::Https => "2",
        _ => "1",
    }
}

/// `host[:port][path]` with the port left out when it is the protocol's default.
pub fn server_path(ip: Ipv4Addr, protocol: Protocol, port: u16, path: &str) -> String {
    if port == protocol.default_port() { format!("{ip}{path}") } else { format!("{ip}:{port}{path}") }
}

/// What the site tells the devices and what this computer is.
#[derive(Debug, Clone, Copy)]
pub struct Setup<'a> {
    /// Site defaults P212, P237, P192, P6767.
    pub p212: Option<&'a str>,
    pub p237: Option<&'a str>,
    pub p192: Option<&'a str>,
    pub p6767: Option<&'a str>,
    /// A firmware folder is served, so P192 matters too.
    pub firmware_served: bool,
    /// The servers' bind address (`0.0.0.0` = every interface).
    pub bind: IpAddr,
    /// The file servers running, with the addresses they bound.
    pub bound: &'a [(Protocol, SocketAddr)],
    pub interfaces: &'a [NetInterface],
}

/// One mismatch, with both values and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `P237`, `P192` or `P212`.
    pub key: &'static str,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The values that point the devices at this computer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub interface: NetInterface,
    pub protocol: Protocol,
    pub port: u16,
    pub p212: &'static str,
    pub p237: String,
    /// Only when firmware is served.
    pub p192: Option<String>,
    /// P6767 follows when the site sets it (newer phones' firmware method).
    pub p6767: Option<&'static str>,
}

impl Suggestion {
    /// `Point devices at this computer (eth0 10.0.0.2, HTTP 8080)`.
    pub fn label(&self) -> String {
        format!(
            "Point devices at this computer ({} {}, {} {})",
            self.interface.name, self.interface.ipv4, self.protocol, self.port
        )
    }

    /// `P212 = 1, P237 = 10.0.0.2:8080, P192 = 10.0.0.2:8080/firmware`.
    pub fn values(&self) -> Vec<(&'static str, String)> {
        let mut v = vec![("P212", self.p212.to_string()), ("P237", self.p237.clone())];
        if let Some(p) = &self.p192 {
            v.push(("P192", p.clone()));
        }
        if let Some(p) = self.p6767 {
            v.push(("P6767", p.to_string()));
        }
        v
    }
}

fn bound_port(s: &Setup, p: Protocol) -> Option<u16> {
    s.bound.iter().find(|(q, _)| *q == p).map(|(_, a)| a.port())
}

fn mine(s: &Setup, ip: Ipv4Addr) -> bool {
    s.interfaces.iter().any(|i| i.ipv4 == ip)
}

fn bound_list(s: &Setup) -> String {
    if s.bound.is_empty() {
        return "nothing".into();
    }
    s.bound.iter().map(|(p, a)| format!("{p} on port {}", a.port())).collect::<Vec<_>>().join(", ")
}

/// The interface devices should be pointed at: the one holding the bind
/// address, else the one P237 already names (when it is this computer's and
/// not loopback), else the first that is not loopback.
pub fn this_computer<'a>(bind: IpAddr, p237: Option<&str>, interfaces: &'a [NetInterface]) -> Option<&'a NetInterface> {
    match bind {
        IpAddr::V4(v4) if !v4.is_unspecified() => interfaces.iter().find(|i| i.ipv4 == v4),
        _ => p237
            .and_then(ServerPath::parse)
            .and_then(|n| n.ipv4())
            .and_then(|ip| interfaces.iter().find(|i| i.ipv4 == ip && !i.loopback))
            .or_else(|| interfaces.iter().find(|i| !i.loopback)),
    }
}

/// The values that would point the devices here: [`this_computer`]; the
/// protocol P212 names when it is served, else HTTP, HTTPS, TFTP; its bound port.
pub fn suggest(s: &Setup) -> Option<Suggestion> {
    let named = s.p237.and_then(ServerPath::parse);
    let interface = this_computer(s.bind, s.p237, s.interfaces)?.clone();
    let protocol = method(s.p212).filter(|p| bound_port(s, *p).is_some()).or_else(|| {
        [Protocol::Http, Protocol::Https, Protocol::Tftp].into_iter().find(|p| bound_port(s, *p).is_some())
    })?;
    let port = bound_port(s, protocol)?;
    let path = named.map(|n| n.path).unwrap_or_default();
    let p237 = server_path(interface.ipv4, protocol, port, &path);
    let (p192, p6767) = if s.firmware_served {
        // Firmware comes from the same server: P6767, where the site sets it, follows P212.
        let fw_path = s.p192.and_then(ServerPath::parse).map(|n| n.path).unwrap_or_default();
        (Some(server_path(interface.ipv4, protocol, port, &fw_path)), s.p6767.map(|_| method_code(protocol)))
    } else {
        (None, None)
    };
    Some(Suggestion { interface, protocol, port, p212: method_code(protocol), p237, p192, p6767 })
}

/// Every way P237 (and P192 when firmware is served) misses this computer's
/// running servers. Empty when the devices are told to come here.
pub fn check(s: &Setup) -> Vec<Finding> {
    let fix = suggest(s);
    let fix_text = |key: &str| match &fix {
        Some(f) => {
            let v = f.values().into_iter().find(|(k, _)| *k == key).map(|(_, v)| v).unwrap_or_default();
            format!("set {key} = {v} in the site defaults (the desktop app's \"{}\")", f.label())
        }
        None => format!("set {key} to an address of this computer and the port its server listens on"),
    };
    let mut out = Vec::new();
    let config_method = method(s.p212);
    match config_method {
        None => out.push(Finding {
            key: "P212",
            message: format!(
                "P212 (config upgrade via) is {}: devices keep the method they had; fix: {}",
                s.p212.map_or("not set".to_string(), |v| format!("{v:?}, which is not 0, 1 or 2")),
                fix.as_ref()
                    .map_or("set P212 = 1 (HTTP)".to_string(), |f| format!("set P212 = {} ({})", f.p212, f.protocol))
            ),
        }),
        Some(p) if bound_port(s, p).is_none() => out.push(Finding {
            key: "P212",
            message: format!(
                "P212 = {} tells devices to use {p}, but {p} is not being served (serving {}); fix: turn {p} on, \
                 or {}",
                method_code(p),
                bound_list(s),
                fix.as_ref().map_or("serve HTTP".to_string(), |f| format!("set P212 = {} ({})", f.p212, f.protocol))
            ),
        }),
        Some(_) => {}
    }
    let mut path_check = |key: &'static str, value: Option<&str>, protocol: Option<Protocol>, what: &str| {
        let Some(value) = value.filter(|v| !v.trim().is_empty()) else {
            out.push(Finding {
                key,
                message: format!("{key} ({what}) is not set: devices keep the server they had; fix: {}", fix_text(key)),
            });
            return;
        };
        let Some(path) = ServerPath::parse(value) else {
            out.push(Finding {
                key,
                message: format!("{key} = {value:?} is not host[:port][/path]; fix: {}", fix_text(key)),
            });
            return;
        };
        let told = format!("devices are told {key} = {value}");
        match path.ipv4() {
            None => out.push(Finding {
                key,
                message: format!(
                    "{told}, a host name gsprov does not resolve: make sure it names this computer ({}); or {}",
                    describe(s.interfaces),
                    fix_text(key)
                ),
            }),
            Some(ip) if !mine(s, ip) => out.push(Finding {
                key,
                message: format!(
                    "{told}, but {ip} is not an address of this computer (it has {}): the devices will ask another \
                     machine; fix: {}",
                    describe(s.interfaces),
                    fix_text(key)
                ),
            }),
            Some(ip) => {
                if let IpAddr::V4(b) = s.bind
                    && !b.is_unspecified()
                    && b != ip
                {
                    out.push(Finding {
                        key,
                        message: format!(
                            "{told}, but the servers listen on {b} only; fix: {}, or listen on 0.0.0.0",
                            fix_text(key)
                        ),
                    });
                } else if ip.is_loopback() {
                    let fix = match &fix {
                        Some(f) if !f.interface.loopback => fix_text(key),
                        _ => "listen on the devices' LAN (its address, or 0.0.0.0) and point them at it".to_string(),
                    };
                    out.push(Finding {
                        key,
                        message: format!(
                            "{told}, a loopback address: every device is its own {ip}, so none reaches this \
                             computer; fix: {fix}"
                        ),
                    });
                }
                if let Some(p) = protocol
                    && let Some(port) = bound_port(s, p)
                {
                    let asked = path.port.unwrap_or(p.default_port());
                    if asked != port {
                        let how = if path.port.is_some() { "" } else { " (the default, no port given)" };
                        out.push(Finding {
                            key,
                            message: format!(
                                "{told}: {p} on port {asked}{how}, but {p} listens on port {port}; fix: {}, or set \
                                 the {p} port to {asked}",
                                fix_text(key)
                            ),
                        });
                    }
                }
            }
        }
    };
    path_check("P237", s.p237, config_method, "config server path");
    if s.firmware_served {
        let fw_method = if s.p6767.is_some() { method(s.p6767) } else { config_method };
        path_check("P192", s.p192, fw_method, "firmware server path");
    }
    out
}

/// Said before the technician points the devices at `ip` (the desktop app's
/// "Point devices at this computer" button, its URLs and DHCP option-66
/// lines): when `ip` is a loopback address, that no device reaches it and
/// what to choose instead. `bind` is the servers' listen address: bound to
/// loopback, they must listen elsewhere first (`running`: stop them first).
/// `None` for any other address.
pub fn loopback_advice(ip: IpAddr, bind: IpAddr, interfaces: &[NetInterface], running: bool) -> Option<String> {
    if !ip.is_loopback() {
        return None;
    }
    let lan: Vec<&NetInterface> = interfaces.iter().filter(|i| !i.loopback).collect();
    let head = format!(
        "{ip} is a loopback address: every device is its own {ip}, so none would reach this computer there \
         (right only for a test on this computer)."
    );
    let named = |i: &NetInterface| format!("{} {}", i.name, i.ipv4);
    let choose = match (lan.first(), bind.is_loopback()) {
        (None, _) => "This computer has no other IPv4 address: connect it to the devices' LAN first.".to_string(),
        (Some(first), true) => format!(
            "Choose instead: {}set \"Listen on address\" to 0.0.0.0 (every interface) or to {}, then pick {} \
             under Interfaces.",
            if running { "stop the servers, " } else { "" },
            first.ipv4,
            lan.iter().map(|i| named(i)).collect::<Vec<_>>().join(" or ")
        ),
        (Some(_), false) => format!(
            "Choose instead: {} under Interfaces.",
            lan.iter().map(|i| named(i)).collect::<Vec<_>>().join(" or ")
        ),
    };
    Some(format!("{head} {choose}"))
}

/// For `gsprov check` (no servers running): a warning when P237's host is an
/// IPv4 address this computer does not have. It may well be meant for a
/// permanent server, so it is a warning, never a refusal.
pub fn names_this_machine(p237: &str, interfaces: &[NetInterface]) -> Option<String> {
    let path = ServerPath::parse(p237)?;
    let ip = path.ipv4()?;
    if interfaces.iter().any(|i| i.ipv4 == ip) {
        return None;
    }
    Some(format!(
        "P237 = {p237} names {ip}, which is not an address of this computer (it has {}): devices will fetch from \
         another machine. That is right if {ip} is a permanent provisioning server; to serve from this computer, set \
         P237 to one of its addresses (`gsprov serve` and the desktop app say which)",
        describe(interfaces)
    ))
}

/// `eth0 10.0.0.2/24, lo 127.0.0.1/8`.
pub fn describe(all: &[NetInterface]) -> String {
    if all.is_empty() {
        return "no IPv4 interface".into();
    }
    all.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nics() -> Vec<NetInterface> {
        NetInterface::lo_and_eth0()
    }

    fn setup<'a>(
        p237: Option<&'a str>,
        bound: &'a [(Protocol, SocketAddr)],
        nics: &'a [NetInterface],
        firmware: bool,
    ) -> Setup<'a> {
        Setup {
            p212: Some("1"),
            p237,
            p192: Some("192.168.10.5:8080/firmware"),
            p6767: None,
            firmware_served: firmware,
            bind: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            bound,
            interfaces: nics,
        }
    }

    /// Issue 27 item 9: loopback is warned of before the devices are pointed
    /// at it, with what to choose instead.
    #[test]
    fn loopback_is_advised_against_with_what_to_choose() {
        let nics = nics();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let any = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
        assert_eq!(loopback_advice("10.0.0.2".parse().unwrap(), any, &nics, false), None);
        let a = loopback_advice(lo, any, &nics, false).unwrap();
        assert!(a.starts_with("127.0.0.1 is a loopback address: every device is its own 127.0.0.1"), "{a}");
        assert!(a.ends_with("Choose instead: eth0 10.0.0.2 under Interfaces."), "{a}");
        // Listening on loopback only: the listen address changes first (servers stopped first).
        let a = loopback_advice(lo, lo, &nics, true).unwrap();
        assert!(
            a.ends_with(
                "Choose instead: stop the servers, set \"Listen on address\" to 0.0.0.0 (every interface) or to \
                 10.0.0.2, then pick eth0 10.0.0.2 under Interfaces."
            ),
            "{a}"
        );
        let only_lo: Vec<NetInterface> = nics.iter().filter(|i| i.loopback).cloned().collect();
        let a = loopback_advice("127.0.0.5".parse().unwrap(), lo, &only_lo, false).unwrap();
        assert!(a.ends_with("This computer has no other IPv4 address: connect it to the devices' LAN first."), "{a}");
        assert!(loopback_advice("::1".parse().unwrap(), any, &nics, false).is_some());
    }

    #[test]
    fn server_paths() {
        let p = ServerPath::parse("http://10.0.0.2:8080/prov/").unwrap();
        assert_eq!((p.host.as_str(), p.port, p.path.as_str()), ("10.0.0.2", Some(8080), "/prov"));
        let p = ServerPath::parse("pbx.example.com").unwrap();
        assert_eq!((p.ipv4(), p.port, p.path.as_str()), (None, None, ""));
        assert_eq!(ServerPath::parse("10.0.0.2:x"), None);
        assert_eq!(ServerPath::parse(""), None);
        assert_eq!(server_path(Ipv4Addr::new(10, 0, 0, 2), Protocol::Http, 80, ""), "10.0.0.2");
        assert_eq!(server_path(Ipv4Addr::new(10, 0, 0, 2), Protocol::Http, 8080, "/fw"), "10.0.0.2:8080/fw");
    }

    #[test]
    fn another_machine_is_named_with_both_values_and_the_fix() {
        let nics = nics();
        let bound = [(Protocol::Http, "0.0.0.0:8080".parse().unwrap())];
        let f = check(&setup(Some("192.168.10.5:8080"), &bound, &nics, true));
        assert_eq!(f.len(), 2, "{f:#?}");
        let m = &f[0].message;
        assert!(m.contains("P237 = 192.168.10.5:8080") && m.contains("not an address of this computer"), "{m}");
        assert!(m.contains("eth0 10.0.0.2/24"), "{m}");
        assert!(m.contains("set P237 = 10.0.0.2:8080") && m.contains("(eth0 10.0.0.2, HTTP 8080)"), "{m}");
        assert!(f[1].message.contains("set P192 = 10.0.0.2:8080/firmware"), "{}", f[1].message);
        let s = suggest(&setup(Some("192.168.10.5:8080"), &bound, &nics, true)).unwrap();
        assert_eq!(s.label(), "Point devices at this computer (eth0 10.0.0.2, HTTP 8080)");
        assert_eq!(
            s.values(),
            vec![
                ("P212", "1".to_string()),
                ("P237", "10.0.0.2:8080".into()),
                ("P192", "10.0.0.2:8080/firmware".into())
            ]
        );
        // The fix applied: nothing to say.
        let mut fixed = setup(Some("10.0.0.2:8080"), &bound, &nics, true);
        fixed.p192 = Some("10.0.0.2:8080/firmware");
        assert_eq!(check(&fixed), vec![]);
    }

    #[test]
    fn the_port_actually_bound_counts() {
        let nics = nics();
        let bound = [(Protocol::Http, "0.0.0.0:18080".parse().unwrap())];
        let f = check(&setup(Some("10.0.0.2:8080"), &bound, &nics, false));
        assert_eq!(f.len(), 1, "{f:#?}");
        let m = &f[0].message;
        assert!(m.contains("HTTP on port 8080, but HTTP listens on port 18080"), "{m}");
        assert!(m.contains("set P237 = 10.0.0.2:18080"), "{m}");
        // No port given means the default.
        let f = check(&setup(Some("10.0.0.2/prov"), &bound, &nics, false));
        assert!(f[0].message.contains("port 80 (the default, no port given)"), "{f:#?}");
        assert!(f[0].message.contains("set P237 = 10.0.0.2:18080/prov"), "{f:#?}");
    }

    #[test]
    fn method_bind_loopback_and_names() {
        let nics = nics();
        let bound = [(Protocol::Tftp, "127.0.0.1:6969".parse().unwrap())];
        let mut s = setup(Some("127.0.0.1:6969"), &bound, &nics, false);
        s.bind = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let f = check(&s);
        assert!(f.iter().any(|f| f.key == "P212" && f.message.contains("HTTP is not being served")), "{f:#?}");
        assert!(f.iter().any(|f| f.message.contains("a loopback address")), "{f:#?}");
        let sug = suggest(&s).unwrap();
        assert_eq!((sug.interface.name.as_str(), sug.protocol, sug.p212), ("lo", Protocol::Tftp, "0"));
        s.bind = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
        s.p237 = Some("127.0.0.1");
        assert!(check(&s).iter().any(|f| f.message.contains("listen on 10.0.0.2 only")));
        s.p237 = Some("prov.example.com");
        assert!(check(&s).iter().any(|f| f.message.contains("a host name gsprov does not resolve")));
        s.p237 = None;
        assert!(check(&s).iter().any(|f| f.key == "P237" && f.message.contains("is not set")));
    }

    #[test]
    fn check_without_servers() {
        let nics = nics();
        let w = names_this_machine("192.168.10.5:8080", &nics).unwrap();
        assert!(w.contains("not an address of this computer") && w.contains("permanent provisioning server"), "{w}");
        assert_eq!(names_this_machine("10.0.0.2:8080/x", &nics), None);
        assert_eq!(names_this_machine("prov.example.com", &nics), None);
    }
}
