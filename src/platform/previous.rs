//! A platform's own way back (auto-rollback's `source: platform`): the deployment that
//! served before the one running now, brought back by the platform itself (Railway's
//! `deploymentRollback`) rather than by deploying a version.

use std::time::{Duration, Instant};

/// One deployment as the platform names it.
#[derive(Debug, Clone)]
pub struct Served {
    /// The platform's id of the deployment, raw (server text: show it through
    /// `gha::Untrusted`).
    pub id: String,
    /// Its image, when it names one.
    pub image: Option<String>,
    /// Its commit, when it names one (possibly short).
    pub commit: Option<String>,
}

/// What an app would be rolled back from and to.
#[derive(Debug, Clone)]
pub struct Previous {
    /// What serves now.
    pub from: Served,
    /// What served before it.
    pub to: Served,
    /// How the target was found and how it would be brought back, for the report:
    /// "the deployment that served before (…)".
    pub evidence: String,
}

/// Bring each app back to what served before, the platform's own way, and wait. What still
/// runs at the deadline or at a signal is cancelled.
#[derive(Debug, Clone)]
pub struct Rollback {
    /// In this order; the first that does not finish stops the rest. Railway starts an app
    /// after the first only with four request timeouts and one poll interval left
    /// (railway/platform.rs `REQUESTS_TO_FOLLOW`) and no signal received (else that app is
    /// `timeout` or `interrupted`, nothing sent for it).
    pub apps: Vec<String>,
    /// Nothing is waited for past this; what still runs then is the timeout outcome.
    pub deadline: Instant,
    /// Between reads of the rollback's progress.
    pub poll_interval: Duration,
}
