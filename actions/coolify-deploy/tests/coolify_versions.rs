//! coolify-deploy against the sandbox Coolify playing real versions and real misbehaviour
//! (issue #12): lenient versions, phantom and 404 deployments, the previous image tag put
//! back, deploy requests never sent twice, the concurrent-build queue, skipped health checks
//! and restarts. Each test names the Coolify source it mirrors (coollabsio/coolify at
//! 379abb25 unless a tag is named).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::{Duration, Instant};

use sandbox::coolify::{Coolify, Forced, Script, TOKEN};
use sandbox::harness::{Finished, ToolRun};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_coolify-deploy");
const WEB: &str = "webappuuid00000000000001";
const OTHER1: &str = "otherappuuid000000000001";
const OTHER2: &str = "otherappuuid000000000002";

fn sandbox(version: &str) -> Coolify {
    let coolify = Coolify::start().unwrap();
    coolify
        .set_version(version)
        .add_app(WEB, "web", "ghcr.io/acme/web", "main-1111111")
        .default_script(Script::finishes_after(Duration::from_millis(150)));
    coolify
}

fn deploy(coolify: &Coolify) -> ToolRun {
    ToolRun::new(BIN)
        .input("coolify-url", &coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .input("poll-interval", "50ms")
}

fn deploy_posts(coolify: &Coolify) -> usize {
    coolify
        .requests()
        .iter()
        .filter(|r| r.path == "/deploy" && r.method == "POST")
        .count()
}

fn note(run: &Finished) -> String {
    run.report()["deployments"][0]["note"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits (bounded) until `done` holds; the sandbox moves by the clock.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The versions users run: the 420.x hotfix line (too old to cancel: routes/api.php at
/// v4.0.0-beta.420.6 has no cancel route), 4.2.0 (GET /deploy 405, routes/api.php L86 at
/// v4.2.0), 4.3.11 and the release candidate `4.4-rc.1`. A version string the old parser
/// refused stopped the run before any deploy.
#[test]
fn an_image_tag_deploys_on_every_coolify_version() {
    for (version, shown, too_old) in [
        ("4.0.0-beta.420.6", "4.0.0-beta.420.6", true),
        ("4.2.0", "4.2.0", false),
        ("4.3.11", "4.3.11", false),
        ("4.4-rc.1", "4.4.0-rc.1", false),
    ] {
        let coolify = sandbox(version);
        let run = deploy(&coolify).input("image-tag", "main-2222222").run();
        run.assert_exit(0);
        assert_eq!(run.output("status"), "finished", "{version}");
        assert_eq!(run.report()["coolify_version"], shown, "{version}");
        assert_eq!(
            coolify.running_tag(WEB).as_deref(),
            Some("main-2222222"),
            "{version}"
        );
        assert_eq!(
            run.stderr.contains("title=coolify-too-old"),
            too_old,
            "{version}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("coolify-version-unknown"), "{version}");
    }
}

/// `GET /version` returns `config('constants.coolify.version')` (OtherController::version),
/// whatever a build sets in COOLIFY_VERSION (config/constants.php L5): never a reason to
/// refuse a deploy.
#[test]
fn an_unreadable_version_warns_and_deploys() {
    let coolify = sandbox("nightly build 2026-12-01 ::error::x");
    let run = deploy(&coolify).input("image-tag", "main-2222222").run();
    run.assert_exit(0);
    assert!(
        run.stderr
            .contains("::warning title=coolify-version-unknown::"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("::error::x"), "{}", run.stderr);
    assert_eq!(run.report()["coolify_version"], "unknown");
    assert_eq!(coolify.running_tag(WEB).as_deref(), Some("main-2222222"));
}

/// Deploy by tag while the app is already deploying: `deploy_resource` returns a fresh UUID
/// it never stored (DeployController.php L539, L550-551, L599), in `details` with the
/// "already queued" text only in `message[]` (L498-501). The tool follows the app's real
/// deployment, never "disappeared".
#[test]
fn tag_mode_with_a_phantom_uuid_follows_the_real_deployment() {
    let coolify = sandbox("4.3.11");
    coolify
        .tag_app(WEB, "production")
        .default_script(Script::finishes_after(Duration::from_millis(1500)));
    let real = coolify.start_deployment(WEB).unwrap();
    let run = ToolRun::new(BIN)
        .input("coolify-url", &coolify.url())
        .input("coolify-token", TOKEN)
        .input("tag", "production")
        .input("poll-interval", "50ms")
        .run();
    run.assert_exit(0);
    assert_eq!(run.output("status"), "finished");
    assert_eq!(run.output("deployment-uuids"), real);
    assert!(note(&run).contains("never stored"), "{}", note(&run));
    assert!(!run.everything().contains("disappeared"));
    // Only one deployment exists: the phantom was never queued.
    assert_eq!(coolify.deployment_statuses(WEB), vec!["finished"]);
    let answer = coolify
        .requests()
        .into_iter()
        .find(|r| r.path == "/deploy")
        .unwrap()
        .answer;
    assert!(answer.contains("Deployment already queued"), "{answer}");
    assert!(
        !answer.contains(&real),
        "the answer names the phantom: {answer}"
    );
}

/// Coolify 4.0.0-beta.464 to 467 answer 404 for every `GET /deployments/{uuid}`
/// (DeployController.php L131 at v4.0.0-beta.465, a strict `!==` on the team id); the
/// app's deployment list still answers.
#[test]
fn beta_465_404s_are_read_through_the_app_list() {
    let coolify = sandbox("4.0.0-beta.465");
    let run = deploy(&coolify).input("image-tag", "main-2222222").run();
    run.assert_exit(0);
    assert_eq!(run.output("status"), "finished");
    assert!(note(&run).contains("answers 404"), "{}", note(&run));
    let by_uuid = coolify
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/deployments/") && !r.path.contains("applications"))
        .count();
    assert_eq!(by_uuid, 1, "after the first 404 only the list is read");
    assert_eq!(coolify.running_tag(WEB).as_deref(), Some("main-2222222"));
}

/// A failed deploy keeps the old container (ApplicationDeploymentJob.php L4045: "rolling
/// back to the old container") but the app keeps the new tag, which the next deploy reads
/// (L611-621). The tool puts the old tag back.
#[test]
fn a_failed_tag_deploy_puts_the_old_tag_back() {
    let coolify = sandbox("4.3.11");
    coolify.script(
        "broken",
        Script::fails_after(Duration::from_millis(100), &["npm ERR! build failed"]),
    );
    let run = deploy(&coolify).input("image-tag", "broken").run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "failed");
    let restored: Value = serde_json::from_str(run.output("restored-image-tags")).unwrap();
    assert_eq!(restored, json!({WEB: "main-1111111"}));
    assert_eq!(
        coolify.app(WEB).unwrap().image_tag.as_deref(),
        Some("main-1111111")
    );
    assert_eq!(coolify.running_tag(WEB).as_deref(), Some("main-1111111"));
    let patches: Vec<Value> = coolify
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .filter_map(|r| r.body)
        .collect();
    assert_eq!(
        patches,
        vec![
            json!({"docker_registry_image_tag": "broken"}),
            json!({"docker_registry_image_tag": "main-1111111"}),
        ]
    );
    assert!(
        run.stderr.contains("title=image-tag-restored"),
        "{}",
        run.stderr
    );
    assert!(
        run.summary.contains("Image tags set back"),
        "{}",
        run.summary
    );
    // A deploy that finishes keeps its tag.
    let run = deploy(&coolify).input("image-tag", "main-3333333").run();
    run.assert_exit(0);
    assert_eq!(run.output("restored-image-tags"), "{}");
}

/// The proxy answers 502 after Coolify queued the deployment
/// (`ApplicationDeploymentQueue::create`, applications.php L67, runs before the answer).
/// A retry with `force` would queue a second build (L56: force skips the dedup).
#[test]
fn a_502_after_the_deploy_was_queued_does_not_queue_a_second_one() {
    let coolify = sandbox("4.3.11");
    coolify.force(
        Forced::new("/api/v1/deploy", 502, json!({"message": "502 Bad Gateway"}))
            .exactly()
            .after_acting(),
    );
    let run = deploy(&coolify).input("image-tag", "main-2222222").run();
    run.assert_exit(0);
    assert_eq!(deploy_posts(&coolify), 1, "sent once");
    assert_eq!(coolify.deployment_statuses(WEB), vec!["finished"]);
    assert!(note(&run).contains("got no answer"), "{}", note(&run));
    assert_eq!(run.output("deployment-uuids").len(), 24);
}

/// A 502 from the proxy before Coolify saw the request: nothing was queued, so the request
/// is sent again, once.
#[test]
fn a_502_before_anything_was_queued_is_sent_again() {
    let coolify = sandbox("4.3.11");
    coolify
        .force(Forced::new("/api/v1/deploy", 502, json!({"message": "502 Bad Gateway"})).exactly());
    let run = deploy(&coolify).input("image-tag", "main-2222222").run();
    run.assert_exit(0);
    assert_eq!(deploy_posts(&coolify), 2);
    assert_eq!(coolify.deployment_statuses(WEB), vec!["finished"]);
}

/// Two long builds hold both of the server's slots (`concurrent_builds` default 2,
/// applications.php L154-163): the deployment waits `queued`, the wait counts toward
/// `timeout`, and the cancel at the timeout takes a queued deployment too
/// (DeployController.php L236-259). Its image tag is put back.
#[test]
fn a_queue_held_by_two_long_builds_is_reported_and_the_timeout_cancels_it() {
    let coolify = sandbox("4.3.11");
    coolify
        .add_app(OTHER1, "worker", "ghcr.io/acme/worker", "long")
        .add_app(OTHER2, "cron", "ghcr.io/acme/cron", "long")
        .script("long", Script::never_ends());
    coolify.start_deployment(OTHER1).unwrap();
    coolify.start_deployment(OTHER2).unwrap();
    let run = deploy(&coolify)
        .input("image-tag", "main-2222222")
        .input("timeout", "1500ms")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "timeout");
    assert!(
        run.everything()
            .contains("2 builds running on its server, position 1 in line"),
        "{}",
        run.everything()
    );
    assert!(note(&run).contains("still queued"), "{}", note(&run));
    assert_eq!(coolify.deployment_statuses(WEB), vec!["cancelled-by-user"]);
    assert_eq!(coolify.deployment_statuses(OTHER1), vec!["in_progress"]);
    let restored: Value = serde_json::from_str(run.output("restored-image-tags")).unwrap();
    assert_eq!(restored, json!({WEB: "main-1111111"}));
}

/// With mapped host ports Coolify replaces the container without a health check and says
/// so (ApplicationDeploymentJob.php L1951-1954): `finished` means started.
#[test]
fn a_skipped_health_check_is_a_warning() {
    let coolify = sandbox("4.3.11");
    coolify.script(
        "main-2222222",
        Script::finishes_after(Duration::from_millis(100)).without_rolling_update(),
    );
    let run = deploy(&coolify).input("image-tag", "main-2222222").run();
    run.assert_exit(0);
    assert!(
        run.stderr
            .contains("::warning title=health-check-skipped::"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("health-wait"), "{}", run.stderr);
    // A normal rolling update says nothing of the kind.
    let run = deploy(&coolify).input("image-tag", "main-3333333").run();
    run.assert_exit(0);
    assert!(
        !run.stderr.contains("health-check-skipped"),
        "{}",
        run.stderr
    );
}

/// Coolify's start-up marks every queued and in-progress deployment failed without a log
/// line (app/Console/Commands/Init.php L94-99).
#[test]
fn a_deployment_failed_by_a_restart_says_so() {
    let coolify = sandbox("4.3.11");
    coolify.script("main-2222222", Script::never_ends());
    let run = std::thread::scope(|scope| {
        let tool = scope.spawn(|| {
            deploy(&coolify)
                .input("image-tag", "main-2222222")
                .input("timeout", "30s")
                .run()
        });
        wait_until("the deployment builds", || {
            coolify.deployment_statuses(WEB) == vec!["in_progress"]
        });
        coolify.restart();
        tool.join().unwrap()
    });
    run.assert_exit(1);
    assert_eq!(run.output("status"), "failed");
    assert!(note(&run).contains("Coolify restarted"), "{}", note(&run));
    assert!(
        run.stderr.contains("title=coolify-restarted"),
        "{}",
        run.stderr
    );
}

/// A token with `deploy` held by a team member: "Missing required team role."
/// (EnsureTokenBelongsToCurrentTeamMember.php L51, from v4.1.2).
#[test]
fn a_members_token_is_refused_with_the_fix() {
    let coolify = sandbox("4.3.11");
    coolify.add_token("7|member-token", &["read", "deploy"], true);
    let run = deploy(&coolify)
        .input("coolify-token", "7|member-token")
        .run();
    run.assert_exit(3);
    run.assert_one_error_line();
    assert!(
        run.stderr.contains("Missing required team role."),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("admin or owner"), "{}", run.stderr);
    assert_eq!(deploy_posts(&coolify), 0);
}

/// Before beta.436 there is no cancel route (routes/api.php at v4.0.0-beta.420.6): at the
/// timeout the deployment is left as it is, and the tool says why instead of calling it.
#[test]
fn a_server_without_cancel_is_not_asked_to_cancel() {
    let coolify = sandbox("4.0.0-beta.420.6");
    coolify.script("stuck", Script::never_ends());
    let run = deploy(&coolify)
        .input("image-tag", "stuck")
        .input("timeout", "600ms")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "timeout");
    assert!(note(&run).contains("cannot cancel"), "{}", note(&run));
    assert!(
        !coolify
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/cancel")),
        "no cancel sent"
    );
    assert_eq!(coolify.deployment_statuses(WEB), vec!["in_progress"]);
    // Left running, it may still finish with the new tag: the tag stays.
    assert_eq!(run.output("restored-image-tags"), "{}");
}

/// Putting the tag back fails (Coolify answers 500): an error annotation names the app and
/// the tag to set by hand, and the output lists nothing as restored.
#[test]
fn a_tag_that_cannot_be_put_back_names_the_tag_to_set_by_hand() {
    let coolify = sandbox("4.3.11");
    coolify.script(
        "broken",
        Script::fails_after(Duration::from_millis(400), &["npm ERR! build failed"]),
    );
    let run = std::thread::scope(|scope| {
        let tool = scope.spawn(|| deploy(&coolify).input("image-tag", "broken").run());
        // The new tag is set; the next PATCH is the one that puts the old tag back.
        wait_until("the new tag is set", || {
            coolify.requests().iter().any(|r| r.method == "PATCH")
        });
        coolify.force(
            Forced::new(
                &format!("/api/v1/applications/{WEB}"),
                500,
                json!({"message": "Server Error"}),
            )
            .method("PATCH"),
        );
        tool.join().unwrap()
    });
    run.assert_exit(1);
    assert_eq!(run.output("restored-image-tags"), "{}");
    assert!(
        run.stderr
            .contains("::error title=image-tag-not-restored::app webappuuid00000000000001"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("back to \"main-1111111\" by hand"),
        "{}",
        run.stderr
    );
    assert_eq!(run.report()["restore_failures"][0]["tag"], "main-1111111");
    assert_eq!(
        coolify.app(WEB).unwrap().image_tag.as_deref(),
        Some("broken")
    );
}
