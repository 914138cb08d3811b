//! Hostile answers, for testing that every tool stays bounded in time, memory and output:
//! redirects (to another origin), huge and endless bodies, a request accepted and never
//! answered, a body trickled a byte at a time, and a server that echoes the request back.
//! `Hostile::start` serves one mode on every path; the Coolify stand-in can also answer one
//! request with a mode (`coolify::Forced::hostile`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use http_body_util::channel::Channel;

use crate::server::{self, Running, lock};

/// How every request is answered.
#[derive(Debug, Clone)]
pub enum Mode {
    /// `status` (301, 302, 307…) with this `Location`.
    Redirect { status: u16, location: String },
    /// 200 with `prefix` then filler bytes up to `bytes` in all (`None`: never ends).
    Flood {
        content_type: &'static str,
        prefix: String,
        bytes: Option<u64>,
    },
    /// The request is read and never answered; the connection stays open.
    Silent,
    /// 200 and its headers at once, then one body byte every `every`, forever.
    Trickle { every: Duration },
    /// `status` with the whole request (method, target, headers, body) as the body: what a
    /// careless server puts in its error pages.
    Echo { status: u16 },
}

impl Mode {
    /// A JSON document that never ends: `{"data":"xxxx…`.
    pub fn endless_json() -> Self {
        Self::Flood {
            content_type: "application/json",
            prefix: r#"{"data":""#.to_owned(),
            bytes: None,
        }
    }

    /// A text body of `bytes` bytes that starts with `prefix`.
    pub fn huge_text(prefix: &str, bytes: u64) -> Self {
        Self::Flood {
            content_type: "text/plain",
            prefix: prefix.to_owned(),
            bytes: Some(bytes),
        }
    }

    pub fn redirect(status: u16, location: &str) -> Self {
        Self::Redirect {
            status,
            location: location.to_owned(),
        }
    }
}

/// A request a hostile server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

struct Shared {
    mode: Mode,
    seen: Vec<Seen>,
}

/// A server answering every request with one hostile mode, until dropped.
pub struct Hostile {
    shared: Arc<Mutex<Shared>>,
    pub server: Running,
}

impl Hostile {
    pub fn start(mode: Mode) -> anyhow::Result<Self> {
        let shared = Arc::new(Mutex::new(Shared {
            mode,
            seen: Vec::new(),
        }));
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let server = server::spawn(router, "127.0.0.1:0".parse()?, None)?;
        Ok(Self { shared, server })
    }

    /// `http://127.0.0.1:PORT<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared).seen.clone()
    }
}

async fn handle(State(shared): State<Arc<Mutex<Shared>>>, request: Request) -> Response {
    let (head, body) = read_request(request).await;
    let mode = {
        let mut shared = lock(&shared);
        shared.seen.push(head.clone());
        shared.mode.clone()
    };
    answer(&mode, &head, &body).await
}

/// The request's head, and its body up to 1 MiB.
pub async fn read_request(request: Request) -> (Seen, Vec<u8>) {
    let seen = Seen {
        method: request.method().as_str().to_owned(),
        target: request.uri().to_string(),
        headers: request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .map(|b| b.to_vec())
        .unwrap_or_default();
    (seen, body)
}

/// The hostile answer of `mode` to a request.
pub async fn answer(mode: &Mode, head: &Seen, body: &[u8]) -> Response {
    match mode {
        Mode::Redirect { status, location } => {
            let mut response = with_status(*status, Body::empty());
            if let Ok(value) = location.parse() {
                response.headers_mut().insert("location", value);
            }
            response
        }
        Mode::Flood {
            content_type,
            prefix,
            bytes,
        } => {
            let (mut sender, channel) = Channel::<Bytes>::new(4);
            let prefix = Bytes::from(prefix.clone().into_bytes());
            let limit = *bytes;
            tokio::spawn(async move {
                let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
                let mut sent = prefix.len() as u64;
                if sender.send_data(prefix).await.is_err() {
                    return;
                }
                loop {
                    let part = match limit {
                        Some(total) if sent >= total => return,
                        Some(total) => {
                            chunk.slice(..(total - sent).min(chunk.len() as u64) as usize)
                        }
                        None => chunk.clone(),
                    };
                    sent += part.len() as u64;
                    // The client hung up: stop.
                    if sender.send_data(part).await.is_err() {
                        return;
                    }
                }
            });
            let mut response = with_status(200, Body::new(channel));
            if let Ok(value) = content_type.parse() {
                response.headers_mut().insert("content-type", value);
            }
            if let Some(total) = bytes
                && let Ok(value) = total.to_string().parse()
            {
                response.headers_mut().insert("content-length", value);
            }
            response
        }
        Mode::Silent => std::future::pending().await,
        Mode::Trickle { every } => {
            let (mut sender, channel) = Channel::<Bytes>::new(1);
            let every = *every;
            tokio::spawn(async move {
                loop {
                    if sender.send_data(Bytes::from_static(b"x")).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(every).await;
                }
            });
            with_status(200, Body::new(channel))
        }
        Mode::Echo { status } => {
            let mut text = format!("{} {}\n", head.method, head.target);
            for (name, value) in &head.headers {
                text.push_str(&format!("{name}: {value}\n"));
            }
            text.push('\n');
            text.push_str(&String::from_utf8_lossy(body));
            with_status(*status, Body::from(text))
        }
    }
}

fn with_status(status: u16, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response
}
