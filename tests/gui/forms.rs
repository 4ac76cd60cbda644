//! Issue 27 items 8, 9, 10, 16 and 17: tables picked by a click on their
//! text, warnings before the click, forms that stay put while typing, CSV
//! line numbers as Excel counts them, and the key grid's fill hints.

use egui_kittest::kittest::Queryable;
use gsprov::ids::Mac;
use gsprov::ui::View;

use super::{app, set_text};

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

/// The rect of the widget labelled `label`.
fn rect_of(h: &egui_kittest::Harness<'static, gsprov::ui::App>, label: &str) -> egui::Rect {
    h.get_by_label(label).rect()
}

/// Item 9: with the servers listening on loopback, "Point devices at this
/// computer" and the option-66 lines say before any click that no device
/// reaches 127.0.0.1, and what to choose instead; picking the LAN interface
/// takes the option-66 warning away.
#[test]
fn pointing_devices_at_loopback_is_warned_of_before_the_click() {
    use gsprov::serving::discovery::NetInterface;
    let (mut h, addr) = super::app_started_on_loopback();
    // A LAN interface beside loopback, whatever this machine has (nothing is sent to it).
    h.state_mut().rt.serving.interfaces = vec![
        NetInterface::new("lo", std::net::Ipv4Addr::LOCALHOST, 8),
        NetInterface::new("eth0", std::net::Ipv4Addr::new(10, 0, 0, 2), 24),
    ];
    h.run_ok();
    let button = format!("Point devices at this computer (lo 127.0.0.1, HTTP {})", addr.port());
    h.get_by_label(&button);
    let warning =
        "127.0.0.1 is a loopback address: every device is its own 127.0.0.1, so none would reach this computer";
    let choose = "Choose instead: stop the servers, set \"Listen on address\" to 0.0.0.0 (every interface) or to \
                  10.0.0.2, then pick eth0 10.0.0.2 under Interfaces.";
    // Beside the button and beside the option-66 lines, nothing clicked yet.
    assert_eq!(h.query_all_by_label_contains(warning).count(), 2);
    assert_eq!(h.query_all_by_label_contains(choose).count(), 2);
    h.get_by_label_contains("dhcp-option=66,\"http://127.0.0.1:");
    assert_eq!(h.state().doc.site.defaults.get("P237"), Some("192.168.10.5:8080"), "nothing set yet");

    // The LAN interface picked: the URLs and option-66 lines name it, without a warning.
    h.get_by_label("eth0 10.0.0.2/24").click();
    h.run_ok();
    assert_eq!(h.state().rt.server.advertise, "10.0.0.2");
    h.get_by_label_contains("dhcp-option=66,\"http://10.0.0.2:");
    assert_eq!(h.query_all_by_label_contains(warning).count(), 1, "only the button's (the servers listen on lo)");
    h.state_mut().stop_servers();
    super::wait_for(&mut h, "the servers to stop", |a| !a.rt.serving.running());
}

/// Item 10: what the Devices view says of the typed MAC and model appears on
/// a line that is always there: neither the MAC field nor what is below moves.
#[test]
fn the_add_device_form_does_not_move_while_a_bad_mac_is_typed() {
    let mut h = app();
    let (mac, below) = (rect_of(&h, "New device MAC:"), rect_of(&h, "Extensions from"));
    h.get_by_label_contains("type the MAC from the label");
    set_text(&mut h, "New device MAC:", "00:0B:82:12:34");
    h.get_by_label_contains("has 10 hex digits");
    set_text(&mut h, "Model:", "GXP2170!");
    h.get_by_label_contains("Model: letters and digits only");
    assert_eq!((rect_of(&h, "New device MAC:"), rect_of(&h, "Extensions from")), (mac, below));
    set_text(&mut h, "New device MAC:", "00:0B:82:12:34:56");
    h.get_by_label_contains("valid: 00:0B:82:12:34:56");
    assert_eq!((rect_of(&h, "New device MAC:"), rect_of(&h, "Extensions from")), (mac, below));
}

fn keys_of_the_gxp2170_template() -> egui_kittest::Harness<'static, gsprov::ui::App> {
    let mut h = app();
    h.get_by_label("Parameters").click();
    h.run_ok();
    h.get_by_label("GXP2170  (1)").click();
    h.run_ok();
    h.get_by_label("Programmable keys (0 set)").click();
    h.run_ok();
    h
}

/// Item 10: a key problem appearing as a key is typed shows below the grid,
/// and the fill's message on a line of its own: the rows stay put.
#[test]
fn the_key_grid_does_not_move_while_a_key_is_typed_or_filled() {
    let mut h = keys_of_the_gxp2170_template();
    let (row, first) = (rect_of(&h, "VPK 3 label"), rect_of(&h, "VPK 1 type"));
    // A label without a type is a problem of the site's check.
    set_text(&mut h, "VPK 3 label", "Anna");
    h.get_by_label_contains("VPK 3 has a label, value or account but no type");
    assert_eq!((rect_of(&h, "VPK 3 label"), rect_of(&h, "VPK 1 type")), (row, first));
    // The fill refused (no range): its message leaves the rows where they were.
    h.get_by_label("Fill").click();
    h.run_ok();
    h.get_by_label_contains("give the first and last key numbers (e.g. 1 to 6)");
    assert_eq!((rect_of(&h, "VPK 3 label"), rect_of(&h, "VPK 1 type")), (row, first));
}

