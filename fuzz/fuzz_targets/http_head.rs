//! `formats::http::parse_request_head` on any bytes (what the HTTP server
//! reads before a request): never panics, never claims more bytes than it was
//! given or than the head limit; what it accepts feeds the Range, Authorization
//! and log-masking code without panics, and a masked target has no control
//! character left (it reaches terminals).
#![no_main]

use gsprov::formats::http;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match http::parse_request_head(data) {
        Ok(Some((head, used))) => {
            assert!(used <= data.len() && used <= http::MAX_HEAD);
            let masked = http::mask_target(&head.target);
            assert!(!masked.chars().any(char::is_control));
            for (_, v) in &head.headers {
                let _ = http::parse_range(v, 1000);
                let _ = http::parse_range(v, 0);
                let _ = http::parse_authorization(v);
            }
            let _ = (head.keep_alive(), head.has_body());
        }
        Ok(None) => assert!(data.len() <= http::MAX_HEAD),
        Err(e) => {
            let _ = e.status();
        }
    }
    let _ = http::parse_response_head(data);
});
