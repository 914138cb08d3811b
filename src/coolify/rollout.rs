//! One rollout: optionally set each app's image tag (remembering the old one), deploy, and
//! wait for every deployment Coolify returns until it is final or the timeout passes, then
//! cancel what is still running. coolify-deploy and auto-rollback both drive it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use crate::platform::Outcome;
use crate::platform::grace::CANCEL_GRACE;

use super::client::{Client, Target, is_not_found};
use super::dedupe::{self, Missing};
use super::log_facts;
use super::model::{Deployment, DeploymentStatus, LogEntry, Queued};
use super::restore::{self, RestoreFailure, Restored};
use super::version::Feature;
use crate::gha::Untrusted;

/// What to do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    /// PATCH `docker_registry_image_tag` on every app first (apps only).
    pub image_tag: Option<super::ImageTag>,
    /// Git-based apps: build exactly this commit. Run such a plan through
    /// [`super::git::run`], which picks `/rollback` or the commit pin by version.
    pub commit: Option<crate::commit::CommitSha>,
    /// Bypass Coolify's dedupe; implied by `image_tag` (the commit stays `HEAD`).
    pub force: bool,
    pub wait: bool,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub cancel_on_timeout: bool,
}

/// The outcome Coolify's final status words mean; `None` while it still runs.
fn outcome_of(status: &DeploymentStatus) -> Option<Outcome> {
    match status {
        DeploymentStatus::Finished => Some(Outcome::Finished),
        DeploymentStatus::Failed => Some(Outcome::Failed),
        DeploymentStatus::CancelledByUser => Some(Outcome::Cancelled),
        _ => None,
    }
}

/// One deployment followed to its end.
#[derive(Debug, Clone, Serialize)]
pub struct Tracked {
    /// The application (resource) UUID, as Coolify named it.
    pub app: Untrusted,
    pub app_name: Option<Untrusted>,
    pub deployment_uuid: Option<Untrusted>,
    /// The commit Coolify says the deployment builds (`HEAD` until the job resolves it).
    pub commit: Option<Untrusted>,
    pub outcome: Outcome,
    /// Coolify's last status word (`finished`, `in_progress`, …).
    pub status: Untrusted,
    /// Seconds from the start of the rollout.
    pub queued_at: f64,
    pub started_at: Option<f64>,
    pub ended_at: Option<f64>,
    pub link: Option<String>,
    /// Coolify's message for the deploy request.
    pub message: Untrusted,
    #[serde(skip)]
    pub logs: Option<Vec<LogEntry>>,
    /// Why this needed a second look, e.g. the dedupe fallback.
    pub note: Option<String>,
    /// The log line by which Coolify said it skipped its own health check: `finished` then
    /// only means the container started.
    pub skipped_health_check: Option<Untrusted>,
    /// Read through the app's deployment list (the server answers 404 for the UUID).
    #[serde(skip)]
    pub from_list: bool,
}

impl Tracked {
    /// The app's name when Coolify gave one, else its UUID.
    pub fn name(&self) -> &Untrusted {
        self.app_name.as_ref().unwrap_or(&self.app)
    }
}

/// What a rollout did.
#[derive(Debug, Clone, Serialize)]
pub struct Rollout {
    pub deployments: Vec<Tracked>,
    /// App → the image tag it had before (empty string for none), when a tag was set.
    pub previous_image_tags: BTreeMap<String, String>,
    /// App → the previous tag put back after its deployment did not finish.
    pub restored_image_tags: BTreeMap<String, String>,
    /// Tags that could not be put back: to set by hand.
    pub restore_failures: Vec<RestoreFailure>,
    pub status: Outcome,
    pub duration_seconds: f64,
}

/// Progress for logs: a deployment changed status.
pub type Observer<'a> = &'a (dyn Fn(&Tracked) + Sync);

