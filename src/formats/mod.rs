//! Pure bytes <-> types for everything a Grandstream device reads or sends:
//! the legacy binary `cfg<mac>` file ([`binary`]), XML v1/v2 ([`xml`]),
//! OpenSSL-salted AES-256-CBC ([`crypto`]), any served file read back
//! ([`decode`]), the site phonebook ([`phonebook`]), request file names
//! ([`request`]) and User-Agent strings ([`useragent`]), TFTP packets
//! ([`tftp`]) and HTTP request heads ([`http`]), SIP plug-and-play messages
//! ([`sip`]), the resync/reboot NOTIFY and its digest answer ([`resync`]),
//! syslog lines ([`syslog`]), DHCP packets ([`dhcp`]), the OS neighbour
//! table's text ([`neigh`]), the device web API's requests and answers
//! ([`webapi`]) and firmware image headers ([`firmware`]).
//!
//! Nothing here touches the file system, sockets, the clock or a random number
//! generator: salts and times come from the caller, so every function is
//! deterministic and golden-tested byte for byte.

pub mod binary;
pub mod crypto;
pub mod decode;
pub mod dhcp;
pub mod firmware;
pub mod http;
pub mod neigh;
pub mod phonebook;
pub mod request;
pub mod resync;
pub mod sip;
pub mod syslog;
pub mod tftp;
pub mod useragent;
pub mod webapi;
pub mod xml;

/// `n` in decimal, written into `buf` without the formatting machinery: for
/// hot paths (the binary encoder's P-numbers, the request log's addresses).
pub(crate) fn decimal(n: u32, buf: &mut [u8; 10]) -> &str {
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// `text` fit for a terminal or a log line: control characters (ESC, BEL, CR,
/// newlines...) become visible escapes (`\u{1b}`), so a User-Agent or a name
/// from the network cannot move the cursor, retitle the window or forge a line.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    // Printable ASCII needs no look at characters (the usual case, per request).
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) || !text.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}
