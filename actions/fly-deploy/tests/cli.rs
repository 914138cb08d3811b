//! fly-deploy as users run it, against the sandbox Machines API (tests/sandbox/src/fly.rs,
//! written from Fly's docs and fly-go, not from our client).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::fly::{Behaviour, Fly, Forced, OLD_IMAGE, TOKEN, USER_TOKEN};
use sandbox::harness::{ToolRun, action_run_script};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_fly-deploy");
const NEW: &str = "registry.fly.io/web:deployment-new";
const BROKEN: &str = "registry.fly.io/web:deployment-broken";

/// Lines holding `secret` other than the `::add-mask::` lines that hide it.
fn leaks(text: &str, secret: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains(secret) && !l.starts_with("::add-mask::"))
        .map(str::to_owned)
        .collect()
}

fn sandbox(started: usize, stopped: usize) -> Fly {
    let fly = Fly::start().unwrap();
    fly.add_app("web", started, stopped);
    fly
}

fn deploy(fly: &Fly, image: &str) -> ToolRun {
    ToolRun::new(BIN)
        .input("api-url", &fly.url())
        .input("fly-token", TOKEN)
        .input("app", "web")
        .input("image", image)
        .input("poll-interval", "20ms")
        .input("wait-timeout", "5s")
}

fn images(fly: &Fly, app: &str) -> Vec<String> {
    fly.images(app)
        .into_iter()
        .map(|(_, image)| image)
        .collect()
}

#[test]
fn rolling_deploy_of_three_machines_one_at_a_time() {
    let fly = sandbox(3, 0);
    fly.add_console_machine("web");
    let run = deploy(&fly, NEW).run();
    run.assert_exit(0);
    assert_eq!(run.output("status"), "finished");
    assert_eq!(run.output("machines"), "3");
    let previous: Value = serde_json::from_str(run.output("previous-images")).unwrap();
    assert_eq!(previous, json!({"web": OLD_IMAGE}));
    // The console machine is never touched.
    let images = fly.images("web");
    for (id, image) in &images {
        let want = if id == "0c0c0c0c0c0c0c" {
            OLD_IMAGE
        } else {
            NEW
        };
        assert_eq!(image, want, "{id}");
    }
    assert!(!fly.leased("web"), "every lease is released");
    let updates = fly.updates();
    assert_eq!(updates.len(), 3);
    // One at a time, under a lease, with the version read last and the config kept whole.
    let requests = fly.requests();
    for update in &updates {
        assert!(
            update
                .nonce
                .as_deref()
                .is_some_and(|n| n.starts_with("nonce")),
            "{update:?}"
        );
        let body = update.body.as_ref().unwrap();
        assert!(
            body["current_version"]
                .as_str()
                .unwrap()
                .starts_with("01INST")
        );
        assert_eq!(body["skip_launch"], json!(false));
        assert_eq!(body["config"]["env"]["PORT"], "8080");
        assert_eq!(body["config"]["metadata"]["fly_process_group"], "app");
        assert_eq!(body["config"]["image"], NEW);
    }
    let order: Vec<String> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.matches('/').count() == 4)
        .map(|r| r.path.clone())
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted, "machines go by id");
    // The first machine passed its wait before the second was leased.
    let first_wait = requests
        .iter()
        .position(|r| r.path.ends_with("/wait") && r.status == 200)
        .unwrap();
    let second_update = requests.iter().position(|r| r.path == order[1]).unwrap();
    assert!(first_wait < second_update);
    // flyctl's way to send a macaroon (fly-go tokens/tokens.go:231-252).
    assert!(
        requests
            .iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("FlyV1 {TOKEN}")))
    );
    assert!(run.summary.contains("```mermaid\ngantt"), "{}", run.summary);
    assert!(run.summary.contains("| web |"), "{}", run.summary);
    assert!(
        run.stderr.contains(&format!("::add-mask::{TOKEN}")),
        "{}",
        run.stderr
    );
    assert_eq!(leaks(&run.everything(), TOKEN), Vec::<String>::new());
}

#[test]
fn stopped_machines_are_updated_without_starting_them() {
    let fly = sandbox(1, 1);
    let run = deploy(&fly, NEW).run();
    run.assert_exit(0);
    let updates = fly.updates();
    assert_eq!(updates.len(), 2);
    assert_eq!(
        updates[0].body.as_ref().unwrap()["skip_launch"],
        json!(false)
    );
    assert_eq!(
        updates[1].body.as_ref().unwrap()["skip_launch"],
        json!(true)
    );
    let mut states = fly.states("web");
    states.sort();
    assert_eq!(states, ["started", "stopped"]);
}

