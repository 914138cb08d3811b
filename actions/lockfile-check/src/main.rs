//! lockfile-check: is the npm lockfile in sync with package.json and every workspace?
//! Flags: cli.rs · validation: settings.rs · the checks: shipguard::npm · evidence: report.rs

mod cli;
mod report;
mod settings;

use std::process::ExitCode;

use shipguard::exit::Code;
use shipguard::gha::{Annotation, Format, Level};
use shipguard::npm::check;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::report::Report;
use crate::settings::Settings;

/// GitHub shows 10 error annotations per step; past this many a log line per problem is
/// noise (a hostile lock can hold 100,000); `--format json` prints every one.
const MAX_ANNOTATIONS: usize = 1000;

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
    let levels = [
        (Level::Error, &report.problems),
        (Level::Warning, &report.warnings),
    ];
    let mut room = MAX_ANNOTATIONS;
    let mut unannotated = 0;
    for (level, findings) in levels {
        let shown = findings.len().min(room);
        room -= shown;
        unannotated += findings.len() - shown;
        for finding in &findings[..shown] {
            let file = ctx
                .actions
                .workspace_path(&settings.path.join(&finding.file));
            let mut annotation = Annotation::new(level, finding.code, finding.line_text());
            if let Some(line) = finding.line {
                annotation = annotation.at(file, line, None);
            }
            ctx.actions.annotate(annotation);
        }
    }
    if unannotated > 0 {
        ctx.actions.annotate(Annotation::new(
            Level::Notice,
            "lockfile-check",
            format!(
                "{unannotated} more findings are not annotated one by one; `lockfile-check --format json` lists them all"
            ),
        ));
    }
    for note in &report.notes {
        ctx.actions.annotate(Annotation::new(
            Level::Notice,
            "lockfile-check",
            note.clone(),
        ));
    }
    // The `report` output must fit in the next step's environment; stdout has no such limit,
    // so `--format json` prints every finding.
    let json = shipguard::bounded::to_json(&report, shipguard::bounded::REPORT_BUDGET)?;
    ctx.actions.set_outputs(&[
        ("in-sync", report.in_sync.to_string()),
        ("problems", report.problems.len().to_string()),
        ("report", json),
    ])?;
    ctx.actions.write_summary(&report.summary())?;
    match ctx.actions.format() {
        Format::Json => ctx.actions.print_json(&serde_json::to_string(&report)?)?,
        Format::Human | Format::Github => ctx.actions.print(&report.verdict_line())?,
    }
    Ok(if report.in_sync {
        Code::Success
    } else {
        Code::Negative
    })
}
