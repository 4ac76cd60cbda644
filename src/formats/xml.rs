//! `gs_provision` XML, version 1 (P-value elements) and version 2 (alias items), spec §7.
//!
//! Owns the byte layout of the XML files a device downloads: [`write`] produces them
//! (byte-identical to `gscfg.py xml` for version 1) and [`read`] parses them back,
//! e.g. to import a file a technician already has. Pure: no file system, no clock.
//! Which settings go into a file, and with which values, is decided elsewhere
//! (`generate`); this module only refuses what a device would silently ignore.

use std::fmt;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde::{Deserialize, Serialize};

use crate::ids::{Mac, MacError, PId};

/// The `<config version="…">` of a file: 1 holds P-values, 2 holds aliases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    V1,
    V2,
}

impl Version {
    fn number(self) -> u8 {
        match self {
            Version::V1 => 1,
            Version::V2 => 2,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "version {}", self.number())
    }
}

/// One setting's name: a P-value (version 1) or an alias (version 2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    P(PId),
    Alias(String),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::P(p) => write!(f, "{p}"),
            Key::Alias(a) => write!(f, "{a:?}"),
        }
    }
}

/// A whole `gs_provision` file. `entries` keep their order; a `<part>` of a
/// version-2 item is read as the alias `item.part`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    /// `<mac>`: the device rejects the file unless it matches its own MAC.
    /// Leave it out of `cfg.xml` and `cfg<model>.xml`.
    pub mac: Option<Mac>,
    pub version: Version,
    pub entries: Vec<(Key, String)>,
}

/// Where in the input a reading error is: byte offset, and 1-based line and
/// column (in characters) for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

impl Position {
    fn locate(input: &[u8], offset: usize) -> Position {
        let offset = offset.min(input.len());
        let before = &input[..offset];
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // Count characters, not bytes, so the column matches what an editor shows;
        // continuation bytes (10xxxxxx) do not start a character.
        let column = before[line_start..].iter().filter(|&&b| b & 0xC0 != 0x80).count() + 1;
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        Position { offset, line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {} (byte {})", self.line, self.column, self.offset)
    }
}

/// Why a document cannot be written, or bytes cannot be read as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error(
        "entry {index} is the alias {alias:?}, but a version-1 XML file holds only P-values (e.g. P47); use the setting's P-value or write a version-2 file"
    )]
    AliasInV1 { index: usize, alias: String },
    #[error(
        "entry {index} is the P-value {pid}, but devices ignore P-values inside a version-2 config; use the setting's alias or write a version-1 file"
    )]
    PIdInV2 { index: usize, pid: PId },
    #[error(
        "the value of {key} contains U+{code:04X}, a control character XML 1.0 cannot carry; remove it from the value"
    )]
    Unrepresentable { key: String, code: u32 },
    #[error("at {at}: the file is not valid UTF-8; save it as UTF-8")]
    NotUtf8 { at: Position },
    #[error("at {at}: malformed XML: {detail}")]
    Malformed { at: Position, detail: String },
    #[error("at {at}: found {found}, expected {expected}")]
    Unexpected { at: Position, found: String, expected: &'static str },
    #[error("at {at}: element <{name}> is not a P-value; a version-1 config holds only elements like <P47>")]
    NotPId { at: Position, name: String },
    #[error(
        "at {at}: <{name}> is a P-value inside a version-2 config, where devices ignore it; use <item name=\"alias\">"
    )]
    PIdInV2Config { at: Position, name: String },
    #[error("at {at}: <{element}> has no name=\"…\" attribute")]
    MissingName { at: Position, element: &'static str },
    #[error("at {at}: config version {value:?} is not supported; use \"1\" or \"2\"")]
    BadVersion { at: Position, value: String },
    #[error("at {at}: <mac> is not a MAC address: {source}")]
    BadMac { at: Position, source: MacError },
    #[error(
        "at {at}: U+{code:04X} is not a character XML 1.0 allows (raw or as &#…;), and devices would not read it; remove it"
    )]
    IllegalChar { at: Position, code: u32 },
    #[error("at {at}: unknown entity &{name}; (only &amp; &lt; &gt; &quot; &apos; and &#…; are defined)")]
    UnknownEntity { at: Position, name: String },
    #[error("at {at}: the file ends early; expected {expected}")]
    Eof { at: Position, expected: &'static str },
}

