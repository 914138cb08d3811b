//! coolify-deploy's flags. Each mirrors an action input and stays a string until
//! settings.rs validates flags and inputs alike. The token and webhook URL have no flag
//! (they would show in `ps`): only the environment or a `--*-file`.

use clap::Parser;
use shipguard::tool::{CommonArgs, ToolCli};

/// Deploy one or more Coolify applications (or a Coolify tag) and wait for every deployment.
///
/// The token comes from INPUT_COOLIFY_TOKEN or COOLIFY_TOKEN (or --coolify-token-file); it
/// needs the abilities deploy, read and write (and read:sensitive to show build logs).
///
/// Exit codes: 0 deployed, 1 a deployment failed, was cancelled or timed out, 2 bad input,
/// 3 auth, network or server error.
#[derive(Debug, Parser)]
#[command(name = "coolify-deploy", version)]
pub struct Cli {
    /// Coolify base URL, e.g. https://coolify.example.com.
    #[arg(long)]
    pub coolify_url: Option<String>,
    /// File holding the Coolify API token.
    #[arg(long, value_name = "PATH")]
    pub coolify_token_file: Option<String>,
    /// Application UUID; repeat for several. Input: app (newline or comma list).
    #[arg(long = "app", value_name = "UUID")]
    pub apps: Vec<String>,
    /// Deploy every resource with this Coolify tag instead of `app`.
    #[arg(long)]
    pub tag: Option<String>,
    /// Docker-image apps: set this image tag on every app first (PATCH), then deploy with
    /// force. An error on a git-based app (use --commit).
    #[arg(long)]
    pub image_tag: Option<String>,
    /// Git-based apps (nixpacks, dockerfile, static, dockercompose): deploy exactly this
    /// commit (40 hex digits). Default: GITHUB_SHA. An error on a Docker-image app.
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
    /// Rebuild without cache and bypass Coolify's "already queued" dedupe (a switch; input
    /// force: true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub force: Option<String>,
    /// Wait for every deployment to end (the default; input wait: true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL", overrides_with = "no_wait")]
    pub wait: Option<String>,
    /// Return as soon as Coolify queued the deployments (input wait: false).
    #[arg(long, overrides_with = "wait")]
    pub no_wait: bool,
    /// How long to wait for every deployment. Default 15m.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Time between status reads. Default 5s.
    #[arg(long)]
    pub poll_interval: Option<String>,
    /// Cancel the deployments still running at the timeout (the default; input
    /// cancel-on-timeout: true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL", overrides_with = "no_cancel_on_timeout")]
    pub cancel_on_timeout: Option<String>,
    /// Leave deployments running at the timeout (input cancel-on-timeout: false).
    #[arg(long, overrides_with = "cancel_on_timeout")]
    pub no_cancel_on_timeout: bool,
    /// Lines of the deployment log shown on failure. Default 40.
    #[arg(long)]
    pub log_lines: Option<String>,
    /// Extra CA certificate (PEM file or PEM text) for a self-signed Coolify.
    #[arg(long)]
    pub ca_cert: Option<String>,
    /// Image name sent in webhook mode.
    #[arg(long)]
    pub image: Option<String>,
    /// File holding a generic deploy webhook URL (webhook mode, instead of Coolify).
    #[arg(long, value_name = "PATH")]
    pub webhook_url_file: Option<String>,
    #[command(flatten)]
    pub record: shipguard::deployment_record::RecordInputs,
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
