//! health-wait's `metrics-url` source as users run it: the sandbox's traffic app under load,
//! its `/metrics` scraped at every interval, no Prometheus server. The same scenarios as the
//! real-Prometheus test: healthy passes, a 5 % error burst and a latency regression fail.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::harness::ToolRun;
use sandbox::traffic::{Load, Scenario, TrafficApp};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_health-wait");
const CHECKS: &str = r#"error-rate: sum(rate(app_requests_total{code=~"5.."}[1m])) / sum(rate(app_requests_total[1m])) < 0.01
p95: histogram_quantile(0.95, sum by (le) (rate(app_request_duration_seconds_bucket[1m]))) < 0.2"#;

fn traffic(scenario: Scenario) -> (TrafficApp, Load) {
    let app = TrafficApp::start(scenario).unwrap();
    let load = Load::start(app.server.addr, 4, Duration::from_millis(5));
    (app, load)
}

fn health_wait(app: &TrafficApp) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", &app.url("/health"))
        .input("interval", "500ms")
        .input("timeout", "10s")
        .input("hold", "2s")
        .input("metrics", CHECKS)
        .input("metrics-url", &app.url("/metrics"))
}

#[test]
fn healthy_traffic_passes() {
    let (app, _load) = traffic(Scenario::Healthy);
    let run = health_wait(&app).run();
    run.assert_exit(0);
    let metrics = &run.report()["metrics"];
    assert_eq!(metrics["verdict"], json!("passed"), "{metrics}");
    assert!(
        metrics["source"]
            .as_str()
            .unwrap()
            .starts_with("scrape http://127.0.0.1:")
    );
    let measurements = metrics["checks"][0]["measurements"].as_array().unwrap();
    assert!(measurements.len() >= 2, "{measurements:?}");
    assert_eq!(measurements[0]["value"], json!(0.0));
}

#[test]
fn a_five_percent_error_burst_fails() {
    let (app, _load) = traffic(Scenario::ErrorBurst);
    let run = health_wait(&app).run();
    run.assert_exit(1);
    let report = run.report();
    let error_rate = &report["metrics"]["checks"][0];
    assert_eq!(error_rate["verdict"], json!("failed"), "{error_rate}");
    let value = error_rate["measurements"][0]["value"].as_f64().unwrap();
    assert!((0.03..=0.07).contains(&value), "{value}");
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .starts_with("metrics: error-rate 0.0"),
        "{}",
        report["reason"]
    );
    // Served counts from the app itself agree that one request in 20 failed.
    let (served, errors) = app.served();
    assert_eq!(errors, served / 20);
}

#[test]
fn a_latency_regression_fails_p95() {
    let (app, _load) = traffic(Scenario::LatencyRegression);
    let run = health_wait(&app).run();
    run.assert_exit(1);
    let report = run.report();
    let p95 = &report["metrics"]["checks"][1];
    assert_eq!(p95["verdict"], json!("failed"), "{p95}");
    let value = p95["measurements"][0]["value"].as_f64().unwrap();
    assert!((0.25..=0.5).contains(&value), "{value}");
}

#[test]
fn a_counter_reset_during_the_hold_is_not_a_negative_rate() {
    let (app, _load) = traffic(Scenario::Healthy);
    let mut running = health_wait(&app)
        .input(
            "metrics",
            "requests: sum(increase(app_requests_total[1m])) > 0",
        )
        .spawn();
    // Reset once the first window is measured (the app restarted: its counters from 0), so
    // that a later window spans the reset.
    assert!(running.wait_for(|| app.scrapes() >= 2));
    app.reset_counters();
    let run = running.finish();
    run.assert_exit(0);
    let values: Vec<f64> = run.report()["metrics"]["checks"][0]["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_f64().unwrap())
        .collect();
    assert!(values.iter().all(|v| *v > 0.0), "{values:?}");
}

#[test]
fn an_unsupported_query_is_named_at_start() {
    let (app, _load) = traffic(Scenario::Healthy);
    let run = health_wait(&app)
        .input(
            "metrics",
            "p99: quantile(0.99, rate(app_requests_total[1m])) < 1",
        )
        .run();
    run.assert_exit(2);
    run.assert_one_error_line();
    assert!(
        run.stderr
            .contains("check `p99`: the aggregation quantile is not supported with metrics-url"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_p95_regression_against_a_baseline_fails_max_p95_ratio() {
    // Loose absolute limits: only the comparison with the baseline can fail this run.
    let loose = r#"error-rate: sum(rate(app_requests_total{code=~"5.."}[1m])) / sum(rate(app_requests_total[1m])) < 0.5
p95: histogram_quantile(0.95, sum by (le) (rate(app_request_duration_seconds_bucket[1m]))) < 10"#;
    let (app, _load) = traffic(Scenario::Healthy);
    let before = health_wait(&app).input("metrics", loose).run();
    before.assert_exit(0);
    let baseline = before.output("report").to_owned();

    // The same app, as fast as before: within 2× of its own baseline (given as a file).
    let same = health_wait(&app).input("metrics", loose);
    let path = same.file("baseline.json", &baseline);
    let run = same
        .input("baseline", &path)
        .input("max-p95-ratio", "2")
        .input("max-error-rate-increase", "1%")
        .run();
    run.assert_exit(0);
    assert_eq!(
        run.report()["baseline"][0]["passed"],
        json!(true),
        "{}",
        run.report()["baseline"]
    );

    app.set_scenario(Scenario::LatencyRegression);
    let run = health_wait(&app)
        .input("metrics", loose)
        .input("baseline", &baseline)
        .input("max-p95-ratio", "2")
        .run();
    run.assert_exit(1);
    let report = run.report();
    assert_eq!(report["metrics"]["verdict"], json!("passed"));
    let comparison = &report["baseline"][0];
    assert_eq!(comparison["check"], json!("p95"));
    assert_eq!(comparison["basis"], json!("metric"));
    assert_eq!(comparison["passed"], json!(false));
    let reason = report["reason"].as_str().unwrap();
    assert!(reason.starts_with("baseline: p95 (metric) 0."), "{reason}");
    assert!(
        run.stderr.contains("title=health-baseline-failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn baseline_inputs_are_checked_at_start() {
    let (app, _load) = traffic(Scenario::Healthy);
    let run = health_wait(&app).input("max-p95-ratio", "2").run();
    run.assert_exit(2);
    assert!(run.stderr.contains("set `baseline`"), "{}", run.stderr);
    let run = health_wait(&app)
        .input("baseline", "{not json")
        .input("max-p95-ratio", "2")
        .run();
    run.assert_exit(2);
    assert!(
        run.stderr.contains("not a health-wait report"),
        "{}",
        run.stderr
    );
    let run = health_wait(&app)
        .input("baseline", "{}")
        .input("max-p95-ratio", "-1")
        .run();
    run.assert_exit(2);
    assert!(run.stderr.contains("max-p95-ratio"), "{}", run.stderr);
}
