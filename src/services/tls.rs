//! The HTTPS identity: a per-site self-signed certificate (rcgen), made on
//! first use and stored beside the site through `storage`, turned into a
//! rustls server configuration (ring provider, no OpenSSL), with the
//! fingerprints a technician pins (`gsprov fetch --fingerprint`, curl
//! `--pinnedpubkey`).
//!
//! Must not touch files directly: loading and saving go through `storage`.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rcgen::PublicKeyData as _;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::Digest as _;

use crate::event::{CertificateInfo, ServiceError};
use crate::formats::http::base64_encode;
use crate::storage::{self, TlsIdentity};

pub(super) struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub info: CertificateInfo,
}

/// Loads the identity at `path` or creates (and stores) one; `None`: a fresh
/// in-memory identity.
pub(super) fn identity(path: Option<&Path>, bind: IpAddr) -> Result<Tls, ServiceError> {
    let shown = path.map_or_else(|| "(in memory)".to_string(), |p| p.display().to_string());
    let err = |reason: String| ServiceError::Certificate { path: shown.clone(), reason };
    let (id, created) = match path.map(storage::load_tls_identity).transpose().map_err(|e| err(e.to_string()))? {
        Some(Some(id)) => (id, false),
        _ => {
            let id = generate(bind).map_err(|e| err(format!("cannot create a certificate: {e}")))?;
            if let Some(p) = path {
                storage::save_tls_identity(p, &id).map_err(|e| err(e.to_string()))?;
            }
            (id, true)
        }
    };
    let cert = CertificateDer::from_pem_slice(id.cert_pem.as_bytes()).map_err(|e| err(format!("certificate: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).map_err(|e| err(format!("private key: {e}")))?;
    let spki =
        rcgen::KeyPair::from_pem(&id.key_pem).map_err(|e| err(format!("private key: {e}")))?.subject_public_key_info();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .map_err(|e| err(format!("the key does not match the certificate: {e}")))?;
    let info = CertificateInfo {
        sha256: fingerprint(&cert),
        spki_sha256_base64: base64_encode(&sha2::Sha256::digest(&spki)),
        path: path.map(Path::to_path_buf),
        created,
    };
    Ok(Tls { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)), info })
}

/// `AB:CD:...`: SHA-256 of a certificate's DER bytes.
pub(crate) fn fingerprint(der: &[u8]) -> String {
    sha2::Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

fn generate(bind: IpAddr) -> Result<TlsIdentity, rcgen::Error> {
    let mut names = vec!["localhost".to_string(), "gsprov".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !bind.is_unspecified() && !bind.is_loopback() {
        names.push(bind.to_string());
    }
    let mut params = rcgen::CertificateParams::new(names)?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, "gsprov provisioning server");
    let key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&key)?;
    Ok(TlsIdentity { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}
