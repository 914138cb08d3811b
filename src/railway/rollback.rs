//! Rolling a Railway service back to the deployment that served before the one running now
//! (auto-rollback's `source: platform` on Railway).
//!
//! What runs now is the newest `SUCCESS` deployment, by `createdAt` sorted here, not
//! `serviceInstance.latestDeployment`: that is "the most recent deployment" (schema
//! description), which may be queued, awaiting approval or failed (cli
//! src/commands/output/service_summary.rs:113-115 keeps it apart from the serving one for
//! that reason). A `SLEEPING` deployment is not taken as running: no source says it serves
//! now ("sleeping (inactive)", docs integrations/api/manage-deployments.md:179), so a
//! service whose newest deployment sleeps has nothing to roll back from (fail closed).
//!
//! The target is the newest earlier deployment that may have served: `SUCCESS` or `REMOVED`
//! (a replaced deployment ends `REMOVED`, docs deployments/reference.md:64; see
//! [`Status::served`] for why that alone proves nothing and what makes up for it). With
//! `canRollback` it goes through `deploymentRollback`, which restores its image and custom
//! variables (docs deployments/deployment-actions.md:24-25) and returns only a Boolean
//! (schema), so the new deployment is found by listing. Without it (the image is outside
//! the plan's retention window, guides/roll-back-bad-deploy.md:29-42) the target is
//! redeployed (`deploymentRedeploy`, its image again when it had one), which rebuilds, and
//! the run says so. The mutations are sent as deploy.rs sends its own ([`step::attempt`]).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::client::Client;
use super::deploy::{self, HISTORY, Outcome, Previous, Run, ServiceRun};
use super::model::{Deployment, Status};
use super::step::{self, Stop};
use crate::exit::check_failed;
use crate::gha::shown;

/// How the target was brought back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// `deploymentRollback`: the retained image and the variables restored.
    DeploymentRollback,
    /// `deploymentRedeploy`: outside the retention window, rebuilt from its source.
    Redeploy,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Rolled {
    /// What ran when the rollback began.
    pub from: Previous,
    /// What it rolled back to.
    pub to: Previous,
    pub method: Method,
    /// Why the fallback was taken, when it was.
    pub note: Option<String>,
    #[serde(flatten)]
    pub run: Run,
}

fn previous(d: &Deployment) -> Previous {
    Previous {
        deployment: d.id.clone(),
        image: d.image(),
        commit: d.commit(),
    }
}

/// The deployment serving now and the one that served before it, from a newest-first list.
pub fn current_and_target(list: &[Deployment]) -> Option<(&Deployment, Option<&Deployment>)> {
    let at = list.iter().position(|d| d.status == Status::Success)?;
    let target = list[at + 1..].iter().find(|d| d.status.served());
    Some((&list[at], target))
}

