//! A Fly.io Machines API stand-in, written from Fly's own sources, not from our client:
//! docs superfly/docs machines/api/machines-resource (endpoints, `/wait` with `state`,
//! `instance_id`, `timeout` and 408, leases with the `fly-machine-lease-nonce` header and 409
//! when held, update with `current_version`), fly-go machine_types.go (the Machine object:
//! `instance_id`, `image_ref`, `config`, `checks`, `events`, `host_status`), fly-go
//! flaps/flaps.go `handleAPIError` (`{"error": …}` bodies) and tokens/tokens.go (a macaroon
//! comes as `FlyV1`, anything else as `Bearer`).
//!
//! State moves with time, computed when read: after an update a launched machine is
//! `starting` until its image's start delay passed, then `started`; its checks are
//! `critical` until the image's health delay passed, then `passing` (never, for a broken
//! image); a crash-looping image reports exit events with restarts. Every update gives a new
//! `instance_id`, and `image_ref` follows `config.image`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::server::{self, Running, lock, reply};

/// A deploy token (a macaroon: sent as `FlyV1 <token>`).
pub const TOKEN: &str = "fm2_sandboxdeploytoken";
/// A user token (sent as `Bearer <token>`).
pub const USER_TOKEN: &str = "sandboxusertoken";
/// The image every sandbox machine starts on.
pub const OLD_IMAGE: &str = "registry.fly.io/web:deployment-old";

/// How machines behave on one image.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// From the update to `started`; `None`: never starts.
    pub starts_after: Option<Duration>,
    /// From the update until checks pass; `None`: they stay critical.
    pub healthy_after: Option<Duration>,
    /// Exits non-zero and restarts over and over.
    pub crashes: bool,
}

impl Behaviour {
    pub fn healthy_after(delay: Duration) -> Self {
        Self {
            starts_after: Some(delay / 2),
            healthy_after: Some(delay),
            crashes: false,
        }
    }

    /// Starts, but its checks never pass.
    pub fn broken() -> Self {
        Self {
            healthy_after: None,
            ..Self::healthy_after(Duration::from_millis(50))
        }
    }

    pub fn crash_loop() -> Self {
        Self {
            crashes: true,
            ..Self::broken()
        }
    }
}

/// A forced answer for the next request(s) matching a method and a path fragment.
#[derive(Debug, Clone)]
pub struct Forced {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<u64>,
    pub times: usize,
}

/// One request as the stand-in saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path below `/v1`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub nonce: Option<String>,
    pub body: Option<Value>,
    pub status: u16,
}

#[derive(Debug, Clone)]
struct Lease {
    nonce: String,
    owner: String,
    expires: Instant,
}

#[derive(Debug, Clone)]
struct Mach {
    id: String,
    region: String,
    config: Value,
    instance: String,
    launched: bool,
    changed_at: Instant,
    host_status: String,
    lease: Option<Lease>,
}

struct Shared {
    apps: BTreeMap<String, Vec<Mach>>,
    behaviours: BTreeMap<String, Behaviour>,
    /// Behaviours of every image whose reference contains the key (after exact matches).
    patterns: Vec<(String, Behaviour)>,
    default: Behaviour,
    forced: VecDeque<Forced>,
    /// Updates to this image are answered with this status.
    refused: BTreeMap<String, u16>,
    /// The demo app answers 503 on `/health/{app}` while a started machine runs an image
    /// whose reference contains one of these.
    unhealthy: Vec<String>,
    requests: Vec<Recorded>,
    next: u64,
    /// Reads of one machine of this app: after this many answered, the next is answered late.
    stalled_reads: Option<StalledReads>,
}

#[derive(Debug, Clone)]
struct StalledReads {
    app: String,
    after: usize,
    delay: Duration,
}

/// The running stand-in.
pub struct Fly {
    shared: Arc<Mutex<Shared>>,
    server: Running,
}

impl Fly {
    pub fn start() -> anyhow::Result<Self> {
        Self::start_on("127.0.0.1:0".parse()?)
    }

    pub fn start_on(bind: std::net::SocketAddr) -> anyhow::Result<Self> {
        let shared = Arc::new(Mutex::new(Shared {
            apps: BTreeMap::new(),
            behaviours: BTreeMap::new(),
            patterns: Vec::new(),
            default: Behaviour::healthy_after(Duration::from_millis(100)),
            forced: VecDeque::new(),
            refused: BTreeMap::new(),
            unhealthy: Vec::new(),
            requests: Vec::new(),
            next: 1,
            stalled_reads: None,
        }));
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let server = server::spawn(router, bind, None)?;
        Ok(Self { shared, server })
    }

