//! The `report` output of every tool, as types: the contract between tools (slack-notify
//! renders any of them, health-wait reads an earlier health-wait report as its baseline).
//!
//! Every report carries `"schema": "shipguard.<tool>/<major>"`. The major version changes
//! only when a field is removed, renamed or changes meaning; adding a field keeps it. A
//! reader accepts its own major version, reads a report without `schema` (written before the
//! field existed) as version 1, and rejects any other major version with a usage error
//! (exit 2). The JSON Schema of each report is generated from these types into `schemas/`
//! (README "Report schemas"; `schemas::tests` fails when the committed files drift).

pub mod auto_rollback;
pub mod coolify_deploy;
pub mod fly_deploy;
pub mod health_wait;
pub mod lockfile_check;
pub mod railway_deploy;
#[cfg(test)]
mod schemas;

use serde::Serialize;
use serde_json::Value;

// What every deploy report (fly-deploy, railway-deploy) says after its `schema`, flattened
// into it (a `//` comment: a doc comment would become the flattened report's description).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct DeployHeader {
    pub tool: &'static str,
    /// The shipguard version that wrote it.
    pub version: String,
    pub kind: &'static str,
    pub platform: &'static str,
    pub api_url: String,
}

impl DeployHeader {
    /// `tool`'s deploy on `platform` through the API at `api_url` (never with a token).
    pub fn new(tool: &'static str, version: &str, platform: &'static str, api_url: String) -> Self {
        Self {
            tool,
            version: version.to_owned(),
            kind: "deploy",
            platform,
            api_url,
        }
    }
}

/// The major version every report is written with.
pub const MAJOR: u32 = 1;

/// The `schema` value of a tool's reports: `shipguard.<tool>/1`.
pub fn schema_id(tool: &str) -> String {
    format!("shipguard.{tool}/{MAJOR}")
}

/// Who wrote a report, read from its `schema` (or, without one, its `tool`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The tool that wrote it; `None` when the report names none.
    pub tool: Option<String>,
}

/// Reads a report's header; a `schema` of another major version than [`MAJOR`], or not of
/// the `shipguard.<tool>/<major>` form, is a usage error naming `input`.
pub fn header(report: &Value, input: &str) -> anyhow::Result<Header> {
    let tool = report["tool"].as_str().map(str::to_owned);
    let Some(schema) = report.get("schema") else {
        // Written before reports carried a schema: version 1.
        return Ok(Header { tool });
    };
    let parsed = schema.as_str().and_then(|s| {
        let (tool, major) = s.strip_prefix("shipguard.")?.rsplit_once('/')?;
        let valid = !tool.is_empty()
            && tool
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        Some((tool, major.parse::<u32>().ok()?)).filter(|_| valid)
    });
    let Some((named, major)) = parsed else {
        return Err(crate::exit::usage(format!(
            "invalid input `{input}`: its `schema` is not of the form shipguard.<tool>/<version>"
        )));
    };
    if major != MAJOR {
        return Err(crate::exit::usage(format!(
            "invalid input `{input}`: it is a shipguard.{named}/{major} report and this version reads only version {MAJOR}: use the same shipguard release for both steps"
        )));
    }
    Ok(Header {
        tool: Some(named.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_report_without_a_schema_is_version_1() {
        let header = header(&json!({"tool": "health-wait"}), "report").unwrap();
        assert_eq!(
            header,
            Header {
                tool: Some("health-wait".into()),
            }
        );
    }

    #[test]
    fn the_schema_names_the_tool_and_version() {
        let header = header(
            &json!({"schema": "shipguard.fly-deploy/1", "tool": "x"}),
            "report",
        )
        .unwrap();
        assert_eq!(header.tool.as_deref(), Some("fly-deploy"));
        assert_eq!(schema_id("fly-deploy"), "shipguard.fly-deploy/1");
    }

    #[test]
    fn another_major_version_or_a_bad_schema_is_a_usage_error() {
        for schema in [
            json!("shipguard.health-wait/2"),
            json!("shipguard.health-wait/0"),
            json!("shipguard.health-wait"),
            json!("other.health-wait/1"),
            json!("shipguard.Health Wait/1"),
            json!(1),
        ] {
            let err = header(&json!({ "schema": schema }), "report").unwrap_err();
            assert_eq!(
                crate::exit::classify(&err),
                crate::exit::Code::Usage,
                "{schema}"
            );
            assert!(
                err.to_string().starts_with("invalid input `report`"),
                "{err}"
            );
        }
        let err = header(&json!({"schema": "shipguard.health-wait/2"}), "report").unwrap_err();
        assert!(
            err.to_string()
                .contains("shipguard.health-wait/2 report and this version reads only version 1"),
            "{err}"
        );
    }
}