#[test]
fn a_user_token_goes_as_bearer_and_a_pasted_prefix_is_dropped() {
    let fly = sandbox(1, 0);
    let run = deploy(&fly, NEW)
        .input("fly-token", "")
        .env("FLY_API_TOKEN", &format!("Bearer {USER_TOKEN}"))
        .run();
    run.assert_exit(0);
    assert!(
        fly.requests()
            .iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("Bearer {USER_TOKEN}")))
    );
    let sentinel = "fm2_sentinelsecret";
    let run = deploy(&fly, NEW).input("fly-token", sentinel).run();
    run.assert_exit(3);
    run.assert_one_error_line();
    assert!(
        run.stderr.contains("fly tokens create deploy"),
        "{}",
        run.stderr
    );
    assert_eq!(
        leaks(&run.everything(), "sentinelsecret"),
        Vec::<String>::new()
    );
}

#[test]
fn broken_image_is_stopped_at_the_canary_and_restored() {
    let fly = sandbox(3, 0);
    fly.behaviour(BROKEN, Behaviour::broken());
    // 3 s, not 1 s: the canary starts in 25 ms, but on a loaded 2-core machine a 1 s wait
    // could end before the first reading of its checks. (A read cut short by the deadline
    // after an earlier reading used to lose that reading too: the test below.) The run lasts
    // the whole wait: Fly's checks may be critical while a machine starts, so only the
    // deadline ends it.
    let run = deploy(&fly, BROKEN).input("wait-timeout", "3s").run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "restored");
    assert_eq!(run.output("machines"), "0");
    assert_eq!(images(&fly, "web"), [OLD_IMAGE; 3]);
    // The canary alone was changed: its update and its restore.
    let updates = fly.updates();
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(updates[0].path, updates[1].path);
    assert_eq!(
        updates[1].body.as_ref().unwrap()["config"]["image"],
        OLD_IMAGE
    );
    let report = run.report();
    assert_eq!(report["apps"][0]["machines"][0]["step"], "restored");
    assert_eq!(report["apps"][0]["machines"][1]["step"], "unchanged");
    assert!(
        run.stderr.contains("::error title=deploy-failed::"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("did not pass its checks (http critical)"),
        "{}",
        run.stderr
    );
    assert!(!fly.leased("web"));
}

/// The read that ends the wait is cut short by the deadline (a slow API, or a poll interval
/// and a lease refresh that left little time): the message still names the checks seen at the
/// reading before it, not only "within wait-timeout".
#[test]
fn a_read_cut_short_by_the_deadline_still_names_the_failing_checks() {
    let fly = sandbox(1, 0);
    fly.behaviour(BROKEN, Behaviour::broken());
    // Two reads of the machine are answered (one before its update, the canary's first: its
    // checks critical); the next outlasts the wait.
    fly.stall_machine_read("web", 2, Duration::from_secs(30));
    let run = deploy(&fly, BROKEN)
        .input("poll-interval", "200ms")
        .input("wait-timeout", "2s")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "restored");
    assert!(
        run.stderr
            .contains("did not pass its checks (http critical)"),
        "{}",
        run.stderr
    );
    assert_eq!(images(&fly, "web"), [OLD_IMAGE]);
}

#[test]
fn a_crash_loop_is_seen_on_the_events_and_restored() {
    let fly = sandbox(2, 0);
    fly.behaviour(BROKEN, Behaviour::crash_loop());
    let run = deploy(&fly, BROKEN).run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "restored");
    assert!(
        run.stderr.contains("appears to be crashing"),
        "{}",
        run.stderr
    );
    assert_eq!(images(&fly, "web"), [OLD_IMAGE; 2]);
}

#[test]
fn a_lease_held_by_someone_else_changes_nothing() {
    let fly = sandbox(3, 0);
    fly.hold_lease("web", 0);
    let run = deploy(&fly, NEW).run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "failed");
    assert!(
        run.stderr.contains("leased by someone else"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("no machine was changed") || run.stderr.contains("left as it was"),
        "{}",
        run.everything()
    );
    assert!(fly.updates().is_empty());
    assert_eq!(images(&fly, "web"), [OLD_IMAGE; 3]);
    assert_eq!(run.report()["apps"][0]["changed"], json!(false));
}

