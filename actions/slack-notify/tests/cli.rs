//! slack-notify as users run it, against the Slack stand-in that records every request.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use sandbox::harness::{Finished, ToolRun};
use sandbox::slack::{BOT_TOKEN, Forced, Slack};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_slack-notify");

fn notify(slack: &Slack) -> ToolRun {
    ToolRun::new(BIN)
        .input("webhook-url", &slack.webhook_url())
        .input("kind", "deploy")
        .input("status", "success")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_ACTOR", "octocat")
        .env("GITHUB_REF_NAME", "main")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "42")
}

fn bot(slack: &Slack) -> ToolRun {
    notify(slack)
        .input("webhook-url", "")
        .input("bot-token", BOT_TOKEN)
        .input("channel", "C0DEPLOYS")
        .input("slack-api-url", &slack.api_url())
}

#[track_caller]
fn assert_exit(run: &Finished, code: i32) {
    run.assert_exit(code);
}

/// Every text of a payload, in order: fallback, then each block's texts and fields.
fn texts(payload: &Value) -> Vec<String> {
    let mut out = vec![payload["text"].as_str().unwrap_or_default().to_owned()];
    let blocks = payload["attachments"][0]["blocks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for block in blocks {
        if let Some(t) = block["text"]["text"].as_str() {
            out.push(t.to_owned());
        }
        for f in block["fields"].as_array().into_iter().flatten() {
            out.push(f["text"].as_str().unwrap_or_default().to_owned());
        }
        for e in block["elements"].as_array().into_iter().flatten() {
            out.push(e["text"].as_str().unwrap_or_default().to_owned());
        }
    }
    out
}

#[test]
fn webhook_deploy_message_with_github_defaults() {
    let slack = Slack::start().unwrap();
    let run = notify(&slack)
        .input("environment", "production")
        .input("version", "v1.4.2")
        .run();
    run.assert_exit(0);
    let messages = slack.messages();
    assert_eq!(messages.len(), 1);
    let payload = &messages[0].2;
    assert_eq!(
        payload["text"],
        json!("✅ Deployed acme/shop to production")
    );
    assert_eq!(payload["attachments"][0]["color"], json!("#2eb886"));
    let all = texts(payload).join("\n");
    assert!(all.contains("*Commit*\n<https://github.com/acme/shop/commit/0123456789abcdef0123456789abcdef01234567|0123456>"), "{all}");
    assert!(
        all.contains("<https://github.com/acme/shop/actions/runs/42|Workflow run>"),
        "{all}"
    );
    assert!(all.contains("*Version*\nv1.4.2"), "{all}");
    assert_eq!(run.output("payload"), slack.received()[0].raw);
    assert!(
        run.summary.contains("slack-notify: sent"),
        "{}",
        run.summary
    );
}

#[test]
fn retries_429_after_the_delay_then_succeeds() {
    let slack = Slack::start().unwrap();
    slack.force(vec![Forced::new(429, "rate_limited").retry_after(1)]);
    // No test hook here: the delay itself is what is checked.
    let run = notify(&slack)
        .without_env("SHIPGUARD_TEST_NO_RETRY_DELAY")
        .run();
    run.assert_exit(0);
    let received = slack.received();
    assert_eq!(received.len(), 2, "retried once");
    let waited = received[1].at.duration_since(received[0].at);
    assert!(
        waited >= std::time::Duration::from_secs(1),
        "waited {waited:?}"
    );
    assert_eq!(slack.messages().len(), 1);
}

#[test]
fn retries_a_500_then_succeeds() {
    let slack = Slack::start().unwrap();
    slack.force(vec![Forced::new(500, "internal_error")]);
    let run = notify(&slack).run();
    run.assert_exit(0);
    assert_eq!(slack.received().len(), 2);
}

#[test]
fn no_service_fails_by_default_and_warns_when_asked() {
    let slack = Slack::start().unwrap();
    slack.force(vec![Forced::new(404, "no_service")]);
    let run = notify(&slack).run();
    run.assert_exit(3);
    assert!(
        run.stderr
            .contains("no_service (HTTP 404): the webhook URL is revoked"),
        "{}",
        run.stderr
    );
    assert_eq!(slack.received().len(), 1, "a 404 is never retried");

    slack.force(vec![Forced::new(404, "no_service")]);
    let run = notify(&slack).input("on-error", "warn").run();
    run.assert_exit(0);
    assert!(
        run.stderr
            .contains("::warning title=slack-failed::Slack refused the message: no_service"),
        "{}",
        run.stderr
    );
    assert!(run.summary.contains("not sent"), "{}", run.summary);
}

