//! Issue 27 items 15 and 3: one Discovered list of what is on the LAN (every
//! source, filter, counts, adopt one / selected / all of a model, ignore), and
//! adoption and Duplicate that start a device clean.

use std::net::SocketAddr;

use super::{View, app, app_serving_http_on_loopback, set_text, wait_for};
use egui_kittest::kittest::Queryable;
use gsprov::ids::Mac;
use gsprov::site::Site;

/// Warnings an active account without a user ID raises, site-wide.
fn empty_account_warnings(site: &Site) -> usize {
    site.check().iter().filter(|i| i.message.contains("without a user ID")).count()
}

/// One curl process asking for `cfg<mac>.xml` for every MAC, with a User-Agent naming `model`.
fn ask_as(http: SocketAddr, model: &str, macs: &[String]) {
    let mut curl = std::process::Command::new("curl");
    curl.args(["-s", "--max-time", "20", "-A", &format!("Grandstream Model HW {model} SW 1.0.11.3")]);
    for m in macs {
        curl.args(["-o", "/dev/null", &format!("http://{http}/cfg{m}.xml")]);
    }
    let out = curl.output().expect("curl runs");
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
}

fn http_of(h: &egui_kittest::Harness<'static, gsprov::ui::App>) -> SocketAddr {
    let addrs = h.state().rt.serving.addresses();
    addrs.iter().find(|(p, _)| *p == gsprov::serving::Protocol::Http).expect("HTTP runs").1
}

#[test]
fn discovered_lists_a_request_and_a_syslog_sender_and_adopts_one_clean() {
    let mut h = app_serving_http_on_loopback();
    h.state_mut().rt.serving.syslog = Some(0); // a free port: the test has no privilege for 514
    h.state_mut().start_servers();
    wait_for(&mut h, "HTTP and syslog", |a| a.rt.serving.addresses().len() == 2);
    let addrs = h.state().rt.serving.addresses();
    let syslog = addrs.iter().find(|(p, _)| *p == gsprov::serving::Protocol::Syslog).unwrap().1;
    let http = http_of(&h);

    // A unit the site does not list asks for its file; another host only sends syslog.
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "--interface", "127.0.0.41", "-A"])
        .arg("Grandstream Model HW GXP2135 SW 1.0.11.3 DevId 000b82ee0001")
        .arg(format!("http://{http}/cfg000b82ee0001.xml"))
        .output()
        .expect("curl runs");
    assert!(out.status.success());
    let s = std::net::UdpSocket::bind("127.0.0.42:0").unwrap();
    s.send_to(b"<134>Feb  5 09:01:02 HT802 sip[312]: boot", syslog).unwrap();
    let mac: Mac = "000b82ee0001".parse().unwrap();
    wait_for(&mut h, "both in the Discovered list", |a| {
        a.rt.serving.discovery.device(mac).is_some()
            && a.rt.serving.discovery.devices().iter().any(|d| d.ip == Some("127.0.0.42".parse().unwrap()))
    });

    // The Status board: one line (no flat list of Adopt buttons), linking to the list.
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label("2 device(s) seen on the LAN are not in the site");
    assert!(h.query_by_label_contains("Adopt 000b82ee0001").is_none(), "the board lists no strangers");
    h.get_by_label("Adopt or ignore them in Discovered").click();
    h.run_ok();
    assert_eq!(h.state().state.view, View::Discovered);

    // Each with what saw it and where.
    h.get_by_label("2 seen · 2 not in the site · 0 in the site · 0 ignored");
    h.get_by_label("00:0B:82:EE:00:01");
    h.get_by_label("127.0.0.41");
    h.get_by_label("request");
    h.get_by_label("(MAC not known yet)");
    h.get_by_label("127.0.0.42");
    h.get_by_label("syslog");
    set_text(&mut h, "Filter:", "syslog");
    assert!(h.query_by_label("00:0B:82:EE:00:01").is_none());
    h.get_by_label("127.0.0.42");
    set_text(&mut h, "Filter:", "00:0b:82:ee");
    assert!(h.query_by_label("127.0.0.42").is_none());

    // Adopt: a clean device (no empty active account), and the row says "in the site" at once.
    let warnings = empty_account_warnings(&h.state().doc.site);
    h.get_by_label("Adopt 000b82ee0001").click();
    h.run_ok();
    let site = &h.state().doc.site;
    let d = site.device(mac).expect("adopted");
    assert_eq!(d.model.as_str(), "GXP2135");
    assert!(d.accounts.is_empty(), "{:?}", d.accounts);
    assert_eq!(empty_account_warnings(site), warnings, "adopting adds no warning");
    assert!(d.notes.starts_with("discovered (request)"), "{}", d.notes);
    h.get_by_label("Added 00:0B:82:EE:00:01 (GXP2135) to the site");
    assert!(h.query_by_label("Adopt 000b82ee0001").is_none());
    h.get_by_label("2 seen · 1 not in the site · 1 in the site · 0 ignored");
    h.get_by_label_contains("In the site (1)").click();
    h.run_ok();
    h.get_by_label("in the site: (no label) · GXP2135");
    let found = h.state().rt.serving.discovery.device(mac).unwrap();
    assert!(found.known, "its discovered record says it is in the site");
    h.get_by_label("Edit 00:0B:82:EE:00:01 parameters").click();
    h.run_ok();
    assert_eq!(h.state().state.view, View::Parameters);

    // The board's line follows.
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label("1 device(s) seen on the LAN are not in the site");
    // Any edit is followed, not only an adoption: removed from the site, a stranger again.
    h.state_mut().doc.edit(|site| site.devices.retain(|d| d.mac != mac));
    h.run_ok();
    assert!(!h.state().rt.serving.discovery.device(mac).unwrap().known);
    h.get_by_label("2 device(s) seen on the LAN are not in the site");
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
}