#[test]
fn a_restore_that_fails_reports_the_mixed_state() {
    let fly = sandbox(3, 0);
    fly.behaviour(BROKEN, Behaviour::broken());
    fly.refuse_image(OLD_IMAGE, 422);
    let run = deploy(&fly, BROKEN).input("wait-timeout", "1s").run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "failed");
    let report = run.report();
    assert_eq!(report["mixed"], json!(true));
    assert_eq!(report["apps"][0]["machines"][0]["step"], "restore_failed");
    assert_eq!(
        report["apps"][0]["machines"][0]["image_now"],
        "registry.fly.io/web:deployment-broken"
    );
    assert!(
        run.stderr.contains("::error title=restore-failed::"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("MIXED STATE"), "{}", run.stderr);
    assert!(run.stderr.contains("config was refused"), "{}", run.stderr);
    let mut now = images(&fly, "web");
    now.sort();
    assert_eq!(now, [BROKEN, OLD_IMAGE, OLD_IMAGE]);
    assert!(!fly.leased("web"));
}

#[test]
fn the_overall_timeout_restores_and_says_timeout() {
    let fly = sandbox(2, 0);
    fly.behaviour(NEW, Behaviour::healthy_after(Duration::from_secs(30)));
    let run = deploy(&fly, NEW)
        .input("timeout", "1s")
        .input("wait-timeout", "5m")
        .run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "timeout");
    assert!(
        run.stderr.contains("::error title=deploy-timeout::"),
        "{}",
        run.stderr
    );
    assert_eq!(images(&fly, "web"), [OLD_IMAGE; 2]);
    assert_eq!(run.report()["apps"][0]["machines"][0]["step"], "restored");
}

#[test]
fn a_signal_mid_deploy_restores_the_canary() {
    let fly = sandbox(3, 0);
    fly.behaviour(NEW, Behaviour::healthy_after(Duration::from_secs(30)));
    // Through the action's own run step (`exec "$TOOL_BIN"`), as the runner signals it.
    let action = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let mut running = deploy(&fly, NEW)
        .input("wait-timeout", "5m")
        .as_step(&action_run_script(&action))
        .spawn();
    assert!(
        running.wait_for(|| fly.updates().len() == 1),
        "the canary was updated"
    );
    running.signal("INT");
    let run = running.finish();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "interrupted");
    assert_eq!(images(&fly, "web"), [OLD_IMAGE; 3]);
    assert!(!fly.leased("web"));
}

#[test]
fn a_one_off_429_is_waited_out() {
    let fly = sandbox(1, 0);
    fly.force(Forced {
        method: "POST".into(),
        path: "/lease".into(),
        status: 429,
        body: json!({"error": "rate limit exceeded"}),
        retry_after: Some(0),
        times: 1,
    });
    let run = deploy(&fly, NEW).run();
    run.assert_exit(0);
    assert_eq!(fly.requests().iter().filter(|r| r.status == 429).count(), 1);
}

