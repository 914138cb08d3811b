//! A deploy that waits for Railway's verdict: for each service, set the image and deploy
//! (or deploy a commit), then read each new deployment every poll interval until it is
//! `SUCCESS` or will never serve (`FAILED`, `CRASHED`, `REMOVED`, `SKIPPED`), cancelling
//! what is still running at the timeout or on a signal (`cancel-on-timeout`). Statuses the
//! schema does not list are waited through until the deadline. A mutation answered with
//! `errors[]` is a failed deploy, never a success.
//!
//! `railway up --detach` returns once the deployment is queued (cli src/commands/up.rs:39);
//! without `--detach` it polls `deployment(id) { status }` every 5 s (up.rs:480-483) until
//! SUCCESS, FAILED or CRASHED (up.rs:438-470), which is the verdict this waits for.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::Client;
use super::model::Status;
use super::step::{self, Stop};
use super::token::TokenKind;
use crate::exit::usage;
use crate::gha::shown;

/// What to deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Set the service's source image, then deploy.
    Image(String),
    /// Deploy this commit of the connected repository.
    Commit(String),
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub project: String,
    pub environment: String,
    pub services: Vec<String>,
    pub source: Source,
    pub timeout: Duration,
    pub poll_interval: Duration,
    pub cancel_on_timeout: bool,
}

/// How many deployments are read to find what served before.
pub const HISTORY: u32 = 20;

/// The most services one run deploys. Each costs at least four requests (its history, the
/// image, the deploy, a read) plus one a poll, and the Free plan allows 100 requests an hour
/// (docs integrations/api.md:138): more belong in separate steps.
pub const MAX_SERVICES: usize = 20;

/// Refuses more than [`MAX_SERVICES`] services (exit 2), before any request.
pub fn check_service_count(count: usize) -> anyhow::Result<()> {
    if count > MAX_SERVICES {
        return Err(usage(format!(
            "invalid input `service`: {count} services given, at most {MAX_SERVICES} in one run (each costs several requests and Railway's Free plan allows 100 an hour): split them across steps"
        )));
    }
    Ok(())
}

/// How a Railway deploy (or rollback) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[cfg_attr(test, schemars(rename = "RailwayOutcome"))]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Success,
    Failed,
    Timeout,
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Timeout => "timeout",
            Self::Interrupted => "interrupted",
        }
    }
}

/// What served before this deploy.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Previous {
    pub deployment: String,
    pub image: Option<String>,
    pub commit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct ServiceRun {
    pub service: String,
    pub previous: Option<Previous>,
    pub deployment_id: Option<String>,
    /// Railway's last status of the new deployment.
    #[cfg_attr(test, schemars(with = "Option<String>"))]
    pub status: Option<Status>,
    pub cancelled: bool,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Run {
    pub status: Outcome,
    pub reason: Option<String>,
    pub source: String,
    pub services: Vec<ServiceRun>,
    /// GraphQL requests sent (retries included).
    pub requests: u32,
    pub polls: u32,
    pub seconds: f64,
}

/// Checks that a project token is for `project` and `environment` (a project token sees one
/// environment, docs integrations/api.md:60). Account tokens are not checked here.
pub async fn check_scope(client: &Client, project: &str, environment: &str) -> anyhow::Result<()> {
    if client.token_kind() != TokenKind::Project {
        return Ok(());
    }
    let scope = client.token_scope().await?;
    if scope.project_id != project {
        return Err(usage(format!(
            "invalid input `railway-project`: the project token belongs to project {}, not {}",
            shown(&scope.project_id),
            shown(project)
        )));
    }
    if scope.environment_id != environment {
        return Err(usage(format!(
            "invalid input `railway-environment`: the project token belongs to environment {}, not {}",
            shown(&scope.environment_id),
            shown(environment)
        )));
    }
    Ok(())
}

pub async fn run(client: &Client, plan: &Plan, log: &dyn Fn(&str)) -> anyhow::Result<Run> {
    check_service_count(plan.services.len())?;
    let started = Instant::now();
    let deadline = started + plan.timeout;
    let client = client.until(deadline);
    check_scope(&client, &plan.project, &plan.environment).await?;
    let mut services = Vec::new();
    for service in &plan.services {
        let list = client
            .deployments(&plan.project, &plan.environment, service, HISTORY)
            .await?;
        let previous = list
            .iter()
            .find(|d| d.status == Status::Success)
            .map(|d| Previous {
                deployment: d.id.clone(),
                image: d.image(),
                commit: d.commit(),
            });
        services.push(ServiceRun {
            service: service.clone(),
            previous,
            deployment_id: None,
            status: None,
            cancelled: false,
            note: None,
        });
    }
    let source = match &plan.source {
        Source::Image(image) => image.clone(),
        Source::Commit(sha) => format!("commit {sha}"),
    };
    let mut run = Run {
        status: Outcome::Success,
        reason: None,
        source,
        services,
        requests: 0,
        polls: 0,
        seconds: 0.0,
    };
    for at in 0..run.services.len() {
        match trigger(&client, plan, &mut run.services[at], log).await {
            Ok(Ok(())) => {}
            Ok(Err(stop)) => {
                run.status = stop.status;
                run.reason = Some(stop.reason);
                break;
            }
            Err(err) => return Err(keep_started(&client, run, err, plan, started, log).await),
        }
    }
    if run.status == Outcome::Success
        && let Err(err) = wait(
            &client,
            plan.poll_interval,
            plan.timeout,
            &mut run,
            deadline,
            log,
        )
        .await
    {
        return Err(keep_started(&client, run, err, plan, started, log).await);
    }
    if matches!(run.status, Outcome::Timeout | Outcome::Interrupted) && plan.cancel_on_timeout {
        cancel_unfinished(&client, &mut run, log).await;
    }
    run.requests = client.requests();
    run.seconds = started.elapsed().as_secs_f64();
    Ok(run)
}

/// An error after a deployment was started: what was started travels with the error
/// ([`Unfinished`]) instead of being dropped, cancelled first when the plan cancels what it
/// stops following (`cancel-on-timeout`). With nothing started the error is returned as is.
async fn keep_started(
    client: &Client,
    mut run: Run,
    err: anyhow::Error,
    plan: &Plan,
    started: Instant,
    log: &dyn Fn(&str),
) -> anyhow::Error {
    if run.services.iter().all(|s| s.deployment_id.is_none()) {
        return err;
    }
    let summary = settle(client, &mut run, &err, plan.cancel_on_timeout, log).await;
    run.requests = client.requests();
    run.seconds = started.elapsed().as_secs_f64();
    anyhow::Error::new(Unfinished {
        done: run,
        summary,
        error: err,
    })
}

/// A run (or a rollback) an error cut short after Railway accepted a mutation: what it did
/// so far, `summary` saying what may still be deploying (or was cancelled), and the error.
/// Its message is the summary, then the error; [`crate::exit::classify`] reads the error
/// through it.
#[derive(Debug)]
pub struct Unfinished<T> {
    pub done: T,
    pub summary: String,
    pub error: anyhow::Error,
}

impl<T> std::fmt::Display for Unfinished<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary)
    }
}

