//! railway-deploy as users run it, against the sandbox Railway GraphQL API
//! (tests/sandbox/src/railway.rs, written from Railway's schema and docs, not from our
//! client; every document it receives is validated against the schema).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::harness::{ToolRun, action_run_script};
use sandbox::railway::{
    ACCOUNT_TOKEN, Behaviour, ENVIRONMENT, Forced, OLD_IMAGE, OTHER_ENVIRONMENT, PROJECT,
    PROJECT_TOKEN, Railway, SERVICE,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_railway-deploy");
const NEW: &str = "ghcr.io/acme/web:new";
const STEP: Duration = Duration::from_millis(60);

/// Lines holding `secret` other than the `::add-mask::` lines that hide it.
fn leaks(text: &str, secret: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(secret) && !l.starts_with("::add-mask::"))
        .map(str::to_owned)
        .collect()
}

fn sandbox() -> Railway {
    let railway = Railway::start().unwrap();
    railway.add_service(SERVICE, ENVIRONMENT, 3);
    railway
}

fn deploy(railway: &Railway, image: &str) -> ToolRun {
    ToolRun::new(BIN)
        .env("SHIPGUARD_TEST_RAILWAY_POLL_FLOOR_MS", "10")
        .env("SHIPGUARD_TEST_NO_RETRY_DELAY", "1")
        .input("api-url", &railway.url())
        .input("railway-token", PROJECT_TOKEN)
        .input("railway-project", PROJECT)
        .input("railway-environment", ENVIRONMENT)
        .input("service", SERVICE)
        .input("image", image)
        .input("poll-interval", "20ms")
        .input("timeout", "20s")
}

fn newest(railway: &Railway) -> (String, String, Option<String>) {
    railway.deployments(SERVICE).pop().unwrap()
}

#[test]
fn an_image_deploy_waits_for_success_and_reports_what_served_before() {
    let railway = sandbox();
    let run = deploy(&railway, NEW).run();
    run.assert_exit(0);
    assert_eq!(run.output("status"), "success");
    let (id, status, image) = newest(&railway);
    assert_eq!((status.as_str(), image.as_deref()), ("SUCCESS", Some(NEW)));
    let ids: Value = serde_json::from_str(run.output("deployment-ids")).unwrap();
    assert_eq!(ids, json!({SERVICE: id}));
    let previous: Value = serde_json::from_str(run.output("previous")).unwrap();
    assert_eq!(previous[SERVICE]["image"], OLD_IMAGE);
    // The newest SUCCESS before the deploy, found by date in an unsorted list.
    let before = &railway.deployments(SERVICE)[2];
    assert_eq!(previous[SERVICE]["deployment"], before.0.as_str());
    let report = run.report();
    assert_eq!(report["schema"], "shipguard.railway-deploy/1");
    assert_eq!(report["services"][0]["status"], "SUCCESS");
    assert!(report["requests"].as_u64().unwrap() >= 5, "{report}");
    assert!(leaks(&run.everything(), PROJECT_TOKEN).is_empty());
    // The project token went in its own header on every request.
    assert!(railway.requests().iter().all(|r| r.auth == "project"));
}

#[test]
fn a_commit_deploy_with_an_account_token() {
    let railway = sandbox();
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let run = ToolRun::new(BIN)
        .env("SHIPGUARD_TEST_RAILWAY_POLL_FLOOR_MS", "10")
        .env("RAILWAY_API_TOKEN", ACCOUNT_TOKEN)
        .input("api-url", &railway.url())
        .input("token-kind", "account")
        .input("railway-project", PROJECT)
        .input("railway-environment", ENVIRONMENT)
        .input("service", SERVICE)
        .input("commit", sha)
        .input("poll-interval", "20ms")
        .run();
    run.assert_exit(0);
    let deploys = railway.calls("serviceInstanceDeployV2");
    assert_eq!(deploys.len(), 1);
    assert_eq!(deploys[0].variables["commitSha"], sha);
    assert!(railway.calls("serviceInstanceUpdate").is_empty());
    assert!(railway.requests().iter().all(|r| r.auth == "bearer"));
    assert!(leaks(&run.everything(), ACCOUNT_TOKEN).is_empty());
}

#[test]
fn a_project_token_sent_as_bearer_names_token_kind() {
    let railway = sandbox();
    let run = deploy(&railway, NEW).input("token-kind", "account").run();
    run.assert_exit(3);
    run.assert_one_error_line();
    assert!(run.stderr.contains("token-kind: project"), "{}", run.stderr);
    assert!(run.stderr.contains("Not Authorized"), "{}", run.stderr);
    assert!(leaks(&run.everything(), PROJECT_TOKEN).is_empty());
    assert!(
        railway.calls("serviceInstanceUpdate").is_empty(),
        "nothing changed"
    );
}

