//! Server panel: where and how to serve (bind address, TFTP/HTTP/HTTPS ports and
//! switches, known-MACs-only, authentication, serving window), start/stop, the
//! URLs and DHCP option-66 strings to give devices, the HTTPS fingerprint, and
//! clear error banners with the fix.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

use super::serving::{ServerState, guess_advertise};
use super::{Action, Doc, Runtime};
use crate::event::Command;
use crate::formats::dhcp::option66_snippets;
use crate::serving::{Policy, Protocol, Window, address};
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
    Action::Serve(Request::Start {
        site: Box::new(doc.site.clone()),
        site_path: doc.path.clone(),
        policy,
        pnp,
        syslog: rt.serving.syslog,
        known: crate::session::known_firmware(&rt.serving.status),
        dhcp: dhcp_config(rt),
    })
}

/// The bench DHCP server on the advertised interface, when asked for.
fn dhcp_config(rt: &Runtime) -> Option<Box<crate::event::BenchDhcpConfig>> {
    if !rt.serving.dhcp {
        return None;
    }
    let iface = rt.serving.interfaces.iter().find(|i| i.ipv4.to_string() == rt.server.advertise.trim())?;
    let mut c = crate::event::BenchDhcpConfig::new(iface.clone());
    c.answer = rt.serving.dhcp_answer;
    Some(Box::new(c))
}

/// "Bench DHCP": the switch and whom it answers (set before starting); what
/// it does shows in the servers' lines above (running, or the red banner
/// with the other server and the option-66 lines to paste there).
fn bench_dhcp_ui(ui: &mut egui::Ui, rt: &mut Runtime, running: bool) {
    use crate::event::DhcpAnswer;
    ui.add_space(4.0);
    ui.label(egui::RichText::new("Bench DHCP").strong());
    let iface = rt.serving.interfaces.iter().find(|i| i.ipv4.to_string() == rt.server.advertise.trim()).cloned();
    ui.add_enabled_ui(!running, |ui| {
        ui.horizontal(|ui| {
            ui.add_enabled(
                iface.is_some(),
                egui::Checkbox::new(&mut rt.serving.dhcp, "Bench DHCP server on this interface"),
            )
            .on_hover_text(
                "For a staging bench with nothing else on it: hands out 20 addresses and option 66 = the URL \
                     below. It refuses to run where another DHCP server answers, and stops at once if one appears",
            );
            let names = [
                (DhcpAnswer::Grandstream, "Grandstream units"),
                (DhcpAnswer::Site, "the site's devices"),
                (DhcpAnswer::All, "every client"),
            ];
            let shown = names.iter().find(|(a, _)| *a == rt.serving.dhcp_answer).map_or("", |(_, n)| *n);
            let l = ui.label("answering");
            egui::ComboBox::from_id_salt("dhcp-answer")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for (a, n) in names {
                        ui.selectable_value(&mut rt.serving.dhcp_answer, a, n);
                    }
                })
                .response
                .labelled_by(l.id);
        });
    });
    if rt.serving.dhcp {
        ui.weak(
            "Needs a static address on this interface, and the same privilege as TFTP 69 for UDP 67 and 68 \
             (sudo or setcap); leases last 10 minutes and it stops by itself after 2 hours",
        );
    }
}

/// What stops them.
pub fn stop() -> Action {
    Action::Serve(Request::Supervisor(Command::Stop))
}