/// Runs the plan. Errors are operational (auth, network, server); a failed or slow
/// deployment is an outcome, not an error. Every call keeps the absolute deadline
/// `plan.timeout` from now (or the client's own, if sooner): a deploy request that is never
/// answered ends at the deadline as the timeout outcome (exit 1), and polls that are never
/// answered end in the timeout outcome with a cancel.
pub async fn run(client: &Client, plan: &Plan, observe: Observer<'_>) -> anyhow::Result<Rollout> {
    let started = Instant::now();
    if crate::interrupt::received().is_some() {
        // A signal came before anything was started: start nothing.
        return Ok(Rollout {
            deployments: Vec::new(),
            previous_image_tags: BTreeMap::new(),
            restored_image_tags: BTreeMap::new(),
            restore_failures: Vec::new(),
            status: Outcome::Interrupted,
            duration_seconds: 0.0,
        });
    }
    let client = &client.until((started + plan.timeout).min(client.deadline()));
    let mut previous = BTreeMap::new();
    let mut tracked = Vec::new();
    match start(client, plan, started, &mut previous, &mut tracked).await {
        Ok(()) => finish(client, plan, started, previous, tracked, observe).await,
        Err(err) if crate::http::is_deadline(&err) && tracked.is_empty() => {
            let restored = restore_untracked(client, &previous, &tracked).await;
            Err(crate::exit::check_failed(
                "deploy-timeout",
                format!(
                    "{err}: the timeout of {} passed before any deployment was known, so nothing could be cancelled; check Coolify{restored}",
                    crate::duration::human(plan.timeout)
                ),
            ))
        }
        // Something was queued before the deadline: the wait finds the deadline passed at
        // once and takes the timeout path, which cancels what it can and keeps `previous`.
        Err(err) if crate::http::is_deadline(&err) => {
            finish(client, plan, started, previous, tracked, observe).await
        }
        Err(err) => {
            let restored = restore_untracked(client, &previous, &tracked).await;
            Err(err.context(format!("the deploy stopped{restored}")))
        }
    }
}

/// After an error part-way, puts the old tag back on every app whose new tag was set but
/// whose deployment was never queued; says what it did, as the end of a sentence.
async fn restore_untracked(
    client: &Client,
    previous: &BTreeMap<String, String>,
    tracked: &[Tracked],
) -> String {
    let untracked: BTreeMap<String, String> = previous
        .iter()
        .filter(|(app, _)| !tracked.iter().any(|t| t.app.as_raw() == app.as_str()))
        .map(|(a, t)| (a.clone(), t.clone()))
        .collect();
    if untracked.is_empty() {
        return String::new();
    }
    let done = restore::restore(&client.until(Instant::now() + CANCEL_GRACE), &untracked).await;
    let mut parts: Vec<String> = done
        .tags
        .iter()
        .map(|(app, tag)| format!("app {app}'s image tag was set back to {tag:?}"))
        .collect();
    parts.extend(done.failures.iter().map(RestoreFailure::message));
    format!("; {}", parts.join("; "))
}

