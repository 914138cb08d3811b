//! GitHub REST: Deployments and their statuses (the record of what was deployed, and where
//! auto-rollback keeps its state), and a workflow's successful runs. The API base comes from
//! `GITHUB_API_URL` (GitHub Enterprise, or the sandbox).
//!
//! Built on the suite's one reqwest client rather than octocrab, for three reasons read in
//! octocrab 0.54.9's source: its default client retries every 5xx and transport error itself
//! (`RetryConfig::Simple(3)` by default, src/lib.rs line 1300, which retries any 5xx, 429 or
//! transport error: src/service/middleware/retry.rs lines 100-121), including the POST that creates a
//! Deployment, so one 502 could record two; its hyper client has no proxy support (only
//! `build_with_reqwest`, behind a feature we did not build, would add it); and its errors drop
//! the response headers, so a rate limit's `x-ratelimit-reset` cannot be reported. Here:
//! - POSTs (a new Deployment, a new status) are sent exactly once; GETs are retried by our
//!   policy (`http::send_with_retry`: connect errors, timeouts, 429, 502/503/504).
//! - `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` are honoured as for every reqwest client: reqwest
//!   0.13.5 adds `ProxyMatcher::system()` unless `no_proxy()` is called
//!   (src/async_impl/client.rs line 417), which reads those variables through hyper-util's
//!   matcher (hyper-util 0.1.21, src/client/proxy/matcher.rs line 233).
//! - Every call ends by an absolute deadline (`with_deadline`), each request within 30 s, and
//!   every body is capped.
//! - Pages are read with GitHub's `page`/`per_page` parameters until a short page.

use std::fmt;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use crate::commit::CommitRef;
use crate::env::{Env, vars};
use crate::exit::usage;
use crate::gha::Untrusted;
use crate::http::{self, ClientOptions, RetryPolicy};
use crate::redact::Secret;

/// One request may take this long at most (a body trickling in included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A page of 100 deployments with large payloads stays far below this.
const MAX_BODY: usize = 4 << 20;
const PER_PAGE: usize = 100;

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
            .filter(|r| valid_repository(r))
            .ok_or_else(|| {
                usage(format!(
                    "{purpose} needs GITHUB_REPOSITORY (`owner/name`), which the runner sets"
                ))
            })?
            .to_owned();
        let api = env
            .var(vars::GITHUB_API_URL)
            .unwrap_or("https://api.github.com");
        let api = http::parse_url("GITHUB_API_URL", api)?;
        Ok(Self {
            api,
            token,
            repository,
        })
    }
}

/// `owner/name` with GitHub's characters only, so it can be put into a path as is.
fn valid_repository(text: &str) -> bool {
    let mut parts = text.split('/');
    let part_ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        })
    };
    part_ok(parts.next()) && part_ok(parts.next()) && parts.next().is_none()
}

/// One repository on one GitHub.
#[derive(Debug, Clone)]
pub struct GitHub {
    http: Client,
    api: Url,
    token: Secret<String>,
    /// `owner/name`.
    repository: String,
    policy: RetryPolicy,
    deadline: Option<Instant>,
}

/// A GitHub Deployment, with the fields the suite reads. Every text field is `Untrusted`: printed only neutralised.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Deployment {
    pub id: u64,
    #[serde(default)]
    pub sha: Untrusted,
    #[serde(default)]
    pub environment: Untrusted,
    #[serde(default)]
    pub payload: Value,
    #[serde(default)]
    pub created_at: Untrusted,
}

/// One status of a deployment: `in_progress`, `success`, `failure`, `inactive`, ….
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DeploymentStatus {
    #[serde(default)]
    pub state: Untrusted,
    #[serde(default)]
    pub created_at: Untrusted,
}

