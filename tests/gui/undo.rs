//! Issue 27 items 12-14: undo and redo, asking before quitting, About, the
//! site last worked on and the bring-up checklist, driven by label.

use std::collections::HashMap;
use std::path::PathBuf;

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use gsprov::ui::{App, View};

use egui::accesskit::{Role, Toggled};

use super::{app, app_started_on_loopback, request_from, set_text, wait_for};

const FIRST: &str = "00:0B:82:A1:B2:01";

fn first_mac() -> gsprov::ids::Mac {
    FIRST.parse().unwrap()
}

fn edit_menu(h: &mut Harness<'static, App>) {
    h.get_by_label("Edit").click();
    h.run_ok();
}

#[test]
fn a_delete_that_takes_accounts_asks_first_and_undo_brings_it_back_unsaved_state_and_all() {
    let mut h = app();
    let (accounts, keys) = {
        let d = h.state().doc.site.device(first_mac()).unwrap();
        let keys: std::collections::BTreeSet<Vec<&str>> =
            d.values.0.keys().filter(|k| k.starts_with("key.")).map(|k| k.split('.').take(3).collect()).collect();
        (d.accounts.iter().filter(|a| !a.user_id.is_empty()).count(), keys.len())
    };
    assert!(accounts > 0, "the demo's first device has an account");
    h.state_mut().rt.selected = [first_mac()].into();
    h.run_ok();
    h.get_by_label("Delete selected (1)").click();
    h.run_ok();
    // Asked first, with what goes with it; Cancel deletes nothing.
    h.get_by_label(&format!("Delete device {FIRST}?"));
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut goes = vec![plural(accounts, "account", "accounts")];
    if keys > 0 {
        goes.push(plural(keys, "programmable key", "programmable keys"));
    }
    let verb = if accounts + keys == 1 { "goes" } else { "go" };
    h.get_by_label(&format!("{} {verb} with it.", goes.join(" and ")));
    h.get_by_label("Cancel").click();
    h.run_ok();
    assert!(h.state().doc.site.device(first_mac()).is_some());
    assert!(!h.state().doc.dirty());

    h.get_by_label("Delete selected (1)").click();
    h.run_ok();
    h.get_by_label("Delete").click();
    h.run_ok();
    assert!(h.state().doc.site.device(first_mac()).is_none());
    assert!(h.state().doc.dirty());

    // The Edit menu names what it undoes; undoing back to the saved site is "saved" again.
    edit_menu(&mut h);
    h.get_by_label(&format!("Undo delete device {FIRST} Ctrl+Z")).click();
    h.run_ok();
    assert!(h.state().doc.site.device(first_mac()).is_some());
    assert!(!h.state().doc.dirty(), "undone back to the saved site: no unsaved changes");
    h.get_by_label_contains(&format!("Undid: delete device {FIRST}"));
    h.get_by_label(FIRST);

    // Redo from the keyboard, both spellings, and Ctrl+Z again.
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_ok();
    assert!(h.state().doc.site.device(first_mac()).is_none());
    assert!(h.state().doc.dirty());
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert!(h.state().doc.site.device(first_mac()).is_some());
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.run_ok();
    assert!(h.state().doc.site.device(first_mac()).is_none());
    edit_menu(&mut h);
    h.get_by_label(&format!("Undo delete device {FIRST} Ctrl+Z"));
    h.get_by_label("Nothing to redo Ctrl+Shift+Z");
}

#[test]
fn a_device_without_accounts_is_deleted_without_a_question() {
    let mut h = app();
    h.state_mut().doc.edit(|s| {
        let d = s.devices.iter_mut().find(|d| d.mac == first_mac()).unwrap();
        d.accounts.clear();
        d.values.0.retain(|k, _| !k.starts_with("key."));
    });
    h.state_mut().rt.selected = [first_mac()].into();
    h.run_ok();
    h.get_by_label("Delete selected (1)").click();
    h.run_ok();
    assert!(h.state().doc.site.device(first_mac()).is_none());
    assert_eq!(h.query_all_by_label(&format!("Delete device {FIRST}?")).count(), 0);
}

