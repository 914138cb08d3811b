//! The `metrics-url` source: the app's own `/metrics` in the Prometheus text format, scraped
//! at every interval; each check is evaluated (evaluate.rs) between the scrape before and
//! the scrape now.
//!
//! The text format is parsed by the `prometheus-parse` crate (Apache-2.0; the crate the Rust
//! ecosystem uses for it; `openmetrics-parser` is LGPL-3.0, which a static binary cannot
//! take). It groups a histogram's `_bucket` lines into one value; [`Snapshot::parse`] turns
//! them back into `_bucket` series with an `le` label, as Prometheus stores them. Known
//! limit of that crate: a label value holding `,` or `=` is split wrongly, and lines it
//! cannot read are skipped.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use promql_parser::parser::Expr;
use reqwest::Client;
use url::Url;

use super::evaluate::{eval, single};
use crate::http::{describe_reqwest, read_body_capped};
use crate::redact::safe_url;

/// Label name → value, the metric name aside.
pub type Labels = BTreeMap<String, String>;

/// One series in a scrape.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub labels: Labels,
    pub value: f64,
}

/// Everything one scrape returned.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub series: Vec<Series>,
    pub at: Option<Instant>,
}

/// A `/metrics` page is read up to this size; a bigger one is inconclusive.
pub const PAGE_LIMIT: usize = 32 << 20;

impl Snapshot {
    /// Parses a text-format page.
    pub fn parse(text: &str, at: Instant) -> Self {
        use prometheus_parse::{Scrape, Value};
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let Ok(scrape) = Scrape::parse(lines) else {
            return Self::default();
        };
        let mut series = Vec::with_capacity(scrape.samples.len());
        for sample in scrape.samples {
            let labels: Labels = sample
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            match sample.value {
                Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => series.push(Series {
                    name: sample.metric,
                    labels,
                    value: v,
                }),
                Value::Histogram(buckets) => {
                    let name = format!("{}_bucket", sample.metric);
                    for bucket in buckets {
                        let mut labels = labels.clone();
                        labels.insert("le".to_owned(), le(bucket.less_than));
                        series.push(Series {
                            name: name.clone(),
                            labels,
                            value: bucket.count,
                        });
                    }
                }
                Value::Summary(quantiles) => {
                    for q in quantiles {
                        let mut labels = labels.clone();
                        labels.insert("quantile".to_owned(), le(q.quantile));
                        series.push(Series {
                            name: sample.metric.clone(),
                            labels,
                            value: q.count,
                        });
                    }
                }
            }
        }
        Self {
            series,
            at: Some(at),
        }
    }
}

fn le(bound: f64) -> String {
    if bound == f64::INFINITY {
        "+Inf".to_owned()
    } else {
        bound.to_string()
    }
}

/// A configured `/metrics` URL and the scrape before.
#[derive(Clone)]
pub struct ScrapeSource {
    client: Client,
    url: Url,
    previous: Option<Snapshot>,
}

impl ScrapeSource {
    pub fn new(client: Client, url: Url) -> Self {
        Self {
            client,
            url,
            previous: None,
        }
    }

    pub fn describe(&self) -> String {
        format!("scrape {}", safe_url(&self.url))
    }

    /// One scrape.
    pub async fn scrape(&self, timeout: Duration) -> Result<Snapshot, String> {
        let sent = self
            .client
            .get(self.url.clone())
            .header(reqwest::header::ACCEPT, "text/plain;version=0.0.4")
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| format!("scrape failed: {}", describe_reqwest(&e)))?;
        let status = sent.status();
        if !status.is_success() {
            return Err(format!("the scrape answered HTTP {}", status.as_u16()));
        }
        let body = read_body_capped(sent, PAGE_LIMIT)
            .await
            .map_err(|e| format!("reading the scrape failed: {}", describe_reqwest(&e)))?;
        if body.truncated {
            return Err(format!("the page is larger than {} MiB", PAGE_LIMIT >> 20));
        }
        Ok(Snapshot::parse(&body.text(), Instant::now()))
    }

    /// The first scrape: the start of every window.
    pub async fn prime(&mut self, timeout: Duration) -> Result<(), String> {
        self.previous = Some(self.scrape(timeout).await?);
        Ok(())
    }

    /// Scrapes now and evaluates every query over the window since the scrape before; the
    /// new scrape becomes the start of the next window.
    pub async fn measure(
        &mut self,
        queries: &[&Expr],
        timeout: Duration,
    ) -> Vec<Result<f64, String>> {
        let now = match self.scrape(timeout).await {
            Ok(now) => now,
            Err(why) => return queries.iter().map(|_| Err(why.clone())).collect(),
        };
        let Some(prev) = self.previous.take() else {
            self.previous = Some(now);
            return queries
                .iter()
                .map(|_| Err("no earlier scrape to compare with".to_owned()))
                .collect();
        };
        let seconds = match (prev.at, now.at) {
            (Some(a), Some(b)) => b.duration_since(a).as_secs_f64(),
            _ => 0.0,
        };
        let results = queries
            .iter()
            .map(|q| {
                if seconds <= 0.0 {
                    return Err("the two scrapes have no time between them".to_owned());
                }
                eval(q, &prev, &now, seconds).and_then(single)
            })
            .collect();
        self.previous = Some(now);
        results
    }
}
