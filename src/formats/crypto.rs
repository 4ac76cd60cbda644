//! OpenSSL "salted" AES-256-CBC container for encrypted XML config files (spec §8):
//! `Salted__` + 8-byte salt + ciphertext with PKCS#7 padding, key and IV from
//! OpenSSL `EVP_BytesToKey` with one iteration (no PBKDF2).
//!
//! Owns key derivation, encryption and decryption only. Pure: the salt always
//! comes from the caller (no RNG here), and nothing touches files. The output is
//! what `openssl enc -e -aes-256-cbc -md md5 -salt` writes, header included —
//! OpenSSL 3's `-S` drops the header, devices need it.

use std::fmt;
use std::str::FromStr;

use aes::Aes256;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use serde::{Deserialize, Serialize};

/// The 8-byte magic that starts every salted file.
pub const MAGIC: &[u8; 8] = b"Salted__";
/// Magic plus salt.
pub const HEADER_LEN: usize = 16;
const BLOCK: usize = 16;

/// Hash used by `EVP_BytesToKey` (`openssl enc -md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Digest {
    /// What the 2011/2012 guide's command used and devices are expected to need.
    #[default]
    Md5,
    /// OpenSSL >= 1.1.0's default when `-md` is omitted; likely rejected by devices.
    Sha256,
}

impl Digest {
    /// Both digests, the device default first.
    pub const ALL: [Digest; 2] = [Digest::Md5, Digest::Sha256];

    /// The lower-case name OpenSSL uses (`-md md5`).
    pub const fn name(self) -> &'static str {
        match self {
            Digest::Md5 => "md5",
            Digest::Sha256 => "sha256",
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a text is not a digest name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a key-derivation digest; use md5 (what devices expect) or sha256")]
pub struct DigestError(pub String);

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "md5" => Ok(Digest::Md5),
            "sha256" | "sha-256" => Ok(Digest::Sha256),
            _ => Err(DigestError(s.to_string())),
        }
    }
}

/// Why a blob could not be decrypted. Never includes the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error(
        "not an OpenSSL salted file: it must start with \"Salted__\" and an 8-byte salt \
         ({0} bytes, magic missing or file too short); is it encrypted at all?"
    )]
    NotSalted(usize),
    #[error(
        "ciphertext after the 16-byte header is {0} bytes; AES-256-CBC needs a non-zero \
         multiple of 16, so the file is truncated or damaged"
    )]
    Length(usize),
    #[error(
        "decryption with digest {0} gave invalid padding: wrong password or digest \
         (devices use md5)"
    )]
    BadPadding(Digest),
}

/// OpenSSL `EVP_BytesToKey` with one iteration: `D1 = H(password || salt)`,
/// `Di = H(D(i-1) || password || salt)`; key = first 32 bytes, IV = next 16.
pub fn derive_key_iv(password: &[u8], salt: &[u8; 8], digest: Digest) -> ([u8; 32], [u8; 16]) {
    let material = match digest {
        Digest::Md5 => bytes_to_key::<md5::Md5>(password, salt),
        Digest::Sha256 => bytes_to_key::<sha2::Sha256>(password, salt),
    };
    let mut key = [0u8; 32];
    let mut iv = [0u8; 16];
    key.copy_from_slice(&material[..32]);
    iv.copy_from_slice(&material[32..]);
    (key, iv)
}

fn bytes_to_key<H: sha2::Digest>(password: &[u8], salt: &[u8; 8]) -> [u8; 48] {
    let mut out = [0u8; 48];
    let mut filled = 0;
    let mut prev: Option<sha2::digest::Output<H>> = None;
    while filled < out.len() {
        let mut h = H::new();
        if let Some(p) = &prev {
            h.update(p);
        }
        h.update(password);
        h.update(salt);
        let d = h.finalize();
        let n = d.len().min(out.len() - filled);
        out[filled..filled + n].copy_from_slice(&d[..n]);
        filled += n;
        prev = Some(d);
    }
    out
}

/// True when `blob` starts with the `Salted__` magic and holds a full salt.
pub fn is_salted(blob: &[u8]) -> bool {
    blob.len() >= HEADER_LEN && blob.starts_with(MAGIC)
}

/// Encrypts `plain` into `Salted__` + `salt` + AES-256-CBC(PKCS#7) ciphertext,
/// exactly as `openssl enc -e -aes-256-cbc -md <digest> -salt` would with that salt.
pub fn encrypt(plain: &[u8], password: &[u8], salt: [u8; 8], digest: Digest) -> Vec<u8> {
    let (key, iv) = derive_key_iv(password, &salt, digest);
    let ct_len = (plain.len() / BLOCK + 1) * BLOCK;
    let mut out = vec![0u8; HEADER_LEN + ct_len];
    out[..8].copy_from_slice(MAGIC);
    out[8..HEADER_LEN].copy_from_slice(&salt);
    let written = cbc::Encryptor::<Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_b2b::<Pkcs7>(plain, &mut out[HEADER_LEN..])
        .map(<[u8]>::len);
    // The buffer holds the plaintext plus one full padding block, the most PKCS#7 adds.
    debug_assert!(matches!(written, Ok(n) if n == ct_len));
    out
}

