//! auto-rollback as users run it, against the sandbox: a Coolify whose demo app's health
//! follows the image tag it runs, the GitHub REST subset, and a Slack webhook.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::coolify::{Coolify, Script, TOKEN};
use sandbox::github::{self, GitHub};
use sandbox::harness::ToolRun;
use sandbox::slack::Slack;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_auto-rollback");
const WEB: &str = "webappuuid00000000000001";
const OLD: &str = "1111111111111111111111111111111111111111";
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

/// BAD runs and is unhealthy; OLD then GOOD deployed fine before it.
fn world() -> World {
    let coolify = Coolify::start().unwrap();
    coolify
        .add_app(WEB, "web", "ghcr.io/acme/web", &tag(BAD))
        .unhealthy_tag(&tag(BAD))
        .default_script(Script::finishes_after(Duration::from_millis(100)));
    let github = GitHub::start().unwrap();
    for sha in [OLD, GOOD, BAD] {
        github.add_run("deploy.yml", sha, "main", "success");
    }
    github.add_run(
        "deploy.yml",
        "4444444444444444444444444444444444444444",
        "main",
        "failure",
    );
    let slack = Slack::start().unwrap();
    World {
        coolify,
        github,
        slack,
    }
}

fn rollback(w: &World) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", &w.coolify.health_url(WEB))
        .input("interval", "50ms")
        .input("request-timeout", "2s")
        .input("failure-threshold", "3")
        .input("verify-timeout", "10s")
        .input("coolify-url", &w.coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .input("image-tag-template", "main-{short_sha}")
        .input("poll-interval", "50ms")
        .input("github-token", github::TOKEN)
        .input("slack-webhook-url", &w.slack.webhook_url())
        .env("GITHUB_API_URL", &w.github.api_url())
        .env("GITHUB_REPOSITORY", github::REPOSITORY)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "77")
}

fn deploys(w: &World) -> usize {
    w.coolify
        .requests()
        .iter()
        .filter(|r| r.path == "/deploy")
        .count()
}

fn slack_texts(w: &World) -> String {
    w.slack
        .received()
        .iter()
        .map(|r| r.raw.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

fn rollback_records(w: &World) -> Vec<(String, Value, Vec<String>)> {
    w.github
        .deployments()
        .into_iter()
        .filter(|d| d.2["kind"] == "rollback")
        .map(|(sha, _, payload, states)| (sha, payload, states))
        .collect()
}

#[test]
fn unhealthy_rolls_back_to_the_newest_good_version_and_verifies() {
    let w = world();
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("healthy-before"), "false");
    assert_eq!(run.output("rolled-back"), "true");
    assert_eq!(run.output("from"), &BAD[..7]);
    assert_eq!(run.output("to"), GOOD);
    assert_eq!(run.output("verified"), "true");
    assert_eq!(run.output("reason"), "rolled-back");
    assert_eq!(w.coolify.running_tag(WEB), Some(tag(GOOD)));
    let records = rollback_records(&w);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, GOOD);
    assert_eq!(records[0].1["from_sha"], &BAD[..7]);
    assert_eq!(records[0].2, vec!["in_progress", "success"]);
    assert!(
        slack_texts(&w).contains("verified healthy"),
        "{}",
        slack_texts(&w)
    );
    assert!(
        run.summary.contains("A rollback does not revert"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("```mermaid\ngantt"), "{}", run.summary);
    assert!(run.summary.contains("Failing checks"), "{}", run.summary);
}

#[test]
fn healthy_changes_nothing() {
    let w = world();
    w.coolify
        .add_app(WEB, "web", "ghcr.io/acme/web", &tag(GOOD));
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("reason"), "healthy");
    assert_eq!(run.output("rolled-back"), "false");
    assert_eq!(deploys(&w), 0);
    assert!(w.slack.received().is_empty());
}

#[test]
fn dry_run_decides_and_changes_nothing() {
    let w = world();
    let run = rollback(&w).input("dry-run", "true").run();
    run.assert_exit(0);
    assert_eq!(run.output("reason"), "dry-run");
    assert_eq!(run.output("to"), GOOD);
    assert!(run.stdout.contains("would roll back"), "{}", run.stdout);
    assert_eq!(deploys(&w), 0);
    assert!(w.coolify.requests().iter().all(|r| r.method == "GET"));
    assert!(rollback_records(&w).is_empty());
    assert!(w.slack.received().is_empty());
}

#[test]
fn no_candidate_fails_closed_and_alerts() {
    let w = world();
    let github = GitHub::start().unwrap();
    github.add_run("deploy.yml", BAD, "main", "success");
    let run = rollback(&w).env("GITHUB_API_URL", &github.api_url()).run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "no-target");
    assert_eq!(run.output("rolled-back"), "false");
    assert_eq!(deploys(&w), 0);
    assert!(
        run.stderr.contains("title=rollback-no-target"),
        "{}",
        run.stderr
    );
    assert!(
        slack_texts(&w).contains("could not be rolled back"),
        "{}",
        slack_texts(&w)
    );
}

#[test]
fn manual_to_rolls_back_to_that_commit() {
    let w = world();
    let run = rollback(&w).input("to", OLD).run();
    run.assert_exit(0);
    assert_eq!(run.output("healthy-before"), "unknown");
    assert_eq!(run.output("to"), OLD);
    assert_eq!(w.coolify.running_tag(WEB), Some(tag(OLD)));
}

