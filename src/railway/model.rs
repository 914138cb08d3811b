//! The deployment object as the schema defines it (contracts/railway/schema.json, type
//! `Deployment`) and its status (enum `DeploymentStatus`). Every value comes from outside:
//! an unknown status is kept as bounded raw text (waited through, shown only through
//! `Untrusted::one_line`), and an unreadable `createdAt` makes a list unsortable, which is
//! an error, never a guess.
//!
//! The schema gives the statuses no meaning (no descriptions). What each means is read in
//! railwayapp/docs c2a634f and railwayapp/cli df3838b, cited where relied on below; where no
//! source says, we fail closed: a status is not final and a deployment not serving.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `DeploymentStatus` (schema enum values: BUILDING CRASHED DEPLOYING FAILED INITIALIZING
/// NEEDS_APPROVAL QUEUED REMOVED REMOVING SKIPPED SLEEPING SUCCESS WAITING), plus any value
/// added later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Building,
    Crashed,
    Deploying,
    Failed,
    Initializing,
    NeedsApproval,
    Queued,
    Removed,
    Removing,
    Skipped,
    Sleeping,
    Success,
    Waiting,
    /// Not in the schema we read: tolerated until the deadline. The server's raw text, at
    /// most [`UNKNOWN_MAX`] characters; shown only through [`Status::as_str`].
    Unknown(String),
}

/// The most characters of an unknown status kept (and shown).
pub const UNKNOWN_MAX: usize = 64;

impl Status {
    pub fn parse(raw: &str) -> Self {
        match raw {
            "BUILDING" => Self::Building,
            "CRASHED" => Self::Crashed,
            "DEPLOYING" => Self::Deploying,
            "FAILED" => Self::Failed,
            "INITIALIZING" => Self::Initializing,
            "NEEDS_APPROVAL" => Self::NeedsApproval,
            "QUEUED" => Self::Queued,
            "REMOVED" => Self::Removed,
            "REMOVING" => Self::Removing,
            "SKIPPED" => Self::Skipped,
            "SLEEPING" => Self::Sleeping,
            "SUCCESS" => Self::Success,
            "WAITING" => Self::Waiting,
            other => Self::Unknown(other.chars().take(UNKNOWN_MAX).collect()),
        }
    }

    /// The status for a log line, a summary or a report: the schema's name, or an unknown
    /// server value through `Untrusted::one_line` (one neutralised line).
    pub fn as_str(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Self::Building => "BUILDING",
            Self::Crashed => "CRASHED",
            Self::Deploying => "DEPLOYING",
            Self::Failed => "FAILED",
            Self::Initializing => "INITIALIZING",
            Self::NeedsApproval => "NEEDS_APPROVAL",
            Self::Queued => "QUEUED",
            Self::Removed => "REMOVED",
            Self::Removing => "REMOVING",
            Self::Skipped => "SKIPPED",
            Self::Sleeping => "SLEEPING",
            Self::Success => "SUCCESS",
            Self::Waiting => "WAITING",
            Self::Unknown(raw) => {
                return Cow::Owned(crate::gha::Untrusted::one_line(raw, UNKNOWN_MAX).to_string());
            }
        })
    }

    /// A deploy's end: `SUCCESS` (Railway routes traffic only after its own health check,
    /// docs guides/roll-back-bad-deploy.md:86-100), or one that will never serve: `FAILED`
    /// and `CRASHED` (where `railway up` stops waiting, cli src/commands/up.rs:438-470;
    /// docs deployments/reference.md:42-60), `REMOVED` (the last state: "first having their
    /// status updated to `Removing` before they are finally `Removed`", reference.md:64; a
    /// cancelled or stopped deployment is marked `REMOVED`, reference.md:119,123) and
    /// `SKIPPED` (a deploy Railway did not run because a GitHub check failed,
    /// deployments/github-autodeploys.md:71). Everything else, `SLEEPING`, `REMOVING`,
    /// `NEEDS_APPROVAL` and any status the schema does not list included, is not final:
    /// waited through until the deadline.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::Failed | Self::Crashed | Self::Removed | Self::Skipped
        )
    }

    /// True for a deployment that may have served: `SUCCESS`, or `REMOVED`, where a
    /// replaced deployment ends ("older deploys in a `Active`, `Completed`, or a `Crashed`
    /// state are eventually removed", docs deployments/reference.md:64). `REMOVED` does not
    /// prove it served (a crashed, cancelled or manually removed one is `REMOVED` too,
    /// reference.md:64,119,123), so a rollback to it is trusted only once its new deployment
    /// is `SUCCESS` (and auto-rollback's verification passes).
    pub fn served(&self) -> bool {
        matches!(self, Self::Success | Self::Removed)
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Unknown(raw) => crate::gha::Untrusted::one_line(raw, UNKNOWN_MAX).serialize(s),
            known => s.serialize_str(&known.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Ok(Self::parse(&raw))
    }
}