    /// The API base (`http://127.0.0.1:PORT`; clients add `/v1`).
    pub fn url(&self) -> String {
        self.server.base_url()
    }

    /// Adds an app with `count` started machines on [`OLD_IMAGE`], each with one HTTP check,
    /// plus `stopped` stopped ones.
    pub fn add_app(&self, app: &str, started: usize, stopped: usize) -> &Self {
        self.add_app_on(app, started, stopped, OLD_IMAGE)
    }

    /// [`Fly::add_app`] with the machines on `image`.
    pub fn add_app_on(&self, app: &str, started: usize, stopped: usize, image: &str) -> &Self {
        let mut shared = lock(&self.shared);
        let mut machines = Vec::new();
        for i in 0..started + stopped {
            let n = shared.next;
            shared.next += 1;
            machines.push(Mach {
                id: format!("{:014x}", 0x1000 + i as u64 + n * 0x100),
                region: ["ams", "fra", "iad"][i % 3].to_owned(),
                config: json!({
                    "image": image,
                    "env": {"PORT": "8080"},
                    "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 256},
                    "services": [{"internal_port": 8080, "protocol": "tcp", "ports": [{"port": 443}]}],
                    "checks": {"http": {"type": "http", "port": 8080, "path": "/health", "interval": "10s"}},
                    "metadata": {"fly_platform_version": "v2", "fly_process_group": "app", "fly_release_version": "7"}
                }),
                instance: format!("01INST{n:06}"),
                launched: i < started,
                // Long since started: healthy.
                changed_at: Instant::now() - Duration::from_secs(3600),
                host_status: "ok".to_owned(),
                lease: None,
            });
        }
        shared.apps.insert(app.to_owned(), machines);
        self
    }

    /// Fault injection, not Fly's documented behaviour: gives `app`'s first machine the id `id` (a hostile server's).
    pub fn rename_first_machine(&self, app: &str, id: &str) -> &Self {
        if let Some(first) = lock(&self.shared)
            .apps
            .get_mut(app)
            .and_then(|m| m.first_mut())
        {
            first.id = id.to_owned();
        }
        self
    }

    /// Adds a console machine (never deployed) to `app`.
    pub fn add_console_machine(&self, app: &str) -> &Self {
        let mut shared = lock(&self.shared);
        if let Some(machines) = shared.apps.get_mut(app) {
            let mut console = machines[0].clone();
            console.id = "0c0c0c0c0c0c0c".to_owned();
            console.config["metadata"]["fly_process_group"] = json!("fly_app_console");
            machines.push(console);
        }
        self
    }

    pub fn behaviour(&self, image: &str, behaviour: Behaviour) -> &Self {
        lock(&self.shared)
            .behaviours
            .insert(image.to_owned(), behaviour);
        self
    }

    /// Every image whose reference contains `fragment` behaves so (e.g. `broken`).
    pub fn behaviour_when(&self, fragment: &str, behaviour: Behaviour) -> &Self {
        lock(&self.shared)
            .patterns
            .push((fragment.to_owned(), behaviour));
        self
    }

    /// Someone else holds the lease on machine `index` of `app` for an hour.
    pub fn hold_lease(&self, app: &str, index: usize) -> &Self {
        if let Some(m) = lock(&self.shared)
            .apps
            .get_mut(app)
            .and_then(|ms| ms.get_mut(index))
        {
            m.lease = Some(Lease {
                nonce: "someone-elses-nonce".to_owned(),
                owner: "ops@example.com".to_owned(),
                expires: Instant::now() + Duration::from_secs(3600),
            });
        }
        self
    }

    pub fn host_status(&self, app: &str, index: usize, status: &str) -> &Self {
        if let Some(m) = lock(&self.shared)
            .apps
            .get_mut(app)
            .and_then(|ms| ms.get_mut(index))
        {
            m.host_status = status.to_owned();
        }
        self
    }

    /// Updates to `image` are refused with `status` (e.g. a restore that fails: 422).
    pub fn refuse_image(&self, image: &str, status: u16) -> &Self {
        lock(&self.shared).refused.insert(image.to_owned(), status);
        self
    }

    /// The app's health endpoint ([`Fly::health_url`]) fails while `image` runs.
    pub fn unhealthy_image(&self, image: &str) -> &Self {
        lock(&self.shared).unhealthy.push(image.to_owned());
        self
    }

