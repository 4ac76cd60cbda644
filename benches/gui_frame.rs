//! Frame cost of the desktop app with a big site: 1,000 devices and 50,000 rows
//! in the live log. Drives the real `App` through egui_kittest (no window), times
//! each frame (the egui pass plus tessellation of its output) in CPU time of the
//! UI thread (so other load on the machine does not count), and reports p50, p95
//! and max per view, wall-clock p95 beside it, and the process's resident memory.
//!
//! The Parameters form is also timed on a GRP2612W device's "All parameters"
//! (its family's ~1,600 template settings, every section open), with a search,
//! while a search is typed, and in the bring-up view (issue 12).
//!
//! `cargo bench --bench gui_frame` (targets from the GUI issue: p95 < 4 ms, RSS < 150 MB).

#[path = "support/bigsite.rs"]
mod bigsite;

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use egui_kittest::Harness;
use gsprov::serving::{Outcome, Protocol, Refusal, RequestRecord};
use gsprov::site::Layer;
use gsprov::ui::{App, FormView, View};

/// CPU time consumed by this thread, in milliseconds.
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    #[expect(unsafe_code, reason = "std has no per-thread CPU clock; the bench measures the UI thread's own time")]
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant the kernel knows.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts)
    };
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

fn record(i: u64, site: &gsprov::site::Site) -> RequestRecord {
    let d = &site.devices[i as usize % site.devices.len()];
    let served = !i.is_multiple_of(4);
    RequestRecord {
        id: i,
        time: SystemTime::now() - Duration::from_millis(50_000u64.saturating_sub(i)),
        client: SocketAddr::from(([10, 0, (i / 250 % 250) as u8, (i % 250) as u8], 5060)),
        protocol: if i.is_multiple_of(3) { Protocol::Tftp } else { Protocol::Http },
        method: "GET".into(),
        path: format!("/cfg{}.xml", d.mac),
        user_agent: None,
        model: Some(d.model.clone()),
        firmware: Some("1.0.11.3".into()),
        mac: Some(d.mac),
        file: Some(format!("cfg{}.xml", d.mac)),
        kind: None,
        outcome: if served { Outcome::Served } else { Outcome::Refused { reason: Refusal::NotFound, expected: true } },
        status: gsprov::serving::Wire::Http(if served { 200 } else { 404 }),
        bytes: if served { 2048 } else { 0 },
        size: Some(2048),
        duration: Duration::from_millis(3),
        explanation: if served {
            "served".into()
        } else {
            "this 404 is expected: devices probe cfg<mac> before cfg<mac>.xml".into()
        },
        lease: None,
        self_test: false,
    }
}

/// The views whose frames are timed with a big site.
const VIEWS: [(&str, View); 5] = [
    ("devices", View::Devices),
    ("parameters", View::Parameters),
    ("live log", View::Log),
    ("status", View::Status),
    ("files", View::Files),
];

