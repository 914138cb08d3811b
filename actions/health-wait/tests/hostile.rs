//! health-wait against hostile servers (sandbox::hostile): redirects, huge and endless
//! bodies, silence and trickles. Everything must stay bounded and say what happened.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::app::{App, Plan, Reply};
use sandbox::harness::ToolRun;
use sandbox::hostile::{Hostile, Mode};
use serde_json::json;
use shipguard::bounded::REPORT_BUDGET;

const BIN: &str = env!("CARGO_BIN_EXE_health-wait");

fn health_wait(url: &str) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", url)
        .input("interval", "50ms")
        .input("timeout", "2s")
        .limit(Duration::from_secs(30))
}

fn login_page() -> App {
    let app = App::start().unwrap();
    app.plan(
        "/login",
        Plan::Sequence(vec![Reply::status(200).body("Sign in")]),
    );
    app
}

#[test]
fn a_redirect_to_a_login_page_is_not_healthy() {
    let login = login_page();
    let target = format!(
        "http://user:hunter2@{}/login?token=SENTINEL-LOCATION-SECRET",
        login.server.addr
    );
    let health = Hostile::start(Mode::redirect(302, &target)).unwrap();
    let run = health_wait(&health.url("/health")).run();
    run.assert_exit(1);
    assert_eq!(run.output("last-status"), "302");
    let failed = run.output("failed-condition");
    assert!(
        failed.contains(r#"[STATUS] == 200 (got "302"); a redirect to http://"#)
            && failed.contains(&format!("{}/login", login.server.addr))
            && failed.contains("not followed"),
        "{failed}"
    );
    assert_eq!(login.hits("/login"), 0, "the redirect was followed");
    let everything = run.everything();
    assert!(
        !everything.contains("SENTINEL-LOCATION-SECRET"),
        "{everything}"
    );
    assert!(!everything.contains("hunter2"), "{everything}");
    let report = run.report();
    assert!(
        report["urls"][0]["redirect"]
            .as_str()
            .unwrap()
            .ends_with("/login?token=***"),
        "{report}"
    );
}

#[test]
fn follow_redirects_follows_within_the_origin() {
    let app = App::start().unwrap();
    app.plan(
        "/health",
        Plan::Sequence(vec![Reply::status(301).header("location", "/health/")]),
    );
    app.plan("/health/", Plan::Sequence(vec![Reply::status(200)]));
    let run = health_wait(&app.url("/health"))
        .input("follow-redirects", "true")
        .run();
    run.assert_exit(0);
    assert_eq!(run.output("last-status"), "200");
    assert_eq!(app.hits("/health/"), 1);
}

#[test]
fn custom_headers_never_reach_another_origin() {
    let other = App::start().unwrap();
    other.plan("/login", Plan::Echo);
    let health = Hostile::start(Mode::redirect(307, &other.url("/login"))).unwrap();
    let run = health_wait(&health.url("/health"))
        .input("follow-redirects", "true")
        .input("headers", "X-Api-Key: SENTINEL-API-KEY")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("last-status"), "307");
    assert!(
        health
            .seen()
            .iter()
            .all(|s| s.header("x-api-key") == Some("SENTINEL-API-KEY")),
        "the origin itself gets the header"
    );
    assert!(other.seen().is_empty(), "another port got a request");
    assert!(
        run.output("failed-condition").contains("not followed"),
        "{}",
        run.output("failed-condition")
    );
}

#[test]
fn an_endless_body_is_judged_on_its_start_and_says_so() {
    let health = Hostile::start(Mode::endless_json()).unwrap();
    let run = health_wait(&health.url("/health"))
        .input("expect", "[BODY] == pat(*healthy*)")
        .input("timeout", "1s")
        .run();
    run.assert_exit(1);
    let failed = run.output("failed-condition");
    assert!(
        failed.contains("judged on the first 256 KiB of a longer body"),
        "{failed}"
    );
    let report = run.report();
    assert_eq!(report["urls"][0]["body_truncated"], json!(true));
}

