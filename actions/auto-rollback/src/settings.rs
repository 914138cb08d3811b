//! Flags, inputs and GITHUB_* defaults merged and validated before anything is probed or
//! deployed; every secret is masked first.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use shipguard::commit::{CommitRef, CommitSha};
use shipguard::coolify::ImageTag;
use shipguard::env::{Split, invalid, vars};
use shipguard::exit::usage;
use shipguard::github::Access;
use shipguard::http::{self, ClientOptions};
use shipguard::probe::{self, Probe, Request, Timing};
use shipguard::redact::Secret;
use shipguard::tool::Context;
use url::Url;

use crate::cli::Cli;
use crate::image_template::ImageTemplate;
use crate::template::TagTemplate;

/// Where the app runs.
pub enum Platform {
    Coolify { url: Url, token: Secret<String> },
    Fly(FlyTarget),
    Railway(RailwayTarget),
}

/// platform railway: the GraphQL endpoint, the token, and the project and environment of
/// the services (`app`); `image-template` (optional) maps images to commits.
pub struct RailwayTarget {
    pub api: Url,
    pub token: shipguard::railway::Token,
    pub project: String,
    pub environment: String,
    pub template: Option<ImageTemplate>,
}

/// platform fly: the Machines API and how commits map to images.
pub struct FlyTarget {
    pub api: Url,
    pub token: shipguard::fly::Token,
    pub template: ImageTemplate,
}

/// Where good versions come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `to`: a version chosen by a person.
    Manual(Manual),
    WorkflowRuns {
        workflow: String,
    },
    Deployments,
    /// `source: platform` (Railway): the deployment that served before the one running now,
    /// brought back by the platform itself (`deploymentRollback`).
    Platform,
}

/// A manual target: the image tag to deploy and the commit it was built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manual {
    pub commit: CommitRef,
    pub tag: ImageTag,
}

pub struct Settings {
    pub urls: Vec<Url>,
    /// Probes until `failure-threshold` consecutive failures, or one pass.
    pub analysis: Probe,
    /// Probes until `success-threshold` consecutive passes, or `verify-timeout`.
    pub verification: Probe,
    pub platform: Platform,
    /// Metric checks measured next to the analysis probes.
    pub metrics: Option<shipguard::metrics::MetricRun>,
    pub apps: Vec<String>,
    pub http: reqwest::Client,
    pub template: TagTemplate,
    pub source: Source,
    pub branch: String,
    pub environment: String,
    pub cooldown: Duration,
    pub deploy_timeout: Duration,
    pub poll_interval: Duration,
    /// The whole run (analysis, GitHub reads, redeploy, verification) ends by then.
    pub timeout: Duration,
    pub dry_run: bool,
    pub fail_on_rollback: bool,
    /// `None` only with a manual `to`: no cooldown state and no record then.
    pub github: Option<Access>,
    pub slack_webhook: Option<Secret<Url>>,
    pub run_url: Option<String>,
    /// Refuse while a run of this workflow (file name or id) has not finished.
    pub deploy_workflow: Option<String>,
    /// This run (`GITHUB_RUN_ID`), never counted as a deploy in progress.
    pub run_id: Option<u64>,
}

