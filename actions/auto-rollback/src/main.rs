//! auto-rollback: probe the app; when it is unhealthy, find the newest good version (failing
//! closed), redeploy it through its platform (Coolify, Fly), verify it, record it on GitHub
//! and alert.
//! Flags: cli.rs · validation: settings.rs · the run, phase by phase: rollback.rs (analysis.rs,
//! guards.rs, target.rs, record.rs, redeploy.rs, verify.rs) · platforms: platforms.rs ·
//! versions and commits: versions.rs, template.rs, image_template.rs · GitHub history:
//! history.rs · choices: decide.rs · evidence: report.rs · Slack: alert.rs

mod alert;
mod analysis;
mod cli;
mod decide;
mod guards;
mod history;
mod image_template;
mod platforms;
mod record;
mod redeploy;
mod report;
mod rollback;
mod settings;
mod target;
mod template;
mod verify;
mod versions;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use shipguard::exit::Code;
use shipguard::gha::{Annotation, Level};
use shipguard::http::RetryPolicy;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::report::{Reason, Report};
use crate::settings::Settings;

/// The alert after the deadline (or an error) gets this long on its own.
const ALERT_GRACE: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    tool::main("auto-rollback", env!("CARGO_PKG_VERSION"), run)
}

async fn run(cli: Cli, ctx: &mut Context) -> anyhow::Result<Code> {
    let settings = Settings::resolve(cli, ctx)?;
    let deadline = Instant::now() + settings.timeout;
    let mut report = Report::new(ctx.version, &settings.environment, settings.dry_run);
    // One absolute deadline over every phase; whatever happens after the analysis, the
    // outputs, the summary and the alert are still written.
    // The phases keep `deadline` themselves; the outer timer is only a backstop, late enough
    // for a deploy that timed out to be cancelled within its grace period.
    // A git-based app's commit pin (Coolify 4.2.x) is put back after that, within its own
    // grace period: the backstop waits for it too.
    let backstop = deadline
        + shipguard::platform::grace::CANCEL_GRACE
        + shipguard::platform::grace::RESTORE_GRACE
        + Duration::from_secs(5);
    let outcome = tokio::time::timeout_at(
        backstop.into(),
        rollback::run(&settings, ctx, &mut report, deadline),
    )
    .await;
    // A request cut short by the deadline fails a moment before the outer timer fires: that
    // is the same timeout outcome, not an operational error. A change left to undo by hand
    // is never that: it stays the error it is, in report.message, exit 3.
    let outcome = match outcome {
        Ok(Err(err))
            if !shipguard::exit::is_left_changed(&err)
                && (Instant::now() >= deadline || shipguard::http::is_deadline(&err)) =>
        {
            None
        }
        other => Some(other),
    };
    let error = match outcome {
        Some(Ok(Ok(()))) => None,
        Some(Ok(Err(err))) => {
            let line = ctx
                .actions
                .scrub(&format!("{err:#}"))
                .replace(['\r', '\n'], " ");
            report.end(
                Reason::Error,
                format!("could not roll back while {}: {line}", report.phase),
            );
            Some(err)
        }
        Some(Err(_)) | None => {
            let done = if report.rolled_back {
                "the rollback was deployed but not verified"
            } else {
                "nothing was deployed by this run unless the redeploy had started"
            };
            report.end(
                Reason::Timeout,
                format!(
                    "the {} timeout passed while {}; {done}",
                    shipguard::duration::human(settings.timeout),
                    report.phase
                ),
            );
            if let Some(id) = report.github_deployment_id {
                rollback::abandon(&settings, ctx, id).await;
            }
            None
        }
    };
    // An interrupted run alerts only when it had started to change something.
    let interrupted_midway = report.reason == Reason::Interrupted
        && (report.github_deployment_id.is_some()
            || report.deploy.is_some()
            || report.fly_deploy.is_some()
            || report.railway.is_some());
    let alert_worthy = report.rolled_back || report.reason.still_unhealthy() || interrupted_midway;
    if alert_worthy
        && !settings.dry_run
        && let Some(webhook) = &settings.slack_webhook
    {
        let policy = RetryPolicy {
            deadline: std::time::Instant::now() + ALERT_GRACE,
            ..RetryPolicy::new(&ctx.env)
        };
        let sent = alert::send(
            &settings.http,
            &policy,
            webhook,
            &report,
            settings.run_url.as_deref(),
            &ctx.actions,
        );
        // After a signal, within its cleanup budget.
        let sent = shipguard::interrupt::within_cleanup(tokio::time::timeout(ALERT_GRACE, sent));
        if !matches!(sent.await, Some(Ok(()))) {
            ctx.actions.annotate(Annotation::new(
                Level::Warning,
                shipguard::codes::Slack::SlackFailed,
                format!(
                    "the Slack alert was not sent within {}",
                    shipguard::duration::human(ALERT_GRACE)
                ),
            ));
        }
    }
    let ending = report::Ending {
        report: &report,
        fail_on_rollback: settings.fail_on_rollback,
    };
    if let Some(err) = error {
        // The evidence is written; tool::main prints the one `error:` line and its
        // annotation, and exits 2 or 3.
        shipguard::ending::record(&ctx.actions, &ending)?;
        return Err(err);
    }
    shipguard::ending::end(&ctx.actions, &ending)
}
