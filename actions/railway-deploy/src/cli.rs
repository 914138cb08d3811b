//! railway-deploy's flags. Each mirrors an action input and stays a string until settings.rs
//! validates flags and inputs alike. The token has no flag (it would show in `ps`): only
//! the environment or `--railway-token-file`.

use clap::Parser;
use shipguard::tool::{CommonArgs, ToolCli};

/// Deploy an image (set as the service's source, then deployed) or a commit of the connected
/// repository to one or more Railway services, and wait until Railway says SUCCESS (it
/// routes traffic only after its own health check) or FAILED, CRASHED, REMOVED or SKIPPED;
/// cancel what still runs at the timeout.
///
/// The token comes from INPUT_RAILWAY_TOKEN, else RAILWAY_TOKEN (project tokens) or
/// RAILWAY_API_TOKEN (account and workspace tokens), or --railway-token-file.
///
/// Exit codes: 0 deployed, 1 failed, refused, timed out or interrupted, 2 bad input,
/// 3 auth, network or server error.
#[derive(Debug, Parser)]
#[command(name = "railway-deploy", version)]
pub struct Cli {
    /// File holding the Railway token.
    #[arg(long, value_name = "PATH")]
    pub railway_token_file: Option<String>,
    /// project (sent as Project-Access-Token, the default) or account (account and workspace
    /// tokens, sent as Authorization: Bearer).
    #[arg(long)]
    pub token_kind: Option<String>,
    /// Railway project id.
    #[arg(long)]
    pub railway_project: Option<String>,
    /// Railway environment id.
    #[arg(long)]
    pub railway_environment: Option<String>,
    /// Railway service id; repeat for several (at most 20). Input: service.
    #[arg(long = "service", value_name = "ID")]
    pub services: Vec<String>,
    /// Image to deploy (set as the service's source image). Exactly one of image or commit.
    #[arg(long)]
    pub image: Option<String>,
    /// Commit of the connected repository to deploy (40 hex digits).
    #[arg(long)]
    pub commit: Option<String>,
    /// The whole deploy. Default 15m.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Time between reads of the deployments; at least 5s (Railway's Free plan allows 100
    /// requests an hour). Default 5s.
    #[arg(long)]
    pub poll_interval: Option<String>,
    /// Cancel deployments still running at the timeout or on a signal (default true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub cancel_on_timeout: Option<String>,
    /// GraphQL endpoint. Default https://backboard.railway.com/graphql/v2.
    #[arg(long)]
    pub api_url: Option<String>,
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
