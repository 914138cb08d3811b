//! A Coolify v4 stand-in that behaves as reference/coolify-api.md describes the real server:
//! Sanctum-style bearer tokens with abilities, the API-disabled switch, 405 on GET `/deploy`,
//! the per-server queue limit (429, `Retry-After: 60`), the dedupe answer with a UUID that was
//! never stored, deployments moving queued → in_progress → finished/failed over time, logs as
//! a JSON-encoded string (only for sensitive tokens), cancel, and PATCH validation with 422.
//! Tests script it through [`Coolify`]; every request is recorded for the contract test.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::server::{self, Running, lock, reply};

mod git;
mod queue;
pub mod version;

pub use git::Repo;
use version::Gates;

/// A token with every ability (`root`), held by an admin: sees logs.
pub const TOKEN: &str = "1|sandbox-root-token";
pub const VERSION: &str = "4.3.11";
/// Items the dedupe answer carries (§3.3).
const ALREADY_QUEUED: &str = "Deployment already queued for this commit.";

/// How a deployment of one image tag goes.
#[derive(Debug, Clone)]
pub struct Script {
    /// Time spent `queued` before the build starts.
    pub queued_for: Duration,
    /// Time spent `in_progress`; `None` never ends.
    pub builds_for: Option<Duration>,
    pub succeeds: bool,
    /// Extra log lines (untrusted text in real life).
    pub log_lines: Vec<String>,
    /// False: the app maps host ports, so Coolify replaces the container without a health
    /// check and says "rolling update is not supported" (ApplicationDeploymentJob L1951).
    pub rolling_update: bool,
}

impl Script {
    pub fn finishes_after(builds_for: Duration) -> Self {
        Self {
            queued_for: Duration::ZERO,
            builds_for: Some(builds_for),
            succeeds: true,
            log_lines: Vec::new(),
            rolling_update: true,
        }
    }

    pub fn fails_after(builds_for: Duration, log_lines: &[&str]) -> Self {
        Self {
            succeeds: false,
            log_lines: log_lines.iter().map(|l| (*l).to_owned()).collect(),
            ..Self::finishes_after(builds_for)
        }
    }

    pub fn never_ends() -> Self {
        Self {
            builds_for: None,
            ..Self::finishes_after(Duration::ZERO)
        }
    }

    pub fn queued_for(mut self, wait: Duration) -> Self {
        self.queued_for = wait;
        self
    }

    /// The app maps host ports: no rolling update, no health check.
    pub fn without_rolling_update(mut self) -> Self {
        self.rolling_update = false;
        self
    }
}

/// A forced answer for the next request whose path contains `path`.
#[derive(Debug, Clone)]
pub struct Forced {
    pub path: String,
    pub status: u16,
    pub body: String,
    pub retry_after: Option<u64>,
    /// Answer with this hostile mode instead (never answered, endless body, …).
    pub hostile: Option<crate::hostile::Mode>,
    /// Match only a request whose path is exactly `path` (not one that contains it).
    pub exact: bool,
    /// Never match a path that contains this.
    pub unless: Option<String>,
    /// Match only this method.
    pub method: Option<String>,
    /// Serve the request first, then answer this instead: the work is done but its answer
    /// is lost (a proxy's 502 after Coolify queued the deployment).
    pub after_acting: bool,
}

impl Forced {
    pub fn new(path: &str, status: u16, body: Value) -> Self {
        Self {
            path: path.to_owned(),
            status,
            body: body.to_string(),
            retry_after: None,
            hostile: None,
            exact: false,
            unless: None,
            method: None,
            after_acting: false,
        }
    }

    /// Only requests with this method (`PATCH`, …).
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_owned());
        self
    }

    /// Not for paths that contain `fragment` (e.g. `/applications/` beside `/deployments/`).
    pub fn unless(mut self, fragment: &str) -> Self {
        self.unless = Some(fragment.to_owned());
        self
    }

    /// The request is served, and then this answer replaces Coolify's.
    pub fn after_acting(mut self) -> Self {
        self.after_acting = true;
        self
    }

    /// Only the path itself: `/api/v1/deploy` and not `/api/v1/deployments/…`.
    pub fn exactly(mut self) -> Self {
        self.exact = true;
        self
    }

    /// The next request whose path contains `path` gets a hostile answer.
    pub fn hostile(path: &str, mode: crate::hostile::Mode) -> Self {
        Self {
            hostile: Some(mode),
            ..Self::new(path, 200, Value::Null)
        }
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

/// A request as received, for assertions and the OpenAPI contract test.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path below `/api/v1` (or the full path for others).
    pub path: String,
    pub query: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub body: Option<Value>,
    /// What the stand-in answered: status and body text.
    pub status: u16,
    pub answer: String,
}

