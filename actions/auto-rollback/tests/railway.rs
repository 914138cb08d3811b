//! auto-rollback with `platform: railway` and `source: platform` as users run it: the
//! sandbox Railway GraphQL API (its demo app unhealthy while a bad image serves) and the
//! GitHub REST subset for the rollback records and the cooldown.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use sandbox::github::{self, GitHub};
use sandbox::harness::ToolRun;
use sandbox::railway::{ENVIRONMENT, PROJECT, PROJECT_TOKEN, Railway, SERVICE};

const BIN: &str = env!("CARGO_BIN_EXE_auto-rollback");
const GOOD: &str = "2222222222222222222222222222222222222222";
const BAD: &str = "3333333333333333333333333333333333333333";

fn image(sha: &str) -> String {
    format!("ghcr.io/acme/web:{sha}")
}

struct World {
    railway: Railway,
    github: GitHub,
}

/// GOOD served (three deployments, the newest REMOVED once BAD replaced it); BAD serves now
/// with VERSION=bad and is unhealthy.
fn world() -> World {
    let railway = Railway::start().unwrap();
    railway
        .add_service_on(SERVICE, ENVIRONMENT, 3, &image(GOOD))
        .set_variable(SERVICE, "VERSION", "bad")
        .add_finished(SERVICE, &image(BAD))
        .unhealthy_image(BAD);
    let github = GitHub::start().unwrap();
    World { railway, github }
}

fn rollback(w: &World) -> ToolRun {
    ToolRun::new(BIN)
        .input("platform", "railway")
        .input("source", "platform")
        .input("url", &w.railway.health_url(SERVICE))
        .input("interval", "50ms")
        .input("request-timeout", "2s")
        .input("failure-threshold", "3")
        .input("verify-timeout", "10s")
        .input("railway-token", PROJECT_TOKEN)
        .input("railway-project", PROJECT)
        .input("railway-environment", ENVIRONMENT)
        .input("api-url", &w.railway.url())
        .input("app", SERVICE)
        .input("image-template", "ghcr.io/acme/web:{sha}")
        .input("poll-interval", "20ms")
        .input("github-token", github::TOKEN)
        .env("SHIPGUARD_TEST_NO_RETRY_DELAY", "1")
        .env("GITHUB_API_URL", &w.github.api_url())
        .env("GITHUB_REPOSITORY", github::REPOSITORY)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "77")
}

#[test]
fn unhealthy_on_railway_rolls_back_through_deployment_rollback_and_verifies() {
    let w = world();
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("rolled-back"), "true");
    assert_eq!(run.output("from"), BAD);
    assert_eq!(run.output("to"), GOOD);
    assert_eq!(run.output("verified"), "true");
    assert_eq!(w.railway.calls("deploymentRollback").len(), 1);
    assert!(w.railway.calls("deploymentRedeploy").is_empty());
    // Image and variables restored by Railway's rollback.
    assert_eq!(w.railway.image(SERVICE), Some(image(GOOD)));
    assert_eq!(w.railway.variables(SERVICE)["VERSION"], "old");
    let report = run.report();
    assert_eq!(report["railway"][0]["method"], "deployment-rollback");
    assert_eq!(report["railway"][0]["status"], "success");
    let records: Vec<_> = w
        .github
        .deployments()
        .into_iter()
        .filter(|d| d.2["kind"] == "rollback")
        .collect();
    assert_eq!(records.len(), 1);
}

#[test]
fn outside_retention_it_redeploys_and_says_so() {
    let w = world();
    w.railway.expire_images(SERVICE);
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("rolled-back"), "true");
    assert!(w.railway.calls("deploymentRollback").is_empty());
    assert_eq!(w.railway.calls("deploymentRedeploy").len(), 1);
    assert!(
        run.everything().contains("railway-redeploy"),
        "{}",
        run.everything()
    );
    assert!(run.everything().contains("retention"));
    assert_eq!(run.report()["railway"][0]["method"], "redeploy");
    assert_eq!(
        w.railway.deployments(SERVICE).pop().unwrap().2,
        Some(image(GOOD))
    );
}