#[test]
fn typing_a_value_is_one_undo_step_and_ctrl_z_in_a_field_is_the_fields_own() {
    let mut h = app();
    h.get_by_label("Parameters").click();
    h.run_ok();
    set_text(&mut h, "Find parameter:", "P30");
    let field = "NTP Server  ·  P30";
    h.get_by_label(field).click();
    h.run_ok();
    for c in ["n", "t", "p", ".", "x"] {
        h.get_by_label(field).type_text(c);
        h.run_ok();
    }
    assert_eq!(h.state().doc.site.defaults.get("P30").map(|v| v.ends_with("ntp.x")), Some(true));
    // Ctrl+Z while the field has the keyboard is the field's: the app's undo stays put.
    let before = h.state().doc.undo_name().map(str::to_string);
    assert_eq!(before.as_deref(), Some("edit P30 in the site defaults"));
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert_eq!(h.state().doc.undo_name().map(str::to_string), before, "the field's Ctrl+Z is not the site's undo");
    // Click away, then one Undo takes the whole word back.
    h.get_by_label("Parameters").click();
    h.run_ok();
    edit_menu(&mut h);
    h.get_by_label("Undo edit P30 in the site defaults Ctrl+Z").click();
    h.run_ok();
    let demo = gsprov::site::demo();
    assert_eq!(h.state().doc.site.defaults.get("P30"), demo.defaults.get("P30"));
    assert_eq!(h.get_by_label(field).value().as_deref(), demo.defaults.get("P30"), "the field shows the undone value");
    assert!(!h.state().doc.dirty());
    assert_eq!(h.state().doc.undo_name(), None, "typing five letters was one step");
}

#[test]
fn csv_import_and_extension_fill_are_undone_by_name() {
    let mut h = app();
    h.get_by_label("Import CSV…").click();
    h.run_ok();
    set_text(&mut h, "CSV text", "mac,model,label,user_id\n000b82c0ffee,GXP2170,Lobby,210\n");
    h.get_by_label("Apply import").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.devices.len(), 6);
    edit_menu(&mut h);
    h.get_by_label("Undo CSV import (1 added, 0 updated) Ctrl+Z").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.devices.len(), 5);
    assert!(!h.state().doc.dirty());

    let macs: Vec<_> = h.state().doc.site.devices.iter().take(2).map(|d| d.mac).collect();
    h.state_mut().rt.selected = macs.iter().copied().collect();
    h.run_ok();
    set_text(&mut h, "Extensions from", "301");
    h.get_by_label("Fill selected (2)").click();
    h.run_ok();
    let ext = |h: &Harness<'static, App>, i: usize| h.state().doc.site.devices[i].accounts[0].user_id.clone();
    let mut filled = [ext(&h, 0), ext(&h, 1)];
    filled.sort();
    assert_eq!(filled, ["301".to_string(), "302".to_string()]);
    edit_menu(&mut h);
    h.get_by_label("Undo fill the extensions of 2 from 301 Ctrl+Z").click();
    h.run_ok();
    let demo = gsprov::site::demo();
    assert_eq!(h.state().doc.site.devices, demo.devices);
    assert!(!h.state().doc.dirty());
    edit_menu(&mut h);
    h.get_by_label("Redo fill the extensions of 2 from 301 Ctrl+Shift+Z");
}

