//! Live request log: a virtualised table (only visible rows are laid out, so
//! 50,000 rows scroll smoothly), follow-tail, filters (device, protocol,
//! hits/misses), every miss with its explanation, firmware transfers with
//! progress bars, and a requests-over-time plot. Clicking a row selects the device.

use egui_extras::Column;

use super::serving::hms;
use super::{Action, Runtime};
use crate::serving::{Outcome, Protocol, RequestRecord};

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
    pub protocols: [bool; 6],
    pub show: Show,
    /// (log generation, filter key) -> indices of matching rows.
    cache: Option<(u64, String, Vec<usize>)>,
    /// (log generation, served and missed per 10 s of the clock) for the chart.
    buckets: Option<(u64, Buckets)>,
    /// How many rows the table was last scrolled to show: it scrolls again
    /// only when rows arrive (a scroll every frame is an animation that never
    /// ends, so an idle window repainted without end).
    scrolled_to: Option<usize>,
    /// The request shown in the details pane (its record id).
    pub selected: Option<u64>,
}

impl Default for LogUi {
    fn default() -> Self {
        LogUi {
            follow: true,
            device: String::new(),
            protocols: [true; 6],
            show: Show::All,
            cache: None,
            buckets: None,
            scrolled_to: None,
            selected: None,
        }
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
            Protocol::Dhcp => 5,
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

/// Device actions (NOTIFY, check), newest last: the last few, each one line.
fn actions_ui(ui: &mut egui::Ui, serving: &crate::ui::serving::Serving) {
    if serving.actions.is_empty() && serving.actions_pending == 0 {
        return;
    }
    let title =
        format!("Device actions: {} done, {} running or queued", serving.actions.len(), serving.actions_pending);
    egui::CollapsingHeader::new(title).id_salt("device-actions").default_open(true).show(ui, |ui| {
        egui::ScrollArea::vertical().id_salt("device-actions-list").max_height(140.0).stick_to_bottom(true).show(
            ui,
            |ui| {
                let from = serving.actions.len().saturating_sub(50);
                for a in &serving.actions[from..] {
                    let line = format!(
                        "{} {} {}: {}",
                        hms(a.time),
                        a.kind.describe(),
                        a.mac,
                        crate::formats::printable(&a.result)
                    );
                    if a.ok {
                        ui.label(line);
                    } else {
                        ui.colored_label(ui.visuals().warn_fg_color, line);
                    }
                }
            },
        );
    });
}

/// The words and colours of `serving::Disposition`, as in the terminal and the JSON.
fn outcome_label(ui: &mut egui::Ui, o: &Outcome, strong: bool) {
    let d = o.disposition();
    let [red, green, blue] = d.rgb();
    let text = egui::RichText::new(d.word()).color(egui::Color32::from_rgb(red, green, blue));
    let l = ui.label(if strong { text.strong() } else { text });
    if let Some(detail) = o.detail() {
        l.on_hover_text(detail);
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
        for (i, name) in ["TFTP", "HTTP", "HTTPS", "SIP", "Syslog", "DHCP"].iter().enumerate() {
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
    actions_ui(ui, serving);
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
    if serving.log_dropped == 0 {
        ui.label(format!("{} of {} requests", rows.len(), serving.log.len()));
    } else {
        ui.label(format!(
            "{} of the newest {} requests ({} older ones are counted on the board, not listed here)",
            rows.len(),
            serving.log.len(),
            serving.log_dropped
        ));
    }
    // The selected request in full, on the right: what the table can only cut.
    let selected = st.selected.and_then(|id| serving.log.iter().rposition(|r| r.id == id));
    if let Some(i) = selected {
        egui::Panel::right("log-details").resizable(true).default_size(380.0).min_size(240.0).show(ui, |ui| {
            if details_ui(ui, &serving.log, i) {
                st.selected = None;
            }
        });
    }
    let text_h = ui.text_style_height(&egui::TextStyle::Body) + 4.0;
    // The explanation comes right after the result, where it is read; every
    // column can be resized, and the table scrolls sideways when they are wide.
    // Wider than the window (columns resized): scroll sideways, and never
    // draw over the details pane.
    egui::ScrollArea::horizontal().id_salt("log-h").auto_shrink([false, false]).show(ui, |ui| {
        // A click anywhere on a row selects it (the details pane has the text to copy).
        let mut table = super::rows::clickable_rows(ui, "log")
            .resizable(true)
            .stick_to_bottom(st.follow)
            .column(Column::initial(64.0).at_least(56.0))
            .column(Column::initial(100.0).at_least(60.0))
            .column(Column::initial(420.0).at_least(120.0).clip(true))
            .column(Column::initial(190.0).at_least(60.0).clip(true))
            .column(Column::initial(170.0).at_least(60.0).clip(true))
            .column(Column::initial(140.0).at_least(60.0).clip(true))
            .column(Column::initial(52.0).at_least(40.0))
            .column(Column::remainder().at_least(50.0));
        if !st.follow {
            st.scrolled_to = None;
        } else if !rows.is_empty() && st.scrolled_to != Some(rows.len()) {
            table = table.scroll_to_row(rows.len() - 1, Some(egui::Align::BOTTOM));
            st.scrolled_to = Some(rows.len());
        }
        table
            .header(text_h + 2.0, |mut h| {
                for title in ["Time", "Result", "Explanation", "Path", "Device", "Client", "Proto", "Bytes"] {
                    h.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(text_h, rows.len(), |mut row| {
                    let r = &serving.log[rows[row.index()]];
                    row.set_selected(st.selected == Some(r.id));
                    row.col(|ui| {
                        ui.label(hms(r.time));
                    });
                    row.col(|ui| outcome_label(ui, &r.outcome, false));
                    row.col(|ui| {
                        // Cut to the column; the whole text is in the details pane.
                        ui.add(egui::Label::new(&r.explanation).truncate().show_tooltip_when_elided(false));
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
                        ui.label(r.client.to_string());
                    });
                    row.col(|ui| {
                        ui.label(r.protocol.to_string());
                    });
                    row.col(|ui| {
                        ui.label(r.bytes.to_string());
                    });
                    if row.response().clicked() {
                        st.selected = Some(r.id);
                        if let Some(m) = r.mac {
                            action = Some(Action::Select(m));
                        }
                    }
                });
            });
    });
    action
}

/// The details of `log[i]`: the whole explanation, the request, what the
/// device said it is, and the chain of files that device (its MAC, else its
/// address) asked for. Returns true when the technician closes the pane.
fn details_ui(ui: &mut egui::Ui, log: &[RequestRecord], i: usize) -> bool {
    let r = &log[i];
    let mut close = false;
    ui.horizontal(|ui| {
        ui.heading("Request details");
        if ui.small_button("Close details").clicked() {
            close = true;
        }
    });
    egui::ScrollArea::vertical().id_salt("log-details-scroll").show(ui, |ui| {
        outcome_label(ui, &r.outcome, true);
        if r.self_test {
            ui.weak("This app's own \"Fetch as\" (self-test): never counted as the device.");
        }
        ui.add(egui::Label::new(&r.explanation).wrap());
        ui.separator();
        egui::Grid::new("log-details-grid").num_columns(2).spacing([8.0, 2.0]).show(ui, |ui| {
            let mut line = |k: &str, v: String| {
                ui.weak(k);
                ui.add(egui::Label::new(v).wrap());
                ui.end_row();
            };
            line("Time", hms(r.time));
            line("Request", format!("{} {} {}", r.protocol, r.method, r.path));
            line("Client", r.client.to_string());
            line("Reply", r.status.to_string());
            line("Bytes", r.size.map_or(r.bytes.to_string(), |s| format!("{} of {s}", r.bytes)));
            line("Took", format!("{:.1} ms", r.duration.as_secs_f64() * 1000.0));
            line("File", r.file.clone().unwrap_or_else(|| "-".into()));
            line("Device", r.mac.map_or("-".into(), |m| m.colon()));
            line("Model", r.model.as_ref().map_or("-".into(), |m| m.to_string()));
            line("Firmware", r.firmware.clone().unwrap_or_else(|| "-".into()));
            line("User-Agent", r.user_agent.clone().unwrap_or_else(|| "-".into()));
        });
        ui.separator();
        let same = |o: &RequestRecord| match r.mac {
            Some(m) => o.mac == Some(m),
            None => o.client.ip() == r.client.ip(),
        };
        let chain: Vec<&RequestRecord> = log.iter().filter(|o| same(o)).collect();
        let whose = r.mac.map_or_else(|| r.client.ip().to_string(), |m| m.colon());
        ui.strong(format!("Everything {whose} asked for ({})", chain.len()));
        egui::Grid::new("log-details-chain").num_columns(3).striped(true).show(ui, |ui| {
            // The newest 200: a device in a boot loop can have thousands.
            for o in chain.iter().rev().take(200).rev() {
                let text = format!("{} {}", o.protocol, o.path);
                if o.id == r.id {
                    ui.strong(hms(o.time));
                    ui.strong(text);
                } else {
                    ui.label(hms(o.time));
                    ui.label(text);
                }
                outcome_label(ui, &o.outcome, false);
                ui.end_row();
            }
        });
    });
    close
}

/// The chart's bars: requests per 10 seconds of the clock, served and
/// missed, over the 10 minutes up to the newest request. The x axis is the
/// local clock time (a bar's place never depends on when the frame is drawn,
/// so an idle window shows the truth without repainting: issue 27 item 4).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Buckets {
    /// Unix seconds at which the first bar starts (a multiple of [`BAR_SECS`]).
    start: i64,
    /// Unix seconds of the newest request (the chart ends with its bar).
    newest: i64,
    served: [u32; BARS],
    missed: [u32; BARS],
}

/// Bars in the chart, and the seconds each one counts.
const BARS: usize = 60;
const BAR_SECS: i64 = 10;

fn unix_secs(t: std::time::SystemTime) -> Option<i64> {
    match t.duration_since(std::time::SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok(),
        Err(e) => i64::try_from(e.duration().as_secs()).ok().map(|s| -s),
    }
}

/// Requests per 10 seconds of the clock over the 10 minutes up to the newest request.
fn buckets(log: &[RequestRecord]) -> Buckets {
    let mut b = Buckets { start: 0, newest: 0, served: [0; BARS], missed: [0; BARS] };
    let Some(last) = log.last().and_then(|r| unix_secs(r.time)) else { return b };
    b.newest = last;
    let last_bar = last.div_euclid(BAR_SECS);
    b.start = (last_bar - BARS as i64 + 1) * BAR_SECS;
    for r in log.iter().rev() {
        let Some(t) = unix_secs(r.time) else { continue };
        let back = last_bar - t.div_euclid(BAR_SECS);
        if back < 0 {
            // A clock step back: not on this chart.
            continue;
        }
        let Ok(back) = usize::try_from(back) else { continue };
        if back >= BARS {
            break;
        }
        if r.outcome.is_served() {
            b.served[BARS - 1 - back] += 1;
        } else {
            b.missed[BARS - 1 - back] += 1;
        }
    }
    b
}

/// The x axis's words at `x` (unix seconds): the local clock time.
fn tick_label(x: f64) -> String {
    if !x.is_finite() || x.abs() > 1e15 {
        return String::new();
    }
    let t = if x >= 0.0 {
        std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(x.round() as u64)
    } else {
        std::time::SystemTime::UNIX_EPOCH - std::time::Duration::from_secs((-x).round() as u64)
    };
    hms(t)
}

/// The requests-over-time chart.
fn plot_ui(ui: &mut egui::Ui, b: &Buckets) {
    use egui_plot::{Bar, BarChart, Plot};
    let bars = |counts: &[u32; BARS], base: Option<&[u32; BARS]>| -> Vec<Bar> {
        counts
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                // Centred on its 10 seconds.
                let x = (b.start + i as i64 * BAR_SECS) as f64 + BAR_SECS as f64 / 2.0;
                let bar = Bar::new(x, f64::from(c)).width(BAR_SECS as f64 * 0.8);
                match base {
                    Some(base) => bar.base_offset(f64::from(base[i])),
                    None => bar,
                }
            })
            .collect()
    };
    let hits = BarChart::new("served", bars(&b.served, None)).color(egui::Color32::from_rgb(90, 170, 120));
    let misses = BarChart::new("missed", bars(&b.missed, Some(&b.served))).color(egui::Color32::from_rgb(210, 120, 90));
    Plot::new("requests-over-time")
        .height(90.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .show_axes([true, true])
        .show_x(false)
        .show_y(false)
        // Marks at whole minutes (and at 5 and 10 minutes when narrow).
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [60.0, 300.0, 600.0]))
        .x_axis_formatter(|mark, _| tick_label(mark.value))
        .x_axis_label(format!(
            "time of day: the 10 minutes up to the newest request, {} (each bar 10 s)",
            tick_label(b.newest as f64)
        ))
        .show(ui, |p| {
            p.bar_chart(hits);
            p.bar_chart(misses);
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn at(secs: u64, served: bool) -> RequestRecord {
        let client = std::net::SocketAddr::from(([127, 0, 0, 2], 5000));
        let mut r = RequestRecord::new(
            0,
            SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
            client,
            Protocol::Http,
            "GET",
            "/x",
        );
        if !served {
            r.outcome = Outcome::Refused { reason: crate::serving::Refusal::NotFound, expected: false };
        }
        r
    }

    #[test]
    fn bars_stand_at_their_clock_time_however_long_ago_that_was() {
        // 10:00:00 UTC (the offset is UTC when the app has not read the local one).
        let ten = 10 * 3600;
        // Two requests 3.5 minutes before the newest, one at the newest.
        let log = [at(ten - 210, true), at(ten - 205, false), at(ten + 4, true)];
        let b = buckets(&log);
        // The last bar is the one holding the newest request: 10:00:00-10:00:10.
        assert_eq!(b.start + (BARS as i64 - 1) * BAR_SECS, ten as i64);
        assert_eq!(b.served[BARS - 1], 1);
        // 09:56:30 is 21 bars before 10:00:00.
        assert_eq!((b.served[BARS - 1 - 21], b.missed[BARS - 1 - 21]), (1, 1));
        assert_eq!(b.served.iter().sum::<u32>() + b.missed.iter().sum::<u32>(), 3);
        // The axis names the clock, not "seconds ago": the same words whenever drawn.
        let x_of = |bar: usize| (b.start + bar as i64 * BAR_SECS) as f64;
        assert_eq!(tick_label(x_of(BARS - 1 - 21)), "09:56:30");
        assert_eq!(tick_label(x_of(BARS - 1)), "10:00:00");
        assert_eq!(tick_label(x_of(0)), "09:50:10");
        assert_eq!(tick_label(b.newest as f64), "10:00:04");
        // Requests older than the chart are left out; a clock step back too.
        let b = buckets(&[at(ten - 601, true), at(ten + 30, false), at(ten, true)]);
        assert_eq!(b.served.iter().sum::<u32>() + b.missed.iter().sum::<u32>(), 1);
        assert_eq!(buckets(&[]).served, [0; BARS]);
    }
}
