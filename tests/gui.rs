//! The desktop app driven like a technician would, with egui_kittest: widgets
//! are found by their labels, clicked and typed into; the assertions read the
//! app's state and what it shows.

#[path = "gui/board.rs"]
mod board;
mod device;
#[path = "gui/events.rs"]
mod events;
#[path = "gui/forms.rs"]
mod forms;
#[path = "gui/lan.rs"]
mod lan;
mod netns;
#[path = "gui/read.rs"]
mod read;
#[path = "gui/rsa.rs"]
mod rsa;
#[path = "gui/undo.rs"]
mod undo;
#[path = "gui/walk.rs"]
mod walk;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gsprov::site::Layer;
use gsprov::ui::{App, View};

fn app() -> Harness<'static, App> {
    let mut h =
        Harness::builder().with_size(egui::vec2(1400.0, 900.0)).build_eframe(|cc| App::new(&cc.egui_ctx, None, None));
    h.run_ok();
    h
}

/// Sets the open site to serve HTTP only, on 127.0.0.1 with a free port.
fn serve_http_on_loopback(h: &mut Harness<'static, App>) {
    h.state_mut().doc.edit(|site| {
        let s = &mut site.serving;
        s.bind = "127.0.0.1".into();
        s.http_port = 0;
        s.tftp = false;
        s.https = false;
    });
}

/// The demo app set to serve HTTP only, on 127.0.0.1 with a free port.
fn app_serving_http_on_loopback() -> Harness<'static, App> {
    let mut h = app();
    serve_http_on_loopback(&mut h);
    h
}

/// [`app_serving_http_on_loopback`], started from the Server view; returns the HTTP address.
fn app_started_on_loopback() -> (Harness<'static, App>, std::net::SocketAddr) {
    let mut h = app_serving_http_on_loopback();
    h.state_mut().state.view = View::Server;
    h.run_ok();
    h.get_by_label("Start servers").click();
    wait_for(&mut h, "the HTTP server and the interface list", |a| {
        a.rt.serving.running() && !a.rt.serving.interfaces.is_empty()
    });
    let addr = h.state().rt.serving.addresses()[0].1;
    (h, addr)
}

/// Steps the app until `done` holds (background jobs wake it), or fails after 10 s.
fn wait_for(h: &mut Harness<'static, App>, what: &str, done: impl Fn(&App) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(h.state()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        h.step();
        std::thread::yield_now();
    }
    h.run_ok();
}

fn set_text(h: &mut Harness<'static, App>, label: &str, text: &str) {
    h.get_by_label(label).set_text_value_accesskit(text);
    h.run_ok();
}

#[test]
fn opens_on_the_demo_site() {
    let h = app();
    assert_eq!(h.state().doc.site.name, "Demo: Maple Street Dental");
    h.get_by_label("Reception");
    h.get_by_label("Fax and door");
    h.get_by_label("00:0B:82:A1:B2:01");
    assert!(!h.state().doc.dirty());
}

#[test]
fn add_device_with_a_bad_then_a_good_mac() {
    let mut h = app();
    set_text(&mut h, "New device MAC:", "00:0B:82:12:34");
    h.get_by_label_contains("has 10 hex digits");
    h.get_by_label("GXP2170").click(); // model picked from the combo…
    set_text(&mut h, "Model:", "GXP2170"); // …or typed
    h.get_by_label("Add device").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.devices.len(), 5, "a bad MAC adds nothing");

    set_text(&mut h, "New device MAC:", "00:0B:82:12:34:56");
    h.get_by_label_contains("valid: 00:0B:82:12:34:56");
    set_text(&mut h, "Label:", "Lobby");
    h.get_by_label("Add device").click();
    h.run_ok();
    let site = &h.state().doc.site;
    assert_eq!(site.devices.len(), 6);
    let d = site.device("000b82123456".parse().unwrap()).unwrap();
    assert_eq!((d.model.as_str(), d.label.as_str()), ("GXP2170", "Lobby"));
    assert!(h.state().doc.dirty());
    h.get_by_label("Lobby");
    // The new device is the one "Edit parameters" opens (issue 10: it stayed disabled).
    h.get_by_label("Edit parameters").click();
    h.run_ok();
    assert_eq!(h.state().rt.level, Layer::Device("000b82123456".parse().unwrap()));
    assert_eq!(h.state().state.view, View::Parameters);
    h.get_by_label("Devices").click();
    h.run_ok();

    set_text(&mut h, "New device MAC:", "000b82123456");
    h.get_by_label_contains("is already in the site");
}

#[test]
fn model_value_is_inherited_then_overridden_then_reset() {
    let mut h = app();
    h.get_by_label("Parameters").click();
    h.run_ok();
    h.get_by_label("GXP2170  (1)").click();
    h.run_ok();
    assert_eq!(h.state().rt.level, Layer::Model("GXP2170".parse().unwrap()));
    set_text(&mut h, "Find parameter:", "P30");
    set_text(&mut h, "NTP Server  ·  P30", "ntp.model.example");
    assert_eq!(h.state().doc.site.models["GXP2170"].get("P30"), Some("ntp.model.example"));
    h.get_by_label("overridden here");

    // The device of that model inherits it and says from where.
    h.get_by_label("Reception · GXP2170").click();
    h.run_ok();
    assert_eq!(h.get_by_label("NTP Server  ·  P30").value().as_deref(), Some("ntp.model.example"));
    h.get_by_label("inherited from model GXP2170");

    // Override on the device, then reset to inherited.
    set_text(&mut h, "NTP Server  ·  P30", "ntp.device.example");
    let mac = "000b82a1b201".parse().unwrap();
    assert_eq!(h.state().doc.site.device(mac).unwrap().values.get("P30"), Some("ntp.device.example"));
    h.get_by_label("overridden here");
    h.get_by_label("Reset").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.device(mac).unwrap().values.get("P30"), None);
    h.get_by_label("inherited from model GXP2170");
    assert_eq!(h.get_by_label("NTP Server  ·  P30").value().as_deref(), Some("ntp.model.example"));
}

#[test]
fn csv_import_with_a_bad_row_changes_nothing_until_fixed() {
    let mut h = app();
    h.get_by_label("Import CSV…").click();
    h.run_ok();
    let bad = "mac,model,label,user_id\n000b82c0ffee,GXP2170,Lobby,210\n000b82c0ff,GXP2170,Broken,211\n";
    set_text(&mut h, "CSV text", bad);
    h.get_by_label_contains("1 bad row(s); nothing changes until they are fixed");
    h.get_by_label_contains("line 3, column mac");
    h.get_by_label("Apply import").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.devices.len(), 5, "disabled Apply changes nothing");
    assert!(!h.state().doc.dirty());

    set_text(&mut h, "CSV text", &bad.replace("000b82c0ff,", "000b82c0ff01,"));
    h.get_by_label_contains("Ready: 2 new device(s), 0 updated, 0 unchanged.");
    h.get_by_label("Apply import").click();
    h.run_ok();
    let site = &h.state().doc.site;
    assert_eq!(site.devices.len(), 7);
    assert_eq!(site.device("000b82c0ff01".parse().unwrap()).unwrap().accounts[0].user_id, "211");
}

#[test]
fn save_and_reopen_keeps_the_edit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("saved.gsprov.toml");
    let mut h = app();
    h.state_mut().doc.path = Some(path.clone());
    h.get_by_label("Parameters").click();
    h.run_ok();
    set_text(&mut h, "Find parameter:", "P30");
    // Issue 10: value fields shrank to ~40 px while "Find parameter" was used.
    let width = h.get_by_label("NTP Server  ·  P30").rect().width();
    assert!(width >= 200.0, "the value field keeps its width while finding: {width} px");
    set_text(&mut h, "NTP Server  ·  P30", "ntp.saved.example");
    assert!(h.state().doc.dirty());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    wait_for(&mut h, "the save", |a| !a.doc.dirty());
    h.get_by_label_contains("Saved");

    // A new empty site, then open the saved file again.
    h.state_mut().apply(gsprov::ui::Action::New);
    h.run_ok();
    assert_eq!(h.state().doc.site.devices.len(), 0);
    h.state_mut().apply(gsprov::ui::Action::Open(Some(path.clone())));
    wait_for(&mut h, "the open", |a| a.doc.path.as_deref() == Some(path.as_path()) && !a.doc.site.devices.is_empty());
    assert_eq!(h.state().doc.site.defaults.get("P30"), Some("ntp.saved.example"));
    assert_eq!(h.state().state.recent.first(), Some(&path));
}

/// Issue 10: with no file dialog (no portal, no zenity) "Save" on a new site
/// asked for nothing and did nothing. Now the app asks for the path itself.
#[test]
fn a_new_site_is_saved_through_the_typed_path_when_no_dialog_can_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = app();
    h.state_mut().rt.typed_paths = true;
    h.state_mut().state.last_dir = Some(dir.path().to_path_buf());
    h.state_mut().doc.edit(|site| site.name = "Typed path site".into());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    h.run_ok();
    h.get_by_label_contains("No file dialog:");
    h.get_by_label("Type where to save the site (a .toml file):");
    let path = dir.path().join("typed.gsprov.toml");
    set_text(&mut h, "Path", path.to_str().unwrap());
    h.get_by_label("OK").click();
    wait_for(&mut h, "the save", |a| !a.doc.dirty());
    h.get_by_label_contains("Saved");
    assert_eq!(h.state().doc.path.as_deref(), Some(path.as_path()));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("Typed path site"), "{text}");

    // The next prompt starts in that folder; a CSV typed in is read and previewed.
    let csv = dir.path().join("eu.csv");
    std::fs::write(&csv, b"MAC;Model;Label;Password\n000b82c0ffee;GXP2170;Caf\xe9;s3cret-pw\n").unwrap();
    h.get_by_label("Import CSV…").click();
    h.run_ok();
    h.get_by_label("Load file…").click();
    h.run_ok();
    assert_eq!(h.state().rt.path_prompt.as_ref().map(|p| p.text.clone()), Some(dir.path().display().to_string()));
    set_text(&mut h, "Path", csv.to_str().unwrap());
    h.get_by_label("OK").click();
    wait_for(&mut h, "the CSV", |a| a.rt.import.source.is_some());
    h.get_by_label_contains("it was read as windows-1252");
    h.get_by_label_contains("Ready: 1 new device(s), 0 updated, 0 unchanged.");
    // The preview is a table split at ';', the accented label decoded, the password masked.
    h.get_by_label("Café");
    h.get_by_label("Password");
    assert!(h.query_by_label("s3cret-pw").is_none(), "the preview masks passwords");
    h.state_mut().rt.show_secrets = true;
    h.run_ok();
    h.get_by_label("s3cret-pw");
}