#[test]
fn three_hundred_discovered_macs_adopt_all_of_a_model_and_ignore_the_rest() {
    let mut h = app_serving_http_on_loopback();
    h.state_mut().start_servers();
    wait_for(&mut h, "HTTP", |a| a.rt.serving.running());
    let http = http_of(&h);
    // 300 units the site does not know: 100 GXP2135, 200 HT802.
    let macs: Vec<String> = (0..300).map(|i| format!("000b82f0{i:04x}")).collect();
    let (gxp, ht): (Vec<_>, Vec<_>) = macs.iter().cloned().enumerate().partition(|(i, _)| i % 3 == 0);
    ask_as(http, "GXP2135", &gxp.into_iter().map(|(_, m)| m).collect::<Vec<_>>());
    ask_as(http, "HT802", &ht.into_iter().map(|(_, m)| m).collect::<Vec<_>>());
    wait_for(&mut h, "300 in the list", |a| a.rt.serving.discovery.counts().not_in_site == 300);

    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label("300 device(s) seen on the LAN are not in the site");
    assert!(h.query_by_label_contains("Adopt 000b82f0").is_none(), "no flat list of 300 Adopt buttons");

    h.get_by_label("Discovered").click();
    h.run_ok();
    h.get_by_label("300 seen · 300 not in the site · 0 in the site · 0 ignored");
    h.get_by_label("Not in the site (300)");
    // Virtualised: the first rows are drawn, the 300th is not (until scrolled to).
    h.get_by_label("Adopt 000b82f00000");
    assert!(h.query_by_label("Adopt 000b82f0012b").is_none(), "rows past the screen are not laid out");
    set_text(&mut h, "Filter:", "00:0B:82:F0:01:2B");
    h.get_by_label("Adopt 000b82f0012b");
    set_text(&mut h, "Filter:", "");

    // All of a model, in one edit.
    let warnings = empty_account_warnings(&h.state().doc.site);
    let revision = h.state().doc.revision();
    h.get_by_label("Model:").click();
    h.run_ok();
    h.get_by_label("GXP2135 (100)").click();
    h.run_ok();
    h.get_by_label("Adopt all 100 GXP2135").click();
    h.run_ok();
    let site = &h.state().doc.site;
    assert_eq!(site.devices.len(), 5 + 100);
    let adopted: Vec<_> = site.devices.iter().filter(|d| d.notes.starts_with("discovered")).collect();
    assert_eq!(adopted.len(), 100);
    assert!(adopted.iter().all(|d| d.model.as_str() == "GXP2135" && d.accounts.is_empty()));
    assert_eq!(empty_account_warnings(site), warnings);
    assert_ne!(h.state().doc.revision(), revision);
    h.get_by_label("Added 100 devices to the site");
    h.get_by_label("300 seen · 200 not in the site · 100 in the site · 0 ignored");

    // Ignore the rest: hidden behind "Ignored", not deleted.
    h.get_by_label("Model:").click();
    h.run_ok();
    h.get_by_label("any model").click();
    h.run_ok();
    h.get_by_label("Select all shown (200)").click();
    h.run_ok();
    h.get_by_label("Ignore selected (200)").click();
    h.run_ok();
    h.get_by_label("300 seen · 0 not in the site · 100 in the site · 200 ignored");
    h.get_by_label("Nothing matches this filter.");
    h.get_by_label("Ignored (200)").click();
    h.run_ok();
    h.get_by_label("Stop ignoring 000b82f00001").click();
    h.run_ok();
    h.get_by_label("Not in the site (1)");
    assert_eq!(h.state().rt.serving.discovery.counts().ignored, 199);

    // The board: one line for the one left.
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label("1 device(s) seen on the LAN are not in the site (199 ignored)");
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
}

