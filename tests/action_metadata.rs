//! Every action input reaches its binary: each input declared in an action.yml is mapped to
//! `INPUT_<UPPER_SNAKE>` in the run step, and each output is forwarded from that step (an
//! input declared but never passed on is a silent no-op for users).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::Path;

fn section<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let mut names = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            inside = line == format!("{name}:");
            continue;
        }
        if inside
            && let Some(key) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !key.starts_with(' ')
        {
            names.push(key);
        }
    }
    names
}

#[test]
fn every_input_is_mapped_and_every_output_forwarded() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(root.join("actions")).unwrap() {
        let path = entry.unwrap().path().join("action.yml");
        let text = std::fs::read_to_string(&path).unwrap();
        let inputs = section(&text, "inputs");
        assert!(!inputs.is_empty(), "{}: no inputs found", path.display());
        for input in inputs {
            let mapping = format!(
                "INPUT_{}: ${{{{ inputs.{input} }}}}",
                input.replace('-', "_").to_uppercase()
            );
            assert!(
                text.contains(&mapping),
                "{}: input `{input}` is not mapped as `{mapping}`",
                path.display()
            );
        }
        for output in section(&text, "outputs") {
            let forward = format!("value: ${{{{ steps.run.outputs.{output} }}}}");
            assert!(
                text.contains(&forward),
                "{}: output `{output}` is not forwarded",
                path.display()
            );
        }
        // GitHub's runner signals only the step's own process on cancel (SIGINT, then
        // SIGTERM: actions/runner src/Runner.Sdk/ProcessInvoker.cs l. 832): the run step's
        // bash must become the binary. The tools' tests/signals.rs send it the signal.
        assert!(
            text.contains("\n      run: exec \"$TOOL_BIN\"\n"),
            "{}: the run step does not `exec \"$TOOL_BIN\"`",
            path.display()
        );
        assert!(
            text.contains("dist/install.sh\" "),
            "{}: does not use the installer",
            path.display()
        );
        checked += 1;
    }
    assert!(checked >= 2);
}