#[test]
fn an_empty_import_window_says_what_to_do_not_an_error() {
    let mut h = app();
    h.get_by_label("Import CSV…").click();
    h.run_ok();
    h.get_by_label_contains("Paste CSV text on the left or load a file");
    assert!(h.query_by_label_contains("no header row").is_none());
}

#[test]
fn unsaved_edits_prompt_before_they_are_lost() {
    let mut h = app();
    h.state_mut().doc.edit(|site| site.name = "edited".into());
    h.state_mut().apply(gsprov::ui::Action::New);
    h.run_ok();
    h.get_by_label("Unsaved changes");
    h.get_by_label("Cancel").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.name, "edited", "cancel keeps the edits");
    h.state_mut().apply(gsprov::ui::Action::New);
    h.run_ok();
    h.get_by_label("Discard changes").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.name, "New site");
}

#[test]
fn files_view_shows_what_the_device_gets() {
    let mut h = app();
    h.state_mut().rt.focus = Some("000b82a1b201".parse().unwrap());
    h.state_mut().state.view = View::Files;
    h.run_ok();
    // The binary bootstrap first, as the device asks for it: checksum and the XML password's key.
    h.get_by_label_contains("checksum");
    h.get_by_label_contains("P1359 = ••••••••");
    // Issue 10: the hex dump's ASCII column beside it showed P1359=demo-xml-secret.
    assert!(h.query_by_label_contains("demo-xml-secret").is_none(), "the hex dump masks the XML password");
    h.get_by_label_contains("2a 2a 2a 2a 2a 2a 2a 2a"); // masked bytes in the hex column too
    h.get_by_label_contains("[encrypted] cfg000b82a1b201.xml").click();
    h.run_ok();
    h.get_by_label_contains("AES-256-CBC encrypted");
    h.get_by_label_contains("<P35>201</P35>");
    // The XML preview showed the admin and SIP passwords in clear.
    assert!(h.query_by_label_contains("demo-sip-201").is_none(), "SIP password masked");
    assert!(h.query_by_label_contains("demo-admin-201").is_none(), "admin password masked");
    // One switch shows them, for the technician who needs to read them.
    h.state_mut().rt.show_secrets = true;
    h.run_ok();
    h.get_by_label_contains("demo-sip-201");
}

#[test]
fn serve_from_the_app_and_see_a_curl_request_in_the_live_log() {
    let mut h = app_serving_http_on_loopback();
    h.get_by_label("Server").click();
    h.run_ok();
    h.get_by_label("Start servers").click();
    wait_for(&mut h, "the HTTP server", |a| a.rt.serving.running());
    let addr = h.state().rt.serving.addresses()[0].1;
    h.get_by_label_contains(&format!("HTTP listening on {addr}"));

    // A phone one digit off a known MAC asks for its file.
    let url = format!("http://{addr}/cfg000b82a1b2ff.xml");
    let out = std::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-A",
            "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b2ff",
            &url,
        ])
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "404");
    wait_for(&mut h, "the request record", |a| !a.rt.serving.log.is_empty());
    let record = h.state().rt.serving.log[0].clone();
    assert_eq!(record.path, "/cfg000b82a1b2ff.xml");
    assert!(record.explanation.contains("000b82a1b201"), "nearest known MAC named: {}", record.explanation);

    h.get_by_label("Live log").click();
    h.run_ok();
    h.get_by_label("1 of 1 requests");
    h.get_by_label("/cfg000b82a1b2ff.xml");
    h.get_by_label(&record.explanation);

    h.get_by_label("Server").click();
    h.run_ok();
    h.get_by_label("Stop servers").click();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
    std::net::TcpListener::bind(addr).expect("the port is free again");
}

#[test]
fn status_board_shows_the_fetch_and_the_self_test() {
    let mut h = app_serving_http_on_loopback();
    h.state_mut().rt.server.advertise = "127.0.0.1".into();
    h.state_mut().state.view = View::Server;
    h.run_ok();
    h.get_by_label("Start servers").click();
    wait_for(&mut h, "the HTTP server", |a| a.rt.serving.running());
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label("Fetch as 000b82a1b201").click();
    wait_for(&mut h, "the self-test", |a| a.rt.serving.fetch.is_some() && !a.rt.serving.log.is_empty());
    h.get_by_label_contains("HTTP 200");
    // P35, the extension, decrypted with the site's password, in the self-test window.
    assert!(h.query_all_by_label("201").count() >= 2, "P35 = 201 shown beside the device list's extension");
    let Some(f) = &h.state().rt.serving.fetch else { unreachable!() };
    let (_, decoded) = f.outcome.as_ref().expect("the device gets its file");
    assert!(decoded.params.iter().any(|(k, v)| k == "P35" && v == "201"));
    // The self-test is tagged as such and never counts as the device...
    let mac = "000b82a1b201".parse().unwrap();
    assert!(h.state().rt.serving.log.iter().all(|r| r.self_test), "{:?}", h.state().rt.serving.log);
    let st = h.state().rt.serving.status.device(mac).unwrap();
    assert_eq!((st.state, st.ip, st.firmware.as_deref()), (gsprov::serving::DeviceState::NeverSeen, None, None));
    // ...the phone itself does (curl with its User-Agent, on loopback).
    let addr = h.state().rt.serving.addresses()[0].1;
    let agent = "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b201";
    assert_eq!(curl_code(&format!("http://{addr}/cfg000b82a1b201.xml"), agent), "200");
    wait_for(&mut h, "the phone's request", |a| a.rt.serving.log.iter().any(|r| !r.self_test));
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label_contains("fetched cfg at");
    h.get_by_label("got config");
    assert_eq!(h.state().rt.serving.status.device(mac).unwrap().firmware.as_deref(), Some("1.0.11.3"));
    assert_eq!(h.state().rt.serving.status.unassigned().count(), 0, "a site device is never 'unassigned'");
}

#[test]
fn fetch_as_talks_to_this_process_not_the_advertised_address_and_is_not_the_device() {
    let (mut h, addr) = app_started_on_loopback();
    // A loopback address nothing listens on: the old self-test went to the advertised
    // address and failed here; it must use the server's bound address.
    h.state_mut().rt.server.advertise = "127.0.0.2".into();
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label("Fetch as 000b82a1b201").click();
    wait_for(&mut h, "the self-test", |a| a.rt.serving.fetch.is_some() && !a.rt.serving.log.is_empty());
    h.get_by_label(&format!("http://{addr}/cfg000b82a1b201.xml as 00:0B:82:A1:B2:01"));
    h.get_by_label_contains("HTTP 200");
    h.get_by_label_contains("P237 = 192.168.10.5:8080 names 192.168.10.5, which is not an address of this computer");
    let r = h.state().rt.serving.log[0].clone();
    assert!(r.self_test && r.client.ip().is_loopback(), "{r:?}");
    let st = h.state().rt.serving.status.device("000b82a1b201".parse().unwrap()).unwrap();
    assert_eq!(st.state, gsprov::serving::DeviceState::NeverSeen, "the self-test is not the device");
    assert_eq!((st.ip, st.firmware.as_deref()), (None, None));
    h.get_by_label("Live log").click();
    h.run_ok();
    h.get_by_label("[self-test] /cfg000b82a1b201.xml");
}

#[test]
fn provisioning_settings_rename_the_served_files() {
    let mut h = app();
    h.get_by_label("Parameters").click();
    h.run_ok();
    set_text(&mut h, "Config file prefix (P234)", "gs_");
    assert_eq!(h.state().doc.site.provisioning.prefix, "gs_");
    // One field per value (issue 10): the catalog rows below showed P234 and
    // P1359 a second time, "not set", while the block above had them set.
    for pid in ["P234", "P1359"] {
        set_text(&mut h, "Find parameter:", pid);
        let catalog_rows = h.query_all_by_label_contains(&format!("·  {pid}")).count();
        assert_eq!(catalog_rows, 0, "{pid} appears once, in the provisioning block");
    }
    h.get_by_label("XML password (P1359)");
    set_text(&mut h, "Find parameter:", "");
    h.state_mut().rt.focus = Some("000b82a1b201".parse().unwrap());
    h.get_by_label("Files").click();
    h.run_ok();
    h.get_by_label_contains("gs_cfg000b82a1b201 (");
    h.get_by_label_contains("[encrypted] gs_cfg000b82a1b201.xml");
}

