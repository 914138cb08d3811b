//! health-wait's metric checks as users run them: the real binary, INPUT_* variables, a
//! stand-in Prometheus HTTP API (scripted answers) and, when it is installed, a real
//! Prometheus scraping the sandbox's traffic app.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use sandbox::app::{App, Plan, Reply};
use sandbox::harness::ToolRun;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_health-wait");
const ERROR_RATE: &str = r#"error-rate: sum(rate(app_requests_total{code=~"5.."}[5s])) / sum(rate(app_requests_total[5s])) < 0.01"#;

/// A Prometheus `/api/v1/query` answer with one sample per value.
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

/// An app with a healthy `/health`, and the stand-in Prometheus under `/prom`.
fn app(answers: Vec<Reply>) -> App {
    let app = App::start().unwrap();
    app.plan("/health", Plan::Sequence(vec![Reply::status(200)]));
    app.plan("/prom/api/v1/query", Plan::Sequence(answers));
    app
}

fn health_wait(app: &App) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", &app.url("/health"))
        .input("interval", "100ms")
        .input("timeout", "5s")
        .input("hold", "1s")
        .input("metrics", ERROR_RATE)
        .input("prometheus-url", &app.url("/prom"))
}

#[test]
fn a_bad_check_is_a_usage_error_at_start() {
    let app = app(vec![vector(&["0"])]);
    for (metrics, expected) in [
        (
            "error-rate: sum(rate(x[1m]))",
            "does not end with a comparison",
        ),
        ("error-rate: sum(rate(x[1m]) < 1", "not valid PromQL"),
        ("no name here < 1", "is not `NAME: QUERY OP NUMBER`"),
    ] {
        let run = health_wait(&app).input("metrics", metrics).run();
        run.assert_exit(2);
        run.assert_one_error_line();
        assert!(run.stderr.contains("metrics"), "{}", run.stderr);
        assert!(run.stderr.contains(expected), "{metrics}: {}", run.stderr);
    }
    let run = health_wait(&app).input("prometheus-url", "").run();
    run.assert_exit(2);
    assert!(run.stderr.contains("prometheus-url"), "{}", run.stderr);
    let run = health_wait(&app).input("hold", "").run();
    run.assert_exit(2);
    assert!(run.stderr.contains("hold"), "{}", run.stderr);
    // Nothing was sent before the input was checked.
    assert_eq!(app.hits("/health"), 0);
    assert_eq!(app.hits("/prom/api/v1/query"), 0);
}

#[test]
fn passing_measurements_keep_it_healthy_and_are_all_reported() {
    let app = app(vec![vector(&["0.001"]), vector(&["0"])]);
    let run = health_wait(&app).run();
    run.assert_exit(0);
    let report = run.report();
    let metrics = &report["metrics"];
    assert_eq!(metrics["verdict"], json!("passed"), "{metrics}");
    let measurements = metrics["checks"][0]["measurements"].as_array().unwrap();
    // Every query the stand-in answered is one measurement in the report.
    assert_eq!(measurements.len(), app.hits("/prom/api/v1/query"));
    assert!(measurements.len() >= 3, "{measurements:?}");
    assert_eq!(measurements[0]["value"], json!(0.001));
    assert_eq!(measurements[0]["outcome"], json!("passed"));
    // The path prefix is kept and the query is sent as is.
    let seen = app.seen();
    let query = seen
        .iter()
        .find(|s| s.path == "/prom/api/v1/query")
        .unwrap();
    assert_eq!(query.method, "GET");
    assert!(run.summary.contains("Metric analysis"), "{}", run.summary);
    assert!(run.summary.contains("| error-rate |"), "{}", run.summary);
}

