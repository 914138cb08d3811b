//! A cancelled run or a job timeout: GitHub's runner sends SIGINT, then SIGTERM, to the
//! step's process. health-wait stops probing at once, writes its outputs and summary with an
//! `interrupted` verdict, and exits 1. Each test waits until the app has seen probes, then
//! signals.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use sandbox::app::{App, Plan, Reply};
use sandbox::harness::{Finished, ToolRun, action_run_script};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_health-wait");

/// Probes an app that never becomes healthy (or, with `hold`, holds for long), signals once
/// it has seen `probes` requests, and returns what the run left.
fn interrupted(app: &App, run: ToolRun, signal: &str, probes: usize) -> Finished {
    let mut running = run
        .input("url", &app.url("/health"))
        .input("interval", "20ms")
        .input("timeout", "20s")
        .limit(Duration::from_secs(30))
        .spawn();
    assert!(
        running.wait_for(|| app.hits("/health") >= probes),
        "the app never saw {probes} probes"
    );
    running.signal(signal);
    running.finish()
}

fn assert_interrupted(run: &Finished, signal: &str) {
    run.assert_exit(1);
    assert_eq!(run.output("healthy"), "false", "{}", run.everything());
    let report = run.report();
    assert_eq!(
        report["urls"][0]["verdict"],
        json!("interrupted"),
        "{report}"
    );
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("interrupted by {signal}")),
        "{report}"
    );
    assert!(
        run.stderr.contains("title=health-interrupted"),
        "{}",
        run.stderr
    );
    assert!(run.summary.contains("interrupted"), "{}", run.summary);
}

#[test]
fn sigterm_mid_wait_writes_an_interrupted_verdict_and_exits_1() {
    let app = App::start().unwrap();
    app.plan("/health", Plan::Sequence(vec![Reply::status(503)]));
    let run = interrupted(&app, ToolRun::new(BIN), "TERM", 3);
    assert_interrupted(&run, "SIGTERM");
}

#[test]
fn sigint_during_the_hold_is_not_healthy() {
    let app = App::start().unwrap();
    app.plan("/health", Plan::Sequence(vec![Reply::status(200)]));
    // Healthy at the first probe; the third is inside the 20-second hold.
    let run = interrupted(&app, ToolRun::new(BIN).input("hold", "20s"), "INT", 3);
    assert_interrupted(&run, "SIGINT");
    assert!(
        run.report()["reason"]
            .as_str()
            .unwrap()
            .contains("during the hold"),
        "{}",
        run.report()
    );
}

/// As the runner does it: SIGINT to the step's bash only (actions/runner
/// src/Runner.Sdk/ProcessInvoker.cs l. 832). The action's `run:` script must hand its
/// process over to the binary (`exec`), or the signal never reaches it.
#[test]
fn sigint_to_the_action_step_reaches_the_binary() {
    let action = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
    let app = App::start().unwrap();
    app.plan("/health", Plan::Sequence(vec![Reply::status(503)]));
    let step = ToolRun::new(BIN).as_step(&action_run_script(&action));
    let run = interrupted(&app, step, "INT", 3);
    assert_interrupted(&run, "SIGINT");
}