/// A device's first request from its own loopback address (curl binds it), so
/// the status board knows where it is.
fn request_from(ip: &str, mac: &str, addr: std::net::SocketAddr) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--interface", ip])
        .args(["-A", &format!("Grandstream Model HW GXP2170 SW 1.0.11.3 DevId {mac}")])
        .arg(format!("http://{addr}/cfg{mac}.xml"))
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn select_two_devices_re_provision_confirm_and_see_both_notifies_and_results() {
    use device::{Config, Device, Seen};
    let (a, b) = ("000b82a1b201", "000b82a1b202");
    let (mut h, http) = app_started_on_loopback();
    h.state_mut().rt.server.advertise = "127.0.0.1".into();
    // Two simulated phones on their own loopback addresses: Reception challenges
    // with its account 1 digest, Dr. Rivera accepts without; both fetch after a 200.
    let url = Some(format!("http://{http}/"));
    let mut da = Device::start(Config {
        sip_auth: Some(("201".into(), "demo-sip-201".into())),
        config_url: url.clone(),
        model: "GXP2170".into(),
        ..Config::new(a, "127.0.0.21")
    });
    let mut db = Device::start(Config { config_url: url, model: "GXP2135".into(), ..Config::new(b, "127.0.0.22") });
    for (mac, dev) in [(a, &da), (b, &db)] {
        h.state_mut().doc.edit(|site| {
            site.device_mut(mac.parse().unwrap()).unwrap().values.set("P40", dev.sip.port().to_string());
        });
    }
    h.run_ok();
    request_from("127.0.0.21", a, http);
    request_from("127.0.0.22", b, http);
    wait_for(&mut h, "both first requests", |app| app.rt.serving.log.len() >= 2);

    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label("Reception").click();
    h.run_ok();
    h.get_by_label("Dr. Rivera").click();
    h.run_ok();
    h.get_by_label("2 selected");
    h.get_by_label("Re-provision").click();
    h.run_ok();
    // The confirmation names both devices and where they are; nothing is sent yet.
    h.get_by_label("Re-provision 2 device(s)?");
    h.get_by_label_contains("00:0B:82:A1:B2:01  at 127.0.0.21");
    h.get_by_label_contains("00:0B:82:A1:B2:02  at 127.0.0.22 (from its last request that passed the policy)");
    assert!(da.drain().is_empty() && db.drain().is_empty(), "nothing before Confirm");
    // Loopback has no neighbour table entry: the technician vouches for the addresses (issue 25).
    h.get_by_label_contains("I checked these addresses").click();
    h.run_ok();
    h.get_by_label("Confirm").click();
    h.run_ok();
    h.get_by_label_contains("Re-provision: 2 NOTIFY(s), one every 200 ms");
    wait_for(&mut h, "both results", |app| app.rt.serving.actions.len() == 2);

    let wait = Duration::from_secs(10);
    let n = da.wait("the authorised NOTIFY", wait, |s| matches!(s, Seen::Notify { authorized: true, .. }));
    assert_eq!(n, Seen::Notify { event: "resync".into(), cseq: 2, authorized: true, has_authorization: true });
    let n = db.wait("the NOTIFY", wait, |s| matches!(s, Seen::Notify { .. }));
    assert_eq!(n, Seen::Notify { event: "resync".into(), cseq: 1, authorized: true, has_authorization: false });
    da.wait("A's fetch", wait, |s| matches!(s, Seen::Fetched { status: 200, .. }));
    db.wait("B's fetch", wait, |s| matches!(s, Seen::Fetched { status: 200, .. }));

    let actions = h.state().rt.serving.actions.clone();
    assert!(actions.iter().all(|r| r.ok), "{actions:#?}");
    let ra = actions.iter().find(|r| r.mac.to_string() == a).unwrap();
    assert!(ra.result.starts_with("accepted (200, digest answered with account 1's credentials)"), "{}", ra.result);
    assert!(actions.iter().all(|r| !r.result.contains("demo-sip")), "no password in a result");
    // The status board's last-action column, and the live log's action lines.
    h.get_by_label_contains("re-provision: accepted (200, digest answered with account 1's credentials)");
    let last = h.state().rt.serving.status.device(b.parse().unwrap()).unwrap().truth.last_action.clone().unwrap();
    assert!(last.ok && last.result.starts_with("accepted (200)"), "{last:?}");
    h.get_by_label("Live log").click();
    h.run_ok();
    h.get_by_label_contains(&format!("re-provision {a}: accepted (200, digest answered"));
    h.get_by_label_contains(&format!(
        "re-provision {b}: accepted (200); the device should fetch its configuration now"
    ));
    h.get_by_label_contains("Device actions: 2 done, 0 running or queued");
    // The fetches the NOTIFYs caused are in the request log too.
    wait_for(&mut h, "the two re-fetches", |app| app.rt.serving.log.len() >= 4);
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
    // With the actions done, the views that show them stop asking for frames.
    for view in [View::Log, View::Status] {
        h.state_mut().state.view = view;
        h.run_ok();
        let steps = h.try_run();
        assert!(matches!(steps, Ok(n) if n <= 1), "{view:?} keeps asking for frames while idle: {steps:?}");
    }
}

#[test]
fn syslog_receiver_points_the_devices_here_and_a_line_reaches_the_status_board() {
    let mut h = app_serving_http_on_loopback();
    h.state_mut().rt.server.advertise = "127.0.0.1".into();
    h.state_mut().state.view = View::Server;
    h.run_ok();
    h.get_by_label("Syslog receiver").click();
    h.run_ok();
    assert_eq!(h.state().rt.serving.syslog, Some(514));
    h.state_mut().rt.serving.syslog = Some(0); // a free port: the test has no privilege for 514
    h.run_ok();
    h.get_by_label("Start servers").click();
    wait_for(&mut h, "HTTP and syslog", |a| a.rt.serving.addresses().len() == 2);
    let addrs = h.state().rt.serving.addresses();
    let syslog = addrs.iter().find(|(p, _)| *p == gsprov::serving::Protocol::Syslog).unwrap().1;
    let http = addrs.iter().find(|(p, _)| *p == gsprov::serving::Protocol::Http).unwrap().1;
    assert_eq!(h.state().doc.site.defaults.get("P207"), None);
    h.get_by_label("Point the devices' syslog here (P207/P208)").click();
    h.run_ok();
    let want = format!("127.0.0.1:{}", syslog.port());
    assert_eq!(h.state().doc.site.defaults.get("P207"), Some(want.as_str()), "the site defaults, like any edit");
    assert_eq!(h.state().doc.site.defaults.get("P208"), Some("2"));
    assert!(h.state().doc.dirty());
    h.get_by_label_contains(&format!("Site defaults: P207 = {want}, P208 = 2"));
    h.get_by_label_contains("already point the devices' syslog here");

    // Reception asks once from 127.0.0.23, then its syslog line is attributed and shown.
    request_from("127.0.0.23", "000b82a1b201", http);
    let s = std::net::UdpSocket::bind("127.0.0.23:0").unwrap();
    s.send_to(b"<134>Feb  5 09:01:02 GXP2170 sip[312]: account 1 registered", syslog).unwrap();
    let mac = "000b82a1b201".parse().unwrap();
    wait_for(&mut h, "the syslog line", |a| {
        a.rt.serving.status.device(mac).is_some_and(|d| d.truth.last_syslog.is_some())
    });
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label_contains("syslog: info sip: account 1 registered");
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
}

#[test]
fn check_device_from_the_status_board_fills_registered_and_applied() {
    // The app asks the device's web port 80: inside a namespace of its own the test may bind it.
    if netns::enter("check_device_from_the_status_board_fills_registered_and_applied").is_none() {
        return;
    }
    use device::{Config, Device, Seen};
    let a = "000b82a1b201";
    let (mut h, http) = app_started_on_loopback();
    h.state_mut().rt.server.advertise = "127.0.0.1".into();
    let site = h.state().doc.site.clone();
    let mut values: std::collections::BTreeMap<String, String> =
        site.effective(site.device(a.parse().unwrap()).unwrap()).0.into_iter().map(|(k, v)| (k, v.value)).collect();
    values.insert("P64".into(), "12".into());
    let mut dev = Device::start(Config {
        passcode: "demo-admin-201".into(),
        registered: vec![true, false],
        values,
        web_port: 80,
        model: "GXP2170".into(),
        ..Config::new(a, "127.0.0.21")
    });
    request_from("127.0.0.21", a, http);
    wait_for(&mut h, "the first request", |app| !app.rt.serving.log.is_empty());
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label("Reception").click();
    h.run_ok();
    h.get_by_label("Check device").click();
    h.run_ok();
    h.get_by_label("Check device 1 device(s)?");
    h.get_by_label_contains("00:0B:82:A1:B2:01  at 127.0.0.21");
    // Loopback has no neighbour entry: the technician vouches for the address (issue 25).
    h.get_by_label_contains("I checked these addresses").click();
    h.run_ok();
    h.get_by_label("Confirm").click();
    h.run_ok();
    h.get_by_label_contains("Checking 1 device(s), one at a time");
    wait_for(&mut h, "the check's result", |app| app.rt.serving.actions.len() == 1);
    let r = h.state().rt.serving.actions[0].clone();
    assert!(!r.ok, "{r:?}");
    assert!(r.result.contains("account 1 (201) registered, account 2 (202) not registered"), "{}", r.result);
    assert!(r.result.contains("differs: P64 is 12, we served"), "{}", r.result);
    assert!(!r.result.contains("demo-admin"), "no password in a result");
    let api: Vec<Seen> = dev.drain().iter().filter(|s| matches!(s, Seen::Api(_))).cloned().collect();
    // api-get_accounts, dologin, then the read-back in short requests (CVE-2026-2329).
    assert!(api.len() >= 3, "{api:?}");
    assert!(
        api[2..].iter().all(|s| matches!(s, Seen::Api(a) if a.starts_with("GET /cgi-bin/api.values.get?request="))),
        "{api:?}"
    );
    // The truth columns on the board.
    h.get_by_label("1 yes, 2 no");
    let applied = h.state().rt.serving.status.device(a.parse().unwrap()).unwrap().truth.applied_text();
    assert!(applied.starts_with("differs: P64 is 12, we served "), "{applied}");
    h.get_by_label(&applied);
    h.get_by_label_contains(&format!("check: {}", r.result));
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
}

