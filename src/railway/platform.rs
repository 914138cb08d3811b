//! Railway as a [`Platform`] (the third, after Coolify and Fly): an app is a service id in
//! one project and environment; what it runs is the image or commit of its newest `SUCCESS`
//! deployment (sorted by `createdAt` here); a deploy is railway-deploy's (deploy.rs): set the
//! image and deploy, or deploy a commit, and wait for Railway's verdict. Railway routes
//! traffic to a new deployment only once it is healthy, so a failed deploy leaves the
//! previous deployment serving: there is nothing to restore on the platform. At the deadline
//! or a signal what still runs is cancelled (`deploymentCancel`) when the request says so.

use std::time::{Duration, Instant};

use super::client::Client;
use super::deploy::{self, HISTORY, Plan, Run, Source};
use super::model::{Deployment, Status};
use super::rollback::{self, Method};
use crate::commit::CommitSha;
use crate::gha::shown;
use crate::gha::{Annotation, Level};
use crate::platform::{
    self, AppResult, Deployed, Kind, Outcome, Previous, Request, Rollback, Running, Served,
    Snapshot, Version,
};
/// What a deploy or rollback on Railway did, service by service (auto-rollback's report
/// keeps it as is).
pub use crate::report::auto_rollback::Railway as Evidence;

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
    /// One run per service, in order: deploys, or Railway's own rollbacks.
    type Evidence = Evidence;

    const ON_SIGNAL: &'static str = "the new deployment was cancelled";

    fn name(&self) -> &'static str {
        "Railway"
    }

    /// The service's newest deployments, listed once. It runs the newest `SUCCESS` one (see
    /// rollback.rs for why not `latestDeployment` and not a `SLEEPING` one): its `meta.image`,
    /// else its `meta.commitHash` (model.rs). A deploy is under way when a deployment newer
    /// than that one has not finished: any status but a final one ([`Status::is_final`]) and
    /// `SLEEPING`, which cli src/commands/output/service_summary.rs:316-325 does not count as in
    /// progress (`is_in_progress_status`: BUILDING DEPLOYING INITIALIZING QUEUED WAITING) and
    /// docs integrations/api/manage-deployments.md:179 calls "sleeping (inactive)".
    /// `NEEDS_APPROVAL`, `REMOVING` and statuses the schema does not list count as under way
    /// (fail closed: no rollback over them).
    async fn snapshot(&self, app: &str) -> anyhow::Result<Snapshot> {
        let list = self
            .client
            .deployments(&self.project, &self.environment, app, HISTORY)
            .await?;
        let busy = list
            .iter()
            .take_while(|d| d.status != Status::Success)
            .find(|d| !d.status.is_final() && d.status != Status::Sleeping);
        let in_progress = busy.map(|d| {
            format!(
                "deployment {} of service {} is {}: a deploy is under way; not rolling back over it",
                shown(&d.id),
                shown(app),
                d.status.as_str()
            )
        });
        let running = match list.iter().find(|d| d.status == Status::Success) {
            None => Running {
                kind: Kind::Image,
                version: None,
                unknown: format!(
                    "service {} has no SUCCESS deployment among its newest {HISTORY}",
                    shown(app)
                ),
            },
            Some(current) => match current.image() {
                Some(image) => Running {
                    kind: Kind::Image,
                    version: Some(Version::Image(image)),
                    unknown: String::new(),
                },
                None => Running {
                    kind: Kind::Commit,
                    unknown: format!(
                        "deployment {} of service {} names neither an image nor a full commit",
                        shown(&current.id),
                        shown(app)
                    ),
                    version: current
                        .commit()
                        .and_then(|c| CommitSha::parse(&c).ok())
                        .map(Version::Commit),
                },
            },
        };
        Ok(Snapshot {
            running,
            in_progress,
        })
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
    ) -> anyhow::Result<Deployed<Evidence>> {
        let mut runs: Vec<Run> = Vec::new();
        let mut apps = Vec::new();
        let mut reason = None;
        // Every version first: an app refused after an earlier one deployed would leave
        // that one changed for nothing.
        for (_, version) in &request.apps {
            self.can_deploy(version)?;
        }
        for (app, version) in &request.apps {
            if !runs.is_empty()
                && let Some((status, why)) =
                    self.not_started(app, request.deadline, request.poll_interval)
            {
                apps.push(AppResult {
                    app: app.clone(),
                    outcome: status,
                });
                reason = Some(why);
                break;
            }
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
            let run = match deploy::run(&self.client, &plan, log).await {
                Ok(run) => run,
                // Nothing changed yet, nothing accepted: a plain error. An accepted deploy
                // (`Unfinished`) is kept below, even the first.
                Err(err) if runs.is_empty() && !err.is::<deploy::Unfinished<Run>>() => {
                    return Err(err);
                }
                Err(err) => {
                    let changed = runs
                        .iter()
                        .flat_map(|r| {
                            r.services.iter().map(move |s| {
                                format!(
                                    "service {} was deployed ({})",
                                    shown(&s.service),
                                    shown(&r.source)
                                )
                            })
                        })
                        .collect();
                    // Its deploy was sent: what it started is kept and said, not dropped.
                    let why = match err.downcast::<deploy::Unfinished<Run>>() {
                        Ok(unfinished) => {
                            runs.push(unfinished.done);
                            may_have(app, "deployed", &unfinished.summary, &unfinished.error)
                        }
                        Err(err) => format!("service {} was not: {err:#}", shown(app)),
                    };
                    return Ok(partial(
                        apps,
                        changed,
                        app,
                        why,
                        Vec::new(),
                        Evidence::Deploys(runs),
                    ));
                }
            };
            let done = record(&mut apps, app, &run);
            reason = run.reason.clone();
            runs.push(run);
            if !done {
                break;
            }
        }
        Ok(deployed(apps, reason, Vec::new(), Evidence::Deploys(runs)))
    }

    /// The service's newest deployments: the newest `SUCCESS` one serves, the target is
    /// the newest earlier one that served (see `rollback.rs`).
    async fn previous(&self, app: &str) -> anyhow::Result<Result<Previous, String>> {
        let list = self
            .client
            .deployments(&self.project, &self.environment, app, HISTORY)
            .await?;
        let Some((current, Some(target))) = rollback::current_and_target(&list) else {
            return Ok(Err(format!(
                "service {} has no earlier deployment that served (SUCCESS or REMOVED) among its newest {HISTORY}",
                shown(app)
            )));
        };
        let served = |d: &Deployment| Served {
            id: d.id.clone(),
            image: d.image(),
            commit: d.commit(),
        };
        Ok(Ok(Previous {
            from: served(current),
            to: served(target),
            evidence: format!(
                "the deployment that served before ({}, {}{})",
                shown(&target.id),
                target.status.as_str(),
                if target.can_rollback {
                    ", image retained: deploymentRollback"
                } else {
                    ", outside the image retention window: redeploy"
                }
            ),
        }))
    }

    /// `deploymentRollback` service by service (a redeploy outside the image retention
    /// window, with a warning), each within what is left of the request's deadline; what
    /// still runs at the deadline or a signal is cancelled.
    async fn roll_back(
        &self,
        request: &Rollback,
        log: &(dyn Fn(&str) + Sync),
    ) -> anyhow::Result<Deployed<Evidence>> {
        let mut rolled: Vec<rollback::Rolled> = Vec::new();
        let mut apps = Vec::new();
        let mut warnings = Vec::new();
        let mut reason = None;
        for app in &request.apps {
            // Nothing is sent for a later service without the time to follow it, nor after a
            // signal: its rollback would run on unwatched.
            if !rolled.is_empty()
                && let Some((status, why)) =
                    self.not_started(app, request.deadline, request.poll_interval)
            {
                apps.push(AppResult {
                    app: app.clone(),
                    outcome: status,
                });
                reason = Some(why);
                break;
            }
            let done = match rollback::to_previous(
                &self.client,
                &self.project,
                &self.environment,
                app,
                request.poll_interval,
                request.deadline.saturating_duration_since(Instant::now()),
                true,
                log,
            )
            .await
            {
                Ok(done) => done,
                Err(err)
                    if rolled.is_empty() && !err.is::<deploy::Unfinished<rollback::Rolled>>() =>
                {
                    return Err(err);
                }
                // Earlier services were rolled back: an error would drop what they did.
                Err(err) => {
                    let changed = rolled
                        .iter()
                        .map(|r| {
                            format!(
                                "service {} was rolled back to deployment {}",
                                shown(r.run.services.first().map_or("", |s| s.service.as_str())),
                                shown(&r.to.deployment)
                            )
                        })
                        .collect();
                    let why = match err.downcast::<deploy::Unfinished<rollback::Rolled>>() {
                        Ok(unfinished) => {
                            rolled.push(unfinished.done);
                            may_have(app, "rolled back", &unfinished.summary, &unfinished.error)
                        }
                        Err(err) => format!("service {} was not: {err:#}", shown(app)),
                    };
                    return Ok(partial(
                        apps,
                        changed,
                        app,
                        why,
                        warnings,
                        Evidence::Rollbacks(rolled),
                    ));
                }
            };
            if done.method == Method::Redeploy {
                warnings.push(Annotation::new(
                    Level::Warning,
                    crate::codes::Railway::RailwayRedeploy.as_str(),
                    done.note.clone().unwrap_or_default(),
                ));
            }
            let finished = record(&mut apps, app, &done.run);
            reason = done.run.reason.clone();
            rolled.push(done);
            if !finished {
                break;
            }
        }
        Ok(deployed(
            apps,
            reason,
            warnings,
            Evidence::Rollbacks(rolled),
        ))
    }
}

