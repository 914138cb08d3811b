//! One rollout: optionally set each app's image tag (remembering the old one), deploy, and
//! wait for every deployment Coolify returns until it is final or the timeout passes, then
//! cancel what is still running. coolify-deploy and auto-rollback both drive it.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::{Client, Target, is_not_found};
use super::model::{DeploymentStatus, LogEntry, Queued};
use super::version::Feature;
use crate::gha::Untrusted;

/// What to do.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: Target,
    /// PATCH `docker_registry_image_tag` on every app first (apps only).
    pub image_tag: Option<super::ImageTag>,
    /// Bypass Coolify's dedupe; implied by `image_tag` (the commit stays `HEAD`).
    pub force: bool,
    pub wait: bool,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub cancel_on_timeout: bool,
}

/// How one deployment ended, as the tools report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Finished,
    Failed,
    Cancelled,
    Timeout,
    /// Not waited for (`wait: false`), or a service/database with nothing to follow.
    Queued,
    /// A signal (a cancelled run, a job timeout) ended the wait; cancelled when it could be.
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Finished => "finished",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
            Self::Timeout => "timeout",
            Self::Queued => "queued",
            Self::Interrupted => "interrupted",
        }
    }

    fn of(status: &DeploymentStatus) -> Option<Self> {
        match status {
            DeploymentStatus::Finished => Some(Self::Finished),
            DeploymentStatus::Failed => Some(Self::Failed),
            DeploymentStatus::CancelledByUser => Some(Self::Cancelled),
            _ => None,
        }
    }

    /// The run's overall status: the worst of its deployments.
    pub fn overall(outcomes: impl IntoIterator<Item = Self>) -> Self {
        let rank = |o: &Self| match o {
            Self::Failed => 4,
            Self::Interrupted => 3,
            Self::Timeout => 3,
            Self::Cancelled => 2,
            Self::Queued => 1,
            Self::Finished => 0,
        };
        outcomes
            .into_iter()
            .max_by_key(rank)
            .unwrap_or(Self::Finished)
    }
}

/// One deployment followed to its end.
#[derive(Debug, Clone, Serialize)]
pub struct Tracked {
    /// The application (resource) UUID, as Coolify named it.
    pub app: Untrusted,
    pub app_name: Option<Untrusted>,
    pub deployment_uuid: Option<Untrusted>,
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
    pub status: Outcome,
    pub duration_seconds: f64,
}

/// Progress for logs: a deployment changed status.
pub type Observer<'a> = &'a (dyn Fn(&Tracked) + Sync);

/// A cancel at the timeout gets this long of its own (the deadline has passed by then).
pub const CANCEL_GRACE: Duration = Duration::from_secs(10);

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
            Err(crate::exit::check_failed(
                "deploy-timeout",
                format!(
                    "{err}: the timeout of {} passed before any deployment was known, so nothing could be cancelled; check Coolify",
                    crate::duration::human(plan.timeout)
                ),
            ))
        }
        // Something was queued before the deadline: the wait finds the deadline passed at
        // once and takes the timeout path, which cancels what it can and keeps `previous`.
        Err(err) if crate::http::is_deadline(&err) => {
            finish(client, plan, started, previous, tracked, observe).await
        }
        Err(err) => Err(err),
    }
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
        for item in client.deploy(target, force).await? {
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
    Ok(Rollout {
        deployments: tracked,
        previous_image_tags: previous,
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
            outcome: Outcome::Queued,
            status: Untrusted::from("queued"),
            queued_at: at,
            started_at: None,
            ended_at: None,
            link: None,
            message: item.message.clone(),
            logs: None,
            note: None,
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
            let polled = crate::interrupt::unless_requested(client.deployment(uuid.as_raw()));
            let deployment = match polled.await {
                Err(received) => {
                    return interrupt(client, plan, tracked, started, observe, received).await;
                }
                Ok(Ok(d)) => d,
                Ok(Err(err)) if crate::http::is_deadline(&err) => {
                    return time_out(client, plan, tracked, started, observe).await;
                }
                Ok(Err(err)) if is_not_found(&err) => {
                    return Err(
                        err.context(format!("deployment {uuid} of app {} disappeared", t.app))
                    );
                }
                Ok(Err(err)) => return Err(err),
            };
            let at = started.elapsed().as_secs_f64();
            let changed = deployment.status.as_str() != t.status.as_raw();
            t.status = Untrusted::from(deployment.status.as_str());
            t.app_name = deployment.application_name.clone().or(t.app_name.take());
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
            match Outcome::of(&deployment.status) {
                Some(outcome) => {
                    t.outcome = outcome;
                    t.ended_at = Some(at);
                }
                None => pending = true,
            }
            if changed {
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
        if !plan.cancel_on_timeout {
            t.note = Some("still running at the timeout; left running".to_owned());
        } else if !can_cancel {
            t.note = Some(format!(
                "still running at the timeout; this Coolify cannot cancel (needs {} or newer)",
                Feature::Cancel.since()
            ));
        } else {
            match client.cancel(uuid.as_raw()).await {
                Ok(after) => {
                    t.status = Untrusted::from(after.status.as_str());
                    if after.logs.is_some() {
                        t.logs = after.logs;
                    }
                    t.note = Some(match Outcome::of(&after.status) {
                        // It finished between the last poll and the cancel: the truth wins.
                        Some(Outcome::Finished) => {
                            t.outcome = Outcome::Finished;
                            "finished just as the timeout passed".to_owned()
                        }
                        _ => "cancelled at the timeout".to_owned(),
                    });
                }
                // Still the timeout outcome; the note says the cancel did not go through.
                Err(err) => {
                    t.note = Some(format!(
                        "still running at the timeout; the cancel failed: {err:#}"
                    ));
                }
            }
        }
        observe(t);
    }
    Ok(())
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
    fn the_worst_outcome_wins() {
        use Outcome::*;
        assert_eq!(Outcome::overall([Finished, Finished]), Finished);
        assert_eq!(Outcome::overall([Finished, Cancelled, Timeout]), Timeout);
        assert_eq!(Outcome::overall([Timeout, Failed]), Failed);
        assert_eq!(Outcome::overall([]), Finished);
    }

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
