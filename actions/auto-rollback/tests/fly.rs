//! auto-rollback with `platform: fly` as users run it: the sandbox Machines API whose demo
//! app is unhealthy while a bad image runs, and the GitHub REST subset for the good versions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use sandbox::fly::{Behaviour, Fly, TOKEN};
use sandbox::github::{self, GitHub};
use sandbox::harness::ToolRun;

const BIN: &str = env!("CARGO_BIN_EXE_auto-rollback");
const OLD: &str = "1111111111111111111111111111111111111111";
const GOOD: &str = "2222222222222222222222222222222222222222";
const BAD: &str = "3333333333333333333333333333333333333333";

fn image(sha: &str) -> String {
    format!("registry.fly.io/web:{sha}")
}

struct World {
    fly: Fly,
    github: GitHub,
}

/// BAD runs on three machines and is unhealthy; OLD then GOOD deployed fine before it.
fn world() -> World {
    let fly = Fly::start().unwrap();
    fly.add_app_on("web", 3, 0, &image(BAD))
        .unhealthy_image(&image(BAD));
    let github = GitHub::start().unwrap();
    for sha in [OLD, GOOD, BAD] {
        github.add_run("deploy.yml", sha, "main", "success");
    }
    World { fly, github }
}

fn rollback(w: &World) -> ToolRun {
    ToolRun::new(BIN)
        .input("platform", "fly")
        .input("url", &w.fly.health_url("web"))
        .input("interval", "50ms")
        .input("request-timeout", "2s")
        .input("failure-threshold", "3")
        .input("verify-timeout", "10s")
        .input("fly-token", TOKEN)
        .input("api-url", &w.fly.url())
        .input("app", "web")
        .input("image-template", "registry.fly.io/{app}:{sha}")
        .input("poll-interval", "20ms")
        .input("github-token", github::TOKEN)
        .env("GITHUB_API_URL", &w.github.api_url())
        .env("GITHUB_REPOSITORY", github::REPOSITORY)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "77")
}

#[test]
fn unhealthy_on_fly_rolls_back_to_the_previous_good_commit_and_verifies() {
    let w = world();
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("healthy-before"), "false");
    assert_eq!(run.output("rolled-back"), "true");
    assert_eq!(run.output("from"), BAD);
    assert_eq!(run.output("to"), GOOD);
    assert_eq!(run.output("verified"), "true");
    assert_eq!(run.output("reason"), "rolled-back");
    for (_, now) in w.fly.images("web") {
        assert_eq!(now, image(GOOD));
    }
    assert_eq!(w.fly.updates().len(), 3, "one update per machine");
    let report = run.report();
    assert_eq!(report["fly_deploy"]["status"], "finished");
    assert_eq!(report["fly_deploy"]["updated"], 3);
    let records: Vec<_> = w
        .github
        .deployments()
        .into_iter()
        .filter(|d| d.2["kind"] == "rollback")
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, GOOD);
    assert_eq!(records[0].2["from_sha"], BAD);
    assert!(
        records[0].3.contains(&"success".to_owned()),
        "{:?}",
        records[0].3
    );
}

#[test]
fn two_apps_each_get_their_own_image_and_the_report_says_so() {
    let w = world();
    let api = |sha: &str| format!("registry.fly.io/api:{sha}");
    w.fly.add_app_on("api", 2, 0, &api(BAD));
    let run = rollback(&w).input("app", "web,api").run();
    run.assert_exit(0);
    assert_eq!(run.output("rolled-back"), "true");
    for (_, now) in w.fly.images("api") {
        assert_eq!(now, api(GOOD));
    }
    let report = run.report();
    let rollout = &report["fly_deploy"];
    // One total over both apps, and no one app's image claimed for both.
    assert_eq!(rollout["updated"], 5);
    assert_eq!(rollout["status"], "finished");
    assert!(rollout["image"].is_null(), "{rollout}");
    assert_eq!(rollout["apps"][0]["image"], image(GOOD));
    assert_eq!(rollout["apps"][1]["image"], api(GOOD));
}

#[test]
fn a_target_that_fails_on_fly_is_restored_and_reported() {
    let w = world();
    w.fly.behaviour(&image(GOOD), Behaviour::broken());
    let run = rollback(&w).input("deploy-timeout", "1s").run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "deploy-failed");
    assert_eq!(run.output("rolled-back"), "false");
    // The canary went back to what ran before; the others were never touched.
    for (_, now) in w.fly.images("web") {
        assert_eq!(now, image(BAD));
    }
    assert!(!w.fly.leased("web"));
}

#[test]
fn a_running_image_the_template_cannot_read_deploys_nothing() {
    let w = world();
    let run = rollback(&w)
        .input("image-template", "ghcr.io/acme/{app}:main-{short_sha}")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "unknown-running-version");
    assert!(w.fly.updates().is_empty());
}

#[test]
fn a_held_lease_means_a_deploy_is_under_way() {
    let w = world();
    w.fly.hold_lease("web", 1);
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "deployment-in-progress");
    assert!(w.fly.updates().is_empty());
}

#[test]
fn platform_fly_needs_its_inputs() {
    let w = world();
    let run = rollback(&w).input("image-template", "").run();
    run.assert_exit(2);
    run.assert_one_error_line();
    assert!(
        run.stderr.contains("missing input `image-template`"),
        "{}",
        run.stderr
    );
    let run = rollback(&w).input("fly-token", "").run();
    run.assert_exit(2);
    assert!(
        run.stderr.contains("missing input `fly-token`"),
        "{}",
        run.stderr
    );
    let run = rollback(&w).input("platform", "heroku").run();
    run.assert_exit(2);
    assert!(
        run.stderr.contains("invalid input `platform`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_signal_during_the_fly_redeploy_restores_and_marks_the_record_error() {
    let w = world();
    // The good image takes long to pass its checks: the signal comes while it is waited for.
    w.fly.behaviour(
        &image(GOOD),
        Behaviour::healthy_after(std::time::Duration::from_secs(30)),
    );
    let mut running = rollback(&w).input("deploy-timeout", "5m").spawn();
    assert!(
        running.wait_for(|| w.fly.updates().len() == 1),
        "the canary was updated"
    );
    running.signal("TERM");
    let run = running.finish();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "interrupted");
    for (_, now) in w.fly.images("web") {
        assert_eq!(now, image(BAD), "the canary went back to what ran");
    }
    assert!(!w.fly.leased("web"));
    let records: Vec<_> = w
        .github
        .deployments()
        .into_iter()
        .filter(|d| d.2["kind"] == "rollback")
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].3.last().map(String::as_str), Some("error"));
}
