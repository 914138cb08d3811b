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
/// noise (a hostile lock can hold 100,000), and the report holds every one.
const MAX_ANNOTATIONS: usize = 1000;

fn main() -> ExitCode {
    tool::main("lockfile-check", env!("CARGO_PKG_VERSION"), run)
}

async fn run(cli: Cli, ctx: &mut Context) -> anyhow::Result<Code> {
    let settings = Settings::resolve(cli, ctx)?;
    let outcome = check::run(&settings.path, &settings.options)?;
    let report = Report::new(
        ctx.version,
        settings.options.strict,
        settings.path.display().to_string(),
        outcome,
    );
    let annotated = report.problems.len().min(MAX_ANNOTATIONS);
    for finding in &report.problems[..annotated] {
        let file = ctx
            .actions
            .workspace_path(&settings.path.join(&finding.file));
        let mut annotation = Annotation::new(Level::Error, finding.code, finding.line_text());
        if let Some(line) = finding.line {
            annotation = annotation.at(file, line, None);
        }
        ctx.actions.annotate(annotation);
    }
    if annotated < report.problems.len() {
        ctx.actions.annotate(Annotation::new(
            Level::Notice,
            "lockfile-check",
            format!(
                "{} more problems are not annotated one by one; the `report` output lists all {}",
                report.problems.len() - annotated,
                report.problems.len()
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
    let json = shipguard::bounded::to_json(&report, shipguard::bounded::REPORT_BUDGET)?;
    ctx.actions.set_outputs(&[
        ("in-sync", report.in_sync.to_string()),
        ("problems", report.problems.len().to_string()),
        ("report", json.clone()),
    ])?;
    ctx.actions.write_summary(&report.summary())?;
    match ctx.actions.format() {
        Format::Json => ctx.actions.print_json(&json)?,
        Format::Human | Format::Github => ctx.actions.print(&report.verdict_line())?,
    }
    Ok(if report.in_sync {
        Code::Success
    } else {
        Code::Negative
    })
}