/// A workflow run, with the fields the suite reads (names as in GitHub's REST schema for
/// workflow runs; octocrab 0.54.9 models them in src/models/workflows.rs lines 26-52:
/// `head_branch`, `head_sha`, `event`, `head_repository`). Every text field is `Untrusted`: printed only neutralised.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct WorkflowRun {
    pub id: u64,
    #[serde(default)]
    pub head_sha: Untrusted,
    #[serde(default)]
    pub head_branch: Option<Untrusted>,
    /// `push`, `workflow_dispatch`, `pull_request`, `pull_request_target`, `schedule`, ….
    #[serde(default)]
    pub event: Untrusted,
    /// The repository the run's commit came from: a fork for a fork's pull request.
    #[serde(default)]
    pub head_repository: Option<RepositoryRef>,
    #[serde(default)]
    pub conclusion: Option<Untrusted>,
    #[serde(default)]
    pub run_number: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RepositoryRef {
    #[serde(default)]
    pub full_name: Option<Untrusted>,
}

#[derive(Deserialize)]
struct RunsPage {
    #[serde(default)]
    workflow_runs: Vec<WorkflowRun>,
}

/// What a new deployment records: always a commit (its `ref`).
#[derive(Debug, Clone)]
pub struct NewDeployment {
    pub sha: CommitRef,
    pub environment: String,
    pub description: String,
    pub payload: Value,
}

/// Why a GitHub call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// An HTTP error answer.
    Status(u16),
    /// A primary or secondary rate limit; `resets_at` is `x-ratelimit-reset` (epoch seconds).
    RateLimited {
        status: u16,
        resets_at: Option<i64>,
        retry_after: Option<u64>,
    },
    /// No answer (connect, timeout, the deadline) or an unreadable one.
    Transport,
}

/// GitHub refused a call or could not be reached.
#[derive(Debug)]
pub struct GitHubError {
    pub what: String,
    pub failure: Failure,
    /// GitHub's `message`, or the transport error; untrusted, one line, bounded.
    pub message: Untrusted,
}

impl fmt::Display for GitHubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            Failure::RateLimited {
                status,
                resets_at,
                retry_after,
            } => {
                write!(
                    f,
                    "{}: GitHub's API rate limit is exhausted (HTTP {status} \"{}\")",
                    self.what, self.message
                )?;
                if let Some(reset) = resets_at {
                    write!(f, "; it resets at {}", crate::timestamp::rfc3339(*reset))?;
                }
                if let Some(seconds) = retry_after {
                    write!(f, "; GitHub asks to retry after {seconds}s")?;
                }
                f.write_str(": wait for the reset, or run less often (the token is fine)")
            }
            Failure::Status(status) => {
                write!(
                    f,
                    "{}: GitHub answered HTTP {status} \"{}\"",
                    self.what, self.message
                )?;
                let hint = match status {
                    401 => Some("the token is invalid; check `github-token`"),
                    403 => Some(
                        "the token lacks a permission; add `permissions: deployments: write` (or `actions: read` for runs) to the job",
                    ),
                    404 => Some(
                        "no such repository or workflow for this token; check GITHUB_REPOSITORY and the workflow file name",
                    ),
                    422 => Some("GitHub rejected the values sent"),
                    _ => None,
                };
                match hint {
                    Some(hint) => write!(f, ": {hint}"),
                    None => Ok(()),
                }
            }
            Failure::Transport => write!(f, "{}: {}", self.what, self.message),
        }
    }
}

impl std::error::Error for GitHubError {}

/// One line, at most 300 characters, of text GitHub sent.
fn one_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    line.trim().to_owned()
}

/// The rate-limit reading of an error answer: GitHub documents 403 or 429 with
/// `x-ratelimit-remaining: 0` (primary) or a "rate limit" message / `retry-after`
/// (secondary).
fn rate_limit(status: StatusCode, headers: &HeaderMap, message: &str) -> Option<Failure> {
    if !matches!(status.as_u16(), 403 | 429) {
        return None;
    }
    let header = |name: &str| headers.get(name)?.to_str().ok().map(str::trim);
    let exhausted = header("x-ratelimit-remaining") == Some("0");
    let retry_after = header("retry-after").and_then(|v| v.parse::<u64>().ok());
    let said = message.to_ascii_lowercase().contains("rate limit");
    (exhausted || said || retry_after.is_some() || status.as_u16() == 429).then(|| {
        Failure::RateLimited {
            status: status.as_u16(),
            resets_at: header("x-ratelimit-reset").and_then(|v| v.parse().ok()),
            retry_after,
        }
    })
}

