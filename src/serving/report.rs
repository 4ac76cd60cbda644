//! The handover report a technician leaves with the customer: every device with
//! its MAC, model, extension, firmware and when it fetched its config, plus the
//! problems left. CSV and one self-contained HTML page. Pure, and never carries
//! a secret: only labels, identifiers and times.

use std::fmt::Write as _;
use std::time::SystemTime;

use crate::serving::status::{DeviceState, Status};
use crate::site::Site;

/// One device's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub location: String,
    pub mac: String,
    pub model: String,
    pub extension: String,
    pub state: String,
    pub firmware: String,
    pub ip: String,
    pub config_at: String,
    pub problem: String,
}

/// The report's rows, in site order. `time` formats timestamps (local time in the app).
pub fn rows(site: &Site, status: &Status, time: &dyn Fn(SystemTime) -> String) -> Vec<Row> {
    site.devices
        .iter()
        .map(|d| {
            let s = status.device(d.mac);
            let config_at = s
                .and_then(|s| {
                    s.fetched
                        .iter()
                        .filter(|f| matches!(f.kind, crate::serving::ContentKind::Config(_)))
                        .map(|f| f.time)
                        .max()
                })
                .map(time)
                .unwrap_or_default();
            let state = s.map_or(DeviceState::NeverSeen, |s| s.state);
            let problem = match (s.and_then(|s| s.problem.clone()), state) {
                (Some(p), _) => p,
                (None, DeviceState::NeverSeen) => "never contacted the server".into(),
                (None, DeviceState::Probing) => "asked, but has not received its config".into(),
                _ => String::new(),
            };
            Row {
                label: d.label.clone(),
                location: d.location.clone(),
                mac: d.mac.colon(),
                model: d.model.to_string(),
                extension: d
                    .accounts
                    .iter()
                    .map(|a| a.user_id.as_str())
                    .filter(|u| !u.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
                state: state.describe().into(),
                firmware: s.and_then(|s| s.firmware.clone()).unwrap_or_default(),
                ip: s.and_then(|s| s.ip).map(|ip| ip.to_string()).unwrap_or_default(),
                config_at,
                problem,
            }
        })
        .collect()
}

const HEADERS: [&str; 10] =
    ["Label", "Location", "MAC", "Model", "Extension", "State", "Firmware", "IP", "Config fetched at", "Problem left"];

fn cells(r: &Row) -> [&str; 10] {
    [&r.label, &r.location, &r.mac, &r.model, &r.extension, &r.state, &r.firmware, &r.ip, &r.config_at, &r.problem]
}

pub fn csv(rows: &[Row]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(HEADERS);
    for r in rows {
        let _ = w.write_record(cells(r));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn html(site_name: &str, generated_at: &str, rows: &[Row]) -> String {
    let configured = rows.iter().filter(|r| r.problem.is_empty()).count();
    let mut s = String::with_capacity(4096 + rows.len() * 300);
    let _ = write!(
        s,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Handover: {n}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;width:100%}}\
         th,td{{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:14px}}th{{background:#eef}}\
         tr.problem td{{background:#fff3f0}}.mono{{font-family:monospace}}</style></head><body>\n\
         <h1>Handover: {n}</h1>\n<p>Generated {t} by gsprov. {configured} of {total} devices configured without problems.</p>\n\
         <table><thead><tr>",
        n = esc(site_name),
        t = esc(generated_at),
        total = rows.len()
    );
    for h in HEADERS {
        let _ = write!(s, "<th>{h}</th>");
    }
    s.push_str("</tr></thead><tbody>\n");
    for r in rows {
        let class = if r.problem.is_empty() { "" } else { " class=\"problem\"" };
        let _ = write!(s, "<tr{class}>");
        for (i, c) in cells(r).iter().enumerate() {
            let mono = if i == 2 || i == 7 { " class=\"mono\"" } else { "" };
            let _ = write!(s, "<td{mono}>{}</td>", esc(c));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>\n</body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serving::Served;

    #[test]
    fn report_lists_every_device_and_no_secret() {
        let site = crate::site::demo();
        let out = crate::generate::generate(&site, &mut || [0; 8]).unwrap();
        let status = Status::new(&Served::new(&site, &out));
        let rows = rows(&site, &status, &|_| "10:32".into());
        assert_eq!(rows.len(), site.devices.len());
        assert_eq!(rows[0].extension, "201 200");
        assert_eq!(rows[0].problem, "never contacted the server");
        let (c, h) = (csv(&rows), html(&site.name, "today", &rows));
        assert!(c.starts_with("Label,Location,MAC,Model,Extension"));
        assert!(c.contains("Reception,Front desk,00:0B:82:A1:B2:01,GXP2170,201 200,never seen"));
        assert!(h.contains("<td class=\"mono\">00:0B:82:A1:B2:01</td>"));
        for secret in ["demo-sip-201", "demo-xml-secret", "demo-admin-201"] {
            assert!(!c.contains(secret) && !h.contains(secret), "{secret} leaked");
        }
        let evil = html("<script>", "x", &rows);
        assert!(evil.contains("&lt;script&gt;") && !evil.contains("<script>"));
    }
}
