//! The HTTPS identity: per-site self-signed certificates (rcgen), made on
//! first use and stored beside the site through `storage`, turned into a
//! rustls server configuration (ring provider, no OpenSSL), with the
//! fingerprints a technician pins (`gsprov fetch --fingerprint`, curl
//! `--pinnedpubkey`).
//!
//! Two certificates are served (issue 25, item 8): an ECDSA P-256 one to every
//! client whose handshake offers ECDSA (all current ones), and an RSA 2048 one
//! to clients that offer only RSA signatures, as older embedded TLS stacks do.
//! rustls hands the resolver the client's signature schemes already reduced to
//! those usable with the cipher suites both sides have, so the choice below is
//! exactly "can this client verify an ECDSA signature here".
//!
//! Must not touch files directly: loading and saving go through `storage`.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rcgen::PublicKeyData as _;
use rustls::SignatureScheme;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::Digest as _;

use crate::event::{CertKey, CertificateInfo, ServedCertificate, ServiceError};
use crate::formats::http::base64_encode;
use crate::storage::{self, TlsIdentity};

/// The RSA key size: what every TLS client that takes RSA accepts (1024 is
/// refused by current stacks, larger keys are slower for small devices).
pub(crate) const RSA_BITS: usize = 2048;

pub(super) struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub info: CertificateInfo,
}

/// One certificate with its key, as loaded or made.
struct Loaded {
    cert: CertificateDer<'static>,
    key: CertKey,
    certified: Arc<CertifiedKey>,
    spki: Vec<u8>,
    created: bool,
}

/// Loads the identity at `path` or creates (and stores) it; `None`: a fresh
/// in-memory identity. A file that lacks the ECDSA or the RSA certificate
/// (one written before gsprov served both) gets the missing one added, the
/// other kept as it was (its fingerprint stays pinned).
pub(super) fn identity(path: Option<&Path>, bind: IpAddr) -> Result<Tls, ServiceError> {
    let shown = path.map_or_else(|| "(in memory)".to_string(), |p| p.display().to_string());
    let err = |reason: String| ServiceError::Certificate { path: shown.clone(), reason };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let stored = path.map(storage::load_tls_identities).transpose().map_err(|e| err(e.to_string()))?.flatten();
    let mut ids = stored.unwrap_or_default();
    let mut loaded = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let which = if ids.len() > 1 { format!("certificate {}: ", i + 1) } else { String::new() };
        loaded.push(load(id, &provider, false).map_err(|e| err(format!("{which}{e}")))?);
    }
    if !loaded.iter().any(|l| !l.key.is_rsa()) {
        let id = generate(bind, KeyKind::Ecdsa).map_err(|e| err(format!("cannot create a certificate: {e}")))?;
        loaded.insert(0, load(&id, &provider, true).map_err(err)?);
        ids.insert(0, id);
    }
    if !loaded.iter().any(|l| l.key.is_rsa()) {
        // In memory (an unsaved site): the key, the slow part, is made once per process.
        let kind = if path.is_some() { KeyKind::Rsa } else { KeyKind::RsaOncePerProcess };
        let id = generate(bind, kind).map_err(|e| err(format!("cannot create an RSA certificate: {e}")))?;
        loaded.push(load(&id, &provider, true).map_err(err)?);
        ids.push(id);
    }
    if let Some(p) = path.filter(|_| loaded.iter().any(|l| l.created)) {
        storage::save_tls_identities(p, &ids).map_err(|e| err(e.to_string()))?;
    }
    let first = loaded.iter().position(|l| !l.key.is_rsa()).unwrap_or(0);
    let primary = loaded.remove(first);
    let fallback = loaded.into_iter().find(|l| l.key.is_rsa() && primary.key != l.key);
    let resolver = ByClient { ecdsa: primary.certified.clone(), rsa: fallback.as_ref().map(|f| f.certified.clone()) };
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| err(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    let spki_b64 = |spki: &[u8]| base64_encode(&sha2::Sha256::digest(spki));
    let info = CertificateInfo {
        sha256: fingerprint(&primary.cert),
        spki_sha256_base64: spki_b64(&primary.spki),
        key: primary.key,
        path: path.map(Path::to_path_buf),
        created: primary.created,
        fallback: fallback.map(|f| ServedCertificate {
            sha256: fingerprint(&f.cert),
            spki_sha256_base64: spki_b64(&f.spki),
            key: f.key,
            created: f.created,
        }),
    };
    Ok(Tls { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)), info })
}

