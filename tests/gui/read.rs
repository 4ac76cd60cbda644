//! "Read from device" on the Status board, against simulated devices (the
//! app reads a device's web port 80: each test runs in a network namespace
//! of its own, where it may bind it on 127.0.0.x).

use std::collections::BTreeMap;

use egui_kittest::kittest::{NodeT as _, Queryable};
use gsprov::ids::Mac;
use gsprov::ui::View;

use super::device::{Config, Device, Seen};
use super::{app_started_on_loopback, netns, request_from, set_text, wait_for};

/// The `dologin` requests a device saw.
fn logins(dev: &mut Device) -> usize {
    dev.drain().iter().filter(|s| matches!(s, Seen::Api(a) if a.contains("/cgi-bin/dologin"))).count()
}

/// What the app serves `mac` once it reported `request_from`'s firmware
/// (its P192 carries its firmware step): what a device that applied it holds.
fn served_values(h: &egui_kittest::Harness<'static, gsprov::ui::App>, mac: Mac) -> BTreeMap<String, String> {
    let app = h.state();
    let empty = gsprov::serving::firmware::FirmwareListing::default();
    let listing = app.rt.firmware.current(&app.doc).unwrap_or(&empty);
    let site = gsprov::services::read_device::as_served(&app.doc.site, mac, listing, Some("1.0.11.3"));
    site.effective(site.device(mac).unwrap()).0.into_iter().map(|(k, v)| (k, v.value)).collect()
}

#[test]
fn read_from_device_shows_the_differences_and_takes_them_into_the_chosen_layer() {
    if netns::enter("read::read_from_device_shows_the_differences_and_takes_them_into_the_chosen_layer").is_none() {
        return;
    }
    let a = "000b82a1b201";
    let mac: Mac = a.parse().unwrap();
    let (mut h, http) = app_started_on_loopback();
    h.state_mut().rt.server.advertise = "127.0.0.1".into();
    // The device holds what the site gives it, but for two values changed by hand.
    let mut values = served_values(&h, mac);
    // Its P192 is its firmware step, not the site's layered P192: no false difference.
    let layered = h.state().doc.site.effective(h.state().doc.site.device(mac).unwrap()).get("P192").map(str::to_string);
    assert_ne!(values.get("P192"), layered.as_ref(), "the demo steps this GXP2170");
    values.insert("P64".into(), "12".into());
    values.insert("P1362".into(), "de".into());
    let mut dev = Device::start(Config {
        passcode: "demo-admin-201".into(),
        values,
        web_port: 80,
        model: "GXP2170".into(),
        ..Config::new(a, "127.0.0.21")
    });
    request_from("127.0.0.21", a, http);
    wait_for(&mut h, "the first request", |app| !app.rt.serving.log.is_empty());
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label(&format!("Read {a}")).click();
    h.run_ok();
    // A confirmation first, naming the address and where it came from; nothing sent yet.
    h.get_by_label("Read from 00:0B:82:A1:B2:01?");
    h.get_by_label_contains("00:0B:82:A1:B2:01  at 127.0.0.21 (from its last request that passed the policy)");
    assert_eq!(logins(&mut dev), 0);
    // Loopback has no neighbour entry: the technician vouches for the address (issue 25).
    h.get_by_label_contains("I checked this address").click();
    h.run_ok();
    h.get_by_label("Read now").click();
    h.run_ok();
    wait_for(&mut h, "the read", |app| app.rt.read.results.contains_key(&mac));
    let r = h.state().rt.read.results[&mac].clone();
    assert_eq!(r.logins, 1, "{}", r.explanation);
    // Where the click was: the row says what came of it.
    h.get_by_label_contains(": 2 differed");
    // The panel: the device's value beside the site's, the difference marked.
    h.get_by_label("Read from 00:0B:82:A1:B2:01");
    h.get_by_label("12 (differs)");
    h.get_by_label("auto (model GXP2170)");
    h.get_by_label("de (differs)");
    h.get_by_label("en (model GXP2170)");
    // P64 into the model template: one click, one edit.
    let before = h.state().doc.revision();
    h.get_by_label("its model template (GXP2170)").click();
    h.run_ok();
    h.get_by_label("Take P64").click();
    h.run_ok();
    let site = &h.state().doc.site;
    assert_eq!(site.models["GXP2170"].get("P64"), Some("12"));
    assert_eq!(site.device(mac).unwrap().values.get("P64"), None);
    assert_eq!(site.defaults.get("P64"), None);
    assert_ne!(h.state().doc.revision(), before, "an edit of the site");
    assert!(h.query_by_label("Take P64").is_none(), "no longer a difference");
    h.get_by_label("Take all 1 difference(s) into the site");
    // The rest into this device only.
    h.get_by_label("this device").click();
    h.run_ok();
    h.get_by_label("Take all 1 difference(s) into the site").click();
    h.run_ok();
    let site = &h.state().doc.site;
    assert_eq!(site.device(mac).unwrap().values.get("P1362"), Some("de"));
    assert_eq!(site.models["GXP2170"].get("P1362"), Some("en"), "the model template is left alone");
    h.get_by_label("No differences: the device holds what the site gives it.");
    // One login for one click; no password anywhere on screen.
    assert_eq!(logins(&mut dev), 1);
    assert!(h.query_by_label_contains("demo-admin").is_none());
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
}