#[derive(Debug, Clone)]
struct TokenInfo {
    abilities: Vec<&'static str>,
    /// Admin or owner of the team (sees logs with read:sensitive).
    admin: bool,
}

/// An application as the stand-in keeps it.
#[derive(Debug, Clone)]
pub struct App {
    pub uuid: String,
    pub name: String,
    pub build_pack: String,
    pub image_name: String,
    pub image_tag: Option<String>,
    /// The tag of the last finished deployment: what "runs" now.
    pub running_tag: Option<String>,
    pub tags: Vec<String>,
    /// Git-based apps (build pack other than dockerimage): the repository.
    pub git: Option<Repo>,
}

#[derive(Debug, Clone)]
struct Dep {
    id: u64,
    uuid: String,
    app: String,
    /// The tag the job read from the app when it started (`None` while queued).
    image_tag: Option<String>,
    /// `application.git_commit_sha ?: 'HEAD'` (applications.php L16), or the commit a
    /// `/rollback` asked for; a git job replaces `HEAD` with the commit it builds.
    commit: String,
    status: &'static str,
    created: Instant,
    /// The scripted wait before the worker may start it (on top of the queue's own).
    queued_for: Duration,
    created_at: String,
    started: Option<Instant>,
    finished_at: Option<String>,
    script: Script,
    force: bool,
    logs: Vec<Value>,
    /// Queued by `/rollback`: never deduplicated, the commit built as given.
    rollback: bool,
    /// 0, or the pull request a preview deployment builds.
    pull_request_id: u64,
}

struct Shared {
    version: String,
    api_enabled: bool,
    tokens: BTreeMap<String, TokenInfo>,
    apps: BTreeMap<String, App>,
    deployments: Vec<Dep>,
    scripts: BTreeMap<String, Script>,
    default_script: Script,
    queue_limit: usize,
    /// `server_settings.concurrent_builds` (default 2).
    concurrent_builds: usize,
    forced: VecDeque<Forced>,
    /// Every API call answers 502 from the proxy in front (Coolify restarting).
    outage: bool,
    /// Image tags whose running app answers 503 on its health URL.
    unhealthy_tags: Vec<String>,
    requests: Vec<Recorded>,
    next_id: u64,
    echo: bool,
    epoch: Instant,
}

pub struct Coolify {
    shared: Arc<Mutex<Shared>>,
    pub server: Running,
}

