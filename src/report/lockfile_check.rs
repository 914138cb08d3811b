//! lockfile-check's `report`: the checked lockfile and every finding.

use serde::Serialize;

use crate::npm::Finding;
use crate::npm::check::{Mode, Outcome};

pub const TOOL: &str = "lockfile-check";

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Report {
    /// `shipguard.lockfile-check/1`.
    pub schema: String,
    pub tool: &'static str,
    /// The shipguard version that wrote it.
    pub version: String,
    pub in_sync: bool,
    pub mode: &'static str,
    /// The checked folder, as given.
    pub path: String,
    pub lockfile: String,
    pub lockfile_version: u64,
    pub package_manager: Option<String>,
    pub workspaces: Vec<String>,
    pub packages: usize,
    pub problems: Vec<Finding>,
    /// `mode: ci`: what only `npm ls` calls missing or invalid; reported, not failing.
    pub warnings: Vec<Finding>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(version: &str, mode: Mode, path: String, outcome: Outcome) -> Self {
        Self {
            schema: super::schema_id(TOOL),
            tool: TOOL,
            version: version.to_owned(),
            in_sync: outcome.findings.is_empty(),
            mode: mode.name(),
            path,
            lockfile: outcome.lockfile,
            lockfile_version: outcome.lockfile_version,
            package_manager: outcome.package_manager,
            workspaces: outcome.workspaces,
            packages: outcome.packages,
            problems: outcome.findings,
            warnings: outcome.warnings,
            notes: outcome.notes,
        }
    }
}