#[test]
fn nothing_deployable_or_a_host_not_ok_refuses_with_nothing_changed() {
    let fly = sandbox(2, 0);
    fly.host_status("web", 1, "unreachable");
    let run = deploy(&fly, NEW).run();
    run.assert_exit(1);
    assert!(
        run.stderr.contains("is unreachable (not ok)"),
        "{}",
        run.stderr
    );
    assert!(fly.updates().is_empty());
    let run = deploy(&fly, NEW).input("process-group", "worker").run();
    run.assert_exit(1);
    assert!(
        run.stderr
            .contains("no deployable machine in process group worker"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_inputs_are_one_error_line_and_exit_2() {
    let fly = sandbox(1, 0);
    for (name, value, needle) in [
        ("app", "Web_App", "invalid input `app`"),
        ("image", "a b", "invalid input `image`"),
        ("wait-timeout", "soon", "invalid input `wait-timeout`"),
        ("api-url", "ftp://x", "invalid input `api-url`"),
        (
            "restore-on-failure",
            "yes",
            "invalid input `restore-on-failure`",
        ),
        ("fly-token", "Bearer ,", "invalid input `fly-token`"),
        ("fly-token", "FlyV1", "invalid input `fly-token`"),
    ] {
        let run = deploy(&fly, NEW).input(name, value).run();
        run.assert_exit(2);
        run.assert_one_error_line();
        assert!(run.stderr.contains(needle), "{name}: {}", run.stderr);
    }
    let run = deploy(&fly, NEW).input("fly-token", "").run();
    run.assert_exit(2);
    assert!(
        run.stderr.contains("missing input `fly-token`"),
        "{}",
        run.stderr
    );
    assert!(fly.requests().is_empty());
}

#[test]
fn a_huge_reply_is_not_read_past_its_limit() {
    let fly = sandbox(1, 0);
    fly.force(Forced {
        method: "GET".into(),
        path: "/apps/web/machines".into(),
        status: 200,
        body: Value::String("x".repeat(17 << 20)),
        retry_after: None,
        times: 1,
    });
    let run = deploy(&fly, NEW).run();
    run.assert_exit(3);
    run.assert_one_error_line();
    assert!(
        run.stderr.contains("reply larger than 16 MiB"),
        "{}",
        run.stderr
    );
    assert!(fly.updates().is_empty());
}

#[test]
fn text_from_the_api_cannot_inject_workflow_commands() {
    let fly = sandbox(2, 0);
    fly.hold_lease("web", 0);
    fly.force(Forced {
        method: "POST".into(),
        path: "/lease".into(),
        status: 409,
        body: json!({"error": "held\n::error title=pwned::injected\n::add-mask::x"}),
        retry_after: None,
        times: 1,
    });
    let run = deploy(&fly, NEW).run();
    run.assert_exit(1);
    for line in run.stderr.lines().chain(run.stdout.lines()) {
        assert!(
            !line.trim_start().starts_with("::error title=pwned"),
            "{line}"
        );
        assert!(!line.contains("::add-mask::x"), "{line}");
    }
    assert!(
        run.stderr.contains("leased by someone else"),
        "{}",
        run.stderr
    );
}

fn recorded(fly: &Fly, github: &sandbox::github::GitHub, image: &str) -> ToolRun {
    deploy(fly, image)
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
fn github_deployment_records_in_progress_then_success_or_failure() {
    let fly = sandbox(2, 0);
    let github = sandbox::github::GitHub::start().unwrap();
    let run = recorded(&fly, &github, NEW).run();
    run.assert_exit(0);
    let deployments = github.deployments();
    assert_eq!(deployments.len(), 1);
    let (sha, environment, payload, states) = &deployments[0];
    assert_eq!(sha, "0123456789abcdef0123456789abcdef01234567");
    assert_eq!(environment, "staging");
    assert_eq!(payload["image"], NEW);
    assert_eq!(
        states,
        &vec!["in_progress".to_owned(), "success".to_owned()]
    );
    assert!(run.report()["github_deployment_id"].is_u64());

    fly.behaviour(BROKEN, Behaviour::broken());
    let run = recorded(&fly, &github, BROKEN)
        .input("wait-timeout", "1s")
        .run();
    run.assert_exit(1);
    assert_eq!(github.deployments()[1].3, vec!["in_progress", "failure"]);
}

#[test]
fn max_unavailable_updates_a_pool_after_the_canary_and_restores_it_all() {
    let fly = sandbox(3, 0);
    // Starting takes 500 ms: room for the pool's second update before its first has started.
    fly.behaviour(NEW, Behaviour::healthy_after(Duration::from_secs(1)));
    let run = deploy(&fly, NEW).input("max-unavailable", "2").run();
    run.assert_exit(0);
    let requests = fly.requests();
    let updates: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.method == "POST" && r.path.matches('/').count() == 4)
        .map(|(i, _)| i)
        .collect();
    let waited: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| r.path.ends_with("/wait") && r.status == 200)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(updates.len(), 3);
    // The canary is waited for before anything else is updated; the other two are both
    // updated before either of them has started.
    assert!(waited[0] < updates[1], "{requests:?}");
    assert!(updates[2] < waited[1], "{requests:?}");

    // A broken image: the canary fails, nothing else is touched (the pool never starts).
    let fly = sandbox(3, 0);
    fly.behaviour(BROKEN, Behaviour::broken());
    let run = deploy(&fly, BROKEN)
        .input("max-unavailable", "2")
        .input("wait-timeout", "1s")
        .run();
    run.assert_exit(1);
    assert_eq!(
        fly.updates().len(),
        2,
        "the canary's update and its restore"
    );
    assert_eq!(images(&fly, "web"), [OLD_IMAGE; 3]);
}

#[test]
fn a_failure_inside_a_pool_restores_every_machine_it_changed() {
    let fly = sandbox(3, 0);
    // The canary passes; in the pool of two, the last machine's lease is held by someone
    // else: the pool's other machine and the canary are restored, the held one never changed.
    fly.hold_lease("web", 2);
    let run = deploy(&fly, NEW).input("max-unavailable", "2").run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "restored");
    let report = run.report();
    let steps: Vec<&str> = report["apps"][0]["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["restored", "restored", "failed"]);
    assert_eq!(images(&fly, "web"), [OLD_IMAGE; 3]);
}

#[test]
fn a_machine_that_never_starts_gets_408_from_wait_and_is_restored() {
    let fly = sandbox(2, 0);
    fly.behaviour(
        BROKEN,
        Behaviour {
            starts_after: None,
            healthy_after: None,
            crashes: false,
        },
    );
    let run = deploy(&fly, BROKEN).input("wait-timeout", "2s").run();
    run.assert_exit(1);
    assert_eq!(run.output("status"), "restored");
    assert!(
        run.stderr.contains("did not start within wait-timeout"),
        "{}",
        run.stderr
    );
    assert!(
        fly.requests()
            .iter()
            .any(|r| r.path.ends_with("/wait") && r.status == 408),
        "the wait timed out on the server side"
    );
    assert_eq!(images(&fly, "web"), [OLD_IMAGE; 2]);
}

#[test]
fn completions_and_man_page() {
    sandbox::cli_checks::assert_completions_and_man(
        BIN,
        "fly-deploy",
        &[
            "--app",
            "--image",
            "--restore-on-failure",
            "--no-restore-on-failure",
        ],
    );
}

/// `--no-restore-on-failure` is the switch's negation; the input keeps `true`/`false`. With
/// it, a broken canary is left on the new image.
#[test]
fn restore_on_failure_is_a_negatable_switch() {
    for (how, restored) in [("flag", false), ("input", false), ("default", true)] {
        let fly = sandbox(2, 0);
        fly.behaviour(BROKEN, Behaviour::broken());
        let run = match how {
            "flag" => deploy(&fly, BROKEN).arg("--no-restore-on-failure"),
            "input" => deploy(&fly, BROKEN).input("restore-on-failure", "false"),
            _ => deploy(&fly, BROKEN),
        }
        .input("wait-timeout", "1s")
        .run();
        run.assert_exit(1);
        let on_old = images(&fly, "web").iter().all(|i| i == OLD_IMAGE);
        assert_eq!(on_old, restored, "{how}: {}", run.everything());
    }
}

/// On a laptop a missing token says how to give it there; in a step, how in YAML.
#[test]
fn a_missing_token_says_how_to_give_it_where_the_tool_runs() {
    let fly = sandbox(1, 0);
    let laptop = deploy(&fly, NEW)
        .input("fly-token", "")
        .without_env("GITHUB_ACTIONS")
        .run();
    laptop.assert_exit(2);
    assert!(
        laptop.stderr.contains("FLY_API_TOKEN=…"),
        "{}",
        laptop.stderr
    );
    assert!(
        laptop.stderr.contains("--fly-token-file PATH"),
        "{}",
        laptop.stderr
    );
    let step = deploy(&fly, NEW).input("fly-token", "").run();
    step.assert_exit(2);
    assert!(
        step.stderr.contains("${{ secrets.FLY_API_TOKEN }}"),
        "{}",
        step.stderr
    );
}

#[test]
fn a_hostile_machine_id_is_refused_and_shown_neutralised() {
    let fly = Fly::start().unwrap();
    fly.add_app("web", 2, 0)
        .rename_first_machine("web", "abc\n::error title=pwned::x ##[error]pwned");
    let run = deploy(&fly, NEW).run();
    assert!(
        run.stderr.contains("not alphanumeric"),
        "{}",
        run.everything()
    );
    assert!(run.stderr.contains("pwned"), "{}", run.everything());
    for line in run.stderr.lines().chain(run.stdout.lines()) {
        assert!(
            !line.contains("##[error]") && !line.trim_start().starts_with("::error title=pwned"),
            "{line}"
        );
    }
    assert!(fly.updates().is_empty());
}