pub fn server_ui(ui: &mut egui::Ui, doc: &mut Doc, rt: &mut Runtime) -> Option<Action> {
    if rt.server.advertise.is_empty()
        && let Some(ip) = guess_advertise(&doc.site, &rt.serving.interfaces)
    {
        rt.server.advertise = ip.to_string();
    }
    if let Some(e) = &rt.serving.control_error {
        ui.colored_label(ui.visuals().error_fg_color, format!("The servers cannot run: {e}"));
        return None;
    }
    let running = rt.serving.running();
    let mut action = None;
    let mut point: Option<address::Suggestion> = None;
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
                    let mut syslog_on = rt.serving.syslog.is_some();
                    if ui
                        .checkbox(&mut syslog_on, "Syslog receiver")
                        .on_hover_text("Hear the devices: their syslog lines in the live log, per device (UDP)")
                        .changed()
                    {
                        rt.serving.syslog = syslog_on.then_some(514);
                    }
                    if let Some(port) = &mut rt.serving.syslog {
                        ui.horizontal(|ui| {
                            let l = ui.label("syslog port");
                            ui.add(egui::DragValue::new(port).range(0..=65535)).labelled_by(l.id);
                            if *port == 514 {
                                ui.weak(format!(
                                    "514, like TFTP 69, {}",
                                    crate::serving::privilege::low_port_needs(crate::serving::privilege::Os::HERE)
                                ));
                            }
                        });
                    } else {
                        ui.label("");
                    }
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
        if rt.serving.syslog.is_some() {
            syslog_here_ui(ui, doc, rt);
        }
        // The firmware folder as `gsprov check` and Start servers judge it,
        // before the click; while serving, what the start said.
        if !running && rt.serving.starting.is_none() {
            super::firmware::ensure_listing(doc, rt, false);
            for p in rt.firmware.problems(doc) {
                let color = match p.severity {
                    crate::site::Severity::Error => ui.visuals().error_fg_color,
                    crate::site::Severity::Warning => ui.visuals().warn_fg_color,
                };
                ui.colored_label(color, format!("Firmware folder: {}", p.message));
            }
        } else {
            for n in &rt.serving.notes {
                ui.colored_label(ui.visuals().warn_fg_color, n);
            }
        }
        if let Some(e) = &rt.serving.start_error {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        if let Some(r) = &rt.serving.window_closed {
            ui.colored_label(ui.visuals().warn_fg_color, format!("Serving window closed: {r}"));
        }
        for (p, state) in &rt.serving.servers {
            match state {
                ServerState::Running(a) if *p == Protocol::Dhcp => {
                    ui.label(format!("Bench DHCP answering on {a}; no other DHCP server answered"));
                }
                ServerState::Running(a) => {
                    ui.label(format!("{p} listening on {a}"));
                }
                ServerState::Failed(e) => {
                    // The bench DHCP server also stops while running (another server appeared).
                    let text = if *p == Protocol::Dhcp {
                        format!("Bench DHCP is off: {e}")
                    } else {
                        format!("{p} could not start: {e}")
                    };
                    egui::Frame::new().fill(ui.visuals().error_fg_color.gamma_multiply(0.15)).inner_margin(6.0).show(
                        ui,
                        |ui| {
                            ui.colored_label(ui.visuals().error_fg_color, text);
                        },
                    );
                }
            }
        }
        if let Some(c) = &rt.serving.certificate {
            certificate_line(ui, &format!("HTTPS certificate ({}) SHA-256:", c.key), &c.sha256);
            if let Some(f) = &c.fallback {
                certificate_line(ui, &format!("for clients without {} ({}) SHA-256:", c.key, f.key), &f.sha256)
                    .on_hover_text(format!("Served to clients that offer no {} (older phone firmware)", c.key));
            }
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
            if let Some(a) = super::discovered::discover_button(ui, doc, rt) {
                action = Some(a);
            }
        });
        bench_dhcp_ui(ui, rt, running);
        point = address_ui(ui, doc, rt);
        ui.horizontal(|ui| {
            let l = ui.label("This computer's address on the devices' LAN");
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
                ui.label("P237 pointing here");
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
            let bind: IpAddr = doc.site.serving.bind.trim().parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
            if let Some(a) = host
                .parse()
                .ok()
                .and_then(|ip| address::loopback_advice(ip, bind, &rt.serving.interfaces, rt.serving.running()))
            {
                ui.colored_label(ui.visuals().warn_fg_color, a);
            }
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
    if let Some(p) = point {
        // Site defaults, so every device inherits them (and the Parameters view
        // says "from defaults"); the edit regenerates the served files.
        doc.edit(|site| {
            for (key, value) in p.values() {
                site.defaults.set(key, &value);
            }
        });
        rt.server.advertise = p.interface.ipv4.to_string();
    }
    action
}

/// The syslog server and level the bring-up sets, for the devices to report here.
pub const SYSLOG_LEVEL: &str = "2";

/// "Point the devices' syslog here": sets the site defaults P207 (syslog
/// server: this computer's advertised address and the receiver's port) and
/// P208 (level 2, INFO in Grandstream's config templates), like any edit of
/// the defaults (the parameters view shows them as set in the site defaults).
fn syslog_here_ui(ui: &mut egui::Ui, doc: &mut Doc, rt: &mut Runtime) {
    let ip: Option<std::net::IpAddr> = rt.server.advertise.trim().parse().ok();
    // The running receiver's port (port 0 picks a free one at start), else the one set.
    let running = rt.serving.addresses().into_iter().find(|(p, _)| *p == Protocol::Syslog).map(|(_, a)| a.port());
    let port = running.or(rt.serving.syslog).filter(|p| *p != 0);
    let server = ip.zip(port).map(|(ip, port)| if port == 514 { ip.to_string() } else { format!("{ip}:{port}") });
    ui.horizontal(|ui| {
        let already = server.as_deref().is_some_and(|s| doc.site.defaults.get("P207") == Some(s))
            && doc.site.defaults.get("P208") == Some(SYSLOG_LEVEL);
        let hint = match &server {
            Some(s) => format!("Sets the site defaults P207 = {s} and P208 = {SYSLOG_LEVEL} (INFO); devices take them at their next fetch"),
            None if port.is_none() => "Start the servers first: port 0 picks a free port at start".to_string(),
            None => "Set \"Address the devices reach this computer at\" below first".to_string(),
        };
        if ui
            .add_enabled(server.is_some() && !already, egui::Button::new("Point the devices' syslog here (P207/P208)"))
            .on_hover_text(hint)
            .clicked()
            && let Some(s) = &server
        {
            doc.edit(|site| {
                site.defaults.set("P207", s);
                site.defaults.set("P208", SYSLOG_LEVEL);
            });
            rt.notice = Some((
                format!("Site defaults: P207 = {s}, P208 = {SYSLOG_LEVEL}; re-provision the devices to apply"),
                false,
                std::time::Instant::now(),
            ));
        }
        if already {
            ui.weak("the site's defaults already point the devices' syslog here");
        }
    });
}

/// What the files tell the devices (P212/P237/P192 of the site defaults),
/// checked against this computer's interfaces and the ports bound (or, before
/// start, configured); each mismatch in words, and the one-click fix.
fn address_ui(ui: &mut egui::Ui, doc: &Doc, rt: &Runtime) -> Option<address::Suggestion> {
    let d = &doc.site.defaults;
    let bound = bound_addresses(doc, rt);
    let shown = |k: &str| d.get(k).map_or_else(|| "(not set)".to_string(), str::to_string);
    let method = address::method(d.get("P212")).map(|p| format!(" ({p})")).unwrap_or_default();
    ui.label(format!(
        "The files tell devices: P212 = {}{method}, P237 = {}, P192 = {}",
        shown("P212"),
        shown("P237"),
        shown("P192")
    ));
    if rt.serving.interfaces.is_empty() {
        ui.weak("Checking them needs this computer's interfaces (listing…).");
        return None;
    }
    let setup = address_setup(doc, rt, &bound);
    let findings = address::check(&setup);
    for f in &findings {
        ui.colored_label(ui.visuals().warn_fg_color, f.to_string());
    }
    let fix = address::suggest(&setup).filter(|_| !findings.is_empty())?;
    let values: Vec<String> = fix.values().iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let advice = address::loopback_advice(
        IpAddr::V4(fix.interface.ipv4),
        setup.bind,
        &rt.serving.interfaces,
        rt.serving.running(),
    );
    // Beside the button, before the click: pointing the devices at loopback
    // points each of them at itself.
    ui.horizontal_wrapped(|ui| {
        let clicked = ui
            .button(fix.label())
            .on_hover_text(format!("Sets {} in the site defaults; the served files follow", values.join(", ")))
            .clicked();
        if let Some(a) = &advice {
            ui.colored_label(ui.visuals().warn_fg_color, a);
        }
        clicked
    })
    .inner
    .then_some(fix)
}

/// One served certificate: its key type and fingerprint, with a Copy button.
fn certificate_line(ui: &mut egui::Ui, label: &str, sha256: &str) -> egui::Response {
    ui.horizontal(|ui| {
        ui.label(label);
        ui.monospace(sha256);
        if ui.small_button("Copy").clicked() {
            ui.ctx().copy_text(sha256.to_string());
        }
    })
    .response
}

/// The file servers' addresses: as bound while they run, else as configured.
pub(super) fn bound_addresses(doc: &Doc, rt: &Runtime) -> Vec<(Protocol, SocketAddr)> {
    let s = &doc.site.serving;
    let bind: IpAddr = s.bind.trim().parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
    if rt.serving.running() {
        rt.serving.addresses().into_iter().filter(|(p, _)| Protocol::ALL.contains(p)).collect()
    } else {
        [
            (Protocol::Tftp, s.tftp, s.tftp_port),
            (Protocol::Http, s.http, s.http_port),
            (Protocol::Https, s.https, s.https_port),
        ]
        .into_iter()
        .filter(|(_, on, port)| *on && *port != 0)
        .map(|(p, _, port)| (p, SocketAddr::new(bind, port)))
        .collect()
    }
}

/// What the site's files tell the devices, set against this computer's
/// interfaces and `bound` ([`address::check`] says every miss).
pub(super) fn address_setup<'a>(
    doc: &'a Doc,
    rt: &'a Runtime,
    bound: &'a [(Protocol, SocketAddr)],
) -> address::Setup<'a> {
    let d = &doc.site.defaults;
    let s = &doc.site.serving;
    address::Setup {
        p212: d.get("P212"),
        p237: d.get("P237"),
        p192: d.get("P192"),
        p6767: d.get("P6767"),
        firmware_served: !s.firmware_dir.trim().is_empty(),
        bind: s.bind.trim().parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
        bound,
        interfaces: &rt.serving.interfaces,
    }
}
