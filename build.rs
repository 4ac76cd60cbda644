//! Records the git commit the binary is built from, for `gsprov --version` and bug reports.
//!
//! Sets `GSPROV_GIT_COMMIT` for the crate: the `GSPROV_GIT_COMMIT` environment variable when
//! a packager sets it (a build from a source tarball), else `git rev-parse --short HEAD`, else
//! "unknown". A build without git, or outside a checkout, must still succeed.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=GSPROV_GIT_COMMIT");
    let commit = match std::env::var("GSPROV_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_string(),
        _ => git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=GSPROV_GIT_COMMIT={commit}");

    // Rebuild when HEAD moves: HEAD itself (a checkout), the branch it points to (a commit)
    // and packed-refs (a gc). Only files that exist are named: cargo reruns a build script on
    // every build when a named file is missing.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.push(git(&["rev-parse", "--git-path", &branch]));
    }
    watched.push(git(&["rev-parse", "--git-path", "packed-refs"]));
    for path in watched.into_iter().flatten().map(PathBuf::from) {
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

/// One line of git's output, or None when git is missing or this is not a checkout.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let line = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !line.is_empty()).then_some(line)
}