impl Coolify {
    /// A server with the root [`TOKEN`] and no apps.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_on("127.0.0.1:0".parse()?)
    }

    pub fn start_on(bind: std::net::SocketAddr) -> anyhow::Result<Self> {
        let mut tokens = BTreeMap::new();
        tokens.insert(
            TOKEN.to_owned(),
            TokenInfo {
                abilities: vec!["root"],
                admin: true,
            },
        );
        let shared = Arc::new(Mutex::new(Shared {
            version: VERSION.to_owned(),
            api_enabled: true,
            tokens,
            apps: BTreeMap::new(),
            deployments: Vec::new(),
            scripts: BTreeMap::new(),
            default_script: Script::finishes_after(Duration::from_millis(300)),
            queue_limit: 25,
            concurrent_builds: 2,
            forced: VecDeque::new(),
            outage: false,
            unhealthy_tags: Vec::new(),
            requests: Vec::new(),
            next_id: 1,
            echo: false,
            epoch: Instant::now(),
        }));
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let server = server::spawn(router, bind, None)?;
        Ok(Self { shared, server })
    }

    pub fn url(&self) -> String {
        self.server.base_url()
    }

    /// Adds a Docker-image application running `image:tag`.
    pub fn add_app(&self, uuid: &str, name: &str, image: &str, tag: &str) -> &Self {
        lock(&self.shared).apps.insert(
            uuid.to_owned(),
            App {
                uuid: uuid.to_owned(),
                name: name.to_owned(),
                build_pack: "dockerimage".to_owned(),
                image_name: image.to_owned(),
                image_tag: Some(tag.to_owned()),
                running_tag: Some(tag.to_owned()),
                tags: Vec::new(),
                git: None,
            },
        );
        self
    }

    /// Adds a git-based app (`build_pack` nixpacks, dockerfile, static or dockercompose)
    /// built from a branch with these commits, oldest first, running the last.
    pub fn add_git_app(&self, uuid: &str, name: &str, build_pack: &str, commits: &[&str]) -> &Self {
        let commits: Vec<String> = commits.iter().map(|c| (*c).to_owned()).collect();
        let head = commits.last().cloned();
        lock(&self.shared).apps.insert(
            uuid.to_owned(),
            App {
                uuid: uuid.to_owned(),
                name: name.to_owned(),
                build_pack: build_pack.to_owned(),
                image_name: String::new(),
                image_tag: None,
                // A git build's image is tagged with its commit (job L1202 at v4.2.0).
                running_tag: head.clone(),
                tags: Vec::new(),
                git: Some(Repo {
                    repository: format!("acme/{name}"),
                    branch: "main".to_owned(),
                    commits,
                    pin: "HEAD".to_owned(),
                    running: head,
                    refuse_unpin: false,
                }),
            },
        );
        self
    }

    /// A push to the app's branch: `commit` becomes the branch head.
    pub fn push(&self, app: &str, commit: &str) -> &Self {
        if let Some(repo) = lock(&self.shared)
            .apps
            .get_mut(app)
            .and_then(|a| a.git.as_mut())
        {
            repo.commits.push(commit.to_owned());
        }
        self
    }

    /// Scripted trouble: every PATCH of `git_commit_sha` back to `HEAD` answers 500.
    pub fn refuse_unpin(&self, app: &str) -> &Self {
        if let Some(repo) = lock(&self.shared)
            .apps
            .get_mut(app)
            .and_then(|a| a.git.as_mut())
        {
            repo.refuse_unpin = true;
        }
        self
    }

    /// Sets `git_commit_sha` as the UI would.
    pub fn pin(&self, app: &str, commit: &str) -> &Self {
        if let Some(repo) = lock(&self.shared)
            .apps
            .get_mut(app)
            .and_then(|a| a.git.as_mut())
        {
            repo.pin = commit.to_owned();
        }
        self
    }

    /// The commit each deployment of an app built (or will build), oldest first.
    pub fn deployment_commits(&self, app: &str) -> Vec<String> {
        let mut shared = lock(&self.shared);
        tick(&mut shared);
        shared
            .deployments
            .iter()
            .filter(|d| d.app == app)
            .map(|d| d.commit.clone())
            .collect()
    }

    /// Puts an app under a Coolify tag (for `POST /deploy?tag=`).
    pub fn tag_app(&self, uuid: &str, tag: &str) -> &Self {
        if let Some(app) = lock(&self.shared).apps.get_mut(uuid) {
            app.tags.push(tag.to_owned());
        }
        self
    }

    /// Registers `token` with these abilities, held by an admin unless `member`.
    pub fn add_token(&self, token: &str, abilities: &[&'static str], member: bool) -> &Self {
        lock(&self.shared).tokens.insert(
            token.to_owned(),
            TokenInfo {
                abilities: abilities.to_vec(),
                admin: !member,
            },
        );
        self
    }

    /// How deployments of this image tag go.
    pub fn script(&self, image_tag: &str, script: Script) -> &Self {
        lock(&self.shared)
            .scripts
            .insert(image_tag.to_owned(), script);
        self
    }

    /// The app deploys fine with this image tag but is unhealthy once it runs: what a
    /// health check after the deploy has to catch.
    pub fn unhealthy_tag(&self, image_tag: &str) -> &Self {
        lock(&self.shared).unhealthy_tags.push(image_tag.to_owned());
        self
    }

    /// The health URL of an app: 200 `{"status":"healthy"}` unless the image tag it runs is
    /// unhealthy (503), or nothing runs (503).
    pub fn health_url(&self, app: &str) -> String {
        format!("{}/_sandbox/apps/{app}/health", self.url())
    }

    /// How deployments of unscripted tags go (default: finish after 300 ms).
    pub fn default_script(&self, script: Script) -> &Self {
        lock(&self.shared).default_script = script;
        self
    }

    pub fn force(&self, answer: Forced) -> &Self {
        lock(&self.shared).forced.push_back(answer);
        self
    }

    /// Coolify restarts: every queued and running deployment is marked failed.
    pub fn restart(&self) -> &Self {
        let mut shared = lock(&self.shared);
        queue::tick(&mut shared);
        queue::restart(&mut shared);
        self
    }

    /// `server_settings.concurrent_builds` of the one server.
    pub fn concurrent_builds(&self, builds: usize) -> &Self {
        lock(&self.shared).concurrent_builds = builds;
        self
    }

    /// Serves any version string, and behaves as that version does (see [`version::Gates`]).
    pub fn set_version(&self, version: &str) -> &Self {
        lock(&self.shared).version = version.to_owned();
        self
    }

    /// Starts or ends an outage: every API call answers 502 with the proxy's HTML page.
    pub fn outage(&self, down: bool) -> &Self {
        lock(&self.shared).outage = down;
        self
    }

    pub fn disable_api(&self) -> &Self {
        lock(&self.shared).api_enabled = false;
        self
    }

    pub fn queue_limit(&self, limit: usize) -> &Self {
        lock(&self.shared).queue_limit = limit;
        self
    }

    /// Prints deployments as they change (the demo's "Coolify console").
    pub fn echo(&self) -> &Self {
        lock(&self.shared).echo = true;
        self
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).requests.clone()
    }

    pub fn app(&self, uuid: &str) -> Option<App> {
        let mut shared = lock(&self.shared);
        tick(&mut shared);
        shared.apps.get(uuid).cloned()
    }

    /// Statuses of an app's deployments, oldest first.
    pub fn deployment_statuses(&self, app: &str) -> Vec<String> {
        let mut shared = lock(&self.shared);
        tick(&mut shared);
        shared
            .deployments
            .iter()
            .filter(|d| d.app == app)
            .map(|d| d.status.to_owned())
            .collect()
    }

    /// Starts a deployment as if someone pressed Deploy in the UI.
    pub fn start_deployment(&self, app: &str) -> Option<String> {
        let mut shared = lock(&self.shared);
        tick(&mut shared);
        Some(create_deployment(&mut shared, app, true)?.0)
    }

    /// The image tag the app runs now (last finished deployment).
    pub fn running_tag(&self, app: &str) -> Option<String> {
        self.app(app).and_then(|a| a.running_tag)
    }
}

