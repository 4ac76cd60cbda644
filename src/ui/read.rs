//! "Read from device" on the Status board (issue 28, part 2): on the
//! technician's click, the device's settings are read through the same
//! service `gsprov read-device` runs ([`crate::services::read_device`]), on a
//! background thread of its own, and shown beside the site's effective values
//! for that device, with "take into the site" per value or for every
//! difference, at the chosen layer (this device, its model template, the site
//! defaults), each one edit through [`Doc::edit`].
//!
//! Safety: nothing happens without a click and a confirmation. The address
//! comes from where `gsprov read-device` takes it: the device's last request
//! that passed the serving policy (the status), else the neighbour table,
//! looked up on the reading thread; never discovery's word, which comes from
//! packets anyone can send (PnP, mDNS). The admin password goes only where
//! the neighbour table confirms the address is the device's, or where the
//! technician ticked that he checked it (as Check device); one read per
//! device at a time, one login per click, a refusal is never retried. A password typed for a unit (a sticker password) is kept
//! for this run only, never shown, never logged.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::Duration;

use crate::formats::printable;
use crate::formats::webapi::{LoginRefused, Observed};
use crate::ids::Mac;
use crate::services::notify::Vouch;
use crate::services::read_device::{self as service, Report, Verdict};
use crate::site::{Layer, Site, Source};

use super::{Action, Doc, Runtime};

/// How long each step of a read waits for the device (as Check device).
const STEP: Duration = Duration::from_secs(5);

/// One read the technician confirmed.
struct Job {
    site: Box<Site>,
    mac: Mac,
    /// `None`: the neighbour table's entry for `mac`, looked up on the thread.
    ip: Option<IpAddr>,
    /// The web port; `None`: 80, as `gsprov read-device` without `--to ADDR:PORT`.
    port: Option<u16>,
    /// `None`: the site's P2.
    password: Option<String>,
    vouch: Vouch,
}

/// The reading thread: one read after another (so one session per device,
/// and never two devices logged in to at once), each result waking the UI.
/// Dropping it ends the thread after the read in hand (bounded: each step
/// waits at most [`STEP`]); joined when already done, else left to end by
/// itself, so closing the window never waits on a silent device.
struct Reader {
    jobs: Option<Sender<Job>>,
    results: Receiver<(Mac, Box<Report>)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Reader {
    fn start(wake: Arc<dyn Fn() + Send + Sync>) -> std::io::Result<Reader> {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (done, results) = mpsc::channel();
        let thread = std::thread::Builder::new().name("gsprov-read".into()).spawn(move || {
            let table = crate::services::neighbours::OsTable;
            for job in job_rx {
                let Some(device) = job.site.device(job.mac) else { continue };
                let found = match job.ip {
                    Some(ip) => Some((ip, job.vouch.clone())),
                    None => {
                        use crate::services::neighbours::NeighbourTable as _;
                        let entries = table.read().unwrap_or_default();
                        let ip = entries.iter().find(|n| n.mac == job.mac).map(|n| n.ip);
                        ip.map(|ip| (ip, Vouch::Learned("the neighbour table".into())))
                    }
                };
                let report = match found {
                    Some((ip, vouch)) => {
                        let pw = job.password.as_deref();
                        service::read(&service::target(&job.site, device, ip, job.port, pw, vouch), STEP, &table)
                    }
                    None => no_address(job.mac),
                };
                if done.send((job.mac, Box::new(report))).is_err() {
                    break;
                }
                wake();
            }
        })?;
        Ok(Reader { jobs: Some(jobs), results, thread: Some(thread) })
    }

    fn send(&self, job: Job) -> bool {
        self.jobs.as_ref().is_some_and(|j| j.send(job).is_ok())
    }
}

/// The read that did not happen: no request from the device passed the
/// serving policy and the neighbour table has no entry for it.
fn no_address(mac: Mac) -> Report {
    Report {
        explanation: format!(
            "not read: no address known for {}: it made no request that passed the serving policy and is not in the \
             neighbour table (addresses discovery heard from PnP or mDNS are not used: anyone can send those)",
            mac.colon()
        ),
        ..Report::unread(mac, std::net::SocketAddr::from(([0, 0, 0, 0], 0)))
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take()
            && t.is_finished()
        {
            let _ = t.join();
        }
    }
}

/// Where "take into the site" writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TakeTo {
    #[default]
    Device,
    Model,
    Defaults,
}

