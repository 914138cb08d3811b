//! The Coolify contract: every request the coolify client sends must be one the vendored
//! OpenAPI spec (`contracts/coolify/openapi.json`, Coolify 4.3.x) describes: its method and
//! path, declared query parameters of the declared types, and a PATCH body valid against the
//! request schema. The sandbox's answers are checked against the spec's response schemas too,
//! except where the real server is known to differ from its spec (reference/coolify-api.md §6):
//! those are listed below as explicit exceptions, each with its reason.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use sandbox::coolify::{Coolify, Recorded, Script, TOKEN};
use serde_json::{Value, json};
use shipguard::coolify::{Client, Plan, Target, git, rollout};
use shipguard::env::Env;
use shipguard::http::{self, ClientOptions, RetryPolicy};
use url::Url;

const SPEC: &str = include_str!("../contracts/coolify/openapi.json");
const APP: &str = "webappuuid00000000000001";
/// A git-based (nixpacks) app with two commits.
const GIT: &str = "gitappuuid00000000000003";
const C1: &str = "1111111111111111111111111111111111111111";
const C2: &str = "2222222222222222222222222222222222222222";

/// (method, path template, status): why the real server answers outside its spec.
const RESPONSE_EXCEPTIONS: &[(&str, &str, u16, &str)] = &[
    (
        "GET",
        "/deployments/applications/{uuid}",
        200,
        "§6.1: an object {count, deployments}, not an array of Application",
    ),
    (
        "GET",
        "/deployments/applications/{uuid}",
        404,
        "§6.1: 404 is not documented",
    ),
    (
        "GET",
        "/deployments/applications/{uuid}",
        422,
        "§6.1: skip/take validation is not documented",
    ),
    (
        "POST",
        "/deploy",
        404,
        "§6.2: `No resources found.` is not documented",
    ),
    (
        "POST",
        "/deploy",
        429,
        "§6.2: the queue-full 429 is not documented",
    ),
    (
        "GET",
        "/applications/{uuid}",
        200,
        "§6.9: build_pack `dockerimage` is missing from the enum",
    ),
    (
        "PATCH",
        "/applications/{uuid}",
        422,
        "§6.10: validation errors are not documented",
    ),
    (
        "*",
        "*",
        403,
        "§6.17: abilities, API switch and IP allowlist answer 403, never documented",
    ),
];

/// (schema, property): fields the real server returns as null although the spec types them
/// as plain strings (§3.4 shows `"commit_message": null`; `current_process_id` is null until
/// a process starts).
const NULL_IN_PRACTICE: &[(&str, &str)] = &[
    ("ApplicationDeploymentQueue", "commit_message"),
    ("ApplicationDeploymentQueue", "current_process_id"),
];

/// The spec as JSON Schema 2020-12 reads it: swagger-php still writes OpenAPI 3.0's
/// `nullable: true`, which 3.1 dropped, so it becomes a `null` type here.
fn spec() -> Value {
    let mut spec: Value = serde_json::from_str(SPEC).unwrap();
    for (schema, field) in NULL_IN_PRACTICE {
        spec["components"]["schemas"][schema]["properties"][field]["nullable"] = json!(true);
    }
    allow_null(&mut spec);
    spec
}

fn allow_null(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("nullable") == Some(&json!(true))
                && let Some(Value::String(t)) = map.get("type").cloned()
            {
                map.insert("type".into(), json!([t, "null"]));
            }
            map.values_mut().for_each(allow_null);
        }
        Value::Array(items) => items.iter_mut().for_each(allow_null),
        _ => {}
    }
}

/// The spec path template a concrete path matches, e.g. `/deployments/{uuid}`.
fn template<'a>(spec: &'a Value, path: &str) -> Option<&'a str> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    spec["paths"]
        .as_object()
        .unwrap()
        .keys()
        .find(|t| {
            let tparts: Vec<&str> = t.trim_matches('/').split('/').collect();
            tparts.len() == parts.len()
                && tparts
                    .iter()
                    .zip(&parts)
                    .all(|(t, p)| t.starts_with('{') || t == p)
        })
        .map(String::as_str)
}

/// Follows a local `$ref` (`#/components/...`).
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(r) => spec
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => value,
    }
}