/// Advances every deployment by the clock, like the queue worker does.
fn tick(shared: &mut Shared) {
    queue::tick(shared);
}

fn log(dep: &mut Dep, output: &str, hidden: bool) {
    let order = dep.logs.len() + 1;
    dep.logs.push(json!({
        "command": if hidden { Value::String(output.to_owned()) } else { Value::Null },
        "output": output,
        "type": "stdout",
        "timestamp": "2026-08-22T10:15:31.123456Z",
        "hidden": hidden,
        "batch": 1,
        "order": order,
    }));
}

/// Laravel's timestamp format; the stand-in counts from a fixed date.
fn iso(epoch: Instant) -> String {
    let secs = epoch.elapsed().as_secs();
    format!(
        "2026-08-22T{:02}:{:02}:{:02}.000000Z",
        10 + secs / 3600 % 14,
        secs / 60 % 60,
        secs % 60
    )
}

/// 24 lowercase alphanumerics, like `new_public_id()`.
fn public_id(seed: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    (0..24)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHABET[(x % 36) as usize] as char
        })
        .collect()
}

/// Queues a deployment unless deduplicated, as `queue_application_deployment` does
/// (bootstrap/helpers/applications.php L14-110 at 379abb25); returns (uuid, stored).
fn create_deployment(shared: &mut Shared, app: &str, force: bool) -> Option<(String, bool)> {
    create_deployment_of(shared, app, force, None)
}

/// The same, for a `/rollback` of `rollback_commit`: never deduplicated (applications.php
/// L56 at 379abb25).
fn create_deployment_of(
    shared: &mut Shared,
    app: &str,
    force: bool,
    rollback_commit: Option<&str>,
) -> Option<(String, bool)> {
    let a = shared.apps.get(app)?.clone();
    let id = shared.next_id;
    shared.next_id += 1;
    // DeployController.php L539: a fresh UUID before queueing, returned whatever happens.
    let uuid = public_id(id);
    let (commit, pull_request_id) = (git::queued_commit(&a, rollback_commit), 0);
    // L47-52: the same app, commit, PR and (PR-only) docker tag, queued or in progress;
    // the app's image tag plays no part.
    let duplicate = shared.deployments.iter().any(|d| {
        d.app == app
            && d.commit == commit
            && d.pull_request_id == pull_request_id
            && matches!(d.status, "queued" | "in_progress")
    });
    if duplicate && !force && rollback_commit.is_none() {
        // L54-63 skip; the caller answers with the UUID above, which was never stored.
        return Some((uuid, false));
    }
    // How long the worker waits before it may start this one (a scripted delay, by the tag
    // the app names now or the commit asked for; the build itself follows what the job
    // reads when it starts).
    let scripted = match &a.git {
        Some(repo) if commit == "HEAD" => Some(repo.head()),
        Some(_) => Some(commit.clone()),
        None => a.image_tag.clone(),
    };
    let queued_for = scripted
        .as_ref()
        .and_then(|t| shared.scripts.get(t))
        .map_or(shared.default_script.queued_for, |s| s.queued_for);
    let script = shared.default_script.clone();
    shared.deployments.push(Dep {
        id,
        uuid: uuid.clone(),
        app: app.to_owned(),
        image_tag: None,
        commit,
        pull_request_id,
        status: "queued",
        created: Instant::now(),
        queued_for,
        created_at: iso(shared.epoch),
        started: None,
        finished_at: None,
        script,
        force,
        logs: Vec::new(),
        rollback: rollback_commit.is_some(),
    });
    tick(shared);
    Some((uuid, true))
}

