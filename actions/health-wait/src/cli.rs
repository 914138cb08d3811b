//! health-wait's flags. Each mirrors an action input; values stay strings here so flags and
//! inputs are validated by the same code with the same messages (settings.rs).

use clap::Parser;
use shipguard::tool::{CommonArgs, ToolCli};

/// Wait until one or more URLs are really healthy, then report the evidence.
///
/// Every flag has an action input twin (`--success-threshold` ↔ `INPUT_SUCCESS_THRESHOLD`);
/// a flag wins over its input. Header values are treated as secrets: set them through
/// `INPUT_HEADERS` or `--headers-file`, never on the command line.
///
/// Exit codes: 0 healthy, 1 not healthy (deadline, fail-fast status, hold), 2 bad input,
/// 3 operational failure.
#[derive(Debug, Parser)]
#[command(name = "health-wait", version)]
pub struct Cli {
    /// URL to probe; repeat for several (probed concurrently). Input: url (newline or comma list).
    #[arg(long = "url", value_name = "URL")]
    pub urls: Vec<String>,
    /// Condition that must hold; repeat for several. Default `[STATUS] == 200`. Input: expect (one per line).
    #[arg(long = "expect", value_name = "CONDITION")]
    pub expect: Vec<String>,
    /// HTTP method. Default GET.
    #[arg(long)]
    pub method: Option<String>,
    /// File of `Name: value` request headers, one per line (values are secrets). Input: headers.
    #[arg(long, value_name = "PATH")]
    pub headers_file: Option<String>,
    /// Request body.
    #[arg(long)]
    pub body: Option<String>,
    /// Wait this long before the first attempt. Default 0.
    #[arg(long)]
    pub initial_delay: Option<String>,
    /// Time between attempts. Default 5s.
    #[arg(long)]
    pub interval: Option<String>,
    /// Timeout of one request. Default 10s.
    #[arg(long)]
    pub request_timeout: Option<String>,
    /// Overall deadline to become healthy. Default 5m.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Consecutive passing attempts needed. Default 1.
    #[arg(long)]
    pub success_threshold: Option<String>,
    /// After healthy, keep probing this long and judge error rate and p95. Default 0 (off).
    #[arg(long)]
    pub hold: Option<String>,
    /// Highest error rate allowed during the hold: `1%` or `0.01`. Default 1%.
    #[arg(long)]
    pub max_error_rate: Option<String>,
    /// Highest p95 latency allowed during the hold, e.g. `800ms`. Default: no limit.
    #[arg(long)]
    pub max_p95: Option<String>,
    /// PEM file of extra CA certificates to trust (self-signed Coolify hosts).
    #[arg(long, value_name = "PATH")]
    pub ca_cert: Option<String>,
    /// Accept any TLS certificate (a switch; input insecure: true). Prefer --ca-cert.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub insecure: Option<String>,
    /// Follow redirects within the URL's origin (a switch; input follow-redirects: true).
    /// Default off: a 3xx is the answer the conditions see. A redirect to another origin is
    /// never followed.
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub follow_redirects: Option<String>,
    #[command(flatten)]
    pub metric: shipguard::metrics::settings::MetricFlags,
    /// The `report` of an earlier health-wait run (JSON, or a path to a file holding it):
    /// the baseline for max-p95-ratio and max-error-rate-increase.
    #[arg(long)]
    pub baseline: Option<String>,
    /// p95 may be at most this many times the baseline's (e.g. 2).
    #[arg(long)]
    pub max_p95_ratio: Option<String>,
    /// The error rate may rise at most this much over the baseline's (`1%` or `0.01`).
    #[arg(long)]
    pub max_error_rate_increase: Option<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

impl ToolCli for Cli {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory as _;
        shipguard::cli::assert_well_formed(super::Cli::command());
    }
}
