//! What both template extractors (`catalog_extract`, `region_extract`) share:
//! which template folders make up each family, so a new folder or family is
//! added once, and the command line (`TEMPLATES_DIR OUTPUT`). Included with
//! `#[path]`: examples cannot share a module otherwise.

use std::path::Path;
use std::process::ExitCode;

use gsprov::catalog::Family;

/// Runs `run(TEMPLATES_DIR, OUTPUT)` from the command line: exit 2 with
/// `usage` when an argument is missing, 1 with the error (named after `name`)
/// when `run` fails.
pub fn main(name: &str, usage: &str, run: fn(&Path, &Path) -> Result<(), String>) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(src), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: {name} {usage}");
        return ExitCode::from(2);
    };
    match run(Path::new(src), Path::new(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Which template folders make up each family, newest or most complete first
/// (the first template that describes a P-id wins).
pub const FAMILIES: &[(Family, &[&str])] = &[
    (Family::Gxp21xx, &["gxp21xx", "gxp2170"]),
    (Family::Gxp16xx, &["gxp16xx"]),
    (Family::Gxp17xx, &["gxp17xx"]),
    (Family::Gxp14xx, &["gxp1450", "gxp140x"]),
    (Family::Gxp11xx, &["gxp116x", "gxp110x"]),
    (Family::Gxp20xx, &["gxp20xx"]),
    (Family::Grp26xx, &["grp26xx", "grp2612", "grp261x"]),
    (Family::Ht50x, &["ht502", "ht503"]),
    (Family::Ht70x, &["ht702", "ht704"]),
    (Family::Ht80x, &["ht802", "ht801"]),
    (Family::Ht81x, &["ht814", "ht818", "ht813"]),
    (Family::Wp8xx, &["wp820", "wp810", "wp8x6"]),
    (Family::Dp75x, &["dp750"]),
    (Family::Dp71x, &["dp715"]),
    (Family::Gxw40xx, &["gxw40xx"]),
    (Family::Gxw42xx, &["gxw42xx"]),
    (Family::Gxv, &["gxv3240", "gxv3370", "gxv3480"]),
    (Family::Gac25xx, &["gac2500"]),
    (Family::Ghp6xx, &["ghp6xx"]),
];
