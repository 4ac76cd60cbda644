//! The only module that reads or writes the technician's files: site files
//! (atomic save with one `.bak`), CSV and config files given on the command
//! line, exported trees (written to a temporary folder, then swapped in), and
//! the files beside a site that serving uses: the firmware folder (listed and
//! opened, never written), the request log (appended) and the HTTPS
//! certificate (created once, private key readable by the owner only).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::event::SitePaths;
use crate::generate::Output;
use crate::serving::FirmwareFile;
use crate::site::{FORMAT_VERSION, Site};

mod save;
pub use save::{Saved, firmware_dir_from, save_site, save_site_as, site_to_toml};

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
    #[error("{path} is empty: not a site (an empty file is not taken for an empty site); `gsprov new` makes one")]
    Empty { path: PathBuf },
}

impl StorageError {
    /// True for a file that exists but whose content is malformed.
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            StorageError::Syntax { .. }
                | StorageError::NewerFormat { .. }
                | StorageError::NotText { .. }
                | StorageError::Empty { .. }
        )
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
    // Nothing but blanks and comments: a truncated or wrong file, not a site.
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Err(StorageError::Empty { path: path.to_path_buf() });
    }
    match parse_in_halves(text) {
        Some(site) => Ok(site),
        None => parse_whole(path, text),
    }
}

/// [`parse_site`] in one piece.
fn parse_whole(path: &Path, text: &str) -> Result<Site, StorageError> {
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

/// Site files above this size are parsed in two halves at once.
const HALVES_ABOVE: usize = 256 * 1024;

/// A large site parsed on two threads (issue #15: a 10,000-device site is 3.6
/// MB, and parsing it was a fifth of `gsprov generate`'s time). The text is
/// cut before a `[[devices]]` header line near the middle: the first half is
/// the document up to there, the second that header and everything after it.
/// `None` unless the cut provably keeps the meaning; then [`parse_site`]
/// parses the whole text as usual, which also gives errors their true lines.
/// Why the cut cannot change the meaning:
/// - a header line inside a multi-line string leaves the first half with an
///   unterminated string: an error, so `None`;
/// - the second half must hold nothing but `devices` (its first line is a
///   `[[devices]]` header, so `[devices.…]` headers there belong to its own
///   devices); any other key or table is refused;
/// - the first half's `devices` must be an array of tables made by
///   `[[devices]]` headers (its span and its first element's are the same
///   header), which the second half's devices extend; an inline `devices =
///   [...]` could not be extended.
fn parse_in_halves(text: &str) -> Option<Site> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Tail {
        devices: Vec<crate::site::Device>,
    }
    if text.len() < HALVES_ABOVE {
        return None;
    }
    let mid = middle_device_header(text)?;
    let (head, tail) = text.split_at(mid);
    let made_by_headers = |root: &toml::de::DeTable<'_>| {
        root.get("devices").is_some_and(|d| {
            let first = d.get_ref().as_array().and_then(|a| a.iter().next());
            first.is_some_and(|f| f.span().start == d.span().start && head[d.span().start..].starts_with("[["))
        })
    };
    let (site, tail) = std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("gsprov-parse".into())
            .spawn_scoped(scope, || half::<Tail>(tail, |_| true));
        let site = half::<Site>(head, made_by_headers);
        let tail = match other {
            Ok(h) => h.join().ok().flatten(),
            Err(_) => half::<Tail>(tail, |_| true),
        };
        (site, tail)
    });
    let (mut site, tail) = (site?, tail?);
    site.devices.extend(tail.devices);
    Some(site)
}

/// One half of [`parse_in_halves`], checked as [`parse_site`] checks a whole
/// text (integers beyond i64 and a newer format version go to the full parse,
/// for its errors) and by `check`.
fn half<T: serde::de::DeserializeOwned>(text: &str, check: impl Fn(&toml::de::DeTable<'_>) -> bool) -> Option<T> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let table = root.get_ref();
    let newer =
        table.get("format_version").and_then(|v| as_i64(v.get_ref())).is_some_and(|v| v > i64::from(FORMAT_VERSION));
    if newer || !integers_fit_i64(table) || !check(table) {
        return None;
    }
    serde::Deserialize::deserialize(toml::de::Deserializer::from(root)).ok()
}

/// The byte offset of the first `[[devices]]` header line (at a line start,
/// comments allowed after it) from the middle of `text` on.
fn middle_device_header(text: &str) -> Option<usize> {
    let half = text.len() / 2;
    let mut at = half + text[half..].find('\n')? + 1;
    while at < text.len() {
        let line = text[at..].split('\n').next().unwrap_or("");
        if line.split('#').next().is_some_and(|l| l.trim_end() == "[[devices]]") {
            return Some(at);
        }
        at += line.len() + 1;
    }
    None
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

/// Writes `bytes` to `path` atomically; with `backup`, the previous file is kept as `.bak`.
pub fn write_atomic(path: &Path, bytes: &[u8], backup: bool) -> Result<(), StorageError> {
    let werr = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StorageError::Write { path: p, source }
    };
    let dir = parent_dir(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "site".into());
    // What an earlier run of this save left when it was killed (whole copies
    // of the site, passwords and all): removed now.
    remove_stale_files(&dir, &name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        // Owner-only while it is written: a copy left by a crash is never
        // readable by others, whatever the site's mode.
        let mut f = create_private(&tmp).map_err(werr(&tmp))?;
        f.write_all(bytes).map_err(werr(&tmp))?;
        f.sync_all().map_err(werr(&tmp))?;
        drop(f);
        // The replaced file's mode, owner and group carry over (a 0600 site
        // stays 0600), set only now, just before it takes the file's place.
        if let Ok(old) = fs::metadata(path) {
            keep_owner_and_mode(&tmp, &old);
        }
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

/// Creates a file readable by the owner only (site files and fetched configs
/// hold passwords; a replaced file's own mode is copied on afterwards).
fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
}

/// Gives `path` the mode (setgid included), owner and group of `like`, where
/// this process may (changing the owner needs root; the group, membership).
fn keep_owner_and_mode(path: &Path, like: &fs::Metadata) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let _ = std::os::unix::fs::chown(path, Some(like.uid()), Some(like.gid()));
        let _ = std::os::unix::fs::lchown(path, None, Some(like.gid()));
    }
    let _ = fs::set_permissions(path, like.permissions());
}

/// Marks a temporary folder as gsprov's, with the writing process's id, so a
/// later run can remove it when that process died (kill -9 during `generate`).
const TMP_MARKER: &str = ".gsprov-tmp";

/// Whether the process `pid` may still be the gsprov that wrote a temporary
/// file (unknown: assumed so, and its files are left alone). On Linux: gone,
/// or a zombie (killed with -9 and not yet reaped), counts as dead.
fn alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(target_os = "linux")]
    {
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
        // `pid (comm) S ...`: the state follows the last ')'.
        let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next());
        !matches!(state, Some("Z" | "X" | "x"))
    }
    #[cfg(not(target_os = "linux"))]
    {
        true
    }
}

