//! A typed client for the Machines API calls a deploy needs (docs machines-resource; fly-go
//! flaps/flaps_machines.go). Every reply is read bounded ([`read_api_reply`]), every request
//! runs under the policy's absolute deadline with our classified retries (429 honours
//! `Retry-After`), and the update, which must not run twice, is sent as not idempotent.

use crate::gha::shown;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use url::Url;

use super::error::ApiError;
use super::model::{LeaseAnswer, Machine};
use super::token::Token;
use crate::http::{RetryPolicy, read_api_reply, read_error_body, retry_after, send_with_retry};

/// fly-go flaps_machines.go:15: the header that carries a held lease's nonce.
pub const NONCE_HEADER: &str = "fly-machine-lease-nonce";
/// The longest `/wait` Fly serves in one request (fly-go flaps_machines_wait.go:19,40
/// `proxyTimeoutThreshold`); longer waits are repeated.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// A lease we hold on one machine.
#[derive(Debug, Clone)]
pub struct Lease {
    pub nonce: String,
    /// The `instance_id` it was taken on (flyctl internal/machine/lease.go).
    pub version: String,
}

/// How a `/wait` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    Reached,
    /// 408: not in the state within the request's timeout; ask again.
    NotYet,
}

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `https://api.machines.dev/v1/`.
    api: Url,
    token: Token,
    policy: RetryPolicy,
}

impl Client {
    /// `base` is the API's address; `/v1` is added unless the URL already ends in it.
    pub fn new(http: reqwest::Client, base: &Url, token: Token, policy: RetryPolicy) -> Self {
        let mut api = crate::redact::without_credentials(base);
        let path = api.path().trim_end_matches('/').to_owned();
        let path = path.strip_suffix("/v1").unwrap_or(&path).to_owned();
        api.set_path(&format!("{path}/v1/"));
        api.set_query(None);
        api.set_fragment(None);
        Self {
            http,
            api,
            token,
            policy,
        }
    }

    pub fn api(&self) -> &Url {
        &self.api
    }

    /// The same client with every call bounded by `deadline`.
    pub fn until(&self, deadline: Instant) -> Self {
        let mut next = self.clone();
        next.policy = next.policy.until(deadline);
        next
    }

    pub fn deadline(&self) -> Instant {
        self.policy.deadline
    }

    fn url(&self, app: &str, rest: &[&str]) -> anyhow::Result<Url> {
        if std::iter::once(&app)
            .chain(rest)
            .any(|s| s.is_empty() || *s == "." || *s == "..")
        {
            anyhow::bail!(
                "{} is not a name the Machines API path can hold",
                shown(app)
            );
        }
        let mut url = self.api.clone();
        {
            let mut segments = url
                .path_segments_mut()
                .map_err(|()| anyhow::anyhow!("the Fly API URL cannot take a path"))?;
            segments.pop_if_empty();
            // Each name is one path segment: a `/` or `..` in it is escaped, never a path.
            segments.extend(["apps", app, "machines"]);
            segments.extend(rest);
        }
        Ok(url)
    }

