//! The metric analysis in a step summary: one row per check, and a chart of each check's
//! values over the analysis with its threshold as a second line.

use super::analysis::{AnalysisReport, CheckReport, CheckVerdict, format_value};
use crate::gha::summary::{Summary, inline, mermaid_label};

/// Appends the analysis: a table, then a chart per check with two or more values.
pub fn render(report: &AnalysisReport, s: &mut Summary) {
    let mut line = format!(
        "Metric analysis ({}): **{}**; failure limit {}, inconclusive limit {}.",
        inline(&report.source),
        serde_json::to_value(report.verdict)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        report.failure_limit,
        report.inconclusive_limit
    );
    if let Some(reason) = &report.reason {
        line.push_str(&format!("\n\n**Why:** {}", inline(reason)));
    }
    s.paragraph(&line);
    let rows: Vec<Vec<String>> = report
        .checks
        .iter()
        .map(|c| {
            vec![
                inline(&c.name),
                inline(&c.condition),
                verdict_word(c.verdict).to_owned(),
                c.measurements.len().to_string(),
                c.failed.to_string(),
                c.inconclusive.to_string(),
                c.measurements
                    .iter()
                    .rev()
                    .find_map(|m| m.value)
                    .map(format_value)
                    .unwrap_or_default(),
            ]
        })
        .collect();
    s.table(
        &[
            "Check",
            "Pass when",
            "Verdict",
            "Measurements",
            "Failed",
            "Inconclusive",
            "Last value",
        ],
        &rows,
    );
    for check in report.checks.iter().take(10) {
        if let Some(chart) = chart(check) {
            s.mermaid(&chart);
        }
    }
}

fn verdict_word(verdict: CheckVerdict) -> &'static str {
    match verdict {
        CheckVerdict::Passed => "passed",
        CheckVerdict::Failed => "failed",
        CheckVerdict::Inconclusive => "inconclusive",
        CheckVerdict::NotMeasured => "not measured",
    }
}

/// The measured values (inconclusive ones left out) and the threshold, as a Mermaid chart.
pub fn chart(check: &CheckReport) -> Option<String> {
    let values: Vec<f64> = check
        .measurements
        .iter()
        .filter_map(|m| m.value)
        .filter(|v| v.is_finite())
        .take(200)
        .collect();
    if values.len() < 2 {
        return None;
    }
    let top = values
        .iter()
        .copied()
        .fold(check.threshold, f64::max)
        .max(f64::MIN_POSITIVE);
    let bottom = values
        .iter()
        .copied()
        .fold(check.threshold, f64::min)
        .min(0.0);
    let points = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.6}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let threshold = vec![check.threshold; values.len()];
    Some(format!(
        "xychart-beta\n    title \"{}\"\n    x-axis \"measurement\" 1 --> {}\n    y-axis \"value\" {:.6} --> {:.6}\n    line [{}]\n    line [{}]",
        mermaid_label(&format!("{} (threshold {})", check.name, check.condition)),
        values.len(),
        bottom,
        top * 1.1,
        points(&values),
        points(&threshold)
    ))
}
