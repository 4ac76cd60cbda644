//! CSV import: adds or updates devices from a spreadsheet export, all or nothing.
//!
//! Columns (header row required, any order, case-insensitive):
//! `mac` (required), `model` (required for new devices), `label`, `location`, `notes`,
//! account 1: `user_id` (or `extension`), `auth_id`, `password`, `display_name`,
//! `account_name`, `sip_server`; account N >= 2: the same names prefixed `acctN_`
//! (e.g. `acct2_user_id`); programmable keys: `keyN_type`, `keyN_value`,
//! `keyN_label`, `keyN_account` (line key / VPK N; `mpkN_` and `extN_` for MPKs
//! and extension-module keys), checked for the device's family and model; any
//! `P<n>` or alias column sets a device override.
//! An empty cell leaves the existing value alone.
//!
//! What a spreadsheet really writes is accepted: cells separated by `,`, `;`
//! (Excel in most of Europe) or tab, found from the header row; UTF-8 (with or
//! without a byte-order mark), else Windows-1252, said in a warning
//! ([`decode_csv`]).

use std::collections::BTreeSet;

use crate::catalog::Catalog;
use crate::ids::{Mac, Model};

use super::{Account, Device, Site, canonical_key};

/// One bad cell or row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}{}: {message}", column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
pub struct RowError {
    pub line: u64,
    pub column: Option<String>,
    pub message: String,
}

/// Why nothing was imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the CSV has no header row")]
    NoHeader,
    #[error("the CSV header has no 'mac' column; columns are documented in README.md (CSV import)")]
    NoMacColumn,
    #[error(
        "unknown column {0:?}: expected mac, model, label, location, notes, user_id, auth_id, password, display_name, account_name, sip_server, acctN_<field>, keyN_<type|value|label|account> (also mpkN_, extN_), or a P-value like P47"
    )]
    UnknownColumn(String),
    #[error("{} bad row(s), nothing was imported:\n{}", .0.len(), .0.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowError>),
}

/// What a successful import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub added: Vec<Mac>,
    /// Devices whose row changed something.
    pub updated: Vec<Mac>,
    /// Devices whose row matched the site already.
    pub unchanged: Vec<Mac>,
    pub warnings: Vec<RowError>,
    /// The cell separator found in the header row.
    pub delimiter: char,
}

/// A CSV file's bytes as text: UTF-8 (a byte-order mark is dropped), else
/// Windows-1252, which also reads Latin-1 (every byte maps to a character).
/// Returns the text and, when it was not UTF-8, the encoding used, for a
/// warning: the technician should check accented names.
pub fn decode_csv(bytes: &[u8]) -> (String, Option<&'static str>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_string(), None),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            (text.into_owned(), Some(encoding_rs::WINDOWS_1252.name()))
        }
    }
}

/// The line (from 1, the header's line included) of byte `byte` of `text`,
/// counting `\r\n`, `\n` and a lone `\r` as one line break each, as Excel
/// and a text editor number lines. The csv crate's own `Position::line` counts
/// only `\n` seen by its parser and is one short per record of a CRLF file
/// (BurntSushi/rust-csv#395), which is what Excel writes: every CSV line
/// number the app and `gsprov import` show comes from here instead.
pub fn line_at(text: &str, byte: u64) -> u64 {
    let end = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
    let bytes = &text.as_bytes()[..end];
    let breaks = bytes
        .iter()
        .enumerate()
        .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count();
    1 + breaks as u64
}

/// The line of a csv record or error position (see [`line_at`]).
pub fn csv_line(text: &str, position: Option<&csv::Position>) -> u64 {
    position.map_or(0, |p| line_at(text, p.byte()))
}

/// The cell separator of a CSV text: whichever of `,`, `;` and tab appears
/// most often outside quotes in the header row (`,` when none does).
pub fn sniff_delimiter(csv_text: &str) -> u8 {
    let header = csv_text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    // The first of the most frequent: `,` wins a tie.
    counts.iter().fold((b',', 0), |best, &c| if c.1 > best.1 { c } else { best }).0
}

