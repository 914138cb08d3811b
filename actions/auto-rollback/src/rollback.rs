//! One run, in order: analysis → what runs now → guards (deployment in progress, cooldown)
//! → target (failing closed) → dry run stops here → record on GitHub → redeploy → verify.
//! Every early stop ends the report with a reason; errors are operational (exit 3).

use std::sync::Arc;
use std::time::Instant;

use serde_json::json;
use shipguard::coolify::{self, Client, Outcome, Plan, Target};
use shipguard::gha::{Annotation, Level};
use shipguard::github::{GitHub, NewDeployment};
use shipguard::http::RetryPolicy;
use shipguard::probe::{Attempt, Observer, Probe, UrlResult};
use shipguard::redact::safe_url;
use shipguard::tool::Context;
use url::Url;

use crate::decide;
use crate::history::{self, Candidate, ROLLBACK_KIND};
use crate::report::{Reason, Report};
use crate::settings::{Settings, Source};

pub async fn run(settings: &Settings, ctx: &Context, report: &mut Report) -> anyhow::Result<()> {
    let started = Instant::now();
    let at = || started.elapsed().as_secs_f64();
    let actions = &ctx.actions;

    // 1. Analysis (skipped for a manual `to`: a person or a failed health check decided).
    let manual = matches!(settings.source, Source::Manual(_));
    if !manual {
        let t0 = at();
        let results = probe(ctx, &settings.analysis, &settings.urls, "Analysis").await;
        report.set_analysis(&results);
        report.phases.push(("analysis".into(), t0, at()));
        if report.healthy_before == Some(true) {
            report.end(Reason::Healthy, "healthy: nothing to do");
            return Ok(());
        }
        actions.log(&format!(
            "unhealthy: {}",
            report.failing_checks().join("; ")
        ));
    }

    // 2. What runs now.
    let mut client = Client::new(
        settings.http.clone(),
        &settings.coolify_url,
        settings.coolify_token.clone(),
        RetryPolicy {
            // A full deploy queue answers `Retry-After: 60`: wait within the deploy budget.
            deadline: std::time::Instant::now() + settings.deploy_timeout,
            ..RetryPolicy::new(&ctx.env)
        },
    );
    let server = client.version().await?;
    actions.log(&format!("Coolify {server} at {}", safe_url(client.base())));
    let app = client.application(&settings.apps[0]).await?;
    let running_tag = app.docker_registry_image_tag.filter(|t| !t.is_empty());
    report.from_tag = running_tag.clone();
    report.from_sha = running_tag
        .as_deref()
        .and_then(|t| settings.template.commit_of(t, &settings.branch));

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
    let github = match &settings.github {
        Some(access) => Some(GitHub::new(access, &ctx.user_agent())?),
        None => None,
    };
    let rollbacks = match &github {
        Some(gh) => history::rollbacks(gh, &settings.environment).await?,
        None => Vec::new(),
    };
    if !manual && let Some(recent) = decide::in_cooldown(&rollbacks, settings.cooldown) {
        let ago = recent
            .age
            .map(shipguard::duration::human)
            .unwrap_or_default();
        report.end(
            Reason::Cooldown,
            format!(
                "unhealthy, but a rollback ({} → {}) happened {ago} ago, inside the {} cooldown: not rolling back again",
                short(&recent.from_sha),
                short(&recent.to_sha),
                shipguard::duration::human(settings.cooldown)
            ),
        );
        return Ok(());
    }

    // 4. Target, failing closed.
    let candidates = match (&settings.source, &github) {
        (Source::Manual(to), _) => vec![manual_candidate(settings, to)?],
        (Source::WorkflowRuns { workflow }, Some(gh)) => {
            history::from_runs(gh, workflow, &settings.branch).await?
        }
        (Source::Deployments, Some(gh)) => {
            history::from_deployments(gh, &settings.environment).await?
        }
        // Settings require GitHub for every source but a manual one.
        (_, None) => Vec::new(),
    };
    let running = report.from_sha.clone().or(running_tag.clone());
    let chosen = match decide::choose(&candidates, running.as_deref(), &rollbacks) {
        Ok(chosen) => chosen.clone(),
        Err(why) => {
            report.end(
                Reason::NoTarget,
                format!("unhealthy, and nothing to roll back to: {why}; nothing was deployed"),
            );
            return Ok(());
        }
    };
    let to_tag = target_tag(settings, &chosen.sha);
    if running_tag.as_deref() == Some(to_tag.as_str()) {
        report.end(
            Reason::NoTarget,
            format!("unhealthy, and the target {to_tag} is what runs now; nothing was deployed"),
        );
        return Ok(());
    }
    report.to_sha = is_sha(&chosen.sha).then(|| chosen.sha.clone());
    report.to_tag = Some(to_tag.clone());
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
    let record = match &github {
        Some(gh) => Some(record(gh, settings, report, actions).await?),
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
    let t0 = at();
    let plan = Plan {
        target: Target::Apps(settings.apps.clone()),
        image_tag: Some(to_tag),
        force: true,
        wait: true,
        timeout: settings.deploy_timeout,
        poll_interval: settings.poll_interval,
        cancel_on_timeout: true,
    };
    let log = |t: &coolify::Tracked| {
        let name = t.app_name.as_deref().unwrap_or(&t.app);
        actions.log(&format!("{name}: deployment {}", t.status));
    };
    let rollout = {
        let _group = actions.group("Redeploying");
        coolify::rollout::run(&client, &plan, &log).await
    };
    let rollout = match rollout {
        Ok(rollout) => rollout,
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
    report.phases.push(("redeploy".into(), t0, at()));
    report.rolled_back = rollout.status == Outcome::Finished;
    let deployed = rollout.status;
    report.deploy = Some(rollout);
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

    // 7. Verify.
    let t0 = at();
    let results = probe(ctx, &settings.verification, &settings.urls, "Verification").await;
    report.set_verification(&results);
    report.phases.push(("verification".into(), t0, at()));
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

/// A manual `to`: a commit SHA (rendered through the template) or an image tag as is.
fn manual_candidate(settings: &Settings, to: &str) -> anyhow::Result<Candidate> {
    let to = to.trim();
    let sha = if is_sha(to) {
        to.to_ascii_lowercase()
    } else if let Some(sha) = settings.template.commit_of(to, &settings.branch) {
        sha
    } else {
        shipguard::coolify::model::check_image_tag(to)
            .map_err(|why| shipguard::env::invalid("to", &why))?;
        to.to_owned()
    };
    Ok(Candidate {
        sha,
        evidence: "chosen by hand (`to`)".to_owned(),
    })
}

/// The image tag to deploy for a candidate: a SHA goes through the template, a tag as is.
fn target_tag(settings: &Settings, sha_or_tag: &str) -> String {
    if is_sha(sha_or_tag) {
        settings.template.render(sha_or_tag, &settings.branch)
    } else {
        sha_or_tag.to_owned()
    }
}

fn is_sha(text: &str) -> bool {
    (7..=40).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The first seven characters; payloads come from GitHub, so never slice bytes.
fn short(sha: &str) -> String {
    sha.chars().take(7).collect()
}

/// The rollback's GitHub Deployment, for the target commit, marked in_progress; its payload
/// names from and to, which is how later runs see it.
async fn record(
    github: &GitHub,
    settings: &Settings,
    report: &Report,
    actions: &shipguard::gha::Actions,
) -> anyhow::Result<u64> {
    let sha = report
        .to_sha
        .clone()
        .unwrap_or_else(|| report.to_tag.clone().unwrap_or_default());
    let deployment = github
        .create_deployment(&NewDeployment {
            sha,
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

async fn finish_record(
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
async fn probe(ctx: &Context, probe: &Probe, urls: &[Url], phase: &str) -> Vec<UrlResult> {
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