/// A JSON Schema validator for a spec schema, with the spec's components beside it so
/// `#/components/schemas/...` references resolve.
fn validator(spec: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = schema.clone();
    root.as_object_mut()
        .unwrap()
        .insert("components".into(), spec["components"].clone());
    jsonschema::validator_for(&root).unwrap()
}

fn check_request(spec: &Value, r: &Recorded) -> Result<(), String> {
    let t = template(spec, &r.path).ok_or(format!("no path {} in the spec", r.path))?;
    let op = &spec["paths"][t][r.method.to_lowercase()];
    if op.is_null() {
        return Err(format!("{} {t} is not in the spec", r.method));
    }
    let params: Vec<&Value> = op["parameters"]
        .as_array()
        .map(|p| p.iter().map(|p| resolve(spec, p)).collect())
        .unwrap_or_default();
    for (name, value) in &r.query {
        let declared = params
            .iter()
            .find(|p| p["in"] == "query" && p["name"] == name.as_str())
            .ok_or(format!(
                "{} {t}: query parameter `{name}` is not declared",
                r.method
            ))?;
        let schema = &declared["schema"];
        let ok = match schema["type"].as_str() {
            Some("integer") => value
                .parse::<i64>()
                .is_ok_and(|n| schema["minimum"].as_i64().is_none_or(|min| n >= min)),
            Some("boolean") => matches!(value.as_str(), "true" | "false"),
            _ => true,
        };
        if !ok {
            return Err(format!(
                "{} {t}: `{name}={value}` is not a valid {schema}",
                r.method
            ));
        }
    }
    if r.accept.as_deref() != Some("application/json") {
        return Err(format!("{} {t}: no `Accept: application/json`", r.method));
    }
    if let Some(body_spec) = op.get("requestBody") {
        let schema = &resolve(spec, body_spec)["content"]["application/json"]["schema"];
        if !r
            .content_type
            .as_deref()
            .is_some_and(|c| c.starts_with("application/json"))
        {
            return Err(format!("{} {t}: body is not application/json", r.method));
        }
        let body = r
            .body
            .as_ref()
            .ok_or(format!("{} {t}: no JSON body", r.method))?;
        let errors: Vec<String> = validator(spec, schema)
            .iter_errors(body)
            .map(|e| e.to_string())
            .collect();
        if !errors.is_empty() {
            return Err(format!(
                "{} {t}: body {body} is invalid: {errors:?}",
                r.method
            ));
        }
    } else if r.body.is_some() {
        return Err(format!(
            "{} {t}: sends a body the spec does not take",
            r.method
        ));
    }
    Ok(())
}

fn exception(method: &str, t: &str, status: u16) -> Option<&'static str> {
    RESPONSE_EXCEPTIONS
        .iter()
        .find(|(m, p, s, _)| (*m == "*" || *m == method) && (*p == "*" || *p == t) && *s == status)
        .map(|(_, _, _, why)| *why)
}

fn check_response(spec: &Value, r: &Recorded) -> Result<(), String> {
    let t = template(spec, &r.path).unwrap();
    if exception(&r.method, t, r.status).is_some() {
        return Ok(());
    }
    let op = &spec["paths"][t][r.method.to_lowercase()];
    let documented = &op["responses"][r.status.to_string()];
    if documented.is_null() {
        return Err(format!(
            "{} {t} answered {}, which the spec does not list",
            r.method, r.status
        ));
    }
    let content = &resolve(spec, documented)["content"];
    let Some(schema) = content.get("application/json").map(|c| &c["schema"]) else {
        return Ok(()); // text/html (GET /version): nothing to validate
    };
    let body: Value = serde_json::from_str(&r.answer)
        .map_err(|_| format!("{} {t} {}: not JSON: {}", r.method, r.status, r.answer))?;
    let errors: Vec<String> = validator(spec, schema)
        .iter_errors(&body)
        .map(|e| e.to_string())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{} {t} {}: {errors:?}", r.method, r.status))
    }
}

