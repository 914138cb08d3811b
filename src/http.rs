//! The one HTTP client builder (rustls with ring, timeouts, user agent, redirect policy),
//! bounded body reading, and classified retries: connection errors, timeouts, 429 (honouring
//! `Retry-After`) and 502/503/504 are retried with jittered exponential backoff under an
//! absolute deadline; other 4xx never, and a 3xx on an API call is an error.

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
    /// What a 3xx answer does; by default it is the answer (nothing is followed).
    pub redirects: Redirects,
}

/// How a client treats 3xx answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Redirects {
    /// Never follow: the 3xx is the answer. API clients always (a 301/302 would turn a POST
    /// into a body-less GET), probes unless `follow-redirects: true`.
    #[default]
    None,
    /// Follow up to [`MAX_REDIRECTS`] redirects that stay on the first URL's origin (scheme,
    /// host and port); a redirect to another origin is not followed and its 3xx is the answer,
    /// so a custom header (an API key) never reaches an origin it was not meant for.
    /// reqwest itself only drops `Authorization`, `Cookie` and `Proxy-Authorization` across
    /// hosts (reqwest-0.13.5 src/redirect.rs:239 `remove_sensitive_headers`), not `X-Api-Key`.
    SameOrigin,
}

/// Redirects followed at most in [`Redirects::SameOrigin`] mode.
pub const MAX_REDIRECTS: usize = 10;

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
            redirects: Redirects::None,
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
    if url.port() == Some(0) {
        return Err(invalid(
            name,
            &format!(
                "{:?} has port 0, which no server listens on; give the real port or none",
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
        .filter(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some() && u.port() != Some(0)
        })
        .map(Secret::new)
        .ok_or_else(|| {
            invalid(
                name,
                "is not an http(s) URL with a host and a valid port (its value is not shown: it is a secret)",
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
    builder = builder.redirect(match options.redirects {
        Redirects::None => reqwest::redirect::Policy::none(),
        Redirects::SameOrigin => reqwest::redirect::Policy::custom(|attempt| {
            // `previous()` starts with the URL first asked for (reqwest-0.13.5
            // src/redirect.rs:135); `stop()` hands the 3xx back as the answer.
            let first = attempt.previous().first().map(url::Url::origin);
            let same_origin = first.is_some_and(|o| o == attempt.url().origin());
            if same_origin && attempt.previous().len() <= MAX_REDIRECTS {
                attempt.follow()
            } else {
                attempt.stop()
            }
        }),
    });
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

/// A response body read up to a limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    pub bytes: Vec<u8>,
    /// The body went on past the limit; `bytes` is its first `limit` bytes.
    pub truncated: bool,
}

impl Body {
    /// The bytes as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

/// JSON API replies (Coolify, Slack) are read up to this size; a longer one is an error.
/// Coolify's deployment answers carry the build log, hence the room.
pub const API_REPLY_LIMIT: usize = 16 << 20;
/// Error answers are only read for a message: this much is plenty.
pub const ERROR_BODY_LIMIT: usize = 64 << 10;

/// Reads at most `limit` bytes of a body, chunk by chunk, and stops there: an endless or
/// huge body costs `limit` bytes of memory, never more. Time is bounded by the request's
/// timeout, which reqwest applies to the body too (reqwest-0.13.5
/// src/async_impl/client.rs:3142 hands the request's total timeout to the body).
pub async fn read_body_capped(
    mut response: Response,
    limit: usize,
) -> Result<Body, reqwest::Error> {
    let mut body = Body::default();
    while let Some(chunk) = response.chunk().await? {
        let room = limit.saturating_sub(body.bytes.len());
        if chunk.len() > room {
            body.bytes.extend_from_slice(&chunk[..room]);
            body.truncated = true;
            break;
        }
        body.bytes.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The body of a successful API reply as text, up to [`API_REPLY_LIMIT`]; a longer reply is
/// an error (a cut JSON document cannot be trusted).
pub async fn read_api_reply(response: Response, what: &str) -> anyhow::Result<String> {
    let body = read_body_capped(response, API_REPLY_LIMIT)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "{what}: reading the answer failed: {}",
                describe_reqwest(&e)
            )
        })?;
    if body.truncated {
        anyhow::bail!(
            "{what}: reply larger than {} MiB; not read further (check that the URL points at the right server)",
            API_REPLY_LIMIT >> 20
        );
    }
    Ok(body.text())
}

/// The start of an error answer, for its message: at most [`ERROR_BODY_LIMIT`] bytes, and
/// empty when it cannot be read.
pub async fn read_error_body(response: Response) -> String {
    read_body_capped(response, ERROR_BODY_LIMIT)
        .await
        .map(|b| b.text())
        .unwrap_or_default()
}

/// Where a 3xx answer points, resolved against the URL that answered; `None` when it has no
/// usable `Location`.
pub fn redirect_target(response: &Response) -> Option<url::Url> {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    response.url().join(location.trim()).ok()
}

/// An API call or webhook answered with a redirect: never followed (a 301/302 turns a POST
/// into a body-less GET whose 200 would read as success), reported with its target's origin.
fn redirect_error(what: &str, response: &Response) -> anyhow::Error {
    let status = response.status().as_u16();
    let target = match redirect_target(response) {
        Some(url) => format!(
            "to {} (only the scheme, host and port are shown: the rest may hold a secret)",
            url.origin().ascii_serialization()
        ),
        None => "without a usable Location".to_owned(),
    };
    anyhow::anyhow!(
        "{what}: the server answered HTTP {status}, a redirect {target}; redirects are not followed for API calls and webhooks: use the final URL"
    )
}

/// The deadline passed before an answer came: the caller's timeout outcome.
#[derive(Debug)]
pub struct DeadlinePassed {
    pub what: String,
}

impl std::fmt::Display for DeadlinePassed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: no answer before the deadline", self.what)
    }
}

impl std::error::Error for DeadlinePassed {}

/// A non-idempotent request may have reached the server, but no answer came (a timeout, or
/// the connection broke after sending): whether it took effect is for the caller to find out.
#[derive(Debug)]
pub struct MaybeSent {
    pub what: String,
    pub cause: String,
}

impl std::fmt::Display for MaybeSent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: no answer ({})", self.what, self.cause)
    }
}

impl std::error::Error for MaybeSent {}

/// True when `err` (or any cause) is a [`DeadlinePassed`].
pub fn is_deadline(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<DeadlinePassed>())
}

