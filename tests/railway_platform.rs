//! Railway as the third platform, and its rollback to the deployment that served before,
//! against the sandbox Railway (tests/sandbox/src/railway.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::{Duration, Instant};

use sandbox::railway::{
    Behaviour, ENVIRONMENT, Forced, OLD_IMAGE, PROJECT, PROJECT_TOKEN, Railway, SERVICE,
};
use serde_json::json;
use shipguard::env::Env;
use shipguard::http::{self, ClientOptions, RetryPolicy};
use shipguard::platform::{Outcome, Platform, Request, Version};
use shipguard::railway::deploy::Outcome as RunOutcome;
use shipguard::railway::platform::Railway as RailwayPlatform;
use shipguard::railway::rollback::{self, Method};
use shipguard::railway::{Client, Token, TokenKind};
use shipguard::redact::Secret;

const POLL: Duration = Duration::from_millis(20);

fn client(railway: &Railway) -> Client {
    let mut policy = RetryPolicy::new(&Env::from_pairs([("SHIPGUARD_TEST_NO_RETRY_DELAY", "1")]));
    policy.deadline = Instant::now() + Duration::from_secs(30);
    Client::new(
        http::client(&ClientOptions::new("test")).unwrap(),
        &url::Url::parse(&railway.url()).unwrap(),
        Token::new(TokenKind::Project, &Secret::new(PROJECT_TOKEN.to_owned())).unwrap(),
        policy,
    )
}

fn platform(railway: &Railway) -> RailwayPlatform {
    RailwayPlatform::new(client(railway), PROJECT.into(), ENVIRONMENT.into())
}

async fn deploy_image(p: &RailwayPlatform, image: &str) -> Outcome {
    let request = Request {
        apps: vec![(SERVICE.into(), Version::Image(image.into()))],
        deadline: Instant::now() + Duration::from_secs(20),
        poll_interval: POLL,
        restore_on_failure: true,
        cancel_on_timeout: true,
        restore_until: None,
    };
    p.deploy(&request, &|_| {}).await.unwrap().status
}

async fn roll_back(railway: &Railway) -> rollback::Rolled {
    rollback::to_previous(
        &client(railway),
        PROJECT,
        ENVIRONMENT,
        SERVICE,
        POLL,
        Duration::from_secs(20),
        true,
        &|_| {},
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "current_thread")]
async fn what_runs_is_the_newest_success_not_the_newest_deployment() {
    let railway = Railway::start().unwrap();
    railway.add_service(SERVICE, ENVIRONMENT, 3);
    railway.behaviour(
        "bad",
        Behaviour::ending(Duration::from_millis(10), "FAILED"),
    );
    let p = platform(&railway);
    assert_eq!(
        deploy_image(&p, "ghcr.io/acme/web:v2").await,
        Outcome::Finished
    );
    assert_eq!(
        deploy_image(&p, "ghcr.io/acme/web:bad").await,
        Outcome::Failed
    );
    // The newest deployment FAILED and never served: v2 still runs.
    let snapshot = p.snapshot(SERVICE).await.unwrap();
    assert_eq!(
        snapshot.running.version,
        Some(Version::Image("ghcr.io/acme/web:v2".into()))
    );
    assert_eq!(snapshot.in_progress, None);
}

#[tokio::test(flavor = "current_thread")]
async fn a_deploy_under_way_is_reported() {
    let railway = Railway::start().unwrap();
    railway.add_service(SERVICE, ENVIRONMENT, 2);
    railway.behaviour("stuck", Behaviour::never(Duration::from_millis(10)));
    let c = client(&railway);
    c.set_image(ENVIRONMENT, SERVICE, "ghcr.io/acme/web:stuck")
        .await
        .unwrap();
    c.deploy(ENVIRONMENT, SERVICE, None).await.unwrap();
    let busy = platform(&railway)
        .snapshot(SERVICE)
        .await
        .unwrap()
        .in_progress;
    assert!(busy.is_some_and(|b| b.contains("under way")));
}