fn curl_code(url: &str, agent: &str) -> String {
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "-A", agent, url])
        .output()
        .expect("curl runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn status_board_says_got_config_with_a_note_when_no_firmware_is_offered() {
    let fw = tempfile::tempdir().unwrap(); // an empty firmware folder
    let mut h = app_serving_http_on_loopback();
    h.state_mut().doc.edit(|site| site.serving.firmware_dir = fw.path().display().to_string());
    h.state_mut().state.view = View::Server;
    h.run_ok();
    h.get_by_label("Start servers").click();
    wait_for(&mut h, "the HTTP server", |a| a.rt.serving.running());
    let addr = h.state().rt.serving.addresses()[0].1;
    let agent = "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b201";
    for (name, code) in [
        ("cfg000b82a1b201", "200"),
        ("cfg000b82a1b201.xml", "200"),
        ("cfggxp2170.xml", "200"),
        ("gxp2170fw.bin", "404"),
    ] {
        assert_eq!(curl_code(&format!("http://{addr}/{name}"), agent), code, "{name}");
    }
    wait_for(&mut h, "four request records", |a| a.rt.serving.log.len() >= 4);
    h.state_mut().state.view = View::Status;
    h.run_ok();
    h.get_by_label("got config");
    h.get_by_label("no firmware offered (folder empty)");
    assert_eq!(h.query_all_by_label("error").count(), 0, "not an error");
    h.get_by_label_contains("0 with errors");
}

/// Steps the app until `curl` of `url` (loopback only) returns a body containing `want`.
fn wait_for_body(h: &mut Harness<'static, App>, url: &str, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = std::process::Command::new("curl").args(["-s", "--max-time", "5", url]).output().expect("curl runs");
        let body = String::from_utf8_lossy(&out.stdout).into_owned();
        if body.contains(want) {
            return body;
        }
        assert!(Instant::now() < deadline, "{url} never contained {want:?}; last body: {body}");
        h.step();
        std::thread::yield_now();
    }
}

#[test]
fn server_panel_points_devices_at_this_computer_in_one_click() {
    let (mut h, addr) = app_started_on_loopback();
    let port = addr.port();
    // What the files say, and why it is wrong here (the demo names 192.168.10.5: never contacted).
    h.get_by_label(
        "The files tell devices: P212 = 1 (HTTP), P237 = 192.168.10.5:8080, P192 = 192.168.10.5:8080/firmware",
    );
    h.get_by_label_contains(
        "P237: devices are told P237 = 192.168.10.5:8080, but 192.168.10.5 is not an address of this computer",
    );
    // Not derived from P237: the shown address is this computer's (the bind address here).
    assert_eq!(h.state().rt.server.advertise, "127.0.0.1");
    h.get_by_label(&format!("http://127.0.0.1:{port}/"));
    let url = format!("http://127.0.0.1:{port}/cfg.xml");
    wait_for_body(&mut h, &url, "<P237>192.168.10.5:8080</P237>");

    h.get_by_label(&format!("Point devices at this computer (lo 127.0.0.1, HTTP {port})")).click();
    h.run_ok();
    let d = &h.state().doc.site.defaults;
    let here = format!("127.0.0.1:{port}");
    assert_eq!((d.get("P212"), d.get("P237")), (Some("1"), Some(here.as_str())));
    assert_eq!(d.get("P192"), Some(format!("{here}/firmware").as_str()));
    // The served files follow: the generic cfg.xml now carries the new path.
    let body = wait_for_body(&mut h, &url, &format!("<P237>{here}</P237>"));
    assert!(body.contains(&format!("<P192>{here}/firmware</P192>")), "{body}");
    assert_eq!(h.query_all_by_label_contains("is not an address of this computer").count(), 0);
    h.get_by_label(&format!("The files tell devices: P212 = 1 (HTTP), P237 = {here}, P192 = {here}/firmware"));
}

#[test]
fn live_log_uses_the_same_outcome_words_as_the_terminal() {
    let (mut h, addr) = app_started_on_loopback();
    let agent = "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b201";
    // An unknown MAC (not found), a model file for a model not in the site from an
    // unidentified client (an expected miss), the device's own file (served).
    for (name, ua, code) in
        [("cfg000b82ffffff.xml", agent, "404"), ("cfggxp9999.xml", "", "404"), ("cfg000b82a1b201.xml", agent, "200")]
    {
        assert_eq!(curl_code(&format!("http://{addr}/{name}"), ua), code, "{name}");
    }
    wait_for(&mut h, "three records", |a| a.rt.serving.log.len() >= 3);
    h.get_by_label("Live log").click();
    h.run_ok();
    for r in h.state().rt.serving.log.clone() {
        let line = r.to_string();
        let word = r.outcome.disposition().word();
        assert!(line.contains(&format!("-> {word}")), "the terminal line says {word:?}: {line}");
    }
    h.get_by_label("not found");
    h.get_by_label("expected miss");
    h.get_by_label("served");
    assert_eq!(h.query_all_by_label("refused").count(), 0, "a miss is not a red \"refused\"");
}

#[test]
fn firmware_view_shows_the_demo_images_plans_and_flags() {
    let mut h = app();
    // The tab (the menu bar is drawn first; the device table also has a "Firmware" column).
    h.query_all_by_label("Firmware").next().expect("the Firmware tab").click();
    h.run_ok();
    assert_eq!(h.state().state.view, View::Firmware);
    h.get_by_label("gxp2170/1.0.11.3/gxp2170fw.bin");
    h.get_by_label("gxp2170/1.0.11.79/gxp2170fw.bin");
    h.get_by_label("GXP16xx");
    // Reception (GXP2170) has not been seen: its path starts at "?" and its P192 points at the first step.
    assert!(h.query_all_by_label("? -> 1.0.11.3 -> 1.0.11.79").count() >= 2);
    // Reception and Dr. Rivera (GXP2135, same file) both get it.
    assert_eq!(h.query_all_by_label("192.168.10.5:8080/firmware/gxp2170/1.0.11.3").count(), 2);
    // GRP2612W requests grp2610fw.bin (GRP261x), which the demo folder does not hold.
    h.get_by_label_contains("no complete grp2610fw.bin in the folder");
}

#[test]
fn firmware_view_of_a_saved_site_reads_its_folder_in_the_background() {
    use gsprov::formats::firmware::{Layout, build_image};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fw.gsprov.toml");
    std::fs::write(&path, gsprov::site::DEMO).unwrap();
    let fw = dir.path().join("firmware");
    std::fs::create_dir(&fw).unwrap();
    let img = build_image(Layout::Ht8xx, &[("ht802prog.bin", 400, "1.0.10.6".parse().unwrap())]);
    std::fs::write(fw.join("ht802fw.bin"), &img[..img.len() - 100]).unwrap();
    let mut h = app();
    h.state_mut().apply(gsprov::ui::Action::Open(Some(path.clone())));
    wait_for(&mut h, "the open", |a| a.doc.path.as_deref() == Some(path.as_path()));
    // The tab (the menu bar is drawn first; the device table also has a "Firmware" column).
    h.query_all_by_label("Firmware").next().expect("the Firmware tab").click();
    h.run_ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.query_all_by_label_contains("truncated (100 bytes missing)").next().is_none() {
        assert!(Instant::now() < deadline, "the folder was not listed");
        h.step();
        std::thread::yield_now();
    }
    h.run_ok();
    h.get_by_label_contains("error: file ht802fw.bin: truncated (100 bytes missing): not served");
    h.get_by_label_contains("note: model GXP2170: no complete gxp2170fw.bin in the folder");
}

/// Issue 10: with "Follow new requests" on, the Live log asked for a new
/// frame every frame while nothing happened (about 140% CPU). An idle app
/// must stop asking in every view: the harness settles within its step limit.
#[test]
fn an_idle_app_asks_for_no_frames_in_any_view() {
    let mut h = app();
    {
        let app = h.state_mut();
        for i in 0..300u64 {
            let client = std::net::SocketAddr::from(([127, 0, 0, 2], 5060));
            let path = format!("/cfg000b82a1b2{:02x}.xml", i % 256);
            let record = gsprov::serving::RequestRecord {
                status: gsprov::serving::Wire::Http(200),
                bytes: 10,
                explanation: "served".into(),
                ..gsprov::serving::RequestRecord::new(
                    i,
                    std::time::SystemTime::now(),
                    client,
                    gsprov::serving::Protocol::Http,
                    "GET",
                    &path,
                )
            };
            app.rt.serving.status.apply(&record);
            app.rt.serving.log.push(record);
        }
        app.rt.serving.log_generation += 1;
    }
    for view in [View::Devices, View::Parameters, View::Files, View::Firmware, View::Server, View::Log, View::Status] {
        h.state_mut().state.view = view;
        // Switching views may animate for a few frames; then it must stop.
        h.run_ok();
        if view == View::Server {
            // The Server view asks for the interface list once; its answer is
            // a frame of its own (on a loaded machine, after run_ok returned).
            wait_for(&mut h, "the interface list", |a| !a.rt.serving.interfaces.is_empty());
        }
        let steps = h.try_run();
        assert!(matches!(steps, Ok(n) if n <= 1), "{view:?} keeps asking for frames while idle: {steps:?}");
        assert!(h.state().rt.log.follow, "following the tail is on, as by default");
    }
}

