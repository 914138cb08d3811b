//! The probe loop, with Kubernetes probe semantics: an initial delay, a fixed interval, a
//! per-request timeout, an overall deadline and N consecutive passes before "healthy". URLs are
//! probed concurrently; a 401/403/404 that no condition expects ends the run at once.
//! An optional hold keeps probing after "healthy" and judges error rate and p95 latency.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Client;
use tokio::task::JoinSet;
use tokio::time::sleep_until;
use url::Url;

use super::attempt::{Attempt, Request, attempt};
use super::condition::{Condition, Observation};
use super::stats;
use crate::interrupt::unless_requested;

/// When to probe and what counts as healthy.
#[derive(Debug, Clone)]
pub struct Timing {
    pub initial_delay: Duration,
    pub interval: Duration,
    pub request_timeout: Duration,
    /// The overall deadline for becoming healthy, initial delay included.
    pub timeout: Duration,
    pub success_threshold: u32,
    /// Analysis mode: this many consecutive failing attempts settle "unhealthy" at once (and
    /// a 401/403/404 counts as one failure instead of failing fast).
    pub failure_threshold: Option<u32>,
    pub hold: Option<Hold>,
}

/// Keep probing after healthy, and fail on errors or slowness.
#[derive(Debug, Clone)]
pub struct Hold {
    pub duration: Duration,
    /// A fraction: 0.01 is 1%.
    pub max_error_rate: f64,
    pub max_p95: Option<Duration>,
}

/// How one URL ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Healthy,
    /// Not healthy by the deadline.
    Timeout,
    /// A response nothing can cure (401/403/404 that no condition expects).
    FailedFast(String),
    /// Healthy, then too many errors or too slow during the hold.
    HoldFailed(String),
    /// Stopped because another URL failed fast.
    Cancelled,
    /// `failure_threshold` consecutive attempts failed.
    Unhealthy(String),
    /// A signal (a cancelled run, a job timeout) stopped probing: no verdict was reached.
    Interrupted(String),
}

/// What the hold saw.
#[derive(Debug, Clone)]
pub struct HoldResult {
    pub attempts: u32,
    pub errors: u32,
    pub error_rate: f64,
    pub p95: Option<Duration>,
}

/// Everything about one URL.
#[derive(Debug, Clone)]
pub struct UrlResult {
    pub url: Url,
    pub verdict: Verdict,
    pub attempts: Vec<Attempt>,
    pub healthy_after: Option<Duration>,
    pub hold: Option<HoldResult>,
}

impl UrlResult {
    pub fn healthy(&self) -> bool {
        self.verdict == Verdict::Healthy
    }

    /// Latencies of the attempts that got a response.
    pub fn latencies(&self) -> Vec<Duration> {
        self.attempts
            .iter()
            .filter(|a| a.status().is_some())
            .map(|a| a.latency)
            .collect()
    }

    /// Why it is not healthy: the hold's verdict, else the last failed attempt that was not
    /// merely cut short by the deadline.
    pub fn last_failure(&self) -> Option<String> {
        if let Verdict::HoldFailed(why) = &self.verdict {
            return Some(why.clone());
        }
        let full = self
            .attempts
            .iter()
            .rev()
            .filter(|a| !a.cut_short)
            .find_map(Attempt::failure);
        full.or_else(|| self.attempts.iter().rev().find_map(Attempt::failure))
    }
}

/// Called after every attempt: the URL's index, the attempt, consecutive passes so far, and
/// whether it happened during the hold.
pub type Observer = Arc<dyn Fn(usize, &Attempt, u32, bool) + Send + Sync>;

/// A configured probe run.
#[derive(Clone)]
pub struct Probe {
    pub client: Client,
    pub request: Arc<Request>,
    pub timing: Timing,
}

impl Probe {
    /// Probes every URL concurrently until each has a verdict; results keep the URLs' order.
    pub async fn run(&self, urls: &[Url], observer: Observer) -> Vec<UrlResult> {
        let started = Instant::now();
        let deadline = started + self.timing.timeout;
        let mut tasks = JoinSet::new();
        for (index, url) in urls.iter().enumerate() {
            let (probe, url, observer) = (self.clone(), url.clone(), observer.clone());
            tasks.spawn(async move {
                (
                    index,
                    probe
                        .probe_url(index, url, started, deadline, observer)
                        .await,
                )
            });
        }
        let mut results: Vec<Option<UrlResult>> = vec![None; urls.len()];
        while let Some(joined) = tasks.join_next().await {
            let Ok((index, result)) = joined else {
                continue;
            };
            let fail_fast = matches!(result.verdict, Verdict::FailedFast(_));
            results[index] = Some(result);
            if fail_fast {
                tasks.abort_all();
            }
        }
        urls.iter()
            .zip(results)
            .map(|(url, result)| {
                result.unwrap_or_else(|| UrlResult {
                    url: url.clone(),
                    verdict: Verdict::Cancelled,
                    attempts: Vec::new(),
                    healthy_after: None,
                    hold: None,
                })
            })
            .collect()
    }

