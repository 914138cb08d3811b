//! A cancelled run or a job timeout while a message waits out Slack's `Retry-After`: the send
//! stops at once (no retry after the signal), the outputs and the summary are written, and the
//! exit code is 1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use sandbox::harness::{ToolRun, action_run_script};
use sandbox::slack::{Forced, Slack};

const BIN: &str = env!("CARGO_BIN_EXE_slack-notify");

fn interrupted(step: bool, signal: &str) {
    let slack = Slack::start().unwrap();
    // Rate limited for a minute: the tool waits out Retry-After (real delays in this test).
    slack.force(vec![Forced::new(429, "rate_limited").retry_after(60)]);
    let mut run = ToolRun::new(BIN)
        .without_env("SHIPGUARD_TEST_NO_RETRY_DELAY")
        .input("webhook-url", &slack.webhook_url())
        .input("kind", "deploy")
        .input("status", "success")
        .limit(Duration::from_secs(30));
    if step {
        let action = Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml");
        run = run.as_step(&action_run_script(&action));
    }
    let mut running = run.spawn();
    assert!(running.wait_for(|| !slack.received().is_empty()));
    running.signal(signal);
    let run = running.finish();
    run.assert_exit(1);
    assert!(run.outputs.contains_key("payload"), "{}", run.everything());
    assert_eq!(run.output("ts"), "");
    assert!(
        run.stderr.contains("title=slack-interrupted"),
        "{}",
        run.stderr
    );
    assert!(run.summary.contains("interrupted"), "{}", run.summary);
    assert_eq!(slack.received().len(), 1, "no retry after the signal");
}

#[test]
fn sigterm_while_waiting_out_retry_after_stops_the_send() {
    interrupted(false, "TERM");
}

/// As the runner does it: SIGINT to the step's bash only.
#[test]
fn sigint_to_the_action_step_stops_the_send() {
    interrupted(true, "INT");
}