/// The fields of a `Deployment` the client asks for (ops.rs `deployment_fields!`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    pub id: String,
    pub status: Status,
    pub created_at: String,
    #[serde(default)]
    pub can_rollback: bool,
    /// `DeploymentMeta` is a JSON scalar the schema does not describe. `commitHash` is read
    /// from it by cli src/commands/mcp/handler.rs:842-847 (and shown in docs
    /// observability/webhooks.md:48). No source we read names an `image` key: we read it
    /// when present and, when it is absent or not a plain string, the image is unknown
    /// (failing closed: auto-rollback does not know what runs and refuses).
    #[serde(default)]
    pub meta: Option<Value>,
    #[serde(default)]
    pub service_id: Option<String>,
    #[serde(default)]
    pub environment_id: Option<String>,
}

impl Deployment {
    fn meta_str(&self, key: &str) -> Option<String> {
        self.meta
            .as_ref()?
            .get(key)?
            .as_str()
            .filter(|s| !s.is_empty() && s.len() <= 512 && !s.chars().any(char::is_control))
            .map(str::to_owned)
    }

    pub fn image(&self) -> Option<String> {
        self.meta_str("image")
    }

    pub fn commit(&self) -> Option<String> {
        self.meta_str("commitHash")
    }

    pub fn created(&self) -> anyhow::Result<OffsetDateTime> {
        OffsetDateTime::parse(&self.created_at, &Rfc3339).map_err(|_| {
            anyhow::anyhow!(
                "deployment {} has a createdAt that is not an RFC 3339 time: {}",
                crate::gha::shown(&self.id),
                crate::gha::Untrusted::one_line(&self.created_at, 40)
            )
        })
    }

    /// What served: `image` or `commit <sha>` or the deployment id.
    pub fn source(&self) -> String {
        self.image()
            .or_else(|| self.commit().map(|c| format!("commit {c}")))
            .unwrap_or_else(|| format!("deployment {}", self.id))
    }
}

/// Newest first, by `createdAt` (lists come in no promised order); ties by id so the order
/// is the same on every run.
pub fn newest_first(mut list: Vec<Deployment>) -> anyhow::Result<Vec<Deployment>> {
    let mut keyed = Vec::with_capacity(list.len());
    for d in list.drain(..) {
        keyed.push((d.created()?, d));
    }
    keyed.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| y.id.cmp(&x.id)));
    Ok(keyed.into_iter().map(|(_, d)| d).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(id: &str, status: &str, at: &str) -> Deployment {
        serde_json::from_value(serde_json::json!({
            "id": id, "status": status, "createdAt": at, "canRollback": true,
            "meta": {"image": "ghcr.io/a/b:1"}
        }))
        .unwrap()
    }

    #[test]
    fn unknown_statuses_are_kept_and_not_final() {
        let d = dep("1", "HIBERNATING", "2026-01-01T00:00:00Z");
        assert_eq!(d.status, Status::Unknown("HIBERNATING".into()));
        assert!(!d.status.is_final());
        assert!(Status::parse("CRASHED").is_final());
        assert!(!Status::parse("DEPLOYING").is_final());
    }

    #[test]
    fn an_unknown_status_keeps_the_raw_text_bounded_and_shows_it_on_one_line() {
        let hostile = format!("ODD\n::error::x{}", "y".repeat(200));
        let status = Status::parse(&hostile);
        let expected: String = hostile.chars().take(UNKNOWN_MAX).collect();
        // Raw (not escaped) and bounded.
        assert_eq!(status, Status::Unknown(expected.clone()));
        let shown = status.as_str();
        assert_eq!(
            shown,
            crate::gha::Untrusted::one_line(&expected, UNKNOWN_MAX).to_string()
        );
        assert!(!shown.contains('\n') && !shown.contains("::"), "{shown}");
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(
            json,
            serde_json::json!(crate::gha::Untrusted::one_line(&expected, UNKNOWN_MAX).as_raw())
        );
        assert_eq!(Status::parse("SLEEPING").as_str(), "SLEEPING");
    }

    #[test]
    fn lists_are_sorted_by_created_at_not_by_position() {
        let sorted = newest_first(vec![
            dep("a", "SUCCESS", "2026-01-01T00:00:00Z"),
            dep("c", "SUCCESS", "2026-01-03T00:00:00.123Z"),
            dep("b", "SUCCESS", "2026-01-02T00:00:00+01:00"),
        ])
        .unwrap();
        let ids: Vec<&str> = sorted.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["c", "b", "a"]);
        assert!(newest_first(vec![dep("x", "SUCCESS", "yesterday")]).is_err());
    }
}
