//! Catalog extractor: reads the public Grandstream configuration templates (the
//! FusionPBX copy, `../shared/spec/templates/SOURCE.md`) and writes the facts the
//! catalog needs into `assets/catalog/<family>.json`: P-ids, labels, types,
//! ranges, enum codes with meanings, defaults, sections, XML v2 aliases and the
//! template (and firmware) each fact came from. No template prose is copied:
//! a label is the first phrase of a setting's comment, nothing more.
//!
//! ```sh
//! cargo run --example catalog_extract -- ../shared/spec/templates/fusionpbx-grandstream assets/catalog
//! ```
//!
//! Not part of the build: run it again when the templates change and commit the
//! result. Its parser is unit-tested on small snippets written for the tests
//! (`cargo test --example catalog_extract`).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gsprov::catalog::Family;
use gsprov::catalog::asset::{FamilyAsset, Setting, Template};

#[path = "support/families.rs"]
mod families;
use families::FAMILIES;
#[path = "support/region.rs"]
mod region;

/// Templates whose comments name the P-value of each alias: the alias -> P-id
/// map read from them lets v2 templates without such comments be matched.
const ALIAS_MAPS: &[&str] = &["grp2612", "grp2612w", "grp2614", "grp2615", "grp2616", "grp2613"];

fn main() -> ExitCode {
    families::main(
        "catalog_extract",
        "TEMPLATES_DIR OUTPUT_DIR   (e.g. ../shared/spec/templates/fusionpbx-grandstream assets/catalog)",
        run,
    )
}

