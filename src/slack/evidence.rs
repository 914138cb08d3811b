//! A `report` output of another tool rendered as blocks: which checks failed, from → to,
//! timings. Every value is escaped; unknown reports still show their top-level facts.

use serde_json::Value;

use super::message::mrkdwn_section;
use super::text::escape;

/// URLs listed per health report before "and N more".
const MAX_URLS: usize = 10;

/// Blocks for a report; empty when it holds nothing to show.
pub fn blocks(report: &Value) -> Vec<Value> {
    match report["tool"].as_str() {
        Some("health-wait") => health(report),
        Some(tool) => generic(tool, report),
        None => generic("another tool", report),
    }
}

fn health(report: &Value) -> Vec<Value> {
    let healthy = report["healthy"].as_bool().unwrap_or(false);
    let mut text = format!(
        "*Health check:* {} after {} attempts in {:.1}s",
        if healthy {
            "healthy ✅"
        } else {
            "not healthy ❌"
        },
        number(&report["attempts"]),
        report["elapsed_ms"].as_f64().unwrap_or(0.0) / 1000.0
    );
    if let Some(reason) = report["reason"].as_str() {
        text.push_str(&format!("\n*Why:* {}", escape(reason)));
    }
    let urls = report["urls"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    for url in urls.iter().take(MAX_URLS) {
        let mut line = format!(
            "\n• `{}` {}, {} attempts, last status {}, p95 {} ms",
            escape(url["url"].as_str().unwrap_or("?")).replace('`', "'"),
            escape(url["verdict"].as_str().unwrap_or("?")),
            number(&url["attempts"]),
            url["last_status"]
                .as_u64()
                .map_or("none".to_owned(), |s| s.to_string()),
            number(&url["latency"]["p95_ms"]),
        );
        if let Some(failed) = url["failed_condition"].as_str() {
            line.push_str(&format!(": {}", escape(failed)));
        }
        text.push_str(&line);
    }
    if urls.len() > MAX_URLS {
        text.push_str(&format!("\n… and {} more URLs", urls.len() - MAX_URLS));
    }
    text.push_str(&metric_lines(&report["metrics"]));
    vec![mrkdwn_section(&text)]
}

/// One line per metric check that did not pass: its name, last value, condition, counts.
fn metric_lines(metrics: &Value) -> String {
    let checks = metrics["checks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = String::new();
    for check in checks.iter().take(MAX_URLS) {
        let verdict = check["verdict"].as_str().unwrap_or("?");
        if verdict == "passed" {
            continue;
        }
        let measurements = check["measurements"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        // The last value that broke the condition (not a passing one after it).
        let last = measurements
            .iter()
            .rev()
            .filter(|m| m["outcome"] == "failed")
            .find_map(|m| m["value"].as_f64())
            .map_or_else(
                || "no value".to_owned(),
                crate::metrics::analysis::format_value,
            );
        let count = if verdict == "inconclusive" {
            &check["inconclusive"]
        } else {
            &check["failed"]
        };
        out.push_str(&format!(
            "\n• metric `{}` {}: {} {} for {} of {} measurements",
            escape(check["name"].as_str().unwrap_or("?")).replace('`', "'"),
            escape(verdict),
            last,
            escape(check["condition"].as_str().unwrap_or("")),
            number(count),
            measurements.len()
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

fn number(value: &Value) -> String {
    value.as_u64().map_or("?".to_owned(), |n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn health_reports_show_the_failing_check() {
        let report = json!({
            "tool": "health-wait", "healthy": false, "attempts": 12, "elapsed_ms": 30500,
            "reason": "http://a/health: not healthy within 30s",
            "urls": [{"url": "http://a/health", "verdict": "timeout", "attempts": 12, "last_status": 503,
                      "latency": {"p95_ms": 40}, "failed_condition": "[STATUS] == 200 (got \"503\")"}]
        });
        let text = blocks(&report)[0]["text"]["text"]
            .as_str()
            .unwrap()
            .to_owned();
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
        let report = json!({
            "tool": "health-wait", "healthy": false, "attempts": 9, "elapsed_ms": 5000,
            "urls": [],
            "metrics": {"checks": [
                {"name": "error-rate", "condition": "< 0.01", "verdict": "failed", "failed": 3,
                 "inconclusive": 0, "measurements": [
                    {"value": 0.0, "outcome": "passed"}, {"value": 0.09, "outcome": "failed"},
                    {"value": 0.07, "outcome": "failed"}, {"value": 0.081, "outcome": "failed"},
                    {"value": 0.0, "outcome": "passed"}]},
                {"name": "p95", "condition": "< 1", "verdict": "passed", "failed": 0,
                 "inconclusive": 0, "measurements": [{"value": 0.2}]}
            ]}
        });
        let text = blocks(&report)[0]["text"]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            text.contains("metric `error-rate` failed: 0.081 &lt; 0.01 for 3 of 5 measurements"),
            "{text}"
        );
        assert!(!text.contains("p95"), "{text}");
    }

    #[test]
    fn other_reports_show_their_facts_escaped() {
        let report = json!({"tool": "auto-rollback", "rolled_back": true, "from": "abc", "to": "<def>", "nested": {"x": 1}});
        let text = blocks(&report)[0]["text"]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            text,
            "*Evidence from auto-rollback*\n• *from:* abc\n• *rolled back:* true\n• *to:* &lt;def&gt;"
        );
    }
}
