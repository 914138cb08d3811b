//! dist/install.sh against a local release server: it installs a verified asset, and refuses
//! a checksum mismatch or a missing entry instead of running an unverified binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use sandbox::app::{App, Plan, Reply};

const VERSION: &str = "1.2.3";
const ASSET: &str = "health-wait-v1.2.3-x86_64-unknown-linux-gnu.tar.gz";

/// A copy of the action's layout with a released version, and the release's tarball.
fn fake_checkout(dir: &Path) -> Vec<u8> {
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::create_dir_all(dir.join("actions/health-wait")).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("dist/install.sh"),
        dir.join("dist/install.sh"),
    )
    .unwrap();
    std::fs::write(dir.join("actions/health-wait/action.yml"), "name: x\n").unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("[workspace]\n\n[workspace.package]\nversion = \"{VERSION}\"\n"),
    )
    .unwrap();
    let staging = dir.join("staging");
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::write(
        staging.join("health-wait"),
        "#!/bin/sh\necho \"health-wait 1.2.3\"\n",
    )
    .unwrap();
    let status = Command::new("chmod")
        .arg("+x")
        .arg(staging.join("health-wait"))
        .status()
        .unwrap();
    assert!(status.success());
    let tarball = dir.join(ASSET);
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&tarball)
        .arg("-C")
        .arg(&staging)
        .arg("health-wait")
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(tarball).unwrap()
}

fn sha256(bytes: &[u8], dir: &Path) -> String {
    let file = dir.join("hash-me");
    std::fs::write(&file, bytes).unwrap();
    let out = Command::new("sha256sum").arg(&file).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

struct Installed {
    code: Option<i32>,
    stderr: String,
    output: String,
}

fn install(dir: &Path, base_url: &str, path_env: &str) -> Installed {
    let output_file = dir.join("github-output");
    let out = Command::new("bash")
        .arg(dir.join("dist/install.sh"))
        .arg("health-wait")
        .env_clear()
        .env("PATH", path_env)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TOOL_CACHE", dir.join("cache"))
        .env("ACTION_REPOSITORY", "shipguard/shipguard")
        .env("SHIPGUARD_RELEASE_BASE_URL", base_url)
        .env("GITHUB_OUTPUT", &output_file)
        .output()
        .unwrap();
    Installed {
        code: out.status.code(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        output: std::fs::read_to_string(output_file).unwrap_or_default(),
    }
}

/// PATH with the usual tools but without cargo, so a fallback build cannot hide a refusal.
const PATH_WITHOUT_CARGO: &str = "/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin";

#[test]
fn installs_a_verified_release_asset_and_caches_it() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = fake_checkout(dir.path());
    let sums = format!(
        "{}  {ASSET}\nabc  other.tar.gz\n",
        sha256(&tarball, dir.path())
    );
    let server = App::start().unwrap();
    server.plan(
        &format!("/v1/{ASSET}"),
        Plan::Sequence(vec![Reply::status(200).bytes(tarball)]),
    );
    server.plan(
        "/v1/SHA256SUMS",
        Plan::Sequence(vec![Reply::status(200).body(&sums)]),
    );

    let done = install(dir.path(), &server.url("/v1"), PATH_WITHOUT_CARGO);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    let bin = dir
        .path()
        .join("cache/shipguard/1.2.3/x86_64-unknown-linux-gnu/health-wait");
    assert_eq!(done.output, format!("path={}\n", bin.display()));
    assert!(
        done.stderr.contains("health-wait 1.2.3"),
        "ran --version: {}",
        done.stderr
    );

    let again = install(dir.path(), &server.url("/v1"), PATH_WITHOUT_CARGO);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(
        again.stderr.contains("Using cached health-wait 1.2.3"),
        "{}",
        again.stderr
    );
    assert_eq!(
        server.hits(&format!("/v1/{ASSET}")),
        1,
        "the second install used the cache"
    );
}

#[test]
fn refuses_a_checksum_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = fake_checkout(dir.path());
    let wrong = format!("{}  {ASSET}\n", "0".repeat(64));
    let server = App::start().unwrap();
    server.plan(
        &format!("/v1/{ASSET}"),
        Plan::Sequence(vec![Reply::status(200).bytes(tarball)]),
    );
    server.plan(
        "/v1/SHA256SUMS",
        Plan::Sequence(vec![Reply::status(200).body(&wrong)]),
    );

    let done = install(dir.path(), &server.url("/v1"), PATH_WITHOUT_CARGO);
    assert_eq!(done.code, Some(1));
    assert!(
        done.stderr
            .contains("::error title=install::checksum mismatch"),
        "{}",
        done.stderr
    );
    assert_eq!(done.output, "", "no path output for a refused binary");
    assert!(
        !dir.path()
            .join("cache/shipguard/1.2.3/x86_64-unknown-linux-gnu/health-wait")
            .exists()
    );
}

#[test]
fn refuses_an_asset_missing_from_the_sums() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = fake_checkout(dir.path());
    let server = App::start().unwrap();
    server.plan(
        &format!("/v1/{ASSET}"),
        Plan::Sequence(vec![Reply::status(200).bytes(tarball)]),
    );
    server.plan(
        "/v1/SHA256SUMS",
        Plan::Sequence(vec![Reply::status(200).body("abc  other.tar.gz\n")]),
    );
    let done = install(dir.path(), &server.url("/v1"), PATH_WITHOUT_CARGO);
    assert_eq!(done.code, Some(1));
    assert!(done.stderr.contains("has no entry for"), "{}", done.stderr);
}

#[test]
fn a_missing_asset_falls_back_to_a_source_build() {
    let dir = tempfile::tempdir().unwrap();
    fake_checkout(dir.path());
    let server = App::start().unwrap();
    // No plan: every download is a 404. Without cargo the fallback says why it cannot build.
    let done = install(dir.path(), &server.url("/v1"), PATH_WITHOUT_CARGO);
    assert_eq!(done.code, Some(1));
    assert!(
        done.stderr.contains("building from source instead"),
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains("cargo is not installed"),
        "{}",
        done.stderr
    );
}

#[test]
fn rejects_an_unknown_tool() {
    let dir = tempfile::tempdir().unwrap();
    fake_checkout(dir.path());
    let out = Command::new("bash")
        .arg(dir.path().join("dist/install.sh"))
        .arg("../../etc")
        .env_clear()
        .env("PATH", PATH_WITHOUT_CARGO)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown tool"));
}
