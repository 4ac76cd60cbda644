//! Identifiers parsed once and trusted afterwards: MAC addresses, P-value ids and
//! model names. Pure; owns no I/O.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Organisationally unique identifiers registered to Grandstream (spec §11).
pub const GRANDSTREAM_OUIS: [[u8; 3]; 3] = [[0x00, 0x0b, 0x82], [0xc0, 0x74, 0xad], [0xec, 0x74, 0xd7]];

/// Why a text is not a MAC address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MacError {
    #[error("MAC address {0:?} has {1} hex digits; it needs exactly 12 (e.g. 000B82123456)")]
    Length(String, usize),
    #[error("MAC address {0:?} contains {1:?}, which is not a hex digit or separator")]
    NotHex(String, char),
    #[error(
        "MAC address {0:?} mixes separators or groups them oddly; use 000B82123456, 00:0B:82:12:34:56, 00-0B-82-12-34-56 or 000b.8212.3456"
    )]
    Shape(String),
}

/// A 48-bit hardware address. Canonical text form: 12 lower-case hex digits
/// (what devices put in file names, spec §1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac([u8; 6]);

impl Mac {
    pub const fn from_bytes(bytes: [u8; 6]) -> Self {
        Mac(bytes)
    }

    pub const fn bytes(&self) -> [u8; 6] {
        self.0
    }

    /// True when the OUI belongs to Grandstream. Others are allowed, with a warning.
    pub fn is_grandstream(&self) -> bool {
        GRANDSTREAM_OUIS.iter().any(|o| o[..] == self.0[..3])
    }

    /// `00:0B:82:12:34:56`, for people.
    pub fn colon(&self) -> String {
        self.0.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
    }

    /// Finds a MAC in the last 12 hex digits of `text` (User-Agent `DevId`, paths).
    pub fn from_trailing_hex(text: &str) -> Option<Mac> {
        let tail: Vec<u8> = text.bytes().rev().take_while(u8::is_ascii_hexdigit).collect();
        if tail.len() < 12 {
            return None;
        }
        let digits: String = tail[..12].iter().rev().map(|&b| b as char).collect();
        digits.parse().ok()
    }
}

impl FromStr for Mac {
    type Err = MacError;

    /// Accepts `000B82123456`, `00:0b:82:12:34:56`, `00-0B-82-12-34-56`, `000b.8212.3456`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Some(c) = t.chars().find(|c| !c.is_ascii_hexdigit() && !matches!(c, ':' | '-' | '.')) {
            return Err(MacError::NotHex(s.to_string(), c));
        }
        let digits: Vec<u8> = t.bytes().filter(u8::is_ascii_hexdigit).collect();
        if digits.len() != 12 {
            return Err(MacError::Length(s.to_string(), digits.len()));
        }
        let groups: Vec<&str> = t.split([':', '-', '.']).collect();
        let shape_ok = match groups.len() {
            1 => true,
            6 => groups.iter().all(|g| g.len() == 2) && !(t.contains(':') && t.contains('-')) && !t.contains('.'),
            3 => groups.iter().all(|g| g.len() == 4) && t.chars().filter(|&c| c == '.').count() == 2,
            _ => false,
        };
        if !shape_ok {
            return Err(MacError::Shape(s.to_string()));
        }
        let mut out = [0u8; 6];
        for (i, pair) in digits.chunks(2).enumerate() {
            let hi = (pair[0] as char).to_digit(16).unwrap_or(0) as u8;
            let lo = (pair[1] as char).to_digit(16).unwrap_or(0) as u8;
            out[i] = hi << 4 | lo;
        }
        Ok(Mac(out))
    }
}

impl fmt::Display for Mac {
    /// Twelve lower-case hex digits. Written in one piece: every generated file name
    /// and XML file carries a MAC, so this runs tens of thousands of times per export.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut buf = [0u8; 12];
        for (i, b) in self.0.iter().enumerate() {
            buf[2 * i] = HEX[usize::from(b >> 4)];
            buf[2 * i + 1] = HEX[usize::from(b & 0x0f)];
        }
        f.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mac({self})")
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a text is not a P-value id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a P-value id; it must be 'P' followed by 1 to 6 digits, e.g. P47")]
pub struct PIdError(pub String);

/// A numeric provisioning parameter id, `P<n>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PId(u32);

impl PId {
    pub const fn new(n: u32) -> Self {
        PId(n)
    }

    pub const fn number(&self) -> u32 {
        self.0
    }
}

impl FromStr for PId {
    type Err = PIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let digits = t.strip_prefix('P').or_else(|| t.strip_prefix('p')).ok_or_else(|| PIdError(s.into()))?;
        if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PIdError(s.into()));
        }
        digits.parse().map(PId).map_err(|_| PIdError(s.into()))
    }
}

impl fmt::Display for PId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.0)
    }
}

impl fmt::Debug for PId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "P{}", self.0)
    }
}

impl Serialize for PId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a text is not a model name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a model name; use the name on the label, e.g. GXP2170 or HT802 (letters and digits, up to 16)")]
pub struct ModelError(pub String);

/// A device model as printed on the label, stored upper case (`GXP2170`).
/// File names use the lower-case form (`cfggxp2170.xml`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Model(String);

/// Product families: they decide file formats, enum tables and account layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    /// GXP16xx/GXP21xx/GXP17xx/GXP14xx/GXP11xx, GRP26xx: P-value accounts 1..6.
    Phone,
    /// Android GXV/GAC and WP Wi-Fi phones.
    AndroidPhone,
    /// One- and two-port ATAs (HT50x, HT70x, HT80x): port 2 = port 1 + 700.
    Ata,
    /// Multi-port ATAs and gateways (HT81x, HT818, GXW4xxx) and DECT bases (DP75x).
    Gateway,
    /// GXP2000/GXP280/GXP1200/BT and other units that only read the binary file.
    Legacy,
}

