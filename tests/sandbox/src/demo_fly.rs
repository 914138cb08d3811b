//! `sandbox demo --platform fly`: the chain of examples/workflows/fly-deploy.yml and
//! fly-auto-rollback.yml on loopback with the real binaries, narrated — fly-deploy of a good
//! image over three machines, health-wait, fly-deploy of a broken image stopped at the canary
//! and restored, fly-deploy of an image that passes Fly's checks but fails for users,
//! health-wait failing, auto-rollback `platform: fly` back to the good commit, verified.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::demo::{Run, Step, build_tools, say, say_if};
use crate::fly::{Behaviour, Fly, TOKEN};
use crate::github::{self, GitHub};

pub const TOOLS: &[&str] = &["fly-deploy", "health-wait", "auto-rollback"];
pub const GOOD: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
pub const BAD: &str = "e4f5a6b7c8d90123456789abcdef0123456789ab";
const START: &str = "0000000000000000000000000000000000000000";

pub fn image(sha: &str) -> String {
    format!("registry.fly.io/web:{sha}")
}

pub fn run() -> anyhow::Result<()> {
    let bin_dir = build_tools(TOOLS)?;
    let started = Instant::now();
    let steps = chain(&bin_dir, true)?;
    say(&format!(
        "Done: {} steps in {:.1}s after the build.",
        steps.len(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

pub fn chain(bin_dir: &Path, narrate: bool) -> anyhow::Result<Vec<Step>> {
    let fly = Fly::start()?;
    fly.add_app_on("web", 3, 0, &image(START))
        .behaviour_when("broken", Behaviour::broken())
        .behaviour(
            &image(GOOD),
            Behaviour::healthy_after(Duration::from_millis(400)),
        )
        .behaviour(
            &image(BAD),
            Behaviour::healthy_after(Duration::from_millis(400)),
        )
        .unhealthy_image(&image(BAD));
    let github = GitHub::start()?;
    github.add_run("fly-deploy.yml", GOOD, "main", "success");
    if narrate {
        say(&format!(
            "Stand-ins on loopback: Fly Machines API {} (app `web`, 3 machines), GitHub {}",
            fly.url(),
            github.api_url()
        ));
    }
    let base = |tool: &'static str| {
        let mut env = BTreeMap::new();
        for (k, v) in [
            ("GITHUB_API_URL", github.api_url()),
            ("GITHUB_REPOSITORY", github::REPOSITORY.to_owned()),
            ("GITHUB_SERVER_URL", "https://github.com".to_owned()),
            ("GITHUB_RUN_ID", "4242".to_owned()),
            ("INPUT_FORMAT", "json".to_owned()),
        ] {
            env.insert(k.to_owned(), v);
        }
        Run {
            tool,
            bin: bin_dir.join(tool),
            env,
            narrate,
        }
    };
    let deploy = |image: &str| {
        base("fly-deploy")
            .input("api-url", &fly.url())
            .input("fly-token", TOKEN)
            .input("app", "web")
            .input("image", image)
            .input("wait-timeout", "3s")
            .input("poll-interval", "100ms")
    };
    let health = || {
        base("health-wait")
            .input("url", &fly.health_url("web"))
            .input("interval", "200ms")
            .input("timeout", "3s")
            .input("success-threshold", "2")
    };
    let mut steps = Vec::new();

    say_if(
        narrate,
        &format!(
            "fly-deploy {}: one machine at a time, the first is the canary",
            image(GOOD)
        ),
    );
    steps.push(deploy(&image(GOOD)).expect(0)?);
    say_if(narrate, "health-wait: the app as users reach it");
    steps.push(health().expect(0)?);
    say_if(
        narrate,
        "fly-deploy of a broken image: its checks never pass, so the canary is put back",
    );
    steps.push(deploy("registry.fly.io/web:broken").expect(1)?);
    say_if(
        narrate,
        &format!(
            "fly-deploy {}: passes Fly's checks, but fails for users",
            image(BAD)
        ),
    );
    steps.push(deploy(&image(BAD)).expect(0)?);
    say_if(narrate, "health-wait: unhealthy (exit 1)");
    steps.push(health().expect(1)?);
    say_if(
        narrate,
        "auto-rollback platform fly: back to the newest good commit, machine by machine, verified",
    );
    steps.push(
        base("auto-rollback")
            .input("platform", "fly")
            .input("url", &fly.health_url("web"))
            .input("interval", "200ms")
            .input("failure-threshold", "3")
            .input("verify-timeout", "5s")
            .input("fly-token", TOKEN)
            .input("api-url", &fly.url())
            .input("app", "web")
            .input("image-template", "registry.fly.io/{app}:{sha}")
            .input("workflow", "fly-deploy.yml")
            .input("poll-interval", "100ms")
            .input("github-token", github::TOKEN)
            .expect(0)?,
    );
    let images: Vec<String> = fly.images("web").into_iter().map(|(_, i)| i).collect();
    if images.iter().any(|i| *i != image(GOOD)) {
        anyhow::bail!(
            "after the rollback the machines run {images:?}, not {}",
            image(GOOD)
        );
    }
    say_if(
        narrate,
        &format!("Every machine runs {} again.", image(GOOD)),
    );
    Ok(steps)
}
