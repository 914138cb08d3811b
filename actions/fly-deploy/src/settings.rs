//! Flags, inputs and defaults merged and validated before any request is sent: a bad app
//! name, image, duration or URL is exit 2 with a line naming the input; the token is masked
//! first.

use std::time::Duration;

use shipguard::env::{Split, invalid};
use shipguard::exit::usage;
use shipguard::fly::{Plan, Token};
use shipguard::http::{self, ClientOptions};
use shipguard::tool::Context;
use url::Url;

use crate::cli::Cli;
use shipguard::deployment_record::Record;

pub const DEFAULT_API: &str = "https://api.machines.dev";

pub struct Settings {
    pub api: Url,
    pub token: Token,
    pub plan: Plan,
    pub http: reqwest::Client,
    pub record: Option<Record>,
}

/// Fly app names: lowercase letters, digits and dashes (what `fly apps create` accepts).
fn app_name(raw: &str) -> Result<String, String> {
    let ok = !raw.is_empty()
        && raw.len() <= 63
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(format!(
            "{:?} is not a Fly app name (lowercase letters, digits and dashes, at most 63)",
            shipguard::gha::Untrusted::new(raw.to_owned()).to_string()
        ))
    }
}

fn image(raw: &str) -> Result<String, String> {
    if raw.len() > 512 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "must be one image reference without spaces, e.g. registry.fly.io/web:v42".into(),
        );
    }
    Ok(raw.to_owned())
}

impl Settings {
    pub fn resolve(cli: Cli, ctx: &mut Context) -> anyhow::Result<Self> {
        let secret = ctx.env.secret_from(
            "fly-token",
            Some("FLY_API_TOKEN"),
            cli.fly_token_file.as_deref(),
        )?;
        let Some(secret) = secret else {
            return Err(shipguard::cli::missing_secret(
                &ctx.env,
                "missing input `fly-token`: create one with `fly tokens create deploy -a <app>`, store it as a secret, and pass `fly-token: ${{ secrets.FLY_API_TOKEN }}`",
                &format!(
                    "missing Fly token (`fly tokens create deploy -a <app>`): {}",
                    shipguard::cli::secret_hint("FLY_API_TOKEN", "fly-token")
                ),
            ));
        };
        ctx.actions.mask(secret.expose());
        let token = Token::parse(&secret).map_err(|why| invalid("fly-token", &why))?;
        ctx.actions.mask(token.header().expose());
        let record = Record::resolve(None, cli.record, ctx)?;
        let env = &ctx.env;
        let apps = env.list("app", cli.apps, Split::LinesOrCommas);
        if apps.is_empty() {
            return Err(usage(
                "missing input `app`: give the Fly app name(s), one per line or comma-separated",
            ));
        }
        let mut names: Vec<String> = Vec::new();
        for raw in apps {
            let name = app_name(&raw).map_err(|why| invalid("app", &why))?;
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let Some(image) = env.setting("image", cli.image).parse(image)? else {
            return Err(usage(
                "missing input `image`: give the full image reference to deploy, e.g. `image: registry.fly.io/web:${{ github.sha }}`",
            ));
        };
        let process_group = env
            .setting("process-group", cli.process_group)
            .optional()
            .unwrap_or_else(|| "app".to_owned());
        let duration = |name: &'static str, flag: Option<String>, default: Duration| {
            env.setting(name, flag)
                .duration()
                .map(|d| d.unwrap_or(default))
        };
        let wait_timeout = duration("wait-timeout", cli.wait_timeout, Duration::from_secs(300))?;
        let timeout = duration("timeout", cli.timeout, Duration::from_secs(900))?;
        let poll_interval = duration("poll-interval", cli.poll_interval, Duration::from_secs(2))?;
        for (name, value) in [
            ("wait-timeout", wait_timeout),
            ("timeout", timeout),
            ("poll-interval", poll_interval),
        ] {
            if value.is_zero() {
                return Err(invalid(name, "must be longer than 0"));
            }
        }
        let max_unavailable = env
            .setting("max-unavailable", cli.max_unavailable)
            .count(1)?
            .unwrap_or(1) as usize;
        let restore_on_failure = env
            .setting(
                "restore-on-failure",
                shipguard::cli::negatable(cli.restore_on_failure, cli.no_restore_on_failure),
            )
            .bool()?
            .unwrap_or(true);
        let raw_api = env
            .setting("api-url", cli.api_url)
            .optional()
            .unwrap_or_else(|| DEFAULT_API.to_owned());
        let api = http::parse_url("api-url", &raw_api)?;
        let mut options = ClientOptions::new(ctx.user_agent());
        options.json_api = true;
        let http = http::client(&options)?;
        Ok(Self {
            api,
            token,
            plan: Plan {
                apps: names,
                image,
                process_group,
                wait_timeout,
                timeout,
                restore_on_failure,
                poll_interval,
                restore_until: None,
                max_unavailable,
                lease_ttl: Duration::from_secs(30),
            },
            http,
            record,
        })
    }
}
