//! lockfile-check: is the npm lockfile in sync with package.json and every workspace?
//! Flags: cli.rs · validation: settings.rs · the checks: shipguard::npm · evidence: report.rs

mod cli;
mod report;
mod settings;

use std::process::ExitCode;

use shipguard::exit::Code;
use shipguard::npm::check;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::report::Report;
use crate::settings::Settings;

/// A check is tens of thousands of small allocations (the lock's entries and maps).
/// mimalloc v2 (the `v2` feature): on the 1,295- and 3,223-entry bench locks it took 0.8 to
/// 0.9 of v3's CPU time and the same on a 9-entry lock; the system allocator was fastest on
/// the 9-entry lock (0.35 ms less) but 1.2 to 1.45 times slower on the big ones; mimalloc
/// without transparent huge pages (`no_thp`) saves 0.3 ms of start-up and costs 5 ms on
/// the big lock (bench/README.md, "Start-up and allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tool::main("lockfile-check", env!("CARGO_PKG_VERSION"), run)
}

async fn run(cli: Cli, ctx: &mut Context) -> anyhow::Result<Code> {
    let settings = Settings::resolve(cli, ctx)?;
    let outcome = check::run(&settings.path, &settings.options)?;
    let report = Report::new(
        ctx.version,
        settings.options.mode,
        settings.path.display().to_string(),
        outcome,
    );
    report.annotate_findings(&ctx.actions, &settings.path);
    shipguard::ending::end(&ctx.actions, &report)
}
