//! The Discovered view: one list of every unit seen on the LAN by any source
//! (PnP SUBSCRIBEs, requests to the servers, syslog senders, bench-DHCP
//! leases, mDNS and the neighbour table, all folded by
//! [`crate::serving::discovery::Discovery`]), with its MAC, model, firmware
//! and address, the sources that saw it and whether the site knows it; Adopt
//! (one, the selected, all of a model) and Ignore (hidden behind the
//! "Ignored" filter, never deleted). The Status board keeps a one-line
//! summary that opens this list on "Not in the site".
//!
//! Rows are virtualised (`ScrollArea::show_rows`) and the filtered row list is
//! cached on the fold's generation, so 500 strangers cost what a screenful does.

use std::collections::BTreeSet;
use std::rc::Rc;

use super::control::Request;
use super::serving::{guess_advertise, hms};
use super::{Action, Doc, Runtime, View};
use crate::event::Command;
use crate::ids::Mac;
use crate::serving::discovery::{self, DiscoveredDevice, Filter, Show};

/// The view's state (not persisted; ignored MACs live in the fold).
#[derive(Default)]
pub struct DiscoveredUi {
    pub filter: Filter,
    /// Ticked rows, by MAC (entries seen only by address cannot be adopted or ignored).
    pub selected: BTreeSet<Mac>,
    /// What the last Adopt or Ignore did, and whether it is a problem.
    pub message: Option<(String, bool)>,
    /// The one device the last Adopt added (its parameters are a click away).
    pub adopted: Option<Mac>,
    /// The site revision the fold's "in the site" was last taken from.
    site_revision: Option<u64>,
    /// (fold generation, filter) -> rows shown.
    cache: Option<(u64, Filter, Rc<Vec<usize>>)>,
}

/// Keeps the fold's "in the site" true to the open site: after every edit
/// (an adoption, an import, a delete) and every open, servers running or not.
pub fn sync(doc: &Doc, rt: &mut Runtime) {
    if rt.discovered.site_revision != Some(doc.revision()) {
        rt.discovered.site_revision = Some(doc.revision());
        rt.serving.discovery.set_site(&doc.site);
    }
}

/// The Status board's line about devices seen but not in the site, with the
/// way to them: `None`, or the action that opens this view on them.
pub fn summary_ui(ui: &mut egui::Ui, rt: &mut Runtime) -> Option<Action> {
    let c = rt.serving.discovery.counts();
    if c.not_in_site == 0 {
        return None;
    }
    let mut action = None;
    ui.horizontal(|ui| {
        let ignored = if c.ignored > 0 { format!(" ({} ignored)", c.ignored) } else { String::new() };
        ui.strong(format!("{} device(s) seen on the LAN are not in the site{ignored}", c.not_in_site));
        if ui.link("Adopt or ignore them in Discovered").clicked() {
            rt.discovered.filter = Filter { show: Show::NotInSite, ..Filter::default() };
            action = Some(Action::Show(View::Discovered));
        }
    });
    action
}

/// "Discover devices" (mDNS browse and the neighbour table on the advertised
/// interface) or "Stop discovery": the one button the Server view and this
/// view share.
pub fn discover_button(ui: &mut egui::Ui, doc: &Doc, rt: &mut Runtime) -> Option<Action> {
    let mut action = None;
    if !rt.serving.interfaces_requested {
        action = Some(Action::Serve(Request::ListInterfaces));
        rt.serving.interfaces_requested = true;
    }
    if rt.server.advertise.is_empty()
        && let Some(ip) = guess_advertise(&doc.site, &rt.serving.interfaces)
    {
        rt.server.advertise = ip.to_string();
    }
    let iface = rt.serving.interfaces.iter().find(|i| i.ipv4.to_string() == rt.server.advertise.trim()).cloned();
    if rt.serving.discovering {
        if ui.button("Stop discovery").clicked() {
            action = Some(Action::Serve(Request::Supervisor(Command::StopDiscovery)));
            rt.serving.discovering = false;
        }
    } else {
        let hover = match &iface {
            Some(i) => format!("mDNS browse and the neighbour table on {i}; no sweep, no DHCP probe"),
            None => "pick this computer's address on the devices' LAN in the Server view first".into(),
        };
        let r = ui.add_enabled(iface.is_some(), egui::Button::new("Discover devices")).on_hover_text(hover);
        if let (true, Some(i)) = (r.clicked(), iface) {
            let config = Box::new(crate::event::DiscoveryConfig::new(i));
            action = Some(Action::Serve(Request::Supervisor(Command::StartDiscovery(config))));
            rt.serving.discovering = true;
        }
    }
    action
}