#[test]
fn quitting_while_serving_says_phones_lose_the_servers() {
    let (mut h, _) = app_started_on_loopback();
    // Started with the demo set to serve on loopback: that edit is unsaved; take it as saved.
    let site = h.state().doc.site.clone();
    h.state_mut().doc.mark_saved(site);
    // The window's own close button: asked, not closed.
    let root = h.input_mut().viewports.get_mut(&egui::ViewportId::ROOT).unwrap();
    root.events.push(egui::ViewportEvent::Close);
    h.run_ok();
    h.get_by_label("Quit gsprov?");
    h.get_by_label("Cancel").click();
    h.run_ok();
    assert!(!h.state().rt.safety.closed);
    assert_eq!(h.query_all_by_label("Quit gsprov?").count(), 0);
    h.get_by_label("File").click();
    h.run_ok();
    h.get_by_label("Quit Ctrl+Q").click();
    h.run_ok();
    h.get_by_label("Quit gsprov?");
    h.get_by_label_contains("phones in the middle of provisioning lose the servers");
    assert_eq!(h.query_all_by_label("Save and quit").count(), 0, "nothing unsaved: no save offered");
    h.get_by_label("Cancel").click();
    h.run_ok();
    assert!(!h.state().rt.safety.closed);
    assert!(h.state().rt.serving.running());

    h.key_press_modifiers(Modifiers::COMMAND, Key::Q);
    h.run_ok();
    h.get_by_label("Stop the servers and quit").click();
    h.run_ok();
    assert!(h.state().rt.safety.closed);
}

#[test]
fn quitting_with_unsaved_edits_offers_save_discard_and_cancel() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quit.gsprov.toml");
    let mut h = app();
    h.state_mut().doc.path = Some(path.clone());
    h.state_mut().doc.edit(|s| s.name = "Quit test".into());
    h.state_mut().rt.safety.quit = true;
    h.run_ok();
    h.get_by_label("\"Quit test\" has edits that are not saved.");
    h.get_by_label("Discard changes and quit");
    assert_eq!(h.query_all_by_label_contains("servers are running").count(), 0);
    h.get_by_label("Save and quit").click();
    wait_for(&mut h, "the save, then the close", |a| a.rt.safety.closed);
    assert!(!h.state().doc.dirty());
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("Quit test"), "{saved}");
}

#[test]
fn about_says_the_version_licence_and_where_things_are() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = app();
    let settings = dir.path().join("settings").join("app.ron");
    let logs = dir.path().join("logs");
    h.state_mut().rt.safety.paths = gsprov::ui::Paths { settings: Some(settings.clone()), logs: Some(logs.clone()) };
    h.state_mut().doc.path = Some(dir.path().join("office.gsprov.toml"));
    h.get_by_label("Help").click();
    h.run_ok();
    h.get_by_label("About gsprov").click();
    h.run_ok();
    h.get_by_label(gsprov::cli::VERSION);
    h.get_by_label(env!("CARGO_PKG_LICENSE"));
    h.get_by_label(&settings.display().to_string());
    h.get_by_label(&logs.display().to_string());
    h.get_by_label(&dir.path().join("office.requests.jsonl").display().to_string());
    assert!(!settings.exists() && !logs.exists(), "About only says where; it creates nothing");
}

/// Settings as eframe keeps them, in memory (no test writes the user's settings).
#[derive(Default)]
struct Settings(HashMap<String, String>);

impl eframe::Storage for Settings {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

fn started_with(settings: Settings) -> Harness<'static, App> {
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .build_eframe(move |cc| App::new(&cc.egui_ctx, Some(&settings), None));
    h.run_ok();
    h
}

fn settings_after(h: &mut Harness<'static, App>) -> Settings {
    let mut s = Settings::default();
    eframe::App::save(h.state_mut(), &mut s);
    s
}

#[test]
fn a_plain_start_reopens_the_site_last_worked_on_and_says_when_it_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("office.gsprov.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gsprov"))
        .args(["new", path.to_str().unwrap(), "--demo"])
        .env("GSPROV_LOG_DIR", "")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // First start: nothing remembered, the demo.
    let mut h = started_with(Settings::default());
    assert_eq!(h.state().doc.path, None);
    // A site opened is what the settings remember...
    h.state_mut().apply(gsprov::ui::Action::Open(Some(path.clone())));
    wait_for(&mut h, "the open", |a| a.doc.path.as_deref() == Some(path.as_path()));
    let settings = settings_after(&mut h);
    // ...and the next plain start opens it again.
    let mut h = started_with(settings);
    wait_for(&mut h, "the reopen", |a| a.doc.path.as_deref() == Some(path.as_path()));
    let settings = settings_after(&mut h);

    // Gone: the demo, and the app says so.
    std::fs::remove_file(&path).unwrap();
    let mut h = started_with(settings);
    wait_for(&mut h, "the failed reopen", |a| a.rt.busy.is_none() && a.rt.notice.is_some());
    h.get_by_label_contains(&format!(
        "This is the demo site: the site last worked on, {}, could not be opened again",
        path.display()
    ));
    assert_eq!(h.state().doc.path, None);
    assert_eq!(h.state().doc.site.name, gsprov::site::demo().name);
    // Said once: the next start is the demo without a word.
    let settings = settings_after(&mut h);
    let h = started_with(settings);
    assert_eq!(h.state().state.last_site, None::<PathBuf>);
    assert!(h.state().rt.notice.is_none());
}

