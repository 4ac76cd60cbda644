//! The terminal front end: `new`, `check`, `generate`, `import`, `decode`.
//! Prints to the writers it is given; every failure is a typed [`Error`] whose
//! [`Error::exit_code`] is the documented exit code.

use std::io::Write;
use std::path::Path;

use serde_json::json;

use crate::catalog::{Catalog, ValueKind};
use crate::cli::{CheckArgs, DecodeArgs, GenerateArgs, ImportArgs, NewArgs, exit};
use crate::formats::{binary, crypto, xml};
use crate::generate;
use crate::site::{self, Severity, Site};
use crate::storage::{self, StorageError};

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0} error(s) in the site; nothing was generated (see above, or run `gsprov check`)")]
    SiteHasErrors(usize),
    #[error("{0} error(s) found")]
    CheckFailed(usize),
    #[error("{0}")]
    Import(#[from] site::ImportError),
    #[error(transparent)]
    Generate(#[from] generate::GenerateError),
    #[error("{path}: {message}")]
    Undecodable { path: String, message: String },
    #[error("{0} exists; use --force to replace it (the old file is kept as .bak)")]
    Exists(String),
    #[error("cannot write to the terminal: {0}")]
    Output(#[from] std::io::Error),
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Storage(e) if e.is_malformed() => exit::MALFORMED,
            Error::Storage(_) | Error::Output(_) | Error::Exists(_) => exit::IO,
            Error::SiteHasErrors(_) | Error::CheckFailed(_) | Error::Import(_) | Error::Generate(_) => exit::PROBLEMS,
            Error::Undecodable { .. } => exit::MALFORMED,
        }
    }
}

/// Where a command prints: results to `out`, problems and notes to `err`.
pub struct Term<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// A fresh random salt for each encrypted file.
pub fn os_salt() -> [u8; 8] {
    let mut s = [0u8; 8];
    // The OS generator only fails on exotic platforms; a fixed salt would still
    // decrypt correctly, so fall back to time-derived bytes rather than abort.
    if getrandom::fill(&mut s).is_err() {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        s = (t as u64).to_le_bytes();
    }
    s
}

/// The demo office shipped in `assets/`.
pub fn demo_site() -> Site {
    storage::parse_site(Path::new("assets/demo.gsprov.toml"), DEMO_SITE).expect("the demo site parses (unit-tested)")
}

pub const DEMO_SITE: &str = include_str!("../assets/demo.gsprov.toml");

pub fn new(args: &NewArgs, t: &mut Term) -> Result<(), Error> {
    if args.site.exists() && !args.force {
        return Err(Error::Exists(args.site.display().to_string()));
    }
    let site = if args.demo {
        demo_site()
    } else {
        let mut s = Site { name: "New site".into(), ..Site::default() };
        s.defaults.set("P212", "1");
        s.defaults.set("P237", "192.168.1.2:8080");
        s.defaults.set("P47", "pbx.example.com");
        s
    };
    storage::save_site(&args.site, &site)?;
    writeln!(t.out, "wrote {}", args.site.display())?;
    Ok(())
}

fn print_issues(issues: &[site::Issue], t: &mut Term) -> Result<usize, Error> {
    for i in issues {
        writeln!(t.err, "{i}")?;
    }
    Ok(issues.iter().filter(|i| i.severity == Severity::Error).count())
}

pub fn check(args: &CheckArgs, t: &mut Term) -> Result<(), Error> {
    let site = storage::load_site(&args.site)?;
    let issues = site.check();
    if args.json {
        for i in &issues {
            writeln!(t.out, "{}", serde_json::to_string(i).unwrap_or_default())?;
        }
    } else {
        for i in &issues {
            writeln!(t.out, "{i}")?;
        }
    }
    let errors = issues.iter().filter(|i| i.severity == Severity::Error).count();
    if !args.json {
        writeln!(
            t.err,
            "{}: {} device(s), {errors} error(s), {} warning(s)",
            args.site.display(),
            site.devices.len(),
            issues.len() - errors
        )?;
    }
    if errors > 0 { Err(Error::CheckFailed(errors)) } else { Ok(()) }
}

pub fn generate(args: &GenerateArgs, t: &mut Term) -> Result<(), Error> {
    let site = storage::load_site(&args.site)?;
    let errors =
        print_issues(&site.check().into_iter().filter(|i| i.severity == Severity::Error).collect::<Vec<_>>(), t)?;
    if errors > 0 {
        return Err(Error::SiteHasErrors(errors));
    }
    let output = generate::generate(&site, &mut os_salt)?;
    print_issues(&output.warnings, t)?;
    let extras = [
        ("nginx.conf", generate::nginx_conf(&site).into_bytes()),
        ("README.txt", generate::tree_readme(&site, &output).into_bytes()),
    ];
    storage::write_tree(&args.out, &output, &extras)?;
    if args.json {
        for f in &output.files {
            let line = json!({
                "name": f.name, "kind": f.kind, "device": f.device.map(|m| m.to_string()),
                "model": f.model.as_ref().map(|m| m.to_string()), "encrypted": f.encrypted, "bytes": f.bytes.len(),
            });
            writeln!(t.out, "{line}")?;
        }
    } else {
        writeln!(
            t.out,
            "wrote {} files ({} devices, {} bytes) to {}",
            output.files.len(),
            site.devices.len(),
            output.total_bytes(),
            args.out.display()
        )?;
    }
    Ok(())
}