#[test]
fn read_from_device_says_a_wrong_password_where_the_click_was_and_never_tries_again_by_itself() {
    if netns::enter("read::read_from_device_says_a_wrong_password_where_the_click_was_and_never_tries_again_by_itself")
        .is_none()
    {
        return;
    }
    // Dr. Rivera's GXP2135: the site sets no admin password for it (a sticker password).
    let b = "000b82a1b202";
    let mac: Mac = b.parse().unwrap();
    let (mut h, http) = app_started_on_loopback();
    h.state_mut().rt.server.advertise = "127.0.0.1".into();
    let values = served_values(&h, mac);
    let mut dev = Device::start(Config {
        passcode: "sticker-202".into(),
        challenge: true,
        values,
        web_port: 80,
        model: "GXP2135".into(),
        ..Config::new(b, "127.0.0.22")
    });
    request_from("127.0.0.22", b, http);
    wait_for(&mut h, "the first request", |app| !app.rt.serving.log.is_empty());
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label(&format!("Read {b}")).click();
    h.run_ok();
    h.get_by_label_contains("I checked this address").click();
    h.run_ok();
    // No password in the site and none typed: nothing to send.
    h.get_by_label("Type the unit's admin password: the site sets no P2 for this device.");
    assert!(h.get_by_label("Read now").accesskit_node().is_disabled(), "nothing to send");
    set_text(&mut h, "Admin password:", "wrong-pw");
    h.get_by_label("Read now").click();
    h.run_ok();
    wait_for(&mut h, "the read", |app| app.rt.read.results.contains_key(&mac));
    // Where the click was, and in the panel with what to do.
    h.get_by_label_contains(": wrong password: 4 attempt(s) left");
    h.get_by_label_contains("wrong4: 4 attempt(s) left before it locks its web login");
    h.get_by_label_contains("Click Read again and type the unit's own admin password");
    // Frames go by: no second attempt without a new click.
    for _ in 0..20 {
        h.step();
    }
    assert_eq!(logins(&mut dev), 1);
    // The right one, typed for this run: one more click, one more login, read.
    h.get_by_label(&format!("Read {b}")).click();
    h.run_ok();
    h.get_by_label_contains("I checked this address").click();
    h.run_ok();
    set_text(&mut h, "Admin password:", "sticker-202");
    let shown = h.get_by_label("Admin password:").value().unwrap_or_default();
    assert!(!shown.contains("sticker"), "the field is masked: {shown:?}");
    h.get_by_label("Read now").click();
    h.run_ok();
    wait_for(&mut h, "the second read", |app| {
        app.rt.read.results.get(&mac).is_some_and(|r| r.result == gsprov::services::read_device::Verdict::Read)
    });
    assert_eq!(logins(&mut dev), 2);
    h.get_by_label_contains(": 0 differed");
    assert!(h.query_by_label_contains("sticker-202").is_none() && h.query_by_label_contains("wrong-pw").is_none());
    assert!(h.state().doc.site.device(mac).unwrap().values.get("P2").is_none(), "a typed password is not saved");
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
}

#[test]
fn read_from_device_tells_a_session_another_login_took_from_a_wrong_password() {
    if netns::enter("read::read_from_device_tells_a_session_another_login_took_from_a_wrong_password").is_none() {
        return;
    }
    let a = "000b82a1b201";
    let mac: Mac = a.parse().unwrap();
    let (mut h, http) = app_started_on_loopback();
    h.state_mut().rt.server.advertise = "127.0.0.1".into();
    // A unit with one web session: someone logs in to its web page after 30 of our reads.
    let mut dev = Device::start(Config {
        passcode: "demo-admin-201".into(),
        web_port: 80,
        model: "GXP2170".into(),
        taken_after: Some(30),
        ..Config::new(a, "127.0.0.21")
    });
    request_from("127.0.0.21", a, http);
    wait_for(&mut h, "the first request", |app| !app.rt.serving.log.is_empty());
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label(&format!("Read {a}")).click();
    h.run_ok();
    h.get_by_label_contains("I checked this address").click();
    h.run_ok();
    h.get_by_label("Read now").click();
    h.run_ok();
    wait_for(&mut h, "the read", |app| app.rt.read.results.contains_key(&mac));
    h.get_by_label_contains(": session taken by another login");
    h.get_by_label_contains("this is not a wrong password");
    h.get_by_label_contains("Someone is logged in to the unit's web page: log out there");
    assert!(h.query_by_label_contains(": wrong password: ").is_none(), "not said as a wrong password");
    assert_eq!(logins(&mut dev), 1, "no second login by itself");
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
}
