//! The optional GitHub Deployment record: created for GITHUB_SHA with the image tag in its
//! payload, marked in_progress, then success or failure. GitHub being unreachable never
//! fails a deploy that worked: it becomes a warning.

use serde_json::Value;
use shipguard::gha::{Actions, Annotation, Level};
use shipguard::github::{GitHub, NewDeployment};
use shipguard::http::RetryPolicy;

use crate::settings::Record;

/// A GitHub Deployment that was created and is being kept up to date.
pub struct Recorder {
    github: GitHub,
    id: u64,
    environment_url: Option<String>,
    log_url: Option<String>,
}

fn warn(actions: &Actions, err: &anyhow::Error) {
    actions.annotate(Annotation::new(
        Level::Warning,
        "github-deployment-failed",
        format!("{err:#}"),
    ));
}

impl Recorder {
    /// Creates the deployment and its in_progress status; `None` (with a warning) on failure.
    pub async fn start(
        record: &Record,
        user_agent: &str,
        policy: RetryPolicy,
        payload: Value,
        description: &str,
        actions: &Actions,
    ) -> Option<Self> {
        let attempt = async {
            let github = GitHub::new(&record.access, user_agent, policy)?;
            let deployment = github
                .create_deployment(&NewDeployment {
                    sha: (&record.sha).into(),
                    environment: record.environment.clone(),
                    description: description.to_owned(),
                    payload,
                })
                .await?;
            github
                .create_status(
                    deployment.id,
                    "in_progress",
                    description,
                    None,
                    record.log_url.as_deref(),
                )
                .await?;
            anyhow::Ok(Self {
                github,
                id: deployment.id,
                environment_url: record.environment_url.clone(),
                log_url: record.log_url.clone(),
            })
        };
        match attempt.await {
            Ok(recorder) => {
                actions.log(&format!(
                    "GitHub deployment {} ({}) in progress",
                    recorder.id, record.environment
                ));
                Some(recorder)
            }
            Err(err) => {
                warn(actions, &err);
                None
            }
        }
    }

    pub fn id(&self) -> u64 {
        self.id
    }

    /// The final status: `success`, `failure` or `error`.
    pub async fn finish(&self, state: &str, description: &str, actions: &Actions) {
        let environment_url = (state == "success")
            .then_some(())
            .and(self.environment_url.as_deref());
        if let Err(err) = self
            .github
            .create_status(
                self.id,
                state,
                description,
                environment_url,
                self.log_url.as_deref(),
            )
            .await
        {
            warn(actions, &err);
        }
    }
}