/// Image tags and deploy requests: what to follow, kept in `previous` and `tracked` as it
/// happens, so a deadline part-way still knows what it started.
async fn start(
    client: &Client,
    plan: &Plan,
    started: Instant,
    previous: &mut BTreeMap<String, String>,
    tracked: &mut Vec<Tracked>,
) -> anyhow::Result<()> {
    if let (Some(tag), Target::Apps(apps)) = (&plan.image_tag, &plan.target) {
        for app in apps {
            let current = client.application(app).await?;
            if let Some(pack) = current
                .build_pack
                .as_ref()
                .filter(|b| b.as_raw() != "dockerimage")
            {
                tracing::warn!(
                    "app {app} is built by {pack}; Coolify uses the image tag only for Docker-image apps"
                );
            }
            previous.insert(
                app.clone(),
                current
                    .docker_registry_image_tag
                    .map(Untrusted::into_raw)
                    .unwrap_or_default(),
            );
            client.set_image_tag(app, tag).await?;
        }
    }
    let force = plan.force || plan.image_tag.is_some();
    let at = || started.elapsed().as_secs_f64();
    let apps: Vec<Target> = match &plan.target {
        // One request per app: a 429 retry can never queue an app twice.
        Target::Apps(apps) => apps.iter().map(|a| Target::Apps(vec![a.clone()])).collect(),
        Target::Tag(_) => vec![plan.target.clone()],
    };
    for target in &apps {
        let items = match (&plan.commit, target) {
            (Some(commit), Target::Apps(one)) if client.supports(Feature::RollbackEndpoint) => {
                let mut items = Vec::new();
                for app in one {
                    items.push(super::git::queue_commit(client, app, commit).await?);
                }
                items
            }
            // Before 4.3.0 git::run pinned `git_commit_sha` first: a plain deploy builds it.
            _ => client.deploy(target, force).await?,
        };
        for item in items {
            let mut t = Tracked::answered(&item, at());
            let followed = follow_up(client, &item, &mut t).await;
            tracked.push(t);
            followed?;
        }
    }
    Ok(())
}

/// Follows what was started, and sums it up.
async fn finish(
    client: &Client,
    plan: &Plan,
    started: Instant,
    previous: BTreeMap<String, String>,
    mut tracked: Vec<Tracked>,
    observe: Observer<'_>,
) -> anyhow::Result<Rollout> {
    let at = || started.elapsed().as_secs_f64();
    for t in &tracked {
        observe(t);
    }
    if plan.wait {
        wait(client, plan, &mut tracked, started, observe).await?;
    }
    let status = Outcome::overall(tracked.iter().map(|t| t.outcome));
    // The app record keeps the new tag after a deploy that did not finish: put it back.
    let to_restore: BTreeMap<String, String> = previous
        .iter()
        .filter(|(app, _)| {
            tracked
                .iter()
                .any(|t| t.app.as_raw() == app.as_str() && t.needs_restore())
        })
        .map(|(a, t)| (a.clone(), t.clone()))
        .collect();
    let restored = if to_restore.is_empty() {
        Restored::default()
    } else {
        restore::restore(&client.until(Instant::now() + CANCEL_GRACE), &to_restore).await
    };
    Ok(Rollout {
        deployments: tracked,
        previous_image_tags: previous,
        restored_image_tags: restored.tags,
        restore_failures: restored.failures,
        status,
        duration_seconds: at(),
    })
}

/// Turns a deploy answer into something to follow, resolving the dedupe fake UUID.
impl Tracked {
    /// What a deploy answer says, before it is followed up.
    fn answered(item: &Queued, at: f64) -> Self {
        Self {
            app: item.resource_uuid.clone(),
            app_name: None,
            // A deduplicated answer's UUID was never stored (§3.3): nothing to follow yet.
            deployment_uuid: item
                .deployment_uuid
                .clone()
                .filter(|_| !item.deduplicated()),
            commit: None,
            outcome: Outcome::Queued,
            status: Untrusted::from("queued"),
            queued_at: at,
            started_at: None,
            ended_at: None,
            link: None,
            message: item.message.clone(),
            logs: None,
            note: item.note.clone(),
            skipped_health_check: None,
            from_list: false,
        }
    }

    /// The deployment ended without the new version, so the app should name the old tag
    /// again: failed, cancelled, or cancelled at the timeout (one left running may still
    /// finish with the new tag).
    fn needs_restore(&self) -> bool {
        match self.outcome {
            Outcome::Failed | Outcome::Cancelled => true,
            // Cancelled at the timeout or at a signal; one left running may still finish.
            Outcome::Timeout | Outcome::Interrupted => self.status.as_raw() == "cancelled-by-user",
            Outcome::Finished | Outcome::Queued | Outcome::Restored => false,
        }
    }
}