    /// The demo app's health: 200 when no started machine of `app` runs an unhealthy image.
    pub fn health_url(&self, app: &str) -> String {
        format!("{}/health/{app}", self.url())
    }

    /// Fault injection, not Fly's documented behaviour: answers `GET /apps/{app}/machines/{id}` normally `after` times, then once `delay` late
    /// (a slow API at the end of a wait), then normally again.
    pub fn stall_machine_read(&self, app: &str, after: usize, delay: Duration) -> &Self {
        lock(&self.shared).stalled_reads = Some(StalledReads {
            app: app.to_owned(),
            after,
            delay,
        });
        self
    }

    pub fn force(&self, forced: Forced) -> &Self {
        lock(&self.shared).forced.push_back(forced);
        self
    }

    /// `(machine id, config.image)` of every machine of `app`, sorted by id.
    pub fn images(&self, app: &str) -> Vec<(String, String)> {
        let shared = lock(&self.shared);
        let mut out: Vec<(String, String)> = shared
            .apps
            .get(app)
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        (
                            m.id.clone(),
                            m.config["image"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }

    /// The machines' states as a client would read them now.
    pub fn states(&self, app: &str) -> Vec<String> {
        let shared = lock(&self.shared);
        let now = Instant::now();
        shared
            .apps
            .get(app)
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        view(&shared, m, now)["state"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// True when some lease on `app` is held (by anyone).
    pub fn leased(&self, app: &str) -> bool {
        let shared = lock(&self.shared);
        let now = Instant::now();
        shared.apps.get(app).is_some_and(|ms| {
            ms.iter()
                .any(|m| m.lease.as_ref().is_some_and(|l| l.expires > now))
        })
    }

    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).requests.clone()
    }

    /// The update requests (`POST /apps/{app}/machines/{id}`), in order.
    pub fn updates(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.matches('/').count() == 4)
            .collect()
    }
}

fn image_ref(image: &str) -> Value {
    let (name, digest) = image.split_once('@').unwrap_or((image, ""));
    let (registry, rest) = name.split_once('/').unwrap_or(("docker.io", name));
    let (repository, tag) = match rest.rsplit_once(':') {
        Some((r, t)) => (r, t),
        None => (rest, "latest"),
    };
    json!({"registry": registry, "repository": repository, "tag": tag, "digest": digest,
        "labels": {}})
}

fn behaviour<'a>(shared: &'a Shared, m: &Mach) -> &'a Behaviour {
    let image = m.config["image"].as_str().unwrap_or("");
    shared
        .behaviours
        .get(image)
        .or_else(|| {
            shared
                .patterns
                .iter()
                .find(|(fragment, _)| image.contains(fragment.as_str()))
                .map(|(_, b)| b)
        })
        .unwrap_or(&shared.default)
}

/// The Machine object as GET returns it (fly-go machine_types.go:46-70).
fn view(shared: &Shared, m: &Mach, now: Instant) -> Value {
    let b = behaviour(shared, m);
    let age = now.saturating_duration_since(m.changed_at);
    let started = m.launched && b.starts_after.is_some_and(|d| age >= d);
    let state = match (m.launched, started) {
        (false, _) => "stopped",
        (true, true) => "started",
        (true, false) => "starting",
    };
    let healthy = started && !b.crashes && b.healthy_after.is_some_and(|d| age >= d);
    let checks: Vec<Value> = m.config["checks"]
        .as_object()
        .map(|checks| {
            checks
                .keys()
                .map(|name| {
                    json!({"name": name, "status": if healthy {"passing"} else {"critical"},
                    "output": if healthy {"HTTP 200"} else {"connection refused"}})
                })
                .collect()
        })
        .unwrap_or_default();
    let mut events = vec![
        json!({"type": "update", "status": "replacing", "source": "user",
        "timestamp": 1_700_000_000_000_u64}),
    ];
    if started && b.crashes {
        events.insert(
            0,
            json!({"type": "exit", "status": "started", "source": "flyd",
            "timestamp": 1_700_000_001_000_u64,
            "request": {"exit_event": {"exit_code": 1, "restarting": true, "requested_stop": false},
                "restart_count": 2}}),
        );
    }
    let config = m.config.clone();
    let image = config["image"].as_str().unwrap_or("").to_owned();
    let mut out = json!({
        "id": m.id, "name": format!("m-{}", &m.id[..4]), "state": state, "region": m.region,
        "instance_id": m.instance, "private_ip": "fdaa::1",
        "image_ref": image_ref(&image),
        "config": config, "checks": checks, "events": events,
        "host_status": m.host_status,
        "created_at": "2026-11-01T00:00:00Z", "updated_at": "2026-12-01T00:00:00Z",
    });
    if let Some(lease) = m.lease.as_ref().filter(|l| l.expires > now) {
        out["nonce"] = json!(lease.nonce);
    }
    out
}

