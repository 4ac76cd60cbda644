//! gsprov binary: parse the command line, set up logging, run one front end,
//! map errors to exit codes. No logic of its own.

// mimalloc instead of the system allocator: a 10,000-device generation and a
// busy HTTP server allocate and free millions of small strings and maps, and
// glibc's malloc/free were a tenth of their CPU (perf, issue #15; measured in
// benches/RESULTS.md). Built without transparent huge pages (`no_thp`):
// mimalloc otherwise asks for them (MADV_HUGEPAGE) on the memory it commits
// eagerly, and where THP is "madvise" (Debian, Ubuntu) a mostly empty heap
// then costs whole 2 MB pages: 40-45 MB of heap became 23-24 MB, the
// desktop app 154 -> 136 MB at start and 159 -> 138 MB serving the demo
// (release build under Xvfb, issue #27 item 18).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;
use gsprov::cli::{self, Cli, Command, exit};
use gsprov::headless::{self, Term};

fn main() -> ExitCode {
    gsprov::ui::init_local_offset();
    let cli = Cli::parse();
    let _log = gsprov::logging::init(cli.verbose, cli.command.as_ref().is_none_or(Command::writes_log));
    tracing::info!("gsprov {} started", cli::VERSION);
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
        Some(Command::Adopt(a)) => headless::adopt(a, &mut term),
        Some(Command::Serve(a)) => {
            let (tx, rx) = std::sync::mpsc::channel();
            if let Err(e) = ctrlc::set_handler(move || {
                let _ = tx.send(());
            }) {
                eprintln!("gsprov: cannot catch Ctrl-C ({e}); stop with kill -9");
            }
            cli::ServeOptions::try_from(a)
                .map_err(headless::Error::from)
                .and_then(|o| headless::serve(&o, &mut term, &rx))
        }
        Some(Command::Fetch(a)) => headless::fetch(a, &mut term),
        Some(Command::Firmware(a)) => headless::firmware(a, &mut term),
        Some(Command::Discover(a)) => cli::DiscoverOptions::try_from(a)
            .map_err(headless::Error::from)
            .and_then(|o| headless::discover(&o, &mut term, &interrupt())),
        Some(Command::Interfaces(a)) => headless::interfaces(a, &mut term),
        Some(Command::Params(a)) => headless::params(a, &mut term),
        Some(Command::Notify(a)) => headless::notify(a, &mut term),
        Some(Command::CheckDevice(a)) => headless::check_device(a, &mut term),
        Some(Command::ReadDevice(a)) => headless::read_device(a, &mut term),
        Some(Command::Completions(a)) => cli::write_completions(a.shell, term.out).map_err(headless::Error::Output),
        Some(Command::Manpage(a)) => {
            cli::write_manpage(a.subcommand.as_deref(), term.out).map_err(headless::Error::Output)
        }
    };
    match result {
        Ok(()) => ExitCode::from(exit::OK),
        // The reader stopped reading (`gsprov check SITE | head -1`): it has what it wanted,
        // so this is no failure and there is nothing to say (ripgrep's rule).
        Err(headless::Error::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(exit::OK),
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