fn deployment_json(shared: &Shared, dep: &Dep, sensitive: bool) -> Value {
    let app = shared.apps.get(&dep.app);
    let mut value = json!({
        "id": dep.id,
        "application_id": "42",
        "application_name": app.map(|a| a.name.clone()),
        "build_server_id": null,
        "commit": dep.commit,
        "commit_message": null,
        "current_process_id": null,
        "deployment_url": format!("/project/p1/environment/e1/application/{}/deployment/{}", dep.app, dep.uuid),
        "deployment_uuid": dep.uuid,
        "destination_id": "1",
        // The queue row's column holds only a PR preview's tag (applications.php L76).
        "docker_registry_image_tag": null,
        "finished_at": dep.finished_at,
        "force_rebuild": dep.force,
        "is_api": true,
        "is_webhook": false,
        "pull_request_id": dep.pull_request_id,
        "restart_only": false,
        "rollback": dep.rollback,
        "server_id": 0,
        "server_name": "localhost",
        "status": dep.status,
        "created_at": dep.created_at,
        "updated_at": dep.finished_at.clone().unwrap_or_else(|| dep.created_at.clone()),
    });
    if sensitive && let Some(map) = value.as_object_mut() {
        // A text column with no cast: the array arrives as a JSON-encoded string.
        map.insert(
            "logs".into(),
            Value::String(Value::Array(dep.logs.clone()).to_string()),
        );
    }
    value
}

fn app_json(app: &App) -> Value {
    let status = if app.running_tag.is_some() {
        "running:healthy"
    } else {
        "exited:unhealthy"
    };
    let mut value = json!({
        "uuid": app.uuid,
        "name": app.name,
        "build_pack": app.build_pack,
        "docker_registry_image_name": app.image_name,
        "docker_registry_image_tag": app.image_tag,
        "fqdn": format!("http://{}.sandbox.localhost", app.name),
        "status": status,
        "server_status": true,
        "health_check_enabled": false,
        "created_at": "2026-08-22T10:00:00.000000Z",
        "updated_at": "2026-08-22T10:00:00.000000Z",
        "git_commit_sha": "HEAD",
    });
    if let Some(repo) = &app.git {
        git::app_fields(repo, &mut value);
    }
    value
}

struct Call {
    method: String,
    full_path: String,
    /// Below `/api/v1`.
    path: String,
    authorization: Option<String>,
    query: Vec<(String, String)>,
    content_type: Option<String>,
    body: String,
    sensitive: bool,
}

