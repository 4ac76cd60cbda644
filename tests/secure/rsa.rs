//! Item 8: old phones and HTTPS. The server presents an ECDSA P-256
//! certificate to clients that offer ECDSA and an RSA 2048 one to clients that
//! offer only RSA signatures (or only RSA key-exchange suites in TLS 1.2), as
//! `openssl s_client` shows from each side; both fingerprints are in `gsprov
//! serve`'s start lines; the key file holding both keys stays private.

use super::support::{self, curl, gsprov, text};
use super::{AUTH, FW, Serve, demo_into};
use std::net::SocketAddr;
use std::process::Command;

/// What `openssl s_client` (with `args`) got from `addr`: the leaf
/// certificate's SHA-256 fingerprint (`AB:CD:...`) and the whole output.
fn s_client(addr: SocketAddr, args: &[&str]) -> (String, String) {
    let o = support::run(
        Command::new("timeout")
            .args(["20", "openssl", "s_client", "-connect", &addr.to_string(), "-servername", "localhost"])
            .args(["-showcerts"])
            .args(args)
            .stdin(std::process::Stdio::null()),
    );
    let out = text(&o.stdout);
    assert!(o.status.success(), "s_client {args:?} failed:\n{out}\n{}", text(&o.stderr));
    let begin = out.find("-----BEGIN CERTIFICATE-----").unwrap_or_else(|| panic!("no certificate in:\n{out}"));
    let end = out[begin..].find("-----END CERTIFICATE-----").unwrap() + begin + 25;
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("leaf.pem");
    std::fs::write(&pem, &out[begin..end]).unwrap();
    let o = support::run(Command::new("openssl").args(["x509", "-noout", "-fingerprint", "-sha256", "-in"]).arg(&pem));
    let fp = text(&o.stdout).trim().rsplit('=').next().unwrap().to_string();
    (fp, out)
}

/// The fingerprint after `prefix` on one of `lines`.
fn fingerprint_after(lines: &[String], prefix: &str) -> String {
    let line = lines.iter().find(|l| l.contains(prefix)).unwrap_or_else(|| panic!("no {prefix:?} in {lines:#?}"));
    line[line.find(prefix).unwrap() + prefix.len()..].split_whitespace().next().unwrap().to_string()
}