/// Item 10: the DHCP override warning of P30 (the NTP server) shows beside
/// P30 with its fix, not above the form: the field stays under the pointer.
#[test]
fn the_ntp_field_does_not_move_when_its_dhcp_override_warning_appears() {
    let mut h = app();
    h.get_by_label("Parameters").click();
    h.run_ok();
    h.get_by_label("GXP2170  (1)").click();
    h.run_ok();
    set_text(&mut h, "Find parameter:", "P30");
    let field = rect_of(&h, "NTP Server  ·  P30");
    assert!(h.query_by_label("Set P144 = 0 at this level").is_none());
    set_text(&mut h, "NTP Server  ·  P30", "ntp.model.example");
    assert_eq!(h.state().doc.site.models["GXP2170"].get("P30"), Some("ntp.model.example"));
    h.get_by_label_contains("P30 is set here, but DHCP option 42 may override the NTP server");
    assert_eq!(rect_of(&h, "NTP Server  ·  P30"), field);
    h.get_by_label("Set P144 = 0 at this level").click();
    h.run_ok();
    assert_eq!(h.state().doc.site.models["GXP2170"].get("P144"), Some("0"));
    assert!(h.query_by_label_contains("DHCP option 42 may override").is_none());
    assert_eq!(rect_of(&h, "NTP Server  ·  P30"), field);
}

/// Item 16: the app numbers CSV lines as Excel and the text box do, header =
/// line 1, in an Excel file's CRLF line ends too (the 4th line is "line 4").
#[test]
fn csv_errors_in_the_app_name_the_line_excel_shows() {
    let mut h = app();
    h.get_by_label("Import CSV…").click();
    h.run_ok();
    let bad = "mac,model,label\r\n000b82c0ff01,GXP2170,A\r\n000b82c0ff02,GXP2170,B\r\n000b82c0ff,GXP2170,C\r\n";
    set_text(&mut h, "CSV text", bad);
    assert_eq!(h.state().rt.import.text, bad, "the text box keeps the CRLF line ends");
    h.get_by_label_contains("line 4, column mac");
    h.get_by_label("× 4");
    assert!(h.query_by_label_contains("line 3").is_none());
}

/// Item 17: the fill's boxes are empty (no grey values), and the grid says
/// which keys the site's XML version carries: with version 1, VPK 1 to 6.
#[test]
fn the_key_fill_says_which_keys_the_sites_xml_version_carries() {
    let mut h = keys_of_the_gxp2170_template();
    for label in ["keys", "to", "first value"] {
        assert_eq!(h.get_by_label(label).value().as_deref(), Some(""), "{label}");
    }
    h.get_by_label(
        "XML version 1 files (this site's) carry VPK 1 to 6; VPK 7 to 48 need XML version 2 (Site defaults > \
         provisioning settings)",
    );
    h.state_mut().doc.edit(|s| s.provisioning.xml_version = gsprov::formats::xml::Version::V2);
    h.run_ok();
    h.get_by_label("XML version 2 files (this site's) carry VPK 1 to 48");
    assert!(h.query_by_label_contains("need XML version").is_none());
}

/// Item 10, whatever the section: a finding that appears above the form as
/// a value is typed (here the security section's factory admin password)
/// scrolls the page by as much, so the field being typed in stays put.
#[test]
fn a_finding_appearing_above_the_form_does_not_move_the_field_being_typed_in() {
    let mut h = app();
    h.get_by_label("Parameters").click();
    h.run_ok();
    h.get_by_label("GXP2170  (1)").click();
    h.run_ok();
    set_text(&mut h, "Find parameter:", "P2");
    let label = h
        .query_all_by_label_contains("·  P2")
        .filter_map(|n| egui_kittest::kittest::NodeT::accesskit_node(&n).label())
        .find(|l| l.ends_with("·  P2"))
        .expect("the P2 field");
    let field = rect_of(&h, &label);
    assert!(h.query_by_label_contains("the admin password (P2) is set to the factory default").is_none());
    // Typed as a technician types: the field has the keyboard focus.
    h.get_by_label(&label).focus();
    h.run_ok();
    h.get_by_label(&label).type_text("admin");
    // Frame by frame, not only once all is settled: no frame shows it elsewhere.
    for _ in 0..4 {
        h.step();
        assert_eq!(rect_of(&h, &label), field);
    }
    h.run_ok();
    assert_eq!(h.state().doc.site.models["GXP2170"].get("P2"), Some("admin"));
    h.get_by_label_contains("the admin password (P2) is set to the factory default");
    assert_eq!(rect_of(&h, &label), field);
}
