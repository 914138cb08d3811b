//! What GitHub knows: earlier rollbacks (the cooldown and "never back onto a version a
//! rollback left"), and the candidates for "last known good", newest first, from successful
//! workflow runs or from the environment's Deployments (`inactive` is a former success).
//!
//! Every value GitHub returns is untrusted: a candidate's commit is exactly 40 hex digits
//! (`CommitSha`) or it is no candidate, and a run qualifies only when it deployed this
//! repository's branch: event `push` or `workflow_dispatch`, `head_repository` equal to
//! GITHUB_REPOSITORY, `head_branch` equal to `branch`. What was passed over is reported.

use shipguard::commit::{CommitRef, CommitSha};
use shipguard::github::{GitHub, WorkflowRun};
use shipguard::timestamp::{self, Age};

/// How far back the history is read.
const MAX_DEPLOYMENTS: usize = 300;
const MAX_RUNS: usize = 500;
/// Deployments whose statuses are read when looking for a good one.
const MAX_STATUS_READS: usize = 30;
/// Passed-over entries named in the report; the rest are counted.
const MAX_REJECTED: usize = 20;

/// The events whose runs deploy the repository's own branch.
pub const DEPLOYING_EVENTS: &[&str] = &["push", "workflow_dispatch"];

/// What a rollback writes into its GitHub Deployment's payload.
pub const ROLLBACK_KIND: &str = "rollback";

/// A rollback recorded earlier.
#[derive(Debug, Clone)]
pub struct PastRollback {
    /// The commit (7 to 40 hex digits) it moved away from; `None` when the record has none.
    pub from_sha: Option<CommitRef>,
    pub to_sha: Option<CommitRef>,
    pub age: Age,
}

/// A version that may be rolled back to.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub sha: CommitSha,
    /// Where it came from, for the report: "run #41", "deployment 5003 (inactive)".
    pub evidence: String,
}

/// Candidates, and the entries passed over with why.
#[derive(Debug, Default)]
pub struct Found {
    pub candidates: Vec<Candidate>,
    pub rejected: Vec<String>,
    pub rejected_total: usize,
}

impl Found {
    fn reject(&mut self, why: String) {
        self.rejected_total += 1;
        if self.rejected.len() < MAX_REJECTED {
            self.rejected.push(why);
        }
    }
}

/// A commit a record's payload names, if it names one.
fn commit_in(value: &serde_json::Value) -> Option<CommitRef> {
    CommitRef::parse(value.as_str()?).ok()
}

/// The rollbacks of an environment, newest first.
pub async fn rollbacks(github: &GitHub, environment: &str) -> anyhow::Result<Vec<PastRollback>> {
    let deployments = github.deployments(environment, MAX_DEPLOYMENTS).await?;
    Ok(deployments
        .iter()
        .filter(|d| d.payload["kind"] == ROLLBACK_KIND)
        .map(|d| PastRollback {
            from_sha: commit_in(&d.payload["from_sha"]),
            to_sha: commit_in(&d.payload["to_sha"]),
            age: timestamp::age(d.created_at.as_raw()),
        })
        .collect())
}

/// Why a run does not count as a deployment of `repository`'s `branch`, if it does not.
fn disqualified(run: &WorkflowRun, repository: &str, branch: &str) -> Option<String> {
    let conclusion = run.conclusion.clone().unwrap_or_default();
    if conclusion != "success" {
        return Some(format!("concluded \"{conclusion}\""));
    }
    if !DEPLOYING_EVENTS.contains(&run.event.as_raw()) {
        return Some(format!(
            "event \"{}\" (only push and workflow_dispatch deploy)",
            run.event
        ));
    }
    let head_repository = run
        .head_repository
        .as_ref()
        .and_then(|r| r.full_name.clone())
        .unwrap_or_default();
    if !head_repository.as_raw().eq_ignore_ascii_case(repository) {
        return Some(format!(
            "head_repository \"{head_repository}\" is not {repository}"
        ));
    }
    let head_branch = run.head_branch.clone().unwrap_or_default();
    if head_branch != branch {
        return Some(format!("head_branch \"{head_branch}\" is not {branch:?}"));
    }
    None
}

