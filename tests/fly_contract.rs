//! The Fly contract: every request the fly client sends in a deploy, a failed deploy with
//! its restore, must be one `contracts/fly/machines-fields.json` lists (read from fly-go,
//! flyctl and Fly's docs): method and path, only listed query parameters and body keys, the
//! lease nonce where it is required, and the token sent the way flyctl sends it. The
//! sandbox's Machine objects must carry every field the client reads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::fly::{Behaviour, Fly, Recorded, TOKEN};
use serde_json::Value;
use shipguard::env::Env;
use shipguard::fly::{Client, Plan, Token, rollout};
use shipguard::http::{self, ClientOptions, RetryPolicy};
use shipguard::redact::Secret;

const CONTRACT: &str = include_str!("../contracts/fly/machines-fields.json");

fn matches(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t.starts_with('{') || t == p)
}

fn strings(value: &Value, key: &str) -> Vec<String> {
    value[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn check(request: &Recorded, contract: &Value) {
    let endpoint = contract["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["method"] == request.method.as_str()
                && matches(e["path"].as_str().unwrap(), &request.path)
        })
        .unwrap_or_else(|| panic!("not in the contract: {} {}", request.method, request.path));
    let query = strings(endpoint, "query");
    for (key, _) in &request.query {
        assert!(
            query.contains(key),
            "{} {}: query {key} not listed",
            request.method,
            request.path
        );
    }
    for header in strings(endpoint, "headers_required") {
        assert_eq!(header, "fly-machine-lease-nonce");
        assert!(
            request.nonce.is_some(),
            "{} {} without its nonce",
            request.method,
            request.path
        );
    }
    if let Some(body) = request.body.as_ref().and_then(Value::as_object) {
        let keys = strings(endpoint, "body_keys");
        for key in body.keys() {
            assert!(
                keys.contains(key),
                "{} {}: body key {key} not listed",
                request.method,
                request.path
            );
        }
        for key in strings(endpoint, "body_required") {
            assert!(
                body.contains_key(&key),
                "{} {}: no {key}",
                request.method,
                request.path
            );
        }
    }
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("FlyV1 {TOKEN}").as_str())
    );
}

fn client(fly: &Fly) -> Client {
    let mut options = ClientOptions::new("shipguard-contract/0");
    options.json_api = true;
    let token = Token::parse(&Secret::new(TOKEN.to_owned())).unwrap();
    let policy = RetryPolicy::new(&Env::default());
    Client::new(
        http::client(&options).unwrap(),
        &url::Url::parse(&fly.url()).unwrap(),
        token,
        policy,
    )
}

fn plan(image: &str) -> Plan {
    Plan {
        apps: vec!["web".to_owned()],
        image: image.to_owned(),
        process_group: "app".to_owned(),
        wait_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(30),
        restore_on_failure: true,
        poll_interval: Duration::from_millis(20),
        restore_until: None,
        max_unavailable: 1,
        lease_ttl: Duration::from_secs(30),
    }
}

#[tokio::test]
async fn every_request_of_a_deploy_and_a_restore_is_in_the_contract() {
    let contract: Value = serde_json::from_str(CONTRACT).unwrap();
    let fly = Fly::start().unwrap();
    fly.add_app("web", 2, 1);
    fly.behaviour("registry.fly.io/web:broken", Behaviour::broken());
    let client = client(&fly);
    let good = rollout::run(&client, &plan("registry.fly.io/web:good"), &|_| {})
        .await
        .unwrap();
    assert_eq!(good.status, rollout::Outcome::Finished);
    let bad = rollout::run(&client, &plan("registry.fly.io/web:broken"), &|_| {})
        .await
        .unwrap();
    assert_eq!(bad.status, rollout::Outcome::Restored);
    let requests = fly.requests();
    let kinds: std::collections::BTreeSet<(String, usize)> = requests
        .iter()
        .map(|r| (r.method.clone(), r.path.matches('/').count()))
        .collect();
    // list, get, lease, release, update and wait were all exercised.
    assert!(kinds.len() >= 5, "{kinds:?}");
    for request in &requests {
        check(request, &contract);
    }
}

#[tokio::test]
async fn the_sandbox_machine_carries_every_field_the_client_reads() {
    let contract: Value = serde_json::from_str(CONTRACT).unwrap();
    let fly = Fly::start().unwrap();
    fly.add_app("web", 1, 0);
    let http = http::client(&ClientOptions::new("shipguard-contract/0")).unwrap();
    let list: Value = http
        .get(format!("{}/v1/apps/web/machines", fly.url()))
        .header("authorization", format!("FlyV1 {TOKEN}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let machine = &list[0];
    for field in contract["machine_fields_read"].as_object().unwrap().keys() {
        if field == "source" || field == "nonce" {
            continue;
        }
        assert!(
            machine.get(field).is_some(),
            "the sandbox Machine has no {field}: {machine}"
        );
    }
}
