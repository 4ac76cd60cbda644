//! Issue 25, item 10: the Server view says when the open-file limit leaves the
//! HTTP(S) servers few connections. The limit is really lowered: the test runs
//! itself again under `prlimit --nofile=512:512` (the app raises the soft
//! limit to the hard one, so the hard one is what counts), and that run starts
//! serving from the Server view and finds the line by its text.

use std::process::Command;

use egui_kittest::kittest::Queryable;

/// Set in the run under the lowered limit.
const LOWERED: &str = "GSPROV_TEST_LOWERED_NOFILE";
const NAME: &str = "rsa::the_server_view_says_when_the_open_file_limit_is_low";

#[test]
fn the_server_view_says_when_the_open_file_limit_is_low() {
    if std::env::var_os(LOWERED).is_some() {
        under_the_lowered_limit();
        return;
    }
    let o = Command::new("prlimit")
        .args(["--nofile=512:512", "--"])
        .arg(std::env::current_exe().unwrap())
        .args([NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(LOWERED, "1")
        .output()
        .expect("prlimit (util-linux, installed by .ci/run)");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}\n{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains(&format!("test {NAME} ... ok")) && out.contains("1 passed"), "{out}");
}

fn under_the_lowered_limit() {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    assert_eq!(line.split_whitespace().skip(3).take(2).collect::<Vec<_>>(), ["512", "512"], "{line}");
    let (h, _) = super::app_started_on_loopback();
    // (512 - the 896 kept for TFTP and the rest) / 4 is below the floor of 16 connections.
    h.get_by_label_contains("the open-file limit lets each HTTP(S) server hold only 16 connections at once");
    h.get_by_label_contains("Raise the limit (`ulimit -n 8192`");
}

/// Issue 25, item 8: the Server view names the key type of each HTTPS
/// certificate served: ECDSA P-256 for current clients, RSA 2048 for the rest.
#[test]
fn the_server_view_shows_both_https_certificates_by_key_type() {
    let mut h = super::app();
    h.state_mut().doc.edit(|site| {
        let s = &mut site.serving;
        s.bind = "127.0.0.1".into();
        s.http_port = 0;
        s.https = true;
        s.https_port = 0;
        s.tftp = false;
    });
    h.state_mut().state.view = gsprov::ui::View::Server;
    h.run_ok();
    h.get_by_label("Start servers").click();
    super::wait_for(&mut h, "the HTTPS certificate", |a| a.rt.serving.certificate.is_some());
    let c = h.state().rt.serving.certificate.clone().unwrap();
    let rsa = c.fallback.clone().expect("an RSA certificate beside the ECDSA one");
    h.get_by_label("HTTPS certificate (ECDSA P-256) SHA-256:");
    h.get_by_label(&c.sha256);
    h.get_by_label("for clients without ECDSA P-256 (RSA 2048) SHA-256:");
    h.get_by_label(&rsa.sha256);
}