/// Resolves what a deploy answer left open: the real deployment behind a deduplicated one,
/// a refusal hidden in a 200.
async fn follow_up(client: &Client, item: &Queued, tracked: &mut Tracked) -> anyhow::Result<()> {
    if item.deduplicated() {
        // The UUID in this answer was never stored (§3.3): follow the real one instead.
        if !client.supports(Feature::DeploymentHistory) {
            anyhow::bail!(
                "Coolify deduplicated the deploy of {} and this server is too old to find the running deployment; deploy with `force: true`",
                item.resource_uuid
            );
        }
        let active = client
            .active_deployment(item.resource_uuid.as_raw())
            .await?;
        tracked.deployment_uuid = active.as_ref().map(|d| d.deployment_uuid.clone());
        tracked.note = Some(match &active {
            Some(d) => format!(
                "already queued; following the existing deployment {}",
                d.deployment_uuid
            ),
            None => "already queued, and it ended before it could be followed".to_owned(),
        });
        if active.is_none() {
            tracked.outcome = Outcome::Finished;
            tracked.status = Untrusted::from("finished");
        }
    } else if item.deployment_uuid.is_none() {
        let lower = item.message.as_raw().to_ascii_lowercase();
        let refused = lower.contains("unauthorized")
            || lower.contains("not found")
            || lower.contains("can only be used");
        if refused {
            anyhow::bail!(
                "Coolify did not deploy {}: \"{}\"",
                item.resource_uuid,
                item.message
            );
        }
        // A service or database: started, with no deployment to follow.
        tracked.note = Some("started; Coolify gives no deployment to follow".to_owned());
    }
    Ok(())
}

/// Polls every active deployment until all are final or the timeout passes.
async fn wait(
    client: &Client,
    plan: &Plan,
    tracked: &mut [Tracked],
    started: Instant,
    observe: Observer<'_>,
) -> anyhow::Result<()> {
    // The one deadline `run` set on the client (the plan's, or the caller's if sooner).
    let deadline = client.deadline();
    loop {
        let mut pending = false;
        for t in tracked.iter_mut() {
            let Some(uuid) = t.deployment_uuid.clone() else {
                continue;
            };
            if t.outcome != Outcome::Queued {
                continue;
            }
            let polled = crate::interrupt::unless_requested(poll(client, t, &uuid));
            let deployment = match polled.await {
                Err(received) => {
                    return interrupt(client, plan, tracked, started, observe, received).await;
                }
                Ok(Ok(d)) => d,
                Ok(Err(err)) if crate::http::is_deadline(&err) => {
                    return time_out(client, plan, tracked, started, observe).await;
                }
                Ok(Err(err)) => return Err(err),
            };
            let at = started.elapsed().as_secs_f64();
            let (status_before, note_before) = (t.status.as_raw().to_owned(), t.note.clone());
            t.status = Untrusted::from(deployment.status.as_str());
            t.app_name = deployment.application_name.clone().or(t.app_name.take());
            t.commit = deployment.commit.clone().or(t.commit.take());
            t.link = deployment
                .deployment_url
                .as_ref()
                .and_then(|p| client.link(p.as_raw()));
            if deployment.logs.is_some() {
                t.logs = deployment.logs.clone();
            }
            if deployment.status == DeploymentStatus::InProgress && t.started_at.is_none() {
                t.started_at = Some(at);
            }
            if deployment.status == DeploymentStatus::Queued {
                queue_place(client, t).await;
            }
            match outcome_of(&deployment.status) {
                Some(outcome) => {
                    t.outcome = outcome;
                    t.ended_at = Some(at);
                    read_log_facts(t, &deployment);
                }
                None => pending = true,
            }
            // A new status or a new note (the place in Coolify's queue) is worth a line.
            if deployment.status.as_str() != status_before || t.note != note_before {
                observe(t);
            }
        }
        if !pending {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return time_out(client, plan, tracked, started, observe).await;
        }
        let pause = tokio::time::sleep(plan.poll_interval.min(deadline - now));
        if let Err(received) = crate::interrupt::unless_requested(pause).await {
            return interrupt(client, plan, tracked, started, observe, received).await;
        }
    }
}

