//! A cancelled run or a job timeout mid-deploy: GitHub's runner sends SIGINT (then SIGTERM)
//! to the step's process. coolify-deploy cancels the Coolify deployment it is waiting on,
//! gives its GitHub Deployment the final status `error`, writes its outputs and summary with
//! the status `interrupted`, and exits 1. Each test waits until the sandbox has the
//! deployment running, then signals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use sandbox::coolify::{Coolify, Forced, Script, TOKEN};
use sandbox::harness::{Finished, Running, ToolRun, action_run_script};
use sandbox::hostile::Mode;

const BIN: &str = env!("CARGO_BIN_EXE_coolify-deploy");
const WEB: &str = "webappuuid00000000000001";

fn sandbox() -> (Coolify, sandbox::github::GitHub) {
    let coolify = Coolify::start().unwrap();
    coolify
        .add_app(WEB, "web", "ghcr.io/acme/web", "main-1111111")
        .default_script(Script::never_ends());
    (coolify, sandbox::github::GitHub::start().unwrap())
}

fn deploy(coolify: &Coolify, github: &sandbox::github::GitHub) -> ToolRun {
    ToolRun::new(BIN)
        .input("coolify-url", &coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .input("poll-interval", "20ms")
        .input("timeout", "20s")
        .input("github-deployment", "true")
        .input("environment", "staging")
        .input("github-token", sandbox::github::TOKEN)
        .env("GITHUB_API_URL", &github.api_url())
        .env("GITHUB_REPOSITORY", sandbox::github::REPOSITORY)
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .limit(Duration::from_secs(30))
}

/// Starts the run and returns once Coolify has the deployment in progress.
fn deploying(coolify: &Coolify, run: ToolRun) -> Running {
    let mut running = run.spawn();
    assert!(
        running.wait_for(|| coolify.deployment_statuses(WEB) == ["in_progress"]),
        "the deployment never started"
    );
    running
}

fn assert_interrupted(run: &Finished, coolify: &Coolify, github: &sandbox::github::GitHub) {
    run.assert_exit(1);
    assert_eq!(run.output("status"), "interrupted", "{}", run.everything());
    assert_eq!(coolify.deployment_statuses(WEB), vec!["cancelled-by-user"]);
    let deployments = github.deployments();
    assert_eq!(deployments.len(), 1);
    assert_eq!(
        deployments[0].3,
        vec!["in_progress".to_owned(), "error".to_owned()]
    );
    assert_eq!(run.report()["status"], "interrupted");
    assert!(
        run.stderr.contains("title=deploy-interrupted"),
        "{}",
        run.stderr
    );
    assert!(run.summary.contains("interrupted"), "{}", run.summary);
}

#[test]
fn sigterm_mid_deploy_cancels_it_and_closes_the_github_deployment() {
    let (coolify, github) = sandbox();
    let running = deploying(&coolify, deploy(&coolify, &github));
    running.signal("TERM");
    let run = running.finish();
    assert_interrupted(&run, &coolify, &github);
    assert!(run.stderr.contains("received SIGTERM"), "{}", run.stderr);
}

/// As the runner does it: SIGINT to the step's bash only; the action's `run:` script hands
/// its process to the binary.
#[test]
fn sigint_to_the_action_step_cancels_the_deploy() {
    let (coolify, github) = sandbox();
    let action = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let step = deploy(&coolify, &github).as_step(&action_run_script(&action));
    let running = deploying(&coolify, step);
    running.signal("INT");
    let run = running.finish();
    assert_interrupted(&run, &coolify, &github);
}

/// The runner's SIGTERM comes while the first signal's cleanup still waits on Coolify: the
/// process ends at once, with 128 + 15 as a shell would report it.
#[test]
fn a_second_signal_during_the_cleanup_exits_at_once() {
    let (coolify, github) = sandbox();
    coolify.force(Forced::hostile("/cancel", Mode::Silent));
    let mut running = deploying(&coolify, deploy(&coolify, &github));
    running.signal("INT");
    assert!(
        running.wait_for(|| coolify
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/cancel"))),
        "no cancel was sent"
    );
    running.signal("TERM");
    let run = running.finish();
    assert_eq!(run.code, Some(143), "{}", run.everything());
    assert!(
        run.stderr.contains("received SIGTERM again"),
        "{}",
        run.stderr
    );
}

/// Coolify's queue is full (429, `Retry-After: 60`): the signal ends the wait at once and no
/// deploy request is sent again; nothing was deployed, and the record says `error`.
#[test]
fn a_signal_while_waiting_out_a_full_queue_sends_nothing_more() {
    let (coolify, github) = sandbox();
    coolify.force(
        // Exactly the deploy request, not the look at the app's deployments before it.
        Forced::new(
            "/api/v1/deploy",
            429,
            serde_json::json!({"message": "Deployment queue is full. Please try again later."}),
        )
        .exactly()
        .retry_after(60),
    );
    let mut running = deploy(&coolify, &github)
        .without_env("SHIPGUARD_TEST_NO_RETRY_DELAY")
        // Room for the minute's wait within the deadline.
        .input("timeout", "5m")
        .spawn();
    let posts = || {
        coolify
            .requests()
            .iter()
            .filter(|r| r.path == "/deploy")
            .count()
    };
    assert!(running.wait_for(|| posts() == 1), "no deploy request");
    running.signal("TERM");
    let run = running.finish();
    run.assert_exit(1);
    assert_eq!(posts(), 1, "the deploy request is not sent again");
    assert!(coolify.deployment_statuses(WEB).is_empty());
    assert_eq!(
        github.deployments()[0].3,
        vec!["in_progress".to_owned(), "error".to_owned()]
    );
    assert!(
        run.stderr.contains("(interrupted by SIGTERM: exit 1)"),
        "{}",
        run.stderr
    );
}

/// A commit deploy of a git-based app on Coolify 4.2.0 pins `git_commit_sha` (applications.php
/// L16 at v4.2.0: every later deploy builds the pin). A signal mid-build cancels it and still
/// puts the pin back, within the cleanup budget, so later deploys build the branch head again.
#[test]
fn a_signal_during_a_pinned_commit_deploy_puts_the_pin_back() {
    const GIT: &str = "gitappuuid00000000000001";
    const C1: &str = "1111111111111111111111111111111111111111";
    const C2: &str = "2222222222222222222222222222222222222222";
    let coolify = Coolify::start().unwrap();
    coolify
        .set_version("4.2.0")
        .add_git_app(GIT, "shop", "nixpacks", &[C1, C2])
        .default_script(Script::never_ends());
    let mut running = ToolRun::new(BIN)
        .input("coolify-url", &coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", GIT)
        .input("commit", C1)
        .input("poll-interval", "20ms")
        .input("timeout", "20s")
        .limit(Duration::from_secs(30))
        .spawn();
    let pin = || coolify.app(GIT).unwrap().git.unwrap().pin;
    assert!(
        running.wait_for(|| pin() == C1 && coolify.deployment_statuses(GIT) == ["in_progress"]),
        "the pinned build never started"
    );
    running.signal("INT");
    let run = running.finish();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "interrupted", "{}", run.everything());
    assert_eq!(coolify.deployment_statuses(GIT), vec!["cancelled-by-user"]);
    assert_eq!(pin(), "HEAD", "{}", run.everything());
}

/// An image-tag deploy cut short by a signal: the deployment is cancelled, so the app's
/// record gets its previous tag back (the old container still runs: job L4045 at 379abb25).
#[test]
fn a_signal_during_a_tag_deploy_puts_the_old_tag_back() {
    let (coolify, github) = sandbox();
    let run = deploy(&coolify, &github).input("image-tag", "main-2222222");
    let running = deploying(&coolify, run);
    running.signal("TERM");
    let run = running.finish();
    assert_interrupted(&run, &coolify, &github);
    assert_eq!(
        coolify.app(WEB).unwrap().image_tag.as_deref(),
        Some("main-1111111"),
        "{}",
        run.everything()
    );
    let restored: serde_json::Value =
        serde_json::from_str(run.output("restored-image-tags")).unwrap();
    assert_eq!(restored[WEB], "main-1111111");
}
