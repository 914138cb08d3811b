//! A deploy asked of a platform, and what came of it.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::outcome::Outcome;
use super::version::Version;
use crate::gha::Annotation;

/// Deploy each app's version and wait.
///
/// Not every platform can do what every field asks; what each one does with them:
///
/// | field | Coolify | Fly | Railway |
/// | --- | --- | --- | --- |
/// | `restore_on_failure` | ignored: always restores (an image tag set for a deploy that did not finish, a commit pin on every path) | honoured: the snapshot configs put back | ignored: Railway routes traffic only to a healthy deployment, so there is nothing to put back |
/// | `cancel_on_timeout` | honoured: Coolify's cancel | ignored: Fly has no cancel; the stop at the deadline restores (as `restore_on_failure` says) | honoured: `deploymentCancel` |
/// | `restore_until` | ignored: each restore gets its grace period of `platform::grace` | honoured | ignored (no restore) |
#[derive(Debug, Clone)]
pub struct Request {
    /// App → the version to run, deployed in this order (a platform may deploy them
    /// together when they are one version).
    pub apps: Vec<(String, Version)>,
    /// Nothing is waited for past this; what still runs then is the timeout outcome.
    pub deadline: Instant,
    /// Between reads of a deploy's progress.
    pub poll_interval: Duration,
    /// Put back what ran before when the deploy does not finish. Fly only: Coolify always
    /// restores, Railway has nothing to restore (see the table above).
    pub restore_on_failure: bool,
    /// Cancel what still runs at the deadline (at a signal, it is always cancelled).
    /// Coolify and Railway: Fly cannot cancel (it stops and restores instead).
    pub cancel_on_timeout: bool,
    /// No restore runs past this (a caller with an outer deadline of its own); `None`: the
    /// platform's own grace periods. Fly only: Coolify's restores keep their own grace
    /// periods (`platform::grace`), Railway has nothing to restore.
    pub restore_until: Option<Instant>,
}

/// What one app's deploy came to.
#[derive(Debug, Clone, Serialize)]
pub struct AppResult {
    pub app: String,
    pub outcome: Outcome,
}

/// What a deploy did.
#[derive(Debug, Clone)]
pub struct Deployed<E> {
    /// The worst of the apps' outcomes.
    pub status: Outcome,
    pub apps: Vec<AppResult>,
    /// Warnings worth an annotation even when the deploy finished (Coolify skipped its
    /// health check, …).
    pub warnings: Vec<Annotation>,
    /// Why the deploy did not finish, in the platform's words (the first app that did not),
    /// where it says.
    pub reason: Option<String>,
    /// What the deploy changed and could not put back, one line each: a person must fix it
    /// by hand (the tool then fails, exit 3).
    pub left_changed: Vec<String>,
    /// The platform's own evidence.
    pub evidence: E,
}