#[test]
fn a_rollback_railway_refuses_fails_the_run() {
    let w = world();
    w.railway.force(sandbox::railway::Forced {
        operation: "DeploymentRollback".into(),
        status: 200,
        body: serde_json::json!({"data": null, "errors": [{"message": "Problem processing request"}]}),
        retry_after: None,
        times: 1,
    });
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert_eq!(run.output("rolled-back"), "false");
    assert!(run.everything().contains("Problem processing request"));
    assert_eq!(w.railway.image(SERVICE), Some(image(BAD)));
}

#[test]
fn an_error_after_the_rollback_was_accepted_keeps_and_cancels_it() {
    let w = world();
    w.railway.behaviour(
        GOOD,
        sandbox::railway::Behaviour::healthy(std::time::Duration::from_secs(1)),
    );
    let mut running = rollback(&w).spawn();
    assert!(
        running.wait_for(|| !w.railway.calls("deploymentRollback").is_empty()),
        "the rollback was sent"
    );
    w.railway.force(sandbox::railway::Forced {
        operation: "Deployment".into(),
        status: 401,
        body: serde_json::json!({"data": null, "errors": [{"message": "Not Authorized"}]}),
        retry_after: None,
        times: 20,
    });
    let run = running.finish();
    run.assert_exit(3);
    let report = run.report();
    let message = report["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("service {SERVICE} may have been rolled back")),
        "{message}"
    );
    let id = report["railway"][0]["services"][0]["deployment_id"]
        .as_str()
        .expect("the new deployment's id");
    let cancels = w.railway.calls("deploymentCancel");
    assert_eq!(cancels.len(), 1, "{}", run.everything());
    assert_eq!(cancels[0].variables["id"], id);
}

#[test]
fn source_platform_is_for_railway_only() {
    let run = ToolRun::new(BIN)
        .input("platform", "fly")
        .input("source", "platform")
        .input("url", "http://127.0.0.1:9/health")
        .input("fly-token", "fm2_x")
        .input("app", "web")
        .input("image-template", "registry.fly.io/{app}:{sha}")
        .input("github-token", "t")
        .run();
    run.assert_exit(2);
    assert!(run.stderr.contains("source"), "{}", run.stderr);
}

#[test]
fn a_rollback_left_unanswered_until_the_deploy_timeout_is_a_timeout() {
    let w = world();
    w.railway
        .stall("DeploymentRollback", std::time::Duration::from_secs(30));
    let run = rollback(&w).input("deploy-timeout", "2s").run();
    // A timeout of the rollback, as deploy.rs has for its own mutations; not an error (3).
    run.assert_exit(1);
    assert_eq!(run.output("rolled-back"), "false");
    let report = run.report();
    assert_eq!(report["railway"][0]["status"], "timeout", "{report}");
    assert!(
        report["railway"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("no answer before the timeout"),
        "{report}"
    );
}

#[test]
fn a_signal_while_the_rollbacks_deployment_is_looked_for_is_interrupted() {
    let w = world();
    // Railway accepts the rollback, but its deployment never shows in the list.
    w.railway.hide_new_deployments();
    let mut running = rollback(&w).spawn();
    let looking = || {
        let requests = w.railway.requests();
        let has = |r: &sandbox::railway::Recorded, field: &str| r.fields.iter().any(|f| f == field);
        requests
            .iter()
            .position(|r| has(r, "deploymentRollback"))
            .is_some_and(|at| requests[at + 1..].iter().any(|r| has(r, "deployments")))
    };
    assert!(
        running.wait_for(looking),
        "the rollback's deployment was looked for"
    );
    running.signal("TERM");
    let run = running.finish();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "interrupted", "{}", run.everything());
    assert_eq!(run.output("rolled-back"), "false");
    let report = run.report();
    assert_eq!(report["railway"][0]["status"], "interrupted", "{report}");
    let reason = report["railway"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("SIGTERM"), "{reason}");
    assert!(reason.contains("not listed"), "{reason}");
    // Nothing known to cancel, and the run does not claim it cancelled anything.
    assert!(w.railway.calls("deploymentCancel").is_empty());
    let message = report["message"].as_str().unwrap();
    assert!(message.contains("not listed"), "{message}");
    assert!(!message.contains("deployment was cancelled"), "{message}");
}