impl GitHub {
    pub fn new(access: &Access, user_agent: &str, policy: RetryPolicy) -> anyhow::Result<Self> {
        let mut options = ClientOptions::new(user_agent);
        options.request_timeout = None; // per request, under the deadline
        let http = http::client(&options)?;
        Ok(Self {
            http,
            api: access.api.clone(),
            token: access.token.clone(),
            repository: access.repository.clone(),
            policy,
            deadline: None,
        })
    }

    /// No call runs past `deadline`.
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    fn url(&self, tail: &str) -> String {
        format!(
            "{}/repos/{}/{tail}",
            self.api.as_str().trim_end_matches('/'),
            self.repository
        )
    }

    /// Time left for one request, or the deadline error.
    fn budget(&self, what: &str) -> anyhow::Result<Duration> {
        let left = match self.deadline {
            Some(deadline) => deadline.saturating_duration_since(Instant::now()),
            None => REQUEST_TIMEOUT,
        };
        if left.is_zero() {
            return Err(GitHubError {
                what: what.to_owned(),
                failure: Failure::Transport,
                message: "the deadline passed before GitHub answered".into(),
            }
            .into());
        }
        Ok(left.min(REQUEST_TIMEOUT))
    }

    fn request(&self, method: Method, url: &str, timeout: Duration) -> RequestBuilder {
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.token.expose()))
            .unwrap_or_else(|_| HeaderValue::from_static(""));
        auth.set_sensitive(true);
        self.http
            .request(method, url)
            .header(ACCEPT, "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .header(AUTHORIZATION, auth)
            .timeout(timeout)
    }

    /// A POST sent exactly once: creating a record twice is worse than reporting an error.
    async fn post<T: DeserializeOwned>(
        &self,
        what: &str,
        tail: &str,
        body: &Value,
    ) -> anyhow::Result<T> {
        let timeout = self.budget(what)?;
        let response = self
            .request(Method::POST, &self.url(tail), timeout)
            .json(body)
            .send()
            .await
            .map_err(|e| transport(what, &e))?;
        read(what, response).await
    }

    /// A GET, retried by the suite's policy within the deadline.
    async fn get<T: DeserializeOwned>(
        &self,
        what: &str,
        tail: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<T> {
        let timeout = self.budget(what)?;
        let mut policy = self.policy.clone();
        // The run's deadline, not the one the policy was built with (60 s from then).
        if let Some(deadline) = self.deadline {
            policy.deadline = deadline;
        }
        let mut url = Url::parse(&self.url(tail))?;
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        let url = url.to_string();
        let response =
            http::send_with_retry(&policy, what, || self.request(Method::GET, &url, timeout))
                .await
                .map_err(|e| {
                    anyhow::Error::new(GitHubError {
                        what: what.to_owned(),
                        failure: Failure::Transport,
                        message: one_line(&format!("{e:#}")).into(),
                    })
                })?;
        read(what, response).await
    }

    pub async fn create_deployment(&self, new: &NewDeployment) -> anyhow::Result<Deployment> {
        let body = json!({
            "ref": new.sha.as_str(),
            "environment": new.environment,
            "description": truncate(&new.description, 140),
            "payload": new.payload,
            // The commit's checks already ran in this workflow; do not wait for them again.
            "auto_merge": false,
            "required_contexts": [],
        });
        self.post("creating the GitHub deployment", "deployments", &body)
            .await
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
            .post(
                &format!("setting the GitHub deployment status to {state}"),
                &format!("deployments/{deployment}/statuses"),
                &body,
            )
            .await?;
        Ok(())
    }

    /// The deployments of an environment, newest first, up to `max` of them.
    pub async fn deployments(
        &self,
        environment: &str,
        max: usize,
    ) -> anyhow::Result<Vec<Deployment>> {
        self.pages(max, |page| async move {
            self.get(
                "listing GitHub deployments",
                "deployments",
                &[
                    ("environment", environment.to_owned()),
                    ("per_page", PER_PAGE.to_string()),
                    ("page", page.to_string()),
                ],
            )
            .await
        })
        .await
    }

    /// A deployment's statuses, newest first (at most 500).
    pub async fn statuses(&self, deployment: u64) -> anyhow::Result<Vec<DeploymentStatus>> {
        let tail = format!("deployments/{deployment}/statuses");
        let tail = tail.as_str();
        self.pages(500, |page| async move {
            self.get(
                "listing GitHub deployment statuses",
                tail,
                &[
                    ("per_page", PER_PAGE.to_string()),
                    ("page", page.to_string()),
                ],
            )
            .await
        })
        .await
    }

    /// Successful runs of `workflow` (a file name or id) on `branch`, newest first, as
    /// GitHub filters them; the caller still checks every field.
    pub async fn successful_runs(
        &self,
        workflow: &str,
        branch: &str,
        max: usize,
    ) -> anyhow::Result<Vec<WorkflowRun>> {
        // `workflow` is checked by the caller's settings: a file name or an id, no `/`.
        let tail = format!("actions/workflows/{workflow}/runs");
        let tail = tail.as_str();
        self.pages(max, |page| async move {
            let runs: RunsPage = self
                .get(
                    "listing workflow runs",
                    tail,
                    &[
                        ("branch", branch.to_owned()),
                        ("status", "success".to_owned()),
                        ("per_page", PER_PAGE.to_string()),
                        ("page", page.to_string()),
                    ],
                )
                .await?;
            Ok(runs.workflow_runs)
        })
        .await
    }

    /// Pages 1, 2, … until a short page or `max` items.
    async fn pages<T, F, Fut>(&self, max: usize, mut fetch: F) -> anyhow::Result<Vec<T>>
    where
        F: FnMut(usize) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Vec<T>>>,
    {
        let mut items = Vec::new();
        for page in 1.. {
            let mut got = fetch(page).await?;
            let short = got.len() < PER_PAGE;
            items.append(&mut got);
            if short || items.len() >= max {
                break;
            }
        }
        items.truncate(max);
        Ok(items)
    }
}

