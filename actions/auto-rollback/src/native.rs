//! `source: platform` (Railway): the target is the deployment that served before the one
//! running now, and the platform brings it back itself (`deploymentRollback`, which restores
//! its image and variables; a redeploy when it is outside the image retention window, said
//! in the report and the log). Every other phase is the shared flow's: the guards (what
//! runs, a deploy under way, the cooldown), the dry run, the GitHub record, the verification.
//! See shipguard::railway::rollback for how the target is found.

use std::time::Duration;

use shipguard::platform::{Platform, Version};
use shipguard::railway::deploy::Outcome;
use shipguard::railway::platform::Railway;
use shipguard::railway::rollback::{self, Method};

use crate::report::{Reason, Report};
use crate::rollback::{Run, github, interrupted};
use crate::versions::Versions;
use crate::{guards, record, verify};

pub async fn roll_back(
    platform: &Railway,
    run: &Run<'_>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let Some(_running) = guards::running(platform, run, report).await? else {
        return Ok(());
    };
    let github = github(run)?;
    if guards::history(run, github.as_ref(), report)
        .await?
        .is_none()
    {
        return Ok(());
    }
    let settings = run.settings;
    let first = &settings.apps[0];
    report.phase = "choosing the target";
    let list = platform
        .client()
        .deployments(
            &platform.project,
            &platform.environment,
            first,
            shipguard::railway::deploy::HISTORY,
        )
        .await?;
    let Some((current, Some(target))) = rollback::current_and_target(&list) else {
        report.end(
            Reason::NoTarget,
            format!(
                "unhealthy, and service {first} has no earlier deployment that served (SUCCESS or REMOVED) among its newest {}; nothing was deployed",
                shipguard::railway::deploy::HISTORY
            ),
        );
        return Ok(());
    };
    let versions = Versions::of(settings);
    let commit_of = |d: &shipguard::railway::Deployment| {
        d.commit().or_else(|| {
            d.image()
                .and_then(|image| versions.commit_of(&Version::Image(image), first))
        })
    };
    report.from_sha = report.from_sha.clone().or_else(|| commit_of(current));
    report.to_tag = target.image();
    report.to_sha = commit_of(target);
    report.target_evidence = Some(format!(
        "the deployment that served before ({}, {}{})",
        target.id,
        target.status.as_str(),
        if target.can_rollback {
            ", image retained: deploymentRollback"
        } else {
            ", outside the image retention window: redeploy"
        }
    ));
    if report.to_sha.is_none() && github.is_some() {
        report.end(
            Reason::NoTarget,
            format!(
                "unhealthy, but the target deployment {} names no commit (meta.commitHash) and its image does not map to one through `image-template`: the rollback cannot be recorded on GitHub; set `image-template`; nothing was deployed",
                target.id
            ),
        );
        return Ok(());
    }
    if settings.dry_run {
        report.end(
            Reason::DryRun,
            format!(
                "dry run: would roll back {} from {} to {} ({})",
                settings.apps.join(", "),
                report.from(),
                report.to(),
                report.target_evidence.clone().unwrap_or_default()
            ),
        );
        return Ok(());
    }
    if interrupted(report, "before the rollback; nothing was deployed") {
        return Ok(());
    }
    let recorder = record::open(run, github, report).await?;
    report.phase = "redeploy";
    let t0 = run.at();
    let actions = &run.ctx.actions;
    let log = |line: &str| actions.log(line);
    let mut rolled = Vec::new();
    let mut outcome = Outcome::Success;
    let mut reason = None;
    {
        let _group = actions.group("Rolling back on Railway");
        for app in &settings.apps {
            let timeout: Duration = settings.deploy_timeout.min(run.left());
            let done = rollback::to_previous(
                platform.client(),
                &platform.project,
                &platform.environment,
                app,
                settings.poll_interval,
                timeout,
                true,
                &log,
            )
            .await;
            let done = match done {
                Ok(done) => done,
                Err(err) => {
                    record::close(
                        recorder.as_ref(),
                        "error",
                        "the rollback could not deploy",
                        run.ctx,
                    )
                    .await;
                    report.railway =
                        Some(shipguard::report::auto_rollback::Railway::Rollbacks(rolled));
                    return Err(err);
                }
            };
            if done.method == Method::Redeploy {
                actions.annotate(shipguard::gha::Annotation::new(
                    shipguard::gha::Level::Warning,
                    shipguard::codes::Railway::RailwayRedeploy.as_str(),
                    done.note.clone().unwrap_or_default(),
                ));
            }
            outcome = done.run.status;
            reason = done.run.reason.clone();
            rolled.push(done);
            if outcome != Outcome::Success {
                break;
            }
        }
    }
    report.railway = Some(shipguard::report::auto_rollback::Railway::Rollbacks(rolled));
    report.phases.push(("redeploy".into(), t0, run.at()));
    report.rolled_back = outcome == Outcome::Success;
    match outcome {
        Outcome::Success => {}
        Outcome::Interrupted => {
            record::close(
                recorder.as_ref(),
                "error",
                "the rollback was interrupted",
                run.ctx,
            )
            .await;
            interrupted(
                report,
                &format!(
                    "during the redeploy; {} (see the report)",
                    Railway::ON_SIGNAL
                ),
            );
            return Ok(());
        }
        other => {
            record::close(
                recorder.as_ref(),
                "failure",
                "the rollback deployment failed",
                run.ctx,
            )
            .await;
            report.end(
                Reason::DeployFailed,
                format!(
                    "the rollback to {} did not deploy ({}: {}); the service is still unhealthy",
                    report.to(),
                    other.as_str(),
                    reason.unwrap_or_default()
                ),
            );
            return Ok(());
        }
    }
    verify::verify(run, recorder.as_ref(), report).await;
    Ok(())
}