#[test]
fn invalid_payload_is_not_retried() {
    let slack = Slack::start().unwrap();
    slack.force(vec![Forced::new(400, "invalid_payload")]);
    let run = notify(&slack).run();
    run.assert_exit(3);
    assert_eq!(slack.received().len(), 1);
    assert!(run.stderr.contains("invalid_payload"), "{}", run.stderr);
}

#[test]
fn bot_posts_then_updates_the_same_message() {
    let slack = Slack::start().unwrap();
    let started = bot(&slack).input("status", "started").run();
    started.assert_exit(0);
    let ts = started.output("ts").to_owned();
    assert!(!ts.is_empty());
    assert_eq!(started.output("channel"), "C0DEPLOYS");
    assert_eq!(
        slack.received()[0].authorization.as_deref(),
        Some(&*format!("Bearer {BOT_TOKEN}"))
    );

    let finished = bot(&slack)
        .input("status", "success")
        .input("update-ts", &ts)
        .run();
    finished.assert_exit(0);
    assert_eq!(finished.output("ts"), ts);
    let messages = slack.messages();
    assert_eq!(messages.len(), 1, "updated, not posted again");
    assert_eq!(messages[0].2["text"], json!("✅ Deployed acme/shop"));
    assert_eq!(slack.received()[1].path, "/api/chat.update");

    let reply = bot(&slack)
        .input("status", "failure")
        .input("thread-ts", &ts)
        .run();
    reply.assert_exit(0);
    assert_eq!(slack.received()[2].body["thread_ts"], json!(ts));

    let missing = bot(&slack).input("update-ts", "1.000").run();
    missing.assert_exit(3);
    assert!(
        missing.stderr.contains("message_not_found"),
        "{}",
        missing.stderr
    );
}

#[test]
fn hostile_commit_text_arrives_intact() {
    let slack = Slack::start().unwrap();
    let text = "Fix \"quotes\" and 'single' \\ backslash\n`code` <b>&amp; <!channel>\n::set-output name=x::y\n::error::boom";
    let run = notify(&slack)
        .input("text", text)
        .input("fields", "Note=a \"q\" & <x>\nEmpty=")
        .run();
    run.assert_exit(0);
    let received = &slack.received()[0];
    let payload: Value = serde_json::from_str(&received.raw).expect("valid JSON arrived");
    let blocks = payload["attachments"][0]["blocks"].as_array().unwrap();
    let section = blocks
        .iter()
        .find(|b| b["text"]["type"] == "plain_text" && b["type"] == "section")
        .unwrap();
    assert_eq!(
        section["text"]["text"],
        json!(text),
        "plain text arrives exactly"
    );
    let all = texts(&payload).join("\n");
    assert!(all.contains("*Note*\na \"q\" &amp; &lt;x&gt;"), "{all}");
    for line in run.stderr.lines().chain(run.stdout.lines()) {
        assert!(
            !line.starts_with("::set-output") && !line.starts_with("::error::boom"),
            "{line}"
        );
    }
}

#[test]
fn a_huge_text_arrives_within_the_limits() {
    let slack = Slack::start().unwrap();
    let run = notify(&slack).input("text", &"x".repeat(12_000)).run();
    run.assert_exit(0);
    let payload = &slack.messages()[0].2;
    let section = texts(payload)
        .into_iter()
        .find(|t| t.starts_with("xxx"))
        .unwrap();
    assert_eq!(section.chars().count(), 3000);
    assert!(section.ends_with("… (truncated)"));
}