fn client(coolify: &Coolify, token: &str) -> Client {
    let http = http::client(&ClientOptions::new("contract-test")).unwrap();
    let env = Env::from_pairs([("SHIPGUARD_TEST_NO_RETRY_DELAY", "1")]);
    Client::new(
        http,
        &Url::parse(&coolify.url()).unwrap(),
        shipguard::redact::Secret::new(token.to_owned()),
        RetryPolicy::new(&env),
    )
}

/// Runs every call the suite makes, successes and documented failures alike.
async fn exercise(coolify: &Coolify) {
    let mut c = client(coolify, TOKEN);
    c.version().await.unwrap();
    c.application(APP).await.unwrap();
    let plan = |target, image_tag: Option<&str>, timeout| Plan {
        target,
        image_tag: image_tag.map(|t| shipguard::coolify::ImageTag::parse(t).unwrap()),
        commit: None,
        force: false,
        wait: true,
        timeout,
        poll_interval: Duration::from_millis(30),
        cancel_on_timeout: true,
    };
    let quiet = |_: &shipguard::coolify::Tracked| {};
    let long = Duration::from_secs(20);
    rollout::run(
        &c,
        &plan(Target::Apps(vec![APP.into()]), Some("main-2222222"), long),
        &quiet,
    )
    .await
    .unwrap();
    rollout::run(
        &c,
        &plan(Target::Tag("production".into()), None, long),
        &quiet,
    )
    .await
    .unwrap();
    rollout::run(
        &c,
        &plan(
            Target::Apps(vec![APP.into()]),
            Some("stuck"),
            Duration::from_millis(200),
        ),
        &quiet,
    )
    .await
    .unwrap();
    // The dedupe path: a deployment already running, then a plain deploy.
    coolify.start_deployment(APP).unwrap();
    rollout::run(
        &c,
        &plan(
            Target::Apps(vec![APP.into()]),
            None,
            Duration::from_millis(200),
        ),
        &quiet,
    )
    .await
    .unwrap();
    let page = c.app_deployments(APP, 0, 2).await.unwrap();
    assert_eq!(page.deployments.len(), 2);
    let done = &page.deployments[1].deployment_uuid;
    c.cancel(done.as_raw()).await.unwrap(); // 400 "cannot be cancelled": read back
    // Documented failures.
    assert!(c.deployment("nosuchdeployment").await.is_err());
    assert!(c.application("nosuchapp").await.is_err());
    let x = shipguard::coolify::ImageTag::parse("x").unwrap();
    assert!(c.set_image_tag("nosuchapp", &x).await.is_err());
    assert!(
        c.deploy(&Target::Apps(vec!["nosuchapp".into()]), false)
            .await
            .is_err()
    );
    let mut stranger = client(coolify, "1|not-a-token");
    assert!(stranger.version().await.is_err());
    exercise_git(coolify).await;
}

/// The git-app calls: `/rollback` with a commit on 4.3.x, the `git_commit_sha` pin and its
/// restore on 4.2.0, what runs now, and the documented failures of `/rollback`.
async fn exercise_git(coolify: &Coolify) {
    let quiet = |_: &shipguard::coolify::Tracked| {};
    let commit = |sha: &str| shipguard::commit::CommitSha::parse(sha).unwrap();
    let plan = |app: &str, sha: &str| Plan {
        target: Target::Apps(vec![app.into()]),
        image_tag: None,
        commit: Some(commit(sha)),
        force: false,
        wait: true,
        timeout: Duration::from_secs(20),
        poll_interval: Duration::from_millis(30),
        cancel_on_timeout: true,
    };
    let mut c = client(coolify, TOKEN);
    c.version().await.unwrap();
    let done = git::run(&c, &plan(GIT, C1), &quiet).await.unwrap();
    assert_eq!(
        done.rollout.deployments[0]
            .commit
            .as_ref()
            .map(|c| c.as_raw()),
        Some(C1)
    );
    assert_eq!(
        git::running_commit(&c, GIT, 10).await.unwrap(),
        Some(commit(C1))
    );
    // Documented failures: 404 for an unknown app, 400 when the queue is full.
    assert!(git::run(&c, &plan("nosuchapp", C1), &quiet).await.is_err());
    coolify.queue_limit(0);
    assert!(git::run(&c, &plan(GIT, C2), &quiet).await.is_err());
    coolify.queue_limit(25);
    // 4.2.0: PATCH git_commit_sha, POST /deploy, PATCH it back.
    coolify.set_version("4.2.0");
    let mut old = client(coolify, TOKEN);
    old.version().await.unwrap();
    let done = git::run(&old, &plan(GIT, C2), &quiet).await.unwrap();
    assert!(done.pins.iter().all(|p| p.restored));
    coolify.set_version(sandbox::coolify::VERSION);
}