#[test]
fn a_project_token_of_another_environment_is_a_usage_error() {
    let railway = sandbox();
    let run = deploy(&railway, NEW)
        .input("railway-environment", OTHER_ENVIRONMENT)
        .run();
    run.assert_exit(2);
    assert!(run.stderr.contains("railway-environment"), "{}", run.stderr);
    assert!(railway.calls("serviceInstanceUpdate").is_empty());
}

#[test]
fn a_mutation_answered_with_errors_and_http_200_is_a_failure() {
    let railway = sandbox();
    railway.refuse_image("rejected");
    let run = deploy(&railway, "ghcr.io/acme/web:rejected").run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "failed");
    assert!(
        run.stdout.contains("Invalid image source"),
        "{}",
        run.stdout
    );
    assert!(
        railway.calls("serviceInstanceDeployV2").is_empty(),
        "never deployed"
    );
    assert_eq!(railway.image(SERVICE).as_deref(), Some(OLD_IMAGE));
}

#[test]
fn a_crashed_deployment_fails_the_deploy() {
    let railway = sandbox();
    railway.behaviour("crash", Behaviour::ending(STEP, "CRASHED"));
    let run = deploy(&railway, "ghcr.io/acme/web:crash").run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "failed");
    assert_eq!(run.report()["services"][0]["status"], "CRASHED");
    assert!(run.stdout.contains("CRASHED"), "{}", run.stdout);
    assert!(
        run.stderr.contains("::error title=deploy-failed::"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_timeout_cancels_the_deployment() {
    let railway = sandbox();
    railway.behaviour("stuck", Behaviour::never(STEP));
    let run = deploy(&railway, "ghcr.io/acme/web:stuck")
        .input("timeout", "1s")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "timeout");
    assert_eq!(railway.calls("deploymentCancel").len(), 1);
    assert_eq!(newest(&railway).1, "REMOVED");
    assert_eq!(run.report()["services"][0]["cancelled"], true);
}

#[test]
fn a_timeout_without_cancel_leaves_it_running() {
    let railway = sandbox();
    railway.behaviour("stuck", Behaviour::never(STEP));
    let run = deploy(&railway, "ghcr.io/acme/web:stuck")
        .input("timeout", "1s")
        .input("cancel-on-timeout", "false")
        .run();
    run.assert_exit(1);
    assert!(railway.calls("deploymentCancel").is_empty());
}

#[test]
fn unknown_statuses_are_waited_through() {
    let railway = sandbox();
    let mut odd = Behaviour::healthy(Duration::from_millis(300));
    odd.odd_status = Some("HIBERNATING");
    railway.behaviour("odd", odd);
    let run = deploy(&railway, "ghcr.io/acme/web:odd").run();
    run.assert_exit(0);
    assert!(
        run.everything().contains("HIBERNATING"),
        "{}",
        run.everything()
    );
}

#[test]
fn a_signal_mid_wait_cancels_the_deployment() {
    let railway = sandbox();
    railway.behaviour("slow", Behaviour::never(STEP));
    let action = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let mut running = deploy(&railway, "ghcr.io/acme/web:slow")
        .input("timeout", "5m")
        .as_step(&action_run_script(&action))
        .spawn();
    assert!(
        running.wait_for(|| !railway.calls("deployment").is_empty()),
        "the wait began"
    );
    running.signal("INT");
    let run = running.finish();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "interrupted");
    assert_eq!(railway.calls("deploymentCancel").len(), 1);
}

#[test]
fn a_429_is_waited_out_and_counted() {
    let railway = sandbox();
    railway.force(Forced {
        operation: "Deployments".into(),
        status: 429,
        body: json!({"errors": [{"message": "Rate limit exceeded"}]}),
        retry_after: Some(0),
        times: 1,
    });
    let run = deploy(&railway, NEW).run();
    run.assert_exit(0);
    let sent = railway.requests().len() as u64;
    assert_eq!(run.report()["requests"].as_u64().unwrap(), sent);
    assert_eq!(
        railway
            .requests()
            .iter()
            .filter(|r| r.status == 429)
            .count(),
        1
    );
}

#[test]
fn bad_inputs_are_one_line_usage_errors() {
    let railway = sandbox();
    for (name, value, needle) in [
        ("poll-interval", "1s", "at least 5s"),
        ("token-kind", "workspace", "token-kind"),
        ("service", "a b", "service"),
        (
            "commit",
            "0123456789abcdef0123456789abcdef01234567",
            "both given",
        ),
        ("railway-project", "", "railway-project"),
    ] {
        let run = deploy(&railway, NEW)
            .env("SHIPGUARD_TEST_RAILWAY_POLL_FLOOR_MS", "5000")
            .input(name, value)
            .run();
        run.assert_exit(2);
        run.assert_one_error_line();
        assert!(run.stderr.contains(needle), "{name}: {}", run.stderr);
        assert!(leaks(&run.everything(), PROJECT_TOKEN).is_empty());
    }
    assert!(railway.requests().is_empty());
}

