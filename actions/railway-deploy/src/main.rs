//! railway-deploy: deploy an image or a commit to Railway services and wait for Railway's
//! verdict. Flags: cli.rs · validation: settings.rs · Railway: shipguard::railway (client,
//! deploy) · evidence: report.rs

mod cli;
mod report;
mod settings;

use std::process::ExitCode;

use shipguard::deployment_record::Deploy;
use shipguard::exit::Code;
use shipguard::http::RetryPolicy;
use shipguard::railway::Client;
use shipguard::railway::deploy::{self, Source};
use shipguard::railway::platform::outcome as outcome_of;
use shipguard::redact::safe_url;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::report::Report;
use crate::settings::Settings;

fn main() -> ExitCode {
    tool::main("railway-deploy", env!("CARGO_PKG_VERSION"), run)
}

async fn run(cli: Cli, ctx: &mut Context) -> anyhow::Result<Code> {
    let settings = Settings::resolve(cli, ctx)?;
    let kind = settings.token.kind().as_str();
    let client = Client::new(
        settings.http,
        &settings.api,
        settings.token,
        RetryPolicy::new(&ctx.env),
    );
    let what = match &settings.plan.source {
        Source::Image(image) => image.clone(),
        Source::Commit(sha) => format!("commit {sha}"),
    };
    ctx.actions.log(&format!(
        "deploying {what} to service(s) {} via {} (token-kind {kind})",
        settings.plan.services.join(", "),
        safe_url(client.url())
    ));
    let record = Deploy::start(
        settings.record.as_ref(),
        ctx,
        "railway-deploy",
        format!("railway-deploy of {what}"),
        serde_json::json!({
            "tool": "railway-deploy",
            "platform": "railway",
            "source": what,
            "services": settings.plan.services,
        }),
    )
    .await;
    let actions = ctx.actions.clone();
    let log = move |line: &str| actions.log(line);
    let outcome = {
        let _group = ctx.actions.group("Deploying");
        deploy::run(&client, &settings.plan, &log).await
    };
    let run = match record
        .ended(
            outcome,
            |run| (outcome_of(run.status), run.status.as_str()),
            &ctx.actions,
        )
        .await
    {
        Ok(run) => run,
        Err(err) => {
            // An error after a deployment was started: what was started (and whether it
            // was cancelled) is written to the report before the error line (exit 3).
            if let Some(unfinished) = err.downcast_ref::<deploy::Unfinished<deploy::Run>>() {
                let mut report = Report::new(
                    ctx.version,
                    safe_url(client.url()),
                    kind,
                    unfinished.done.clone(),
                );
                report.0.github_deployment_id = record.id();
                shipguard::ending::record(&ctx.actions, &report)?;
            }
            return Err(err);
        }
    };
    let mut report = Report::new(ctx.version, safe_url(client.url()), kind, run);
    report.0.github_deployment_id = record.id();
    shipguard::ending::end(&ctx.actions, &report)
}