fn transport(what: &str, err: &reqwest::Error) -> anyhow::Error {
    GitHubError {
        what: what.to_owned(),
        failure: Failure::Transport,
        message: http::describe_reqwest(err).into(),
    }
    .into()
}

/// The body of a success as `T`; an error answer as a `GitHubError` (rate limits apart).
async fn read<T: DeserializeOwned>(what: &str, response: Response) -> anyhow::Result<T> {
    let status = response.status();
    if !status.is_success() {
        // An error answer is read for its message only: a small bound, and the headers for
        // a rate limit.
        let headers = response.headers().clone();
        let body = http::read_error_body(response).await;
        return Err(error_answer(what, status, &headers, body.as_bytes()));
    }
    let body = match http::read_body_capped(response, MAX_BODY).await {
        Ok(body) if body.truncated => {
            return Err(GitHubError {
                what: what.to_owned(),
                failure: Failure::Transport,
                message: format!("the answer is larger than {} MiB", MAX_BODY >> 20).into(),
            }
            .into());
        }
        Ok(body) => body.bytes,
        Err(err) => return Err(transport(what, &err)),
    };
    serde_json::from_slice(&body).map_err(|err| {
        GitHubError {
            what: what.to_owned(),
            failure: Failure::Transport,
            message: format!("unreadable answer: {err}").into(),
        }
        .into()
    })
}

