//! auto-rollback's `report`: what the analysis saw, what was decided and why, what the
//! rollback did, and whether it was verified.

use serde::Serialize;

use crate::coolify::Rollout;
use crate::probe::UrlResult;
use crate::probe::report::UrlReport;

pub const TOOL: &str = "auto-rollback";

crate::codes::codes! {
    /// Why the run ended as it did; the `reason` output.
    #[cfg_attr(test, derive(schemars::JsonSchema))]
    pub enum Reason {
        Healthy => "healthy",
        RolledBack => "rolled-back",
        DryRun => "dry-run",
        NoTarget => "no-target",
        Cooldown => "cooldown",
        DeploymentInProgress => "deployment-in-progress",
        DeployFailed => "deploy-failed",
        VerificationFailed => "verification-failed",
        /// What runs now does not map to a commit: nothing is guessed.
        UnknownRunningVersion => "unknown-running-version",
        /// The overall `timeout` passed.
        Timeout => "timeout",
        /// GitHub or Coolify failed after the service was judged unhealthy.
        Error => "error",
        /// A signal (a cancelled run, a job timeout) stopped the run; what it had started was
        /// cancelled and its record marked `error`.
        Interrupted => "interrupted",
        /// The metric checks gave no usable answer past `inconclusive-limit`: nothing is rolled
        /// back, a person must look (Argo Rollouts pauses on an inconclusive analysis).
        Inconclusive => "inconclusive",
    }
}

impl Reason {
    /// The run ends with an error annotation: the service is still unhealthy, or the run
    /// was interrupted.
    pub fn annotated(self) -> bool {
        self.still_unhealthy() || self == Self::Interrupted
    }

    /// The annotation title: `rollback-<reason>`.
    pub fn title(self) -> String {
        format!("rollback-{}", self.as_str())
    }

    /// The service is still unhealthy after this run.
    pub fn still_unhealthy(self) -> bool {
        matches!(
            self,
            Self::NoTarget
                | Self::Cooldown
                | Self::DeploymentInProgress
                | Self::DeployFailed
                | Self::VerificationFailed
                | Self::UnknownRunningVersion
                | Self::Timeout
                | Self::Error
                // Not known to be healthy: alert, exit 1, deploy nothing.
                | Self::Inconclusive
        )
    }
}

/// What a rollback leaves as it is (Fly documents it; no tool reports it).
pub const NOT_REVERTED: &[&str] = &[
    "environment variables and secrets (Coolify keeps the current ones)",
    "database migrations the newer version ran",
    "Coolify settings other than the image tag (domains, health checks, resources)",
    "data written by the newer version",
];

/// platform railway: what Railway did, service by service (a list either way).
#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum Railway {
    /// Railway's own rollback (`deploymentRollback`, or a redeploy outside the retention
    /// window): what ran, what it went back to, and the deploy's run.
    Rollbacks(Vec<crate::railway::rollback::Rolled>),
    /// A redeploy of the target's image or commit (targets from `workflow-runs` or
    /// `deployments`).
    Deploys(Vec<crate::railway::deploy::Run>),
}

#[derive(Debug, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Report {
    /// `shipguard.auto-rollback/1`.
    pub schema: String,
    pub tool: &'static str,
    /// The shipguard version that wrote it.
    pub version: String,
    pub kind: &'static str,
    pub reason: Reason,
    /// One line for people.
    pub message: String,
    /// `None` when the analysis was skipped (a manual `to`).
    pub healthy_before: Option<bool>,
    pub rolled_back: bool,
    pub verified: Option<bool>,
    pub dry_run: bool,
    pub environment: String,
    pub from_sha: Option<String>,
    pub from_tag: Option<String>,
    pub to_sha: Option<String>,
    pub to_tag: Option<String>,
    /// Git-based apps on Coolify 4.2.x: each `git_commit_sha` pin set and put back.
    pub commit_pins: Vec<crate::coolify::git::Pin>,
    /// Why the target qualified.
    pub target_evidence: Option<String>,
    /// History entries that were not candidates, with why (the first 20).
    pub not_candidates: Vec<String>,
    pub not_candidates_total: usize,
    /// The phase running now (or when the run ended).
    pub phase: &'static str,
    pub analysis: Vec<UrlReport>,
    /// The metric checks measured with the analysis, when `metrics` are given.
    pub metrics: Option<crate::metrics::AnalysisReport>,
    pub verification: Vec<UrlReport>,
    /// The metric checks measured with the verification after a rollback, when `metrics`
    /// are given.
    pub verification_metrics: Option<crate::metrics::AnalysisReport>,
    pub deploy: Option<Rollout>,
    /// platform fly: the redeploy, machine by machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fly_deploy: Option<crate::fly::Rollout>,
    /// platform railway: the deploys or rollbacks, as Railway reported them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub railway: Option<Railway>,
    pub github_deployment_id: Option<u64>,
    /// (phase, start s, end s) from the start of the run.
    pub phases: Vec<(String, f64, f64)>,
    pub not_reverted: &'static [&'static str],
}