#[tokio::test(flavor = "current_thread")]
async fn rollback_through_deployment_rollback_restores_image_and_variables() {
    let railway = Railway::start().unwrap();
    railway.add_service(SERVICE, ENVIRONMENT, 3);
    let p = platform(&railway);
    railway.set_variable(SERVICE, "VERSION", "new");
    assert_eq!(
        deploy_image(&p, "ghcr.io/acme/web:v2").await,
        Outcome::Finished
    );
    assert_eq!(railway.variables(SERVICE)["VERSION"], "new");
    let rolled = roll_back(&railway).await;
    assert_eq!(rolled.method, Method::DeploymentRollback);
    assert_eq!(rolled.run.status, RunOutcome::Success, "{rolled:?}");
    assert_eq!(rolled.to.image.as_deref(), Some(OLD_IMAGE));
    assert_eq!(rolled.from.image.as_deref(), Some("ghcr.io/acme/web:v2"));
    assert!(rolled.note.is_none());
    assert_eq!(railway.calls("deploymentRollback").len(), 1);
    assert!(railway.calls("deploymentRedeploy").is_empty());
    // The new deployment was found by listing and waited for; image and variables restored.
    let (id, status, image) = railway.deployments(SERVICE).pop().unwrap();
    assert_eq!(
        rolled.run.services[0].deployment_id.as_deref(),
        Some(id.as_str())
    );
    assert_eq!(
        (status.as_str(), image.as_deref()),
        ("SUCCESS", Some(OLD_IMAGE))
    );
    assert_eq!(railway.variables(SERVICE)["VERSION"], "old");
    assert_eq!(railway.image(SERVICE).as_deref(), Some(OLD_IMAGE));
}

