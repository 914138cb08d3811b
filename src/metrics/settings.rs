//! The metric inputs every analysing tool takes, validated before anything is sent:
//! `metrics` (one check per line), `prometheus-url`, `prometheus-headers` (secret `Name: value`
//! lines, masked before parsing), `failure-limit`, `inconclusive-limit`.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::analysis::{Analysis, Limits};
use super::check::parse_checks;
use super::prometheus::PrometheusSource;
use super::run::{MetricRun, Source};
use super::scrape::ScrapeSource;
use crate::env::{Split, invalid};
use crate::exit::usage;
use crate::http::{self, ClientOptions};
use crate::tool::Context;

/// The metric flags, flattened into each analysing tool's command line (strings: validated
/// in [`resolve`], flags and `INPUT_*` alike).
#[derive(Debug, Default, Clone, clap::Args)]
pub struct MetricFlags {
    /// Metric check `NAME: QUERY OP NUMBER`, measured at every interval (health-wait: during
    /// the hold; auto-rollback: next to the analysis probes); repeat for several. Input:
    /// metrics (one per line).
    #[arg(long = "metrics", value_name = "CHECK")]
    pub metrics: Vec<String>,
    /// Prometheus HTTP API base URL (a path prefix is kept) the metric checks query.
    #[arg(long)]
    pub prometheus_url: Option<String>,
    /// The app's own Prometheus-format /metrics, scraped at every interval (instead of a
    /// Prometheus server): rate, increase, sum, sum by, histogram_quantile, + - * /.
    #[arg(long)]
    pub metrics_url: Option<String>,
    /// File of `Name: value` headers for Prometheus (values are secrets). Input: prometheus-headers.
    #[arg(long, value_name = "PATH")]
    pub prometheus_headers_file: Option<String>,
    /// Failed measurements of a check tolerated over the whole hold or analysis. Default 0.
    #[arg(long)]
    pub failure_limit: Option<String>,
    /// Inconclusive measurements of a check tolerated (no value, NaN, error). Default 0.
    #[arg(long)]
    pub inconclusive_limit: Option<String>,
}

/// `None` when no `metrics` are given (and then no other metric input may be).
pub fn resolve(
    flags: MetricFlags,
    ctx: &mut Context,
    interval: Duration,
    request_timeout: Duration,
) -> anyhow::Result<Option<MetricRun>> {
    let env = &ctx.env;
    let lines = env.list("metrics", flags.metrics, Split::Lines);
    let checks = parse_checks(&lines).map_err(|why| invalid("metrics", &why))?;
    let url = env
        .setting("prometheus-url", flags.prometheus_url)
        .optional();
    let scrape_url = env.setting("metrics-url", flags.metrics_url).optional();
    let header_text = match &flags.prometheus_headers_file {
        Some(path) => std::fs::read_to_string(path).map_err(|err| {
            usage(format!(
                "invalid flag --prometheus-headers-file: cannot read `{path}`: {err}"
            ))
        })?,
        None => env
            .input("prometheus-headers")
            .unwrap_or_default()
            .to_owned(),
    };
    // Masked before parsing, so that not even a malformed line can show a secret.
    for line in header_text.lines() {
        let value = line.split_once(':').map_or(line, |(_, value)| value);
        ctx.actions.mask_header_value(value.trim());
    }
    let env = &ctx.env;
    let failure = env
        .setting("failure-limit", flags.failure_limit)
        .count(0)?
        .unwrap_or(0);
    let inconclusive = env
        .setting("inconclusive-limit", flags.inconclusive_limit)
        .count(0)?
        .unwrap_or(0);
    if checks.is_empty() {
        if url.is_some() || scrape_url.is_some() || !header_text.trim().is_empty() {
            return Err(invalid(
                "metrics",
                "a metric source is set but no check is: add `metrics`, one `NAME: QUERY OP NUMBER` per line",
            ));
        }
        return Ok(None);
    }
    let mut options = ClientOptions::new(ctx.user_agent());
    options.request_timeout = None;
    options.connect_timeout = request_timeout;
    let source = match (url, scrape_url) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "metrics-url",
                "set one metric source: `prometheus-url` or `metrics-url`, not both",
            ));
        }
        (None, None) => {
            return Err(invalid(
                "prometheus-url",
                "`metrics` need a source: set `prometheus-url` (e.g. http://prometheus:9090) or `metrics-url` (the app's /metrics)",
            ));
        }
        (Some(raw), None) => {
            let base = http::parse_url("prometheus-url", &raw)?;
            ctx.actions.mask_url(&base);
            let headers = parse_header_lines("prometheus-headers", &header_text)?;
            options.json_api = true;
            Source::Prometheus(PrometheusSource::new(
                http::client(&options)?,
                &base,
                headers,
            ))
        }
        (None, Some(raw)) => {
            if !header_text.trim().is_empty() {
                return Err(invalid(
                    "prometheus-headers",
                    "headers go to `prometheus-url`; with `metrics-url` none are sent",
                ));
            }
            let page = http::parse_url("metrics-url", &raw)?;
            ctx.actions.mask_url(&page);
            let exprs = checks
                .iter()
                .map(|c| {
                    super::evaluate::prepare(&c.query)
                        .map_err(|why| invalid("metrics", &format!("check `{}`: {why}", c.name)))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            Source::Scrape(ScrapeSource::new(http::client(&options)?, page), exprs)
        }
    };
    Ok(Some(MetricRun {
        source,
        analysis: Analysis::new(
            checks,
            Limits {
                failure,
                inconclusive,
            },
        ),
        interval,
        request_timeout,
    }))
}

/// `Name: value` per line. Errors name the line, never its value (values are secrets).
pub fn parse_header_lines(input: &str, text: &str) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let number = index + 1;
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(input, &format!("line {number} is not `Name: value`")))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            invalid(
                input,
                &format!("line {number} does not start with a header name (`Name: value`)"),
            )
        })?;
        let value = HeaderValue::from_str(value.trim()).map_err(|_| {
            invalid(
                input,
                &format!(
                    "line {number}: the value of `{name}` has characters a header cannot carry"
                ),
            )
        })?;
        let mut value = value;
        value.set_sensitive(true);
        headers.append(name, value);
    }
    Ok(headers)
}
