//! Server events, the live log's chart and the demo's firmware, as the app
//! shows them (issue 27 items 4, 5 and 19).

use super::*;

use gsprov::event::Event;
use gsprov::generate::FileKind;
use gsprov::serving::status::Status;
use gsprov::serving::{ContentKind, Outcome, Protocol, Refusal, RequestRecord, Wire};
use gsprov::ui::inbox;

/// Request `i` of a flood: the site's phones fetching their files, and a
/// hostile host asking for 1,000 fake MACs' files over and over (404s,
/// unassigned devices).
fn flood_record(i: u64, phones: &[gsprov::ids::Mac]) -> RequestRecord {
    let time = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + i / 1000);
    if i.is_multiple_of(4) {
        let mac = phones[(i / 4) as usize % phones.len()];
        let name = format!("cfg{mac}.xml");
        let client = std::net::SocketAddr::from(([127, 0, 0, 10 + (i / 4 % 100) as u8], 5000));
        RequestRecord {
            mac: Some(mac),
            file: Some(name.clone()),
            kind: Some(ContentKind::Config(FileKind::DeviceXml)),
            status: Wire::Http(200),
            bytes: 900,
            explanation: "served".into(),
            ..RequestRecord::new(i, time, client, Protocol::Http, "GET", &format!("/{name}"))
        }
    } else {
        let fake: gsprov::ids::Mac = format!("000b82{:06x}", 0x10_0000 + i % 1000).parse().unwrap();
        let client = std::net::SocketAddr::from(([127, 0, 0, 66], (i % 60000) as u16 + 1024));
        RequestRecord {
            mac: Some(fake),
            outcome: Outcome::Refused { reason: Refusal::NotFound, expected: false },
            status: Wire::Http(404),
            explanation: "not in the served set".into(),
            ..RequestRecord::new(i, time, client, Protocol::Http, "GET", &format!("/cfg{fake}.xml"))
        }
    }
}

fn minimise(h: &mut Harness<'static, App>, minimised: bool) {
    let info = h.input_mut().viewports.entry(egui::ViewportId::ROOT).or_default();
    info.minimized = Some(minimised);
    info.occluded = Some(false);
}

#[test]
fn a_request_flood_while_minimised_stays_bounded_and_the_board_is_right_when_the_window_returns() {
    const FLOOD: u64 = 200_000;
    let (mut h, _addr) = app_started_on_loopback();
    h.state_mut().state.view = View::Status;
    h.run_ok();
    let phones: Vec<gsprov::ids::Mac> = h.state().doc.site.devices.iter().map(|d| d.mac).collect();
    // The fold the board must equal: the board's status as serving began,
    // with every record of the flood folded in order.
    let mut expected: Status = h.state().rt.serving.status.clone();
    for i in 0..FLOOD {
        expected.apply(&flood_record(i, &phones));
    }
    let inbox = h.state().rt.serving.inbox().expect("the control thread runs");
    minimise(&mut h, true);
    // The servers' side: as fast as it can, from another thread.
    let producer = {
        let (inbox, phones) = (inbox.clone(), phones.clone());
        std::thread::Builder::new()
            .name("flood".into())
            .spawn(move || {
                for i in 0..FLOOD {
                    inbox.push(Event::Completed(flood_record(i, &phones)));
                }
            })
            .unwrap()
    };
    // The window's side: logic-only passes (eframe runs one at most every
    // 100 ms while minimised; here as fast as the harness steps).
    let mut passes = 0;
    let mut most_queued = 0;
    while !producer.is_finished() {
        most_queued = most_queued.max(inbox.len());
        h.step();
        passes += 1;
        assert!(h.state().rt.serving.log.len() <= gsprov::ui::serving::MAX_LOG);
    }
    producer.join().unwrap();
    // One pass with no frame drawn folds everything queued, not 2 ms' worth.
    h.step();
    assert!(inbox.is_empty(), "{} events left after a pass while minimised", inbox.len());
    let counts = inbox.counts();
    assert!(counts.pushed >= FLOOD, "{counts:?}");
    assert!(counts.peak <= inbox::CAPACITY, "the queue grew past its bound: {counts:?}");
    assert!(most_queued <= inbox::CAPACITY);
    eprintln!("{FLOOD} requests in {passes} passes; most queued at once {}, {counts:?}", counts.peak);

    // The window returns: the board is the fold of every request.
    minimise(&mut h, false);
    h.run_ok();
    let sv = &h.state().rt.serving;
    assert_eq!(sv.status.summary(), expected.summary());
    for mac in &phones {
        let (got, want) = (sv.status.device(*mac).unwrap(), expected.device(*mac).unwrap());
        assert_eq!((got.state, got.configured(), got.ip), (want.state, want.configured(), want.ip), "{mac}");
    }
    // The fake MACs asked for (i % 1000 for i not a multiple of 4): 750.
    assert_eq!(sv.status.summary().unassigned, 750);
    // The live log keeps the newest requests and says how many it let go.
    assert!(sv.log.len() <= gsprov::ui::serving::MAX_LOG);
    assert_eq!(sv.log.last().unwrap().id, FLOOD - 1);
    let listed = sv.log.len() as u64 + sv.log_dropped;
    let before = listed - FLOOD;
    assert!(before < 100, "the log holds the start's requests and the flood: {listed}");
    let requests = expected.summary().requests;
    h.get_by_label_contains(&format!("{requests} requests"));
    h.state_mut().state.view = View::Log;
    h.run_ok();
    h.get_by_label_contains("older ones are counted on the board, not listed here");
}

#[test]
fn the_firmware_view_marks_the_demo_images_and_names_the_grp2612w_file() {
    let mut h = app();
    h.state_mut().state.view = View::Firmware;
    h.run_ok();
    // Each of the demo's four synthetic images says what it is, none "complete".
    assert_eq!(h.query_all_by_label("demo image: synthetic, no device accepts it").count(), 4);
    assert_eq!(h.query_all_by_label("complete").count(), 0);
    // GRP2612W (GRP261x) asks for grp2610fw.bin: known, just not in the demo folder.
    assert!(h.query_by_label_contains("does not know which firmware file GRP2612W").is_none());
    h.get_by_label_contains("no complete grp2610fw.bin in the folder");
}
