//! `gsprov fetch`: a device's view of a server.

use serde_json::json;

use crate::cli::FetchArgs;
use crate::formats::crypto;
use crate::formats::decode;
use crate::services::client::{self, FetchOptions};
use crate::site;
use crate::storage;

use super::decode::print_decoded;
use super::{Error, Term};

/// `gsprov fetch`: fetches like a device, then decodes what came back.
pub fn fetch(args: &FetchArgs, t: &mut Term) -> Result<(), Error> {
    let site = args.site.as_deref().map(storage::load_site).transpose()?;
    let model: crate::ids::Model = match (&args.model, site.as_ref().and_then(|s| s.device(args.mac))) {
        (Some(m), _) => m.clone(),
        (None, Some(d)) => d.model.clone(),
        (None, None) => "GXP2170".parse().expect("GXP2170 is a model name"),
    };
    let site_auth = site.as_ref().and_then(|s| s.serving.auth.clone());
    let credentials = match (&args.user, &args.http_password, site_auth) {
        (Some(u), Some(p), _) => Some(site::HttpAuth { username: u.clone(), password: p.clone() }),
        (_, _, Some(a)) => Some(a),
        _ => None,
    };
    let opts = FetchOptions {
        user_agent: client::grandstream_user_agent(&model, &args.firmware, args.mac),
        fingerprint: args.fingerprint.clone(),
        credentials,
        timeout: std::time::Duration::from_secs(5),
        ..FetchOptions::default()
    };
    let err = &mut *t.err;
    let got = client::fetch_with_progress(&args.url, &opts, &mut |line| {
        let _ = writeln!(err, "{line}");
    })
    .map_err(|error| Error::Fetch { url: args.url.clone(), error })?;
    let how = if got.status == 0 { "TFTP".to_string() } else { format!("HTTP {}", got.status) };
    writeln!(
        t.err,
        "fetched {} as {} ({model} {}): {how}, {} bytes",
        args.url,
        args.mac,
        args.firmware,
        got.bytes.len()
    )?;
    if let Some(c) = &got.certificate {
        writeln!(t.err, "server certificate SHA-256 {c}")?;
    }
    if let Some(out) = &args.out {
        storage::write_atomic(out, &got.bytes, false)?;
    }
    let password = args
        .password
        .clone()
        .or_else(|| site.as_ref().map(|s| s.provisioning.xml_password.clone()).filter(|p| !p.is_empty()));
    let digest = site.as_ref().map_or(crypto::Digest::Md5, |s| s.provisioning.digest);
    let mut extra = serde_json::Map::new();
    extra.insert("url".into(), json!(args.url));
    extra.insert("status".into(), json!(got.status));
    extra.insert("bytes".into(), json!(got.bytes.len()));
    extra.insert("certificate_sha256".into(), json!(got.certificate));
    match decode::any(&got.bytes, password.as_deref(), digest) {
        Ok(d) => print_decoded(&args.url, &d, args.show_secrets, args.json, extra, t),
        Err(e) if crypto::is_salted(&got.bytes) => {
            Err(Error::Undecodable { path: args.url.clone(), message: e.to_string() })
        }
        Err(_) => {
            use sha2::Digest as _;
            let sum: String = sha2::Sha256::digest(&got.bytes).iter().map(|b| format!("{b:02x}")).collect();
            if args.json {
                extra.insert("format".into(), json!("not a config file"));
                extra.insert("sha256".into(), json!(sum));
                writeln!(t.out, "{}", serde_json::Value::Object(extra))?;
            } else {
                writeln!(
                    t.out,
                    "# {}: not a config file (firmware?), {} bytes, SHA-256 {sum}",
                    args.url,
                    got.bytes.len()
                )?;
            }
            Ok(())
        }
    }
}
