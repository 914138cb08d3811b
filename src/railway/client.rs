//! The GraphQL client: one POST per operation with `query`, `operationName` and `variables`
//! (cli src/client.rs:545-570 drops null variables; so do we), the token in its header
//! (token.rs), every reply read bounded ([`read_api_reply`]) under the policy's absolute
//! deadline, 429 retried honouring `Retry-After`, and `errors[]` checked on every answer
//! whatever its HTTP status: a mutation answered with errors did not happen.

use crate::gha::shown;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use url::Url;

use super::error::{GraphQlError, HttpError};
use super::model::{Deployment, newest_first};
use super::ops::{self, Operation};
use super::token::{Token, TokenKind};
use crate::http::{RetryPolicy, read_api_reply, read_error_body, retry_after, send_with_retry};

#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    url: Url,
    token: Token,
    policy: RetryPolicy,
    /// Requests sent (every attempt, retries included), shared by clones.
    requests: Arc<AtomicU32>,
}

#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    errors: Option<Vec<ErrorEntry>>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    message: Option<String>,
}

/// `projectToken { projectId environmentId }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenScope {
    pub project_id: String,
    pub environment_id: String,
}

impl Client {
    pub fn new(http: reqwest::Client, url: &Url, token: Token, policy: RetryPolicy) -> Self {
        Self {
            http,
            url: crate::redact::without_credentials(url),
            token,
            policy,
            requests: Arc::new(AtomicU32::new(0)),
        }
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn token_kind(&self) -> TokenKind {
        self.token.kind()
    }

    /// The same client (and request count) with every call bounded by `deadline`.
    pub fn until(&self, deadline: Instant) -> Self {
        let mut next = self.clone();
        next.policy = next.policy.until(deadline);
        next
    }

    /// The most one request may take.
    pub fn request_timeout(&self) -> std::time::Duration {
        self.policy.request_timeout
    }

    /// Requests sent so far (for the report: the Free plan allows 100 an hour).
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends `op` and returns its `data`, or an error: HTTP (after retries), `errors[]`
    /// ([`GraphQlError`]), or an answer without data.
    pub async fn call(
        &self,
        op: &Operation,
        variables: Value,
        what: &str,
    ) -> anyhow::Result<Value> {
        let mut variables = match variables {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        variables.retain(|_, v| !v.is_null());
        let body = json!({
            "query": op.document,
            "operationName": op.name,
            "variables": variables,
        });
        let policy = if op.mutation {
            self.policy.clone().not_idempotent()
        } else {
            self.policy.clone()
        };
        let (header, value) = self.token.header();
        let response = send_with_retry(&policy, what, || {
            self.requests.fetch_add(1, Ordering::Relaxed);
            self.http
                .post(self.url.clone())
                .header(header, value.expose())
                .json(&body)
        })
        .await?;
        let status = response.status();
        let wait = retry_after(&response);
        let text = if status.is_success() {
            read_api_reply(response, what).await?
        } else {
            read_error_body(response).await
        };
        // GraphQL errors first, whatever the status (cli client.rs:587).
        let reply: Option<Reply> = serde_json::from_str(&text).ok();
        if let Some(errors) = reply.as_ref().and_then(|r| r.errors.as_ref())
            && !errors.is_empty()
        {
            let messages = errors
                .iter()
                .map(|e| e.message.clone().unwrap_or_else(|| "(no message)".into()))
                .collect();
            return Err(GraphQlError::new(what, messages, self.token.kind()).into());
        }
        if !status.is_success() {
            return Err(HttpError {
                what: what.to_owned(),
                status: status.as_u16(),
                retry_after: wait,
            }
            .into());
        }
        match reply.and_then(|r| r.data) {
            Some(data @ Value::Object(_)) => Ok(data),
            _ => anyhow::bail!(
                "{what}: the answer holds neither data nor errors (is `api-url` Railway's GraphQL endpoint?)"
            ),
        }
    }

    async fn field<T: DeserializeOwned>(
        &self,
        op: &Operation,
        field: &str,
        variables: Value,
        what: &str,
    ) -> anyhow::Result<T> {
        let mut data = self.call(op, variables, what).await?;
        let value = data.get_mut(field).map(Value::take).unwrap_or(Value::Null);
        serde_json::from_value(value)
            .map_err(|err| anyhow::anyhow!("{what}: `{field}` is not what the schema says: {err}"))
    }

    /// Which project and environment a project token is for.
    pub async fn token_scope(&self) -> anyhow::Result<TokenScope> {
        self.field(
            &ops::PROJECT_TOKEN,
            "projectToken",
            json!({}),
            "read the project token's scope",
        )
        .await
    }

    /// The service's deployments in the environment, newest first (sorted here by
    /// `createdAt`: the server's order is not relied on). `first` bounds the page.
    pub async fn deployments(
        &self,
        project: &str,
        environment: &str,
        service: &str,
        first: u32,
    ) -> anyhow::Result<Vec<Deployment>> {
        #[derive(Deserialize)]
        struct Conn {
            edges: Vec<Edge>,
        }
        #[derive(Deserialize)]
        struct Edge {
            node: Deployment,
        }
        let what = format!("list the deployments of service {}", shown(service));
        let conn: Conn = self
            .field(
                &ops::DEPLOYMENTS,
                "deployments",
                json!({
                    "input": {"projectId": project, "environmentId": environment, "serviceId": service},
                    "first": first,
                }),
                &what,
            )
            .await?;
        newest_first(conn.edges.into_iter().map(|e| e.node).collect())
    }

    pub async fn deployment(&self, id: &str) -> anyhow::Result<Deployment> {
        let what = format!("read deployment {}", shown(id));
        self.field(&ops::DEPLOYMENT, "deployment", json!({"id": id}), &what)
            .await
    }

    /// Sets the service's source image. `false` from the server is a refusal.
    pub async fn set_image(
        &self,
        environment: &str,
        service: &str,
        image: &str,
    ) -> anyhow::Result<()> {
        let what = format!("set the image of service {}", shown(service));
        let done: bool = self
            .field(
                &ops::SERVICE_INSTANCE_UPDATE,
                "serviceInstanceUpdate",
                json!({
                    "serviceId": service,
                    "environmentId": environment,
                    "input": {"source": {"image": image}},
                }),
                &what,
            )
            .await?;
        refused_unless(done, &what)
    }

    /// Deploys the service (at `commit` when given); returns the new deployment's id.
    pub async fn deploy(
        &self,
        environment: &str,
        service: &str,
        commit: Option<&str>,
    ) -> anyhow::Result<String> {
        let what = format!("deploy service {}", shown(service));
        let id: String = self
            .field(
                &ops::SERVICE_INSTANCE_DEPLOY,
                "serviceInstanceDeployV2",
                json!({"environmentId": environment, "serviceId": service, "commitSha": commit}),
                &what,
            )
            .await?;
        // The id we will poll and cancel: held to the same form as every id we send.
        railway_id(&id).map_err(|_| anyhow::anyhow!("{what}: the answer is not a deployment id"))
    }

    pub async fn cancel(&self, id: &str) -> anyhow::Result<()> {
        let what = format!("cancel deployment {}", shown(id));
        let done: bool = self
            .field(
                &ops::DEPLOYMENT_CANCEL,
                "deploymentCancel",
                json!({"id": id}),
                &what,
            )
            .await?;
        refused_unless(done, &what)
    }

    /// Rolls back to deployment `id`. The mutation returns only a Boolean: the new
    /// deployment is found by listing.
    pub async fn rollback(&self, id: &str) -> anyhow::Result<()> {
        let what = format!("roll back to deployment {}", shown(id));
        let done: bool = self
            .field(
                &ops::DEPLOYMENT_ROLLBACK,
                "deploymentRollback",
                json!({"id": id}),
                &what,
            )
            .await?;
        refused_unless(done, &what)
    }

    /// Redeploys deployment `id` (its image again when `previous_image`); returns the new
    /// deployment.
    pub async fn redeploy(&self, id: &str, previous_image: bool) -> anyhow::Result<Deployment> {
        let what = format!("redeploy deployment {}", shown(id));
        self.field(
            &ops::DEPLOYMENT_REDEPLOY,
            "deploymentRedeploy",
            json!({"id": id, "usePreviousImageTag": previous_image.then_some(true)}),
            &what,
        )
        .await
    }
}

fn refused_unless(done: bool, what: &str) -> anyhow::Result<()> {
    if done {
        Ok(())
    } else {
        Err(GraphQlError::new(
            what,
            vec!["the mutation answered false".into()],
            TokenKind::Project,
        )
        .into())
    }
}

/// Railway ids (UUIDs) as inputs: letters, digits and dashes, at most 64.
pub fn railway_id(raw: &str) -> Result<String, String> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(format!(
            "{:?} is not a Railway id (a UUID such as 9f1c7a52-…; copy it from the service's settings or `railway status --json`)",
            shown(&raw.chars().take(80).collect::<String>())
        ))
    }
}
