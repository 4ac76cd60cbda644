//! Server panel: where and how to serve (bind address, TFTP/HTTP/HTTPS ports and
//! switches, known-MACs-only, authentication, serving window), start/stop, the
//! URLs and DHCP option-66 strings to give devices, the HTTPS fingerprint, and
//! clear error banners with the fix.

use std::time::{Duration, SystemTime};

use super::serving::{ServerState, guess_advertise};
use super::{Action, Doc, Runtime};
use crate::event::Command;
use crate::formats::dhcp::option66_snippets;
use crate::serving::{Policy, Protocol, Window};
use crate::site::HttpAuth;
use crate::ui::control::Request;
use crate::ui::worker::Job;

/// Editing state of the panel.
#[derive(Default)]
pub struct ServerUi {
    pub advertise: String,
    pub window_minutes: String,
    pub until_all_configured: bool,
}

impl ServerUi {
    pub fn policy(&self, doc: &Doc) -> Policy {
        let stop = self
            .window_minutes
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|m| *m > 0)
            .map(|m| SystemTime::now() + Duration::from_secs(m * 60));
        Policy {
            known_macs_only: doc.site.serving.known_macs_only,
            window: Window { start: None, stop, until_all_configured: self.until_all_configured },
            auth: doc.site.serving.auth.clone().filter(|a| !a.username.is_empty()),
            allow_secrets_over_tftp: doc.site.serving.allow_secrets_over_tftp,
        }
    }
}

/// What starts the servers for the current site.
pub fn start(doc: &Doc, rt: &Runtime) -> Action {
    let policy = rt.server.policy(doc);
    let pnp = if rt.serving.pnp { rt.server.advertise.trim().parse().ok() } else { None };
    Action::Serve(Request::Start { site: Box::new(doc.site.clone()), site_path: doc.path.clone(), policy, pnp })
}

/// What stops them.
pub fn stop() -> Action {
    Action::Serve(Request::Supervisor(Command::Stop))
}