fn run(src: &Path, out: &Path) -> Result<(), String> {
    let read = |folder: &str| -> Result<String, String> {
        let p: PathBuf = src.join(folder).join("mac-template.xml");
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    let mut global_alias: HashMap<String, u32> = HashMap::new();
    for folder in ALIAS_MAPS {
        for s in parse(&read(folder)?).settings {
            if let (Some(p), Some(a)) = (s.p, s.a) {
                global_alias.entry(a).or_insert(p);
            }
        }
    }
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for (family, folders) in FAMILIES {
        let mut parsed = Vec::new();
        for folder in *folders {
            parsed.push((folder.to_string(), parse(&read(folder)?)));
        }
        let (mut asset, stats) = merge(*family, parsed, &global_alias);
        let mut lists = Lists::default();
        for folder in region::folders(*family, folders) {
            let text = read(folder)?;
            if lists.zones.is_empty() {
                lists.zones = region::zones(&text);
                lists.zone_label = region::zone_label(&text);
            }
            if lists.languages.is_empty() {
                lists.languages = region::languages(&text);
            }
        }
        finish(*family, &mut asset.settings, &lists);
        let json = serde_json::to_string(&asset).map_err(|e| e.to_string())?;
        let path = out.join(format!("{}.json", family.name()));
        std::fs::write(&path, json + "\n").map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        println!(
            "{:8} {:4} settings ({} with a P-id, {} with an alias, {} enums, {} ranges, {} defaults; {} aliases matched via another family, {} alias matches refused on label; {} time zones, {} languages)",
            family.name(),
            asset.settings.len(),
            asset.settings.iter().filter(|s| s.p.is_some()).count(),
            asset.settings.iter().filter(|s| s.a.is_some()).count(),
            asset.settings.iter().filter(|s| !s.e.is_empty()).count(),
            asset.settings.iter().filter(|s| !s.r.is_empty()).count(),
            asset.settings.iter().filter(|s| s.d.is_some()).count(),
            stats.inferred,
            stats.refused,
            lists.zones.len(),
            lists.languages.len(),
        );
    }
    Ok(())
}

/// What one template yields.
#[derive(Debug, Default)]
struct Parsed {
    firmware: String,
    xml: u8,
    settings: Vec<Setting>,
}

#[derive(Default)]
struct Stats {
    inferred: usize,
    refused: usize,
}

/// Merges the templates of one family: the first template describing a P-id
/// wins; later ones add what is missing (alias, v2 words, range, default).
fn merge(family: Family, parsed: Vec<(String, Parsed)>, global_alias: &HashMap<String, u32>) -> (FamilyAsset, Stats) {
    let mut templates = Vec::new();
    let mut by_p: BTreeMap<u32, Setting> = BTreeMap::new();
    // Every label the family's templates give a P-id: an alias from another
    // family is accepted when any of them agrees (wp820 and wp810 label P330
    // differently; wp8x6 agrees with one).
    let mut labels: HashMap<u32, Vec<String>> = HashMap::new();
    let mut alias_only: BTreeMap<String, Setting> = BTreeMap::new();
    let mut stats = Stats::default();
    for (i, (folder, t)) in parsed.into_iter().enumerate() {
        templates.push(Template { folder, firmware: t.firmware, xml: t.xml });
        for mut s in t.settings {
            s.src = i as u8;
            if s.p.is_none()
                && let Some(a) = &s.a
                && let Some(&p) = global_alias.get(a)
            {
                let others = labels.get(&p).map(Vec::as_slice).unwrap_or_default();
                match by_p.get(&p) {
                    Some(known) if !labels_agree(&known.l, &s.l) && !others.iter().any(|l| labels_agree(l, &s.l)) => {
                        stats.refused += 1;
                    }
                    _ => {
                        s.p = Some(p);
                        s.pi = true;
                        stats.inferred += 1;
                    }
                }
            }
            if let Some(p) = s.p
                && !s.pi
                && !s.l.is_empty()
            {
                labels.entry(p).or_default().push(s.l.clone());
            }
            match s.p {
                Some(p) => match by_p.get_mut(&p) {
                    Some(known) => fill_in(known, s),
                    None => {
                        by_p.insert(p, s);
                    }
                },
                None => {
                    if let Some(a) = s.a.clone()
                        && !s.l.is_empty()
                    {
                        alias_only.entry(a).or_insert(s);
                    }
                }
            }
        }
    }
    // An alias already given to a P-id is not also an alias-only setting.
    let taken: std::collections::HashSet<String> = by_p.values().filter_map(|s| s.a.clone()).collect();
    let mut settings: Vec<Setting> = by_p.into_values().collect();
    settings.extend(alias_only.into_values().filter(|s| !s.a.as_ref().is_some_and(|a| taken.contains(a))));
    for s in &mut settings {
        pair_words(s);
    }
    (FamilyAsset { family, templates, settings }, stats)
}

/// The lists a family's templates give for the time zone (P64) and the display
/// language (P1362): the values of those settings, so every reader (the form,
/// the bring-up view, validation, v2 translation) reads one entry.
#[derive(Debug, Default)]
struct Lists {
    zones: Vec<[String; 2]>,
    zone_label: Option<String>,
    languages: Vec<[String; 2]>,
}

/// The last pass over a family's merged settings: the lists become the values
/// of their settings, 0/1 switches become switches, and every setting gets a
/// label of its own (never empty, never a value's meaning or a column heading,
/// never one shared with another setting of its section).
fn finish(family: Family, settings: &mut [Setting], lists: &Lists) {
    for s in settings.iter_mut() {
        let alias = s.a.as_deref().unwrap_or("").to_ascii_lowercase();
        if (s.p == Some(64) || alias == "datetime.timezone") && !lists.zones.is_empty() {
            make_list(s, &lists.zones);
            // The template's name for the list (`Time Zone`), not a line of it
            // (`auto - Automatic`) or of another unit's setting (`Offset in
            // minutes to GMT`, true only where P64 is a number).
            if let Some(l) = &lists.zone_label {
                s.l = l.clone();
            }
        }
        if (s.p == Some(1362) || alias == "language.gui") && !lists.languages.is_empty() {
            make_list(s, &lists.languages);
        }
        // `Number: 0, 1` with no meanings listed: a switch.
        if s.t == "int" && s.e.is_empty() && !s.r.is_empty() && s.r.iter().all(|[a, b]| *a >= 0 && *b <= 1) {
            let covers = |n: i64| s.r.iter().any(|[a, b]| (*a..=*b).contains(&n));
            if covers(0) && covers(1) {
                s.t = "bool".into();
            }
        }
        if s.l.is_empty() || junk_label(s) {
            s.l = match s.a.as_deref() {
                Some(a) => label_from_alias(a),
                None => format!("P{}, not described by the {} template", s.p.unwrap_or(0), family.name()),
            };
        }
    }
    tell_apart(family, settings);
}

fn make_list(s: &mut Setting, list: &[[String; 2]]) {
    s.e = list.to_vec();
    s.t = "enum".into();
    s.r.clear();
    s.w.clear();
    s.len = None;
    if s.d.as_ref().is_some_and(|d| !list.iter().any(|[c, _]| c == d)) {
        s.d = None;
    }
}

/// A label that is no label: a column heading of a value list (`Web GUI
/// Option`, `P value`), a note or type line, or one of the setting's own
/// value meanings (`Automatic` over a time zone list).
fn junk_label(s: &Setting) -> bool {
    let lower = s.l.to_ascii_lowercase();
    let lead = ["note", "default", "number", "string", "mandatory", "p value", "web gui option", "eg.", "e.g."];
    lower.contains("web gui option")
        || lower.contains("note:")
        || lead.iter().any(|w| lower.starts_with(w))
        || s.e.iter().any(|[code, meaning]| {
            let m = meaning.to_ascii_lowercase();
            lower == m
                || lower == code.to_ascii_lowercase()
                || lower.starts_with(&format!("{} ", code.to_ascii_lowercase())) && lower.ends_with(&m)
        })
}

/// `account.1.sip.server` -> `Account 1 / SIP server`: a label for a setting
/// the template has no words for, from its v2 alias. A number closes a group.
fn label_from_alias(alias: &str) -> String {
    const UPPER: &[&str] = &[
        "sip", "dhcp", "ntp", "http", "https", "tftp", "ftp", "ftps", "xml", "lcd", "vlan", "qos", "dns", "ip", "ldap",
        "stun", "nat", "rtp", "rtcp", "srtp", "tls", "tcp", "udp", "url", "uri", "id", "mac", "lan", "pc", "blf",
        "mpk", "vpk", "dtmf", "ptt", "ssh", "snmp", "acs", "gui", "led", "usb", "ehs", "pnp", "vpn", "lldp", "cdp",
        "sdp", "mwi", "ca", "xsi", "dnd", "bw", "ice", "turn", "rport", "ipv4", "ipv6", "ui", "cdr", "tr069", "wifi",
        "pbx", "ptime",
    ];
    let mut groups: Vec<String> = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    for part in alias.split('.') {
        if part.chars().all(|c| c.is_ascii_digit()) && !part.is_empty() {
            cur.push(part.to_string());
            groups.push(cur.join(" "));
            cur.clear();
            continue;
        }
        for w in word_list(part) {
            let lw = w.to_ascii_lowercase();
            cur.push(if UPPER.contains(&lw.as_str()) { lw.to_ascii_uppercase() } else { lw });
        }
    }
    if !cur.is_empty() {
        groups.push(cur.join(" "));
    }
    groups
        .into_iter()
        .map(|g| {
            let mut c = g.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => g,
            }
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

/// `allowOption2` -> allow, Option2; `serverCertificate` -> server, Certificate.
fn word_list(part: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = part.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = c.is_ascii_uppercase()
            && i > 0
            && (chars[i - 1].is_ascii_lowercase()
                || chars[i - 1].is_ascii_uppercase() && chars.get(i + 1).is_some_and(char::is_ascii_lowercase));
        if (!c.is_ascii_alphanumeric() || boundary) && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if c.is_ascii_alphanumeric() {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Different P-values that a section labels alike (the template describes the
/// first of a row and leaves the rest, or repeats a description) get told
/// apart: by the account of a phone's account layout (`(account 2)`), by what
/// differs in their aliases, or else by their order (`#2`).
fn tell_apart(family: Family, settings: &mut [Setting]) {
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, s) in settings.iter().enumerate() {
        if s.p.is_some() {
            groups.entry((s.s.clone(), s.l.to_ascii_lowercase())).or_default().push(i);
        }
    }
    let cat = gsprov::catalog::Catalog::get();
    let phone = matches!(family.kind(), gsprov::ids::Family::Phone | gsprov::ids::Family::AndroidPhone);
    for idx in groups.into_values().filter(|g| g.len() > 1) {
        let accounts: Vec<Option<u8>> = idx
            .iter()
            .map(|&i| {
                let p = gsprov::ids::PId::new(settings[i].p.unwrap_or(0));
                if !phone {
                    return None;
                }
                match cat.account_template(p) {
                    Some((n, _)) => Some(n),
                    None => cat.by_id(p).map(|_| 1),
                }
            })
            .collect();
        let distinct: std::collections::HashSet<_> = accounts.iter().collect();
        if accounts.iter().all(Option::is_some) && distinct.len() == accounts.len() {
            for (&i, n) in idx.iter().zip(&accounts) {
                let s = &mut settings[i];
                s.l = format!("{} (account {})", s.l, n.unwrap_or(1));
            }
            continue;
        }
        let aliases: Vec<Option<Vec<String>>> =
            idx.iter().map(|&i| settings[i].a.as_ref().map(|a| a.split('.').map(String::from).collect())).collect();
        let same_shape =
            aliases.iter().all(|a| a.as_ref().is_some_and(|a| Some(a.len()) == aliases[0].as_ref().map(Vec::len)));
        if same_shape {
            let parts: Vec<&Vec<String>> = aliases.iter().flatten().collect();
            let differ: Vec<usize> =
                (0..parts[0].len()).filter(|&k| parts.iter().any(|p| p[k] != parts[0][k])).collect();
            let tags: Vec<String> =
                parts.iter().map(|p| differ.iter().map(|&k| p[k].as_str()).collect::<Vec<_>>().join(" ")).collect();
            let unique: std::collections::HashSet<_> = tags.iter().collect();
            if !differ.is_empty() && unique.len() == tags.len() {
                for (&i, t) in idx.iter().zip(&tags) {
                    let s = &mut settings[i];
                    let t = if t.chars().all(|c| c.is_ascii_digit() || c == ' ') { format!("#{t}") } else { t.clone() };
                    s.l = format!("{} ({t})", s.l);
                }
                continue;
            }
        }
        for (n, &i) in idx.iter().enumerate() {
            let s = &mut settings[i];
            s.l = format!("{} #{}", s.l, n + 1);
        }
    }
}

/// Adds what a later template knows to an earlier one's setting.
fn fill_in(known: &mut Setting, later: Setting) {
    if known.a.is_none() {
        known.a = later.a;
        known.pi |= later.pi;
    }
    if known.l.is_empty() {
        known.l = later.l;
    }
    if known.s.is_empty() {
        known.s = later.s;
    }
    if known.e.is_empty() && known.r.is_empty() && known.t == "text" && later.t != "text" {
        known.t = later.t;
        known.e = later.e;
        known.r = later.r;
    }
    // A word is an enum's default only when it is one of its codes (a v2
    // `Default Certificates, ...` line read as text gives `Certificates`).
    if known.d.is_none() {
        known.d = later.d.filter(|d| {
            !matches!(known.t.as_str(), "enum" | "bool")
                || d.parse::<i64>().is_ok()
                || known.e.iter().any(|[c, _]| c == d)
        });
    }
    if known.len.is_none() {
        known.len = later.len;
    }
    if known.w.is_empty() {
        known.w = later.w;
    }
}

/// Turns v2 words (kept with an empty code while parsing) into code -> word
/// pairs by matching each word to an enum meaning; drops them when any word
/// has no unique match (the generator then writes the code itself).
fn pair_words(s: &mut Setting) {
    if s.w.iter().all(|[c, _]| !c.is_empty()) {
        return;
    }
    let words: Vec<String> = s.w.drain(..).map(|[_, w]| w).collect();
    let mut pairs: Vec<Option<[String; 2]>> = Vec::new();
    for w in &words {
        let nw = norm(w);
        let hits: Vec<&[String; 2]> = s.e.iter().filter(|[_, m]| norm(m) == nw).collect();
        let hits = if hits.is_empty() {
            s.e.iter()
                .filter(|[_, m]| !nw.is_empty() && (norm(m).starts_with(&nw) || nw.starts_with(&norm(m))))
                .collect()
        } else {
            hits
        };
        // `EnabledUseHTTPS` against `Yes, HTTPS`: the one meaning sharing a word.
        let hits = if hits.is_empty() {
            let ww = word_set(w);
            s.e.iter().filter(|[_, m]| !word_set(m).is_disjoint(&ww)).collect()
        } else {
            hits
        };
        let taken = |code: &String| pairs.iter().flatten().any(|[c, _]| c == code);
        match hits.as_slice() {
            [[code, _]] if !taken(code) => pairs.push(Some([code.clone(), w.clone()])),
            [] => pairs.push(None),
            _ => return,
        }
    }
    // One word and one meaning left over (`Disabled` and `No`): each other's.
    let free: Vec<&[String; 2]> = s.e.iter().filter(|[c, _]| !pairs.iter().flatten().any(|[p, _]| p == c)).collect();
    let open: Vec<usize> = (0..pairs.len()).filter(|i| pairs[*i].is_none()).collect();
    match (open.as_slice(), free.as_slice()) {
        ([], _) => {}
        ([i], [[code, _]]) => pairs[*i] = Some([code.clone(), words[*i].clone()]),
        _ => return,
    }
    s.w = pairs.into_iter().flatten().collect();
}

/// The lower-case words of a meaning or a v2 word, camel case split
/// (`EnabledUseHTTPS` -> enabled, use, https; `YES, HTTP` -> yes, http).
fn word_set(s: &str) -> std::collections::HashSet<String> {
    let mut words = std::collections::HashSet::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let boundary = c.is_ascii_uppercase()
            && i > 0
            && (chars[i - 1].is_ascii_lowercase()
                || chars[i - 1].is_ascii_uppercase() && chars.get(i + 1).is_some_and(char::is_ascii_lowercase));
        if (!c.is_ascii_alphanumeric() || boundary) && !cur.is_empty() {
            words.insert(std::mem::take(&mut cur));
        }
        if c.is_ascii_alphanumeric() {
            cur.push(c.to_ascii_lowercase());
        }
    }
    if !cur.is_empty() {
        words.insert(cur);
    }
    words
}

fn norm(s: &str) -> String {
    s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect()
}

/// Whether two labels name the same setting: equal when normalised, one inside
/// the other, or sharing most of their words.
fn labels_agree(a: &str, b: &str) -> bool {
    let (na, nb) = (norm(a), norm(b));
    if na.is_empty() || nb.is_empty() {
        return true;
    }
    if na == nb || na.contains(&nb) || nb.contains(&na) {
        return true;
    }
    let words = |s: &str| -> std::collections::HashSet<String> {
        s.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_ascii_lowercase).collect()
    };
    let (wa, wb) = (words(a), words(b));
    let common = wa.intersection(&wb).count();
    common * 2 >= wa.len().max(wb.len())
}

/// One line's pieces, in order.
#[derive(Debug, PartialEq)]
enum Piece {
    /// A comment made only of `#` (section banners are framed by these).
    Border,
    /// A comment's text, `#` decoration removed.
    Comment(String),
    /// A P-value element or a commented-out `P123 = value` example.
    P(u32),
    /// `Pvalue P271`: the P-id of the next v2 item.
    PHint(u32),
    /// A v2 `<item name="...">`.
    Item(String),
    /// An empty line (some templates set section names apart with these).
    Blank,
}

/// Splits a template line into pieces. Smarty code (`{if}`, `{$x}`) is ignored
/// except that elements inside it count.
fn pieces(line: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    if line.trim().is_empty() {
        out.push(Piece::Blank);
        return out;
    }
    let mut rest = line;
    loop {
        let Some(open) = rest.find("<!--") else {
            code_pieces(rest, &mut out);
            break;
        };
        code_pieces(&rest[..open], &mut out);
        let after = &rest[open + 4..];
        let (inner, next) = match after.find("-->") {
            Some(close) => (&after[..close], &after[close + 3..]),
            None => (after, ""),
        };
        comment_piece(inner, &mut out);
        rest = next;
    }
    out
}

fn comment_piece(inner: &str, out: &mut Vec<Piece>) {
    let t = inner.trim();
    if t.len() >= 3 && t.chars().all(|c| c == '#' || c == ' ') {
        out.push(Piece::Border);
        return;
    }
    // An element quoted inside a comment (`<!-- <P323>-1</P323> -->`).
    if t.contains("<P") || t.contains("<item") {
        let before = out.len();
        code_pieces(t, out);
        if out.len() > before {
            return;
        }
    }
    let text = t.trim_matches(|c: char| c == '#' || c.is_whitespace());
    if let Some(r) = text.strip_prefix("Pvalue") {
        if let Some(n) = p_number(r.trim_start_matches([' ', '#'])) {
            out.push(Piece::PHint(n));
        }
        return;
    }
    // `P1363 = 31`, `P11=0`: a P-value shown as an example.
    if let Some(n) = p_number(text)
        && let Some(after) = text[1 + digits_len(&text[1..])..].trim_start().strip_prefix('=')
    {
        let _ = after;
        out.push(Piece::P(n));
        return;
    }
    if !text.is_empty() {
        out.push(Piece::Comment(text.to_string()));
    }
}

fn digits_len(s: &str) -> usize {
    s.bytes().take_while(u8::is_ascii_digit).count()
}

/// `P123...` -> 123.
fn p_number(s: &str) -> Option<u32> {
    let r = s.strip_prefix('P')?;
    let n = digits_len(r);
    if n == 0 || n > 6 {
        return None;
    }
    r[..n].parse().ok()
}

fn code_pieces(code: &str, out: &mut Vec<Piece>) {
    let mut rest = code;
    while let Some(i) = rest.find('<') {
        let tag = &rest[i + 1..];
        if let Some(n) = p_number(tag)
            && tag[1 + digits_len(&tag[1..])..].starts_with('>')
        {
            out.push(Piece::P(n));
        } else if let Some(r) = tag.strip_prefix("item name=\"")
            && let Some(end) = r.find('"')
        {
            let name = r[..end]
                .replace("{$row.line_number}", "1")
                .replace("{$row.device_key_id}", "1")
                .replace("{$line}", "1");
            if !name.contains(['{', '$', '}']) && !name.is_empty() {
                out.push(Piece::Item(name));
            }
        }
        rest = &rest[i + 1..];
    }
}

/// Parses one template.
fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed { xml: 1, ..Parsed::default() };
    let all: Vec<Piece> = text.lines().flat_map(pieces).collect();
    let mut section = String::new();
    let mut block: Vec<String> = Vec::new();
    let mut hint: Option<u32> = None;
    let mut seen_p: std::collections::HashSet<u32> = std::collections::HashSet::new();
    // The last P-value of a run of consecutive ids under one description: (id, label, parts).
    let mut run: Option<(u32, String, u32)> = None;
    for (i, piece) in all.iter().enumerate() {
        match piece {
            Piece::Border | Piece::Blank => {}
            Piece::Comment(c) => {
                if parsed.firmware.is_empty()
                    && let Some(v) = firmware_of(c)
                {
                    parsed.firmware = v;
                    continue;
                }
                let framed = i > 0
                    && matches!(all[i - 1], Piece::Border | Piece::Blank)
                    && all[..i].iter().rev().find(|p| !matches!(p, Piece::Blank)) == Some(&Piece::Border)
                    && matches!(all.get(i + 1), Some(Piece::Border));
                // Templates without banners name sections in a line of their own,
                // `Account 1/Network Settings`, directly above a setting's comment.
                // Others set it apart with empty lines.
                let next_real = all[i + 1..].iter().find(|p| !matches!(p, Piece::Blank));
                let spaced =
                    matches!(all.get(i + 1), Some(Piece::Blank)) && matches!(next_real, Some(Piece::Comment(_)));
                let titled = c.trim_end_matches('.').to_ascii_lowercase().ends_with("settings");
                // `Phonebook/Phonebook Management` right above a setting's own
                // description (`Enable ... Download. 0 - No, ...`), not above a
                // type line or an example as a label is (`HTTP/HTTPS Password`
                // over `String`, `Enable/Disable WiFi` over `Number: 0 - No, ...`).
                let over_description = matches!(all.get(i + 1), Some(Piece::Comment(n)) if is_description(n));
                let unframed = matches!(next_real, Some(Piece::Comment(_)))
                    && (spaced || (titled || over_description) && c.contains('/'))
                    && c.chars().next().is_some_and(|ch| ch.is_ascii_uppercase())
                    && c.split_whitespace().count() <= 6
                    && !c.contains(". ")
                    && !c.contains(',');
                if (framed || unframed) && is_section_title(c) {
                    section = section_title(c);
                    block.clear();
                } else {
                    block.push(c.clone());
                }
            }
            Piece::PHint(n) => hint = Some(*n),
            Piece::P(n) => {
                if seen_p.insert(*n) {
                    let mut s = describe(&block);
                    s.p = Some(*n);
                    s.s = section.clone();
                    // `Preferred DNS server` over P92 P93 P94 P95: one
                    // description for a row of boxes; the next P-values,
                    // with no words of their own, are its further parts.
                    match &mut run {
                        // (A bare `Number: 0 - 255` above a box is no description of its own.)
                        Some((last, base, k)) if s.l.is_empty() && *n == *last + 1 && !base.is_empty() => {
                            *k += 1;
                            *last = *n;
                            s.l = format!("{base}, part {k}");
                            if s.r.is_empty() {
                                s.t = parsed.settings.last().map(|p| p.t.clone()).unwrap_or(s.t);
                                s.r = parsed.settings.last().map(|p| p.r.clone()).unwrap_or_default();
                            }
                        }
                        // Only a number starts such a row (IP address octets, `Number: 0-255`):
                        // an undescribed P-value after a text setting is not part of it.
                        _ => run = (s.t == "int" && !s.r.is_empty()).then(|| (*n, s.l.clone(), 1)),
                    }
                    parsed.settings.push(s);
                }
                block.clear();
            }
            Piece::Item(name) => {
                parsed.xml = 2;
                run = None;
                let mut s = describe(&block);
                s.p = hint.take();
                s.a = Some(name.clone());
                s.s = section.clone();
                if s.p.is_none_or(|p| seen_p.insert(p)) {
                    parsed.settings.push(s);
                }
                block.clear();
            }
        }
    }
    parsed
}

/// A comment that opens a setting's description: a capitalised label phrase
/// followed by more (`Enable X. 0 - No, 1 - Yes`), not a type, default or
/// example line.
fn is_description(c: &str) -> bool {
    let type_line = ["Number", "String", "Mandatory", "Default", "Reboot"].iter().any(|w| strip_word(c, w).is_some());
    !type_line
        && c.chars().next().is_some_and(|ch| ch.is_ascii_uppercase())
        && (c.contains(". ") || !enum_codes(c).is_empty())
}

fn firmware_of(c: &str) -> Option<String> {
    let lower = c.to_ascii_lowercase();
    if !lower.contains("template") {
        return None;
    }
    let at = lower.find("version")?;
    let v: String = c[at + 7..].trim_start().chars().take_while(|ch| ch.is_ascii_digit() || *ch == '.').collect();
    (!v.is_empty()).then(|| v.trim_end_matches('.').to_string())
}

fn is_section_title(c: &str) -> bool {
    let words = c.split_whitespace().count();
    let not_a_title = ["Note", "For ", "End", "Map ", "Statically", "P values", "GMT"];
    words > 0
        && words <= 10
        && !c.contains(" - ")
        && !c.contains(['{', '\t', '+', '='])
        && !not_a_title.iter().any(|p| c.starts_with(p))
}

/// `Network/Basic Settings   GRP2614/...` -> `Network/Basic Settings`.
fn section_title(c: &str) -> String {
    let t = c.split("   ").next().unwrap_or(c).trim().trim_end_matches('.');
    t.split('/').map(str::trim).collect::<Vec<_>>().join("/")
}

/// Facts from the comment lines above one setting.
fn describe(block: &[String]) -> Setting {
    let mut s = Setting { t: "text".into(), ..Setting::default() };
    let mut numeric = false;
    let mut stringy = false;
    let mut descriptive: Vec<&str> = Vec::new();
    let mut yes_no = false;
    for line in block {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("mandatory") {
            s.m = true;
            continue;
        }
        if let Some(rest) = strip_word(line, "Number") {
            numeric = true;
            let rest = rest.trim_start_matches([':', ' ']);
            if s.r.is_empty() {
                s.r = ranges(rest);
            }
            continue;
        }
        // `Server address` under `NTP Server` (ht802) is a type line, like `String`.
        let address = ["ip address", "server address"].iter().any(|w| lower.trim_end_matches('.') == *w);
        if strip_word(line, "String").is_some() || lower.starts_with("ip address") || address {
            stringy = true;
            if let Some(n) = max_len(&lower) {
                s.len.get_or_insert(n);
            }
            continue;
        }
        if lower.starts_with("reboot required") || lower.starts_with("default") && line.split_whitespace().count() <= 4
        {
            if s.d.is_none() {
                s.d = default_of(line);
            }
            continue;
        }
        // `No or Yes.` on a line of its own (grp2612 P1007-P1009).
        let whole = line.trim().trim_end_matches('.').to_ascii_lowercase();
        if ["yes or no", "no or yes"].contains(&whole.as_str()) {
            yes_no = true;
            continue;
        }
        if let Some(words) = v2_words(line) {
            s.w = words.into_iter().map(|w| [String::new(), w]).collect();
            continue;
        }
        if let Some((_, rest)) = line.split_once(" Number:") {
            numeric = true;
            if s.r.is_empty() {
                s.r = ranges(rest.trim_start());
            }
        }
        let codes = enum_codes(line);
        let consumed = !codes.is_empty() && codes_cover_line(line);
        for c in codes {
            if !s.e.iter().any(|[k, _]| *k == c[0]) {
                s.e.push(c);
            }
        }
        if s.d.is_none() {
            s.d = default_of(line);
        }
        if let Some(n) = max_len(&lower) {
            s.len.get_or_insert(n);
        }
        if !consumed {
            descriptive.push(line);
        }
        // `Validate Server Certificates. Yes or No`, `... No, Yes.`: a v2
        // switch described in words only.
        yes_no |= line.split(". ").skip(1).any(|t| {
            let t = t.trim().trim_end_matches('.').to_ascii_lowercase();
            ["yes or no", "no or yes", "yes, no", "no, yes", "yes/no", "no/yes"].contains(&t.as_str())
        });
    }
    s.l = label_of(&descriptive);
    if yes_no && s.e.is_empty() && !numeric && !stringy {
        // No v2 words: whether `Yes` means on is the alias's business (P4428
        // `sip.notify.challenge` is the inverse of its P-value).
        s.e = vec![["0".into(), "No".into()], ["1".into(), "Yes".into()]];
        s.w.clear();
    }
    if !s.e.is_empty() {
        let codes: Vec<&str> = s.e.iter().map(|[c, _]| c.as_str()).collect();
        let only_01 = s.r.iter().all(|[a, b]| *a >= 0 && *b <= 1);
        s.t = if codes.len() == 2 && codes.contains(&"0") && codes.contains(&"1") && only_01 { "bool" } else { "enum" }
            .into();
    } else if numeric {
        s.t = "int".into();
    } else if !s.w.is_empty() && !stringy {
        s.t = "enum".into();
    } else if s.l.to_ascii_lowercase().contains("password") {
        s.t = "password".into();
    }
    // A default that names an enum meaning ("default is No") becomes its code.
    if let Some(d) = &s.d
        && d.parse::<i64>().is_err()
        && let Some([code, _]) = s.e.iter().find(|[_, m]| m.eq_ignore_ascii_case(d))
    {
        s.d = Some(code.clone());
    }
    // A default must be a value the setting accepts; prose that merely mentions
    // "default" is not one.
    s.d = match s.t.as_str() {
        "enum" | "bool" => s.d.filter(|d| s.e.iter().any(|[c, _]| c == d) || in_ranges(&s.r, d)),
        "int" => s.d.filter(|d| d.parse::<i64>().is_ok() && (s.r.is_empty() || in_ranges(&s.r, d))),
        _ => s.d.filter(|d| d.parse::<i64>().is_err() || stringy),
    };
    s
}

fn in_ranges(r: &[[i64; 2]], v: &str) -> bool {
    v.parse::<i64>().is_ok_and(|n| r.iter().any(|[a, b]| (*a..=*b).contains(&n)))
}

fn strip_word<'a>(line: &'a str, word: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(word)?;
    (rest.is_empty() || rest.starts_with([':', ' ', ';', '.'])).then_some(rest)
}

/// `0 - 64800`, `0 to 4094`, `0, 1`, `-1, 0, 1, 10 ~~ 36`, `0-3 for ...`.
fn ranges(text: &str) -> Vec<[i64; 2]> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let p = part.trim();
        let (a, rest) = match leading_int(p) {
            Some(x) => x,
            None => break,
        };
        let rest = rest.trim_start();
        let rest2 = ["~~", "to ", "-", "~"].iter().find_map(|sep| rest.strip_prefix(sep));
        match rest2.and_then(|r| leading_int(r.trim_start())) {
            Some((b, _)) if b >= a => out.push([a, b]),
            _ => out.push([a, a]),
        }
    }
    out
}

