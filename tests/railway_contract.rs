//! The Railway contract: every GraphQL operation the client can send (src/railway/ops.rs),
//! and every document and variables the sandbox Railway received during deploys, a cancel,
//! a rollback and a redeploy, is validated against the vendored introspected schema
//! (contracts/railway/schema.json, railwayapp/cli src/gql/schema.json at df3838b) with
//! apollo-compiler: the GraphQL spec's validation rules and variable coercion, not string
//! matching.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::time::Duration;

use apollo_compiler::ExecutableDocument;
use apollo_compiler::response::JsonMap;
use sandbox::railway::{
    ACCOUNT_TOKEN, Behaviour, ENVIRONMENT, PROJECT, PROJECT_TOKEN, Railway, SERVICE,
};
use sandbox::railway_schema::schema;
use serde_json::Value;
use shipguard::env::Env;
use shipguard::http::{self, ClientOptions, RetryPolicy};
use shipguard::railway::deploy::{self, Outcome, Plan, Source};
use shipguard::railway::{Client, Token, TokenKind, ops};
use shipguard::redact::Secret;

fn validate(document: &str, operation: Option<&str>, variables: &Value) -> Result<(), String> {
    let schema = schema().unwrap();
    let doc = ExecutableDocument::parse_and_validate(schema, document, "op.graphql")
        .map_err(|e| e.errors.to_string())?;
    let op = doc
        .operations
        .get(operation)
        .map_err(|e| format!("{e:?}"))?;
    let values: JsonMap = serde_json::from_value(variables.clone()).map_err(|e| e.to_string())?;
    apollo_compiler::request::coerce_variable_values(schema, op, &values)
        .map_err(|e| format!("variables: {e:?}"))?;
    Ok(())
}

#[test]
fn the_vendored_schema_is_a_valid_schema_with_the_fields_we_use() {
    let schema = schema().unwrap();
    for (ty, field) in [
        ("Query", "deployments"),
        ("Query", "deployment"),
        ("Query", "projectToken"),
        ("Mutation", "deploymentRollback"),
        ("Mutation", "deploymentRedeploy"),
        ("Mutation", "deploymentCancel"),
        ("Mutation", "serviceInstanceUpdate"),
        ("Mutation", "serviceInstanceDeployV2"),
    ] {
        assert!(schema.type_field(ty, field).is_ok(), "{ty}.{field}");
    }
}

#[test]
fn every_operation_of_the_client_validates_against_the_schema() {
    for op in ops::ALL {
        validate(op.document, Some(op.name), &serde_json::json!({}))
            .or_else(|e| {
                if e.starts_with("variables:") {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .unwrap_or_else(|e| panic!("{}: {e}", op.name));
        assert_eq!(
            op.document.starts_with("mutation"),
            op.mutation,
            "{}: mutation flag",
            op.name
        );
    }
    // The validator refuses what the schema does not have: a selection on the Boolean
    // deploymentRollback returns, as Railway's docs show it (manage-deployments.md:128-132).
    let docs_version = "mutation R($id: String!) { deploymentRollback(id: $id) { id status } }";
    assert!(validate(docs_version, Some("R"), &serde_json::json!({"id": "x"})).is_err());
    // And a variable of the wrong type.
    assert!(
        validate(
            ops::DEPLOYMENT.document,
            Some("Deployment"),
            &serde_json::json!({"id": 5})
        )
        .is_err()
    );
}

fn client(railway: &Railway, kind: TokenKind, token: &str) -> Client {
    let mut policy = RetryPolicy::new(&Env::from_pairs([("SHIPGUARD_TEST_NO_RETRY_DELAY", "1")]));
    policy.deadline = std::time::Instant::now() + Duration::from_secs(30);
    Client::new(
        http::client(&ClientOptions::new("contract")).unwrap(),
        &url::Url::parse(&railway.url()).unwrap(),
        Token::new(kind, &Secret::new(token.to_owned())).unwrap(),
        policy,
    )
}

fn plan(source: Source, timeout: Duration) -> Plan {
    Plan {
        project: PROJECT.into(),
        environment: ENVIRONMENT.into(),
        services: vec![SERVICE.into()],
        source,
        timeout,
        poll_interval: Duration::from_millis(20),
        cancel_on_timeout: true,
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_request_sent_in_deploys_cancel_rollback_and_redeploy_validates() {
    let railway = Railway::start().unwrap();
    railway.add_service(SERVICE, ENVIRONMENT, 3);
    railway.behaviour("stuck", Behaviour::never(Duration::from_millis(10)));
    let log = |_: &str| {};
    let project = client(&railway, TokenKind::Project, PROJECT_TOKEN);
    let run = deploy::run(
        &project,
        &plan(
            Source::Image("ghcr.io/acme/web:new".into()),
            Duration::from_secs(20),
        ),
        &log,
    )
    .await
    .unwrap();
    assert_eq!(run.status, Outcome::Success, "{run:?}");
    let account = client(&railway, TokenKind::Account, ACCOUNT_TOKEN);
    let run = deploy::run(
        &account,
        &plan(
            Source::Commit("0123456789abcdef0123456789abcdef01234567".into()),
            Duration::from_secs(20),
        ),
        &log,
    )
    .await
    .unwrap();
    assert_eq!(run.status, Outcome::Success, "{run:?}");
    let run = deploy::run(
        &project,
        &plan(
            Source::Image("ghcr.io/acme/web:stuck".into()),
            Duration::from_millis(500),
        ),
        &log,
    )
    .await
    .unwrap();
    assert_eq!(run.status, Outcome::Timeout, "{run:?}");
    assert!(run.services[0].cancelled, "{run:?}");
    let list = project
        .deployments(PROJECT, ENVIRONMENT, SERVICE, 20)
        .await
        .unwrap();
    let old = list
        .iter()
        .find(|d| d.can_rollback && d.image().as_deref() == Some(sandbox::railway::OLD_IMAGE))
        .unwrap();
    project.rollback(&old.id).await.unwrap();
    project.redeploy(&old.id, true).await.unwrap();
    let requests = railway.requests();
    let mut seen: Vec<String> = Vec::new();
    for request in &requests {
        validate(
            &request.query,
            request.operation.as_deref(),
            &request.variables,
        )
        .unwrap_or_else(|e| panic!("{:?}: {e}", request.operation));
        assert_eq!(request.status, 200, "{request:?}");
        seen.extend(request.fields.iter().cloned());
    }
    for field in [
        "projectToken",
        "deployments",
        "deployment",
        "serviceInstanceUpdate",
        "serviceInstanceDeployV2",
        "deploymentCancel",
        "deploymentRollback",
        "deploymentRedeploy",
    ] {
        assert!(seen.iter().any(|f| f == field), "{field} never sent");
    }
    // Each token in its own header (cli src/client.rs:41-46).
    assert!(requests.iter().any(|r| r.auth == "bearer"));
    assert!(requests.iter().any(|r| r.auth == "project"));
}
