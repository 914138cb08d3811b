//! A typed client for the Coolify v4 endpoints the suite needs. Every call sends
//! `Authorization: Bearer` and `Accept: application/json` (without it errors come back as
//! HTML), deploys only with POST, and never sends `force=false` (before 4.2.0 it meant true).

use reqwest::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use url::Url;

use super::deploy_request::{Sent, send_deploy_request};
use super::error::ApiError;
use super::model::{Application, Deployment, DeploymentPage, Queued, parse_deploy_answer};
use super::version::{Feature, ServerVersion, Version};
use crate::gha::Untrusted;
use crate::http::{RetryPolicy, read_api_reply, read_error_body, retry_after, send_with_retry};
use crate::redact::Secret;

/// What to deploy: application UUIDs, or every resource of a Coolify tag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Apps(Vec<String>),
    Tag(String),
}

/// One Coolify server, reached with one token.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `https://host/` as the user gave it, for links.
    base: Url,
    /// `https://host/api/v1/`.
    api: Url,
    token: Secret<String>,
    policy: RetryPolicy,
    version: Option<ServerVersion>,
}

impl Client {
    /// `base` is the Coolify URL; a trailing `/api/v1` or `/api` is accepted and dropped, and
    /// so is any user info: Coolify authenticates by the Bearer token alone (reqwest would
    /// turn user info into a Basic `Authorization` header in its place), and the base URL
    /// ends up in printed links.
    pub fn new(
        http: reqwest::Client,
        base: &Url,
        token: Secret<String>,
        policy: RetryPolicy,
    ) -> Self {
        let base = crate::redact::without_credentials(&base_url(base));
        let api = base.join("api/v1/").unwrap_or_else(|_| base.clone());
        Self {
            http,
            base,
            api,
            token,
            policy,
            version: None,
        }
    }

    /// The Coolify base URL, for links to deployments.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// A link to a deployment from its `deployment_url` path, on the Coolify server only:
    /// the path comes from the server and could name another host.
    pub fn link(&self, path: &str) -> Option<String> {
        let link = self.base.join(path.trim_start_matches('/')).ok()?;
        (link.origin() == self.base.origin()
            && link.username().is_empty()
            && link.password().is_none())
        .then(|| link.into())
    }

    /// The server version, read once (`GET /version`, plain text, needs `read`). Text that
    /// is not a version is [`ServerVersion::Unreadable`], never an error: the caller warns
    /// and every feature is assumed present.
    pub async fn version(&mut self) -> anyhow::Result<ServerVersion> {
        if let Some(version) = &self.version {
            return Ok(version.clone());
        }
        let url = self.url(&["version"], &[]);
        let response = self.send("GET /version", Method::GET, url, None).await?;
        let text = read_api_reply(response, "GET /version").await?;
        let version = ServerVersion::read(&text);
        self.version = Some(version.clone());
        Ok(version)
    }

    /// The absolute deadline every call of this client keeps.
    pub fn deadline(&self) -> std::time::Instant {
        self.policy.deadline
    }

    /// The same client with another absolute deadline for its calls.
    pub fn until(&self, deadline: std::time::Instant) -> Self {
        Self {
            policy: self.policy.clone().until(deadline),
            ..self.clone()
        }
    }

    /// The version read by [`Client::version`], if it was read.
    pub fn known_version(&self) -> Option<Version> {
        self.version.as_ref().and_then(ServerVersion::known)
    }

    /// The same client for a request that must not run twice: it retries only a 429 and a
    /// connection that never opened (see `deploy_request`).
    pub fn sending_once(&self) -> Self {
        Self {
            policy: self.policy.clone().not_idempotent(),
            ..self.clone()
        }
    }

    /// Waits the backoff of retry number `retry`, never past the deadline.
    pub async fn back_off(&self, retry: u32) {
        if self.policy.no_delay {
            return;
        }
        let left = self
            .policy
            .deadline
            .saturating_duration_since(std::time::Instant::now());
        tokio::time::sleep(self.policy.backoff(retry).min(left)).await;
    }

    /// True when the server is known to have `feature` (unknown version: assume yes).
    pub fn supports(&self, feature: Feature) -> bool {
        self.version
            .as_ref()
            .and_then(ServerVersion::known)
            .is_none_or(|v| v >= feature.since())
    }

