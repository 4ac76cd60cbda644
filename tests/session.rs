//! One serving job, one truth: `gsprov generate`, `gsprov serve` (over HTTP
//! and TFTP, fed by real curl and tftp-hpa) and the desktop app's Files view
//! hand each device the same bytes, firmware step included; and what a site's
//! devices did survives a restart (the request log read back).
//!
//! Network rule: only 127.0.0.1 is bound or addressed. Nothing waits with
//! sleeps: the tests wait on the child's output with timeouts.

mod support;
use support::{WAIT, curl, gsprov, run, text};

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;

use gsprov::formats::crypto;
use gsprov::ids::Mac;
use gsprov::site::Site;

/// What every device announces: a GXP2170 on it has a step to 1.0.11.79 in
/// the demo's firmware folder (`gxp2170/1.0.11.79/`).
const FIRMWARE: &str = "1.0.11.3";

/// The demo site in `dir` with the demo's firmware folder (stepped layout).
fn demo_with_firmware(dir: &Path) -> PathBuf {
    let site = dir.join("office.gsprov.toml");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo.gsprov.toml"), &site).unwrap();
    for (name, bytes) in gsprov::formats::firmware::demo_images() {
        let path = dir.join("firmware").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    site
}

fn user_agent(model: &str, mac: Mac) -> String {
    format!("Grandstream Model HW {model} SW {FIRMWARE} DevId {mac}")
}

/// A running `gsprov serve`: its stdout (JSON events) and stderr lines, and
/// the addresses its servers bound.
struct Serve {
    child: Child,
    out: Receiver<String>,
    err: Receiver<String>,
    addrs: BTreeMap<String, SocketAddr>,
}

fn lines(r: impl std::io::Read + Send + 'static, name: &str) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            for line in BufReader::new(r).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
        .expect("spawn a reader of the child's output");
    rx
}

fn serve(site: &Path) -> Serve {
    let mut c = gsprov();
    c.args(serve_args(site));
    serve_with(c)
}

fn serve_args(site: &Path) -> Vec<String> {
    ["serve", site.to_str().unwrap(), "--bind", "127.0.0.1", "--tftp-port", "0", "--http-port", "0", "--no-https"]
        .into_iter()
        .chain(["--json"])
        .map(String::from)
        .collect()
}

fn serve_with(mut c: Command) -> Serve {
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let out = lines(child.stdout.take().unwrap(), "serve stdout");
    let err = lines(child.stderr.take().unwrap(), "serve stderr");
    let mut addrs = BTreeMap::new();
    while addrs.len() < 2 {
        let line = out.recv_timeout(WAIT).expect("serve prints its started events");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v["event"] == "started" {
            addrs.insert(v["protocol"].as_str().unwrap().to_string(), v["addr"].as_str().unwrap().parse().unwrap());
        }
    }
    Serve { child, out, err, addrs }
}

impl Serve {
    /// Ctrl-C and the exit.
    fn stop(mut self) {
        assert!(Command::new("kill").args(["-INT", &self.child.id().to_string()]).status().unwrap().success());
        assert_eq!(self.child.wait().unwrap().code(), Some(0));
        drop(self.out);
    }

    /// Waits for a stderr line containing `what`.
    fn said(&self, what: &str) {
        let mut seen = Vec::new();
        loop {
            match self.err.recv_timeout(WAIT) {
                Ok(l) if l.contains(what) => return,
                Ok(l) => seen.push(l),
                Err(_) => panic!("serve never said {what:?}; stderr: {seen:#?}"),
            }
        }
    }
}

/// Every file of the site's generation, by name, with the device that asks
/// for it (shared files: the first device).
fn files_of(site: &Site) -> Vec<(String, Mac, String)> {
    let out = gsprov::generate::generate(site, &mut || [0; 8]).unwrap();
    out.files
        .iter()
        .map(|f| {
            let mac = f.device.unwrap_or(site.devices[0].mac);
            let model = site.device(mac).unwrap().model.to_string();
            (f.name.clone(), mac, model)
        })
        .collect()
}

fn http_get(addr: SocketAddr, name: &str, ua: &str) -> Vec<u8> {
    let (rc, status, body) = curl(&["-A", ua, &format!("http://{addr}/{name}")]);
    assert_eq!((rc, status), (0, 200), "{name}");
    body
}

fn tftp_get(addr: SocketAddr, name: &str, dir: &Path) -> Vec<u8> {
    let out = dir.join("tftp-got");
    let o = Command::new("tftp")
        .args(["127.0.0.1", &addr.port().to_string(), "-m", "binary", "-c", "get", name])
        .arg(&out)
        .output()
        .expect("tftp-hpa is installed (.ci/run)");
    assert!(o.status.success(), "{name}: {}", text(&o.stderr));
    std::fs::read(&out).unwrap()
}

/// What the device reads: encrypted files decrypted with the site's password.
fn plain(site: &Site, bytes: &[u8]) -> Vec<u8> {
    if bytes.starts_with(b"Salted__") {
        crypto::decrypt(bytes, site.provisioning.xml_password.as_bytes(), site.provisioning.digest).unwrap()
    } else {
        bytes.to_vec()
    }
}

/// Serves the demo (with its stepped firmware folder) to devices announcing
/// 1.0.11.3 over HTTP, then over TFTP after a restart, generates it, and
/// builds the Files view's model: every file of every device is the same
/// bytes four ways, and the GXP2170's P192 is its next firmware step.
#[test]
fn generate_serve_and_the_files_view_hand_out_the_same_bytes_firmware_step_included() {
    let dir = tempfile::tempdir().unwrap();
    let site_path = demo_with_firmware(dir.path());
    let site = gsprov::storage::load_site(&site_path).unwrap();
    let files = files_of(&site);

    // First run: every device says which firmware it runs; the running
    // session regenerates the files of those with a step at once.
    let s = serve(&site_path);
    for d in &site.devices {
        http_get(s.addrs["http"], &format!("cfg{}.xml", d.mac), &user_agent(d.model.as_str(), d.mac));
    }
    s.said("firmware steps changed; configs regenerated");
    let reception = &site.devices[0];
    let again = http_get(s.addrs["http"], &format!("cfg{}.xml", reception.mac), &user_agent("GXP2170", reception.mac));
    assert!(text(&plain(&site, &again)).contains("/firmware/gxp2170/1.0.11.79"), "served after the report");
    s.stop();

    // The export, from the same site and its request log.
    let out = dir.path().join("export");
    let o = run(gsprov().args(["generate", site_path.to_str().unwrap(), "--out", out.to_str().unwrap()]));
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("get their next firmware step"), "{}", text(&o.stderr));

    // Second run: the steps come from the request log at once; every file
    // over HTTP (with its device's User-Agent) and over TFTP.
    let s = serve(&site_path);
    let over_http: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(name, mac, model)| (name.clone(), http_get(s.addrs["http"], name, &user_agent(model, *mac))))
        .collect();
    let over_tftp: BTreeMap<String, Vec<u8>> =
        files.iter().map(|(name, _, _)| (name.clone(), tftp_get(s.addrs["tftp"], name, dir.path()))).collect();
    s.stop();

    let listing = gsprov::session::listing(Some(&site_path), &site.serving.firmware_dir);
    let mut compared = 0;
    for d in &site.devices {
        let (previews, step) = gsprov::ui::files::previews(&site, d.mac, &listing, Some(FIRMWARE)).unwrap();
        if d.model.as_str() == "GXP2170" {
            let step = step.expect("the GXP2170 has a step in the folder");
            assert!(step.ends_with("/firmware/gxp2170/1.0.11.79"), "{step}");
        }
        for p in previews {
            let generated = std::fs::read(out.join(&p.name)).unwrap();
            let want = plain(&site, &generated);
            assert_eq!(p.plain, want, "{}: the Files view", p.name);
            compared += 1;
        }
    }
    assert!(compared >= site.devices.len() * 2, "{compared} files compared from the Files view");
    for (name, _, _) in &files {
        let generated = plain(&site, &std::fs::read(out.join(name)).unwrap());
        assert_eq!(plain(&site, &over_http[name]), generated, "{name}: served over HTTP vs generated");
        assert_eq!(plain(&site, &over_tftp[name]), generated, "{name}: served over TFTP vs generated");
    }
    let reception = text(&plain(&site, &std::fs::read(out.join("cfg000b82a1b201.xml")).unwrap()));
    assert!(reception.contains("192.168.10.5:8080/firmware/gxp2170/1.0.11.79"), "{reception}");
}

