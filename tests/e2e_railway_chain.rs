//! End to end on Railway: the chain of the Railway examples with real binaries against the
//! Railway GraphQL stand-in, exactly as `sandbox demo --platform railway` runs it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use sandbox::demo_railway::{self, TOOLS};

#[test]
fn the_railway_chain_fails_a_crash_and_rolls_an_unhealthy_deploy_back_natively() {
    let exe = std::env::current_exe().unwrap();
    let bin_dir = exe.parent().and_then(|d| d.parent()).unwrap().to_path_buf();
    for tool in TOOLS {
        assert!(
            bin_dir.join(tool).exists(),
            "{tool} is not built in {}: run `cargo test --workspace`",
            bin_dir.display()
        );
    }
    let steps = demo_railway::chain(&bin_dir, false).unwrap();
    let codes: Vec<(&str, Option<i32>)> = steps.iter().map(|s| (s.tool, s.code)).collect();
    assert_eq!(
        codes,
        [
            ("railway-deploy", Some(0)),
            ("health-wait", Some(0)),
            ("railway-deploy", Some(1)),
            ("railway-deploy", Some(0)),
            ("health-wait", Some(1)),
            ("auto-rollback", Some(0)),
        ]
    );
    assert_eq!(steps[2].report["services"][0]["status"], "CRASHED");
    assert_eq!(steps[5].report["to_sha"], demo_railway::GOOD);
    assert_eq!(
        steps[5].report["railway"][0]["method"],
        "deployment-rollback"
    );
    assert_eq!(steps[5].report["verified"], true);
}