#[allow(clippy::too_many_arguments)]
pub async fn to_previous(
    client: &Client,
    project: &str,
    environment: &str,
    service: &str,
    poll_interval: Duration,
    timeout: Duration,
    cancel_on_timeout: bool,
    log: &dyn Fn(&str),
) -> anyhow::Result<Rolled> {
    let started = Instant::now();
    let deadline = started + timeout;
    let client = client.until(deadline);
    deploy::check_scope(&client, project, environment).await?;
    let list = client
        .deployments(project, environment, service, HISTORY)
        .await?;
    let Some((current, target)) = current_and_target(&list) else {
        return Err(check_failed(
            "nothing-running",
            format!(
                "service {} has no SUCCESS deployment among its newest {HISTORY}: nothing serves, nothing to roll back from",
                shown(service)
            ),
        ));
    };
    let Some(target) = target else {
        return Err(check_failed(
            "no-previous",
            format!(
                "service {}: no deployment before {} served (SUCCESS or REMOVED) among the newest {HISTORY}",
                shown(service),
                shown(&current.id)
            ),
        ));
    };
    let known: Vec<String> = list.iter().map(|d| d.id.clone()).collect();
    let (method, note) = if target.can_rollback {
        (Method::DeploymentRollback, None)
    } else {
        (
            Method::Redeploy,
            Some(format!(
                "deployment {} is outside Railway's image retention window (canRollback false): redeployed its {} instead, which rebuilds it",
                shown(&target.id),
                shown(&target.source())
            )),
        )
    };
    if let Some(note) = &note {
        log(note);
    }
    let mut run = Run {
        status: Outcome::Success,
        reason: None,
        source: target.source(),
        services: vec![ServiceRun {
            service: service.to_owned(),
            previous: Some(previous(current)),
            deployment_id: None,
            status: None,
            cancelled: false,
            note: note.clone(),
        }],
        requests: 0,
        polls: 0,
        seconds: 0.0,
    };
    let rolled = |run: Run| Rolled {
        from: previous(current),
        to: previous(target),
        method,
        note: note.clone(),
        run,
    };
    let started_new = match method {
        Method::DeploymentRollback => match step::attempt(client.rollback(&target.id)).await? {
            Ok(()) => match find_new(
                &client,
                project,
                environment,
                service,
                &known,
                poll_interval,
                deadline,
            )
            .await
            {
                Ok(found) => found,
                // Railway accepted the rollback: what it started is unknown, not nothing.
                Err(error) => {
                    run.status = Outcome::Failed;
                    run.reason = Some(format!("{error:#}"));
                    run.requests = client.requests();
                    run.seconds = started.elapsed().as_secs_f64();
                    let summary = format!(
                        "the rollback of service {} to deployment {} was accepted but its new deployment was not found: it may be deploying, unwatched: check it on Railway",
                        shown(service),
                        shown(&target.id)
                    );
                    return Err(anyhow::Error::new(deploy::Unfinished {
                        done: rolled(run),
                        summary,
                        error,
                    }));
                }
            },
            Err(stop) => Err(stop),
        },
        Method::Redeploy => step::attempt(client.redeploy(&target.id, target.image().is_some()))
            .await?
            .map(|d| d.id),
    };
    match started_new {
        Ok(id) => {
            log(&format!(
                "service {}: {} to deployment {} started deployment {}",
                shown(service),
                if method == Method::Redeploy {
                    "redeploy"
                } else {
                    "rollback"
                },
                shown(&target.id),
                shown(&id)
            ));
            run.services[0].deployment_id = Some(id);
            if let Err(error) =
                deploy::wait(&client, poll_interval, timeout, &mut run, deadline, log).await
            {
                // Started: kept and cancelled, as a timeout would (deploy.rs, `settle`).
                let summary =
                    deploy::settle(&client, &mut run, &error, cancel_on_timeout, log).await;
                run.requests = client.requests();
                run.seconds = started.elapsed().as_secs_f64();
                return Err(anyhow::Error::new(deploy::Unfinished {
                    done: rolled(run),
                    summary,
                    error,
                }));
            }
        }
        Err(stop) => {
            run.status = stop.status;
            run.reason = Some(stop.reason);
        }
    }
    if matches!(run.status, Outcome::Timeout | Outcome::Interrupted) && cancel_on_timeout {
        deploy::cancel_unfinished(&client, &mut run, log).await;
    }
    run.requests = client.requests();
    run.seconds = started.elapsed().as_secs_f64();
    Ok(rolled(run))
}

/// The deployment a rollback started: the newest one not listed before it, looked for each
/// `poll_interval` until the deadline (the last look at it, [`step::pace`]) or a signal.
async fn find_new(
    client: &Client,
    project: &str,
    environment: &str,
    service: &str,
    known: &[String],
    poll_interval: Duration,
    deadline: Instant,
) -> anyhow::Result<Result<String, Stop>> {
    let not_listed = |stop: Stop| Stop {
        reason: format!(
            "{}: the rollback was accepted but its deployment was not listed yet, so it was not cancelled",
            stop.reason
        ),
        ..stop
    };
    let mut reader = client.clone();
    let mut last = false;
    loop {
        let list =
            match step::read(reader.deployments(project, environment, service, HISTORY)).await? {
                Ok(list) => list,
                Err(stop) => return Ok(Err(not_listed(stop))),
            };
        if let Some(new) = list.iter().find(|d| !known.contains(&d.id)) {
            return Ok(Ok(new.id.clone()));
        }
        if last {
            return Ok(Err(Stop {
                status: Outcome::Timeout,
                reason:
                    "the rollback was accepted but no new deployment appeared before the timeout"
                        .into(),
            }));
        }
        match step::pace(client, poll_interval, deadline).await {
            Ok(read) => (reader, last) = (read.client, read.last),
            Err(stop) => return Ok(Err(not_listed(stop))),
        }
    }
}
