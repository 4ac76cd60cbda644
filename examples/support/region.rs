//! The time zone (P64) and display language (P1362) lists of a template, with
//! their meanings: the values of those settings' catalog entries, read by
//! `catalog_extract` (included with `#[path]`). Facts only: a value and its
//! short meaning ("GMT+01:00 (Roma, Paris, ...)", "en - English"), no prose.
//!
//! The templates spell the lists four ways: `<value=X> meaning` (HT, GXW,
//! DP), `meaning<tabs>X` (GXP16xx, GXP21xx v2, GRP, WP, GXV), `X<spaces>meaning`
//! (GXP17xx) and `X - meaning` (GXP14xx, GXP11xx); languages are `code -
//! name` pairs.

use gsprov::catalog::Family;

/// Where a family's lists are read, first template with a list wins: the
/// catalog's folders with one change, GXP21xx reads its v2 template (gxp2170)
/// first, so its zones come in the spelling v2 firmware shows (`TAZ+12`), not
/// gxp21xx's v1 one.
pub fn folders(family: Family, folders: &'static [&'static str]) -> Vec<&'static str> {
    let mut v = folders.to_vec();
    if family == Family::Gxp21xx
        && let Some(i) = v.iter().position(|f| *f == "gxp2170")
    {
        let f = v.remove(i);
        v.insert(0, f);
    }
    v
}

/// The comment lines just above the first line `is_element` accepts (blank and
/// template `{...}` lines skipped), each without `<!--`, `-->` and `#`, in order.
fn block_above(text: &str, is_element: impl Fn(&str) -> bool) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let Some(at) = lines.iter().position(|l| is_element(l.trim())) else { return Vec::new() };
    let mut out = Vec::new();
    for l in lines[..at].iter().rev() {
        let t = l.trim();
        if t.is_empty() || t.starts_with('{') {
            continue;
        }
        let Some(inner) = t.strip_prefix("<!--") else { break };
        let inner = inner.trim_end().strip_suffix("-->").unwrap_or(inner);
        out.push(inner.trim().trim_start_matches('#').trim().to_string());
    }
    out.reverse();
    out
}

fn is_p64(l: &str) -> bool {
    // gac2500 shows P64 only as a commented-out example (`<!-- # P64 = PST8PDT -->`).
    l.starts_with("<P64>")
        || l.starts_with("<!--") && l.trim_start_matches(['<', '!', '-', '#', ' ']).starts_with("P64 =")
        || l.starts_with("<item name=\"dateTime.timezone\">")
        || l.starts_with("<item name=\"datetime.timezone\">")
}

fn is_p1362(l: &str) -> bool {
    // gac2500: only a commented-out example (`<!-- # P1362 = en_US -->`).
    l.starts_with("<P1362>")
        || l.starts_with("<!--") && l.trim_start_matches(['<', '!', '-', '#', ' ']).starts_with("P1362 =")
        || l.starts_with("<item name=\"language.gui\">")
}

/// Words a time zone meaning starts with.
fn is_meaning(s: &str) -> bool {
    ["GMT", "Automatic", "Self-Defined", "Self Defined", "Using self-defined"].iter().any(|p| s.starts_with(p))
}

/// A time zone value: no spaces, no parentheses.
fn is_value(s: &str) -> bool {
    !s.is_empty() && !s.contains([' ', '\t', '(', ')', '<', '>', '"'])
}

