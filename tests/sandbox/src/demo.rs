//! `sandbox demo`: the example deploy workflow's chain on loopback, with the real binaries,
//! narrated — lockfile-check on a bundled npm monorepo (in sync, then drifted), coolify-deploy
//! of a good version, health-wait, coolify-deploy of a broken
//! version, health-wait failing, auto-rollback back to the good commit and verifying it,
//! slack-notify. After each step it shows what an Actions user looks at: the job summary the
//! tool wrote and the Slack messages it sent, as plain text (render.rs); the full summaries
//! (Markdown) and payloads (JSON) go to a folder named at the end ([`write_artifacts`]). The
//! end-to-end test runs the same chain through [`chain`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::Value;

use crate::coolify::{self, Coolify, Script};
use crate::github::{self, GitHub};
use crate::monorepo;
use crate::render;
use crate::slack::Slack;

pub const TOOLS: &[&str] = &[
    "lockfile-check",
    "coolify-deploy",
    "health-wait",
    "auto-rollback",
    "slack-notify",
];
const APP: &str = "webappuuid00000000000001";
pub const GOOD: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
pub const BAD: &str = "e4f5a6b7c8d90123456789abcdef0123456789ab";

/// Runs the demo; the tools are built (or found) next to this binary.
pub fn run() -> anyhow::Result<()> {
    let bin_dir = build_tools(TOOLS)?;
    let started = Instant::now();
    let steps = chain(&bin_dir, true)?;
    let seconds = started.elapsed().as_secs_f64();
    let folder = tempfile::Builder::new()
        .prefix("shipguard-demo-")
        .tempdir()
        .context("cannot create the demo's output folder")?
        .keep();
    let files = write_artifacts(&steps, &folder)?;
    say(&format!(
        "Done: {} steps in {seconds:.1}s after the build. The Slack channel above got {} message(s).",
        steps.len(),
        steps.last().map_or(0, |s| s.slack_messages)
    ));
    say(&format!(
        "The full job summaries (Markdown) and Slack payloads (JSON), {} files: {}",
        files.len(),
        folder.display()
    ));
    Ok(())
}

/// Writes each step's job summary as `NN-<tool>.md` and each Slack payload it sent as
/// `NN-<tool>-slack-K.json` into `folder`; returns the files written, in order.
pub fn write_artifacts(steps: &[Step], folder: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let mut files = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let stem = format!("{:02}-{}", index + 1, step.tool);
        let mut write = |name: String, text: &str| -> anyhow::Result<()> {
            let path = folder.join(name);
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            files.push(path);
            Ok(())
        };
        write(format!("{stem}.md"), &step.summary)?;
        for (k, payload) in step.slack.iter().enumerate() {
            write(
                format!("{stem}-slack-{}.json", k + 1),
                &serde_json::to_string_pretty(payload)?,
            )?;
        }
    }
    Ok(files)
}

/// Lines of a rendered summary shown in the terminal; the file has all of it.
const SHOWN_LINES: usize = 24;

/// What an Actions user would see after the step: its job summary and its Slack messages.
fn show(step: &Step) {
    let rendered = render::markdown(&step.summary);
    let lines: Vec<&str> = rendered.lines().collect();
    eprintln!("\n    ┌─ job summary of {}", step.tool);
    for line in lines.iter().take(SHOWN_LINES) {
        eprintln!("    │ {line}");
    }
    if lines.len() > SHOWN_LINES {
        eprintln!(
            "    │ … {} more lines in the Markdown file",
            lines.len() - SHOWN_LINES
        );
    }
    eprintln!("    └─");
    for payload in &step.slack {
        eprintln!("    ┌─ Slack message");
        for line in render::slack(payload).lines() {
            eprintln!("    │ {line}");
        }
        eprintln!("    └─");
    }
}

/// One tool run of the chain.
#[derive(Debug)]
pub struct Step {
    pub tool: &'static str,
    pub code: Option<i32>,
    pub report: Value,
    pub seconds: f64,
    /// Slack messages received so far.
    pub slack_messages: usize,
    /// The Markdown the tool wrote to `GITHUB_STEP_SUMMARY`.
    pub summary: String,
    /// The Slack payloads received during this step.
    pub slack: Vec<Value>,
}