fn load(id: &TlsIdentity, provider: &rustls::crypto::CryptoProvider, created: bool) -> Result<Loaded, String> {
    let cert = CertificateDer::from_pem_slice(id.cert_pem.as_bytes()).map_err(|e| format!("certificate: {e}"))?;
    let der = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).map_err(|e| format!("private key: {e}"))?;
    let pair = rcgen::KeyPair::from_pem(&id.key_pem).map_err(|e| format!("private key: {e}"))?;
    let alg = pair.algorithm();
    let key = if alg == &rcgen::PKCS_ECDSA_P256_SHA256 {
        CertKey::EcdsaP256
    } else if alg == &rcgen::PKCS_ECDSA_P384_SHA384 {
        CertKey::EcdsaP384
    } else if alg == &rcgen::PKCS_ED25519 {
        CertKey::Ed25519
    } else {
        CertKey::Rsa { bits: rsa_bits(der.secret_der())? }
    };
    let certified = CertifiedKey::from_der(vec![cert.clone()], der, provider)
        .map_err(|e| format!("the key does not match the certificate: {e}"))?;
    Ok(Loaded { cert, key, certified: Arc::new(certified), spki: pair.subject_public_key_info(), created })
}

/// The modulus size of an RSA private key in PKCS#8 DER.
fn rsa_bits(pkcs8: &[u8]) -> Result<u32, String> {
    use rsa::pkcs8::DecodePrivateKey as _;
    use rsa::traits::PublicKeyParts as _;
    let key = rsa::PrivateKey::from_pkcs8_der(pkcs8).map_err(|e| format!("private key: {e}"))?;
    u32::try_from(key.size() * 8).map_err(|e| e.to_string())
}

/// Picks the certificate by what the client can verify: the first (ECDSA)
/// when one of the signature schemes its handshake offers fits that key, else
/// the RSA one when one fits it. When none fits (no common cipher suite, only
/// SHA-1 signatures) the first goes on, so rustls fails the handshake with
/// the real reason rather than "no certificate".
#[derive(Debug)]
struct ByClient {
    ecdsa: Arc<CertifiedKey>,
    rsa: Option<Arc<CertifiedKey>>,
}

impl ByClient {
    fn pick(&self, offered: &[SignatureScheme]) -> Option<&Arc<CertifiedKey>> {
        std::iter::once(&self.ecdsa).chain(&self.rsa).find(|c| c.key.choose_scheme(offered).is_some())
    }
}

impl ResolvesServerCert for ByClient {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.pick(hello.signature_schemes()).unwrap_or(&self.ecdsa).clone())
    }
}