/// One read of a followed deployment: by its UUID, or through the app's list when Coolify
/// answers 404 for the UUID (see `dedupe`). Never "disappeared" while the app deploys.
async fn poll(client: &Client, t: &mut Tracked, uuid: &Untrusted) -> anyhow::Result<Deployment> {
    if t.from_list {
        return dedupe::listed(client, t.app.as_raw(), uuid.as_raw())
            .await?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "deployment {uuid} of app {} is no longer among the app's newest deployments",
                    t.app
                )
            });
    }
    let err = match client.deployment(uuid.as_raw()).await {
        Err(err) if is_not_found(&err) => err,
        other => return other,
    };
    let Some(missing) = dedupe::find(client, t.app.as_raw(), uuid.as_raw()).await? else {
        return Err(err.context(format!(
            "Coolify answers 404 for deployment {uuid} of app {}, and the app has no deployment to follow instead",
            t.app
        )));
    };
    t.note = Some(missing.note(uuid));
    match &missing {
        Missing::Listed(_) => t.from_list = true,
        Missing::Replaced(d) => t.deployment_uuid = Some(d.deployment_uuid.clone()),
    }
    Ok(missing.deployment())
}

/// Notes where a queued deployment waits, when `GET /deployments` shows it (a failure to
/// read it costs only the note).
async fn queue_place(client: &Client, t: &mut Tracked) {
    let Some(uuid) = &t.deployment_uuid else {
        return;
    };
    let queue_note = |n: &Option<String>| {
        n.as_deref()
            .is_none_or(|n| n.starts_with(super::queue::NOTE_START))
    };
    if !queue_note(&t.note) {
        return;
    }
    match client.running_deployments().await {
        Ok(rows) => {
            if let Some(spot) = super::queue::spot(&rows, uuid.as_raw()) {
                t.note = Some(spot.note());
            }
        }
        Err(err) => tracing::debug!("{err:#}"),
    }
}

/// What the final deployment's log adds: a skipped health check, a restart.
fn read_log_facts(t: &mut Tracked, deployment: &Deployment) {
    let Some(logs) = &deployment.logs else {
        return;
    };
    if deployment.status == DeploymentStatus::Finished {
        t.skipped_health_check = log_facts::skipped_health_check(logs);
    }
    if log_facts::failed_by_restart(deployment) {
        t.note = Some(log_facts::RESTART_NOTE.to_owned());
    }
}

/// A signal came mid-wait: what is still running is cancelled (whatever `cancel_on_timeout`
/// says: the run that wanted it is gone), within the signal's cleanup budget, and marked
/// interrupted.
async fn interrupt(
    client: &Client,
    plan: &Plan,
    tracked: &mut [Tracked],
    started: Instant,
    observe: Observer<'_>,
    received: crate::interrupt::Received,
) -> anyhow::Result<()> {
    let plan = &Plan {
        cancel_on_timeout: true,
        ..plan.clone()
    };
    let running = |t: &Tracked| t.outcome == Outcome::Queued && t.deployment_uuid.is_some();
    let before: Vec<bool> = tracked.iter().map(running).collect();
    time_out(client, plan, tracked, started, observe).await?;
    for (t, _) in tracked.iter_mut().zip(before).filter(|(_, was)| *was) {
        if t.outcome == Outcome::Timeout {
            t.outcome = Outcome::Interrupted;
            if let Some(note) = &mut t.note {
                *note = note.replace("at the timeout", &format!("when {}", received.describe()));
            }
        }
    }
    Ok(())
}