/// Answers, then records the answer beside its request (for the contract test).
async fn handle(State(shared): State<Arc<Mutex<Shared>>>, request: Request) -> Response {
    let (index, response) = answer(&shared, request).await;
    if let Some(mode) = response.extensions().get::<crate::hostile::Mode>().cloned() {
        let head = crate::hostile::Seen {
            method: String::new(),
            target: String::new(),
            headers: Vec::new(),
        };
        return crate::hostile::answer(&mode, &head, &[]).await;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 24)
        .await
        .unwrap_or_default();
    if let Some(last) = lock(&shared).requests.get_mut(index) {
        last.status = parts.status.as_u16();
        last.answer = String::from_utf8_lossy(&bytes).into_owned();
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The answer to one request, and the index of its record.
async fn answer(shared: &Arc<Mutex<Shared>>, request: Request) -> (usize, Response) {
    let method = request.method().as_str().to_owned();
    let full_path = request.uri().path().to_owned();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    // Owned copies: nothing borrowed from the request may live across the body's await.
    let (content_type, accept, authorization) = {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        (
            header("content-type"),
            header("accept"),
            header("authorization"),
        )
    };
    let raw = axum::body::to_bytes(request.into_body(), 1 << 22)
        .await
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&raw).into_owned();
    let mut shared = lock(shared);
    let path = full_path
        .strip_prefix("/api/v1")
        .unwrap_or(&full_path)
        .to_owned();
    shared.requests.push(Recorded {
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        content_type: content_type.clone(),
        accept: accept.clone(),
        body: serde_json::from_str(&body).ok(),
        status: 0,
        answer: String::new(),
    });
    let index = shared.requests.len() - 1;
    let call = Call {
        method,
        full_path,
        path,
        query,
        content_type,
        authorization,
        body,
        sensitive: false,
    };
    (index, respond(&mut shared, call))
}

/// Auth, the API switch and abilities as the middleware orders them, then the route.
fn respond(shared: &mut Shared, call: Call) -> Response {
    let full_path = call.full_path.as_str();
    if full_path == "/api/health" || full_path == "/api/v1/health" {
        return text(200, "OK");
    }
    if let Some(app) = full_path
        .strip_prefix("/_sandbox/apps/")
        .and_then(|rest| rest.strip_suffix("/health"))
    {
        return app_health(shared, app);
    }
    if let Some(i) = shared.forced.iter().position(|f| {
        let skipped = f
            .unless
            .as_ref()
            .is_some_and(|u| full_path.contains(u.as_str()))
            || f.method.as_ref().is_some_and(|m| *m != call.method);
        if skipped {
            false
        } else if f.exact {
            full_path == f.path
        } else {
            full_path.contains(&f.path)
        }
    }) {
        let forced = shared.forced.remove(i).unwrap_or_else(unreachable_forced);
        if forced.after_acting {
            let _lost = serve(shared, call);
        }
        let mut response = reply(forced.status, forced.body, forced.retry_after);
        if let Some(mode) = forced.hostile {
            response.extensions_mut().insert(mode);
        }
        return response;
    }
    serve(shared, call)
}

/// The API behind the forced answers: auth, middleware, the route.
fn serve(shared: &mut Shared, mut call: Call) -> Response {
    let full_path = call.full_path.as_str();
    if !full_path.starts_with("/api/v1/") {
        return not_found_route();
    }
    if shared.outage {
        return reply(
            502,
            "<html><body>502 Bad Gateway</body></html>".to_owned(),
            None,
        );
    }
    // auth:sanctum, then ApiAllowed, then the route's ability (§2.2).
    let token = call
        .authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .and_then(|t| shared.tokens.get(t))
        .cloned();
    let Some(token) = token else {
        return json_reply(401, json!({"message": "Unauthenticated."}));
    };
    // api.token.team, between auth:sanctum and ApiAllowed (routes/api.php L62 at 379abb25;
    // EnsureTokenBelongsToCurrentTeamMember.php L31-51): members hold read-only tokens.
    let elevated = token.abilities.iter().any(|a| {
        matches!(
            *a,
            "root" | "write" | "write:sensitive" | "deploy" | "read:sensitive"
        )
    });
    if Gates(&shared.version).checks_team_role() && elevated && !token.admin {
        return json_reply(403, json!({"message": "Missing required team role."}));
    }
    if !shared.api_enabled {
        return json_reply(403, json!({"success": true, "message": "API is disabled."}));
    }
    let Some(ability) = ability_for(&call.method, &call.path) else {
        return not_found_route();
    };
    let root = token.abilities.contains(&"root");
    if !root && !token.abilities.contains(&ability) {
        return json_reply(
            403,
            json!({"message": format!("Missing required permissions: {ability}")}),
        );
    }
    call.sensitive = token.admin && (root || token.abilities.contains(&"read:sensitive"));
    tick(shared);
    route(shared, &call)
}

#[cold]
fn unreachable_forced() -> Forced {
    Forced::new("", 500, json!({"message": "sandbox bug"}))
}

/// The ability each route needs (`routes/api.php`); `None` is an unknown route.
fn ability_for(method: &str, path: &str) -> Option<&'static str> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    Some(match (method, parts.as_slice()) {
        ("GET", ["version"]) => "read",
        ("GET" | "POST", ["deploy"]) => "deploy",
        ("GET", ["deployments"]) => "read",
        ("GET", ["deployments", _]) => "read",
        ("POST", ["deployments", _, "cancel"]) => "deploy",
        ("GET", ["deployments", "applications", _]) => "read",
        ("GET", ["applications", _]) => "read",
        ("PATCH", ["applications", _]) => "write",
        ("POST", ["applications", _, "rollback"]) => "deploy",
        _ => return None,
    })
}

fn route(shared: &mut Shared, call: &Call) -> Response {
    let parts: Vec<&str> = call.path.trim_matches('/').split('/').collect();
    let gates = Gates(&shared.version);
    match (call.method.as_str(), parts.as_slice()) {
        ("GET", ["version"]) => text(200, &shared.version.clone()),
        // Before 4.2.0 a GET deploys like a POST (routes/api.php L78 at v4.1.2).
        ("GET", ["deploy"]) if !gates.get_deploy_is_405() => deploy(shared, call),
        ("GET", ["deploy"]) => {
            let mut response = json_reply(
                405,
                json!({"message": "This endpoint has changed to a POST request."}),
            );
            if let Ok(value) = "POST".parse() {
                response.headers_mut().insert("allow", value);
            }
            response
        }
        ("POST", ["deploy"]) => deploy(shared, call),
        ("GET", ["deployments", "applications", app]) => app_deployments(shared, call, app),
        ("GET", ["deployments"]) => running_deployments(shared, call),
        ("GET", ["deployments", _]) if gates.deployment_get_is_404() => {
            json_reply(404, json!({"message": "Deployment not found."}))
        }
        ("POST", ["deployments", _, "cancel"]) if !gates.has_cancel() => not_found_route(),
        ("GET", ["deployments", uuid]) => match shared.deployments.iter().find(|d| d.uuid == *uuid)
        {
            Some(dep) => json_reply(200, deployment_json(shared, dep, call.sensitive)),
            None => json_reply(404, json!({"message": "Deployment not found."})),
        },
        ("POST", ["deployments", uuid, "cancel"]) => cancel(shared, uuid),
        ("GET", ["applications", uuid]) => match shared.apps.get(*uuid) {
            Some(app) => json_reply(200, app_json(app)),
            None => json_reply(404, json!({"message": "Application not found."})),
        },
        ("PATCH", ["applications", uuid]) => patch(shared, call, uuid),
        ("POST", ["applications", uuid, "rollback"]) => git::rollback(shared, call, uuid),
        _ => not_found_route(),
    }
}

