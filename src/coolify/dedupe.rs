//! A deployment UUID Coolify gave us that `GET /deployments/{uuid}` answers 404 for: where
//! the real deployment is, read from the app's deployment list
//! (`GET /deployments/applications/{uuid}`, newest first).
//!
//! Two real causes (coollabsio/coolify at 379abb25 unless named):
//! - A deduplicated deploy. `deploy_resource` makes a fresh UUID before queueing
//!   (DeployController.php L539) and returns it even when `queue_application_deployment`
//!   skipped the request because the app already has a queued or running deployment of the
//!   same commit (applications.php L47-63, L550-551, L599): that UUID is never stored. By
//!   `tag` the "already queued" text sits only in `message[]`, away from the UUID in
//!   `details` (L498-501), so the client cannot tell beforehand.
//! - Coolify 4.0.0-beta.464 to 467 answer 404 for every deployment: the team check compares
//!   with a strict `!==` against a string team id (DeployController.php L131 at
//!   v4.0.0-beta.465; `(int)` added by beta.468, L131 there; coolify#8925). The list works.

use super::client::Client;
use super::model::Deployment;
use super::version::Feature;
use crate::gha::Untrusted;

/// How many of an app's newest deployments are looked through.
const LOOK_BACK: u32 = 10;

/// What the app's list says about a deployment UUID that answered 404.
#[derive(Debug, Clone)]
pub enum Missing {
    /// The list has it: only the single-deployment read fails (beta.464-467).
    Listed(Deployment),
    /// The UUID was never stored; this is the deployment Coolify runs for the app instead.
    Replaced(Deployment),
}

impl Missing {
    /// Why the client reads a deployment the way it now does, for the report.
    pub fn note(&self, uuid: &Untrusted) -> String {
        match self {
            Self::Listed(_) => format!(
                "GET /deployments/{uuid} answers 404 (as on Coolify 4.0.0-beta.464 to 467); read from the app's deployment list"
            ),
            Self::Replaced(d) if d.status.is_active() => format!(
                "Coolify never stored deployment {uuid} (the app was already deploying, so the request was deduplicated); following the app's deployment {}",
                d.deployment_uuid
            ),
            Self::Replaced(d) => format!(
                "Coolify never stored deployment {uuid} (the app was already deploying, so the request was deduplicated); that deployment, {}, had already ended",
                d.deployment_uuid
            ),
        }
    }

    pub fn deployment(self) -> Deployment {
        match self {
            Self::Listed(d) | Self::Replaced(d) => d,
        }
    }
}

/// Looks `uuid` up in `app`'s deployments; `None` when the list cannot be read on this
/// server or says nothing about it (the app has no deployment at all).
pub async fn find(client: &Client, app: &str, uuid: &str) -> anyhow::Result<Option<Missing>> {
    if !client.supports(Feature::DeploymentHistory) {
        return Ok(None);
    }
    let page = client.app_deployments(app, 0, LOOK_BACK).await?;
    let mut deployments = page.deployments;
    if let Some(i) = deployments
        .iter()
        .position(|d| d.deployment_uuid.as_raw() == uuid)
    {
        return Ok(Some(Missing::Listed(deployments.swap_remove(i))));
    }
    // The deduplicated request was merged into the app's active deployment; if that ended
    // before this look, it is the app's newest one.
    let active = deployments.iter().position(|d| d.status.is_active());
    Ok(match active {
        Some(i) => Some(Missing::Replaced(deployments.swap_remove(i))),
        None => deployments.into_iter().next().map(Missing::Replaced),
    })
}

/// The deployment `uuid` as the app's list shows it (for servers where only the list
/// answers); `None` when it is not among the newest.
pub async fn listed(client: &Client, app: &str, uuid: &str) -> anyhow::Result<Option<Deployment>> {
    let page = client.app_deployments(app, 0, LOOK_BACK).await?;
    Ok(page
        .deployments
        .into_iter()
        .find(|d| d.deployment_uuid.as_raw() == uuid))
}
