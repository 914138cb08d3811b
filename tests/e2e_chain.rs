//! End to end: the example deploy workflow's chain of real binaries against the sandbox,
//! exactly as `sandbox demo` runs it — lockfile-check in sync then drifted, deploy good, healthy, deploy broken, unhealthy,
//! auto-rollback to the good commit and verified, Slack told. `cargo test --workspace`
//! builds every tool next to this test's folder.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use sandbox::demo::{self, GOOD, TOOLS};

#[test]
fn the_whole_chain_rolls_a_broken_deploy_back() {
    let exe = std::env::current_exe().unwrap();
    // target/debug/deps/e2e_chain-… → target/debug
    let bin_dir = exe.parent().and_then(|d| d.parent()).unwrap().to_path_buf();
    for tool in TOOLS {
        assert!(
            bin_dir.join(tool).exists(),
            "{tool} is not built in {}: run `cargo test --workspace`",
            bin_dir.display()
        );
    }
    let steps = demo::chain(&bin_dir, false).unwrap();
    let tools: Vec<&str> = steps.iter().map(|s| s.tool).collect();
    assert_eq!(
        tools,
        [
            "lockfile-check",
            "lockfile-check",
            "coolify-deploy",
            "health-wait",
            "coolify-deploy",
            "health-wait",
            "auto-rollback",
            "slack-notify"
        ]
    );
    let codes: Vec<Option<i32>> = steps.iter().map(|s| s.code).collect();
    assert_eq!(
        codes,
        [
            Some(0),
            Some(1),
            Some(0),
            Some(0),
            Some(0),
            Some(1),
            Some(0),
            Some(0)
        ]
    );
    assert_eq!(steps[0].report["in_sync"], true);
    assert_eq!(steps[0].report["workspaces"].as_array().unwrap().len(), 3);
    assert_eq!(
        steps[1].report["problems"][0]["message"],
        "Invalid: lock file's semver@7.8.6 does not satisfy semver@^6.3.0"
    );
    let steps = &steps[2..];
    let rollback = &steps[4].report;
    assert_eq!(rollback["reason"], "rolled-back");
    assert_eq!(rollback["to_sha"], GOOD);
    assert_eq!(rollback["verified"], true);
    assert_eq!(
        steps[2].report["previous_image_tags"]["webappuuid00000000000001"],
        demo::tag(GOOD)
    );
    // The rollback alert, then the deploy result.
    assert_eq!(steps[4].slack_messages, 1);
    assert_eq!(steps[5].slack_messages, 2);
}
