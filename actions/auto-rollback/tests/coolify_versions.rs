//! auto-rollback against the sandbox Coolify playing the versions users run (issue #12):
//! any version string is read, an unreadable one warns and the rollback goes on, and a
//! failed rollback deploy puts the app's image tag back to what still runs. Each test names
//! the Coolify source it mirrors (coollabsio/coolify at 379abb25 unless a tag is named).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::coolify::{Coolify, Script, TOKEN};
use sandbox::github::{self, GitHub};
use sandbox::harness::ToolRun;

const BIN: &str = env!("CARGO_BIN_EXE_auto-rollback");
const WEB: &str = "webappuuid00000000000001";
const GOOD: &str = "2222222222222222222222222222222222222222";
const BAD: &str = "3333333333333333333333333333333333333333";

fn tag(sha: &str) -> String {
    format!("main-{}", &sha[..7])
}

/// BAD runs and is unhealthy; GOOD deployed fine before it.
fn world(version: &str) -> (Coolify, GitHub) {
    let coolify = Coolify::start().unwrap();
    coolify
        .set_version(version)
        .add_app(WEB, "web", "ghcr.io/acme/web", &tag(BAD))
        .unhealthy_tag(&tag(BAD))
        .default_script(Script::finishes_after(Duration::from_millis(100)));
    let github = GitHub::start().unwrap();
    for sha in [GOOD, BAD] {
        github.add_run("deploy.yml", sha, "main", "success");
    }
    (coolify, github)
}

fn rollback(coolify: &Coolify, github: &GitHub) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", &coolify.health_url(WEB))
        .input("interval", "50ms")
        .input("request-timeout", "2s")
        .input("failure-threshold", "2")
        .input("verify-timeout", "10s")
        .input("coolify-url", &coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .input("image-tag-template", "main-{short_sha}")
        .input("poll-interval", "50ms")
        .input("github-token", github::TOKEN)
        .env("GITHUB_API_URL", &github.api_url())
        .env("GITHUB_REPOSITORY", github::REPOSITORY)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "77")
}

/// 4.0.0-beta.420.6 (a 420.x hotfix tag), 4.2.0, 4.3.11 and the candidate 4.4-rc.1: the
/// rollback reads each (`GET /version`, OtherController::version) and goes through.
#[test]
fn a_rollback_goes_through_on_every_coolify_version() {
    for version in ["4.0.0-beta.420.6", "4.2.0", "4.3.11", "4.4-rc.1"] {
        let (coolify, github) = world(version);
        let run = rollback(&coolify, &github).run();
        run.assert_exit(0);
        assert_eq!(run.output("rolled-back"), "true", "{version}");
        assert_eq!(run.output("verified"), "true", "{version}");
        assert_eq!(coolify.running_tag(WEB), Some(tag(GOOD)), "{version}");
        assert!(
            !run.stderr.contains("coolify-version-unknown"),
            "{version}: {}",
            run.stderr
        );
    }
}

/// A version string no parser knows (config/constants.php L5 takes any COOLIFY_VERSION):
/// a warning, and the rollback still happens.
#[test]
fn an_unreadable_version_warns_and_rolls_back() {
    let (coolify, github) = world("custom-build");
    let run = rollback(&coolify, &github).run();
    run.assert_exit(0);
    assert!(
        run.stderr
            .contains("::warning title=coolify-version-unknown::"),
        "{}",
        run.stderr
    );
    assert_eq!(run.output("rolled-back"), "true");
    assert_eq!(coolify.running_tag(WEB), Some(tag(GOOD)));
}

/// The rollback deploy fails: Coolify keeps the old container (ApplicationDeploymentJob.php
/// L4045) but the app would keep the target tag for the next deploy (L611-621); the tag of
/// what still runs is put back.
#[test]
fn a_failed_rollback_deploy_puts_the_running_tag_back() {
    let (coolify, github) = world("4.3.11");
    coolify.script(
        &tag(GOOD),
        Script::fails_after(Duration::from_millis(100), &["pull access denied"]),
    );
    let run = rollback(&coolify, &github).run();
    run.assert_exit(1);
    assert_eq!(run.output("rolled-back"), "false");
    assert_eq!(coolify.running_tag(WEB), Some(tag(BAD)));
    assert_eq!(coolify.app(WEB).unwrap().image_tag, Some(tag(BAD)));
    assert!(
        run.stderr.contains("title=image-tag-restored"),
        "{}",
        run.stderr
    );
    let report = run.report();
    assert_eq!(
        report["deploy"]["restored_image_tags"][WEB],
        tag(BAD),
        "{report}"
    );
}
