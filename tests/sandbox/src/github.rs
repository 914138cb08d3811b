//! The GitHub REST subset the suite calls, shaped like GitHub's answers: Deployments and
//! their statuses (a new `success` turns the environment's earlier successes `inactive`, as
//! GitHub does), and a workflow's runs, paginated with `Link` headers.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::server::{self, Running, lock};

/// The token the stand-in accepts.
pub const TOKEN: &str = "ghs_sandboxtoken";
pub const REPOSITORY: &str = "acme/shop";

#[derive(Debug, Clone)]
struct Deployment {
    id: u64,
    sha: String,
    environment: String,
    payload: Value,
    description: String,
    created_at: String,
    /// Newest last.
    statuses: Vec<(String, String, Option<String>)>,
}

/// A workflow run as the stand-in lists it.
#[derive(Debug, Clone)]
struct Run {
    workflow: String,
    id: u64,
    sha: String,
    branch: String,
    conclusion: String,
    event: String,
    head_repository: String,
    /// `completed`, or one of queued, in_progress, waiting, pending, requested (then the
    /// conclusion is null, as GitHub shows an unfinished run).
    status: String,
}

/// A scripted failure: requests matching `method` and a path ending in `suffix` (and, when
/// set, query `page`) get `status` with `headers` and GitHub's error `message`, `times`
/// times (`None`: always).
#[derive(Debug, Clone)]
struct Fault {
    method: String,
    suffix: String,
    page: Option<String>,
    status: u16,
    headers: Vec<(String, String)>,
    message: String,
    times: Option<usize>,
}

/// A recorded request.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    deployments: Vec<Deployment>,
    /// Oldest first.
    runs: Vec<Run>,
    faults: Vec<Fault>,
    /// Every GET answers 200 and then sends its body one byte per this interval.
    trickle: Option<std::time::Duration>,
    calls: Vec<Call>,
    base: String,
}

pub struct GitHub {
    shared: Arc<Mutex<Shared>>,
    pub server: Running,
}

