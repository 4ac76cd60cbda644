//! Found walking a whole bring-up under Xvfb (issue 27's done-when): the
//! Status board's rows picked by a click on their text, selections that
//! never hold a MAC the site no longer lists.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gsprov::ids::Mac;
use gsprov::ui::{App, View};

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
