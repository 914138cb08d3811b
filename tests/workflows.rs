//! What the workflows promise, read from the files themselves: every third-party action is
//! pinned by a full commit SHA, and a release publishes provenance, smoke-tests its assets
//! and never moves the major tag for a prerelease.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml"))
        .collect();
    files.sort();
    files
}

/// The lines of one job (`  name:` under `jobs:`), up to the next job.
fn job<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("  {name}:");
    let mut lines = text.lines().skip_while(|l| *l != header);
    let Some(first) = lines.next() else {
        panic!("no job {name}");
    };
    std::iter::once(first)
        .chain(lines.take_while(|l| l.is_empty() || l.starts_with("   ")))
        .collect()
}

fn uses(line: &str) -> Option<&str> {
    let rest = line.trim_start().trim_start_matches("- ");
    Some(rest.strip_prefix("uses:")?.trim())
}

#[test]
fn every_third_party_action_is_pinned_by_a_full_commit_sha() {
    let mut files = yaml_files(".github/workflows");
    files.extend(yaml_files("examples/workflows"));
    files.push(root().join("action.yml"));
    for entry in std::fs::read_dir(root().join("actions")).unwrap() {
        files.push(entry.unwrap().path().join("action.yml"));
    }
    let mut pinned = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let Some(reference) = uses(line) else {
                continue;
            };
            let reference = reference.split_whitespace().next().unwrap_or_default();
            if reference.starts_with("./") {
                continue;
            }
            let (action, version) = reference
                .split_once('@')
                .unwrap_or_else(|| panic!("{}:{}: no version", file.display(), n + 1));
            // The examples use this repository's own actions by their major tag, as users
            // copy them (.github/zizmor.yml says the same).
            if action.starts_with("shipguard/shipguard/") && version == "v0" {
                continue;
            }
            assert!(
                version.len() == 40 && version.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}:{}: {reference} is not pinned by a full commit SHA",
                file.display(),
                n + 1
            );
            assert!(
                line.contains(" # v"),
                "{}:{}: say which version the SHA is",
                file.display(),
                n + 1
            );
            pinned += 1;
        }
    }
    assert!(pinned >= 5, "found only {pinned} pinned actions");
}

#[test]
fn a_release_attests_smoke_tests_and_guards_the_major_tag() {
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();

    let publish = job(&text, "publish").join("\n");
    assert!(publish.contains("id-token: write"), "{publish}");
    assert!(publish.contains("attestations: write"), "{publish}");
    assert!(
        publish.contains("uses: actions/attest-build-provenance@"),
        "{publish}"
    );
    assert!(
        publish.contains("case \"$TAG\" in *-*) kind=(--prerelease) ;; esac"),
        "a tag with a suffix is published as a prerelease: {publish}"
    );

    let smoke = job(&text, "smoke").join("\n");
    assert!(smoke.contains("needs: publish"), "{smoke}");
    assert!(smoke.contains("bash dist/install.sh"), "{smoke}");
    assert!(smoke.contains("ubuntu-24.04-arm"), "{smoke}");

    let major = job(&text, "move-major-tag").join("\n");
    assert!(major.contains("needs: smoke"), "{major}");
    assert!(
        major.contains("if: ${{ !contains(github.ref_name, '-') }}"),
        "a prerelease never moves the major tag: {major}"
    );
    assert!(
        !job(&text, "publish").iter().any(|l| l.contains("git/refs")),
        "only move-major-tag touches tags"
    );
}

/// The time budget of one step, in seconds: its own `timeout-minutes`, else what a shipguard
/// tool can take by its inputs (their action.yml defaults when not given). A job timeout
/// counts as cancelled, so `if: failure()` never runs after it: every job must outlast the
/// sum of its steps. Any other step must say its limit.
fn step_limit(file: &str, job: &str, step: &[&str]) -> f64 {
    let key = |name: &str| {
        step.iter().find_map(|l| {
            let rest = l.trim_start().trim_start_matches("- ");
            rest.strip_prefix(name)?.strip_prefix(':').map(str::trim)
        })
    };
    if let Some(minutes) = key("timeout-minutes") {
        return minutes.parse::<f64>().unwrap() * 60.0;
    }
    let tool = key("uses")
        .and_then(|u| u.strip_prefix("shipguard/shipguard/actions/"))
        .and_then(|u| u.split('@').next());
    let Some(tool) = tool else {
        panic!("{file}: job {job}: step {step:?} has no timeout-minutes");
    };
    // `with:` inputs, else the action's default.
    let input = |name: &str, default: &str| -> f64 {
        let given = step
            .iter()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}:")).map(str::trim));
        seconds(given.filter(|v| !v.is_empty()).unwrap_or(default))
    };
    // install.sh: a download (cached after the first in a job) or the cached binary; an
    // allowance, not its worst case (curl --max-time 300 per try).
    let install = 120.0;
    let own = match tool {
        // The deadline, the cancel's grace (coolify::rollout::CANCEL_GRACE, 10 s) and the
        // GitHub Deployment record's three requests (30 s each at most).
        "coolify-deploy" => input("timeout", "15m") + 10.0 + 90.0,
        // `timeout` includes the initial delay; the hold comes after it.
        "health-wait" => input("timeout", "5m") + input("hold", "0s"),
        // The overall `timeout`, then the cancel's grace, the backstop's 5 s, the record's
        // 10 s and the Slack alert's 30 s (actions/auto-rollback/src/main.rs).
        "auto-rollback" => input("timeout", "15m") + 10.0 + 5.0 + 10.0 + 30.0,
        // One absolute deadline over the send and its retries (slack-notify main.rs).
        "slack-notify" => 90.0,
        other => panic!("{file}: job {job}: shipguard step {other} has no timeout-minutes"),
    };
    own + install
}

