//! Issue 27 items 8, 9, 10, 16 and 17: tables picked by a click on their
//! text, warnings before the click, forms that stay put while typing, CSV
//! line numbers as Excel counts them, and the key grid's fill hints.

use egui_kittest::kittest::Queryable;
use gsprov::ids::Mac;
use gsprov::ui::View;

use super::app;

fn mac(s: &str) -> Mac {
    s.parse().unwrap()
}

/// Item 8: a click on a device's MAC, label or model text selects its row
/// (before, only blank cell space did: the text took the click for text
/// selection); Ctrl+click on text adds to the selection.
#[test]
fn a_click_on_a_devices_text_selects_its_row() {
    let mut h = app();
    assert!(h.state().rt.selected.is_empty());
    h.get_by_label("Reception").click();
    h.run_ok();
    assert_eq!(h.state().rt.selected, [mac("000b82a1b201")].into(), "the label's text");
    assert_eq!(h.state().rt.focus, Some(mac("000b82a1b201")));
    h.get_by_label("00:0B:82:A1:B2:02").click();
    h.run_ok();
    assert_eq!(h.state().rt.selected, [mac("000b82a1b202")].into(), "the MAC's text");
    h.get_by_label("HT802").click_modifiers(egui::Modifiers::COMMAND);
    h.run_ok();
    assert_eq!(h.state().rt.selected, [mac("000b82a1b202"), mac("c074ada1b2f0")].into(), "the model's text, Ctrl");
    h.get_by_label("Delete selected (2)");
    assert_eq!(h.state().state.view, View::Devices);
}
