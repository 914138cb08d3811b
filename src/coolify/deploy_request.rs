//! Sending a request that queues deployments (`POST /deploy`; `POST
//! /applications/{uuid}/rollback` can use the same) so that a retry never queues a second
//! forced build.
//!
//! Such a request is retried blindly only when Coolify cannot have acted on it: a 429 (the
//! deploy queue is full: `queue_application_deployment` returns before creating anything,
//! bootstrap/helpers/applications.php L39-44 at 379abb25; DeployController.php L449-450
//! answers 429 with `Retry-After: 60`) and a connection that never opened. After a 5xx or a
//! lost answer the request may have been queued (`ApplicationDeploymentQueue::create`,
//! applications.php L67, runs before the answer is written), so the app's deployments are
//! read again: a deployment that was not there before the request is the one it queued, and
//! the request is not sent again. Only when none appeared is it sent again.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use super::client::Client;
use super::error::ApiError;
use super::model::Deployment;
use super::version::Feature;
use crate::http::MaybeSent;

/// At most this many sends of one request (each after finding that nothing was queued).
pub const MAX_SENDS: u32 = 3;

/// How a deploy request went.
#[derive(Debug)]
pub enum Sent<T> {
    /// Coolify answered.
    Answered(T),
    /// No usable answer came (`cause`), but these deployments appeared on the apps, app by
    /// app: Coolify queued the request.
    Unanswered {
        cause: String,
        queued: Vec<(String, Deployment)>,
    },
}

/// Sends a request that queues deployments of `apps` (empty when Coolify chooses them, as
/// by `tag`: then a lost answer is an error, never a second send). `send` makes the request
/// with the client it is given, which retries only 429s and unopened connections.
pub async fn send_deploy_request<T, F, Fut>(
    client: &Client,
    apps: &[String],
    send: F,
) -> anyhow::Result<Sent<T>>
where
    F: Fn(Client) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let once = client.sending_once();
    let before = snapshot(client, apps).await;
    let mut sends = 0;
    loop {
        sends += 1;
        let err = match send(once.clone()).await {
            Ok(answer) => return Ok(Sent::Answered(answer)),
            Err(err) if maybe_queued(&err) => err,
            Err(err) => return Err(err),
        };
        let Some(before) = &before else {
            return Err(err.context(
                "the request may have queued a deployment, so it was not sent again; check Coolify before deploying again",
            ));
        };
        let queued = appeared(client, before).await?;
        if !queued.is_empty() {
            return Ok(Sent::Unanswered {
                cause: format!("{err:#}"),
                queued,
            });
        }
        if sends >= MAX_SENDS {
            return Err(err.context(format!("sent {sends} times; Coolify queued nothing")));
        }
        tracing::info!("{err:#}; Coolify queued nothing, sending the request again");
        client.back_off(sends - 1).await;
    }
}

/// A 5xx answer or no answer: the request may have been acted on.
fn maybe_queued(err: &anyhow::Error) -> bool {
    err.downcast_ref::<ApiError>()
        .is_some_and(|e| e.status >= 500)
        || err.chain().any(|e| e.is::<MaybeSent>())
}

/// Each app's recent deployment UUIDs before the request; `None` when they cannot be read
/// (no apps named, a server without the list, or the list failed): then nothing is resent.
async fn snapshot(client: &Client, apps: &[String]) -> Option<BTreeMap<String, BTreeSet<String>>> {
    if apps.is_empty() || !client.supports(Feature::DeploymentHistory) {
        return None;
    }
    let mut seen = BTreeMap::new();
    for app in apps {
        match client.app_deployments(app, 0, SNAPSHOT).await {
            Ok(page) => {
                let uuids = page
                    .deployments
                    .into_iter()
                    .map(|d| d.deployment_uuid.into_raw())
                    .collect();
                seen.insert(app.clone(), uuids);
            }
            Err(err) => {
                tracing::debug!("{err:#}; a lost deploy answer will not be resent");
                return None;
            }
        }
    }
    Some(seen)
}

/// How many of an app's newest deployments the snapshot keeps.
const SNAPSHOT: u32 = 10;

/// Deployments that were not there before the request, app by app.
async fn appeared(
    client: &Client,
    before: &BTreeMap<String, BTreeSet<String>>,
) -> anyhow::Result<Vec<(String, Deployment)>> {
    let mut found = Vec::new();
    for (app, seen) in before {
        let page = client.app_deployments(app, 0, SNAPSHOT).await?;
        found.extend(
            page.deployments
                .into_iter()
                .filter(|d| !seen.contains(d.deployment_uuid.as_raw()))
                .map(|d| (app.clone(), d)),
        );
    }
    Ok(found)
}
