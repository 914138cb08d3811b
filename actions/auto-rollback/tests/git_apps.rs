//! auto-rollback on a git-based app (nixpacks), as users run it against the sandbox: what
//! runs now is the commit of the newest finished non-PR deployment, and the target commit is
//! deployed by /rollback (4.3.0+) or by the git_commit_sha pin (4.2.x, put back after).
//! Each test names the Coolify source it mirrors (379abb25 is main at 4.3.11).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::coolify::{Coolify, Script, TOKEN};
use sandbox::github::{self, GitHub};
use sandbox::harness::ToolRun;
use sandbox::slack::Slack;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_auto-rollback");
const SHOP: &str = "shopappuuid0000000000001";
const OLD: &str = "1111111111111111111111111111111111111111";
const GOOD: &str = "2222222222222222222222222222222222222222";
const BAD: &str = "3333333333333333333333333333333333333333";
const PREVIEW: &str = "5555555555555555555555555555555555555555";

struct World {
    coolify: Coolify,
    github: GitHub,
    slack: Slack,
}

/// OLD, GOOD, then BAD were deployed (a PR preview of PREVIEW after them); BAD runs and is
/// unhealthy.
fn world(version: &str) -> World {
    let coolify = Coolify::start().unwrap();
    coolify
        .set_version(version)
        .add_git_app(SHOP, "shop", "nixpacks", &[OLD, GOOD, BAD])
        .deployed(SHOP, OLD, 0)
        .deployed(SHOP, GOOD, 0)
        .deployed(SHOP, BAD, 0)
        .deployed(SHOP, PREVIEW, 7)
        .unhealthy_tag(BAD)
        .default_script(Script::finishes_after(Duration::from_millis(100)));
    let github = GitHub::start().unwrap();
    for sha in [OLD, GOOD, BAD] {
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
        .input("url", &w.coolify.health_url(SHOP))
        .input("interval", "50ms")
        .input("request-timeout", "2s")
        .input("failure-threshold", "3")
        .input("verify-timeout", "10s")
        .input("coolify-url", &w.coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", SHOP)
        .input("poll-interval", "50ms")
        .input("github-token", github::TOKEN)
        .input("slack-webhook-url", &w.slack.webhook_url())
        .env("GITHUB_API_URL", &w.github.api_url())
        .env("GITHUB_REPOSITORY", github::REPOSITORY)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "77")
}

fn writes(w: &World) -> Vec<(String, String, Option<serde_json::Value>)> {
    w.coolify
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.method, r.path, r.body))
        .collect()
}

/// The rollback record on GitHub: (sha, states).
fn record(w: &World) -> (String, serde_json::Value, Vec<String>) {
    let records: Vec<_> = w
        .github
        .deployments()
        .into_iter()
        .filter(|d| d.2["kind"] == "rollback")
        .map(|(sha, _, payload, states)| (sha, payload, states))
        .collect();
    assert_eq!(records.len(), 1, "{records:?}");
    records.into_iter().next().unwrap()
}

// Application.php deployments() L1118 (379abb25): newest first, with `commit` and
// `pull_request_id`; the PR preview is passed over. rollback_by_uuid L5575–5666 deploys GOOD.
#[test]
fn on_4_3_11_a_git_app_is_rolled_back_to_the_previous_commit() {
    let w = world("4.3.11");
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("from"), BAD, "{}", run.everything());
    assert_eq!(run.output("to"), GOOD);
    assert_eq!(run.output("verified"), "true");
    assert_eq!(
        writes(&w),
        vec![(
            "POST".to_owned(),
            format!("/applications/{SHOP}/rollback"),
            Some(json!({"commit": GOOD}))
        )]
    );
    assert_eq!(
        w.coolify.app(SHOP).unwrap().git.unwrap().running,
        Some(GOOD.to_owned())
    );
    let (sha, payload, states) = record(&w);
    assert_eq!(sha, GOOD, "the record names the commit deployed");
    assert_eq!(payload["from_sha"], BAD);
    assert_eq!(payload["to_tag"], serde_json::Value::Null);
    assert_eq!(states, vec!["in_progress", "success"]);
}

