//! Flags, inputs and defaults merged and validated before any request is sent: a bad URL,
//! duration or tag is exit 2 with a line naming the input, and the token is masked first.

use std::time::Duration;

use shipguard::commit::CommitSha;
use shipguard::coolify::ImageTag;
use shipguard::coolify::{Plan, Target};
use shipguard::deployment_record::Record;
use shipguard::env::{Split, invalid, vars};
use shipguard::exit::usage;
use shipguard::http::{self, ClientOptions};
use shipguard::redact::Secret;
use shipguard::tool::Context;
use url::Url;

use crate::cli::Cli;

/// Where the deploy goes.
pub enum Mode {
    Coolify {
        url: Url,
        token: Secret<String>,
        plan: Plan,
    },
    /// A generic deploy webhook: POST `{"image","tag","force"}`.
    Webhook {
        url: Secret<Url>,
        image: Option<String>,
        tag: Option<String>,
        force: bool,
    },
}

/// Which commit a git-based app gets, before the apps' kinds are known.
pub struct Commits {
    /// The `commit` input: an error on a Docker-image app.
    pub explicit: Option<CommitSha>,
    /// GITHUB_SHA: the default for git-based apps.
    pub workflow: Option<CommitSha>,
}

pub struct Settings {
    pub mode: Mode,
    pub commits: Commits,
    pub record: Option<Record>,
    pub http: reqwest::Client,
    pub log_lines: usize,
}