    /// `POST /deploy` for one target. Items come back in request order.
    pub async fn deploy(&self, target: &Target, force: bool) -> anyhow::Result<Vec<Queued>> {
        let mut query: Vec<(&str, String)> = match target {
            Target::Apps(apps) => vec![("uuid", apps.join(","))],
            Target::Tag(tag) => vec![("tag", tag.clone())],
        };
        if force {
            query.push(("force", "true".to_owned()));
        }
        let what = match target {
            Target::Apps(apps) => format!("POST /deploy for {}", apps.join(", ")),
            Target::Tag(tag) => format!("POST /deploy for tag {tag}"),
        };
        let url = self.url(&["deploy"], &query);
        // Never sent twice blindly: a retry after a 5xx could queue a second forced build.
        let apps = match target {
            Target::Apps(apps) => apps.as_slice(),
            Target::Tag(_) => &[],
        };
        let sent = send_deploy_request(self, apps, |once| {
            let (what, url) = (what.clone(), url.clone());
            async move { once.json::<Value>(&what, Method::POST, url, None).await }
        })
        .await?;
        let body = match sent {
            Sent::Answered(body) => body,
            Sent::Unanswered { cause, queued } => {
                return Ok(queued
                    .into_iter()
                    .map(|(app, d)| Queued {
                        note: Some(format!(
                            "the deploy request got no answer ({cause}), but Coolify had queued deployment {}; not sent again",
                            d.deployment_uuid
                        )),
                        resource_uuid: app.into(),
                        deployment_uuid: Some(d.deployment_uuid),
                        message: Untrusted::default(),
                    })
                    .collect());
            }
        };
        let (items, messages) = parse_deploy_answer(&body);
        if items.is_empty() {
            anyhow::bail!(
                "{what}: Coolify queued nothing{}",
                if messages.is_empty() {
                    String::new()
                } else {
                    let shown: Vec<String> = messages.iter().map(ToString::to_string).collect();
                    format!(" ({})", shown.join("; "))
                }
            );
        }
        Ok(items)
    }

    /// `GET /deployments/{uuid}`.
    pub async fn deployment(&self, uuid: &str) -> anyhow::Result<Deployment> {
        let url = self.url(&["deployments", uuid], &[]);
        self.json(&format!("GET /deployments/{uuid}"), Method::GET, url, None)
            .await
    }

    /// `POST /deployments/{uuid}/cancel`. A deployment that already ended (400 "cannot be
    /// cancelled") is not an error: its final status is read back instead.
    pub async fn cancel(&self, uuid: &str) -> anyhow::Result<Deployment> {
        let url = self.url(&["deployments", uuid, "cancel"], &[]);
        let what = format!("POST /deployments/{uuid}/cancel");
        match self.json::<Value>(&what, Method::POST, url, None).await {
            Ok(_) => {}
            Err(err) => {
                // 400: already final. 500: before 4.3.7 the cancel may have happened anyway.
                let settled = err
                    .downcast_ref::<ApiError>()
                    .is_some_and(|e| e.status == 400 || e.status >= 500);
                if !settled {
                    return Err(err);
                }
                tracing::info!("{err}; reading the deployment back");
            }
        }
        self.deployment(uuid).await
    }

    /// `GET /deployments/applications/{uuid}?skip&take`, newest first.
    pub async fn app_deployments(
        &self,
        app: &str,
        skip: u32,
        take: u32,
    ) -> anyhow::Result<DeploymentPage> {
        let url = self.url(
            &["deployments", "applications", app],
            &[("skip", skip.to_string()), ("take", take.to_string())],
        );
        self.json(
            &format!("GET /deployments/applications/{app}"),
            Method::GET,
            url,
            None,
        )
        .await
    }

    /// `GET /deployments`: every queued and running deployment of the team's servers.
    pub async fn running_deployments(&self) -> anyhow::Result<Vec<Deployment>> {
        let url = self.url(&["deployments"], &[]);
        let body: Value = self
            .json("GET /deployments", Method::GET, url, None)
            .await?;
        Ok(super::queue::rows(body))
    }

    /// `GET /applications/{uuid}`.
    pub async fn application(&self, uuid: &str) -> anyhow::Result<Application> {
        let url = self.url(&["applications", uuid], &[]);
        self.json(&format!("GET /applications/{uuid}"), Method::GET, url, None)
            .await
    }

    /// `PATCH /applications/{uuid}` with `docker_registry_image_tag`; applies to the next
    /// deployment (never `instant_deploy`, which hides the deployment UUID).
    pub async fn set_image_tag(&self, uuid: &str, tag: &super::ImageTag) -> anyhow::Result<()> {
        let url = self.url(&["applications", uuid], &[]);
        let body = json!({ "docker_registry_image_tag": tag });
        let _: Value = self
            .json(
                &format!("PATCH /applications/{uuid}"),
                Method::PATCH,
                url,
                Some(&body),
            )
            .await?;
        Ok(())
    }

    /// The active (queued or in-progress) deployment of an app, newest first: where a
    /// deduplicated deploy really went.
    pub async fn active_deployment(&self, app: &str) -> anyhow::Result<Option<Deployment>> {
        let page = self.app_deployments(app, 0, ACTIVE_LOOKBACK).await?;
        Ok(active(&page.deployments).cloned())
    }