/// The confirmation before a read.
struct Confirm {
    mac: Mac,
    /// From its last request that passed the serving policy; `None`: the
    /// neighbour table's, looked up when the read starts.
    address: Option<IpAddr>,
    trust: bool,
}

/// The board's "Read from device" state.
#[derive(Default)]
pub struct ReadUi {
    reader: Option<Reader>,
    /// A row's button was clicked (handled after the table is drawn).
    clicked: Option<Mac>,
    confirm: Option<Confirm>,
    /// Reads sent and not answered yet: a device's button waits for its read.
    pending: BTreeSet<Mac>,
    /// The last read of each device, this run.
    pub results: BTreeMap<Mac, Report>,
    /// When each result came in (the row says "at" it: the site may have changed since).
    read_at: BTreeMap<Mac, std::time::SystemTime>,
    /// The device whose read the panel shows.
    pub shown: Option<Mac>,
    pub take_to: TakeTo,
    /// Show every value read, not only the differences.
    pub show_all: bool,
    /// Admin passwords typed for units this run (never saved, never shown).
    passwords: BTreeMap<Mac, String>,
}

impl ReadUi {
    /// Whether a read of `mac` is under way.
    pub fn reading(&self, mac: Mac) -> bool {
        self.pending.contains(&mac)
    }
}

/// The row's "Read" button and, once read, what came of it, where the click
/// was. The button says "Read"; its accessible name names the device.
pub fn row_button(ui: &mut egui::Ui, read: &mut ReadUi, mac: Mac) {
    let name = format!("Read {mac}");
    let named = |r: &egui::Response, enabled: bool| {
        r.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, enabled, &name));
    };
    if read.pending.contains(&mac) {
        let r = ui.add_enabled(false, egui::Button::new("Read").small());
        named(&r, false);
        ui.spinner();
        return;
    }
    let r = ui.small_button("Read").on_hover_text(format!(
        "Read from device {}: log in to its web API once and lay its settings beside the site's",
        mac.colon()
    ));
    named(&r, true);
    if r.clicked() {
        read.clicked = Some(mac);
    }
    if let Some(r) = read.results.get(&mac) {
        let (text, bad) = short_result(r);
        let text = match read.read_at.get(&mac) {
            Some(t) => format!("{}: {text}", super::serving::hms(*t)),
            None => text,
        };
        let color = if bad { ui.visuals().warn_fg_color } else { ui.visuals().text_color() };
        let shown = ui.add(egui::Label::new(egui::RichText::new(text).color(color)).sense(egui::Sense::click()));
        if shown.on_hover_text(format!("{}\n(click: show the read)", r.explanation)).clicked() {
            read.shown = Some(mac);
        }
    }
}

/// A read's outcome in a few words (the row), and whether it went wrong.
pub fn short_result(r: &Report) -> (String, bool) {
    match r.result {
        Verdict::Read => {
            let [_, differs, only, ..] = r.counts();
            (format!("{} differed", differs + only), false)
        }
        Verdict::Partial => ("read in part".into(), true),
        Verdict::SessionLost => ("session taken by another login".into(), true),
        Verdict::WrongPassword => match &r.refused {
            Some(LoginRefused::Wrong { attempts_left }) => {
                (format!("wrong password: {attempts_left} attempt(s) left"), true)
            }
            Some(LoginRefused::Locked) => ("login locked".into(), true),
            _ => ("login refused".into(), true),
        },
        Verdict::NoAnswer => ("no answer".into(), true),
        Verdict::Unreachable => ("unreachable".into(), true),
        Verdict::Unconfirmed => ("address unconfirmed: not read".into(), true),
        Verdict::Unknown => ("not read".into(), true),
    }
}

