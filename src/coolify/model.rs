//! The shapes Coolify really returns (reference/coolify-api.md §3), read leniently: unknown
//! fields are ignored, optional ones default, and `logs` is decoded from its JSON string.
//! Every string the server chooses is [`Untrusted`]: it prints neutralised, and its raw value
//! goes only back to the API or into the JSON report.

use serde::{Deserialize, Deserializer, Serialize};

use crate::gha::Untrusted;

/// The answer Coolify gives for an app whose deployment was deduplicated. The
/// `deployment_uuid` beside it was never stored (§3.3).
pub const ALREADY_QUEUED: &str = "Deployment already queued for this commit.";

/// A deployment's status (`app/Enums/ApplicationDeploymentStatus.php`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum DeploymentStatus {
    Queued,
    InProgress,
    Finished,
    Failed,
    CancelledByUser,
    /// A value this client does not know; waited on like a running one.
    Other(Untrusted),
}

impl DeploymentStatus {
    pub fn from_word(word: &str) -> Self {
        match word {
            "queued" => Self::Queued,
            "in_progress" => Self::InProgress,
            "finished" => Self::Finished,
            "failed" => Self::Failed,
            "cancelled-by-user" => Self::CancelledByUser,
            other => Self::Other(Untrusted::from(other)),
        }
    }

    /// The status word as Coolify sent it (raw: for comparisons and the report).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queued => "queued",
            Self::InProgress => "in_progress",
            Self::Finished => "finished",
            Self::Failed => "failed",
            Self::CancelledByUser => "cancelled-by-user",
            Self::Other(word) => word.as_raw(),
        }
    }

    /// `finished`, `failed` and `cancelled-by-user` never change again.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Finished | Self::Failed | Self::CancelledByUser)
    }

    /// Waiting in the queue or running.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Queued | Self::InProgress)
    }
}

impl From<DeploymentStatus> for String {
    fn from(status: DeploymentStatus) -> Self {
        status.as_str().to_owned()
    }
}

impl<'de> Deserialize<'de> for DeploymentStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let word = String::deserialize(deserializer)?;
        Ok(Self::from_word(&word))
    }
}

/// One row of `application_deployment_queues` (§3.4).
#[derive(Debug, Clone, Deserialize)]
pub struct Deployment {
    pub deployment_uuid: Untrusted,
    pub status: DeploymentStatus,
    #[serde(default)]
    pub application_name: Option<Untrusted>,
    /// A path relative to the Coolify base URL.
    #[serde(default)]
    pub deployment_url: Option<Untrusted>,
    #[serde(default)]
    pub commit: Option<Untrusted>,
    /// 0 for the app itself, the PR number for a preview (a column with default 0).
    #[serde(default, deserialize_with = "lenient_number")]
    pub pull_request_id: Option<u64>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Present only for tokens with `read:sensitive` (or `root`) held by an admin.
    #[serde(default, deserialize_with = "json_string_logs")]
    pub logs: Option<Vec<LogEntry>>,
    /// The server it builds on (compared only, never shown).
    #[serde(default)]
    pub server_id: Option<serde_json::Value>,
}

/// One deployment log entry; `hidden` ones are internal commands the UI folds away.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct LogEntry {
    #[serde(default)]
    pub output: Untrusted,
    #[serde(default, rename = "type")]
    pub stream: Option<String>,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub order: Option<u64>,
}

/// `logs` is a string holding a JSON array (a text column with no cast). A value that does
/// not decode is kept as one entry rather than failing the whole deployment read.
fn json_string_logs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<LogEntry>>, D::Error> {
    let raw = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match raw {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(text)) if text.trim().is_empty() => Some(Vec::new()),
        Some(serde_json::Value::String(text)) => Some(
            serde_json::from_str::<Vec<LogEntry>>(&text).unwrap_or_else(|_| {
                vec![LogEntry {
                    output: Untrusted::new(text),
                    stream: None,
                    hidden: false,
                    order: None,
                }]
            }),
        ),
        Some(other) => serde_json::from_value::<Vec<LogEntry>>(other).ok(),
    })
}

/// A number sent as a JSON number or a numeric string; anything else is unknown (`None`).
fn lenient_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<serde_json::Value>::deserialize(d)? {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// `GET /deployments/applications/{uuid}`: an object, not the array the spec shows (§6.1).
#[derive(Debug, Clone, Deserialize)]
pub struct DeploymentPage {
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub deployments: Vec<Deployment>,
}

/// The fields of an application the suite reads (§3.8).
#[derive(Debug, Clone, Deserialize)]
pub struct Application {
    pub uuid: Untrusted,
    #[serde(default)]
    pub name: Option<Untrusted>,
    /// Always `state:health`, e.g. `running:healthy`.
    #[serde(default)]
    pub status: Option<Untrusted>,
    #[serde(default)]
    pub fqdn: Option<Untrusted>,
    #[serde(default)]
    pub build_pack: Option<Untrusted>,
    #[serde(default)]
    pub docker_registry_image_name: Option<Untrusted>,
    #[serde(default)]
    pub docker_registry_image_tag: Option<Untrusted>,
    /// The commit a deploy builds: `HEAD` (the branch head) or a pinned commit (git apps).
    #[serde(default)]
    pub git_commit_sha: Option<Untrusted>,
    #[serde(default)]
    pub git_branch: Option<Untrusted>,
}

/// One resource a `POST /deploy` touched. `deployment_uuid` is absent for services,
/// databases and refusals, and fake for deduplicated apps (see [`ALREADY_QUEUED`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub resource_uuid: Untrusted,
    pub deployment_uuid: Option<Untrusted>,
    pub message: Untrusted,
    /// What this client had to do to learn it (our words), e.g. a lost answer.
    pub note: Option<String>,
}

