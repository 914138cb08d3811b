//! dist/install.sh against a local release server: it installs a verified asset, and refuses
//! a checksum mismatch or a missing entry instead of running an unverified binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use sandbox::app::{App, Plan, Reply};

const VERSION: &str = "1.2.3";
const ASSET: &str = "health-wait-v1.2.3-x86_64-unknown-linux-gnu.tar.gz";

const TOOLS: [&str; 7] = [
    "auto-rollback",
    "coolify-deploy",
    "fly-deploy",
    "health-wait",
    "lockfile-check",
    "railway-deploy",
    "slack-notify",
];

fn asset(tool: &str) -> String {
    format!("{tool}-v{VERSION}-x86_64-unknown-linux-gnu.tar.gz")
}

/// A copy of the action's layout with a released version, and the release's tarball.
fn fake_checkout(dir: &Path) -> Vec<u8> {
    fake_release(dir, &["health-wait"]).remove(0)
}

/// The layout with every tool in `tools` (setup.sh and install.sh as the action runs them)
/// and a release tarball for each, in the same order.
fn fake_release(dir: &Path, tools: &[&str]) -> Vec<Vec<u8>> {
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    for script in ["install.sh", "setup.sh"] {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("dist")
                .join(script),
            dir.join("dist").join(script),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("Cargo.toml"),
        format!("[workspace]\n\n[workspace.package]\nversion = \"{VERSION}\"\n"),
    )
    .unwrap();
    tools
        .iter()
        .map(|tool| {
            std::fs::create_dir_all(dir.join("actions").join(tool)).unwrap();
            std::fs::write(
                dir.join("actions").join(tool).join("action.yml"),
                "name: x\n",
            )
            .unwrap();
            let staging = dir.join("staging").join(tool);
            std::fs::create_dir_all(&staging).unwrap();
            std::fs::write(
                staging.join(tool),
                format!("#!/bin/sh\necho \"{tool} {VERSION}\"\n"),
            )
            .unwrap();
            let status = Command::new("chmod")
                .arg("+x")
                .arg(staging.join(tool))
                .status()
                .unwrap();
            assert!(status.success());
            let tarball = dir.join(asset(tool));
            let status = Command::new("tar")
                .arg("-czf")
                .arg(&tarball)
                .arg("-C")
                .arg(&staging)
                .arg(tool)
                .status()
                .unwrap();
            assert!(status.success());
            std::fs::read(tarball).unwrap()
        })
        .collect()
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

/// A release server with health-wait's tarball and a SHA256SUMS that lists it.
fn one_asset_release(dir: &Path, tarball: Vec<u8>) -> App {
    let sums = format!("{}  {ASSET}\n", sha256(&tarball, dir));
    let server = App::start().unwrap();
    server.plan(
        &format!("/v1/{ASSET}"),
        Plan::Sequence(vec![Reply::status(200).bytes(tarball)]),
    );
    server.plan(
        "/v1/SHA256SUMS",
        Plan::Sequence(vec![Reply::status(200).body(&sums)]),
    );
    server
}

struct Installed {
    code: Option<i32>,
    stderr: String,
    output: String,
}

fn install(dir: &Path, base_url: &str, path_env: &str) -> Installed {
    run(&mut install_command(dir, base_url, path_env), dir)
}

/// install.sh as the action's first step runs it.
fn install_command(dir: &Path, base_url: &str, path_env: &str) -> Command {
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc"])
        .arg(dir.join("dist/install.sh"))
        .arg("health-wait")
        .env_clear()
        .env("PATH", path_env)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TOOL_CACHE", dir.join("cache"))
        .env("ACTION_REPOSITORY", "shipguard/shipguard")
        .env("SHIPGUARD_RELEASE_BASE_URL", base_url)
        .env("GITHUB_OUTPUT", dir.join("github-output"));
    command
}

fn run(command: &mut Command, dir: &Path) -> Installed {
    let output_file = dir.join("github-output");
    let _ = std::fs::remove_file(&output_file);
    let out = command.output().unwrap();
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
fn a_missing_asset_stops_with_its_cause_unless_a_build_is_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    fake_checkout(dir.path());
    let server = App::start().unwrap();
    // No plan: every download is a 404.
    let done = install(dir.path(), &server.url("/v1"), PATH_WITHOUT_CARGO);
    assert_eq!(done.code, Some(1));
    assert!(
        done.stderr.contains(&format!(
            "the release v1.2.3 of shipguard/shipguard has no asset {ASSET}; use a released version of the action (such as @v0), or set `fallback: build`"
        )),
        "{}",
        done.stderr
    );
    assert!(!done.stderr.contains("Building"), "{}", done.stderr);

    let asked = run(
        install_command(dir.path(), &server.url("/v1"), PATH_WITHOUT_CARGO)
            .env("INPUT_FALLBACK", "build"),
        dir.path(),
    );
    assert_eq!(asked.code, Some(1));
    assert!(
        asked
            .stderr
            .contains("`fallback: build` needs cargo, which is not installed"),
        "{}",
        asked.stderr
    );

    let bad = run(
        install_command(dir.path(), &server.url("/v1"), PATH_WITHOUT_CARGO)
            .env("INPUT_FALLBACK", "yes"),
        dir.path(),
    );
    assert_eq!(bad.code, Some(2), "{}", bad.stderr);
    assert!(
        bad.stderr.contains("invalid input `fallback`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_development_version_is_never_downloaded_and_builds_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    fake_checkout(dir.path());
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[workspace]\n\n[workspace.package]\nversion = \"1.3.0-dev\"\n",
    )
    .unwrap();
    let server = App::start().unwrap();
    let done = install(dir.path(), &server.url("/v1"), PATH_WITHOUT_CARGO);
    assert_eq!(done.code, Some(1));
    assert!(
        done.stderr.contains(
            "health-wait 1.3.0-dev is a development version, which has no release assets"
        ),
        "{}",
        done.stderr
    );
    assert_eq!(server.hits(&format!("/v1/{ASSET}")), 0);
}

#[test]
fn a_failing_download_is_retried_then_reported_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    fake_checkout(dir.path());
    let server = App::start().unwrap();
    server.plan(
        &format!("/v1/{ASSET}"),
        Plan::Sequence(vec![Reply::status(503)]),
    );
    let done = install(dir.path(), &server.url("/v1"), PATH_WITHOUT_CARGO);
    assert_eq!(done.code, Some(1));
    assert!(
        done.stderr.contains("failed after retries: HTTP 503"),
        "{}",
        done.stderr
    );
    assert_eq!(
        server.hits(&format!("/v1/{ASSET}")),
        4,
        "one try and three retries"
    );
    assert!(!done.stderr.contains("building"), "{}", done.stderr);
}

/// A PATH of links to the usual tools, leaving out `missing`.
fn path_without(dir: &Path, missing: &[&str]) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in [
        "bash",
        "sed",
        "head",
        "awk",
        "cut",
        "tar",
        "gzip",
        "sha256sum",
        "mkdir",
        "mktemp",
        "rm",
        "chmod",
        "touch",
        "dirname",
        "basename",
        "tr",
        "grep",
        "uname",
        "cat",
        "sleep",
        "timeout",
        "curl",
        "wget",
    ] {
        if missing.contains(&tool) {
            continue;
        }
        let target = Path::new("/usr/bin").join(tool);
        let target = if target.exists() {
            target
        } else {
            Path::new("/bin").join(tool)
        };
        std::os::unix::fs::symlink(target, bin.join(tool)).unwrap();
    }
    bin.display().to_string()
}