/// What the technician does next after a read that went wrong.
fn what_to_do(r: &Report) -> Option<&'static str> {
    Some(match r.result {
        Verdict::WrongPassword => match r.refused {
            Some(LoginRefused::Locked) => {
                "Wait until the unit unlocks its web login (5 to 15 minutes), then read again with the right password."
            }
            _ => {
                "Click Read again and type the unit's own admin password (units often carry it on a sticker): each \
                 Read is one attempt, and the unit locks its web login after a few wrong ones."
            }
        },
        Verdict::SessionLost => {
            "Someone is logged in to the unit's web page: log out there (the unit allows one web session at a time), \
             then Read again."
        }
        Verdict::Unconfirmed => {
            "Check that the address is this device's, then Read again and tick \"I checked this address\"."
        }
        Verdict::NoAnswer | Verdict::Unreachable => {
            "Check that the device is on and at this address, and that its web access is on (port 80)."
        }
        _ => return None,
    })
}

/// Handles clicks and results, and draws the confirmation and the panel.
pub fn read_ui(ctx: &egui::Context, doc: &mut Doc, rt: &mut Runtime) -> Option<Action> {
    if let Some(reader) = &rt.read.reader {
        while let Ok((mac, report)) = reader.results.try_recv() {
            rt.read.pending.remove(&mac);
            rt.read.results.insert(mac, *report);
            rt.read.read_at.insert(mac, std::time::SystemTime::now());
            rt.read.shown = Some(mac);
        }
    }
    if let Some(mac) = rt.read.clicked.take()
        && !rt.read.pending.contains(&mac)
    {
        let address = rt.serving.status.device(mac).and_then(|s| s.ip);
        rt.read.confirm = Some(Confirm { mac, address, trust: false });
        // The read compares against the device's served P192 (its firmware step): list the folder.
        super::firmware::ensure_listing(doc, rt, false);
    }
    confirm_ui(ctx, doc, rt);
    panel_ui(ctx, doc, rt);
    None
}

fn confirm_ui(ctx: &egui::Context, doc: &Doc, rt: &mut Runtime) {
    let Some(c) = &mut rt.read.confirm else { return };
    let mac = c.mac;
    let Some(device) = doc.site.device(mac) else {
        rt.read.confirm = None;
        return;
    };
    let label = if device.label.is_empty() { "-" } else { device.label.as_str() };
    let site_has_password = doc.site.effective(device).get("P2").is_some_and(|p| !p.is_empty());
    let password = rt.read.passwords.entry(mac).or_default();
    let mut decided = None;
    egui::Window::new(format!("Read from {}?", mac.colon())).collapsible(false).resizable(false).show(ctx, |ui| {
        match c.address {
            Some(ip) => {
                ui.label(format!("{label}  {}  at {ip} (from its last request that passed the policy)", mac.colon()))
            }
            None => ui.colored_label(
                ui.visuals().warn_fg_color,
                format!(
                    "{label}  {}: no request seen from it; its address is taken from the neighbour table when the \
                     read starts (discovery's PnP and mDNS addresses are not used: anyone can send those)",
                    mac.colon()
                ),
            ),
        };
        ui.weak(
            "One login to its web API, then its settings read: the full configuration dump where the unit offers \
             one, else short requests; nothing is written to the device. \
             The admin password is sent only where the neighbour table confirms the address is this device's; a \
             refused login is not tried again.",
        );
        ui.horizontal(|ui| {
            let l = ui.label("Admin password:");
            let hint = if site_has_password { "the site's P2" } else { "the unit's own (the site has none)" };
            ui.add(egui::TextEdit::singleline(password).password(true).hint_text(hint).desired_width(180.0))
                .labelled_by(l.id)
                .on_hover_text("Empty: the site's P2. Kept for this run only, never saved or shown.");
        });
        if c.address.is_some() {
            ui.checkbox(
                &mut c.trust,
                "I checked this address: send the password even where the neighbour table cannot confirm it",
            );
        }
        let ready = site_has_password || !password.is_empty();
        ui.horizontal(|ui| {
            if ui.add_enabled(ready, egui::Button::new("Read now")).clicked() {
                decided = Some(true);
            }
            if ui.button("Cancel").clicked() {
                decided = Some(false);
            }
        });
        if !ready {
            ui.weak("Type the unit's admin password: the site sets no P2 for this device.");
        }
    });
    let Some(go) = decided else { return };
    let c = rt.read.confirm.take().expect("drawn above");
    if !go {
        return;
    }
    let source = "the status (its last request that passed the serving policy)".to_string();
    let vouch =
        if c.trust { Vouch::Confirmed(format!("{source}, checked by the technician")) } else { Vouch::Learned(source) };
    let typed = rt.read.passwords.get(&mac).filter(|p| !p.is_empty()).cloned();
    if rt.read.reader.is_none() {
        let repaint = ctx.clone();
        match Reader::start(Arc::new(move || repaint.request_repaint())) {
            Ok(r) => rt.read.reader = Some(r),
            Err(e) => {
                let text = format!("Read from device: cannot start the reading thread: {e}");
                rt.notice = Some((text, true, std::time::Instant::now()));
                return;
            }
        }
    }
    let site = Box::new(served_site(doc, rt, mac));
    let job = Job { site, mac, ip: c.address, port: None, password: typed, vouch };
    if rt.read.reader.as_ref().is_some_and(|r| r.send(job)) {
        rt.read.pending.insert(mac);
    }
}

