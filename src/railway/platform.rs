//! Railway as a [`Platform`] (the third, after Coolify and Fly): an app is a service id in
//! one project and environment; what it runs is the image or commit of its newest `SUCCESS`
//! deployment (sorted by `createdAt` here); a deploy is railway-deploy's (deploy.rs): set the
//! image and deploy, or deploy a commit, and wait for Railway's verdict. Railway routes
//! traffic to a new deployment only once it is healthy, so a failed deploy leaves the
//! previous deployment serving: there is nothing to restore on the platform. At the deadline
//! or a signal what still runs is cancelled (`deploymentCancel`) when the request says so.

use std::time::Instant;

use super::client::{Client, shown};
use super::deploy::{self, HISTORY, Plan, Run, Source};
use super::model::Status;
use crate::commit::CommitSha;
use crate::platform::{self, AppResult, Deployed, Kind, Outcome, Request, Running, Version};

pub struct Railway {
    client: Client,
    pub project: String,
    pub environment: String,
}

impl Railway {
    pub fn new(client: Client, project: String, environment: String) -> Self {
        Self {
            client,
            project,
            environment,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

/// Railway's outcome as every tool reports it.
pub fn outcome(o: deploy::Outcome) -> Outcome {
    match o {
        deploy::Outcome::Success => Outcome::Finished,
        deploy::Outcome::Failed => Outcome::Failed,
        deploy::Outcome::Timeout => Outcome::Timeout,
        deploy::Outcome::Interrupted => Outcome::Interrupted,
    }
}

impl platform::Platform for Railway {
    /// One run per service, in order.
    type Evidence = Vec<Run>;

    const ON_SIGNAL: &'static str = "the new deployment was cancelled";

    fn name(&self) -> &'static str {
        "Railway"
    }

    /// The newest `SUCCESS` deployment (see rollback.rs for why not `latestDeployment` and
    /// not a `SLEEPING` one); its `meta.image`, else its `meta.commitHash` (model.rs).
    async fn running(&self, app: &str) -> anyhow::Result<Running> {
        let list = self
            .client
            .deployments(&self.project, &self.environment, app, HISTORY)
            .await?;
        let Some(current) = list.iter().find(|d| d.status == Status::Success) else {
            return Ok(Running {
                kind: Kind::Image,
                version: None,
                unknown: format!(
                    "service {} has no SUCCESS deployment among its newest {HISTORY}",
                    shown(app)
                ),
            });
        };
        if let Some(image) = current.image() {
            return Ok(Running {
                kind: Kind::Image,
                version: Some(Version::Image(image)),
                unknown: String::new(),
            });
        }
        let commit = current.commit().and_then(|c| CommitSha::parse(&c).ok());
        Ok(Running {
            kind: Kind::Commit,
            unknown: format!(
                "deployment {} of service {} names neither an image nor a full commit",
                shown(&current.id),
                shown(app)
            ),
            version: commit.map(Version::Commit),
        })
    }

    /// A deployment newer than the one serving that has not finished: any status but a final
    /// one ([`Status::is_final`]) and `SLEEPING`, which cli src/commands/output/
    /// service_summary.rs:316-325 does not count as in progress (`is_in_progress_status`:
    /// BUILDING DEPLOYING INITIALIZING QUEUED WAITING) and docs integrations/api/
    /// manage-deployments.md:179 calls "sleeping (inactive)". `NEEDS_APPROVAL`, `REMOVING`
    /// and statuses the schema does not list count as under way (fail closed: no rollback
    /// over them).
    async fn in_progress(&self, app: &str) -> anyhow::Result<Option<String>> {
        let list = self
            .client
            .deployments(&self.project, &self.environment, app, HISTORY)
            .await?;
        let busy = list
            .iter()
            .take_while(|d| d.status != Status::Success)
            .find(|d| !d.status.is_final() && d.status != Status::Sleeping);
        Ok(busy.map(|d| {
            format!(
                "deployment {} of service {} is {}: a deploy is under way; not rolling back over it",
                shown(&d.id),
                shown(app),
                d.status.as_str()
            )
        }))
    }

    fn can_deploy(&self, version: &Version) -> anyhow::Result<()> {
        match version {
            Version::Image(_) | Version::Commit(_) => Ok(()),
            Version::ImageTag(_) => Err(crate::exit::usage(
                "Railway deploys a full image reference or a commit, not an image tag alone",
            )),
        }
    }

    async fn deploy(
        &self,
        request: &Request,
        log: &(dyn Fn(&str) + Sync),
    ) -> anyhow::Result<Deployed<Vec<Run>>> {
        let mut runs = Vec::new();
        let mut apps = Vec::new();
        for (app, version) in &request.apps {
            self.can_deploy(version)?;
            let source = match version {
                Version::Commit(sha) => Source::Commit(sha.as_str().to_owned()),
                other => Source::Image(other.to_string()),
            };
            let plan = Plan {
                project: self.project.clone(),
                environment: self.environment.clone(),
                services: vec![app.clone()],
                source,
                timeout: request.deadline.saturating_duration_since(Instant::now()),
                poll_interval: request.poll_interval,
                cancel_on_timeout: request.cancel_on_timeout,
            };
            let run = deploy::run(&self.client, &plan, log).await?;
            let result = outcome(run.status);
            apps.push(AppResult {
                app: app.clone(),
                outcome: result,
            });
            runs.push(run);
            if result != Outcome::Finished {
                break;
            }
        }
        Ok(Deployed {
            status: Outcome::overall(apps.iter().map(|a| a.outcome)),
            apps,
            warnings: Vec::new(),
            left_changed: Vec::new(),
            evidence: runs,
        })
    }
}
