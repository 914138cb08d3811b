//! fly-deploy: deploy an image to Fly.io machines one at a time and restore them all on
//! failure. Flags: cli.rs · validation: settings.rs · Fly: shipguard::fly (client, rollout) ·
//! evidence: report.rs

mod cli;
mod report;
mod settings;

use std::process::ExitCode;

use shipguard::exit::Code;
use shipguard::fly::{self, Client};
use shipguard::http::RetryPolicy;
use shipguard::redact::safe_url;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::report::Report;
use crate::settings::Settings;
use shipguard::deployment_record::Deploy;

fn main() -> ExitCode {
    tool::main("fly-deploy", env!("CARGO_PKG_VERSION"), run)
}

async fn run(cli: Cli, ctx: &mut Context) -> anyhow::Result<Code> {
    let settings = Settings::resolve(cli, ctx)?;
    let policy = RetryPolicy::new(&ctx.env);
    let client = Client::new(settings.http, &settings.api, settings.token, policy);
    ctx.actions.log(&format!(
        "deploying {} to {} via {}",
        settings.plan.image,
        settings.plan.apps.join(", "),
        safe_url(client.api())
    ));
    let record = Deploy::start(
        settings.record.as_ref(),
        ctx,
        "fly-deploy",
        format!("fly-deploy of {}", settings.plan.image),
        serde_json::json!({
            "tool": "fly-deploy",
            "platform": "fly",
            "image": settings.plan.image,
            "apps": settings.plan.apps,
        }),
    )
    .await;
    let actions = ctx.actions.clone();
    let log = move |line: &str| actions.log(line);
    let rollout = {
        let _group = ctx.actions.group("Deploying");
        fly::rollout::run(&client, &settings.plan, &log).await
    };
    // Not the app's failure when interrupted: the machines were put back.
    let rollout = record
        .ended(rollout, |r| (r.status, r.status.as_str()), &ctx.actions)
        .await?;
    let mut report = Report::new(ctx.version, safe_url(client.api()), rollout);
    report.0.github_deployment_id = record.id();
    shipguard::ending::end(&ctx.actions, &report)
}
