//! The house's layering, checked: every `crate::x` path in `src/` must name a
//! module of a lower layer than the file's own (or its own module). The table
//! is the map in `src/lib.rs`; a module added there is added here.

use std::path::Path;

/// Bottom to top. A module may use any module of an earlier row; modules of
/// one row may not use each other.
const LAYERS: &[&[&str]] = &[
    &["ids", "logging"],
    &["formats"],
    &["catalog"],
    &["site"],
    &["generate"],
    &["adopt"],
    &["serving"],
    &["event"],
    &["storage"],
    &["services"],
    &["session"],
    &["cli"],
    &["headless", "ui"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|row| row.contains(&module))
}

/// The top-level module a file of `src/` belongs to (`src/ui/status.rs` -> `ui`).
fn module_of(rel: &str) -> String {
    let rel = rel.strip_prefix("src/").unwrap_or(rel);
    let first = rel.split('/').next().unwrap_or(rel);
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::<name>` a source text uses outside comments.
fn uses(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push((n + 1, name));
            }
            rest = after;
        }
    }
    out
}

/// `file:line: a -> b` for each use of a module that is not below the file's own.
fn violations(rel: &str, text: &str) -> Vec<String> {
    let own = module_of(rel);
    let Some(own_layer) = layer(&own) else {
        return vec![format!("{rel}: module `{own}` is not in the layering table (tests/layering.rs)")];
    };
    uses(text)
        .into_iter()
        .filter(|(_, used)| used != &own)
        .filter_map(|(line, used)| match layer(&used) {
            Some(l) if l < own_layer => None,
            Some(_) => Some(format!("{rel}:{line}: `{own}` uses `{used}`, which is not below it")),
            None => Some(format!("{rel}:{line}: `{own}` uses `{used}`, which is not in the layering table")),
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_uses_a_layer_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut bad = Vec::new();
    let mut checked = 0;
    for f in &files {
        let rel = f.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        if rel == "src/main.rs" || rel == "src/lib.rs" {
            continue; // the binary's entry and the crate root sit above everything.
        }
        bad.extend(violations(&rel, &std::fs::read_to_string(f).unwrap()));
        checked += 1;
    }
    assert!(checked >= 40, "only {checked} files read: is src/ where it should be?");
    assert!(bad.is_empty(), "upward or unknown uses:\n{}", bad.join("\n"));
}

#[test]
fn the_checker_catches_an_upward_use() {
    assert_eq!(
        violations("src/serving/router.rs", "use crate::ids::Mac;\nuse crate::services::Supervisor; // no\n"),
        vec!["src/serving/router.rs:2: `serving` uses `services`, which is not below it".to_string()]
    );
    assert!(violations("src/ui/log.rs", "// crate::headless in a comment\nuse crate::serving::Outcome;").is_empty());
    assert_eq!(violations("src/ui/mod.rs", "use crate::headless::x;").len(), 1, "front ends may not use each other");
    assert_eq!(violations("src/nowhere.rs", "").len(), 1, "a module missing from the table is reported");
}

#[test]
fn the_map_in_lib_rs_names_every_module_in_this_order() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    let declared: Vec<&str> =
        lib.lines().filter_map(|l| l.strip_prefix("pub mod ").and_then(|m| m.strip_suffix(';'))).collect();
    for m in &declared {
        assert!(layer(m).is_some(), "`{m}` is declared in lib.rs but not in the layering table");
    }
    // The crate doc lists the modules as [`name`] links, bottom layer first.
    let mapped: Vec<usize> = LAYERS
        .iter()
        .flat_map(|row| row.iter())
        .map(|m| lib.find(&format!("[`{m}`]")).unwrap_or_else(|| panic!("lib.rs's map does not name `{m}`")))
        .collect();
    let mut by_layer: Vec<(usize, usize)> =
        LAYERS.iter().enumerate().flat_map(|(i, row)| row.iter().map(move |_| i)).zip(mapped.iter().copied()).collect();
    by_layer.sort_by_key(|&(_, pos)| pos);
    let order: Vec<usize> = by_layer.iter().map(|&(l, _)| l).collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "lib.rs's map must list the layers bottom first, as tests/layering.rs does");
}
