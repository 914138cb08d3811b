//! fly-deploy: deploy an image to Fly.io machines one at a time and restore them all on
//! failure. Flags: cli.rs · validation: settings.rs · Fly: shipguard::fly (client, rollout) ·
//! evidence: report.rs

mod cli;
mod report;
mod settings;

use std::process::ExitCode;

use shipguard::exit::Code;
use shipguard::fly::{self, Client, Outcome};
use shipguard::http::RetryPolicy;
use shipguard::redact::safe_url;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::report::Report;
use crate::settings::Settings;
use shipguard::deployment_record::Recorder;

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
    let description = format!("fly-deploy of {}", settings.plan.image);
    let recorder = match &settings.record {
        Some(record) => {
            let payload = serde_json::json!({
                "tool": "fly-deploy",
                "platform": "fly",
                "image": settings.plan.image,
                "apps": settings.plan.apps,
            });
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
    let actions = ctx.actions.clone();
    let log = move |line: &str| actions.log(line);
    let rollout = {
        let _group = ctx.actions.group("Deploying");
        fly::rollout::run(&client, &settings.plan, &log).await
    };
    let rollout = match rollout {
        Ok(rollout) => rollout,
        Err(err) => {
            if let Some(recorder) = &recorder {
                let finished =
                    recorder.finish("error", "fly-deploy could not deploy", &ctx.actions);
                shipguard::interrupt::within_cleanup(finished).await;
            }
            return Err(err);
        }
    };
    if let Some(recorder) = &recorder {
        let state = match rollout.status {
            Outcome::Finished => "success",
            // Not the app's failure: the run stopped (the machines were put back).
            Outcome::Interrupted => "error",
            _ => "failure",
        };
        let line = format!("{description}: {}", rollout.status.as_str());
        shipguard::interrupt::within_cleanup(recorder.finish(state, &line, &ctx.actions)).await;
    }
    let mut report = Report::new(ctx.version, safe_url(client.api()), rollout);
    report.github_deployment_id = recorder.as_ref().map(Recorder::id);
    shipguard::ending::end(&ctx.actions, &report)
}
