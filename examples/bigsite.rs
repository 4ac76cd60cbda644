//! Prints a large synthetic site file to stdout, for timing `gsprov generate` at scale:
//!
//! ```sh
//! cargo run --release --example bigsite -- 10000 > big.gsprov.toml          # encrypted device XML
//! cargo run --release --example bigsite -- 10000 --plain > plain.gsprov.toml # no encryption
//! ```

#[path = "../benches/support/bigsite.rs"]
mod bigsite;

use std::io::Write;
use std::process::ExitCode;

use gsprov::site::Encrypt;

fn main() -> ExitCode {
    let mut count = 10_000;
    let mut encrypt = Encrypt::DeviceFiles;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--plain" => encrypt = Encrypt::Off,
            n => match n.parse() {
                Ok(n) => count = n,
                Err(_) => {
                    eprintln!("usage: bigsite [COUNT] [--plain]   (COUNT defaults to 10000)");
                    return ExitCode::from(2);
                }
            },
        }
    }
    let text = gsprov::storage::site_to_toml(&bigsite::big_site(count, encrypt));
    if std::io::stdout().lock().write_all(text.as_bytes()).is_err() {
        return ExitCode::from(3);
    }
    ExitCode::SUCCESS
}
