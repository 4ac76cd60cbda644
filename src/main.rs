//! gsprov binary: parse the command line, set up logging, run one front end,
//! map errors to exit codes. No logic of its own.

use std::process::ExitCode;

use clap::Parser;
use gsprov::cli::{Cli, Command, exit};
use gsprov::headless::{self, Term};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt().with_env_filter(level).with_writer(std::io::stderr).with_target(false).init();
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr();
    let mut term = Term { out: &mut out, err: &mut err };
    let result = match &cli.command {
        None => return gui(None),
        Some(Command::Open(a)) => return gui(a.site.clone()),
        Some(Command::New(a)) => headless::new(a, &mut term),
        Some(Command::Check(a)) => headless::check(a, &mut term),
        Some(Command::Generate(a)) => headless::generate(a, &mut term),
        Some(Command::Import(a)) => headless::import(a, &mut term),
        Some(Command::Decode(a)) => headless::decode(a, &mut term),
        Some(Command::Serve(a)) => {
            let (tx, rx) = std::sync::mpsc::channel();
            if let Err(e) = ctrlc::set_handler(move || {
                let _ = tx.send(());
            }) {
                eprintln!("gsprov: cannot catch Ctrl-C ({e}); stop with kill -9");
            }
            headless::serve(a, &mut term, &rx)
        }
        Some(Command::Fetch(a)) => headless::fetch(a, &mut term),
        Some(Command::Discover(a)) => headless::discover(a, &mut term, &interrupt()),
        Some(Command::Interfaces(a)) => headless::interfaces(a, &mut term),
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!("gsprov: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// A channel that receives once per Ctrl-C.
fn interrupt() -> std::sync::mpsc::Receiver<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = tx.send(());
    }) {
        eprintln!("gsprov: cannot catch Ctrl-C ({e}); stop with kill -9");
    }
    rx
}

fn gui(site: Option<std::path::PathBuf>) -> ExitCode {
    match gsprov::ui::run(site) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(e) => {
            eprintln!(
                "gsprov: cannot open the window: {e}\n(no display? the headless commands work anywhere: gsprov --help)"
            );
            ExitCode::from(exit::SERVICE)
        }
    }
}