#[test]
fn a_huge_body_is_judged_on_its_start() {
    let health = Hostile::start(Mode::huge_text("status: ok ", 20 << 20)).unwrap();
    let run = health_wait(&health.url("/health"))
        .input("expect", "[BODY] == pat(status: ok*)")
        .run();
    run.assert_exit(0);
    assert_eq!(run.report()["urls"][0]["body_truncated"], json!(true));
}

#[test]
fn a_large_body_under_a_body_condition_keeps_the_report_output_bounded() {
    // Every attempt fails a [BODY] condition on a 200 KiB body: once each failure kept the
    // whole body, and the report output ran to megabytes.
    let app = App::start().unwrap();
    app.plan(
        "/health",
        Plan::Sequence(vec![Reply::status(200).body(&"n".repeat(200 * 1024))]),
    );
    let run = health_wait(&app.url("/health"))
        .input("expect", "[BODY] == pat(*ok*)")
        .input("interval", "10ms")
        .input("timeout", "3s")
        .run();
    run.assert_exit(1);
    let report = run.output("report");
    assert!(report.len() <= REPORT_BUDGET, "{} bytes", report.len());
    let parsed: serde_json::Value = serde_json::from_str(report).unwrap();
    assert_eq!(parsed["healthy"], json!(false));
    assert!(run.output("failed-condition").len() < 1000);
}

#[test]
fn many_urls_and_attempts_keep_the_report_output_bounded() {
    let app = App::start().unwrap();
    app.plan("/health", Plan::Sequence(vec![Reply::status(503)]));
    let urls: Vec<String> = (0..40)
        .map(|i| app.url(&format!("/health?n={i}&padding={}", "p".repeat(300))))
        .collect();
    let run = ToolRun::new(BIN)
        .input("url", &urls.join("\n"))
        .input("interval", "10ms")
        .input("timeout", "2s")
        .limit(Duration::from_secs(30))
        .run();
    run.assert_exit(1);
    let report = run.output("report");
    assert!(report.len() <= REPORT_BUDGET, "{} bytes", report.len());
    let parsed: serde_json::Value = serde_json::from_str(report).unwrap();
    assert!(parsed["report_truncated"]["note"].is_string(), "{parsed}");
}

#[test]
fn a_server_that_never_answers_ends_at_the_deadline() {
    let health = Hostile::start(Mode::Silent).unwrap();
    let run = health_wait(&health.url("/health"))
        .input("request-timeout", "1m")
        .input("timeout", "1s")
        .limit(Duration::from_secs(20))
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("healthy"), "false");
}

#[test]
fn a_trickled_body_ends_at_the_request_timeout() {
    let health = Hostile::start(Mode::Trickle {
        every: Duration::from_millis(20),
    })
    .unwrap();
    let run = health_wait(&health.url("/health"))
        .input("request-timeout", "300ms")
        .input("timeout", "1s")
        .limit(Duration::from_secs(20))
        .run();
    run.assert_exit(1);
    assert!(
        run.output("failed-condition").contains("timeout")
            || run
                .output("failed-condition")
                .contains("no response within"),
        "{}",
        run.output("failed-condition")
    );
}

#[test]
fn port_zero_is_a_usage_error() {
    let run = ToolRun::new(BIN)
        .input("url", "http://127.0.0.1:0/health")
        .run();
    run.assert_exit(2);
    run.assert_one_error_line();
    assert!(run.stderr.contains("port 0"), "{}", run.stderr);
}

#[test]
fn the_hold_ends_on_time_even_when_the_server_stops_answering() {
    let app = App::start().unwrap();
    app.plan(
        "/health",
        Plan::SwitchAfter {
            after: Duration::from_millis(300),
            before: Reply::status(200),
            then: Reply::status(200).delay(Duration::from_secs(120)),
        },
    );
    let run = health_wait(&app.url("/health"))
        .input("request-timeout", "1m")
        .input("hold", "1s")
        .limit(Duration::from_secs(20))
        .run();
    // Once an attempt in the hold could run a full minute past the hold's end.
    assert!(run.code.is_some(), "killed at the harness limit");
    // An attempt that waited most of the hold for an answer is an error, not excused.
    run.assert_exit(1);
    let report = run.report();
    assert!(
        report["urls"][0]["hold"]["errors"].as_u64() >= Some(1),
        "{report}"
    );
}
