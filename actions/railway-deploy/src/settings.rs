//! Flags, inputs and defaults merged and validated before any request is sent: a bad id,
//! image, commit, duration or URL is exit 2 with a line naming the input; the token is
//! masked first.

use std::time::Duration;

use shipguard::commit::CommitSha;
use shipguard::env::{Split, invalid};
use shipguard::exit::usage;
use shipguard::http::{self, ClientOptions};
use shipguard::railway::client::railway_id;
use shipguard::railway::deploy::{Plan, Source};
use shipguard::railway::{DEFAULT_API, Token};
use shipguard::tool::Context;
use url::Url;

use crate::cli::Cli;
use shipguard::deployment_record::Record;

pub struct Settings {
    pub api: Url,
    pub token: Token,
    pub plan: Plan,
    pub http: reqwest::Client,
    pub record: Option<Record>,
}

fn image(raw: &str) -> Result<String, String> {
    if raw.len() > 512 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must be one image reference without spaces, e.g. ghcr.io/acme/web:v42".into());
    }
    Ok(raw.to_owned())
}

impl Settings {
    pub fn resolve(cli: Cli, ctx: &mut Context) -> anyhow::Result<Self> {
        let token = shipguard::railway::inputs::token(
            ctx,
            cli.token_kind,
            cli.railway_token_file.as_deref(),
            "create a project token (project settings → Tokens) or an account token and store it as a secret",
        )?;
        let env = &ctx.env;
        let project = env
            .setting("railway-project", cli.railway_project)
            .parse(railway_id)?
            .ok_or_else(|| usage("missing input `railway-project`: give the Railway project id"))?;
        let environment = env
            .setting("railway-environment", cli.railway_environment)
            .parse(railway_id)?
            .ok_or_else(|| {
                usage("missing input `railway-environment`: give the Railway environment id (`environment` is the GitHub environment of the Deployment record)")
            })?;
        let raw_services = env.list("service", cli.services, Split::LinesOrCommas);
        if raw_services.is_empty() {
            return Err(usage(
                "missing input `service`: give the Railway service id(s), one per line or comma-separated",
            ));
        }
        shipguard::railway::deploy::check_service_count(raw_services.len())?;
        let mut services: Vec<String> = Vec::new();
        for raw in raw_services {
            let id = railway_id(&raw).map_err(|why| invalid("service", &why))?;
            if !services.contains(&id) {
                services.push(id);
            }
        }
        let image = env.setting("image", cli.image).parse(image)?;
        let commit = env.setting("commit", cli.commit).parse(CommitSha::parse)?;
        let (source, commit_sha) = match (image, commit) {
            (Some(image), None) => (Source::Image(image), None),
            (None, Some(sha)) => (Source::Commit(sha.as_str().to_owned()), Some(sha)),
            (Some(_), Some(_)) => {
                return Err(usage(
                    "inputs `image` and `commit` both given: give exactly one (image: set the service's source image and deploy it; commit: deploy that commit of the connected repository)",
                ));
            }
            (None, None) => {
                return Err(usage(
                    "missing input `image` or `commit`: give exactly one (e.g. `image: ghcr.io/acme/web:${{ github.sha }}` or `commit: ${{ github.sha }}`)",
                ));
            }
        };
        let duration = |name: &'static str, flag: Option<String>, default: Duration| {
            env.setting(name, flag)
                .duration()
                .map(|d| d.unwrap_or(default))
        };
        let timeout = duration("timeout", cli.timeout, Duration::from_secs(900))?;
        if timeout.is_zero() {
            return Err(invalid("timeout", "must be longer than 0"));
        }
        let floor = shipguard::railway::poll_floor(env);
        let poll_interval = duration(
            "poll-interval",
            cli.poll_interval,
            shipguard::railway::MIN_POLL,
        )?;
        if poll_interval < floor {
            return Err(invalid(
                "poll-interval",
                &format!(
                    "must be at least {} (Railway's Free plan allows 100 requests an hour)",
                    shipguard::duration::human(floor)
                ),
            ));
        }
        let cancel_on_timeout = env
            .setting("cancel-on-timeout", cli.cancel_on_timeout)
            .bool()?
            .unwrap_or(true);
        let raw_api = env
            .setting("api-url", cli.api_url)
            .optional()
            .unwrap_or_else(|| DEFAULT_API.to_owned());
        let api = http::parse_url("api-url", &raw_api)?;
        let record = Record::resolve(commit_sha.as_ref(), cli.record, ctx)?;
        let mut options = ClientOptions::new(ctx.user_agent());
        options.json_api = true;
        let http = http::client(&options)?;
        Ok(Self {
            api,
            token,
            plan: Plan {
                project,
                environment,
                services,
                source,
                timeout,
                poll_interval,
                cancel_on_timeout,
            },
            http,
            record,
        })
    }
}