#[test]
fn a_deploy_refused_after_the_image_was_set_says_the_image_changed() {
    let railway = sandbox();
    railway.force(Forced {
        operation: "ServiceInstanceDeployV2".into(),
        status: 200,
        body: json!({"data": null, "errors": [{"message": "Deploys are paused"}]}),
        retry_after: None,
        times: 1,
    });
    let run = deploy(&railway, NEW).run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "failed");
    // The image was changed on the service, and the run says so and what it was.
    assert_eq!(railway.image(SERVICE).as_deref(), Some(NEW));
    for text in [&run.stdout, &run.summary] {
        assert!(text.contains("Deploys are paused"), "{text}");
        assert!(text.contains(&format!("already set to {NEW}")), "{text}");
        assert!(text.contains(&format!("it was {OLD_IMAGE}")), "{text}");
    }
    let report = run.report();
    let note = report["services"][0]["note"].as_str().unwrap();
    assert!(
        note.contains("set the service's source image back"),
        "{note}"
    );
}

#[test]
fn a_deployment_that_succeeds_within_the_last_poll_interval_is_read_at_the_deadline() {
    let railway = sandbox();
    // The deployment succeeds in about 150 ms; the first poll would come after 1 h: the
    // only read is the last one, at the 2 s deadline.
    let run = deploy(&railway, NEW)
        .input("poll-interval", "1h")
        .input("timeout", "2s")
        .run();
    run.assert_exit(0);
    assert_eq!(run.output("status"), "success");
    assert_eq!(railway.calls("deployment").len(), 1);
    assert!(railway.calls("deploymentCancel").is_empty());
}

#[test]
fn more_services_than_one_run_handles_is_a_usage_error() {
    let railway = sandbox();
    let services: Vec<String> = (0..21)
        .map(|i| format!("9f1c7a52-0000-4000-8000-{i:012}"))
        .collect();
    let run = deploy(&railway, NEW)
        .input("service", &services.join(","))
        .run();
    run.assert_exit(2);
    run.assert_one_error_line();
    assert!(run.stderr.contains("at most 20"), "{}", run.stderr);
    assert!(railway.requests().is_empty());
    // 20 is allowed (each unknown to the sandbox: not a usage error).
    let run = deploy(&railway, NEW)
        .input("service", &services[..20].join(","))
        .run();
    assert_ne!(run.code, Some(2), "{}", run.stderr);
}

#[test]
fn a_deploy_failing_after_the_image_was_set_says_the_image_changed() {
    let railway = sandbox();
    railway.force(Forced {
        operation: "ServiceInstanceDeployV2".into(),
        status: 500,
        body: json!({"message": "internal error"}),
        retry_after: None,
        times: 1,
    });
    let run = deploy(&railway, NEW).run();
    run.assert_exit(3);
    run.assert_one_error_line();
    assert_eq!(railway.image(SERVICE).as_deref(), Some(NEW));
    assert!(
        run.stderr.contains(&format!("already set to {NEW}")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("HTTP 500"), "{}", run.stderr);
}

/// Starting the second service fails after the first's deployment was queued: that one is
/// not dropped but cancelled (cancel-on-timeout) and in the report, and the run fails (3).
#[test]
fn an_error_starting_a_later_service_keeps_and_cancels_the_first_ones_deployment() {
    const WORKER: &str = "9f1c7a52-0000-4000-8000-00000000s002";
    let railway = sandbox();
    railway
        .add_service(WORKER, ENVIRONMENT, 2)
        .behaviour("new", Behaviour::never(STEP))
        .stall("ServiceInstanceUpdate", Duration::from_secs(1));
    let mut running = deploy(&railway, NEW)
        .input("service", &format!("{SERVICE},{WORKER}"))
        .spawn();
    // The worker's image update has arrived (held back): it is refused once answered.
    assert!(
        running.wait_for(|| railway.stalled_arrivals() >= 2),
        "the worker's image update was sent"
    );
    railway.force(Forced {
        operation: "ServiceInstanceUpdate".into(),
        status: 401,
        body: json!({"data": null, "errors": [{"message": "Not Authorized"}]}),
        retry_after: None,
        times: 10,
    });
    let run = running.finish();
    run.assert_exit(3);
    let (id, _, image) = newest(&railway);
    assert_eq!(image.as_deref(), Some(NEW));
    let cancels = railway.calls("deploymentCancel");
    assert_eq!(cancels.len(), 1, "{}", run.everything());
    assert_eq!(cancels[0].variables["id"], id.as_str());
    let ids: Value = serde_json::from_str(run.output("deployment-ids")).unwrap();
    assert_eq!(ids, json!({SERVICE: id}));
    let report = run.report();
    assert_eq!(report["services"][0]["cancelled"], true, "{report}");
    assert!(run.stderr.contains("cancelled"), "{}", run.stderr);
}