#[test]
fn dry_run_sends_nothing_and_shows_the_payload() {
    let slack = Slack::start().unwrap();
    let run = notify(&slack)
        .input("dry-run", "true")
        .input("kind", "rollback")
        .input("status", "failure")
        .run();
    run.assert_exit(0);
    assert!(slack.received().is_empty());
    let printed: Value = serde_json::from_str(&run.stdout).expect("stdout is the exact JSON");
    assert_eq!(printed["text"], json!("🔥 Could not roll back acme/shop"));
    assert_eq!(
        serde_json::from_str::<Value>(run.output("payload")).unwrap(),
        printed
    );
    assert!(
        run.summary.contains("dry run, nothing sent"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("Payload JSON"), "{}", run.summary);
    let without_secret = ToolRun::new(BIN)
        .input("status", "success")
        .input("dry-run", "true")
        .run();
    without_secret.assert_exit(0);
}

#[test]
fn mention_only_on_failure_by_default() {
    let slack = Slack::start().unwrap();
    notify(&slack)
        .input("mention", "<!here>")
        .run()
        .assert_exit(0);
    assert_exit(
        &notify(&slack)
            .input("mention", "<!here>")
            .input("status", "failure")
            .run(),
        0,
    );
    let messages = slack.messages();
    assert_eq!(messages[0].2["text"], json!("✅ Deployed acme/shop"));
    assert_eq!(
        messages[1].2["text"],
        json!("<!here> ❌ Deploy of acme/shop failed")
    );
}

#[test]
fn health_report_becomes_evidence() {
    let slack = Slack::start().unwrap();
    // A whole health-wait report of schema version 1 (slack-notify reads it as its type).
    let report = json!({"schema": "shipguard.health-wait/1", "tool": "health-wait", "version": "0.1.0",
        "healthy": false, "attempts": 3, "elapsed_ms": 1500,
        "reason": "http://app/health: not healthy within 1s", "conditions": ["[STATUS] == 200"],
        "settings": {"initial_delay_ms": 0, "interval_ms": 500, "request_timeout_ms": 500,
                     "timeout_ms": 1000, "success_threshold": 1, "hold_ms": 0},
        "urls": [{"url": "http://app/health", "healthy": false, "verdict": "timeout", "attempts": 3,
                  "passes": 0, "last_status": 503, "body_truncated": false, "samples": [],
                  "latency": {"p50_ms": 10, "p95_ms": 12, "max_ms": 12},
                  "failed_condition": "[STATUS] == 200 (got \"503\")"}]});
    let run = notify(&slack)
        .input("kind", "incident")
        .input("status", "failure")
        .input("report", &report.to_string())
        .run();
    run.assert_exit(0);
    let all = texts(&slack.messages()[0].2).join("\n");
    assert!(
        all.contains("*Health check:* not healthy ❌ after 3 attempts"),
        "{all}"
    );
    assert!(all.contains("[STATUS] == 200 (got \"503\")"), "{all}");
}

#[test]
fn a_report_of_another_schema_version_is_bad_input() {
    let slack = Slack::start().unwrap();
    let report = json!({"schema": "shipguard.health-wait/2", "tool": "health-wait"});
    let run = notify(&slack).input("report", &report.to_string()).run();
    run.assert_exit(2);
    assert!(
        run.stderr
            .contains("error: invalid input `report`: it is a shipguard.health-wait/2 report"),
        "{}",
        run.stderr
    );
    assert!(slack.received().is_empty());
}

#[test]
fn custom_payload_is_validated_and_sent_as_is() {
    let slack = Slack::start().unwrap();
    let payload = json!({"text": "hi", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]});
    let run = notify(&slack)
        .input("kind", "custom")
        .input("payload", &payload.to_string())
        .run();
    run.assert_exit(0);
    assert_eq!(slack.messages()[0].2, payload);
}

#[test]
fn secrets_never_leak() {
    let slack = Slack::start().unwrap();
    let webhook = slack.webhook_url();
    let run = notify(&slack)
        .input("text", &format!("echo {webhook}"))
        .run();
    run.assert_exit(0);
    let everything = run.everything();
    let leaks: Vec<&str> = everything
        .lines()
        .filter(|l| l.contains(&webhook) && !l.starts_with("::add-mask::"))
        .collect();
    assert!(leaks.is_empty(), "{leaks:?}");
    slack.force(vec![Forced::new(403, "invalid_token")]);
    let run = bot(&slack).run();
    run.assert_exit(3);
    let everything = run.everything();
    let leaks: Vec<&str> = everything
        .lines()
        .filter(|l| l.contains(BOT_TOKEN) && !l.starts_with("::add-mask::"))
        .collect();
    assert!(leaks.is_empty(), "{leaks:?}");
    assert!(run.stderr.contains(&format!("::add-mask::{BOT_TOKEN}")));
}

