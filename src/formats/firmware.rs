//! The outer header of a Grandstream firmware image (`ht802fw.bin`,
//! `gxp1600fw.bin`, ...): which members it bundles, their sizes and versions,
//! and whether the file on disk is as long as the header says.
//!
//! Owns reading that header from a prefix of the file plus the file's length,
//! so a caller never loads a 30 MB image to look at it ([`PREFIX_LEN`] bytes
//! are enough). Pure: no file system. It never decrypts, checks or modifies
//! the (vendor-encrypted) members: serving them stays opaque (spec §4).
//!
//! The layout, as described publicly (BigNerd95's GrandStream Firmware Patcher,
//! github.com/evgeni/Grandstream-Firmware-HT802 `README.md` "Firmware format" and
//! `FirmwarePatcher/GSFW.py`; a later revision of `GSFW.py` adds the V2 mode):
//! - a little-endian `u32` magic `0x23c97af9` at offset 0 (bytes `f9 7a c9 23`);
//! - N member names of 64 bytes each, NUL-padded (`ht802boot.bin`, ...);
//! - N little-endian `u32` sizes, then N `u32` versions packed like IPv4
//!   addresses (`0x01000a02` is `1.0.10.2`, most significant byte first);
//! - the members follow the header back to back, in slot order.
//!
//! N is 7 on HT8xx (648-byte header), 8 on GXP16xx (720 bytes) and 16 on
//! HT8xxV2, whose names start 256 bytes later. The HT8xx table was verified
//! field by field; the GXP16xx header length comes from a code comment; where
//! exactly the V2 offset sits and how long its header is are inferred, not
//! verified on a real image (see [`Layout::HeaderLen`]).

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// The magic at offset 0, read as a little-endian `u32`.
pub const MAGIC: u32 = 0x23c9_7af9;
/// Bytes of one member name slot.
pub const NAME_LEN: usize = 64;
/// Bytes of the file [`parse_header`] needs at most (the longest layout's
/// header, and [`DEMO_MARKER`] after the shorter ones).
pub const PREFIX_LEN: usize = Layout::Ht8xxV2.header_len();

/// What gsprov's own synthetic images (the demo's, [`demo_image`]) carry at
/// the start of their first member: [`Header::demo`] is set when it is there.
/// No vendor image starts a member with these bytes (its members are
/// encrypted); no device accepts an image that does.
pub const DEMO_MARKER: &[u8] = b"GSPROV DEMO IMAGE: synthetic, no device accepts it\0";

/// The header variants known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Layout {
    /// HT80x/HT81x: 7 slots, 648-byte header.
    #[serde(rename = "HT8xx")]
    Ht8xx,
    /// GXP16xx: 8 slots, 720-byte header.
    #[serde(rename = "GXP16xx")]
    Gxp16xx,
    /// HT801/802 V2: 16 slots after 256 more bytes.
    #[serde(rename = "HT8xxV2")]
    Ht8xxV2,
}

impl Layout {
    /// Tried in this order; a file fits at most one of them in practice (see [`parse_header`]).
    pub const ALL: [Layout; 3] = [Layout::Ht8xx, Layout::Gxp16xx, Layout::Ht8xxV2];

    pub const fn slots(self) -> usize {
        match self {
            Layout::Ht8xx => 7,
            Layout::Gxp16xx => 8,
            Layout::Ht8xxV2 => 16,
        }
    }

    /// Bytes between the magic and the first name.
    const fn skip(self) -> usize {
        match self {
            Layout::Ht8xxV2 => 256,
            _ => 0,
        }
    }

    const fn names_at(self) -> usize {
        4 + self.skip()
    }

    /// Where the members start: 72 x (N + 2) bytes (648 on HT8xx, 720 on
    /// GXP16xx, both as published), plus the V2 offset (1552, inferred).
    pub const fn header_len(self) -> usize {
        72 * (self.slots() + 2) + self.skip()
    }

    /// Bytes the names, sizes and versions end at.
    const fn fields_end(self) -> usize {
        self.names_at() + self.slots() * (NAME_LEN + 8)
    }

