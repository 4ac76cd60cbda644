//! How long the catalog takes to load, from nothing: the curated catalog, then
//! every family table parsed from its embedded JSON (`assets/catalog/*.json`),
//! and what start-up itself parses (the families the demo site reaches, via
//! its check). Also the size of the embedded catalog assets. Issue 12's target:
//! catalog load at start-up under 20 ms.
//!
//! `cargo run --release --example catalog_load` (debug builds are several times slower).

use std::time::Instant;

use gsprov::catalog::{Catalog, Family, FamilyCatalog};

fn main() {
    // What start-up parses: the App opens the demo site and checks it, which
    // loads the curated catalog and the tables of the families it reaches.
    let t0 = Instant::now();
    let issues = gsprov::site::demo().check();
    let startup = t0.elapsed();
    println!("start-up (demo site checked, its families parsed): {:.2} ms, {} issue(s)", ms(startup), issues.len());

    // The rest, one family at a time (already-parsed ones return at once).
    let t1 = Instant::now();
    let curated = Catalog::get().params().len();
    let mut total = 0;
    for f in Family::ALL {
        let t = Instant::now();
        let n = FamilyCatalog::get(f).params().len();
        total += n;
        println!("  {:<8} {n:>5} settings  {:>6.2} ms", f.name(), ms(t.elapsed()));
    }
    let rest = t1.elapsed();
    println!(
        "every family table: {:.2} ms more ({} settings in {} families, {curated} curated); from nothing to all parsed: {:.2} ms",
        ms(rest),
        total,
        Family::ALL.len(),
        ms(startup + rest)
    );
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
