//! Judging the service: the probes and, when `metrics` is set, the metric checks measured
//! next to them (`failure-threshold` times at `interval`). The same measurement runs before
//! the rollback (the analysis: is it unhealthy?) and after it (the verification: is the
//! version rolled back to healthy?).

use std::sync::Arc;
use std::time::Instant;

use shipguard::metrics::AnalysisReport;
use shipguard::probe::{Attempt, Observer, Probe, UrlResult};
use shipguard::redact::safe_url;
use shipguard::tool::Context;

use crate::report::{Reason, Report};
use crate::rollback::{Run, interrupted};
use crate::settings::Settings;

/// The analysis phase: true when the service is unhealthy (the run goes on); otherwise the
/// report is ended (healthy, inconclusive, interrupted).
pub async fn analyse(run: &Run<'_>, report: &mut Report) -> bool {
    report.phase = "analysis";
    let t0 = run.at();
    let measured = measure(
        run.ctx,
        run.settings,
        &run.settings.analysis,
        "Analysis",
        run.deadline,
    )
    .await;
    report.set_analysis(&measured.probes);
    if let Some(metrics) = measured.metrics {
        report.set_metrics(metrics);
    }
    report.phases.push(("analysis".into(), t0, run.at()));
    if report.metrics_inconclusive() && shipguard::interrupt::received().is_none() {
        let why = report
            .metrics
            .as_ref()
            .and_then(|m| m.reason.clone())
            .unwrap_or_default();
        report.healthy_before = None;
        report.end(
            Reason::Inconclusive,
            format!("inconclusive: {why}; nothing was rolled back, a person must look"),
        );
        return false;
    }
    if report.healthy_before == Some(true) {
        report.end(Reason::Healthy, "healthy: nothing to do");
        return false;
    }
    if interrupted(report, "during the analysis; nothing was deployed") {
        // Probing was cut short: neither healthy nor unhealthy is known.
        report.healthy_before = None;
        return false;
    }
    run.ctx.actions.log(&format!(
        "unhealthy: {}",
        report.failing_checks().join("; ")
    ));
    true
}

/// What one measurement saw.
pub struct Measured {
    pub probes: Vec<UrlResult>,
    /// `None` without `metrics`.
    pub metrics: Option<AnalysisReport>,
}

/// Runs `probe` on every URL inside a group named `phase` and, with `metrics`, the metric
/// checks next to it, `failure-threshold` times at `interval` (the probes may settle
/// sooner); nothing runs past `deadline`.
pub async fn measure(
    ctx: &Context,
    settings: &Settings,
    probe: &Probe,
    phase: &str,
    deadline: Instant,
) -> Measured {
    let probed = run_probes(ctx, probe, settings, phase);
    match settings.metrics.clone() {
        None => Measured {
            probes: probed.await,
            metrics: None,
        },
        Some(run) => {
            let timing = &settings.analysis.timing;
            let measurements = timing.failure_threshold.unwrap_or(1);
            let end =
                Instant::now() + timing.interval.saturating_mul(measurements) + timing.interval / 2;
            let (probes, metrics) = tokio::join!(probed, run.measure_until(end.min(deadline)));
            Measured {
                probes,
                metrics: Some(metrics),
            }
        }
    }
}

/// Runs a probe phase inside a group, logging every attempt.
async fn run_probes(
    ctx: &Context,
    probe: &Probe,
    settings: &Settings,
    phase: &str,
) -> Vec<UrlResult> {
    let urls = &settings.urls;
    let _group = ctx
        .actions
        .group(&format!("{phase}: probing {} URL(s)", urls.len()));
    let actions = ctx.actions.clone();
    let labels: Vec<String> = urls.iter().map(safe_url).collect();
    let observer: Observer = Arc::new(
        move |index: usize, attempt: &Attempt, _passes: u32, _hold: bool| {
            let result = attempt.describe();
            actions.log(&format!(
                "{} +{:.1}s {result} in {}ms",
                labels[index],
                attempt.at.as_secs_f64(),
                attempt.latency.as_millis()
            ));
        },
    );
    probe.run(urls, observer).await
}