#[test]
fn a_flapping_app_fails_the_failure_limit() {
    // Fails one measurement in two: never two failures in a row, still unhealthy.
    let answers: Vec<Reply> = (0..20)
        .map(|i| vector(&[if i % 2 == 0 { "0.08" } else { "0" }]))
        .collect();
    let app = app(answers);
    let run = health_wait(&app)
        .input("hold", "3s")
        .input("failure-limit", "1")
        .run();
    run.assert_exit(1);
    let report = run.report();
    assert_eq!(report["healthy"], json!(false));
    assert_eq!(report["metrics"]["verdict"], json!("failed"));
    assert_eq!(report["metrics"]["checks"][0]["failed"], json!(2));
    let reason = report["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("metrics: error-rate 0.08 breaks `< 0.01` in 2 of 3 measurements"),
        "{reason}"
    );
    assert!(
        run.stderr.contains("title=health-metrics-failed"),
        "{}",
        run.stderr
    );
    // Decided after the second failure: not measured to the end of the 3 s hold.
    assert_eq!(app.hits("/prom/api/v1/query"), 3);
}

#[test]
fn a_query_returning_nothing_is_inconclusive_not_a_pass() {
    let app = app(vec![vector(&[])]);
    let run = health_wait(&app).run();
    run.assert_exit(1);
    let report = run.report();
    assert_eq!(report["metrics"]["verdict"], json!("inconclusive"));
    let reason = report["reason"].as_str().unwrap();
    assert!(reason.starts_with("inconclusive: "), "{reason}");
    assert!(reason.contains("no sample"), "{reason}");
    assert!(
        run.stderr.contains("title=health-metrics-inconclusive"),
        "{}",
        run.stderr
    );
    // Tolerated within the inconclusive limit; a value that is NaN or several series too.
    let app = self::app(vec![
        vector(&[]),
        vector(&["NaN"]),
        vector(&["1", "2"]),
        vector(&["0"]),
    ]);
    let run = health_wait(&app)
        .input("hold", "1s")
        .input("inconclusive-limit", "3")
        .run();
    run.assert_exit(0);
    let checks = &run.report()["metrics"]["checks"][0];
    assert_eq!(checks["inconclusive"], json!(3), "{checks}");
}

#[test]
fn prometheus_headers_are_sent_and_never_shown() {
    const SENTINEL: &str = "s3cr3t-prom-t0ken";
    let app = app(vec![vector(&["0"])]);
    let run = health_wait(&app)
        .input(
            "prometheus-headers",
            &format!("Authorization: Bearer {SENTINEL}\nX-Scope-OrgID: team-a"),
        )
        .run();
    run.assert_exit(0);
    let seen = app.seen();
    let query = seen
        .iter()
        .find(|s| s.path == "/prom/api/v1/query")
        .unwrap();
    assert!(
        query
            .headers
            .contains(&("authorization".to_owned(), format!("Bearer {SENTINEL}"))),
        "{:?}",
        query.headers
    );
    assert!(
        run.stderr
            .contains(&format!("::add-mask::Bearer {SENTINEL}"))
    );
    assert!(!unmasked(&run.everything()).contains(SENTINEL));
    // A malformed line is named by number, its value never printed.
    let run = health_wait(&app)
        .input("prometheus-headers", &format!("Bearer {SENTINEL}"))
        .run();
    run.assert_exit(2);
    assert!(run.stderr.contains("line 1"), "{}", run.stderr);
    assert!(run.stderr.contains("::add-mask::"), "{}", run.stderr);
    assert!(!unmasked(&run.everything()).contains(SENTINEL));
}

#[test]
fn no_measurement_when_the_probes_never_become_healthy() {
    let app = app(vec![vector(&["0"])]);
    app.plan("/health", Plan::Sequence(vec![Reply::status(503)]));
    let run = health_wait(&app).input("timeout", "500ms").run();
    run.assert_exit(1);
    let report = run.report();
    assert_eq!(report["metrics"]["verdict"], json!("not-run"));
    assert_eq!(app.hits("/prom/api/v1/query"), 0);
    assert!(
        run.stderr.contains("title=health-timeout"),
        "{}",
        run.stderr
    );
}

/// Everything shown except the `::add-mask::` commands themselves.
fn unmasked(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect::<Vec<_>>()
        .join("\n")
}
