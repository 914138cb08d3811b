//! Argo Rollouts' analysis semantics for metric checks. From argoproj/argo-rollouts
//! docs/features/analysis.md (sections "Failure Conditions" and "Inconclusive Runs"): a
//! metric's failed measurements are counted over the whole run, not only in a row, and the
//! run fails once they exceed `failureLimit` (default 0); inconclusive measurements past
//! `inconclusiveLimit` make the run inconclusive, which pauses for a person instead of
//! rolling back. Here a failure outranks inconclusive, and a decided check is measured no
//! further (the run's verdict cannot change back).

use std::time::{Duration, Instant};

use serde::Serialize;

use super::check::Check;

/// How many failed / inconclusive measurements of one check are tolerated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Limits {
    pub failure: u32,
    pub inconclusive: u32,
}

/// What one measurement said.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "why")]
pub enum Outcome {
    Passed,
    Failed,
    /// No usable value: no sample, several series, NaN, an error. Never a pass.
    Inconclusive(String),
}

/// One measurement of one check.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Measurement {
    /// Since the analysis started.
    pub at_ms: u64,
    pub value: Option<f64>,
    #[serde(flatten)]
    pub outcome: Outcome,
}

impl Measurement {
    /// Judges a value (or the reason there is none) against the check.
    pub fn judge(check: &Check, at: Duration, value: Result<f64, String>) -> Self {
        let (value, outcome) = match value {
            Ok(v) if v.is_nan() => (None, Outcome::Inconclusive("the value is NaN".to_owned())),
            Ok(v) if check.op.holds(v, check.threshold) => (Some(v), Outcome::Passed),
            Ok(v) => (Some(v), Outcome::Failed),
            Err(why) => (None, Outcome::Inconclusive(why)),
        };
        Self {
            at_ms: at.as_millis() as u64,
            value,
            outcome,
        }
    }
}

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum CheckVerdict {
    /// Within both limits (so far).
    Passed,
    Failed,
    Inconclusive,
    /// Not measured once (the analysis never started, or was stopped before).
    NotMeasured,
}

/// One check with every measurement.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct CheckReport {
    pub name: String,
    pub query: String,
    pub condition: String,
    pub threshold: f64,
    pub verdict: CheckVerdict,
    pub measurements: Vec<Measurement>,
    pub failed: u32,
    pub inconclusive: u32,
}

impl CheckReport {
    fn new(check: &Check) -> Self {
        Self {
            name: check.name.clone(),
            query: check.query.clone(),
            condition: check.condition(),
            threshold: check.threshold,
            verdict: CheckVerdict::NotMeasured,
            measurements: Vec::new(),
            failed: 0,
            inconclusive: 0,
        }
    }

    fn record(&mut self, measurement: Measurement, limits: Limits) {
        match measurement.outcome {
            Outcome::Passed => {}
            Outcome::Failed => self.failed += 1,
            Outcome::Inconclusive(_) => self.inconclusive += 1,
        }
        self.measurements.push(measurement);
        self.verdict = if self.failed > limits.failure {
            CheckVerdict::Failed
        } else if self.inconclusive > limits.inconclusive {
            CheckVerdict::Inconclusive
        } else {
            CheckVerdict::Passed
        };
    }

    /// Decided for good: measuring further cannot change the verdict.
    pub fn decided(&self) -> bool {
        matches!(
            self.verdict,
            CheckVerdict::Failed | CheckVerdict::Inconclusive
        )
    }

    /// "error-rate 0.081 < 0.01 failed 3 of 5 measurements", for reasons and Slack.
    pub fn describe(&self) -> String {
        let count = self.measurements.len();
        match self.verdict {
            CheckVerdict::Failed => {
                let last = self
                    .measurements
                    .iter()
                    .rev()
                    .find(|m| m.outcome == Outcome::Failed)
                    .and_then(|m| m.value)
                    .map_or_else(|| "?".to_owned(), format_value);
                format!(
                    "{} {last} breaks `{}` in {} of {count} measurements",
                    self.name, self.condition, self.failed
                )
            }
            CheckVerdict::Inconclusive => {
                let why = self
                    .measurements
                    .iter()
                    .rev()
                    .find_map(|m| match &m.outcome {
                        Outcome::Inconclusive(why) => Some(why.as_str()),
                        _ => None,
                    })
                    .unwrap_or("no value");
                format!(
                    "{} inconclusive in {} of {count} measurements: {why}",
                    self.name, self.inconclusive
                )
            }
            CheckVerdict::Passed => format!("{} passed {count} measurements", self.name),
            CheckVerdict::NotMeasured => format!("{} was not measured", self.name),
        }
    }
}

/// A value as people read it: up to 4 significant decimals.
pub fn format_value(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text.is_empty() || text == "-" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// The overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Passed,
    Failed,
    Inconclusive,
    /// A signal stopped it before its end: no verdict.
    Interrupted,
    /// Never started (the probes did not become healthy).
    NotRun,
}

/// The analysis's evidence: in the `report` output under `metrics`.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct AnalysisReport {
    pub source: String,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub failure_limit: u32,
    pub inconclusive_limit: u32,
    pub interval_ms: u64,
    pub checks: Vec<CheckReport>,
}

impl AnalysisReport {
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }
}

/// A running analysis: checks, limits, what was measured.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub checks: Vec<Check>,
    pub limits: Limits,
    reports: Vec<CheckReport>,
    started: Option<Instant>,
}