#[tokio::test(flavor = "current_thread")]
async fn outside_retention_the_rollback_redeploys_and_says_so() {
    let railway = Railway::start().unwrap();
    railway.add_service(SERVICE, ENVIRONMENT, 3);
    let p = platform(&railway);
    assert_eq!(
        deploy_image(&p, "ghcr.io/acme/web:v2").await,
        Outcome::Finished
    );
    railway.expire_images(SERVICE);
    let rolled = roll_back(&railway).await;
    assert_eq!(rolled.method, Method::Redeploy);
    assert_eq!(rolled.run.status, RunOutcome::Success, "{rolled:?}");
    assert!(
        rolled
            .note
            .as_deref()
            .is_some_and(|n| n.contains("retention")),
        "{rolled:?}"
    );
    assert!(railway.calls("deploymentRollback").is_empty());
    let redeploys = railway.calls("deploymentRedeploy");
    assert_eq!(redeploys.len(), 1);
    assert_eq!(redeploys[0].variables["usePreviousImageTag"], true);
    assert_eq!(
        railway.deployments(SERVICE).pop().unwrap().2.as_deref(),
        Some(OLD_IMAGE)
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_rollback_refused_with_errors_and_http_200_is_a_failure() {
    let railway = Railway::start().unwrap();
    railway.add_service(SERVICE, ENVIRONMENT, 3);
    let p = platform(&railway);
    assert_eq!(
        deploy_image(&p, "ghcr.io/acme/web:v2").await,
        Outcome::Finished
    );
    railway.force(Forced {
        operation: "DeploymentRollback".into(),
        status: 200,
        body: json!({"data": null, "errors": [{"message": "Problem processing request"}]}),
        retry_after: None,
        times: 1,
    });
    let rolled = roll_back(&railway).await;
    assert_eq!(rolled.run.status, RunOutcome::Failed, "{rolled:?}");
    assert!(
        rolled
            .run
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("Problem processing request"))
    );
    assert_eq!(
        railway.deployments(SERVICE).pop().unwrap().2.as_deref(),
        Some("ghcr.io/acme/web:v2"),
        "nothing changed"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_deploy_timeout_cancels_through_the_platform() {
    let railway = Railway::start().unwrap();
    railway.add_service(SERVICE, ENVIRONMENT, 2);
    railway.behaviour("stuck", Behaviour::never(Duration::from_millis(10)));
    let p = platform(&railway);
    let request = Request {
        apps: vec![(
            SERVICE.into(),
            Version::Image("ghcr.io/acme/web:stuck".into()),
        )],
        deadline: Instant::now() + Duration::from_millis(400),
        poll_interval: POLL,
        restore_on_failure: true,
        cancel_on_timeout: true,
        restore_until: None,
    };
    let deployed = p.deploy(&request, &|_| {}).await.unwrap();
    assert_eq!(deployed.status, Outcome::Timeout);
    let shipguard::railway::platform::Evidence::Deploys(runs) = &deployed.evidence else {
        panic!("a deploy's evidence is its runs");
    };
    assert!(runs[0].services[0].cancelled);
}

/// A deploy of two services whose deadline is under four request timeouts (4 x 30 s) and a poll:
/// the first runs (the whole budget is the caller's choice), the second is not started.
#[tokio::test(flavor = "current_thread")]
async fn a_later_service_without_time_left_is_not_deployed() {
    const WORKER: &str = "9f1c7a52-0000-4000-8000-00000000s002";
    let railway = Railway::start().unwrap();
    railway
        .add_service(SERVICE, ENVIRONMENT, 2)
        .add_service(WORKER, ENVIRONMENT, 2);
    let image = Version::Image("ghcr.io/acme/web:v2".into());
    let request = Request {
        apps: vec![(SERVICE.into(), image.clone()), (WORKER.into(), image)],
        deadline: Instant::now() + Duration::from_secs(20),
        poll_interval: POLL,
        restore_on_failure: true,
        cancel_on_timeout: true,
        restore_until: None,
    };
    let deployed = platform(&railway).deploy(&request, &|_| {}).await.unwrap();
    assert_eq!(deployed.status, Outcome::Timeout);
    assert_eq!(deployed.apps[0].outcome, Outcome::Finished);
    assert_eq!(deployed.apps[1].outcome, Outcome::Timeout);
    let reason = deployed.reason.unwrap();
    assert!(reason.contains("not started"), "{reason}");
    assert_eq!(
        railway.image(SERVICE).as_deref(),
        Some("ghcr.io/acme/web:v2")
    );
    assert_eq!(railway.image(WORKER).as_deref(), Some(OLD_IMAGE));
}

/// An operational error on the second service after the first was deployed: not an error
/// (which would drop what the first did) but a `Deployed` that keeps its run and says a
/// person must look.
#[tokio::test(flavor = "current_thread")]
async fn an_error_after_a_service_was_deployed_keeps_it_and_leaves_it_to_a_person() {
    const WORKER: &str = "9f1c7a52-0000-4000-8000-00000000s002";
    let railway = Railway::start().unwrap();
    railway
        .add_service(SERVICE, ENVIRONMENT, 2)
        .add_service(WORKER, ENVIRONMENT, 2);
    let image = Version::Image("ghcr.io/acme/web:v2".into());
    let request = Request {
        apps: vec![(SERVICE.into(), image.clone()), (WORKER.into(), image)],
        // Time for the worker: four request timeouts and a poll (platform.rs).
        deadline: Instant::now() + Duration::from_secs(200),
        poll_interval: POLL,
        restore_on_failure: true,
        cancel_on_timeout: true,
        restore_until: None,
    };
    // Once the first serves, the token is refused: the second's first request fails.
    let log = |line: &str| {
        if line.contains(SERVICE) && line.ends_with("SUCCESS") {
            railway.force(Forced {
                operation: "ProjectToken".into(),
                status: 401,
                body: json!({"data": null, "errors": [{"message": "Not Authorized"}]}),
                retry_after: None,
                times: 10,
            });
        }
    };
    let deployed = platform(&railway).deploy(&request, &log).await.unwrap();
    assert_eq!(deployed.status, Outcome::Failed);
    assert_eq!(deployed.apps[0].outcome, Outcome::Finished);
    assert_eq!(deployed.apps[1].outcome, Outcome::Failed);
    assert_eq!(deployed.left_changed.len(), 1);
    let left = &deployed.left_changed[0];
    assert!(
        left.contains(&format!("service {SERVICE} was deployed")),
        "{left}"
    );
    assert!(
        left.contains(&format!("service {WORKER} was not")),
        "{left}"
    );
    let shipguard::railway::platform::Evidence::Deploys(runs) = deployed.evidence else {
        panic!("deploys expected");
    };
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunOutcome::Success);
    assert_eq!(
        railway.image(SERVICE).as_deref(),
        Some("ghcr.io/acme/web:v2")
    );
    assert_eq!(railway.image(WORKER).as_deref(), Some(OLD_IMAGE));
}

/// The third service's deploy was accepted, then reading it fails: its run (with the new
/// deployment's id) is kept and cancelled, and the answer says it may have been deployed,
/// not that it was not; each earlier service is named with its own image.
#[tokio::test(flavor = "current_thread")]
async fn an_error_after_a_later_deploy_was_accepted_keeps_and_cancels_it() {
    const WORKER: &str = "9f1c7a52-0000-4000-8000-00000000s002";
    const THIRD: &str = "9f1c7a52-0000-4000-8000-00000000s003";
    let railway = Railway::start().unwrap();
    railway
        .add_service(SERVICE, ENVIRONMENT, 2)
        .add_service(WORKER, ENVIRONMENT, 2)
        .add_service(THIRD, ENVIRONMENT, 2)
        .behaviour("third", Behaviour::never(Duration::from_millis(50)));
    let version = |name: &str| Version::Image(format!("ghcr.io/acme/{name}:v2"));
    let request = Request {
        apps: vec![
            (SERVICE.into(), version("web")),
            (WORKER.into(), version("worker")),
            (THIRD.into(), version("third")),
        ],
        // Time for two later services: four request timeouts and a poll each (platform.rs).
        deadline: Instant::now() + Duration::from_secs(300),
        poll_interval: POLL,
        restore_on_failure: true,
        cancel_on_timeout: true,
        restore_until: None,
    };
    // Once the third's deployment is queued, reading it is refused.
    let log = |line: &str| {
        if line.contains(THIRD) && line.ends_with("queued") {
            railway.force(Forced {
                operation: "Deployment".into(),
                status: 401,
                body: json!({"data": null, "errors": [{"message": "Not Authorized"}]}),
                retry_after: None,
                times: 10,
            });
        }
    };
    let deployed = platform(&railway).deploy(&request, &log).await.unwrap();
    assert_eq!(deployed.status, Outcome::Failed);
    assert_eq!(deployed.left_changed.len(), 1);
    let left = &deployed.left_changed[0];
    assert!(
        left.contains(&format!(
            "service {SERVICE} was deployed (ghcr.io/acme/web:v2)"
        )),
        "{left}"
    );
    assert!(
        left.contains(&format!(
            "service {WORKER} was deployed (ghcr.io/acme/worker:v2)"
        )),
        "{left}"
    );
    assert!(
        left.contains(&format!("service {THIRD} may have been deployed")),
        "{left}"
    );
    assert!(left.contains("cancelled"), "{left}");
    let shipguard::railway::platform::Evidence::Deploys(runs) = deployed.evidence else {
        panic!("deploys expected");
    };
    assert_eq!(runs.len(), 3);
    let third = &runs[2].services[0];
    assert_eq!(third.service, THIRD);
    let id = third
        .deployment_id
        .clone()
        .expect("the third's deployment id");
    assert!(third.cancelled, "{third:?}");
    let cancels = railway.calls("deploymentCancel");
    assert_eq!(cancels.len(), 1);
    assert_eq!(cancels[0].variables["id"], id.as_str());
}

/// A version Railway cannot deploy, second in the list, is refused before the first changes.
#[tokio::test(flavor = "current_thread")]
async fn every_version_is_checked_before_any_service_is_deployed() {
    const WORKER: &str = "9f1c7a52-0000-4000-8000-00000000s002";
    let railway = Railway::start().unwrap();
    railway
        .add_service(SERVICE, ENVIRONMENT, 2)
        .add_service(WORKER, ENVIRONMENT, 2);
    let request = Request {
        apps: vec![
            (SERVICE.into(), Version::Image("ghcr.io/acme/web:v2".into())),
            (
                WORKER.into(),
                Version::ImageTag(shipguard::coolify::ImageTag::parse("v2").unwrap()),
            ),
        ],
        deadline: Instant::now() + Duration::from_secs(300),
        poll_interval: POLL,
        restore_on_failure: true,
        cancel_on_timeout: true,
        restore_until: None,
    };
    let Err(err) = platform(&railway).deploy(&request, &|_| {}).await else {
        panic!("an image tag alone is refused");
    };
    assert_eq!(
        shipguard::exit::classify(&err),
        shipguard::exit::Code::Usage
    );
    assert!(railway.requests().is_empty(), "{:?}", railway.requests());
    assert_eq!(railway.image(SERVICE).as_deref(), Some(OLD_IMAGE));
}
