//! Any file a device is served, read back: a legacy binary `cfg<mac>`, plain
//! XML (v1 or v2), or OpenSSL-salted encrypted XML, told apart by their first
//! bytes. `gsprov decode`, `gsprov fetch` and the desktop app's self-test all
//! read through [`any`].
//!
//! Pure: bytes and the XML password in, a [`Decoded`] or a typed
//! [`DecodeError`] out.

use super::{binary, crypto, xml};

/// What a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// `legacy binary cfg`, `XML version 1 (P-values)`, `encrypted XML version 2 (aliases) (AES-256-CBC, MD5 key derivation)`.
    pub format: String,
    pub mac: Option<String>,
    /// Length and checksum verdicts of a binary file.
    pub notes: Vec<String>,
    /// `(P-id or alias, value)` in file order.
    pub params: Vec<(String, String)>,
}

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is encrypted (OpenSSL Salted__); give the XML password with --password or GSPROV_XML_PASSWORD")]
    NeedsPassword,
    #[error(transparent)]
    Decrypt(#[from] crypto::CryptoError),
    #[error("not a gs_provision XML file: {0}")]
    Xml(#[from] xml::XmlError),
    #[error("not a binary cfg file: {0}")]
    Binary(#[from] binary::DecodeError),
}

/// Reads a binary cfg, plain XML or encrypted XML file (`password` for the last).
pub fn any(bytes: &[u8], password: Option<&str>, digest: crypto::Digest) -> Result<Decoded, DecodeError> {
    if crypto::is_salted(bytes) {
        let pw = password.ok_or(DecodeError::NeedsPassword)?;
        let plain = crypto::decrypt(bytes, pw.as_bytes(), digest)?;
        let mut d = xml_file(&plain)?;
        d.format = format!("encrypted {} (AES-256-CBC, {digest} key derivation)", d.format);
        return Ok(d);
    }
    // A UTF-8 byte-order mark before the XML (editors on Windows write one)
    // is still XML; `xml::read` skips it.
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if text.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
        return xml_file(bytes);
    }
    let b = binary::decode(bytes)?;
    let mut notes = vec![format!("length {} words ({})", b.length_words, if b.length_ok { "ok" } else { "MISMATCH" })];
    notes.push(format!(
        "checksum {:04x} ({})",
        b.checksum,
        if b.checksum_ok { "ok" } else { "BAD: the device will reject this file" }
    ));
    if let Some(g) = &b.gnkey {
        notes.push(format!("gnkey {g}"));
    }
    Ok(Decoded {
        format: "legacy binary cfg".into(),
        mac: Some(b.mac.to_string()),
        notes,
        params: b.params.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
    })
}

fn xml_file(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    let doc = xml::read(bytes)?;
    let format = match doc.version {
        xml::Version::V1 => "XML version 1 (P-values)",
        xml::Version::V2 => "XML version 2 (aliases)",
    };
    Ok(Decoded {
        format: format.into(),
        mac: doc.mac.map(|m| m.to_string()),
        notes: Vec::new(),
        params: doc
            .entries
            .into_iter()
            .map(|(k, v)| {
                let k = match k {
                    xml::Key::P(id) => id.to_string(),
                    xml::Key::Alias(a) => a,
                };
                (k, v)
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_the_three_kinds_apart_and_types_its_errors() {
        let xml = b"<?xml version=\"1.0\"?><gs_provision version=\"1\"><config version=\"1\"><P35>201</P35></config></gs_provision>";
        let d = any(xml, None, crypto::Digest::Md5).unwrap();
        assert_eq!(d.format, "XML version 1 (P-values)");
        assert_eq!(d.params, vec![("P35".to_string(), "201".to_string())]);

        let sealed = crypto::encrypt(xml, b"pw", [1; 8], crypto::Digest::Md5);
        assert_eq!(any(&sealed, None, crypto::Digest::Md5), Err(DecodeError::NeedsPassword));
        let d = any(&sealed, Some("pw"), crypto::Digest::Md5).unwrap();
        assert!(d.format.starts_with("encrypted XML version 1"), "{}", d.format);
        assert!(matches!(any(&sealed, Some("wrong"), crypto::Digest::Md5), Err(DecodeError::Decrypt(_))));

        let bom = [b"\xEF\xBB\xBF".as_slice(), xml].concat();
        assert_eq!(any(&bom, None, crypto::Digest::Md5).unwrap().params, d.params, "a BOM is skipped");

        assert!(matches!(any(b"garbage", None, crypto::Digest::Md5), Err(DecodeError::Binary(_))));
        assert!(matches!(any(b"<nope", None, crypto::Digest::Md5), Err(DecodeError::Xml(_))));
    }
}
