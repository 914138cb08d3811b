//! fly-deploy's `report`: every machine's update, and what was put back.

use serde::Serialize;

use crate::fly::Rollout;

pub const TOOL: &str = "fly-deploy";

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Report {
    /// `shipguard.fly-deploy/1`.
    pub schema: String,
    pub tool: &'static str,
    /// The shipguard version that wrote it.
    pub version: String,
    pub kind: &'static str,
    pub platform: &'static str,
    pub api_url: String,
    pub github_deployment_id: Option<u64>,
    #[serde(flatten)]
    pub rollout: Rollout,
}

impl Report {
    pub fn new(version: &str, api_url: String, rollout: Rollout) -> Self {
        Self {
            schema: super::schema_id(TOOL),
            tool: TOOL,
            version: version.to_owned(),
            kind: "deploy",
            platform: "fly",
            api_url,
            github_deployment_id: None,
            rollout,
        }
    }
}
