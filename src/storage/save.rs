//! Saving a site file: the technician's own text edited in place
//! ([`crate::site::saved_text`]), written atomically with one `.bak`; and
//! "Save as" into another folder, which rewrites a relative firmware folder so
//! it still names the same files.

use std::path::{Component, Path, PathBuf};

use super::{StorageError, parent_dir, write_atomic};
use crate::site::{Site, saved_text};

/// Serialises a site the way a new site file is written: a header line, then
/// every field that does not read as its default.
pub fn site_to_toml(site: &Site) -> String {
    saved_text(site, None)
}

/// Atomic save over the site's own file, keeping its comments and order: write
/// a temporary file beside the target, fsync, keep the old file as
/// `<name>.bak`, rename into place. A crash leaves either the old or the new
/// file, never half of one.
pub fn save_site(path: &Path, site: &Site) -> Result<(), StorageError> {
    save_site_as(path, site, Some(path)).map(|_| ())
}

/// What [`save_site_as`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Saved {
    /// The site as saved: `site` with its firmware folder rewritten for the
    /// new place, if it had to be.
    pub site: Site,
    /// (as it was, as it is now written) when the firmware folder was rewritten.
    pub firmware_dir_moved: Option<(String, String)>,
}

/// Saves `site` at `path`, which may be a new place: `from` is the file it
/// was opened from (or last saved to), whose text is kept (comments, order)
/// and whose folder a relative `serving.firmware_dir` was relative to. When
/// the folder changes and that firmware folder exists, the saved site names
/// the same folder from the new place ([`firmware_dir_from`]).
pub fn save_site_as(path: &Path, site: &Site, from: Option<&Path>) -> Result<Saved, StorageError> {
    let mut saved = site.clone();
    let mut firmware_dir_moved = None;
    if let Some(from) = from
        && let Some(dir) = firmware_dir_from(&site.serving.firmware_dir, from, path)
    {
        firmware_dir_moved = Some((site.serving.firmware_dir.clone(), dir.clone()));
        saved.serving.firmware_dir = dir;
    }
    // Not there (a new file) or unreadable as text: written afresh.
    let old = from.and_then(|f| std::fs::read_to_string(f).ok());
    write_atomic(path, saved_text(&saved, old.as_deref()).as_bytes(), true)?;
    Ok(Saved { site: saved, firmware_dir_moved })
}

/// The firmware folder a site moving from `from` to `to` must name to keep
/// using the same files, or `None` when `firmware_dir` needs no change: it is
/// absolute or empty, the site stays in its folder, or the folder it names
/// does not exist (nothing to keep pointing at). Relative again when the
/// folder is inside the new one (`../office/firmware` is no better than an
/// absolute path when the site is carried elsewhere), else absolute.
pub fn firmware_dir_from(firmware_dir: &str, from: &Path, to: &Path) -> Option<String> {
    let dir = firmware_dir.trim();
    if dir.is_empty() || Path::new(dir).is_absolute() {
        return None;
    }
    let old_folder = std::path::absolute(parent_dir(from)).ok()?;
    let new_folder = std::path::absolute(parent_dir(to)).ok()?;
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => lexical(a) == lexical(b),
    };
    if same(&old_folder, &new_folder) {
        return None;
    }
    let target = old_folder.join(dir);
    if !target.is_dir() {
        return None;
    }
    let target = std::fs::canonicalize(&target).unwrap_or_else(|_| lexical(&target));
    let base = std::fs::canonicalize(&new_folder).unwrap_or_else(|_| lexical(&new_folder));
    let written = match target.strip_prefix(&base) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => target,
    };
    Some(written.to_string_lossy().into_owned())
}

/// `path` with `.` and `..` resolved by name (for folders that do not exist).
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::{DEMO, Site};

    #[test]
    fn saving_keeps_the_technicians_file_and_stays_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.gsprov.toml");
        std::fs::write(&path, DEMO).unwrap();
        let mut site = super::super::load_site(&path).unwrap();
        site.defaults.set("P30", "ntp.maple-dental.example");
        save_site(&path, &site).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, DEMO.replacen("P30 = \"pool.ntp.org\"", "P30 = \"ntp.maple-dental.example\"", 1));
        assert_eq!(std::fs::read_to_string(dir.path().join("demo.gsprov.toml.bak")).unwrap(), DEMO);
        assert_eq!(super::super::load_site(&path).unwrap(), site);
    }

    #[test]
    fn save_as_elsewhere_keeps_a_relative_firmware_folder_on_the_same_files() {
        let root = tempfile::tempdir().unwrap();
        let office = root.path().join("office");
        std::fs::create_dir_all(office.join("firmware")).unwrap();
        std::fs::write(office.join("firmware/gxp2170fw.bin"), b"image").unwrap();
        let from = office.join("demo.gsprov.toml");
        std::fs::write(&from, DEMO).unwrap();
        let site: Site = super::super::load_site(&from).unwrap();
        assert_eq!(site.serving.firmware_dir, "firmware");

        // Into another folder: the firmware folder is named absolutely, with the technician's text kept.
        let copy = root.path().join("copy/demo.gsprov.toml");
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        let saved = save_site_as(&copy, &site, Some(&from)).unwrap();
        let fw = std::fs::canonicalize(office.join("firmware")).unwrap();
        let written = fw.to_string_lossy().into_owned();
        assert_eq!(saved.firmware_dir_moved, Some(("firmware".into(), written.clone())));
        let back = super::super::load_site(&copy).unwrap();
        assert_eq!(back, saved.site);
        let paths = super::super::site_paths(&copy, &back.serving.firmware_dir);
        assert_eq!(std::fs::read(paths.firmware_dir.unwrap().join("gxp2170fw.bin")).unwrap(), b"image");
        let text = std::fs::read_to_string(&copy).unwrap();
        assert_eq!(text, DEMO.replacen("firmware_dir = \"firmware\"", &format!("firmware_dir = {:?}", written), 1));

        // Into a folder above it: relative again, still the same files.
        let up = root.path().join("up.gsprov.toml");
        let saved = save_site_as(&up, &site, Some(&from)).unwrap();
        assert_eq!(saved.site.serving.firmware_dir, "office/firmware");
        let paths = super::super::site_paths(&up, &saved.site.serving.firmware_dir);
        assert_eq!(std::fs::read(paths.firmware_dir.unwrap().join("gxp2170fw.bin")).unwrap(), b"image");

        // The same folder, an absolute folder, or a folder that does not exist: unchanged.
        assert_eq!(firmware_dir_from("firmware", &from, &office.join("other.gsprov.toml")), None);
        assert_eq!(firmware_dir_from("/srv/firmware", &from, &copy), None);
        assert_eq!(firmware_dir_from("missing", &from, &copy), None);
        assert_eq!(firmware_dir_from("", &from, &copy), None);
        let saved = save_site_as(&office.join("other.gsprov.toml"), &site, Some(&from)).unwrap();
        assert_eq!((saved.firmware_dir_moved, saved.site), (None, site));
    }
}
