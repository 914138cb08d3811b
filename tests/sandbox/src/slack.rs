//! A Slack stand-in: an incoming webhook (`/services/...`) and the Web API methods
//! `chat.postMessage` and `chat.update`, answering as Slack does (a plain `ok` or error code
//! for webhooks; `{"ok":…}` for the API), checking Block Kit limits like Slack, recording every
//! request, and able to fail on purpose.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use serde_json::{Value, json};

use crate::server::{self, Running, lock, reply};

/// The bot token the stand-in accepts.
pub const BOT_TOKEN: &str = "xoxb-sandbox-token";
/// The webhook path the stand-in accepts.
pub const WEBHOOK_PATH: &str = "/services/T000/B000/sandboxhook";

/// A forced answer, used before normal handling resumes.
#[derive(Debug, Clone)]
pub struct Forced {
    pub status: u16,
    /// Webhooks answer this text; the API answers `{"ok":false,"error":<body>}` when the
    /// status is 200, else the body as is.
    pub body: String,
    pub retry_after: Option<u64>,
}

/// A request the stand-in received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub authorization: Option<String>,
    pub body: Value,
    pub raw: String,
    pub at: Instant,
}

#[derive(Default)]
struct Shared {
    forced: VecDeque<Forced>,
    received: Vec<Received>,
    /// Posted messages: (channel, ts, payload).
    messages: Vec<(String, String, Value)>,
    next_ts: u64,
    echo: bool,
}

pub struct Slack {
    shared: Arc<Mutex<Shared>>,
    pub server: Running,
}

impl Slack {
    pub fn start() -> anyhow::Result<Self> {
        let shared = Arc::new(Mutex::new(Shared {
            next_ts: 1_700_000_000,
            ..Shared::default()
        }));
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let server = server::spawn(router, "127.0.0.1:0".parse()?, None)?;
        Ok(Self { shared, server })
    }

    /// Prints every message received to stderr (the demo's "Slack channel").
    pub fn echo(&self) -> &Self {
        lock(&self.shared).echo = true;
        self
    }

    pub fn webhook_url(&self) -> String {
        format!("{}{WEBHOOK_PATH}", self.server.base_url())
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/", self.server.base_url())
    }

    /// Queues forced answers for the next requests.
    pub fn force(&self, answers: Vec<Forced>) -> &Self {
        lock(&self.shared).forced.extend(answers);
        self
    }

    pub fn received(&self) -> Vec<Received> {
        lock(&self.shared).received.clone()
    }

    /// Messages as they stand now (updates applied): (channel, ts, payload).
    pub fn messages(&self) -> Vec<(String, String, Value)> {
        lock(&self.shared).messages.clone()
    }
}

impl Forced {
    pub fn new(status: u16, body: &str) -> Self {
        Self {
            status,
            body: body.to_owned(),
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }
}

async fn handle(State(shared): State<Arc<Mutex<Shared>>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let authorization = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let raw = axum::body::to_bytes(request.into_body(), 1 << 22)
        .await
        .unwrap_or_default();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let body: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
    let mut shared = lock(&shared);
    shared.received.push(Received {
        path: path.clone(),
        authorization: authorization.clone(),
        body: body.clone(),
        raw,
        at: Instant::now(),
    });
    if shared.echo {
        eprintln!(
            "    [slack] {}",
            body["text"].as_str().unwrap_or("(no text)")
        );
    }
    let is_webhook = path.starts_with("/services/");
    if let Some(forced) = shared.forced.pop_front() {
        let body = if is_webhook || forced.status != 200 {
            forced.body.clone()
        } else {
            json!({"ok": false, "error": forced.body}).to_string()
        };
        return reply(forced.status, body, forced.retry_after);
    }
    if is_webhook {
        if path != WEBHOOK_PATH {
            return reply(404, "no_service".into(), None);
        }
        if let Err(code) = check_payload(&body) {
            return reply(400, code.into(), None);
        }
        let ts = next_ts(&mut shared);
        shared.messages.push(("webhook".into(), ts, body));
        return reply(200, "ok".into(), None);
    }
    let api = |value: Value| reply(200, value.to_string(), None);
    let error = |code: &str| api(json!({"ok": false, "error": code}));
    if authorization.as_deref() != Some(&format!("Bearer {BOT_TOKEN}")) {
        return error(if authorization.is_none() {
            "not_authed"
        } else {
            "invalid_auth"
        });
    }
    let Some(channel) = body["channel"]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
    else {
        return error("channel_not_found");
    };
    if let Err(code) = check_payload(&body) {
        return error(code);
    }
    match path.as_str() {
        "/api/chat.postMessage" => {
            let ts = next_ts(&mut shared);
            shared.messages.push((channel.clone(), ts.clone(), body));
            api(json!({"ok": true, "channel": channel, "ts": ts}))
        }
        "/api/chat.update" => {
            let ts = body["ts"].as_str().unwrap_or_default().to_owned();
            match shared
                .messages
                .iter_mut()
                .find(|(c, t, _)| *c == channel && *t == ts)
            {
                Some(message) => {
                    message.2 = body;
                    api(json!({"ok": true, "channel": channel, "ts": ts}))
                }
                None => error("message_not_found"),
            }
        }
        _ => reply(
            404,
            json!({"ok": false, "error": "unknown_method"}).to_string(),
            None,
        ),
    }
}

fn next_ts(shared: &mut Shared) -> String {
    shared.next_ts += 1;
    format!("{}.000100", shared.next_ts)
}

/// Slack's own limits, so a client that does not enforce them fails here as it would there.
fn check_payload(body: &Value) -> Result<(), &'static str> {
    if !body.is_object() {
        return Err("invalid_payload");
    }
    let mut blocks: Vec<&Value> = body["blocks"]
        .as_array()
        .map(|b| b.iter().collect())
        .unwrap_or_default();
    for attachment in body["attachments"].as_array().into_iter().flatten() {
        blocks.extend(attachment["blocks"].as_array().into_iter().flatten());
    }
    if blocks.len() > 50 {
        return Err("invalid_blocks");
    }
    let mut total = body["text"].as_str().map_or(0, |t| t.chars().count());
    for block in blocks {
        // A text object must carry a string; `"text": {"text": null}` is invalid_blocks.
        if block.get("text").is_some_and(|t| !t["text"].is_string()) {
            return Err("invalid_blocks");
        }
        let text = block["text"]["text"]
            .as_str()
            .map_or(0, |t| t.chars().count());
        total += text;
        let max = if block["type"] == "header" { 150 } else { 3000 };
        if text > max {
            return Err("invalid_blocks");
        }
        if block["fields"].as_array().is_some_and(|f| f.len() > 10) {
            return Err("invalid_blocks");
        }
    }
    if total > 40_000 {
        return Err("msg_too_long");
    }
    Ok(())
}