/// Issue 10: the explanation was the last column, cut off at 1200 px with no
/// way to read it but a tooltip. Clicking a row opens a details pane with the
/// whole explanation, the request and the chain of files that device asked for.
#[test]
fn a_live_log_row_opens_its_details_with_the_device_chain() {
    let mut h = app();
    let mac: gsprov::ids::Mac = "000b82a1b201".parse().unwrap();
    let long = format!("not found: {} ", "a long explanation that does not fit in any column ".repeat(6));
    {
        let app = h.state_mut();
        for (i, (path, served)) in
            [("/cfg000b82a1b201", true), ("/cfg000b82a1b201.xml", true), ("/gxp2170fw.bin", false)].iter().enumerate()
        {
            let client = std::net::SocketAddr::from(([127, 0, 0, 2], 5060));
            let record = gsprov::serving::RequestRecord {
                user_agent: Some("Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b201".into()),
                model: Some("GXP2170".parse().unwrap()),
                firmware: Some("1.0.11.3".into()),
                mac: Some(mac),
                outcome: if *served {
                    gsprov::serving::Outcome::Served
                } else {
                    gsprov::serving::Outcome::Refused { reason: gsprov::serving::Refusal::NotFound, expected: true }
                },
                status: gsprov::serving::Wire::Http(if *served { 200 } else { 404 }),
                bytes: 10,
                explanation: if *served { "served".into() } else { long.clone() },
                ..gsprov::serving::RequestRecord::new(
                    i as u64,
                    std::time::SystemTime::now(),
                    client,
                    gsprov::serving::Protocol::Http,
                    "GET",
                    path,
                )
            };
            app.rt.serving.log.push(record);
        }
        app.rt.serving.log_generation += 1;
        app.state.view = View::Log;
    }
    h.run_ok();
    assert!(h.query_by_label("Request details").is_none());
    h.get_by_label("/gxp2170fw.bin").click();
    h.run_ok();
    assert_eq!(h.state().rt.log.selected, Some(2), "the click selects the row");
    h.get_by_label("Request details");
    // The whole explanation, once in the pane (the cell is cut and has no tooltip).
    assert!(h.get_all_by_label(long.as_str()).count() >= 1);
    h.get_by_label("HTTP 404");
    h.get_by_label("Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b201");
    h.get_by_label("Everything 00:0B:82:A1:B2:01 asked for (3)");
    h.get_by_label("HTTP /cfg000b82a1b201.xml");
    let b = h.get_by_label("Close details");
    b.click();
    h.run_ok();
    assert_eq!(h.state().rt.log.selected, None);
    assert!(h.query_by_label("Request details").is_none());
}

/// Issue 14: the app's own server gives each device the P192 of its next
/// firmware step, from the version the device reports, as `gsprov serve` does.
#[test]
fn the_app_serves_each_device_its_next_firmware_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("steps.gsprov.toml");
    std::fs::write(&path, gsprov::site::DEMO).unwrap();
    // The demo's synthetic images: gxp2170/1.0.11.3/ and gxp2170/1.0.11.79/.
    let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/firmware/gxp2170");
    for v in ["1.0.11.3", "1.0.11.79"] {
        let d = dir.path().join("firmware/gxp2170").join(v);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(from.join(v).join("gxp2170fw.bin"), d.join("gxp2170fw.bin")).unwrap();
    }
    let mut h = app();
    h.state_mut().apply(gsprov::ui::Action::Open(Some(path.clone())));
    wait_for(&mut h, "the open", |a| a.doc.path.as_deref() == Some(path.as_path()));
    serve_http_on_loopback(&mut h);
    h.state_mut().start_servers();
    wait_for(&mut h, "the HTTP server", |a| a.rt.serving.running());
    let addr = h.state().rt.serving.addresses()[0].1;
    let site = h.state().doc.site.clone();
    let p192 = |h: &mut Harness<'static, App>| {
        let opts = gsprov::services::client::FetchOptions {
            user_agent: "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b201".into(),
            ..Default::default()
        };
        let got = gsprov::services::client::fetch(&format!("http://{addr}/cfg000b82a1b201.xml"), &opts).unwrap();
        let pw = Some(site.provisioning.xml_password.as_str());
        let d = gsprov::formats::decode::any(&got.bytes, pw, site.provisioning.digest).unwrap();
        h.run_ok();
        d.params.iter().find(|(k, _)| k == "P192").map(|(_, v)| v.clone()).unwrap_or_default()
    };
    // Before it has said its version, the device gets the first step of the
    // path (the same plan `gsprov firmware` shows); once it has said 1.0.11.3,
    // its next step is the 1.0.11.79 folder.
    assert_eq!(p192(&mut h), "192.168.10.5:8080/firmware/gxp2170/1.0.11.3");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = p192(&mut h);
        if now == "192.168.10.5:8080/firmware/gxp2170/1.0.11.79" {
            break;
        }
        assert!(Instant::now() < deadline, "the step never reached the served file: {now}");
        h.step();
        std::thread::yield_now();
    }
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
}

/// Opens the Parameters view on the demo device `row` ("Hygienist · GRP2612W").
fn params_of(h: &mut Harness<'static, App>, row: &str) {
    h.get_by_label("Parameters").click();
    h.run_ok();
    h.get_by_label(row).click();
    h.run_ok();
}

/// Issue 12 (forms that scale): the GRP2612W's form lists its family's ~1,600
/// template settings (GRP26xx), not the 94 curated ones, and finds one by
/// P-id, label or alias.
#[test]
fn all_parameters_of_a_grp2612w_find_a_setting_by_pid_label_and_alias() {
    let mut h = app();
    params_of(&mut h, "Hygienist · GRP2612W");
    // The time-and-region block above the form is open by default: close it, so the
    // matching row is on screen (the form lays out only the rows in view).
    h.get_by_label("Time and region").click();
    h.run_ok();
    h.get_by_label("All parameters").click();
    h.run_ok();
    h.get_by_label_contains("Settings of GRP26xx");
    // P735 is "Enable 100rel" in the grp26xx template (a bool: 0 - No, 1 - Yes).
    set_text(&mut h, "Find parameter:", "P735");
    h.get_by_label_contains("1 setting(s) match");
    h.get_by_label("Enable 100rel  ·  P735");
    set_text(&mut h, "Find parameter:", "100rel");
    h.get_by_label("Enable 100rel  ·  P735");
    let alias = gsprov::catalog::FamilyCatalog::get(gsprov::catalog::Family::Grp26xx)
        .get_key("P47")
        .and_then(|p| p.alias.clone())
        .expect("the grp2612 v2 template names P47's alias");
    set_text(&mut h, "Find parameter:", &alias);
    assert_eq!(h.get_by_label("SIP Server  ·  P47").value().as_deref(), Some("pbx.maple-dental.example"));
    // The template's sections, opened by a search.
    set_text(&mut h, "Find parameter:", "syslog");
    h.get_by_label_contains("Maintenance/Syslog (");
}

#[test]
fn p735_means_a_user_id_on_an_ht802_and_100rel_on_a_grp2612w() {
    let mut h = app();
    params_of(&mut h, "Fax and door · HT802");
    h.get_by_label("All parameters").click();
    h.run_ok();
    set_text(&mut h, "Find parameter:", "P735");
    // ht802 template: P735 "SIP User ID" (port 2); grp26xx: "Enable 100rel".
    h.get_by_label("SIP User ID  ·  P735");
    assert_eq!(h.query_all_by_label("Enable 100rel  ·  P735").count(), 0);
    h.get_by_label("Hygienist · GRP2612W").click();
    h.run_ok();
    h.get_by_label("Enable 100rel  ·  P735");
    assert_eq!(h.query_all_by_label("SIP User ID  ·  P735").count(), 0);
}

#[test]
fn an_enum_is_a_drop_down_of_labelled_values_that_sets_the_code() {
    let mut h = app();
    params_of(&mut h, "Hygienist · GRP2612W");
    set_text(&mut h, "Find parameter:", "P208");
    // Bring-up view, Syslog group. grp26xx template: 0 - NONE ... 4 - ERROR.
    h.get_by_label("Syslog Level  ·  P208").click();
    h.run_ok();
    h.get_by_label("1 = DEBUG");
    h.get_by_label("4 = ERROR").click();
    h.run_ok();
    let mac = "c074ada1b203".parse().unwrap();
    assert_eq!(h.state().doc.site.device(mac).unwrap().values.get("P208"), Some("4"));
    h.get_by_label("set here");
    assert_eq!(h.get_by_label("Syslog Level  ·  P208").value().as_deref(), Some("4 = ERROR"));
}

/// The bring-up view's "Time and NTP" group has the date and time display
/// formats as drop-downs of the template's values (grp26xx and gxp21xx
/// templates: P102 0-4 "yyyy-mm-dd" ... "MMMM dd, dddd", P122 "0 - 12 Hour,
/// 1 - 24 Hour"; the gxp2170 v2 template names P122 without codes, so on a
/// GXP2170 it stays a text field).
#[test]
fn date_and_time_formats_are_labelled_drop_downs_in_bring_up() {
    let mut h = app();
    params_of(&mut h, "Hygienist · GRP2612W");
    set_text(&mut h, "Find parameter:", "display format");
    h.get_by_label("Date Display Format  ·  P102").click();
    h.run_ok();
    h.get_by_label("0 = yyyy-mm-dd");
    h.get_by_label("2 = dd-mm-yyyy").click();
    h.run_ok();
    h.get_by_label("Time Display Format  ·  P122").click();
    h.run_ok();
    h.get_by_label("0 = 12 Hour");
    h.get_by_label("1 = 24 Hour").click();
    h.run_ok();
    let mac = "c074ada1b203".parse().unwrap();
    let values = &h.state().doc.site.device(mac).unwrap().values;
    assert_eq!((values.get("P102"), values.get("P122")), (Some("2"), Some("1")));
    assert_eq!(h.get_by_label("Time Display Format  ·  P122").value().as_deref(), Some("1 = 24 Hour"));
    h.get_by_label("Reception · GXP2170").click();
    h.run_ok();
    h.get_by_label("Date Display Format  ·  P102").click();
    h.run_ok();
    h.get_by_label("4 = MMMM dd, dddd");
    assert_eq!(h.query_all_by_label_contains("= 2011").count(), 0, "no example dates as codes");
}