const WORKER: &str = "worker";

/// The worker runs web's image (one image for several services, as railway-deploy deploys
/// it): their previous deployments are one version.
fn worker_image(sha: &str) -> String {
    image(sha)
}

/// `app: web,worker`: the run rolls both back, web first.
fn rollback_both(w: &World) -> ToolRun {
    rollback(w).input("app", &format!("{SERVICE},{WORKER}"))
}

#[test]
fn a_later_service_without_a_previous_deployment_refuses_before_anything_changes() {
    let w = world();
    // The worker has served one deployment only: nothing to go back to.
    w.railway
        .add_service_on(WORKER, ENVIRONMENT, 1, &worker_image(BAD));
    let run = rollback_both(&w).run();
    assert_eq!(run.output("rolled-back"), "false", "{}", run.everything());
    assert_eq!(run.output("reason"), "no-target", "{}", run.everything());
    assert!(
        run.report()["message"]
            .as_str()
            .unwrap()
            .contains(&format!("service {WORKER}")),
        "{}",
        run.everything()
    );
    // web was not rolled back ahead of the refusal.
    assert!(w.railway.calls("deploymentRollback").is_empty());
    assert_eq!(w.railway.image(SERVICE), Some(image(BAD)));
}

#[test]
fn apps_whose_previous_deployments_differ_are_not_rolled_back() {
    const OTHER: &str = "4444444444444444444444444444444444444444";
    let w = world();
    // The worker served OTHER before BAD, web served GOOD: no one version to record.
    w.railway
        .add_service_on(WORKER, ENVIRONMENT, 2, &worker_image(OTHER))
        .add_finished(WORKER, &worker_image(BAD));
    let run = rollback_both(&w).run();
    assert_eq!(run.output("rolled-back"), "false", "{}", run.everything());
    assert_eq!(run.output("reason"), "no-target", "{}", run.everything());
    let message = run.report()["message"].as_str().unwrap().to_owned();
    assert!(message.contains(&format!("commit {GOOD}")), "{message}");
    assert!(message.contains(&format!("commit {OTHER}")), "{message}");
    assert!(w.railway.calls("deploymentRollback").is_empty());
    assert!(w.railway.calls("deploymentRedeploy").is_empty());
    assert_eq!(w.railway.image(SERVICE), Some(image(BAD)));
    assert_eq!(w.railway.image(WORKER), Some(worker_image(BAD)));
}

