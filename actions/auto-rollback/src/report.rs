//! The evidence of one run: what the analysis saw, what was decided and why, what the
//! rollback did, and whether it was verified — as the `report` JSON, the outputs and the
//! step summary (with a Mermaid timeline and what a rollback does not revert).

use serde::Serialize;
use shipguard::coolify::Rollout;
use shipguard::gha::Summary;
use shipguard::gha::summary::{Span, timeline};
use shipguard::probe::UrlResult;
use shipguard::probe::report::UrlReport;

/// Why the run ended as it did; the `reason` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    Healthy,
    RolledBack,
    DryRun,
    NoTarget,
    Cooldown,
    DeploymentInProgress,
    DeployFailed,
    VerificationFailed,
    /// What runs now does not map to a commit: nothing is guessed.
    UnknownRunningVersion,
    /// The overall `timeout` passed.
    Timeout,
    /// GitHub or Coolify failed after the service was judged unhealthy.
    Error,
    /// A signal (a cancelled run, a job timeout) stopped the run; what it had started was
    /// cancelled and its record marked `error`.
    Interrupted,
    /// The metric checks gave no usable answer past `inconclusive-limit`: nothing is rolled
    /// back, a person must look (Argo Rollouts pauses on an inconclusive analysis).
    Inconclusive,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::RolledBack => "rolled-back",
            Self::DryRun => "dry-run",
            Self::NoTarget => "no-target",
            Self::Cooldown => "cooldown",
            Self::DeploymentInProgress => "deployment-in-progress",
            Self::DeployFailed => "deploy-failed",
            Self::VerificationFailed => "verification-failed",
            Self::UnknownRunningVersion => "unknown-running-version",
            Self::Timeout => "timeout",
            Self::Error => "error",
            Self::Interrupted => "interrupted",
            Self::Inconclusive => "inconclusive",
        }
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

#[derive(Debug, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub version: &'static str,
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
    pub commit_pins: Vec<shipguard::coolify::git::Pin>,
    /// Why the target qualified.
    pub target_evidence: Option<String>,
    /// History entries that were not candidates, with why (the first 20).
    pub not_candidates: Vec<String>,
    pub not_candidates_total: usize,
    /// The phase running now (or when the run ended).
    pub phase: &'static str,
    pub analysis: Vec<UrlReport>,
    /// The metric checks measured with the analysis, when `metrics` are given.
    pub metrics: Option<shipguard::metrics::AnalysisReport>,
    pub verification: Vec<UrlReport>,
    pub deploy: Option<Rollout>,
    /// platform fly: the redeploy, machine by machine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fly_deploy: Option<shipguard::fly::Rollout>,
    /// platform railway: the deploys or rollbacks, as Railway reported them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub railway: Option<serde_json::Value>,
    pub github_deployment_id: Option<u64>,
    /// (phase, start s, end s) from the start of the run.
    pub phases: Vec<(String, f64, f64)>,
    pub not_reverted: &'static [&'static str],
}

impl Report {
    pub fn new(version: &'static str, environment: &str, dry_run: bool) -> Self {
        Self {
            tool: "auto-rollback",
            version,
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
    pub fn set_metrics(&mut self, metrics: shipguard::metrics::AnalysisReport) {
        if !metrics.passed() && self.healthy_before == Some(true) {
            self.healthy_before = Some(false);
        }
        self.metrics = Some(metrics);
    }

    /// The metric analysis was inconclusive (and decided nothing else).
    pub fn metrics_inconclusive(&self) -> bool {
        self.metrics
            .as_ref()
            .is_some_and(|m| m.verdict == shipguard::metrics::Verdict::Inconclusive)
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

    pub fn outputs(&self, json: &str) -> Vec<(&'static str, String)> {
        let flag = |b: Option<bool>| b.map_or_else(|| "unknown".to_owned(), |b| b.to_string());
        vec![
            ("healthy-before", flag(self.healthy_before)),
            ("rolled-back", self.rolled_back.to_string()),
            (
                "from",
                self.from_sha
                    .clone()
                    .or(self.from_tag.clone())
                    .unwrap_or_default(),
            ),
            (
                "to",
                self.to_sha
                    .clone()
                    .or(self.to_tag.clone())
                    .unwrap_or_default(),
            ),
            ("verified", flag(self.verified)),
            ("reason", self.reason.as_str().to_owned()),
            ("report", json.to_owned()),
        ]
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

    pub fn summary(&self) -> Summary {
        let mut s = Summary::new();
        let icon = match self.reason {
            Reason::Healthy | Reason::DryRun => "✅",
            Reason::RolledBack => "↩️",
            _ => "❌",
        };
        s.heading(3, &format!("{icon} auto-rollback: {}", self.message));
        let flag = |b: Option<bool>| {
            b.map_or_else(
                || "–".to_owned(),
                |b| if b { "yes" } else { "no" }.to_owned(),
            )
        };
        let mut rows = vec![
            vec!["Reason".to_owned(), self.reason.as_str().to_owned()],
            vec!["Healthy before".to_owned(), flag(self.healthy_before)],
            vec!["Environment".to_owned(), self.environment.clone()],
        ];
        if self.from_sha.is_some() || self.from_tag.is_some() {
            rows.push(vec!["Running (from)".to_owned(), self.from()]);
        }
        if self.to_sha.is_some() || self.to_tag.is_some() {
            rows.push(vec!["Target (to)".to_owned(), self.to()]);
        }
        if let Some(evidence) = &self.target_evidence {
            rows.push(vec!["Why that target".to_owned(), evidence.clone()]);
        }
        if self.not_candidates_total > 0 {
            rows.push(vec![
                "Not candidates".to_owned(),
                self.not_candidates_total.to_string(),
            ]);
        }
        rows.push(vec!["Rolled back".to_owned(), flag(Some(self.rolled_back))]);
        rows.push(vec!["Verified".to_owned(), flag(self.verified)]);
        s.table(&["", ""], &rows);
        let failing = self.failing_checks();
        if !failing.is_empty() {
            s.heading(4, "Failing checks");
            let rows: Vec<Vec<String>> = self
                .analysis
                .iter()
                .filter(|u| !u.healthy)
                .map(|u| {
                    vec![
                        u.url.clone(),
                        u.verdict.to_owned(),
                        u.last_status.map(|s| s.to_string()).unwrap_or_default(),
                        u.failed_condition
                            .clone()
                            .or(u.reason.clone())
                            .unwrap_or_default(),
                    ]
                })
                .collect();
            s.table(&["URL", "Verdict", "Last status", "Why"], &rows);
        }
        if !self.not_candidates.is_empty() {
            s.heading(4, "Not candidates");
            let rows: Vec<Vec<String>> = self
                .not_candidates
                .iter()
                .map(|why| vec![why.clone()])
                .collect();
            s.table(&["Passed over, and why"], &rows);
        }
        let spans: Vec<Span> = self
            .phases
            .iter()
            .map(|(phase, start, end)| Span {
                section: "auto-rollback".to_owned(),
                label: phase.clone(),
                start: *start,
                end: *end,
            })
            .collect();
        if !spans.is_empty() {
            s.mermaid(&timeline("Rollback timeline", &spans));
        }
        if self.rolled_back || self.dry_run && self.to_tag.is_some() {
            s.paragraph("**A rollback does not revert:**");
            s.paragraph(
                &NOT_REVERTED
                    .iter()
                    .map(|item| format!("- {item}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
        }
        s
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
