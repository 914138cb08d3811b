//! railway-deploy's `report`: every service's deploy, what served before, and Railway's
//! last status of each new deployment.

use serde::Serialize;

use super::DeployHeader;
use crate::railway::deploy::Run;

pub const TOOL: &str = "railway-deploy";

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Report {
    /// `shipguard.railway-deploy/1`.
    pub schema: String,
    #[serde(flatten)]
    pub header: DeployHeader,
    /// `project` or `account`.
    pub token_kind: &'static str,
    pub github_deployment_id: Option<u64>,
    #[serde(flatten)]
    pub run: Run,
}

impl Report {
    pub fn new(version: &str, api_url: String, token_kind: &'static str, run: Run) -> Self {
        Self {
            schema: super::schema_id(TOOL),
            header: DeployHeader::new(TOOL, version, "railway", api_url),
            token_kind,
            github_deployment_id: None,
            run,
        }
    }
}
