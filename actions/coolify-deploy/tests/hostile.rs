//! coolify-deploy against hostile servers (sandbox::hostile): polls that are never
//! answered, endless replies, redirects on the webhook POST, echoing error pages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::app::{App, Plan, Reply};
use sandbox::coolify::{Coolify, Forced, Script, TOKEN};
use sandbox::harness::ToolRun;
use sandbox::hostile::{Hostile, Mode};
use serde_json::json;
use shipguard::bounded::REPORT_BUDGET;

const BIN: &str = env!("CARGO_BIN_EXE_coolify-deploy");
const WEB: &str = "webappuuid00000000000001";
const SECRET_PATH: &str = "T0SENTINEL/B0SECRET/hookpath";

fn sandbox() -> Coolify {
    let coolify = Coolify::start().unwrap();
    coolify
        .add_app(WEB, "web", "ghcr.io/acme/web", "main-1111111")
        .default_script(Script::never_ends());
    coolify
}

fn deploy(coolify_url: &str) -> ToolRun {
    ToolRun::new(BIN)
        .input("coolify-url", coolify_url)
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .input("poll-interval", "50ms")
        .limit(Duration::from_secs(40))
}

#[test]
fn a_poll_that_is_never_answered_ends_at_the_timeout_with_a_cancel() {
    let coolify = sandbox();
    // Only the poll: the deploy request first reads the app's deployments (a lost answer is
    // checked against them), and that read is not what this test starves.
    coolify.force(Forced::hostile("/deployments/", Mode::Silent).unless("/applications/"));
    // Under the 30 s request timeout: the poll must end at the 3 s deadline, not after it.
    let run = deploy(&coolify.url())
        .input("timeout", "3s")
        .limit(Duration::from_secs(20))
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "timeout");
    let cancels = coolify
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/cancel"))
        .count();
    assert_eq!(cancels, 1, "the running deployment is cancelled");
    assert_eq!(coolify.deployment_statuses(WEB), vec!["cancelled-by-user"]);
}

#[test]
fn a_deploy_request_that_is_never_answered_ends_at_the_timeout() {
    let coolify = sandbox();
    coolify.force(Forced::hostile("/deploy", Mode::Silent));
    let run = deploy(&coolify.url()).input("timeout", "2s").run();
    run.assert_exit(1);
    run.assert_one_error_line();
    assert!(
        run.stderr
            .contains("POST /deploy for webappuuid00000000000001: no answer before the deadline")
            && run.stderr.contains("timeout of 2s passed"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_endless_poll_reply_is_cut_and_named() {
    let coolify = sandbox();
    coolify.force(Forced::hostile("/deployments/", Mode::endless_json()).unless("/applications/"));
    let run = deploy(&coolify.url()).input("timeout", "30s").run();
    run.assert_exit(3);
    assert!(
        run.stderr.contains("reply larger than 16 MiB"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_endless_version_reply_is_cut_and_named() {
    let coolify = Hostile::start(Mode::huge_text("4.", 1 << 30)).unwrap();
    let run = deploy(&coolify.url("")).input("timeout", "30s").run();
    run.assert_exit(3);
    assert!(
        run.stderr
            .contains("GET /version: reply larger than 16 MiB"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_huge_build_log_keeps_the_report_output_bounded() {
    let coolify = sandbox();
    let line = "x".repeat(2000);
    let lines: Vec<&str> = (0..100).map(|_| line.as_str()).collect();
    coolify.default_script(Script::fails_after(Duration::from_millis(100), &lines));
    let run = deploy(&coolify.url())
        .input("log-lines", "1000")
        .input("timeout", "30s")
        .run();
    run.assert_exit(1);
    let report = run.output("report");
    assert!(report.len() <= REPORT_BUDGET, "{} bytes", report.len());
    let parsed: serde_json::Value = serde_json::from_str(report).unwrap();
    assert_eq!(parsed["status"], json!("failed"));
    assert!(parsed["report_truncated"].is_object(), "{parsed}");
}

#[test]
fn a_redirect_on_the_webhook_post_is_an_error_that_shows_no_secret() {
    // The hook moved: a 302 that reqwest once turned into a body-less GET, whose 200 read
    // as "accepted".
    let moved = App::start().unwrap();
    moved.fallback(Plan::Sequence(vec![Reply::status(200)]));
    let location = moved.url(&format!("/{SECRET_PATH}"));
    let hook = Hostile::start(Mode::redirect(302, &location)).unwrap();
    let run = ToolRun::new(BIN)
        .input("webhook-url", &hook.url(&format!("/{SECRET_PATH}")))
        .input("image", "ghcr.io/acme/web")
        .run();
    run.assert_exit(3);
    run.assert_one_error_line();
    assert!(moved.seen().is_empty(), "the redirect was followed");
    assert_eq!(hook.seen().len(), 1);
    assert_eq!(hook.seen()[0].method, "POST");
    assert!(
        run.stderr.contains(&format!(
            "HTTP 302, a redirect to http://{} (only the scheme, host and port",
            moved.server.addr
        )),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.everything());
}

#[test]
fn an_echoing_webhook_shows_no_secret() {
    let hook = Hostile::start(Mode::Echo { status: 400 }).unwrap();
    let run = ToolRun::new(BIN)
        .input("webhook-url", &hook.url(&format!("/{SECRET_PATH}")))
        .run();
    run.assert_exit(3);
    assert_no_secret(&run.everything());
}

#[test]
fn port_zero_is_a_usage_error() {
    let run = deploy("http://127.0.0.1:0").run();
    run.assert_exit(2);
    run.assert_one_error_line();
    assert!(run.stderr.contains("port 0"), "{}", run.stderr);
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