    /// `api/v1/<segments…>`, each segment escaped.
    pub(super) fn api_url(&self, segments: &[&str]) -> Url {
        self.url(segments, &[])
    }

    /// `api/v1/<segments…>?query`, each segment escaped (a UUID can never change the path).
    pub(super) fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    fn request(&self, method: Method, url: Url, body: Option<&Value>) -> RequestBuilder {
        let request = self
            .http
            .request(method, url)
            .bearer_auth(self.token.expose())
            .header(reqwest::header::ACCEPT, "application/json");
        match body {
            Some(body) => request.json(body),
            None => request,
        }
    }

    /// Sends with classified retries; any error status becomes an [`ApiError`].
    async fn send(
        &self,
        what: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let response = send_with_retry(&self.policy, what, || {
            self.request(method.clone(), url.clone(), body)
        })
        .await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let wait = retry_after(&response);
        let text = read_error_body(response).await;
        Err(ApiError::from_body(what, status.as_u16(), &text, wait).into())
    }

    /// A JSON call with this client's retries; any error status is an [`ApiError`].
    pub(super) async fn json<T: DeserializeOwned>(
        &self,
        what: &str,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> anyhow::Result<T> {
        let response = self.send(what, method, url, body).await?;
        let status = response.status();
        let text = read_api_reply(response, what).await?;
        serde_json::from_str(&text).map_err(|err| {
            anyhow::anyhow!(
                "{what}: Coolify answered HTTP {} with a body this client cannot read ({err}); check that `coolify-url` points at Coolify",
                status.as_u16()
            )
        })
    }
}

/// `https://host/sub/` from `https://host/sub`, `https://host/sub/api/v1` or `…/api`.
fn base_url(url: &Url) -> Url {
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    let path = base.path().trim_end_matches('/').to_owned();
    let path = path
        .strip_suffix("/api/v1")
        .or_else(|| path.strip_suffix("/api"))
        .unwrap_or(&path);
    base.set_path(&format!("{path}/"));
    base
}

/// True when `err` is Coolify saying 404 for the thing asked about.
pub fn is_not_found(err: &anyhow::Error) -> bool {
    err.downcast_ref::<ApiError>()
        .is_some_and(ApiError::is_not_found)
}

/// How many of an app's newest deployments are read for one that is still active.
pub const ACTIVE_LOOKBACK: u32 = 5;

/// The active (queued or in-progress) deployment among the [`ACTIVE_LOOKBACK`] newest of
/// `deployments` (newest first).
pub fn active(deployments: &[Deployment]) -> Option<&Deployment> {
    deployments
        .iter()
        .take(ACTIVE_LOOKBACK as usize)
        .find(|d| d.status.is_active())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_normalised() {
        for (given, want) in [
            ("https://c.example.com", "https://c.example.com/"),
            ("https://c.example.com/", "https://c.example.com/"),
            ("https://c.example.com/api/v1/", "https://c.example.com/"),
            ("https://c.example.com/api", "https://c.example.com/"),
            (
                "https://c.example.com/coolify?x=1",
                "https://c.example.com/coolify/",
            ),
        ] {
            assert_eq!(
                base_url(&Url::parse(given).unwrap()).as_str(),
                want,
                "{given}"
            );
        }
    }

    #[test]
    fn links_stay_on_the_server_and_carry_no_user_info() {
        let http = crate::http::client(&crate::http::ClientOptions::new("t")).unwrap();
        let client = Client::new(
            http,
            &Url::parse("https://u:SENTINEL@c.example.com/coolify").unwrap(),
            Secret::new("t".into()),
            RetryPolicy::new(&crate::env::Env::default()),
        );
        assert_eq!(client.base().as_str(), "https://c.example.com/coolify/");
        assert_eq!(
            client.link("/project/p/deployment/d").as_deref(),
            Some("https://c.example.com/coolify/project/p/deployment/d")
        );
        for hostile in [
            "//evil.example/x",
            "https://evil.example/x",
            "https://u:p@c.example.com/",
        ] {
            let link = client.link(hostile);
            assert!(
                link.as_deref()
                    .is_none_or(|l| l.starts_with("https://c.example.com/coolify/")),
                "{hostile}: {link:?}"
            );
        }
    }

    #[test]
    fn path_segments_are_escaped() {
        let http = crate::http::client(&crate::http::ClientOptions::new("t")).unwrap();
        let client = Client::new(
            http,
            &Url::parse("https://c.example.com").unwrap(),
            Secret::new("t".into()),
            RetryPolicy::new(&crate::env::Env::default()),
        );
        let url = client.url(&["deployments", "../x?y"], &[("take", "5".into())]);
        assert_eq!(
            url.as_str(),
            "https://c.example.com/api/v1/deployments/..%2Fx%3Fy?take=5"
        );
    }
}
