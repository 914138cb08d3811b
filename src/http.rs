//! The one HTTP client builder (rustls with ring, timeouts, user agent) and classified
//! retries: connection errors, timeouts, 429 (honouring `Retry-After`) and 502/503/504 are
//! retried with jittered exponential backoff under an overall deadline; other 4xx never.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use reqwest::{Certificate, Client, RequestBuilder, Response, StatusCode};

use crate::env::{Env, invalid, vars};
use crate::exit::usage;
use crate::redact::Secret;

/// IPv4 first, then IPv6; port 0 means "the URL's port".
const LOCALHOST: [std::net::SocketAddr; 2] = [
    std::net::SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0),
    std::net::SocketAddr::new(std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST), 0),
];

/// How the client is built.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Per-request timeout; `None` leaves it to the caller's `RequestBuilder::timeout`.
    pub request_timeout: Option<Duration>,
    /// Extra trusted roots (self-signed Coolify hosts), merged with the system's.
    pub ca_certs: Vec<Certificate>,
    /// Accept any certificate. Only for probes the user explicitly marks `insecure`.
    pub insecure: bool,
    /// Keep the peer certificate on responses (for `[CERTIFICATE_EXPIRATION]`).
    pub tls_info: bool,
    /// Send `Accept: application/json` (API clients).
    pub json_api: bool,
}

impl ClientOptions {
    pub fn new(user_agent: impl Into<String>) -> Self {
        Self {
            user_agent: user_agent.into(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Some(Duration::from_secs(30)),
            ca_certs: Vec::new(),
            insecure: false,
            tls_info: false,
            json_api: false,
        }
    }
}

/// reqwest and octocrab share one rustls built without a default provider: install ring.
/// Idempotent; every client builder calls it, so no caller has to remember.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// An http(s) URL with a host, from input `name`. Errors never show credentials.
pub fn parse_url(name: &str, raw: &str) -> anyhow::Result<url::Url> {
    let url = url::Url::parse(raw.trim()).map_err(|err| {
        // Not quoted: user info (even past a second `@`) and query values may be secrets.
        invalid(name, &format!("is not a URL: {err}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            name,
            &format!(
                "{:?} must be an http:// or https:// URL with a host",
                crate::redact::safe_url(&url)
            ),
        ));
    }
    Ok(url)
}

/// A secret URL (a webhook, whose path is the secret): the error never shows any of it.
pub fn parse_secret_url(name: &str, secret: &Secret<String>) -> anyhow::Result<Secret<url::Url>> {
    url::Url::parse(secret.expose().trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .map(Secret::new)
        .ok_or_else(|| {
            invalid(
                name,
                "is not an http(s) URL (its value is not shown: it is a secret)",
            )
        })
}

pub fn client(options: &ClientOptions) -> anyhow::Result<Client> {
    install_crypto_provider();
    let mut builder = Client::builder()
        .user_agent(options.user_agent.clone())
        .connect_timeout(options.connect_timeout)
        .tls_info(options.tls_info)
        .tls_danger_accept_invalid_certs(options.insecure)
        // `localhost` is both loopbacks whatever the resolver says: an app listening on only
        // one of them is the most common "never healthy" report against wait-on.
        .resolve_to_addrs("localhost", &LOCALHOST);
    if let Some(timeout) = options.request_timeout {
        builder = builder.timeout(timeout);
    }
    if !options.ca_certs.is_empty() {
        builder = builder.tls_certs_merge(options.ca_certs.iter().cloned());
    }
    if options.json_api {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static("application/json"),
        );
        builder = builder.default_headers(headers);
    }
    builder.build().context("Failed to build the HTTP client")
}

/// CA certificates from an input that holds either PEM text (a secret pasted as is) or the
/// path of a PEM file; anything unreadable is a usage error naming the input.
pub fn load_ca_input(input: &str, value: &str) -> anyhow::Result<Vec<Certificate>> {
    if value.contains("-----BEGIN") {
        return parse_ca_bundle(input, "the PEM text", value.as_bytes());
    }
    load_ca_certs(input, Path::new(value))
}

/// Reads a PEM bundle of CA certificates; a bad file is a usage error naming the input.
pub fn load_ca_certs(input: &str, path: &Path) -> anyhow::Result<Vec<Certificate>> {
    let pem = std::fs::read(path).map_err(|err| {
        usage(format!(
            "invalid input `{input}`: cannot read `{}`: {err}",
            path.display()
        ))
    })?;
    parse_ca_bundle(input, &format!("`{}`", path.display()), &pem)
}

fn parse_ca_bundle(input: &str, source: &str, pem: &[u8]) -> anyhow::Result<Vec<Certificate>> {
    let certs = Certificate::from_pem_bundle(pem).map_err(|_| {
        usage(format!(
            "invalid input `{input}`: {source} is not a PEM certificate bundle"
        ))
    })?;
    if certs.is_empty() {
        return Err(usage(format!(
            "invalid input `{input}`: {source} holds no PEM certificate"
        )));
    }
    Ok(certs)
}

/// Retry settings for API calls.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// No retry starts after this much time since the first attempt.
    pub deadline: Duration,
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Test hook `SHIPGUARD_TEST_NO_RETRY_DELAY=1`: retry at once.
    pub no_delay: bool,
    /// Also retry 500 and every other 5xx (Slack asks clients to), not only 502/503/504.
    pub retry_any_5xx: bool,
}

impl RetryPolicy {
    pub fn new(env: &Env) -> Self {
        Self {
            deadline: Duration::from_secs(60),
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            no_delay: env.is(vars::SHIPGUARD_TEST_NO_RETRY_DELAY, "1"),
            retry_any_5xx: false,
        }
    }