/// Runs the chain against fresh stand-ins; fails when a tool does not do what the workflow
/// needs of it. `narrate` prints what happens, and the tools' own logs.
pub fn chain(bin_dir: &Path, narrate: bool) -> anyhow::Result<Vec<Step>> {
    let coolify = Coolify::start()?;
    coolify
        .add_app(APP, "shop", "ghcr.io/acme/shop", "main-0000000")
        .default_script(Script::finishes_after(Duration::from_millis(1500)))
        .unhealthy_tag(&tag(BAD));
    let github = GitHub::start()?;
    // The deploy workflow succeeded for GOOD earlier; BAD's run is the one failing now.
    github.add_run("deploy.yml", GOOD, "main", "success");
    let slack = Slack::start()?;
    if narrate {
        coolify.echo();
        say(&format!(
            "Stand-ins on loopback: Coolify {} (app `shop`), GitHub {}, Slack {}",
            coolify.url(),
            github.api_url(),
            slack.webhook_url()
        ));
    }
    let base = |tool: &'static str| {
        let mut inputs = BTreeMap::new();
        for (k, v) in [
            ("GITHUB_API_URL", github.api_url()),
            ("GITHUB_REPOSITORY", github::REPOSITORY.to_owned()),
            ("GITHUB_SERVER_URL", "https://github.com".to_owned()),
            ("GITHUB_RUN_ID", "4242".to_owned()),
            ("INPUT_FORMAT", "json".to_owned()),
        ] {
            inputs.insert(k.to_owned(), v);
        }
        Run {
            tool,
            bin: bin_dir.join(tool),
            env: inputs,
            narrate,
        }
    };
    let health = coolify.health_url(APP);
    let mut steps = Vec::new();
    let mut record = |step: Step| {
        let received = slack.received();
        let before = steps.last().map_or(0, |s: &Step| s.slack_messages);
        let step = Step {
            slack_messages: received.len(),
            slack: received
                .iter()
                .skip(before)
                .map(|r| r.body.clone())
                .collect(),
            ..step
        };
        if narrate {
            show(&step);
        }
        steps.push(step);
        steps.last().map(|s| s.report.clone()).unwrap_or_default()
    };

    let repo = tempfile::tempdir().context("cannot create the demo monorepo folder")?;
    monorepo::write(repo.path())?;
    let path = repo.path().display().to_string();
    say_if(
        narrate,
        "lockfile-check: is package-lock.json in sync with the monorepo's three workspaces?",
    );
    let check = || {
        base("lockfile-check")
            .input("path", &path)
            .input("mode", "strict")
            .input("families", "@shop/*")
    };
    let step = check().expect(0)?;
    let millis = step.seconds * 1000.0;
    let report = record(step);
    say_if(
        narrate,
        &format!(
            "lockfile-check: in sync ({} packages, {} workspaces) in {:.0} ms",
            report["packages"],
            report["workspaces"].as_array().map_or(0, Vec::len),
            millis
        ),
    );
    monorepo::bump_without_install(repo.path())?;
    say_if(
        narrate,
        "lockfile-check: what if packages/api bumped a range without `npm install`? (the build would break in Docker)",
    );
    let report = record(check().expect(1)?);
    say_if(
        narrate,
        &format!(
            "lockfile-check: exit 1, {} — the workflow stops before building. Restoring the lock's range.",
            report["problems"][0]["message"].as_str().unwrap_or("?")
        ),
    );
    monorepo::write(repo.path())?;

    say_if(
        narrate,
        &format!("coolify-deploy: deploy {} (a good version)", tag(GOOD)),
    );
    let deploy = |sha: &str| {
        base("coolify-deploy")
            .input("coolify-url", &coolify.url())
            .input("coolify-token", coolify::TOKEN)
            .input("app", APP)
            .input("image-tag", &tag(sha))
            .input("poll-interval", "250ms")
            .input("github-deployment", "true")
            .input("github-token", github::TOKEN)
            .env("GITHUB_SHA", sha)
    };
    let step = deploy(GOOD).expect(0)?;
    let report = record(step);
    say_if(
        narrate,
        &format!(
            "coolify-deploy: {} in {:.1}s; previous image tag {} kept for a rollback",
            report["status"].as_str().unwrap_or("?"),
            report["duration_seconds"].as_f64().unwrap_or(0.0),
            report["previous_image_tags"][APP]
        ),
    );

    let wait = || {
        base("health-wait")
            .input("url", &health)
            .input("expect", "[STATUS] == 200\n[BODY].status == healthy")
            .input("interval", "250ms")
            .input("success-threshold", "2")
            .input("timeout", "3s")
    };
    say_if(narrate, "health-wait: is the new version really healthy?");
    let report = record(wait().expect(0)?);
    say_if(
        narrate,
        &format!(
            "health-wait: healthy after {} attempts in {:.1}s",
            report["attempts"],
            report["elapsed_ms"].as_f64().unwrap_or(0.0) / 1000.0
        ),
    );

    say_if(
        narrate,
        &format!(
            "coolify-deploy: deploy {} (it deploys fine, but is broken)",
            tag(BAD)
        ),
    );
    record(deploy(BAD).expect(0)?);
    say_if(narrate, "health-wait: is it healthy?");
    let report = record(wait().expect(1)?);
    say_if(
        narrate,
        &format!(
            "health-wait: not healthy ({}). Exit 1: the workflow's `if: failure()` step takes over.",
            report["reason"].as_str().unwrap_or("?")
        ),
    );

    say_if(
        narrate,
        "auto-rollback: probe, choose the newest good commit, redeploy, verify",
    );
    let report = record(
        base("auto-rollback")
            .input("url", &health)
            .input("expect", "[STATUS] == 200\n[BODY].status == healthy")
            .input("interval", "250ms")
            .input("failure-threshold", "3")
            .input("success-threshold", "2")
            .input("verify-timeout", "10s")
            .input("coolify-url", &coolify.url())
            .input("coolify-token", coolify::TOKEN)
            .input("app", APP)
            .input("image-tag-template", "main-{short_sha}")
            .input("poll-interval", "250ms")
            .input("github-token", github::TOKEN)
            .input("slack-webhook-url", &slack.webhook_url())
            .expect(0)?,
    );
    if report["to_sha"] != GOOD {
        bail!("auto-rollback chose {} instead of {GOOD}", report["to_sha"]);
    }
    let phases: Vec<String> = report["phases"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{} {:.1}s",
                p[0].as_str().unwrap_or("?"),
                p[2].as_f64().unwrap_or(0.0) - p[1].as_f64().unwrap_or(0.0)
            )
        })
        .collect();
    say_if(
        narrate,
        &format!(
            "auto-rollback: {} ({})",
            report["message"].as_str().unwrap_or("?"),
            phases.join(", ")
        ),
    );

    say_if(
        narrate,
        "slack-notify: the deploy result, with the rollback's evidence",
    );
    let evidence = report.to_string();
    record(
        base("slack-notify")
            .input("webhook-url", &slack.webhook_url())
            .input("kind", "deploy")
            .input("status", "failure")
            .input("environment", "production")
            .input("version", &tag(BAD))
            .input(
                "text",
                "Deploy of e4f5a6b failed its health check and was rolled back.",
            )
            .input("report", &evidence)
            .env("GITHUB_SHA", BAD)
            .expect(0)?,
    );
    if coolify.running_tag(APP) != Some(tag(GOOD)) {
        bail!("the app does not run {} after the chain", tag(GOOD));
    }
    Ok(steps)
}

