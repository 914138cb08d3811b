//! `sandbox demo --platform railway`: the chain of examples/workflows/railway-deploy.yml and
//! railway-auto-rollback.yml on loopback with the real binaries, narrated — railway-deploy of
//! a good image (waited until Railway says SUCCESS), health-wait, railway-deploy of an image
//! that crashes (a failure, the good deployment keeps serving), railway-deploy of an image
//! that Railway marks SUCCESS but fails for users, health-wait failing, auto-rollback
//! `platform: railway` with `source: platform` (Railway's deploymentRollback), verified.
//!
//! The stand-in moves deployments on in milliseconds, so the demo sets the test hook
//! SHIPGUARD_TEST_RAILWAY_POLL_FLOOR_MS (real runs poll at least 5 s apart).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::demo::{Run, Step, build_tools, say, say_if};
use crate::github::{self, GitHub};
use crate::railway::{Behaviour, ENVIRONMENT, PROJECT, PROJECT_TOKEN, Railway, SERVICE};

pub const TOOLS: &[&str] = &["railway-deploy", "health-wait", "auto-rollback"];
pub const GOOD: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
pub const BAD: &str = "e4f5a6b7c8d90123456789abcdef0123456789ab";
const START: &str = "0000000000000000000000000000000000000000";

pub fn image(sha: &str) -> String {
    format!("ghcr.io/acme/web:{sha}")
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
    let railway = Railway::start()?;
    railway
        .add_service_on(SERVICE, ENVIRONMENT, 2, &image(START))
        .behaviour(
            "crash",
            Behaviour::ending(Duration::from_millis(100), "CRASHED"),
        )
        .unhealthy_image(&image(BAD));
    let github = GitHub::start()?;
    if narrate {
        say(&format!(
            "Stand-ins on loopback: Railway GraphQL API {} (one service), GitHub {}",
            railway.url(),
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
            ("SHIPGUARD_TEST_RAILWAY_POLL_FLOOR_MS", "10".to_owned()),
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
    let railway_inputs = |run: Run| {
        run.input("api-url", &railway.url())
            .input("railway-token", PROJECT_TOKEN)
            .input("railway-project", PROJECT)
            .input("railway-environment", ENVIRONMENT)
            .input("poll-interval", "100ms")
    };
    let deploy = |image: &str| {
        railway_inputs(base("railway-deploy"))
            .input("service", SERVICE)
            .input("image", image)
            .input("timeout", "10s")
    };
    let health = || {
        base("health-wait")
            .input("url", &railway.health_url(SERVICE))
            .input("interval", "200ms")
            .input("timeout", "3s")
            .input("success-threshold", "2")
    };
    let mut steps = Vec::new();
    say_if(
        narrate,
        &format!(
            "railway-deploy {}: waits until Railway says SUCCESS",
            image(GOOD)
        ),
    );
    steps.push(deploy(&image(GOOD)).expect(0)?);
    say_if(narrate, "health-wait: the app as users reach it");
    steps.push(health().expect(0)?);
    say_if(
        narrate,
        "railway-deploy of an image that crashes: a failure; the good deployment keeps serving",
    );
    steps.push(deploy("ghcr.io/acme/web:crash").expect(1)?);
    say_if(
        narrate,
        &format!(
            "railway-deploy {}: SUCCESS on Railway, but fails for users",
            image(BAD)
        ),
    );
    steps.push(deploy(&image(BAD)).expect(0)?);
    say_if(narrate, "health-wait: unhealthy (exit 1)");
    steps.push(health().expect(1)?);
    say_if(
        narrate,
        "auto-rollback platform railway, source platform: Railway's deploymentRollback to the deployment that served before, verified",
    );
    steps.push(
        railway_inputs(base("auto-rollback"))
            .input("platform", "railway")
            .input("source", "platform")
            .input("url", &railway.health_url(SERVICE))
            .input("interval", "200ms")
            .input("failure-threshold", "3")
            .input("verify-timeout", "5s")
            .input("app", SERVICE)
            .input("image-template", "ghcr.io/acme/web:{sha}")
            .input("github-token", github::TOKEN)
            .expect(0)?,
    );
    if railway.image(SERVICE) != Some(image(GOOD)) {
        anyhow::bail!(
            "after the rollback the service is set to {:?}, not {}",
            railway.image(SERVICE),
            image(GOOD)
        );
    }
    say_if(narrate, &format!("The service runs {} again.", image(GOOD)));
    Ok(steps)
}
