//! The probe evidence as JSON: the `report` output that slack-notify and auto-rollback read.

use serde::{Deserialize, Serialize};

use super::engine::{UrlResult, Verdict};
use super::stats::Latency;
use super::{Attempt, Outcome};
use crate::redact::safe_url;

/// Attempts kept per URL in the report; the summary chart uses the same window.
pub const MAX_SAMPLES: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct UrlReport {
    pub url: String,
    pub healthy: bool,
    /// `healthy`, `timeout`, `failed-fast`, `hold-failed`, `cancelled`.
    pub verdict: String,
    pub reason: Option<String>,
    pub attempts: usize,
    pub passes: usize,
    pub last_status: Option<u16>,
    pub failed_condition: Option<String>,
    pub healthy_after_ms: Option<u64>,
    pub latency: Option<Latency>,
    pub hold: Option<HoldReport>,
    pub body_excerpt: Option<String>,
    /// The last body went on past the read limit: conditions judged its start only.
    pub body_truncated: bool,
    /// The last answer was a redirect that was not followed: where it pointed.
    pub redirect: Option<String>,
    /// The latest attempts, oldest first.
    pub samples: Vec<Sample>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct HoldReport {
    pub attempts: u32,
    pub errors: u32,
    pub error_rate: f64,
    pub p95_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Sample {
    pub at_ms: u64,
    pub latency_ms: u64,
    pub status: Option<u16>,
    pub passed: bool,
    pub error: Option<String>,
}

impl Sample {
    fn of(a: &Attempt) -> Self {
        Self {
            at_ms: a.at.as_millis() as u64,
            latency_ms: a.latency.as_millis() as u64,
            status: a.status(),
            passed: a.passed(),
            error: a.failure(),
        }
    }
}

impl UrlReport {
    pub fn of(result: &UrlResult) -> Self {
        let (verdict, reason) = match &result.verdict {
            Verdict::Healthy => ("healthy", None),
            Verdict::Timeout => ("timeout", Some("not healthy by the deadline".to_owned())),
            Verdict::FailedFast(why) => ("failed-fast", Some(why.clone())),
            Verdict::HoldFailed(why) => ("hold-failed", Some(why.clone())),
            Verdict::Unhealthy(why) => ("unhealthy", Some(why.clone())),
            Verdict::Interrupted(why) => ("interrupted", Some(why.clone())),
            Verdict::Cancelled => (
                "cancelled",
                Some("stopped: another URL failed fast".to_owned()),
            ),
        };
        let last = result.attempts.last();
        let last_response = result.attempts.iter().rev().find_map(|a| match &a.outcome {
            Outcome::Response {
                excerpt,
                body_truncated,
                redirect,
                ..
            } => Some((excerpt.clone(), *body_truncated, redirect.clone())),
            Outcome::Error { .. } => None,
        });
        let (body_excerpt, body_truncated, redirect) = match last_response {
            Some((excerpt, truncated, redirect)) => (Some(excerpt), truncated, redirect),
            None => (None, false, None),
        };
        let skip = result.attempts.len().saturating_sub(MAX_SAMPLES);
        Self {
            url: safe_url(&result.url),
            healthy: result.healthy(),
            verdict: verdict.to_owned(),
            reason,
            attempts: result.attempts.len(),
            passes: result.attempts.iter().filter(|a| a.passed()).count(),
            last_status: last.and_then(Attempt::status),
            failed_condition: if result.healthy() {
                None
            } else {
                result.last_failure()
            },
            healthy_after_ms: result.healthy_after.map(|d| d.as_millis() as u64),
            latency: Latency::of(&result.latencies()),
            hold: result.hold.as_ref().map(|h| HoldReport {
                attempts: h.attempts,
                errors: h.errors,
                error_rate: h.error_rate,
                p95_ms: h.p95.map(|d| d.as_millis() as u64),
            }),
            body_excerpt,
            body_truncated,
            redirect,
            samples: result.attempts[skip..].iter().map(Sample::of).collect(),
        }
    }
}