fn param<'a>(call: &'a Call, name: &str) -> Option<&'a str> {
    call.query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn deploy(shared: &mut Shared, call: &Call) -> Response {
    let bad = |m: &str| json_reply(400, json!({"message": m}));
    let (uuid, tag) = (param(call, "uuid"), param(call, "tag"));
    // `$request->boolean('force')` from 4.2.0; any value but "" and "0" before.
    let force = Gates(&shared.version).force(
        call.query
            .iter()
            .find(|(k, _)| k == "force")
            .map(|(_, v)| v.as_str()),
    );
    let apps: Vec<String> = match (uuid, tag) {
        (Some(_), Some(_)) => return bad("You can only use uuid or tag, not both."),
        (None, None) => return bad("You must provide uuid or tag."),
        (Some(list), None) => {
            let uuids: Vec<String> = list
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect();
            if uuids.is_empty() {
                return bad("No UUIDs provided.");
            }
            uuids
        }
        (None, Some(tags)) => {
            let wanted: Vec<&str> = tags.split(',').map(str::trim).collect();
            shared
                .apps
                .values()
                .filter(|a| a.tags.iter().any(|t| wanted.contains(&t.as_str())))
                .map(|a| a.uuid.clone())
                .collect()
        }
    };
    let mut items = Vec::new();
    for app in &apps {
        let Some(name) = shared.apps.get(app).map(|a| a.name.clone()) else {
            continue; // another team's or unknown: skipped silently
        };
        if queue_full(shared) {
            return reply(
                429,
                json!({"message": "Deployment queue is full. Please wait for existing deployments to complete."}).to_string(),
                Some(60),
            );
        }
        let Some((deployment_uuid, stored)) = create_deployment(shared, app, force) else {
            continue;
        };
        let message = if stored {
            format!("Application {name} deployment queued.")
        } else {
            ALREADY_QUEUED.to_owned()
        };
        items.push((app.clone(), deployment_uuid, message));
    }
    if items.is_empty() {
        let message = if tag.is_some() {
            "No resources found with this tag."
        } else {
            "No resources found."
        };
        return json_reply(404, json!({"message": message}));
    }
    if tag.is_some() {
        // By tag the answer has another shape (§6.4).
        return json_reply(
            200,
            json!({
                "message": items.iter().map(|(_, _, m)| m.clone()).collect::<Vec<_>>(),
                "details": items.iter().map(|(a, d, _)| json!({"resource_uuid": a, "deployment_uuid": d})).collect::<Vec<_>>(),
            }),
        );
    }
    json_reply(
        200,
        json!({"deployments": items.iter().map(|(a, d, m)| json!({"message": m, "resource_uuid": a, "deployment_uuid": d})).collect::<Vec<_>>()}),
    )
}

fn app_deployments(shared: &Shared, call: &Call, app: &str) -> Response {
    // Laravel's `$request->validate(...)`: a 422 naming the field.
    let number = |name: &str, default: u64, min: u64| -> Result<u64, String> {
        match param(call, name) {
            None => Ok(default),
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if n >= min => Ok(n),
                _ => Err(name.to_owned()),
            },
        }
    };
    let (skip, take) = match (number("skip", 0, 0), number("take", 10, 1)) {
        (Ok(s), Ok(t)) => (s, t),
        (Err(name), _) | (_, Err(name)) => {
            let message = format!("The {name} field must be an integer of at least its minimum.");
            return json_reply(
                422,
                json!({"message": message, "errors": {name: [message]}}),
            );
        }
    };
    if !shared.apps.contains_key(app) {
        return json_reply(404, json!({"message": "Application not found"}));
    }
    let mine: Vec<&Dep> = shared
        .deployments
        .iter()
        .filter(|d| d.app == app)
        .rev()
        .collect();
    let page: Vec<Value> = mine
        .iter()
        .skip(skip as usize)
        .take(take as usize)
        .map(|d| deployment_json(shared, d, call.sensitive))
        .collect();
    json_reply(200, json!({"count": mine.len(), "deployments": page}))
}

