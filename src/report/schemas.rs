//! The JSON Schema of every tool's `report`, generated from the types and committed under
//! `schemas/`. `committed_schemas_match_the_types` fails when they drift; regenerate with
//! `cargo test -p shipguard --lib report::schemas -- --ignored`.

use std::path::PathBuf;

use schemars::{JsonSchema, schema_for};

use super::{
    auto_rollback, coolify_deploy, fly_deploy, health_wait, lockfile_check, railway_deploy,
};

/// coolify-deploy reports either a followed deploy or a webhook's queued one.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code, clippy::large_enum_variant)] // never built: only its schema
enum CoolifyDeploy {
    Deploy(coolify_deploy::Report),
    Webhook(coolify_deploy::Queued),
}

/// (tool, its schema as committed: pretty JSON and a final newline).
fn generated() -> Vec<(&'static str, String)> {
    let schemas = [
        (health_wait::TOOL, schema_for!(health_wait::Report)),
        (lockfile_check::TOOL, schema_for!(lockfile_check::Report)),
        (coolify_deploy::TOOL, schema_for!(CoolifyDeploy)),
        (fly_deploy::TOOL, schema_for!(fly_deploy::Report)),
        (railway_deploy::TOOL, schema_for!(railway_deploy::Report)),
        (auto_rollback::TOOL, schema_for!(auto_rollback::Report)),
    ];
    schemas
        .into_iter()
        .map(|(tool, mut schema)| {
            schema.insert(
                "$id".to_owned(),
                format!("https://github.com/shipguard/shipguard/schemas/{tool}.schema.json").into(),
            );
            schema.insert("title".to_owned(), super::schema_id(tool).into());
            let text = serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n";
            (tool, text)
        })
        .collect()
}

fn path(tool: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(format!("{tool}.schema.json"))
}

#[test]
fn committed_schemas_match_the_types() {
    for (tool, schema) in generated() {
        let committed = std::fs::read_to_string(path(tool)).unwrap_or_default();
        assert!(
            committed == schema,
            "schemas/{tool}.schema.json differs from the report types: if the change is meant, regenerate with `cargo test -p shipguard --lib report::schemas -- --ignored` (a removed or renamed field needs a new major version)"
        );
    }
}

#[test]
fn every_schema_names_its_version() {
    for (tool, schema) in generated() {
        let schema: serde_json::Value = serde_json::from_str(&schema).unwrap();
        assert_eq!(schema["title"], format!("shipguard.{tool}/1"));
        let text = schema.to_string();
        assert!(text.contains("\"schema\""), "{tool}: no `schema` field");
    }
}

#[test]
#[ignore = "writes schemas/; run it to regenerate them"]
fn write_schemas() {
    for (tool, schema) in generated() {
        std::fs::write(path(tool), schema).unwrap();
    }
}
