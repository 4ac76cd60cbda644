//! What a requested file name asks for: prefix/postfix, `cfg<mac>`, `cfg<mac>.xml`,
//! `cfg<model>.xml`, `cfg.xml`, firmware names (spec §2, §9.1).
//!
//! Owns both directions of the naming rule `<prefix><basic name><postfix>` (the
//! postfix goes after the extension): [`parse`] turns a TFTP RRQ file name or an
//! HTTP path into an [`Asked`], the `*_name` builders produce the names the
//! generator exports. Pure string work; which bytes answer a request is the
//! router's business, not this module's.

use crate::ids::{Mac, Model};

/// What a request asks for, independent of prefix, postfix, directory and case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asked {
    /// `cfg<mac>` or, on newer firmware, `cfg<mac>.bin` (same bytes, spec §2).
    BinaryConfig {
        mac: Mac,
        bin_suffix: bool,
    },
    /// `cfg<mac>.xml`.
    DeviceXml {
        mac: Mac,
    },
    /// `cfg<model>.xml`; the stem is lower case, e.g. `gxp2170`.
    ModelXml {
        model_stem: String,
    },
    /// `cfg.xml`, the fallback when the per-device XML is missing.
    GenericXml,
    /// A firmware image such as `gxp2170fw.bin` or `boot.bin`, lower case,
    /// firmware prefix and postfix removed.
    Firmware {
        name: String,
    },
    Unknown,
}

/// The device's naming settings: config prefix/postfix (P234/P235) and firmware
/// prefix/postfix (P232/P233). Empty strings mean "not set".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Naming<'a> {
    pub prefix: &'a str,
    pub postfix: &'a str,
    pub fw_prefix: &'a str,
    pub fw_postfix: &'a str,
}

/// A request name taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// Leading path without the last component, `/`-joined, without empty
    /// components (so no leading slash); may be empty.
    pub dir: String,
    /// The last path component as sent (original case).
    pub file: String,
    pub asked: Asked,
    /// Whether the configured prefix and postfix were present. False when the name
    /// only makes sense with them ignored (the server can then explain "prefix
    /// mismatch" instead of a bare 404), or when an unknown name lacks them.
    pub affix_ok: bool,
}

/// Takes `path` apart. Only the last component decides (devices vary in whether
/// they send the P237 path or a leading `/`, spec §9.1); matching ignores case.
pub fn parse(path: &str, naming: &Naming) -> Parsed {
    let (dir, file) = match path.rsplit_once('/') {
        Some((dir, file)) => (dir.split('/').filter(|c| !c.is_empty()).collect::<Vec<_>>().join("/"), file),
        None => (String::new(), path),
    };
    let lower = file.to_ascii_lowercase();
    let (asked, affix_ok) = classify(&lower, naming);
    Parsed { dir, file: file.to_string(), asked, affix_ok }
}

fn classify(lower: &str, n: &Naming) -> (Asked, bool) {
    // The name as the device should send it, with the configured affixes.
    let config_core = strip_affixes(lower, n.prefix, n.postfix);
    if let Some(asked) = config_core.and_then(config_shape) {
        return (asked, true);
    }
    let fw_core = strip_affixes(lower, n.fw_prefix, n.fw_postfix);
    if let Some(asked) = fw_core.and_then(firmware_shape) {
        return (asked, true);
    }
    // Otherwise see whether the name would make sense with the affixes ignored
    // (missing, or a different prefix in front of `cfg`), so the caller can say
    // what did not match instead of a bare "not found".
    let bases = [Some(lower), strip_affixes(lower, "", n.postfix)];
    let mismatched = bases
        .into_iter()
        .flatten()
        .flat_map(|base| base.match_indices("cfg").map(move |(i, _)| &base[i..]))
        .find_map(config_shape);
    if let Some(asked) = mismatched {
        return (asked, false);
    }
    let fw_tries = [Some(lower), strip_affixes(lower, n.fw_prefix, ""), strip_affixes(lower, "", n.fw_postfix)];
    if let Some(asked) = fw_tries.into_iter().flatten().find_map(firmware_shape) {
        return (asked, false);
    }
    (Asked::Unknown, config_core.is_some())
}

