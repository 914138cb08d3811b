//! End to end on Fly: the chain of the Fly examples with real binaries against the Machines
//! API stand-in, exactly as `sandbox demo --platform fly` runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use sandbox::demo_fly::{self, TOOLS};

#[test]
fn the_fly_chain_restores_a_broken_canary_and_rolls_an_unhealthy_deploy_back() {
    let exe = std::env::current_exe().unwrap();
    let bin_dir = exe.parent().and_then(|d| d.parent()).unwrap().to_path_buf();
    for tool in TOOLS {
        assert!(
            bin_dir.join(tool).exists(),
            "{tool} is not built in {}: run `cargo test --workspace`",
            bin_dir.display()
        );
    }
    let steps = demo_fly::chain(&bin_dir, false).unwrap();
    let codes: Vec<(&str, Option<i32>)> = steps.iter().map(|s| (s.tool, s.code)).collect();
    assert_eq!(
        codes,
        [
            ("fly-deploy", Some(0)),
            ("health-wait", Some(0)),
            ("fly-deploy", Some(1)),
            ("fly-deploy", Some(0)),
            ("health-wait", Some(1)),
            ("auto-rollback", Some(0)),
        ]
    );
    assert_eq!(steps[2].report["status"], "restored");
    assert_eq!(steps[5].report["to_sha"], demo_fly::GOOD);
    assert_eq!(steps[5].report["verified"], true);
}
