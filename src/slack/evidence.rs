//! A `report` output of another tool rendered as blocks: which checks failed, from → to,
//! timings. A health-wait report is read as its type ([`crate::report::health_wait`]);
//! any other report (or one cut to fit its output budget) shows its top-level facts. Every
//! value is escaped.

use serde_json::Value;

use super::message::mrkdwn_section;
use super::text::escape;
use crate::metrics::AnalysisReport;
use crate::metrics::analysis::{CheckVerdict, Outcome};
use crate::report::health_wait;

/// URLs listed per health report before "and N more".
const MAX_URLS: usize = 10;

/// Blocks for a report (input `input`); empty when it holds nothing to show. A report of a
/// schema version this release does not read is a usage error ([`crate::report::header`]).
pub fn blocks(report: &Value, input: &str) -> anyhow::Result<Vec<Value>> {
    let header = crate::report::header(report, input)?;
    Ok(match header.tool.as_deref() {
        Some(health_wait::TOOL) => match health_wait::Report::read(report, input) {
            Ok(health) => self::health(&health),
            // Cut to its budget past recognition: its facts still show.
            Err(_) => generic(health_wait::TOOL, report),
        },
        Some(tool) => generic(tool, report),
        None => generic("another tool", report),
    })
}

fn health(report: &health_wait::Report) -> Vec<Value> {
    let mut text = format!(
        "*Health check:* {} after {} attempts in {:.1}s",
        if report.healthy {
            "healthy ✅"
        } else {
            "not healthy ❌"
        },
        report.attempts,
        report.elapsed_ms as f64 / 1000.0
    );
    if let Some(reason) = &report.reason {
        text.push_str(&format!("\n*Why:* {}", escape(reason)));
    }
    for url in report.urls.iter().take(MAX_URLS) {
        let mut line = format!(
            "\n• `{}` {}, {} attempts, last status {}, p95 {} ms",
            escape(&url.url).replace('`', "'"),
            escape(&url.verdict),
            url.attempts,
            url.last_status.map_or("none".to_owned(), |s| s.to_string()),
            url.latency.map_or("?".to_owned(), |l| l.p95_ms.to_string()),
        );
        if let Some(failed) = &url.failed_condition {
            line.push_str(&format!(": {}", escape(failed)));
        }
        text.push_str(&line);
    }
    if report.urls.len() > MAX_URLS {
        text.push_str(&format!(
            "\n… and {} more URLs",
            report.urls.len() - MAX_URLS
        ));
    }
    if let Some(metrics) = &report.metrics {
        text.push_str(&metric_lines(metrics));
    }
    vec![mrkdwn_section(&text)]
}

/// One line per metric check that did not pass: its name, last value, condition, counts.
fn metric_lines(metrics: &AnalysisReport) -> String {
    let mut out = String::new();
    for check in metrics.checks.iter().take(MAX_URLS) {
        if check.verdict == CheckVerdict::Passed {
            continue;
        }
        // The last value that broke the condition (not a passing one after it).
        let last = check
            .measurements
            .iter()
            .rev()
            .filter(|m| m.outcome == Outcome::Failed)
            .find_map(|m| m.value)
            .map_or_else(
                || "no value".to_owned(),
                crate::metrics::analysis::format_value,
            );
        let (verdict, count) = match check.verdict {
            CheckVerdict::Inconclusive => ("inconclusive", check.inconclusive),
            CheckVerdict::Failed => ("failed", check.failed),
            CheckVerdict::NotMeasured => ("not-measured", check.failed),
            CheckVerdict::Passed => ("passed", check.failed),
        };
        out.push_str(&format!(
            "\n• metric `{}` {}: {} {} for {} of {} measurements",
            escape(&check.name).replace('`', "'"),
            verdict,
            last,
            escape(&check.condition),
            count,
            check.measurements.len()
        ));
    }
    out
}

