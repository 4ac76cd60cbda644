//! Live request log: a virtualised table (only visible rows are laid out, so
//! 50,000 rows scroll smoothly), follow-tail, filters (device, protocol,
//! hits/misses), every miss with its explanation, firmware transfers with
//! progress bars, and a requests-over-time plot. Clicking a row selects the device.

use egui_extras::{Column, TableBuilder};

use super::serving::hms;
use super::{Action, Runtime};
use crate::serving::{Protocol, RequestRecord};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Show {
    #[default]
    All,
    Hits,
    Misses,
}

pub struct LogUi {
    pub follow: bool,
    pub device: String,
    pub protocols: [bool; 5],
    pub show: Show,
    /// (log generation, filter key) -> indices of matching rows.
    cache: Option<(u64, String, Vec<usize>)>,
    /// (log generation, served and missed per 10 s bucket) for the chart.
    buckets: Option<(u64, Buckets)>,
}

type Buckets = ([u32; 60], [u32; 60]);

impl Default for LogUi {
    fn default() -> Self {
        LogUi { follow: true, device: String::new(), protocols: [true; 5], show: Show::All, cache: None, buckets: None }
    }
}

impl LogUi {
    fn key(&self) -> String {
        format!("{}|{:?}|{:?}", self.device.trim().to_ascii_lowercase(), self.protocols, self.show)
    }

    fn keeps(&self, r: &RequestRecord, needle: &str) -> bool {
        let pi = match r.protocol {
            Protocol::Tftp => 0,
            Protocol::Http => 1,
            Protocol::Https => 2,
            Protocol::Sip => 3,
            Protocol::Syslog => 4,
        };
        if !self.protocols[pi] {
            return false;
        }
        match self.show {
            Show::All => {}
            Show::Hits if !r.outcome.is_served() => return false,
            Show::Misses if r.outcome.is_served() => return false,
            _ => {}
        }
        needle.is_empty()
            || r.mac.is_some_and(|m| m.to_string().contains(needle))
            || r.path.to_ascii_lowercase().contains(needle)
            || r.client.ip().to_string().contains(needle)
            || r.model.as_ref().is_some_and(|m| m.as_str().to_ascii_lowercase().contains(needle))
    }
}

