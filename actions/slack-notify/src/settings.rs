//! Flags, inputs and GITHUB_* defaults merged into a message and a transport, validated
//! before anything is sent. Errors never echo a secret.

use serde_json::Value;
use shipguard::env::{Env, Split, invalid, vars};
use shipguard::exit::usage;
use shipguard::slack::message::parse_mention;
use shipguard::slack::{Kind, Message, Status, Transport, evidence, limits};
use shipguard::tool::Context;
use url::Url;

use crate::cli::Cli;

const DEFAULT_API: &str = "https://slack.com/api/";

pub struct Settings {
    pub kind: Kind,
    pub status: Status,
    pub headline: String,
    pub payload: Value,
    /// `None` only for a dry run without credentials.
    pub transport: Option<Transport>,
    pub update_ts: Option<String>,
    pub thread_ts: Option<String>,
    pub warn_on_error: bool,
    pub dry_run: bool,
}

impl Settings {
    pub fn resolve(cli: Cli, ctx: &mut Context) -> anyhow::Result<Self> {
        let transport = transport(&cli, ctx)?;
        let env = &ctx.env;
        let kind = env
            .setting("kind", cli.kind)
            .choice(Kind::CHOICES)?
            .and_then(Kind::from_word)
            .unwrap_or(Kind::Deploy);
        let status = match env.setting("status", cli.status).choice(Status::CHOICES)? {
            Some(word) => Status::from_word(word).unwrap_or(Status::Success),
            None if kind == Kind::Custom => Status::Success,
            None => {
                return Err(usage(
                    "missing input `status`: use success, failure, cancelled or started (e.g. `status: ${{ job.status }}`)",
                ));
            }
        };
        let dry_run = env.setting("dry-run", cli.dry_run).bool()?.unwrap_or(false);
        let warn_on_error = env
            .setting("on-error", cli.on_error)
            .choice(&["fail", "warn"])?
            == Some("warn");
        let update_ts = env.setting("update-ts", cli.update_ts).optional();
        let thread_ts = env.setting("thread-ts", cli.thread_ts).optional();
        if update_ts.is_some() && !matches!(transport, Some(Transport::Bot { .. })) {
            return Err(invalid(
                "update-ts",
                "updating a message needs `bot-token` and `channel` (a webhook cannot edit)",
            ));
        }
        let mut message = Message::new(kind, status);
        message.title = env.setting("title", cli.title).optional();
        message.text = env.setting("text", cli.text).optional();
        message.environment = env.setting("environment", cli.environment).optional();
        message.version = env.setting("version", cli.app_version).optional();
        message.from_sha = env.setting("from-sha", cli.from_sha).optional();
        message.to_sha = env.setting("to-sha", cli.to_sha).optional();
        message.fields = parse_fields(&env.list("fields", cli.fields, Split::Lines))?;
        let mention = env.setting("mention", cli.mention).parse(parse_mention)?;
        let mention_on = mention_statuses(env, cli.mention_on)?;
        message.mention = mention.filter(|_| mention_on.contains(&status));
        github_defaults(
            env,
            &mut message,
            cli.repository,
            cli.sha,
            cli.actor,
            cli.ref_name,
            cli.run_url,
        )?;
        if let Some(report) = report(env, cli.report_file)? {
            message.evidence = evidence::blocks(&report, "report")?;
        }
        let raw = raw_payload(env, cli.payload, cli.payload_file)?;
        let payload = match raw {
            Some(_) if kind != Kind::Custom => {
                return Err(invalid(
                    "payload",
                    "a raw payload is only for `kind: custom`",
                ));
            }
            Some(mut raw) => {
                if let Some(blocks) = raw.get_mut("blocks").and_then(Value::as_array_mut) {
                    limits::enforce_blocks(blocks);
                }
                raw
            }
            None => message.render(),
        };
        Ok(Self {
            kind,
            status,
            headline: message.headline(),
            payload,
            transport,
            update_ts,
            thread_ts,
            warn_on_error,
            dry_run,
        })
    }
}

