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