fn leading_int(s: &str) -> Option<(i64, &str)> {
    let neg = s.starts_with('-');
    let body = if neg { &s[1..] } else { s };
    let n = digits_len(body);
    if n == 0 || n > 12 {
        return None;
    }
    let v: i64 = body[..n].parse().ok()?;
    Some((if neg { -v } else { v }, &body[n..]))
}

/// `Yes, No` or `No, STUN, KeepAlive, UPnP` (v2 drop-down words): every item a
/// single word, at least two.
fn v2_words(line: &str) -> Option<Vec<String>> {
    let items: Vec<&str> = line.trim_end_matches('.').split(',').map(str::trim).collect();
    let ok = items.len() >= 2
        && items.iter().all(|w| {
            !w.is_empty()
                && w.len() <= 32
                && w.chars().any(|c| c.is_ascii_alphabetic())
                // `12Hour`, `100ms`; `15-Yes` is a code and its meaning.
                && w.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c.is_ascii_digit() && !w.contains(['-', '_']))
                && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    ok.then(|| items.iter().map(|w| w.to_string()).collect())
}

/// Code/meaning pairs in a comment line: `0 - No, 1 - Yes`, `SpeedDial (0), BLF (1)`,
/// `0: Disabled; 1: Enabled`.
fn enum_codes(line: &str) -> Vec<[String; 2]> {
    let mut out: Vec<[String; 2]> = Vec::new();
    let mut example = false;
    for sentence in line.split(". ") {
        // `0: yyyy-mm-dd   eg. 2011-10-31`: what follows `eg.` is an example
        // of the value, not more codes.
        if std::mem::take(&mut example) {
            continue;
        }
        let lower = sentence.trim_end().to_ascii_lowercase();
        let sentence = match ["e.g", "eg"].iter().find(|w| lower.ends_with(&format!(" {w}")) || lower == **w) {
            Some(w) => {
                example = true;
                sentence.trim_end()[..sentence.trim_end().len() - w.len()].trim_end()
            }
            None => sentence,
        };
        let mut last_matched = false;
        for seg in sentence.split([',', ';']) {
            let seg = seg.trim().trim_end_matches('.').trim();
            let found = code_then_meaning(seg)
                .or_else(|| meaning_then_code(seg))
                .or_else(|| code_start(seg).and_then(|i| code_then_meaning(&seg[i..])));
            if let Some((code, meaning)) = found {
                if !out.iter().any(|[c, _]| *c == code) {
                    out.push([code, meaning]);
                }
                last_matched = true;
            } else if last_matched
                && !seg.is_empty()
                && seg.len() <= 24
                && !seg.to_ascii_lowercase().starts_with("default")
                && !seg.chars().any(|c| c.is_ascii_digit())
                && let Some(last) = out.last_mut()
            {
                // `1 - YES, HTTP`: a meaning with a comma in it.
                last[1] = format!("{}, {seg}", last[1]);
            } else {
                last_matched = false;
            }
        }
    }
    out
}

fn code_then_meaning(seg: &str) -> Option<(String, String)> {
    let (code, rest) = leading_int(seg)?;
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix(" - ")
        .or_else(|| rest.strip_prefix('-'))
        .or_else(|| rest.strip_prefix('='))
        .or_else(|| rest.strip_prefix(':'))?;
    let meaning = clean_meaning(rest);
    // `0 - 64800` is a range, not a meaning.
    if meaning.is_empty() || meaning.parse::<f64>().is_ok() || meaning.len() > 64 {
        return None;
    }
    Some((code.to_string(), meaning))
}

/// Where a `N - meaning` pair starts inside a segment with a lead-in
/// (`SIP Transport 0 - UDP`, `Profile ID (0 - Profile 1`).
fn code_start(seg: &str) -> Option<usize> {
    let b = seg.as_bytes();
    (1..b.len()).find(|&i| {
        matches!(b[i - 1], b' ' | b'(')
            && (b[i].is_ascii_digit() || b[i] == b'-' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
            && code_then_meaning(&seg[i..]).is_some()
    })
}

fn meaning_then_code(seg: &str) -> Option<(String, String)> {
    let inner = seg.strip_suffix(')')?;
    let open = inner.rfind('(')?;
    let code = inner[open + 1..].trim();
    let (n, tail) = leading_int(code)?;
    if !tail.is_empty() {
        return None;
    }
    let meaning = clean_meaning(&inner[..open]);
    if meaning.is_empty() || meaning.len() > 64 {
        return None;
    }
    Some((n.to_string(), meaning))
}

/// Drops a `(default ...)` aside and trailing punctuation from a meaning.
fn clean_meaning(s: &str) -> String {
    let mut m = s.trim().to_string();
    if let Some(i) = m.to_ascii_lowercase().find("(default") {
        m.truncate(i);
    }
    let m = m.trim().trim_end_matches(['.', ',', ';']).trim();
    let m = if m.ends_with(')') && !m.contains('(') { m.trim_end_matches(')') } else { m };
    // Typing slips in the templates that the web UI does not show
    // (gxp21xx P238 "Always Skip the Firmware Checkv").
    m.trim().replace("Checkv", "Check")
}

/// Whether a line is nothing but code/meaning pairs (and perhaps a default).
fn codes_cover_line(line: &str) -> bool {
    let first = line.trim_start();
    leading_int(first).is_some()
        || (line.contains('(') && line.split(',').all(|s| meaning_then_code(s.trim().trim_end_matches('.')).is_some()))
}

/// `Default is 60`, `(default 20 seconds)`, `default=3`, `Default value is No`.
fn default_of(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    let at = lower.find("default")?;
    let mut rest = &line[at + 7..];
    for lead in [" value", " is", ":", "=", " "] {
        rest = rest.trim_start_matches(' ');
        if let Some(r) = rest.strip_prefix(lead.trim_start()) {
            rest = r;
        }
    }
    let token: String =
        rest.trim_start().chars().take_while(|c| !c.is_whitespace() && !matches!(c, ')' | ',' | ';')).collect();
    let token = token.trim_end_matches('.').trim_matches(['"', '(']).to_string();
    let useful = !token.is_empty()
        && token.len() <= 32
        && !["and", "the", "to", "if", "when", "of"].contains(&token.to_ascii_lowercase().as_str());
    useful.then_some(token)
}

/// `Max length allowed is 32 characters`, `MaxLength 32`, `Maximum 15 characters`,
/// `up to 256 characters`.
fn max_len(lower: &str) -> Option<u32> {
    for key in ["max length allowed is", "max length is", "maxlength", "max length", "maximum", "up to"] {
        if let Some(i) = lower.find(key) {
            let rest = lower[i + key.len()..].trim_start().trim_start_matches([':', '=']).trim_start();
            let n = digits_len(rest);
            if n > 0 && (rest[n..].trim_start().starts_with("char") || key.starts_with("max")) {
                return rest[..n].parse().ok();
            }
        }
    }
    None
}

/// The label: the first descriptive comment's first phrase. A lead-in of a few
/// words (`Layer 2 QoS.`) is joined with the line that follows it.
fn label_of(lines: &[&str]) -> String {
    // Stray notes left above a setting ("End Line Keys.", "... for model X only").
    let stray = |l: &&&str| {
        let t = l.trim().trim_end_matches('.').to_ascii_lowercase();
        t.starts_with("end ") || t.ends_with(" only") || t.starts_with("note")
    };
    let mut lines: Vec<&str> = lines.iter().skip_while(|l| stray(l)).copied().collect();
    // A menu path left over a setting's own words (`Maintenance/Upgrade and
    // Provisioning` over `Firmware Upgrade and Provisioning`) is no label;
    // `HTTP/HTTPS Login` is.
    const MENUS: [&str; 8] = ["maintenance", "network", "settings", "account", "status", "phone", "system", "advanced"];
    if lines.len() > 1
        && let Some((menu, _)) = lines[0].split_once('/')
        && MENUS.iter().any(|m| menu.trim().to_ascii_lowercase().starts_with(m))
        && !lines[0].contains(". ")
    {
        lines.remove(0);
    }
    let Some(first) = lines.first() else { return String::new() };
    let head_of = |line: &str| -> String {
        // `Label<TAB><TAB>value` rows (time-zone lists) keep the label part.
        let line = line.split('\t').next().unwrap_or(line);
        // `Hunting group Number: 0 to 2`: the type line run into the label.
        let line = line.split(" Number:").next().unwrap_or(line);
        let h = line.split(". ").next().unwrap_or(line);
        let h = match code_start(h) {
            Some(i) => &h[..i],
            None => h,
        };
        h.trim().trim_end_matches(['.', ':', '(', ';', ',']).trim().to_string()
    };
    let head = head_of(first);
    let mut label = head.clone();
    let short_lead = head.split_whitespace().count() <= 4 && first.split(". ").count() == 1;
    if short_lead && let Some(next) = lines.get(1) {
        let n = head_of(next);
        if n.chars().any(|c| c.is_ascii_alphabetic())
            && n.split_whitespace().count() <= 8
            && (first.trim().ends_with('.') || n.split_whitespace().count() <= 3)
        {
            // `Maintenance - Language` over `Language. Configure ...`: the
            // lead-in is a banner ending in the setting's own name.
            label = if head.to_ascii_lowercase().ends_with(&n.to_ascii_lowercase()) || head.contains(" - ") {
                n
            } else {
                format!("{head}: {n}")
            };
        }
    }
    // `Layer 2 QoS. 802.1Q/VLAN Tag (...)` and `Layer 2 QoS. 802.1p priority
    // value`: a lead-in of a few words names a group; the phrase after it
    // names the setting.
    if label == head
        && head.split_whitespace().count() <= 3
        && let Some(second) = first.split(". ").nth(1)
    {
        let n = head_of(second);
        let lower = n.to_ascii_lowercase();
        let prose = [
            "default", "number", "string", "if ", "when ", "this ", "the ", "it ", "note", "set ", "range", "max",
            "min", "only", "between", "(", "0 ", "1 ", "yes", "no ", "no,", "ignore", "used ",
        ];
        if n.chars().any(|c| c.is_ascii_alphabetic())
            && n.split_whitespace().count() <= 8
            && enum_codes(second).is_empty()
            && v2_words(second).is_none()
            && !lower.contains("default")
            && !prose.iter().any(|p| lower.starts_with(p))
        {
            label = format!("{head}: {n}");
        }
    }
    let mut label = label.split_whitespace().collect::<Vec<_>>().join(" ");
    // Labels are short facts; long comment lines are cut at a word boundary.
    if label.chars().count() > 72 {
        let cut: String = label.chars().take(72).collect();
        label = match cut.rfind(' ') {
            Some(i) => format!("{}...", cut[..i].trim_end_matches([',', ' '])),
            None => cut,
        };
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    // Snippets written for these tests in the templates' shape (not copied).
    const V1: &str = r#"<config version="1">
<!-- ################################## -->
<!-- ## Configuration template for XY12 firmware version 9.8.7.6 ## -->
<!-- ################################## -->
<!-- ################# -->
<!--  Line 1/Basics -->
<!-- ################# -->
<!--  Line On. 0 - Off, 1 - On. Default is 1 -->
<!--  Number: 0, 1 -->
<!--  Mandatory -->
{if isset($x)}
<P9001>{$x}</P9001>
{else}
<P9001>0</P9001>
{/if}
<!--  Peer Host -->
<!--  String. Max length is 40 characters -->
<P9002></P9002>
<!--  Retry Timer (in seconds). Default is 30 -->
<!--  Number: 5 - 600 -->
<P9003>30</P9003>
<!--  Login Password -->
<!--  String -->
<P9004></P9004>
<!-- # Button Mode. Default is 31. -->
<!-- # Number: -1, 0, 1, 10 ~~ 36 -->
<!-- # Nothing (-1), Dial (0), Watch (1), Plain (31) -->
<!-- # P9005 = 31 -->
<!-- # Tagging. -->
<!-- # VLAN mark for media -->
<!-- # Number: 0 to 4094 -->
<P9006>0</P9006>
<!-- Fetch mode. 0 - No, 1 - YES, HTTP, 2 - YES, TFTP. Default is 0 -->
<P9007>0</P9007>
"#;

    const V2: &str = r#"<config version="2">
<!-- Configuration Template for XY34 Firmware Version 1.2.3.4 -->
<!-- ############### -->
<!-- ## Phone/Display ## -->
<!-- ############### -->
<!-- Line On -->
<!-- On, Off -->
<!-- Pvalue P9001 -->
<item name="line.{$row.line_number}.enable">On</item>
<!-- Screen Saver -->
<!-- Never, Always -->
<item name="display.saver"/>
"#;

    fn by_p(p: &Parsed, n: u32) -> &Setting {
        p.settings.iter().find(|s| s.p == Some(n)).unwrap_or_else(|| panic!("P{n} missing"))
    }

    #[test]
    fn v1_facts() {
        let p = parse(V1);
        assert_eq!(p.firmware, "9.8.7.6");
        assert_eq!(p.xml, 1);
        let s = by_p(&p, 9001);
        assert_eq!(s.l, "Line On");
        assert_eq!(s.s, "Line 1/Basics");
        assert_eq!(s.t, "bool");
        assert_eq!(s.e, vec![["0".to_string(), "Off".to_string()], ["1".into(), "On".into()]]);
        assert_eq!(s.d.as_deref(), Some("1"));
        assert!(s.m);
        assert_eq!(
            p.settings.iter().filter(|s| s.p == Some(9001)).count(),
            1,
            "the {{else}} branch is the same setting"
        );
        let host = by_p(&p, 9002);
        assert_eq!((host.t.as_str(), host.len), ("text", Some(40)));
        let retry = by_p(&p, 9003);
        assert_eq!((retry.t.as_str(), retry.r.clone(), retry.d.as_deref()), ("int", vec![[5, 600]], Some("30")));
        assert_eq!(retry.l, "Retry Timer (in seconds)");
        assert_eq!(by_p(&p, 9004).t, "password");
    }

    #[test]
    fn commented_examples_and_meaning_code_lists() {
        let p = parse(V1);
        let b = by_p(&p, 9005);
        assert_eq!(b.l, "Button Mode");
        assert_eq!(b.t, "enum");
        assert_eq!(b.r, vec![[-1, -1], [0, 0], [1, 1], [10, 36]]);
        assert_eq!(b.e[0], ["-1".to_string(), "Nothing".to_string()]);
        assert_eq!(b.e[3], ["31".to_string(), "Plain".to_string()]);
        assert_eq!(b.d.as_deref(), Some("31"));
        let v = by_p(&p, 9006);
        assert_eq!(v.l, "Tagging: VLAN mark for media");
        assert_eq!(v.r, vec![[0, 4094]]);
        let f = by_p(&p, 9007);
        assert_eq!(f.e[1], ["1".to_string(), "YES, HTTP".to_string()]);
        assert_eq!(f.e[2], ["2".to_string(), "YES, TFTP".to_string()]);
    }

    #[test]
    fn v2_aliases_words_and_merge() {
        let v2 = parse(V2);
        assert_eq!((v2.xml, v2.firmware.as_str()), (2, "1.2.3.4"));
        let s = by_p(&v2, 9001);
        assert_eq!(s.a.as_deref(), Some("line.1.enable"));
        assert_eq!(s.s, "Phone/Display");
        let saver = v2.settings.iter().find(|s| s.a.as_deref() == Some("display.saver")).unwrap();
        assert_eq!((saver.p, saver.t.as_str()), (None, "enum"));
        let mut global = HashMap::new();
        global.insert("line.1.enable".to_string(), 9001);
        let (asset, stats) = merge(Family::Gxp21xx, vec![("a".into(), parse(V1)), ("b".into(), parse(V2))], &global);
        assert_eq!(stats.refused, 0);
        let on = asset.settings.iter().find(|s| s.p == Some(9001)).unwrap();
        assert_eq!(on.a.as_deref(), Some("line.1.enable"));
        assert_eq!(on.l, "Line On", "the first template's label wins");
        assert_eq!(on.w, vec![["1".to_string(), "On".to_string()], ["0".into(), "Off".into()]]);
        assert_eq!(asset.templates[1].firmware, "1.2.3.4");
        assert!(asset.settings.iter().any(|s| s.a.as_deref() == Some("display.saver") && s.src == 1));
    }

    #[test]
    fn alias_from_another_family_needs_a_matching_label() {
        let v2 = "<!-- Peer Host -->\n<item name=\"peer.host\"/>\n<!-- Something Else -->\n<item name=\"other\"/>\n";
        let mut global = HashMap::new();
        global.insert("peer.host".to_string(), 9002);
        global.insert("other".to_string(), 9003);
        let (asset, stats) = merge(Family::Gxp21xx, vec![("a".into(), parse(V1)), ("b".into(), parse(v2))], &global);
        assert_eq!((stats.inferred, stats.refused), (1, 1));
        let host = asset.settings.iter().find(|s| s.p == Some(9002)).unwrap();
        assert_eq!(host.a.as_deref(), Some("peer.host"));
        assert!(host.pi);
        assert_eq!(asset.settings.iter().find(|s| s.p == Some(9003)).unwrap().a, None);
    }

    #[test]
    fn lead_ins_unframed_sections_and_stray_notes() {
        let t = "<!-- Phone/Audio Settings -->\n<!-- Wire Mode 0 - Two, 1 - Four; -->\n<P9101>0</P9101>\n\
                 <!-- End Wires. -->\n<!-- Button 1 -->\n<!-- Mode. -->\n<!-- 0 - Dial, 1 - Watch -->\n<P9102>0</P9102>\n\
                 <!-- Group (0 - First, 1 - Second); default is 1 -->\n<P9103>1</P9103>\n";
        let p = parse(t);
        let w = by_p(&p, 9101);
        assert_eq!((w.l.as_str(), w.s.as_str()), ("Wire Mode", "Phone/Audio Settings"));
        assert_eq!(w.e, vec![["0".to_string(), "Two".to_string()], ["1".into(), "Four".into()]]);
        let b = by_p(&p, 9102);
        assert_eq!(b.l, "Button 1: Mode");
        assert_eq!(b.t, "bool");
        let g = by_p(&p, 9103);
        assert_eq!(g.l, "Group");
        assert_eq!(g.e[1], ["1".to_string(), "Second".to_string()]);
        assert_eq!(g.d.as_deref(), Some("1"));
    }

    /// The phonebook download trio in the shapes of a v1 template (a section
    /// line right over the description), a second v1 template that labels the
    /// mode differently, and a v2 template without P-value comments.
    const DIR_V1: &str = "<!-- Phone/Directory -->\n\
        <!-- Book Fetch. 0 - No, 1 - YES, HTTP, 2 - YES, TFTP, 3 - Yes, HTTPS. Default is 0 -->\n\
        <!-- Number: 0, 1, 2, 3 -->\n<P9201>0</P9201>\n\
        <!-- HTTP/HTTPS Login -->\n<!-- String -->\n<P9202></P9202>\n\
        <!-- On/Off Switch. 0 - No, 1 - Yes -->\n<!-- Number: 0, 1 -->\n<P9203>0</P9203>\n";
    const DIR_V1B: &str = "<!-- Contacts Download Mode. 0 - No, 1 - YES, HTTP -->\n<P9201>0</P9201>\n\
        <!-- Fetch Server -->\n<!-- String -->\n<P9204></P9204>\n";
    const DIR_V2: &str = "<!-- ## -->\n<!-- ## Phone/Directory -->\n<!-- ## -->\n\
        <!-- Contacts Download Mode -->\n<!-- Disabled, EnabledUseHTTP, EnabledUseTFTP, EnabledUseHTTPS -->\n\
        <item name=\"book.fetch.mode\">Disabled</item>\n\
        <!-- Directory Fetch Server Path -->\n<item name=\"book.fetch.server\"></item>\n\
        <!-- # Switch. Default Off, On -->\n<!-- Pvalue P9203 -->\n<item name=\"sw.on\"></item>\n";

    #[test]
    fn a_section_line_over_a_description_is_a_section_not_a_label() {
        let p = parse(DIR_V1);
        let fetch = by_p(&p, 9201);
        assert_eq!((fetch.l.as_str(), fetch.s.as_str()), ("Book Fetch", "Phone/Directory"));
        assert_eq!(fetch.e[3], ["3".to_string(), "Yes, HTTPS".to_string()]);
        // A label with a slash over a type line stays a label.
        assert_eq!((by_p(&p, 9202).l.as_str(), by_p(&p, 9202).s.as_str()), ("HTTP/HTTPS Login", "Phone/Directory"));
        assert_eq!(by_p(&p, 9203).l, "On/Off Switch");
    }

    #[test]
    fn v2_words_pair_by_a_shared_word_or_as_the_last_left() {
        let mut s = Setting {
            e: vec![
                ["0".into(), "No".into()],
                ["1".into(), "YES, HTTP".into()],
                ["2".into(), "YES, TFTP".into()],
                ["3".into(), "Yes, HTTPS".into()],
            ],
            w: ["Disabled", "EnabledUseHTTP", "EnabledUseTFTP", "EnabledUseHTTPS"]
                .map(|w| [String::new(), w.to_string()])
                .to_vec(),
            ..Setting::default()
        };
        pair_words(&mut s);
        let pairs: Vec<(&str, &str)> = s.w.iter().map(|[c, w]| (c.as_str(), w.as_str())).collect();
        assert_eq!(
            pairs,
            [("0", "Disabled"), ("1", "EnabledUseHTTP"), ("2", "EnabledUseTFTP"), ("3", "EnabledUseHTTPS")]
        );
        // Two words left without a match: no guess, no words.
        let mut s = Setting {
            e: vec![["0".into(), "Off".into()], ["1".into(), "On".into()], ["2".into(), "Auto".into()]],
            w: ["Never", "Always", "Auto"].map(|w| [String::new(), w.to_string()]).to_vec(),
            ..Setting::default()
        };
        pair_words(&mut s);
        assert!(s.w.is_empty(), "{:?}", s.w);
        assert_eq!(word_set("EnabledUseHTTPS"), ["enabled", "use", "https"].map(String::from).into_iter().collect());
    }

    /// The v2 aliases reach the P-ids through another family's map when any of
    /// this family's templates labels the P-id alike (here the second: the first
    /// calls P9201 "Book Fetch", the v2 template "Contacts Download Mode").
    #[test]
    fn phonebook_download_aliases_merge_onto_their_p_values() {
        let mut global = HashMap::new();
        for (a, p) in [("book.fetch.mode", 9201), ("book.fetch.server", 9204)] {
            global.insert(a.to_string(), p);
        }
        let parsed = vec![("a".into(), parse(DIR_V1)), ("b".into(), parse(DIR_V1B)), ("c".into(), parse(DIR_V2))];
        let (asset, stats) = merge(Family::Wp8xx, parsed, &global);
        assert_eq!((stats.inferred, stats.refused), (2, 0));
        let get = |p: u32| asset.settings.iter().find(|s| s.p == Some(p)).unwrap();
        let mode = get(9201);
        assert_eq!(mode.a.as_deref(), Some("book.fetch.mode"));
        assert_eq!(mode.l, "Book Fetch", "the first template's label wins");
        assert_eq!(mode.w[1], ["1".to_string(), "EnabledUseHTTP".to_string()]);
        assert_eq!(mode.w[0], ["0".to_string(), "Disabled".to_string()]);
        assert_eq!(get(9204).a.as_deref(), Some("book.fetch.server"));
        assert!(!asset.settings.iter().any(|s| s.p.is_none() && s.a.as_deref() == Some("book.fetch.mode")));
        // Without the second template no label of P9201 agrees: the alias stays alias-only.
        let (asset, stats) =
            merge(Family::Wp8xx, vec![("a".into(), parse(DIR_V1)), ("c".into(), parse(DIR_V2))], &global);
        assert_eq!((stats.inferred, stats.refused), (1, 1));
        assert_eq!(asset.settings.iter().find(|s| s.p == Some(9201)).unwrap().a, None);
        assert!(asset.settings.iter().any(|s| s.p.is_none() && s.a.as_deref() == Some("book.fetch.mode")));
        // A word that is not one of an enum's codes is no default (`Default Off, On`).
        let sw = get(9203);
        assert_eq!((sw.t.as_str(), sw.d.as_deref()), ("bool", None));
    }

    #[test]
    fn examples_after_eg_are_no_codes_and_words_may_start_with_a_digit() {
        let t = "<!-- Clock Style -->\n<!-- 0: hh-mm      eg. 23-59 -->\n<!-- 1: mm, hh   eg. Noon, 12 -->\n\
                 <!-- Number: 0, 1 -->\n<P9301>0</P9301>\n";
        let c = by_p(&parse(t), 9301).clone();
        assert_eq!(c.e, vec![["0".to_string(), "hh-mm".to_string()], ["1".into(), "mm, hh".into()]]);
        assert_eq!(v2_words("12Hour, 24Hour"), Some(vec!["12Hour".into(), "24Hour".into()]));
        assert_eq!(v2_words("0, 1"), None, "numbers are codes, not words");
        assert_eq!(v2_words("15-Yes, 0-No"), None, "codes with their meanings");
    }

    /// One description over a row of numbered boxes (P92-P95 "Preferred DNS
    /// server" in many templates): the later ones are its parts; a banner
    /// lead-in (`Maintenance - Syslog`) gives way to the setting's own words.
    #[test]
    fn rows_of_boxes_and_banner_lead_ins() {
        let t = "<!-- Preferred Peer -->\n<!-- Number: 0 - 255 -->\n<P9401>0</P9401>\n<P9402>0</P9402>\n<!-- Number: 0 - 255 -->\n<P9403>0</P9403>\n\
                 <!-- Host name -->\n<!-- String -->\n<P9404></P9404>\n<P9405></P9405>\n\
                 <!-- Maintenance - Logging -->\n<!-- Log Host -->\n<P9501></P9501>\n";
        let p = parse(t);
        assert_eq!(by_p(&p, 9401).l, "Preferred Peer");
        assert_eq!(by_p(&p, 9402).l, "Preferred Peer, part 2");
        assert_eq!((by_p(&p, 9403).l.as_str(), by_p(&p, 9403).r.clone()), ("Preferred Peer, part 3", vec![[0, 255]]));
        assert_eq!(by_p(&p, 9405).l, "", "a text setting starts no row");
        assert_eq!(by_p(&p, 9501).l, "Log Host");
    }

    #[test]
    fn small_parsers() {
        assert_eq!(ranges("0-3 for some models, 4 and 5 for others"), vec![[0, 3], [4, 4]]);
        assert_eq!(ranges("3 to 15"), vec![[3, 15]]);
        assert_eq!(ranges(""), Vec::<[i64; 2]>::new());
        assert_eq!(default_of("Keep-alive interval (in seconds. default 20 seconds)").as_deref(), Some("20"));
        assert_eq!(default_of("0 - No, 1 - Yes (default is No)").as_deref(), Some("No"));
        assert_eq!(max_len("end user password, maxlength 32"), Some(32));
        assert_eq!(max_len("maximum 15 characters"), Some(15));
        assert_eq!(max_len("a string of up to 256 characters"), Some(256));
        assert_eq!(enum_codes("Unregister. 0 - No, 1 - All, 2-Instance. Default is 0").len(), 3);
        assert!(enum_codes("Number: 0 - 64800").is_empty());
        assert_eq!(v2_words("No, STUN, KeepAlive"), Some(vec!["No".into(), "STUN".into(), "KeepAlive".into()]));
        assert_eq!(v2_words("Account Name"), None);
        assert_eq!(
            firmware_of("Configuration template for HT80x firmware version 1.0.10.6").as_deref(),
            Some("1.0.10.6")
        );
    }
}
