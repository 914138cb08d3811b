//! The evidence of one run: what the analysis saw, what was decided and why, what the
//! rollback did, and whether it was verified — as the `report` JSON, the outputs and the
//! step summary (with a Mermaid timeline and what a rollback does not revert).

use serde::Serialize;
use shipguard::exit::Code;
use shipguard::gha::summary::{Span, timeline};
use shipguard::gha::{Annotation, Level, Summary};
use shipguard::report::auto_rollback;

pub use shipguard::report::auto_rollback::{NOT_REVERTED, Reason};

/// The core report ([`shipguard::report::auto_rollback`]) with this tool's rendering.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Report(pub auto_rollback::Report);

impl std::ops::Deref for Report {
    type Target = auto_rollback::Report;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl std::ops::DerefMut for Report {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl Report {
    pub fn new(version: &str, environment: &str, dry_run: bool) -> Self {
        Self(auto_rollback::Report::new(version, environment, dry_run))
    }

    /// Ends the run with a reason and a line for people (a method of its own, so that the
    /// line may read the report: `report.end(.., report.from())`).
    pub fn end(&mut self, reason: Reason, message: impl Into<String>) {
        self.0.end(reason, message);
    }

    /// Short commit or tag for lines and outputs.
    pub fn from(&self) -> String {
        label(self.from_sha.as_deref(), self.from_tag.as_deref())
    }

    pub fn to(&self) -> String {
        label(self.to_sha.as_deref(), self.to_tag.as_deref())
    }

    pub fn outputs(&self) -> Vec<(&'static str, String)> {
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

/// The end of a run: the report, and whether a rollback fails the step.
pub struct Ending<'a> {
    pub report: &'a Report,
    pub fail_on_rollback: bool,
}

impl shipguard::ending::Ending for Ending<'_> {
    fn report(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.report.0)?)
    }

    fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(self.report.outputs())
    }

    fn summary(&self) -> Summary {
        self.report.summary()
    }

    fn verdict_line(&self) -> String {
        self.report.message.clone()
    }

    fn annotations(&self) -> Vec<Annotation> {
        let reason = self.report.reason;
        if !reason.annotated() {
            return Vec::new();
        }
        vec![Annotation::new(
            Level::Error,
            reason.title(),
            self.report.message.clone(),
        )]
    }

    fn code(&self) -> Code {
        let reason = self.report.reason;
        let failed = reason.annotated() || (reason == Reason::RolledBack && self.fail_on_rollback);
        if failed {
            Code::Negative
        } else {
            Code::Success
        }
    }
}