impl Analysis {
    pub fn new(checks: Vec<Check>, limits: Limits) -> Self {
        let reports = checks.iter().map(CheckReport::new).collect();
        Self {
            checks,
            limits,
            reports,
            started: None,
        }
    }

    /// Marks the start: measurement times count from here.
    pub fn start(&mut self) {
        self.started.get_or_insert_with(Instant::now);
    }

    pub fn elapsed(&self) -> Duration {
        self.started.map_or(Duration::ZERO, |s| s.elapsed())
    }

    /// Indices of the checks still worth measuring.
    pub fn open(&self) -> Vec<usize> {
        (0..self.checks.len())
            .filter(|&i| !self.reports[i].decided())
            .collect()
    }

    /// Whether every check is decided, or one failed (then the run has failed already).
    pub fn settled(&self) -> bool {
        self.reports
            .iter()
            .any(|r| r.verdict == CheckVerdict::Failed)
            || self.reports.iter().all(CheckReport::decided)
    }

    pub fn record(&mut self, index: usize, value: Result<f64, String>) {
        let at = self.elapsed();
        let measurement = Measurement::judge(&self.checks[index], at, value);
        self.reports[index].record(measurement, self.limits);
    }

    /// The verdict: a failure outranks inconclusive; a signal before the end leaves none
    /// unless a check already failed.
    pub fn finish(&self, source: String, interval: Duration, interrupted: bool) -> AnalysisReport {
        let failed = self
            .reports
            .iter()
            .find(|r| r.verdict == CheckVerdict::Failed);
        let inconclusive = self
            .reports
            .iter()
            .find(|r| r.verdict == CheckVerdict::Inconclusive);
        let unmeasured = self
            .reports
            .iter()
            .find(|r| r.verdict == CheckVerdict::NotMeasured);
        let (verdict, reason) = if let Some(r) = failed {
            (Verdict::Failed, Some(r.describe()))
        } else if let Some(r) = inconclusive {
            (Verdict::Inconclusive, Some(r.describe()))
        } else if interrupted {
            (
                Verdict::Interrupted,
                Some("interrupted before the analysis ended".to_owned()),
            )
        } else if self.started.is_none() {
            (
                Verdict::NotRun,
                Some("not run: the probes never became healthy".to_owned()),
            )
        } else if let Some(r) = unmeasured {
            // Started, but the hold ended before a first measurement: unknown is not a pass.
            (Verdict::Inconclusive, Some(r.describe()))
        } else {
            (Verdict::Passed, None)
        };
        AnalysisReport {
            source,
            verdict,
            reason,
            failure_limit: self.limits.failure,
            inconclusive_limit: self.limits.inconclusive,
            interval_ms: interval.as_millis() as u64,
            checks: self.reports.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(failure: u32, inconclusive: u32) -> Analysis {
        let check = Check::parse("error-rate: up < 0.01").unwrap();
        Analysis::new(
            vec![check],
            Limits {
                failure,
                inconclusive,
            },
        )
    }

    #[test]
    fn failures_count_over_the_whole_run_not_in_a_row() {
        // Flapping: fails one measurement in two; never two failures in a row.
        let mut a = analysis(1, 0);
        a.start();
        for value in [0.05, 0.0, 0.05, 0.0] {
            a.record(0, Ok(value));
        }
        let report = a.finish("test".into(), Duration::from_secs(1), false);
        assert_eq!(report.verdict, Verdict::Failed);
        assert_eq!(report.checks[0].failed, 2);
        assert!(
            report
                .reason
                .as_deref()
                .unwrap()
                .starts_with("error-rate 0.05 breaks `< 0.01` in 2 of"),
            "{:?}",
            report.reason
        );
    }

    #[test]
    fn within_the_failure_limit_passes() {
        let mut a = analysis(1, 0);
        a.start();
        for value in [0.05, 0.0, 0.0] {
            a.record(0, Ok(value));
        }
        let report = a.finish("test".into(), Duration::from_secs(1), false);
        assert_eq!(report.verdict, Verdict::Passed, "{report:?}");
        assert!(report.passed());
    }

    #[test]
    fn no_value_is_inconclusive_never_a_pass() {
        let mut a = analysis(0, 0);
        a.start();
        a.record(0, Err("the query returned no sample".into()));
        assert!(a.settled());
        let report = a.finish("test".into(), Duration::from_secs(1), false);
        assert_eq!(report.verdict, Verdict::Inconclusive);
        assert!(
            report.reason.as_deref().unwrap().contains("no sample"),
            "{:?}",
            report.reason
        );
        let mut a = analysis(0, 0);
        a.start();
        a.record(0, Ok(f64::NAN));
        let report = a.finish("test".into(), Duration::from_secs(1), false);
        assert_eq!(report.verdict, Verdict::Inconclusive);
        // Started but never measured: not a pass either.
        let mut a = analysis(0, 0);
        a.start();
        let report = a.finish("test".into(), Duration::from_secs(1), false);
        assert_eq!(report.verdict, Verdict::Inconclusive);
        let report = analysis(0, 0).finish("t".into(), Duration::from_secs(1), false);
        assert_eq!(report.verdict, Verdict::NotRun);
    }

    #[test]
    fn values_read_well() {
        assert_eq!(format_value(0.081), "0.081");
        assert_eq!(format_value(2.0), "2");
        assert_eq!(format_value(0.000_01), "0");
        assert_eq!(format_value(-1.25), "-1.25");
    }
}
