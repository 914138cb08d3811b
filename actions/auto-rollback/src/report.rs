//! The evidence of one run: what the analysis saw, what was decided and why, what the
//! rollback did, and whether it was verified — as the `report` JSON, the outputs and the
//! step summary (with a Mermaid timeline and what a rollback does not revert).

use shipguard::exit::Code;
use shipguard::gha::summary::{Span, timeline};
use shipguard::gha::{Annotation, Level, Summary};

pub use shipguard::report::auto_rollback::{NOT_REVERTED, Reason};

/// The run's report is the core's: its rendering (outputs, summary) is this file's.
pub use shipguard::report::auto_rollback::Report;

fn outputs(report: &Report) -> Vec<(&'static str, String)> {
    let flag = |b: Option<bool>| b.map_or_else(|| "unknown".to_owned(), |b| b.to_string());
    vec![
        ("healthy-before", flag(report.healthy_before)),
        ("rolled-back", report.rolled_back.to_string()),
        (
            "from",
            report
                .from_sha
                .clone()
                .or(report.from_tag.clone())
                .unwrap_or_default(),
        ),
        (
            "to",
            report
                .to_sha
                .clone()
                .or(report.to_tag.clone())
                .unwrap_or_default(),
        ),
        ("verified", flag(report.verified)),
        ("reason", report.reason.as_str().to_owned()),
    ]
}

fn summary(report: &Report) -> Summary {
    let mut s = Summary::new();
    let icon = match report.reason {
        Reason::Healthy | Reason::DryRun => "✅",
        Reason::RolledBack => "↩️",
        _ => "❌",
    };
    s.heading(3, &format!("{icon} auto-rollback: {}", report.message));
    let flag = |b: Option<bool>| {
        b.map_or_else(
            || "–".to_owned(),
            |b| if b { "yes" } else { "no" }.to_owned(),
        )
    };
    let mut rows = vec![
        vec!["Reason".to_owned(), report.reason.as_str().to_owned()],
        vec!["Healthy before".to_owned(), flag(report.healthy_before)],
        vec!["Environment".to_owned(), report.environment.clone()],
    ];
    if report.from_sha.is_some() || report.from_tag.is_some() {
        rows.push(vec!["Running (from)".to_owned(), report.from()]);
    }
    if report.to_sha.is_some() || report.to_tag.is_some() {
        rows.push(vec!["Target (to)".to_owned(), report.to()]);
    }
    if let Some(evidence) = &report.target_evidence {
        rows.push(vec!["Why that target".to_owned(), evidence.clone()]);
    }
    if report.not_candidates_total > 0 {
        rows.push(vec![
            "Not candidates".to_owned(),
            report.not_candidates_total.to_string(),
        ]);
    }
    rows.push(vec![
        "Rolled back".to_owned(),
        flag(Some(report.rolled_back)),
    ]);
    rows.push(vec!["Verified".to_owned(), flag(report.verified)]);
    s.table(&["", ""], &rows);
    let failing = report.failing_checks();
    if !failing.is_empty() {
        s.heading(4, "Failing checks");
        let rows: Vec<Vec<String>> = report
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
    if !report.not_candidates.is_empty() {
        s.heading(4, "Not candidates");
        let rows: Vec<Vec<String>> = report
            .not_candidates
            .iter()
            .map(|why| vec![why.clone()])
            .collect();
        s.table(&["Passed over, and why"], &rows);
    }
    let spans: Vec<Span> = report
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
    if report.rolled_back || report.dry_run && report.to_tag.is_some() {
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

/// The end of a run: the report, and whether a rollback fails the step.
pub struct Ending<'a> {
    pub report: &'a Report,
    pub fail_on_rollback: bool,
}

impl shipguard::ending::Ending for Ending<'_> {
    fn report(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::to_value(self.report)?)
    }

    fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(outputs(self.report))
    }

    fn summary(&self) -> Summary {
        summary(self.report)
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
