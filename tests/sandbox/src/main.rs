//! `sandbox`: local stand-ins for the servers shipguard talks to.
//!
//!   sandbox demo [--platform coolify|fly|railway]
//!       The suite's main job against local stand-ins, with the real binaries, narrated;
//!       `--platform fly`: fly-deploy, health-wait and auto-rollback on the Machines API
//!       stand-in; `--platform railway`: railway-deploy, health-wait and auto-rollback
//!       (`source: platform`) on the Railway GraphQL stand-in.
//!
//!   sandbox serve [--bind ADDR] [--deploy-time DURATION] [--unhealthy-tag TAG]... [--good-run SHA]...
//!       A Coolify v4 stand-in whose deployments take DURATION (default 2s), whose apps'
//!       health URLs answer 503 while they run an --unhealthy-tag, with successful runs of
//!       deploy.yml on main for each --good-run commit, with two Docker-image apps (`web`, `api`), plus the GitHub REST
//!       subset and a Slack webhook sink that prints what it receives. Prints
//!       `coolify_url=`, `coolify_token=`, the app UUIDs, `github_api_url=`, `github_token=` and
//!       `slack_webhook_url=`, then serves until stdin closes. Deployments of an image tag
//!       containing `broken` fail; `stuck` never ends. Also a Fly Machines API stand-in
//!       (`fly_api_url=`, `fly_token=`, app `web` with three machines, `fly_health_url=`):
//!       images containing `broken` never pass their checks, `crash` crash-loops, `unhealthy`
//!       passes Fly's checks but fails the health URL.
//!
//!   sandbox app [--bind ADDR] [--healthy-after DURATION] [--delay DURATION]
//!       A demo app whose every path answers 503 until DURATION after its first request,
//!       then 200 `{"status":"healthy"}`. Prints `url=<base URL>` and serves until stdin
//!       closes or the process is stopped. Benchmarks use it.

use std::io::Read as _;
use std::time::Duration;

use sandbox::app::{App, Plan, Reply};
use sandbox::coolify::{Coolify, Script};
use sandbox::github::GitHub;
use sandbox::slack::Slack;

fn main() -> std::process::ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> anyhow::Result<()> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("demo") => match args.collect::<Vec<_>>().as_slice() {
            [] => sandbox::demo::run(),
            [flag, platform] if flag == "--platform" && platform == "fly" => {
                sandbox::demo_fly::run()
            }
            [flag, platform] if flag == "--platform" && platform == "railway" => {
                sandbox::demo_railway::run()
            }
            [flag, platform] if flag == "--platform" && platform == "coolify" => {
                sandbox::demo::run()
            }
            _ => anyhow::bail!("usage: sandbox demo [--platform coolify|fly|railway]"),
        },
        Some("app") => app(args.collect()),
        Some("serve") => serve(args.collect()),
        _ => anyhow::bail!(
            "usage: sandbox demo [--platform coolify|fly|railway] | {SERVE_USAGE} | sandbox app [--bind ADDR] [--healthy-after DURATION] [--delay DURATION]"
        ),
    }
}