/// `name` without `prefix` and `postfix` (compared without case), or `None` if
/// either is missing.
fn strip_affixes<'s>(name: &'s str, prefix: &str, postfix: &str) -> Option<&'s str> {
    let prefix = prefix.to_ascii_lowercase();
    let postfix = postfix.to_ascii_lowercase();
    name.strip_prefix(prefix.as_str())?.strip_suffix(postfix.as_str())
}

/// Recognises the four config names in a lower-case core name.
fn config_shape(core: &str) -> Option<Asked> {
    let rest = core.strip_prefix("cfg")?;
    if rest == ".xml" {
        return Some(Asked::GenericXml);
    }
    if let Some(mac) = twelve_hex(rest) {
        return Some(Asked::BinaryConfig { mac, bin_suffix: false });
    }
    if let Some(mac) = rest.strip_suffix(".bin").and_then(twelve_hex) {
        return Some(Asked::BinaryConfig { mac, bin_suffix: true });
    }
    let stem = rest.strip_suffix(".xml")?;
    if let Some(mac) = twelve_hex(stem) {
        return Some(Asked::DeviceXml { mac });
    }
    // Model names start with letters and go on with letters and digits (`gxp2170`,
    // `grp2612w`); a long all-hex stem is a mistyped MAC, not a model.
    let looks_like_mac = stem.len() >= 11 && stem.bytes().all(|b| b.is_ascii_hexdigit());
    if stem.starts_with(|c: char| c.is_ascii_alphabetic())
        && !looks_like_mac
        && stem.bytes().all(|b| b.is_ascii_alphanumeric())
        && stem.parse::<Model>().is_ok()
    {
        return Some(Asked::ModelXml { model_stem: stem.to_string() });
    }
    None
}

fn firmware_shape(core: &str) -> Option<Asked> {
    // Every firmware name in spec §9.1 (gxp2170fw.bin, ht802fw.bin, boot.bin,
    // bt-110.bin, …) ends in .bin; config shapes were tried first.
    let stem = core.strip_suffix(".bin")?;
    if stem.is_empty() || config_shape(core).is_some() {
        return None;
    }
    Some(Asked::Firmware { name: core.to_string() })
}

fn twelve_hex(s: &str) -> Option<Mac> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_hexdigit()) { s.parse().ok() } else { None }
}

/// `<prefix>cfg<mac><postfix>`: the legacy binary file.
pub fn binary_name(mac: Mac, n: &Naming) -> String {
    format!("{}cfg{mac}{}", n.prefix, n.postfix)
}

/// `<prefix>cfg<mac>.xml<postfix>`.
pub fn device_xml_name(mac: Mac, n: &Naming) -> String {
    format!("{}cfg{mac}.xml{}", n.prefix, n.postfix)
}

/// `<prefix>cfg<model>.xml<postfix>`, model in lower case.
pub fn model_xml_name(model: &Model, n: &Naming) -> String {
    format!("{}cfg{}.xml{}", n.prefix, model.file_stem(), n.postfix)
}

/// `<prefix>cfg.xml<postfix>`.
pub fn generic_xml_name(n: &Naming) -> String {
    format!("{}cfg.xml{}", n.prefix, n.postfix)
}

/// `<fw_prefix><base><fw_postfix>`, e.g. `gs_boot.bin_1.0.7.5`.
pub fn firmware_name(base: &str, n: &Naming) -> String {
    format!("{}{base}{}", n.fw_prefix, n.fw_postfix)
}