impl Report {
    pub fn new(version: &str, environment: &str, dry_run: bool) -> Self {
        Self {
            schema: super::schema_id(TOOL),
            tool: TOOL,
            version: version.to_owned(),
            kind: "rollback",
            reason: Reason::Healthy,
            message: String::new(),
            healthy_before: None,
            rolled_back: false,
            verified: None,
            dry_run,
            environment: environment.to_owned(),
            from_sha: None,
            from_tag: None,
            to_sha: None,
            to_tag: None,
            commit_pins: Vec::new(),
            target_evidence: None,
            not_candidates: Vec::new(),
            not_candidates_total: 0,
            phase: "start",
            analysis: Vec::new(),
            metrics: None,
            verification: Vec::new(),
            verification_metrics: None,
            deploy: None,
            fly_deploy: None,
            railway: None,
            github_deployment_id: None,
            phases: Vec::new(),
            not_reverted: NOT_REVERTED,
        }
    }

    pub fn set_analysis(&mut self, results: &[UrlResult]) {
        self.analysis = results.iter().map(UrlReport::of).collect();
        self.healthy_before = Some(results.iter().all(UrlResult::healthy));
    }

    /// The metric verdict joins the probes': a failed check makes the service unhealthy.
    pub fn set_metrics(&mut self, metrics: crate::metrics::AnalysisReport) {
        if !metrics.passed() && self.healthy_before == Some(true) {
            self.healthy_before = Some(false);
        }
        self.metrics = Some(metrics);
    }

    /// The metric analysis was inconclusive (and decided nothing else).
    pub fn metrics_inconclusive(&self) -> bool {
        self.metrics
            .as_ref()
            .is_some_and(|m| m.verdict == crate::metrics::Verdict::Inconclusive)
    }

    pub fn set_verification(&mut self, results: &[UrlResult]) {
        self.verification = results.iter().map(UrlReport::of).collect();
        self.verified = Some(results.iter().all(UrlResult::healthy));
    }

    pub fn end(&mut self, reason: Reason, message: impl Into<String>) {
        self.reason = reason;
        self.message = message.into();
    }

    /// Short commit or tag for lines and outputs.
    pub fn from(&self) -> String {
        label(self.from_sha.as_deref(), self.from_tag.as_deref())
    }

    pub fn to(&self) -> String {
        label(self.to_sha.as_deref(), self.to_tag.as_deref())
    }

    /// Failing checks from the analysis, one line each.
    pub fn failing_checks(&self) -> Vec<String> {
        self.analysis
            .iter()
            .filter(|u| !u.healthy)
            .map(|u| {
                let why = u
                    .failed_condition
                    .clone()
                    .or_else(|| u.reason.clone())
                    .unwrap_or_default();
                format!("{}: {why}", u.url)
            })
            .chain(
                self.metrics
                    .iter()
                    .filter(|m| !m.passed())
                    .filter_map(|m| m.reason.clone().map(|why| format!("metrics: {why}"))),
            )
            .collect()
    }
}

fn label(sha: Option<&str>, tag: Option<&str>) -> String {
    match (sha, tag) {
        (Some(sha), Some(tag)) if tag.contains(sha) || tag.contains(&sha[..sha.len().min(7)]) => {
            tag.to_owned()
        }
        (Some(sha), Some(tag)) => format!("{} ({tag})", &sha[..sha.len().min(12)]),
        (Some(sha), None) => sha.chars().take(12).collect(),
        (None, Some(tag)) => tag.to_owned(),
        (None, None) => "unknown".to_owned(),
    }
}
