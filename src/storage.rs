//! The only module that reads or writes the technician's files: site files
//! (atomic save with one `.bak`), CSV and config files given on the command
//! line, and exported trees (written to a temporary folder, then swapped in).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::generate::Output;
use crate::site::{FORMAT_VERSION, Site};

/// Marks a folder as written by gsprov, so a later export may replace it.
pub const EXPORT_MARKER: &str = ".gsprov-export";

/// What went wrong with a file, and which one.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}:{column}: {message}")]
    Syntax { path: PathBuf, line: usize, column: usize, message: String },
    #[error(
        "{path} was written by a newer gsprov (format_version {found}; this build reads up to {FORMAT_VERSION}); update gsprov"
    )]
    NewerFormat { path: PathBuf, found: i64 },
    #[error("{path} exists and was not written by gsprov (no {EXPORT_MARKER} inside); choose an empty or new folder")]
    NotAnExport { path: PathBuf },
    #[error("{path} is not valid UTF-8 text")]
    NotText { path: PathBuf },
}

impl StorageError {
    /// True for a file that exists but whose content is malformed.
    pub fn is_malformed(&self) -> bool {
        matches!(self, StorageError::Syntax { .. } | StorageError::NewerFormat { .. } | StorageError::NotText { .. })
    }
}

pub fn read_bytes(path: &Path) -> Result<Vec<u8>, StorageError> {
    fs::read(path).map_err(|source| StorageError::Read { path: path.to_path_buf(), source })
}

pub fn read_text(path: &Path) -> Result<String, StorageError> {
    String::from_utf8(read_bytes(path)?).map_err(|_| StorageError::NotText { path: path.to_path_buf() })
}

/// Parses a site from text; `path` only names it in errors.
pub fn parse_site(path: &Path, text: &str) -> Result<Site, StorageError> {
    let syntax = |e: toml::de::Error| {
        let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
        StorageError::Syntax { path: path.to_path_buf(), line, column, message: e.message().trim().to_string() }
    };
    // Parsed once (a 10,000-device site is megabytes); the document tree is
    // looked at before it is turned into a `Site`.
    let root = toml::de::DeTable::parse(text).map_err(syntax)?;
    if !integers_fit_i64(root.get_ref()) {
        // A `toml::Table` refuses integers beyond i64 with its own message and
        // span; reading one reproduces exactly that error.
        toml::from_str::<toml::Table>(text).map_err(syntax)?;
    }
    // Look at the version first: a newer file's new fields are not typos.
    if let Some(found) = root.get_ref().get("format_version").and_then(|v| as_i64(v.get_ref()))
        && found > i64::from(FORMAT_VERSION)
    {
        return Err(StorageError::NewerFormat { path: path.to_path_buf(), found });
    }
    serde::Deserialize::deserialize(toml::de::Deserializer::from(root)).map_err(syntax)
}

fn as_i64(v: &toml::de::DeValue<'_>) -> Option<i64> {
    v.as_integer().and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok())
}