/// The requests, each up to a request timeout, a later service sends before its new
/// deployment is known and read: rollback.rs `to_previous` sends the token's scope
/// (`deploy::check_scope`), the service's history, the `deploymentRollback` and the list
/// that finds the deployment it started (`find_new`); deploy.rs `run` sends the scope, the
/// history, `serviceInstanceUpdate` and `serviceInstanceDeploy` (its id comes back), then
/// its first read. Four either way, plus a poll before the read.
const REQUESTS_TO_FOLLOW: u32 = 4;

impl Railway {
    /// Why `app`, a service after the first, must not start: a signal came, or what is left
    /// of the deadline is under [`REQUESTS_TO_FOLLOW`] request timeouts and one poll, too
    /// little to find, follow or cancel what a mutation would start. The first service always starts: its budget is
    /// the whole deploy timeout the user chose.
    fn not_started(
        &self,
        app: &str,
        deadline: Instant,
        poll_interval: Duration,
    ) -> Option<(Outcome, String)> {
        if let Some(received) = crate::interrupt::received() {
            return Some((
                Outcome::Interrupted,
                format!(
                    "service {} was not started: {} received",
                    shown(app),
                    received.signal.name()
                ),
            ));
        }
        let minimum = poll_interval + self.client.request_timeout() * REQUESTS_TO_FOLLOW;
        if deadline.saturating_duration_since(Instant::now()) < minimum {
            return Some((
                Outcome::Timeout,
                format!(
                    "service {} was not started: the deploy timeout was used up (under {} left)",
                    shown(app),
                    crate::duration::human(minimum)
                ),
            ));
        }
        None
    }
}

