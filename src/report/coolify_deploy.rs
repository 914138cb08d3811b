//! coolify-deploy's `report`: every deployment followed to its end, the tags and commits
//! before and after, and what was put back.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::coolify::git::Pin;
use crate::coolify::restore::RestoreFailure;
use crate::coolify::{Outcome, Tracked};
use crate::gha::Untrusted;

pub const TOOL: &str = "coolify-deploy";

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Report {
    /// `shipguard.coolify-deploy/1`.
    pub schema: String,
    pub tool: &'static str,
    /// The shipguard version that wrote it.
    pub version: String,
    pub kind: &'static str,
    pub status: Outcome,
    /// The Coolify base URL (or `webhook`), never a token.
    pub target: String,
    pub coolify_version: Option<String>,
    pub image_tag: Option<String>,
    pub duration_seconds: f64,
    pub previous_image_tags: BTreeMap<String, String>,
    /// App → the previous tag put back after its deployment did not finish.
    pub restored_image_tags: BTreeMap<String, String>,
    /// Tags that could not be put back (error annotations name the tag to set by hand).
    pub restore_failures: Vec<RestoreFailure>,
    pub deployments: Vec<Tracked>,
    /// App → the last log lines of a deployment that did not finish.
    pub log_tails: BTreeMap<Untrusted, Vec<Untrusted>>,
    /// The GitHub Deployment recorded for this run.
    pub github_deployment_id: Option<u64>,
    /// Git-based apps: the commit asked for.
    pub commit: Option<String>,
    /// App → the commit Coolify says it built (git-based apps).
    pub commits: BTreeMap<String, String>,
    /// Git-based apps on Coolify 4.2.x: each `git_commit_sha` pin set and put back.
    pub commit_pins: Vec<Pin>,
}

/// A deploy webhook's answer: the deploy is queued, nothing more is known.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Queued {
    /// `shipguard.coolify-deploy/1`.
    pub schema: String,
    pub tool: &'static str,
    pub version: String,
    pub kind: &'static str,
    /// Always `queued`.
    pub status: &'static str,
    /// Always `webhook`.
    pub target: &'static str,
    pub image: Option<String>,
    pub image_tag: Option<String>,
}

impl Queued {
    pub fn new(version: &str, image: Option<String>, image_tag: Option<String>) -> Self {
        Self {
            schema: super::schema_id(TOOL),
            tool: TOOL,
            version: version.to_owned(),
            kind: "deploy",
            status: "queued",
            target: "webhook",
            image,
            image_tag,
        }
    }
}