/// One value of the panel: what the device holds beside what the site gives it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub key: String,
    /// `None`: not readable, or a password (unknown).
    pub device: Option<String>,
    /// The site's effective value for the device now, and where it comes from.
    pub site: Option<(String, Source)>,
    pub secret: bool,
}

impl Line {
    /// The device holds a value the site does not give it.
    pub fn differs(&self) -> bool {
        match &self.device {
            Some(d) => self.site.as_ref().map(|(v, _)| v.trim()) != Some(d.trim()),
            None => false,
        }
    }

    /// Why this value cannot be taken into a layer, when it cannot.
    pub fn fixed_by(&self) -> Option<String> {
        match &self.site {
            Some((_, Source::Provisioning)) => {
                Some("set by the provisioning settings (file names): change it there".into())
            }
            Some((_, Source::Phonebook)) => Some("set by the site phonebook: change it there".into()),
            Some((_, Source::Account(n))) => {
                Some(format!("comes from account {n}: edit the account in the device form"))
            }
            _ => None,
        }
    }
}

/// The site as it is served to `mac` now ([`service::as_served`]: its P192
/// carries its firmware step), from the firmware folder as the servers list
/// it and the firmware the device last reported, as the Files view builds it.
fn served_site(doc: &Doc, rt: &Runtime, mac: Mac) -> Site {
    let empty = crate::serving::firmware::FirmwareListing::default();
    let listing = rt.firmware.current(doc).unwrap_or(&empty);
    let current = rt.serving.status.device(mac).and_then(|d| d.firmware.clone());
    service::as_served(&doc.site, mac, listing, current.as_deref())
}

/// The panel's lines for `report`, against what the device is served now
/// (`served`, [`served_site`]); each value's source is where the site sets it.
pub fn lines(site: &Site, served: &Site, report: &Report) -> Vec<Line> {
    let (Some(device), Some(served_device)) = (site.device(report.mac), served.device(report.mac)) else {
        return Vec::new();
    };
    let layered = site.effective(device);
    let eff = served.effective(served_device);
    report
        .observed
        .iter()
        .map(|row| {
            let (device, secret) = match &row.observed {
                Observed::Same { value } => (Some(value.clone()), false),
                Observed::Differs { device, .. } | Observed::OnlyOnDevice { device } => (Some(device.clone()), false),
                Observed::NotReadable => (None, false),
                Observed::Unknown => (None, true),
            };
            let site = eff.0.get(&row.key).map(|s| {
                let source = layered.0.get(&row.key).map_or(s.source.clone(), |l| l.source.clone());
                (s.value.clone(), source)
            });
            Line { key: row.key.clone(), device, site, secret }
        })
        .collect()
}

