//! GitHub REST through octocrab: Deployments and their statuses (the record of what was
//! deployed, and where auto-rollback keeps its state), and a workflow's successful runs.
//! The API base comes from `GITHUB_API_URL` (GitHub Enterprise, or the sandbox).

use std::fmt;

use http::header::USER_AGENT;
use octocrab::{Octocrab, Page};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use crate::env::{Env, vars};
use crate::exit::usage;
use crate::redact::Secret;

/// What a GitHub client needs: the API base, a token and the repository.
#[derive(Debug, Clone)]
pub struct Access {
    pub api: Url,
    pub token: Secret<String>,
    /// `owner/name`.
    pub repository: String,
}

impl Access {
    /// The repository from GITHUB_REPOSITORY and the API base from GITHUB_API_URL (default
    /// https://api.github.com), as the runner sets them; `purpose` says why they are needed.
    pub fn from_env(env: &Env, token: Secret<String>, purpose: &str) -> anyhow::Result<Self> {
        let repository = env
            .var(vars::GITHUB_REPOSITORY)
            .map(str::trim)
            .filter(|r| r.split('/').filter(|p| !p.is_empty()).count() == 2)
            .ok_or_else(|| {
                usage(format!(
                    "{purpose} needs GITHUB_REPOSITORY (`owner/name`), which the runner sets"
                ))
            })?
            .to_owned();
        let api = env
            .var(vars::GITHUB_API_URL)
            .unwrap_or("https://api.github.com");
        let api = crate::http::parse_url("GITHUB_API_URL", api)?;
        Ok(Self {
            api,
            token,
            repository,
        })
    }
}

/// One repository on one GitHub.
#[derive(Debug, Clone)]
pub struct GitHub {
    api: Octocrab,
    /// `owner/name`.
    repository: String,
}

/// A GitHub Deployment, with the fields the suite reads.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Deployment {
    pub id: u64,
    pub sha: String,
    #[serde(rename = "ref", default)]
    pub git_ref: String,
    #[serde(default)]
    pub environment: String,
    #[serde(default)]
    pub payload: Value,
    #[serde(default)]
    pub created_at: String,
}

/// One status of a deployment: `in_progress`, `success`, `failure`, `inactive`, ….
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DeploymentStatus {
    pub state: String,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub description: Option<String>,
}

/// A workflow run, with the fields the suite reads.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WorkflowRun {
    pub id: u64,
    pub head_sha: String,
    #[serde(default)]
    pub head_branch: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub run_number: u64,
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub html_url: String,
}

/// What a new deployment records.
#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub sha: String,
    pub environment: String,
    pub description: String,
    pub payload: Value,
}

/// GitHub refused a call or could not be reached.
#[derive(Debug)]
pub struct GitHubError {
    pub what: String,
    pub status: Option<u16>,
    /// GitHub's words or the transport's: printed neutralised.
    pub message: crate::gha::Untrusted,
}