/// Removes `.<name>.tmp-<pid>` files beside `name` that a killed run of
/// [`write_atomic`] left (only when that process is gone); the count removed.
fn remove_stale_files(dir: &Path, name: &str) -> usize {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    let prefix = format!(".{name}.tmp-");
    let mut removed = 0;
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file.strip_prefix(&prefix).and_then(|p| p.parse::<u32>().ok()) else { continue };
        if e.file_type().is_ok_and(|t| t.is_file()) && !alive(pid) && fs::remove_file(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Removes `.<base>.tmp-<pid>` / `.<base>.old-<pid>` folders beside an export
/// left by a run that died: only ours (marked) and only when that process is gone.
fn remove_stale(dir: &Path, base: &str) -> usize {
    let Ok(entries) = fs::read_dir(dir) else { return 0 };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = [".tmp-", ".old-"]
            .iter()
            .find_map(|k| name.strip_prefix(&format!(".{base}{k}")).and_then(|p| p.parse::<u32>().ok()))
        else {
            continue;
        };
        let p = e.path();
        let ours = p.join(TMP_MARKER).exists() || p.join(EXPORT_MARKER).exists();
        if !alive(pid) {
            // Unmarked and empty: killed between creating it and marking it.
            if (ours && fs::remove_dir_all(&p).is_ok()) || (!ours && fs::remove_dir(&p).is_ok()) {
                removed += 1;
            }
        }
    }
    removed
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
    remove_stale(&dir, &base);
    let tmp = dir.join(format!(".{base}.tmp-{}", std::process::id()));
    let old = dir.join(format!(".{base}.old-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    let werr = |p: PathBuf| move |source| StorageError::Write { path: p, source };
    match fs::create_dir(&tmp) {
        Ok(()) => {}
        // Nothing can be written there at all, in place or beside: say so, not a temporary name.
        Err(e) if e.kind() == std::io::ErrorKind::ReadOnlyFilesystem => return Err(read_only(out, &dir, e)),
        // The folder is there but nothing can be made beside it (`/srv/tftp`
        // writable by the technician in a `/srv` owned by root, or on a
        // read-only file system): update it in place instead.
        Err(_) if out.is_dir() => {
            return write_in_place(out, files, extras);
        }
        // No folder yet, and none can be made beside where it goes: say what
        // must be writable and why, not the temporary name.
        Err(e) => {
            let why = format!(
                "{e}: gsprov builds a new export as a temporary folder in {} and renames it into place, so that \
                 folder must be writable; or create {} yourself (writable by you) and run again: gsprov then \
                 writes inside it",
                dir.display(),
                out.display()
            );
            return Err(StorageError::Write { path: out.to_path_buf(), source: std::io::Error::new(e.kind(), why) });
        }
    }
    let result = (|| {
        fs::write(tmp.join(TMP_MARKER), std::process::id().to_string()).map_err(werr(tmp.join(TMP_MARKER)))?;
        // A regenerated folder keeps its mode (setgid 2750...), owner and group;
        // set before the files are written, so they inherit the group.
        if let Ok(m) = fs::metadata(out) {
            keep_owner_and_mode(&tmp, &m);
        }
        // `same_as`: a file already written with the same bytes, to hard-link to.
        let put = |name: &str, bytes: &[u8], same_as: Option<&Path>| -> Result<(), StorageError> {
            // Names come from the generator (prefix/postfix checked by Site::check);
            // still, nothing may land outside the tree.
            if !is_bare_name(name) {
                return Err(StorageError::Write {
                    path: tmp.join(name),
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        "file name contains a path separator",
                    ),
                });
            }
            let p = tmp.join(name);
            // A hard link costs a directory entry instead of a second file; where
            // links are not supported, write a copy.
            if same_as.is_some_and(|first| fs::hard_link(first, &p).is_ok()) {
                return Ok(());
            }
            fs::write(&p, bytes).map_err(werr(p))
        };
        // The `.bin` alias shares its bytes (one `Arc`) with `cfg<mac>`: link
        // it. Files sharing bytes form a group (the first is written, the
        // others linked to it); the groups are written by both cores, each
        // group on one of them, so a link never waits for the other thread.
        let mut groups: Vec<Vec<&crate::generate::File>> = Vec::new();
        let mut group_of: std::collections::HashMap<*const u8, usize> = std::collections::HashMap::new();
        for f in &files.files {
            match group_of.get(&f.bytes.as_ptr()) {
                Some(&g) if !f.bytes.is_empty() => groups[g].push(f),
                _ => {
                    group_of.insert(f.bytes.as_ptr(), groups.len());
                    groups.push(vec![f]);
                }
            }
        }
        in_parallel(&groups, |group| {
            let first = tmp.join(&group[0].name);
            for (i, f) in group.iter().enumerate() {
                put(&f.name, &f.bytes, (i > 0).then_some(first.as_path()))?;
            }
            Ok(())
        })?;
        for (name, bytes) in extras {
            put(name, bytes, None)?;
        }
        put(
            EXPORT_MARKER,
            b"This folder is written by gsprov export; it is replaced as a whole on the next export.\n",
            None,
        )?;
        let _ = fs::remove_file(tmp.join(TMP_MARKER));
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
    remove_tree(&old);
    result
}

/// The export folder `out` cannot be written because `on` (the folder itself
/// or the one it goes in) is on a file system mounted read-only.
fn read_only(out: &Path, on: &Path, e: std::io::Error) -> StorageError {
    let why = format!(
        "{e}: {} is on a file system mounted read-only, so nothing can be written there; remount it read-write, \
         or export to a folder on a writable file system and copy it over",
        on.display()
    );
    StorageError::Write { path: out.to_path_buf(), source: std::io::Error::new(e.kind(), why) }
}

/// Runs `work` over `items` on two threads (the machines gsprov runs on have
/// at least two cores), half the items each; the first error wins. Writing and
/// removing tens of thousands of small files is system-call bound, and the
/// kernel does two such streams at once (issue #15: 10,000 devices).
fn in_parallel<T: Sync>(items: &[T], work: impl Fn(&T) -> Result<(), StorageError> + Sync) -> Result<(), StorageError> {
    const MIN_FOR_THREADS: usize = 256;
    if items.len() < MIN_FOR_THREADS {
        return items.iter().try_for_each(&work);
    }
    let (a, b) = items.split_at(items.len() / 2);
    std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("gsprov-files".into())
            .spawn_scoped(scope, || b.iter().try_for_each(&work));
        let mine = a.iter().try_for_each(&work);
        // A thread that cannot start leaves its half to this one.
        let theirs = match other {
            Ok(h) => h.join().unwrap_or_else(|_| {
                Err(StorageError::Write {
                    path: PathBuf::from("."),
                    source: std::io::Error::other("a file-writing thread panicked"),
                })
            }),
            Err(_) => b.iter().try_for_each(&work),
        };
        mine.and(theirs)
    })
}

/// Best effort: removes a folder written by [`write_tree`] (flat: files
/// only), both cores unlinking half of it; whatever is left (a subfolder, an
/// error) goes through `remove_dir_all`.
fn remove_tree(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    // The markers go last: a run killed half-way through leaves a folder a
    // later run still knows as its own (and removes), not an anonymous one.
    let (markers, paths): (Vec<PathBuf>, Vec<PathBuf>) = entries
        .flatten()
        .map(|e| e.path())
        .partition(|p| p.file_name().is_some_and(|n| n == EXPORT_MARKER || n == TMP_MARKER));
    let _ = in_parallel(&paths, |p| {
        let _ = fs::remove_file(p);
        Ok(())
    });
    for m in markers {
        let _ = fs::remove_file(m);
    }
    let _ = fs::remove_dir(dir).or_else(|_| fs::remove_dir_all(dir));
}

/// [`write_tree`] when the folder's parent is not writable: every file is
/// written beside its final name inside the folder and renamed into place
/// (each file atomic, the tree not: a failure can leave a mix of old and new
/// files, which the next run replaces), then files of the old tree that are no
/// longer generated are removed.
fn write_in_place(out: &Path, files: &Output, extras: &[(&str, Vec<u8>)]) -> Result<(), StorageError> {
    let werr = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StorageError::Write { path: p, source }
    };
    let mut names: std::collections::HashSet<String> = std::collections::HashSet::new();
    let all =
        files.files.iter().map(|f| (f.name.as_str(), &f.bytes[..])).chain(extras.iter().map(|(n, b)| (*n, &b[..])));
    let marker: &[u8] = b"This folder is written by gsprov export; it is replaced as a whole on the next export.\n";
    for (name, bytes) in all.chain(std::iter::once((EXPORT_MARKER, marker))) {
        if !is_bare_name(name) {
            return Err(StorageError::Write {
                path: out.join(name),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "file name contains a path separator"),
            });
        }
        let tmp = out.join(format!(".{name}.tmp-{}", std::process::id()));
        let result = fs::write(&tmp, bytes).map_err(|e| match e.kind() {
            std::io::ErrorKind::ReadOnlyFilesystem => read_only(out, out, e),
            _ => werr(&tmp)(e),
        });
        let result = result.and_then(|()| {
            let dest = out.join(name);
            fs::rename(&tmp, &dest).map_err(werr(&dest))
        });
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
            return result;
        }
        names.insert(name.to_string());
    }
    if let Ok(entries) = fs::read_dir(out) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !names.contains(&name) && e.file_type().is_ok_and(|t| t.is_file()) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
    sync_dir(out);
    Ok(())
}