/// `AB:CD:...`: SHA-256 of a certificate's DER bytes.
pub(crate) fn fingerprint(der: &[u8]) -> String {
    sha2::Sha256::digest(der).iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

#[derive(Debug, Clone, Copy)]
enum KeyKind {
    Ecdsa,
    Rsa,
    RsaOncePerProcess,
}

fn generate(bind: IpAddr, kind: KeyKind) -> Result<TlsIdentity, String> {
    let mut names = vec!["localhost".to_string(), "gsprov".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !bind.is_unspecified() && !bind.is_loopback() {
        names.push(bind.to_string());
    }
    let mut params = rcgen::CertificateParams::new(names).map_err(|e| e.to_string())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::CommonName, "gsprov provisioning server");
    let key = match kind {
        KeyKind::Ecdsa => rcgen::KeyPair::generate().map_err(|e| e.to_string())?,
        KeyKind::Rsa => rsa_key_pair(&rsa_key()?)?,
        KeyKind::RsaOncePerProcess => {
            static KEY: std::sync::OnceLock<Result<rsa::pkcs8::SecretDocument, String>> = std::sync::OnceLock::new();
            rsa_key_pair(KEY.get_or_init(rsa_key).as_ref().map_err(Clone::clone)?)?
        }
    };
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok(TlsIdentity { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

/// A fresh RSA key as PKCS#8 (ring, rcgen's backend here, cannot generate
/// RSA keys): made by the `rsa` crate from the OS random source.
fn rsa_key() -> Result<rsa::pkcs8::SecretDocument, String> {
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = rsa::PrivateKey::new(&mut getrandom_sys_rng::SysRng, RSA_BITS).map_err(|e| e.to_string())?;
    key.to_pkcs8_der().map_err(|e| e.to_string())
}

/// An RSA key handed to rcgen, which signs the certificate with it (PKCS#1
/// v1.5, SHA-256).
fn rsa_key_pair(pkcs8: &rsa::pkcs8::SecretDocument) -> Result<rcgen::KeyPair, String> {
    let pkcs8 = PrivatePkcs8KeyDer::from(pkcs8.as_bytes());
    rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use SignatureScheme as S;

    #[test]
    fn ecdsa_to_whoever_offers_it_rsa_to_the_rest() {
        let provider = rustls::crypto::ring::default_provider();
        let bind: IpAddr = "127.0.0.1".parse().unwrap();
        let made = |kind| load(&generate(bind, kind).unwrap(), &provider, true).unwrap();
        let (ecdsa, rsa) = (made(KeyKind::Ecdsa), made(KeyKind::Rsa));
        assert_eq!((ecdsa.key, rsa.key), (CertKey::EcdsaP256, CertKey::Rsa { bits: 2048 }));
        let both = ByClient { ecdsa: ecdsa.certified.clone(), rsa: Some(rsa.certified.clone()) };
        let got = |offered: &[S]| both.pick(offered).map(|c| c.cert[0].clone());
        assert_eq!(got(&[S::RSA_PSS_SHA256, S::ECDSA_NISTP256_SHA256]), Some(ecdsa.cert.clone()));
        assert_eq!(got(&[S::RSA_PKCS1_SHA256]), Some(rsa.cert.clone()));
        assert_eq!(got(&[S::RSA_PSS_SHA512]), Some(rsa.cert.clone()));
        // Only SHA-1 or another curve offered: nothing this server can sign with.
        assert_eq!(got(&[S::RSA_PKCS1_SHA1, S::ECDSA_NISTP384_SHA384]), None);
        assert_eq!(got(&[]), None);
        let ecdsa_only = ByClient { ecdsa: ecdsa.certified.clone(), rsa: None };
        assert!(ecdsa_only.pick(&[S::RSA_PKCS1_SHA256]).is_none());
    }

    #[test]
    fn a_made_identity_serves_both_and_a_stored_one_is_reused_or_completed() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("s.tls.pem");
        let bind: IpAddr = "127.0.0.1".parse().unwrap();
        let made = identity(Some(&pem), bind).unwrap().info;
        assert_eq!(made.key, CertKey::EcdsaP256);
        let rsa = made.fallback.clone().unwrap();
        assert_eq!((rsa.key, rsa.created, made.created), (CertKey::Rsa { bits: 2048 }, true, true));
        assert_ne!(rsa.sha256, made.sha256);
        let again = identity(Some(&pem), bind).unwrap().info;
        assert_eq!((again.sha256.as_str(), again.created), (made.sha256.as_str(), false));
        assert_eq!(again.fallback.as_ref().map(|f| (f.sha256.as_str(), f.created)), Some((rsa.sha256.as_str(), false)));
        // A file an earlier gsprov wrote (ECDSA only) keeps its certificate and gets an RSA one.
        let ids = storage::load_tls_identities(&pem).unwrap().unwrap();
        storage::save_tls_identities(&pem, &ids[..1]).unwrap();
        let completed = identity(Some(&pem), bind).unwrap().info;
        assert_eq!((completed.sha256.as_str(), completed.created), (made.sha256.as_str(), false));
        let added = completed.fallback.unwrap();
        assert!(added.created && added.sha256 != rsa.sha256 && added.key.is_rsa());
        assert_eq!(storage::load_tls_identities(&pem).unwrap().unwrap().len(), 2);
    }
}
