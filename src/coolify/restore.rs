//! Putting the previous image tag back on an app after an image-tag deploy that did not
//! finish (failed, cancelled, timed out, or never queued).
//!
//! Coolify keeps the old container running when a deploy fails (ApplicationDeploymentJob.php
//! L5042-5052 at 379abb25 removes only the new one), but the app record keeps the tag we
//! PATCHed, and the next deploy from any source ships it: the job reads the tag from the app
//! when it runs (`resolveDockerImageTag`, L611-621; the queue row holds a tag only for
//! previews, L238). So the record is set back to what runs.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};

use super::client::Client;

/// A tag that could not be put back: the user has to set it by hand.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct RestoreFailure {
    pub app: String,
    /// The tag to set (empty: none).
    pub tag: String,
    pub error: String,
}

/// What putting tags back did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Restored {
    /// App → the tag set back on it.
    pub tags: BTreeMap<String, String>,
    pub failures: Vec<RestoreFailure>,
}

/// PATCHes each app's previous tag back (an empty one as `null`: no tag, Coolify's
/// `latest`). Never fails as a whole: each app that could not be set back is a failure.
pub async fn restore(client: &Client, previous: &BTreeMap<String, String>) -> Restored {
    let mut done = Restored::default();
    for (app, tag) in previous {
        let body = if tag.is_empty() {
            json!({ "docker_registry_image_tag": Value::Null })
        } else {
            json!({ "docker_registry_image_tag": tag })
        };
        let url = client.api_url(&["applications", app]);
        let what = format!("PATCH /applications/{app} (putting image tag {tag:?} back)");
        match client
            .json::<Value>(&what, Method::PATCH, url, Some(&body))
            .await
        {
            Ok(_) => {
                done.tags.insert(app.clone(), tag.clone());
            }
            Err(err) => done.failures.push(RestoreFailure {
                app: app.clone(),
                tag: tag.clone(),
                error: format!("{err:#}"),
            }),
        }
    }
    done
}

impl RestoreFailure {
    /// The error annotation's text: which app, and the tag to set by hand.
    pub fn message(&self) -> String {
        let tag = if self.tag.is_empty() {
            "no tag (empty)".to_owned()
        } else {
            format!("\"{}\"", crate::gha::Untrusted::from(self.tag.as_str()))
        };
        format!(
            "app {} still has the new image tag, and the next deploy from anywhere would ship it; set its Docker image tag back to {tag} by hand in Coolify ({})",
            crate::gha::Untrusted::from(self.app.as_str()),
            self.error
        )
    }
}
