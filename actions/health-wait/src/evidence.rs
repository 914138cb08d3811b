//! What health-wait leaves behind: outputs, the JSON report, the step summary, the verdict.

use std::time::Duration;

use shipguard::codes::Health;
use shipguard::duration::human;
use shipguard::gha::summary::{self, Summary};
use shipguard::metrics::baseline::{Figures, Relative, compare};
use shipguard::metrics::{AnalysisReport, Verdict as MetricVerdict};
use shipguard::probe::report::{MAX_SAMPLES, UrlReport};
use shipguard::probe::stats::Latency;
use shipguard::probe::{Attempt, Timing, UrlResult, Verdict};
use shipguard::redact::safe_url;
use shipguard::report::health_wait::{self, BaselineCheck};

/// The core report ([`shipguard::report::health_wait`]) with this tool's rendering (the report is field `0`).
#[derive(Debug)]
pub struct Report(pub health_wait::Report);

impl Report {
    pub fn new(
        version: &'static str,
        timing: &Timing,
        conditions: Vec<String>,
        results: &[UrlResult],
        metrics: Option<AnalysisReport>,
        elapsed: Duration,
    ) -> Self {
        let urls: Vec<UrlReport> = results.iter().map(UrlReport::of).collect();
        let probes_healthy = results.iter().all(UrlResult::healthy);
        let metrics_passed = metrics.as_ref().is_none_or(AnalysisReport::passed);
        let healthy = probes_healthy && metrics_passed;
        let metric_reason = metrics.as_ref().filter(|_| probes_healthy).and_then(|m| {
            let why = m.reason.clone()?;
            Some(match m.verdict {
                MetricVerdict::Inconclusive => format!("inconclusive: {why}; a person must look"),
                _ => format!("metrics: {why}"),
            })
        });
        let reason = metric_reason.or_else(|| {
            first_unhealthy(results).map(|r| {
                let url = safe_url(&r.url);
                let why = match &r.verdict {
                    Verdict::Timeout => format!(
                        "not healthy within {}: {}",
                        human(timing.timeout),
                        r.last_failure()
                            .unwrap_or_else(|| "no attempt passed".to_owned())
                    ),
                    Verdict::FailedFast(why)
                    | Verdict::HoldFailed(why)
                    | Verdict::Unhealthy(why)
                    | Verdict::Interrupted(why) => why.clone(),
                    Verdict::Cancelled => "stopped: another URL failed fast".to_owned(),
                    Verdict::Healthy => String::new(),
                };
                format!("{url}: {why}")
            })
        });
        let latencies: Vec<Duration> = results.iter().flat_map(UrlResult::latencies).collect();
        let ms = |d: Duration| d.as_millis() as u64;
        let settings = health_wait::Settings {
            initial_delay_ms: ms(timing.initial_delay),
            interval_ms: ms(timing.interval),
            request_timeout_ms: ms(timing.request_timeout),
            timeout_ms: ms(timing.timeout),
            success_threshold: timing.success_threshold,
            hold_ms: timing.hold.as_ref().map_or(0, |h| ms(h.duration)),
        };
        Self(health_wait::Report {
            healthy,
            reason,
            elapsed_ms: ms(elapsed),
            attempts: results.iter().map(|r| r.attempts.len()).sum(),
            latency: Latency::of(&latencies),
            conditions,
            urls,
            metrics,
            ..health_wait::Report::new(version, settings)
        })
    }

    /// Judges this run against an earlier one: a limit broken, or nothing to compare (never
    /// a pass), makes a healthy run unhealthy.
    pub fn judge_baseline(&mut self, baseline: &Figures, limits: Relative) {
        let now = serde_json::to_value(&self.0)
            .ok()
            .and_then(|v| serde_json::from_value::<Figures>(v).ok())
            .unwrap_or_default();
        let checks: Vec<BaselineCheck> = compare(baseline, &now, limits)
            .into_iter()
            .map(|c| match c {
                Ok(c) => BaselineCheck::Compared(c),
                Err(why) => BaselineCheck::Inconclusive { inconclusive: why },
            })
            .collect();
        let problem = checks.iter().find_map(|c| match c {
            BaselineCheck::Compared(c) if !c.passed => Some(format!("baseline: {}", c.description)),
            BaselineCheck::Inconclusive { inconclusive } => {
                Some(format!("inconclusive: baseline: {inconclusive}"))
            }
            BaselineCheck::Compared(_) => None,
        });
        if self.0.healthy
            && let Some(problem) = problem
        {
            self.0.healthy = false;
            self.0.reason = Some(problem);
        }
        self.0.baseline = Some(checks);
    }