/// The checklist's box for `step` is ticked (or not).
fn assert_ticked(h: &Harness<'static, App>, step: &str, ticked: bool) {
    let want = if ticked { Toggled::True } else { Toggled::False };
    let node = h.get_by_role_and_label(Role::CheckBox, step);
    assert_eq!(node.accesskit_node().toggled(), Some(want), "{step}");
}

#[test]
fn the_bring_up_checklist_ticks_itself_from_the_servers_and_the_devices() {
    let (mut h, addr) = app_started_on_loopback();
    let port = addr.port();
    h.state_mut().state.view = View::Devices;
    h.run_ok();
    assert_ticked(&h, "Servers running", true);
    assert_ticked(&h, "Firmware folder found", true);
    // The demo tells devices 192.168.10.5: not this computer; the link goes where that is fixed.
    h.get_by_role_and_label(Role::Link, "Address is this computer").click();
    h.run_ok();
    assert_eq!(h.state().state.view, View::Server);
    h.get_by_label(&format!("Point devices at this computer (lo 127.0.0.1, HTTP {port})")).click();
    h.run_ok();
    // Pointed at 127.0.0.1: every device is its own loopback, so still not ticked.
    assert!(h.query_all_by_label_contains("a loopback address: every device is its own 127.0.0.1").count() > 0);
    assert_ticked(&h, "Address is this computer", false);
    assert_ticked(&h, "Devices seen (0 of 5)", false);
    assert_ticked(&h, "Configured (0 of 5)", false);

    // A phone asks for its file: seen and (this one) configured, by itself.
    request_from("127.0.0.1", "000b82a1b201", addr);
    wait_for(&mut h, "the request on the board", |a| {
        a.rt.serving.status.known().any(|d| d.state != gsprov::serving::status::DeviceState::NeverSeen)
    });
    assert_ticked(&h, "Devices seen (1 of 5)", true);
    h.get_by_role_and_label(Role::Link, "Configured (1 of 5)").click();
    h.run_ok();
    assert_eq!(h.state().state.view, View::Status);

    // Servers stopped: unticked again, from the state, not from a click.
    h.state_mut().stop_servers();
    wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
    assert_ticked(&h, "Servers running", false);

    // This computer on a LAN (its interface list as the control thread reports
    // it; nothing is bound or sent), the files pointing at it: ticked.
    let lan = std::net::Ipv4Addr::new(192, 0, 2, 10);
    h.state_mut().rt.serving.interfaces.push(gsprov::serving::discovery::NetInterface::new("eth9", lan, 24));
    h.state_mut().doc.edit(|s| {
        s.serving.bind = "0.0.0.0".into();
        s.serving.http_port = 8080;
        s.defaults.set("P237", format!("{lan}:8080"));
        s.defaults.set("P192", format!("{lan}:8080/firmware"));
    });
    h.run_ok();
    assert_ticked(&h, "Address is this computer", true);

    // Hidden, and back from the View menu.
    h.get_by_label("Hide checklist").click();
    h.run_ok();
    assert_eq!(h.query_all_by_label("Servers running").count(), 0);
    assert!(h.state().state.hide_checklist);
    h.get_by_label("View").click();
    h.run_ok();
    h.get_by_label("Bring-up checklist").click();
    h.run_ok();
    assert_ticked(&h, "Servers running", false);
}