    async fn probe_url(
        &self,
        index: usize,
        url: Url,
        started: Instant,
        deadline: Instant,
        observer: Observer,
    ) -> UrlResult {
        let timing = &self.timing;
        let mut attempts = Vec::new();
        let mut consecutive = 0;
        let mut failing = 0;
        let delay = sleep_until((started + timing.initial_delay).min(deadline).into());
        let mut signal = unless_requested(delay).await.err();
        let verdict = loop {
            if let Some(received) = signal {
                break Verdict::Interrupted(received.describe());
            }
            let now = Instant::now();
            if now >= deadline {
                break Verdict::Timeout;
            }
            let timeout = timing.request_timeout.min(deadline - now);
            let clipped = timeout < timing.request_timeout;
            let tried = attempt(&self.client, &url, &self.request, timeout, clipped, started);
            let a = match unless_requested(tried).await {
                Ok(a) => a,
                Err(received) => break Verdict::Interrupted(received.describe()),
            };
            consecutive = if a.passed() { consecutive + 1 } else { 0 };
            failing = if a.passed() { 0 } else { failing + 1 };
            observer(index, &a, consecutive, false);
            let fatal = match timing.failure_threshold {
                Some(_) => None,
                None => fail_fast_reason(&a, &self.request.conditions),
            };
            let failure = a.failure();
            attempts.push(a);
            if consecutive >= timing.success_threshold {
                break Verdict::Healthy;
            }
            if let Some(limit) = timing.failure_threshold
                && failing >= limit
            {
                let last = failure.unwrap_or_else(|| "failed".to_owned());
                break Verdict::Unhealthy(format!("{failing} consecutive failures; last: {last}"));
            }
            if let Some(reason) = fatal {
                break Verdict::FailedFast(reason);
            }
            let next = now + timing.interval;
            if next >= deadline {
                // No attempt fits before the deadline: say so now rather than idle until it.
                break Verdict::Timeout;
            }
            signal = unless_requested(sleep_until(next.into())).await.err();
        };
        let healthy_after = (verdict == Verdict::Healthy).then(|| started.elapsed());
        let mut result = UrlResult {
            url,
            verdict,
            attempts,
            healthy_after,
            hold: None,
        };
        if let (Verdict::Healthy, Some(hold)) = (&result.verdict, &timing.hold) {
            self.hold(index, hold, started, &mut result, &observer)
                .await;
        }
        result
    }

    async fn hold(
        &self,
        index: usize,
        hold: &Hold,
        started: Instant,
        result: &mut UrlResult,
        observer: &Observer,
    ) {
        let end = Instant::now() + hold.duration;
        let mut held: Vec<Attempt> = Vec::new();
        // Attempts the hold's end cut short after less than an interval: they say nothing
        // about the server. One that had longer and still got no answer is an error.
        let mut excused: Vec<bool> = Vec::new();
        let mut next = Instant::now() + self.timing.interval;
        let mut signal = None;
        while next < end {
            if let Err(received) = unless_requested(sleep_until(next.into())).await {
                signal = Some(received);
                break;
            }
            let now = Instant::now();
            if now >= end {
                break;
            }
            // The hold ends on time: no attempt runs past it.
            let timeout = self.timing.request_timeout.min(end - now);
            let clipped = timeout < self.timing.request_timeout;
            let tried = attempt(
                &self.client,
                &result.url,
                &self.request,
                timeout,
                clipped,
                started,
            );
            let a = match unless_requested(tried).await {
                Ok(a) => a,
                Err(received) => {
                    signal = Some(received);
                    break;
                }
            };
            observer(index, &a, 0, true);
            excused.push(a.cut_short && timeout < self.timing.interval);
            held.push(a);
            next = now + self.timing.interval;
        }
        let judged: Vec<&Attempt> = held
            .iter()
            .zip(&excused)
            .filter(|(_, excused)| !**excused)
            .map(|(a, _)| a)
            .collect();
        let errors = judged.iter().filter(|a| !a.passed()).count() as u32;
        let count = judged.len() as u32;
        let error_rate = if count == 0 {
            0.0
        } else {
            f64::from(errors) / f64::from(count)
        };
        let latencies: Vec<Duration> = held
            .iter()
            .filter(|a| a.status().is_some())
            .map(|a| a.latency)
            .collect();
        let p95 = stats::percentile(&latencies, 95.0);
        let mut problems = Vec::new();
        if count == 0 && !held.is_empty() {
            // Probed, but not one answer could be judged: unknown, so not healthy.
            problems.push("no attempt could be judged".to_owned());
        }
        if error_rate > hold.max_error_rate {
            problems.push(format!(
                "error rate {:.1}% ({errors} of {count}) over {:.1}%",
                error_rate * 100.0,
                hold.max_error_rate * 100.0
            ));
        }
        if let (Some(max), Some(p95)) = (hold.max_p95, p95)
            && p95 > max
        {
            problems.push(format!(
                "p95 latency {}ms over {}ms",
                p95.as_millis(),
                max.as_millis()
            ));
        }
        if !problems.is_empty() {
            result.verdict =
                Verdict::HoldFailed(format!("during the hold: {}", problems.join("; ")));
        } else if let Some(received) = signal {
            // The hold did not run its course: healthy so far is not a verdict.
            result.verdict =
                Verdict::Interrupted(format!("{} during the hold", received.describe()));
        }
        result.attempts.extend(held);
        result.hold = Some(HoldResult {
            attempts: count,
            errors,
            error_rate,
            p95,
        });
    }
}

/// 401, 403 and 404 do not cure themselves: unless a condition expects the status, stop.
fn fail_fast_reason(attempt: &Attempt, conditions: &[Condition]) -> Option<String> {
    let status = attempt.status()?;
    if !matches!(status, 401 | 403 | 404) {
        return None;
    }
    let observation = Observation {
        status,
        ..Observation::default()
    };
    let expected = conditions
        .iter()
        .filter(|c| c.is_status())
        .any(|c| c.evaluate(&observation).passed);
    let meaning = match status {
        401 => "401 Unauthorized: the request lacks valid credentials; check the `headers` input",
        403 => "403 Forbidden: the server refuses this client; check credentials and allow-lists",
        _ => "404 Not Found: check the URL's path, or the app is not routed yet",
    };
    (!expected).then(|| meaning.to_owned())
}