    /// The annotation code for an unhealthy verdict.
    pub fn failure_code(&self, results: &[UrlResult]) -> &'static str {
        if self
            .0
            .reason
            .as_deref()
            .is_some_and(|r| r.starts_with("baseline: ") || r.starts_with("inconclusive: baseline"))
        {
            return Health::HealthBaselineFailed.as_str();
        }
        if results.iter().all(UrlResult::healthy)
            && let Some(m) = &self.0.metrics
        {
            return match m.verdict {
                MetricVerdict::Inconclusive => Health::HealthMetricsInconclusive.as_str(),
                MetricVerdict::Interrupted => Health::HealthInterrupted.as_str(),
                _ => Health::HealthMetricsFailed.as_str(),
            };
        }
        match first_unhealthy(results).map(|r| &r.verdict) {
            Some(Verdict::FailedFast(_)) => Health::HealthFailedFast.as_str(),
            Some(Verdict::HoldFailed(_)) => Health::HealthHoldFailed.as_str(),
            Some(Verdict::Interrupted(_)) => Health::HealthInterrupted.as_str(),
            _ => Health::HealthTimeout.as_str(),
        }
    }

    /// The step outputs, in the order the action declares them.
    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        let decisive = self
            .0
            .urls
            .iter()
            .find(|u| !u.healthy)
            .or(self.0.urls.last());
        let latency = self.0.latency.unwrap_or_default();
        let failed = decisive.and_then(|u| u.failed_condition.clone().or_else(|| u.reason.clone()));
        vec![
            ("healthy", self.0.healthy.to_string()),
            ("attempts", self.0.attempts.to_string()),
            (
                "elapsed-seconds",
                format!("{:.1}", self.0.elapsed_ms as f64 / 1000.0),
            ),
            ("latency-p50-ms", latency.p50_ms.to_string()),
            ("latency-p95-ms", latency.p95_ms.to_string()),
            (
                "last-status",
                decisive
                    .and_then(|u| u.last_status)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            ),
            (
                "failed-condition",
                if self.0.healthy {
                    String::new()
                } else {
                    failed.unwrap_or_default()
                },
            ),
        ]
    }

    /// The one line printed on stdout in human and github formats.
    pub fn verdict_line(&self) -> String {
        let urls = match self.0.urls.len() {
            1 => "1 URL".to_owned(),
            n => format!("{n} URLs"),
        };
        let elapsed = human(Duration::from_millis(self.0.elapsed_ms));
        match &self.0.reason {
            None => format!(
                "healthy: {urls} after {elapsed} ({} attempts)",
                self.0.attempts
            ),
            Some(reason) => format!("unhealthy: {}", reason.replace(['\r', '\n'], " ")),
        }
    }

    pub fn summary(&self, results: &[UrlResult]) -> Summary {
        let mut s = Summary::new();
        let title = if self.0.healthy {
            "health-wait: healthy ✅"
        } else {
            "health-wait: not healthy ❌"
        };
        s.heading(3, title);
        let mut line = format!(
            "{} attempts in {}; conditions: {}.",
            self.0.attempts,
            human(Duration::from_millis(self.0.elapsed_ms)),
            self.0
                .conditions
                .iter()
                .map(|c| format!("`{}`", c.replace('`', "'")))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(reason) = &self.0.reason {
            line.push_str(&format!("\n\n**Why:** {}", summary::inline(reason)));
        }
        s.paragraph(&line);
        let rows: Vec<Vec<String>> = self
            .0
            .urls
            .iter()
            .map(|u| {
                let lat = u.latency.unwrap_or_default();
                vec![
                    u.url.clone(),
                    u.verdict.to_owned(),
                    u.attempts.to_string(),
                    u.last_status.map(|s| s.to_string()).unwrap_or_default(),
                    format!("{} / {} / {}", lat.p50_ms, lat.p95_ms, lat.max_ms),
                    u.failed_condition.clone().unwrap_or_default(),
                    u.body_excerpt
                        .as_deref()
                        .map(|b| b.chars().take(120).collect())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        s.table(
            &[
                "URL",
                "Verdict",
                "Attempts",
                "Last status",
                "Latency p50 / p95 / max (ms)",
                "Failing condition",
                "Body excerpt",
            ],
            &rows,
        );
        if let Some(metrics) = &self.0.metrics {
            shipguard::metrics::summary::render(metrics, &mut s);
        }
        for result in results.iter().take(5) {
            let points: Vec<f64> = latest(&result.attempts)
                .map(|a| a.latency.as_secs_f64() * 1000.0)
                .collect();
            if points.len() >= 2 {
                s.mermaid(&summary::xychart(
                    &format!("Latency per attempt: {}", safe_url(&result.url)),
                    "attempt",
                    "ms",
                    &points,
                ));
            }
        }
        s
    }
}

fn latest(attempts: &[Attempt]) -> impl Iterator<Item = &Attempt> {
    attempts[attempts.len().saturating_sub(MAX_SAMPLES)..].iter()
}

fn first_unhealthy(results: &[UrlResult]) -> Option<&UrlResult> {
    // A URL that failed on its own explains more than one that was cancelled because of it.
    results
        .iter()
        .find(|r| !r.healthy() && r.verdict != Verdict::Cancelled)
        .or_else(|| results.iter().find(|r| !r.healthy()))
}

/// The end of a run: the report and the results its summary and failure code read.
pub struct Ending<'a> {
    pub report: &'a Report,
    pub results: &'a [UrlResult],
}

impl shipguard::ending::Ending for Ending<'_> {
    fn report(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.report.0)?)
    }

    fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(self.report.outputs())
    }

    fn summary(&self) -> Summary {
        self.report.summary(self.results)
    }

    fn verdict_line(&self) -> String {
        self.report.verdict_line()
    }

    fn failure(&self) -> Option<&'static str> {
        (!self.report.0.healthy).then(|| self.report.failure_code(self.results))
    }
}