impl Settings {
    pub fn resolve(cli: Cli, ctx: &mut Context) -> anyhow::Result<Self> {
        let env = &ctx.env;
        let token = env.secret_from(
            "coolify-token",
            Some("COOLIFY_TOKEN"),
            cli.coolify_token_file.as_deref(),
        )?;
        let webhook = env.secret_from("webhook-url", None, cli.webhook_url_file.as_deref())?;
        if let Some(token) = &token {
            ctx.actions.mask(token.expose());
        }
        if let Some(webhook) = &webhook {
            ctx.actions.mask_secret_url(webhook.expose());
        }
        let env = &ctx.env;
        let force = env.setting("force", cli.force).bool()?.unwrap_or(false);
        let image_tag = env
            .setting("image-tag", cli.image_tag)
            .parse(ImageTag::parse)?;
        let commit = env
            .setting("commit", cli.commit)
            .parse(|raw| CommitSha::parse(raw.trim()))?;
        if image_tag.is_some() && commit.is_some() {
            return Err(usage(
                "both `image-tag` and `commit` are set: a Docker-image app is deployed by `image-tag`, a git-based app by `commit`; give the one that fits the app",
            ));
        }
        let workflow_sha = env
            .var(vars::GITHUB_SHA)
            .and_then(|v| CommitSha::parse(v.trim()).ok());
        let commits = Commits {
            explicit: commit,
            workflow: workflow_sha,
        };
        let mut options = ClientOptions::new(ctx.user_agent());
        options.json_api = true;
        if let Some(value) = env.setting("ca-cert", cli.ca_cert).optional() {
            options.ca_certs = http::load_ca_input("ca-cert", &value)?;
        }
        let http = http::client(&options)?;
        let log_lines = env
            .setting("log-lines", cli.log_lines)
            .count(0)?
            .unwrap_or(40) as usize;
        let coolify_url = env.setting("coolify-url", cli.coolify_url).optional();
        let record = Record::resolve(commits.explicit.as_ref(), cli.record.clone(), ctx)?;
        let env = &ctx.env;

        if let Some(webhook) = webhook {
            if coolify_url.is_some() {
                return Err(usage(
                    "both `coolify-url` and `webhook-url` are set: give `coolify-url` (with `coolify-token` and `app`) or `webhook-url`, not both",
                ));
            }
            if commits.explicit.is_some() {
                return Err(invalid(
                    "commit",
                    "is for git-based apps on Coolify; the deploy webhook gets only `image` and `image-tag`",
                ));
            }
            let url = http::parse_secret_url("webhook-url", &webhook)?;
            let image = env.setting("image", cli.image).optional();
            return Ok(Self {
                mode: Mode::Webhook {
                    url,
                    image,
                    tag: image_tag.as_ref().map(ToString::to_string),
                    force,
                },
                commits,
                record,
                http,
                log_lines,
            });
        }

        let Some(raw_url) = coolify_url else {
            return Err(usage(
                "missing input `coolify-url`: set it to your Coolify base URL, e.g. `coolify-url: https://coolify.example.com` (or use `webhook-url`)",
            ));
        };
        let url = http::parse_url("coolify-url", &raw_url)?;
        ctx.actions.mask_url(&url);
        let env = &ctx.env;
        let Some(token) = token else {
            return Err(shipguard::cli::missing_secret(
                env,
                "missing input `coolify-token`: create an API token in Coolify (Keys & Tokens) with deploy, read and write, store it as a secret, and pass `coolify-token: ${{ secrets.COOLIFY_TOKEN }}`",
                &format!(
                    "missing Coolify API token (create one in Coolify, Keys & Tokens, with deploy, read and write): {}",
                    shipguard::cli::secret_hint("COOLIFY_TOKEN", "coolify-token")
                ),
            ));
        };
        if token.expose().chars().any(char::is_whitespace) {
            return Err(invalid(
                "coolify-token",
                "the token contains whitespace; paste the whole `<id>|<secret>` string",
            ));
        }
        let apps = env.list("app", cli.apps, Split::LinesOrCommas);
        let tag = env.setting("tag", cli.tag).optional();
        let target = match (apps.is_empty(), tag) {
            (false, Some(_)) => {
                return Err(usage(
                    "both `app` and `tag` are set: give application UUIDs in `app` or a Coolify tag in `tag`, not both",
                ));
            }
            (true, None) => {
                return Err(usage(
                    "missing input `app` (or `tag`): give one or more application UUIDs (Coolify → the app → its URL ends in the UUID)",
                ));
            }
            (true, Some(tag)) => Target::Tag(tag),
            (false, None) => Target::Apps(dedup(apps)),
        };
        if commits.explicit.is_some() && matches!(target, Target::Tag(_)) {
            return Err(invalid(
                "commit",
                "needs `app`: a deploy by Coolify tag builds each git-based app's branch head; list the applications' UUIDs in `app` to deploy one commit",
            ));
        }
        if image_tag.is_some() && matches!(target, Target::Tag(_)) {
            return Err(invalid(
                "image-tag",
                "needs `app`: the image tag is set on each application by UUID",
            ));
        }
        let duration = |name: &'static str, flag: Option<String>, default: Duration| {
            env.setting(name, flag)
                .duration()
                .map(|d| d.unwrap_or(default))
        };
        let timeout = duration("timeout", cli.timeout, Duration::from_secs(15 * 60))?;
        let poll_interval = duration("poll-interval", cli.poll_interval, Duration::from_secs(5))?;
        for (name, value) in [("timeout", timeout), ("poll-interval", poll_interval)] {
            if value.is_zero() {
                return Err(invalid(name, "must be longer than 0"));
            }
        }
        let plan = Plan {
            target,
            image_tag,
            // Chosen once the apps' kinds are known (kind.rs).
            commit: None,
            force,
            wait: env
                .setting("wait", shipguard::cli::negatable(cli.wait, cli.no_wait))
                .bool()?
                .unwrap_or(true),
            timeout,
            poll_interval,
            cancel_on_timeout: env
                .setting(
                    "cancel-on-timeout",
                    shipguard::cli::negatable(cli.cancel_on_timeout, cli.no_cancel_on_timeout),
                )
                .bool()?
                .unwrap_or(true),
        };
        Ok(Self {
            mode: Mode::Coolify { url, token, plan },
            commits,
            record,
            http,
            log_lines,
        })
    }
}

/// The same UUID twice would deploy twice.
fn dedup(apps: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    for app in apps {
        if !seen.contains(&app) {
            seen.push(app);
        }
    }
    seen
}