/// The name a device sends for `asked`; `None` for [`Asked::Unknown`].
/// Inverse of [`parse`] for every other variant.
pub fn file_name(asked: &Asked, n: &Naming) -> Option<String> {
    Some(match asked {
        Asked::BinaryConfig { mac, bin_suffix: false } => binary_name(*mac, n),
        Asked::BinaryConfig { mac, bin_suffix: true } => format!("{}cfg{mac}.bin{}", n.prefix, n.postfix),
        Asked::DeviceXml { mac } => device_xml_name(*mac, n),
        Asked::ModelXml { model_stem } => format!("{}cfg{model_stem}.xml{}", n.prefix, n.postfix),
        Asked::GenericXml => generic_xml_name(n),
        Asked::Firmware { name } => firmware_name(name, n),
        Asked::Unknown => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mac() -> Mac {
        "000b82123456".parse().unwrap()
    }

    const NONE: Naming = Naming { prefix: "", postfix: "", fw_prefix: "", fw_postfix: "" };
    const AFFIXED: Naming = Naming { prefix: "gs_", postfix: "_cfg001", fw_prefix: "fw_", fw_postfix: "_1.0.7.5" };

    fn bin(bin_suffix: bool) -> Asked {
        Asked::BinaryConfig { mac: mac(), bin_suffix }
    }

    fn model(s: &str) -> Asked {
        Asked::ModelXml { model_stem: s.into() }
    }

    fn fw(s: &str) -> Asked {
        Asked::Firmware { name: s.into() }
    }

    #[test]
    fn table() {
        let dev = Asked::DeviceXml { mac: mac() };
        let cases: Vec<(&str, Naming, &str, Asked, bool)> = vec![
            ("cfg000b82123456", NONE, "", bin(false), true),
            ("/cfg000b82123456", NONE, "", bin(false), true),
            ("CFG000B82123456", NONE, "", bin(false), true),
            ("cfg000b82123456.bin", NONE, "", bin(true), true),
            ("cfg000B82123456.BIN", NONE, "", bin(true), true),
            ("cfg000b82123456.xml", NONE, "", dev.clone(), true),
            ("//prov/gs//cfg000B82123456.XML", NONE, "prov/gs", dev.clone(), true),
            ("cfg.xml", NONE, "", Asked::GenericXml, true),
            ("/a/cfg.xml", NONE, "a", Asked::GenericXml, true),
            ("cfggxp2170.xml", NONE, "", model("gxp2170"), true),
            ("cfgGRP2612W.xml", NONE, "", model("grp2612w"), true),
            ("cfggrp2612w.xml", NONE, "", model("grp2612w"), true),
            ("gxp2170fw.bin", NONE, "", fw("gxp2170fw.bin"), true),
            ("/fw/HT802FW.BIN", NONE, "fw", fw("ht802fw.bin"), true),
            ("boot.bin", NONE, "", fw("boot.bin"), true),
            ("bt-110.bin", NONE, "", fw("bt-110.bin"), true),
            ("gs_cfg000b82123456_cfg001", AFFIXED, "", bin(false), true),
            ("GS_cfg000b82123456_CFG001", AFFIXED, "", bin(false), true),
            ("gs_cfg000b82123456.bin_cfg001", AFFIXED, "", bin(true), true),
            ("p/gs_cfg000b82123456.xml_cfg001", AFFIXED, "p", dev.clone(), true),
            ("gs_cfggxp2170.xml_cfg001", AFFIXED, "", model("gxp2170"), true),
            ("gs_cfg.xml_cfg001", AFFIXED, "", Asked::GenericXml, true),
            ("fw_boot.bin_1.0.7.5", AFFIXED, "", fw("boot.bin"), true),
            // Affixes configured but missing: still understood, flagged.
            ("cfg000b82123456.xml", AFFIXED, "", dev.clone(), false),
            ("xx_cfg000b82123456.xml_cfg001", AFFIXED, "", dev.clone(), false),
            ("gs_cfg000b82123456.xml", AFFIXED, "", dev.clone(), false),
            ("cfg000b82123456.xml_cfg001", AFFIXED, "", dev.clone(), false),
            ("boot.bin", AFFIXED, "", fw("boot.bin"), false),
            // Not ours.
            ("cfg000b8212345.xml", NONE, "", Asked::Unknown, true),
            ("cfgc074ad15b88.xml", NONE, "", Asked::Unknown, true),
            ("cfg2170.xml", NONE, "", Asked::Unknown, true),
            ("cfg000b82123456.txt", NONE, "", Asked::Unknown, true),
            ("cfg-x.xml", NONE, "", Asked::Unknown, true),
            ("index.html", NONE, "", Asked::Unknown, true),
            (".bin", NONE, "", Asked::Unknown, true),
            ("", NONE, "", Asked::Unknown, true),
            ("/", NONE, "", Asked::Unknown, true),
            ("index.html", AFFIXED, "", Asked::Unknown, false),
            ("gs_junk_cfg001", AFFIXED, "", Asked::Unknown, true),
        ];
        for (path, naming, dir, asked, affix_ok) in cases {
            let p = parse(path, &naming);
            assert_eq!(p.asked, asked, "{path}");
            assert_eq!(p.dir, dir, "{path}");
            assert_eq!(p.affix_ok, affix_ok, "{path}");
            assert_eq!(p.file, path.rsplit('/').next().unwrap(), "{path}");
        }
    }

    #[test]
    fn builders() {
        let m: Model = "GXP2170".parse().unwrap();
        assert_eq!(binary_name(mac(), &AFFIXED), "gs_cfg000b82123456_cfg001");
        assert_eq!(device_xml_name(mac(), &AFFIXED), "gs_cfg000b82123456.xml_cfg001");
        assert_eq!(model_xml_name(&m, &NONE), "cfggxp2170.xml");
        assert_eq!(generic_xml_name(&AFFIXED), "gs_cfg.xml_cfg001");
        assert_eq!(firmware_name("boot.bin", &AFFIXED), "fw_boot.bin_1.0.7.5");
        assert_eq!(file_name(&Asked::Unknown, &NONE), None);
        assert_eq!(file_name(&bin(true), &NONE).as_deref(), Some("cfg000b82123456.bin"));
    }

    fn any_asked() -> impl Strategy<Value = Asked> {
        let mac = any::<[u8; 6]>().prop_map(Mac::from_bytes);
        prop_oneof![
            (mac.clone(), any::<bool>()).prop_map(|(mac, bin_suffix)| Asked::BinaryConfig { mac, bin_suffix }),
            mac.prop_map(|mac| Asked::DeviceXml { mac }),
            "[a-z]{1,4}[0-9]{1,5}[a-z]?".prop_map(|model_stem| Asked::ModelXml { model_stem }),
            Just(Asked::GenericXml),
            "[a-z0-9]{1,10}fw\\.bin".prop_map(|name| Asked::Firmware { name }),
        ]
    }

    proptest! {
        #[test]
        fn prop_build_then_parse(
            asked in any_asked(),
            prefix in "[a-zA-Z_]{0,4}",
            postfix in "[a-zA-Z0-9_]{0,4}",
            fw_prefix in "[a-z_]{0,4}",
            fw_postfix in "(_[0-9.]{1,8})?",
            dir in "(/[a-z]{1,5}){0,2}",
            upper in any::<bool>(),
        ) {
            let n = Naming { prefix: &prefix, postfix: &postfix, fw_prefix: &fw_prefix, fw_postfix: &fw_postfix };
            let mut name = file_name(&asked, &n).unwrap();
            if upper {
                name = name.to_ascii_uppercase();
            }
            let p = parse(&format!("{dir}/{name}"), &n);
            prop_assert_eq!(&p.asked, &asked, "{}", name);
            prop_assert!(p.affix_ok);
            prop_assert_eq!(p.dir, dir.trim_start_matches('/'));
        }

        #[test]
        fn prop_parse_never_panics(path in "\\PC{0,40}", prefix in "\\PC{0,3}") {
            let n = Naming { prefix: &prefix, ..NONE };
            let _ = parse(&path, &n);
        }
    }
}