/// The files serving keeps beside `site_path` (`office.gsprov.toml`):
/// `office.requests.jsonl`, `office.tls.pem`, and the firmware folder named by
/// the site (relative to the site file's folder).
pub fn site_paths(site_path: &Path, firmware_dir: &str) -> SitePaths {
    let dir = parent_dir(site_path);
    let file = site_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "site".into());
    let stem = file.strip_suffix(".gsprov.toml").or_else(|| file.strip_suffix(".toml")).unwrap_or(&file).to_string();
    SitePaths {
        firmware_dir: (!firmware_dir.trim().is_empty()).then(|| dir.join(firmware_dir.trim())),
        request_log: Some(dir.join(format!("{stem}.requests.jsonl"))),
        tls_identity: Some(dir.join(format!("{stem}.tls.pem"))),
    }
}

/// The last address each device made a request from, read from the tail (at
/// most [`REQUEST_LOG_TAIL`] bytes) of a request log (`*.requests.jsonl`).
/// A missing log is an empty map; unreadable lines are skipped.
pub fn last_clients(log: &Path) -> Result<std::collections::BTreeMap<crate::ids::Mac, std::net::IpAddr>, StorageError> {
    let mut out = std::collections::BTreeMap::new();
    for v in log_tail(log)?.into_iter().filter(passed_policy) {
        let mac = v["mac"].as_str().and_then(|m| m.parse().ok());
        let client = v["client"].as_str().and_then(|c| c.parse::<std::net::SocketAddr>().ok());
        // A DHCP client asks from 0.0.0.0 before it has an address: no address to remember.
        let client = client.filter(|c| !c.ip().is_unspecified());
        if let (Some(mac), Some(client)) = (mac, client) {
            out.insert(mac, client.ip());
        }
    }
    Ok(out)
}

/// The bench DHCP server's leases in the same tail of the request log as
/// [`last_clients`] (records of protocol `dhcp`): each MAC's last
/// acknowledged address and when it expires (Unix seconds), unless a later
/// RELEASE or DECLINE gave it back. A restart keeps its leases this way.
pub fn dhcp_leases(
    log: &Path,
) -> Result<std::collections::BTreeMap<crate::ids::Mac, (std::net::Ipv4Addr, u64)>, StorageError> {
    let mut out = std::collections::BTreeMap::new();
    for v in log_tail(log)? {
        if v["protocol"] != "dhcp" {
            continue;
        }
        let Some(mac) = v["mac"].as_str().and_then(|m| m.parse::<crate::ids::Mac>().ok()) else { continue };
        if matches!(v["method"].as_str(), Some("RELEASE" | "DECLINE")) {
            out.remove(&mac);
            continue;
        }
        let lease = &v["lease"];
        if lease["bound"] != true {
            continue;
        }
        let ip = lease["ip"].as_str().and_then(|i| i.parse().ok());
        if let (Some(ip), Some(expires)) = (ip, lease["expires"].as_u64()) {
            out.insert(mac, (ip, expires));
        }
    }
    Ok(out)
}

/// The requests in the last [`REQUEST_LOG_TAIL`] bytes of a request log,
/// oldest first, read back as records (the memory of serving a front end
/// shows again on open). A missing log has none; lines that are not records
/// (a cut first line, garbage) are skipped.
pub fn request_history(log: &Path) -> Result<Vec<crate::serving::RequestRecord>, StorageError> {
    Ok(log_tail_text(log)?.lines().filter_map(crate::serving::RequestRecord::from_json).collect())
}

/// Whether a logged request passed the serving policy
/// ([`crate::serving::Outcome::passed_policy`]): a 401 or 403 teaches no
/// address or firmware, whatever MAC its User-Agent claimed.
fn passed_policy(v: &serde_json::Value) -> bool {
    !(v["result"] == "refused" && (v["reason"] == "unauthorized" || v["reason"] == "policy"))
}

/// The JSON records in the last [`REQUEST_LOG_TAIL`] bytes of a request log,
/// oldest first. A missing log has none; unreadable lines are skipped.
fn log_tail(log: &Path) -> Result<Vec<serde_json::Value>, StorageError> {
    Ok(log_tail_text(log)?.lines().filter_map(|line| serde_json::from_str(line).ok()).collect())
}

/// The last [`REQUEST_LOG_TAIL`] bytes of a request log as text (empty when
/// there is no log).
fn log_tail_text(log: &Path) -> Result<String, StorageError> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = match fs::File::open(log) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(e) => return Err(StorageError::Read { path: log.to_path_buf(), source: e }),
    };
    let io = |e| StorageError::Read { path: log.to_path_buf(), source: e };
    let len = f.metadata().map_err(io)?.len();
    f.seek(SeekFrom::Start(len.saturating_sub(REQUEST_LOG_TAIL))).map_err(io)?;
    let mut bytes = Vec::new();
    f.take(REQUEST_LOG_TAIL).read_to_end(&mut bytes).map_err(io)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// How much of a request log [`last_clients`] reads.
pub const REQUEST_LOG_TAIL: u64 = 4 << 20;

/// Whether a file name is one gsprov writes or a technician keeps secrets in:
/// site files and their backups, certificates and keys, request logs, temporary
/// files. None of them is ever served from the firmware folder, whatever it is.
pub fn is_private_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with('.')
        || n.contains(".tmp-")
        || n.contains(".old-")
        || [".toml", ".bak", ".pem", ".key", ".crt", ".p12", ".pfx", ".jsonl", ".log", ".csv", ".htpasswd"]
            .iter()
            .any(|ext| n.ends_with(ext))
        || n.contains(".jsonl.")
        || n.contains(".toml.")
        || n.contains(".log.")
        || n == EXPORT_MARKER
}

/// What [`list_firmware`] found: the files that may be served, and every
/// symbolic link met on the way with where it points and why it is refused.
#[derive(Debug, Clone, Default)]
pub struct FirmwareScan {
    pub files: Vec<FirmwareFile>,
    pub links: Vec<crate::serving::FirmwareLink>,
}

