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
    assert_artifacts(&steps);
    assert_reports_match_their_schemas(&steps);
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

/// Every `report` a tool wrote is valid against its committed JSON Schema (schemas/) and
/// names its schema version.
fn assert_reports_match_their_schemas(steps: &[demo::Step]) {
    for step in steps.iter().filter(|s| s.tool != "slack-notify") {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("schemas")
            .join(format!("{}.schema.json", step.tool));
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&step.report)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", step.tool);
        assert_eq!(
            step.report["schema"],
            format!("shipguard.{}/1", step.tool),
            "{}",
            step.tool
        );
    }
}

/// What the demo shows and keeps: every step's job summary, and the Slack payloads of the
/// step that sent them, written to the folder as Markdown and JSON.
fn assert_artifacts(steps: &[demo::Step]) {
    for step in steps {
        assert!(
            !step.summary.trim().is_empty(),
            "{} wrote no job summary",
            step.tool
        );
        let rendered = sandbox::render::markdown(&step.summary);
        assert!(!rendered.contains("<details>"), "{rendered}");
    }
    let sent: Vec<(&str, usize)> = steps.iter().map(|s| (s.tool, s.slack.len())).collect();
    assert_eq!(sent[6], ("auto-rollback", 1), "{sent:?}");
    assert_eq!(sent[7], ("slack-notify", 1), "{sent:?}");
    assert_eq!(sent.iter().map(|(_, n)| n).sum::<usize>(), 2, "{sent:?}");
    let folder = tempfile::tempdir().unwrap();
    let files = demo::write_artifacts(steps, folder.path()).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), steps.len() + 2, "{names:?}");
    assert_eq!(names[0], "01-lockfile-check.md");
    assert!(
        names.contains(&"07-auto-rollback-slack-1.json".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"08-slack-notify-slack-1.json".to_owned()),
        "{names:?}"
    );
    for file in &files {
        assert!(file.starts_with(folder.path()));
        let text = std::fs::read_to_string(file).unwrap();
        if file.extension().is_some_and(|e| e == "json") {
            let payload: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert!(!sandbox::render::slack(&payload).is_empty(), "{text}");
        } else {
            assert!(text.contains('|') || text.contains('#'), "{text}");
        }
    }
    let notify =
        std::fs::read_to_string(folder.path().join("08-slack-notify-slack-1.json")).unwrap();
    let notify: serde_json::Value = serde_json::from_str(&notify).unwrap();
    assert_eq!(notify, steps[7].slack[0]);
}