/// Sets `key = value` at `to` for device `mac`, so that the device gets it:
/// at the model or the defaults, the device's own value for it is removed
/// (it would hide the new one). Says what still hides it, if anything (a
/// model template over the defaults is left alone: other devices use it).
pub fn take(site: &mut Site, mac: Mac, key: &str, value: &str, to: TakeTo) -> Option<String> {
    let model = site.device(mac)?.model.clone();
    let layer = match to {
        TakeTo::Device => Layer::Device(mac),
        TakeTo::Model => Layer::Model(model.clone()),
        TakeTo::Defaults => Layer::Defaults,
    };
    let same_key = |k: &str| crate::site::canonical_key(k).is_ok_and(|c| c == key);
    let values = site.values_at_mut(&layer)?;
    values.0.retain(|k, _| !same_key(k));
    values.set(key, value);
    if to != TakeTo::Device
        && let Some(d) = site.device_mut(mac)
    {
        d.values.0.retain(|k, _| !same_key(k));
    }
    let now = site.effective(site.device(mac)?).get(key).map(str::to_string);
    (now.as_deref() != Some(value)).then(|| {
        format!(
            "{key} = {} was written, but {} still gives this device {}",
            printable(value),
            site.effective(site.device(mac).expect("checked"))
                .0
                .get(key)
                .map(|s| s.source.to_string())
                .unwrap_or_default(),
            now.map(|v| printable(&v).into_owned()).unwrap_or_else(|| "nothing".into())
        )
    })
}

fn take_to_text(to: TakeTo, model: &str) -> String {
    match to {
        TakeTo::Device => "this device".into(),
        TakeTo::Model => format!("its model template ({model})"),
        TakeTo::Defaults => "site defaults".into(),
    }
}