impl GitHub {
    pub fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let server = server::spawn(router, "127.0.0.1:0".parse()?, None)?;
        lock(&shared).base = server.base_url();
        Ok(Self { shared, server })
    }

    /// `GITHUB_API_URL` for the tools.
    pub fn api_url(&self) -> String {
        self.server.base_url()
    }

    /// Adds a run of `workflow` (newest added last), with a conclusion such as `success`.
    pub fn add_run(&self, workflow: &str, sha: &str, branch: &str, conclusion: &str) -> &Self {
        self.add_run_with(workflow, sha, branch, conclusion, "push", REPOSITORY)
    }

    /// Adds a run with its trigger `event` and the `head_repository` its commit came from
    /// (a fork's `owner/name` for a fork's pull request).
    pub fn add_run_with(
        &self,
        workflow: &str,
        sha: &str,
        branch: &str,
        conclusion: &str,
        event: &str,
        head_repository: &str,
    ) -> &Self {
        let mut shared = lock(&self.shared);
        let id = 1000 + shared.runs.len() as u64;
        shared.runs.push(Run {
            workflow: workflow.to_owned(),
            id,
            sha: sha.to_owned(),
            branch: branch.to_owned(),
            conclusion: conclusion.to_owned(),
            event: event.to_owned(),
            head_repository: head_repository.to_owned(),
            status: "completed".to_owned(),
        });
        self
    }

    /// Adds a run of `workflow` that has not finished: `status` is queued, in_progress,
    /// waiting, pending or requested.
    pub fn add_unfinished_run(&self, workflow: &str, sha: &str, status: &str) -> &Self {
        self.add_run(workflow, sha, "main", "");
        if let Some(run) = lock(&self.shared).runs.last_mut() {
            run.status = status.to_owned();
        }
        self
    }

    /// The next `times` requests `METHOD …suffix` answer `status` (e.g. a 502 from a proxy).
    pub fn fail(&self, method: &str, suffix: &str, status: u16, times: usize) -> &Self {
        self.fault(Fault {
            method: method.to_owned(),
            suffix: suffix.to_owned(),
            page: None,
            status,
            headers: Vec::new(),
            message: "Server Error".to_owned(),
            times: Some(times),
        })
    }

    /// Page `page` of every GET `…suffix` answers `status`, always.
    pub fn fail_page(&self, suffix: &str, page: usize, status: u16) -> &Self {
        self.fault(Fault {
            method: "GET".to_owned(),
            suffix: suffix.to_owned(),
            page: Some(page.to_string()),
            status,
            headers: Vec::new(),
            message: "Server Error".to_owned(),
            times: None,
        })
    }

    /// Every request answers as GitHub does when the primary rate limit is spent: `status`
    /// (403 or 429), `x-ratelimit-remaining: 0`, `x-ratelimit-reset: reset` (epoch seconds).
    pub fn rate_limited(&self, status: u16, reset: i64) -> &Self {
        self.fault(Fault {
            method: String::new(),
            suffix: String::new(),
            page: None,
            status,
            headers: vec![
                ("x-ratelimit-limit".into(), "1000".into()),
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-used".into(), "1000".into()),
                ("x-ratelimit-reset".into(), reset.to_string()),
            ],
            message: "API rate limit exceeded for installation ID 1.".to_owned(),
            times: None,
        })
    }

    /// Every GET answers 200 at once, then trickles its body one byte per `every`.
    pub fn trickle(&self, every: std::time::Duration) -> &Self {
        lock(&self.shared).trickle = Some(every);
        self
    }

    fn fault(&self, fault: Fault) -> &Self {
        lock(&self.shared).faults.push(fault);
        self
    }

    /// Records a deployment made `ago`, with a final state, as an earlier workflow would have.
    pub fn add_deployment(
        &self,
        sha: &str,
        environment: &str,
        payload: Value,
        state: &str,
        ago: std::time::Duration,
    ) -> u64 {
        let mut shared = lock(&self.shared);
        let id = create(&mut shared, sha, environment, payload, "", ago);
        add_status(&mut shared, id, state, None);
        id
    }

    /// Records a deployment whose `created_at` is exactly `created_at` (odd offsets, clock
    /// skew, garbage), with a final state.
    pub fn add_deployment_at(
        &self,
        sha: &str,
        environment: &str,
        payload: Value,
        state: &str,
        created_at: &str,
    ) -> u64 {
        let mut shared = lock(&self.shared);
        let id = create(
            &mut shared,
            sha,
            environment,
            payload,
            "",
            std::time::Duration::ZERO,
        );
        if let Some(d) = shared.deployments.iter_mut().find(|d| d.id == id) {
            d.created_at = created_at.to_owned();
        }
        add_status(&mut shared, id, state, None);
        id
    }

    pub fn calls(&self) -> Vec<Call> {
        lock(&self.shared).calls.clone()
    }

    /// (sha, environment, payload, states oldest first) of every deployment, oldest first.
    pub fn deployments(&self) -> Vec<(String, String, Value, Vec<String>)> {
        lock(&self.shared)
            .deployments
            .iter()
            .map(|d| {
                (
                    d.sha.clone(),
                    d.environment.clone(),
                    d.payload.clone(),
                    d.statuses.iter().map(|s| s.0.clone()).collect(),
                )
            })
            .collect()
    }
}