/// Retry settings for API calls.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Absolute: no request, retry or wait runs past it; each request's timeout is the
    /// smaller of `request_timeout` and the time left.
    pub deadline: Instant,
    /// The most one request (body included) may take.
    pub request_timeout: Duration,
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Test hook `SHIPGUARD_TEST_NO_RETRY_DELAY=1`: retry at once.
    pub no_delay: bool,
    /// Also retry 500 and every other 5xx (Slack asks clients to), not only 502/503/504.
    pub retry_any_5xx: bool,
    /// False for a request that must not run twice (one that queues a deployment): only a
    /// 429 and a connection that never opened are retried; a 5xx comes back as the answer,
    /// and a timeout or broken connection after sending is [`MaybeSent`].
    pub idempotent: bool,
}

impl RetryPolicy {
    pub fn new(env: &Env) -> Self {
        Self {
            deadline: Instant::now() + Duration::from_secs(60),
            request_timeout: Duration::from_secs(30),
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            no_delay: env.is(vars::SHIPGUARD_TEST_NO_RETRY_DELAY, "1"),
            retry_any_5xx: false,
            idempotent: true,
        }
    }

    /// The same policy for a request that must not run twice (see `idempotent`).
    pub fn not_idempotent(mut self) -> Self {
        self.idempotent = false;
        self
    }

    /// The same policy with a new absolute deadline.
    pub fn until(mut self, deadline: Instant) -> Self {
        self.deadline = deadline;
        self
    }

