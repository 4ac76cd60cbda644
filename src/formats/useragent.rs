//! Grandstream User-Agent strings (spec §9.2): model, hardware revision, firmware, MAC.
//!
//! Owns reading the HTTP User-Agent of a provisioning request and the SIP
//! User-Agent of a plug-and-play SUBSCRIBE. Pure and total: any text gives a
//! [`UserAgent`], with `None` for what it does not say.

use crate::ids::{Mac, Model};

/// What a User-Agent tells about the device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAgent {
    pub model: Option<Model>,
    /// Hardware revision without the leading `V`, e.g. `2.2A`.
    pub hw_rev: Option<String>,
    pub firmware: Option<String>,
    pub mac: Option<Mac>,
    /// The string starts with `Grandstream`; all other fields are `None` otherwise.
    pub grandstream: bool,
}

/// Reads the three shapes devices send:
/// - `Grandstream Model HW <MODEL>[ V<hw>] SW <fw> DevId <mac>` (HTTP, current);
/// - `Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId <mac>` (legacy);
/// - `Grandstream <MODEL> <fw>` (SIP).
pub fn parse(ua: &str) -> UserAgent {
    let tokens: Vec<&str> = ua.split_whitespace().collect();
    if !tokens.first().is_some_and(|t| t.eq_ignore_ascii_case("grandstream")) {
        return UserAgent::default();
    }
    let mut out = UserAgent { grandstream: true, ..UserAgent::default() };
    let modern = tokens.len() > 2 && tokens[1].eq_ignore_ascii_case("model") && tokens[2].eq_ignore_ascii_case("hw");
    if modern {
        keyed(&tokens[3..], &mut out);
    } else {
        positional(&tokens[1..], &mut out);
    }
    if out.mac.is_none() {
        // Spec §9.2: "or simply take the last 12 hex digits as the MAC".
        out.mac = tokens.last().and_then(|t| Mac::from_trailing_hex(t));
    }
    out
}

/// After `Model HW`: `<MODEL> [V<hw>] SW <fw> DevId <mac>`.
fn keyed(tokens: &[&str], out: &mut UserAgent) {
    out.model = tokens.first().and_then(|t| t.parse().ok());
    let mut i = 1;
    while i < tokens.len() {
        let value = tokens.get(i + 1).copied();
        match tokens[i] {
            t if t.eq_ignore_ascii_case("sw") => {
                out.firmware = value.map(str::to_string);
                i += 2;
            }
            t if t.eq_ignore_ascii_case("devid") => {
                out.mac = value.and_then(mac_token);
                i += 2;
            }
            t if i == 1 => {
                out.hw_rev = hw_rev(t);
                i += 1;
            }
            _ => i += 1,
        }
    }
}

/// After `Grandstream`: `<MODEL> …` with either a parenthesised list of
/// `image:version` (legacy) or a bare firmware version (SIP).
fn positional(tokens: &[&str], out: &mut UserAgent) {
    out.model = tokens.first().and_then(|t| t.parse().ok());
    let mut i = 1;
    while i < tokens.len() {
        let t = tokens[i];
        if t.eq_ignore_ascii_case("devid") {
            out.mac = tokens.get(i + 1).and_then(|m| mac_token(m));
            i += 2;
            continue;
        }
        if let Some(list) = t.strip_prefix('(') {
            // The first image is the program; later ones (boot loader, …) are not
            // what a technician means by "firmware". The spec's fallback regex
            // would pick the last one, the boot version, which misleads.
            if out.firmware.is_none() {
                let first = list.trim_end_matches(')').split('/').next().unwrap_or("");
                out.firmware = first.rsplit_once(':').map(|(_, v)| v.to_string()).filter(|v| !v.is_empty());
            }
        } else if out.firmware.is_none() && is_version(t) {
            out.firmware = Some(t.to_string());
        } else if out.hw_rev.is_none() && out.firmware.is_none() {
            out.hw_rev = hw_rev(t);
        }
        i += 1;
    }
}

/// `V2.2A` -> `2.2A`: a `V` followed by a digit.
fn hw_rev(t: &str) -> Option<String> {
    let rest = t.strip_prefix(['V', 'v'])?;
    rest.starts_with(|c: char| c.is_ascii_digit()).then(|| rest.to_string())
}

