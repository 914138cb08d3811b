//! One probe request: send, read a bounded body, observe, evaluate every condition.

use std::time::{Duration, Instant};

use reqwest::{Client, Method, header::HeaderMap};
use url::Url;

use super::condition::{Condition, Observation};
use crate::http::{describe_reqwest, read_body_capped};

/// Bodies are read up to this size; health endpoints are small and memory stays bounded.
/// A longer body is judged on this prefix, and the evidence says so.
const BODY_LIMIT: usize = 256 * 1024;
/// The report keeps this much of the last body.
const EXCERPT_CHARS: usize = 300;
/// What a failed condition saw is kept up to this many characters (a `[BODY]` condition
/// would otherwise keep the whole body in every attempt and every report sample).
const ACTUAL_CHARS: usize = 200;

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
        /// The body went on past [`BODY_LIMIT`]; conditions saw only its start.
        body_truncated: bool,
        /// A 3xx that was not followed: where it pointed, safe to print.
        redirect: Option<String>,
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
                body_truncated,
                redirect,
                ..
            } => {
                let mut why = format!("{condition} (got {actual:?})");
                if let Some(location) = redirect {
                    why.push_str(&format!("; a redirect to {location}, not followed"));
                }
                if *body_truncated && condition.contains("[BODY]") {
                    why.push_str(&format!(
                        "; judged on the first {} KiB of a longer body",
                        BODY_LIMIT / 1024
                    ));
                }
                Some(why)
            }
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
        let redirect = response
            .status()
            .is_redirection()
            .then(|| redirect_shown(&response));
        let body = read_body_capped(response, BODY_LIMIT).await?;
        Ok::<_, reqwest::Error>((status, headers, body, certificate_expires_in, redirect))
    })
    .await;
    let latency = sent.elapsed();
    let outcome = match result {
        Err(_) => Outcome::Error {
            kind: ErrorKind::Timeout,
            message: format!("no response within {}", crate::duration::human(timeout)),
        },
        Ok(Err(err)) => classify_error(&err),
        Ok(Ok((status, headers, body, certificate_expires_in, redirect))) => {
            let observation = Observation {
                status,
                headers,
                body: body.text(),
                response_time: latency,
                certificate_expires_in,
            };
            let failed = request.conditions.iter().find_map(|c| {
                let evaluation = c.evaluate(&observation);
                (!evaluation.passed)
                    .then(|| (c.source().to_owned(), cut(&evaluation.actual, ACTUAL_CHARS)))
            });
            Outcome::Response {
                status,
                failed,
                excerpt: cut(&observation.body, EXCERPT_CHARS),
                body_truncated: body.truncated,
                redirect,
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

/// Where a 3xx points, for the evidence: the target with credentials and secret-looking
/// query values hidden (the probe URL is not a secret; its redirect may still carry one).
fn redirect_shown(response: &reqwest::Response) -> String {
    match crate::http::redirect_target(response) {
        Some(url) => crate::redact::safe_url(&url),
        None => "a missing or invalid Location".to_owned(),
    }
}

/// At most `max` characters of `text`, ending in `…` when it was longer.
fn cut(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
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