impl<T: std::fmt::Debug> std::error::Error for Unfinished<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        let error: &(dyn std::error::Error + Send + Sync + 'static) = self.error.as_ref();
        Some(error)
    }
}

/// Marks `run` failed by `err`, cancels what it started and has not finished when `cancel`
/// (as a timeout would), and says, deployment by deployment, what that left.
pub async fn settle(
    client: &Client,
    run: &mut Run,
    err: &anyhow::Error,
    cancel: bool,
    log: &dyn Fn(&str),
) -> String {
    run.status = Outcome::Failed;
    run.reason = Some(format!("{err:#}"));
    if cancel {
        cancel_unfinished(client, run, log).await;
    }
    let left: Vec<String> = run
        .services
        .iter()
        .filter_map(|s| {
            let id = s.deployment_id.as_deref()?;
            let state = match &s.status {
                Some(status) if status.is_final() => format!("ended {}", status.as_str()),
                _ if s.cancelled => "was cancelled".to_owned(),
                _ => "may still be deploying, unwatched: check it on Railway".to_owned(),
            };
            Some(format!(
                "deployment {} of service {} was started and {state}",
                shown(id),
                shown(&s.service)
            ))
        })
        .collect();
    left.join("; ")
}

/// Starts the new deployment of one service: sets the image and deploys, or deploys the
/// commit. A stop after the image was set says so: the service's source is changed, and
/// the next deploy of the service (a redeploy, an autodeploy, a restart) would run it.
async fn trigger(
    client: &Client,
    plan: &Plan,
    s: &mut ServiceRun,
    log: &dyn Fn(&str),
) -> anyhow::Result<Result<(), Stop>> {
    let commit = match &plan.source {
        Source::Image(image) => {
            if let Err(mut stop) =
                step::attempt(client.set_image(&plan.environment, &s.service, image)).await?
            {
                if stop.status != Outcome::Failed {
                    // No answer: Railway may have set it all the same.
                    stop.reason = format!(
                        "{}; the source image of service {} may already be set to {}: check the service's settings",
                        stop.reason,
                        shown(&s.service),
                        shown(image)
                    );
                }
                s.note = Some(stop.reason.clone());
                return Ok(Err(stop));
            }
            None
        }
        Source::Commit(sha) => Some(sha.as_str()),
    };
    let deployed = match (
        step::attempt(client.deploy(&plan.environment, &s.service, commit)).await,
        &plan.source,
    ) {
        // An error (a refused token, the network): it says what it leaves behind too.
        (Err(err), Source::Image(image)) => {
            return Err(err.context(image_left_set(&s.service, image, s.previous.as_ref())));
        }
        (result, _) => result?,
    };
    match deployed {
        Ok(id) => {
            log(&format!(
                "service {}: deployment {} queued",
                shown(&s.service),
                shown(&id)
            ));
            s.deployment_id = Some(id);
            Ok(Ok(()))
        }
        Err(mut stop) => {
            if let Source::Image(image) = &plan.source {
                let left = image_left_set(&s.service, image, s.previous.as_ref());
                log(&left);
                stop.reason = format!("{}; {left}", stop.reason);
            }
            if stop.status == Outcome::Failed || matches!(plan.source, Source::Image(_)) {
                s.note = Some(stop.reason.clone());
            }
            Ok(Err(stop))
        }
    }
}