pub fn import(args: &ImportArgs, t: &mut Term) -> Result<(), Error> {
    let site = storage::load_site(&args.site)?;
    let text = storage::read_text(&args.csv)?;
    let (updated, report) = site::import_csv(&site, &text)?;
    for w in &report.warnings {
        writeln!(t.err, "warning: {}: {w}", args.csv.display())?;
    }
    let verb = if args.dry_run { "would add" } else { "added" };
    writeln!(
        t.out,
        "{verb} {} device(s), {} {} updated",
        report.added.len(),
        report.updated.len(),
        if args.dry_run { "would be" } else { "" }.trim()
    )?;
    for m in &report.added {
        writeln!(t.out, "  + {m}")?;
    }
    for m in &report.updated {
        writeln!(t.out, "  ~ {m}")?;
    }
    if !args.dry_run {
        storage::save_site(&args.site, &updated)?;
    }
    Ok(())
}

/// What `decode` found in a file.
struct Decoded {
    format: String,
    mac: Option<String>,
    notes: Vec<String>,
    params: Vec<(String, String)>,
}

pub fn decode(args: &DecodeArgs, t: &mut Term) -> Result<(), Error> {
    let path = args.file.display().to_string();
    let bytes = storage::read_bytes(&args.file)?;
    let bad = |message: String| Error::Undecodable { path: path.clone(), message };
    let decoded = if crypto::is_salted(&bytes) {
        let Some(pw) = &args.password else {
            return Err(bad("the file is encrypted (OpenSSL Salted__); give the XML password with --password or GSPROV_XML_PASSWORD".into()));
        };
        let plain = crypto::decrypt(&bytes, pw.as_bytes(), args.digest.into()).map_err(|e| bad(e.to_string()))?;
        let mut d = decode_xml(&plain).map_err(bad)?;
        d.format =
            format!("encrypted {} (AES-256-CBC, {} key derivation)", d.format, crypto::Digest::from(args.digest));
        d
    } else if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        decode_xml(&bytes).map_err(bad)?
    } else {
        let b = binary::decode(&bytes).map_err(|e| bad(format!("not a binary cfg file: {e}")))?;
        let mut notes =
            vec![format!("length {} words ({})", b.length_words, if b.length_ok { "ok" } else { "MISMATCH" })];
        notes.push(format!(
            "checksum {:04x} ({})",
            b.checksum,
            if b.checksum_ok { "ok" } else { "BAD: the device will reject this file" }
        ));
        if let Some(g) = &b.gnkey {
            notes.push(format!("gnkey {g}"));
        }
        Decoded {
            format: "legacy binary cfg".into(),
            mac: Some(b.mac.to_string()),
            notes,
            params: b.params.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        }
    };
    let cat = Catalog::get();
    let shown = |k: &str, v: &str| -> String {
        let secret = cat.lookup(k).is_some_and(|p| p.kind == ValueKind::Password)
            || k.ends_with(".password")
            || k.ends_with("Password");
        if secret && !args.show_secrets && !v.is_empty() { "********".into() } else { v.to_string() }
    };
    if args.json {
        let params: serde_json::Map<String, serde_json::Value> =
            decoded.params.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(shown(k, v)))).collect();
        writeln!(
            t.out,
            "{}",
            json!({"format": decoded.format, "mac": decoded.mac, "notes": decoded.notes, "params": params})
        )?;
    } else {
        writeln!(t.out, "# {path}: {}", decoded.format)?;
        if let Some(m) = &decoded.mac {
            writeln!(t.out, "# mac {m}")?;
        }
        for n in &decoded.notes {
            writeln!(t.out, "# {n}")?;
        }
        for (k, v) in &decoded.params {
            let label = cat.lookup(k).map(|p| format!("  # {}", p.label)).unwrap_or_default();
            writeln!(t.out, "{k} = {}{label}", shown(k, v))?;
        }
    }
    Ok(())
}

fn decode_xml(bytes: &[u8]) -> Result<Decoded, String> {
    let doc = xml::read(bytes).map_err(|e| format!("not a gs_provision XML file: {e}"))?;
    let format = match doc.version {
        xml::Version::V1 => "XML version 1 (P-values)",
        xml::Version::V2 => "XML version 2 (aliases)",
    };
    Ok(Decoded {
        format: format.into(),
        mac: doc.mac.map(|m| m.to_string()),
        notes: Vec::new(),
        params: doc
            .entries
            .into_iter()
            .map(|(k, v)| {
                let k = match k {
                    xml::Key::P(id) => id.to_string(),
                    xml::Key::Alias(a) => a,
                };
                (k, v)
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_site_parses() {
        assert!(demo_site().devices.len() >= 4);
    }
}