impl Queued {
    /// True when Coolify skipped the request because one is already queued or running.
    pub fn deduplicated(&self) -> bool {
        self.message.as_raw().trim() == ALREADY_QUEUED
    }
}

#[derive(Deserialize)]
struct ByUuid {
    #[serde(default)]
    deployments: Vec<ByUuidItem>,
}

#[derive(Deserialize)]
struct ByUuidItem {
    #[serde(default)]
    message: Untrusted,
    #[serde(default)]
    resource_uuid: Untrusted,
    #[serde(default)]
    deployment_uuid: Option<Untrusted>,
}

#[derive(Deserialize)]
struct ByTag {
    #[serde(default)]
    message: serde_json::Value,
    #[serde(default)]
    details: Vec<ByTagDetail>,
}

#[derive(Deserialize)]
struct ByTagDetail {
    #[serde(default)]
    resource_uuid: Untrusted,
    #[serde(default)]
    deployment_uuid: Option<Untrusted>,
}

/// Reads a `POST /deploy` answer in either shape: `{"deployments":[…]}` by UUID, or
/// `{"message":[…],"details":[…]}` by tag (§6.4). Returns the items and any loose messages.
pub fn parse_deploy_answer(body: &serde_json::Value) -> (Vec<Queued>, Vec<Untrusted>) {
    if body.get("deployments").is_some() {
        let parsed: ByUuid = serde_json::from_value(body.clone()).unwrap_or(ByUuid {
            deployments: Vec::new(),
        });
        let items = parsed
            .deployments
            .into_iter()
            .map(|item| Queued {
                resource_uuid: item.resource_uuid,
                deployment_uuid: item.deployment_uuid.filter(|u| !u.is_empty()),
                message: item.message,
                note: None,
            })
            .collect();
        return (items, Vec::new());
    }
    let Ok(parsed) = serde_json::from_value::<ByTag>(body.clone()) else {
        return (Vec::new(), Vec::new());
    };
    let messages: Vec<Untrusted> = match parsed.message {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|m| m.as_str().map(Untrusted::from))
            .collect(),
        serde_json::Value::String(one) => vec![Untrusted::new(one)],
        _ => Vec::new(),
    };
    let items = parsed
        .details
        .into_iter()
        .map(|d| Queued {
            resource_uuid: d.resource_uuid,
            deployment_uuid: d.deployment_uuid.filter(|u| !u.is_empty()),
            message: Untrusted::default(),
            note: None,
        })
        .collect();
    (items, messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn logs_are_decoded_from_their_json_string() {
        let d: Deployment = serde_json::from_value(json!({
            "deployment_uuid": "d1", "status": "failed",
            "logs": "[{\"command\":null,\"output\":\"boom\",\"type\":\"stderr\",\"hidden\":false,\"batch\":1,\"order\":2}]"
        }))
        .unwrap();
        let logs = d.logs.unwrap();
        assert_eq!(logs[0].output, "boom");
        assert_eq!(logs[0].order, Some(2));
        assert_eq!(d.status, DeploymentStatus::Failed);
        let d: Deployment =
            serde_json::from_value(json!({"deployment_uuid": "d1", "status": "weird"})).unwrap();
        assert!(d.logs.is_none());
        assert!(!d.status.is_final() && !d.status.is_active());
    }

    #[test]
    fn both_deploy_answer_shapes_are_read() {
        let (items, _) = parse_deploy_answer(&json!({"deployments": [
            {"message": ALREADY_QUEUED, "resource_uuid": "a", "deployment_uuid": "fake"},
            {"message": "Service s started.", "resource_uuid": "s"}
        ]}));
        assert!(items[0].deduplicated());
        assert_eq!(items[1].deployment_uuid, None);
        let (items, messages) = parse_deploy_answer(&json!({
            "message": ["Application a deployment queued."],
            "details": [{"resource_uuid": "a", "deployment_uuid": "d"}]
        }));
        assert_eq!(
            items[0].deployment_uuid.as_ref().map(Untrusted::as_raw),
            Some("d")
        );
        assert_eq!(messages.len(), 1);
    }
}
