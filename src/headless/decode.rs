//! `gsprov decode`: any served file read back, and the printer of decoded values
//! (`fetch` prints with it too).

use serde_json::json;

use crate::catalog::{Catalog, ValueKind};
use crate::cli::DecodeArgs;
use crate::formats::decode::{self, Decoded};
use crate::storage;

use super::{Error, Term};

pub fn decode(args: &DecodeArgs, t: &mut Term) -> Result<(), Error> {
    let path = args.file.display().to_string();
    let bytes = storage::read_bytes(&args.file)?;
    let decoded = decode::any(&bytes, args.password.as_deref(), args.digest.into())
        .map_err(|e| Error::Undecodable { path: path.clone(), message: e.to_string() })?;
    print_decoded(&path, &decoded, args.show_secrets, args.json, serde_json::Map::new(), t)
}

/// Prints decoded parameters, passwords masked unless `show_secrets`. `extra`
/// goes into the JSON object.
pub(super) fn print_decoded(
    label: &str,
    decoded: &Decoded,
    show_secrets: bool,
    json_out: bool,
    extra: serde_json::Map<String, serde_json::Value>,
    t: &mut Term,
) -> Result<(), Error> {
    let cat = Catalog::get();
    let shown = |k: &str, v: &str| -> String {
        let secret = cat.lookup(k).is_some_and(|p| p.kind == ValueKind::Password)
            || k.ends_with(".password")
            || k.ends_with("Password");
        if secret && !show_secrets && !v.is_empty() { "********".into() } else { v.to_string() }
    };
    if json_out {
        let params: serde_json::Map<String, serde_json::Value> =
            decoded.params.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(shown(k, v)))).collect();
        let mut obj = extra;
        obj.insert("format".into(), json!(decoded.format));
        obj.insert("mac".into(), json!(decoded.mac));
        obj.insert("notes".into(), json!(decoded.notes));
        obj.insert("params".into(), serde_json::Value::Object(params));
        writeln!(t.out, "{}", serde_json::Value::Object(obj))?;
    } else {
        writeln!(t.out, "# {label}: {}", decoded.format)?;
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