#[test]
fn history_longer_than_one_page_is_followed() {
    let w = world();
    let github = GitHub::start().unwrap();
    github.add_run("deploy.yml", GOOD, "main", "success");
    for _ in 0..130 {
        github.add_run("deploy.yml", BAD, "main", "success"); // re-runs of the bad commit
    }
    let run = rollback(&w).env("GITHUB_API_URL", &github.api_url()).run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), GOOD);
    let pages = github
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/runs"))
        .count();
    assert_eq!(pages, 2, "the second page was read");
}

#[test]
fn cooldown_blocks_a_second_rollback() {
    let w = world();
    w.github.add_deployment(
        GOOD,
        "production",
        json!({"kind": "rollback", "from_sha": OLD, "to_sha": GOOD}),
        "success",
        Duration::from_secs(5 * 60),
    );
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "cooldown");
    assert_eq!(deploys(&w), 0);
    // Outside a shorter cooldown it goes ahead.
    let run = rollback(&w).input("cooldown", "1m").run();
    run.assert_exit(0);
}

#[test]
fn a_deployment_in_progress_blocks_the_rollback() {
    let w = world();
    w.coolify.default_script(Script::never_ends());
    w.coolify.start_deployment(WEB).unwrap();
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "deployment-in-progress");
    assert_eq!(deploys(&w), 0);
}

#[test]
fn a_rolled_back_version_that_is_also_unhealthy_exits_1_and_says_so() {
    let w = world();
    w.coolify.unhealthy_tag(&tag(GOOD));
    let run = rollback(&w).input("verify-timeout", "500ms").run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "verification-failed");
    assert_eq!(run.output("rolled-back"), "true");
    assert_eq!(run.output("verified"), "false");
    assert_eq!(rollback_records(&w)[0].2, vec!["in_progress", "failure"]);
    assert!(
        slack_texts(&w).contains("still unhealthy after the rollback"),
        "{}",
        slack_texts(&w)
    );
}

#[test]
fn a_second_scheduled_run_never_flips_back() {
    let w = world();
    rollback(&w).run().assert_exit(0);
    // GOOD now runs; suppose it degrades later. The next run goes further back, never to BAD.
    w.coolify.unhealthy_tag(&tag(GOOD));
    let run = rollback(&w).input("cooldown", "0s").run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), OLD);
    assert_eq!(w.coolify.running_tag(WEB), Some(tag(OLD)));
    // And once OLD is bad too, nothing qualifies: BAD was left by a rollback, GOOD as well.
    w.coolify.unhealthy_tag(&tag(OLD));
    let run = rollback(&w).input("cooldown", "0s").run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "no-target");
}

#[test]
fn fail_on_rollback_makes_a_performed_rollback_exit_1() {
    let w = world();
    let run = rollback(&w).input("fail-on-rollback", "true").run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "rolled-back");
}

#[test]
fn deployments_source_counts_inactive_as_a_former_success() {
    let w = world();
    let github = GitHub::start().unwrap();
    github.add_deployment(
        OLD,
        "production",
        json!({}),
        "success",
        Duration::from_secs(7200),
    );
    github.add_deployment(
        GOOD,
        "production",
        json!({}),
        "success",
        Duration::from_secs(3600),
    );
    github.add_deployment(
        BAD,
        "production",
        json!({}),
        "success",
        Duration::from_secs(600),
    );
    // GOOD is now `inactive` (retired by BAD's success), and still a good version.
    let run = rollback(&w)
        .env("GITHUB_API_URL", &github.api_url())
        .input("source", "deployments")
        .run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), GOOD);
}

#[test]
fn secrets_are_never_printed() {
    let w = world();
    const SENTINEL: &str = "9|SENTINEL-rollback-token";
    w.coolify.add_token(SENTINEL, &["root"], false);
    let run = rollback(&w).input("coolify-token", SENTINEL).run();
    run.assert_exit(0);
    let everything = run.everything();
    let leaks: Vec<&str> = everything
        .lines()
        .filter(|l| l.contains("SENTINEL") && !l.starts_with("::add-mask::"))
        .collect();
    assert!(leaks.is_empty(), "{leaks:?}");
}

#[test]
fn bad_inputs_exit_2_with_one_line() {
    let w = world();
    let cases = [
        (rollback(&w).input("url", ""), "missing input `url`"),
        (rollback(&w).input("app", ""), "missing input `app`"),
        (rollback(&w).input("coolify-url", "nope"), "coolify-url"),
        (
            rollback(&w).input("image-tag-template", "latest"),
            "image-tag-template",
        ),
        (
            rollback(&w).input("failure-threshold", "0"),
            "failure-threshold",
        ),
        (rollback(&w).input("source", "tags"), "source"),
        (rollback(&w).input("cooldown", "soon"), "cooldown"),
        (rollback(&w).input("github-token", ""), "github-token"),
        (rollback(&w).input("dry-run", "maybe"), "dry-run"),
    ];
    for (run, needle) in cases {
        let run = run.run();
        run.assert_exit(2);
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
        run.assert_one_error_line();
    }
    assert!(w.coolify.requests().is_empty());
}