/// `GET /deployments`: every queued and running deployment, by id (DeployController.php
/// L69-81 at 379abb25).
fn running_deployments(shared: &Shared, call: &Call) -> Response {
    let rows: Vec<Value> = shared
        .deployments
        .iter()
        .filter(|d| matches!(d.status, "queued" | "in_progress"))
        .map(|d| deployment_json(shared, d, call.sensitive))
        .collect();
    json_reply(200, Value::Array(rows))
}

fn cancel(shared: &mut Shared, uuid: &str) -> Response {
    let Some(dep) = shared.deployments.iter_mut().find(|d| d.uuid == uuid) else {
        return json_reply(404, json!({"message": "Deployment not found."}));
    };
    if !matches!(dep.status, "queued" | "in_progress") {
        return json_reply(
            400,
            json!({"message": format!("Deployment cannot be cancelled. Current status: {}", dep.status)}),
        );
    }
    // A running build's job logs the cancel (ApplicationDeploymentJob.php L4876); a queued
    // one never started, and nothing is written.
    if dep.status == "in_progress" {
        log(
            dep,
            "Deployment cancelled by user, stopping execution.",
            false,
        );
    }
    dep.status = "cancelled-by-user";
    json_reply(
        200,
        json!({"message": "Deployment cancelled successfully.", "deployment_uuid": uuid, "status": "cancelled-by-user"}),
    )
}

/// The per-server queue limit of `queue_application_deployment` (applications.php L32–44).
fn queue_full(shared: &Shared) -> bool {
    let queued = shared
        .deployments
        .iter()
        .filter(|d| d.status == "queued")
        .count();
    queued >= shared.queue_limit
}

/// `validateIncomingRequest`: a JSON object body, or the 400 naming what is wrong.
fn json_body(call: &Call) -> Result<serde_json::Map<String, Value>, &'static str> {
    if !call
        .content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return Err("Content-Type must be application/json.");
    }
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(&call.body) else {
        return Err("Invalid JSON.");
    };
    if fields.is_empty() {
        return Err("Empty JSON.");
    }
    Ok(fields)
}

fn invalid_request(error: &str) -> Response {
    json_reply(400, json!({"message": "Invalid request.", "error": error}))
}

fn patch(shared: &mut Shared, call: &Call, uuid: &str) -> Response {
    let fields = match json_body(call) {
        Ok(fields) => fields,
        Err(error) => return invalid_request(error),
    };
    let Some(app) = shared.apps.get_mut(uuid) else {
        return json_reply(404, json!({"message": "Application not found"}));
    };
    // update_by_uuid's allowed fields and rules (ApplicationsController.php L2801–2870).
    let errors = git::patch_errors(&fields);
    if !errors.is_empty() {
        return json_reply(
            422,
            json!({"message": "Validation failed.", "errors": errors}),
        );
    }
    if app.git.as_ref().is_some_and(|r| r.refuse_unpin)
        && fields.get("git_commit_sha").and_then(Value::as_str) == Some("HEAD")
    {
        // A scripted failure: the database went away as the pin was to be put back.
        return json_reply(500, json!({"message": "Server Error"}));
    }
    if let Some(tag) = fields.get("docker_registry_image_tag") {
        app.image_tag = tag.as_str().map(str::to_owned);
    }
    if let (Some(pin), Some(repo)) = (
        fields.get("git_commit_sha").and_then(Value::as_str),
        app.git.as_mut(),
    ) {
        // Saved trimmed (Application.php L309–310).
        repo.pin = pin.trim().to_owned();
    }
    if let Some(name) = fields
        .get("docker_registry_image_name")
        .and_then(Value::as_str)
    {
        app.image_name = name.to_owned();
    }
    json_reply(200, json!({"uuid": uuid}))
}

/// `/\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\z/`
fn valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    tag.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// The demo app's own health: it follows the image tag Coolify last deployed.
fn app_health(shared: &mut Shared, app: &str) -> Response {
    tick(shared);
    let running = shared.apps.get(app).and_then(|a| a.running_tag.clone());
    match running {
        Some(tag) if !shared.unhealthy_tags.contains(&tag) => {
            json_reply(200, json!({"status": "healthy", "version": tag}))
        }
        Some(tag) => json_reply(503, json!({"status": "degraded", "version": tag})),
        None => json_reply(503, json!({"status": "down"})),
    }
}

fn not_found_route() -> Response {
    json_reply(
        404,
        json!({"message": "Not found.", "docs": "https://coolify.io/docs"}),
    )
}

fn json_reply(status: u16, body: Value) -> Response {
    let mut response = reply(status, body.to_string(), None);
    if let Ok(value) = "application/json".parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}

/// Plain strings come back as Laravel's default `text/html`.
fn text(status: u16, body: &str) -> Response {
    let mut response = reply(status, body.to_owned(), None);
    if let Ok(value) = "text/html; charset=UTF-8".parse() {
        response.headers_mut().insert("content-type", value);
    }
    response
}
