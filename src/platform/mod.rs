//! What every tool needs from a platform (Coolify, Fly.io, …), whatever its API: what runs
//! now on an app, deploy a version and wait for it, restore what ran before, cancel what is
//! still running. A tool written against [`Platform`] (auto-rollback) works on every platform;
//! each platform's client stays in its own module (`coolify/`, `fly/`) and implements the
//! trait in a `platform.rs` there.
//!
//! The types every platform's rollout shares live here: the [`Outcome`] of a deploy, the
//! [`Version`] an app runs, the grace periods a cleanup gets after a deadline, and the
//! per-app result of a deploy ([`Deployed`]).

pub mod deploy;
pub mod grace;
pub mod outcome;
pub mod previous;
pub mod version;

use std::future::Future;

pub use deploy::{AppResult, Deployed, Request};
pub use outcome::Outcome;
pub use previous::{Previous, Rollback, Served};
pub use version::{Kind, Running, Snapshot, Version};

/// A place apps run. Four things, kept small so a new platform is one module:
///
/// - [`snapshot`](Self::snapshot): one read of an app: what it runs now, as a [`Version`] of
///   the platform's [`Kind`] (an image tag, a commit, a full image reference), which the tool
///   maps to a commit; and a deploy already under way on it (a tool never deploys over one).
/// - [`deploy`](Self::deploy): deploy a version to apps and wait until it runs, by the
///   request's absolute deadline; a signal (`crate::interrupt`) ends the wait early, as the
///   [`Outcome::Interrupted`] outcome.
/// - [`previous`](Self::previous) and [`roll_back`](Self::roll_back): the platform's own way
///   back, where it has one (Railway's `deploymentRollback`; auto-rollback's
///   `source: platform`): what served before, and bringing it back; the answer is a
///   [`Deployed`] like a deploy's. The others answer with a usage error.
/// - restore and cancel are part of the deploy request, not calls of their own: both need
///   what only the deploy holds (Coolify's deployment UUIDs and previous tags, Fly's config
///   snapshots and leases) and must happen within the same deadline. With
///   [`Request::restore_on_failure`] a deploy that does not finish puts back what ran before
///   (and says so in its outcome); with [`Request::cancel_on_timeout`] whatever still runs at
///   the deadline or at a signal is cancelled (or, where the platform cannot cancel, stopped
///   and restored). Not every platform reads every field: Coolify always restores (it
///   ignores `restore_on_failure` and `restore_until`), Fly cannot cancel (it ignores
///   `cancel_on_timeout` and restores instead), Railway has nothing to restore (it ignores
///   `restore_on_failure` and `restore_until`); [`Request`] has the table.
///
/// Errors are operational (auth, network, a server error after retries); a deploy that
/// failed or timed out is an [`Outcome`], not an error.
pub trait Platform {
    /// The platform's own evidence of one deploy (deployments, machines…), reported as is.
    type Evidence;

    /// What [`deploy`](Self::deploy) did with what it started when a signal ended it, as
    /// the end of a sentence: "the rollback deployment was cancelled".
    const ON_SIGNAL: &'static str;

    /// The platform's name for logs: "Coolify", "Fly".
    fn name(&self) -> &'static str;

    /// What `app` runs now and whether a deploy is under way on it, from one read.
    ///
    /// auto-rollback calls it for every app (guards.rs), not only the first: an error for
    /// any of them stops the run before anything changes. Coolify's snapshot also checks
    /// each app's kind, so an app after the first whose record has no `build_pack` stops
    /// the run with an error (exit 3).
    fn snapshot(&self, app: &str) -> impl Future<Output = anyhow::Result<Snapshot>>;

    /// Refuses, before anything changes, a version this platform (or this server's version
    /// of it) cannot deploy; the error is a usage error naming what to do.
    fn can_deploy(&self, version: &Version) -> anyhow::Result<()>;

    /// Deploys each app's version and waits, as the request says; `log` gets one line per
    /// step.
    fn deploy(
        &self,
        request: &Request,
        log: &(dyn Fn(&str) + Sync),
    ) -> impl Future<Output = anyhow::Result<Deployed<Self::Evidence>>>;

    /// What `app` would be rolled back from and to by the platform's own rollback, or why
    /// there is nothing to go back to (`Ok(Err(why))`, a sentence about the app). A
    /// platform without a rollback of its own answers with a usage error.
    fn previous(
        &self,
        app: &str,
    ) -> impl Future<Output = anyhow::Result<Result<Previous, String>>> {
        let _ = app;
        let name = self.name();
        async move { Err(no_rollback_of_its_own(name)) }
    }

    /// Brings each app back to what served before it, the platform's own way, and waits, as
    /// the request says; `log` gets one line per step. An operational error once an app was
    /// changed is not an `Err` (it would drop what changed) but a failed [`Deployed`] that
    /// keeps the evidence and names the change in `left_changed`. A platform without a
    /// rollback of its own answers with a usage error.
    fn roll_back(
        &self,
        request: &Rollback,
        log: &(dyn Fn(&str) + Sync),
    ) -> impl Future<Output = anyhow::Result<Deployed<Self::Evidence>>> {
        let _ = (request, log);
        let name = self.name();
        async move { Err(no_rollback_of_its_own(name)) }
    }
}

fn no_rollback_of_its_own(platform: &str) -> anyhow::Error {
    crate::exit::usage(format!(
        "{platform} has no rollback of its own: roll back to a version instead (`source` other than `platform`)"
    ))
}