pub fn log_ui(ui: &mut egui::Ui, rt: &mut Runtime) -> Option<Action> {
    let mut action = None;
    let st = &mut rt.log;
    let serving = &rt.serving;
    ui.horizontal(|ui| {
        ui.checkbox(&mut st.follow, "Follow new requests");
        ui.separator();
        let l = ui.label("Device:");
        ui.add(egui::TextEdit::singleline(&mut st.device).hint_text("MAC, IP, model, file").desired_width(160.0))
            .labelled_by(l.id);
        for (i, name) in ["TFTP", "HTTP", "HTTPS", "SIP", "Syslog"].iter().enumerate() {
            ui.checkbox(&mut st.protocols[i], *name);
        }
        ui.separator();
        ui.selectable_value(&mut st.show, Show::All, "All");
        ui.selectable_value(&mut st.show, Show::Hits, "Hits");
        ui.selectable_value(&mut st.show, Show::Misses, "Misses");
    });
    // Transfers in flight (firmware), with progress.
    for f in serving.in_flight.values() {
        ui.horizontal(|ui| {
            ui.label(format!("{} {} -> {}", f.transfer.protocol, f.transfer.name, f.transfer.client));
            let frac = f.total.filter(|t| *t > 0).map_or(0.0, |t| f.sent as f32 / t as f32);
            ui.add(egui::ProgressBar::new(frac).desired_width(240.0).show_percentage());
        });
    }
    if st.buckets.as_ref().is_none_or(|(g, _)| *g != serving.log_generation) {
        st.buckets = Some((serving.log_generation, buckets(&serving.log)));
    }
    if let (Some((_, b)), false) = (&st.buckets, serving.log.is_empty()) {
        plot_ui(ui, b);
    }
    let key = st.key();
    let stale = st.cache.as_ref().is_none_or(|(g, k, _)| *g != serving.log_generation || *k != key);
    if stale {
        let needle = st.device.trim().to_ascii_lowercase();
        let rows: Vec<usize> =
            serving.log.iter().enumerate().filter(|(_, r)| st.keeps(r, &needle)).map(|(i, _)| i).collect();
        st.cache = Some((serving.log_generation, key, rows));
    }
    let rows = st.cache.as_ref().map(|c| c.2.as_slice()).unwrap_or_default();
    ui.label(format!("{} of {} requests", rows.len(), serving.log.len()));
    let text_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    let mut table = TableBuilder::new(ui)
        .id_salt("log")
        .striped(true)
        .sense(egui::Sense::click())
        .stick_to_bottom(st.follow)
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::exact(64.0))
        .column(Column::initial(140.0).clip(true))
        .column(Column::exact(52.0))
        .column(Column::initial(190.0).clip(true))
        .column(Column::initial(170.0).clip(true))
        .column(Column::initial(100.0))
        .column(Column::initial(70.0))
        .column(Column::remainder().clip(true));
    if st.follow && !rows.is_empty() {
        table = table.scroll_to_row(rows.len() - 1, Some(egui::Align::BOTTOM));
    }
    table
        .header(text_h + 2.0, |mut h| {
            for title in ["Time", "Client", "Proto", "Path", "Device", "Result", "Bytes", "Explanation"] {
                h.col(|ui| {
                    ui.strong(title);
                });
            }
        })
        .body(|body| {
            body.rows(text_h, rows.len(), |mut row| {
                let r = &serving.log[rows[row.index()]];
                row.col(|ui| {
                    ui.label(hms(r.time));
                });
                row.col(|ui| {
                    ui.label(r.client.to_string());
                });
                row.col(|ui| {
                    ui.label(r.protocol.to_string());
                });
                row.col(|ui| {
                    if r.self_test {
                        ui.label(format!("[self-test] {}", r.path))
                            .on_hover_text("This app's own \"Fetch as\": never counted as the device");
                    } else {
                        ui.label(&r.path);
                    }
                });
                row.col(|ui| {
                    let text = match (&r.mac, &r.model) {
                        (Some(m), Some(model)) => format!("{model} {m}"),
                        (Some(m), None) => m.to_string(),
                        (None, Some(model)) => model.to_string(),
                        (None, None) => "-".into(),
                    };
                    ui.label(text);
                });
                row.col(|ui| {
                    // The words and colours of `serving::Disposition`, as in the terminal and the JSON.
                    let d = r.outcome.disposition();
                    let [red, green, blue] = d.rgb();
                    let l = ui.colored_label(egui::Color32::from_rgb(red, green, blue), d.word());
                    if let Some(detail) = r.outcome.detail() {
                        l.on_hover_text(detail);
                    }
                });
                row.col(|ui| {
                    ui.label(r.bytes.to_string());
                });
                row.col(|ui| {
                    ui.label(&r.explanation).on_hover_text(&r.explanation);
                });
                if row.response().clicked()
                    && let Some(m) = r.mac
                {
                    action = Some(Action::Select(m));
                }
            });
        });
    action
}

/// Requests per 10 seconds over the last 10 minutes before the newest, served and missed.
fn buckets(log: &[RequestRecord]) -> Buckets {
    let mut served = [0u32; 60];
    let mut missed = [0u32; 60];
    let Some(last) = log.last() else { return (served, missed) };
    let end = last.time;
    for r in log.iter().rev() {
        let Ok(age) = end.duration_since(r.time) else { continue };
        let bucket = (age.as_secs() / 10) as usize;
        if bucket >= 60 {
            break;
        }
        if r.outcome.is_served() {
            served[59 - bucket] += 1;
        } else {
            missed[59 - bucket] += 1;
        }
    }
    (served, missed)
}

/// The requests-over-time chart.
fn plot_ui(ui: &mut egui::Ui, (served, missed): &Buckets) {
    use egui_plot::{Bar, BarChart, Plot};
    let bars = |counts: &[u32; 60], base: Option<&[u32; 60]>| -> Vec<Bar> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let x = (i as f64 - 59.0) * 10.0;
                let b = Bar::new(x, f64::from(c)).width(8.0);
                match base {
                    Some(base) => b.base_offset(f64::from(base[i])),
                    None => b,
                }
            })
            .collect()
    };
    let hits = BarChart::new("served", bars(served, None)).color(egui::Color32::from_rgb(90, 170, 120));
    let misses = BarChart::new("missed", bars(missed, Some(served))).color(egui::Color32::from_rgb(210, 120, 90));
    Plot::new("requests-over-time")
        .height(90.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .show_axes([true, true])
        .x_axis_label("seconds ago")
        .show(ui, |p| {
            p.bar_chart(hits);
            p.bar_chart(misses);
        });
}