impl Settings {
    pub fn resolve(mut cli: Cli, ctx: &mut Context) -> anyhow::Result<Self> {
        let metric_flags = std::mem::take(&mut cli.metric);
        let env = &ctx.env;
        let coolify_token = env.secret_from(
            "coolify-token",
            Some("COOLIFY_TOKEN"),
            cli.coolify_token_file.as_deref(),
        )?;
        let github_token = env.secret_from(
            "github-token",
            Some(vars::GITHUB_TOKEN),
            cli.github_token_file.as_deref(),
        )?;
        let slack = env.secret_from(
            "slack-webhook-url",
            Some("SLACK_WEBHOOK_URL"),
            cli.slack_webhook_url_file.as_deref(),
        )?;
        for secret in [&coolify_token, &github_token].into_iter().flatten() {
            ctx.actions.mask(secret.expose());
        }
        if let Some(slack) = &slack {
            ctx.actions.mask_secret_url(slack.expose());
        }
        let env = &ctx.env;

        let (urls, conditions) = probe::targets(env, cli.urls, cli.expect)?;
        for url in &urls {
            ctx.actions.mask_url(url);
        }
        let duration = |name: &'static str, flag: Option<String>, default: Duration| {
            env.setting(name, flag)
                .duration()
                .map(|d| d.unwrap_or(default))
        };
        let interval = duration("interval", cli.interval, Duration::from_secs(10))?;
        let request_timeout = duration(
            "request-timeout",
            cli.request_timeout,
            Duration::from_secs(10),
        )?;
        let initial_delay = duration("initial-delay", cli.initial_delay, Duration::ZERO)?;
        let verify_timeout = duration(
            "verify-timeout",
            cli.verify_timeout,
            Duration::from_secs(300),
        )?;
        let cooldown = duration("cooldown", cli.cooldown, Duration::from_secs(15 * 60))?;
        let deploy_timeout = duration(
            "deploy-timeout",
            cli.deploy_timeout,
            Duration::from_secs(15 * 60),
        )?;
        let poll_interval = duration("poll-interval", cli.poll_interval, Duration::from_secs(5))?;
        let timeout = duration("timeout", cli.timeout, Duration::from_secs(15 * 60))?;
        for (name, value) in [
            ("timeout", timeout),
            ("interval", interval),
            ("request-timeout", request_timeout),
            ("verify-timeout", verify_timeout),
            ("deploy-timeout", deploy_timeout),
            ("poll-interval", poll_interval),
        ] {
            if value.is_zero() {
                return Err(invalid(name, "must be longer than 0"));
            }
        }
        let failure_threshold = env
            .setting("failure-threshold", cli.failure_threshold)
            .count(1)?
            .unwrap_or(3);
        let success_threshold = env
            .setting("success-threshold", cli.success_threshold)
            .count(1)?
            .unwrap_or(2);