fn serve(args: Vec<String>) -> anyhow::Result<()> {
    let mut bind = "127.0.0.1:0".to_owned();
    let mut deploy_time = Duration::from_secs(2);
    let mut unhealthy_tags = Vec::new();
    let mut good_runs = Vec::new();
    for (flag, value) in flag_pairs(args)? {
        match flag.as_str() {
            "--bind" => bind = value,
            "--deploy-time" => deploy_time = millis(&value)?,
            "--unhealthy-tag" => unhealthy_tags.push(value),
            "--good-run" => good_runs.push(value),
            other => anyhow::bail!(
                "unknown flag {other}; usage: sandbox serve [--bind ADDR] [--deploy-time DURATION]"
            ),
        }
    }
    let coolify = Coolify::start_on(bind.parse()?)?;
    coolify
        .add_app(WEB_APP, "web", "ghcr.io/acme/web", "main-1111111")
        .add_app(API_APP, "api", "ghcr.io/acme/api", "main-1111111")
        // A git-based (nixpacks) app: deploy it with `commit` (see README, Git-based apps).
        .add_git_app(
            GIT_APP,
            "shop",
            "nixpacks",
            &[GIT_COMMITS[0], GIT_COMMITS[1]],
        )
        .deployed(GIT_APP, GIT_COMMITS[1], 0)
        .script(
            "broken",
            Script::fails_after(Duration::from_secs(2), &["Error: build failed"]),
        )
        .script("stuck", Script::never_ends())
        .default_script(Script::finishes_after(deploy_time))
        .echo();
    for tag in &unhealthy_tags {
        coolify.unhealthy_tag(tag);
    }
    let github = GitHub::start()?;
    for sha in &good_runs {
        github.add_run("deploy.yml", sha, "main", "success");
    }
    let slack = Slack::start()?;
    slack.echo();
    // The Fly Machines API stand-in: app `web` with three started machines; an image whose
    // reference contains `broken` never passes its checks, `crash` crash-loops, `unhealthy`
    // passes Fly's checks but its health URL answers 503.
    let fly = sandbox::fly::Fly::start_on("127.0.0.1:0".parse()?)?;
    fly.add_app("web", 3, 0)
        .behaviour_when("broken", sandbox::fly::Behaviour::broken())
        .behaviour_when("crash", sandbox::fly::Behaviour::crash_loop())
        .unhealthy_image("unhealthy");
    println!("coolify_url={}", coolify.url());
    println!("coolify_token={}", sandbox::coolify::TOKEN);
    println!("web_app={WEB_APP}");
    println!("web_health_url={}", coolify.health_url(WEB_APP));
    println!("api_app={API_APP}");
    println!("git_app={GIT_APP}");
    println!("git_commits={}", GIT_COMMITS.join(","));
    println!("github_api_url={}", github.api_url());
    println!("github_token={}", sandbox::github::TOKEN);
    println!("github_repository={}", sandbox::github::REPOSITORY);
    println!("slack_webhook_url={}", slack.webhook_url());
    println!("fly_api_url={}", fly.url());
    println!("fly_token={}", sandbox::fly::TOKEN);
    println!("fly_app=web");
    println!("fly_health_url={}", fly.health_url("web"));
    wait_for_stdin_to_close();
    Ok(())
}

const SERVE_USAGE: &str = "sandbox serve [--bind ADDR] [--deploy-time DURATION] [--unhealthy-tag TAG]... [--good-run SHA]...";
const WEB_APP: &str = "webappuuid00000000000001";
const API_APP: &str = "apiappuuid00000000000002";
const GIT_APP: &str = "gitappuuid00000000000003";
/// The git app's branch, oldest first; the last runs.
const GIT_COMMITS: [&str; 2] = [
    "1111111111111111111111111111111111111111",
    "2222222222222222222222222222222222222222",
];

/// Serve until whoever started us closes our stdin (or stops us).
fn wait_for_stdin_to_close() {
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

fn app(args: Vec<String>) -> anyhow::Result<()> {
    let mut bind = "127.0.0.1:0".to_owned();
    let mut healthy_after = Duration::ZERO;
    let mut delay = Duration::ZERO;
    for (flag, value) in flag_pairs(args)? {
        match flag.as_str() {
            "--bind" => bind = value,
            "--healthy-after" => healthy_after = millis(&value)?,
            "--delay" => delay = millis(&value)?,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    let app = App::start_on(bind.parse()?, None)?;
    app.forget_requests();
    app.fallback(Plan::SwitchAfter {
        after: healthy_after,
        before: Reply::json(503, serde_json::json!({"status": "starting"})).delay(delay),
        then: Reply::json(200, serde_json::json!({"status": "healthy"})).delay(delay),
    });
    println!("url={}", app.server.base_url());
    wait_for_stdin_to_close();
    Ok(())
}

/// `--flag value` pairs; every flag of the sandbox takes a value.
fn flag_pairs(args: Vec<String>) -> anyhow::Result<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        pairs.push((flag, value));
    }
    Ok(pairs)
}

/// `250ms`, `3s` or a bare number of milliseconds.
fn millis(text: &str) -> anyhow::Result<Duration> {
    let (number, scale) = match text.strip_suffix("ms") {
        Some(n) => (n, 1),
        None => match text.strip_suffix('s') {
            Some(n) => (n, 1000),
            None => (text, 1),
        },
    };
    Ok(Duration::from_millis(number.parse::<u64>()? * scale))
}