/// `1.0.11.3`: digits and dots, starting with a digit, at least one dot.
fn is_version(t: &str) -> bool {
    t.starts_with(|c: char| c.is_ascii_digit()) && t.contains('.') && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// The `DevId` value: exactly 12 hex digits (separators are not sent).
fn mac_token(t: &str) -> Option<Mac> {
    (t.len() == 12 && t.bytes().all(|b| b.is_ascii_hexdigit())).then(|| t.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ua(model: &str, hw: Option<&str>, fw: Option<&str>, mac: Option<&str>) -> UserAgent {
        UserAgent {
            model: Some(model.parse().unwrap()),
            hw_rev: hw.map(str::to_string),
            firmware: fw.map(str::to_string),
            mac: mac.map(|m| m.parse().unwrap()),
            grandstream: true,
        }
    }

    #[test]
    fn spec_examples() {
        let cases = [
            (
                "Grandstream Model HW GXP2135 SW 1.0.7.97 DevId 000b828aa872",
                ua("GXP2135", None, Some("1.0.7.97"), Some("000b828aa872")),
            ),
            (
                "Grandstream Model HW GXP2200 V2.2A SW 1.0.1.33 DevId 000b82462d97",
                ua("GXP2200", Some("2.2A"), Some("1.0.1.33"), Some("000b82462d97")),
            ),
            (
                "Grandstream Model HW GXV3350  V1.3A SW 1.0.1.8 DevId c074ad150b88",
                ua("GXV3350", Some("1.3A"), Some("1.0.1.8"), Some("c074ad150b88")),
            ),
            (
                "Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10",
                ua("HT801", Some("1.1A"), Some("1.0.17.5"), Some("c074ad273a10")),
            ),
            (
                "Grandstream GXP2000 (gxp2000e.bin:1.2.5.3/boot55e.bin:1.1.6.9) DevId 000b822726c8",
                ua("GXP2000", None, Some("1.2.5.3"), Some("000b822726c8")),
            ),
            ("Grandstream GXP2170 1.0.11.3", ua("GXP2170", None, Some("1.0.11.3"), None)),
            (
                "  Grandstream Model HW gxp2170 SW 1.0.11.3 DevId 000B82AABBCC\r\n",
                ua("GXP2170", None, Some("1.0.11.3"), Some("000b82aabbcc")),
            ),
            ("Grandstream HT802 V2.0A 1.0.43.11", ua("HT802", Some("2.0A"), Some("1.0.43.11"), None)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text), expected, "{text}");
        }
    }

    #[test]
    fn not_grandstream_or_garbage() {
        for text in [
            "",
            "   ",
            "curl/8.5.0",
            "Mozilla/5.0 (X11; Linux x86_64) 000b82123456",
            "Yealink SIP-T46S 66.86.0.15 805ec0112233",
            "GrandstreamX GXP2170",
        ] {
            assert_eq!(parse(text), UserAgent::default(), "{text:?}");
        }
        let partial = parse("Grandstream");
        assert!(partial.grandstream && partial.model.is_none() && partial.mac.is_none());
        let partial = parse("Grandstream Model HW");
        assert!(partial.grandstream && partial.model.is_none());
        let partial = parse("Grandstream Model HW GXP2135 SW");
        assert_eq!(partial.firmware, None);
        let partial = parse("Grandstream Model HW GXP2135 SW 1.0 DevId zzz");
        assert_eq!(partial.mac, None);
        let partial = parse("Grandstream ((( :) DevId");
        assert_eq!((partial.model, partial.firmware), (None, None));
        // Fallback: a MAC in the last token even without DevId.
        let partial = parse("Grandstream Something 000b82123456");
        assert_eq!(partial.mac, "000b82123456".parse().ok());
    }

    proptest! {
        #[test]
        fn prop_never_panics(text in "\\PC{0,60}") {
            let _ = parse(&text);
            let _ = parse(&format!("Grandstream {text}"));
            let _ = parse(&format!("Grandstream Model HW {text}"));
        }
    }
}
