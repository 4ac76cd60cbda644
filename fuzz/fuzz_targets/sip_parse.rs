//! `formats::sip::parse` on any datagram (what the PnP responder receives from
//! the LAN): never panics; a ua-profile SUBSCRIBE it accepts gets a 200 OK and
//! a NOTIFY that parse back, in the same dialog, carrying the URL.
#![no_main]

use gsprov::formats::sip::{self, NotifyParams, StartLine};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = sip::parse(data) else { return };
    let source = "192.0.2.7:5080".parse().unwrap();
    let _ = msg.cseq();
    let ok = sip::ok_response(&msg, source, "gs1");
    let Ok(sub) = sip::pnp_subscribe(&msg) else { return };
    let back = sip::parse(&ok).expect("our 200 OK parses");
    assert!(matches!(back.start, StartLine::Response { code: 200, .. }));
    let p = NotifyParams { local: "192.0.2.1:5060".parse().unwrap(), url: "http://192.0.2.1:8080/", branch: "b", tag: "gs1", cseq: 1 };
    let raw = sip::notify(&sub, source, &p);
    let n = sip::parse(&raw).expect("our NOTIFY parses");
    assert_eq!(n.body, b"http://192.0.2.1:8080/\r\n");
    assert_eq!(n.cseq(), Some((1, "NOTIFY".into())));
    let _ = gsprov::services::pnp::decide(&sub, gsprov::event::PnpAnswer::All, false, Some(p.url));
});
