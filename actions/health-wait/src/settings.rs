//! Flags and inputs merged and validated into a ready probe, before any request is sent.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderMap;
use shipguard::env::invalid;
use shipguard::exit::usage;
use shipguard::http::{self, ClientOptions, Redirects};
use shipguard::metrics::MetricRun;
use shipguard::metrics::baseline::{Figures, Relative};
use shipguard::probe::{self, Condition, Hold, Probe, Request, Timing};
use shipguard::tool::Context;
use url::Url;

use crate::cli::Cli;

/// Everything health-wait needs, validated.
pub struct Settings {
    pub urls: Vec<Url>,
    pub conditions: Vec<Condition>,
    pub probe: Probe,
    /// Metric checks measured during the hold.
    pub metrics: Option<MetricRun>,
    /// An earlier run's figures and the relative limits against them.
    pub baseline: Option<(Figures, Relative)>,
}

impl Settings {
    pub fn resolve(mut cli: Cli, ctx: &mut Context) -> anyhow::Result<Self> {
        let metric_flags = std::mem::take(&mut cli.metric);
        let env = &ctx.env;
        let (urls, conditions) = probe::targets(env, cli.urls, cli.expect)?;

        let method = env
            .setting("method", cli.method)
            .parse(|raw| {
                Method::from_bytes(raw.to_ascii_uppercase().as_bytes())
                    .map_err(|_| format!("{raw:?} is not an HTTP method"))
            })?
            .unwrap_or(Method::GET);
        let header_text = match cli.headers_file {
            Some(path) => std::fs::read_to_string(&path).map_err(|err| {
                usage(format!(
                    "invalid flag --headers-file: cannot read `{path}`: {err}"
                ))
            })?,
            None => env.input("headers").unwrap_or_default().to_owned(),
        };
        // Masked before parsing, so that not even a malformed line can show a secret.
        for line in header_text.lines() {
            let value = line.split_once(':').map_or(line, |(_, value)| value);
            ctx.actions.mask_header_value(value.trim());
        }
        for url in &urls {
            ctx.actions.mask_url(url);
        }
        let headers = parse_headers(&header_text)?;
        let env = &ctx.env;
        let body = env.setting("body", cli.body).optional();

        let duration = |name: &'static str, flag: Option<String>, default: Duration| {
            env.setting(name, flag)
                .duration()
                .map(|d| d.unwrap_or(default))
        };
        let initial_delay = duration("initial-delay", cli.initial_delay, Duration::ZERO)?;
        let interval = duration("interval", cli.interval, Duration::from_secs(5))?;
        let request_timeout = duration(
            "request-timeout",
            cli.request_timeout,
            Duration::from_secs(10),
        )?;
        let timeout = duration("timeout", cli.timeout, Duration::from_secs(300))?;
        let hold_for = duration("hold", cli.hold, Duration::ZERO)?;
        for (name, value) in [
            ("interval", interval),
            ("request-timeout", request_timeout),
            ("timeout", timeout),
        ] {
            if value.is_zero() {
                return Err(invalid(name, "must be longer than 0"));
            }
        }
        if initial_delay >= timeout {
            return Err(invalid("initial-delay", "must be shorter than `timeout`"));
        }
        let success_threshold = env
            .setting("success-threshold", cli.success_threshold)
            .count(1)?
            .unwrap_or(1);
        let max_error_rate = env
            .setting("max-error-rate", cli.max_error_rate)
            .parse(parse_rate)?
            .unwrap_or(0.01);
        let max_p95 = env.setting("max-p95", cli.max_p95).duration()?;
        let ca_cert = env
            .setting("ca-cert", cli.ca_cert)
            .optional()
            .map(PathBuf::from);
        let insecure = env
            .setting("insecure", cli.insecure)
            .bool()?
            .unwrap_or(false);
        let follow_redirects = env
            .setting("follow-redirects", cli.follow_redirects)
            .bool()?
            .unwrap_or(false);

