//! The optional GitHub Deployment record of a deploy (`github-deployment: true`): created for
//! the commit deployed, with the tool's payload, marked `in_progress`, then `success`,
//! `failure` or `error`. GitHub being unreachable never fails a deploy that worked: it becomes
//! a warning. coolify-deploy, fly-deploy and railway-deploy share it through [`Deploy`];
//! auto-rollback's rollback records are its cooldown state as well: it opens them with
//! [`Recorder::open`] and fails closed when GitHub does not answer.

use serde_json::Value;

use crate::commit::CommitSha;
use crate::env::vars;
use crate::exit::usage;
use crate::gha::{Actions, Annotation, Level};
use crate::github::{Access, GitHub, NewDeployment};
use crate::http::{self, RetryPolicy};
use crate::platform::Outcome;
use crate::tool::Context;

/// Where and how to record a GitHub Deployment.
pub struct Record {
    pub access: Access,
    pub sha: CommitSha,
    pub environment: String,
    pub environment_url: Option<String>,
    /// The workflow run, linked from the deployment status.
    pub log_url: Option<String>,
}

/// The record's flags, flattened into each deploying tool's command line (strings:
/// validated in [`Record::resolve`], flags and `INPUT_*` alike).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RecordInputs {
    /// Record a GitHub Deployment for the commit deployed with in_progress and final
    /// statuses (a switch; input github-deployment: true).
    #[arg(long = "github-deployment", num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub enabled: Option<String>,
    /// GitHub environment of the record. Default production.
    #[arg(long)]
    pub environment: Option<String>,
    /// URL shown on the GitHub Deployment (the app's address).
    #[arg(long)]
    pub environment_url: Option<String>,
    /// File holding the GitHub token (default: INPUT_GITHUB_TOKEN or GITHUB_TOKEN).
    #[arg(long = "github-token-file", value_name = "PATH")]
    pub token_file: Option<String>,
}

impl Record {
    /// The record when `github-deployment: true` (else `None`); its token is masked. It names
    /// `commit` when given (the commit deployed), else GITHUB_SHA.
    pub fn resolve(
        commit: Option<&CommitSha>,
        inputs: RecordInputs,
        ctx: &mut Context,
    ) -> anyhow::Result<Option<Self>> {
        let RecordInputs {
            enabled,
            environment,
            environment_url,
            token_file,
        } = inputs;
        let env = &ctx.env;
        if !env
            .setting("github-deployment", enabled)
            .bool()?
            .unwrap_or(false)
        {
            return Ok(None);
        }
        let Some(token) = env.secret_from(
            "github-token",
            Some(vars::GITHUB_TOKEN),
            token_file.as_deref(),
        )?
        else {
            return Err(crate::cli::missing_secret(
                env,
                "`github-deployment: true` needs `github-token` (e.g. `github-token: ${{ github.token }}`, with `permissions: deployments: write`)",
                &format!(
                    "--github-deployment needs a GitHub token (deployments: write): {}",
                    crate::cli::secret_hint("GITHUB_TOKEN", "github-token")
                ),
            ));
        };
        ctx.actions.mask(token.expose());
        let env = &ctx.env;
        let access = Access::from_env(env, token, "`github-deployment: true`")?;
        let sha = match commit {
            Some(commit) => commit.clone(),
            None => {
                let sha = env
                    .var(vars::GITHUB_SHA)
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| {
                        usage("`github-deployment: true` needs GITHUB_SHA, which the runner sets")
                    })?;
                CommitSha::parse(sha.trim()).map_err(|why| {
                    usage(format!("`github-deployment: true` needs GITHUB_SHA: {why}"))
                })?
            }
        };
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
        crate::codes::Github::GithubDeploymentFailed,
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
            let deployment = NewDeployment {
                sha: (&record.sha).into(),
                environment: record.environment.clone(),
                description: description.to_owned(),
                payload,
            };
            let mut recorder =
                Self::open(github, &deployment, description, record.log_url.clone()).await?;
            recorder.environment_url = record.environment_url.clone();
            anyhow::Ok(recorder)
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

    /// Creates `deployment` and its in_progress status (`status` says what runs); an error
    /// is the caller's to judge (auto-rollback's records are its cooldown state: it fails
    /// closed). `log_url` (the workflow run) goes on every status.
    pub async fn open(
        github: GitHub,
        deployment: &NewDeployment,
        status: &str,
        log_url: Option<String>,
    ) -> anyhow::Result<Self> {
        let created = github.create_deployment(deployment).await?;
        github
            .create_status(created.id, "in_progress", status, None, log_url.as_deref())
            .await?;
        Ok(Self::resume(github, created.id, log_url))
    }

    /// A deployment created earlier (by its id), to give it its final status.
    pub fn resume(github: GitHub, id: u64, log_url: Option<String>) -> Self {
        Self {
            github,
            id,
            environment_url: None,
            log_url,
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

/// A deploying tool's record (`github-deployment: true`) around its deploy, from one place
/// for coolify-deploy, fly-deploy and railway-deploy: [`Deploy::start`] before the deploy,
/// [`Deploy::ended`] after it. Without a record (or when GitHub did not take it: a
/// warning) both do nothing.
pub struct Deploy {
    recorder: Option<Recorder>,
    tool: &'static str,
    description: String,
}

impl Deploy {
    /// Creates the record (when `record` says to) for the deploy `description` names, with
    /// the tool's `payload`.
    pub async fn start(
        record: Option<&Record>,
        ctx: &Context,
        tool: &'static str,
        description: String,
        payload: Value,
    ) -> Self {
        let recorder = match record {
            Some(record) => {
                Recorder::start(
                    record,
                    &ctx.user_agent(),
                    RetryPolicy::new(&ctx.env),
                    payload,
                    &description,
                    &ctx.actions,
                )
                .await
            }
            None => None,
        };
        Self {
            recorder,
            tool,
            description,
        }
    }

    /// The GitHub Deployment's id, for the report.
    pub fn id(&self) -> Option<u64> {
        self.recorder.as_ref().map(Recorder::id)
    }

    /// The record's final status from how the deploy ended, and the deploy's result passed
    /// on: `error` when it could not deploy (an error); else, by `outcome` (the platform's
    /// outcome and its word for it): `success` when it finished, `error` when a signal
    /// stopped it (not the app's failure: what it started was cancelled or put back),
    /// nothing while it is only queued, `failure` otherwise, described
    /// "<description>: <word>". After a signal, within its cleanup budget.
    pub async fn ended<T>(
        &self,
        result: anyhow::Result<T>,
        outcome: impl FnOnce(&T) -> (Outcome, &str),
        actions: &Actions,
    ) -> anyhow::Result<T> {
        let Some(recorder) = &self.recorder else {
            return result;
        };
        let (state, line) = match &result {
            Err(_) => (Some("error"), format!("{} could not deploy", self.tool)),
            Ok(done) => {
                let (outcome, word) = outcome(done);
                let state = match outcome {
                    Outcome::Finished => Some("success"),
                    Outcome::Queued => None,
                    Outcome::Interrupted => Some("error"),
                    _ => Some("failure"),
                };
                (state, format!("{}: {word}", self.description))
            }
        };
        if let Some(state) = state {
            crate::interrupt::within_cleanup(recorder.finish(state, &line, actions)).await;
        }
        result
    }
}
