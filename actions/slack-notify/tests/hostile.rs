//! slack-notify against hostile servers (sandbox::hostile): a redirect on the webhook POST
//! is never "sent", an endless reply is cut, an echoing error page shows no secret.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::app::{App, Plan, Reply};
use sandbox::harness::ToolRun;
use sandbox::hostile::{Hostile, Mode};

const BIN: &str = env!("CARGO_BIN_EXE_slack-notify");
const SECRET_PATH: &str = "services/T0SENTINEL/B0SECRET/xoxsecret";

fn notify() -> ToolRun {
    ToolRun::new(BIN)
        .input("kind", "deploy")
        .input("status", "success")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .limit(Duration::from_secs(40))
}

#[test]
fn a_redirect_on_the_webhook_post_is_an_error_not_sent() {
    let moved = App::start().unwrap();
    moved.fallback(Plan::Sequence(vec![Reply::status(200).body("ok")]));
    let hook = Hostile::start(Mode::redirect(301, &moved.url(&format!("/{SECRET_PATH}")))).unwrap();
    let run = notify()
        .input("webhook-url", &hook.url(&format!("/{SECRET_PATH}")))
        .run();
    run.assert_exit(3);
    assert!(!run.stdout.contains("sent"), "{}", run.stdout);
    assert!(moved.seen().is_empty(), "the redirect was followed");
    assert_eq!(hook.seen().len(), 1);
    assert!(
        run.stderr.contains(&format!(
            "HTTP 301, a redirect to http://{}",
            moved.server.addr
        )),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.everything());
}

#[test]
fn a_same_host_redirect_shows_only_the_origin() {
    // A Location on the same host may repeat the secret path: only scheme://host:port shows.
    let hook = Hostile::start(Mode::redirect(302, &format!("/moved/{SECRET_PATH}"))).unwrap();
    let run = notify()
        .input("webhook-url", &hook.url(&format!("/{SECRET_PATH}")))
        .run();
    run.assert_exit(3);
    assert!(
        run.stderr
            .contains(&format!("a redirect to http://{} (", hook.server.addr)),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.everything());
}

#[test]
fn an_endless_api_reply_is_cut_and_named() {
    let api = Hostile::start(Mode::endless_json()).unwrap();
    let run = notify()
        .input("bot-token", "xoxb-SENTINEL-token")
        .input("channel", "C0DEPLOYS")
        .input("slack-api-url", &api.url("/api/"))
        .run();
    run.assert_exit(3);
    assert!(
        run.stderr.contains("reply larger than 16 MiB"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.everything());
}

#[test]
fn an_echoing_error_page_shows_no_secret() {
    let hook = Hostile::start(Mode::Echo { status: 400 }).unwrap();
    let run = notify()
        .input("webhook-url", &hook.url(&format!("/{SECRET_PATH}")))
        .run();
    run.assert_exit(3);
    assert!(run.stderr.contains("http-400"), "{}", run.stderr);
    assert_no_secret(&run.everything());
}

/// Nothing shows the secret but the `::add-mask::` command that hides it.
#[track_caller]
fn assert_no_secret(everything: &str) {
    for line in everything.lines() {
        assert!(
            line.starts_with("::add-mask::") || !line.contains("SENTINEL"),
            "{line}"
        );
    }
}