#[test]
fn duplicate_focuses_the_mac_field_and_copies_no_empty_active_account() {
    let mut h = app();
    let reception: Mac = "000b82a1b201".parse().unwrap();
    assert!(h.state().doc.site.device(reception).unwrap().accounts.iter().any(|a| a.active));
    let warnings = empty_account_warnings(&h.state().doc.site);
    h.state_mut().rt.selected = [reception].into();
    h.run_ok();
    h.get_by_label("Duplicate").click();
    h.run_ok();
    assert!(h.get_by_label("New device MAC:").is_focused(), "the field Duplicate waits for has the keyboard");
    h.get_by_label("New device MAC:").type_text("000b82123499");
    h.run_ok();
    h.get_by_label("Add device").click();
    h.run_ok();
    let site = &h.state().doc.site;
    let copy = site.device("000b82123499".parse().unwrap()).expect("the duplicate");
    assert_eq!(copy.model, site.device(reception).unwrap().model);
    assert!(copy.accounts.iter().all(|a| !a.active && a.user_id.is_empty() && a.password.is_empty()));
    assert_eq!(empty_account_warnings(site), warnings, "a duplicate adds no warning");
}

/// The Discovered view with 500 strangers asks for no frames while idle (as
/// `an_idle_app_asks_for_no_frames_in_any_view` checks the other views).
#[test]
fn the_discovered_view_with_five_hundred_strangers_is_idle() {
    use gsprov::event::Event;
    use gsprov::serving::discovery::{DiscoveryEvent, Sighting, Source};
    let mut h = app();
    for i in 0..500u32 {
        let s = Sighting {
            time: std::time::SystemTime::now(),
            source: Source::Pnp,
            mac: Some(format!("000b82e0{i:04x}").parse().unwrap()),
            ip: Some(std::net::IpAddr::from([127, 0, 1, (i % 250) as u8 + 1])),
            model: Some("GRP2612W".parse().unwrap()),
            firmware: Some("1.0.5.67".into()),
            detail: "SUBSCRIBE".into(),
        };
        h.state_mut().rt.serving.apply(Event::Discovery(DiscoveryEvent::Seen(s)));
    }
    h.state_mut().state.view = View::Discovered;
    h.run_ok();
    // The view asks for the interface list once (for Discover devices); its answer is a frame of its own.
    wait_for(&mut h, "the interface list", |a| !a.rt.serving.interfaces.is_empty());
    h.get_by_label("Not in the site (500)");
    let steps = h.try_run();
    assert!(matches!(steps, Ok(n) if n <= 1), "the Discovered view keeps asking for frames while idle: {steps:?}");
}
