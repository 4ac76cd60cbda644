//! The two parsers that read free text from any LAN host: the HTTP
//! User-Agent (`formats::useragent::parse`) and a syslog datagram
//! (`formats::syslog::parse`): never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gsprov::formats::syslog::parse(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let ua = gsprov::formats::useragent::parse(text);
        let _ = (ua.mac, ua.model, ua.firmware);
    }
});
