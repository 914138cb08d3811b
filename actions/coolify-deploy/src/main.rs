//! coolify-deploy: deploy Coolify apps (optionally to a new image tag) and wait for every
//! deployment. Flags: cli.rs · validation: settings.rs · Coolify: shipguard::coolify ·
//! evidence: report.rs · GitHub Deployment: record.rs · other platforms: webhook.rs

mod cli;
mod kind;
mod report;
mod settings;
mod webhook;

use std::process::ExitCode;

use shipguard::coolify::{self, Client, Outcome, Tracked};
use shipguard::exit::Code;
use shipguard::gha::Untrusted;
use shipguard::gha::{Annotation, Format, Level, Summary};
use shipguard::http::RetryPolicy;
use shipguard::redact::safe_url;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::report::Report;
use crate::settings::{Mode, Settings};
use shipguard::deployment_record::Recorder;

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
            let line = format!("deploy webhook accepted the deploy (HTTP {})", hit.status);
            ctx.actions.set_outputs(&[
                ("deployment-uuids", String::new()),
                ("status", "queued".to_owned()),
                ("previous-image-tags", "{}".to_owned()),
                ("duration-seconds", format!("{:.0}", hit.seconds.ceil())),
                (
                    "report",
                    serde_json::json!({"tool": "coolify-deploy", "kind": "deploy", "status": "queued", "target": "webhook", "image": image, "image_tag": tag}).to_string(),
                ),
            ])?;
            let mut summary = Summary::new();
            summary.heading(3, &format!("✅ coolify-deploy: {line}"));
            ctx.actions.write_summary(&summary)?;
            ctx.actions.print(&line)?;
            Ok(Code::Success)
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
            let recorder = match &record {
                Some(record) => {
                    let payload = serde_json::json!({
                        "tool": "coolify-deploy",
                        "image_tag": plan.image_tag,
                        "commit": plan.commit,
                        "target": plan.target,
                    });
                    Recorder::start(
                        record,
                        &ctx.user_agent(),
                        shipguard::http::RetryPolicy::new(&ctx.env),
                        payload,
                        &description,
                        &ctx.actions,
                    )
                    .await
                }
                None => None,
            };
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
            let (rollout, pins) = match deployed {
                Ok(deployed) => (deployed.rollout, deployed.pins),
                Err(err) => {
                    if let Some(recorder) = &recorder {
                        let finished = recorder.finish(
                            "error",
                            "coolify-deploy could not deploy",
                            &ctx.actions,
                        );
                        shipguard::interrupt::within_cleanup(finished).await;
                    }
                    return Err(err);
                }
            };
            if let Some(recorder) = &recorder {
                let state = match rollout.status {
                    Outcome::Finished => Some("success"),
                    Outcome::Queued => None,
                    // Not the app's failure: the run stopped (the deployment was cancelled).
                    Outcome::Interrupted => Some("error"),
                    _ => Some("failure"),
                };
                if let Some(state) = state {
                    let line = format!("{description}: {}", rollout.status.as_str());
                    let finished = recorder.finish(state, &line, &ctx.actions);
                    shipguard::interrupt::within_cleanup(finished).await;
                }
            }
            let mut report = Report::new(
                ctx.version,
                safe_url(client.base()),
                Some(server.label()),
                plan.image_tag.as_ref().map(ToString::to_string),
                rollout,
                settings.log_lines,
            );
            report.github_deployment_id = recorder.as_ref().map(Recorder::id);
            report.set_commit(plan.commit.as_ref(), pins);
            let code = finish(ctx, &report)?;
            let left: Vec<String> = report
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

/// Logs, outputs, summary and the exit code of a Coolify run.
fn finish(ctx: &Context, report: &Report) -> anyhow::Result<Code> {
    for annotation in &report.annotations {
        ctx.actions.annotate(annotation.clone());
    }
    for t in &report.deployments {
        if !matches!(
            t.outcome,
            Outcome::Failed | Outcome::Timeout | Outcome::Cancelled | Outcome::Interrupted
        ) {
            continue;
        }
        let name = t.name();
        match report.log_tails.get(&t.app) {
            Some(lines) => {
                let _group = ctx
                    .actions
                    .group(&format!("Last {} log lines of {name}", lines.len()));
                // Build logs are untrusted: printed between stop-commands markers.
                ctx.actions.untrusted(&Untrusted::joined(lines, "\n"));
            }
            None => ctx.actions.log(&format!(
                "{name}: no deployment log (the token needs read:sensitive to read logs)"
            )),
        }
    }
    let json = shipguard::bounded::to_json(report, shipguard::bounded::REPORT_BUDGET)?;
    ctx.actions.set_outputs(&report.outputs(&json)?)?;
    ctx.actions.write_summary(&report.summary())?;
    let ok = matches!(report.status, Outcome::Finished | Outcome::Queued);
    if !ok {
        ctx.actions.annotate(Annotation::new(
            Level::Error,
            report.failure_code(),
            report.verdict_line(),
        ));
    }
    match ctx.actions.format() {
        Format::Json => ctx.actions.print_json(&json)?,
        Format::Human | Format::Github => ctx.actions.print(&report.verdict_line())?,
    }
    Ok(if ok { Code::Success } else { Code::Negative })
}