/// On 374d5a4 the server had only an ECDSA certificate: a client offering only
/// RSA signatures got a handshake failure. Now it gets the RSA 2048 one, a
/// client offering ECDSA still gets the ECDSA one, and `gsprov serve` names both.
#[cfg(unix)]
#[test]
fn a_client_offering_only_rsa_gets_the_rsa_certificate_and_others_the_ecdsa_one() {
    let dir = tempfile::tempdir().unwrap();
    let site = demo_into(dir.path(), AUTH);
    let s = Serve::start(&site, &["--https-port", "0"]);
    let https = s.port("https");
    let ecdsa = fingerprint_after(&s.seen, "certificate ECDSA P-256 SHA-256 ");
    let rsa = fingerprint_after(&s.seen, "and RSA 2048 certificate SHA-256 ");
    assert_ne!(ecdsa, rsa);
    assert!(s.seen.iter().any(|l| l.contains("for clients that offer no ECDSA P-256")), "{:#?}", s.seen);

    for args in [
        &["-tls1_2", "-sigalgs", "RSA+SHA256"][..],
        &["-tls1_3", "-sigalgs", "rsa_pss_rsae_sha256"],
        // An old stack that offers ECDSA signatures but only RSA key-exchange suites.
        &["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
    ] {
        let (fp, out) = s_client(https, args);
        assert_eq!(fp, rsa, "{args:?}:\n{out}");
        assert!(out.contains("Server public key is 2048 bit"), "{args:?}:\n{out}");
        assert!(out.contains("Peer signature type: RSA"), "{args:?}:\n{out}");
    }
    for args in [&[][..], &["-tls1_2", "-sigalgs", "ECDSA+SHA256:RSA+SHA256"], &["-tls1_3"]] {
        let (fp, out) = s_client(https, args);
        assert_eq!(fp, ecdsa, "{args:?}:\n{out}");
        assert!(out.contains("Peer signature type: ECDSA"), "{args:?}:\n{out}");
    }
    // What no certificate helps with: a client with only CBC suites (rustls has none) still gets a
    // handshake failure, the real reason, not "no certificate".
    let o = support::run(
        Command::new("timeout")
            .args(["20", "openssl", "s_client", "-connect", &https.to_string(), "-tls1_2", "-cipher", "AES128-SHA"])
            .stdin(std::process::Stdio::null()),
    );
    assert!(!o.status.success() && text(&o.stderr).contains("alert handshake failure"), "{}", text(&o.stderr));
    // A device fetching over the RSA certificate is served like any other.
    let url = format!("https://{https}/{FW}");
    let (rc, code, body) = curl(&[
        "-k",
        "--tlsv1.2",
        "--tls-max",
        "1.2",
        "--ciphers",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "-u",
        "prov:http-secret-1",
        &url,
    ]);
    assert_eq!((rc, code, body.len()), (0, 200, 5000));
    drop(s);

    // Both are kept: a restart serves the same two, and says neither is new.
    let s = Serve::start(&site, &["--https-port", "0"]);
    assert_eq!(fingerprint_after(&s.seen, "certificate ECDSA P-256 SHA-256 "), ecdsa);
    assert_eq!(fingerprint_after(&s.seen, "and RSA 2048 certificate SHA-256 "), rsa);
    assert!(!s.seen.iter().any(|l| l.contains("new")), "{:#?}", s.seen);
    let (fp, _) = s_client(s.port("https"), &["-tls1_2", "-sigalgs", "RSA+SHA256"]);
    assert_eq!(fp, rsa);
}

/// The key file now holds two private keys: it is still the owner's only
/// (0600), and a link to it from the firmware folder is refused on every
/// protocol, as the ECDSA-only file was.
#[cfg(unix)]
#[test]
fn the_file_with_both_keys_is_private_and_never_served() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().unwrap();
    let site = demo_into(dir.path(), AUTH);
    let s = Serve::start(&site, &["--https-port", "0"]);
    let pem = dir.path().join("office.tls.pem");
    let key_file = std::fs::read_to_string(&pem).unwrap();
    assert_eq!(key_file.matches("-----BEGIN PRIVATE KEY-----").count(), 2);
    assert_eq!(std::fs::metadata(&pem).unwrap().permissions().mode() & 0o777, 0o600);
    drop(s);
    let fw = dir.path().join("firmware");
    symlink("../office.tls.pem", fw.join("keys.bin")).unwrap();
    symlink(&pem, fw.join("office.tls.pem")).unwrap();
    let s = Serve::start(&site, &["--https-port", "0"]);
    for name in ["keys.bin", "office.tls.pem"] {
        for scheme in ["http", "https"] {
            let (_, code, body) =
                curl(&["-k", "-u", "prov:http-secret-1", &format!("{scheme}://{}/{name}", s.port(scheme))]);
            assert_eq!(code, 404, "{scheme} {name}: {}", text(&body));
            assert!(!text(&body).contains("PRIVATE KEY"));
        }
        let got = support::tftp_first_reply(s.port("tftp"), name, "127.0.0.1:0", &[]);
        assert!(got.is_err(), "tftp {name}: {:?}", got.map(|b| text(&b)));
    }
    let log = s.stop();
    assert!(log.contains("keys.bin is a link to") && log.contains("not served"), "the log:\n{log}");
    let o = support::run(gsprov().args(["firmware", site.to_str().unwrap()]));
    assert!(text(&o.stdout).contains("keys.bin is a link to"), "{}", text(&o.stdout));
}