impl Model {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lower-case name as used in `cfg<model>.xml`.
    pub fn file_stem(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    pub fn family(&self) -> Family {
        let m = self.0.as_str();
        let starts = |p: &str| m.starts_with(p);
        if ["GXP2000", "GXP2020", "GXP280", "GXP285", "GXP1200", "BT"].iter().any(|p| starts(p)) {
            Family::Legacy
        } else if starts("HT81") || starts("HT818") || starts("GXW") || starts("DP75") || starts("DP76") {
            Family::Gateway
        } else if starts("HT") {
            Family::Ata
        } else if starts("GXV") || starts("GAC") || starts("WP") {
            Family::AndroidPhone
        } else {
            Family::Phone
        }
    }

    /// Number of accounts (phones) or FXS ports (ATAs) the form offers.
    pub fn lines(&self) -> u8 {
        let m = self.0.as_str();
        match self.family() {
            Family::Ata => {
                if m.starts_with("HT801") || m.starts_with("HT701") || m.starts_with("HT501") {
                    1
                } else {
                    2
                }
            }
            Family::Gateway => {
                if m.starts_with("HT818") {
                    8
                } else if m.starts_with("HT814") {
                    4
                } else if m.starts_with("HT812") {
                    2
                } else if m.starts_with("GXW4216") {
                    16
                } else if m.starts_with("GXW4224") {
                    24
                } else if m.starts_with("GXW4248") {
                    48
                } else {
                    4
                }
            }
            Family::Legacy => 1,
            Family::Phone | Family::AndroidPhone => {
                let six = ["GXP2170", "GXP2160", "GRP2616", "GRP2615"];
                let four = ["GXP2140", "GRP2614", "GRP2613"];
                if six.iter().any(|p| m.starts_with(p)) {
                    6
                } else if four.iter().any(|p| m.starts_with(p)) {
                    4
                } else {
                    2
                }
            }
        }
    }

    /// Whether this model reads XML config files (everything but legacy units).
    pub fn reads_xml(&self) -> bool {
        self.family() != Family::Legacy
    }

    /// Whether this model requests `cfg<model>.xml` (newer phones, spec §2).
    pub fn requests_model_file(&self) -> bool {
        matches!(self.family(), Family::Phone | Family::AndroidPhone)
    }
}

impl FromStr for Model {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() || t.len() > 16 || !t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(ModelError(s.into()));
        }
        Ok(Model(t.to_ascii_uppercase()))
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Model({})", self.0)
    }
}

impl Serialize for Model {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Model {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_accepts_the_four_common_spellings() {
        for s in ["000B82123456", "00:0b:82:12:34:56", "00-0B-82-12-34-56", "000b.8212.3456", " 000b82123456 "] {
            let m: Mac = s.parse().unwrap();
            assert_eq!(m.to_string(), "000b82123456", "{s}");
            assert!(m.is_grandstream());
        }
    }

    #[test]
    fn mac_rejects_with_a_reason() {
        assert!(matches!("000B8212345".parse::<Mac>(), Err(MacError::Length(_, 11))));
        assert!(matches!("000B8212345G".parse::<Mac>(), Err(MacError::NotHex(_, 'G'))));
        assert!(matches!("00:0B:82-12:34:56".parse::<Mac>(), Err(MacError::Shape(_))));
        assert!(matches!("000B:82:12:34:56".parse::<Mac>(), Err(MacError::Shape(_))));
        let msg = "xyz".parse::<Mac>().unwrap_err().to_string();
        assert!(msg.contains("\"xyz\""), "{msg}");
    }

    #[test]
    fn non_grandstream_oui_is_detected() {
        let m: Mac = "001122334455".parse().unwrap();
        assert!(!m.is_grandstream());
        assert!("c074ad000001".parse::<Mac>().unwrap().is_grandstream());
        assert!("EC74D7000001".parse::<Mac>().unwrap().is_grandstream());
    }

    #[test]
    fn mac_from_user_agent_tail() {
        let m = Mac::from_trailing_hex("Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872").unwrap();
        assert_eq!(m.to_string(), "000b828aa872");
        assert_eq!(Mac::from_trailing_hex("short 1234"), None);
    }

    #[test]
    fn pid_parses_and_rejects() {
        assert_eq!("P47".parse::<PId>().unwrap(), PId::new(47));
        assert_eq!("p1359".parse::<PId>().unwrap().to_string(), "P1359");
        for bad in ["47", "P", "P1234567", "Pabc", "P-1", "Q12"] {
            assert!(bad.parse::<PId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn model_families() {
        let m = |s: &str| s.parse::<Model>().unwrap();
        assert_eq!(m("gxp2170").as_str(), "GXP2170");
        assert_eq!(m("GXP2170").file_stem(), "gxp2170");
        assert_eq!(m("HT802").family(), Family::Ata);
        assert_eq!(m("HT802").lines(), 2);
        assert_eq!(m("HT814").family(), Family::Gateway);
        assert_eq!(m("GXW4216").lines(), 16);
        assert_eq!(m("GXP2000").family(), Family::Legacy);
        assert_eq!(m("GRP2614").family(), Family::Phone);
        assert_eq!(m("GXV3350").family(), Family::AndroidPhone);
        assert!("GXP 2170".parse::<Model>().is_err());
    }
}