        let platform = match env
            .setting("platform", cli.platform.clone())
            .choice(&["coolify", "fly", "railway"])?
        {
            Some("railway") => Platform::Railway(railway_target(
                RailwayFlags {
                    token_file: cli.railway_token_file.clone(),
                    token_kind: cli.token_kind.clone(),
                    project: cli.railway_project.clone(),
                    environment: cli.railway_environment.clone(),
                    image_template: cli.image_template.clone(),
                    api_url: cli.api_url.clone(),
                },
                ctx,
            )?),
            Some("fly") => {
                let secret = env.secret_from(
                    "fly-token",
                    Some("FLY_API_TOKEN"),
                    cli.fly_token_file.as_deref(),
                )?;
                let Some(secret) = secret else {
                    return Err(shipguard::cli::missing_secret(
                        env,
                        "missing input `fly-token`: `platform: fly` needs a Fly token (`fly tokens create deploy -a <app>`), e.g. `fly-token: ${{ secrets.FLY_API_TOKEN }}`",
                        &format!(
                            "missing Fly token (`fly tokens create deploy -a <app>`): {}",
                            shipguard::cli::secret_hint("FLY_API_TOKEN", "fly-token")
                        ),
                    ));
                };
                ctx.actions.mask(secret.expose());
                let token = shipguard::fly::Token::parse(&secret)
                    .map_err(|why| invalid("fly-token", &why))?;
                ctx.actions.mask(token.header().expose());
                let env = &ctx.env;
                let Some(template) = env
                    .setting("image-template", cli.image_template)
                    .parse(ImageTemplate::parse)?
                else {
                    return Err(usage(
                        "missing input `image-template`: `platform: fly` needs how a commit becomes an image, e.g. `image-template: registry.fly.io/{app}:{sha}`",
                    ));
                };
                let api = env
                    .setting("api-url", cli.api_url)
                    .optional()
                    .unwrap_or_else(|| "https://api.machines.dev".to_owned());
                let api = http::parse_url("api-url", &api)?;
                Platform::Fly(FlyTarget {
                    api,
                    token,
                    template,
                })
            }
            _ => {
                let coolify_url = env.setting("coolify-url", cli.coolify_url).required()?;
                let coolify_url = http::parse_url("coolify-url", &coolify_url)?;
                ctx.actions.mask_url(&coolify_url);
                let coolify_token = coolify_token.ok_or_else(|| {
                    shipguard::cli::missing_secret(
                        env,
                        "missing input `coolify-token`: pass `coolify-token: ${{ secrets.COOLIFY_TOKEN }}` (abilities deploy, read, write)",
                        &format!(
                            "missing Coolify API token: {} (abilities deploy, read, write)",
                            shipguard::cli::secret_hint("COOLIFY_TOKEN", "coolify-token")
                        ),
                    )
                })?;
                Platform::Coolify {
                    url: coolify_url,
                    token: coolify_token,
                }
            }
        };
        let env = &ctx.env;
        let apps = env.list("app", cli.apps, Split::LinesOrCommas);
        if apps.is_empty() {
            return Err(usage(
                "missing input `app`: give the application UUID(s) to roll back",
            ));
        }
        let template = env
            .setting("image-tag-template", cli.image_tag_template)
            .parse(TagTemplate::parse)?
            .unwrap_or_else(TagTemplate::full_sha);
        let branch = env
            .setting("branch", cli.branch)
            .optional()
            .unwrap_or_else(|| "main".to_owned());
        template.check(&branch).map_err(|why| {
            invalid(
                "image-tag-template",
                &format!("on branch {branch:?}: {why}"),
            )
        })?;
        let to = env
            .setting("to", cli.to)
            .optional()
            .map(|to| manual_target(&to, &template, &branch))
            .transpose()?;
        let source = match (
            to,
            env.setting("source", cli.source).choice(&[
                "workflow-runs",
                "deployments",
                "platform",
            ])?,
        ) {
            (Some(to), _) => Source::Manual(to),
            (None, Some("deployments")) => Source::Deployments,
            (None, Some("platform")) if matches!(platform, Platform::Railway(_)) => {
                Source::Platform
            }
            (None, Some("platform")) => {
                return Err(invalid(
                    "source",
                    "`platform` is for `platform: railway` (a rollback Railway performs itself); use workflow-runs or deployments",
                ));
            }
            (None, _) => Source::WorkflowRuns {
                workflow: env
                    .setting("workflow", cli.workflow)
                    .parse(workflow_name)?
                    .unwrap_or_else(|| "deploy.yml".to_owned()),
            },
        };
        let deploy_workflow = env
            .setting("deploy-workflow", cli.deploy_workflow)
            .parse(workflow_name)?;
        let environment = env
            .setting("environment", cli.environment)
            .optional()
            .unwrap_or_else(|| "production".to_owned());
        let github = match github_token {
            Some(token) => Some(Access::from_env(env, token, "auto-rollback")?),
            None if matches!(source, Source::Manual(_)) => None,
            None => {
                return Err(shipguard::cli::missing_secret(
                    env,
                    "missing input `github-token`: the good versions and the rollback history live on GitHub (`github-token: ${{ github.token }}`, with `permissions: actions: read, deployments: write`)",
                    &format!(
                        "missing GitHub token: the good versions and the rollback history live on GitHub; {} (or pass --to SHA)",
                        shipguard::cli::secret_hint("GITHUB_TOKEN", "github-token")
                    ),
                ));
            }
        };
        if deploy_workflow.is_some() && github.is_none() {
            return Err(shipguard::cli::missing_secret(
                env,
                "input `deploy-workflow` needs `github-token` (with `permissions: actions: read`) to see the deploy workflow's runs",
                &format!(
                    "--deploy-workflow needs a GitHub token to see the deploy workflow's runs: {}",
                    shipguard::cli::secret_hint("GITHUB_TOKEN", "github-token")
                ),
            ));
        }
        let slack_webhook = slack
            .map(|s| http::parse_secret_url("slack-webhook-url", &s))
            .transpose()?;
        let dry_run = env.setting("dry-run", cli.dry_run).bool()?.unwrap_or(false);
        let fail_on_rollback = env
            .setting("fail-on-rollback", cli.fail_on_rollback)
            .bool()?
            .unwrap_or(false);
        let mut options = ClientOptions::new(ctx.user_agent());
        options.json_api = true;
        if let Some(value) = env.setting("ca-cert", cli.ca_cert).optional() {
            options.ca_certs = http::load_ca_input("ca-cert", &value)?;
        }
        let http = http::client(&options)?;
        let mut probe_options = ClientOptions::new(ctx.user_agent());
        probe_options.request_timeout = None;
        probe_options.connect_timeout = request_timeout;
        probe_options.ca_certs = options.ca_certs.clone();
        let probe_client = http::client(&probe_options)?;
        let request = Arc::new(Request {
            method: Method::GET,
            headers: HeaderMap::new(),
            body: None,
            conditions: conditions.clone(),
        });
        let metrics =
            shipguard::metrics::settings::resolve(metric_flags, ctx, interval, request_timeout)?;
        let attempts = failure_threshold;
        let analysis = Probe {
            client: probe_client.clone(),
            request: request.clone(),
            timing: Timing {
                initial_delay,
                interval,
                request_timeout,
                // Room for the threshold of attempts; the threshold ends it first.
                timeout: initial_delay
                    + (interval + request_timeout).saturating_mul(attempts.saturating_add(1)),
                success_threshold: 1,
                failure_threshold: Some(failure_threshold),
                hold: None,
            },
        };
        let verification = Probe {
            client: probe_client,
            request,
            timing: Timing {
                initial_delay: Duration::ZERO,
                interval,
                request_timeout,
                timeout: verify_timeout,
                success_threshold,
                failure_threshold: None,
                hold: None,
            },
        };
        Ok(Self {
            urls,
            analysis,
            verification,
            platform,
            metrics,
            apps,
            http,
            template,
            source,
            branch,
            environment,
            cooldown,
            deploy_timeout,
            poll_interval,
            timeout,
            dry_run,
            fail_on_rollback,
            github,
            slack_webhook,
            run_url: ctx.env.run_url(),
            deploy_workflow,
            run_id: ctx
                .env
                .var(shipguard::env::vars::GITHUB_RUN_ID)
                .and_then(|id| id.parse().ok()),
        })
    }
}