    pub fn label(self) -> &'static str {
        match self {
            Layout::Ht8xx => "HT8xx",
            Layout::Gxp16xx => "GXP16xx",
            Layout::Ht8xxV2 => "HT8xxV2",
        }
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A four-part firmware version such as `1.0.11.3`; orders part by part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub [u8; 4]);

impl Version {
    /// From the packed `u32` of the header (`0x01000a02` -> `1.0.10.2`).
    pub fn from_packed(v: u32) -> Version {
        Version(v.to_be_bytes())
    }

    pub fn packed(self) -> u32 {
        u32::from_be_bytes(self.0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Why a text is not a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a firmware version; write four numbers 0-255 separated by dots, like 1.0.11.3")]
pub struct VersionError(pub String);

impl FromStr for Version {
    type Err = VersionError;

    /// `1.0.11.3`: exactly four parts, each 0-255 (the header packs them in bytes).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || VersionError(s.to_string());
        let mut out = [0u8; 4];
        let mut parts = s.trim().split('.');
        for slot in &mut out {
            let p = parts.next().ok_or_else(err)?;
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            *slot = p.parse().map_err(|_| err())?;
        }
        if parts.next().is_some() {
            return Err(err());
        }
        Ok(Version(out))
    }
}

/// One bundled member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// As stored, e.g. `ht802prog.bin`.
    pub name: String,
    pub size: u32,
    pub version: Version,
}

/// Whether the file is as long as its header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum Completeness {
    Complete,
    /// Shorter than header + members: a cut download or copy.
    Truncated {
        missing: u64,
    },
    /// Longer: something was appended.
    TrailingBytes {
        extra: u64,
    },
}

impl Completeness {
    pub fn describe(self) -> String {
        match self {
            Completeness::Complete => "complete".into(),
            Completeness::Truncated { missing } => format!("truncated ({missing} bytes missing)"),
            Completeness::TrailingBytes { extra } => format!("{extra} unexpected bytes after the last member"),
        }
    }
}

/// A header read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    pub layout: Layout,
    /// The non-empty slots, in order.
    pub members: Vec<Member>,
    /// Length of the whole file, as given by the caller.
    pub file_len: u64,
    /// gsprov's synthetic demo image ([`DEMO_MARKER`]), not a vendor's.
    pub demo: bool,
}

impl Header {
    /// Header plus members: what the file's length should be.
    pub fn expected_len(&self) -> u64 {
        self.layout.header_len() as u64 + self.members.iter().map(|m| u64::from(m.size)).sum::<u64>()
    }

    pub fn completeness(&self) -> Completeness {
        let want = self.expected_len();
        match self.file_len.cmp(&want) {
            std::cmp::Ordering::Equal => Completeness::Complete,
            std::cmp::Ordering::Less => Completeness::Truncated { missing: want - self.file_len },
            std::cmp::Ordering::Greater => Completeness::TrailingBytes { extra: self.file_len - want },
        }
    }

    /// The image's version: its `*prog.bin` member's (the application, which
    /// the public HT802 example shows carrying the release number: boot and
    /// core 1.0.9.1, base 1.0.9.2, prog 1.0.9.3 in the 1.0.9.3 image), else the
    /// highest member version. Whether this equals what the device then reports
    /// in its User-Agent is not verified on hardware.
    pub fn version(&self) -> Version {
        self.members
            .iter()
            .find(|m| m.name.to_ascii_lowercase().ends_with("prog.bin"))
            .map(|m| m.version)
            .or_else(|| self.members.iter().map(|m| m.version).max())
            .unwrap_or(Version([0; 4]))
    }

    /// The model stem the member names share, lower case: `ht802` from
    /// `ht802boot.bin`, `ht802core.bin`, ... (their common prefix, cut after its
    /// last digit). `None` when the names share no such prefix.
    pub fn stem(&self) -> Option<String> {
        let names: Vec<String> = self.members.iter().map(|m| m.name.to_ascii_lowercase()).collect();
        let first = names.first()?;
        let mut common = first.strip_suffix(".bin").unwrap_or(first).len();
        for n in &names[1..] {
            common = common.min(first.bytes().zip(n.bytes()).take_while(|(a, b)| a == b).count());
        }
        let prefix = &first[..common];
        let end = prefix.rfind(|c: char| c.is_ascii_digit())? + 1;
        let stem = &prefix[..end];
        stem.starts_with(|c: char| c.is_ascii_alphabetic()).then(|| stem.to_string())
    }
}

