//! Git-based applications (build packs nixpacks, dockerfile, static, dockercompose): Coolify
//! builds them from a repository, so `docker_registry_image_tag` never chooses what runs (a
//! git build tags its image with the commit: ApplicationDeploymentJob.php L1202 at v4.2.0).
//! Deploying exactly one commit, by server version:
//! - 4.3.0 and newer: `POST /applications/{uuid}/rollback` with `{"commit": "<40 hex>"}`
//!   (ApplicationsController.php `rollback_by_uuid` L5575–5666 at 379abb25: needs `deploy`,
//!   never deduplicated, 400 when the queue is full, 422 for a bad ref). Nothing is pinned.
//! - 4.2.x: PATCH `git_commit_sha`, deploy, and put the old value back whatever happens: the
//!   pin is read by every later deploy (applications.php L16 at v4.2.0, `$commit ?:
//!   ($application->git_commit_sha ?: 'HEAD')`), so a forgotten pin freezes the app.
//! - older: the job overwrote any pin with the branch head (`git ls-remote`) until
//!   7a853efa79 (first in v4.2.0), so a commit cannot be chosen at all.

use std::time::Instant;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::client::{Client, Target};
use super::deploy_request::{Sent, send_deploy_request};
use super::model::{Application, Deployment, DeploymentStatus, Queued};
use super::rollout::{self, Observer, Plan, Rollout};
use super::version::Feature;
use crate::commit::CommitSha;
use crate::gha::Untrusted;
use crate::platform::grace::RESTORE_GRACE;

/// The build pack of a Docker-image app: the only kind an image tag deploys.
pub const DOCKER_IMAGE: &str = "dockerimage";

/// The value of `git_commit_sha` that means "the branch head" (Coolify's column default).
pub const HEAD: &str = "HEAD";

/// How Coolify builds an app, from its `build_pack`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppKind {
    /// `dockerimage`: deployed by image tag.
    Image,
    /// Built from a repository by this build pack: deployed by commit.
    Git(Untrusted),
}

impl AppKind {
    /// The kind of `app`; an app without a build pack is not guessed at.
    pub fn of(app: &Application) -> Result<Self, String> {
        match app.build_pack.as_ref().filter(|b| !b.is_empty()) {
            Some(pack) if pack.as_raw() == DOCKER_IMAGE => Ok(Self::Image),
            Some(pack) => Ok(Self::Git(pack.clone())),
            None => Err(format!(
                "Coolify did not say how app {} is built (no `build_pack`), so neither an image tag nor a commit can be chosen safely",
                app.uuid
            )),
        }
    }

    pub fn is_git(&self) -> bool {
        matches!(self, Self::Git(_))
    }
}

/// One app whose `git_commit_sha` this run changed, and what became of it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Pin {
    pub app: String,
    /// The value put back: what the app had before (`HEAD` when it had nothing).
    pub restore_to: String,
    pub restored: bool,
    /// Why putting it back failed.
    pub error: Option<String>,
}

/// A commit deploy: the rollout, and every pin it set (4.2.x only).
#[derive(Debug, Clone)]
pub struct Deployed {
    pub rollout: Rollout,
    pub pins: Vec<Pin>,
}

impl Deployed {
    /// Pins that could not be put back: later deploys of these apps build the old commit.
    pub fn pins_left(&self) -> impl Iterator<Item = &Pin> {
        self.pins.iter().filter(|p| !p.restored)
    }
}

/// The error for a server that cannot build a chosen commit (exit 2: nothing was changed).
pub fn unsupported(server: impl std::fmt::Display) -> anyhow::Error {
    crate::exit::usage(format!(
        "Coolify {server} cannot deploy a chosen commit of a git-based app: pinning a commit is not supported before {} (older servers always build the branch head); upgrade Coolify, or deploy the branch head by hand",
        Feature::CommitPin.since()
    ))
}

