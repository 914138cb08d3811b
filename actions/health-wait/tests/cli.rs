//! health-wait as users run it: the real binary, a cleared environment, INPUT_* variables,
//! local servers, and the output and summary files read back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::app::{App, Plan, Reply};
use sandbox::harness::ToolRun;
use sandbox::server::Dropper;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_health-wait");

fn health_wait(url: &str) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", url)
        .input("interval", "50ms")
        .input("timeout", "5s")
}

fn app(plan: Plan) -> App {
    let app = App::start().unwrap();
    app.plan("/health", plan);
    app
}

#[test]
fn becomes_healthy_after_a_delay() {
    let app = app(Plan::SwitchAfter {
        after: Duration::from_millis(400),
        before: Reply::status(503),
        then: Reply::status(200),
    });
    let run = health_wait(&app.url("/health")).run();
    run.assert_exit(0);
    assert_eq!(run.output("healthy"), "true");
    assert_eq!(run.output("last-status"), "200");
    assert_eq!(run.output("failed-condition"), "");
    let attempts: usize = run.output("attempts").parse().unwrap();
    assert!(attempts >= 2, "503s come first: {attempts}");
    assert_eq!(app.hits("/health"), attempts);
    let report = run.report();
    assert_eq!(report["healthy"], json!(true));
    assert_eq!(report["urls"][0]["verdict"], json!("healthy"));
    assert_eq!(
        report["urls"][0]["samples"].as_array().unwrap().len(),
        attempts
    );
    assert!(
        run.summary.contains("health-wait: healthy"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("| URL | Verdict | Attempts |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("```mermaid\nxychart-beta"),
        "{}",
        run.summary
    );
    assert!(
        run.stderr.contains("::group::Probing http://127.0.0.1:"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("::endgroup::"));
    assert!(run.stdout.starts_with("healthy: 1 URL"), "{}", run.stdout);
}

#[test]
fn stays_unavailable_until_the_deadline() {
    let app = app(Plan::Sequence(vec![Reply::status(503)]));
    let run = health_wait(&app.url("/health"))
        .input("timeout", "600ms")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("healthy"), "false");
    assert_eq!(run.output("last-status"), "503");
    assert_eq!(
        run.output("failed-condition"),
        "[STATUS] == 200 (got \"503\")"
    );
    assert!(
        run.stderr
            .contains("::error title=health-timeout::unhealthy: "),
        "{}",
        run.stderr
    );
    assert_eq!(run.report()["urls"][0]["verdict"], json!("timeout"));
    assert!(run.summary.contains("not healthy"), "{}", run.summary);
}

#[test]
fn unauthorized_fails_fast_unless_expected() {
    let app = app(Plan::Sequence(vec![Reply::status(401)]));
    let run = health_wait(&app.url("/health"))
        .input("timeout", "30s")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("attempts"), "1", "no retry of a 401");
    assert_eq!(
        run.output("failed-condition"),
        "[STATUS] == 200 (got \"401\")"
    );
    assert!(
        run.report()["reason"]
            .as_str()
            .unwrap()
            .contains("401 Unauthorized"),
        "{}",
        run.report()
    );
    assert!(
        run.stderr.contains("title=health-failed-fast"),
        "{}",
        run.stderr
    );

    let run = health_wait(&app.url("/health"))
        .input("expect", "[STATUS] == any(200, 401)")
        .run();
    run.assert_exit(0);
}

#[test]
fn success_threshold_counts_consecutive_passes() {
    let ok = || Reply::status(200);
    let down = || Reply::status(503);
    let app = app(Plan::Sequence(vec![ok(), down(), ok(), down(), ok(), ok()]));
    let run = health_wait(&app.url("/health"))
        .input("success-threshold", "2")
        .run();
    run.assert_exit(0);
    assert_eq!(
        run.output("attempts"),
        "6",
        "alternating passes never reach 2 in a row"
    );
}

#[test]
fn a_slow_server_times_out_each_request() {
    let app = app(Plan::Sequence(vec![
        Reply::status(200).delay(Duration::from_secs(3)),
    ]));
    let run = health_wait(&app.url("/health"))
        .input("request-timeout", "200ms")
        .input("timeout", "700ms")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("last-status"), "");
    let failure = run.output("failed-condition");
    assert!(
        failure.contains("timeout") || failure.contains("no response within"),
        "{failure}"
    );
}

#[test]
fn response_time_condition_fails_a_slow_answer() {
    let app = app(Plan::Sequence(vec![
        Reply::status(200).delay(Duration::from_millis(250)),
    ]));
    let run = health_wait(&app.url("/health"))
        .input("expect", "[STATUS] == 200\n[RESPONSE_TIME] < 100")
        .input("timeout", "600ms")
        .run();
    run.assert_exit(1);
    assert!(
        run.output("failed-condition")
            .starts_with("[RESPONSE_TIME] < 100 (got "),
        "{}",
        run.output("failed-condition")
    );
}

#[test]
fn dropped_connections_are_retried_not_fatal() {
    let dropper = Dropper::start().unwrap();
    let run = health_wait(&dropper.url()).input("timeout", "500ms").run();
    run.assert_exit(1);
    let report = run.report();
    assert_eq!(report["urls"][0]["verdict"], json!("timeout"));
    assert!(
        report["urls"][0]["attempts"].as_u64().unwrap() >= 2,
        "{report}"
    );
}

#[test]
fn degraded_json_until_every_check_is_up() {
    let degraded = Reply::json(
        200,
        json!({"status": "degraded", "checks": {"database": {"status": "down"}}}),
    );
    let healthy = Reply::json(
        200,
        json!({"status": "healthy", "checks": {"database": {"status": "up"}}}),
    );
    let app = app(Plan::Sequence(vec![degraded.clone(), degraded, healthy]));
    let run = health_wait(&app.url("/health"))
        .input(
            "expect",
            "[STATUS] == 200\n[BODY].status == healthy\n[BODY].checks.database.status == up",
        )
        .run();
    run.assert_exit(0);
    assert_eq!(run.output("attempts"), "3");
    assert!(
        run.stderr
            .contains(r#"[BODY].status == healthy (got "degraded")"#),
        "{}",
        run.stderr
    );
}

#[test]
fn several_urls_are_probed_together() {
    let fast = app(Plan::Sequence(vec![Reply::status(200)]));
    let slow = app(Plan::SwitchAfter {
        after: Duration::from_millis(300),
        before: Reply::status(502),
        then: Reply::status(200),
    });
    let urls = format!("{}\n{}", fast.url("/health"), slow.url("/health"));
    let run = health_wait(&urls).run();
    run.assert_exit(0);
    let report = run.report();
    assert_eq!(report["urls"].as_array().unwrap().len(), 2);
    assert_eq!(report["urls"][0]["attempts"], json!(1));
    // Both started together: the second URL's first attempt did not wait for the first URL.
    assert!(
        report["urls"][1]["samples"][0]["at_ms"].as_u64().unwrap() < 50,
        "{report}"
    );

    let down = app(Plan::Sequence(vec![Reply::status(503)]));
    let missing = app(Plan::Sequence(vec![Reply::status(404)]));
    let urls = format!("{}\n{}", down.url("/health"), missing.url("/health"));
    let run = health_wait(&urls).input("expect", "[STATUS] == 200").run();
    run.assert_exit(1);
    let report = run.report();
    assert!(
        report["reason"].as_str().unwrap().contains("404 Not Found"),
        "{report}"
    );
    assert_eq!(report["urls"][1]["verdict"], json!("failed-fast"));
    assert_eq!(
        report["urls"][0]["verdict"],
        json!("cancelled"),
        "the other URL stops at once"
    );
}

#[test]
fn hold_judges_error_rate_after_healthy() {
    let ok = || Reply::status(200);
    let flaky = app(Plan::Sequence(vec![
        ok(),
        ok(),
        Reply::status(500),
        ok(),
        Reply::status(500),
        ok(),
    ]));
    let run = health_wait(&flaky.url("/health"))
        .input("hold", "400ms")
        .input("max-error-rate", "10%")
        .run();
    run.assert_exit(1);
    assert!(
        run.stderr.contains("title=health-hold-failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.output("failed-condition").contains("error rate"),
        "{}",
        run.output("failed-condition")
    );

    let steady = app(Plan::Sequence(vec![ok()]));
    let run = health_wait(&steady.url("/health"))
        .input("hold", "300ms")
        .run();
    run.assert_exit(0);
    let hold = &run.report()["urls"][0]["hold"];
    assert!(hold["attempts"].as_u64().unwrap() >= 2, "{hold}");
    assert_eq!(hold["errors"], json!(0));
}

#[test]
fn hold_judges_p95_latency() {
    let slow = app(Plan::Sequence(vec![
        Reply::status(200).delay(Duration::from_millis(120)),
    ]));
    let run = health_wait(&slow.url("/health"))
        .input("hold", "400ms")
        .input("max-p95", "50ms")
        .run();
    run.assert_exit(1);
    assert!(
        run.output("failed-condition").contains("p95 latency"),
        "{}",
        run.output("failed-condition")
    );
}

#[test]
fn tls_with_a_private_ca() {
    let pki = sandbox::tls::make_pki(30).unwrap();
    let app = App::start_on(
        "127.0.0.1:0".parse().unwrap(),
        Some(pki.server_config.clone()),
    )
    .unwrap();
    app.plan("/health", Plan::Sequence(vec![Reply::status(200)]));
    let url = format!("{}/health", app.server.localhost_url());

    let run = health_wait(&url).input("timeout", "600ms").run();
    run.assert_exit(1);
    assert!(
        run.output("failed-condition")
            .to_lowercase()
            .contains("certificate"),
        "{}",
        run.output("failed-condition")
    );

    let with_ca =
        health_wait(&url).input("expect", "[STATUS] == 200\n[CERTIFICATE_EXPIRATION] > 168h");
    let ca = with_ca.file("ca.pem", &pki.ca_pem);
    let run = with_ca.input("ca-cert", &ca).run();
    run.assert_exit(0);

    let near_expiry = health_wait(&url)
        .input("expect", "[CERTIFICATE_EXPIRATION] > 60d")
        .input("timeout", "300ms");
    let ca = near_expiry.file("ca.pem", &pki.ca_pem);
    let run = near_expiry.input("ca-cert", &ca).run();
    run.assert_exit(1);
    assert!(
        run.output("failed-condition")
            .starts_with("[CERTIFICATE_EXPIRATION] > 60d (got \"29d 23h\")"),
        "{}",
        run.output("failed-condition")
    );

    let run = health_wait(&url).input("insecure", "true").run();
    run.assert_exit(0);
}

#[test]
fn localhost_reaches_ipv4_and_ipv6_servers() {
    let v4 = app(Plan::Sequence(vec![Reply::status(200)]));
    let run = health_wait(&format!("{}/health", v4.server.localhost_url())).run();
    run.assert_exit(0);
    // IPv6 loopback is not on every machine; where it is, localhost must find it too.
    if let Ok(v6) = App::start_on("[::1]:0".parse().unwrap(), None) {
        v6.plan("/health", Plan::Sequence(vec![Reply::status(200)]));
        let run = health_wait(&format!("{}/health", v6.server.localhost_url())).run();
        run.assert_exit(0);
    }
}

#[test]
fn method_headers_and_body_are_sent() {
    let app = app(Plan::Sequence(vec![Reply::status(200)]));
    let run = health_wait(&app.url("/health"))
        .input("method", "post")
        .input("headers", "X-Probe: one\nAccept: application/json")
        .input("body", "{\"ping\":true}")
        .run();
    run.assert_exit(0);
    let seen = &app.seen()[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.body, "{\"ping\":true}");
    assert!(
        seen.headers.contains(&("x-probe".into(), "one".into())),
        "{:?}",
        seen.headers
    );
    assert!(
        seen.headers
            .iter()
            .any(|(n, v)| n == "user-agent" && v.starts_with("shipguard-health-wait/"))
    );
}

#[test]
fn a_header_secret_never_leaks() {
    const SENTINEL: &str = "SENTINEL-7f3a9c-never-print-me";
    let app = App::start().unwrap();
    app.plan("/echo", Plan::Echo);
    // The echo server puts the secret in the body, which fails the condition and is excerpted.
    let run = health_wait(&app.url("/echo"))
        .input("headers", &format!("Authorization: Bearer {SENTINEL}"))
        .input("expect", "[BODY].authorization == nope")
        .input("timeout", "300ms")
        .run();
    run.assert_exit(1);
    assert!(
        app.seen()[0]
            .headers
            .iter()
            .any(|(_, v)| v.contains(SENTINEL)),
        "the header was sent"
    );
    let everything = run.everything();
    let leaks: Vec<&str> = everything
        .lines()
        .filter(|l| l.contains(SENTINEL) && !l.starts_with("::add-mask::"))
        .collect();
    assert!(leaks.is_empty(), "leaked: {leaks:?}");
    assert!(
        run.stderr
            .contains(&format!("::add-mask::Bearer {SENTINEL}")),
        "masked first"
    );
}

/// The lines of a run that show `secret`, other than the masks that hide it.
fn leaks<'a>(everything: &'a str, secret: &str) -> Vec<&'a str> {
    everything
        .lines()
        .filter(|l| l.contains(secret) && !l.starts_with("::add-mask::"))
        .collect()
}

#[test]
fn a_server_echoing_only_the_token_after_bearer_leaks_nothing() {
    const TOKEN: &str = "SENTINEL-5d1e-only-the-token";
    // The server echoes the token alone, not the whole header value it came in.
    let app = app(Plan::Sequence(vec![Reply::json(
        503,
        json!({"error": format!("bad token {TOKEN}"), "token": TOKEN}),
    )]));
    let run = health_wait(&app.url("/health"))
        .input(
            "headers",
            &format!("X-Trace: 1\nAuthorization: Bearer {TOKEN}"),
        )
        .input("timeout", "300ms")
        .run();
    run.assert_exit(1);
    let everything = run.everything();
    assert!(everything.contains("bad token ***"), "{everything}");
    assert_eq!(leaks(&everything, TOKEN), Vec::<&str>::new());
    assert_eq!(leaks(&run.report().to_string(), TOKEN), Vec::<&str>::new());
    let first_mask = run.stderr.find(&format!("::add-mask::{TOKEN}\n"));
    let first_probe = run.stderr.find("health").unwrap_or(usize::MAX);
    assert!(
        first_mask.is_some_and(|m| m < first_probe),
        "{}",
        run.stderr
    );
}

#[test]
fn a_malformed_header_line_is_named_by_number_not_text() {
    const SECRET: &str = "SENTINEL-93ab-in-a-bad-line";
    for bad in [
        format!("Authorization Bearer {SECRET}"),
        format!("Authorization Bearer {SECRET}: x"),
        format!("Authorization: Bearer {SECRET}\u{1}"),
    ] {
        let run = ToolRun::new(BIN)
            .input("url", "http://127.0.0.1:9/")
            .input("headers", &format!("X-Ok: 1\n{bad}"))
            .run();
        assert_eq!(run.code, Some(2), "{bad:?}: {}", run.stderr);
        assert!(run.stderr.contains("line 2"), "{}", run.stderr);
        assert_eq!(
            leaks(&run.everything(), SECRET),
            Vec::<&str>::new(),
            "{bad:?}"
        );
    }
}

#[test]
fn a_url_that_does_not_parse_is_not_quoted() {
    for url in [
        "https://u:pa@SENTINEL-after-second-at@[::1/",
        "https://example.com:99999/?token=SENTINEL-in-query",
    ] {
        let run = ToolRun::new(BIN).input("url", url).run();
        assert_eq!(run.code, Some(2), "{url}: {}", run.stderr);
        assert!(run.stderr.contains("invalid input `url`"), "{}", run.stderr);
        assert_eq!(
            leaks(&run.everything(), "SENTINEL"),
            Vec::<&str>::new(),
            "{url}"
        );
    }
}

#[test]
fn hostile_bodies_cannot_inject_workflow_commands() {
    let evil = "::set-output name=healthy::true\n::error::injected\n::add-mask::x";
    let app = app(Plan::Sequence(vec![Reply::json(
        200,
        json!({"status": evil}),
    )]));
    let run = health_wait(&app.url("/health"))
        .input("expect", "[BODY].status == ok")
        .input("timeout", "200ms")
        .run();
    run.assert_exit(1);
    for line in run.stderr.lines().chain(run.stdout.lines()) {
        assert!(
            !line.starts_with("::set-output") && !line.starts_with("::error::injected"),
            "{line}"
        );
    }
    assert_eq!(run.output("healthy"), "false");
    assert!(!run.outputs.contains_key("set-output"));
}

#[test]
fn json_format_prints_only_the_report() {
    let app = app(Plan::Sequence(vec![Reply::status(200)]));
    let run = health_wait(&app.url("/health"))
        .input("format", "json")
        .run();
    run.assert_exit(0);
    let stdout: serde_json::Value =
        serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    assert_eq!(stdout["healthy"], json!(true));
    assert_eq!(stdout, run.report());
}

#[test]
fn flags_beat_inputs_and_cli_use_needs_no_actions_files() {
    let app = app(Plan::Sequence(vec![Reply::status(503)]));
    let run = ToolRun::new(BIN)
        .without_env("GITHUB_ACTIONS")
        .without_env("GITHUB_OUTPUT")
        .without_env("GITHUB_STEP_SUMMARY")
        .input("url", "http://127.0.0.1:9/never")
        .input("timeout", "1h")
        .arg("--url")
        .arg(&app.url("/health"))
        .arg("--timeout")
        .arg("300ms")
        .arg("--interval")
        .arg("100ms")
        .run();
    run.assert_exit(1);
    assert!(run.outputs.is_empty());
    assert!(
        !run.stderr.contains("::"),
        "no workflow commands outside Actions:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("error[health-timeout]"),
        "{}",
        run.stderr
    );
    assert!(app.hits("/health") >= 1);
}

/// Each case: inputs, then a word the one-line error must contain. None may reach a server.
#[test]
fn bad_inputs_are_usage_errors() {
    let app = app(Plan::Sequence(vec![Reply::status(200)]));
    let url = app.url("/health");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "missing input `url`"),
        (vec![("url", "not a url")], "`url`"),
        (vec![("url", "ftp://example.com/")], "`url`"),
        (vec![("url", "http://")], "`url`"),
        (vec![("timeout", "5x")], "`timeout`"),
        (vec![("timeout", "0")], "`timeout`"),
        (vec![("interval", "-1s")], "`interval`"),
        (vec![("interval", "0ms")], "`interval`"),
        (vec![("request-timeout", "soon")], "`request-timeout`"),
        (
            vec![("initial-delay", "10m"), ("timeout", "1m")],
            "`initial-delay`",
        ),
        (vec![("hold", "forever")], "`hold`"),
        (vec![("success-threshold", "0")], "`success-threshold`"),
        (vec![("success-threshold", "two")], "`success-threshold`"),
        (vec![("max-error-rate", "150%")], "`max-error-rate`"),
        (vec![("max-p95", "fast")], "`max-p95`"),
        (vec![("expect", "[STATUS] = 200")], "`expect`"),
        (vec![("expect", "[STATU] == 200")], "`expect`"),
        (vec![("expect", "[BODY].a..b == 1")], "`expect`"),
        (vec![("expect", "[RESPONSE_TIME] < quick")], "`expect`"),
        (vec![("expect", "[STATUS] < any(200, 204)")], "`expect`"),
        (vec![("method", "GE T")], "`method`"),
        (vec![("headers", "no colon here")], "`headers`"),
        (vec![("headers", "Bad Name: x")], "`headers`"),
        (vec![("insecure", "yes")], "`insecure`"),
        (vec![("ca-cert", "/nonexistent/ca.pem")], "`ca-cert`"),
        (vec![("format", "xml")], "`format`"),
    ];
    assert!(cases.len() >= 20);
    for (inputs, expected) in cases {
        let mut run = ToolRun::new(BIN);
        if !inputs.iter().any(|(n, _)| *n == "url") && expected != "missing input `url`" {
            run = run.input("url", &url);
        }
        for (name, value) in &inputs {
            run = run.input(name, value);
        }
        let done = run.run();
        assert_eq!(done.code, Some(2), "{inputs:?}: {}", done.stderr);
        let errors: Vec<&str> = done
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "{inputs:?}: one error line, got:\n{}",
            done.stderr
        );
        assert!(
            errors[0].contains(expected),
            "{inputs:?}: {:?} lacks {expected}",
            errors[0]
        );
        assert!(!done.stderr.contains("panicked"), "{}", done.stderr);
    }
    let bad_file = ToolRun::new(BIN).input("url", &url);
    let ca = bad_file.file("ca.pem", "not a certificate");
    let done = bad_file.input("ca-cert", &ca).run();
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    let done = ToolRun::new(BIN).arg("--no-such-flag").run();
    assert_eq!(done.code, Some(2));
    assert_eq!(done.stderr.lines().count(), 1, "{}", done.stderr);
    assert_eq!(
        app.hits("/health"),
        0,
        "no request before the inputs are valid"
    );
}

#[test]
fn insecure_is_a_switch_and_the_input_keeps_true_false() {
    let pki = sandbox::tls::make_pki(30).unwrap();
    let app = App::start_on(
        "127.0.0.1:0".parse().unwrap(),
        Some(pki.server_config.clone()),
    )
    .unwrap();
    app.plan("/health", Plan::Sequence(vec![Reply::status(200)]));
    let url = format!("{}/health", app.server.localhost_url());
    let laptop = || {
        sandbox::cli_checks::laptop(BIN)
            .arg("--url")
            .arg(&url)
            .arg("--timeout")
            .arg("400ms")
    };
    laptop().arg("--insecure").run().assert_exit(0);
    laptop()
        .arg("--insecure=false")
        .input("insecure", "true")
        .run()
        .assert_exit(1);
    laptop().input("insecure", "true").run().assert_exit(0);
    let run = laptop().arg("--insecure=yes").run();
    run.assert_exit(2);
    assert!(
        run.stderr.contains("invalid input `insecure`"),
        "{}",
        run.stderr
    );
}

#[test]
fn completions_and_man_page() {
    sandbox::cli_checks::assert_completions_and_man(
        BIN,
        "health-wait",
        &["--url", "--expect", "--insecure", "--follow-redirects"],
    );
}