/// The report's top-level scalar facts, in key order.
fn generic(tool: &str, report: &Value) -> Vec<Value> {
    let Some(object) = report.as_object() else {
        return Vec::new();
    };
    let facts: Vec<String> = object
        .iter()
        .filter(|(key, _)| !matches!(key.as_str(), "tool" | "version"))
        .filter_map(|(key, value)| {
            let shown = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some(format!(
                "• *{}:* {}",
                escape(&key.replace('_', " ")),
                escape(&shown)
            ))
        })
        .take(20)
        .collect();
    if facts.is_empty() {
        return Vec::new();
    }
    vec![mrkdwn_section(&format!(
        "*Evidence from {}*\n{}",
        escape(tool),
        facts.join("\n")
    ))]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{CheckReport, Measurement};
    use crate::probe::report::UrlReport;
    use crate::probe::stats::Latency;
    use serde_json::json;

    /// A health-wait report as the type writes it, changed by `edit`.
    fn health(edit: impl FnOnce(&mut health_wait::Report)) -> Value {
        let settings = health_wait::Settings {
            initial_delay_ms: 0,
            interval_ms: 1000,
            request_timeout_ms: 1000,
            timeout_ms: 30_000,
            success_threshold: 1,
            hold_ms: 0,
        };
        let mut report = health_wait::Report::new("test", settings);
        edit(&mut report);
        serde_json::to_value(&report).unwrap()
    }

    fn text_of(report: &Value) -> String {
        blocks(report, "report").unwrap()[0]["text"]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn health_reports_show_the_failing_check() {
        let report = health(|r| {
            r.attempts = 12;
            r.elapsed_ms = 30500;
            r.reason = Some("http://a/health: not healthy within 30s".into());
            r.urls = vec![UrlReport {
                url: "http://a/health".into(),
                healthy: false,
                verdict: "timeout".into(),
                reason: None,
                attempts: 12,
                passes: 0,
                last_status: Some(503),
                failed_condition: Some("[STATUS] == 200 (got \"503\")".into()),
                healthy_after_ms: None,
                latency: Some(Latency {
                    p50_ms: 20,
                    p95_ms: 40,
                    max_ms: 41,
                }),
                hold: None,
                body_excerpt: None,
                body_truncated: false,
                redirect: None,
                samples: Vec::new(),
            }];
        });
        let text = text_of(&report);
        assert!(
            text.contains("not healthy ❌ after 12 attempts in 30.5s"),
            "{text}"
        );
        assert!(
            text.contains(
                "timeout, 12 attempts, last status 503, p95 40 ms: [STATUS] == 200 (got \"503\")"
            ),
            "{text}"
        );
    }

    #[test]
    fn health_reports_name_the_failed_metric_check_and_its_value() {
        let measured = |value: f64, outcome: Outcome| Measurement {
            at_ms: 0,
            value: Some(value),
            outcome,
        };
        let check = |name: &str, condition: &str, verdict, failed, measurements| CheckReport {
            name: name.into(),
            query: "q".into(),
            condition: condition.into(),
            threshold: 0.0,
            verdict,
            measurements,
            failed,
            inconclusive: 0,
        };
        let report = health(|r| {
            r.attempts = 9;
            r.elapsed_ms = 5000;
            r.metrics = Some(AnalysisReport {
                source: "prometheus".into(),
                verdict: crate::metrics::Verdict::Failed,
                reason: None,
                failure_limit: 0,
                inconclusive_limit: 0,
                interval_ms: 1000,
                checks: vec![
                    check(
                        "error-rate",
                        "< 0.01",
                        CheckVerdict::Failed,
                        3,
                        vec![
                            measured(0.0, Outcome::Passed),
                            measured(0.09, Outcome::Failed),
                            measured(0.07, Outcome::Failed),
                            measured(0.081, Outcome::Failed),
                            measured(0.0, Outcome::Passed),
                        ],
                    ),
                    check(
                        "p95",
                        "< 1",
                        CheckVerdict::Passed,
                        0,
                        vec![measured(0.2, Outcome::Passed)],
                    ),
                ],
            });
        });
        let text = text_of(&report);
        assert!(
            text.contains("metric `error-rate` failed: 0.081 &lt; 0.01 for 3 of 5 measurements"),
            "{text}"
        );
        assert!(!text.contains("p95"), "{text}");
    }

    #[test]
    fn a_report_of_another_schema_version_is_refused() {
        let mut report = health(|_| {});
        report["schema"] = json!("shipguard.health-wait/2");
        let err = blocks(&report, "report").unwrap_err();
        assert_eq!(crate::exit::classify(&err), crate::exit::Code::Usage);
        assert!(err.to_string().contains("version"), "{err}");
    }

    #[test]
    fn a_health_report_without_schema_is_read_as_version_1() {
        let mut report = health(|r| r.attempts = 7);
        report.as_object_mut().unwrap().remove("schema");
        assert!(text_of(&report).contains("after 7 attempts"));
    }

    #[test]
    fn other_reports_show_their_facts_escaped() {
        let report = json!({"tool": "auto-rollback", "rolled_back": true, "from": "abc", "to": "<def>", "nested": {"x": 1}});
        let text = text_of(&report);
        assert_eq!(
            text,
            "*Evidence from auto-rollback*\n• *from:* abc\n• *rolled back:* true\n• *to:* &lt;def&gt;"
        );
    }
}