#[test]
fn without_curl_it_uses_wget_and_without_either_it_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let tarball = fake_checkout(dir.path());
    let server = one_asset_release(dir.path(), tarball);
    let with_wget = path_without(&dir.path().join("wget-only"), &["curl"]);
    let done = install(dir.path(), &server.url("/v1"), &with_wget);
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(done.output.starts_with("path="), "{}", done.output);
    assert_eq!(server.hits(&format!("/v1/{ASSET}")), 1);

    let neither = path_without(&dir.path().join("neither"), &["curl", "wget"]);
    let _ = std::fs::remove_dir_all(dir.path().join("cache"));
    let done = install(dir.path(), &server.url("/v1"), &neither);
    assert_eq!(done.code, Some(1));
    assert!(
        done.stderr
            .contains("curl or wget is needed to download health-wait"),
        "{}",
        done.stderr
    );
}

#[test]
fn an_empty_action_repository_is_read_from_where_the_runner_put_the_action() {
    let dir = tempfile::tempdir().unwrap();
    // The runner checks an action out to <actions dir>/<owner>/<name>/<ref>.
    let checkout = dir.path().join("_actions/acme/shipguard-fork/v1.2.3");
    let tarball = fake_checkout(&checkout);
    let server = one_asset_release(dir.path(), tarball);
    let done = run(
        install_command(&checkout, &server.url("/v1"), PATH_WITHOUT_CARGO)
            .env("ACTION_REPOSITORY", ""),
        &checkout,
    );
    assert_eq!(done.code, Some(0), "{}", done.stderr);
    assert!(
        done.stderr.contains("from acme/shipguard-fork"),
        "{}",
        done.stderr
    );

    let elsewhere = dir.path().join("plain-folder");
    fake_checkout(&elsewhere);
    let done = run(
        install_command(&elsewhere, &server.url("/v1"), PATH_WITHOUT_CARGO)
            .env("ACTION_REPOSITORY", ""),
        &elsewhere,
    );
    assert_eq!(done.code, Some(1));
    assert!(
        done.stderr
            .contains("cannot tell which repository this action comes from"),
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

/// A release server holding every tool's tarball and one SHA256SUMS.
fn release_server(dir: &Path) -> App {
    let tarballs = fake_release(dir, &TOOLS);
    let server = App::start().unwrap();
    let mut sums = String::new();
    for (tool, tarball) in TOOLS.iter().zip(tarballs) {
        sums.push_str(&format!("{}  {}\n", sha256(&tarball, dir), asset(tool)));
        server.plan(
            &format!("/v1/{}", asset(tool)),
            Plan::Sequence(vec![Reply::status(200).bytes(tarball)]),
        );
    }
    server.plan(
        "/v1/SHA256SUMS",
        Plan::Sequence(vec![Reply::status(200).body(&sums)]),
    );
    server
}

/// dist/setup.sh as action.yml runs it: `bash --noprofile --norc setup.sh` with INPUT_TOOLS.
fn setup(dir: &Path, server: &App, tools: &str) -> (Option<i32>, String, String, String) {
    let output = dir.join("github-output");
    let path_file = dir.join("github-path");
    let _ = std::fs::remove_file(&output);
    let _ = std::fs::remove_file(&path_file);
    let out = Command::new("bash")
        .args(["--noprofile", "--norc"])
        .arg(dir.join("dist/setup.sh"))
        .env_clear()
        .env("PATH", PATH_WITHOUT_CARGO)
        .env("INPUT_TOOLS", tools)
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("RUNNER_TOOL_CACHE", dir.join("cache"))
        .env("ACTION_REPOSITORY", "shipguard/shipguard")
        .env("SHIPGUARD_RELEASE_BASE_URL", server.url("/v1"))
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_PATH", &path_file)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        std::fs::read_to_string(output).unwrap_or_default(),
        std::fs::read_to_string(path_file).unwrap_or_default(),
    )
}

#[test]
fn setup_installs_every_tools_value_onto_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let server = release_server(dir.path());
    let bin_dir = dir
        .path()
        .join("cache/shipguard/1.2.3/x86_64-unknown-linux-gnu");
    let mut cases: Vec<(String, Vec<&str>)> = TOOLS
        .iter()
        .map(|tool| (tool.to_string(), vec![*tool]))
        .collect();
    cases.push(("all".into(), TOOLS.to_vec()));
    cases.push(("".into(), TOOLS.to_vec()));
    cases.push((
        " health-wait ,\nslack-notify\n".into(),
        vec!["health-wait", "slack-notify"],
    ));
    for (tools, expected) in cases {
        let _ = std::fs::remove_dir_all(dir.path().join("cache"));
        let (code, stderr, output, path) = setup(dir.path(), &server, &tools);
        assert_eq!(code, Some(0), "tools {tools:?}: {stderr}");
        assert_eq!(
            output,
            format!("bin-dir={}\n", bin_dir.display()),
            "{tools:?}"
        );
        assert_eq!(path, format!("{}\n", bin_dir.display()), "{tools:?}");
        for tool in TOOLS {
            assert_eq!(
                bin_dir.join(tool).exists(),
                expected.contains(&tool),
                "tools {tools:?}: {tool}"
            );
        }
    }
}

#[test]
fn setup_names_an_unknown_tool_and_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let server = release_server(dir.path());
    let (code, stderr, output, _) = setup(dir.path(), &server, "health-wait,helth-wait");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown tool helth-wait in `tools`; use all or some of: auto-rollback coolify-deploy fly-deploy health-wait lockfile-check railway-deploy slack-notify"),
        "{stderr}"
    );
    assert_eq!(output, "", "no bin-dir output after a refusal");
}