        let mut options = ClientOptions::new(ctx.user_agent());
        options.request_timeout = None;
        options.connect_timeout = request_timeout;
        options.insecure = insecure;
        // Off: a `/health` that redirects to a 200 login page is not healthy. On: only within
        // the URL's origin, so custom headers never reach another scheme, host or port.
        options.redirects = if follow_redirects {
            Redirects::SameOrigin
        } else {
            Redirects::None
        };
        options.tls_info = conditions.iter().any(Condition::needs_certificate);
        if let Some(path) = &ca_cert {
            options.ca_certs = http::load_ca_certs("ca-cert", path)?;
        }
        let client = http::client(&options)?;
        let metrics =
            shipguard::metrics::settings::resolve(metric_flags, ctx, interval, request_timeout)?;
        if metrics.is_some() && hold_for.is_zero() {
            return Err(invalid(
                "hold",
                "metric checks are measured during the hold: set `hold` (e.g. 2m) with `metrics`",
            ));
        }
        let baseline = resolve_baseline(
            ctx,
            cli.baseline,
            cli.max_p95_ratio,
            cli.max_error_rate_increase,
        )?;
        let hold = (!hold_for.is_zero()).then_some(Hold {
            duration: hold_for,
            max_error_rate,
            max_p95,
        });
        let timing = Timing {
            initial_delay,
            interval,
            request_timeout,
            timeout,
            success_threshold,
            failure_threshold: None,
            hold,
        };
        let request = Arc::new(Request {
            method,
            headers,
            body,
            conditions: conditions.clone(),
        });
        Ok(Self {
            urls,
            conditions,
            probe: Probe {
                client,
                request,
                timing,
            },
            metrics,
            baseline,
        })
    }
}

/// `baseline` (the JSON report, or a path to a file holding it) and its relative limits.
fn resolve_baseline(
    ctx: &Context,
    raw: Option<String>,
    ratio: Option<String>,
    increase: Option<String>,
) -> anyhow::Result<Option<(Figures, Relative)>> {
    let env = &ctx.env;
    let limits = Relative {
        max_p95_ratio: env.setting("max-p95-ratio", ratio).parse(|raw| {
            match raw.parse::<f64>() {
                Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
                _ => Err(format!("{raw:?} is not a ratio above 0, e.g. 2")),
            }
        })?,
        max_error_rate_increase: env
            .setting("max-error-rate-increase", increase)
            .parse(parse_rate)?,
    };
    let Some(raw) = env.setting("baseline", raw).optional() else {
        if limits != Relative::default() {
            return Err(invalid(
                "baseline",
                "max-p95-ratio and max-error-rate-increase compare with a baseline: set `baseline` to an earlier run's `report` output",
            ));
        }
        return Ok(None);
    };
    if limits == Relative::default() {
        return Err(invalid(
            "baseline",
            "a baseline needs a limit to judge: set max-p95-ratio or max-error-rate-increase",
        ));
    }
    let text = if raw.trim_start().starts_with('{') {
        raw
    } else {
        std::fs::read_to_string(&raw).map_err(|err| {
            invalid(
                "baseline",
                &format!("not a JSON report, and `{raw}` cannot be read as a file: {err}"),
            )
        })?
    };
    let figures = Figures::parse(&text).map_err(|why| invalid("baseline", &why))?;
    // Parsed above within its size limit: a report of another schema version is refused.
    if let Ok(report) = serde_json::from_str(&text) {
        shipguard::report::header(&report, "baseline")?;
    }
    Ok(Some((figures, limits)))
}

/// `Name: value` per line (the one parser for header inputs, shared with `prometheus-headers`).
fn parse_headers(text: &str) -> anyhow::Result<HeaderMap> {
    shipguard::metrics::settings::parse_header_lines("headers", text)
}

/// `1%`, `0.5%` or a fraction `0.01`.
fn parse_rate(raw: &str) -> Result<f64, String> {
    let bad = || format!("{raw:?} is not a rate; use a percentage like 1% or a fraction like 0.01");
    let rate = match raw.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => raw.parse::<f64>().map_err(|_| bad())?,
    };
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(bad())
    }
}