/// Why a file is not a Grandstream firmware image this build can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("not Grandstream firmware: the file is {len} bytes, shorter than the smallest header ({need} bytes)")]
    TooShort { len: u64, need: usize },
    #[error(
        "not Grandstream firmware: offset 0 holds {found:02x?}, not the magic f9 7a c9 23 (0x23c97af9 little-endian)"
    )]
    Magic { found: [u8; 4] },
    #[error(
        "the magic is Grandstream's but no known header layout (HT8xx, GXP16xx, HT8xxV2) fits: {why}; \
         gsprov cannot tell its model or version (it may still be a valid image for another family)"
    )]
    Layout { why: String },
}

/// Reads the header from `prefix` (the file's first bytes; [`PREFIX_LEN`] are
/// enough, fewer work for the shorter layouts) and `file_len`, the whole
/// file's length. Tries each [`Layout`]: a layout fits when every name slot is
/// empty or a NUL-padded file name, at least one is not empty, and each named
/// member has a size. When several fit, the one whose sizes add up to the
/// file's length wins, else the first in [`Layout::ALL`].
pub fn parse_header(prefix: &[u8], file_len: u64) -> Result<Header, Error> {
    let smallest = Layout::Ht8xx.header_len();
    let have = prefix.len().min(usize::try_from(file_len).unwrap_or(usize::MAX));
    let prefix = &prefix[..have];
    if prefix.len() < 4 {
        return Err(Error::TooShort { len: file_len, need: smallest });
    }
    let magic = [prefix[0], prefix[1], prefix[2], prefix[3]];
    if u32::from_le_bytes(magic) != MAGIC {
        return Err(Error::Magic { found: magic });
    }
    if file_len < smallest as u64 {
        return Err(Error::TooShort { len: file_len, need: smallest });
    }
    let mut fits = Vec::new();
    let mut why = Vec::new();
    for layout in Layout::ALL {
        match read_layout(prefix, layout, file_len) {
            Ok(h) => fits.push(h),
            Err(e) => why.push(format!("{layout}: {e}")),
        }
    }
    if let Some(i) = fits.iter().position(|h| h.completeness() == Completeness::Complete) {
        return Ok(fits.swap_remove(i));
    }
    fits.into_iter().next().ok_or_else(|| Error::Layout { why: why.join("; ") })
}

fn read_layout(prefix: &[u8], layout: Layout, file_len: u64) -> Result<Header, String> {
    let end = layout.fields_end();
    if prefix.len() < end {
        return Err(if (prefix.len() as u64) < file_len {
            format!("needs the first {end} bytes, given {}", prefix.len())
        } else {
            format!("the file ends at {file_len}, inside the header")
        });
    }
    let n = layout.slots();
    let names_at = layout.names_at();
    let sizes_at = names_at + n * NAME_LEN;
    let versions_at = sizes_at + n * 4;
    let word = |at: usize| u32::from_le_bytes([prefix[at], prefix[at + 1], prefix[at + 2], prefix[at + 3]]);
    let mut members = Vec::new();
    for slot in 0..n {
        let at = names_at + slot * NAME_LEN;
        let raw = &prefix[at..at + NAME_LEN];
        let len = raw.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        if raw[len..].iter().any(|&b| b != 0) {
            return Err(format!("name slot {slot} at offset {at} has bytes after its end"));
        }
        if len == 0 {
            continue;
        }
        let name = &raw[..len];
        if !name.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
            return Err(format!("name slot {slot} at offset {at} is not a file name"));
        }
        let size = word(sizes_at + slot * 4);
        if size == 0 {
            return Err(format!("member {slot} at offset {at} has a name but size 0"));
        }
        let name = String::from_utf8_lossy(name).into_owned();
        members.push(Member { name, size, version: Version::from_packed(word(versions_at + slot * 4)) });
    }
    if members.is_empty() {
        return Err(format!("every name slot from offset {names_at} is empty"));
    }
    // The first member starts right after the header (the shorter layouts'
    // headers end well inside PREFIX_LEN).
    let first = layout.header_len();
    let demo = prefix.get(first..first + DEMO_MARKER.len()) == Some(DEMO_MARKER);
    Ok(Header { layout, members, file_len, demo })
}