#[test]
fn an_out_of_range_value_shows_its_error_beside_the_field_and_nothing_is_generated() {
    let mut h = app();
    params_of(&mut h, "Hygienist · GRP2612W");
    set_text(&mut h, "Find parameter:", "P51");
    // grp26xx template: P51 "Layer 2 QoS. 802.1Q/VLAN Tag", Number: 0 - 4094.
    set_text(&mut h, "Layer 2 QoS: 802.1Q/VLAN Tag  ·  P51", "5000");
    h.run_ok();
    h.get_by_label_contains("5000 is outside 0..4094");
    let site = h.state().doc.site.clone();
    assert!(h.state().doc.derived().errors > 0);
    // The app's rule (Site::check, generate::checked): a site with errors is
    // neither exported nor served.
    match gsprov::generate::checked(&site, &mut || [0; 8]) {
        Err(gsprov::generate::BuildError::SiteHasErrors(errors)) => {
            assert!(errors.iter().any(|e| e.location.ends_with("values.P51")), "{errors:?}")
        }
        other => panic!("generated despite P51 = 5000: {:?}", other.map(|o| o.files.len())),
    }
    set_text(&mut h, "Layer 2 QoS: 802.1Q/VLAN Tag  ·  P51", "10");
    assert!(h.query_all_by_label_contains("is outside").next().is_none());
    assert_eq!(h.state().doc.derived().errors, 0);
}

#[test]
fn a_site_default_is_checked_on_every_family_it_reaches() {
    let mut h = app();
    h.get_by_label("Parameters").click();
    h.run_ok();
    // Pick HT80x in "Show the settings of:" and give P735 (its port-2 user ID) a number.
    h.get_by_label("Show the settings of:").click();
    h.run_ok();
    h.get_by_label("HT80x (HT802)").click();
    h.run_ok();
    h.get_by_label("All parameters").click();
    h.run_ok();
    set_text(&mut h, "Find parameter:", "P735");
    set_text(&mut h, "SIP User ID  ·  P735", "1001");
    assert_eq!(h.state().doc.site.defaults.get("P735"), Some("1001"));
    // The GRP2612W reads P735 as "Enable 100rel" (0/1): the form says so beside the field.
    h.get_by_label_contains("on GRP26xx (GRP2612W): P735 (Enable 100rel)");
}

#[test]
fn a_time_zone_picked_by_city_reaches_the_xml_and_the_dhcp_override_warning_is_fixed_in_one_click() {
    use gsprov::catalog::{Family, timezone};
    let mut h = app();
    h.state_mut().state.view = View::Parameters;
    h.state_mut().rt.level = Layer::Defaults;
    h.run_ok();
    // The demo sets P64 = auto: nothing for DHCP to override yet.
    assert!(h.query_by_label("Set P143 = 0 at this level").is_none());
    set_text(&mut h, "Find a time zone (city or GMT offset)", "Berlin");
    // The value and its meaning as the GXP21xx template lists them (gxp2170: "GMT+01:00 (... Berlin ...)").
    let cet = "CET-1CEST-2,M3.5.0/02:00:00,M10.5.0/03:00:00";
    let label = timezone::zone(Family::Gxp21xx, cet).expect("GXP21xx lists CET").label();
    h.get_by_label(&label).click();
    h.run_ok();
    assert_eq!(h.state().doc.site.defaults.get("P64"), Some(cet));
    let out = gsprov::generate::generate(&h.state().doc.site, &mut || [0; 8]).unwrap();
    let cfg = out.files.iter().find(|f| f.kind == gsprov::generate::FileKind::GenericXml).unwrap();
    let xml = String::from_utf8_lossy(&cfg.bytes).into_owned();
    assert!(xml.contains(&format!("<P64>{cet}</P64>")), "{xml}");
    // GXP16xx's P143 defaults to 1 (gxp16xx template): DHCP option 2 would replace it.
    h.get_by_label_contains("DHCP option 2 may override the time zone");
    h.get_by_label("Set P143 = 0 at this level").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.defaults.get("P143"), Some("0"));
    assert!(h.query_by_label("Set P143 = 0 at this level").is_none());
    assert!(h.query_by_label_contains("DHCP option 2 may override").is_none());
    // The demo's NTP server (P30) has its own warning, beside P30 in the form; its fix clears it too.
    set_text(&mut h, "Find parameter:", "P30");
    h.get_by_label("Set P144 = 0 at this level").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.defaults.get("P144"), Some("0"));
    assert!(h.query_by_label_contains("may override the").is_none());
}

#[test]
fn the_language_picker_offers_the_model_familys_languages() {
    let mut h = app();
    h.state_mut().state.view = View::Parameters;
    h.state_mut().rt.level = Layer::Model("GXP1625".parse().unwrap());
    h.run_ok();
    h.get_by_label("Display language (P1362)").click();
    h.run_ok();
    // gxp16xx template: "de - Deutsch"-style pairs; the label is "<name> (<code>)".
    let (code, name) = gsprov::catalog::timezone::languages(gsprov::catalog::Family::Gxp16xx)
        .iter()
        .find(|(c, _)| c == "de")
        .cloned()
        .expect("GXP16xx lists de");
    h.get_by_label(&format!("{name} ({code})")).click();
    h.run_ok();
    let site = &h.state().doc.site;
    assert_eq!(site.models.get("GXP1625").and_then(|v| v.get("P1362")), Some("de"));
}

#[test]
fn the_files_view_shows_the_site_phonebook() {
    let mut h = app();
    h.state_mut().doc.edit(|site| site.phonebook.enabled = true);
    h.state_mut().state.view = View::Files;
    h.run_ok();
    let book = gsprov::generate::phonebook_file(&h.state().doc.site).unwrap().expect("the phonebook is on");
    // The whole site's directory, not only the device shown.
    let text = String::from_utf8_lossy(&book.bytes).into_owned();
    assert!(text.contains("<FirstName>Reception</FirstName>") && text.contains("<FirstName>Dr. Rivera</FirstName>"));
    h.get_by_label(&format!("phonebook.xml ({} B)", book.bytes.len())).click();
    h.run_ok();
    h.get_by_label(&format!("site phonebook · {} bytes served", book.bytes.len()));
}

/// Issue 12 item 4: a BLF key set on a model template is inherited by its
/// device, overridden there, then reset; a range fill writes a run of keys.
#[test]
fn programmable_key_on_a_model_is_inherited_overridden_and_reset() {
    let mut h = app();
    h.get_by_label("Parameters").click();
    h.run_ok();
    h.get_by_label("GXP2170  (1)").click();
    h.run_ok();
    h.get_by_label("Programmable keys (0 set)").click();
    h.run_ok();
    h.get_by_label("VPK 3 type").click();
    h.run_ok();
    h.get_by_label("BLF").click();
    h.run_ok();
    set_text(&mut h, "VPK 3 value", "201");
    let model = &h.state().doc.site.models["GXP2170"];
    assert_eq!((model.get("key.vpk.3.type"), model.get("key.vpk.3.value")), (Some("blf"), Some("201")));
    h.get_by_label("VPK 3 set here");
    // The demo site writes XML v1: the GXP21xx template names line keys 1-6 only.
    h.get_by_label("VPK 7 needs XML version 2");

    // The device of that model inherits it and says from where.
    h.get_by_label("Reception · GXP2170").click();
    h.run_ok();
    assert_eq!(h.get_by_label("VPK 3 value").value().as_deref(), Some("201"));
    h.get_by_label("VPK 3 inherited from model GXP2170");
    let mac = "000b82a1b201".parse().unwrap();
    let file = |h: &Harness<'static, App>| {
        let site = &h.state().doc.site;
        let d = site.device(mac).unwrap();
        gsprov::site::keys::expand(&site.effective(d), &d.model, gsprov::catalog::keys::Format::PValues).0
    };
    assert_eq!((file(&h).get("P1367"), file(&h).get("P1470")), (Some("11"), Some("201")), "BLF = 11 on GXP21xx v1");

    // Override on the device, then reset to inherited.
    set_text(&mut h, "VPK 3 value", "202");
    assert_eq!(h.state().doc.site.device(mac).unwrap().values.get("key.vpk.3.value"), Some("202"));
    h.get_by_label("VPK 3 overridden here");
    assert_eq!(file(&h).get("P1470"), Some("202"));
    h.get_by_label("Reset VPK 3").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.device(mac).unwrap().values.get("key.vpk.3.value"), None);
    h.get_by_label("VPK 3 inherited from model GXP2170");
    assert_eq!(h.get_by_label("VPK 3 value").value().as_deref(), Some("201"));

    // Range fill on the device: BLF 301.. on keys 4 to 6; a range beyond v1's keys is refused.
    set_text(&mut h, "keys", "4");
    set_text(&mut h, "to", "6");
    set_text(&mut h, "first value", "301");
    h.get_by_label("Fill").click();
    h.run_ok();
    let values = &h.state().doc.site.device(mac).unwrap().values;
    assert_eq!((values.get("key.vpk.4.value"), values.get("key.vpk.6.value")), (Some("301"), Some("303")));
    assert_eq!(values.get("key.vpk.6.type"), Some("blf"));
    h.get_by_label_contains("3 keys set");
    set_text(&mut h, "to", "8");
    h.get_by_label("Fill").click();
    h.run_ok();
    h.get_by_label_contains("VPK 7 of a GXP2170 cannot be BLF");
    assert_eq!(
        h.state().doc.site.device(mac).unwrap().values.get("key.vpk.8.type"),
        None,
        "a refused fill writes nothing"
    );
    assert!(h.state().doc.derived().errors == 0, "{:?}", h.state().doc.derived().issues);
}