#[test]
fn an_error_on_a_later_service_keeps_what_the_first_did_and_asks_for_a_person() {
    let w = world();
    w.railway
        .add_service_on(WORKER, ENVIRONMENT, 2, &worker_image(GOOD))
        .add_finished(WORKER, &worker_image(BAD))
        // web's rollback takes a while: time to break the worker's first request.
        .behaviour(
            GOOD,
            sandbox::railway::Behaviour::healthy(std::time::Duration::from_millis(200)),
        );
    let slack = sandbox::slack::Slack::start().unwrap();
    let mut running = rollback_both(&w)
        .input("slack-webhook-url", &slack.webhook_url())
        .spawn();
    assert!(
        running.wait_for(|| !w.railway.calls("deploymentRollback").is_empty()),
        "web's rollback was sent"
    );
    // The worker's rollback begins with the token's scope: refused from now on.
    w.railway.force(sandbox::railway::Forced {
        operation: "ProjectToken".into(),
        status: 401,
        body: serde_json::json!({"data": null, "errors": [{"message": "Not Authorized"}]}),
        retry_after: None,
        times: 20,
    });
    let run = running.finish();
    // A person must look: web runs the old deployment, the worker does not.
    run.assert_exit(3);
    assert_eq!(w.railway.calls("deploymentRollback").len(), 1);
    assert_eq!(w.railway.image(SERVICE), Some(image(GOOD)));
    assert_eq!(w.railway.image(WORKER), Some(worker_image(BAD)));
    let report = run.report();
    assert_eq!(
        report["railway"][0]["services"][0]["service"], SERVICE,
        "{report}"
    );
    assert_eq!(report["railway"][0]["status"], "success", "{report}");
    let message = report["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("service {SERVICE} was rolled back")),
        "{message}"
    );
    assert!(
        message.contains(&format!("service {WORKER} was not")),
        "{message}"
    );
    let alerts = slack.messages();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0]
            .2
            .to_string()
            .contains(&format!("service {SERVICE} was rolled back")),
        "{alerts:?}"
    );
}

#[test]
fn an_error_after_a_signal_on_a_later_service_still_asks_for_a_person() {
    let w = world();
    w.railway
        .add_service_on(WORKER, ENVIRONMENT, 2, &worker_image(GOOD))
        .add_finished(WORKER, &worker_image(BAD))
        .behaviour(
            GOOD,
            sandbox::railway::Behaviour::healthy(std::time::Duration::from_millis(200)),
        );
    let mut running = rollback_both(&w).spawn();
    assert!(
        running.wait_for(|| !w.railway.calls("deploymentRollback").is_empty()),
        "web's rollback was sent"
    );
    // The worker's first request (the token's scope, sent outside any signal's reach) is
    // held, then refused.
    w.railway
        .stall("ProjectToken", std::time::Duration::from_secs(2));
    w.railway.force(sandbox::railway::Forced {
        operation: "ProjectToken".into(),
        status: 401,
        body: serde_json::json!({"data": null, "errors": [{"message": "Not Authorized"}]}),
        retry_after: None,
        times: 20,
    });
    assert!(
        running.wait_for(|| w.railway.stalled_arrivals() > 0),
        "the worker's rollback began"
    );
    running.signal("TERM");
    let run = running.finish();
    // web was rolled back and the worker was not: a signal does not make that a 1.
    run.assert_exit(3);
    assert_eq!(w.railway.image(SERVICE), Some(image(GOOD)));
    let message = run.report()["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains(&format!("service {SERVICE} was rolled back")),
        "{message}"
    );
}

#[test]
fn an_error_after_a_later_rollback_was_accepted_keeps_and_cancels_it() {
    let w = world();
    w.railway
        .add_service_on(WORKER, ENVIRONMENT, 2, &worker_image(GOOD))
        .add_finished(WORKER, &worker_image(BAD))
        // Each rollback takes a few seconds: time to break the worker's reads.
        .behaviour(
            GOOD,
            sandbox::railway::Behaviour::healthy(std::time::Duration::from_secs(1)),
        );
    let mut running = rollback_both(&w).spawn();
    assert!(
        running.wait_for(|| w.railway.calls("deploymentRollback").len() == 2),
        "the worker's rollback was sent"
    );
    // Reading the worker's new deployment is refused from now on.
    w.railway.force(sandbox::railway::Forced {
        operation: "Deployment".into(),
        status: 401,
        body: serde_json::json!({"data": null, "errors": [{"message": "Not Authorized"}]}),
        retry_after: None,
        times: 20,
    });
    let run = running.finish();
    run.assert_exit(3);
    let report = run.report();
    let message = report["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("service {SERVICE} was rolled back")),
        "{message}"
    );
    assert!(
        message.contains(&format!("service {WORKER} may have been rolled back")),
        "{message}"
    );
    let worker = &report["railway"][1]["services"][0];
    assert_eq!(worker["service"], WORKER, "{report}");
    let id = worker["deployment_id"]
        .as_str()
        .expect("the worker's deployment id");
    let cancels = w.railway.calls("deploymentCancel");
    assert_eq!(cancels.len(), 1, "{}", run.everything());
    assert_eq!(cancels[0].variables["id"], id);
}

