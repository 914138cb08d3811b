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