/// `gsprov check` and `serve` judge the firmware folder alike: a folder that
/// holds the site is an error `serve` refuses with; a missing one a warning.
#[test]
fn check_and_serve_judge_the_firmware_folder_alike() {
    let dir = tempfile::tempdir().unwrap();
    let site_path = demo_with_firmware(dir.path());
    std::fs::remove_dir_all(dir.path().join("firmware")).unwrap();
    let o = run(gsprov().args(["check", site_path.to_str().unwrap()]));
    let out = text(&o.stdout);
    assert!(out.contains("serving.firmware_dir") && out.contains("does not exist"), "{out}");
    let s = serve(&site_path);
    s.said("does not exist");
    s.stop();

    let text_of =
        std::fs::read_to_string(&site_path).unwrap().replace("firmware_dir = \"firmware\"", "firmware_dir = \".\"");
    std::fs::write(&site_path, text_of).unwrap();
    let o = run(gsprov().args(["check", site_path.to_str().unwrap()]));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    let checked = text(&o.stdout);
    let o = run(gsprov().args(["serve", site_path.to_str().unwrap(), "--bind", "127.0.0.1", "--http-port", "0"]));
    assert_ne!(o.status.code(), Some(0));
    let refused = text(&o.stderr);
    let words = "everything in a firmware folder is offered to the whole network";
    assert!(checked.contains(words) && refused.contains(words), "check: {checked}\nserve: {refused}");
}

/// Issue 25: an open-file limit that leaves the HTTP server few connections
/// is said where serving starts (here `serve`'s warnings; in the app, the
/// Server view's notes), with the fix.
#[test]
fn a_low_open_file_limit_is_said_where_serving_starts() {
    let dir = tempfile::tempdir().unwrap();
    let site_path = demo_with_firmware(dir.path());
    let mut c = Command::new("sh");
    c.env_remove("GSPROV_XML_PASSWORD")
        .env_remove("GSPROV_HTTP_PASSWORD")
        .arg("-c")
        .arg("ulimit -n 1024 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_gsprov"))
        .args(serve_args(&site_path));
    let s = serve_with(c);
    // The session's note (what the app's Server view shows), not only the log line.
    s.said("warning: serving: the open-file limit lets each HTTP(S) server hold only 32 connections at once");
    s.stop();
}
