//! One probe request: send, read a bounded body, observe, evaluate every condition.

use std::time::{Duration, Instant};

use reqwest::{Client, Method, header::HeaderMap};
use url::Url;

use super::condition::{Condition, Observation};
use crate::http::describe_reqwest;

/// Bodies are read up to this size; health endpoints are small and memory stays bounded.
const BODY_LIMIT: usize = 256 * 1024;
/// The report keeps this much of the last body.
const EXCERPT_CHARS: usize = 300;

/// What to send to every URL, and what must hold.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Option<String>,
    pub conditions: Vec<Condition>,
}

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    Connect,
    Timeout,
    Tls,
    Other,
}

/// The result of one attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A response, with the first failing condition and what it saw (None: all held).
    Response {
        status: u16,
        failed: Option<(String, String)>,
        excerpt: String,
    },
    /// No response at all.
    Error { kind: ErrorKind, message: String },
}

#[derive(Debug, Clone)]
pub struct Attempt {
    /// Since the probe run started.
    pub at: Duration,
    /// It timed out only because the overall deadline left it less than a full request
    /// timeout; its failure says nothing about the server.
    pub cut_short: bool,
    pub latency: Duration,
    pub outcome: Outcome,
}

impl Attempt {
    pub fn passed(&self) -> bool {
        matches!(self.outcome, Outcome::Response { failed: None, .. })
    }

    pub fn status(&self) -> Option<u16> {
        match self.outcome {
            Outcome::Response { status, .. } => Some(status),
            Outcome::Error { .. } => None,
        }
    }

    /// The reason it did not pass, e.g. `[STATUS] == 200 (got 503)` or `connection refused`.
    /// What came back, for a progress line: `200 ok`, `503, [STATUS] == 200 (got "503")`,
    /// `no response: connection refused`.
    pub fn describe(&self) -> String {
        match (self.status(), self.failure()) {
            (Some(status), None) => format!("{status} ok"),
            (Some(status), Some(why)) => format!("{status}, {why}"),
            (None, Some(why)) => format!("no response: {why}"),
            (None, None) => "no response".to_owned(),
        }
    }

    pub fn failure(&self) -> Option<String> {
        match &self.outcome {
            Outcome::Response { failed: None, .. } => None,
            Outcome::Response {
                failed: Some((condition, actual)),
                ..
            } => Some(format!("{condition} (got {actual:?})")),
            Outcome::Error { message, .. } => Some(message.clone()),
        }
    }
}

/// Sends one probe request and evaluates it.
pub(super) async fn attempt(
    client: &Client,
    url: &Url,
    request: &Request,
    timeout: Duration,
    clipped: bool,
    started: Instant,
) -> Attempt {
    let sent = Instant::now();
    let at = sent.duration_since(started);
    let mut builder = client
        .request(request.method.clone(), url.clone())
        .headers(request.headers.clone())
        .timeout(timeout.max(Duration::from_millis(1)));
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let result = tokio::time::timeout(timeout, async {
        let response = builder.send().await?;
        let status = response.status().as_u16();
        let certificate_expires_in = certificate_expiry(&response);
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = read_body(response).await?;
        Ok::<_, reqwest::Error>((status, headers, body, certificate_expires_in))
    })
    .await;
    let latency = sent.elapsed();
    let outcome = match result {
        Err(_) => Outcome::Error {
            kind: ErrorKind::Timeout,
            message: format!("no response within {}", crate::duration::human(timeout)),
        },
        Ok(Err(err)) => classify_error(&err),
        Ok(Ok((status, headers, body, certificate_expires_in))) => {
            let observation = Observation {
                status,
                headers,
                body,
                response_time: latency,
                certificate_expires_in,
            };
            let failed = request.conditions.iter().find_map(|c| {
                let evaluation = c.evaluate(&observation);
                (!evaluation.passed).then(|| (c.source().to_owned(), evaluation.actual))
            });
            Outcome::Response {
                status,
                failed,
                excerpt: excerpt(&observation.body),
            }
        }
    };
    let cut_short = clipped
        && matches!(
            outcome,
            Outcome::Error {
                kind: ErrorKind::Timeout,
                ..
            }
        );
    Attempt {
        at,
        cut_short,
        latency,
        outcome,
    }
}

async fn read_body(mut response: reqwest::Response) -> Result<String, reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = BODY_LIMIT.saturating_sub(bytes.len());
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() >= BODY_LIMIT {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn excerpt(body: &str) -> String {
    let mut out: String = body.chars().take(EXCERPT_CHARS).collect();
    if body.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

fn certificate_expiry(response: &reqwest::Response) -> Option<Duration> {
    let info = response.extensions().get::<reqwest::tls::TlsInfo>()?;
    let der = info.peer_certificate()?;
    let (_, certificate) = x509_parser::parse_x509_certificate(der).ok()?;
    let not_after = certificate.validity().not_after.timestamp();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    Some(Duration::from_secs(
        not_after.saturating_sub(now).max(0) as u64
    ))
}

fn classify_error(err: &reqwest::Error) -> Outcome {
    let message = describe_reqwest(err);
    let lower = message.to_ascii_lowercase();
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake")
    {
        ErrorKind::Tls
    } else if err.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Other
    };
    Outcome::Error { kind, message }
}