    /// True for a status worth another try under this policy.
    pub fn retries_status(&self, status: StatusCode) -> bool {
        if !self.idempotent {
            // 429: refused before anything was queued (Coolify's full deploy queue).
            return status == StatusCode::TOO_MANY_REQUESTS;
        }
        is_retryable_status(status) || (self.retry_any_5xx && status.is_server_error())
    }

    /// True for a transport error worth another try under this policy: a non-idempotent
    /// request only when the connection never opened, so the server cannot have seen it.
    fn retries_error(&self, err: &reqwest::Error) -> bool {
        if self.idempotent {
            is_retryable_error(err)
        } else {
            err.is_connect()
        }
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

/// Sends the request `make` builds, retrying as classified, never past `policy.deadline`:
/// each request's timeout (which reqwest applies to the body too) is cut to the time left,
/// and no retry waits beyond it. Returns the last response whatever its status (the caller
/// maps statuses to errors), except a 3xx, which is an error naming where it pointed; the
/// last transport error; or [`DeadlinePassed`].
pub async fn send_with_retry(
    policy: &RetryPolicy,
    what: &str,
    make: impl Fn() -> RequestBuilder,
) -> anyhow::Result<Response> {
    let passed = || {
        anyhow::Error::new(DeadlinePassed {
            what: what.to_owned(),
        })
    };
    let mut retry = 0;
    loop {
        // After SIGINT/SIGTERM no request runs past the cleanup budget (crate::interrupt).
        let deadline = crate::interrupt::received().map_or(policy.deadline, |r| {
            policy.deadline.min(r.cleanup_deadline())
        });
        let now = Instant::now();
        if now >= deadline {
            return Err(passed());
        }
        let left = deadline - now;
        let clipped = left < policy.request_timeout;
        let timeout = policy.request_timeout.min(left);
        let sent = tokio::time::timeout_at(deadline.into(), make().timeout(timeout).send()).await;
        let result = match sent {
            Err(_) => return Err(passed()),
            Ok(Err(err)) if clipped && err.is_timeout() => return Err(passed()),
            Ok(result) => result,
        };
        let wait = match &result {
            Ok(response) if response.status().is_redirection() => {
                return Err(redirect_error(what, response));
            }
            Ok(response) if policy.retries_status(response.status()) => {
                retry_after(response).unwrap_or_else(|| policy.backoff(retry))
            }
            Ok(_) => break result.map_err(Into::into),
            Err(err) if policy.retries_error(err) => policy.backoff(retry),
            Err(err) if !policy.idempotent => {
                return Err(anyhow::Error::new(MaybeSent {
                    what: what.to_owned(),
                    cause: describe_reqwest(err),
                }));
            }
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
        let out_of_time = Instant::now() + wait >= deadline;
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
        // A signal during the wait ends it with the last answer: no new attempt (a deploy
        // POST sent again would start what the run is giving up). Retries of the cleanup's
        // own requests (the signal came before them) wait as usual, within the budget.
        let pause = tokio::time::sleep(wait);
        if crate::interrupt::received().is_some() {
            pause.await;
        } else if crate::interrupt::unless_requested(pause).await.is_err() {
            return result.map_err(|e| {
                anyhow::anyhow!("{what} stopped by a signal: {}", describe_reqwest(&e))
            });
        }
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
    fn port_zero_is_a_usage_error() {
        let err = parse_url("url", "http://127.0.0.1:0/health").unwrap_err();
        assert_eq!(crate::exit::classify(&err), crate::exit::Code::Usage);
        assert!(err.to_string().contains("port 0"), "{err}");
        assert!(parse_url("url", "http://127.0.0.1:8080/health").is_ok());
        let secret = Secret::new("https://hooks.example.com:0/T0/B0/x".to_owned());
        let err = parse_secret_url("webhook-url", &secret).unwrap_err();
        assert!(!err.to_string().contains("T0/B0"), "{err}");
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
