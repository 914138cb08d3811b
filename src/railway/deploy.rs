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

use super::client::{Client, shown};
use super::error::GraphQlError;
use super::model::Status;
use super::token::TokenKind;
use crate::exit::usage;

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

/// A refused mutation (not a refused token): a failed deploy.
fn refusal(err: &anyhow::Error) -> Option<String> {
    err.chain()
        .find_map(|e| e.downcast_ref::<GraphQlError>())
        .filter(|e| !e.is_auth())
        .map(ToString::to_string)
}

pub async fn run(client: &Client, plan: &Plan, log: &dyn Fn(&str)) -> anyhow::Result<Run> {
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
    for i in 0..run.services.len() {
        let service = run.services[i].service.clone();
        let triggered = async {
            match &plan.source {
                Source::Image(image) => {
                    client.set_image(&plan.environment, &service, image).await?;
                    client.deploy(&plan.environment, &service, None).await
                }
                Source::Commit(sha) => client.deploy(&plan.environment, &service, Some(sha)).await,
            }
        };
        match crate::interrupt::unless_requested(triggered).await {
            Ok(Ok(id)) => {
                log(&format!(
                    "service {}: deployment {} queued",
                    shown(&service),
                    shown(&id)
                ));
                run.services[i].deployment_id = Some(id);
            }
            Ok(Err(err)) => match refusal(&err) {
                Some(why) => {
                    run.services[i].note = Some(why.clone());
                    run.status = Outcome::Failed;
                    run.reason = Some(why);
                    break;
                }
                None if crate::http::is_deadline(&err) => {
                    run.status = Outcome::Timeout;
                    run.reason = Some(format!("no answer before the timeout ({err})"));
                    break;
                }
                None => return Err(err),
            },
            Err(received) => {
                run.status = Outcome::Interrupted;
                run.reason = Some(received.describe());
                break;
            }
        }
    }
    if run.status == Outcome::Success {
        wait(
            &client,
            plan.poll_interval,
            plan.timeout,
            &mut run,
            deadline,
            log,
        )
        .await?;
    }
    if matches!(run.status, Outcome::Timeout | Outcome::Interrupted) && plan.cancel_on_timeout {
        cancel_unfinished(&client, &mut run, log).await;
    }
    run.requests = client.requests();
    run.seconds = started.elapsed().as_secs_f64();
    Ok(run)
}

/// Reads every new deployment of `run` each `poll_interval` until all are final, the
/// `deadline` passes (`timeout` is only for the message) or a signal comes.
pub async fn wait(
    client: &Client,
    poll_interval: Duration,
    timeout: Duration,
    run: &mut Run,
    deadline: Instant,
    log: &dyn Fn(&str),
) -> anyhow::Result<()> {
    let mut unknown_seen: Vec<String> = Vec::new();
    loop {
        // Polls at least `poll_interval` apart (>= 5 s outside tests: 100 requests an hour).
        let next = Instant::now() + poll_interval;
        if next >= deadline {
            run.status = Outcome::Timeout;
            run.reason = Some(format!(
                "not finished within the timeout ({})",
                crate::duration::human(timeout)
            ));
            return Ok(());
        }
        let pause = tokio::time::sleep_until(next.into());
        if let Err(received) = crate::interrupt::unless_requested(pause).await {
            run.status = Outcome::Interrupted;
            run.reason = Some(received.describe());
            return Ok(());
        }
        run.polls += 1;
        for s in run.services.iter_mut() {
            let Some(id) = s.deployment_id.clone() else {
                continue;
            };
            if s.status.as_ref().is_some_and(Status::is_final) {
                continue;
            }
            let read = crate::interrupt::unless_requested(client.deployment(&id)).await;
            let deployment = match read {
                Err(received) => {
                    run.status = Outcome::Interrupted;
                    run.reason = Some(received.describe());
                    return Ok(());
                }
                Ok(Err(err)) if crate::http::is_deadline(&err) => {
                    run.status = Outcome::Timeout;
                    run.reason = Some("no answer before the timeout".into());
                    return Ok(());
                }
                Ok(Err(err)) => return Err(err),
                Ok(Ok(d)) => d,
            };
            if deployment.id != id {
                anyhow::bail!(
                    "read deployment {}: the answer is deployment {}",
                    shown(&id),
                    shown(&deployment.id)
                );
            }
            if let Status::Unknown(text) = &deployment.status
                && !unknown_seen.contains(text)
            {
                log(&format!(
                    "deployment {}: status {text} is not in the schema we know; waiting on until the timeout",
                    shown(&id)
                ));
                unknown_seen.push(text.clone());
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
                        s.status.as_ref().map_or("?", Status::as_str)
                    )
                })
                .collect();
            if !bad.is_empty() {
                run.status = Outcome::Failed;
                run.reason = Some(bad.join(", "));
            }
            return Ok(());
        }
    }
}

/// Cancels every new deployment that has not finished: within the cleanup budget after a
/// signal, else within 30 s of now.
pub async fn cancel_unfinished(client: &Client, run: &mut Run, log: &dyn Fn(&str)) {
    let budget = match crate::interrupt::received() {
        Some(r) => r.cleanup_deadline(),
        None => Instant::now() + Duration::from_secs(30),
    };
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