enum Column {
    Mac,
    Model,
    Label,
    Location,
    Notes,
    Account(usize, AccountField),
    Value(String),
}

#[derive(Clone, Copy)]
enum AccountField {
    UserId,
    AuthId,
    Password,
    DisplayName,
    Name,
    SipServer,
}

fn column_of(name: &str) -> Result<Column, ImportError> {
    let lower = name.trim().to_ascii_lowercase();
    let plain = match lower.as_str() {
        "mac" | "mac address" => return Ok(Column::Mac),
        "model" => return Ok(Column::Model),
        "label" | "name" => return Ok(Column::Label),
        "location" => return Ok(Column::Location),
        "notes" => return Ok(Column::Notes),
        _ => None::<Column>,
    };
    debug_assert!(plain.is_none());
    let (index, field) = match lower.strip_prefix("acct").and_then(|r| r.split_once('_')) {
        Some((n, f)) if n.parse::<usize>().is_ok_and(|n| (1..=48).contains(&n)) => {
            (n.parse::<usize>().unwrap_or(1) - 1, f.to_string())
        }
        _ => (0, lower.clone()),
    };
    let f = match field.as_str() {
        "user_id" | "userid" | "extension" | "ext" => Some(AccountField::UserId),
        "auth_id" | "authid" => Some(AccountField::AuthId),
        "password" | "sip_password" => Some(AccountField::Password),
        "display_name" => Some(AccountField::DisplayName),
        "account_name" => Some(AccountField::Name),
        "sip_server" => Some(AccountField::SipServer),
        _ => None,
    };
    if let Some(f) = f {
        return Ok(Column::Account(index, f));
    }
    if let Some(k) = key_column(&lower) {
        return Ok(Column::Value(k));
    }
    match canonical_key(name) {
        Ok(k) => Ok(Column::Value(k)),
        Err(_) => Err(ImportError::UnknownColumn(name.to_string())),
    }
}

/// `key3_type` (line key / VPK 3; also `vpk3_`), `mpk2_value`, `ext1_label`
/// -> the site's `key.vpk.3.type` ([`super::keys`]).
fn key_column(lower: &str) -> Option<String> {
    use crate::catalog::keys::{Field, KeyKind, KeyRef};
    let (kind, rest) = [("key", KeyKind::Vpk), ("vpk", KeyKind::Vpk), ("mpk", KeyKind::Mpk), ("ext", KeyKind::Ext)]
        .into_iter()
        .find_map(|(p, kind)| lower.strip_prefix(p).map(|r| (kind, r)))?;
    let (n, field) = rest.split_once('_')?;
    let number = n.parse::<u16>().ok().filter(|n| *n >= 1)?;
    let field = Field::ALL.into_iter().find(|f| f.word() == field)?;
    Some(KeyRef { kind, number, field }.name())
}