/// Issue 24: Start servers refuses what `gsprov serve` refuses, in the same
/// words (a firmware folder that holds the site); a missing firmware folder
/// shows in the Server view before the click, in `gsprov check`'s words.
#[test]
fn start_servers_judges_the_firmware_folder_as_gsprov_serve_does() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exposed.gsprov.toml");
    std::fs::write(&path, gsprov::site::DEMO.replace("firmware_dir = \"firmware\"", "firmware_dir = \".\"")).unwrap();
    let mut h = app();
    h.state_mut().apply(gsprov::ui::Action::Open(Some(path.clone())));
    wait_for(&mut h, "the open", |a| a.doc.path.as_deref() == Some(path.as_path()));
    serve_http_on_loopback(&mut h);
    h.state_mut().state.view = View::Server;
    h.run_ok();
    h.get_by_label("Start servers").click();
    wait_for(&mut h, "the refusal", |a| a.rt.serving.start_error.is_some());
    let refused = h.state().rt.serving.start_error.clone().unwrap();
    assert!(!h.state().rt.serving.running());
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gsprov"))
        .args(["serve", path.to_str().unwrap(), "--bind", "127.0.0.1", "--http-port", "0"])
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(refused.ends_with("; nothing is served"), "{refused}");
    assert!(terminal.contains(&refused), "the app: {refused}\nthe terminal: {terminal}");
    // Said where the click was, and beside the folder before it.
    h.get_by_label_contains("; nothing is served");
    let said = h.query_all_by_label_contains("also holds").count();
    assert_eq!(said, 2, "the refusal, and the firmware folder's line before the click");

    // A firmware folder that does not exist: said before Start servers is clicked.
    h.state_mut().doc.edit(|s| s.serving.firmware_dir = "no-such-folder".into());
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.query_all_by_label_contains("Firmware folder: the firmware folder").next().is_none() {
        assert!(Instant::now() < deadline, "the missing folder is never said");
        h.step();
        std::thread::yield_now();
    }
    h.run_ok();
    h.get_by_label_contains("no-such-folder does not exist: devices that ask for firmware get a 404");
}

/// Issue 24: a site reopened after serving shows what its request log
/// remembers: the status board, the live log and the firmware each device
/// runs, as `gsprov firmware` reads them.
#[test]
fn a_reopened_site_shows_what_its_request_log_remembers() {
    use gsprov::serving::{ContentKind, DeviceState, Protocol, RequestRecord, Wire};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("office.gsprov.toml");
    std::fs::write(&path, gsprov::site::DEMO).unwrap();
    let mac: gsprov::ids::Mac = "000b82a1b201".parse().unwrap();
    let mut r = RequestRecord::new(
        7,
        // The log keeps milliseconds.
        std::time::UNIX_EPOCH + Duration::from_millis(1_796_594_558_383),
        "127.0.0.21:5060".parse().unwrap(),
        Protocol::Http,
        "GET",
        "/cfg000b82a1b201.xml",
    );
    r.user_agent = Some("Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b201".into());
    r.model = Some("GXP2170".parse().unwrap());
    r.firmware = Some("1.0.11.3".into());
    r.mac = Some(mac);
    r.file = Some("cfg000b82a1b201.xml".into());
    r.kind = Some(ContentKind::Config(gsprov::generate::FileKind::DeviceXml));
    r.status = Wire::Http(200);
    r.bytes = 900;
    r.size = Some(900);
    r.explanation = "served".into();
    std::fs::write(dir.path().join("office.requests.jsonl"), format!("{}\n", r.to_json())).unwrap();

    let mut h = app();
    h.state_mut().apply(gsprov::ui::Action::Open(Some(path.clone())));
    wait_for(&mut h, "the open", |a| a.doc.path.as_deref() == Some(path.as_path()));
    let status = h.state().rt.serving.status.device(mac).cloned().expect("the device is on the board");
    assert_eq!(status.state, DeviceState::GotConfig);
    assert_eq!(status.firmware.as_deref(), Some("1.0.11.3"));
    assert_eq!(h.state().rt.serving.log, vec![r]);
    h.get_by_label_contains("(its request log remembers 1 request)");

    // The firmware view knows its firmware, as `gsprov firmware` does.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_gsprov"))
        .args(["firmware", path.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    let view: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let row = view["devices"].as_array().unwrap().iter().find(|d| d["mac"] == "000b82a1b201").unwrap().clone();
    assert_eq!(row["plan"]["current"], "1.0.11.3");
    h.query_all_by_label("Firmware").next().expect("the Firmware tab").click();
    let path_text = row["path"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.query_all_by_label(&path_text).next().is_none() {
        assert!(Instant::now() < deadline, "the firmware view never shows {path_text}");
        h.step();
        std::thread::yield_now();
    }
    // The live log shows the request.
    h.get_by_label("Live log").click();
    h.run_ok();
    h.get_by_label("1 of 1 requests");
    h.get_by_label("/cfg000b82a1b201.xml");
}

/// Issue 24: a hand-written `[models.gxp2170]` is the GXP2170 template every
/// panel of the Parameters view edits (the form, the key grid, "Add
/// template"); none of them makes a second one.
#[test]
fn a_lower_case_model_template_is_the_one_every_panel_edits() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hand.gsprov.toml");
    let text = "name = \"Hand\"\n\n# the phones of the front desk\n[models.gxp2170]\nP1362 = \"de\"\n\n\
                [[devices]]\nmac = \"000b82a1b201\"\nmodel = \"GXP2170\"\nlabel = \"Desk\"\n";
    std::fs::write(&path, text).unwrap();
    let mut h = app();
    h.state_mut().apply(gsprov::ui::Action::Open(Some(path.clone())));
    wait_for(&mut h, "the open", |a| a.doc.path.as_deref() == Some(path.as_path()));
    let templates = |h: &Harness<'static, App>| h.state().doc.site.models.keys().cloned().collect::<Vec<_>>();
    assert_eq!(templates(&h), ["GXP2170"]);
    h.get_by_label("Parameters").click();
    h.run_ok();
    h.get_by_label("GXP2170  (1)").click();
    h.run_ok();
    assert_eq!(h.state().rt.level, Layer::Model("GXP2170".parse().unwrap()));
    // The key grid writes into it...
    h.get_by_label("Programmable keys (0 set)").click();
    h.run_ok();
    set_text(&mut h, "VPK 3 value", "201");
    h.get_by_label("VPK 3 set here");
    // ... and so does the form.
    set_text(&mut h, "Find parameter:", "P30");
    set_text(&mut h, "NTP Server  ·  P30", "ntp.hand.example");
    // "Add template" for the same model in lower case only selects it.
    h.state_mut().rt.params.new_model = "gxp2170".into();
    h.run_ok();
    h.get_by_label("Add template").click();
    h.run_ok();
    assert_eq!(templates(&h), ["GXP2170"]);
    let t = &h.state().doc.site.models["GXP2170"];
    assert_eq!(
        (t.get("P1362"), t.get("key.vpk.3.value"), t.get("P30")),
        (Some("de"), Some("201"), Some("ntp.hand.example"))
    );
}

/// Issue 24: "Save as" into another folder keeps a relative firmware folder
/// on the same files: the saved file and the open site name it from the new
/// place, the technician's comments stay, and the app says what it rewrote.
#[test]
fn save_as_into_another_folder_keeps_the_firmware_folder() {
    let root = tempfile::tempdir().unwrap();
    let office = root.path().join("office");
    std::fs::create_dir_all(office.join("firmware")).unwrap();
    let from = office.join("demo.gsprov.toml");
    std::fs::write(&from, gsprov::site::DEMO).unwrap();
    let mut h = app();
    h.state_mut().apply(gsprov::ui::Action::Open(Some(from.clone())));
    wait_for(&mut h, "the open", |a| a.doc.path.as_deref() == Some(from.as_path()));
    h.state_mut().rt.typed_paths = true;
    h.state_mut().apply(gsprov::ui::Action::SaveAs);
    h.run_ok();
    let to = root.path().join("elsewhere/copy.gsprov.toml");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    set_text(&mut h, "Path", to.to_str().unwrap());
    h.get_by_label("OK").click();
    wait_for(&mut h, "the save", |a| a.doc.path.as_deref() == Some(to.as_path()));
    let fw = std::fs::canonicalize(office.join("firmware")).unwrap().to_string_lossy().into_owned();
    h.get_by_label_contains(&format!("the firmware folder \"firmware\" is now written as {fw:?}"));
    assert_eq!(h.state().doc.site.serving.firmware_dir, fw);
    assert!(!h.state().doc.dirty());
    let text = std::fs::read_to_string(&to).unwrap();
    assert!(text.contains("# keep the units off the vendor cloud"), "{text}");
    assert_eq!(gsprov::storage::load_site(&to).unwrap(), h.state().doc.site);
}

/// The Parameters view of `level`, with the security group drawn.
fn security_at(level: Layer) -> Harness<'static, App> {
    let mut h = app();
    h.state_mut().state.view = View::Parameters;
    h.state_mut().rt.level = level;
    h.run_ok();
    h
}

#[test]
fn security_plain_passwords_are_fixed_by_encrypting_the_device_files_in_one_click() {
    let mut h = security_at(Layer::Defaults);
    assert!(h.query_by_label("Encrypt device files").is_none(), "the demo encrypts already");
    h.state_mut().doc.edit(|site| {
        site.provisioning.encrypt = gsprov::site::Encrypt::Off;
        site.provisioning.xml_password.clear();
    });
    h.run_ok();
    h.get_by_label_contains("travel readable over HTTP and TFTP");
    h.get_by_label("Encrypt device files").click();
    h.run_ok();
    let p = &h.state().doc.site.provisioning;
    assert_eq!(p.encrypt, gsprov::site::Encrypt::DeviceFiles);
    assert_eq!(p.xml_password.len(), 24, "a fresh random XML password");
    assert!(p.encrypts());
    assert!(h.query_by_label("Encrypt device files").is_none());
    assert!(h.query_by_label_contains("travel readable").is_none());
}

#[test]
fn security_unknown_macs_are_refused_in_one_click() {
    let mut h = security_at(Layer::Defaults);
    assert!(!h.state().doc.site.serving.known_macs_only);
    h.get_by_label_contains("any MAC gets files");
    h.get_by_label("Serve known MACs only").click();
    h.run_ok();
    assert!(h.state().doc.site.serving.known_macs_only);
    assert!(h.query_by_label("Serve known MACs only").is_none());
}

#[test]
fn security_notify_without_authentication_is_fixed_on_the_model_that_sets_it() {
    // The demo's HT802 template sets P4428 = 1.
    let mut h = security_at(Layer::Model("HT802".parse().unwrap()));
    h.get_by_label_contains("P4428 = 1 turns SIP NOTIFY authentication off");
    h.get_by_label("Set P4428 = 0 at this level").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.models["HT802"].get("P4428"), Some("0"));
    assert!(h.query_by_label("Set P4428 = 0 at this level").is_none());
    assert_eq!(h.state().doc.site.defaults.get("P4428"), None, "the fix stays on the model's layer");
}