// ---------------------------------------------------------------------------
// writing
// ---------------------------------------------------------------------------

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<gs_provision version=\"1\">\n";
const FOOTER: &str = "  </config>\n</gs_provision>\n";

/// Serialises `doc` in the exact shape of spec §7 (2-space indent, LF, trailing
/// newline). Refuses a P-value in a version-2 document and an alias in a
/// version-1 document, naming the entry, and control characters XML cannot carry.
pub fn write(doc: &Document) -> Result<Vec<u8>, XmlError> {
    // Per entry: indent + tags + a little escaping slack; sized once so a large
    // file does not reallocate on the hot path.
    let per_entry: usize = doc
        .entries
        .iter()
        .map(|(k, v)| {
            let name = match k {
                Key::P(_) => 7,
                Key::Alias(a) => a.len() + 20,
            };
            v.len() + v.len() / 8 + 2 * name + 12
        })
        .sum();
    let mut out = String::with_capacity(HEADER.len() + FOOTER.len() + 64 + per_entry);
    out.push_str(HEADER);
    if let Some(mac) = doc.mac {
        out.push_str("  <mac>");
        out.push_str(&mac.to_string());
        out.push_str("</mac>\n");
    }
    out.push_str(match doc.version {
        Version::V1 => "  <config version=\"1\">\n",
        Version::V2 => "  <config version=\"2\">\n",
    });
    for (index, (key, value)) in doc.entries.iter().enumerate() {
        match (doc.version, key) {
            (Version::V1, Key::P(pid)) => {
                let name = pid.to_string();
                out.push_str("    <");
                out.push_str(&name);
                out.push('>');
                escape_into(&mut out, value, false).map_err(|code| unrepresentable(key, code))?;
                out.push_str("</");
                out.push_str(&name);
                out.push_str(">\n");
            }
            (Version::V2, Key::Alias(alias)) => {
                out.push_str("    <item name=\"");
                escape_into(&mut out, alias, true).map_err(|code| unrepresentable(key, code))?;
                out.push_str("\">");
                escape_into(&mut out, value, false).map_err(|code| unrepresentable(key, code))?;
                out.push_str("</item>\n");
            }
            (Version::V1, Key::Alias(alias)) => {
                return Err(XmlError::AliasInV1 { index, alias: alias.clone() });
            }
            (Version::V2, Key::P(pid)) => return Err(XmlError::PIdInV2 { index, pid: *pid }),
        }
    }
    out.push_str(FOOTER);
    Ok(out.into_bytes())
}

fn unrepresentable(key: &Key, code: u32) -> XmlError {
    XmlError::Unrepresentable { key: key.to_string(), code }
}

/// Appends `text` with `& < > " '` as entities (as gscfg.py does). `\r` becomes
/// `&#13;` because a parser turns a raw CR into LF; in attributes `\t` and `\n`
/// become references too, because attribute normalisation turns them into spaces.
/// Returns the code point of a character XML 1.0 cannot represent at all.
pub(crate) fn escape_into(out: &mut String, text: &str, attr: bool) -> Result<(), u32> {
    let bytes = text.as_bytes();
    let mut done = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let replacement = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&apos;",
            b'\r' => "&#13;",
            b'\n' if attr => "&#10;",
            b'\t' if attr => "&#9;",
            b'\n' | b'\t' => continue,
            0..=0x1F => return Err(u32::from(b)),
            // U+FFFE and U+FFFF (EF BF BE / EF BF BF) are not XML characters either.
            0xEF if bytes.get(i + 1) == Some(&0xBF) && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) => {
                return Err(0xFFFE + u32::from(bytes[i + 2] - 0xBE));
            }
            _ => continue,
        };
        out.push_str(&text[done..i]);
        out.push_str(replacement);
        done = i + 1;
    }
    out.push_str(&text[done..]);
    Ok(())
}

// ---------------------------------------------------------------------------
// reading
// ---------------------------------------------------------------------------

