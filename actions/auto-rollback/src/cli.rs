//! auto-rollback's flags. Each mirrors an action input and stays a string until settings.rs
//! validates flags and inputs alike. Tokens and the Slack webhook have no flag: only the
//! environment or a `--*-file`.

use clap::Parser;
use shipguard::tool::{CommonArgs, ToolCli};

/// Probe a Coolify app; when it is unhealthy, redeploy the newest good version, verify it,
/// and alert.
///
/// Secrets: INPUT_COOLIFY_TOKEN or COOLIFY_TOKEN, INPUT_GITHUB_TOKEN or GITHUB_TOKEN,
/// INPUT_SLACK_WEBHOOK_URL or SLACK_WEBHOOK_URL (or the matching --*-file flags).
///
/// Exit codes: 0 healthy, or rolled back and verified (or a dry run); 1 still unhealthy (no
/// target, guard, deploy failed, verification failed) or a rollback with fail-on-rollback;
/// 2 bad input; 3 auth, network or server error.
#[derive(Debug, Parser)]
#[command(name = "auto-rollback", version)]
pub struct Cli {
    /// URL to probe; repeat for several. Input: url (newline or comma list).
    #[arg(long = "url", value_name = "URL")]
    pub urls: Vec<String>,
    /// Condition that must hold; repeat for several. Default `[STATUS] == 200`.
    #[arg(long = "expect", value_name = "CONDITION")]
    pub expect: Vec<String>,
    /// Time between probes. Default 10s.
    #[arg(long)]
    pub interval: Option<String>,
    /// Timeout of one probe. Default 10s.
    #[arg(long)]
    pub request_timeout: Option<String>,
    /// Wait before the first probe. Default 0.
    #[arg(long)]
    pub initial_delay: Option<String>,
    /// Consecutive failing probes that make the service unhealthy. Default 3.
    #[arg(long)]
    pub failure_threshold: Option<String>,
    /// Consecutive passing probes that verify the rollback. Default 2.
    #[arg(long)]
    pub success_threshold: Option<String>,
    /// How long the rolled-back version has to become healthy. Default 5m.
    #[arg(long)]
    pub verify_timeout: Option<String>,
    /// Coolify base URL.
    #[arg(long)]
    pub coolify_url: Option<String>,
    /// File holding the Coolify API token (else INPUT_COOLIFY_TOKEN or COOLIFY_TOKEN).
    #[arg(long, value_name = "PATH")]
    pub coolify_token_file: Option<String>,
    /// Application UUID; repeat for several. Input: app.
    #[arg(long = "app", value_name = "UUID")]
    pub apps: Vec<String>,
    /// Extra CA certificate (PEM text or file) for a self-signed Coolify.
    #[arg(long)]
    pub ca_cert: Option<String>,
    /// How a commit becomes an image tag: {sha}, {short_sha}, {branch}. Default {sha}.
    #[arg(long)]
    pub image_tag_template: Option<String>,
    /// Roll back to this commit (the full 40-digit SHA; a manual dispatch).
    #[arg(long)]
    pub to: Option<String>,
    /// Where good versions come from: workflow-runs (default) or deployments.
    #[arg(long)]
    pub source: Option<String>,
    /// Workflow file whose successful runs are good versions. Default deploy.yml.
    #[arg(long)]
    pub workflow: Option<String>,
    /// Workflow file of your deploys: nothing is rolled back while a run of it is queued or
    /// in progress. Default: no check.
    #[arg(long)]
    pub deploy_workflow: Option<String>,
    /// Branch of those runs. Default main.
    #[arg(long)]
    pub branch: Option<String>,
    /// GitHub environment where rollbacks are recorded (and the deployments source). Default production.
    #[arg(long)]
    pub environment: Option<String>,
    /// No second rollback within this time. Default 15m.
    #[arg(long)]
    pub cooldown: Option<String>,
    /// How long the rollback deployment may take. Default 15m.
    #[arg(long)]
    pub deploy_timeout: Option<String>,
    /// Overall deadline of the run: analysis, GitHub reads, redeploy and verification. Default 15m.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Time between deployment status reads. Default 5s.
    #[arg(long)]
    pub poll_interval: Option<String>,
    /// Decide and print, change nothing (a switch; input dry-run: true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub dry_run: Option<String>,
    /// A performed rollback exits 1 too (a switch; input fail-on-rollback: true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub fail_on_rollback: Option<String>,
    /// File holding the GitHub token (else INPUT_GITHUB_TOKEN or GITHUB_TOKEN).
    #[arg(long, value_name = "PATH")]
    pub github_token_file: Option<String>,
    /// File holding the Slack webhook URL for alerts (else INPUT_SLACK_WEBHOOK_URL or
    /// SLACK_WEBHOOK_URL).
    #[arg(long, value_name = "PATH")]
    pub slack_webhook_url_file: Option<String>,
    /// Where the app runs: coolify (default) or fly.
    #[arg(long)]
    pub platform: Option<String>,
    /// platform fly: file holding the Fly API token (default INPUT_FLY_TOKEN or FLY_API_TOKEN).
    #[arg(long, value_name = "PATH")]
    pub fly_token_file: Option<String>,
    /// platform fly: Machines API address. Default https://api.machines.dev.
    #[arg(long)]
    pub api_url: Option<String>,
    /// platform fly: the image of a commit, e.g. registry.fly.io/{app}:{sha}.
    #[arg(long)]
    pub image_template: Option<String>,
    /// platform railway: file holding the Railway token (default INPUT_RAILWAY_TOKEN, else
    /// RAILWAY_TOKEN or RAILWAY_API_TOKEN by token kind).
    #[arg(long, value_name = "PATH")]
    pub railway_token_file: Option<String>,
    /// platform railway: project (Project-Access-Token, the default) or account (Bearer).
    #[arg(long)]
    pub token_kind: Option<String>,
    /// platform railway: the project id.
    #[arg(long)]
    pub railway_project: Option<String>,
    /// platform railway: the environment id.
    #[arg(long)]
    pub railway_environment: Option<String>,
    #[command(flatten)]
    pub metric: shipguard::metrics::settings::MetricFlags,
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
