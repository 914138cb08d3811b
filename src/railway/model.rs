//! The deployment object as the schema defines it (contracts/railway/schema.json, type
//! `Deployment`) and its status (enum `DeploymentStatus`). Every value comes from outside:
//! an unknown status is kept as text (and waited through), and an unreadable `createdAt`
//! makes a list unsortable, which is an error, never a guess.

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
    /// Not in the schema we read: tolerated until the deadline.
    Unknown(String),
}

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
            other => Self::Unknown(
                crate::gha::Untrusted::new(other.chars().take(64).collect::<String>()).to_string(),
            ),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
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
            Self::Unknown(text) => text,
        }
    }

    /// A deploy's end: `SUCCESS` (Railway routes traffic only after its own health check,
    /// docs guides/roll-back-bad-deploy.md:86-100), or one that will never serve.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Success | Self::Failed | Self::Crashed | Self::Removed | Self::Skipped
        )
    }

    /// True for a deployment that served traffic: `SUCCESS`, or `REMOVED` (Railway marks a
    /// replaced deployment so).
    pub fn served(&self) -> bool {
        matches!(self, Self::Success | Self::Removed)
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
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
    /// `DeploymentMeta` is a JSON scalar; we read `image` and `commitHash` when present
    /// (the keys Railway's webhooks carry, docs observability/webhooks.md:48).
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
                crate::gha::Untrusted::new(self.id.clone()),
                crate::gha::Untrusted::new(self.created_at.chars().take(40).collect::<String>())
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