/// The regular files directly inside `dir` that may be served as firmware,
/// plus those in `<model>/<version>/` subfolders (stepped upgrades; the
/// version folder's name must read as a version, `1.0.11.3`), each with its
/// header read ([`read_image`]). Hidden files, other folders and
/// [`is_private_name`]s are skipped, and so is everything in `exclude` (the
/// site's request log and certificate, compared as canonical paths). A
/// symbolic link is followed only as [`link_refusal`] allows. A folder
/// holding an export (its [`EXPORT_MARKER`]) is refused whole: its files carry
/// configs. The names listed are the only firmware names ever served.
pub fn list_firmware(dir: &Path, exclude: &[PathBuf]) -> Result<FirmwareScan, StorageError> {
    let rerr = |source| StorageError::Read { path: dir.to_path_buf(), source };
    if dir.join(EXPORT_MARKER).exists() {
        return Err(rerr(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "it holds a gsprov export (generated configs with passwords); nothing in it is served as firmware",
        )));
    }
    let root = fs::canonicalize(dir).map_err(rerr)?;
    let excluded: Vec<PathBuf> = exclude.iter().filter_map(|p| fs::canonicalize(p).ok()).collect();
    let mut scan = FirmwareScan::default();
    let mut folders = Vec::new();
    for entry in fs::read_dir(dir).map_err(rerr)? {
        let entry = entry.map_err(rerr)?;
        let Ok(name) = entry.file_name().into_string() else { continue };
        if is_private_name(&name) {
            continue;
        }
        match fs::metadata(entry.path()) {
            Ok(m) if m.is_file() => scan.consider(&root, &excluded, &entry.path(), name, m.len()),
            Ok(m) if m.is_dir() => folders.push((entry.path(), name)),
            Ok(_) => {}
            Err(_) => scan.dangling(&entry.path(), name),
        }
    }
    for (model_dir, model) in folders {
        // A subfolder that cannot be read is skipped: the top level still serves.
        let Ok(versions) = fs::read_dir(&model_dir) else { continue };
        for v in versions.flatten() {
            let Ok(version) = v.file_name().into_string() else { continue };
            if version.parse::<crate::formats::firmware::Version>().is_err() || !v.path().is_dir() {
                continue;
            }
            let Ok(files) = fs::read_dir(v.path()) else { continue };
            for f in files.flatten() {
                let Ok(name) = f.file_name().into_string() else { continue };
                if is_private_name(&name) {
                    continue;
                }
                let name = format!("{model}/{version}/{name}");
                match fs::metadata(f.path()) {
                    Ok(m) if m.is_file() => scan.consider(&root, &excluded, &f.path(), name, m.len()),
                    Ok(_) => {}
                    Err(_) => scan.dangling(&f.path(), name),
                }
            }
        }
    }
    scan.files.sort_by(|a, b| a.name.cmp(&b.name));
    scan.links.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(scan)
}

impl FirmwareScan {
    /// Lists the regular file `path` (reached as `name` below the folder whose
    /// canonical path is `root`), unless it is one of gsprov's own files or a
    /// link [`link_refusal`] refuses.
    fn consider(&mut self, root: &Path, excluded: &[PathBuf], path: &Path, name: String, size: u64) {
        let Ok(real) = fs::canonicalize(path) else { return };
        if excluded.contains(&real) {
            if real != root.join(&name) {
                self.links.push(crate::serving::FirmwareLink {
                    name,
                    target: real.display().to_string(),
                    refused: Some("it is this site's request log or HTTPS key".into()),
                });
            }
            return;
        }
        let file = firmware_entry(path, name, size);
        if real == root.join(&file.name) {
            self.files.push(file);
            return;
        }
        let refused = link_refusal(root, excluded, &real, &file.image);
        self.links.push(crate::serving::FirmwareLink {
            name: file.name.clone(),
            target: real.display().to_string(),
            refused: refused.clone(),
        });
        if refused.is_none() {
            self.files.push(file);
        }
    }

    /// A link that leads nowhere: said, not listed.
    fn dangling(&mut self, path: &Path, name: String) {
        if let Ok(target) = fs::read_link(path) {
            self.links.push(crate::serving::FirmwareLink {
                name,
                target: target.display().to_string(),
                refused: Some("it leads nowhere (the file it names does not exist)".into()),
            });
        }
    }
}

/// Why a firmware-folder entry that resolves to `real` (canonical) somewhere
/// other than its own place in the folder `root` must not be served; `None`:
/// it may. A technician links images from a firmware library, so a link is
/// served when it stays inside the folder or its target is a Grandstream
/// firmware image (`image`, its header read); never when the target is one of
/// gsprov's own files (`excluded`: request log, HTTPS key) or has a name gsprov
/// keeps private ([`is_private_name`]: site files, keys, logs, temporary
/// files), wherever it is.
pub fn link_refusal(root: &Path, excluded: &[PathBuf], real: &Path, image: &crate::serving::Image) -> Option<String> {
    use crate::serving::Image;
    if excluded.iter().any(|e| e == real) {
        return Some("it is this site's request log or HTTPS key".into());
    }
    let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if is_private_name(&name) {
        return Some(format!(
            "{name} is a file gsprov keeps private (a site file, key, certificate, log, backup or temporary file)"
        ));
    }
    if real.starts_with(root) {
        return None;
    }
    match image {
        Image::Header(_) => None,
        Image::Unrecognised(why) => Some(format!(
            "it points outside the firmware folder and is not a recognised firmware image ({why}); only images are \
             served from outside the folder"
        )),
        Image::Unreadable(why) => Some(format!("it points outside the firmware folder and cannot be read ({why})")),
        Image::Unread => Some("it points outside the firmware folder and its header was not read".into()),
    }
}

/// The firmware folder `firmware_dir` of the site at `site_path`, listed with
/// headers as the servers see it (minus the site's own files); a folder that
/// must not be served or cannot be listed comes back empty with the reason.
pub fn site_firmware(site_path: &Path, firmware_dir: &str) -> crate::serving::firmware::FirmwareListing {
    use crate::serving::firmware::FirmwareListing;
    let paths = site_paths(site_path, firmware_dir);
    if let Some(problem) = firmware_dir_problem(site_path, &paths) {
        return FirmwareListing::new(paths.firmware_dir.map(|d| d.display().to_string()), Vec::new(), Some(problem));
    }
    let Some(dir) = paths.firmware_dir else { return FirmwareListing::default() };
    let exclude: Vec<PathBuf> = [paths.request_log, paths.tls_identity].into_iter().flatten().collect();
    let shown = Some(dir.display().to_string());
    match list_firmware(&dir, &exclude) {
        Ok(scan) => FirmwareListing::new(shown, scan.files, None).with_links(scan.links),
        Err(e) => FirmwareListing::new(shown, Vec::new(), Some(e.to_string())),
    }
}

fn firmware_entry(path: &Path, name: String, size: u64) -> FirmwareFile {
    FirmwareFile { name, size, image: read_image(path, size) }
}

/// Reads the first [`crate::formats::firmware::PREFIX_LEN`] bytes of `path`
/// (never the whole image) and what its header says.
pub fn read_image(path: &Path, size: u64) -> crate::serving::Image {
    match fs::File::open(path) {
        Ok(mut f) => image_of(&mut f, size),
        Err(e) => crate::serving::Image::Unreadable(e.to_string()),
    }
}

/// What the header at the current position of `file` says.
fn image_of(file: &mut fs::File, size: u64) -> crate::serving::Image {
    use crate::serving::Image;
    use std::io::Read;
    let mut prefix = Vec::with_capacity(crate::formats::firmware::PREFIX_LEN);
    let read = Read::by_ref(file).take(crate::formats::firmware::PREFIX_LEN as u64).read_to_end(&mut prefix);
    match read {
        Err(e) => Image::Unreadable(e.to_string()),
        Ok(_) => match crate::formats::firmware::parse_header(&prefix, size) {
            Ok(h) => Image::Header(h),
            Err(e) => Image::Unrecognised(e.to_string()),
        },
    }
}

