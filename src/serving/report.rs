//! The handover report a technician leaves with the customer: every device with
//! its MAC, model, extension, firmware and when it fetched its config, plus the
//! problems left, and the truth columns ([`crate::serving::truth`]): accounts
//! registered, applied or differs, the last syslog line, the last action. CSV and one self-contained HTML page. Pure, and never carries
//! a secret: only labels, identifiers and times.

use std::fmt::Write as _;
use std::time::SystemTime;

use crate::serving::status::{DeviceState, Status, Tally};
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
    /// Truth columns (empty when unknown).
    pub registered: String,
    pub applied: String,
    pub last_syslog: String,
    pub last_action: String,
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
            let state = status.state_of(d.mac);
            let problem = match (s.and_then(|s| s.problem.clone()), state) {
                (Some(p), _) => p,
                (None, DeviceState::NeverSeen) => "never contacted the server".into(),
                (None, DeviceState::Probing) => "asked, but has not received its config".into(),
                (None, _) if let Some(w) = s.and_then(|s| s.without_config()) => w.into(),
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
                registered: s.map(|s| s.truth.registered()).unwrap_or_default(),
                applied: s.map(|s| s.truth.applied_text()).unwrap_or_default(),
                last_syslog: s
                    .and_then(|s| s.truth.last_syslog.as_ref())
                    .map(|(t, line)| format!("{} {line}", time(*t)))
                    .unwrap_or_default(),
                last_action: s
                    .and_then(|s| s.truth.last_action.as_ref().map(|a| (a.time, s.truth.last_action_text())))
                    .map(|(t, text)| format!("{} {text}", time(t)))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

const HEADERS: [&str; 14] = [
    "Label",
    "Location",
    "MAC",
    "Model",
    "Extension",
    "State",
    "Firmware",
    "IP",
    "Config fetched at",
    "Problem left",
    "Registered",
    "Applied",
    "Last syslog line",
    "Last action",
];

fn cells(r: &Row) -> [&str; 14] {
    [
        &r.label,
        &r.location,
        &r.mac,
        &r.model,
        &r.extension,
        &r.state,
        &r.firmware,
        &r.ip,
        &r.config_at,
        &r.problem,
        &r.registered,
        &r.applied,
        &r.last_syslog,
        &r.last_action,
    ]
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab
/// or carriage return first: OWASP "CSV injection") gets a leading `'`, which
/// spreadsheets show as text; a label like `=HYPERLINK(...)` stays a label.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

pub fn csv(rows: &[Row]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(HEADERS);
    for r in rows {
        let _ = w.write_record(cells(r).map(inert).iter().map(|c| c.as_bytes()));
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// The page's style: on screen a full-width table; printed, landscape on the
/// printer's paper (A4 or Letter; a browser that ignores `size`, Safari,
/// prints portrait and it still fits), small type, and a fixed layout with
/// the columns' shares of the width ([`WIDTHS`]) whose cells wrap, so the 14
/// columns always fit the page (none is cut off; words break only where
/// they must), the header repeated on each page and no row split across pages.
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
     table{border-collapse:collapse;width:100%}\
     th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top;font-size:14px;overflow-wrap:break-word}\
     th{background:#eef}tr.problem td{background:#fff3f0}.mono{font-family:monospace}\
     thead{display:table-header-group}tr{break-inside:avoid}\
     @page{size:landscape;margin:10mm}\
     @media print{body{margin:0}h1{font-size:14pt}p{font-size:9pt}\
     table{table-layout:fixed}th,td{font-size:7pt;padding:1px 3px}.mono{font-size:6.5pt}\
     th,tr.problem td{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/// Each column's share of the printed width, in percent, in [`HEADERS`]' order.
const WIDTHS: [u8; 14] = [6, 6, 10, 6, 6, 5, 6, 8, 7, 10, 7, 8, 8, 7];

/// The page. `tally` is [`Status::tally`] over the site's devices: its
/// headline is the Status board's, word for word.
pub fn html(site_name: &str, generated_at: &str, tally: &Tally, rows: &[Row]) -> String {
    let mut s = String::with_capacity(4096 + rows.len() * 300);
    let _ = write!(
        s,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Handover: {n}</title>\n\
         <style>{STYLE}</style></head><body>\n\
         <h1>Handover: {n}</h1>\n<p>Generated {t} by gsprov. {headline}.</p>\n\
         <table><colgroup>{cols}</colgroup><thead><tr>",
        cols = WIDTHS.iter().map(|w| format!("<col style=\"width:{w}%\">")).collect::<String>(),
        n = esc(site_name),
        t = esc(generated_at),
        headline = esc(&tally.headline()),
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
        let (c, h) = (csv(&rows), html(&site.name, "today", &Tally::default(), &rows));
        assert!(c.starts_with("Label,Location,MAC,Model,Extension"));
        assert!(c.contains("Reception,Front desk,00:0B:82:A1:B2:01,GXP2170,201 200,never seen"));
        assert!(h.contains("<td class=\"mono\">00:0B:82:A1:B2:01</td>"));
        for secret in ["demo-sip-201", "demo-xml-secret", "demo-admin-201"] {
            assert!(!c.contains(secret) && !h.contains(secret), "{secret} leaked");
        }
        assert!(c.lines().next().unwrap().ends_with(",Problem left,Registered,Applied,Last syslog line,Last action"));
        let evil = html("<script>", "x", &Tally::default(), &rows);
        assert!(evil.contains("&lt;script&gt;") && !evil.contains("<script>"));
        // Every cell is escaped in HTML, and no cell becomes a spreadsheet formula.
        let mut bad = rows[0].clone();
        bad.label = "=HYPERLINK(\"http://x\",\"y\")".into();
        bad.location = "<img src=x onerror='alert(1)'>&".into();
        bad.problem = "@SUM(1)".into();
        bad.firmware = "-1+2".into();
        bad.ip = "+cmd".into();
        let (c, h) = (csv(std::slice::from_ref(&bad)), html("s", "t", &Tally::default(), std::slice::from_ref(&bad)));
        let row = c.lines().nth(1).unwrap();
        assert!(row.starts_with("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\","), "{row}");
        assert!(row.contains(",'@SUM(1)") && row.contains(",'-1+2,") && row.contains(",'+cmd,"), "{row}");
        assert!(h.contains("&lt;img src=x onerror=&#39;alert(1)&#39;&gt;&amp;"), "{h}");
        assert!(!h.contains("<img") && !h.contains("'alert"), "{h}");
    }

    #[test]
    fn truth_columns_come_from_checks_actions_and_syslog_escaped() {
        use crate::formats::webapi::{AccountState, Difference};
        use crate::serving::truth::{ActionKind, ActionRecord, CheckFacts};
        use crate::serving::{Protocol, RequestRecord};
        let site = crate::site::demo();
        let out = crate::generate::generate(&site, &mut || [0; 8]).unwrap();
        let mut status = Status::new(&Served::new(&site, &out));
        let mac = site.devices[0].mac;
        let t = SystemTime::UNIX_EPOCH;
        status.apply(&RequestRecord {
            mac: Some(mac),
            explanation: "=cmd <b>registered</b>".into(),
            ..RequestRecord::new(1, t, "10.0.0.5:514".parse().unwrap(), Protocol::Syslog, "info", "sip")
        });
        status.apply_action(&ActionRecord {
            mac,
            time: t,
            kind: ActionKind::Check,
            ok: false,
            result: "differs".into(),
            check: Some(CheckFacts {
                accounts: Some(vec![AccountState { account: 1, sip_id: "201".into(), registered: true }]),
                firmware: None,
                applied: Some(false),
                differs: vec![Difference { p: "P64".into(), device: "12".into(), served: "auto".into() }],
            }),
        });
        let rows = rows(&site, &status, &|_| "10:32".into());
        let r = &rows[0];
        assert_eq!(r.registered, "1 yes");
        assert_eq!(r.applied, "differs: P64 is 12, we served auto");
        assert_eq!(r.last_syslog, "10:32 =cmd <b>registered</b>");
        assert_eq!(r.last_action, "10:32 check: differs");
        assert_eq!(rows[1].registered, "", "unknown stays empty, never a guess");
        let (c, h) = (csv(&rows[..1]), html("s", "t", &Tally::default(), &rows[..1]));
        let line = c.lines().nth(1).unwrap();
        assert!(
            line.ends_with(
                ",1 yes,\"differs: P64 is 12, we served auto\",10:32 =cmd <b>registered</b>,10:32 check: differs"
            ),
            "{line}"
        );
        assert!(h.contains("<td>10:32 =cmd &lt;b&gt;registered&lt;/b&gt;</td>"), "{h}");
        // A syslog line that starts like a formula stays text in a spreadsheet.
        let mut bad = r.clone();
        bad.last_syslog = "=HYPERLINK(1)".into();
        assert!(csv(std::slice::from_ref(&bad)).contains(",'=HYPERLINK(1),"));
    }
    /// Every `<word>` of `pdftotext -bbox`: (page width, text, xMax).
    fn pdf_words(pdf: &std::path::Path) -> (Vec<f64>, Vec<(String, f64)>) {
        let out = std::process::Command::new("pdftotext")
            .args(["-bbox".as_ref(), pdf.as_os_str(), "-".as_ref()])
            .output()
            .expect("pdftotext runs (poppler-utils; .ci/run installs it)");
        assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let attr = |tag: &str, name: &str| -> f64 {
            let at = tag.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
            tag[at..].split('"').next().unwrap().parse().unwrap()
        };
        let pages = text.split("<page ").skip(1).map(|p| attr(p, "width")).collect();
        let words = text
            .split("<word ")
            .skip(1)
            .map(|w| {
                let body = w.split('>').nth(1).unwrap().split('<').next().unwrap();
                (body.replace("&amp;", "&"), attr(w, "xMax"))
            })
            .collect();
        (pages, words)
    }

    /// Issue 27 item 11: printed on A4 and on Letter (WeasyPrint, a real CSS
    /// paged-media engine), every column is on the page: each header word,
    /// the last column's text included, ends inside the page width. The old
    /// page (14 px cells, no wrapping) lost "Last action" past the edge.
    #[test]
    fn the_html_prints_on_a4_and_letter_with_no_column_cut_off() {
        let site = crate::site::demo();
        let out = crate::generate::generate(&site, &mut || [0; 8]).unwrap();
        let status = Status::new(&crate::serving::Served::new(&site, &out));
        let mut rows = rows(&site, &status, &|_| "2026-12-07 10:32:05".into());
        for r in &mut rows {
            r.firmware = "1.0.11.3".into();
            r.ip = "192.168.10.21".into();
            r.config_at = "2026-12-07 10:32:05".into();
            r.registered = "1 yes, 2 no".into();
            r.problem =
                "gxp2170fw.bin is not in the firmware folder /home/technician/sites/maple-street/firmware/1.0.11.3 \
                         (it is empty)"
                    .into();
            r.applied = "differs: P64 is 12, we served auto".into();
            r.last_syslog = "2026-12-07 10:33:01 info sip: account 1 registered at the server".into();
            r.last_action = "2026-12-07 10:34:00 check: account 1 (201) registered, account 2 (202) not registered \
                             lastcol"
                .into();
        }
        let page = html(&site.name, "today", &status.tally(site.devices.iter().map(|d| d.mac)), &rows);
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("report.html");
        std::fs::write(&input, &page).unwrap();
        // (paper, user style forcing it, landscape width in points)
        for (paper, force, width) in
            [("A4", None, 841.89), ("Letter", Some("@page{size:letter landscape !important}"), 792.0)]
        {
            let pdf = dir.path().join(format!("{paper}.pdf"));
            let mut cmd = std::process::Command::new("weasyprint");
            if let Some(css) = force {
                let sheet = dir.path().join("paper.css");
                std::fs::write(&sheet, css).unwrap();
                cmd.arg("-s").arg(&sheet);
            }
            let run = cmd.arg(&input).arg(&pdf).output().expect("weasyprint runs (.ci/run installs it)");
            assert!(run.status.success(), "weasyprint: {}", String::from_utf8_lossy(&run.stderr));
            let (pages, words) = pdf_words(&pdf);
            assert!(!pages.is_empty(), "{paper}: no page");
            for w in &pages {
                assert!((w - width).abs() < 1.0, "{paper}: page {w} pt wide, want {width}");
            }
            // Nothing past the right edge, on any paper.
            for (t, x) in &words {
                assert!(*x <= width + 0.5, "{paper}: {t:?} ends at {x} pt, past the page's {width}");
            }
            // Landscape (the page's own size): every header word whole, the last column's too.
            if force.is_none_or(|f| f.contains("landscape")) {
                let wanted = HEADERS.iter().flat_map(|h| h.split(' ')).chain(["lastcol", "Reception"]);
                for want in wanted {
                    assert!(words.iter().any(|(t, _)| t == want), "{paper}: {want:?} is not on the page whole");
                }
                let mac = words.iter().any(|(t, _)| t == "00:0B:82:A1:B2:01");
                assert!(mac, "{paper}: a MAC is not on one line");
            }
        }
    }
}
