//! A site of numbered desk phones, shared by `tests/serve.rs` and
//! `benches/phones.rs` (which includes this file by path): device `i` has
//! MAC `000b82` + `i + 1`, label `Desk i` and one account `200 + i` / `sip-i`.

use gsprov::site::{Account, Device, Site};

/// The MAC of desk `i` (`000b82000001` for desk 0).
pub fn mac(i: usize) -> String {
    format!("000b82{:06x}", i + 1)
}

/// `n` desks named `name`, desk `i` of model `model(i)`, with P212 = 1 and the
/// SIP server P47 set site-wide.
pub fn desks(name: &str, n: usize, model: impl Fn(usize) -> &'static str) -> Site {
    let mut s = Site { name: name.into(), ..Site::default() };
    s.defaults.set("P212", "1");
    s.defaults.set("P47", "pbx.example.com");
    for i in 0..n {
        let mut d = Device::new(mac(i).parse().expect("a MAC"), model(i).parse().expect("a model"));
        d.label = format!("Desk {i}");
        d.accounts.push(Account {
            user_id: format!("{}", 200 + i),
            password: format!("sip-{i}"),
            ..Account::default()
        });
        s.devices.push(d);
    }
    s
}
