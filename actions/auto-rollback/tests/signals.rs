//! A cancelled run or a job timeout: GitHub's runner sends SIGINT (then SIGTERM) to the
//! step's process. auto-rollback stops the phase it is in, deploys nothing it had not
//! started, cancels the redeploy it is waiting on, gives its GitHub Deployment record the
//! final status `error`, writes its outputs and summary with the reason `interrupted`, and
//! exits 1. Each test waits for the phase in the sandbox, then signals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use sandbox::coolify::{Coolify, Script, TOKEN};
use sandbox::github::{self, GitHub};
use sandbox::harness::{Finished, ToolRun, action_run_script};
use sandbox::slack::Slack;

const BIN: &str = env!("CARGO_BIN_EXE_auto-rollback");
const WEB: &str = "webappuuid00000000000001";
const GOOD: &str = "2222222222222222222222222222222222222222";
const BAD: &str = "3333333333333333333333333333333333333333";

fn tag(sha: &str) -> String {
    format!("main-{}", &sha[..7])
}

struct World {
    coolify: Coolify,
    github: GitHub,
    slack: Slack,
}

/// BAD runs and is unhealthy; GOOD deployed fine before it.
fn world() -> World {
    let coolify = Coolify::start().unwrap();
    coolify
        .add_app(WEB, "web", "ghcr.io/acme/web", &tag(BAD))
        .unhealthy_tag(&tag(BAD))
        .default_script(Script::finishes_after(Duration::from_millis(50)));
    let github = GitHub::start().unwrap();
    for sha in [GOOD, BAD] {
        github.add_run("deploy.yml", sha, "main", "success");
    }
    World {
        coolify,
        github,
        slack: Slack::start().unwrap(),
    }
}

fn rollback(w: &World) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", &w.coolify.health_url(WEB))
        .input("interval", "20ms")
        .input("failure-threshold", "3")
        .input("verify-timeout", "20s")
        .input("timeout", "25s")
        .input("coolify-url", &w.coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .input("image-tag-template", "main-{short_sha}")
        .input("poll-interval", "20ms")
        .input("github-token", github::TOKEN)
        .input("slack-webhook-url", &w.slack.webhook_url())
        .env("GITHUB_API_URL", &w.github.api_url())
        .env("GITHUB_REPOSITORY", github::REPOSITORY)
        .limit(Duration::from_secs(40))
}

fn health_probes(w: &World) -> usize {
    w.coolify
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/health"))
        .count()
}

fn assert_interrupted(run: &Finished, during: &str) {
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "interrupted", "{}", run.everything());
    let message = run.report()["message"].as_str().unwrap().to_owned();
    assert!(message.contains(during), "{message}");
    assert!(
        run.stderr.contains("title=rollback-interrupted"),
        "{}",
        run.stderr
    );
    assert!(run.summary.contains("interrupted"), "{}", run.summary);
}

fn record_states(w: &World) -> Vec<Vec<String>> {
    w.github.deployments().into_iter().map(|d| d.3).collect()
}

#[test]
fn sigterm_during_the_analysis_deploys_nothing() {
    let w = world();
    let mut running = rollback(&w).input("failure-threshold", "100000").spawn();
    assert!(running.wait_for(|| health_probes(&w) >= 3));
    running.signal("TERM");
    let run = running.finish();
    assert_interrupted(&run, "during the analysis; nothing was deployed");
    assert_eq!(run.output("healthy-before"), "unknown");
    assert_eq!(run.output("rolled-back"), "false");
    assert!(w.coolify.deployment_statuses(WEB).is_empty());
    assert!(w.github.deployments().is_empty());
    // Nothing was started: no alert.
    assert!(w.slack.received().is_empty());
}

/// As the runner does it: SIGINT to the step's bash only, mid-redeploy.
#[test]
fn sigint_during_the_redeploy_cancels_it_and_closes_the_record() {
    let w = world();
    w.coolify.script(&tag(GOOD), Script::never_ends());
    let action = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let mut running = rollback(&w).as_step(&action_run_script(&action)).spawn();
    assert!(running.wait_for(|| w.coolify.deployment_statuses(WEB) == ["in_progress"]));
    running.signal("INT");
    let run = running.finish();
    assert_interrupted(&run, "during the redeploy");
    let message = run.report()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("cancelled"), "{message}");
    assert_eq!(run.output("verified"), "unknown");
    assert_eq!(
        w.coolify.deployment_statuses(WEB),
        vec!["cancelled-by-user"]
    );
    assert_eq!(
        record_states(&w),
        vec![vec!["in_progress".to_owned(), "error".to_owned()]]
    );
    let alerts: Vec<String> = w.slack.received().iter().map(|r| r.raw.clone()).collect();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(alerts[0].contains("was interrupted"), "{alerts:?}");
}

#[test]
fn sigterm_during_the_verification_marks_the_record_error() {
    let w = world();
    // GOOD deploys but is unhealthy too: the verification keeps probing.
    w.coolify.unhealthy_tag(&tag(GOOD));
    let mut running = rollback(&w).spawn();
    assert!(running.wait_for(|| {
        w.coolify.deployment_statuses(WEB) == ["finished"] && health_probes(&w) >= 6
    }));
    running.signal("TERM");
    let run = running.finish();
    assert_interrupted(&run, "during the verification");
    assert_eq!(run.output("verified"), "unknown");
    assert_eq!(
        record_states(&w),
        vec![vec!["in_progress".to_owned(), "error".to_owned()]]
    );
}
