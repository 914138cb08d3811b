//! Baselines: the `report` of an earlier health-wait run (the same app before the deploy)
//! and relative limits against it. `max-p95-ratio` (p95 now at most N × the baseline's) and
//! `max-error-rate-increase` (error rate now at most the baseline's + N). They compare real
//! traffic when both runs have a metric check named `p95` (or `error-rate`): the median of
//! its measured values; otherwise the probes' own p95 latency and hold error rate.

use serde::{Deserialize, Serialize};

use super::analysis::format_value;

/// A baseline report is read up to this size.
pub const BASELINE_LIMIT: usize = 1 << 20;

/// What a baseline (or the run now) says, read from a health-wait report. Unknown fields are
/// ignored; every field is optional, so an unrelated JSON document yields nothing to compare.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Figures {
    #[serde(default)]
    latency: Option<LatencyFigures>,
    #[serde(default)]
    urls: Vec<UrlFigures>,
    #[serde(default)]
    metrics: Option<MetricFigures>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct LatencyFigures {
    p95_ms: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct UrlFigures {
    #[serde(default)]
    hold: Option<HoldFigures>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct HoldFigures {
    error_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct MetricFigures {
    #[serde(default)]
    checks: Vec<CheckFigures>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct CheckFigures {
    name: String,
    #[serde(default)]
    measurements: Vec<MeasurementFigures>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct MeasurementFigures {
    value: Option<f64>,
}

impl Figures {
    /// Parses a report; the error says what is wrong without echoing it.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > BASELINE_LIMIT {
            return Err(format!(
                "the baseline report is larger than {} KiB",
                BASELINE_LIMIT >> 10
            ));
        }
        serde_json::from_str(text).map_err(|e| {
            format!(
                "the baseline is not a health-wait report (JSON, line {} column {})",
                e.line(),
                e.column()
            )
        })
    }

    /// The median of a metric check's measured values.
    fn metric(&self, name: &str) -> Option<f64> {
        let check = self
            .metrics
            .as_ref()?
            .checks
            .iter()
            .find(|c| c.name == name)?;
        let mut values: Vec<f64> = check
            .measurements
            .iter()
            .filter_map(|m| m.value)
            .filter(|v| v.is_finite())
            .collect();
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        Some(values[values.len() / 2])
    }

    /// The probes' hold error rate: the worst URL's.
    fn probe_error_rate(&self) -> Option<f64> {
        self.urls
            .iter()
            .filter_map(|u| u.hold.as_ref()?.error_rate)
            .reduce(f64::max)
    }
}

/// The relative limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Relative {
    pub max_p95_ratio: Option<f64>,
    pub max_error_rate_increase: Option<f64>,
}

/// One comparison with the baseline.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Comparison {
    /// `p95` or `error-rate`.
    pub check: &'static str,
    /// `metric` (the check of that name) or `probes`.
    pub basis: &'static str,
    pub baseline: f64,
    pub now: f64,
    pub limit: f64,
    pub passed: bool,
    pub description: String,
}

/// Compares the run now with the baseline. A limit with nothing to compare is an
/// inconclusive comparison: `Err` says which.
pub fn compare(
    baseline: &Figures,
    now: &Figures,
    limits: Relative,
) -> Vec<Result<Comparison, String>> {
    let mut out = Vec::new();
    if let Some(ratio) = limits.max_p95_ratio {
        let pair = match (baseline.metric("p95"), now.metric("p95")) {
            (Some(b), Some(n)) => Some(("metric", b, n)),
            _ => match (
                baseline.latency.as_ref().and_then(|l| l.p95_ms),
                now.latency.as_ref().and_then(|l| l.p95_ms),
            ) {
                (Some(b), Some(n)) => Some(("probes", b, n)),
                _ => None,
            },
        };
        out.push(match pair {
            None => Err("max-p95-ratio: neither a `p95` check nor probe latencies in both the baseline and this run".to_owned()),
            Some((basis, b, n)) => {
                let limit = b * ratio;
                let passed = n <= limit;
                Ok(Comparison {
                    check: "p95",
                    basis,
                    baseline: b,
                    now: n,
                    limit,
                    passed,
                    description: format!(
                        "p95 ({basis}) {} is {}× the baseline's {} (at most {}×)",
                        format_value(n),
                        if b > 0.0 { format_value(n / b) } else { "∞".to_owned() },
                        format_value(b),
                        format_value(ratio)
                    ),
                })
            }
        });
    }
    if let Some(increase) = limits.max_error_rate_increase {
        let pair = match (baseline.metric("error-rate"), now.metric("error-rate")) {
            (Some(b), Some(n)) => Some(("metric", b, n)),
            _ => match (baseline.probe_error_rate(), now.probe_error_rate()) {
                (Some(b), Some(n)) => Some(("probes", b, n)),
                _ => None,
            },
        };
        out.push(match pair {
            None => Err("max-error-rate-increase: neither an `error-rate` check nor a probe hold in both the baseline and this run".to_owned()),
            Some((basis, b, n)) => {
                let limit = b + increase;
                let passed = n <= limit;
                Ok(Comparison {
                    check: "error-rate",
                    basis,
                    baseline: b,
                    now: n,
                    limit,
                    passed,
                    description: format!(
                        "error rate ({basis}) {} against the baseline's {} (at most +{})",
                        format_value(n),
                        format_value(b),
                        format_value(increase)
                    ),
                })
            }
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(p95_values: &[f64], probe_p95: f64) -> Figures {
        let measurements: Vec<String> = p95_values
            .iter()
            .map(|v| format!(r#"{{"value": {v}}}"#))
            .collect();
        Figures::parse(&format!(
            r#"{{"tool":"health-wait","latency":{{"p95_ms":{probe_p95}}},"urls":[{{"hold":{{"error_rate":0.0}}}}],
               "metrics":{{"checks":[{{"name":"p95","measurements":[{}]}}]}}}}"#,
            measurements.join(",")
        ))
        .unwrap()
    }

    #[test]
    fn p95_against_the_baseline_uses_the_metric_check_first() {
        let limits = Relative {
            max_p95_ratio: Some(2.0),
            max_error_rate_increase: None,
        };
        let baseline = report(&[0.1, 0.12, 0.09], 20.0);
        let regressed = report(&[0.46, 0.45, 0.47], 20.0);
        let result = compare(&baseline, &regressed, limits);
        let c = result[0].as_ref().unwrap();
        assert_eq!((c.basis, c.passed), ("metric", false));
        assert_eq!(
            c.description,
            "p95 (metric) 0.46 is 4.6× the baseline's 0.1 (at most 2×)"
        );
        let fine = report(&[0.15], 20.0);
        assert!(
            compare(&baseline, &fine, limits)[0]
                .as_ref()
                .unwrap()
                .passed
        );
        // Without the check on one side: the probes' p95.
        let probes_only = Figures::parse(r#"{"latency":{"p95_ms":50}}"#).unwrap();
        let c = compare(&baseline, &probes_only, limits);
        let c = c[0].as_ref().unwrap();
        assert_eq!((c.basis, c.passed), ("probes", false));
        // Nothing on either side: inconclusive, never a pass.
        let nothing = Figures::parse("{}").unwrap();
        assert!(compare(&nothing, &nothing, limits)[0].is_err());
        assert!(
            Figures::parse("[1,2")
                .unwrap_err()
                .contains("not a health-wait report")
        );
    }

    #[test]
    fn error_rate_may_rise_by_the_increase_only() {
        let limits = Relative {
            max_p95_ratio: None,
            max_error_rate_increase: Some(0.01),
        };
        let at = |rate: f64| {
            Figures::parse(&format!(
                r#"{{"urls":[{{"hold":{{"error_rate":{rate}}}}}]}}"#
            ))
            .unwrap()
        };
        assert!(
            compare(&at(0.02), &at(0.029), limits)[0]
                .as_ref()
                .unwrap()
                .passed
        );
        assert!(
            !compare(&at(0.02), &at(0.031), limits)[0]
                .as_ref()
                .unwrap()
                .passed
        );
    }
}