impl fmt::Display for GitHubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(
                f,
                "{}: GitHub answered HTTP {status} \"{}\"",
                self.what, self.message
            )?,
            None => write!(f, "{}: {}", self.what, self.message)?,
        }
        let hint = match self.status {
            Some(401) => Some("the token is invalid; check `github-token`"),
            Some(403) => Some(
                "the token lacks a permission; add `permissions: deployments: write` (or `actions: read` for runs) to the job",
            ),
            Some(404) => Some(
                "no such repository or workflow for this token; check GITHUB_REPOSITORY and the workflow file name",
            ),
            Some(422) => Some("GitHub rejected the values sent"),
            _ => None,
        };
        if let Some(hint) = hint {
            write!(f, ": {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GitHubError {}

fn github_error(what: &str, err: octocrab::Error) -> anyhow::Error {
    let (status, message) = match &err {
        octocrab::Error::GitHub { source, .. } => {
            (Some(source.status_code.as_u16()), source.message.clone())
        }
        octocrab::Error::Hyper { source, .. } => (None, crate::http::describe_error(source)),
        octocrab::Error::Service { source, .. } => {
            (None, crate::http::describe_error(source.as_ref()))
        }
        octocrab::Error::Serde { source, .. } => (None, format!("unreadable answer: {source}")),
        octocrab::Error::Json { source, .. } => (None, format!("unreadable answer: {source}")),
        _ => (None, "request failed".to_owned()),
    };
    GitHubError {
        what: what.to_owned(),
        status,
        message: message.into(),
    }
    .into()
}

impl GitHub {
    pub fn new(access: &Access, user_agent: &str) -> anyhow::Result<Self> {
        crate::http::install_crypto_provider();
        let api = Octocrab::builder()
            .base_uri(access.api.as_str())
            .map_err(|e| usage(format!("invalid GitHub API URL: {e}")))?
            .personal_token(access.token.expose().clone())
            .add_header(USER_AGENT, user_agent.to_owned())
            .set_connect_timeout(Some(std::time::Duration::from_secs(10)))
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .build()
            .map_err(|e| github_error("building the GitHub client", e))?;
        Ok(Self {
            api,
            repository: access.repository.clone(),
        })
    }

    fn route(&self, tail: &str) -> String {
        format!("/repos/{}/{tail}", self.repository)
    }

    pub async fn create_deployment(&self, new: &NewDeployment) -> anyhow::Result<Deployment> {
        let body = json!({
            "ref": new.sha,
            "environment": new.environment,
            "description": new.description,
            "payload": new.payload,
            // The commit's checks already ran in this workflow; do not wait for them again.
            "auto_merge": false,
            "required_contexts": [],
        });
        self.api
            .post(self.route("deployments"), Some(&body))
            .await
            .map_err(|e| github_error("creating the GitHub deployment", e))
    }

    /// Adds a status; `success` marks earlier successes of the environment `inactive`.
    pub async fn create_status(
        &self,
        deployment: u64,
        state: &str,
        description: &str,
        environment_url: Option<&str>,
        log_url: Option<&str>,
    ) -> anyhow::Result<()> {
        let mut body = json!({ "state": state, "description": truncate(description, 140) });
        if let Some(url) = environment_url {
            body["environment_url"] = json!(url);
        }
        if let Some(url) = log_url {
            body["log_url"] = json!(url);
        }
        let _: Value = self
            .api
            .post(
                self.route(&format!("deployments/{deployment}/statuses")),
                Some(&body),
            )
            .await
            .map_err(|e| {
                github_error(
                    &format!("setting the GitHub deployment status to {state}"),
                    e,
                )
            })?;
        Ok(())
    }

    /// The deployments of an environment, newest first, up to `max` of them.
    pub async fn deployments(
        &self,
        environment: &str,
        max: usize,
    ) -> anyhow::Result<Vec<Deployment>> {
        let params = json!({ "environment": environment, "per_page": 100 });
        let first: Page<Deployment> = self
            .api
            .get(self.route("deployments"), Some(&params))
            .await
            .map_err(|e| github_error("listing GitHub deployments", e))?;
        self.collect(first, max, "listing GitHub deployments").await
    }

    /// A deployment's statuses, newest first.
    pub async fn statuses(&self, deployment: u64) -> anyhow::Result<Vec<DeploymentStatus>> {
        let params = json!({ "per_page": 100 });
        let first: Page<DeploymentStatus> = self
            .api
            .get(
                self.route(&format!("deployments/{deployment}/statuses")),
                Some(&params),
            )
            .await
            .map_err(|e| github_error("listing GitHub deployment statuses", e))?;
        self.collect(first, 500, "listing GitHub deployment statuses")
            .await
    }

    /// Successful runs of `workflow` (a file name or id) on `branch`, newest first.
    pub async fn successful_runs(
        &self,
        workflow: &str,
        branch: &str,
        max: usize,
    ) -> anyhow::Result<Vec<WorkflowRun>> {
        let params = json!({ "branch": branch, "status": "success", "per_page": 100 });
        let route = self.route(&format!("actions/workflows/{workflow}/runs"));
        let first: Page<WorkflowRun> = self
            .api
            .get(route, Some(&params))
            .await
            .map_err(|e| github_error("listing workflow runs", e))?;
        self.collect(first, max, "listing workflow runs").await
    }

    /// Follows `Link: rel="next"` until `max` items.
    async fn collect<T: serde::de::DeserializeOwned>(
        &self,
        mut page: Page<T>,
        max: usize,
        what: &str,
    ) -> anyhow::Result<Vec<T>> {
        let mut items = Vec::new();
        loop {
            items.append(&mut page.items);
            if items.len() >= max {
                items.truncate(max);
                return Ok(items);
            }
            match self
                .api
                .get_page::<T>(&page.next)
                .await
                .map_err(|e| github_error(what, e))?
            {
                Some(next) => page = next,
                None => return Ok(items),
            }
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}