/// Adds the discovered devices with these MACs to the site in one edit;
/// says how many and why any were not.
fn adopt(doc: &mut Doc, rt: &mut Runtime, macs: &[Mac]) {
    let disc = &rt.serving.discovery;
    let found: Vec<&DiscoveredDevice> = macs.iter().filter_map(|m| disc.device(*m)).collect();
    let (added, refused) = discovery::adopt_many(&doc.site, found);
    let n = added.len();
    let first = added.first().map(|d| (d.mac, d.model.clone()));
    if n > 0 {
        doc.edit(|site| site.devices.extend(added));
        // The list says "in the site" at once, not after the next frame.
        sync(doc, rt);
    }
    let st = &mut rt.discovered;
    for m in macs {
        if doc.site.device(*m).is_some() {
            st.selected.remove(m);
        }
    }
    st.adopted = if n == 1 { first.as_ref().map(|(m, _)| *m) } else { None };
    let mut text = match (n, first) {
        (0, _) => "Nothing added".to_string(),
        (1, Some((mac, model))) => format!("Added {} ({model}) to the site", mac.colon()),
        _ => format!("Added {n} devices to the site"),
    };
    if let Some((mac, why)) = refused.first() {
        let who = mac.map(|m| m.colon()).unwrap_or_else(|| "one".into());
        text.push_str(&format!("; {} not: {who}: {why}", refused.len()));
        if refused.len() > 1 {
            text.push_str(" (and the others for the same kind of reason: see their rows)");
        }
    }
    st.message = Some((text, n == 0));
}

/// A cell of a fixed width, its text cut with "…" when longer.
fn cell(ui: &mut egui::Ui, width: f32, text: impl Into<egui::WidgetText>) -> egui::Response {
    let h = ui.spacing().interact_size.y;
    ui.allocate_ui_with_layout(egui::vec2(width, h), egui::Layout::left_to_right(egui::Align::Center), |ui| {
        ui.set_min_width(width);
        ui.add(egui::Label::new(text).truncate())
    })
    .inner
}

/// Column widths: MAC, model, firmware, address, seen by, last seen, site.
const WIDTHS: [f32; 7] = [150.0, 90.0, 90.0, 110.0, 150.0, 70.0, 180.0];

