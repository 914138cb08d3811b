//! auto-rollback: probe the app; when it is unhealthy, find the newest good version (failing
//! closed), redeploy it through Coolify, verify it, record it on GitHub and alert.
//! Flags: cli.rs · validation: settings.rs · image tags: template.rs · GitHub history:
//! history.rs · choices: decide.rs · the rollback itself: rollback.rs · evidence: report.rs ·
//! Slack: alert.rs

mod alert;
mod cli;
mod decide;
mod history;
mod report;
mod rollback;
mod settings;
mod template;

use std::process::ExitCode;

use shipguard::exit::Code;
use shipguard::gha::{Annotation, Format, Level};
use shipguard::http::RetryPolicy;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::report::{Reason, Report};
use crate::settings::Settings;

fn main() -> ExitCode {
    tool::main("auto-rollback", env!("CARGO_PKG_VERSION"), run)
}

async fn run(cli: Cli, ctx: &mut Context) -> anyhow::Result<Code> {
    let settings = Settings::resolve(cli, ctx)?;
    let mut report = Report::new(ctx.version, &settings.environment, settings.dry_run);
    rollback::run(&settings, ctx, &mut report).await?;
    let alert_worthy = report.rolled_back || report.reason.still_unhealthy();
    if alert_worthy
        && !settings.dry_run
        && let Some(webhook) = &settings.slack_webhook
    {
        let policy = RetryPolicy::new(&ctx.env);
        alert::send(
            &settings.http,
            &policy,
            webhook,
            &report,
            settings.run_url.as_deref(),
            &ctx.actions,
        )
        .await;
    }
    let json = shipguard::bounded::to_json(&report, shipguard::bounded::REPORT_BUDGET)?;
    ctx.actions.set_outputs(&report.outputs(&json))?;
    ctx.actions.write_summary(&report.summary())?;
    if report.reason.still_unhealthy() {
        ctx.actions.annotate(Annotation::new(
            Level::Error,
            format!("rollback-{}", report.reason.as_str()),
            report.message.clone(),
        ));
    }
    match ctx.actions.format() {
        Format::Json => println!("{}", ctx.actions.scrub(&json)),
        Format::Human | Format::Github => println!("{}", ctx.actions.scrub(&report.message)),
    }
    let failed = report.reason.still_unhealthy()
        || (report.reason == Reason::RolledBack && settings.fail_on_rollback);
    Ok(if failed {
        Code::Negative
    } else {
        Code::Success
    })
}
