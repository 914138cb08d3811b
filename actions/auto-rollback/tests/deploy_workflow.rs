//! `deploy-workflow`: while a run of the deploy workflow is queued, waiting or in progress,
//! auto-rollback deploys nothing and says why (reason `deployment-in-progress`, exit 1); a
//! failed look is an error (exit 3), never "no deploy"; with no such run it proceeds.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::coolify::{Coolify, Script, TOKEN};
use sandbox::github::{self, GitHub};
use sandbox::harness::ToolRun;

const BIN: &str = env!("CARGO_BIN_EXE_auto-rollback");
const WEB: &str = "webappuuid00000000000001";
const GOOD: &str = "2222222222222222222222222222222222222222";
const BAD: &str = "3333333333333333333333333333333333333333";
const NEXT: &str = "5555555555555555555555555555555555555555";

fn tag(sha: &str) -> String {
    format!("main-{}", &sha[..7])
}

/// BAD runs and is unhealthy; GOOD deployed fine before it.
fn world() -> (Coolify, GitHub) {
    let coolify = Coolify::start().unwrap();
    coolify
        .add_app(WEB, "web", "ghcr.io/acme/web", &tag(BAD))
        .unhealthy_tag(&tag(BAD))
        .default_script(Script::finishes_after(Duration::from_millis(50)));
    let github = GitHub::start().unwrap();
    for sha in [GOOD, BAD] {
        github.add_run("deploy.yml", sha, "main", "success");
    }
    (coolify, github)
}

fn rollback(coolify: &Coolify, github: &GitHub) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", &coolify.health_url(WEB))
        .input("interval", "20ms")
        .input("failure-threshold", "2")
        .input("verify-timeout", "10s")
        .input("coolify-url", &coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .input("image-tag-template", "main-{short_sha}")
        .input("poll-interval", "20ms")
        .input("github-token", github::TOKEN)
        .input("deploy-workflow", "deploy.yml")
        .env("GITHUB_API_URL", &github.api_url())
        .env("GITHUB_REPOSITORY", github::REPOSITORY)
}

fn deploys(coolify: &Coolify) -> usize {
    coolify
        .requests()
        .iter()
        .filter(|r| r.path == "/deploy")
        .count()
}

#[test]
fn a_deploy_run_not_finished_blocks_the_rollback() {
    for status in ["queued", "in_progress", "waiting", "pending", "requested"] {
        let (coolify, github) = world();
        github.add_unfinished_run("deploy.yml", NEXT, status);
        let run = rollback(&coolify, &github).run();
        run.assert_exit(1);
        assert_eq!(run.output("reason"), "deployment-in-progress", "{status}");
        assert_eq!(run.output("rolled-back"), "false");
        let message = run.report()["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains(&format!("run #3 of deploy.yml is {status}")),
            "{message}"
        );
        assert_eq!(deploys(&coolify), 0, "{status}: nothing is deployed");
        assert!(
            github.deployments().is_empty(),
            "{status}: nothing recorded"
        );
    }
}

#[test]
fn no_unfinished_deploy_run_lets_the_rollback_proceed() {
    let (coolify, github) = world();
    // A run of another workflow is in progress: not a deploy.
    github.add_unfinished_run("lint.yml", NEXT, "in_progress");
    let run = rollback(&coolify, &github).run();
    run.assert_exit(0);
    assert_eq!(run.output("reason"), "rolled-back");
    assert_eq!(
        coolify.running_tag(WEB).as_deref(),
        Some(tag(GOOD).as_str())
    );
    // One question per unfinished status: GitHub's `status` filter takes one value.
    let mut asked: Vec<String> = github
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/actions/workflows/deploy.yml/runs"))
        .filter_map(|c| {
            c.query
                .iter()
                .find(|(k, _)| k == "status")
                .map(|(_, v)| v.clone())
        })
        .filter(|s| s != "success")
        .collect();
    asked.sort();
    assert_eq!(
        asked,
        ["in_progress", "pending", "queued", "requested", "waiting"]
    );
}

#[test]
fn its_own_run_is_not_a_deploy_in_progress() {
    let (coolify, github) = world();
    // The rollback step inside a deploy run: that run (id 1002) is in progress, and it is us.
    github.add_unfinished_run("deploy.yml", NEXT, "in_progress");
    let run = rollback(&coolify, &github)
        .env("GITHUB_RUN_ID", "1002")
        .run();
    run.assert_exit(0);
    assert_eq!(run.output("reason"), "rolled-back");
}

#[test]
fn a_failed_look_refuses_rather_than_guesses() {
    let (coolify, github) = world();
    github.fail("GET", "/actions/workflows/deploy.yml/runs", 404, 1);
    let run = rollback(&coolify, &github).run();
    run.assert_exit(3);
    assert_eq!(deploys(&coolify), 0, "nothing is deployed");
    assert!(
        run.stderr.contains("listing unfinished workflow runs"),
        "{}",
        run.stderr
    );
}

#[test]
fn deploy_workflow_needs_a_github_token() {
    let (coolify, github) = world();
    let run = rollback(&coolify, &github)
        .input("github-token", "")
        .input("to", GOOD)
        .run();
    run.assert_exit(2);
    run.assert_one_error_line();
    assert!(run.stderr.contains("`deploy-workflow`"), "{}", run.stderr);
}