/// Why the firmware folder named by a site must not be served: it holds the
/// site file, its request log or its HTTPS key (`firmware_dir = "."`), or an
/// export. `None` when it is a folder of its own (or does not exist yet).
pub fn firmware_dir_problem(site_path: &Path, paths: &SitePaths) -> Option<String> {
    let dir = paths.firmware_dir.as_deref()?;
    let fw = fs::canonicalize(dir).ok()?;
    if fw.join(EXPORT_MARKER).exists() {
        return Some(format!(
            "the firmware folder {} holds a gsprov export (configs with passwords); point serving.firmware_dir at a \
             folder that holds only firmware images",
            dir.display()
        ));
    }
    let companions = [Some(site_path), paths.request_log.as_deref(), paths.tls_identity.as_deref()];
    let inside = companions.into_iter().flatten().find(|p| {
        let parent = fs::canonicalize(parent_dir(p)).ok();
        parent.is_some_and(|parent| parent.starts_with(&fw))
    })?;
    Some(format!(
        "the firmware folder {} also holds {} (the site, its request log and HTTPS key live there): everything \
         in a firmware folder is offered to the whole network; put the firmware images in a folder of their own \
         and set serving.firmware_dir to it",
        dir.display(),
        inside.display()
    ))
}

/// A file name with no path in it: nothing built from it can leave its folder.
fn is_bare_name(name: &str) -> bool {
    !(name.is_empty() || name.contains(['/', '\\']) || name == "." || name == "..")
}

/// Opens a file that [`list_firmware`] listed. `name` must be a bare file
/// name, or `<model>/<version>/<name>` of bare names with a version in the
/// middle. Checked again at open, on the file actually opened: a link swapped
/// since the listing is refused as [`link_refusal`] says.
pub fn open_firmware(dir: &Path, name: &str, exclude: &[PathBuf]) -> Result<fs::File, StorageError> {
    let path = dir.join(name);
    let parts: Vec<&str> = name.split('/').collect();
    let shape_ok = match parts.as_slice() {
        [file] => is_bare_name(file) && !is_private_name(file),
        [model, version, file] => {
            [model, version, file].iter().all(|p| is_bare_name(p) && !is_private_name(p))
                && version.parse::<crate::formats::firmware::Version>().is_ok()
        }
        _ => false,
    };
    let refuse = |path: PathBuf, why: String| StorageError::Read {
        path,
        source: std::io::Error::new(std::io::ErrorKind::PermissionDenied, why),
    };
    if !shape_ok {
        return Err(StorageError::Read {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a bare file name"),
        });
    }
    let mut file = fs::File::open(&path).map_err(|source| StorageError::Read { path: path.clone(), source })?;
    let root = fs::canonicalize(dir).map_err(|source| StorageError::Read { path: dir.to_path_buf(), source })?;
    let real = fs::canonicalize(&path).map_err(|source| StorageError::Read { path: path.clone(), source })?;
    if !same_file(&file, &real) {
        return Err(refuse(path, "the file changed while it was opened".into()));
    }
    if real != root.join(name) {
        let excluded: Vec<PathBuf> = exclude.iter().filter_map(|p| fs::canonicalize(p).ok()).collect();
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let image = image_of(&mut file, size);
        if let Some(why) = link_refusal(&root, &excluded, &real, &image) {
            return Err(refuse(path, format!("a link to {}: {why}", real.display())));
        }
        use std::io::Seek;
        file.rewind().map_err(|source| StorageError::Read { path: path.clone(), source })?;
    }
    Ok(file)
}

/// Whether the open `file` is the one at `path` now (device and inode).
#[cfg(unix)]
fn same_file(file: &fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Elsewhere: the sizes and times agree (no inode to compare).
#[cfg(not(unix))]
fn same_file(file: &fs::File, path: &Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.len() == b.len() && a.modified().ok() == b.modified().ok(),
        _ => false,
    }
}

/// Where the garbage records of the request log at `request_log` go
/// (`office.requests.jsonl` -> `office.garbage.jsonl`): apart from the devices'
/// history, so a flood of garbage can never rotate that history away.
pub fn garbage_log_path(request_log: &Path) -> PathBuf {
    let name = request_log.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".requests.jsonl").or_else(|| name.strip_suffix(".jsonl")).unwrap_or(&name);
    request_log.with_file_name(format!("{stem}.garbage.jsonl"))
}

/// Largest garbage log before it is rotated (its own cap, apart from the request log's).
pub const MAX_GARBAGE_LOG_BYTES: u64 = 16 * 1024 * 1024;

/// Largest request log before it is rotated (renamed to `<name>.1`, replacing
/// the previous one): at most twice this on disk, whatever a flood sends.
pub const MAX_LOG_BYTES: u64 = 64 * 1024 * 1024;

/// An append-only JSON-lines file (the request log), rotated at a size.
#[derive(Debug)]
pub struct AppendLog {
    path: PathBuf,
    out: std::io::BufWriter<fs::File>,
    size: u64,
    max: u64,
}

impl AppendLog {
    pub fn open(path: &Path) -> Result<AppendLog, StorageError> {
        Self::open_capped(path, MAX_LOG_BYTES)
    }

    /// Opens for appending; past `max` bytes the file becomes `<name>.1`.
    pub fn open_capped(path: &Path, max: u64) -> Result<AppendLog, StorageError> {
        let f = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| StorageError::Write { path: path.to_path_buf(), source })?;
        let size = f.metadata().map_or(0, |m| m.len());
        Ok(AppendLog { path: path.to_path_buf(), out: std::io::BufWriter::with_capacity(64 * 1024, f), size, max })
    }

    /// The file the log rotates to.
    pub fn rotated_path(path: &Path) -> PathBuf {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".1");
        path.with_file_name(name)
    }

    /// Adds `line` and a newline (buffered; see [`AppendLog::flush`]).
    /// Returns true when the log was rotated first.
    pub fn append(&mut self, line: &str) -> Result<bool, StorageError> {
        let werr = |source| StorageError::Write { path: self.path.clone(), source };
        let len = line.len() as u64 + 1;
        let mut rotated = false;
        if self.size > 0 && self.size + len > self.max {
            self.out.flush().map_err(werr)?;
            let old = Self::rotated_path(&self.path);
            fs::rename(&self.path, &old).map_err(werr)?;
            let fresh = Self::open_capped(&self.path, self.max)?;
            self.out = fresh.out;
            self.size = 0;
            rotated = true;
        }
        self.out.write_all(line.as_bytes()).and_then(|()| self.out.write_all(b"\n")).map_err(werr)?;
        self.size += len;
        Ok(rotated)
    }

    pub fn flush(&mut self) -> Result<(), StorageError> {
        self.out.flush().map_err(|source| StorageError::Write { path: self.path.clone(), source })
    }
}

/// A PEM certificate and its PEM private key.
#[derive(Clone)]
pub struct TlsIdentity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsIdentity(****)")
    }
}

/// Reads the certificates and keys stored together in one PEM file, in the
/// order written (the n-th CERTIFICATE goes with the n-th PRIVATE KEY);
/// `Ok(None)` when the file does not exist yet.
pub fn load_tls_identities(path: &Path) -> Result<Option<Vec<TlsIdentity>>, StorageError> {
    let text = match fs::read(path) {
        Ok(b) => String::from_utf8(b).map_err(|_| StorageError::NotText { path: path.to_path_buf() })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(StorageError::Read { path: path.to_path_buf(), source }),
    };
    let blocks = |label: &str| -> Vec<String> {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        let mut out = Vec::new();
        let mut rest = text.as_str();
        while let Some(a) = rest.find(&begin) {
            let Some(b) = rest[a..].find(&end).map(|b| b + a + end.len()) else { break };
            out.push(format!("{}\n", &rest[a..b]));
            rest = &rest[b..];
        }
        out
    };
    let (certs, keys) = (blocks("CERTIFICATE"), blocks("PRIVATE KEY"));
    if certs.is_empty() || certs.len() != keys.len() {
        return Err(StorageError::Syntax {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: format!(
                "expected a CERTIFICATE and a PRIVATE KEY PEM block for each certificate, found {} and {}",
                certs.len(),
                keys.len()
            ),
        });
    }
    Ok(Some(certs.into_iter().zip(keys).map(|(cert_pem, key_pem)| TlsIdentity { cert_pem, key_pem }).collect()))
}

