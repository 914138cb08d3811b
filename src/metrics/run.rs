//! Measuring: every open check at every `interval` until an absolute end, each wait ending
//! early on a signal (src/interrupt.rs), each query bounded by the request timeout and by
//! the end.

use std::time::{Duration, Instant};

use tokio::time::sleep_until;

use super::analysis::{Analysis, AnalysisReport};
use super::prometheus::PrometheusSource;
use super::scrape::ScrapeSource;

/// Where the values come from.
#[derive(Clone)]
pub enum Source {
    /// A Prometheus HTTP API, one instant query per check.
    Prometheus(PrometheusSource),
    /// The app's `/metrics`, scraped once per interval; the checks' queries, parsed and
    /// checked for support when the inputs were read, in the checks' order.
    Scrape(ScrapeSource, Vec<promql_parser::parser::Expr>),
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Prometheus(p) => p.describe(),
            Source::Scrape(s, _) => s.describe(),
        }
    }
}
use crate::interrupt::unless_requested;

/// A configured metric analysis: the source, the checks and their limits, the cadence.
#[derive(Clone)]
pub struct MetricRun {
    pub source: Source,
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
        if let Source::Scrape(scrape, _) = &mut self.source {
            // The first scrape opens the first window; if it fails, the first measurement
            // says so (inconclusive) and opens it instead.
            let timeout = self.request_timeout.min(self.interval);
            if unless_requested(scrape.prime(timeout)).await.is_err() {
                return self
                    .analysis
                    .finish(self.source.describe(), self.interval, true);
            }
        }
        let mut interrupted = false;
        'run: while next < end {
            if unless_requested(sleep_until(next.into())).await.is_err() {
                interrupted = true;
                break;
            }
            let open = self.analysis.open();
            match &mut self.source {
                Source::Prometheus(prometheus) => {
                    for index in open {
                        let now = Instant::now();
                        if now >= end {
                            break 'run;
                        }
                        let timeout = self.request_timeout.min(end - now);
                        let query = &self.analysis.checks[index].query;
                        match unless_requested(prometheus.query(query, timeout)).await {
                            Ok(value) => self.analysis.record(index, value),
                            Err(_) => {
                                interrupted = true;
                                break 'run;
                            }
                        }
                    }
                }
                Source::Scrape(scrape, exprs) => {
                    let now = Instant::now();
                    if now >= end {
                        break 'run;
                    }
                    let timeout = self.request_timeout.min(end - now);
                    let queries: Vec<_> = open.iter().map(|&i| &exprs[i]).collect();
                    match unless_requested(scrape.measure(&queries, timeout)).await {
                        Ok(values) => {
                            for (index, value) in open.into_iter().zip(values) {
                                self.analysis.record(index, value);
                            }
                        }
                        Err(_) => {
                            interrupted = true;
                            break 'run;
                        }
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
