//! What a listening port needs on the technician's OS, said one way for both front ends:
//! Linux reserves ports below 1024 for root (or a binary with `cap_net_bind_service`);
//! Windows reserves none of them, but its Firewall keeps the LAN out until it is allowed,
//! which [`firewall_rule`] says as a `netsh advfirewall` line.
//!
//! Pure: the OS is a value ([`Os::HERE`] for the running one), so every text is tested on
//! any build machine, and `packaging/windows/test-wine.sh` checks what `gsprov.exe` prints.

/// The OS family a hint is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Linux and the BSDs: ports below 1024 need root or `cap_net_bind_service`.
    Unix,
    /// macOS: since 10.14 any user may listen on a low port; the application firewall asks.
    MacOs,
    /// Windows: any user may listen on a low port; the Windows Firewall asks.
    Windows,
}

impl Os {
    /// The OS this binary runs on.
    pub const HERE: Os = if cfg!(windows) {
        Os::Windows
    } else if cfg!(target_os = "macos") {
        Os::MacOs
    } else {
        Os::Unix
    };
}

/// A transport of a listening port, for the firewall rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// What a server listens with.
pub fn transport(protocol: super::Protocol) -> Transport {
    match protocol {
        super::Protocol::Http | super::Protocol::Https => Transport::Tcp,
        super::Protocol::Tftp | super::Protocol::Sip | super::Protocol::Syslog | super::Protocol::Dhcp => {
            Transport::Udp
        }
    }
}

/// Why binding `port` was refused (`PermissionDenied`), and what to do.
pub fn bind_denied(os: Os, port: u16) -> String {
    match os {
        Os::Unix if port < 1024 => format!(
            "port {port} needs root/CAP_NET_BIND_SERVICE: run with sudo, use setcap (see README), or choose another port"
        ),
        Os::Windows => format!(
            "port {port} is held exclusively by another program or reserved by Windows (`netsh interface ipv4 show \
             excludedportrange protocol=udp` lists the reserved ones): stop that program or choose another port"
        ),
        Os::Unix | Os::MacOs => format!("port {port} was refused by the system: choose another port"),
    }
}

/// What serving devices on `port` needs beyond starting gsprov, as a short clause:
/// `"needs root or `sudo setcap cap_net_bind_service=+ep`"`, or the firewall on Windows.
pub fn low_port_needs(os: Os) -> &'static str {
    match os {
        Os::Unix => "needs root or `sudo setcap cap_net_bind_service=+ep`",
        Os::MacOs => "needs no privilege on macOS; the firewall asks to let gsprov in",
        Os::Windows => "needs no privilege on Windows; the Windows Firewall must let gsprov in",
    }
}

/// The `netsh` line (run in an administrator prompt) that lets devices reach `port`, with
/// the rule named after what serves there (`gsprov TFTP`, `gsprov DHCP preflight`).
pub fn firewall_rule(what: &str, transport: Transport, port: u16) -> String {
    let protocol = match transport {
        Transport::Udp => "UDP",
        Transport::Tcp => "TCP",
    };
    format!(
        "netsh advfirewall firewall add rule name=\"gsprov {what}\" dir=in action=allow protocol={protocol} \
         localport={port}"
    )
}

/// The note printed under a server's "listening" line where the OS firewall, not a
/// privilege, decides whether devices reach it (Windows); `None` elsewhere.
pub fn firewall_note(os: Os, what: &str, transport: Transport, port: u16) -> Option<String> {
    (os == Os::Windows).then(|| {
        format!(
            "Windows Firewall: devices reach this port once it is allowed (Windows asks the first time; or, \
             in an administrator prompt): {}",
            firewall_rule(what, transport, port)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_os_says_what_it_needs() {
        assert_eq!(
            bind_denied(Os::Unix, 69),
            "port 69 needs root/CAP_NET_BIND_SERVICE: run with sudo, use setcap (see README), or choose another port"
        );
        for os in [Os::Windows, Os::MacOs] {
            let said = bind_denied(os, 69) + low_port_needs(os);
            assert!(!said.contains("sudo") && !said.contains("setcap") && !said.contains("root"), "{said}");
        }
        assert!(bind_denied(Os::Windows, 69).contains("excludedportrange"));
        assert!(low_port_needs(Os::Unix).contains("setcap"));
        assert!(low_port_needs(Os::Windows).contains("Windows Firewall"));
    }

    #[test]
    fn firewall_rules_are_netsh_lines_for_the_port_served() {
        assert_eq!(
            firewall_rule("TFTP", Transport::Udp, 69),
            "netsh advfirewall firewall add rule name=\"gsprov TFTP\" dir=in action=allow protocol=UDP localport=69"
        );
        assert_eq!(
            firewall_note(Os::Windows, "HTTPS", Transport::Tcp, 8443).unwrap(),
            "Windows Firewall: devices reach this port once it is allowed (Windows asks the first time; or, in an \
             administrator prompt): netsh advfirewall firewall add rule name=\"gsprov HTTPS\" dir=in action=allow \
             protocol=TCP localport=8443"
        );
        assert_eq!(firewall_note(Os::Unix, "TFTP", Transport::Udp, 69), None);
        assert_eq!(firewall_note(Os::MacOs, "TFTP", Transport::Udp, 69), None);
    }
}