/// Exactly one of webhook or bot token (none only for a dry run); masked before any use.
fn transport(cli: &Cli, ctx: &mut Context) -> anyhow::Result<Option<Transport>> {
    let env = &ctx.env;
    let webhook = env.secret_from(
        "webhook-url",
        Some("SLACK_WEBHOOK_URL"),
        cli.webhook_url_file.as_deref(),
    )?;
    let token = env.secret_from(
        "bot-token",
        Some("SLACK_BOT_TOKEN"),
        cli.bot_token_file.as_deref(),
    )?;
    if let Some(webhook) = &webhook {
        ctx.actions.mask_secret_url(webhook.expose());
    }
    if let Some(token) = &token {
        ctx.actions.mask(token.expose());
    }
    let env = &ctx.env;
    let dry_run = env
        .setting("dry-run", cli.dry_run.clone())
        .bool()?
        .unwrap_or(false);
    match (webhook, token) {
        (Some(_), Some(_)) => Err(usage(
            "both `webhook-url` and `bot-token` are set: give only one (a bot token can update and thread messages)",
        )),
        (None, None) if dry_run => Ok(None),
        (None, None) => Err(shipguard::cli::missing_secret(
            env,
            "missing input `webhook-url` or `bot-token` (with `channel`): set one from a secret, e.g. `webhook-url: ${{ secrets.SLACK_WEBHOOK_URL }}`",
            "missing Slack webhook URL or bot token: set SLACK_WEBHOOK_URL=… in the environment or pass --webhook-url-file PATH, or set SLACK_BOT_TOKEN=… (or --bot-token-file PATH) with --channel; or preview with --dry-run",
        )),
        (Some(url), None) => Ok(Some(Transport::Webhook {
            url: shipguard::http::parse_secret_url("webhook-url", &url)?,
        })),
        (None, Some(token)) => {
            let channel = env
                .setting("channel", cli.channel.clone())
                .optional()
                .ok_or_else(|| {
                    usage("missing input `channel`: a bot token needs the channel ID to post to")
                })?;
            let mut api = env
                .setting("slack-api-url", cli.slack_api_url.clone())
                .optional()
                .unwrap_or_else(|| DEFAULT_API.to_owned());
            if !api.ends_with('/') {
                api.push('/');
            }
            let api = Url::parse(&api)
                .ok()
                .filter(|u| matches!(u.scheme(), "https" | "http"))
                .ok_or_else(|| {
                    invalid("slack-api-url", &format!("{api:?} is not an http(s) URL"))
                })?;
            Ok(Some(Transport::Bot {
                token,
                api,
                channel,
            }))
        }
    }
}

/// `Key=Value` per line.
fn parse_fields(lines: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| match line.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                Ok((key.trim().to_owned(), value.trim().to_owned()))
            }
            _ => Err(invalid(
                "fields",
                &format!("line {} is not `Key=Value`", i + 1),
            )),
        })
        .collect()
}

fn mention_statuses(env: &Env, flag: Option<String>) -> anyhow::Result<Vec<Status>> {
    let words = env.list(
        "mention-on",
        flag.into_iter().collect(),
        Split::LinesOrCommas,
    );
    if words.is_empty() {
        return Ok(vec![Status::Failure]);
    }
    words
        .iter()
        .map(|w| {
            Status::from_word(w).ok_or_else(|| {
                invalid(
                    "mention-on",
                    &format!("{w:?} is not one of {}", Status::CHOICES.join(", ")),
                )
            })
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn github_defaults(
    env: &Env,
    message: &mut Message,
    repository: Option<String>,
    sha: Option<String>,
    actor: Option<String>,
    ref_name: Option<String>,
    run_url: Option<String>,
) -> anyhow::Result<()> {
    message.repository = env
        .setting("repository", repository)
        .or_var(env, vars::GITHUB_REPOSITORY)
        .optional();
    message.sha = env
        .setting("sha", sha)
        .or_var(env, vars::GITHUB_SHA)
        .optional();
    message.actor = env
        .setting("actor", actor)
        .or_var(env, vars::GITHUB_ACTOR)
        .optional();
    message.ref_name = env
        .setting("ref", ref_name)
        .or_var(env, vars::GITHUB_REF_NAME)
        .optional();
    let server = env
        .var(vars::GITHUB_SERVER_URL)
        .unwrap_or("https://github.com")
        .trim_end_matches('/');
    message.run_url = env
        .setting("run-url", run_url)
        .optional()
        .or_else(|| env.run_url());
    if let (Some(repo), Some(sha)) = (&message.repository, &message.sha) {
        message.commit_url = Some(format!("{server}/{repo}/commit/{sha}"));
    }
    Ok(())
}

/// The `report` input (JSON text) or `--report-file`.
fn report(env: &Env, file: Option<String>) -> anyhow::Result<Option<Value>> {
    let text = match file {
        Some(path) => std::fs::read_to_string(&path).map_err(|err| {
            usage(format!(
                "invalid flag --report-file: cannot read `{path}`: {err}"
            ))
        })?,
        None => match env.input("report") {
            Some(text) => text.to_owned(),
            None => return Ok(None),
        },
    };
    parse_json("report", &text).map(Some)
}

/// `payload` (JSON text) or `payload-file`.
fn raw_payload(
    env: &Env,
    flag: Option<String>,
    file: Option<String>,
) -> anyhow::Result<Option<Value>> {
    let text = match env.setting("payload-file", file).optional() {
        Some(path) => std::fs::read_to_string(&path)
            .map_err(|err| invalid("payload-file", &format!("cannot read `{path}`: {err}")))?,
        None => match env.setting("payload", flag).optional() {
            Some(text) => text,
            None => return Ok(None),
        },
    };
    let value = parse_json("payload", &text)?;
    if !value.is_object()
        || !(value.get("blocks").is_some()
            || value.get("text").is_some()
            || value.get("attachments").is_some())
    {
        return Err(invalid(
            "payload",
            "must be a JSON object with `blocks`, `attachments` or `text`",
        ));
    }
    Ok(Some(value))
}

fn parse_json(name: &str, text: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).map_err(|err| {
        // serde_json's message ends with "at line L column C".
        invalid(name, &format!("not valid JSON: {err}"))
    })
}