/// Parses a version-1 or version-2 file. Tolerates a missing XML declaration, a
/// UTF-8 byte-order mark, comments and any indentation; keeps whitespace inside
/// values as is. Errors say where (line, column, byte) and what was expected.
pub fn read(bytes: &[u8]) -> Result<Document, XmlError> {
    let bom = if bytes.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
    let text = std::str::from_utf8(&bytes[bom..])
        .map_err(|e| XmlError::NotUtf8 { at: Position::locate(bytes, bom + e.valid_up_to()) })?;
    // quick-xml passes control characters through; refuse them here, as the XML 1.0
    // `Char` production (and [`write`]) does, so whatever is read can be written back.
    if let Some((i, c)) = text.char_indices().find(|&(_, c)| !is_xml_char(c)) {
        return Err(XmlError::IllegalChar { at: Position::locate(bytes, bom + i), code: u32::from(c) });
    }
    Parser { input: bytes, base: bom, reader: Reader::from_str(text), event_start: 0 }.document()
}

/// Thin cursor over quick-xml events that remembers where each event began, so
/// every error can point at the offending markup.
struct Parser<'a> {
    input: &'a [u8],
    base: usize,
    reader: Reader<&'a [u8]>,
    event_start: usize,
}

impl<'a> Parser<'a> {
    fn next(&mut self) -> Result<Event<'a>, XmlError> {
        self.event_start = self.base + pos_usize(self.reader.buffer_position());
        self.reader.read_event().map_err(|e| XmlError::Malformed {
            at: Position::locate(self.input, self.base + pos_usize(self.reader.error_position())),
            detail: e.to_string(),
        })
    }

    fn here(&self) -> Position {
        Position::locate(self.input, self.event_start)
    }

    fn unexpected(&self, event: &Event<'_>, expected: &'static str) -> XmlError {
        XmlError::Unexpected { at: self.here(), found: describe(event), expected }
    }

    fn document(mut self) -> Result<Document, XmlError> {
        const ROOT: &str = "the <gs_provision> element";
        loop {
            let event = self.next()?;
            match &event {
                Event::Start(e) if e.name().as_ref() == "gs_provision" => break,
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Text(t) if is_blank(t) => {}
                Event::Eof => {
                    return Err(XmlError::Eof { at: self.here(), expected: ROOT });
                }
                _ => return Err(self.unexpected(&event, ROOT)),
            }
        }

        let mut mac = None;
        let mut config: Option<(Version, Vec<(Key, String)>)> = None;
        const INSIDE: &str = "<mac>, <config> or </gs_provision>";
        loop {
            let event = self.next()?;
            match &event {
                Event::Start(e) if e.name().as_ref() == "mac" && mac.is_none() => {
                    let at = self.here();
                    let text = self.text_until_end("</mac>")?;
                    mac = Some(text.trim().parse().map_err(|source| XmlError::BadMac { at, source })?);
                }
                Event::Start(e) if e.name().as_ref() == "config" && config.is_none() => {
                    let version = self.config_version(e)?;
                    let entries = match version {
                        Version::V1 => self.v1_entries()?,
                        Version::V2 => self.v2_entries()?,
                    };
                    config = Some((version, entries));
                }
                Event::Empty(e) if e.name().as_ref() == "config" && config.is_none() => {
                    config = Some((self.config_version(e)?, Vec::new()));
                }
                Event::End(_) => break,
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if is_blank(t) => {}
                Event::Eof => {
                    return Err(XmlError::Eof { at: self.here(), expected: INSIDE });
                }
                _ => return Err(self.unexpected(&event, INSIDE)),
            }
        }
        let Some((version, entries)) = config else {
            return Err(XmlError::Unexpected {
                at: self.here(),
                found: "</gs_provision>".into(),
                expected: "a <config> element before it",
            });
        };

        loop {
            let event = self.next()?;
            match &event {
                Event::Eof => break,
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if is_blank(t) => {}
                _ => return Err(self.unexpected(&event, "nothing after </gs_provision>")),
            }
        }
        Ok(Document { mac, version, entries })
    }

    fn config_version(&self, e: &BytesStart<'_>) -> Result<Version, XmlError> {
        // A missing version means version 1: that is what the format was before
        // aliases existed.
        match self.attribute(e, "version")? {
            None => Ok(Version::V1),
            Some(v) => match v.trim() {
                "1" => Ok(Version::V1),
                "2" => Ok(Version::V2),
                _ => Err(XmlError::BadVersion { at: self.here(), value: v }),
            },
        }
    }

    fn attribute(&self, e: &BytesStart<'_>, name: &str) -> Result<Option<String>, XmlError> {
        for attr in e.attributes() {
            let attr = attr.map_err(|err| XmlError::Malformed { at: self.here(), detail: err.to_string() })?;
            if attr.key.as_ref() == name {
                let value = attr
                    .normalized_value(XmlVersion::Implicit1_0)
                    .map_err(|err| XmlError::Malformed { at: self.here(), detail: err.to_string() })?;
                if let Some(c) = value.chars().find(|&c| !is_xml_char(c)) {
                    return Err(XmlError::IllegalChar { at: self.here(), code: u32::from(c) });
                }
                return Ok(Some(value.into_owned()));
            }
        }
        Ok(None)
    }

    fn v1_entries(&mut self) -> Result<Vec<(Key, String)>, XmlError> {
        const EXPECTED: &str = "a P-value element such as <P47> or </config>";
        let mut entries = Vec::new();
        loop {
            let event = self.next()?;
            match &event {
                Event::Start(e) | Event::Empty(e) => {
                    let name = e.name().as_ref().to_string();
                    let pid: PId =
                        name.parse().map_err(|_| XmlError::NotPId { at: self.here(), name: name.clone() })?;
                    let value = if matches!(event, Event::Start(_)) {
                        self.text_until_end("the closing tag of a P-value")?
                    } else {
                        String::new()
                    };
                    entries.push((Key::P(pid), value));
                }
                Event::End(_) => return Ok(entries),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if is_blank(t) => {}
                Event::Eof => {
                    return Err(XmlError::Eof { at: self.here(), expected: EXPECTED });
                }
                _ => return Err(self.unexpected(&event, EXPECTED)),
            }
        }
    }

    fn v2_entries(&mut self) -> Result<Vec<(Key, String)>, XmlError> {
        const EXPECTED: &str = "<item name=\"…\"> or </config>";
        let mut entries = Vec::new();
        loop {
            let event = self.next()?;
            match &event {
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "item" => {
                    let item = self.required_name(e, "item")?;
                    if matches!(event, Event::Start(_)) {
                        self.item(item, &mut entries)?;
                    } else {
                        entries.push((Key::Alias(item), String::new()));
                    }
                }
                Event::Start(e) | Event::Empty(e) if e.name().as_ref().parse::<PId>().is_ok() => {
                    return Err(XmlError::PIdInV2Config { at: self.here(), name: e.name().as_ref().to_string() });
                }
                Event::End(_) => return Ok(entries),
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(t) if is_blank(t) => {}
                Event::Eof => {
                    return Err(XmlError::Eof { at: self.here(), expected: EXPECTED });
                }
                _ => return Err(self.unexpected(&event, EXPECTED)),
            }
        }
    }

    fn required_name(&self, e: &BytesStart<'_>, element: &'static str) -> Result<String, XmlError> {
        self.attribute(e, "name")?.ok_or(XmlError::MissingName { at: self.here(), element })
    }

    /// The content of an `<item>`: either a text value, or `<part>` children
    /// (whitespace between parts is layout, not value).
    fn item(&mut self, item: String, entries: &mut Vec<(Key, String)>) -> Result<(), XmlError> {
        const EXPECTED: &str = "the item's value, <part name=\"…\"> or </item>";
        let mut value = String::new();
        let mut text_at = None;
        let mut parts = 0usize;
        loop {
            let event = self.next()?;
            match &event {
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "part" => {
                    let part = self.required_name(e, "part")?;
                    let part_value =
                        if matches!(event, Event::Start(_)) { self.text_until_end("</part>")? } else { String::new() };
                    entries.push((Key::Alias(format!("{item}.{part}")), part_value));
                    parts += 1;
                }
                Event::End(_) => break,
                Event::Comment(_) | Event::PI(_) => {}
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    if text_at.is_none() && !matches!(&event, Event::Text(t) if is_blank(t)) {
                        text_at = Some(self.here());
                    }
                    self.push_text(&mut value, &event)?;
                }
                Event::Eof => {
                    return Err(XmlError::Eof { at: self.here(), expected: EXPECTED });
                }
                _ => return Err(self.unexpected(&event, EXPECTED)),
            }
        }
        match (parts, text_at) {
            (0, _) => entries.push((Key::Alias(item), value)),
            (_, None) => {}
            (_, Some(at)) => {
                return Err(XmlError::Unexpected {
                    at,
                    found: "text beside <part> elements".into(),
                    expected: "either a value or <part> elements in one <item>, not both",
                });
            }
        }
        Ok(())
    }

    /// Collects character data up to the end tag of the element just opened.
    /// Nested elements are refused: values are plain text.
    fn text_until_end(&mut self, expected: &'static str) -> Result<String, XmlError> {
        let mut value = String::new();
        loop {
            let event = self.next()?;
            match &event {
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    self.push_text(&mut value, &event)?;
                }
                Event::Comment(_) | Event::PI(_) => {}
                Event::End(_) => return Ok(value),
                Event::Eof => {
                    return Err(XmlError::Eof { at: self.here(), expected });
                }
                _ => return Err(self.unexpected(&event, expected)),
            }
        }
    }

    fn push_text(&self, value: &mut String, event: &Event<'_>) -> Result<(), XmlError> {
        match event {
            Event::Text(t) => value.push_str(&t.xml10_content()),
            Event::CData(c) => value.push_str(&c.xml10_content()),
            Event::GeneralRef(r) => {
                let resolved =
                    r.resolve_char_ref().map_err(|e| XmlError::Malformed { at: self.here(), detail: e.to_string() })?;
                match resolved {
                    Some(c) if !is_xml_char(c) => {
                        return Err(XmlError::IllegalChar { at: self.here(), code: u32::from(c) });
                    }
                    Some(c) => value.push(c),
                    None => match resolve_predefined_entity(r.as_ref()) {
                        Some(s) => value.push_str(s),
                        None => {
                            return Err(XmlError::UnknownEntity { at: self.here(), name: r.as_ref().to_string() });
                        }
                    },
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// The XML 1.0 `Char` production: tab, LF, CR and everything from U+0020 up, less
/// U+FFFE and U+FFFF (Rust `char`s are never surrogates).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

fn pos_usize(p: u64) -> usize {
    usize::try_from(p).unwrap_or(usize::MAX)
}

fn is_blank(t: &quick_xml::events::BytesText<'_>) -> bool {
    t.as_ref().bytes().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// A short human description of an event for "found …" messages.
fn describe(event: &Event<'_>) -> String {
    fn clip(s: &str) -> String {
        let mut out: String = s.chars().take(40).collect();
        if out.len() < s.len() {
            out.push('…');
        }
        out
    }
    match event {
        Event::Start(e) => format!("<{}>", clip(e.name().as_ref())),
        Event::Empty(e) => format!("<{}/>", clip(e.name().as_ref())),
        Event::End(e) => format!("</{}>", clip(e.name().as_ref())),
        Event::Text(t) => format!("text {:?}", clip(t.as_ref())),
        Event::CData(_) => "a CDATA section".into(),
        Event::GeneralRef(r) => format!("&{};", clip(r.as_ref())),
        Event::Comment(_) => "a comment".into(),
        Event::Decl(_) => "an XML declaration".into(),
        Event::PI(_) => "a processing instruction".into(),
        Event::DocType(_) => "a DOCTYPE".into(),
        Event::Eof => "the end of the file".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn mac() -> Mac {
        "000b82123456".parse().unwrap()
    }

    fn v1(entries: &[(u32, &str)]) -> Document {
        Document {
            mac: Some(mac()),
            version: Version::V1,
            entries: entries.iter().map(|&(n, v)| (Key::P(PId::new(n)), v.to_string())).collect(),
        }
    }

    fn text(doc: &Document) -> String {
        String::from_utf8(write(doc).unwrap()).unwrap()
    }

    #[test]
    fn v1_golden() {
        let doc = v1(&[(271, "1"), (270, "Front Desk"), (47, "pbx.example.com")]);
        assert_eq!(
            text(&doc),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <gs_provision version=\"1\">\n  \
               <mac>000b82123456</mac>\n  \
               <config version=\"1\">\n    \
                 <P271>1</P271>\n    \
                 <P270>Front Desk</P270>\n    \
                 <P47>pbx.example.com</P47>\n  \
               </config>\n\
             </gs_provision>\n"
        );
    }

    #[test]
    fn v2_golden_without_mac() {
        let doc = Document {
            mac: None,
            version: Version::V2,
            entries: vec![
                (Key::Alias("account.1.sip.server.1.address".into()), "pbx.example.com".into()),
                (Key::Alias("a\"b".into()), "x & <y>".into()),
            ],
        };
        assert_eq!(
            text(&doc),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <gs_provision version=\"1\">\n  \
               <config version=\"2\">\n    \
                 <item name=\"account.1.sip.server.1.address\">pbx.example.com</item>\n    \
                 <item name=\"a&quot;b\">x &amp; &lt;y&gt;</item>\n  \
               </config>\n\
             </gs_provision>\n"
        );
    }

    #[test]
    fn escapes_all_five_and_cr() {
        let doc = v1(&[(1, "a&b<c>d\"e'f\r\n\tg")]);
        assert!(text(&doc).contains("<P1>a&amp;b&lt;c&gt;d&quot;e&apos;f&#13;\n\tg</P1>"), "{}", text(&doc));
    }

    #[test]
    fn writer_refuses_mixing_and_names_the_key() {
        let mut doc = v1(&[(47, "x")]);
        doc.entries.push((Key::Alias("account.1.sip.server.1.address".into()), "y".into()));
        let err = write(&doc).unwrap_err();
        assert!(matches!(err, XmlError::AliasInV1 { index: 1, .. }));
        assert!(err.to_string().contains("account.1.sip.server.1.address"), "{err}");

        let doc = Document { mac: None, version: Version::V2, entries: vec![(Key::P(PId::new(47)), "x".into())] };
        let err = write(&doc).unwrap_err();
        assert!(err.to_string().contains("P47"), "{err}");
    }

    #[test]
    fn writer_refuses_control_characters() {
        let err = write(&v1(&[(3, "a\u{1}b")])).unwrap_err();
        assert!(err.to_string().contains("U+0001"), "{err}");
        assert!(err.to_string().contains("P3"), "{err}");
        assert!(write(&v1(&[(3, "\u{FFFF}")])).is_err());
        assert!(write(&v1(&[(3, "\u{FFFD}\u{EFBF}")])).is_ok());
    }

    #[test]
    fn round_trip_both_versions() {
        let doc = v1(&[(2, "  spaced  "), (3, ""), (4, "ünïcødé ☎ 𝄞"), (5, "\n")]);
        assert_eq!(read(&write(&doc).unwrap()).unwrap(), doc);
        let doc = Document {
            mac: None,
            version: Version::V2,
            entries: vec![
                (Key::Alias("a.b".into()), " x\ty ".into()),
                (Key::Alias("tab\there\nnl\r".into()), "&'\"".into()),
                (Key::Alias(String::new()), String::new()),
            ],
        };
        assert_eq!(read(&write(&doc).unwrap()).unwrap(), doc);
    }

    #[test]
    fn reads_spec_v2_example_with_parts_comments_and_no_declaration() {
        let input = br#"<gs_provision version="1">
  <!-- a comment -->
  <config version="2">
    <item name="account.1.sip.server.1.address">pbx.example.com</item>
    <item name="provisioning.auto.mode">YesUpgradeHourOfDay</item>
    <item name="account.1.sip.subscriber">
      <part name="name">Alice</part>
      <part name="userid">1001</part>
    </item>
    <item name="empty"/>
  </config>
</gs_provision>"#;
        let doc = read(input).unwrap();
        assert_eq!(doc.mac, None);
        assert_eq!(doc.version, Version::V2);
        let alias = |a: &str, v: &str| (Key::Alias(a.into()), v.to_string());
        assert_eq!(
            doc.entries,
            vec![
                alias("account.1.sip.server.1.address", "pbx.example.com"),
                alias("provisioning.auto.mode", "YesUpgradeHourOfDay"),
                alias("account.1.sip.subscriber.name", "Alice"),
                alias("account.1.sip.subscriber.userid", "1001"),
                alias("empty", ""),
            ]
        );
    }

    #[test]
    fn reads_entities_char_refs_cdata_bom_and_comments_inside_values() {
        let input = "\u{FEFF}<?xml version=\"1.0\"?>\n<gs_provision version=\"1\">\
            <mac> 00:0B:82:12:34:56 </mac><config version=\"1\">\
            <P1>a&amp;&lt;&gt;&quot;&apos;&#65;&#x42;</P1>\
            <p2><![CDATA[<raw>&]]></p2><P3>x<!-- c -->y</P3><P4/></config></gs_provision>";
        let doc = read(input.as_bytes()).unwrap();
        assert_eq!(doc.mac, Some(mac()));
        assert_eq!(
            doc.entries,
            vec![
                (Key::P(PId::new(1)), "a&<>\"'AB".into()),
                (Key::P(PId::new(2)), "<raw>&".into()),
                (Key::P(PId::new(3)), "xy".into()),
                (Key::P(PId::new(4)), String::new()),
            ]
        );
    }

    #[test]
    fn errors_carry_line_and_column_and_say_what() {
        // (input, what the message must contain)
        let table: [(&[u8], &[&str]); 15] = [
            (b"<gs_provision>\n  <config version=\"1\">\n    <Name>x</Name>\n", &["line 3, column 5", "<Name>"]),
            (b"<gs_provision>\n<config version=\"2\">\n  <P47>x</P47>", &["line 3, column 3", "P47"]),
            (b"<gs_provision>\n<config version=\"3\">", &["line 2", "\"3\""]),
            (b"<gs_provision>\n<mac>nope</mac>", &["line 2, column 1", "MAC"]),
            (b"<gs_provision><config>\n<P1>a</P2>", &["line 2", "malformed"]),
            (b"<gs_provision><config><P1>&nbsp;</P1>", &["line 1, column 27", "nbsp"]),
            (b"<gs_provision><config>", &["ends early", "line 1, column 23"]),
            (b"<other/>", &["<gs_provision>", "<other/>"]),
            (b"<gs_provision/>", &["<gs_provision>"]),
            (b"<gs_provision>\n</gs_provision>", &["<config>"]),
            (b"<gs_provision><config version='2'><item>x</item>", &["name="]),
            (b"<gs_provision>\n\xFF", &["line 2, column 1", "UTF-8"]),
            (b"<gs_provision><config version='2'><item name='a'>x<part name='b'/></item>", &["both"]),
            (b"<gs_provision><config><P1>\x7f\x08</P1>", &["U+0008", "line 1, column 28"]),
            (b"<gs_provision><config version='2'>\n<item name='a'>x\0y</item>", &["line 2, column 17"]),
        ];
        for (input, wants) in table {
            let e = read(input).unwrap_err().to_string();
            for want in wants {
                assert!(e.contains(want), "{:?}: {e:?} lacks {want:?}", String::from_utf8_lossy(input));
            }
        }
    }

    /// Found by `fuzz/fuzz_targets/xml_read.rs`: the reader took a raw U+0001 and a
    /// NUL inside an item name, which the writer (rightly) refuses to write back.
    #[test]
    fn control_characters_are_refused_raw_and_as_references() {
        let illegal = |input: &str| match read(input.as_bytes()) {
            Err(XmlError::IllegalChar { at, code }) => (at.line, at.column, code),
            other => panic!("{input:?} gave {other:?}"),
        };
        let v2 = "<gs_provision><config version='2'>\n";
        assert_eq!(illegal(&format!("{v2}<item name=\"account.er\u{1}\0.password\">a</item>")), (2, 23, 1));
        assert_eq!(illegal(&format!("{v2}<item name='a'>x\0y</item>")), (2, 17, 0));
        assert_eq!(illegal(&format!("{v2}<item name='a&#x1;'>x</item>")), (2, 1, 1));
        assert_eq!(illegal(&format!("{v2}<item name='a'>x&#27;</item>")), (2, 17, 27));
        assert_eq!(illegal("<gs_provision><config><P1>&#xFFFE;</P1>"), (1, 27, 0xFFFE));
        // Tab, LF and CR stay legal, raw or as references, and round-trip.
        let doc = read(b"<gs_provision><config><P1>a\tb&#13;&#10;&#9;</P1></config></gs_provision>").unwrap();
        assert_eq!(doc.entries[0].1, "a\tb\r\n\t");
        assert_eq!(read(&write(&doc).unwrap()).unwrap(), doc);
    }

    #[test]
    fn column_counts_characters() {
        let p = Position::locate("ü€\nab☎x".as_bytes(), "ü€\nab☎".len());
        assert_eq!((p.line, p.column), (2, 4));
    }

    /// Runs the spec's independent encoder and compares bytes (spec/tools/gscfg.py).
    /// `GSPROV_GSCFG` names the tool (`.ci/run` sets it when `../shared/spec` is present);
    /// run with `--ignored` and without it, the test fails rather than passing unchecked.
    #[test]
    #[ignore = "needs gscfg.py: set GSPROV_GSCFG=path"]
    fn v1_matches_gscfg_byte_for_byte() {
        let tool = std::env::var_os("GSPROV_GSCFG").map(std::path::PathBuf::from).expect(
            "GSPROV_GSCFG is not set: name the spec's tools/gscfg.py (.ci/run does when ../shared/spec is present)",
        );
        assert!(tool.is_file(), "GSPROV_GSCFG={} is not a file", tool.display());
        type Case<'s> = (Option<&'s str>, Vec<(u32, &'s str)>);
        let cases: Vec<Case> = vec![
            (Some("000B82123456"), vec![(271, "1"), (270, "Front Desk"), (47, "pbx.example.com")]),
            (None, vec![(2, "a&b<c>d\"e'f"), (3, "ünïcødé ☎ 𝄞 日本")]),
            (Some("c0:74:ad:15:0b:88"), vec![]),
            (None, vec![(34, "&amp; already"), (1359, ">>'<<"), (8, "")]),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (i, (mac_text, pairs)) in cases.iter().enumerate() {
            let input = dir.path().join(format!("in{i}.json"));
            let output = dir.path().join(format!("out{i}.xml"));
            let json: Vec<(String, String)> = pairs.iter().map(|&(n, v)| (format!("P{n}"), v.to_string())).collect();
            std::fs::write(&input, serde_json::to_vec(&json).unwrap()).unwrap();
            let mut cmd = std::process::Command::new("python3");
            cmd.arg(&tool).arg("xml").arg(&input).arg("-o").arg(&output);
            if let Some(m) = mac_text {
                cmd.arg("--mac").arg(m);
            }
            let status = cmd.status().expect("python3 runs");
            assert!(status.success(), "gscfg.py failed on case {i}");
            let expected = std::fs::read(&output).unwrap();
            let doc = Document {
                mac: mac_text.map(|m| m.parse().unwrap()),
                version: Version::V1,
                entries: pairs.iter().map(|&(n, v)| (Key::P(PId::new(n)), v.to_string())).collect(),
            };
            assert_eq!(
                String::from_utf8(write(&doc).unwrap()).unwrap(),
                String::from_utf8(expected).unwrap(),
                "case {i}"
            );
        }
    }

    #[test]
    fn version_serde_is_lowercase() {
        assert_eq!(serde_json::to_string(&Version::V2).unwrap(), "\"v2\"");
        assert_eq!(serde_json::from_str::<Version>("\"v1\"").unwrap(), Version::V1);
    }

    /// Characters XML 1.0 can carry (control characters other than tab, LF and CR
    /// excluded); leading and trailing whitespace included on purpose.
    const XML_TEXT: &str = "[\t\n\r\u{20}-\u{D7FF}\u{E000}-\u{FFFD}\u{10000}-\u{10FFFF}]{0,24}";

    fn any_doc() -> impl Strategy<Value = Document> {
        let mac = proptest::option::of(any::<[u8; 6]>().prop_map(Mac::from_bytes));
        let v1 =
            proptest::collection::vec((0u32..1_000_000, XML_TEXT).prop_map(|(n, v)| (Key::P(PId::new(n)), v)), 0..6)
                .prop_map(|e| (Version::V1, e));
        let v2 = proptest::collection::vec((XML_TEXT, XML_TEXT).prop_map(|(a, v)| (Key::Alias(a), v)), 0..6)
            .prop_map(|e| (Version::V2, e));
        (mac, prop_oneof![v1, v2]).prop_map(|(mac, (version, entries))| Document { mac, version, entries })
    }

    proptest! {
        #[test]
        fn prop_round_trip(doc in any_doc()) {
            let bytes = write(&doc).unwrap();
            prop_assert_eq!(read(&bytes).unwrap(), doc);
        }

        #[test]
        fn prop_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = read(&bytes);
        }

        #[test]
        fn prop_mangled_documents_never_panic(doc in any_doc(), cut in any::<usize>(), byte in any::<u8>()) {
            let mut bytes = write(&doc).unwrap();
            let at = cut % (bytes.len() + 1);
            let _ = read(&bytes[..at]);
            if at < bytes.len() {
                bytes[at] = byte;
                let _ = read(&bytes);
            }
        }
    }
}