/// `to`: a full commit SHA (its image tag from the template), or an image tag the template
/// maps back to a commit (`main-1a2b3c4` for `main-{short_sha}`, as coolify-deploy's
/// `previous-image-tags` output gives it).
fn manual_target(raw: &str, template: &TagTemplate, branch: &str) -> anyhow::Result<Manual> {
    let raw = raw.trim();
    if let Ok(sha) = CommitSha::parse(raw) {
        let tag = template
            .render(&sha, branch)
            .map_err(|why| invalid("image-tag-template", &why))?;
        return Ok(Manual {
            commit: CommitRef::from(&sha),
            tag,
        });
    }
    let tag = ImageTag::parse(raw).ok();
    let commit = tag
        .as_ref()
        .and_then(|t| template.commit_of(t.as_str(), branch))
        .and_then(|c| CommitRef::parse(&c).ok());
    match (tag, commit) {
        (Some(tag), Some(commit)) => Ok(Manual { commit, tag }),
        _ => {
            let shown: String = raw.chars().take(60).collect();
            Err(invalid(
                "to",
                &format!(
                    "{shown:?} is neither a 40-digit commit SHA nor an image tag that `image-tag-template` ({}) maps to a commit",
                    template.as_str()
                ),
            ))
        }
    }
}

/// A workflow file name (`deploy.yml`) or id: it becomes part of an API path.
fn workflow_name(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let ok = !raw.is_empty()
        && raw.len() <= 255
        && !raw.starts_with('.')
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(format!(
            "{raw:?} is not a workflow file name such as `deploy.yml` (or a workflow id)"
        ))
    }
}

/// `platform: railway`'s inputs (token kind and header: shipguard::railway::token).
struct RailwayFlags {
    token_file: Option<String>,
    token_kind: Option<String>,
    project: Option<String>,
    environment: Option<String>,
    image_template: Option<String>,
    api_url: Option<String>,
}

fn railway_target(cli: RailwayFlags, ctx: &mut Context) -> anyhow::Result<RailwayTarget> {
    let token = shipguard::railway::inputs::token(
        ctx,
        cli.token_kind,
        cli.token_file.as_deref(),
        "`platform: railway` needs a Railway token",
    )?;
    let env = &ctx.env;
    let id = |name: &'static str, flag: Option<String>| -> anyhow::Result<String> {
        env.setting(name, flag)
            .parse(shipguard::railway::client::railway_id)?
            .ok_or_else(|| {
                usage(format!(
                    "missing input `{name}`: `platform: railway` needs the Railway {} id",
                    name.trim_start_matches("railway-")
                ))
            })
    };
    let project = id("railway-project", cli.project)?;
    let environment = id("railway-environment", cli.environment)?;
    let template = env
        .setting("image-template", cli.image_template)
        .parse(ImageTemplate::parse)?;
    let api = env
        .setting("api-url", cli.api_url)
        .optional()
        .unwrap_or_else(|| shipguard::railway::DEFAULT_API.to_owned());
    let api = http::parse_url("api-url", &api)?;
    Ok(RailwayTarget {
        api,
        token,
        project,
        environment,
        template,
    })
}