/// Marks what is still running as timed out, cancelling it when asked to.
async fn time_out(
    client: &Client,
    plan: &Plan,
    tracked: &mut [Tracked],
    started: Instant,
    observe: Observer<'_>,
) -> anyhow::Result<()> {
    let can_cancel = client.supports(Feature::Cancel);
    // The deadline has passed: the cancels get a short grace period of their own.
    // After a signal, within what is left of its cleanup budget instead.
    let client = &client.until(
        crate::interrupt::received()
            .map_or(Instant::now() + CANCEL_GRACE, |r| r.cleanup_deadline()),
    );
    for t in tracked.iter_mut().filter(|t| t.outcome == Outcome::Queued) {
        let Some(uuid) = t.deployment_uuid.clone() else {
            continue;
        };
        t.outcome = Outcome::Timeout;
        t.ended_at = Some(started.elapsed().as_secs_f64());
        let was = if t.status.as_raw() == "queued" {
            "still queued"
        } else {
            "still running"
        };
        if !plan.cancel_on_timeout {
            t.note = Some(format!("{was} at the timeout; left as it is"));
        } else if !can_cancel {
            t.note = Some(format!(
                "{was} at the timeout; this Coolify cannot cancel (needs {} or newer)",
                Feature::Cancel.since()
            ));
        } else {
            match cancel(client, t, &uuid).await {
                Ok(after) => {
                    t.status = Untrusted::from(after.status.as_str());
                    if after.logs.is_some() {
                        t.logs = after.logs;
                    }
                    t.note = Some(match outcome_of(&after.status) {
                        // It finished between the last poll and the cancel: the truth wins.
                        Some(Outcome::Finished) => {
                            t.outcome = Outcome::Finished;
                            "finished just as the timeout passed".to_owned()
                        }
                        _ => format!("cancelled at the timeout ({was})"),
                    });
                }
                // Still the timeout outcome; the note says the cancel did not go through.
                Err(err) => {
                    t.note = Some(format!("{was} at the timeout; the cancel failed: {err:#}"));
                }
            }
        }
        observe(t);
    }
    Ok(())
}

/// Cancels a deployment and reads it back (through the app's list where only that works).
/// The cancel endpoint takes queued deployments too: it marks them `cancelled-by-user`
/// before any build starts (DeployController.php L236-259 at 379abb25), and the job, if
/// it runs later, stops at once (ApplicationDeploymentJob.php L301-306).
async fn cancel(client: &Client, t: &Tracked, uuid: &Untrusted) -> anyhow::Result<Deployment> {
    match client.cancel(uuid.as_raw()).await {
        Err(err) if t.from_list && is_not_found(&err) => {
            dedupe::listed(client, t.app.as_raw(), uuid.as_raw())
                .await?
                .ok_or(err)
        }
        other => other,
    }
}

/// The last `lines` visible log lines of a deployment, oldest first.
pub fn log_tail(logs: &[LogEntry], lines: usize) -> Vec<Untrusted> {
    let mut visible: Vec<&LogEntry> = logs.iter().filter(|e| !e.hidden).collect();
    visible.sort_by_key(|e| e.order.unwrap_or(0));
    let all: Vec<Untrusted> = visible
        .iter()
        .flat_map(|e| e.output.as_raw().lines().map(Untrusted::from))
        .collect();
    all[all.len().saturating_sub(lines)..].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_skips_hidden_and_keeps_order() {
        let entry = |output: &str, hidden, order| LogEntry {
            output: output.into(),
            stream: None,
            hidden,
            order,
        };
        let logs = vec![
            entry("c\nd", false, Some(3)),
            entry("secret cmd", true, Some(2)),
            entry("a", false, None),
            entry("b", false, Some(1)),
        ];
        assert_eq!(log_tail(&logs, 3), vec!["b", "c", "d"]);
        assert_eq!(log_tail(&logs, 10), vec!["a", "b", "c", "d"]);
    }
}