/// Now minus `ago`, as GitHub writes times (`2026-11-23T08:00:00Z`).
pub fn timestamp(ago: std::time::Duration) -> String {
    let when = time::OffsetDateTime::now_utc() - ago;
    let when = when.replace_nanosecond(0).unwrap_or(when);
    when.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn create(
    shared: &mut Shared,
    sha: &str,
    environment: &str,
    payload: Value,
    description: &str,
    ago: std::time::Duration,
) -> u64 {
    let id = 5000 + shared.deployments.len() as u64;
    let created_at = timestamp(ago);
    shared.deployments.push(Deployment {
        id,
        sha: sha.to_owned(),
        environment: environment.to_owned(),
        payload,
        description: description.to_owned(),
        created_at,
        statuses: Vec::new(),
    });
    id
}

fn add_status(shared: &mut Shared, id: u64, state: &str, description: Option<String>) {
    let at = timestamp(std::time::Duration::ZERO);
    let Some(environment) = shared
        .deployments
        .iter()
        .find(|d| d.id == id)
        .map(|d| d.environment.clone())
    else {
        return;
    };
    if state == "success" {
        // auto_inactive: earlier successes of the environment become inactive.
        for d in shared
            .deployments
            .iter_mut()
            .filter(|d| d.id != id && d.environment == environment)
        {
            if d.statuses.last().is_some_and(|s| s.0 == "success") {
                d.statuses.push(("inactive".into(), at.clone(), None));
            }
        }
    }
    if let Some(d) = shared.deployments.iter_mut().find(|d| d.id == id) {
        d.statuses.push((state.to_owned(), at, description));
    }
}

fn deployment_json(base: &str, d: &Deployment) -> Value {
    json!({
        "url": format!("{base}/repos/{REPOSITORY}/deployments/{}", d.id),
        "id": d.id,
        "node_id": format!("DE_{}", d.id),
        "sha": d.sha,
        "ref": d.sha,
        "task": "deploy",
        "payload": d.payload,
        "original_environment": d.environment,
        "environment": d.environment,
        "description": d.description,
        "creator": {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
        "created_at": d.created_at,
        "updated_at": d.created_at,
        "statuses_url": format!("{base}/repos/{REPOSITORY}/deployments/{}/statuses", d.id),
        "repository_url": format!("{base}/repos/{REPOSITORY}"),
        "transient_environment": false,
        "production_environment": false,
    })
}

fn run_json(base: &str, run: &Run) -> Value {
    let Run {
        workflow,
        id,
        sha,
        branch,
        conclusion,
        event,
        head_repository,
        status,
    } = run;
    let conclusion = (status == "completed").then_some(conclusion);
    json!({
        "id": id,
        "name": "deploy",
        "node_id": format!("WFR_{id}"),
        "head_branch": branch,
        "head_sha": sha,
        "path": format!(".github/workflows/{workflow}"),
        "run_number": id - 999,
        "event": event,
        "status": status,
        "conclusion": conclusion,
        "workflow_id": 161335,
        "url": format!("{base}/repos/{REPOSITORY}/actions/runs/{id}"),
        "html_url": format!("https://github.com/{REPOSITORY}/actions/runs/{id}"),
        "created_at": "2026-11-23T08:00:00Z",
        "updated_at": "2026-11-23T08:05:00Z",
        "repository": {"id": 1, "name": "shop", "full_name": REPOSITORY},
        "head_repository": {"id": 2, "name": head_repository.split('/').nth(1).unwrap_or_default(), "full_name": head_repository},
    })
}

async fn handle(State(shared): State<Arc<Mutex<Shared>>>, request: Request) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let authorized = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}") || v == format!("token {TOKEN}"));
    let raw = axum::body::to_bytes(request.into_body(), 1 << 22)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let mut shared = lock(&shared);
    shared.calls.push(Call {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        body: body.clone(),
    });
    if !authorized {
        return reply(
            401,
            json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
            None,
        );
    }
    if let Some(fault) = take_fault(&mut shared, &method, &path, &query) {
        let mut response = reply(
            fault.status,
            json!({"message": fault.message, "documentation_url": "https://docs.github.com/rest", "status": fault.status.to_string()}),
            None,
        );
        for (name, value) in fault.headers {
            if let (Ok(name), Ok(value)) = (
                axum::http::HeaderName::from_bytes(name.as_bytes()),
                value.parse(),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
        return response;
    }
    if let Some(every) = shared.trickle.filter(|_| method == "GET") {
        return trickle(every);
    }
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(tail) = path.strip_prefix(&format!("/repos/{REPOSITORY}/")) else {
        return not_found();
    };
    let parts: Vec<&str> = tail.split('/').collect();
    let base = shared.base.clone();
    match (method.as_str(), parts.as_slice()) {
        ("POST", ["deployments"]) => {
            let Some(sha) = body["ref"].as_str().filter(|s| !s.is_empty()) else {
                return reply(
                    422,
                    json!({"message": "Invalid request.\n\n\"ref\" wasn't supplied.", "status": "422"}),
                    None,
                );
            };
            let environment = body["environment"]
                .as_str()
                .unwrap_or("production")
                .to_owned();
            let description = body["description"].as_str().unwrap_or_default().to_owned();
            let id = create(
                &mut shared,
                sha,
                &environment,
                body["payload"].clone(),
                &description,
                std::time::Duration::ZERO,
            );
            let d = shared.deployments.iter().find(|d| d.id == id).cloned();
            match d {
                Some(d) => reply(201, deployment_json(&base, &d), None),
                None => not_found(),
            }
        }
        ("GET", ["deployments"]) => {
            let environment = param("environment");
            let sha = param("sha");
            let items: Vec<Value> = shared
                .deployments
                .iter()
                .rev()
                .filter(|d| environment.as_ref().is_none_or(|e| *e == d.environment))
                .filter(|d| sha.as_ref().is_none_or(|s| *s == d.sha))
                .map(|d| deployment_json(&base, d))
                .collect();
            paginate(&base, &path, &query, items, Value::Array)
        }
        ("POST", ["deployments", id, "statuses"]) => {
            let Ok(id) = id.parse::<u64>() else {
                return not_found();
            };
            if !shared.deployments.iter().any(|d| d.id == id) {
                return not_found();
            }
            let state = body["state"].as_str().unwrap_or_default().to_owned();
            let valid = [
                "error",
                "failure",
                "inactive",
                "in_progress",
                "queued",
                "pending",
                "success",
            ];
            if !valid.contains(&state.as_str()) {
                return reply(
                    422,
                    json!({"message": "Validation Failed", "status": "422"}),
                    None,
                );
            }
            add_status(
                &mut shared,
                id,
                &state,
                body["description"].as_str().map(str::to_owned),
            );
            reply(
                201,
                json!({"id": id * 10, "state": state, "description": body["description"], "environment_url": body["environment_url"], "log_url": body["log_url"]}),
                None,
            )
        }
        ("GET", ["deployments", id, "statuses"]) => {
            let Ok(id) = id.parse::<u64>() else {
                return not_found();
            };
            let Some(d) = shared.deployments.iter().find(|d| d.id == id) else {
                return not_found();
            };
            let items: Vec<Value> = d
                .statuses
                .iter()
                .rev()
                .map(|(state, at, description)| json!({"state": state, "created_at": at, "updated_at": at, "description": description}))
                .collect();
            paginate(&base, &path, &query, items, Value::Array)
        }
        ("GET", ["actions", "workflows", workflow, "runs"]) => {
            let branch = param("branch");
            let status = param("status");
            let items: Vec<Value> = shared
                .runs
                .iter()
                .rev()
                .filter(|r| r.workflow == *workflow)
                .filter(|r| branch.as_ref().is_none_or(|b| *b == r.branch))
                // GitHub's `status` filter takes a status or a conclusion, one value.
                .filter(|r| {
                    status
                        .as_ref()
                        .is_none_or(|s| *s == r.conclusion || *s == r.status)
                })
                .map(|r| run_json(&base, r))
                .collect();
            let total = items.len();
            paginate(
                &base,
                &path,
                &query,
                items,
                |page| json!({"total_count": total, "workflow_runs": page}),
            )
        }
        _ => not_found(),
    }
}

/// The first scripted failure that matches, used up once when it has a count.
fn take_fault(
    shared: &mut Shared,
    method: &str,
    path: &str,
    query: &[(String, String)],
) -> Option<Fault> {
    let page = query
        .iter()
        .find(|(k, _)| k == "page")
        .map_or("1", |(_, v)| v.as_str());
    let index = shared.faults.iter().position(|f| {
        (f.method.is_empty() || f.method == method)
            && path.ends_with(&f.suffix)
            && f.page.as_deref().is_none_or(|p| p == page)
            && f.times != Some(0)
    })?;
    let fault = &mut shared.faults[index];
    if let Some(times) = &mut fault.times {
        *times -= 1;
    }
    Some(fault.clone())
}

/// 200 with a JSON content type, then one byte per `every`, never ending.
fn trickle(every: std::time::Duration) -> Response {
    let stream = futures_util::stream::unfold(0usize, move |sent| async move {
        tokio::time::sleep(every).await;
        let byte = if sent == 0 { b"[" } else { b" " };
        Some((
            Ok::<_, std::io::Error>(axum::body::Bytes::from_static(byte)),
            sent + 1,
        ))
    });
    let mut response = Response::new(Body::from_stream(stream));
    if let Ok(value) = "application/json; charset=utf-8".parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}

/// `per_page` (default 30, at most 100) and `page`, with GitHub's `Link` header.
fn paginate(
    base: &str,
    path: &str,
    query: &[(String, String)],
    items: Vec<Value>,
    shape: impl Fn(Vec<Value>) -> Value,
) -> Response {
    let number = |name: &str, default: usize| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let per_page = number("per_page", 30).clamp(1, 100);
    let page = number("page", 1).max(1);
    let pages = items.len().div_ceil(per_page).max(1);
    let chunk: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    let link_to = |p: usize| {
        let mut q: Vec<(String, String)> =
            query.iter().filter(|(k, _)| k != "page").cloned().collect();
        q.push(("page".into(), p.to_string()));
        let qs: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(q)
            .finish();
        format!("<{base}{path}?{qs}>")
    };
    let mut links = Vec::new();
    if page < pages {
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        links.push(format!("{}; rel=\"last\"", link_to(pages)));
    }
    if page > 1 {
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
        links.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    let link = (!links.is_empty()).then(|| links.join(", "));
    reply(200, shape(chunk), link)
}

fn not_found() -> Response {
    reply(
        404,
        json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}),
        None,
    )
}

fn reply(status: u16, body: Value, link: Option<String>) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = "application/json; charset=utf-8".parse() {
        response.headers_mut().insert("content-type", value);
    }
    if let Some(link) = link
        && let Ok(value) = link.parse()
    {
        response.headers_mut().insert("link", value);
    }
    response
}
