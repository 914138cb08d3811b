//! health-wait's `report`: what was probed, how it went, the metric analysis and the
//! baseline comparisons. Written by health-wait, read by slack-notify (its evidence) and by
//! health-wait itself (a baseline).

use serde::{Deserialize, Serialize};

use crate::metrics::AnalysisReport;
use crate::metrics::baseline::Comparison;
use crate::probe::report::UrlReport;
use crate::probe::stats::Latency;

pub const TOOL: &str = "health-wait";

#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Report {
    /// `shipguard.health-wait/1` (a report without it is read as version 1).
    #[serde(default = "version_1")]
    pub schema: String,
    pub tool: String,
    /// The shipguard version that wrote it.
    pub version: String,
    pub healthy: bool,
    /// Why it is not healthy; `None` when healthy.
    pub reason: Option<String>,
    pub elapsed_ms: u64,
    pub attempts: usize,
    pub latency: Option<Latency>,
    pub conditions: Vec<String>,
    pub settings: Settings,
    pub urls: Vec<UrlReport>,
    /// The metric analysis during the hold, when `metrics` are given.
    pub metrics: Option<AnalysisReport>,
    /// Comparisons with the baseline report, when `baseline` is given (not read back).
    #[serde(default, skip_deserializing)]
    pub baseline: Option<Vec<BaselineCheck>>,
}

fn version_1() -> String {
    super::schema_id(TOOL)
}

impl Report {
    /// A report of this version with nothing measured yet.
    pub fn new(version: &str, settings: Settings) -> Self {
        Self {
            schema: version_1(),
            tool: TOOL.to_owned(),
            version: version.to_owned(),
            healthy: false,
            reason: None,
            elapsed_ms: 0,
            attempts: 0,
            latency: None,
            conditions: Vec::new(),
            settings,
            urls: Vec::new(),
            metrics: None,
            baseline: None,
        }
    }

    /// Reads a report given as input `input`: JSON, of a schema version this release reads
    /// ([`super::header`]), written by health-wait.
    pub fn read(report: &serde_json::Value, input: &str) -> anyhow::Result<Self> {
        let header = super::header(report, input)?;
        if header.tool.as_deref() != Some(TOOL) {
            return Err(crate::exit::usage(format!(
                "invalid input `{input}`: it is not a health-wait report"
            )));
        }
        Self::deserialize(report).map_err(|err| {
            crate::exit::usage(format!(
                "invalid input `{input}`: not a health-wait report of version 1: {err}"
            ))
        })
    }
}

/// One comparison with the baseline, or why it could not be made.
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum BaselineCheck {
    Compared(Comparison),
    Inconclusive { inconclusive: String },
}

/// The probe settings the run used.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Settings {
    pub initial_delay_ms: u64,
    pub interval_ms: u64,
    pub request_timeout_ms: u64,
    pub timeout_ms: u64,
    pub success_threshold: u32,
    pub hold_ms: u64,
}
