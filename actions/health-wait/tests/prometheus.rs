//! health-wait against a real Prometheus (started on loopback with a 1 s scrape interval)
//! scraping the sandbox's traffic app under load: healthy traffic passes, a 5 % error burst
//! and a latency regression fail, a query that returns nothing is inconclusive. When
//! Prometheus is not installed the test says it was skipped (CI installs it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::harness::ToolRun;
use sandbox::prometheus::RealPrometheus;
use sandbox::traffic::{Load, Scenario, TrafficApp};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_health-wait");
const ERROR_RATE_QUERY: &str =
    r#"sum(rate(app_requests_total{code=~"5.."}[5s])) / sum(rate(app_requests_total[5s]))"#;
const P95_QUERY: &str =
    "histogram_quantile(0.95, sum by (le) (rate(app_request_duration_seconds_bucket[5s])))";

fn checks() -> String {
    format!("error-rate: {ERROR_RATE_QUERY} < 0.01\np95: {P95_QUERY} < 0.2")
}

fn health_wait(app: &TrafficApp, prometheus: &RealPrometheus, metrics: &str) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", &app.url("/health"))
        .input("interval", "1s")
        .input("timeout", "10s")
        .input("hold", "3500ms")
        .input("metrics", metrics)
        .input("prometheus-url", &prometheus.base_url())
}

#[test]
fn real_prometheus_judges_real_traffic() {
    let app = TrafficApp::start(Scenario::Healthy).unwrap();
    let _load = Load::start(app.server.addr, 4, Duration::from_millis(10));
    let Some(prometheus) = RealPrometheus::start(app.server.addr).unwrap() else {
        eprintln!(
            "SKIPPED real_prometheus_judges_real_traffic: `prometheus` is not installed (apt-get install prometheus; CI installs it)"
        );
        return;
    };
    let window = Duration::from_secs(30);
    // Wait for the window to hold samples: a rate needs two scrapes.
    assert!(prometheus.wait_until(window, |p| {
        p.query(ERROR_RATE_QUERY).is_some_and(|v| v == 0.0)
    }));

    let run = health_wait(&app, &prometheus, &checks()).run();
    run.assert_exit(0);
    let metrics = &run.report()["metrics"];
    assert_eq!(metrics["verdict"], json!("passed"), "{metrics}");
    assert!(
        metrics["checks"][0]["measurements"]
            .as_array()
            .unwrap()
            .len()
            >= 3
    );

    // One request in 20 fails: 5 % over a 1 % limit.
    app.set_scenario(Scenario::ErrorBurst);
    assert!(prometheus.wait_until(window, |p| {
        p.query(ERROR_RATE_QUERY).is_some_and(|v| v > 0.03)
    }));
    let run = health_wait(&app, &prometheus, &checks())
        .input("failure-limit", "1")
        .run();
    run.assert_exit(1);
    let report = run.report();
    assert_eq!(report["metrics"]["verdict"], json!("failed"));
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

    // Every request takes 300 ms: p95 lands in the (0.25, 0.5] bucket.
    app.set_scenario(Scenario::LatencyRegression);
    assert!(
        prometheus.wait_until(window, |p| p.query(P95_QUERY).is_some_and(|v| v > 0.25)
            && p.query(ERROR_RATE_QUERY).is_some_and(|v| v == 0.0))
    );
    let run = health_wait(&app, &prometheus, &checks()).run();
    run.assert_exit(1);
    let report = run.report();
    let p95 = &report["metrics"]["checks"][1];
    assert_eq!(p95["verdict"], json!("failed"), "{p95}");
    assert_eq!(report["metrics"]["checks"][0]["verdict"], json!("passed"));

    // A series nobody exposes: no sample, inconclusive.
    let run = health_wait(
        &app,
        &prometheus,
        "missing: sum(rate(app_never_exposed_total[5s])) < 1",
    )
    .run();
    run.assert_exit(1);
    let report = run.report();
    assert_eq!(report["metrics"]["verdict"], json!("inconclusive"));
    assert!(
        report["reason"].as_str().unwrap().contains("no sample"),
        "{}",
        report["reason"]
    );
}