pub fn tag(sha: &str) -> String {
    format!("main-{}", &sha[..7])
}

/// A tool run with `INPUT_*` variables, as a workflow step makes it.
pub(crate) struct Run {
    pub(crate) tool: &'static str,
    pub(crate) bin: PathBuf,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) narrate: bool,
}

impl Run {
    pub(crate) fn input(self, name: &str, value: &str) -> Self {
        let var = format!("INPUT_{}", name.replace('-', "_").to_uppercase());
        self.env(&var, value)
    }

    pub(crate) fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    /// Runs the tool and fails unless it exits with `code`.
    pub(crate) fn expect(self, code: i32) -> anyhow::Result<Step> {
        let started = Instant::now();
        let summary = tempfile::NamedTempFile::new().context("cannot create a summary file")?;
        let output = Command::new(&self.bin)
            .env_clear()
            .envs(&self.env)
            .env("GITHUB_STEP_SUMMARY", summary.path())
            .stdin(Stdio::null())
            .stderr(if self.narrate {
                Stdio::inherit()
            } else {
                Stdio::piped()
            })
            .output()
            .with_context(|| format!("cannot run {}", self.bin.display()))?;
        let report: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
        if output.status.code() != Some(code) {
            bail!(
                "{} exited {:?}, expected {code}\n{}",
                self.tool,
                output.status.code(),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(Step {
            tool: self.tool,
            code: output.status.code(),
            report,
            seconds: started.elapsed().as_secs_f64(),
            slack_messages: 0,
            summary: std::fs::read_to_string(summary.path()).unwrap_or_default(),
            slack: Vec::new(),
        })
    }
}

/// Builds the tools with the cargo that runs us (`cargo run`), or finds them beside us.
pub(crate) fn build_tools(tools: &[&str]) -> anyhow::Result<PathBuf> {
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
        // `-p sandbox` too: the same package set as far as features go (the sandbox depends
        // on the core with the tools' features), so nothing already built is built again.
        // Not quiet: cargo's own progress is the progress people see.
        build.args(["build", "-p", "sandbox"]);
        // `cargo run` gave us the package variables of the sandbox; build scripts such as
        // ring's declare `rerun-if-env-changed` on the same names, so passing them on would
        // rebuild ring and everything above it.
        #[allow(clippy::disallowed_methods)] // the sandbox is not a shipguard tool
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
                "CARGO_PRIMARY_",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            {
                build.env_remove(name.as_ref());
            }
        }
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

pub(crate) fn say(line: &str) {
    eprintln!("\n==> {line}");
}

pub(crate) fn say_if(narrate: bool, line: &str) {
    if narrate {
        say(line);
    }
}
