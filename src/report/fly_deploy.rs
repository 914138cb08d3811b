//! fly-deploy's `report`: every machine's update, and what was put back.

use serde::Serialize;

use super::DeployHeader;
use crate::fly::Rollout;

pub const TOOL: &str = "fly-deploy";

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Report {
    /// `shipguard.fly-deploy/1`.
    pub schema: String,
    #[serde(flatten)]
    pub header: DeployHeader,
    pub github_deployment_id: Option<u64>,
    #[serde(flatten)]
    pub rollout: Rollout,
}

impl Report {
    pub fn new(version: &str, api_url: String, rollout: Rollout) -> Self {
        Self {
            schema: super::schema_id(TOOL),
            header: DeployHeader::new(TOOL, version, "fly", api_url),
            github_deployment_id: None,
            rollout,
        }
    }
}
