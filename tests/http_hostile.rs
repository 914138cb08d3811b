//! The HTTP layer against hostile servers (sandbox::hostile): bodies are capped, the
//! deadline is absolute, and an API call never follows a redirect.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::{Duration, Instant};

use sandbox::hostile::{Hostile, Mode};
use shipguard::env::Env;
use shipguard::http::{
    ClientOptions, RetryPolicy, client, is_deadline, read_api_reply, read_body_capped,
    send_with_retry,
};

fn http() -> reqwest::Client {
    client(&ClientOptions::new("shipguard-test/0")).unwrap()
}

#[tokio::test]
async fn an_endless_body_is_read_up_to_the_limit_only() {
    let server = Hostile::start(Mode::endless_json()).unwrap();
    let response = http().get(server.url("/")).send().await.unwrap();
    let body = read_body_capped(response, 100_000).await.unwrap();
    assert!(body.truncated);
    assert_eq!(body.bytes.len(), 100_000);
    assert!(body.text().starts_with(r#"{"data":"xxx"#));
}

#[tokio::test]
async fn a_body_within_the_limit_is_whole() {
    let server = Hostile::start(Mode::huge_text("abc", 50_000)).unwrap();
    let response = http().get(server.url("/")).send().await.unwrap();
    let body = read_body_capped(response, 50_000).await.unwrap();
    assert!(!body.truncated);
    assert_eq!(body.bytes.len(), 50_000);
}

#[tokio::test]
async fn a_cut_api_reply_is_an_error() {
    let server = Hostile::start(Mode::endless_json()).unwrap();
    let response = http().get(server.url("/")).send().await.unwrap();
    let err = read_api_reply(response, "GET /x").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET /x: reply larger than 16 MiB; not read further (check that the URL points at the right server)"
    );
}

#[tokio::test]
async fn a_silent_server_ends_at_the_absolute_deadline() {
    let server = Hostile::start(Mode::Silent).unwrap();
    let http = http();
    let url = server.url("/api");
    let policy =
        RetryPolicy::new(&Env::default()).until(Instant::now() + Duration::from_millis(300));
    let err = send_with_retry(&policy, "GET /api", || http.get(&url))
        .await
        .unwrap_err();
    assert!(is_deadline(&err), "{err:#}");
    assert_eq!(err.to_string(), "GET /api: no answer before the deadline");
}

#[tokio::test]
async fn a_deadline_already_passed_sends_nothing() {
    let server = Hostile::start(Mode::Echo { status: 200 }).unwrap();
    let http = http();
    let url = server.url("/api");
    let policy = RetryPolicy::new(&Env::default()).until(Instant::now());
    let err = send_with_retry(&policy, "GET /api", || http.get(&url))
        .await
        .unwrap_err();
    assert!(is_deadline(&err));
    assert!(server.seen().is_empty());
}

#[tokio::test]
async fn a_redirect_on_a_post_is_an_error_naming_only_the_origin() {
    let server =
        Hostile::start(Mode::redirect(301, "/hooks/SECRET-PATH/moved?token=SECRET")).unwrap();
    let http = http();
    let url = server.url("/hooks/SECRET-PATH");
    let policy = RetryPolicy::new(&Env::default());
    let err = send_with_retry(&policy, "Slack webhook", || http.post(&url).body("{}"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!(
            "Slack webhook: the server answered HTTP 301, a redirect to http://{} (",
            server.server.addr
        )),
        "{err}"
    );
    assert!(!err.contains("SECRET"), "{err}");
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "not followed, not retried");
    assert_eq!(seen[0].method, "POST");
}
