//! auto-rollback with metric checks: the probes see a healthy `/health`, the traffic tells
//! another story. A stand-in Prometheus HTTP API gives scripted answers (the instant-query
//! reply `{"status","data":{"resultType","result"}}` of Prometheus's `/api/v1/query`; the same
//! client is held against a real Prometheus 2.42 in tests/prometheus.rs); the sandbox's
//! Coolify and GitHub play the rest.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::app::{App, Plan, Reply};
use sandbox::coolify::{Coolify, Script, TOKEN};
use sandbox::github::{self, GitHub};
use sandbox::harness::ToolRun;
use sandbox::slack::Slack;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_auto-rollback");
const WEB: &str = "webappuuid00000000000001";
const GOOD: &str = "2222222222222222222222222222222222222222";
const BAD: &str = "3333333333333333333333333333333333333333";
const ERROR_RATE: &str = r#"error-rate: sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m])) < 0.01"#;

fn tag(sha: &str) -> String {
    format!("main-{}", &sha[..7])
}

struct World {
    coolify: Coolify,
    github: GitHub,
    slack: Slack,
    prometheus: App,
}

/// BAD runs and answers `/health` fine; GOOD deployed before it.
fn world(answers: Vec<Reply>) -> World {
    let coolify = Coolify::start().unwrap();
    coolify
        .add_app(WEB, "web", "ghcr.io/acme/web", &tag(BAD))
        .default_script(Script::finishes_after(Duration::from_millis(100)));
    let github = GitHub::start().unwrap();
    for sha in [GOOD, BAD] {
        github.add_run("deploy.yml", sha, "main", "success");
    }
    let prometheus = App::start().unwrap();
    prometheus.plan("/api/v1/query", Plan::Sequence(answers));
    World {
        coolify,
        github,
        slack: Slack::start().unwrap(),
        prometheus,
    }
}

fn vector(values: &[&str]) -> Reply {
    let result: Vec<_> = values
        .iter()
        .map(|v| json!({"metric": {}, "value": [1_700_000_000.5, v]}))
        .collect();
    Reply::json(
        200,
        json!({"status": "success", "data": {"resultType": "vector", "result": result}}),
    )
}

fn rollback(w: &World) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", &w.coolify.health_url(WEB))
        .input("interval", "100ms")
        .input("request-timeout", "2s")
        .input("failure-threshold", "3")
        .input("verify-timeout", "10s")
        .input("coolify-url", &w.coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .input("image-tag-template", "main-{short_sha}")
        .input("poll-interval", "50ms")
        .input("github-token", github::TOKEN)
        .input("slack-webhook-url", &w.slack.webhook_url())
        .input("metrics", ERROR_RATE)
        .input("prometheus-url", &w.prometheus.server.base_url())
        .env("GITHUB_API_URL", &w.github.api_url())
        .env("GITHUB_REPOSITORY", github::REPOSITORY)
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "77")
}

fn deploys(w: &World) -> usize {
    w.coolify
        .requests()
        .iter()
        .filter(|r| r.path == "/deploy")
        .count()
}

fn slack_texts(w: &World) -> String {
    w.slack
        .received()
        .iter()
        .map(|r| r.raw.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_failing_metric_check_rolls_back_and_verifies() {
    // 8 % of requests fail while /health answers 200; after the rollback none do (the
    // verification measures the checks again, like the analysis).
    let w = world(vec![vector(&["0.081"]), vector(&["0"])]);
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("healthy-before"), "false");
    assert_eq!(run.output("rolled-back"), "true");
    assert_eq!(run.output("verified"), "true");
    assert_eq!(run.output("reason"), "rolled-back");
    assert_eq!(w.coolify.running_tag(WEB), Some(tag(GOOD)));
    let report = run.report();
    let check = &report["metrics"]["checks"][0];
    assert_eq!(check["verdict"], json!("failed"), "{check}");
    assert_eq!(check["measurements"][0]["value"], json!(0.081));
    // The verification queried the checks again.
    assert!(w.prometheus.hits("/api/v1/query") >= 2);
    // Slack names the check that failed and its value.
    let texts = slack_texts(&w);
    assert!(
        texts.contains("metrics: error-rate 0.081 breaks `< 0.01` in 1 of 1 measurements"),
        "{texts}"
    );
}

#[test]
fn passing_metric_checks_change_nothing() {
    let w = world(vec![vector(&["0"])]);
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("healthy-before"), "true");
    assert_eq!(run.output("reason"), "healthy");
    assert_eq!(deploys(&w), 0);
    let measurements = run.report()["metrics"]["checks"][0]["measurements"]
        .as_array()
        .unwrap()
        .len();
    // failure-threshold (3) measurements at interval.
    assert_eq!(measurements, 3);
}

#[test]
fn an_inconclusive_analysis_rolls_nothing_back_and_asks_a_person() {
    let w = world(vec![vector(&[])]);
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "inconclusive");
    assert_eq!(run.output("rolled-back"), "false");
    assert_eq!(run.output("healthy-before"), "unknown");
    assert_eq!(deploys(&w), 0);
    assert!(
        run.stderr.contains("title=rollback-inconclusive"),
        "{}",
        run.stderr
    );
    let texts = slack_texts(&w);
    assert!(texts.contains("a person must look"), "{texts}");
    assert!(texts.contains("no sample"), "{texts}");
}

#[test]
fn a_metric_check_still_failing_after_the_rollback_is_not_verified() {
    // The probes pass before and after the rollback; the error rate stays at 8 %.
    let w = world(vec![vector(&["0.081"])]);
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert_eq!(run.output("rolled-back"), "true");
    assert_eq!(run.output("verified"), "false");
    assert_eq!(run.output("reason"), "verification-failed");
    assert_eq!(w.coolify.running_tag(WEB), Some(tag(GOOD)));
    let report = run.report();
    assert!(
        report["verification"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["healthy"] == json!(true)),
        "the probes passed: {report}"
    );
    // The verification's own measurements are in the report, not only in the log.
    let measured = &report["verification_metrics"];
    assert_eq!(measured["verdict"], json!("failed"), "{report}");
    assert!(
        measured.to_string().contains("0.081"),
        "the verification's measured value: {measured}"
    );
    let message = report["message"].as_str().unwrap();
    assert!(message.contains("still unhealthy (metrics: "), "{message}");
    assert!(message.contains("error-rate 0.081"), "{message}");
    let texts = slack_texts(&w);
    assert!(
        texts.contains("still unhealthy after the rollback"),
        "{texts}"
    );
}
