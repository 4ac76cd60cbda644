//! A large synthetic site shared by `benches/generate.rs` and `examples/bigsite.rs`:
//! N devices cycling through a current phone, a two-account phone, a Wi-Fi phone,
//! an ATA and a legacy binary-only phone, each with accounts and a per-device
//! override, with `cfg<mac>.xml` encrypted (`device-files`) unless `encrypt` is off.
//! Deterministic: the same `count` always gives the same site.

use gsprov::ids::{Mac, Model};
use gsprov::site::{Account, Device, Encrypt, Site, Values};

/// The model mix, in the order devices cycle through it.
pub const MODELS: [&str; 5] = ["GXP2170", "GXP2135", "GRP2612W", "HT802", "GXP2000"];

/// Builds a site with `count` devices.
pub fn big_site(count: u32, encrypt: Encrypt) -> Site {
    let mut site = Site { name: format!("Benchmark site ({count} devices)"), ..Site::default() };
    let p = &mut site.provisioning;
    p.xml_password = "bench-xml-secret".into();
    p.encrypt = encrypt;
    for (k, v) in [
        ("P212", "1"),
        ("P237", "192.168.10.5:8080"),
        ("P192", "192.168.10.5:8080/firmware"),
        ("P47", "pbx.bench.example"),
        ("P30", "pool.ntp.org"),
        ("P64", "auto"),
        ("P1362", "en"),
        ("P193", "10080"),
        ("P194", "0"),
        ("P238", "0"),
        ("P1409", "0"),
    ] {
        site.defaults.set(k, v);
    }
    site.models.insert("GXP2170".into(), Values([("P290".to_string(), "{ x+ | *x+ | *xx*x+ }".to_string())].into()));
    site.models.insert("HT802".into(), Values([("P4428".to_string(), "1".to_string())].into()));
    let models: Vec<Model> = MODELS.iter().map(|m| m.parse().expect("static model name")).collect();
    for i in 0..count {
        let model = models[i as usize % models.len()].clone();
        // Phones under the Grandstream OUI 000b82, ATAs under c074ad; the index fills the
        // low 24 bits, so MACs are unique up to 16 million devices.
        let oui: u32 = if model.as_str().starts_with("HT") { 0xc074ad } else { 0x000b82 };
        let mac: Mac = format!("{oui:06x}{i:06x}").parse().expect("12 hex digits");
        let mut d = Device::new(mac, model);
        d.label = format!("Desk {i}");
        d.location = format!("Floor {}", i / 100);
        let ext = 10_000 + i;
        let lines = if matches!(i as usize % MODELS.len(), 0 | 3) { 2 } else { 1 };
        for line in 0..lines {
            d.accounts.push(Account {
                user_id: format!("{}", ext + line * 100_000),
                password: format!("sip-{ext}-{line}-secret"),
                display_name: format!("Desk {i} line {}", line + 1),
                ..Account::default()
            });
        }
        d.values.set("P2", format!("admin-{ext}"));
        site.devices.push(d);
    }
    site
}
