//! Item 13, the read-only file system: `gsprov generate` into a folder on a
//! file system mounted read-only, in a mount namespace the test makes itself
//! (`unshare -m` as root, `unshare -rm` — a user namespace too — otherwise),
//! where the folder's parent is bind-mounted read-only onto itself. Nothing
//! outside the namespace sees the mount; it ends with the command.

use super::support::text;
use super::{MAC, demo_into};
use std::path::Path;
use std::process::{Command, Output};

/// `gsprov generate site --out out` with `ro` mounted read-only around it.
fn generate_on_read_only(ro: &Path, site: &Path, out: &Path) -> Output {
    let root = text(&Command::new("id").arg("-u").output().unwrap().stdout).trim() == "0";
    let o = unshare_generate(&[if root { "-m" } else { "-rm" }], ro, site, out);
    let err = text(&o.stderr);
    // In a chroot whose root is not a mount point (a debootstrap root entered with plain
    // `chroot`), `unshare -m` cannot make `/` private ("cannot change root filesystem
    // propagation"), and a user namespace is refused there. Leaving propagation unchanged is
    // safe only when no mount is shared (nothing made here can then reach another namespace);
    // else say what to do.
    if root && err.contains("cannot change root filesystem propagation") {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        assert!(
            !mountinfo.contains(" shared:"),
            "`unshare -m` cannot make / private here (a chroot whose root is not a mount point) and \
             some mounts are shared, so a mount made for this test could reach the host: enter the \
             root with its own mount point first (`mount --bind ROOT ROOT`), or run the test \
             outside the chroot. unshare said: {err}"
        );
        return made(unshare_generate(&["-m", "--propagation", "unchanged"], ro, site, out));
    }
    made(o)
}

/// `o`, once its namespace and mount were made.
fn made(o: Output) -> Output {
    let err = text(&o.stderr);
    assert!(!err.contains("mount:") && !err.contains("unshare:"), "the namespace could not be made: {err}");
    o
}

/// `unshare HOW sh -c 'bind-mount ro read-only; gsprov generate site --out out'`.
fn unshare_generate(how: &[&str], ro: &Path, site: &Path, out: &Path) -> Output {
    Command::new("unshare")
        .args(how)
        .args([
            "sh",
            "-c",
            r#"mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && exec "$2" generate "$3" --out "$4""#,
        ])
        .arg("sh")
        .arg(ro)
        .arg(env!("CARGO_BIN_EXE_gsprov"))
        .args([site, out])
        .env_remove("GSPROV_XML_PASSWORD")
        .output()
        .expect("unshare (util-linux, installed by .ci/run)")
}

/// On 374d5a4 (and until now) an existing folder on a read-only file system
/// got "cannot write …/.cfg000b82a1b201.tmp-N: Read-only file system", a name
/// the technician never gave, and a missing one the advice to create it
/// there, which cannot be done. Now both name the folder and say the file
/// system is read-only and what to do; nothing is written.
#[cfg(target_os = "linux")]
#[test]
fn generate_onto_a_read_only_file_system_says_so_and_names_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let site = demo_into(dir.path(), "");
    let srv = dir.path().join("srv");
    let (existing, missing) = (srv.join("tftp"), srv.join("new"));
    std::fs::create_dir_all(&existing).unwrap();
    for out in [&existing, &missing] {
        let o = generate_on_read_only(&srv, &site, out);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(err.contains(&format!("cannot write {}", out.display())), "{err}");
        assert!(
            err.contains("is on a file system mounted read-only") && err.contains("remount it read-write"),
            "{err}"
        );
        assert!(!err.contains(".tmp-") && !err.contains("yourself"), "{err}");
    }
    assert_eq!(std::fs::read_dir(&existing).unwrap().count(), 0);
    assert!(!missing.exists());
    // The same folder, writable again (outside the namespace it always was): written.
    let o = super::support::run(
        super::gsprov()
            .env_remove("GSPROV_XML_PASSWORD")
            .args(["generate", site.to_str().unwrap(), "--out"])
            .arg(&existing),
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(existing.join(format!("cfg{MAC}.xml")).exists());
}
