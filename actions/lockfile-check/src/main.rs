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
    for (level, findings) in levels {
        for finding in findings {
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
    for note in &report.notes {
        ctx.actions.annotate(Annotation::new(
            Level::Notice,
            "lockfile-check",
            note.clone(),
        ));
    }
    let json = serde_json::to_string(&report)?;
    ctx.actions.set_outputs(&[
        ("in-sync", report.in_sync.to_string()),
        ("problems", report.problems.len().to_string()),
        ("report", json.clone()),
    ])?;
    ctx.actions.write_summary(&report.summary())?;
    match ctx.actions.format() {
        Format::Json => println!("{json}"),
        Format::Human | Format::Github => println!("{}", report.verdict_line()),
    }
    Ok(if report.in_sync {
        Code::Success
    } else {
        Code::Negative
    })
}
