//! Connecting the platform `platform` names (Coolify, Fly), after the analysis: every
//! later phase reaches it only through `shipguard::platform::Platform`.

use std::time::Instant;

use shipguard::coolify::{Client, Coolify};
use shipguard::fly::{self, Fly};
use shipguard::http::RetryPolicy;
use shipguard::redact::{Secret, safe_url};
use url::Url;

use crate::report::Report;
use crate::rollback::Run;
use crate::settings::{FlyTarget, RailwayTarget};

/// Every call keeps the deploy budget: a full deploy queue's `Retry-After: 60` (Coolify) or
/// a 429 (Fly) is waited out within it.
fn policy(run: &Run<'_>) -> RetryPolicy {
    RetryPolicy {
        deadline: Instant::now() + run.settings.deploy_timeout.min(run.left()),
        ..RetryPolicy::new(&run.ctx.env)
    }
}

/// Coolify, its version read (what it can do depends on it).
pub async fn coolify(
    run: &Run<'_>,
    report: &mut Report,
    url: &Url,
    token: &Secret<String>,
) -> anyhow::Result<Coolify> {
    report.phase = "reading Coolify";
    let client = Client::new(run.settings.http.clone(), url, token.clone(), policy(run));
    let coolify = Coolify::connect(client).await?;
    let actions = &run.ctx.actions;
    actions.log(&format!(
        "Coolify {} at {}",
        coolify.server(),
        safe_url(coolify.client().base())
    ));
    // An unreadable version warns and the run goes on as on the newest Coolify.
    if let Some(warning) = coolify.server().warning() {
        actions.annotate(warning);
    }
    Ok(coolify)
}

/// Fly's Machines API.
pub fn fly(run: &Run<'_>, report: &mut Report, target: &FlyTarget) -> Fly {
    report.phase = "reading Fly";
    let client = fly::Client::new(
        run.settings.http.clone(),
        &target.api,
        target.token.clone(),
        policy(run),
    );
    run.ctx
        .actions
        .log(&format!("Fly Machines API at {}", safe_url(client.api())));
    Fly::new(client)
}

/// Railway's GraphQL API, for the project and environment of the services.
pub fn railway(
    run: &Run<'_>,
    report: &mut Report,
    target: &RailwayTarget,
) -> shipguard::railway::platform::Railway {
    report.phase = "reading Railway";
    let client = shipguard::railway::Client::new(
        run.settings.http.clone(),
        &target.api,
        target.token.clone(),
        policy(run),
    );
    run.ctx.actions.log(&format!(
        "Railway GraphQL API at {} (token-kind {})",
        safe_url(client.url()),
        target.token.kind().as_str()
    ));
    shipguard::railway::platform::Railway::new(
        client,
        target.project.clone(),
        target.environment.clone(),
    )
}
