//! Renders the real desktop app (eframe + glow) and saves screenshots of its
//! main views to `assets/screenshots/`, with servers running on loopback and
//! real requests in the live log. Needs a display; under Xvfb:
//! `xvfb-run -a -s "-screen 0 1400x900x24" cargo run --example screenshots`
//! (Debian packages: xvfb, xauth, libgl1-mesa-dri).
//!
//! Then, with the servers still running and nothing happening, it measures
//! what each view costs idle: the process's CPU time over 3 s in which the
//! app asks for no frame (a timer wakes it once at the end), printed as
//! "idle <view>: x.xx% of one core" (issue 10: an idle window costs ~0).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gsprov::ids::{Mac, Model};
use gsprov::services::client::{self, FetchOptions};
use gsprov::site::Layer;
use gsprov::ui::{App, FormView, View};

struct Shooter {
    app: App,
    out: PathBuf,
    step: usize,
    since: Instant,
    frames: u32,
    pending: Arc<Mutex<Option<Arc<egui::ColorImage>>>>,
    requested: bool,
    traffic: Option<std::thread::JoinHandle<()>>,
    /// The idle measurement under way: (view index, CPU seconds and time at
    /// the start of the phase, frames since, measuring rather than settling).
    idle: Option<(usize, f64, Instant, u32, bool)>,
}

/// How long each view is left idle.
const IDLE_FOR: Duration = Duration::from_secs(3);

/// The process's CPU time (user + system) in seconds, from /proc/self/stat
/// (fields 14 and 15, in the kernel's USER_HZ = 100 ticks per second).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces: count from after its ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // After ')': state (not a number, skipped), then ppid... utime is the 12th number.
    (f.get(10).copied().unwrap_or(0.0) + f.get(11).copied().unwrap_or(0.0)) / 100.0
}

/// (file name, view, device selected).
const SHOTS: [(&str, View, bool); 9] = [
    ("devices", View::Devices, false),
    ("form", View::Parameters, true),
    ("form-all", View::Parameters, true),
    ("form-defaults", View::Parameters, false),
    ("files", View::Files, true),
    ("firmware", View::Firmware, false),
    ("server", View::Server, false),
    ("live-log", View::Log, false),
    ("status", View::Status, false),
];

fn phone_traffic(addr: std::net::SocketAddr, tftp: std::net::SocketAddr) {
    let site = gsprov::site::demo();
    for d in &site.devices {
        let ua = client::grandstream_user_agent(&d.model, "1.0.11.3", d.mac);
        let opts = FetchOptions { user_agent: ua, ..FetchOptions::default() };
        for name in [format!("cfg{}", d.mac), format!("cfg{}.xml", d.mac), format!("cfg{}.xml", d.model.file_stem())] {
            let _ = client::fetch(&format!("http://{addr}/{name}"), &opts);
        }
    }
    // A unit that is not in the site, one digit off a known MAC, and a TFTP probe.
    let stray: Mac = "000b82a1b2ff".parse().unwrap();
    let model: Model = "GXP2135".parse().unwrap();
    let opts = FetchOptions {
        user_agent: client::grandstream_user_agent(&model, "1.0.7.97", stray),
        ..FetchOptions::default()
    };
    let _ = client::fetch(&format!("http://{addr}/cfg{stray}.xml"), &opts);
    let _ = client::fetch(&format!("tftp://{tftp}/cfg000b82a1b202"), &FetchOptions::default());
    let _ = client::fetch(&format!("http://{addr}/gxp2170fw.bin"), &opts);
}

