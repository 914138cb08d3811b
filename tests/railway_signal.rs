//! A signal between two Railway services: the next service is not started (no request for
//! it at all, so nothing is sent that could not be followed). Its own test binary: a signal
//! is process-wide state (`shipguard::interrupt`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sandbox::railway::{ENVIRONMENT, PROJECT, PROJECT_TOKEN, Railway, SERVICE};
use shipguard::env::Env;
use shipguard::http::{self, ClientOptions, RetryPolicy};
use shipguard::interrupt::{self, Signal};
use shipguard::platform::{Outcome, Platform, Rollback};
use shipguard::railway::platform::{Evidence, Railway as RailwayPlatform};
use shipguard::railway::{Client, Token, TokenKind};
use shipguard::redact::Secret;

const WORKER: &str = "9f1c7a52-0000-4000-8000-00000000s002";

fn platform(railway: &Railway) -> RailwayPlatform {
    let mut policy = RetryPolicy::new(&Env::from_pairs([("SHIPGUARD_TEST_NO_RETRY_DELAY", "1")]));
    policy.deadline = Instant::now() + Duration::from_secs(30);
    let client = Client::new(
        http::client(&ClientOptions::new("test")).unwrap(),
        &url::Url::parse(&railway.url()).unwrap(),
        Token::new(TokenKind::Project, &Secret::new(PROJECT_TOKEN.to_owned())).unwrap(),
        policy,
    );
    RailwayPlatform::new(client, PROJECT.into(), ENVIRONMENT.into())
}

#[tokio::test]
async fn a_signal_after_the_first_service_stops_before_the_next_one() {
    let railway = Railway::start().unwrap();
    railway
        .add_service(SERVICE, ENVIRONMENT, 2)
        .add_finished(SERVICE, "ghcr.io/acme/web:new")
        .add_service(WORKER, ENVIRONMENT, 2)
        .add_finished(WORKER, "ghcr.io/acme/worker:new");
    let p = platform(&railway);
    let request = Rollback {
        apps: vec![SERVICE.into(), WORKER.into()],
        deadline: Instant::now() + Duration::from_secs(60),
        poll_interval: Duration::from_millis(20),
    };
    // The signal comes the moment the first service's rollback is seen to serve: after its
    // wait, before anything of the second.
    let seen = Mutex::new(None::<usize>);
    let log = |line: &str| {
        if line.contains(SERVICE) && line.ends_with("SUCCESS") {
            *seen.lock().unwrap() = Some(railway.requests().len());
            interrupt::notify(Signal::Terminate);
        }
    };
    let deployed = p.roll_back(&request, &log).await.unwrap();
    let at = seen
        .lock()
        .unwrap()
        .expect("the first service's rollback served");
    assert_eq!(deployed.status, Outcome::Interrupted);
    assert_eq!(deployed.apps.len(), 2);
    assert_eq!(deployed.apps[0].outcome, Outcome::Finished);
    assert_eq!(deployed.apps[1].outcome, Outcome::Interrupted);
    let reason = deployed.reason.unwrap();
    assert!(reason.contains("not started"), "{reason}");
    assert!(reason.contains("SIGTERM"), "{reason}");
    let Evidence::Rollbacks(rolled) = deployed.evidence else {
        panic!("rollbacks expected");
    };
    assert_eq!(rolled.len(), 1);
    // Not one request about the worker after the signal.
    let after = railway.requests().split_off(at);
    assert!(
        after
            .iter()
            .all(|r| !r.variables.to_string().contains(WORKER)),
        "{:?}",
        after.iter().map(|r| &r.operation).collect::<Vec<_>>()
    );
    assert_eq!(railway.calls("deploymentRollback").len(), 1);
}