    /// True for a status worth another try under this policy.
    pub fn retries_status(&self, status: StatusCode) -> bool {
        is_retryable_status(status) || (self.retry_any_5xx && status.is_server_error())
    }

    /// Full-jitter exponential backoff for retry number `retry` (0-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(retry.min(16)));
        let cap = exp.min(self.max_delay);
        cap.mul_f64(0.5 + fastrand::f64() * 0.5)
    }
}

/// Statuses worth another try: the server may be busy or restarting.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(response: &Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// True for errors a retry may cure: connect failures and timeouts.
pub fn is_retryable_error(err: &reqwest::Error) -> bool {
    err.is_connect() || err.is_timeout() || err.is_request() && !err.is_builder()
}

/// A reqwest error for people, without its URL (which may hold a token): what kind of
/// failure, then its innermost cause, e.g. `connect: Connection refused (os error 111)`.
pub fn describe_reqwest(err: &reqwest::Error) -> String {
    let kind = if err.is_timeout() {
        "timeout"
    } else if err.is_connect() {
        "connect"
    } else if err.is_body() || err.is_decode() {
        "reading the response"
    } else {
        "request"
    };
    let mut innermost: &(dyn std::error::Error + 'static) = err;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    if std::ptr::addr_eq(innermost, err as &(dyn std::error::Error + 'static)) {
        return format!("{kind} failed");
    }
    format!("{kind}: {innermost}")
}

/// The causes of an error on one line: `error sending request: connection refused`.
pub fn describe_error(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

/// Sends the request `make` builds, retrying as classified. Returns the last response,
/// whatever its status (the caller maps statuses to errors), or the last transport error.
pub async fn send_with_retry(
    policy: &RetryPolicy,
    what: &str,
    make: impl Fn() -> RequestBuilder,
) -> anyhow::Result<Response> {
    let started = Instant::now();
    let mut retry = 0;
    loop {
        let result = make().send().await;
        let wait = match &result {
            Ok(response) if policy.retries_status(response.status()) => {
                retry_after(response).unwrap_or_else(|| policy.backoff(retry))
            }
            Ok(_) => break result.map_err(Into::into),
            Err(err) if is_retryable_error(err) => policy.backoff(retry),
            Err(_) => {
                break result
                    .map_err(|e| anyhow::anyhow!("{what} failed: {}", describe_reqwest(&e)));
            }
        };
        let wait = if policy.no_delay {
            Duration::ZERO
        } else {
            wait
        };
        retry += 1;
        let out_of_time = started.elapsed() + wait > policy.deadline;
        if retry >= policy.max_attempts || out_of_time {
            return result.map_err(|e| {
                anyhow::anyhow!(
                    "{what} failed after {retry} attempts: {}",
                    describe_reqwest(&e)
                )
            });
        }
        match &result {
            Ok(response) => tracing::info!(
                "{what}: HTTP {}; retrying in {}",
                response.status().as_u16(),
                crate::duration::human(wait)
            ),
            Err(err) => tracing::info!(
                "{what}: {}; retrying in {}",
                describe_reqwest(err),
                crate::duration::human(wait)
            ),
        }
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        let policy = RetryPolicy::new(&Env::default());
        for retry in 0..10 {
            let d = policy.backoff(retry);
            let full = policy
                .base_delay
                .saturating_mul(1 << retry)
                .min(policy.max_delay);
            assert!(d >= full / 2 && d <= full, "{retry}: {d:?} vs {full:?}");
        }
    }

    #[test]
    fn only_busy_statuses_are_retried() {
        for code in [429, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(code).unwrap()));
        }
        for code in [200, 400, 401, 403, 404, 405, 410, 422, 500, 501] {
            assert!(!is_retryable_status(StatusCode::from_u16(code).unwrap()));
        }
    }
}