/// Stores certificates and their keys in one file, readable by the owner only
/// (the file is created that way, so no key is ever readable by others).
pub fn save_tls_identities(path: &Path, ids: &[TlsIdentity]) -> Result<(), StorageError> {
    let mut text = String::from(
        "# gsprov HTTPS certificates for this site (self-signed; the first for modern clients, the next for \
         clients that cannot take it). Delete this file to get new ones.\n",
    );
    for id in ids {
        text.push_str(&id.cert_pem);
        text.push_str(&id.key_pem);
    }
    let dir = parent_dir(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "tls.pem".into());
    remove_stale_files(&dir, &name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let werr = |p: &Path| {
        let p = p.to_path_buf();
        move |source| StorageError::Write { path: p, source }
    };
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| {
        let mut f = opts.open(&tmp).map_err(werr(&tmp))?;
        f.write_all(text.as_bytes()).map_err(werr(&tmp))?;
        f.sync_all().map_err(werr(&tmp))?;
        fs::rename(&tmp, path).map_err(werr(path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The entries of a provisioning folder for `gsprov adopt`, sorted by name:
/// each regular file's bytes (up to [`crate::adopt::MAX_CONFIG_BYTES`]), and
/// larger files, sub-folders and other entries by name only. Links are
/// followed, as a server serving the folder would.
pub fn read_folder(dir: &Path) -> Result<Vec<crate::adopt::Entry>, StorageError> {
    use crate::adopt::Entry;
    let rerr = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StorageError::Read { path, source }
    };
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(rerr(dir))? {
        let e = e.map_err(rerr(dir))?;
        let path = e.path();
        let Some(name) = e.file_name().to_str().map(str::to_string) else {
            out.push(Entry::Other {
                name: e.file_name().to_string_lossy().into_owned(),
                what: "a name that is not UTF-8",
            });
            continue;
        };
        let meta = match fs::metadata(&path) {
            Ok(m) => m,
            Err(_) => {
                out.push(Entry::Other { name, what: "a link to nothing" });
                continue;
            }
        };
        if meta.is_dir() {
            out.push(Entry::Other { name, what: "a sub-folder" });
        } else if !meta.is_file() {
            out.push(Entry::Other { name, what: "not a regular file" });
        } else if meta.len() > crate::adopt::MAX_CONFIG_BYTES {
            out.push(Entry::Large { name, size: meta.len() });
        } else {
            out.push(Entry::File { bytes: read_bytes(&path)?, name });
        }
    }
    out.sort_by(|a, b| a.name().cmp(b.name()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_clients_reads_the_newest_address_per_mac_and_skips_junk() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("x.requests.jsonl");
        assert!(last_clients(&log).unwrap().is_empty(), "no log yet");
        let text = "{\"mac\":\"000b82000001\",\"client\":\"10.0.0.5:3000\"}\nnot json\n{\"mac\":null,\"client\":\"10.0.0.9:1\"}\n{\"mac\":\"000b82000001\",\"client\":\"10.0.0.6:3001\"}\n";
        std::fs::write(&log, text).unwrap();
        let m = last_clients(&log).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m[&"000b82000001".parse().unwrap()].to_string(), "10.0.0.6");
        // A request the policy refused (401, 403) vouches for no address or firmware.
        let spoofed = "{\"mac\":\"000b82000001\",\"client\":\"127.0.0.77:5\",\"firmware\":\"1.0.9.1\",\"result\":\"refused\",\"reason\":\"unauthorized\"}\n{\"mac\":\"000b82000001\",\"client\":\"127.0.0.78:5\",\"firmware\":\"1.0.9.2\",\"result\":\"refused\",\"reason\":\"policy\"}\n";
        std::fs::write(&log, format!("{text}{spoofed}")).unwrap();
        assert_eq!(last_clients(&log).unwrap()[&"000b82000001".parse().unwrap()].to_string(), "10.0.0.6");
    }

    #[test]
    fn dhcp_leases_keep_the_last_ack_unless_given_back() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("x.requests.jsonl");
        let rec = |mac: &str, method: &str, lease: &str| {
            format!(
                "{{\"protocol\":\"dhcp\",\"client\":\"0.0.0.0:68\",\"mac\":\"{mac}\",\"method\":\"{method}\"{lease}}}\n"
            )
        };
        let bound = |ip: &str, exp: u64| {
            format!(",\"lease\":{{\"ip\":\"{ip}\",\"seconds\":600,\"expires\":{exp},\"bound\":true}}")
        };
        let offered = ",\"lease\":{\"ip\":\"10.0.0.9\",\"seconds\":600,\"expires\":9,\"bound\":false}";
        let text = [
            rec("000b82000001", "REQUEST", &bound("10.0.0.5", 1000)),
            rec("000b82000002", "REQUEST", &bound("10.0.0.6", 1000)),
            rec("000b82000002", "RELEASE", ""),
            rec("000b82000003", "DISCOVER", offered),
            rec("000b82000001", "REQUEST", &bound("10.0.0.7", 2000)),
            "{\"protocol\":\"http\",\"mac\":\"000b82000004\",\"lease\":{\"ip\":\"10.0.0.8\",\"expires\":5,\"bound\":true}}\n".into(),
        ]
        .concat();
        std::fs::write(&log, text).unwrap();
        let m = dhcp_leases(&log).unwrap();
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[&"000b82000001".parse().unwrap()], ("10.0.0.7".parse().unwrap(), 2000));
        // A DHCP client's 0.0.0.0 is no device address.
        assert!(last_clients(&log).unwrap().is_empty());
    }

    /// A site text over [`HALVES_ABOVE`]: `n` devices, each with an account
    /// and values, and `extra` (a TOML line or more) in the middle device.
    fn big_site_text(n: usize, extra: &str) -> String {
        let mut t = String::from("format_version = 1\nname = \"big\"\n[defaults]\nP47 = \"pbx.example.com\"\n");
        t.push_str("[models.GXP2170]\nP30 = \"pool.ntp.org\"\n");
        for i in 0..n {
            t.push_str(&format!("\n[[devices]]\nmac = \"000b82{i:06x}\"\nmodel = \"GXP2170\"\nlabel = \"Desk {i}\"\n"));
            if i == n / 2 {
                t.push_str(extra);
            }
            t.push_str(&format!(
                "\n[devices.values]\nP64 = \"auto\"\n\n[[devices.accounts]]\nuser_id = \"{i}\"\npassword = \"s{i}\"\n"
            ));
        }
        assert!(t.len() > HALVES_ABOVE, "{} bytes", t.len());
        t
    }

    #[test]
    fn a_large_site_parsed_in_halves_is_the_site_parsed_whole() {
        let p = Path::new("big.gsprov.toml");
        let text = big_site_text(3000, "notes = \"\"\"\nline one\n# [[devices]] in a string\n\"\"\"\n");
        let halves = parse_in_halves(&text).expect("cut in halves");
        let whole = parse_whole(p, &text).unwrap();
        assert_eq!(halves.devices.len(), 3000);
        assert!(halves == whole, "the halves differ from the whole");
        assert!(parse_site(p, &text).unwrap() == whole);
        // Windows line ends and a comment after the header.
        let crlf = text.replace("[[devices]]\n", "[[devices]] # a desk\n").replace('\n', "\r\n");
        let halves = parse_in_halves(&crlf).expect("cut in halves");
        assert!(halves == parse_whole(p, &crlf).unwrap(), "the halves differ from the whole");
    }

    #[test]
    fn a_cut_that_could_change_the_meaning_falls_back_to_the_whole_parse() {
        let p = Path::new("big.gsprov.toml");
        // A `[[devices]]` line inside a multi-line string near the middle: the
        // cut there leaves the first half with an unterminated string.
        let mut in_string = big_site_text(3000, "");
        let label = in_string.len() / 2 + in_string[in_string.len() / 2..].find("\nlabel = ").unwrap() + 1;
        in_string.insert_str(label, "notes = \"\"\"\n[[devices]]\nmac = \"000b82ffffff\"\n\"\"\"\n");
        let cut = middle_device_header(&in_string).unwrap();
        assert!(in_string[..cut].ends_with("notes = \"\"\"\n"), "the cut is inside the string");
        assert_eq!(parse_in_halves(&in_string), None);
        let whole = parse_site(p, &in_string).unwrap();
        assert_eq!(whole.devices.len(), 3000);
        assert_eq!(whole.devices.iter().filter(|d| d.notes.contains("[[devices]]")).count(), 1);
        // Another table after the devices: the second half is not devices only.
        let mut models_after = big_site_text(3000, "");
        models_after.push_str("\n[models.GRP2612W]\nP30 = \"ntp.example.com\"\n");
        assert_eq!(parse_in_halves(&models_after), None);
        assert!(parse_site(p, &models_after).unwrap().models.contains_key("GRP2612W"));
        // An inline `devices` array cannot be extended by `[[devices]]`: an error, whole.
        let mut inline = String::from("devices = [{ mac = \"000b82000001\", model = \"GXP2170\" }]\n");
        inline.push_str(&"# padding\n".repeat(HALVES_ABOVE / 10));
        inline.push_str("\n[[devices]]\nmac = \"000b82000002\"\nmodel = \"GXP2170\"\n");
        assert_eq!(parse_in_halves(&inline), None);
        assert!(parse_site(p, &inline).unwrap_err().is_malformed());
        // An error in the second half is reported at its line in the whole text.
        let bad = big_site_text(3000, "").replace("mac = \"000b82000b00\"", "mac = \"zz\"");
        let line = bad[..bad.find("\"zz\"").unwrap()].matches('\n').count() + 1;
        let err = parse_site(p, &bad).unwrap_err().to_string();
        assert!(err.starts_with(&format!("big.gsprov.toml:{line}:7:")), "{err}");
    }

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

    #[test]
    fn serving_companions() {
        let p = site_paths(Path::new("/x/office.gsprov.toml"), "firmware");
        assert_eq!(p.request_log.unwrap(), Path::new("/x/office.requests.jsonl"));
        assert_eq!(p.tls_identity.unwrap(), Path::new("/x/office.tls.pem"));
        assert_eq!(p.firmware_dir.unwrap(), Path::new("/x/firmware"));
        assert_eq!(site_paths(Path::new("s.toml"), "").firmware_dir, None);
    }

    #[test]
    fn firmware_subfolders_and_headers() {
        use crate::formats::firmware::{self, Layout, Version};
        let dir = tempfile::tempdir().unwrap();
        let v: Version = "1.0.11.3".parse().unwrap();
        let img = firmware::build_image(Layout::Ht8xx, &[("gxp2170prog.bin", 40, v)]);
        fs::create_dir_all(dir.path().join("gxp2170/1.0.11.3")).unwrap();
        fs::create_dir_all(dir.path().join("gxp2170/notes")).unwrap();
        fs::write(dir.path().join("gxp2170/1.0.11.3/gxp2170fw.bin"), &img).unwrap();
        fs::write(dir.path().join("gxp2170/notes/gxp2170fw.bin"), &img).unwrap();
        fs::write(dir.path().join("gxp2170/1.0.11.3/site.toml"), b"x").unwrap();
        fs::write(dir.path().join("gxp2170fw.bin"), &img[..img.len() - 3]).unwrap();
        let list = list_firmware(dir.path(), &[]).unwrap().files;
        let names: Vec<&str> = list.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["gxp2170/1.0.11.3/gxp2170fw.bin", "gxp2170fw.bin"]);
        let crate::serving::Image::Header(h) = &list[0].image else { panic!("{:?}", list[0].image) };
        assert_eq!((h.version(), h.completeness()), (v, firmware::Completeness::Complete));
        let crate::serving::Image::Header(h) = &list[1].image else { panic!("{:?}", list[1].image) };
        assert_eq!(h.completeness(), firmware::Completeness::Truncated { missing: 3 });
        assert!(open_firmware(dir.path(), "gxp2170/1.0.11.3/gxp2170fw.bin", &[]).is_ok());
        for bad in [
            "gxp2170/notes/gxp2170fw.bin",
            "gxp2170/../gxp2170fw.bin",
            "a/b",
            "gxp2170/1.0.11.3/site.toml",
            "/etc/passwd",
        ] {
            assert!(open_firmware(dir.path(), bad, &[]).is_err(), "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_the_firmware_folder_serve_only_images_and_never_a_secret() {
        use crate::formats::firmware::{self, Layout};
        use std::os::unix::fs::symlink;
        let top = tempfile::tempdir().unwrap();
        let (fw, library) = (top.path().join("firmware"), top.path().join("library"));
        fs::create_dir_all(fw.join("gxp2170")).unwrap();
        fs::create_dir_all(library.join("1.0.11.3")).unwrap();
        let img = firmware::build_image(Layout::Ht8xx, &[("gxp2170prog.bin", 40, "1.0.11.3".parse().unwrap())]);
        fs::write(library.join("gxp2170fw.bin"), &img).unwrap();
        fs::write(library.join("1.0.11.3/gxp2170fw.bin"), &img).unwrap();
        fs::write(library.join("notes.bin"), b"not firmware").unwrap();
        fs::write(top.path().join("site.gsprov.toml"), b"password = \"x\"").unwrap();
        fs::write(top.path().join("site.requests.jsonl"), b"{}").unwrap();
        fs::write(top.path().join("plain.bin"), b"secret beside the site").unwrap();
        fs::write(fw.join("inside.bin"), b"in the folder").unwrap();
        symlink(library.join("gxp2170fw.bin"), fw.join("gxp2170fw.bin")).unwrap();
        symlink(library.join("1.0.11.3"), fw.join("gxp2170/1.0.11.3")).unwrap();
        symlink("../site.gsprov.toml", fw.join("site.bin")).unwrap();
        symlink("../site.requests.jsonl", fw.join("log.bin")).unwrap();
        symlink("../plain.bin", fw.join("plain.bin")).unwrap();
        symlink(library.join("notes.bin"), fw.join("notes.bin")).unwrap();
        symlink("/etc/passwd", fw.join("passwd.bin")).unwrap();
        symlink("inside.bin", fw.join("alias.bin")).unwrap();
        symlink("nowhere.bin", fw.join("gone.bin")).unwrap();
        let exclude = [top.path().join("site.requests.jsonl")];
        let scan = list_firmware(&fw, &exclude).unwrap();
        let names: Vec<&str> = scan.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["alias.bin", "gxp2170/1.0.11.3/gxp2170fw.bin", "gxp2170fw.bin", "inside.bin"]);
        let refused: Vec<(&str, &str)> =
            scan.links.iter().filter_map(|l| l.refused.as_deref().map(|why| (l.name.as_str(), why))).collect();
        let why = |n: &str| refused.iter().find(|(name, _)| *name == n).map(|(_, w)| *w).unwrap_or("served");
        assert!(why("site.bin").contains("keeps private"), "{refused:?}");
        assert!(why("log.bin").contains("request log"), "{refused:?}");
        for n in ["plain.bin", "notes.bin", "passwd.bin"] {
            assert!(why(n).contains("not a recognised firmware image"), "{n}: {refused:?}");
        }
        assert!(why("gone.bin").contains("leads nowhere"), "{refused:?}");
        let link = scan.links.iter().find(|l| l.name == "gxp2170fw.bin").unwrap();
        assert!(link.describe().contains("library") && link.describe().ends_with("served"), "{}", link.describe());
        // Opening checks again, on the file actually opened.
        for n in ["site.bin", "log.bin", "plain.bin", "notes.bin", "passwd.bin"] {
            assert!(open_firmware(&fw, n, &exclude).is_err(), "{n}");
        }
        for n in ["alias.bin", "gxp2170fw.bin", "gxp2170/1.0.11.3/gxp2170fw.bin"] {
            let mut f = open_firmware(&fw, n, &exclude).unwrap();
            let mut head = Vec::new();
            std::io::Read::read_to_end(&mut f, &mut head).unwrap();
            assert!(!head.is_empty() && (n == "alias.bin" || head == img), "{n}: read from the start");
        }
        // A link swapped after the listing to point at the site: refused at open.
        fs::remove_file(fw.join("gxp2170fw.bin")).unwrap();
        symlink("../site.gsprov.toml", fw.join("gxp2170fw.bin")).unwrap();
        assert!(open_firmware(&fw, "gxp2170fw.bin", &exclude).is_err());
    }

    #[test]
    fn firmware_listing_and_tls_identity() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("gxp2170fw.bin"), b"12345").unwrap();
        fs::write(dir.path().join(".hidden"), b"x").unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        let list = list_firmware(dir.path(), &[]).unwrap().files;
        let names: Vec<(&str, u64)> = list.iter().map(|f| (f.name.as_str(), f.size)).collect();
        assert_eq!(names, vec![("gxp2170fw.bin", 5)]);
        assert!(
            matches!(&list[0].image, crate::serving::Image::Unrecognised(e) if e.contains("not Grandstream firmware")),
            "{:?}",
            list[0].image
        );
        assert!(open_firmware(dir.path(), "../etc/passwd", &[]).is_err());
        assert!(open_firmware(dir.path(), "gxp2170fw.bin", &[]).is_ok());
        let pem = dir.path().join("s.tls.pem");
        assert!(load_tls_identities(&pem).unwrap().is_none());
        let pair = |c: &str, k: &str| TlsIdentity {
            cert_pem: format!("-----BEGIN CERTIFICATE-----\n{c}==\n-----END CERTIFICATE-----\n"),
            key_pem: format!("-----BEGIN PRIVATE KEY-----\n{k}==\n-----END PRIVATE KEY-----\n"),
        };
        let ids = [pair("AA", "BB"), pair("CC", "DD")];
        save_tls_identities(&pem, &ids).unwrap();
        let back = load_tls_identities(&pem).unwrap().unwrap();
        let pems = |v: &[TlsIdentity]| v.iter().map(|i| (i.cert_pem.clone(), i.key_pem.clone())).collect::<Vec<_>>();
        assert_eq!(pems(&back), pems(&ids));
        // A file written by an earlier gsprov (one pair) still reads; a key without its certificate does not.
        save_tls_identities(&pem, &ids[..1]).unwrap();
        assert_eq!(pems(&load_tls_identities(&pem).unwrap().unwrap()), pems(&ids[..1]));
        let text = fs::read_to_string(&pem).unwrap();
        fs::write(&pem, format!("{text}{}", ids[1].key_pem)).unwrap();
        let err = load_tls_identities(&pem).unwrap_err().to_string();
        assert!(err.contains("found 1 and 2"), "{err}");
        save_tls_identities(&pem, &ids).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&pem).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let mut log = AppendLog::open(&dir.path().join("r.jsonl")).unwrap();
        log.append("{}").unwrap();
        log.flush().unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("r.jsonl")).unwrap(), "{}\n");
        // Past the cap the log rotates to `.1`, replacing the previous one.
        let path = dir.path().join("c.jsonl");
        let mut log = AppendLog::open_capped(&path, 100).unwrap();
        let line = "x".repeat(39);
        let rotated: Vec<bool> = (0..7).map(|_| log.append(&line).unwrap()).collect();
        log.flush().unwrap();
        assert_eq!(rotated, [false, false, true, false, true, false, true]);
        assert_eq!(fs::metadata(&path).unwrap().len(), 40);
        assert_eq!(fs::metadata(AppendLog::rotated_path(&path)).unwrap().len(), 80);
    }

    #[cfg(unix)]
    #[test]
    fn the_bin_alias_is_a_hard_link_to_the_binary_file() {
        use std::os::unix::fs::MetadataExt;
        let site = crate::site::demo();
        let out = crate::generate::generate(&site, &mut || [7; 8]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        write_tree(&tree, &out, &[]).unwrap();
        let a = fs::metadata(tree.join("cfg000b82a1b201")).unwrap();
        let b = fs::metadata(tree.join("cfg000b82a1b201.bin")).unwrap();
        assert_eq!(a.ino(), b.ino());
        assert_eq!(a.nlink(), 2);
        assert_ne!(a.ino(), fs::metadata(tree.join("cfg000b82a1b201.xml")).unwrap().ino());
    }

    /// Enough devices for both threads: every file holds its own bytes, each
    /// `.bin` alias is linked to its own binary file, and writing again
    /// replaces the tree whole (the old one removed, nothing left beside it).
    #[cfg(unix)]
    #[test]
    fn a_large_tree_is_written_by_two_threads_and_replaced_whole() {
        use std::os::unix::fs::MetadataExt;
        let mut site = crate::site::demo();
        let model = site.devices[0].model.clone();
        site.devices.clear();
        for i in 0..400u32 {
            let mac: crate::ids::Mac = format!("000b82{i:06x}").parse().unwrap();
            let mut d = crate::site::Device::new(mac, model.clone());
            d.values.set("P3", format!("Desk {i}"));
            site.devices.push(d);
        }
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        for salt in [1u8, 2] {
            let out = crate::generate::generate(&site, &mut || [salt; 8]).unwrap();
            write_tree(&tree, &out, &[("README.txt", b"r".to_vec())]).unwrap();
            assert!(out.files.len() > 1000, "{}", out.files.len());
            for f in &out.files {
                assert_eq!(fs::read(tree.join(&f.name)).unwrap(), *f.bytes, "{}", f.name);
            }
            let names: std::collections::BTreeSet<String> =
                fs::read_dir(&tree).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
            // The files, the extra and the export marker.
            assert_eq!(names.len(), out.files.len() + 2);
            assert!(names.contains(EXPORT_MARKER));
            for i in [0u32, 199, 200, 399] {
                let bin = fs::metadata(tree.join(format!("cfg000b82{i:06x}"))).unwrap();
                let alias = fs::metadata(tree.join(format!("cfg000b82{i:06x}.bin"))).unwrap();
                assert_eq!((bin.ino(), bin.nlink()), (alias.ino(), 2), "device {i}");
            }
            let beside: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert_eq!(beside, ["tree"], "salt {salt}");
        }
    }
}
