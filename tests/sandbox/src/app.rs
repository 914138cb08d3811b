//! A scriptable app to probe: each path follows a plan (a sequence of replies, or a switch
//! after some time), every request is recorded, and `/echo` reflects the request headers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use crate::server::{self, Running, lock};

/// One scripted reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
    pub delay: Duration,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            body: Vec::new(),
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn json(status: u16, body: serde_json::Value) -> Self {
        Self::status(status)
            .body(&body.to_string())
            .header("content-type", "application/json")
    }

    pub fn body(self, body: &str) -> Self {
        self.bytes(body.as_bytes().to_vec())
    }

    pub fn bytes(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// How a path answers over time.
#[derive(Debug, Clone)]
pub enum Plan {
    /// The n-th request gets the n-th reply; the last one repeats.
    Sequence(Vec<Reply>),
    /// `before` until `after` has passed since the first request, then `then`.
    SwitchAfter {
        after: Duration,
        before: Reply,
        then: Reply,
    },
    /// 200 with the request's headers as a JSON object.
    Echo,
}

/// A request the app received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub at: Instant,
}

#[derive(Default)]
struct PathState {
    plan: Option<Plan>,
    hits: usize,
    first: Option<Instant>,
}

#[derive(Default)]
struct Shared {
    paths: HashMap<String, PathState>,
    /// The plan of any path without its own.
    fallback: Option<Plan>,
    /// Keep every request (tests) or only count them (benchmarks with many requests).
    record: bool,
    seen: Vec<Seen>,
}

/// The running app.
pub struct App {
    shared: Arc<Mutex<Shared>>,
    pub server: Running,
}

impl App {
    /// Starts on `127.0.0.1` with a free port.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_on("127.0.0.1:0".parse()?, None)
    }

    /// Starts on `bind`, with TLS when a server config is given.
    pub fn start_on(
        bind: SocketAddr,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> anyhow::Result<Self> {
        let shared = Arc::new(Mutex::new(Shared {
            record: true,
            ..Shared::default()
        }));
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let server = server::spawn(router, bind, tls)?;
        Ok(Self { shared, server })
    }

    /// Sets (or replaces) the plan of a path.
    pub fn plan(&self, path: &str, plan: Plan) -> &Self {
        let mut shared = lock(&self.shared);
        let state = shared.paths.entry(path.to_owned()).or_default();
        *state = PathState {
            plan: Some(plan),
            hits: 0,
            first: None,
        };
        self
    }

    /// The plan of every path that has none of its own.
    pub fn fallback(&self, plan: Plan) -> &Self {
        lock(&self.shared).fallback = Some(plan);
        self
    }

    /// Stops keeping each request (counts remain): for long benchmark runs.
    pub fn forget_requests(&self) -> &Self {
        lock(&self.shared).record = false;
        self
    }

    /// The full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared).seen.clone()
    }

    pub fn hits(&self, path: &str) -> usize {
        lock(&self.shared).paths.get(path).map_or(0, |p| p.hits)
    }
}

async fn handle(State(shared): State<Arc<Mutex<Shared>>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().to_string();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let reply = {
        let mut shared = lock(&shared);
        let now = Instant::now();
        if shared.record {
            shared.seen.push(Seen {
                method,
                path: path.clone(),
                headers: headers.clone(),
                body: String::from_utf8_lossy(&body).into_owned(),
                at: now,
            });
        }
        let fallback = shared.fallback.clone();
        let state = shared.paths.entry(path).or_default();
        state.hits += 1;
        let first = *state.first.get_or_insert(now);
        match state.plan.as_ref().or(fallback.as_ref()) {
            None => Reply::status(404).body("no plan for this path"),
            Some(Plan::Sequence(replies)) => replies
                .get(state.hits - 1)
                .or(replies.last())
                .cloned()
                .unwrap_or(Reply::status(500)),
            Some(Plan::SwitchAfter {
                after,
                before,
                then,
            }) => {
                if now.duration_since(first) >= *after {
                    then.clone()
                } else {
                    before.clone()
                }
            }
            Some(Plan::Echo) => {
                let map: serde_json::Map<String, serde_json::Value> = headers
                    .into_iter()
                    .map(|(n, v)| (n, serde_json::Value::String(v)))
                    .collect();
                Reply::json(200, serde_json::Value::Object(map))
            }
        }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().append(n, v);
        }
    }
    response
}
