//! Webhook mode, for platforms other than Coolify: one POST of `{"image","tag","force"}` to a
//! deploy hook (retried when the hook is busy or down), and no deployment to follow.

use std::time::Instant;

use serde_json::json;
use shipguard::http::{RetryPolicy, send_with_retry};
use shipguard::redact::Secret;
use url::Url;

/// What the hook answered.
pub struct Triggered {
    pub status: u16,
    pub seconds: f64,
}

pub async fn trigger(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    url: &Secret<Url>,
    image: Option<&str>,
    tag: Option<&str>,
    force: bool,
) -> anyhow::Result<Triggered> {
    let started = Instant::now();
    let body = json!({ "image": image, "tag": tag, "force": force });
    // A redirect is an error naming only its origin (the URL is a secret), and the policy's
    // absolute deadline bounds every try: its passing is the timeout outcome.
    let response = send_with_retry(policy, "deploy webhook", || {
        http.post(url.expose().clone()).json(&body)
    })
    .await
    .map_err(|err| {
        if shipguard::http::is_deadline(&err) {
            shipguard::exit::check_failed(
                shipguard::codes::Deploy::DeployTimeout.as_str(),
                format!("{err}: the deploy webhook did not answer in time"),
            )
        } else {
            err
        }
    })?;
    let status = response.status().as_u16();
    if !response.status().is_success() {
        anyhow::bail!(
            "deploy webhook answered HTTP {status}: check `webhook-url` and what the platform expects"
        );
    }
    Ok(Triggered {
        status,
        seconds: started.elapsed().as_secs_f64(),
    })
}
