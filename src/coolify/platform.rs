//! Coolify as a [`Platform`]: an app runs an image tag (Docker-image apps) or a commit
//! (git-based apps, see `git.rs`); a deploy is the rollout (`rollout.rs`), by commit through
//! `git::run`; restore puts the previous image tag back (`restore.rs`) and cancel is
//! Coolify's own (`POST /deployments/{uuid}/cancel`), both inside the rollout.

use std::time::Instant;

use super::client::{self, Client};
use super::git::{self, AppKind, Deployed as GitDeployed};
use super::rollout::{self, Plan, Tracked};
use super::version::{Feature, ServerVersion};
use super::{ImageTag, Target};
use crate::gha::Untrusted;
use crate::platform::{self, AppResult, Deployed, Kind, Request, Running, Snapshot, Version};

/// How many of a git-based app's newest deployments are read to find what runs now.
pub const RUNNING_LOOKBACK: u32 = 20;

/// One Coolify server whose version was read.
pub struct Coolify {
    client: Client,
    server: ServerVersion,
}

impl Coolify {
    /// Reads the server's version (what it can do depends on it); an unreadable version is
    /// a [`ServerVersion::warning`], and the server is taken for the newest.
    pub async fn connect(mut client: Client) -> anyhow::Result<Self> {
        let server = client.version().await?;
        Ok(Self { client, server })
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn server(&self) -> &ServerVersion {
        &self.server
    }
}

impl platform::Platform for Coolify {
    /// The rollout, and the commit pins it set (Coolify 4.2.x git-based apps).
    type Evidence = GitDeployed;

    const ON_SIGNAL: &'static str = "the rollback deployment was cancelled";

    fn name(&self) -> &'static str {
        "Coolify"
    }

    /// The app's record, and its newest deployments once: a git-based app's commit is the
    /// newest finished one among [`RUNNING_LOOKBACK`]; a deployment under way is an active
    /// one among the newest `client::ACTIVE_LOOKBACK`.
    async fn snapshot(&self, app: &str) -> anyhow::Result<Snapshot> {
        let record = self.client.application(app).await?;
        let git = AppKind::of(&record).map_err(anyhow::Error::msg)?.is_git();
        let look_at = if git {
            RUNNING_LOOKBACK
        } else {
            client::ACTIVE_LOOKBACK
        };
        let deployments = self
            .client
            .app_deployments(app, 0, look_at)
            .await?
            .deployments;
        let in_progress = client::active(&deployments).map(|active| {
            format!(
                "deployment {} of app {app} is {}: not rolling back over it",
                Untrusted::one_line(active.deployment_uuid.as_raw(), 64),
                active.status.as_str()
            )
        });
        let running = if git {
            Running {
                kind: Kind::Commit,
                version: git::commit_in(&deployments).map(Version::Commit),
                unknown: format!(
                    "none of the last {RUNNING_LOOKBACK} deployments of git-based app {app} finished with a known commit, so what runs now is unknown; deploy a commit with coolify-deploy (`commit`) first"
                ),
            }
        } else {
            let tag = record.docker_registry_image_tag.unwrap_or_default();
            // The server's text: shown neutralised, one bounded line; only parsed raw.
            let shown = Untrusted::one_line(tag.as_raw(), 140);
            Running {
                kind: Kind::ImageTag,
                version: ImageTag::parse(tag.as_raw()).ok().map(Version::ImageTag),
                unknown: format!(
                    "the image tag \"{shown}\" of app {app} does not map to a commit through `image-tag-template`: deploy a commit's image tag with coolify-deploy (`image-tag`) so the running version is known"
                ),
            }
        };
        Ok(Snapshot {
            running,
            in_progress,
        })
    }

    fn can_deploy(&self, version: &Version) -> anyhow::Result<()> {
        match version {
            Version::Commit(_) if !self.client.supports(Feature::CommitPin) => {
                Err(git::unsupported(&self.server))
            }
            Version::Image(_) => Err(crate::exit::usage(
                "Coolify deploys an image tag or a commit, not a full image reference",
            )),
            _ => Ok(()),
        }
    }

    /// One rollout of every app (Coolify deploys one version to all of them), forced, waited
    /// for; by commit through [`git::run`]. Restore is always on: a tag set for a deploy
    /// that did not finish is put back (the old container still runs, `restore.rs`), and a
    /// commit pin on every path (`git.rs`), each within its grace period of
    /// `platform::grace` (so `restore_until` is not needed); `cancel_on_timeout` is
    /// Coolify's cancel.
    async fn deploy(
        &self,
        request: &Request,
        log: &(dyn Fn(&str) + Sync),
    ) -> anyhow::Result<Deployed<GitDeployed>> {
        let Some((_, version)) = request.apps.first() else {
            anyhow::bail!("nothing to deploy: no app");
        };
        if let Some((app, other)) = request.apps.iter().find(|(_, v)| v != version) {
            anyhow::bail!(
                "Coolify deploys one version to every app, but app {app} was given {other}, not {version}"
            );
        }
        let (image_tag, commit) = match version {
            Version::ImageTag(tag) => (Some(tag.clone()), None),
            Version::Commit(sha) => (None, Some(sha.clone())),
            Version::Image(_) => {
                self.can_deploy(version)?;
                (None, None)
            }
        };
        let plan = Plan {
            target: Target::Apps(request.apps.iter().map(|(app, _)| app.clone()).collect()),
            image_tag,
            commit: commit.clone(),
            force: true,
            wait: true,
            timeout: request.deadline.saturating_duration_since(Instant::now()),
            poll_interval: request.poll_interval,
            cancel_on_timeout: request.cancel_on_timeout,
        };
        let observe = |t: &Tracked| log(&format!("{}: deployment {}", t.name(), t.status));
        let deployed = match &plan.commit {
            Some(_) => git::run(&self.client, &plan, &observe).await?,
            None => GitDeployed {
                rollout: rollout::run(&self.client, &plan, &observe).await?,
                pins: Vec::new(),
            },
        };
        let left_changed = match &commit {
            Some(commit) => deployed
                .pins_left()
                .map(|pin| git::pin_left_line(pin, commit))
                .collect(),
            None => Vec::new(),
        };
        Ok(Deployed {
            status: deployed.rollout.status,
            apps: deployed
                .rollout
                .deployments
                .iter()
                .map(|t| AppResult {
                    app: t.app.as_raw().to_owned(),
                    outcome: t.outcome,
                })
                .collect(),
            warnings: super::warnings::annotations(&deployed.rollout),
            reason: None,
            left_changed,
            evidence: deployed,
        })
    }
}