impl eframe::App for Shooter {
    fn logic(&mut self, ctx: &egui::Context, frame: &mut eframe::Frame) {
        self.app.logic(ctx, frame);
        // While a view is measured idle, only the app itself may ask for frames.
        if self.idle.as_ref().is_none_or(|(_, _, _, _, measuring)| !measuring) {
            ctx.request_repaint_after(Duration::from_millis(50));
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        self.app.ui(ui, frame);
        self.frames += 1;
        let ctx = ui.ctx().clone();
        if self.step == 0 {
            // Wait for the servers, then play a morning's worth of phone requests.
            let addrs = self.app.rt.serving.addresses();
            let http = addrs.iter().find(|(p, _)| *p == gsprov::serving::Protocol::Http).map(|(_, a)| *a);
            let tftp = addrs.iter().find(|(p, _)| *p == gsprov::serving::Protocol::Tftp).map(|(_, a)| *a);
            if let (Some(http), Some(tftp), None) = (http, tftp, &self.traffic) {
                self.traffic = Some(
                    std::thread::Builder::new()
                        .name("phone traffic".into())
                        .spawn(move || phone_traffic(http, tftp))
                        .expect("start the phone traffic thread"),
                );
            }
            let done = self.traffic.as_ref().is_some_and(|t| t.is_finished());
            if done && self.app.rt.serving.log.len() >= 17 {
                self.step = 1;
                self.since = Instant::now();
            }
            assert!(self.since.elapsed() < Duration::from_secs(60), "servers or traffic did not come up");
            return;
        }
        let i = self.step - 1;
        if i >= SHOTS.len() {
            // Per view: show it and let it settle for a second (frames allowed),
            // then measure IDLE_FOR in which only the app may ask for a frame.
            let (v, cpu0, t0, frames, measuring) = self.idle.get_or_insert_with(|| (0, 0.0, Instant::now(), 0, false));
            *frames += 1;
            if *v >= SHOTS.len() {
                // Closing: frames may still come before the window goes.
                return;
            }
            if !*measuring {
                self.app.state.view = SHOTS[*v].1;
                if t0.elapsed() >= Duration::from_secs(1) {
                    *measuring = true;
                    *cpu0 = cpu_seconds();
                    *t0 = Instant::now();
                    *frames = 0;
                    let waker = ctx.clone();
                    std::thread::Builder::new()
                        .name("idle timer".into())
                        .spawn(move || {
                            let (_tx, rx) = std::sync::mpsc::channel::<()>();
                            let _ = rx.recv_timeout(IDLE_FOR + Duration::from_millis(100));
                            waker.request_repaint();
                        })
                        .expect("start the idle timer");
                }
                return;
            }
            if *frames == 1 && t0.elapsed() < Duration::from_millis(500) {
                // The frame the settling phase had already asked for (50 ms):
                // the measurement starts after it.
                *cpu0 = cpu_seconds();
                *t0 = Instant::now();
                return;
            }
            if t0.elapsed() < IDLE_FOR {
                return;
            }
            let cpu = cpu_seconds() - *cpu0;
            let secs = t0.elapsed().as_secs_f64();
            // The frame the timer caused is this one; the others the app asked for.
            println!(
                "idle {:<10} {:>5.2}% of one core ({} frames asked for in {secs:.1} s)",
                SHOTS[*v].0,
                cpu / secs * 100.0,
                frames.saturating_sub(2)
            );
            *v += 1;
            (*t0, *measuring) = (Instant::now(), false);
            if *v >= SHOTS.len() {
                self.app.stop_servers();
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            return;
        }
        let (name, view, select) = SHOTS[i];
        self.app.state.view = view;
        if view == View::Log {
            // The details pane open on the last miss, as a technician would read it.
            self.app.rt.log.selected =
                self.app.rt.serving.log.iter().rev().find(|r| !r.outcome.is_served()).map(|r| r.id);
        }
        // The form: the GXP2170's bring-up view, every section of the
        // GRP2612W open, and the site defaults with the family picker.
        let params = &mut self.app.rt.params;
        (params.view, params.all_open) = match name {
            "form-all" => (FormView::All, Some(true)),
            _ => (FormView::BringUp, None),
        };
        if name == "form-defaults" {
            self.app.rt.level = Layer::Defaults;
        }
        if select {
            let mac: Mac = if name == "form-all" { "c074ada1b203" } else { "000b82a1b201" }.parse().unwrap();
            self.app.rt.focus = Some(mac);
            self.app.rt.selected = [mac].into();
            self.app.rt.level = Layer::Device(mac);
        }
        if let Some(img) = self.pending.lock().unwrap().take() {
            save_png(&self.out.join(format!("{name}.png")), &img);
            println!("saved {name}.png");
            self.step += 1;
            self.requested = false;
            self.since = Instant::now();
            return;
        }
        if !self.requested && self.since.elapsed() > Duration::from_millis(600) {
            let slot = self.pending.clone();
            ctx.request_screenshot(move |img| *slot.lock().unwrap() = Some(img));
            self.requested = true;
        }
    }
}

fn save_png(path: &std::path::Path, img: &egui::ColorImage) {
    let file = std::fs::File::create(path).expect("create screenshot file");
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), img.size[0] as u32, img.size[1] as u32);
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().expect("png header");
    let bytes: Vec<u8> = img.pixels.iter().flat_map(|c| c.to_array()).collect();
    w.write_image_data(&bytes).expect("png data");
}

fn main() -> eframe::Result {
    gsprov::ui::init_local_offset();
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "assets/screenshots".into()));
    std::fs::create_dir_all(&out).expect("screenshot folder");
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1360.0, 820.0]).with_title("gsprov"),
        persist_window: false,
        ..Default::default()
    };
    eframe::run_native(
        "gsprov-screenshots",
        options,
        Box::new(move |cc| {
            let mut app = App::new(&cc.egui_ctx, None, None);
            app.state.dark = true;
            app.doc.edit(|site| {
                let s = &mut site.serving;
                s.bind = "127.0.0.1".into();
                s.http_port = 0;
                s.tftp_port = 0;
                s.https = false;
            });
            app.start_servers();
            Ok(Box::new(Shooter {
                app,
                out,
                step: 0,
                since: Instant::now(),
                frames: 0,
                pending: Arc::new(Mutex::new(None)),
                requested: false,
                traffic: None,
                idle: None,
            }))
        }),
    )
}