fn error(status: u16, message: &str) -> Response {
    reply(status, json!({"error": message}).to_string(), None)
}

async fn handle(State(shared): State<Arc<Mutex<Shared>>>, request: Request) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query: Vec<(String, String)> = request
        .uri()
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let (authorization, nonce) = {
        let header = |name: &str| {
            request
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        (header("authorization"), header("fly-machine-lease-nonce"))
    };
    let bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    let below = path.strip_prefix("/v1").unwrap_or(&path).to_owned();
    let response = answer(
        &shared,
        &method,
        &below,
        &query,
        authorization.as_deref(),
        nonce.as_deref(),
        body.as_ref(),
    )
    .await;
    lock(&shared).requests.push(Recorded {
        method,
        path: below,
        query,
        authorization,
        nonce,
        body,
        status: response.status().as_u16(),
    });
    response
}

async fn answer(
    shared: &Arc<Mutex<Shared>>,
    method: &str,
    path: &str,
    query: &[(String, String)],
    authorization: Option<&str>,
    nonce: Option<&str>,
    body: Option<&Value>,
) -> Response {
    // The demo app behind the machines (not part of the Machines API, no token).
    if let ("GET", Some(app)) = (method, path.strip_prefix("/health/")) {
        let s = lock(shared);
        let now = Instant::now();
        let sick = s.apps.get(app).is_none_or(|ms| {
            ms.iter().any(|m| {
                let v = view(&s, m, now);
                v["state"] == "started"
                    && v["config"]["image"]
                        .as_str()
                        .is_some_and(|image| s.unhealthy.iter().any(|u| image.contains(u.as_str())))
            })
        });
        return reply(
            if sick { 503 } else { 200 },
            json!({"status": if sick {"down"} else {"ok"}}).to_string(),
            None,
        );
    }
    // tokens.go:231-252: a macaroon goes as FlyV1, a user token as Bearer.
    let authorized = authorization == Some(&format!("FlyV1 {TOKEN}"))
        || authorization == Some(&format!("Bearer {USER_TOKEN}"));
    if !authorized {
        return error(401, "unauthorized");
    }
    {
        let mut s = lock(shared);
        if let Some(pos) = s
            .forced
            .iter()
            .position(|f| f.method == method && path.contains(&f.path))
        {
            let forced = s.forced[pos].clone();
            if forced.times <= 1 {
                s.forced.remove(pos);
            } else {
                s.forced[pos].times -= 1;
            }
            return reply(forced.status, forced.body.to_string(), forced.retry_after);
        }
    }
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let stall = match (method, parts.as_slice()) {
        ("GET", ["apps", app, "machines", _]) => {
            let mut s = lock(shared);
            match s.stalled_reads.as_mut() {
                Some(stalled) if stalled.app == *app && stalled.after == 0 => {
                    s.stalled_reads.take().map(|stalled| stalled.delay)
                }
                Some(stalled) if stalled.app == *app => {
                    stalled.after -= 1;
                    None
                }
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(delay) = stall {
        tokio::time::sleep(delay).await;
    }
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    match (method, parts.as_slice()) {
        ("GET", ["apps", app, "machines"]) => {
            let s = lock(shared);
            let now = Instant::now();
            match s.apps.get(*app) {
                Some(ms) => reply(
                    200,
                    Value::Array(ms.iter().map(|m| view(&s, m, now)).collect()).to_string(),
                    None,
                ),
                None => error(404, "app not found"),
            }
        }
        ("GET", ["apps", app, "machines", id]) => with_machine(shared, app, id, |s, m| {
            reply(200, view(s, m, Instant::now()).to_string(), None)
        }),
        ("POST", ["apps", app, "machines", id, "lease"]) => {
            let ttl = q("ttl")
                .and_then(|t| t.parse::<u64>().ok())
                .or_else(|| body.and_then(|b| b["ttl"].as_u64()))
                .unwrap_or(30);
            let mut s = lock(shared);
            let next = s.next;
            s.next += 1;
            let Some(m) = find(&mut s, app, id) else {
                return error(404, "machine not found");
            };
            let now = Instant::now();
            if let Some(held) = m.lease.as_ref().filter(|l| l.expires > now)
                && nonce != Some(held.nonce.as_str())
            {
                return error(409, &format!("lease currently held by {}", held.owner));
            }
            let nonce = nonce.map_or_else(|| format!("nonce{next:08}"), str::to_owned);
            m.lease = Some(Lease {
                nonce: nonce.clone(),
                owner: "shipguard".to_owned(),
                expires: now + Duration::from_secs(ttl),
            });
            let answer = json!({"status": "success", "data": {"nonce": nonce,
                "expires_at": 1_800_000_000_u64, "owner": "deploy@example.com", "version": m.instance}});
            reply(200, answer.to_string(), None)
        }
        ("DELETE", ["apps", app, "machines", id, "lease"]) => {
            let mut s = lock(shared);
            let Some(m) = find(&mut s, app, id) else {
                return error(404, "machine not found");
            };
            match &m.lease {
                Some(l) if Some(l.nonce.as_str()) == nonce => {
                    m.lease = None;
                    reply(200, json!({"ok": true}).to_string(), None)
                }
                _ => error(409, "lease nonce does not match"),
            }
        }
        ("POST", ["apps", app, "machines", id]) => {
            let Some(config) = body.and_then(|b| b.get("config")).filter(|c| c.is_object()) else {
                return error(400, "config is required");
            };
            let mut s = lock(shared);
            let refused = config["image"]
                .as_str()
                .and_then(|image| s.refused.get(image).copied());
            let next = s.next;
            s.next += 1;
            let Some(m) = find(&mut s, app, id) else {
                return error(404, "machine not found");
            };
            let now = Instant::now();
            if let Some(held) = m.lease.as_ref().filter(|l| l.expires > now)
                && nonce != Some(held.nonce.as_str())
            {
                return error(
                    409,
                    "machine is leased and the request has no matching lease nonce",
                );
            }
            if let Some(current) = body.and_then(|b| b["current_version"].as_str())
                && !current.is_empty()
                && current != m.instance
            {
                return error(
                    409,
                    "current_version does not match the machine's instance_id",
                );
            }
            if let Some(status) = refused {
                return error(status, "the machine config was refused");
            }
            let skip = body
                .and_then(|b| b["skip_launch"].as_bool())
                .unwrap_or(false);
            m.config = config.clone();
            m.instance = format!("01INST{next:06}");
            m.launched = !skip;
            m.changed_at = now;
            let m = m.clone();
            reply(200, view(&s, &m, now).to_string(), None)
        }
        ("GET", ["apps", app, "machines", id, "wait"]) => {
            let timeout = q("timeout")
                .and_then(|t| t.parse::<u64>().ok())
                .unwrap_or(60)
                .min(60);
            let want = q("state").unwrap_or_else(|| "started".to_owned());
            let instance = q("instance_id");
            let until = Instant::now() + Duration::from_secs(timeout);
            loop {
                match reached(shared, app, id, &want, instance.as_deref()) {
                    None => return error(404, "machine not found"),
                    Some(true) => return reply(200, json!({"ok": true}).to_string(), None),
                    Some(false) if Instant::now() >= until => {
                        return error(408, "deadline_exceeded: machine did not reach the state");
                    }
                    Some(false) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }
        _ => error(404, "not found"),
    }
}

/// `None`: no such machine.
fn reached(
    shared: &Arc<Mutex<Shared>>,
    app: &str,
    id: &str,
    want: &str,
    instance: Option<&str>,
) -> Option<bool> {
    let s = lock(shared);
    let m = s.apps.get(app)?.iter().find(|m| m.id == id)?;
    let v = view(&s, m, Instant::now());
    Some(v["state"] == json!(want) && instance.is_none_or(|i| i == m.instance))
}

fn find<'a>(s: &'a mut Shared, app: &str, id: &str) -> Option<&'a mut Mach> {
    s.apps.get_mut(app)?.iter_mut().find(|m| m.id == id)
}

fn with_machine(
    shared: &Arc<Mutex<Shared>>,
    app: &str,
    id: &str,
    f: impl FnOnce(&Shared, &Mach) -> Response,
) -> Response {
    let s = lock(shared);
    match s
        .apps
        .get(app)
        .and_then(|ms| ms.iter().find(|m| m.id == id))
    {
        Some(m) => f(&s, m),
        None => error(404, "machine not found"),
    }
}
