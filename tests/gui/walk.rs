//! Found walking a whole bring-up under Xvfb (issue 27's done-when): the
//! Status board's rows picked by a click on their text, selections that
//! never hold a MAC the site no longer lists.

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gsprov::ids::Mac;
use gsprov::ui::{App, View};

use super::set_text;

fn mac(s: &str) -> Mac {
    s.parse().unwrap()
}

/// The demo app in a window wide enough to show the whole Status board (its
/// MAC and Model columns are past the right edge at 1400 points).
fn wide_app() -> Harness<'static, App> {
    let mut h =
        Harness::builder().with_size(egui::vec2(2400.0, 900.0)).build_eframe(|cc| App::new(&cc.egui_ctx, None, None));
    h.run_ok();
    h
}

/// A click on a board row's MAC or model text selects that row, as blank
/// space does (before, the text took the click for text selection).
#[test]
fn a_click_on_a_status_rows_text_selects_its_row() {
    let mut h = wide_app();
    h.state_mut().state.view = View::Status;
    h.run_ok();
    assert!(h.state().rt.selected.is_empty());
    h.get_by_label("00:0B:82:A1:B2:02").click();
    h.run_ok();
    assert_eq!(h.state().rt.selected, [mac("000b82a1b202")].into(), "the MAC's text");
    assert_eq!(h.state().rt.focus, Some(mac("000b82a1b202")));
    h.get_by_label("HT802").click();
    h.run_ok();
    assert_eq!(h.state().rt.selected, [mac("c074ada1b2f0")].into(), "the model's text");
}

/// Undoing "add device" takes its MAC out of the selection too: "Delete
/// selected" counts only devices the site has.
#[test]
fn undoing_an_added_device_takes_it_out_of_the_selection() {
    let mut h = wide_app();
    set_text(&mut h, "New device MAC:", "00:0B:82:12:34:56");
    set_text(&mut h, "Model:", "GXP2170");
    h.get_by_label("Add device").click();
    h.run_ok();
    assert_eq!(h.state().rt.selected, [mac("000b82123456")].into());
    h.get_by_label("Delete selected (1)");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_ok();
    assert!(h.state().doc.site.device(mac("000b82123456")).is_none(), "undone");
    assert!(h.state().rt.selected.is_empty(), "{:?}", h.state().rt.selected);
    assert_eq!(h.state().rt.focus, None);
    h.get_by_label("Delete selected (0)");
    // Redo brings the device back, not the selection: nothing is picked by itself.
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_ok();
    assert!(h.state().doc.site.device(mac("000b82123456")).is_some(), "redone");
    h.get_by_label("Delete selected (0)");
}

/// The checklist's box for `step` is ticked (or not).
fn ticked(h: &Harness<'static, App>, step: &str) -> bool {
    use egui::accesskit::{Role, Toggled};
    use egui_kittest::kittest::NodeT;
    h.get_by_role_and_label(Role::CheckBox, step).accesskit_node().toggled() == Some(Toggled::True)
}

/// "Firmware folder found" ticks by itself once the technician creates the
/// folder and puts an image in it (before, only after "Read the folder again"
/// in the Firmware view: the checklist kept the first listing).
#[test]
fn the_checklist_sees_a_firmware_folder_created_after_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = wide_app();
    h.state_mut().doc.path = Some(dir.path().join("site.gsprov.toml"));
    h.state_mut().doc.edit(|site| site.serving.firmware_dir = "firmware".into());
    super::wait_for(&mut h, "the first listing", |a| a.rt.firmware.current(&a.doc).is_some());
    assert!(!ticked(&h, "Firmware folder found"), "no folder yet");
    let missing = |a: &App| a.rt.firmware.problems(&a.doc).iter().any(|i| i.to_string().contains("does not exist"));
    assert!(missing(h.state()), "{:?}", h.state().rt.firmware.problems(&h.state().doc));
    // The status bar counts the missing folder, as `gsprov check` would.
    let checked = |h: &Harness<'static, App>| {
        let s = h.state();
        let site = s.doc.path.as_deref();
        let interfaces = &s.rt.serving.interfaces;
        let known = if interfaces.is_empty() { Err("not in yet".to_string()) } else { Ok(interfaces.as_slice()) };
        gsprov::session::site_issues(site, &s.doc.site, known).len()
    };
    let before = checked(&h);
    h.get_by_label(&format!("0 error(s), {before} warning(s)"));

    let fw = dir.path().join("firmware");
    std::fs::create_dir(&fw).unwrap();
    let image = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/firmware/ht802fw.bin");
    std::fs::copy(image, fw.join("ht802fw.bin")).unwrap();
    super::wait_for(&mut h, "the folder read again", |a| {
        a.rt.firmware.current(&a.doc).is_some_and(|l| l.problem.is_none()) && a.rt.firmware.problems(&a.doc).is_empty()
    });
    assert!(ticked(&h, "Firmware folder found"));
    // ... and no longer counts it: one warning fewer, as `gsprov check` says now.
    let after = checked(&h);
    assert_eq!(after, before - 1);
    h.get_by_label(&format!("0 error(s), {after} warning(s)"));
    assert_eq!(h.state().rt.firmware.current(&h.state().doc).unwrap().files().len(), 1);
}
