//! slack-notify: a typed Slack message for a deploy, rollback or incident.
//! Flags: cli.rs · validation: settings.rs · message and delivery: shipguard::slack ·
//! summary: summary.rs

mod cli;
mod settings;
mod summary;

use std::process::ExitCode;

use shipguard::ending;
use shipguard::exit::Code;
use shipguard::http::{self, ClientOptions, RetryPolicy};
use shipguard::slack;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::settings::Settings;
use crate::summary::Notice;

fn main() -> ExitCode {
    tool::main("slack-notify", env!("CARGO_PKG_VERSION"), run)
}

async fn run(cli: Cli, ctx: &mut Context) -> anyhow::Result<Code> {
    let settings = Settings::resolve(cli, ctx)?;
    let notice = |delivered, error| Notice {
        settings: &settings,
        delivered,
        error,
        warned: settings.warn_on_error,
    };
    if settings.dry_run {
        return ending::end(&ctx.actions, &notice(None, None));
    }
    let Some(transport) = &settings.transport else {
        // Settings leave the transport empty only for a dry run.
        return Err(shipguard::exit::usage(
            "missing input `webhook-url` or `bot-token`",
        ));
    };
    let client = http::client(&ClientOptions {
        json_api: true,
        ..ClientOptions::new(ctx.user_agent())
    })?;
    let mut policy = RetryPolicy::new(&ctx.env);
    policy.retry_any_5xx = true;
    // Absolute: no send, retry or Retry-After wait runs past it.
    policy.deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let sending = slack::send::send(
        &client,
        &policy,
        transport,
        &settings.payload,
        settings.update_ts.as_deref(),
        settings.thread_ts.as_deref(),
    );
    // A signal stops the send and its retries at once (on-error: warn or not: the run is
    // cancelled), with the outputs and the summary written and exit 1.
    let sent = match shipguard::interrupt::unless_requested(sending).await {
        Ok(sent) => sent,
        Err(received) => {
            let message = format!(
                "{}: the message was not confirmed as sent (a request already on its way may still reach Slack)",
                received.describe()
            );
            ending::record(&ctx.actions, &notice(None, Some(message.clone())))?;
            return Err(shipguard::exit::check_failed(
                shipguard::codes::Slack::SlackInterrupted.as_str(),
                message,
            ));
        }
    };
    match sent {
        Ok(delivered) => ending::end(&ctx.actions, &notice(Some(&delivered), None)),
        Err(err) if settings.warn_on_error => {
            ending::end(&ctx.actions, &notice(None, Some(format!("{err:#}"))))
        }
        Err(err) => {
            // Only the summary: the outputs stay unset and `tool::main` prints the error.
            ctx.actions.write_summary(&summary::render(
                &settings,
                None,
                Some(&format!("{err:#}")),
            ))?;
            Err(err)
        }
    }
}