#[test]
fn bad_inputs_are_usage_errors() {
    let slack = Slack::start().unwrap();
    let cases: Vec<(ToolRun, &str)> = vec![
        (
            ToolRun::new(BIN).input("status", "success"),
            "missing input `webhook-url` or `bot-token`",
        ),
        (
            bot(&slack).input("webhook-url", &slack.webhook_url()),
            "both `webhook-url` and `bot-token`",
        ),
        (notify(&slack).input("kind", "party"), "`kind`"),
        (notify(&slack).input("status", "great"), "`status`"),
        (notify(&slack).input("status", ""), "missing input `status`"),
        (notify(&slack).input("fields", "no equals sign"), "`fields`"),
        (notify(&slack).input("fields", "=value"), "`fields`"),
        (
            notify(&slack)
                .input("kind", "custom")
                .input("payload", "{not json"),
            "`payload`",
        ),
        (
            notify(&slack)
                .input("kind", "custom")
                .input("payload", "[1,2]"),
            "`payload`",
        ),
        (
            notify(&slack).input("payload", "{\"text\":\"x\"}"),
            "only for `kind: custom`",
        ),
        (notify(&slack).input("report", "{truncated"), "`report`"),
        (notify(&slack).input("mention", "@here"), "`mention`"),
        (notify(&slack).input("mention-on", "always"), "`mention-on`"),
        (notify(&slack).input("on-error", "ignore"), "`on-error`"),
        (notify(&slack).input("dry-run", "yes"), "`dry-run`"),
        (
            notify(&slack).input("webhook-url", "not a url"),
            "`webhook-url`",
        ),
        (notify(&slack).input("update-ts", "1.0"), "`update-ts`"),
        (bot(&slack).input("channel", ""), "missing input `channel`"),
        (
            bot(&slack).input("slack-api-url", "ftp://x"),
            "`slack-api-url`",
        ),
    ];
    for (run, expected) in cases {
        let done = run.run();
        assert_eq!(done.code, Some(2), "{expected}: {}", done.stderr);
        let errors: Vec<&str> = done
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{expected}: {}", done.stderr);
        assert!(
            errors[0].contains(expected),
            "{:?} lacks {expected}",
            errors[0]
        );
        assert!(
            !errors[0].contains("not a url"),
            "a bad secret is not echoed: {}",
            errors[0]
        );
    }
    assert!(
        slack.received().is_empty(),
        "nothing is sent before the inputs are valid"
    );
}

#[test]
fn dry_run_is_a_switch_and_the_input_keeps_true_false() {
    let laptop = || {
        sandbox::cli_checks::laptop(BIN)
            .arg("--status")
            .arg("success")
    };
    let run = laptop().arg("--dry-run").run();
    run.assert_exit(0);
    assert!(
        serde_json::from_str::<Value>(&run.stdout).is_ok(),
        "{}",
        run.stdout
    );
    // `=false` turns it off again: with no webhook that is a missing secret.
    let run = laptop()
        .arg("--dry-run=false")
        .input("dry-run", "true")
        .run();
    run.assert_exit(2);
    laptop().input("dry-run", "true").run().assert_exit(0);
    let run = laptop().arg("--dry-run=yes").run();
    run.assert_exit(2);
    assert!(
        run.stderr.contains("invalid input `dry-run`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_webhook_says_how_to_give_it_where_the_tool_runs() {
    let laptop = sandbox::cli_checks::laptop(BIN)
        .arg("--status")
        .arg("success")
        .run();
    laptop.assert_exit(2);
    laptop.assert_one_error_line();
    assert!(
        laptop.stderr.contains("SLACK_WEBHOOK_URL=…"),
        "{}",
        laptop.stderr
    );
    assert!(
        laptop.stderr.contains("--webhook-url-file"),
        "{}",
        laptop.stderr
    );
    assert!(!laptop.stderr.contains("${{"), "{}", laptop.stderr);
    let step = ToolRun::new(BIN).input("status", "success").run();
    step.assert_exit(2);
    assert!(
        step.stderr
            .contains("`webhook-url: ${{ secrets.SLACK_WEBHOOK_URL }}`"),
        "{}",
        step.stderr
    );
}

#[test]
fn completions_and_man_page() {
    sandbox::cli_checks::assert_completions_and_man(
        BIN,
        "slack-notify",
        &["--status", "--environment", "--from-sha", "--dry-run"],
    );
}
