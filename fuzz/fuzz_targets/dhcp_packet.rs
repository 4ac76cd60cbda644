//! `formats::dhcp::parse_request` and `parse_reply` on any datagram (what
//! the bench DHCP server and its check for other servers receive): never
//! panic; a client's message that reads is answered with `answer`, and the
//! answer reads back with the client's transaction, MAC and the options
//! given (long ones split and joined again, RFC 3396).
#![no_main]

use std::net::Ipv4Addr;

use gsprov::formats::dhcp::{self, Answer, Kind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = dhcp::parse_reply(data);
    let _ = dhcp::options(data.get(..).filter(|d| d.len() >= 240).unwrap_or(&[0; 240]));
    let Ok(m) = dhcp::parse_request(data) else { return };
    // The client's own bytes as an option: any length, any content.
    let echo = data.get(240..).unwrap_or(&[]).to_vec();
    let a = Answer {
        kind: Kind::Offer,
        yiaddr: Ipv4Addr::new(10, 77, 0, 235),
        server: Ipv4Addr::new(10, 77, 0, 2),
        options: vec![(1, vec![255, 255, 255, 0]), (224, echo.clone())],
    };
    let bytes = dhcp::answer(&m, &a);
    let r = dhcp::parse_reply(&bytes).expect("our own answer reads back");
    assert_eq!(r.xid, m.xid);
    assert_eq!(r.client_mac, Some(m.mac));
    assert_eq!(r.your_ip, Some(a.yiaddr));
    assert_eq!(r.server, Some(a.server));
    let opts = dhcp::options(&bytes).expect("our own options read back");
    let got = opts.iter().find(|(c, _)| *c == 224).map(|(_, v)| v.clone());
    assert_eq!(got.unwrap_or_default(), echo);
});
