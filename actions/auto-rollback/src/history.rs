//! What GitHub knows: earlier rollbacks (the cooldown and "never back onto a version a
//! rollback left"), and the candidates for "last known good", newest first, from successful
//! workflow runs or from the environment's Deployments (`inactive` is a former success).

use std::time::Duration;

use serde_json::Value;
use shipguard::github::GitHub;
use shipguard::timestamp;

/// How far back the history is read.
const MAX_DEPLOYMENTS: usize = 300;
const MAX_RUNS: usize = 500;
/// Deployments whose statuses are read when looking for a good one.
const MAX_STATUS_READS: usize = 30;

/// What a rollback writes into its GitHub Deployment's payload.
pub const ROLLBACK_KIND: &str = "rollback";

/// A rollback recorded earlier.
#[derive(Debug, Clone)]
pub struct PastRollback {
    pub from_sha: String,
    pub to_sha: String,
    pub age: Option<Duration>,
}

/// A version that may be rolled back to.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub sha: String,
    /// Where it came from, for the report: "run #41", "deployment 5003 (inactive)".
    pub evidence: String,
}

/// The rollbacks of an environment, newest first.
pub async fn rollbacks(github: &GitHub, environment: &str) -> anyhow::Result<Vec<PastRollback>> {
    let deployments = github.deployments(environment, MAX_DEPLOYMENTS).await?;
    Ok(deployments
        .iter()
        .filter(|d| d.payload["kind"] == ROLLBACK_KIND)
        .map(|d| PastRollback {
            from_sha: text(&d.payload["from_sha"]),
            to_sha: text(&d.payload["to_sha"]),
            age: timestamp::age(&d.created_at),
        })
        .collect())
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

/// Successful runs of `workflow` on `branch`, newest first.
pub async fn from_runs(
    github: &GitHub,
    workflow: &str,
    branch: &str,
) -> anyhow::Result<Vec<Candidate>> {
    let runs = github.successful_runs(workflow, branch, MAX_RUNS).await?;
    Ok(runs
        .into_iter()
        .filter(|r| r.conclusion.as_deref() == Some("success"))
        .map(|r| Candidate {
            sha: r.head_sha,
            evidence: format!("successful run #{} of {workflow} on {branch}", r.run_number),
        })
        .collect())
}

/// Deployments of `environment` whose newest status is `success` or `inactive` (a success
/// GitHub retired when a newer one succeeded), newest first; rollback records excluded.
pub async fn from_deployments(
    github: &GitHub,
    environment: &str,
) -> anyhow::Result<Vec<Candidate>> {
    let deployments = github.deployments(environment, MAX_DEPLOYMENTS).await?;
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut reads = 0;
    for d in deployments
        .iter()
        .filter(|d| d.payload["kind"] != ROLLBACK_KIND)
    {
        if candidates.iter().any(|c| c.sha == d.sha) {
            continue;
        }
        if reads == MAX_STATUS_READS {
            break;
        }
        reads += 1;
        let statuses = github.statuses(d.id).await?;
        let ever_succeeded = statuses.iter().any(|s| s.state == "success");
        let state = statuses.first().map(|s| s.state.as_str()).unwrap_or("none");
        if ever_succeeded && matches!(state, "success" | "inactive") {
            candidates.push(Candidate {
                sha: d.sha.clone(),
                evidence: format!("deployment {} to {environment} ({state})", d.id),
            });
        }
    }
    Ok(candidates)
}
