//! Generation at scale (issue #2): a 10,000-device site with mixed models, accounts
//! and encrypted `cfg<mac>.xml`, generated whole. Run with `cargo bench --bench generate`.
//! The end-to-end comparison with an `openssl enc` loop is `benches/generate_vs_openssl.sh`.

mod support {
    pub mod bigsite;
}

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gsprov::generate::{self, FileKind};
use gsprov::site::Encrypt;
use support::bigsite::big_site;

const DEVICES: u32 = 10_000;

/// A deterministic salt source: benchmarks must not depend on the OS generator.
fn counter_salt() -> impl FnMut() -> [u8; 8] {
    let mut n = 0u64;
    move || {
        n += 1;
        n.to_le_bytes()
    }
}

fn generate_site(c: &mut Criterion) {
    let site = big_site(DEVICES, Encrypt::DeviceFiles);
    let out = generate::generate(&site, &mut counter_salt()).expect("the benchmark site generates");
    let encrypted = out.files.iter().filter(|f| f.encrypted).count();
    let binaries = out.files.iter().filter(|f| f.kind == FileKind::Binary).count();
    // Sanity: 4 of 5 devices read XML (encrypted) and get a bootstrap binary; the
    // legacy fifth gets a full binary; each binary is served under two names.
    assert_eq!(encrypted, DEVICES as usize * 4 / 5);
    assert_eq!(binaries, DEVICES as usize * 2);

    let mut g = c.benchmark_group("generate");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(u64::from(DEVICES)));
    g.bench_function("10k_devices_encrypted", |b| {
        b.iter(|| generate::generate(black_box(&site), &mut counter_salt()).expect("generates"))
    });
    let plain = big_site(DEVICES, Encrypt::Off);
    g.bench_function("10k_devices_plain", |b| {
        b.iter(|| generate::generate(black_box(&plain), &mut counter_salt()).expect("generates"))
    });
    g.finish();
}

fn load_and_check(c: &mut Criterion) {
    let text = gsprov::storage::site_to_toml(&big_site(DEVICES, Encrypt::DeviceFiles));
    let mut g = c.benchmark_group("site");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(u64::from(DEVICES)));
    g.bench_function("parse_10k_devices", |b| {
        b.iter(|| gsprov::storage::parse_site(Path::new("bench.gsprov.toml"), black_box(&text)).expect("parses"))
    });
    let site = gsprov::storage::parse_site(Path::new("bench.gsprov.toml"), &text).expect("parses");
    g.bench_function("check_10k_devices", |b| b.iter(|| black_box(&site).check()));
    g.finish();
}

criterion_group!(benches, generate_site, load_and_check);
criterion_main!(benches);
