//! The bring-up checklist (issue 27 item 14): five steps from a laptop to
//! configured phones, each ticked from the app's real state (never from a
//! click) every frame it is drawn, each unticked step a link to the view where
//! it is done. Shown from the first launch until hidden (View menu brings it
//! back); whether it is hidden is kept in the settings ([`super::State`]).
//!
//! Also here: reopening the site last worked on when `gsprov` starts without
//! one ([`super::App::new`]).

use super::{Doc, Runtime, View};
use crate::serving::status::DeviceState;

/// One step, as the checklist shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub title: String,
    pub done: bool,
    /// Why it is (not) ticked, in words.
    pub why: String,
    /// Where it is done.
    pub view: View,
}

/// The steps, in order, judged from what the app knows now.
pub fn steps(doc: &Doc, rt: &Runtime) -> Vec<Step> {
    let sv = &rt.serving;
    let address = if sv.interfaces.is_empty() {
        (false, "this computer's interfaces are being listed".to_string())
    } else {
        let bound = super::server::bound_addresses(doc, rt);
        let findings = crate::serving::address::check(&super::server::address_setup(doc, rt, &bound));
        match findings.first() {
            None => (true, "the site's files tell the devices to come to this computer".to_string()),
            Some(f) => (false, f.to_string()),
        }
    };
    let firmware = if doc.site.serving.firmware_dir.trim().is_empty() && doc.path.is_some() {
        (false, "the site names no firmware folder".to_string())
    } else {
        match rt.firmware.current(doc) {
            None => (false, "the firmware folder is being read".to_string()),
            Some(_) if !rt.firmware.problems(doc).is_empty() => {
                (false, rt.firmware.problems(doc).iter().map(|i| i.to_string()).collect::<Vec<_>>().join("; "))
            }
            Some(l) if l.problem.is_some() => (false, l.problem.clone().unwrap_or_default()),
            Some(l) => {
                (true, format!("{} file(s) in {}", l.files().len(), l.dir.as_deref().unwrap_or("the firmware folder")))
            }
        }
    };
    let running = sv.running();
    // Counted over the site's devices: the board knows them only once served.
    let known = doc.site.devices.len();
    let status = |f: &dyn Fn(&crate::serving::status::DeviceStatus) -> bool| {
        doc.site.devices.iter().filter(|d| sv.status.device(d.mac).is_some_and(f)).count()
    };
    let seen = status(&|d| d.state != DeviceState::NeverSeen);
    let configured = status(&|d| d.configured());
    vec![
        Step { title: "Address is this computer".into(), done: address.0, why: address.1, view: View::Server },
        Step { title: "Firmware folder found".into(), done: firmware.0, why: firmware.1, view: View::Firmware },
        Step {
            title: "Servers running".into(),
            done: running,
            why: if running {
                let a: Vec<String> = sv.addresses().iter().map(|(p, a)| format!("{p} on {a}")).collect();
                a.join(", ")
            } else {
                "start them in the Server view".into()
            },
            view: View::Server,
        },
        Step {
            title: format!("Devices seen ({seen} of {known})"),
            done: seen > 0,
            why: if seen > 0 {
                format!("{seen} of the site's {known} devices asked for their files")
            } else {
                "no device of the site has asked yet: point them here (DHCP option 66 or P237) and reboot them".into()
            },
            view: View::Status,
        },
        Step {
            title: format!("Configured ({configured} of {known})"),
            done: known > 0 && configured == known,
            why: format!("{configured} of the site's {known} devices got their configuration"),
            view: View::Status,
        },
    ]
}

/// The checklist strip: one line, ticked steps plain, the others links.
pub fn checklist_ui(ui: &mut egui::Ui, doc: &Doc, rt: &mut Runtime, view: &mut View, hidden: &mut bool) {
    // The steps read the interfaces and the firmware folder: ask for them once.
    if !rt.serving.interfaces_requested
        && let Some(c) = &rt.serving.control
    {
        c.send(super::control::Request::ListInterfaces);
        rt.serving.interfaces_requested = true;
    }
    super::firmware::ensure_listing(doc, rt, false);
    let steps = steps(doc, rt);
    if !steps[1].done {
        // The folder may have been created or filled since: look again, now and then.
        super::firmware::recheck_listing(doc, rt);
    }
    ui.horizontal_wrapped(|ui| {
        ui.strong("Bring-up:");
        for s in &steps {
            // A check box only shows the tick (drawn, as no bundled font has a
            // tick glyph); it takes no clicks: the state ticks it.
            let mut done = s.done;
            let tick = ui.add_enabled(false, egui::Checkbox::without_text(&mut done));
            let text = if s.done {
                ui.label(&s.title).on_hover_text(&s.why)
            } else {
                let link = ui.link(&s.title).on_hover_text(format!("Not yet: {}", s.why));
                if link.clicked() {
                    *view = s.view;
                }
                link
            };
            tick.labelled_by(text.id).on_disabled_hover_text(&s.why);
            ui.add_space(8.0);
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.small_button("Hide checklist").on_hover_text("View > Bring-up checklist shows it again").clicked() {
                *hidden = true;
            }
        });
    });
}