/// Times 200 frames of what the app shows now (after 5 warm-up frames, in
/// which caches fill), calling `tick` before each, and prints one row.
fn measure(h: &mut Harness<'static, App>, name: &str, mut tick: impl FnMut(&mut Harness<'static, App>, usize)) {
    for _ in 0..5 {
        h.step();
    }
    let mut times: Vec<f64> = Vec::with_capacity(200);
    let mut walls: Vec<f64> = Vec::with_capacity(200);
    for i in 0..200 {
        tick(h, i);
        let t = Instant::now();
        let c = thread_cpu_ms();
        h.step();
        let out = h.output();
        let shapes = out.shapes.clone();
        let ppp = out.pixels_per_point;
        let _meshes = h.ctx.tessellate(shapes, ppp);
        times.push(thread_cpu_ms() - c);
        walls.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    walls.sort_by(f64::total_cmp);
    let pct = |v: &[f64], p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    println!(
        "{name:<12} {:>7} {:>8.2} {:>8.2} {:>8.2} {:>9.2}",
        times.len(),
        pct(&times, 0.5),
        pct(&times, 0.95),
        times[times.len() - 1],
        pct(&walls, 0.95)
    );
}

fn main() {
    gsprov::ui::init_local_offset();
    let before = rss_kb("VmRSS:");
    let mut h =
        Harness::builder().with_size(egui::vec2(1360.0, 820.0)).build_eframe(|cc| App::new(&cc.egui_ctx, None, None));
    let site = bigsite::big_site(1000, gsprov::site::Encrypt::DeviceFiles);
    let log: Vec<RequestRecord> = (0..50_000).map(|i| record(i, &site)).collect();
    let output = gsprov::generate::generate(&site, &mut || [0; 8]).expect("the bench site generates");
    let served = gsprov::serving::Served::new(&site, &output);
    {
        let app = h.state_mut();
        app.rt.serving.status.set_known(&served);
        app.doc = gsprov::ui::Doc::new(site, None);
        for r in log {
            app.rt.serving.status.apply(&r);
            app.rt.serving.log.push(r);
        }
        app.rt.serving.log_generation += 1;
    }
    let first_mac = h.state().doc.site.devices[0].mac;
    println!("view          frames  cpu p50  cpu p95  cpu max  wall p95   (ms)");
    for (name, view) in VIEWS {
        {
            let app = h.state_mut();
            app.state.view = view;
            app.rt.focus = Some(first_mac);
            app.rt.level = Layer::Device(first_mac);
        }
        measure(&mut h, name, |h, i| {
            if view == View::Log && i % 20 == 0 {
                // New requests arrive while following the tail.
                let n = h.state().rt.serving.log.len() as u64;
                let r = record(n, &h.state().doc.site);
                let app = h.state_mut();
                app.rt.serving.log.push(r);
                app.rt.serving.log_generation += 1;
            }
        });
    }
    // Issue 12: the form of a GRP2612W device lists its family's template
    // settings (GRP26xx, ~1,600): every section open, with a search, and
    // while a search is being typed (the list is rebuilt on each keystroke).
    let grp = h.state().doc.site.devices.iter().find(|d| d.model.as_str() == "GRP2612W").map(|d| d.mac);
    let grp = grp.expect("the bench site has GRP2612W devices");
    {
        let app = h.state_mut();
        app.state.view = View::Parameters;
        app.rt.level = Layer::Device(grp);
        app.rt.params.view = FormView::All;
        app.rt.params.all_open = Some(true);
    }
    measure(&mut h, "params all", |_, _| {});
    h.state_mut().rt.params.find = "qos".into();
    measure(&mut h, "params find", |_, _| {});
    measure(&mut h, "params type", |h, i| {
        h.state_mut().rt.params.find = if i % 2 == 0 { "sys".into() } else { "syslog".into() };
    });
    {
        let p = &mut h.state_mut().rt.params;
        p.find.clear();
        p.view = FormView::BringUp;
        p.all_open = None;
    }
    measure(&mut h, "params bring", |_, _| {});
    h.state_mut().rt.level = Layer::Device(first_mac);
    // Idle: nothing arrives. A real window draws a frame only when the app
    // asks for one; count the frames it asks for in one second per view
    // (target ~0: an idle window costs ~0 CPU, issue 10).
    println!("view          idle frames per second (nothing happening)");
    for (name, view) in VIEWS.into_iter().chain([("firmware", View::Firmware), ("server", View::Server)]) {
        h.state_mut().state.view = view;
        for _ in 0..10 {
            h.step();
        }
        let (t0, mut frames) = (Instant::now(), 0u32);
        while t0.elapsed() < Duration::from_secs(1) {
            if !h.ctx.has_requested_repaint() {
                // Asked for nothing: a window would sleep until input or an event.
                break;
            }
            h.step();
            frames += 1;
        }
        println!("{name:<12} {frames:>7}");
    }
    let rss = rss_kb("VmRSS:");
    let hwm = rss_kb("VmHWM:");
    println!("resident memory: {} MB now, {} MB peak (process start {} MB)", rss / 1024, hwm / 1024, before / 1024);
}
