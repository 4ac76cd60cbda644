//! `gsprov params`: what the catalog knows for a model's family.

use serde_json::json;

use crate::catalog::ValueKind;
use crate::cli::ParamsArgs;

use super::{Error, Term};

/// `gsprov params MODEL`: what the catalog knows for the model's family, as
/// lines or one JSON object per setting. An unknown model gets the nearest
/// family and a warning on stderr.
pub fn params(args: &ParamsArgs, t: &mut Term) -> Result<(), Error> {
    use crate::catalog::{Family, FamilyCatalog};
    let matched = Family::of_model(&args.model);
    if let Some(w) = matched.warning(&args.model) {
        writeln!(t.err, "warning: {w}")?;
    }
    let table = FamilyCatalog::get(matched.family);
    let needle = args.search.as_deref().map(str::to_lowercase);
    let hit = |p: &crate::catalog::Param| {
        needle.as_deref().is_none_or(|n| {
            let id = p.id.map(|i| i.to_string().to_lowercase()).unwrap_or_default();
            id == n
                || id.strip_prefix('p') == Some(n)
                || p.label.to_lowercase().contains(n)
                || p.section.to_lowercase().contains(n)
                || p.alias.as_deref().is_some_and(|a| a.to_lowercase().contains(n))
        })
    };
    let kind_name = |k: &ValueKind| match k {
        ValueKind::Text { .. } => "text",
        ValueKind::Password => "password",
        ValueKind::Bool => "bool",
        ValueKind::Int { .. } => "int",
        ValueKind::Enum(_) => "enum",
        ValueKind::Host => "host",
        ValueKind::ServerPath => "server-path",
    };
    let mut shown = 0usize;
    for p in table.params().iter().filter(|p| hit(p)) {
        shown += 1;
        if args.json {
            let mut o = serde_json::Map::new();
            o.insert("family".into(), json!(matched.family.name()));
            o.insert("p".into(), json!(p.id.map(|i| i.to_string())));
            o.insert("alias".into(), json!(p.alias));
            o.insert("label".into(), json!(p.label));
            o.insert("section".into(), json!(p.section));
            o.insert("type".into(), json!(kind_name(&p.kind)));
            match &p.kind {
                ValueKind::Int { min, max } if *min != i64::MIN => {
                    let ranges: Vec<[i64; 2]> = if p.ranges.is_empty() {
                        vec![[*min, *max]]
                    } else {
                        p.ranges.iter().map(|(a, b)| [*a, *b]).collect()
                    };
                    o.insert("ranges".into(), json!(ranges));
                }
                ValueKind::Enum(codes) => {
                    let values: Vec<_> = codes.iter().map(|(c, m)| json!({"value": c, "meaning": m})).collect();
                    o.insert("values".into(), json!(values));
                }
                ValueKind::Text { max_len: Some(n) } => {
                    o.insert("max_len".into(), json!(n));
                }
                _ => {}
            }
            o.insert("default".into(), json!((!p.default.is_empty()).then_some(&p.default)));
            o.insert("mandatory".into(), json!(p.mandatory));
            o.insert("source".into(), json!(p.source));
            if !p.notes.is_empty() {
                o.insert("notes".into(), json!(p.notes));
            }
            writeln!(t.out, "{}", serde_json::Value::Object(o))?;
        } else {
            let id = p.id.map(|i| i.to_string()).unwrap_or_else(|| "-".into());
            let label = if p.label.is_empty() { "(no label in the template)" } else { &p.label };
            let mut line = format!("{id:<7} {label}");
            if let Some(a) = &p.alias {
                line.push_str(&format!("  [{a}]"));
            }
            line.push_str(&format!("  {}", kind_name(&p.kind)));
            if !p.allowed.is_empty() {
                line.push_str(&format!(" {}", p.allowed));
            }
            if !p.default.is_empty() {
                line.push_str(&format!("  default {}", p.default));
            }
            if !p.section.is_empty() {
                line.push_str(&format!("  ({})", p.section));
            }
            writeln!(t.out, "{line}")?;
        }
    }
    if !args.json {
        let sources: Vec<String> = table
            .templates()
            .iter()
            .map(|s| format!("{} {}{}", s.folder, s.firmware, if s.xml == 2 { " (v2)" } else { "" }))
            .collect();
        writeln!(
            t.err,
            "{}: family {}, {shown} of {} settings (from the templates {})",
            args.model,
            matched.family,
            table.params().len(),
            sources.join(", ")
        )?;
    }
    Ok(())
}