pub fn server_ui(ui: &mut egui::Ui, doc: &mut Doc, rt: &mut Runtime) -> Option<Action> {
    if rt.server.advertise.is_empty()
        && let Some(ip) = guess_advertise(&doc.site)
    {
        rt.server.advertise = ip.to_string();
    }
    if let Some(e) = &rt.serving.control_error {
        ui.colored_label(ui.visuals().error_fg_color, format!("The servers cannot run: {e}"));
        return None;
    }
    let running = rt.serving.running();
    let mut action = None;
    egui::ScrollArea::vertical().auto_shrink([false, false]).show(ui, |ui| {
        ui.heading("Serve this site");
        doc.edit_if(|site| {
            let mut changed = false;
            ui.add_enabled_ui(!running, |ui| {
                egui::Grid::new("serve-settings").num_columns(2).spacing([12.0, 6.0]).show(ui, |ui| {
                    let s = &mut site.serving;
                    let l = ui.label("Listen on address");
                    changed |= ui
                        .add(egui::TextEdit::singleline(&mut s.bind).desired_width(160.0).hint_text("0.0.0.0 = all"))
                        .labelled_by(l.id)
                        .changed();
                    ui.end_row();
                    for (name, on, port) in [
                        ("TFTP", &mut s.tftp, &mut s.tftp_port),
                        ("HTTP", &mut s.http, &mut s.http_port),
                        ("HTTPS", &mut s.https, &mut s.https_port),
                    ] {
                        changed |= ui.checkbox(on, name).changed();
                        ui.horizontal(|ui| {
                            let l = ui.label("port");
                            changed |= ui.add(egui::DragValue::new(port).range(0..=65535)).labelled_by(l.id).changed();
                            if name == "TFTP" && *port != 69 {
                                ui.weak("devices use port 69; other ports are for testing");
                            }
                        });
                        ui.end_row();
                    }
                    let l = ui.label("Firmware folder");
                    ui.horizontal(|ui| {
                        changed |= ui
                            .add(egui::TextEdit::singleline(&mut s.firmware_dir).desired_width(240.0))
                            .labelled_by(l.id)
                            .changed();
                        if ui.button("Choose…").clicked() {
                            action = Some(Action::Background(Job::PickFolder, "Choosing the firmware folder"));
                        }
                    });
                    ui.end_row();
                    changed |= ui
                        .checkbox(&mut s.known_macs_only, "Known MACs only")
                        .on_hover_text("Refuse config files to devices the site does not list")
                        .changed();
                    ui.end_row();
                    let mut auth_on = s.auth.is_some();
                    if ui.checkbox(&mut auth_on, "HTTP authentication").changed() {
                        s.auth = auth_on.then(HttpAuth::default);
                        changed = true;
                    }
                    if let Some(a) = &mut s.auth {
                        ui.horizontal(|ui| {
                            let l = ui.label("user");
                            changed |= ui
                                .add(egui::TextEdit::singleline(&mut a.username).desired_width(100.0))
                                .labelled_by(l.id)
                                .changed();
                            let l = ui.label("password");
                            changed |= ui
                                .add(egui::TextEdit::singleline(&mut a.password).password(true).desired_width(120.0))
                                .labelled_by(l.id)
                                .changed();
                        });
                    }
                    ui.end_row();
                    let l = ui.label("Stop serving configs after (minutes)");
                    ui.add(
                        egui::TextEdit::singleline(&mut rt.server.window_minutes)
                            .hint_text("never")
                            .desired_width(60.0),
                    )
                    .labelled_by(l.id);
                    ui.end_row();
                    ui.checkbox(&mut rt.server.until_all_configured, "…or once every known device is configured");
                    ui.end_row();
                });
            });
            changed
        });
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if running || rt.serving.starting.is_some() {
                if ui.add(egui::Button::new("Stop servers").min_size(egui::vec2(140.0, 28.0))).clicked() {
                    action = Some(stop());
                }
            } else if ui.add(egui::Button::new("Start servers").min_size(egui::vec2(140.0, 28.0))).clicked() {
                action = Some(start(doc, rt));
            }
            if let Some(t) = rt.serving.starting {
                ui.spinner();
                ui.label(format!("Generating files and starting… {:.1}s", t.elapsed().as_secs_f32()));
            }
            if let Some((files, bytes)) = rt.serving.files.filter(|_| running) {
                ui.label(format!("serving {files} files ({bytes} bytes)"));
            }
        });
        if let Some(e) = &rt.serving.start_error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let Some(r) = &rt.serving.window_closed {
            ui.colored_label(ui.visuals().warn_fg_color, format!("Serving window closed: {r}"));
        }
        for (p, state) in &rt.serving.servers {
            match state {
                ServerState::Running(a) => {
                    ui.label(format!("{p} listening on {a}"));
                }
                ServerState::Failed(e) => {
                    egui::Frame::new().fill(ui.visuals().error_fg_color.gamma_multiply(0.15)).inner_margin(6.0).show(
                        ui,
                        |ui| {
                            ui.colored_label(ui.visuals().error_fg_color, format!("{p} could not start: {e}"));
                        },
                    );
                }
            }
        }
        if let Some(c) = &rt.serving.certificate {
            ui.horizontal(|ui| {
                ui.label("HTTPS certificate SHA-256:");
                ui.monospace(&c.sha256);
                if ui.small_button("Copy").clicked() {
                    ui.ctx().copy_text(c.sha256.clone());
                }
            });
        }
        ui.separator();
        ui.heading("Tell the devices");
        if !rt.serving.interfaces_requested {
            action = Some(Action::Serve(Request::ListInterfaces));
            rt.serving.interfaces_requested = true;
        }
        ui.horizontal_wrapped(|ui| {
            ui.label("Interfaces:");
            for i in rt.serving.interfaces.clone() {
                let text = format!("{} {}/{}", i.name, i.ipv4, i.prefix);
                if ui.selectable_label(rt.server.advertise == i.ipv4.to_string(), text).clicked() {
                    rt.server.advertise = i.ipv4.to_string();
                }
            }
        });
        ui.horizontal(|ui| {
            ui.add_enabled_ui(!running, |ui| {
                ui.checkbox(&mut rt.serving.pnp, "Answer SIP plug-and-play (224.0.1.75) on this address")
                    .on_hover_text(
                        "Factory-fresh phones multicast a SUBSCRIBE at boot; gsprov answers with the URL below",
                    );
            });
            let iface =
                rt.serving.interfaces.iter().find(|i| i.ipv4.to_string() == rt.server.advertise.trim()).cloned();
            if rt.serving.discovering {
                if ui.button("Stop discovery").clicked() {
                    action = Some(Action::Serve(Request::Supervisor(Command::StopDiscovery)));
                    rt.serving.discovering = false;
                }
            } else {
                let r = ui
                    .add_enabled(iface.is_some(), egui::Button::new("Discover devices"))
                    .on_hover_text("mDNS browse and the neighbour table on this interface; no sweep, no DHCP probe");
                if let (true, Some(i)) = (r.clicked(), iface) {
                    let config = Box::new(crate::event::DiscoveryConfig::new(i));
                    action = Some(Action::Serve(Request::Supervisor(Command::StartDiscovery(config))));
                    rt.serving.discovering = true;
                }
            }
        });
        ui.horizontal(|ui| {
            let l = ui.label("Address the devices reach this computer at");
            ui.add(
                egui::TextEdit::singleline(&mut rt.server.advertise)
                    .hint_text("e.g. 192.168.10.5")
                    .desired_width(160.0),
            )
            .labelled_by(l.id);
        });
        let host = rt.server.advertise.trim().to_string();
        let s = &doc.site.serving;
        let mut urls: Vec<(Protocol, String)> = Vec::new();
        for (p, on, port) in [
            (Protocol::Http, s.http, s.http_port),
            (Protocol::Https, s.https, s.https_port),
            (Protocol::Tftp, s.tftp, s.tftp_port),
        ] {
            if !on || host.is_empty() {
                continue;
            }
            let port = match rt.serving.servers.get(&p) {
                Some(ServerState::Running(a)) => a.port(),
                _ => port,
            };
            let default = matches!((p, port), (Protocol::Http, 80) | (Protocol::Https, 443) | (Protocol::Tftp, 69));
            let hp = if default { host.clone() } else { format!("{host}:{port}") };
            urls.push((p, format!("{}://{hp}/", p.scheme())));
        }
        if urls.is_empty() {
            ui.weak("Type the address above to see the URLs.");
        }
        egui::Grid::new("urls").num_columns(3).show(ui, |ui| {
            for (p, u) in &urls {
                ui.label(format!("{p} URL"));
                ui.monospace(u);
                if ui.small_button("Copy").clicked() {
                    ui.ctx().copy_text(u.clone());
                }
                ui.end_row();
            }
            if let Some((_, u)) = urls.first() {
                let path = u.split_once("://").map(|(_, r)| r.trim_end_matches('/')).unwrap_or("");
                ui.label("P237 config server path");
                ui.monospace(path);
                if ui.small_button("Copy").clicked() {
                    ui.ctx().copy_text(path.to_string());
                }
                ui.end_row();
            }
        });
        if let Some((_, u)) = urls.first() {
            ui.add_space(4.0);
            ui.label("DHCP option 66 (devices on factory settings pick this up at boot):");
            egui::Grid::new("opt66").num_columns(3).show(ui, |ui| {
                for (server, line) in option66_snippets(u) {
                    ui.label(server);
                    ui.monospace(&line);
                    if ui.small_button("Copy").clicked() {
                        ui.ctx().copy_text(line.clone());
                    }
                    ui.end_row();
                }
            });
        }
    });
    action
}
