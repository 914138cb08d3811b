//! slack-notify: a typed Slack message for a deploy, rollback or incident.
//! Flags: cli.rs · validation: settings.rs · message and delivery: shipguard::slack ·
//! summary: summary.rs

mod cli;
mod settings;
mod summary;

use std::process::ExitCode;

use shipguard::exit::Code;
use shipguard::gha::{Annotation, Format, Level};
use shipguard::http::{self, ClientOptions, RetryPolicy};
use shipguard::slack::{self, Delivered};
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::settings::Settings;

fn main() -> ExitCode {
    tool::main("slack-notify", env!("CARGO_PKG_VERSION"), run)
}

async fn run(cli: Cli, ctx: &mut Context) -> anyhow::Result<Code> {
    let settings = Settings::resolve(cli, ctx)?;
    let payload = serde_json::to_string(&settings.payload)?;
    if settings.dry_run {
        set_outputs(ctx, &Delivered::default(), payload)?;
        ctx.actions
            .write_summary(&summary::render(&settings, None, None))?;
        ctx.actions
            .print_json(&serde_json::to_string_pretty(&settings.payload)?)?;
        return Ok(Code::Success);
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
            set_outputs(ctx, &Delivered::default(), payload)?;
            ctx.actions
                .write_summary(&summary::render(&settings, None, Some(&message)))?;
            return Err(shipguard::exit::check_failed("slack-interrupted", message));
        }
    };
    match sent {
        Ok(delivered) => {
            let Delivered { ts, channel } = &delivered;
            set_outputs(ctx, &delivered, payload)?;
            ctx.actions
                .write_summary(&summary::render(&settings, Some(&delivered), None))?;
            let line = format!("sent: {}", settings.headline);
            match ctx.actions.format() {
                Format::Json => ctx.actions.print_json(
                    &serde_json::json!({"sent": true, "ts": ts, "channel": channel}).to_string(),
                )?,
                _ => ctx.actions.print(&line)?,
            }
            Ok(Code::Success)
        }
        Err(err) if settings.warn_on_error => {
            let message = format!("{err:#}");
            ctx.actions.annotate(Annotation::new(
                Level::Warning,
                "slack-failed",
                message.clone(),
            ));
            set_outputs(ctx, &Delivered::default(), payload)?;
            ctx.actions
                .write_summary(&summary::render(&settings, None, Some(&message)))?;
            Ok(Code::Success)
        }
        Err(err) => {
            ctx.actions.write_summary(&summary::render(
                &settings,
                None,
                Some(&format!("{err:#}")),
            ))?;
            Err(err)
        }
    }
}

/// The three outputs, the same whether the message was sent, previewed or not sent.
fn set_outputs(ctx: &Context, delivered: &Delivered, payload: String) -> anyhow::Result<()> {
    ctx.actions.set_outputs(&[
        ("ts", delivered.ts.clone().unwrap_or_default()),
        ("channel", delivered.channel.clone().unwrap_or_default()),
        ("payload", payload),
    ])
}