/// Applies `csv_text` to a copy of `site`. On any bad row nothing changes: the
/// error lists every bad line. On success the caller replaces its site with the
/// returned one.
pub fn import_csv(site: &Site, csv_text: &str) -> Result<(Site, ImportReport), ImportError> {
    let delimiter = sniff_delimiter(csv_text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(csv_text.as_bytes());
    let headers = reader.headers().map_err(|_| ImportError::NoHeader)?.clone();
    if headers.is_empty() || headers.iter().all(str::is_empty) {
        return Err(ImportError::NoHeader);
    }
    let columns: Vec<Column> = headers.iter().map(column_of).collect::<Result<_, _>>()?;
    if !columns.iter().any(|c| matches!(c, Column::Mac)) {
        return Err(ImportError::NoMacColumn);
    }
    let cat = Catalog::get();
    let mut out = site.clone();
    let mut report = ImportReport { delimiter: char::from(delimiter), ..ImportReport::default() };
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = csv_line(csv_text, e.position());
                errors.push(RowError { line, column: None, message: format!("unreadable row: {e}") });
                continue;
            }
        };
        let line = csv_line(csv_text, record.position());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != headers.len() {
            errors.push(RowError {
                line,
                column: None,
                message: format!("has {} cells; the header has {}", record.len(), headers.len()),
            });
            continue;
        }
        let err = |col: &str, message: String| RowError { line, column: Some(col.to_string()), message };
        let mac_cell = columns
            .iter()
            .zip(record.iter())
            .find(|(c, _)| matches!(c, Column::Mac))
            .map(|(_, v)| v)
            .unwrap_or_default();
        let mac: Mac = match mac_cell.parse() {
            Ok(m) => m,
            Err(e) => {
                errors.push(err("mac", e.to_string()));
                continue;
            }
        };
        if !seen.insert(mac) {
            errors.push(err("mac", format!("{} appears on an earlier line of this file", mac.colon())));
            continue;
        }
        if !mac.is_grandstream() {
            report.warnings.push(err("mac", format!("{} is not a Grandstream OUI; imported anyway", mac.colon())));
        }
        let existing = out.device(mac).cloned();
        let is_new = existing.is_none();
        let model_cell = columns
            .iter()
            .zip(record.iter())
            .find(|(c, _)| matches!(c, Column::Model))
            .map(|(_, v)| v)
            .unwrap_or_default();
        let mut device = match (existing, model_cell.is_empty()) {
            (Some(d), true) => d,
            (existing, false) => match model_cell.parse::<Model>() {
                Ok(model) => {
                    if let Some(w) = crate::catalog::Family::of_model(&model).warning(&model) {
                        report.warnings.push(err("model", w));
                    }
                    let mut d = existing.unwrap_or_else(|| Device::new(mac, model.clone()));
                    d.model = model;
                    d
                }
                Err(e) => {
                    errors.push(err("model", e.to_string()));
                    continue;
                }
            },
            (None, true) => {
                errors.push(err("model", "a new device needs a model (e.g. GXP2170)".into()));
                continue;
            }
        };
        let mut row_ok = true;
        let mut has_keys = false;
        for ((col, name), cell) in columns.iter().zip(headers.iter()).zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            if let Some(p) = super::text_problem(cell, matches!(col, Column::Notes)) {
                errors.push(err(name, p));
                row_ok = false;
                continue;
            }
            match col {
                Column::Mac | Column::Model => {}
                Column::Label => device.label = cell.to_string(),
                Column::Location => device.location = cell.to_string(),
                Column::Notes => device.notes = cell.to_string(),
                Column::Account(i, f) => {
                    while device.accounts.len() <= *i {
                        device.accounts.push(Account::default());
                    }
                    let a = &mut device.accounts[*i];
                    match f {
                        AccountField::UserId => a.user_id = cell.to_string(),
                        AccountField::AuthId => a.auth_id = cell.to_string(),
                        AccountField::Password => a.password = cell.to_string(),
                        AccountField::DisplayName => a.display_name = cell.to_string(),
                        AccountField::Name => a.name = cell.to_string(),
                        AccountField::SipServer => {
                            if let Err(p) = crate::catalog::check_value(&crate::catalog::ValueKind::Host, cell) {
                                errors.push(err(name, p));
                                row_ok = false;
                            }
                            a.sip_server = cell.to_string();
                        }
                    }
                }
                Column::Value(key) if crate::catalog::keys::is_key_setting(key) => {
                    device.values.set(key.clone(), cell);
                    has_keys = true;
                }
                Column::Value(key) => {
                    let family = crate::catalog::Family::of_model(&device.model).family;
                    if let Err(e) = cat.validate_in(family, key, cell) {
                        errors.push(err(name, e.to_string()));
                        row_ok = false;
                    }
                    device.values.set(key.clone(), cell);
                }
            }
        }
        if row_ok && has_keys {
            // Programmable keys are checked for this device's family and model, on
            // top of its model template, as `check` would.
            let mut issues = Vec::new();
            super::keys::check_layer("", &device.values, Some(&device.model), &mut issues);
            super::keys::check_layered(&out, "", &out.effective(&device), &device.model, true, &mut issues);
            for i in issues {
                errors.push(err(i.location.trim_start_matches('.'), i.message));
                row_ok = false;
            }
        }
        if !row_ok {
            continue;
        }
        if is_new {
            report.added.push(mac);
        } else if out.device(mac) == Some(&device) {
            report.unchanged.push(mac);
            continue;
        } else {
            report.updated.push(mac);
        }
        out.upsert_device(device);
    }
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    Ok((out, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_and_updates_with_accounts_and_overrides() {
        let mut site = Site::default();
        site.devices.push(Device::new("000b82000001".parse().unwrap(), "GXP2170".parse().unwrap()));
        let csv = "MAC,model,label,user_id,password,acct2_user_id,P1362\n\
                   00:0B:82:00:00:01,,Desk 1,201,pw1,301,de\n\
                   000b82000002,GXP2135,Desk 2,202,pw2,,\n";
        let (out, report) = import_csv(&site, csv).unwrap();
        assert_eq!(report.updated, vec!["000b82000001".parse().unwrap()]);
        assert_eq!(report.added, vec!["000b82000002".parse().unwrap()]);
        let d1 = &out.devices[0];
        assert_eq!(d1.label, "Desk 1");
        assert_eq!(d1.model.as_str(), "GXP2170", "empty model cell keeps the model");
        assert_eq!(d1.accounts[1].user_id, "301");
        assert_eq!(d1.values.get("P1362"), Some("de"));
        assert_eq!(out.devices[1].model.as_str(), "GXP2135");
        assert!(site.devices[0].label.is_empty(), "the input site is untouched");
    }

    #[test]
    fn bad_rows_change_nothing_and_are_all_named() {
        let site = Site::default();
        let csv = "mac,model,P212,sip_server\n\
                   000b82000001,GXP2170,1,pbx\n\
                   000b8200000,GXP2170,1,pbx\n\
                   000b82000003,,1,pbx\n\
                   000b82000004,GXP2170,7,pbx\n\
                   000b82000005,GXP2170,1,bad host\n\
                   000b82000001,GXP2170,1,pbx\n";
        let err = import_csv(&site, csv).unwrap_err();
        let ImportError::Rows(rows) = &err else { panic!("{err}") };
        let lines: Vec<u64> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7]);
        let text = err.to_string();
        assert!(text.contains("line 3, column mac: MAC address \"000b8200000\" has 11 hex digits"), "{text}");
        assert!(text.contains("line 4, column model: a new device needs a model"), "{text}");
        assert!(text.contains("line 5, column P212: P212 (Firmware Upgrade Via"), "{text}");
        assert!(text.contains("line 6, column sip_server"), "{text}");
        assert!(text.contains("line 7, column mac: 00:0B:82:00:00:01 appears on an earlier line"), "{text}");
    }

    /// Issue 27 item 16: the header is line 1 and each line break counts once,
    /// whatever the line ends (Excel writes CRLF; the csv crate's own count is
    /// one short per CRLF record).
    #[test]
    fn line_numbers_count_the_header_as_line_1_whatever_the_line_ends() {
        let site = Site::default();
        for end in ["\n", "\r\n", "\r"] {
            let csv =
                ["mac,model", "000b82000001,GXP2170", "000b82000002,GXP2170", "000b8200000,GXP2170", ""].join(end);
            let err = import_csv(&site, &csv).unwrap_err();
            let ImportError::Rows(rows) = &err else { panic!("{err}") };
            assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), vec![4], "line end {end:?}: {err}");
            assert!(err.to_string().contains("line 4, column mac"), "{err}");
        }
        // A blank line and a quoted cell across two lines still count as lines.
        let csv = "mac,model,notes\r\n\r\n000b82000001,GXP2170,\"two\r\nlines\"\r\n000b8200000,GXP2170,\r\n";
        let err = import_csv(&site, csv).unwrap_err();
        assert!(err.to_string().contains("line 5, column mac"), "{err}");
        // Unequal rows (a csv error of its own) are numbered the same way.
        let csv = "mac,model\r\n000b82000001,GXP2170\r\n000b82000002\r\n";
        let err = import_csv(&site, csv).unwrap_err();
        assert!(err.to_string().contains("line 3: has 1 cells; the header has 2"), "{err}");
    }

    #[test]
    fn line_at_counts_crlf_lf_and_lone_cr_once() {
        let text = "a\r\nb\nc\rd";
        assert_eq!([0, 3, 5, 7].map(|b| line_at(text, b)), [1, 2, 3, 4]);
        assert_eq!(line_at(text, 999), 4, "past the end: the last line");
    }

    #[test]
    fn key_columns_set_keys_checked_per_family() {
        let mut site = Site::default();
        site.devices.push(Device::new("000b82000001".parse().unwrap(), "GRP2612W".parse().unwrap()));
        let csv = "mac,model,key3_type,key3_value,key3_label,key3_account,mpk1_type\n\
                   000b82000001,,BLF,201,Anna,1,\n\
                   000b82000002,GXP2170,speed dial,5551234,,2,\n";
        let (out, report) = import_csv(&site, csv).unwrap();
        assert_eq!(report.added.len() + report.updated.len(), 2);
        let d = &out.devices[0].values;
        assert_eq!(
            [d.get("key.vpk.3.type"), d.get("key.vpk.3.value"), d.get("key.vpk.3.label"), d.get("key.vpk.3.account")],
            [Some("BLF"), Some("201"), Some("Anna"), Some("1")]
        );
        assert_eq!(out.devices[1].values.get("key.vpk.3.type"), Some("speed dial"));
        assert!(out.check().iter().all(|i| i.severity != crate::site::Severity::Error), "{:?}", out.check());
        // Per family: a GXP2170 has no MPKs; a BLF needs a value; a GXP1630 line key takes no BLF.
        let bad = "mac,model,key3_type,key3_value,mpk1_type\n\
                   000b82000003,GXP2170,blf,201,blf\n\
                   000b82000004,GRP2612W,blf,,\n\
                   000b82000005,GXP1630,blf,201,\n\
                   000b82000006,GRP2612W,blf,201,\n";
        let err = import_csv(&out, bad).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 2, column key.mpk.1: a GXP2170 has no MPKs"), "{text}");
        assert!(text.contains("line 3, column key.vpk.3: VPK 3 is BLF but has no value"), "{text}");
        assert!(text.contains("line 4, column key.vpk.3: VPK 3 cannot be BLF on GXP16xx"), "{text}");
        assert!(!text.contains("line 5"), "{text}");
        assert!(matches!(&err, ImportError::Rows(r) if r.len() == 3), "{text}");
        assert!(out.device("000b82000006".parse().unwrap()).is_none(), "a failed import changes nothing");
    }

    #[test]
    fn the_separator_is_found_in_the_header_and_quotes_hide_it() {
        assert_eq!(sniff_delimiter("mac,model\n1;2;3;4\n"), b',');
        assert_eq!(sniff_delimiter("MAC;Model;Label\n"), b';');
        assert_eq!(sniff_delimiter("\n\nmac\tmodel\tlabel\n"), b'\t');
        assert_eq!(sniff_delimiter("\"a;b;c\",mac\n"), b',', "separators inside quotes do not count");
        assert_eq!(sniff_delimiter("mac\n"), b',');
        assert_eq!(sniff_delimiter(""), b',');
    }

    #[test]
    fn windows_1252_is_read_when_the_bytes_are_not_utf8() {
        assert_eq!(decode_csv("Büro".as_bytes()), ("Büro".to_string(), None));
        assert_eq!(decode_csv(b"\xEF\xBB\xBFmac"), ("mac".to_string(), None), "the BOM is dropped");
        let (text, enc) = decode_csv(b"B\xfcro \x80 \x9c");
        assert_eq!(text, "Büro € œ");
        assert_eq!(enc, Some("windows-1252"));
    }

    #[test]
    fn header_problems() {
        let site = Site::default();
        assert_eq!(import_csv(&site, "model,label\nGXP2170,x\n").unwrap_err(), ImportError::NoMacColumn);
        assert_eq!(
            import_csv(&site, "mac,colour\n000b82000001,red\n").unwrap_err(),
            ImportError::UnknownColumn("colour".into())
        );
        assert!(matches!(import_csv(&site, "mac,model\n000b82000001,GXP2170,extra\n"), Err(ImportError::Rows(_))));
    }
}