/// Decrypts a `Salted__` blob. Never panics.
///
/// # Errors
/// No `Salted__` header, a ciphertext length that is not a non-zero multiple of
/// 16, or bad padding (almost always a wrong password or digest).
pub fn decrypt(blob: &[u8], password: &[u8], digest: Digest) -> Result<Vec<u8>, CryptoError> {
    if !is_salted(blob) {
        return Err(CryptoError::NotSalted(blob.len()));
    }
    let mut salt = [0u8; 8];
    salt.copy_from_slice(&blob[8..HEADER_LEN]);
    let ct = &blob[HEADER_LEN..];
    if ct.is_empty() || !ct.len().is_multiple_of(BLOCK) {
        return Err(CryptoError::Length(ct.len()));
    }
    let (key, iv) = derive_key_iv(password, &salt, digest);
    let mut out = vec![0u8; ct.len()];
    let len = cbc::Decryptor::<Aes256>::new(&key.into(), &iv.into())
        .decrypt_padded_b2b::<Pkcs7>(ct, &mut out)
        .map_err(|_| CryptoError::BadPadding(digest))?
        .len();
    out.truncate(len);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::io::Write;
    use std::path::PathBuf;
    use std::process::{Command, Stdio};

    fn vector_dir() -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vectors/xml");
        assert!(dir.is_dir(), "test vectors missing: expected {} (tests/fixtures/vectors/README.md)", dir.display());
        dir
    }

    fn unhex(s: &str) -> Vec<u8> {
        assert!(s.len().is_multiple_of(2), "odd hex {s:?}");
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn x1_vector_derives_decrypts_and_reencrypts() {
        let dir = vector_dir();
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("x1.json")).unwrap()).unwrap();
        let blob = std::fs::read(dir.join(meta["ciphertext_file"].as_str().unwrap())).unwrap();
        let password = unhex(meta["password_utf8_hex"].as_str().unwrap());
        assert_eq!(password, meta["password"].as_str().unwrap().as_bytes());
        let digest: Digest = meta["md"].as_str().unwrap().parse().unwrap();
        let salt: [u8; 8] = unhex(meta["salt_hex"].as_str().unwrap()).try_into().unwrap();

        assert!(is_salted(&blob));
        assert_eq!(&blob[8..16], &salt);
        assert_eq!(blob.len() as u64, meta["ciphertext_size"].as_u64().unwrap());
        let (key, iv) = derive_key_iv(&password, &salt, digest);
        assert_eq!(hex(&key), meta["derived_key_hex"].as_str().unwrap());
        assert_eq!(hex(&iv), meta["derived_iv_hex"].as_str().unwrap());

        let plain = decrypt(&blob, &password, digest).unwrap();
        assert_eq!(plain.len() as u64, meta["plaintext_size"].as_u64().unwrap());
        let text = std::str::from_utf8(&plain).unwrap();
        assert!(text.starts_with("<?xml"), "{text}");
        let expected = std::fs::read(dir.join(meta["plaintext_file"].as_str().unwrap())).unwrap();
        assert_eq!(plain, expected, "x1.enc decrypts to x1.plain.xml");
        assert_eq!(hex(&encrypt(&plain, &password, salt, digest)), hex(&blob));
        assert_ne!(decrypt(&blob, &password, Digest::Sha256).ok(), Some(plain));
    }

    #[test]
    fn every_xml_vector_decrypts_and_reencrypts() {
        let dir = vector_dir();
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let blob = std::fs::read(dir.join(meta["ciphertext_file"].as_str().unwrap())).unwrap();
            let password = unhex(meta["password_utf8_hex"].as_str().unwrap());
            let digest: Digest = meta["md"].as_str().unwrap().parse().unwrap();
            let salt: [u8; 8] = blob[8..16].try_into().unwrap();
            let (key, iv) = derive_key_iv(&password, &salt, digest);
            assert_eq!(hex(&key), meta["derived_key_hex"].as_str().unwrap(), "{}", path.display());
            assert_eq!(hex(&iv), meta["derived_iv_hex"].as_str().unwrap(), "{}", path.display());
            let plain = decrypt(&blob, &password, digest).unwrap();
            assert_eq!(plain.len() as u64, meta["plaintext_size"].as_u64().unwrap());
            let expected = std::fs::read(dir.join(meta["plaintext_file"].as_str().unwrap())).unwrap();
            assert_eq!(plain, expected, "{} decrypts to its plaintext file", path.display());
            assert_eq!(encrypt(&plain, &password, salt, digest), blob, "{}", path.display());
            seen += 1;
        }
        assert_eq!(seen, 4, "x1..x4 in {} (tests/fixtures/vectors/README.md)", dir.display());
    }

    #[test]
    fn openssl_cli_agrees_with_evp_bytes_to_key() {
        // Values printed by `openssl enc -p -md md5 -S 0102030405060708` (from gscfg.py).
        let (key, iv) = derive_key_iv("pässwörd".as_bytes(), &[1, 2, 3, 4, 5, 6, 7, 8], Digest::Md5);
        assert_eq!(hex(&key), "d0febc1a588ec21acb3a69eddd1045f287f090426865d2fbaaacf17a4c74f484");
        assert_eq!(hex(&iv), "ebe4da9889a70fec1a7b570718e472ed");
    }

    #[test]
    fn decrypt_errors() {
        assert_eq!(decrypt(b"", b"pw", Digest::Md5), Err(CryptoError::NotSalted(0)));
        assert_eq!(decrypt(b"Salted__1234567", b"pw", Digest::Md5), Err(CryptoError::NotSalted(15)));
        assert_eq!(decrypt(b"<?xml version='1.0'?>", b"pw", Digest::Md5), Err(CryptoError::NotSalted(21)));
        assert_eq!(decrypt(b"Salted__12345678", b"pw", Digest::Md5), Err(CryptoError::Length(0)));
        let blob = encrypt(b"hello", b"right", [9; 8], Digest::Md5);
        assert_eq!(decrypt(&blob[..blob.len() - 1], b"right", Digest::Md5), Err(CryptoError::Length(15)));
        // A wrong key yields valid padding about 1 time in 256; this salt is checked not to.
        let err = decrypt(&blob, b"wrong", Digest::Md5).unwrap_err();
        assert_eq!(err, CryptoError::BadPadding(Digest::Md5));
        assert!(err.to_string().contains("wrong password or digest"), "{err}");
    }

    #[test]
    fn digest_names() {
        for d in Digest::ALL {
            assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
            assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{d}\""));
        }
        assert_eq!("SHA256".parse::<Digest>().unwrap(), Digest::Sha256);
        assert!("sha1".parse::<Digest>().is_err());
        assert_eq!(Digest::default(), Digest::Md5);
    }

    /// Runs `openssl enc` with `input` on stdin. A missing openssl fails the test: the
    /// interoperability it proves is the point (`.ci/run` installs it).
    fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
        let mut child = match Command::new("openssl")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("`openssl` is not on PATH: install it (apt-get install openssl; .ci/run does)")
            }
            Err(e) => panic!("cannot start openssl: {e}"),
        };
        let mut stdin = child.stdin.take().unwrap();
        let data = input.to_vec();
        let writer =
            std::thread::Builder::new().name("openssl stdin".into()).spawn(move || stdin.write_all(&data)).unwrap();
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    #[test]
    fn interoperates_with_the_openssl_cli() {
        let plain =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gs_provision version=\"1\">Zoë</gs_provision>\n".repeat(7);
        for digest in Digest::ALL {
            for password in ["gs-secret-1", "Pässwörd€", ""] {
                let pass = format!("pass:{password}");
                let base = ["enc", "-aes-256-cbc", "-md", digest.name(), "-pass", pass.as_str()];

                let ours = encrypt(plain.as_bytes(), password.as_bytes(), [0x15, 0x4a, 0, 0xff, 1, 2, 3, 4], digest);
                let theirs_plain = openssl(&[&base[..], &["-d"]].concat(), &ours);
                assert_eq!(theirs_plain, plain.as_bytes(), "openssl -d of ours ({digest}, {password:?})");

                let theirs = openssl(&[&base[..], &["-e", "-salt"]].concat(), plain.as_bytes());
                assert!(is_salted(&theirs), "openssl -salt wrote no header");
                let back = decrypt(&theirs, password.as_bytes(), digest).unwrap();
                assert_eq!(back, plain.as_bytes(), "ours of openssl -e ({digest}, {password:?})");
                let salt: [u8; 8] = theirs[8..16].try_into().unwrap();
                assert_eq!(encrypt(&back, password.as_bytes(), salt, digest), theirs);
            }
        }
    }

    proptest! {
        #[test]
        fn round_trip(
            plain in prop::collection::vec(any::<u8>(), 0..300),
            password in prop::collection::vec(any::<u8>(), 0..40),
            salt in any::<[u8; 8]>(),
            sha in any::<bool>(),
        ) {
            let digest = if sha { Digest::Sha256 } else { Digest::Md5 };
            let blob = encrypt(&plain, &password, salt, digest);
            prop_assert!(is_salted(&blob));
            prop_assert_eq!(blob.len() % 16, 0);
            prop_assert_eq!(blob.len(), 16 + (plain.len() / 16 + 1) * 16);
            prop_assert_eq!(decrypt(&blob, &password, digest).unwrap(), plain);
        }

        #[test]
        fn decrypt_never_panics(tail in prop::collection::vec(any::<u8>(), 0..100), salted in any::<bool>()) {
            let blob = if salted { [MAGIC.as_slice(), &tail].concat() } else { tail };
            let _ = decrypt(&blob, b"pw", Digest::Md5);
            let _ = decrypt(&blob, b"pw", Digest::Sha256);
        }
    }
}