fn panel_ui(ctx: &egui::Context, doc: &mut Doc, rt: &mut Runtime) {
    let Some(mac) = rt.read.shown else { return };
    let served = &served_site(doc, rt, mac);
    let show_secrets = rt.show_secrets;
    let ReadUi { results, take_to, show_all, .. } = &mut rt.read;
    let (Some(report), Some(device)) = (results.get(&mac), doc.site.device(mac)) else {
        rt.read.shown = None;
        return;
    };
    let model = device.model.as_str().to_string();
    let label = device.label.clone();
    let all = lines(&doc.site, served, report);
    let differing: Vec<&Line> = all.iter().filter(|l| l.differs() && l.fixed_by().is_none()).collect();
    let mut open = true;
    let mut takes: Vec<(String, String)> = Vec::new();
    egui::Window::new(format!("Read from {}", mac.colon())).open(&mut open).default_size([720.0, 480.0]).show(
        ctx,
        |ui| {
            ui.label(format!("{label}  {}  {model}  at {}", mac.colon(), report.addr));
            let bad = !matches!(report.result, Verdict::Read);
            if bad {
                ui.colored_label(ui.visuals().warn_fg_color, &report.explanation);
            } else {
                ui.label(&report.explanation);
            }
            if let Some(todo) = what_to_do(report) {
                ui.strong(todo);
            }
            if all.is_empty() {
                return;
            }
            ui.separator();
            ui.horizontal(|ui| {
                ui.label("Take into:");
                for to in [TakeTo::Device, TakeTo::Model, TakeTo::Defaults] {
                    ui.radio_value(take_to, to, take_to_text(to, &model));
                }
            });
            ui.horizontal(|ui| {
                let n = differing.len();
                if ui
                    .add_enabled(n > 0, egui::Button::new(format!("Take all {n} difference(s) into the site")))
                    .on_hover_text("One edit: every value the device holds and the site does not give it")
                    .clicked()
                {
                    takes.extend(differing.iter().filter_map(|l| Some((l.key.clone(), l.device.clone()?))));
                }
                ui.checkbox(show_all, "Show every value read");
            });
            if differing.is_empty() && all.iter().all(|l| !l.differs()) {
                ui.label("No differences: the device holds what the site gives it.");
            }
            let cat = crate::catalog::Catalog::get();
            let shown: Vec<&Line> = all.iter().filter(|l| *show_all || l.differs()).collect();
            // Virtualised: "every value read" is over a thousand rows.
            let row_h = ui.spacing().interact_size.y + 4.0;
            egui_extras::TableBuilder::new(ui)
                .id_salt("read-lines")
                .striped(true)
                .max_scroll_height(320.0)
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                .column(egui_extras::Column::initial(200.0).clip(true))
                .column(egui_extras::Column::initial(230.0).clip(true))
                .column(egui_extras::Column::initial(250.0).clip(true))
                .column(egui_extras::Column::remainder().at_least(120.0).clip(true))
                .header(row_h, |mut h| {
                    for t in ["Setting", "On the device", "In the site", ""] {
                        h.col(|ui| {
                            ui.strong(t);
                        });
                    }
                })
                .body(|body| {
                    body.rows(row_h, shown.len(), |mut row| {
                        let l = shown[row.index()];
                        let hide = |v: &str| {
                            if l.secret && !show_secrets && !v.is_empty() {
                                "••••••••".to_string()
                            } else {
                                printable(v).into_owned()
                            }
                        };
                        row.col(|ui| {
                            let name = cat.lookup(&l.key).map(|p| p.short_label()).unwrap_or("");
                            ui.label(format!("{} {name}", l.key));
                        });
                        row.col(|ui| {
                            match (&l.device, l.secret) {
                                (_, true) => ui.weak("unknown (a password: the device keeps its own)"),
                                (None, false) => ui.weak("not readable"),
                                (Some(v), false) if l.differs() => {
                                    ui.colored_label(ui.visuals().warn_fg_color, format!("{} (differs)", hide(v)))
                                }
                                (Some(v), false) => ui.label(hide(v)),
                            };
                        });
                        row.col(|ui| {
                            match &l.site {
                                Some((v, from)) => ui.label(format!("{} ({from})", hide(v))),
                                None => ui.weak("not set"),
                            };
                        });
                        row.col(|ui| match (l.differs(), l.fixed_by(), &l.device) {
                            (true, None, Some(v)) => {
                                let hint = format!("Set {} = {} in {}", l.key, hide(v), take_to_text(*take_to, &model));
                                let take = ui.small_button(format!("Take {}", l.key)).on_hover_text(hint);
                                if take.clicked() {
                                    takes.push((l.key.clone(), v.clone()));
                                }
                            }
                            (true, Some(why), _) => {
                                ui.weak(why);
                            }
                            _ => {}
                        });
                    });
                });
        },
    );
    if !open {
        rt.read.shown = None;
    }
    if takes.is_empty() {
        return;
    }
    let to = rt.read.take_to;
    let notes: Vec<String> = doc.edit(|site| takes.iter().filter_map(|(k, v)| take(site, mac, k, v, to)).collect());
    let text = match notes.len() {
        0 => format!("Took {} value(s) from {} into {}", takes.len(), mac.colon(), take_to_text(to, &model)),
        _ => notes.join("; "),
    };
    rt.notice = Some((text, !notes.is_empty(), std::time::Instant::now()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(mac: Mac, rows: &[(&str, Observed)]) -> Report {
        Report {
            result: Verdict::Read,
            logins: 1,
            requests: 1,
            observed: rows.iter().map(|(k, o)| service::Row { key: (*k).to_string(), observed: o.clone() }).collect(),
            ..Report::unread(mac, "127.0.0.1:80".parse().unwrap())
        }
    }

    /// P192 as the device is served it (the server puts the device's next
    /// firmware step there) is no difference; the site's layered P192 is
    /// the one the device does not hold (a false "differs" before). The
    /// step is the very value in the file the device is served.
    #[test]
    fn a_device_holding_its_served_firmware_step_in_p192_does_not_differ() {
        let site = crate::site::demo();
        let mac: Mac = "000b82a1b201".parse().unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.gsprov.toml");
        let listing = crate::session::listing(Some(&path), "firmware");
        let served = service::as_served(&site, mac, &listing, Some("1.0.11.3"));
        let step = served.effective(served.device(mac).unwrap()).get("P192").unwrap().to_string();
        let layered = site.effective(site.device(mac).unwrap()).get("P192").unwrap().to_string();
        assert_ne!(step, layered, "the device is stepped");
        assert!(step.contains("1.0.11.79"), "{step}");
        // The value the device is served, in its own XML.
        let (files, _) = crate::ui::files::previews(&site, mac, &listing, Some("1.0.11.3")).unwrap();
        let xml = files.iter().find(|f| f.name == "cfg000b82a1b201.xml").unwrap();
        assert!(String::from_utf8_lossy(&xml.plain).contains(&format!("<P192>{step}</P192>")), "{step}");

        let r = report(mac, &[("P192", Observed::Same { value: step.clone() })]);
        let line = lines(&site, &served, &r).remove(0);
        assert!(!line.differs(), "{line:?}");
        assert_eq!(line.site, Some((step.clone(), Source::Defaults)), "the value served, set in the site defaults");
        assert!(lines(&site, &site, &r)[0].differs(), "against the layered value it would differ");
        // The device still holding the site's layered P192 is behind its step: that differs.
        let r = report(mac, &[("P192", Observed::Differs { device: layered, site: step })]);
        assert!(lines(&site, &served, &r)[0].differs());
    }

    /// A read through the thread (a closed loopback port: refused at once)
    /// comes back and wakes the UI; dropping the reader ends its thread.
    #[test]
    fn the_reading_thread_answers_and_stops_when_dropped() {
        let woke = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let w = woke.clone();
        let mut reader = Reader::start(Arc::new(move || {
            w.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }))
        .unwrap();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let mut site = crate::site::demo();
        let mac: Mac = "000b82a1b201".parse().unwrap();
        site.device_mut(mac).unwrap().values.set("P2", "pw");
        let job = Job {
            site: Box::new(site),
            mac,
            ip: Some("127.0.0.1".parse().unwrap()),
            port: Some(port),
            password: None,
            vouch: Vouch::Confirmed("a test".into()),
        };
        assert!(reader.send(job));
        let (got, report) = reader.results.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(got, mac);
        assert_eq!(report.logins, 0, "{}", report.explanation);
        let thread = reader.thread.take().unwrap();
        drop(reader);
        thread.join().unwrap();
        // Woken once, after the result was sent.
        assert_eq!(woke.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    /// A device that made no request: the neighbour table is asked (a demo
    /// MAC is in no real table), never discovery; nothing is sent.
    #[test]
    fn without_a_request_or_a_neighbour_entry_nothing_is_sent() {
        let reader = Reader::start(Arc::new(|| {})).unwrap();
        let mac: Mac = "000b82a1b2fe".parse().unwrap();
        let mut site = crate::site::demo();
        site.devices.push(crate::site::Device::new(mac, "GXP2170".parse().unwrap()));
        site.device_mut(mac).unwrap().values.set("P2", "pw");
        let job =
            Job { site: Box::new(site), mac, ip: None, port: None, password: None, vouch: Vouch::Learned("x".into()) };
        assert!(reader.send(job));
        let (_, report) = reader.results.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!((report.result, report.logins, report.requests), (Verdict::Unknown, 0, 0));
        assert!(
            report.explanation.starts_with("not read: no address known for 00:0B:82:A1:B2:FE"),
            "{}",
            report.explanation
        );
        assert!(report.explanation.contains("PnP or mDNS are not used"));
    }

    #[test]
    fn taking_a_value_writes_the_chosen_layer_and_the_device_gets_it() {
        let mut site = crate::site::demo();
        let mac: Mac = "000b82a1b201".parse().unwrap();
        let differs = |d: &str| Observed::Differs { device: d.into(), site: String::new() };
        let r = report(mac, &[("P64", differs("12")), ("P1362", differs("de")), ("P35", differs("999"))]);
        let before = lines(&site, &site, &r);
        assert!(before.iter().all(Line::differs), "{before:?}");
        assert!(before.iter().find(|l| l.key == "P35").unwrap().fixed_by().unwrap().contains("account 1"));
        // Into the model: the template holds it; the device inherits it.
        site.device_mut(mac).unwrap().values.set("P64", "3");
        assert_eq!(take(&mut site, mac, "P64", "12", TakeTo::Model), None);
        assert_eq!(site.models["GXP2170"].get("P64"), Some("12"));
        assert_eq!(site.device(mac).unwrap().values.get("P64"), None, "the device's own value would hide it");
        // Into the defaults while the model template says otherwise: written, and said.
        let note = take(&mut site, mac, "P1362", "de", TakeTo::Defaults).unwrap();
        assert_eq!(site.defaults.get("P1362"), Some("de"));
        assert!(note.contains("model GXP2170 still gives this device en"), "{note}");
        // Into the device.
        assert_eq!(take(&mut site, mac, "P1362", "de", TakeTo::Device), None);
        assert_eq!(site.device(mac).unwrap().values.get("P1362"), Some("de"));
        let after = lines(&site, &site, &r);
        assert!(!after.iter().find(|l| l.key == "P64").unwrap().differs());
        assert!(!after.iter().find(|l| l.key == "P1362").unwrap().differs());
    }
}