#[test]
fn security_sip_from_anyone_is_fixed_at_its_level() {
    let mut h = security_at(Layer::Defaults);
    h.state_mut().doc.edit(|site| site.defaults.set("P2347", "0"));
    h.run_ok();
    h.get_by_label_contains("P2347 = 0: the unit takes SIP from anyone");
    h.get_by_label("Set P2347 = 1 at this level").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.defaults.get("P2347"), Some("1"));
    assert!(h.query_by_label("Set P2347 = 1 at this level").is_none());
}

#[test]
fn security_tr069_off_says_gdms_and_the_fix_removes_the_setting() {
    let mut h = security_at(Layer::Defaults);
    h.get_by_label_contains("units managed by GDMS");
    h.get_by_label("Remove P1409 at this level").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.defaults.get("P1409"), None);
    assert_eq!(h.state().doc.site.models["HT802"].get("P1409"), Some("0"), "other layers are theirs");
    assert!(h.query_by_label("Remove P1409 at this level").is_none());
}

#[test]
fn security_certificates_and_factory_passwords_are_said_without_a_false_fix() {
    let mut h = security_at(Layer::Defaults);
    h.state_mut().doc.edit(|site| {
        site.serving.https = true;
        site.defaults.set("P8463", "0");
        site.defaults.set("P2", "admin");
    });
    h.run_ok();
    h.get_by_label_contains("gsprov's certificate is self-signed");
    h.get_by_label_contains("set to the factory default");
    assert!(h.query_by_label("Set P8463 = 1 at this level").is_none(), "turning it on would lock gsprov out");
    assert!(h.query_by_label_contains("\"admin\"").is_none(), "the password is not shown");
}

/// Issue 28: File > "Adopt a provisioning folder…" reads the demo's generated
/// folder, shows the report and the round trip, and opens the adopted site,
/// whose files carry the same values as the folder's.
#[test]
fn adopt_a_folder_see_the_report_open_it_and_generate_the_same_files() {
    use gsprov::formats::{crypto, decode};
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old");
    let out = gsprov::generate::generate(&gsprov::site::demo(), &mut || [9; 8]).unwrap();
    gsprov::storage::write_tree(&old, &out, &[]).unwrap();
    let decoded = |files: &[gsprov::generate::File]| -> std::collections::BTreeMap<String, Vec<(String, String)>> {
        files
            .iter()
            .map(|f| {
                let d = decode::any(&f.bytes, Some("demo-xml-secret"), crypto::Digest::Md5).unwrap();
                let mut p = d.params;
                p.sort();
                (f.name.clone(), p)
            })
            .collect()
    };

    let mut h = app();
    h.get_by_label("File").click();
    h.run_ok();
    h.get_by_label("Adopt a provisioning folder…").click();
    h.run_ok();
    // The folder through "Choose…"; with no file dialog the app asks for the path itself.
    h.state_mut().rt.typed_paths = true;
    h.get_by_label("Choose…").click();
    h.run_ok();
    h.get_by_label("Type the provisioning folder to adopt:");
    set_text(&mut h, "Path", old.to_str().unwrap());
    h.get_by_label("OK").click();
    wait_for(&mut h, "the folder chosen", |a| !a.rt.adopt.folder.is_empty());
    assert_eq!(h.state().rt.adopt.folder, old.display().to_string());
    set_text(&mut h, "Models:", "000b82a1b202=GXP2135\nc074ada1b203=GRP2612W\nec74d7a1b204=GXP1625\nHT802");
    // A wrong password first: nothing adopted, the file named.
    set_text(&mut h, "XML password:", "not-the-password");
    h.get_by_label("Read folder").click();
    wait_for(&mut h, "the folder read", |a| a.rt.adopt.result.is_some());
    h.get_by_label_contains("was not adopted: cfg000b82a1b201.xml: cannot decrypt");
    assert!(
        h.query_by_label_contains("not-the-password").is_none(),
        "neither the error nor the masked field shows the password"
    );

    // No password: the one the binary files carry.
    set_text(&mut h, "XML password:", "");
    h.get_by_label("Read folder").click();
    wait_for(&mut h, "the folder read", |a| a.rt.adopt.result.as_ref().is_some_and(|(_, r)| r.is_ok()));
    h.get_by_label_contains(
        "5 device(s), 4 model template(s), 10 default value(s); 20 of 20 file(s) come back the same",
    );
    h.get_by_label_contains("model GXP2170, because its file repeats what only cfggxp2170.xml sets (P290, P64)");
    h.get_by_label_contains(
        "encrypted XML version 1, 26 value(s) -> device 000b82a1b201 (GXP2170, 2 account(s) structured)",
    );
    assert!(h.query_by_label("DIFFERS").is_none());

    h.get_by_label("Open as a new site").click();
    h.run_ok();
    let site = h.state().doc.site.clone();
    assert!(site.name.starts_with("Adopted from old"), "{}", site.name);
    assert_eq!(site.devices.len(), 5);
    assert_eq!(site.models["GXP2170"].get("P290"), Some("{ x+ | *x+ | *xx*x+ }"));
    let again = gsprov::generate::generate(&site, &mut || [5; 8]).unwrap();
    assert_eq!(decoded(&out.files), decoded(&again.files));
}

/// The Server view's "Bench DHCP" beside a LAN's DHCP server (dnsmasq, in a
/// second namespace): the app shows a red banner naming that server with the
/// option-66 lines to paste there, and HTTP serves on.
#[test]
fn bench_dhcp_beside_another_dhcp_server_shows_a_red_banner_and_http_serves_on() {
    if netns::enter("bench_dhcp_beside_another_dhcp_server_shows_a_red_banner_and_http_serves_on").is_none() {
        return;
    }
    use std::io::BufRead;
    let peer = netns::Peer::new("02:00:00:00:00:01");
    let dir = tempfile::tempdir().unwrap();
    let mut dnsmasq = peer
        .command(&format!(
            "exec dnsmasq --no-daemon --conf-file=/dev/null --user=root --group=root --port=0 --log-facility=- \
             --interface=gs1 --bind-interfaces --dhcp-range=10.77.0.100,10.77.0.150,255.255.255.0,1h \
             --dhcp-leasefile={}/leases --pid-file=",
            dir.path().display()
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("dnsmasq (.ci/run installs dnsmasq-base)");
    let mut lines = std::io::BufReader::new(dnsmasq.stderr.take().unwrap()).lines();
    assert!(lines.any(|l| l.is_ok_and(|l| l.contains("DHCP, IP range") || l.contains("DHCP, sockets bound"))));

    let mut h = app();
    h.state_mut().doc.edit(|site| {
        let s = &mut site.serving;
        s.bind = "0.0.0.0".into(); // inside the test's own namespaces
        s.http_port = 18080;
        s.tftp = false;
        s.https = false;
    });
    h.state_mut().state.view = View::Server;
    h.run_ok();
    wait_for(&mut h, "the interface list", |a| a.rt.serving.interfaces.iter().any(|i| i.name == "gs0"));
    h.state_mut().rt.server.advertise = "10.77.0.2".into();
    h.state_mut().state.view = View::Server;
    h.run_ok();
    h.get_by_label("Bench DHCP server on this interface").click();
    h.run_ok();
    assert!(h.state().rt.serving.dhcp);
    h.get_by_label_contains("same privilege as TFTP 69");
    h.get_by_label("Start servers").click();
    let dhcp = gsprov::serving::Protocol::Dhcp;
    wait_for(&mut h, "the bench DHCP refusal", |a| {
        matches!(a.rt.serving.servers.get(&dhcp), Some(gsprov::ui::serving::ServerState::Failed(_)))
    });
    h.state_mut().state.view = View::Server;
    h.run_ok();
    h.get_by_label_contains("Bench DHCP is off: another DHCP server answers on gs0: 10.77.0.1, MAC 02:00:00:00:00:01");
    // The banner's text is the error, with the lines to paste into that server.
    let Some(gsprov::ui::serving::ServerState::Failed(e)) = h.state().rt.serving.servers.get(&dhcp) else {
        unreachable!()
    };
    assert!(e.to_string().contains("dnsmasq (dnsmasq.conf): dhcp-option=66,\"http://10.77.0.2:18080/\""), "{e}");
    assert!(
        h.state().rt.serving.addresses().iter().any(|(p, _)| *p == gsprov::serving::Protocol::Http),
        "HTTP serves on"
    );
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
    dnsmasq.kill().unwrap();
    dnsmasq.wait().unwrap();
}
