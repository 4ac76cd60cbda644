//! The desktop app driven like a technician would, with egui_kittest: widgets
//! are found by their labels, clicked and typed into; the assertions read the
//! app's state and what it shows.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gsprov::ui::{App, Level, View};

fn app() -> Harness<'static, App> {
    let mut h =
        Harness::builder().with_size(egui::vec2(1400.0, 900.0)).build_eframe(|cc| App::new(&cc.egui_ctx, None, None));
    h.run_ok();
    h
}

/// The demo app set to serve HTTP only, on 127.0.0.1 with a free port.
fn app_serving_http_on_loopback() -> Harness<'static, App> {
    let mut h = app();
    h.state_mut().doc.edit(|site| {
        let s = &mut site.serving;
        s.bind = "127.0.0.1".into();
        s.http_port = 0;
        s.tftp = false;
        s.https = false;
    });
    h
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
    assert_eq!(h.state().rt.level, Level::Model("GXP2170".parse().unwrap()));
    set_text(&mut h, "Find parameter:", "P30");
    set_text(&mut h, "NTP server  ·  P30", "ntp.model.example");
    assert_eq!(h.state().doc.site.models["GXP2170"].get("P30"), Some("ntp.model.example"));
    h.get_by_label("overridden here");

    // The device of that model inherits it and says from where.
    h.get_by_label("Reception · GXP2170").click();
    h.run_ok();
    assert_eq!(h.get_by_label("NTP server  ·  P30").value().as_deref(), Some("ntp.model.example"));
    h.get_by_label("inherited from model GXP2170");

    // Override on the device, then reset to inherited.
    set_text(&mut h, "NTP server  ·  P30", "ntp.device.example");
    let mac = "000b82a1b201".parse().unwrap();
    assert_eq!(h.state().doc.site.device(mac).unwrap().values.get("P30"), Some("ntp.device.example"));
    h.get_by_label("overridden here");
    h.get_by_label("Reset").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.device(mac).unwrap().values.get("P30"), None);
    h.get_by_label("inherited from model GXP2170");
    assert_eq!(h.get_by_label("NTP server  ·  P30").value().as_deref(), Some("ntp.model.example"));
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
    set_text(&mut h, "NTP server  ·  P30", "ntp.saved.example");
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
    h.get_by_label_contains("[encrypted] cfg000b82a1b201.xml").click();
    h.run_ok();
    h.get_by_label_contains("AES-256-CBC encrypted");
    h.get_by_label_contains("<P35>201</P35>");
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
    h.get_by_label_contains("fetched cfg at");
    h.get_by_label("got config");
    assert_eq!(h.state().rt.serving.status.unassigned().count(), 0, "a site device is never 'unassigned'");
}

#[test]
fn provisioning_settings_rename_the_served_files() {
    let mut h = app();
    h.get_by_label("Parameters").click();
    h.run_ok();
    set_text(&mut h, "Config file prefix (P234)", "gs_");
    assert_eq!(h.state().doc.site.provisioning.prefix, "gs_");
    h.state_mut().rt.focus = Some("000b82a1b201".parse().unwrap());
    h.get_by_label("Files").click();
    h.run_ok();
    h.get_by_label_contains("gs_cfg000b82a1b201 (");
    h.get_by_label_contains("[encrypted] gs_cfg000b82a1b201.xml");
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
    h.get_by_label_contains("gsprov does not know which firmware file GRP2612W requests");
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
            let record = gsprov::serving::RequestRecord {
                id: i,
                time: std::time::SystemTime::now(),
                client: std::net::SocketAddr::from(([127, 0, 0, 2], 5060)),
                protocol: gsprov::serving::Protocol::Http,
                method: "GET".into(),
                path: format!("/cfg000b82a1b2{:02x}.xml", i % 256),
                user_agent: None,
                model: None,
                firmware: None,
                mac: None,
                file: None,
                kind: None,
                outcome: gsprov::serving::Outcome::Served,
                status: gsprov::serving::Wire::Http(200),
                bytes: 10,
                size: Some(10),
                duration: Duration::from_millis(1),
                explanation: "served".into(),
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
            let record = gsprov::serving::RequestRecord {
                id: i as u64,
                time: std::time::SystemTime::now(),
                client: std::net::SocketAddr::from(([127, 0, 0, 2], 5060)),
                protocol: gsprov::serving::Protocol::Http,
                method: "GET".into(),
                path: path.to_string(),
                user_agent: Some("Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82a1b201".into()),
                model: Some("GXP2170".parse().unwrap()),
                firmware: Some("1.0.11.3".into()),
                mac: Some(mac),
                file: None,
                kind: None,
                outcome: if *served {
                    gsprov::serving::Outcome::Served
                } else {
                    gsprov::serving::Outcome::Refused { reason: gsprov::serving::Refusal::NotFound, expected: true }
                },
                status: gsprov::serving::Wire::Http(if *served { 200 } else { 404 }),
                bytes: 10,
                size: Some(10),
                duration: Duration::from_millis(1),
                explanation: if *served { "served".into() } else { long.clone() },
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
