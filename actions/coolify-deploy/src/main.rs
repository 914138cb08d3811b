//! coolify-deploy: deploy Coolify apps (optionally to a new image tag) and wait for every
//! deployment. Flags: cli.rs · validation: settings.rs · Coolify: shipguard::coolify ·
//! evidence: report.rs · GitHub Deployment: record.rs · other platforms: webhook.rs

mod cli;
mod kind;
mod report;
mod settings;
mod webhook;

use std::process::ExitCode;

use shipguard::coolify::{self, Client, Tracked};
use shipguard::exit::Code;
use shipguard::http::RetryPolicy;
use shipguard::redact::safe_url;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::report::Report;
use crate::settings::{Mode, Settings};
use shipguard::deployment_record::Deploy;

fn main() -> ExitCode {
    tool::main("coolify-deploy", env!("CARGO_PKG_VERSION"), run)
}

async fn run(cli: Cli, ctx: &mut Context) -> anyhow::Result<Code> {
    let settings = Settings::resolve(cli, ctx)?;
    let mut policy = RetryPolicy::new(&ctx.env);
    if let Mode::Coolify { plan, .. } = &settings.mode {
        // One absolute deadline for every call, from the version read to the last poll; a
        // full deploy queue's `Retry-After: 60` is waited out within it. Only the cancel at
        // the timeout gets a short grace period of its own (platform::grace::CANCEL_GRACE).
        policy.deadline = std::time::Instant::now() + plan.timeout;
    }
    match settings.mode {
        Mode::Webhook {
            url,
            image,
            tag,
            force,
        } => {
            let hit = webhook::trigger(
                &settings.http,
                &policy,
                &url,
                image.as_deref(),
                tag.as_deref(),
                force,
            )
            .await?;
            let queued = report::Queued {
                report: shipguard::report::coolify_deploy::Queued::new(ctx.version, image, tag),
                http_status: hit.status,
                seconds: hit.seconds,
            };
            shipguard::ending::end(&ctx.actions, &queued)
        }
        Mode::Coolify {
            url,
            token,
            mut plan,
        } => {
            let mut client = Client::new(settings.http, &url, token, policy);
            let server = client.version().await?;
            ctx.actions
                .log(&format!("Coolify {server} at {}", safe_url(client.base())));
            // An unreadable version warns and the run goes on as on the newest Coolify.
            if let Some(warning) = server.warning() {
                ctx.actions.annotate(warning);
            }
            let mut notes = Vec::new();
            let chosen = kind::choose(&client, &mut plan, &settings.commits, &mut notes).await?;
            for note in &notes {
                ctx.actions.log(note);
            }
            let mut record = settings.record;
            if let (Some(record), Some(commit)) = (&mut record, &plan.commit) {
                // The record names the commit Coolify is asked to build, not the workflow's.
                record.sha = commit.clone();
            }
            let actions = ctx.actions.clone();
            let observe = move |t: &Tracked| {
                let name = t.name();
                let uuid = t
                    .deployment_uuid
                    .as_ref()
                    .map_or("-".to_owned(), ToString::to_string);
                let note = t
                    .note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                actions.log(&format!("{name}: deployment {uuid} {}{note}", t.status));
            };
            let description = match (&plan.image_tag, &plan.commit) {
                (Some(tag), _) => format!("coolify-deploy of image tag {tag}"),
                (None, Some(commit)) => format!("coolify-deploy of commit {}", commit.short()),
                (None, None) => "coolify-deploy".to_owned(),
            };
            let recorder = Deploy::start(
                record.as_ref(),
                ctx,
                "coolify-deploy",
                description,
                serde_json::json!({
                    "tool": "coolify-deploy",
                    "image_tag": plan.image_tag,
                    "commit": plan.commit,
                    "target": plan.target,
                }),
            )
            .await;
            let deployed = {
                let _group = ctx.actions.group("Deploying");
                match chosen {
                    kind::Chosen::Commit => coolify::git::run(&client, &plan, &observe).await,
                    kind::Chosen::AsGiven => coolify::rollout::run(&client, &plan, &observe)
                        .await
                        .map(|rollout| coolify::git::Deployed {
                            rollout,
                            pins: Vec::new(),
                        }),
                }
            };
            // Interrupted is not the app's failure: the deployment was cancelled.
            let coolify::git::Deployed { rollout, pins } = recorder
                .ended(
                    deployed,
                    |d| (d.rollout.status, d.rollout.status.as_str()),
                    &ctx.actions,
                )
                .await?;
            let mut report = Report::new(
                ctx.version,
                safe_url(client.base()),
                Some(server.label()),
                plan.image_tag.as_ref().map(ToString::to_string),
                rollout,
                settings.log_lines,
            );
            report.report.github_deployment_id = recorder.id();
            report.set_commit(plan.commit.as_ref(), pins);
            report.print_log_tails(&ctx.actions);
            let code = shipguard::ending::end(&ctx.actions, &report)?;
            let left: Vec<String> = report
                .report
                .commit_pins
                .iter()
                .filter(|p| !p.restored)
                .filter_map(|p| {
                    plan.commit
                        .as_ref()
                        .map(|c| coolify::git::pin_left_line(p, c))
                })
                .collect();
            if !left.is_empty() {
                // Operational (exit 3): the deploy may have worked, but the app is left pinned.
                anyhow::bail!("{}", left.join("; "));
            }
            Ok(code)
        }
    }
}