/// What a stop between `serviceInstanceUpdate` and the deploy leaves behind, and what to do.
fn image_left_set(service: &str, image: &str, previous: Option<&Previous>) -> String {
    let before = previous.and_then(|p| p.image.as_deref()).map_or_else(
        || "what it was before is unknown (no SUCCESS deployment named an image)".to_owned(),
        |old| format!("it was {}", shown(old)),
    );
    format!(
        "the source image of service {} is already set to {} ({before}) but no deployment of it was started: the service's next deploy (a redeploy, an autodeploy, a restart) will run it; run this deploy again, or set the service's source image back in its settings",
        shown(service),
        shown(image)
    )
}

/// Reads every new deployment of `run` each `poll_interval` until all are final, the
/// `deadline` passes (`timeout` is only for the message) or a signal comes. With less than
/// a poll interval left, the last read falls at the deadline ([`step::pace`]), so a
/// deployment that succeeded in the last seconds is a success, not a timeout.
pub async fn wait(
    client: &Client,
    poll_interval: Duration,
    timeout: Duration,
    run: &mut Run,
    deadline: Instant,
    log: &dyn Fn(&str),
) -> anyhow::Result<()> {
    let mut unknown_seen: Vec<Status> = Vec::new();
    loop {
        let read = match step::pace(client, poll_interval, deadline).await {
            Ok(read) => read,
            Err(stop) => {
                run.status = stop.status;
                run.reason = Some(stop.reason);
                return Ok(());
            }
        };
        run.polls += 1;
        for s in run.services.iter_mut() {
            let Some(id) = s.deployment_id.clone() else {
                continue;
            };
            if s.status.as_ref().is_some_and(Status::is_final) {
                continue;
            }
            let deployment = match step::read(read.client.deployment(&id)).await? {
                Ok(d) => d,
                Err(stop) => {
                    run.status = stop.status;
                    run.reason = Some(stop.reason);
                    return Ok(());
                }
            };
            if deployment.id != id {
                anyhow::bail!(
                    "read deployment {}: the answer is deployment {}",
                    shown(&id),
                    shown(&deployment.id)
                );
            }
            if matches!(deployment.status, Status::Unknown(_))
                && !unknown_seen.contains(&deployment.status)
            {
                log(&format!(
                    "deployment {}: status {} is not in the schema we know; waiting on until the timeout",
                    shown(&id),
                    deployment.status.as_str()
                ));
                unknown_seen.push(deployment.status.clone());
            }
            if s.status.as_ref() != Some(&deployment.status) {
                log(&format!(
                    "service {}: deployment {} {}",
                    shown(&s.service),
                    shown(&id),
                    deployment.status.as_str()
                ));
            }
            s.status = Some(deployment.status);
        }
        let all_final = run
            .services
            .iter()
            .all(|s| s.status.as_ref().is_some_and(Status::is_final));
        if all_final {
            let bad: Vec<String> = run
                .services
                .iter()
                .filter(|s| s.status != Some(Status::Success))
                .map(|s| {
                    format!(
                        "service {} deployment {} {}",
                        shown(&s.service),
                        shown(s.deployment_id.as_deref().unwrap_or("?")),
                        s.status.as_ref().map_or("?".into(), Status::as_str)
                    )
                })
                .collect();
            if !bad.is_empty() {
                run.status = Outcome::Failed;
                run.reason = Some(bad.join(", "));
            }
            return Ok(());
        }
        if read.last {
            run.status = Outcome::Timeout;
            run.reason = Some(format!(
                "not finished within the timeout ({})",
                crate::duration::human(timeout)
            ));
            return Ok(());
        }
    }
}

/// Cancels every new deployment that has not finished: within the cleanup budget after a
/// signal, else within the cancel grace every platform gets (auto-rollback's outer timer
/// leaves room for it, not for more).
pub async fn cancel_unfinished(client: &Client, run: &mut Run, log: &dyn Fn(&str)) {
    let budget = crate::interrupt::received()
        .map_or(Instant::now() + crate::platform::grace::CANCEL_GRACE, |r| {
            r.cleanup_deadline()
        });
    let client = client.until(budget);
    for s in run.services.iter_mut() {
        let Some(id) = s.deployment_id.clone() else {
            continue;
        };
        if s.status.as_ref().is_some_and(Status::is_final) {
            continue;
        }
        match crate::interrupt::within_cleanup(client.cancel(&id)).await {
            Some(Ok(())) => {
                s.cancelled = true;
                log(&format!(
                    "service {}: deployment {} cancelled",
                    shown(&s.service),
                    shown(&id)
                ));
            }
            Some(Err(err)) => {
                s.note = Some(format!("cancel failed: {err}"));
                log(&format!(
                    "service {}: cancel failed: {err}",
                    shown(&s.service)
                ));
            }
            None => s.note = Some("cancel not finished within the cleanup budget".into()),
        }
    }
}
