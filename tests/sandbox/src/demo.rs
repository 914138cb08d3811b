//! `sandbox demo`: the suite's main job on loopback, with the real binaries, narrated.
//! Today it drives health-wait through a deploy that turns healthy and one that breaks;
//! each tool joins the chain as it lands.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use crate::app::{App, Plan, Reply};

/// Runs the demo; the tools are built (or found) next to this binary.
pub fn run() -> anyhow::Result<()> {
    let bin_dir = build_tools(&["health-wait"])?;
    let started = Instant::now();
    let health_wait = bin_dir.join("health-wait");
    let app = App::start()?;
    let url = app.url("/health");
    say(&format!(
        "A demo app is listening on {}",
        app.server.base_url()
    ));

    say(
        "Deploy 1: the new container starts; /health answers 503 for 2 s, then 200 {\"status\":\"healthy\"}.",
    );
    app.plan(
        "/health",
        Plan::SwitchAfter {
            after: Duration::from_secs(2),
            before: Reply::json(503, json!({"status": "starting"})),
            then: Reply::json(200, json!({"status": "healthy", "version": "a1b2c3d"})),
        },
    );
    let good = probe(&health_wait, &url, "10s")?;
    if good.code != Some(0) {
        bail!(
            "health-wait should have reported the app healthy (exit {:?})",
            good.code
        );
    }
    say(&format!(
        "health-wait: healthy after {} attempts in {:.1}s (p95 {} ms). Exit 0: the workflow goes on.",
        good.report["attempts"],
        seconds(&good.report["elapsed_ms"]),
        good.report["latency"]["p95_ms"]
    ));

    say("Deploy 2: a broken version; /health answers 200 but reports {\"status\":\"degraded\"}.");
    app.plan(
        "/health",
        Plan::Sequence(vec![Reply::json(
            200,
            json!({"status": "degraded", "version": "e4f5a6b"}),
        )]),
    );
    let bad = probe(&health_wait, &url, "3s")?;
    if bad.code != Some(1) {
        bail!(
            "health-wait should have reported the app unhealthy (exit {:?})",
            bad.code
        );
    }
    say(&format!(
        "health-wait: not healthy after {} attempts: {}. Exit 1: this is where auto-rollback takes over.",
        bad.report["attempts"],
        bad.report["urls"][0]["failed_condition"]
            .as_str()
            .unwrap_or("?")
    ));
    say(&format!(
        "Demo finished in {:.1}s after the build.",
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

struct Probed {
    code: Option<i32>,
    report: Value,
}

/// Runs health-wait as a CLI; its progress goes to our stderr, its JSON report to us.
fn probe(health_wait: &Path, url: &str, timeout: &str) -> anyhow::Result<Probed> {
    let output = Command::new(health_wait)
        .args([
            "--url",
            url,
            "--expect",
            "[STATUS] == 200",
            "--expect",
            "[BODY].status == healthy",
        ])
        .args([
            "--interval",
            "500ms",
            "--success-threshold",
            "2",
            "--timeout",
            timeout,
            "--format",
            "json",
        ])
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", health_wait.display()))?;
    let report =
        serde_json::from_slice(&output.stdout).context("health-wait printed no JSON report")?;
    Ok(Probed {
        code: output.status.code(),
        report,
    })
}

/// Builds the tools with the cargo that runs us (`cargo run`), or finds them beside us.
fn build_tools(tools: &[&str]) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot locate the sandbox binary")?;
    let dir = exe
        .parent()
        .context("the sandbox binary has no folder")?
        .to_path_buf();
    #[allow(clippy::disallowed_methods)] // the sandbox is not a shipguard tool
    let cargo = std::env::var_os("CARGO");
    if let Some(cargo) = cargo {
        let release = dir.ends_with("release");
        say(&format!(
            "Building {} ({})…",
            tools.join(", "),
            if release { "release" } else { "debug" }
        ));
        let mut build = Command::new(cargo);
        build.arg("build").arg("--quiet");
        if release {
            build.arg("--release");
        }
        for tool in tools {
            build.args(["-p", tool]);
        }
        let status = build.status().context("cannot run cargo build")?;
        if !status.success() {
            bail!("cargo build of {} failed", tools.join(", "));
        }
    }
    for tool in tools {
        if !dir.join(tool).exists() {
            bail!(
                "{tool} is not built next to {}; run `cargo build --release -p {tool}` or use `cargo run --release -p sandbox -- demo`",
                exe.display()
            );
        }
    }
    Ok(dir)
}

fn say(line: &str) {
    eprintln!("\n==> {line}");
}

fn seconds(ms: &Value) -> f64 {
    ms.as_f64().unwrap_or(0.0) / 1000.0
}