/// Successful runs of `workflow` that deployed `repository`'s `branch`, newest first.
pub async fn from_runs(
    github: &GitHub,
    workflow: &str,
    repository: &str,
    branch: &str,
) -> anyhow::Result<Found> {
    let runs = github.successful_runs(workflow, branch, MAX_RUNS).await?;
    let mut found = Found::default();
    for run in runs {
        let name = format!("run #{}", run.run_number);
        if let Some(why) = disqualified(&run, repository, branch) {
            found.reject(format!("{name}: {why}"));
            continue;
        }
        match CommitSha::parse(run.head_sha.as_raw()) {
            Ok(sha) => found.candidates.push(Candidate {
                sha,
                evidence: format!(
                    "successful {} run #{} of {workflow} on {branch}",
                    run.event, run.run_number
                ),
            }),
            Err(why) => found.reject(format!("{name}: head_sha {why}")),
        }
    }
    Ok(found)
}

/// Deployments of `environment` whose newest status is `success` or `inactive` (a success
/// GitHub retired when a newer one succeeded), newest first; rollback records excluded.
pub async fn from_deployments(github: &GitHub, environment: &str) -> anyhow::Result<Found> {
    let deployments = github.deployments(environment, MAX_DEPLOYMENTS).await?;
    let mut found = Found::default();
    let mut reads = 0;
    for d in deployments
        .iter()
        .filter(|d| d.payload["kind"] != ROLLBACK_KIND)
    {
        let sha = match CommitSha::parse(d.sha.as_raw()) {
            Ok(sha) => sha,
            Err(why) => {
                found.reject(format!("deployment {}: sha {why}", d.id));
                continue;
            }
        };
        if found.candidates.iter().any(|c| c.sha == sha) {
            continue;
        }
        if reads == MAX_STATUS_READS {
            break;
        }
        reads += 1;
        let statuses = github.statuses(d.id).await?;
        let ever_succeeded = statuses.iter().any(|s| s.state == "success");
        let state = statuses.first().map(|s| s.state.as_raw()).unwrap_or("none");
        if ever_succeeded && matches!(state, "success" | "inactive") {
            found.candidates.push(Candidate {
                sha,
                evidence: format!("deployment {} to {environment} ({state})", d.id),
            });
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipguard::github::RepositoryRef;

    fn run(event: &str, repo: &str, branch: &str) -> WorkflowRun {
        WorkflowRun {
            id: 1,
            head_sha: "a".repeat(40).into(),
            head_branch: Some(branch.into()),
            event: event.into(),
            head_repository: Some(RepositoryRef {
                full_name: Some(repo.into()),
            }),
            conclusion: Some("success".into()),
            run_number: 1,
        }
    }

    #[test]
    fn only_runs_that_deployed_this_repositorys_branch_qualify() {
        for event in DEPLOYING_EVENTS {
            assert_eq!(
                disqualified(&run(event, "acme/shop", "main"), "acme/shop", "main"),
                None
            );
        }
        for (event, repo, branch) in [
            ("pull_request", "acme/shop", "main"),
            ("pull_request_target", "acme/shop", "main"),
            ("schedule", "acme/shop", "main"),
            ("push", "mallory/shop", "main"),
            ("push", "acme/shop", "feature"),
        ] {
            assert!(
                disqualified(&run(event, repo, branch), "acme/shop", "main").is_some(),
                "{event} {repo} {branch}"
            );
        }
        let mut no_head = run("push", "acme/shop", "main");
        no_head.head_repository = None;
        assert!(disqualified(&no_head, "acme/shop", "main").is_some());
    }
}
