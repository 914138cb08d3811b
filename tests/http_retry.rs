//! The classified retry policy against a local server: busy answers are retried (honouring
//! Retry-After), other client errors never, and a dead server fails after bounded attempts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::app::{App, Plan, Reply};
use shipguard::env::Env;
use shipguard::http::{ClientOptions, RetryPolicy, client, send_with_retry};

fn policy() -> RetryPolicy {
    let mut policy = RetryPolicy::new(&Env::default());
    policy.base_delay = Duration::from_millis(1);
    policy.max_delay = Duration::from_millis(5);
    policy
}

async fn status_after_retries(plan: Plan, policy: &RetryPolicy) -> (u16, usize) {
    let app = App::start().unwrap();
    app.plan("/api", plan);
    let http = client(&ClientOptions::new("shipguard-test/0")).unwrap();
    let url = app.url("/api");
    let response = send_with_retry(policy, "test call", || http.get(&url))
        .await
        .unwrap();
    (response.status().as_u16(), app.hits("/api"))
}

#[tokio::test]
async fn busy_answers_are_retried_until_success() {
    let plan = Plan::Sequence(vec![
        Reply::status(503),
        Reply::status(502),
        Reply::status(504),
        Reply::status(200),
    ]);
    assert_eq!(status_after_retries(plan, &policy()).await, (200, 4));
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let plan = Plan::Sequence(vec![
        Reply::status(429).header("retry-after", "1"),
        Reply::status(200),
    ]);
    let app = App::start().unwrap();
    app.plan("/api", plan);
    let http = client(&ClientOptions::new("shipguard-test/0")).unwrap();
    let url = app.url("/api");
    let response = send_with_retry(&policy(), "test call", || http.get(&url))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let seen = app.seen();
    assert_eq!(seen.len(), 2);
    let waited = seen[1].at.duration_since(seen[0].at);
    assert!(
        waited >= Duration::from_secs(1),
        "waited only {waited:?} despite Retry-After: 1"
    );
}

#[tokio::test]
async fn the_test_hook_removes_delays_but_not_retries() {
    let mut fast = policy();
    fast.no_delay = true;
    let plan = Plan::Sequence(vec![
        Reply::status(429).header("retry-after", "3600"),
        Reply::status(200),
    ]);
    assert_eq!(status_after_retries(plan, &fast).await, (200, 2));
}

#[tokio::test]
async fn other_client_errors_are_never_retried() {
    for status in [400, 401, 403, 404, 405, 422, 500] {
        let plan = Plan::Sequence(vec![Reply::status(status), Reply::status(200)]);
        assert_eq!(
            status_after_retries(plan, &policy()).await,
            (status, 1),
            "{status}"
        );
    }
}

#[tokio::test]
async fn attempts_are_bounded() {
    let plan = Plan::Sequence(vec![Reply::status(503)]);
    let p = policy();
    assert_eq!(
        status_after_retries(plan, &p).await,
        (503, p.max_attempts as usize)
    );
}

#[tokio::test]
async fn a_dead_server_fails_with_a_clear_error() {
    let http = client(&ClientOptions::new("shipguard-test/0")).unwrap();
    let err = send_with_retry(&policy(), "Coolify /version", || {
        http.get("http://127.0.0.1:9/x?token=secret")
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("Coolify /version failed after 5 attempts: connect: "),
        "{err}"
    );
    assert!(
        !err.contains("secret"),
        "no URL (and its token) in the message: {err}"
    );
}

#[tokio::test]
async fn a_request_that_must_not_run_twice_is_retried_only_on_429() {
    let once = policy().not_idempotent();
    // 429: refused before anything happened, so sent again.
    let plan = Plan::Sequence(vec![Reply::status(429), Reply::status(200)]);
    assert_eq!(status_after_retries(plan, &once).await, (200, 2));
    // A 5xx may have done the work: it is the answer, for the caller to look into.
    for status in [502, 503, 504, 500] {
        let plan = Plan::Sequence(vec![Reply::status(status), Reply::status(200)]);
        assert_eq!(status_after_retries(plan, &once).await, (status, 1));
    }
}

#[tokio::test]
async fn a_request_that_must_not_run_twice_times_out_as_maybe_sent() {
    let mut once = policy().not_idempotent();
    once.request_timeout = Duration::from_millis(200);
    let app = App::start().unwrap();
    app.plan(
        "/api",
        Plan::Sequence(vec![
            Reply::status(200).delay(Duration::from_secs(5)),
            Reply::status(200),
        ]),
    );
    let http = client(&ClientOptions::new("shipguard-test/0")).unwrap();
    let url = app.url("/api");
    let err = send_with_retry(&once, "POST /deploy", || http.post(&url))
        .await
        .unwrap_err();
    assert!(
        err.chain().any(|e| e.is::<shipguard::http::MaybeSent>()),
        "{err:#}"
    );
    assert_eq!(app.hits("/api"), 1, "sent once, never again");
}