/// A GitHub error answer as a `GitHubError`: its `message`, and a rate limit named as one.
fn error_answer(what: &str, status: StatusCode, headers: &HeaderMap, body: &[u8]) -> anyhow::Error {
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let message = one_line(&message);
    let failure = rate_limit(status, headers, &message).unwrap_or(Failure::Status(status.as_u16()));
    GitHubError {
        what: what.to_owned(),
        failure,
        message: message.into(),
    }
    .into()
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// The statuses of a workflow run that has not finished. The runs endpoint's `status` query
/// takes one value (github/rest-api-description, descriptions/api.github.com/
/// api.github.com.yaml, components/parameters/workflow-run-status: one string of an enum
/// whose unfinished members are these five), so each is asked for on its own.
pub const UNFINISHED_RUN_STATUSES: [&str; 5] =
    ["queued", "in_progress", "waiting", "pending", "requested"];

/// A run that has not finished, as the check for one needs it.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct UnfinishedRun {
    pub id: u64,
    #[serde(default)]
    pub run_number: u64,
    #[serde(default)]
    pub status: Untrusted,
}

#[derive(Deserialize)]
struct UnfinishedPage {
    #[serde(default)]
    total_count: u64,
    #[serde(default)]
    workflow_runs: Vec<UnfinishedRun>,
}

impl GitHub {
    /// Runs of `workflow` (a file name or id) that are queued, waiting or in progress, up to
    /// a few per status (five requests in all, each bounded by the deadline and the body
    /// limit). Any error is an error: the caller fails closed. Runs in `except` (the caller's
    /// own run) are left out.
    pub async fn unfinished_runs(
        &self,
        workflow: &str,
        except: Option<u64>,
    ) -> anyhow::Result<Vec<UnfinishedRun>> {
        let tail = format!("actions/workflows/{workflow}/runs");
        let mut found = Vec::new();
        for status in UNFINISHED_RUN_STATUSES {
            let page: UnfinishedPage = self
                .get(
                    "listing unfinished workflow runs",
                    &tail,
                    &[
                        ("status", status.to_owned()),
                        ("exclude_pull_requests", "true".to_owned()),
                        ("per_page", "5".to_owned()),
                    ],
                )
                .await?;
            let returned = page.workflow_runs.len() as u64;
            let before = found.len();
            found.extend(
                page.workflow_runs
                    .into_iter()
                    .filter(|r| Some(r.id) != except)
                    .map(|mut r| {
                        // Listed for this status: say so, whatever the run's own field holds.
                        r.status = Untrusted::from(status);
                        r
                    }),
            );
            // Counted but not listed (only our own run listed, or none): unknown, so refuse.
            if found.len() == before && page.total_count > returned {
                anyhow::bail!(
                    "GitHub counts {} {status} run(s) of {workflow} but listed {returned}",
                    page.total_count
                );
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_are_told_from_missing_permissions() {
        let mut headers = HeaderMap::new();
        let forbidden = StatusCode::FORBIDDEN;
        assert_eq!(
            rate_limit(
                forbidden,
                &headers,
                "Resource not accessible by integration"
            ),
            None
        );
        assert!(matches!(
            rate_limit(
                forbidden,
                &headers,
                "API rate limit exceeded for installation"
            ),
            Some(Failure::RateLimited { .. })
        ));
        headers.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        headers.insert("x-ratelimit-reset", HeaderValue::from_static("1795420800"));
        assert_eq!(
            rate_limit(forbidden, &headers, "whatever"),
            Some(Failure::RateLimited {
                status: 403,
                resets_at: Some(1_795_420_800),
                retry_after: None
            })
        );
        assert_eq!(
            crate::timestamp::rfc3339(1_795_420_800),
            "2026-11-23T08:00:00Z"
        );
        assert_eq!(
            rate_limit(StatusCode::NOT_FOUND, &headers, "rate limit"),
            None
        );
    }

    #[test]
    fn repositories_fit_a_path() {
        for good in ["acme/shop", "a-b/c.d_e"] {
            assert!(valid_repository(good), "{good}");
        }
        for bad in [
            "acme", "acme/", "/shop", "a/b/c", "../x", "a/..", "a/b?x", "a/b c",
        ] {
            assert!(!valid_repository(bad), "{bad}");
        }
    }
}
