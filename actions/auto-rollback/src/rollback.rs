//! One run, in order: analysis → what runs now → guards (deployment in progress, cooldown)
//! → target (failing closed) → dry run stops here → record on GitHub → redeploy → verify.
//! Every early stop ends the report with a reason; errors are operational (exit 3). Every
//! phase ends by `deadline`; main.rs stops the whole run there too.

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use shipguard::commit::{CommitRef, CommitSha};
use shipguard::coolify::git::{self, AppKind};
use shipguard::coolify::{self, Client, Feature, ImageTag, Outcome, Plan, Target};
use shipguard::gha::{Annotation, Level};
use shipguard::github::{GitHub, NewDeployment};
use shipguard::http::RetryPolicy;
use shipguard::probe::{Attempt, Observer, Probe, UrlResult};
use shipguard::redact::safe_url;
use shipguard::tool::Context;
use url::Url;

use crate::decide;
use crate::history::{self, ROLLBACK_KIND};
use crate::report::{Reason, Report};
use crate::settings::{Platform, Settings, Source};

pub async fn run(
    settings: &Settings,
    ctx: &Context,
    report: &mut Report,
    deadline: Instant,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let at = || started.elapsed().as_secs_f64();
    let left = || deadline.saturating_duration_since(Instant::now());
    let actions = &ctx.actions;

    // 1. Analysis (skipped for a manual `to`: a person or a failed health check decided).
    let manual = match &settings.source {
        Source::Manual(manual) => Some(manual.clone()),
        _ => None,
    };
    if manual.is_none() {
        report.phase = "analysis";
        let t0 = at();
        let probed = probe(ctx, &settings.analysis, &settings.urls, "Analysis");
        match settings.metrics.clone() {
            None => report.set_analysis(&probed.await),
            Some(run) => {
                // The checks are measured `failure-threshold` times at `interval`, next to the
                // probes (which may settle sooner).
                let timing = &settings.analysis.timing;
                let measurements = timing.failure_threshold.unwrap_or(1);
                let end = Instant::now()
                    + timing.interval.saturating_mul(measurements)
                    + timing.interval / 2;
                let (results, metrics) = tokio::join!(probed, run.measure_until(end.min(deadline)));
                report.set_analysis(&results);
                report.set_metrics(metrics);
            }
        }
        report.phases.push(("analysis".into(), t0, at()));
        if report.metrics_inconclusive() && shipguard::interrupt::received().is_none() {
            let why = report
                .metrics
                .as_ref()
                .and_then(|m| m.reason.clone())
                .unwrap_or_default();
            report.healthy_before = None;
            report.end(
                Reason::Inconclusive,
                format!("inconclusive: {why}; nothing was rolled back, a person must look"),
            );
            return Ok(());
        }
        if report.healthy_before == Some(true) {
            report.end(Reason::Healthy, "healthy: nothing to do");
            return Ok(());
        }
        if interrupted(report, "during the analysis; nothing was deployed") {
            // Probing was cut short: neither healthy nor unhealthy is known.
            report.healthy_before = None;
            return Ok(());
        }
        actions.log(&format!(
            "unhealthy: {}",
            report.failing_checks().join("; ")
        ));
    }

    // 2. What runs now: a valid image tag, and the commit the template says it was built from.
    let (coolify_url, coolify_token) = match &settings.platform {
        Platform::Coolify { url, token } => (url, token),
        Platform::Fly(fly) => return crate::fly::run(settings, fly, ctx, report, deadline).await,
    };
    report.phase = "reading Coolify";
    let mut client = Client::new(
        settings.http.clone(),
        coolify_url,
        coolify_token.clone(),
        RetryPolicy {
            // A full deploy queue answers `Retry-After: 60`: wait within the deploy budget.
            deadline: std::time::Instant::now() + settings.deploy_timeout.min(left()),
            ..RetryPolicy::new(&ctx.env)
        },
    );
    let server = client.version().await?;
    actions.log(&format!("Coolify {server} at {}", safe_url(client.base())));
    // An unreadable version warns and the run goes on as on the newest Coolify.
    if let Some(warning) = server.warning() {
        actions.annotate(warning);
    }
    let app = client.application(&settings.apps[0]).await?;
    // A git-based app runs a commit, not an image tag (git.rs): what runs now is the commit
    // of its newest finished non-PR deployment, and the target is deployed by commit.
    let git_app = AppKind::of(&app).map_err(anyhow::Error::msg)?.is_git();
    let raw_tag = app
        .docker_registry_image_tag
        .map(shipguard::gha::Untrusted::into_raw)
        .unwrap_or_default();
    let running_tag = ImageTag::parse(&raw_tag).ok().filter(|_| !git_app);
    let running_commit = if git_app {
        git::running_commit(&client, &settings.apps[0], RUNNING_LOOKBACK).await?
    } else {
        None
    };
    report.from_tag = running_tag.as_ref().map(ToString::to_string);
    report.from_sha = match &running_commit {
        Some(commit) => Some(commit.to_string()),
        None => running_tag
            .as_ref()
            .and_then(|t| settings.template.commit_of(t.as_str(), &settings.branch)),
    };

    // 3. Guards.
    for app in &settings.apps {
        if let Some(active) = client.active_deployment(app).await? {
            report.end(
                Reason::DeploymentInProgress,
                format!(
                    "unhealthy, but deployment {} of app {app} is {}: not rolling back over it",
                    active.deployment_uuid,
                    active.status.as_str()
                ),
            );
            return Ok(());
        }
    }
    // Never guess what runs now: a rollback record always names where it came from.
    if git_app && report.from_sha.is_none() {
        report.end(
            Reason::UnknownRunningVersion,
            format!(
                "unhealthy, but none of the last {RUNNING_LOOKBACK} deployments of git-based app {} finished with a known commit, so what runs now is unknown; deploy a commit with coolify-deploy (`commit`) first; nothing was deployed",
                settings.apps[0]
            ),
        );
        return Ok(());
    }
    if report.from_sha.is_none() && (manual.is_none() || running_tag.is_none()) {
        let shown: String = raw_tag.chars().take(140).collect();
        let fix = if running_tag.is_some() {
            format!(
                "set `image-tag-template` to how your images are tagged (now {:?}, which would make e.g. {:?}), or roll back by hand with `to: <commit sha>`",
                settings.template.as_str(),
                sample_tag(settings)
            )
        } else {
            "deploy a commit's image tag with coolify-deploy (`image-tag`) so the running version is known".to_owned()
        };
        report.end(
            Reason::UnknownRunningVersion,
            format!(
                "unhealthy, but the image tag {shown:?} of app {} does not map to a commit through `image-tag-template`: {fix}; nothing was deployed",
                settings.apps[0]
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
        // Fail closed: an error here is an error of the run (exit 3), never "no deploy".
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
        let when = match recent.age.known() {
            Some(age) => format!("{} ago", shipguard::duration::human(age)),
            None => "at a time that is in the future or unreadable (counted as recent)".to_owned(),
        };
        report.end(
            Reason::Cooldown,
            format!(
                "unhealthy, but a rollback ({} → {}) happened {when}, inside the {} cooldown: not rolling back again",
                short(recent.from_sha.as_ref().map(CommitRef::as_str)),
                short(recent.to_sha.as_ref().map(CommitRef::as_str)),
                shipguard::duration::human(settings.cooldown)
            ),
        );
        return Ok(());
    }

    // 4. Target, failing closed.
    let found = match (&settings.source, &github) {
        (Source::Manual(_), _) => history::Found::default(),
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
        // Settings require GitHub for every source but a manual one.
        (_, None) => history::Found::default(),
    };
    report.not_candidates = found.rejected.clone();
    report.not_candidates_total = found.rejected_total;
    let chosen = match manual {
        Some(manual) => Chosen {
            commit: manual.commit,
            tag: manual.tag,
            evidence: "chosen by hand (`to`)".to_owned(),
        },
        None => match decide::choose(&found.candidates, report.from_sha.as_deref(), &rollbacks) {
            Ok(candidate) => Chosen {
                commit: CommitRef::from(&candidate.sha),
                tag: settings
                    .template
                    .render(&candidate.sha, &settings.branch)
                    .map_err(|why| shipguard::env::invalid("image-tag-template", &why))?,
                evidence: candidate.evidence.clone(),
            },
            Err(why) => {
                let passed_over = match found.rejected_total {
                    0 => String::new(),
                    n => format!(" ({n} history entries were not candidates; see the report)"),
                };
                report.end(
                    Reason::NoTarget,
                    format!(
                        "unhealthy, and nothing to roll back to: {why}{passed_over}; nothing was deployed"
                    ),
                );
                return Ok(());
            }
        },
    };
    let to_tag = chosen.tag.clone();
    // A git-based app is deployed by its full commit (Coolify's /rollback and the pin take
    // a ref; an abbreviation could name another commit).
    let to_commit = if git_app {
        match CommitSha::parse(chosen.commit.as_str()) {
            Ok(sha) => Some(sha),
            Err(_) => {
                return Err(shipguard::env::invalid(
                    "to",
                    &format!(
                        "app {} is a git-based app, deployed by commit: give the full 40-digit commit SHA, not {}",
                        settings.apps[0], chosen.commit
                    ),
                ));
            }
        }
    } else {
        None
    };
    let same = match (&to_commit, &running_commit) {
        (Some(to), Some(now)) => to == now,
        _ => !git_app && running_tag.as_ref() == Some(&to_tag),
    };
    if same {
        let what = match &to_commit {
            Some(commit) => commit.to_string(),
            None => to_tag.to_string(),
        };
        report.end(
            Reason::NoTarget,
            format!("unhealthy, and the target {what} is what runs now; nothing was deployed"),
        );
        return Ok(());
    }
    if to_commit.is_some() && !client.supports(Feature::CommitPin) {
        return Err(git::unsupported(server));
    }
    report.to_sha = Some(chosen.commit.to_string());
    report.to_tag = (!git_app).then(|| to_tag.to_string());
    report.target_evidence = Some(chosen.evidence.clone());

    // 5. Dry run: the whole decision, nothing changed.
    if settings.dry_run {
        report.end(
            Reason::DryRun,
            format!(
                "dry run: would roll back {} from {} to {} ({})",
                settings.apps.join(", "),
                report.from(),
                report.to(),
                chosen.evidence
            ),
        );
        return Ok(());
    }

    // 6. Record first, so a concurrent or later run sees this rollback (cooldown, exclusions).
    // Nothing has changed yet: a signal that came while reading stops the run here.
    if interrupted(report, "before the rollback; nothing was deployed") {
        return Ok(());
    }
    report.phase = "recording on GitHub";
    let record = match &github {
        Some(gh) => Some(record(gh, settings, report, &chosen, actions).await?),
        None => None,
    };
    report.github_deployment_id = record;
    actions.log(&format!(
        "rolling back {} from {} to {} ({})",
        settings.apps.join(", "),
        report.from(),
        report.to(),
        chosen.evidence
    ));
    report.phase = "redeploy";
    let t0 = at();
    let plan = Plan {
        target: Target::Apps(settings.apps.clone()),
        image_tag: to_commit.is_none().then_some(to_tag),
        commit: to_commit.clone(),
        force: true,
        wait: true,
        timeout: settings.deploy_timeout.min(left()),
        poll_interval: settings.poll_interval,
        cancel_on_timeout: true,
    };
    let log = |t: &coolify::Tracked| {
        actions.log(&format!("{}: deployment {}", t.name(), t.status));
    };
    let rollout = {
        let _group = actions.group("Redeploying");
        match &plan.commit {
            Some(_) => coolify::git::run(&client, &plan, &log).await,
            None => coolify::rollout::run(&client, &plan, &log)
                .await
                .map(|rollout| coolify::git::Deployed {
                    rollout,
                    pins: Vec::new(),
                }),
        }
    };
    let rollout = match rollout {
        Ok(deployed) => {
            let left: Vec<String> = match &to_commit {
                Some(commit) => deployed
                    .pins_left()
                    .map(|p| git::pin_left_line(p, commit))
                    .collect(),
                None => Vec::new(),
            };
            report.commit_pins = deployed.pins;
            if !left.is_empty() {
                report.rolled_back = deployed.rollout.status == Outcome::Finished;
                report.deploy = Some(deployed.rollout);
                finish_record(
                    &github,
                    record,
                    "error",
                    "the commit pin was not put back",
                    actions,
                )
                .await;
                anyhow::bail!("{}", left.join("; "));
            }
            deployed.rollout
        }
        Err(err) => {
            finish_record(
                &github,
                record,
                "error",
                "the rollback could not deploy",
                actions,
            )
            .await;
            return Err(err);
        }
    };
    for annotation in coolify::warnings::annotations(&rollout) {
        actions.annotate(annotation);
    }
    report.phases.push(("redeploy".into(), t0, at()));
    report.rolled_back = rollout.status == Outcome::Finished;
    let deployed = rollout.status;
    report.deploy = Some(rollout);
    if deployed == Outcome::Interrupted {
        let why = "the rollback was interrupted";
        shipguard::interrupt::within_cleanup(finish_record(&github, record, "error", why, actions))
            .await;
        interrupted(
            report,
            "during the redeploy; the rollback deployment was cancelled (see the report)",
        );
        return Ok(());
    }
    if deployed != Outcome::Finished {
        finish_record(
            &github,
            record,
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

    // 7. Verify, within what is left of the deadline.
    report.phase = "verification";
    let t0 = at();
    let mut verification = settings.verification.clone();
    verification.timing.timeout = verification.timing.timeout.min(left());
    let results = probe(ctx, &verification, &settings.urls, "Verification").await;
    report.set_verification(&results);
    report.phases.push(("verification".into(), t0, at()));
    report.phase = "recording on GitHub";
    if shipguard::interrupt::received().is_some() {
        // Probing was cut short: whether the rollback is healthy is not known.
        report.verified = None;
        let why = "the rollback was deployed, then interrupted before it was verified";
        shipguard::interrupt::within_cleanup(finish_record(&github, record, "error", why, actions))
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
            record,
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
            record,
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

/// How many of a git-based app's newest deployments are read to find what runs now.
const RUNNING_LOOKBACK: u32 = 20;

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

/// What will be deployed, and the commit it is.
pub(crate) struct Chosen {
    pub(crate) commit: CommitRef,
    pub(crate) tag: ImageTag,
    pub(crate) evidence: String,
}

/// What the template makes of an example commit, for the fix hint.
fn sample_tag(settings: &Settings) -> String {
    shipguard::commit::CommitSha::parse("0123456789abcdef0123456789abcdef01234567")
        .ok()
        .and_then(|sha| settings.template.render(&sha, &settings.branch).ok())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The first seven digits of a commit named in a record, or `?`.
pub(crate) fn short(sha: Option<&str>) -> String {
    sha.map_or_else(|| "?".to_owned(), |s| s.chars().take(7).collect())
}

/// After the deadline passed mid-rollback: the record says `error` (within 10 s).
pub async fn abandon(settings: &Settings, ctx: &Context, id: u64) {
    let Some(access) = &settings.github else {
        return;
    };
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    let github = GitHub::new(access, &ctx.user_agent(), RetryPolicy::new(&ctx.env))
        .map(|gh| gh.with_deadline(deadline))
        .ok();
    finish_record(
        &github,
        Some(id),
        "error",
        "auto-rollback ran out of time",
        &ctx.actions,
    )
    .await;
}

/// The rollback's GitHub Deployment, for the target commit, marked in_progress; its payload
/// names from and to, which is how later runs see it.
pub(crate) async fn record(
    github: &GitHub,
    settings: &Settings,
    report: &Report,
    chosen: &Chosen,
    actions: &shipguard::gha::Actions,
) -> anyhow::Result<u64> {
    let deployment = github
        .create_deployment(&NewDeployment {
            sha: chosen.commit.clone(),
            environment: settings.environment.clone(),
            description: format!("auto-rollback from {} to {}", report.from(), report.to()),
            payload: json!({
                "kind": ROLLBACK_KIND,
                "tool": "auto-rollback",
                "from_sha": report.from_sha,
                "from_tag": report.from_tag,
                "to_sha": report.to_sha,
                "to_tag": report.to_tag,
                "image_tag": report.to_tag,
            }),
        })
        .await?;
    github
        .create_status(
            deployment.id,
            "in_progress",
            "auto-rollback redeploying",
            None,
            settings.run_url.as_deref(),
        )
        .await?;
    actions.log(&format!(
        "GitHub deployment {} records the rollback",
        deployment.id
    ));
    Ok(deployment.id)
}

pub(crate) async fn finish_record(
    github: &Option<GitHub>,
    id: Option<u64>,
    state: &str,
    description: &str,
    actions: &shipguard::gha::Actions,
) {
    let (Some(gh), Some(id)) = (github, id) else {
        return;
    };
    if let Err(err) = gh.create_status(id, state, description, None, None).await {
        actions.annotate(Annotation::new(
            Level::Warning,
            "github-deployment-failed",
            format!("{err:#}"),
        ));
    }
}

/// Runs a probe phase inside a group, logging every attempt.
pub(crate) async fn probe(
    ctx: &Context,
    probe: &Probe,
    urls: &[Url],
    phase: &str,
) -> Vec<UrlResult> {
    let _group = ctx
        .actions
        .group(&format!("{phase}: probing {} URL(s)", urls.len()));
    let actions = ctx.actions.clone();
    let labels: Vec<String> = urls.iter().map(safe_url).collect();
    let observer: Observer = Arc::new(
        move |index: usize, attempt: &Attempt, _passes: u32, _hold: bool| {
            let result = attempt.describe();
            actions.log(&format!(
                "{} +{:.1}s {result} in {}ms",
                labels[index],
                attempt.at.as_secs_f64(),
                attempt.latency.as_millis()
            ));
        },
    );
    probe.run(urls, observer).await
}