/// One `(value, meaning)` of a P64 comment line, in any of the four spellings.
fn zone_line(line: &str) -> Option<(String, String)> {
    if let Some(rest) = line.strip_prefix("<value=") {
        let (value, meaning) = rest.split_once('>')?;
        let value = value.split_whitespace().next()?.trim_matches('"');
        let meaning = meaning.trim().trim_end_matches("</option>").trim();
        // A meaning that does not read as one (the dp715 template has a few cut
        // short, such as "Geles)") is left out rather than shown wrong.
        return (is_value(value) && is_meaning(meaning)).then(|| (value.to_string(), meaning.to_string()));
    }
    if let Some((v, m)) = line.split_once(" - ")
        && is_value(v.trim())
        && is_meaning(m.trim())
    {
        return Some((v.trim().to_string(), m.trim().to_string()));
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let (first, last) = (*words.first()?, *words.last()?);
    if words.len() >= 2 && is_meaning(line) && is_value(last) {
        let meaning = line[..line.rfind(last)?].trim();
        return Some((last.to_string(), meaning.to_string()));
    }
    if words.len() >= 2 && is_value(first) && is_meaning(line[first.len()..].trim()) {
        return Some((first.to_string(), line[first.len()..].trim().to_string()));
    }
    None
}

/// P64's values with their meanings, as listed above the first P64 element.
pub fn zones(text: &str) -> Vec<[String; 2]> {
    let mut out: Vec<[String; 2]> = Vec::new();
    for line in block_above(text, is_p64) {
        if let Some((v, m)) = zone_line(&line)
            && !out.iter().any(|[known, _]| *known == v)
        {
            out.push([v, m]);
        }
    }
    out
}

/// The words the template gives the time zone setting itself (`Time Zone`):
/// the first line above P64 that is neither a zone nor the list's column
/// heading (`Web GUI Option   Option: TimeZone`, `P value   Web GUI Option`).
pub fn zone_label(text: &str) -> Option<String> {
    block_above(text, is_p64).into_iter().find_map(|line| {
        let l = line.split('\t').next().unwrap_or(&line);
        // `Time Zone. Offset in minutes to GMT`: the name is the first sentence.
        let l = l.split(". ").next().unwrap_or(l).trim().trim_end_matches('.').to_string();
        let lower = l.to_ascii_lowercase();
        let heading = lower.contains("web gui option") || lower.starts_with("p value") || lower.starts_with("option");
        let typeline = ["string", "number", "mandatory", "default"].iter().any(|w| lower.starts_with(w));
        let ok = !l.is_empty()
            && lower.contains("time zone")
            && !heading
            && !typeline
            && zone_line(&line).is_none()
            && l.split_whitespace().count() <= 6;
        ok.then_some(l)
    })
}

/// `en`, `gxp`, `zh-tw`, `en_US`: a language code rather than a name.
fn is_code(s: &str) -> bool {
    let (base, tail) = match s.split_once(['-', '_']) {
        Some((b, t)) => (b, Some(t)),
        None => (s, None),
    };
    (2..=3).contains(&base.len())
        && base.chars().all(|c| c.is_ascii_lowercase())
        && tail.is_none_or(|t| t.len() == 2 && t.chars().all(|c| c.is_ascii_alphabetic()))
}

/// P1362's `code - name` pairs.
pub fn languages(text: &str) -> Vec<[String; 2]> {
    let mut out: Vec<[String; 2]> = Vec::new();
    for line in block_above(text, is_p1362) {
        for part in line.split(',') {
            let Some((left, right)) = part.split_once(" - ") else { continue };
            let Some(left) = left.split_whitespace().last() else { continue };
            let (left, right) = (left.trim_end_matches('.'), right.trim());
            // gxv3370 writes `English - en`, the others `en - English`.
            let (code, name) = if is_code(right) && !is_code(left) { (right, left) } else { (left, right) };
            let ok = !code.is_empty()
                && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !name.is_empty();
            if ok && !out.iter().any(|[known, _]| known == code) {
                out.push([code.to_string(), name.to_string()]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_spellings_of_a_zone() {
        let want = Some(("TZA+12".to_string(), "GMT-12:00 (Date Line)".to_string()));
        assert_eq!(zone_line("<value=TZA+12> GMT-12:00 (Date Line)"), want);
        assert_eq!(zone_line("<value=\"TZA+12\"> GMT-12:00 (Date Line) </option>"), want);
        assert_eq!(zone_line("GMT-12:00 (Date Line)\t\t\tTZA+12"), want);
        assert_eq!(zone_line("TZA+12          GMT-12:00 (Date Line)"), want);
        assert_eq!(zone_line("TZA+12 - GMT-12:00 (Date Line)"), want);
        assert_eq!(zone_line("Automatic\t\tauto"), Some(("auto".into(), "Automatic".into())));
        assert_eq!(zone_line("GMT+11:00(Noumea, New Caledonia)"), None, "no value");
        assert_eq!(zone_line("String"), None);
    }

    #[test]
    fn blocks_and_languages() {
        let t = "<!-- # Time Zone -->\n<!-- # Automatic\t\tauto -->\n\n<!-- # GMT (London)\t\tGMT+0BST-1,M3.5.0 -->\n\
                 <!-- # String -->\n{if x}\n<P64>auto</P64>\n\
                 <!-- Display Language. en - English, zh - Chinese -->\n<!-- gxp - Downloaded Language -->\n<P1362>en</P1362>\n";
        assert_eq!(
            zones(t),
            vec![
                ["auto".to_string(), "Automatic".to_string()],
                ["GMT+0BST-1,M3.5.0".to_string(), "GMT (London)".to_string()]
            ]
        );
        let langs: Vec<String> = languages(t).into_iter().map(|[c, _]| c).collect();
        assert_eq!(langs, ["en", "zh", "gxp"]);
        let swapped =
            "<!-- Arabic - ar, traditional_chinese - zh-tw, japanese - ja -->\n<item name=\"language.gui\">en</item>\n";
        assert_eq!(
            languages(swapped),
            vec![
                ["ar".to_string(), "Arabic".to_string()],
                ["zh-tw".to_string(), "traditional_chinese".to_string()],
                ["ja".to_string(), "japanese".to_string()]
            ]
        );
        assert_eq!(zone_line("<value=\"PST8PDT\"> Geles)"), None, "a cut-short meaning");
        assert_eq!(zone_label(t).as_deref(), Some("Time Zone"));
        let heading = "<!-- # Time Zone -->\n<!-- # Web GUI Option\t\tOption: TimeZone -->\n<!-- # Automatic\t\tauto -->\n\
                       <!-- # GMT-11:00(Midway)\t\tTZB+11 -->\n<!-- # P64 = TZB+11 -->\n";
        assert_eq!(zone_label(heading).as_deref(), Some("Time Zone"), "the column heading is no label");
        let ata = "<!-- #Time Zone. Offset in minutes to GMT -->\n<!-- # <value=TZA+12> GMT-12:00 (Date Line) -->\n<P64>x</P64>\n";
        assert_eq!(zone_label(ata).as_deref(), Some("Time Zone"), "a stale sentence after the name is left out");
        assert_eq!(zones(heading).len(), 2, "a commented-out P64 example closes the list");
    }
}
