//! The optional GitHub Deployment record (`github-deployment: true`): created for GITHUB_SHA
//! with the image in its payload, marked in_progress, then success, failure or error.
//! GitHub being unreachable never fails a deploy that worked: it becomes a warning. Same
//! behaviour as coolify-deploy's record.rs (a shared home in the core library is follow-up
//! work: both files would move together).

use serde_json::Value;
use shipguard::commit::CommitSha;
use shipguard::env::vars;
use shipguard::exit::usage;
use shipguard::gha::{Actions, Annotation, Level};
use shipguard::github::{Access, GitHub, NewDeployment};
use shipguard::http::{self, RetryPolicy};
use shipguard::tool::Context;

/// Where and how to record a GitHub Deployment.
pub struct Record {
    pub access: Access,
    pub sha: CommitSha,
    pub environment: String,
    pub environment_url: Option<String>,
    pub log_url: Option<String>,
}

impl Record {
    /// The record when `github-deployment: true`; its token is masked.
    pub fn resolve(
        enabled: Option<String>,
        environment: Option<String>,
        environment_url: Option<String>,
        token_file: Option<&str>,
        ctx: &mut Context,
    ) -> anyhow::Result<Option<Self>> {
        let env = &ctx.env;
        if !env
            .setting("github-deployment", enabled)
            .bool()?
            .unwrap_or(false)
        {
            return Ok(None);
        }
        let Some(token) = env.secret_from("github-token", Some(vars::GITHUB_TOKEN), token_file)?
        else {
            return Err(usage(
                "`github-deployment: true` needs `github-token` (e.g. `github-token: ${{ github.token }}`, with `permissions: deployments: write`)",
            ));
        };
        ctx.actions.mask(token.expose());
        let env = &ctx.env;
        let access = Access::from_env(env, token, "`github-deployment: true`")?;
        let sha = env.var(vars::GITHUB_SHA).ok_or_else(|| {
            usage("`github-deployment: true` needs GITHUB_SHA, which the runner sets")
        })?;
        let sha = CommitSha::parse(sha.trim())
            .map_err(|why| usage(format!("`github-deployment: true` needs GITHUB_SHA: {why}")))?;
        let environment_url = env
            .setting("environment-url", environment_url)
            .optional()
            .map(|raw| http::parse_url("environment-url", &raw).map(String::from))
            .transpose()?;
        Ok(Some(Self {
            access,
            sha,
            environment: env
                .setting("environment", environment)
                .optional()
                .unwrap_or_else(|| "production".to_owned()),
            environment_url,
            log_url: env.run_url(),
        }))
    }
}

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
