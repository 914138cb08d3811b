//! Metric checks next to the probes: the analysis starts when every URL is healthy and
//! measures for the length of the hold, while the probes hold.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use url::Url;

use super::analysis::AnalysisReport;
use super::run::MetricRun;
use crate::probe::{Attempt, Observer, Probe, UrlResult};

/// Where the probes are, for the metric analysis: it starts when every URL is healthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Healthy,
    Done,
}

/// Probes, and once every URL is healthy measures the metric checks at every interval for
/// the length of the hold, next to the probes' own hold.
pub async fn alongside(
    probe: &Probe,
    targets: &[Url],
    run: MetricRun,
    logger: Observer,
) -> (Vec<UrlResult>, AnalysisReport) {
    let (phase_tx, mut phase_rx) = watch::channel(Phase::Waiting);
    let phase_tx = Arc::new(phase_tx);
    let healthy = Arc::new(AtomicUsize::new(0));
    let (urls, threshold) = (targets.len(), probe.timing.success_threshold);
    let hold = probe
        .timing
        .hold
        .as_ref()
        .map_or(Duration::ZERO, |h| h.duration);
    let observer: Observer = {
        let phase_tx = phase_tx.clone();
        Arc::new(move |index, attempt: &Attempt, passes, in_hold| {
            logger(index, attempt, passes, in_hold);
            // A URL reaches its threshold once: then its probe loop ends.
            if !in_hold && passes >= threshold && healthy.fetch_add(1, Ordering::SeqCst) + 1 == urls
            {
                phase_tx.send_replace(Phase::Healthy);
            }
        })
    };
    let probes = async {
        let results = probe.run(targets, observer).await;
        phase_tx.send_if_modified(|p| {
            let waiting = *p == Phase::Waiting;
            if waiting {
                *p = Phase::Done;
            }
            waiting
        });
        results
    };
    let measured = async move {
        let phase = phase_rx
            .wait_for(|p| *p != Phase::Waiting)
            .await
            .map_or(Phase::Done, |p| *p);
        if phase == Phase::Healthy {
            run.measure_until(Instant::now() + hold).await
        } else {
            run.not_run()
        }
    };
    tokio::join!(probes, measured)
}