/// Test and demo support: the bytes of a header with `members` (name,
/// size, version) in `layout`, zero-padded to the header's length. The members'
/// bodies are not included; append `size` bytes each for a complete image.
pub fn build_header(layout: Layout, members: &[(&str, u32, Version)]) -> Vec<u8> {
    let mut out = vec![0u8; layout.header_len()];
    out[..4].copy_from_slice(&MAGIC.to_le_bytes());
    let n = layout.slots();
    let names_at = layout.names_at();
    for (slot, (name, size, version)) in members.iter().take(n).enumerate() {
        let at = names_at + slot * NAME_LEN;
        let bytes = name.as_bytes();
        let len = bytes.len().min(NAME_LEN);
        out[at..at + len].copy_from_slice(&bytes[..len]);
        let s = names_at + n * NAME_LEN + slot * 4;
        out[s..s + 4].copy_from_slice(&size.to_le_bytes());
        let v = names_at + n * NAME_LEN + n * 4 + slot * 4;
        out[v..v + 4].copy_from_slice(&version.packed().to_le_bytes());
    }
    out
}

/// Test and demo support: a whole synthetic image, each member's body filled
/// with one byte value (nothing a device would accept: the members are not
/// encrypted images).
pub fn build_image(layout: Layout, members: &[(&str, u32, Version)]) -> Vec<u8> {
    let mut out = build_header(layout, members);
    for (i, (_, size, _)) in members.iter().take(layout.slots()).enumerate() {
        out.extend(std::iter::repeat_n(i as u8 + 1, *size as usize));
    }
    out
}

/// A synthetic image marked as gsprov's demo ([`DEMO_MARKER`] at the start
/// of its first member, which must be at least that long).
pub fn demo_image(layout: Layout, members: &[(&str, u32, Version)]) -> Vec<u8> {
    let mut out = build_image(layout, members);
    let at = layout.header_len();
    if members.first().is_some_and(|m| m.1 as usize >= DEMO_MARKER.len()) {
        out[at..at + DEMO_MARKER.len()].copy_from_slice(DEMO_MARKER);
    }
    out
}