pub fn discovered_ui(ui: &mut egui::Ui, doc: &mut Doc, rt: &mut Runtime) -> Option<Action> {
    let mut action = None;
    ui.horizontal(|ui| {
        ui.heading("Discovered on the LAN");
        if let Some(a) = discover_button(ui, doc, rt) {
            action = Some(a);
        }
    });
    ui.weak(
        "Every unit seen by any source: PnP SUBSCRIBEs, requests to the servers, syslog senders, bench-DHCP leases, \
         mDNS and the neighbour table (Discover devices). \"In the site\": the site lists its MAC.",
    );
    let c = rt.serving.discovery.counts();
    let mut counts = format!(
        "{} seen · {} not in the site · {} in the site · {} ignored",
        c.seen, c.not_in_site, c.in_site, c.ignored
    );
    if c.forgotten > 0 {
        counts.push_str(&format!(
            " · {} more not in the site were forgotten (the list keeps the {} seen last)",
            c.forgotten,
            discovery::MAX_UNKNOWN
        ));
    }
    ui.label(counts);

    let st = &mut rt.discovered;
    ui.horizontal(|ui| {
        ui.label("Show:");
        for show in Show::ALL {
            let n = match show {
                Show::NotInSite => c.not_in_site,
                Show::InSite => c.in_site,
                Show::Ignored => c.ignored,
                Show::All => c.seen - c.ignored,
            };
            if ui.selectable_label(st.filter.show == show, format!("{} ({n})", show.describe())).clicked() {
                st.filter.show = show;
            }
        }
    });
    let models = rt.serving.discovery.models(st.filter.show);
    ui.horizontal(|ui| {
        let l = ui.label("Filter:");
        ui.add(
            egui::TextEdit::singleline(&mut st.filter.text)
                .hint_text("MAC, address, model, firmware, label, source…")
                .desired_width(260.0),
        )
        .labelled_by(l.id);
        let l = ui.label("Model:");
        let shown = st.filter.model.as_ref().map(|m| m.to_string()).unwrap_or_else(|| "any model".into());
        egui::ComboBox::from_id_salt("discovered-model")
            .selected_text(shown)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut st.filter.model, None, "any model");
                for (m, n) in &models {
                    ui.selectable_value(&mut st.filter.model, Some(m.clone()), format!("{m} ({n})"));
                }
            })
            .response
            .labelled_by(l.id);
    });

    // The rows shown, cached until the fold or the filter changes.
    let generation = rt.serving.discovery.generation();
    let fresh = st.cache.as_ref().is_none_or(|(g, f, _)| *g != generation || *f != st.filter);
    if fresh {
        let rows = Rc::new(rt.serving.discovery.rows(&st.filter));
        st.cache = Some((generation, st.filter.clone(), rows));
    }
    let rows = st.cache.as_ref().map(|c| c.2.clone()).unwrap_or_default();
    // Ticked rows that the filter hides stay ticked but are not acted on.
    let devices = rt.serving.discovery.devices();
    let shown_selected: Vec<Mac> =
        rows.iter().filter_map(|i| devices[*i].mac).filter(|m| st.selected.contains(m)).collect();
    let of_model: Vec<Mac> = match &st.filter.model {
        Some(m) => devices
            .iter()
            .filter(|d| !d.known && !d.ignored && d.model.as_ref() == Some(m))
            .filter_map(|d| d.mac)
            .collect(),
        None => Vec::new(),
    };

    let mut adopt_these: Option<Vec<Mac>> = None;
    let mut ignore_these: Option<(Vec<Mac>, bool)> = None;
    ui.horizontal(|ui| {
        let selectable: Vec<Mac> = rows.iter().filter_map(|i| devices[*i].mac).collect();
        if ui
            .add_enabled(!selectable.is_empty(), egui::Button::new(format!("Select all shown ({})", selectable.len())))
            .clicked()
        {
            st.selected.extend(selectable);
        }
        if ui.add_enabled(!st.selected.is_empty(), egui::Button::new("Clear selection")).clicked() {
            st.selected.clear();
        }
        ui.separator();
        let n = shown_selected.len();
        if ui.add_enabled(n > 0, egui::Button::new(format!("Adopt selected ({n})"))).clicked() {
            adopt_these = Some(shown_selected.clone());
        }
        if let Some(m) = &st.filter.model {
            let k = of_model.len();
            if ui
                .add_enabled(k > 0, egui::Button::new(format!("Adopt all {k} {m}")))
                .on_hover_text(format!("Every {m} seen that is not in the site and not ignored"))
                .clicked()
            {
                adopt_these = Some(of_model.clone());
            }
        }
        if st.filter.show == Show::Ignored {
            if ui.add_enabled(n > 0, egui::Button::new(format!("Stop ignoring selected ({n})"))).clicked() {
                ignore_these = Some((shown_selected.clone(), false));
            }
        } else if ui
            .add_enabled(n > 0, egui::Button::new(format!("Ignore selected ({n})")))
            .on_hover_text("Hidden behind the \"Ignored\" filter; nothing is deleted")
            .clicked()
        {
            ignore_these = Some((shown_selected.clone(), true));
        }
    });
    if let Some((text, problem)) = &st.message {
        ui.horizontal(|ui| {
            if *problem {
                ui.colored_label(ui.visuals().warn_fg_color, text);
            } else {
                ui.label(text);
            }
            if let Some(mac) = st.adopted
                && ui.button(format!("Edit {} parameters", mac.colon())).clicked()
            {
                action = Some(Action::EditDevice(mac));
            }
        });
    }
    ui.separator();

    if rows.is_empty() {
        ui.weak(match (c.seen, st.filter.show) {
            (0, _) => {
                "Nothing seen yet: start the servers (requests, PnP, syslog, bench DHCP) or Discover devices (mDNS, \
                 the neighbour table)."
            }
            _ => "Nothing matches this filter.",
        });
    }
    let header = |ui: &mut egui::Ui| {
        ui.horizontal(|ui| {
            for (w, h) in
                WIDTHS.iter().zip(["MAC", "Model said", "Firmware", "Address", "Seen by", "Last seen", "Site"])
            {
                cell(ui, *w, egui::RichText::new(h).strong());
            }
        });
    };
    if !rows.is_empty() {
        header(ui);
    }
    let row_h = ui.spacing().interact_size.y;
    let mut toggle: Option<Mac> = None;
    egui::ScrollArea::both().id_salt("discovered").auto_shrink([false, false]).show_rows(
        ui,
        row_h,
        rows.len(),
        |ui, range| {
            for i in &rows[range] {
                let d = &devices[*i];
                ui.horizontal(|ui| {
                    let ticked = d.mac.is_some_and(|m| st.selected.contains(&m));
                    let mac = d.mac.map(|m| m.colon()).unwrap_or_else(|| "(MAC not known yet)".into());
                    let r = ui.add_sized(
                        [WIDTHS[0], ui.spacing().interact_size.y],
                        egui::Button::selectable(ticked, egui::RichText::new(&mac).monospace()),
                    );
                    if let (true, Some(m)) = (r.clicked(), d.mac) {
                        toggle = Some(m);
                    }
                    cell(ui, WIDTHS[1], d.model.as_ref().map(|m| m.to_string()).unwrap_or_else(|| "?".into()));
                    cell(ui, WIDTHS[2], d.firmware.clone().unwrap_or_default());
                    cell(ui, WIDTHS[3], d.ip.map(|ip| ip.to_string()).unwrap_or_default());
                    let details: Vec<String> = d.details.values().cloned().collect();
                    cell(ui, WIDTHS[4], d.how_seen()).on_hover_text(details.join("\n"));
                    cell(ui, WIDTHS[5], hms(d.last_seen));
                    let site = match (d.ignored, d.known) {
                        (true, _) => "ignored".to_string(),
                        (false, true) => {
                            let model = d.site_model.as_ref().map(|m| m.to_string()).unwrap_or_default();
                            let label = if d.label.is_empty() { "(no label)" } else { d.label.as_str() };
                            format!("in the site: {label} · {model}")
                        }
                        (false, false) => "not in the site".into(),
                    };
                    cell(ui, WIDTHS[6], site);
                    let Some(m) = d.mac else { return };
                    if !d.known {
                        let why = discovery::adopt(&doc.site, d).err();
                        // Short on screen; the MAC in its accessible name, as the row says it.
                        let r = ui
                            .add_enabled(why.is_none(), egui::Button::new("Adopt"))
                            .accessible_name(format!("Adopt {m}"));
                        let r = match &why {
                            Some(w) => r.on_disabled_hover_text(w.to_string()),
                            None => r.on_hover_text("Add it to the site with the model it said"),
                        };
                        if r.clicked() {
                            adopt_these = Some(vec![m]);
                        }
                    }
                    if d.ignored {
                        if ui.button("Stop ignoring").accessible_name(format!("Stop ignoring {m}")).clicked() {
                            ignore_these = Some((vec![m], false));
                        }
                    } else if !d.known && ui.button("Ignore").accessible_name(format!("Ignore {m}")).clicked() {
                        ignore_these = Some((vec![m], true));
                    }
                });
            }
        },
    );
    if let Some(m) = toggle
        && !st.selected.remove(&m)
    {
        st.selected.insert(m);
    }
    if let Some((macs, ignore)) = ignore_these {
        let n = macs.len();
        if ignore {
            rt.serving.discovery.ignore(macs.iter().copied());
            rt.discovered.message = Some((format!("Ignored {n}: see them under \"Ignored\""), false));
        } else {
            rt.serving.discovery.unignore(macs.iter().copied());
            rt.discovered.message = Some((format!("Listed {n} again"), false));
        }
        rt.discovered.adopted = None;
        for m in &macs {
            rt.discovered.selected.remove(m);
        }
    }
    if let Some(macs) = adopt_these {
        adopt(doc, rt, &macs);
    }
    action
}
