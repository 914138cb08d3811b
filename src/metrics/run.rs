//! Measuring: every open check at every `interval` until an absolute end, each wait ending
//! early on a signal (src/interrupt.rs), each query bounded by the request timeout and by
//! the end.

use std::time::{Duration, Instant};

use tokio::time::sleep_until;

use super::analysis::{Analysis, AnalysisReport};
use super::prometheus::PrometheusSource;
use crate::interrupt::unless_requested;

/// A configured metric analysis: the source, the checks and their limits, the cadence.
#[derive(Clone)]
pub struct MetricRun {
    pub source: PrometheusSource,
    pub analysis: Analysis,
    pub interval: Duration,
    pub request_timeout: Duration,
}

impl MetricRun {
    /// Measures at `start + interval`, `start + 2·interval`, … while before `end`; stops
    /// early once the verdict cannot change or a signal comes.
    pub async fn measure_until(mut self, end: Instant) -> AnalysisReport {
        self.analysis.start();
        let mut next = Instant::now() + self.interval;
        let mut interrupted = false;
        'run: while next < end {
            if unless_requested(sleep_until(next.into())).await.is_err() {
                interrupted = true;
                break;
            }
            for index in self.analysis.open() {
                let now = Instant::now();
                if now >= end {
                    break 'run;
                }
                let timeout = self.request_timeout.min(end - now);
                let query = &self.analysis.checks[index].query;
                match unless_requested(self.source.query(query, timeout)).await {
                    Ok(value) => self.analysis.record(index, value),
                    Err(_) => {
                        interrupted = true;
                        break 'run;
                    }
                }
            }
            if self.analysis.settled() {
                break;
            }
            next += self.interval;
        }
        self.analysis
            .finish(self.source.describe(), self.interval, interrupted)
    }

    /// The report of an analysis that never started.
    pub fn not_run(&self) -> AnalysisReport {
        self.analysis
            .finish(self.source.describe(), self.interval, false)
    }
}