/// Deploys `plan.commit` of every app in `plan.target` (application UUIDs of git-based apps)
/// and waits as `plan` says. On 4.2.x the pins are put back on every path out of the
/// rollout (finished, failed, cancelled, timed out, or an error), each within its own
/// [`RESTORE_GRACE`] after the rollout returned.
pub async fn run(client: &Client, plan: &Plan, observe: Observer<'_>) -> anyhow::Result<Deployed> {
    let (Some(commit), Target::Apps(apps)) = (&plan.commit, &plan.target) else {
        anyhow::bail!("a commit deploy needs application UUIDs and a commit");
    };
    if !client.supports(Feature::CommitPin) {
        let server = client
            .known_version()
            .map_or_else(|| "(unknown version)".to_owned(), |v| v.to_string());
        return Err(unsupported(server));
    }
    if client.supports(Feature::RollbackEndpoint) {
        // rollout::start sends each app's commit to `/rollback`.
        let rollout = rollout::run(client, plan, observe).await?;
        return Ok(Deployed {
            rollout,
            pins: Vec::new(),
        });
    }
    let mut guard = PinGuard {
        pins: Vec::new(),
        commit,
    };
    let outcome = pin_and_deploy(client, plan, apps, commit, observe, &mut guard.pins).await;
    // Whatever happened above, every pin set (or perhaps set) is put back now.
    let restorer = client.until(Instant::now() + RESTORE_GRACE);
    for pin in &mut guard.pins {
        match set_commit_pin(&restorer, &pin.app, &pin.restore_to).await {
            Ok(()) => pin.restored = true,
            Err(err) => pin.error = Some(format!("{err:#}")),
        }
    }
    let pins = std::mem::take(&mut guard.pins);
    match outcome {
        Ok(rollout) => Ok(Deployed { rollout, pins }),
        Err(err) => {
            let left: Vec<String> = pins
                .iter()
                .filter(|p| !p.restored)
                .map(|p| pin_left_line(p, commit))
                .collect();
            if left.is_empty() {
                Err(err)
            } else {
                Err(err.context(left.join("; ")))
            }
        }
    }
}

/// Holds the pins while they may be set. The restore above runs on every path out of the
/// rollout; only a run stopped from outside (its future dropped: a signal, an outer timer)
/// skips it, and then this says loudly which app is left pinned and how to fix it.
struct PinGuard<'a> {
    pins: Vec<Pin>,
    commit: &'a CommitSha,
}

impl Drop for PinGuard<'_> {
    fn drop(&mut self) {
        for pin in self.pins.iter().filter(|p| !p.restored) {
            let pin = Pin {
                error: Some("the run was stopped before it could put it back".to_owned()),
                ..pin.clone()
            };
            tracing::error!("{}", pin_left_line(&pin, self.commit));
        }
    }
}

/// What to tell the user about a pin that stayed.
pub fn pin_left_line(pin: &Pin, commit: &CommitSha) -> String {
    format!(
        "the commit pin of app {} could not be put back to {} ({}): every later deploy of it builds {commit} until you set Git Commit SHA back to {} in Coolify",
        pin.app,
        pin.restore_to,
        pin.error.as_deref().unwrap_or("not attempted"),
        pin.restore_to
    )
}

/// 4.2.x: remember each app's pin, pin `commit`, then deploy (a plain deploy builds the pin:
/// applications.php L16 at v4.2.0).
async fn pin_and_deploy(
    client: &Client,
    plan: &Plan,
    apps: &[String],
    commit: &CommitSha,
    observe: Observer<'_>,
    pins: &mut Vec<Pin>,
) -> anyhow::Result<Rollout> {
    let started = Instant::now();
    let client = &client.until((started + plan.timeout).min(client.deadline()));
    for app in apps {
        let current = client.application(app).await?;
        let before = current
            .git_commit_sha
            .map(Untrusted::into_raw)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty() && valid_ref(v))
            .unwrap_or_else(|| HEAD.to_owned());
        // Recorded before the PATCH: a PATCH that timed out may still have been applied.
        pins.push(Pin {
            app: app.clone(),
            restore_to: before,
            restored: false,
            error: None,
        });
        set_commit_pin(client, app, commit.as_str()).await?;
    }
    let plain = Plan {
        commit: None,
        timeout: plan.timeout.saturating_sub(started.elapsed()),
        ..plan.clone()
    };
    rollout::run(client, &plain, observe).await
}

/// What Coolify's PATCH validation accepts for `git_commit_sha`:
/// `regex:/^[a-zA-Z0-9][a-zA-Z0-9._\-\/]*$/` (bootstrap/helpers/api.php, sharedDataApplications,
/// 379abb25). A value outside it is never sent back; HEAD is restored instead.
fn valid_ref(value: &str) -> bool {
    let mut bytes = value.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
        && value.len() <= 255
}

/// `PATCH /applications/{uuid}` with `git_commit_sha`.
async fn set_commit_pin(client: &Client, app: &str, value: &str) -> anyhow::Result<()> {
    let url = client.url(&["applications", app], &[]);
    let body = json!({ "git_commit_sha": value });
    let _: Value = client
        .json(
            &format!("PATCH /applications/{app} (git_commit_sha {value})"),
            Method::PATCH,
            url,
            Some(&body),
        )
        .await?;
    Ok(())
}

