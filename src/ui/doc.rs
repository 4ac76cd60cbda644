//! The open site as the app edits it: the site, where it lives, what was
//! last saved, and the revision every cache keys on. Edits go through
//! [`Doc::edit`] / [`Doc::edit_if`], the one place the revision moves.

use std::path::PathBuf;

use crate::site::Site;

/// The open site and its editing state.
pub struct Doc {
    pub site: Site,
    pub path: Option<PathBuf>,
    /// The site as last loaded or saved: edits are "unsaved" while they differ.
    pub saved: Site,
    /// Moves on every edit; caches key on it. Private: only [`Doc::edit`] and
    /// [`Doc::edit_if`] change it, so no edit can forget to. Drawn from one
    /// counter for the whole process, so a site opened in place of another
    /// never shows the other's revision (the panels' caches would take the old
    /// site's rows for the new one's: a 5-device list over a 1-device site).
    revision: u64,
    /// (revision, saved generation) -> (unsaved?, problems): comparing and
    /// checking a 1,000-device site every frame would eat the frame budget.
    derived: std::cell::RefCell<Option<(u64, u64, Derived)>>,
    saved_generation: u64,
    /// Undo and redo: every edit is recorded here, in [`Doc::edit`] and [`Doc::edit_if`].
    history: super::history::History,
}

/// What the UI shows about the whole site, recomputed only after an edit.
#[derive(Clone)]
pub struct Derived {
    pub dirty: bool,
    pub issues: std::rc::Rc<Vec<crate::site::Issue>>,
    pub errors: usize,
}

/// The next revision of any document of this process.
fn next_revision() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Doc {
    pub fn new(site: Site, path: Option<PathBuf>) -> Doc {
        let revision = next_revision();
        let history = super::history::History::new(&site);
        Doc { saved: site.clone(), site, path, revision, derived: Default::default(), saved_generation: 0, history }
    }

    /// Marks the current site as saved.
    pub fn mark_saved(&mut self, saved: Site) {
        self.saved = saved;
        self.saved_generation += 1;
    }

    pub fn derived(&self) -> Derived {
        let mut cache = self.derived.borrow_mut();
        match &*cache {
            Some((rev, generation, d)) if *rev == self.revision && *generation == self.saved_generation => d.clone(),
            _ => {
                let issues = self.site.check();
                let errors = issues.iter().filter(|i| i.severity == crate::site::Severity::Error).count();
                let d = Derived { dirty: self.site != self.saved, issues: std::rc::Rc::new(issues), errors };
                *cache = Some((self.revision, self.saved_generation, d.clone()));
                d
            }
        }
    }

    /// Changes the site: runs `f` on it and marks it edited (every cache keyed
    /// on [`Doc::revision`] recomputes, and running servers get the new files).
    /// The Edit menu names the step from what changed (see [`Doc::edit_as`]).
    pub fn edit<R>(&mut self, f: impl FnOnce(&mut Site) -> R) -> R {
        let r = f(&mut self.site);
        self.edited(None);
        r
    }

    /// [`Doc::edit`] for a whole action the Edit menu names `what` ("delete
    /// device 00:0B:82:A1:B2:01", "import 12 rows from CSV"): one undo step
    /// of its own, never merged with the next edit.
    pub fn edit_as<R>(&mut self, what: impl Into<String>, f: impl FnOnce(&mut Site) -> R) -> R {
        let r = f(&mut self.site);
        self.edited(Some(what.into()));
        r
    }

    fn edited(&mut self, what: Option<String>) {
        self.revision = next_revision();
        self.history.record(&self.site, what, std::time::Instant::now());
    }

    /// What Edit > Undo would undo, if anything.
    pub fn undo_name(&self) -> Option<&str> {
        self.history.undo_name()
    }

    /// What Edit > Redo would redo, if anything.
    pub fn redo_name(&self) -> Option<&str> {
        self.history.redo_name()
    }

    /// Puts the site back as it was before the last edit; returns what was undone.
    pub fn undo(&mut self) -> Option<String> {
        let what = self.history.undo(&mut self.site)?;
        self.revision = next_revision();
        Some(what)
    }

    /// Does the last undone edit again; returns what was redone.
    pub fn redo(&mut self) -> Option<String> {
        let what = self.history.redo(&mut self.site)?;
        self.revision = next_revision();
        Some(what)
    }

    /// For forms whose widgets write into the site: `f` draws them and says
    /// whether any changed; only then is the site marked edited.
    pub fn edit_if(&mut self, f: impl FnOnce(&mut Site) -> bool) -> bool {
        let changed = f(&mut self.site);
        if changed {
            self.edited(None);
        }
        changed
    }

    /// Which edit the site is at; caches compare it to know they are stale.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    pub fn dirty(&self) -> bool {
        self.derived().dirty
    }
}
