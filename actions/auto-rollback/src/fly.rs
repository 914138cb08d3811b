//! platform fly: the same run as rollback.rs after the analysis (guards, target failing
//! closed, dry run, GitHub record, verification), with Fly in Coolify's place: what runs now
//! is the image of the app's started machines, mapped to a commit by `image-template`; a
//! held lease or machines on different images mean a deploy is under way; the redeploy is
//! fly-deploy's algorithm (shipguard::fly::rollout), restore on failure included.

use std::time::{Duration, Instant};

use shipguard::commit::{CommitRef, CommitSha};
use shipguard::coolify::ImageTag;
use shipguard::fly::client::shown;
use shipguard::fly::{self, Outcome};
use shipguard::github::GitHub;
use shipguard::http::RetryPolicy;
use shipguard::redact::safe_url;
use shipguard::tool::Context;

use crate::decide;
use crate::history;
use crate::report::{Reason, Report};
use crate::rollback::{Chosen, finish_record, interrupted, probe, record, short};
use crate::settings::{FlyTarget, Settings, Source};

/// Only the `app` process group is rolled back (fly-deploy's default).
const GROUP: &str = "app";

pub async fn run(
    settings: &Settings,
    target: &FlyTarget,
    ctx: &Context,
    report: &mut Report,
    deadline: Instant,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let at = || started.elapsed().as_secs_f64();
    let left = || deadline.saturating_duration_since(Instant::now());
    let actions = &ctx.actions;
    let manual = match &settings.source {
        Source::Manual(manual) => Some(manual.clone()),
        _ => None,
    };

    // What runs now, and the guards Fly can answer: a held lease, mixed images.
    report.phase = "reading Fly";
    let policy = RetryPolicy {
        deadline: Instant::now() + settings.deploy_timeout.min(left()),
        ..RetryPolicy::new(&ctx.env)
    };
    let client = fly::Client::new(
        settings.http.clone(),
        &target.api,
        target.token.clone(),
        policy,
    );
    actions.log(&format!("Fly Machines API at {}", safe_url(client.api())));
    let mut running: Option<String> = None;
    for app in &settings.apps {
        let machines = client.list(app).await?;
        let deployable: Vec<_> = machines.iter().filter(|m| m.is_deployable(GROUP)).collect();
        if let Some(leased) = deployable
            .iter()
            .find(|m| m.nonce.as_deref().is_some_and(|n| !n.is_empty()))
        {
            report.end(
                Reason::DeploymentInProgress,
                format!(
                    "unhealthy, but machine {} of app {} is leased (a deploy or `fly` command is under way): not rolling back over it",
                    shown(&leased.id),
                    shown(app)
                ),
            );
            return Ok(());
        }
        let mut images: Vec<String> = deployable
            .iter()
            .filter(|m| m.launches())
            .filter_map(|m| m.config_image().map(str::to_owned))
            .collect();
        images.sort();
        images.dedup();
        if images.len() > 1 {
            report.end(
                Reason::DeploymentInProgress,
                format!(
                    "unhealthy, but the started machines of app {} run {} different images ({}): a deploy is under way or left them mixed; not rolling back over it",
                    shown(app),
                    images.len(),
                    images.iter().map(|i| shown(i)).collect::<Vec<_>>().join(", ")
                ),
            );
            return Ok(());
        }
        if app == &settings.apps[0] {
            running = images.pop();
        }
    }
    let Some(running) = running else {
        report.end(
            Reason::UnknownRunningVersion,
            format!(
                "unhealthy, but app {} has no started machine in process group {GROUP}; nothing was deployed",
                settings.apps[0]
            ),
        );
        return Ok(());
    };
    report.from_tag = Some(running.clone());
    report.from_sha = target
        .template
        .commit_of(&running, &settings.branch, &settings.apps[0]);
    if report.from_sha.is_none() && manual.is_none() {
        report.end(
            Reason::UnknownRunningVersion,
            format!(
                "unhealthy, but the image {} of app {} does not map to a commit through `image-template` ({}): set it to how your images are named, or roll back by hand with `to: <commit sha>`; nothing was deployed",
                shown(&running),
                settings.apps[0],
                target.template.as_str()
            ),
        );
        return Ok(());
    }

    let github = match &settings.github {
        Some(access) => Some(
            GitHub::new(access, &ctx.user_agent(), RetryPolicy::new(&ctx.env))?
                .with_deadline(deadline),
        ),
        None => None,
    };
    if let (Some(workflow), Some(gh)) = (&settings.deploy_workflow, &github) {
        report.phase = "checking the deploy workflow";
        let unfinished = gh.unfinished_runs(workflow, settings.run_id).await?;
        if let Some(run) = unfinished.first() {
            report.end(
                Reason::DeploymentInProgress,
                format!(
                    "unhealthy, but run #{} of {workflow} is {} ({} unfinished run(s) in all): not rolling back while a deploy may be under way; nothing was deployed",
                    run.run_number,
                    run.status,
                    unfinished.len()
                ),
            );
            return Ok(());
        }
    }
    report.phase = "reading GitHub history";
    let rollbacks = match &github {
        Some(gh) => history::rollbacks(gh, &settings.environment).await?,
        None => Vec::new(),
    };
    if manual.is_none()
        && let Some(recent) = decide::in_cooldown(&rollbacks, settings.cooldown)
    {
        report.end(
            Reason::Cooldown,
            format!(
                "unhealthy, but a rollback ({} → {}) happened inside the {} cooldown: not rolling back again",
                short(recent.from_sha.as_ref().map(CommitRef::as_str)),
                short(recent.to_sha.as_ref().map(CommitRef::as_str)),
                shipguard::duration::human(settings.cooldown)
            ),
        );
        return Ok(());
    }

    // Target, failing closed.
    let found = match (&settings.source, &github) {
        (Source::WorkflowRuns { workflow }, Some(gh)) => {
            let repository = settings
                .github
                .as_ref()
                .map(|a| a.repository.as_str())
                .unwrap_or_default();
            history::from_runs(gh, workflow, repository, &settings.branch).await?
        }
        (Source::Deployments, Some(gh)) => {
            history::from_deployments(gh, &settings.environment).await?
        }
        _ => history::Found::default(),
    };
    report.not_candidates = found.rejected.clone();
    report.not_candidates_total = found.rejected_total;
    let (commit, evidence) = match manual {
        Some(manual) => {
            let sha = CommitSha::parse(manual.commit.as_str()).map_err(|_| {
                shipguard::env::invalid(
                    "to",
                    "on platform fly give the full 40-digit commit SHA; its image comes from `image-template`",
                )
            })?;
            (sha, "chosen by hand (`to`)".to_owned())
        }
        None => match decide::choose(&found.candidates, report.from_sha.as_deref(), &rollbacks) {
            Ok(candidate) => (candidate.sha.clone(), candidate.evidence.clone()),
            Err(why) => {
                report.end(
                    Reason::NoTarget,
                    format!("unhealthy, and nothing to roll back to: {why}; nothing was deployed"),
                );
                return Ok(());
            }
        },
    };
    let images: Vec<(String, String)> = settings
        .apps
        .iter()
        .map(|app| {
            (
                app.clone(),
                target.template.render(&commit, &settings.branch, app),
            )
        })
        .collect();
    let first_image = images[0].1.clone();
    let running_name = running.split_once('@').map_or(running.as_str(), |(n, _)| n);
    if running_name == first_image {
        report.end(
            Reason::NoTarget,
            format!(
                "unhealthy, and the target {first_image} is what runs now; nothing was deployed"
            ),
        );
        return Ok(());
    }
    report.to_sha = Some(commit.to_string());
    report.to_tag = Some(first_image.clone());
    report.target_evidence = Some(evidence.clone());

    if settings.dry_run {
        report.end(
            Reason::DryRun,
            format!(
                "dry run: would roll back {} from {} to {} ({evidence})",
                settings.apps.join(", "),
                report.from(),
                report.to()
            ),
        );
        return Ok(());
    }
    if interrupted(report, "before the rollback; nothing was deployed") {
        return Ok(());
    }
    report.phase = "recording on GitHub";
    let chosen = Chosen {
        commit: CommitRef::from(&commit),
        // A full commit SHA is a valid image tag; the record names the commit.
        tag: ImageTag::parse(commit.as_str()).map_err(anyhow::Error::msg)?,
        evidence: evidence.clone(),
    };
    let record_id = match &github {
        Some(gh) => Some(record(gh, settings, report, &chosen, actions).await?),
        None => None,
    };
    report.github_deployment_id = record_id;
    actions.log(&format!(
        "rolling back {} from {} to {} ({evidence})",
        settings.apps.join(", "),
        report.from(),
        report.to()
    ));

    // Redeploy: fly-deploy's algorithm, one app after the other.
    report.phase = "redeploy";
    let t0 = at();
    let log = |line: &str| actions.log(line);
    let mut total: Option<fly::Rollout> = None;
    {
        let _group = actions.group("Redeploying");
        for (app, image) in &images {
            let budget = settings.deploy_timeout.min(left());
            let plan = fly::Plan {
                apps: vec![app.clone()],
                image: image.clone(),
                process_group: GROUP.to_owned(),
                wait_timeout: budget,
                timeout: budget,
                restore_on_failure: true,
                poll_interval: settings.poll_interval,
                // main.rs's backstop ends the run at `deadline` plus the Coolify grace periods:
                // a restore after a failed redeploy ends before it.
                restore_until: Some(
                    deadline
                        + shipguard::platform::grace::CANCEL_GRACE
                        + shipguard::platform::grace::RESTORE_GRACE,
                ),
                max_unavailable: 1,
                lease_ttl: Duration::from_secs(30),
            };
            let client = client.until(Instant::now() + budget);
            let rollout = match fly::rollout::run(&client, &plan, &log).await {
                Ok(rollout) => rollout,
                Err(err) => {
                    finish_record(
                        &github,
                        record_id,
                        "error",
                        "the rollback could not deploy",
                        actions,
                    )
                    .await;
                    return Err(err);
                }
            };
            let done = rollout.status == Outcome::Finished;
            total = Some(match total.take() {
                None => rollout,
                Some(mut sum) => {
                    sum.status = rollout.status;
                    sum.reason = rollout.reason;
                    sum.updated += rollout.updated;
                    sum.mixed |= rollout.mixed;
                    sum.seconds += rollout.seconds;
                    sum.apps.extend(rollout.apps);
                    sum
                }
            });
            if !done {
                break;
            }
        }
    }
    report.phases.push(("redeploy".into(), t0, at()));
    let deployed = total.as_ref().map_or(Outcome::Failed, |r| r.status);
    report.rolled_back = deployed == Outcome::Finished;
    report.fly_deploy = total;
    if deployed == Outcome::Interrupted {
        let why = "the rollback was interrupted";
        shipguard::interrupt::within_cleanup(finish_record(
            &github, record_id, "error", why, actions,
        ))
        .await;
        interrupted(
            report,
            "during the redeploy; the changed machines were restored (see the report)",
        );
        return Ok(());
    }
    if deployed != Outcome::Finished {
        finish_record(
            &github,
            record_id,
            "failure",
            "the rollback deployment failed",
            actions,
        )
        .await;
        report.end(
            Reason::DeployFailed,
            format!(
                "the rollback to {} did not deploy ({}); the service is still unhealthy",
                report.to(),
                deployed.as_str()
            ),
        );
        return Ok(());
    }

    // Verify, within what is left of the deadline.
    report.phase = "verification";
    let t0 = at();
    let mut verification = settings.verification.clone();
    verification.timing.timeout = verification.timing.timeout.min(left());
    let results = probe(ctx, &verification, &settings.urls, "Verification").await;
    report.set_verification(&results);
    report.phases.push(("verification".into(), t0, at()));
    report.phase = "recording on GitHub";
    if shipguard::interrupt::received().is_some() {
        report.verified = None;
        let why = "the rollback was deployed, then interrupted before it was verified";
        shipguard::interrupt::within_cleanup(finish_record(
            &github, record_id, "error", why, actions,
        ))
        .await;
        interrupted(
            report,
            "during the verification: the rollback was deployed but not verified",
        );
        return Ok(());
    }
    if report.verified == Some(true) {
        finish_record(
            &github,
            record_id,
            "success",
            "rolled back and verified healthy",
            actions,
        )
        .await;
        report.end(
            Reason::RolledBack,
            format!(
                "rolled back from {} to {} and verified healthy",
                report.from(),
                report.to()
            ),
        );
    } else {
        finish_record(
            &github,
            record_id,
            "failure",
            "still unhealthy after the rollback",
            actions,
        )
        .await;
        report.end(
            Reason::VerificationFailed,
            format!(
                "rolled back from {} to {}, but it is still unhealthy",
                report.from(),
                report.to()
            ),
        );
    }
    Ok(())
}