/// `30s`, `5m`, `1h`, `250ms`, or plain seconds.
fn seconds(text: &str) -> f64 {
    let text = text.trim().trim_matches(['\'', '"']);
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((text, "s"), |i| text.split_at(i));
    let n: f64 = number
        .parse()
        .unwrap_or_else(|_| panic!("duration {text:?}"));
    match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => panic!("duration {text:?}"),
    }
}

/// The names of a workflow's jobs.
fn jobs(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| *l != "jobs:")
        .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|name| !name.starts_with(' '))
        .map(str::to_owned)
        .collect()
}

/// The steps of a job: each from its `      - ` line to the next.
fn steps<'a>(lines: &[&'a str]) -> Vec<Vec<&'a str>> {
    let mut steps: Vec<Vec<&str>> = Vec::new();
    let mut inside = false;
    for line in lines {
        if line.trim() == "steps:" {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if line.starts_with("      - ") {
            steps.push(vec![line]);
        } else if let Some(step) = steps.last_mut() {
            step.push(line);
        }
    }
    steps
}

#[test]
fn every_example_job_outlasts_the_sum_of_its_steps_limits() {
    let mut checked = 0;
    for file in yaml_files("examples/workflows") {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for job_name in jobs(&text) {
            let lines = job(&text, &job_name);
            let timeout = lines
                .iter()
                .find_map(|l| l.strip_prefix("    timeout-minutes:"))
                .unwrap_or_else(|| panic!("{name}: job {job_name} has no timeout-minutes"));
            let timeout: f64 = timeout.trim().parse::<f64>().unwrap() * 60.0;
            let sum: f64 = steps(&lines)
                .iter()
                .map(|s| step_limit(&name, &job_name, s))
                .sum();
            // Job set-up (runner, checkout of the actions) comes on top: two minutes.
            assert!(
                timeout >= sum + 120.0,
                "{name}: job {job_name}: timeout-minutes {} < its steps' limits {:.1} min + 2 min",
                timeout / 60.0,
                sum / 60.0
            );
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked} jobs checked");
}

#[test]
fn deploys_and_rollbacks_have_their_own_concurrency_groups() {
    let read =
        |name: &str| std::fs::read_to_string(root().join("examples/workflows").join(name)).unwrap();
    let group = |text: &str| {
        let mut lines = text.lines().skip_while(|l| *l != "concurrency:");
        lines.next().expect("a workflow-level concurrency block");
        let block: Vec<&str> = lines.take_while(|l| l.starts_with("  ")).collect();
        let group = block
            .iter()
            .find_map(|l| l.trim().strip_prefix("group:"))
            .unwrap()
            .trim()
            .to_owned();
        assert!(
            block
                .iter()
                .any(|l| l.trim() == "cancel-in-progress: false"),
            "a running deploy or rollback is never cancelled"
        );
        group
    };
    let deploy = read("deploy.yml");
    let rollback = read("auto-rollback.yml");
    // GitHub keeps one pending run per group and cancels the older pending one: a scheduled
    // rollback sharing the deploys' group could drop a pending deploy.
    assert_ne!(group(&deploy), group(&rollback));
    // Instead the rollback refuses while a deploy run is queued or in progress.
    assert!(
        rollback.contains("deploy-workflow: deploy.yml"),
        "{rollback}"
    );
}

/// The README's first command, `cargo run --release -p sandbox -- demo`, needs cargo to know
/// which of the sandbox crate's binaries to run once the crate has more than one.
#[test]
fn the_readme_demo_command_names_one_binary() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains("cargo run --release -p sandbox -- demo"),
        "the README's first command changed"
    );
    let extra_bins = std::fs::read_dir(root.join("tests/sandbox/src/bin"))
        .map(|dir| dir.count())
        .unwrap_or(0);
    let manifest = std::fs::read_to_string(root.join("tests/sandbox/Cargo.toml")).unwrap();
    assert!(
        extra_bins == 0 || manifest.contains("default-run = \"sandbox\""),
        "tests/sandbox has {extra_bins} more binaries: set `default-run = \"sandbox\"` so the README's demo command runs"
    );
}