fn integers_fit_i64(table: &toml::de::DeTable<'_>) -> bool {
    fn fits(v: &toml::de::DeValue<'_>) -> bool {
        match v {
            toml::de::DeValue::Integer(_) => as_i64(v).is_some(),
            toml::de::DeValue::Array(a) => a.iter().all(|x| fits(x.get_ref())),
            toml::de::DeValue::Table(t) => integers_fit_i64(t),
            _ => true,
        }
    }
    table.values().all(|v| fits(v.get_ref()))
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

pub fn load_site(path: &Path) -> Result<Site, StorageError> {
    parse_site(path, &read_text(path)?)
}

/// Serialises a site the way it is saved.
pub fn site_to_toml(site: &Site) -> String {
    let mut s = toml::to_string_pretty(site).unwrap_or_else(|e| format!("# serialisation failed: {e}\n"));
    s.insert_str(0, "# gsprov site file. Edit with gsprov, or by hand: `gsprov check` validates it.\n");
    s
}

/// Atomic save: write a temporary file beside the target, fsync, keep the old
/// file as `<name>.bak`, rename into place. A crash leaves either the old or the
/// new file, never half of one.
pub fn save_site(path: &Path, site: &Site) -> Result<(), StorageError> {
    write_atomic(path, site_to_toml(site).as_bytes(), true)
}

/// Writes `bytes` to `path` atomically; with `backup`, the previous file is kept as `.bak`.
pub fn write_atomic(path: &Path, bytes: &[u8], backup: bool) -> Result<(), StorageError> {
    let werr = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StorageError::Write { path: p, source }
    };
    let dir = parent_dir(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "site".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp).map_err(werr(&tmp))?;
        f.write_all(bytes).map_err(werr(&tmp))?;
        f.sync_all().map_err(werr(&tmp))?;
        drop(f);
        if backup && path.exists() {
            let bak = dir.join(format!("{name}.bak"));
            fs::copy(path, &bak).map_err(werr(&bak))?;
        }
        fs::rename(&tmp, path).map_err(werr(path))?;
        sync_dir(&dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Best effort: persists a rename on file systems that need the directory synced.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes an export tree: every generated file plus `extras` (name, bytes), into
/// `out`. Built in a temporary sibling folder and swapped in, so a failure
/// leaves the previous tree as it was. Refuses to replace a non-empty folder
/// that gsprov did not write.
pub fn write_tree(out: &Path, files: &Output, extras: &[(&str, Vec<u8>)]) -> Result<(), StorageError> {
    if out.exists() {
        let empty = fs::read_dir(out)
            .map_err(|source| StorageError::Read { path: out.to_path_buf(), source })?
            .next()
            .is_none();
        if !empty && !out.join(EXPORT_MARKER).exists() {
            return Err(StorageError::NotAnExport { path: out.to_path_buf() });
        }
    }
    let dir = parent_dir(out);
    fs::create_dir_all(&dir).map_err(|source| StorageError::Write { path: dir.clone(), source })?;
    let base = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
    let tmp = dir.join(format!(".{base}.tmp-{}", std::process::id()));
    let old = dir.join(format!(".{base}.old-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let werr = |p: PathBuf| move |source| StorageError::Write { path: p, source };
    let result = (|| {
        fs::create_dir(&tmp).map_err(werr(tmp.clone()))?;
        let put = |name: &str, bytes: &[u8]| -> Result<(), StorageError> {
            // Names come from the generator (prefix/postfix checked by Site::check);
            // still, nothing may land outside the tree.
            if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
                return Err(StorageError::Write {
                    path: tmp.join(name),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "file name contains a path separator",
                    ),
                });
            }
            let p = tmp.join(name);
            fs::write(&p, bytes).map_err(werr(p))
        };
        for f in &files.files {
            put(&f.name, &f.bytes)?;
        }
        for (name, bytes) in extras {
            put(name, bytes)?;
        }
        put(
            EXPORT_MARKER,
            b"This folder is written by gsprov export; it is replaced as a whole on the next export.\n",
        )?;
        sync_dir(&tmp);
        if out.exists() {
            fs::rename(out, &old).map_err(werr(out.to_path_buf()))?;
        }
        if let Err(source) = fs::rename(&tmp, out) {
            let _ = fs::rename(&old, out);
            return Err(StorageError::Write { path: out.to_path_buf(), source });
        }
        sync_dir(&dir);
        Ok(())
    })();
    let _ = fs::remove_dir_all(&tmp);
    let _ = fs::remove_dir_all(&old);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_carry_line_and_column() {
        let err = parse_site(Path::new("x.gsprov.toml"), "name = \"a\"\n[defaults]\nP47 = \n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.gsprov.toml:3:"), "{msg}");
        assert!(err.is_malformed());
        let err = parse_site(Path::new("x"), "format_version = 99\nfuture = 1\n").unwrap_err();
        assert!(matches!(err, StorageError::NewerFormat { found: 99, .. }), "{err}");
        let err =
            parse_site(Path::new("x"), "[[devices]]\nmac = \"zz\"\nmodel = \"GXP2170\"\n").unwrap_err().to_string();
        assert!(err.starts_with("x:2:7:") && err.contains("\"zz\""), "{err}");
        let err = parse_site(Path::new("x"), "name = \"x\"\n[defaults]\nP1 = 18446744073709551615\n").unwrap_err();
        assert_eq!(err.to_string(), "x:3:6: u64 value was too large");
        let err = parse_site(Path::new("x"), "format_version = 0x7fffffff\n").unwrap_err();
        assert!(matches!(err, StorageError::NewerFormat { found: 0x7fffffff, .. }), "{err}");
    }

    #[test]
    fn save_is_atomic_and_keeps_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.gsprov.toml");
        let mut site = Site { name: "one".into(), ..Site::default() };
        save_site(&path, &site).unwrap();
        site.name = "two".into();
        save_site(&path, &site).unwrap();
        assert_eq!(load_site(&path).unwrap().name, "two");
        assert_eq!(load_site(&dir.path().join("s.gsprov.toml.bak")).unwrap().name, "one");
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn export_refuses_foreign_folders_and_replaces_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("home");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("thesis.doc"), b"precious").unwrap();
        let err = write_tree(&foreign, &Output::default(), &[]).unwrap_err();
        assert!(matches!(err, StorageError::NotAnExport { .. }));
        assert!(foreign.join("thesis.doc").exists());
        let out = dir.path().join("tree");
        write_tree(&out, &Output::default(), &[("a.txt", b"1".to_vec())]).unwrap();
        write_tree(&out, &Output::default(), &[("b.txt", b"2".to_vec())]).unwrap();
        assert!(!out.join("a.txt").exists() && out.join("b.txt").exists());
        let err = write_tree(&out, &Output::default(), &[("../escape", b"x".to_vec())]).unwrap_err();
        assert!(matches!(err, StorageError::Write { .. }));
        assert!(out.join("b.txt").exists(), "a failed export leaves the old tree");
        assert!(!dir.path().join("escape").exists());
    }
}