// applications.php L16 (v4.2.0): a deploy builds the pinned git_commit_sha; it is put back
// to HEAD after, so the next push deploys the branch head again.
#[test]
fn on_4_2_0_a_git_app_is_rolled_back_by_pin_and_the_pin_put_back() {
    let w = world("4.2.0");
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), GOOD, "{}", run.everything());
    let writes = writes(&w);
    assert_eq!(writes.len(), 3, "{writes:?}");
    assert_eq!(writes[0].2, Some(json!({"git_commit_sha": GOOD})));
    assert_eq!(writes[1].1, "/deploy");
    assert_eq!(writes[2].2, Some(json!({"git_commit_sha": "HEAD"})));
    let repo = w.coolify.app(SHOP).unwrap().git.unwrap();
    assert_eq!(repo.pin, "HEAD");
    assert_eq!(repo.running, Some(GOOD.to_owned()));
    assert_eq!(run.report()["commit_pins"][0]["restored"], true);
    assert_eq!(record(&w).0, GOOD);
}

// A rollback build that fails on 4.2.0 still puts the pin back.
#[test]
fn on_4_2_0_a_failed_rollback_still_puts_the_pin_back() {
    let w = world("4.2.0");
    w.coolify.script(
        GOOD,
        Script::fails_after(Duration::from_millis(50), &["boom"]),
    );
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert_eq!(
        run.output("reason"),
        "deploy-failed",
        "{}",
        run.everything()
    );
    assert_eq!(w.coolify.app(SHOP).unwrap().git.unwrap().pin, "HEAD");
    assert_eq!(record(&w).2, vec!["in_progress", "failure"]);
}

// Before 4.2.0 a chosen commit cannot be built (the job resolved HEAD over any pin until
// 7a853efa79): exit 2, nothing deployed or recorded.
#[test]
fn before_4_2_0_a_git_app_rollback_is_refused() {
    let w = world("4.1.2");
    let run = rollback(&w).run();
    run.assert_exit(2);
    assert!(
        run.stderr.contains("pinning a commit is not supported"),
        "{}",
        run.stderr
    );
    assert!(writes(&w).is_empty());
    assert!(w.github.deployments().is_empty());
}

// With no finished deployment naming a commit, what runs now is unknown: fail closed.
#[test]
fn a_git_app_without_a_finished_deployment_is_not_guessed_at() {
    let w = world("4.3.11");
    let fresh = "freshappuuid000000000001";
    w.coolify
        .add_git_app(fresh, "fresh", "dockerfile", &[OLD, BAD])
        .unhealthy_tag(BAD);
    let run = rollback(&w)
        .input("url", &w.coolify.health_url(fresh))
        .input("app", fresh)
        .run();
    run.assert_exit(1);
    assert_eq!(
        run.output("reason"),
        "unknown-running-version",
        "{}",
        run.everything()
    );
    assert!(writes(&w).is_empty());
}

// A manual `to` on a git app must be a full commit: an abbreviation could name another one.
#[test]
fn manual_to_on_a_git_app_deploys_that_commit() {
    let w = world("4.3.11");
    let run = rollback(&w).input("to", OLD).run();
    run.assert_exit(0);
    assert_eq!(
        w.coolify
            .deployment_commits(SHOP)
            .last()
            .map(String::as_str),
        Some(OLD)
    );
}

// The whole run's `timeout` passing during the redeploy on 4.2.0: the build is cancelled
// and the pin is still put back before the run ends.
#[test]
fn on_4_2_0_the_pin_is_put_back_when_the_run_times_out() {
    let w = world("4.2.0");
    w.coolify.script(GOOD, Script::never_ends());
    let run = rollback(&w).input("timeout", "3s").run();
    run.assert_exit(1);
    let repo = w.coolify.app(SHOP).unwrap().git.unwrap();
    assert_eq!(repo.pin, "HEAD", "{}", run.everything());
    assert_eq!(
        writes(&w).last().map(|w| w.2.clone()),
        Some(Some(json!({"git_commit_sha": "HEAD"})))
    );
    assert_eq!(
        w.coolify
            .deployment_statuses(SHOP)
            .last()
            .map(String::as_str),
        Some("cancelled-by-user")
    );
}