/// `POST /applications/{uuid}/rollback {"commit"}` (4.3.0+), as a deploy answer item.
pub(super) async fn queue_commit(
    client: &Client,
    app: &str,
    commit: &CommitSha,
) -> anyhow::Result<Queued> {
    #[derive(Deserialize)]
    struct Answer {
        #[serde(default)]
        message: Untrusted,
        #[serde(default)]
        deployment_uuid: Option<Untrusted>,
    }
    // `/rollback` is never deduplicated (applications.php L56, `! $rollback`): a build of
    // this very commit already queued or running (a push webhook's) is followed instead of
    // queuing a second one.
    let page = client.app_deployments(app, 0, 10).await?;
    if let Some(same) = page.deployments.iter().find(|d| {
        d.status.is_active()
            && d.pull_request_id.unwrap_or(0) == 0
            && d.commit
                .as_ref()
                .is_some_and(|c| c.as_raw().trim().eq_ignore_ascii_case(commit.as_str()))
    }) {
        return Ok(Queued {
            resource_uuid: Untrusted::from(app),
            deployment_uuid: Some(same.deployment_uuid.clone()),
            message: Untrusted::new(format!(
                "a deployment of commit {} was already {}; following it",
                commit.short(),
                same.status.as_str()
            )),
            note: None,
        });
    }
    let url = client.url(&["applications", app, "rollback"], &[]);
    let body = json!({ "commit": commit.as_str() });
    let what = format!("POST /applications/{app}/rollback to {}", commit.short());
    // 200 {"message","deployment_uuid"}; 200 {"message"} when skipped; 400 when the queue
    // is full (ApplicationsController.php L5648–5654 at 379abb25). Sent at most once unless
    // the app's deployments show it was not queued (never deduplicated: a blind retry after
    // a 5xx would queue a second build).
    let apps = [app.to_owned()];
    let sent = send_deploy_request(client, &apps, |once| {
        let (what, url, body) = (what.clone(), url.clone(), body.clone());
        async move {
            once.json::<Answer>(&what, Method::POST, url, Some(&body))
                .await
        }
    })
    .await?;
    Ok(match sent {
        Sent::Answered(answer) => Queued {
            resource_uuid: Untrusted::from(app),
            deployment_uuid: answer.deployment_uuid.filter(|u| !u.is_empty()),
            message: answer.message,
            note: None,
        },
        Sent::Unanswered { cause, queued } => {
            let uuid = queued.into_iter().next().map(|(_, d)| d.deployment_uuid);
            Queued {
                note: uuid.as_ref().map(|u| {
                    format!(
                        "the rollback request got no answer ({cause}), but Coolify had queued deployment {u}; not sent again"
                    )
                }),
                resource_uuid: Untrusted::from(app),
                deployment_uuid: uuid,
                message: Untrusted::default(),
            }
        }
    })
}

/// What runs now on a git-based app: the commit of its newest finished deployment that is
/// not a pull-request preview (`GET /deployments/applications/{uuid}`, newest first:
/// Application.php `deployments()` L1118 at 379abb25; columns `commit`, `pull_request_id`,
/// `status`). A running job replaces `HEAD` with the resolved SHA (job L2386–2387 at
/// v4.2.0), so a finished one names a real commit. `None` when no finished deployment in
/// the last `look_at` names a full SHA.
pub async fn running_commit(
    client: &Client,
    app: &str,
    look_at: u32,
) -> anyhow::Result<Option<CommitSha>> {
    let page = client.app_deployments(app, 0, look_at).await?;
    Ok(commit_in(&page.deployments))
}

/// The commit of the newest finished deployment (not a pull request's) among
/// `deployments` (newest first).
pub fn commit_in(deployments: &[Deployment]) -> Option<CommitSha> {
    deployments
        .iter()
        .filter(|d| d.pull_request_id.unwrap_or(0) == 0)
        .find(|d| d.status == DeploymentStatus::Finished)
        .and_then(|d| d.commit.as_ref())
        .and_then(|c| CommitSha::parse(c.as_raw().trim()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(pack: Option<&str>) -> Application {
        serde_json::from_value(json!({"uuid": "a", "build_pack": pack})).unwrap()
    }

    #[test]
    fn kinds_come_from_the_build_pack() {
        assert_eq!(AppKind::of(&app(Some("dockerimage"))), Ok(AppKind::Image));
        for pack in ["nixpacks", "dockerfile", "static", "dockercompose"] {
            assert!(AppKind::of(&app(Some(pack))).unwrap().is_git(), "{pack}");
        }
        assert!(AppKind::of(&app(None)).is_err());
        assert!(AppKind::of(&app(Some(""))).is_err());
    }

    #[test]
    fn only_refs_coolify_accepts_are_restored() {
        assert!(valid_ref("HEAD"));
        assert!(valid_ref("0123456789abcdef0123456789abcdef01234567"));
        assert!(valid_ref("release/1.2"));
        for bad in ["", "-x", "/x", "a b", "a;rm", "ä"] {
            assert!(!valid_ref(bad), "{bad:?}");
        }
    }
}