/// An operational error on `app` after earlier services changed, or after Railway accepted
/// `app`'s own deploy or rollback: the answer keeps what they did (the evidence, the
/// warnings) and says a person must look (`left_changed`: the tool fails, exit 3), where an
/// error would drop it.
fn partial(
    mut apps: Vec<AppResult>,
    changed: Vec<String>,
    app: &str,
    why: String,
    warnings: Vec<Annotation>,
    evidence: Evidence,
) -> Deployed<Evidence> {
    apps.push(AppResult {
        app: app.to_owned(),
        outcome: Outcome::Failed,
    });
    Deployed {
        status: Outcome::Failed,
        apps,
        warnings,
        reason: Some(why.clone()),
        left_changed: vec![
            changed
                .into_iter()
                .chain([why])
                .collect::<Vec<_>>()
                .join("; "),
        ],
        evidence,
    }
}

/// Why `app` is not known to be done when Railway accepted its mutation before the error.
fn may_have(app: &str, done: &str, summary: &str, err: &anyhow::Error) -> String {
    format!(
        "service {} may have been {done} ({summary}): {err:#}",
        shown(app)
    )
}

/// One service's outcome among `apps`; true when it finished (the next may follow).
fn record(apps: &mut Vec<AppResult>, app: &str, run: &Run) -> bool {
    let result = outcome(run.status);
    apps.push(AppResult {
        app: app.to_owned(),
        outcome: result,
    });
    result == Outcome::Finished
}

/// A deploy's or rollback's answer: the worst outcome, and `reason` (the last run's) when
/// it did not finish.
fn deployed(
    apps: Vec<AppResult>,
    reason: Option<String>,
    warnings: Vec<Annotation>,
    evidence: Evidence,
) -> Deployed<Evidence> {
    let status = Outcome::overall(apps.iter().map(|a| a.outcome));
    let reason = reason.filter(|_| status != Outcome::Finished);
    Deployed {
        status,
        apps,
        warnings,
        reason,
        left_changed: Vec::new(),
        evidence,
    }
}
