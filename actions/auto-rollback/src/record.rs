//! The rollback's GitHub Deployment, through the core's `deployment_record::Recorder`: created
//! for the target commit before anything is deployed, marked in_progress, then success,
//! failure or error. Its payload names from and to, which is how later runs see it
//! (cooldown, never back onto a version a rollback left): so unlike a deploy's record, a
//! failure to create it stops the run (exit 3).

use std::time::{Duration, Instant};

use serde_json::json;
use shipguard::deployment_record::Recorder;
use shipguard::github::{GitHub, NewDeployment};
use shipguard::http::RetryPolicy;
use shipguard::tool::Context;

use crate::history::ROLLBACK_KIND;
use crate::report::Report;
use crate::rollback::Run;
use crate::settings::Settings;

/// Opens the record (when there is GitHub access), in the report's `github_deployment_id`.
pub async fn open(
    run: &Run<'_>,
    github: Option<GitHub>,
    report: &mut Report,
) -> anyhow::Result<Option<Recorder>> {
    let Some(github) = github else {
        return Ok(None);
    };
    report.phase = "recording on GitHub";
    let Some(sha) = &report.to_sha else {
        anyhow::bail!("no target commit to record");
    };
    let deployment = NewDeployment {
        sha: shipguard::commit::CommitRef::parse(sha).map_err(anyhow::Error::msg)?,
        environment: run.settings.environment.clone(),
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
    };
    let recorder = Recorder::open(
        github,
        &deployment,
        "auto-rollback redeploying",
        run.settings.run_url.clone(),
    )
    .await?;
    run.ctx.actions.log(&format!(
        "GitHub deployment {} records the rollback",
        recorder.id()
    ));
    report.github_deployment_id = Some(recorder.id());
    Ok(Some(recorder))
}

/// The record's final status (`success`, `failure`, `error`); a failure to set it is a
/// warning. After a signal, within its cleanup budget.
pub async fn close(recorder: Option<&Recorder>, state: &str, why: &str, ctx: &Context) {
    if let Some(recorder) = recorder {
        shipguard::interrupt::within_cleanup(recorder.finish(state, why, &ctx.actions)).await;
    }
}

/// After the deadline passed mid-rollback: the record says `error` (within 10 s).
pub async fn abandon(settings: &Settings, ctx: &Context, id: u64) {
    let Some(access) = &settings.github else {
        return;
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let Ok(github) = GitHub::new(access, &ctx.user_agent(), RetryPolicy::new(&ctx.env)) else {
        return;
    };
    let recorder = Recorder::resume(github.with_deadline(deadline), id, settings.run_url.clone());
    close(
        Some(&recorder),
        "error",
        "auto-rollback ran out of time",
        ctx,
    )
    .await;
}