/// The demo site's firmware folder (`assets/firmware/`, and what the desktop
/// app shows for the demo): synthetic images built from the layout, each
/// member a run of one byte value, the first starting with [`DEMO_MARKER`].
/// No device would accept them.
pub fn demo_images() -> Vec<(&'static str, Vec<u8>)> {
    let v = |s: &str| s.parse::<Version>().unwrap_or(Version([0; 4]));
    let gxp21 = |ver: &str| {
        demo_image(
            Layout::Ht8xx,
            &[("gxp2170boot.bin", 96, v(ver)), ("gxp2170core.bin", 160, v(ver)), ("gxp2170prog.bin", 256, v(ver))],
        )
    };
    vec![
        ("gxp2170/1.0.11.3/gxp2170fw.bin", gxp21("1.0.11.3")),
        ("gxp2170/1.0.11.79/gxp2170fw.bin", gxp21("1.0.11.79")),
        (
            "gxp1600fw.bin",
            demo_image(
                Layout::Gxp16xx,
                &[("gxp1600boot.bin", 64, v("1.0.7.1")), ("gxp1600prog.bin", 192, v("1.0.7.13"))],
            ),
        ),
        (
            "ht802fw.bin",
            demo_image(
                Layout::Ht8xx,
                &[
                    ("ht802boot.bin", 64, v("1.0.10.2")),
                    ("ht802base.bin", 96, v("1.0.10.6")),
                    ("ht802prog.bin", 128, v("1.0.10.6")),
                ],
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    fn ht802(version: &str) -> Vec<u8> {
        build_image(
            Layout::Ht8xx,
            &[
                ("ht802boot.bin", 100, v("1.0.9.1")),
                ("ht802core.bin", 200, v("1.0.9.1")),
                ("ht802base.bin", 300, v("1.0.9.2")),
                ("ht802prog.bin", 400, v(version)),
            ],
        )
    }

    #[test]
    fn byte_order_matches_the_published_layout() {
        let img = ht802("1.0.10.2");
        // Magic as stored on disk, little-endian.
        assert_eq!(&img[..4], &[0xf9, 0x7a, 0xc9, 0x23]);
        // Version of slot 3 at 4 + 7*64 + 7*4 + 3*4: 0x01000a02 little-endian.
        let at = 4 + 7 * 64 + 7 * 4 + 3 * 4;
        assert_eq!(&img[at..at + 4], &[0x02, 0x0a, 0x00, 0x01]);
        assert_eq!(Version::from_packed(0x0100_0a02).to_string(), "1.0.10.2");
        assert_eq!(Layout::Ht8xx.header_len(), 648);
        assert_eq!(Layout::Gxp16xx.header_len(), 720);
    }

    #[test]
    fn valid_ht802_image() {
        let img = ht802("1.0.9.3");
        let h = parse_header(&img[..PREFIX_LEN.min(img.len())], img.len() as u64).unwrap();
        assert_eq!(h.layout, Layout::Ht8xx);
        assert_eq!(h.members.len(), 4);
        assert_eq!(h.members[3], Member { name: "ht802prog.bin".into(), size: 400, version: v("1.0.9.3") });
        assert_eq!(h.version(), v("1.0.9.3"));
        assert_eq!(h.stem().as_deref(), Some("ht802"));
        assert_eq!(h.completeness(), Completeness::Complete);
        assert_eq!(img.len(), 648 + 1000);
    }

    #[test]
    fn only_the_prefix_is_needed() {
        let img = ht802("1.0.9.3");
        // The header alone plus the real length: the server need not load the image.
        let h = parse_header(&img[..648], img.len() as u64).unwrap();
        assert_eq!(h.completeness(), Completeness::Complete);
    }

    #[test]
    fn gxp16xx_and_v2_layouts() {
        let img = build_image(
            Layout::Gxp16xx,
            &[("gxp1600boot.bin", 10, v("1.0.4.1")), ("gxp1600prog.bin", 20, v("1.0.4.13"))],
        );
        let h = parse_header(&img, img.len() as u64).unwrap();
        assert_eq!((h.layout, h.version(), h.stem().as_deref()), (Layout::Gxp16xx, v("1.0.4.13"), Some("gxp1600")));
        assert_eq!(h.completeness(), Completeness::Complete);

        let img = build_image(
            Layout::Ht8xxV2,
            &[("ht80xv2boot.bin", 10, v("1.0.1.1")), ("ht80xv2prog.bin", 5, v("1.0.1.9"))],
        );
        let h = parse_header(&img, img.len() as u64).unwrap();
        assert_eq!((h.layout, h.version(), h.stem().as_deref()), (Layout::Ht8xxV2, v("1.0.1.9"), Some("ht80xv2")));
    }

    #[test]
    fn truncated_and_trailing() {
        let img = ht802("1.0.9.3");
        let h = parse_header(&img, img.len() as u64 - 77).unwrap();
        assert_eq!(h.completeness(), Completeness::Truncated { missing: 77 });
        assert_eq!(h.completeness().describe(), "truncated (77 bytes missing)");
        let h = parse_header(&img, img.len() as u64 + 5).unwrap();
        assert_eq!(h.completeness(), Completeness::TrailingBytes { extra: 5 });
    }

    #[test]
    fn wrong_magic_says_what_and_where() {
        let mut img = ht802("1.0.9.3");
        img[..4].copy_from_slice(b"PK\x03\x04");
        let e = parse_header(&img, img.len() as u64).unwrap_err();
        assert_eq!(e, Error::Magic { found: *b"PK\x03\x04" });
        let text = e.to_string();
        assert!(
            text.contains("not Grandstream firmware") && text.contains("offset 0") && text.contains("50, 4b"),
            "{text}"
        );
        assert!(matches!(parse_header(b"", 0), Err(Error::TooShort { .. })));
        assert!(matches!(parse_header(&MAGIC.to_le_bytes(), 4), Err(Error::TooShort { len: 4, need: 648 })));
    }

    #[test]
    fn magic_without_a_known_layout() {
        let mut img = vec![0u8; 2000];
        img[..4].copy_from_slice(&MAGIC.to_le_bytes());
        img[4..8].copy_from_slice(&[0xff, 0x01, 0xff, 0x01]);
        let e = parse_header(&img, 2000).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::Layout { .. }));
        assert!(text.contains("HT8xx: name slot 0 at offset 4"), "{text}");
    }

    #[test]
    fn a_named_member_without_size_is_not_a_fit() {
        let mut img = ht802("1.0.9.3");
        let at = 4 + 7 * 64;
        img[at..at + 4].copy_from_slice(&[0; 4]);
        let text = parse_header(&img, img.len() as u64).unwrap_err().to_string();
        assert!(text.contains("member 0 at offset 4 has a name but size 0"), "{text}");
    }

    #[test]
    fn two_versions_of_one_model_compare() {
        let old = parse_header(&ht802("1.0.9.3"), 1648).unwrap();
        let new = parse_header(&ht802("1.0.10.7"), 1648).unwrap();
        assert!(new.version() > old.version(), "1.0.10.7 > 1.0.9.3 part by part, not as text");
        assert_eq!(old.stem(), new.stem());
    }

    #[test]
    fn version_text() {
        assert_eq!(v("1.0.11.79").0, [1, 0, 11, 79]);
        for bad in ["1.0.11", "1.0.11.3.4", "1.0.256.1", "a.b.c.d", "", "1..1.1", "+1.0.1.1"] {
            assert!(bad.parse::<Version>().is_err(), "{bad}");
        }
        assert!(v("1.0.9.69") < v("1.0.11.3"));
    }

    #[test]
    fn demo_images_are_the_files_in_assets() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/firmware");
        for (name, bytes) in demo_images() {
            // `GSPROV_BLESS=1 cargo test --lib demo_images` rewrites them.
            if std::env::var_os("GSPROV_BLESS").is_some() {
                let path = root.join(name);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, &bytes).unwrap();
            }
            let on_disk = std::fs::read(root.join(name)).unwrap_or_default();
            assert!(on_disk == bytes, "assets/firmware/{name} differs from demo_images(); rewrite it");
            let h = parse_header(&bytes, bytes.len() as u64).unwrap();
            assert_eq!(h.completeness(), Completeness::Complete, "{name}");
            assert!(h.demo, "{name} carries the demo marker");
            // Read from a prefix as the listing reads it.
            let prefix = &bytes[..bytes.len().min(PREFIX_LEN)];
            assert!(parse_header(prefix, bytes.len() as u64).unwrap().demo, "{name}");
        }
        // A synthetic image without the marker (as a vendor's) is not a demo.
        let plain = build_image(Layout::Ht8xx, &[("ht802prog.bin", 100, "1.0.9.3".parse().unwrap())]);
        assert!(!parse_header(&plain, plain.len() as u64).unwrap().demo);
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000), extra in 0u64..5000, magic in any::<bool>()) {
            let mut bytes = bytes;
            if magic && bytes.len() >= 4 {
                bytes[..4].copy_from_slice(&MAGIC.to_le_bytes());
            }
            let len = bytes.len() as u64 + extra;
            if let Ok(h) = parse_header(&bytes, len) {
                prop_assert!(!h.members.is_empty());
                let _ = (h.completeness(), h.version(), h.stem());
            }
        }

        #[test]
        fn built_headers_read_back(sizes in proptest::collection::vec(1u32..100_000, 1..=6), ver in any::<[u8; 4]>()) {
            let roles = ["boot", "core", "base", "prog", "lang", "misc"];
            let names: Vec<String> = roles.iter().take(sizes.len()).map(|r| format!("ht812{r}.bin")).collect();
            let members: Vec<(&str, u32, Version)> =
                names.iter().zip(&sizes).map(|(n, s)| (n.as_str(), *s, Version(ver))).collect();
            let head = build_header(Layout::Ht8xx, &members);
            let total = head.len() as u64 + sizes.iter().map(|s| u64::from(*s)).sum::<u64>();
            let h = parse_header(&head, total).unwrap();
            prop_assert_eq!(h.completeness(), Completeness::Complete);
            prop_assert_eq!(h.members.len(), sizes.len());
            prop_assert_eq!(h.stem(), Some("ht812".to_string()));
        }
    }
}