#[test]
fn a_later_service_without_time_left_is_not_started() {
    let w = world();
    w.railway
        .add_service_on(WORKER, ENVIRONMENT, 2, &worker_image(GOOD))
        .add_finished(WORKER, &worker_image(BAD));
    // Under four request timeouts (4 x 30 s: the worker's token scope, history, rollback and
    // the list that finds its deployment) and a poll: once web is back, the worker would have
    // too little time to follow (or cancel) its rollback.
    let run = rollback_both(&w).input("deploy-timeout", "100s").run();
    run.assert_exit(1);
    assert_eq!(run.output("rolled-back"), "false");
    assert_eq!(w.railway.calls("deploymentRollback").len(), 1);
    assert_eq!(w.railway.image(SERVICE), Some(image(GOOD)));
    assert_eq!(w.railway.image(WORKER), Some(worker_image(BAD)));
    let report = run.report();
    let message = report["message"].as_str().unwrap();
    assert!(message.contains("timeout"), "{message}");
    assert!(
        message.contains(&format!("service {WORKER} was not started")),
        "{message}"
    );
    assert!(message.contains("used up"), "{message}");
}

#[test]
fn an_interrupted_rollback_without_a_github_record_still_alerts() {
    let w = world();
    // A manual `to` needs no GitHub: no record is opened. GOOD's deploy never finishes.
    w.railway.behaviour(
        GOOD,
        sandbox::railway::Behaviour::never(std::time::Duration::from_millis(50)),
    );
    let before = w.railway.deployments(SERVICE).len();
    let slack = sandbox::slack::Slack::start().unwrap();
    let mut running = rollback(&w)
        .without_env("INPUT_GITHUB_TOKEN")
        .without_env("INPUT_SOURCE")
        .input("to", GOOD)
        .input("slack-webhook-url", &slack.webhook_url())
        .spawn();
    assert!(
        running.wait_for(|| w.railway.deployments(SERVICE).len() > before),
        "the redeploy started"
    );
    running.signal("TERM");
    let run = running.finish();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "interrupted", "{}", run.everything());
    let report = run.report();
    assert!(report["github_deployment_id"].is_null(), "{report}");
    assert!(report["railway"].is_array(), "{report}");
    assert_eq!(slack.messages().len(), 1, "{}", run.everything());
}

#[test]
fn a_hostile_target_image_is_shown_neutralised() {
    // Railway's image has no control characters (model.rs drops one that has): the attack is
    // a workflow command inside the line.
    let hostile = "ghcr.io/acme/web:old ##[error]pwned";
    let railway = Railway::start().unwrap();
    // The target names its commit, so its image (the report's `to` beside it) is taken as
    // Railway gives it.
    railway
        .add_service_on(SERVICE, ENVIRONMENT, 3, hostile)
        .set_commit(SERVICE, GOOD)
        .add_finished(SERVICE, &image(BAD))
        .unhealthy_image(BAD);
    railway.force(sandbox::railway::Forced {
        operation: "DeploymentRollback".into(),
        status: 200,
        body: serde_json::json!({"data": null, "errors": [{"message": "Problem processing request"}]}),
        retry_after: None,
        times: 1,
    });
    let w = World {
        railway,
        github: GitHub::start().unwrap(),
    };
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert!(
        run.stderr.contains("did not deploy"),
        "{}",
        run.everything()
    );
    assert!(run.stderr.contains("pwned"), "{}", run.everything());
    for line in run.stderr.lines().chain(run.stdout.lines()) {
        assert!(
            !line.contains("##[error]") && !line.trim_start().starts_with("::error title=pwned"),
            "{line}"
        );
    }
}