#[tokio::test]
async fn every_request_and_answer_matches_the_spec() {
    let coolify = Coolify::start().unwrap();
    coolify
        .add_app(APP, "web", "ghcr.io/acme/web", "main-1111111")
        .tag_app(APP, "production")
        .default_script(Script::finishes_after(Duration::from_millis(50)))
        .script("stuck", Script::never_ends())
        .add_git_app(GIT, "shop", "nixpacks", &[C1, C2]);
    exercise(&coolify).await;
    let spec = spec();
    let recorded = coolify.requests();
    let mut seen = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    for r in &recorded {
        seen.insert((
            r.method.clone(),
            template(&spec, &r.path).unwrap_or("?").to_owned(),
        ));
        if let Err(e) = check_request(&spec, r) {
            failures.push(format!("request: {e}"));
        }
        if let Err(e) = check_response(&spec, r) {
            failures.push(format!("answer: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for endpoint in [
        ("GET", "/version"),
        ("POST", "/deploy"),
        ("GET", "/deployments/{uuid}"),
        ("POST", "/deployments/{uuid}/cancel"),
        ("GET", "/deployments/applications/{uuid}"),
        ("GET", "/applications/{uuid}"),
        ("PATCH", "/applications/{uuid}"),
        ("POST", "/applications/{uuid}/rollback"),
    ] {
        let key = (endpoint.0.to_owned(), endpoint.1.to_owned());
        assert!(seen.contains(&key), "{endpoint:?} was never exercised");
    }
}

#[test]
fn the_checker_catches_what_the_spec_forbids() {
    let spec = spec();
    let request =
        |method: &str, path: &str, query: &[(&str, &str)], body: Option<Value>| Recorded {
            method: method.into(),
            path: path.into(),
            query: query
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            content_type: body.as_ref().map(|_| "application/json".into()),
            accept: Some("application/json".into()),
            body,
            status: 200,
            answer: String::new(),
        };
    assert!(
        check_request(
            &spec,
            &request("POST", "/deploy", &[("uuid", "a"), ("force", "true")], None)
        )
        .is_ok()
    );
    for bad in [
        request("GET", "/deploy", &[("uuid", "a")], None),
        request("POST", "/deploy", &[("force", "yes")], None),
        request("POST", "/deploy", &[("commit", "abc")], None),
        request("GET", "/deployments/applications/a", &[("take", "0")], None),
        request(
            "PATCH",
            "/applications/a",
            &[],
            Some(json!({"docker_registry_image_tag": 5})),
        ),
        request("GET", "/nowhere", &[], None),
        request(
            "POST",
            "/applications/a/rollback",
            &[],
            Some(json!({"commit": 5})),
        ),
        request("POST", "/applications/a/rollback", &[], Some(json!({}))),
        request("POST", "/applications/a/rollback", &[], None),
        request(
            "PATCH",
            "/applications/a",
            &[],
            Some(json!({"git_commit_sha": ["HEAD"]})),
        ),
    ] {
        assert!(check_request(&spec, &bad).is_err(), "{bad:?}");
    }
    let answered = |method: &str, path: &str, status: u16, answer: Value| Recorded {
        status,
        answer: answer.to_string(),
        ..request(method, path, &[], None)
    };
    assert!(
        check_response(
            &spec,
            &answered("GET", "/deployments/d", 200, json!({"id": 1}))
        )
        .is_ok()
    );
    assert!(
        check_response(
            &spec,
            &answered("GET", "/deployments/d", 200, json!({"id": "one"}))
        )
        .is_err()
    );
    assert!(check_response(&spec, &answered("GET", "/version", 500, json!({}))).is_err());
    // Every exception names a documented disagreement.
    assert!(
        RESPONSE_EXCEPTIONS
            .iter()
            .all(|(_, _, _, why)| why.starts_with('§'))
    );
}