    #[allow(clippy::too_many_arguments)]
    async fn call<T: DeserializeOwned>(
        &self,
        policy: &RetryPolicy,
        method: Method,
        url: Url,
        body: Option<&Value>,
        nonce: Option<&str>,
        what: &str,
    ) -> anyhow::Result<T> {
        let response = send_with_retry(policy, what, || {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(reqwest::header::AUTHORIZATION, self.token.header().expose());
            if let Some(nonce) = nonce {
                request = request.header(NONCE_HEADER, nonce);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            request
        })
        .await?;
        let status = response.status();
        if !status.is_success() {
            let wait = retry_after(&response);
            let text = read_error_body(response).await;
            return Err(ApiError::from_body(what, status.as_u16(), &text, wait).into());
        }
        let text = read_api_reply(response, what).await?;
        let text = if text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        serde_json::from_str(text).map_err(|err| {
            anyhow::anyhow!("{what}: the answer is not what the Machines API sends: {err}")
        })
    }

    /// `GET /v1/apps/{app}/machines`.
    pub async fn list(&self, app: &str) -> anyhow::Result<Vec<Machine>> {
        let url = self.url(app, &[])?;
        let what = format!("list the machines of app {}", shown(app));
        self.call(&self.policy, Method::GET, url, None, None, &what)
            .await
    }

    /// `GET /v1/apps/{app}/machines/{id}`.
    pub async fn get(&self, app: &str, id: &str) -> anyhow::Result<Machine> {
        let url = self.url(app, &[id])?;
        let what = format!("read machine {} of app {}", shown(id), shown(app));
        self.call(&self.policy, Method::GET, url, None, None, &what)
            .await
    }

    /// `POST …/{id}/lease?ttl=N`, as fly-go sends it (flaps_machines.go:280-300; the docs
    /// show the ttl in a body). With `nonce` it refreshes a lease we hold (l. 309-326).
    /// A 409 means someone else holds it.
    pub async fn lease(
        &self,
        app: &str,
        id: &str,
        ttl: Duration,
        nonce: Option<&str>,
    ) -> anyhow::Result<Lease> {
        let mut url = self.url(app, &[id, "lease"])?;
        url.query_pairs_mut()
            .append_pair("ttl", &ttl.as_secs().max(1).to_string());
        let what = format!("lease machine {} of app {}", shown(id), shown(app));
        let answer: LeaseAnswer = self
            .call(&self.policy, Method::POST, url, None, nonce, &what)
            .await?;
        match answer.data {
            Some(data) if !data.nonce.is_empty() => Ok(Lease {
                nonce: data.nonce,
                version: data.version,
            }),
            _ => anyhow::bail!("{what}: the answer holds no lease nonce"),
        }
    }

    /// `DELETE …/{id}/lease` with the nonce (flaps_machines.go:328-341).
    pub async fn release(&self, app: &str, id: &str, nonce: &str) -> anyhow::Result<()> {
        let url = self.url(app, &[id, "lease"])?;
        let what = format!(
            "release the lease on machine {} of app {}",
            shown(id),
            shown(app)
        );
        let _: Value = self
            .call(&self.policy, Method::DELETE, url, None, Some(nonce), &what)
            .await?;
        Ok(())
    }

    /// `POST …/{id}` with the full config, `current_version` (docs machines-resource "Update a
    /// Machine": the latest `instance_id`; a stale one is refused) and the lease nonce
    /// (flaps_machines.go:33-50). Sent once: only a 429 or a connection that never opened is
    /// retried.
    pub async fn update(
        &self,
        app: &str,
        id: &str,
        config: &Map<String, Value>,
        current_version: &str,
        nonce: &str,
        skip_launch: bool,
    ) -> anyhow::Result<Machine> {
        let url = self.url(app, &[id])?;
        let what = format!("update machine {} of app {}", shown(id), shown(app));
        let body = json!({
            "config": config,
            "current_version": current_version,
            "skip_launch": skip_launch,
        });
        let policy = self.policy.clone().not_idempotent();
        self.call(&policy, Method::POST, url, Some(&body), Some(nonce), &what)
            .await
    }

    /// `GET …/{id}/wait?state=…&instance_id=…&timeout=S` (docs machines-resource "Wait for a
    /// Machine to reach a specified state"; fly-go flaps_machines_wait.go clamps the timeout
    /// to 1..=60 s). 408 is [`Waited::NotYet`].
    pub async fn wait(
        &self,
        app: &str,
        id: &str,
        instance_id: &str,
        state: &str,
        timeout: Duration,
    ) -> anyhow::Result<Waited> {
        let seconds = timeout.clamp(Duration::from_secs(1), MAX_WAIT).as_secs();
        let mut url = self.url(app, &[id, "wait"])?;
        url.query_pairs_mut()
            .append_pair("state", state)
            .append_pair("instance_id", instance_id)
            .append_pair("timeout", &seconds.to_string());
        let what = format!(
            "wait for machine {} of app {} to be {state}",
            shown(id),
            shown(app)
        );
        let mut policy = self.policy.clone();
        policy.request_timeout = Duration::from_secs(seconds) + Duration::from_secs(10);
        match self
            .call::<Value>(&policy, Method::GET, url, None, None, &what)
            .await
        {
            Ok(_) => Ok(Waited::Reached),
            Err(err)
                if err
                    .downcast_ref::<ApiError>()
                    .is_some_and(|e| e.status == 408) =>
            {
                Ok(Waited::NotYet)
            }
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_is_added_once_and_names_are_one_segment() {
        let policy = RetryPolicy::new(&crate::env::Env::default());
        let token = Token::parse(&crate::redact::Secret::new("fm2_x".to_owned())).unwrap();
        for base in [
            "https://api.machines.dev",
            "https://api.machines.dev/v1/",
            "https://u:p@api.machines.dev/v1?x=1",
        ] {
            let client = Client::new(
                crate::http::client(&crate::http::ClientOptions::new("t")).unwrap(),
                &Url::parse(base).unwrap(),
                token.clone(),
                policy.clone(),
            );
            assert_eq!(
                client.api().as_str(),
                "https://api.machines.dev/v1/",
                "{base}"
            );
            assert!(client.url("..", &[]).is_err());
            assert!(client.url("web", &[""]).is_err());
            let url = client.url("../x", &["a/b"]).unwrap();
            assert_eq!(
                url.as_str(),
                "https://api.machines.dev/v1/apps/..%2Fx/machines/a%2Fb"
            );
        }
    }
}
