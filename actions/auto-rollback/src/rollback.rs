//! One run, phase by phase, the same on every platform: analysis → what runs now and the
//! guards → target (failing closed; with `source: platform` what served before, as the
//! platform names it) → dry run stops here → record on GitHub → redeploy (or the platform's
//! own rollback) → verification and the record's final status. Every early stop ends the report with a
//! reason; errors are operational (exit 3). Every phase ends by `deadline`; main.rs stops
//! the whole run there too. The platform (Coolify, Fly, Railway) is reached only through
//! [`shipguard::platform::Platform`] (platforms.rs connects it).

use std::time::{Duration, Instant};

use shipguard::github::GitHub;
use shipguard::http::RetryPolicy;
use shipguard::platform::Platform;
use shipguard::tool::Context;

use crate::redeploy::Keep;
use crate::report::{Reason, Report};
use crate::settings::{self, Manual, Settings, Source};
use crate::{analysis, guards, platforms, record, redeploy, target, verify};

/// What every phase of one run shares.
pub struct Run<'a> {
    pub settings: &'a Settings,
    pub ctx: &'a Context,
    /// When the run started: the report's phase times count from here.
    pub started: Instant,
    /// Nothing runs past this.
    pub deadline: Instant,
    /// A version chosen by a person (`to`): no analysis, no cooldown.
    pub manual: Option<Manual>,
}

impl Run<'_> {
    /// Seconds since the run started.
    pub fn at(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// What is left until the deadline.
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

pub async fn run(
    settings: &Settings,
    ctx: &Context,
    report: &mut Report,
    deadline: Instant,
) -> anyhow::Result<()> {
    let run = Run {
        settings,
        ctx,
        started: Instant::now(),
        deadline,
        manual: match &settings.source {
            Source::Manual(manual) => Some(manual.clone()),
            _ => None,
        },
    };
    // A manual `to` skips the analysis: a person or a failed health check decided.
    if run.manual.is_none() && !analysis::analyse(&run, report).await {
        return Ok(());
    }
    match &settings.platform {
        settings::Platform::Coolify { url, token } => {
            let coolify = platforms::coolify(&run, report, url, token).await?;
            roll_back(&coolify, &run, report).await
        }
        settings::Platform::Fly(fly) => {
            let fly = platforms::fly(&run, report, fly);
            roll_back(&fly, &run, report).await
        }
        settings::Platform::Railway(target) => {
            let railway = platforms::railway(&run, report, target);
            roll_back(&railway, &run, report).await
        }
    }
}

/// Everything after the analysis, on any platform.
async fn roll_back<P: Platform>(
    platform: &P,
    run: &Run<'_>,
    report: &mut Report,
) -> anyhow::Result<()>
where
    P::Evidence: Keep,
{
    let Some(running) = guards::running(platform, run, report).await? else {
        return Ok(());
    };
    let github = github(run)?;
    let Some(rollbacks) = guards::history(run, github.as_ref(), report).await? else {
        return Ok(());
    };
    // `source: platform`: the platform names what served before and brings it back itself.
    let target = match run.settings.source {
        Source::Platform => target::previous(platform, run, github.as_ref(), report).await?,
        _ => target::choose(platform, run, github.as_ref(), &running, &rollbacks, report).await?,
    };
    let Some(target) = target else {
        return Ok(());
    };
    if run.settings.dry_run {
        report.end(
            Reason::DryRun,
            format!(
                "dry run: would roll back {} from {} to {} ({})",
                run.settings.apps.join(", "),
                report.from(),
                report.to(),
                target.evidence
            ),
        );
        return Ok(());
    }
    // Record first, so a concurrent or later run sees this rollback (cooldown, exclusions).
    // Nothing has changed yet: a signal that came while reading stops the run here.
    if interrupted(report, "before the rollback; nothing was deployed") {
        return Ok(());
    }
    let recorder = record::open(run, github, report).await?;
    run.ctx.actions.log(&format!(
        "rolling back {} from {} to {} ({})",
        run.settings.apps.join(", "),
        report.from(),
        report.to(),
        target.evidence
    ));
    if !redeploy::redeploy(platform, run, &target.to, recorder.as_ref(), report).await? {
        return Ok(());
    }
    verify::verify(run, recorder.as_ref(), report).await;
    Ok(())
}

/// The GitHub client of the run, when it has GitHub access.
fn github(run: &Run<'_>) -> anyhow::Result<Option<GitHub>> {
    Ok(match &run.settings.github {
        Some(access) => Some(
            GitHub::new(
                access,
                &run.ctx.user_agent(),
                RetryPolicy::new(&run.ctx.env),
            )?
            .with_deadline(run.deadline),
        ),
        None => None,
    })
}

/// Ends the report when a signal came; true then. `after` says what the run got to.
pub(crate) fn interrupted(report: &mut Report, after: &str) -> bool {
    let Some(received) = shipguard::interrupt::received() else {
        return false;
    };
    report.end(
        Reason::Interrupted,
        format!("{} {after}", received.describe()),
    );
    true
}

/// After the deadline passed mid-rollback: the record says `error` (within 10 s).
pub async fn abandon(settings: &Settings, ctx: &Context, id: u64) {
    record::abandon(settings, ctx, id).await;
}
