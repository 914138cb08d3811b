//! fly-deploy's flags. Each mirrors an action input and stays a string until settings.rs
//! validates flags and inputs alike. The token has no flag (it would show in `ps`): only
//! the environment or `--fly-token-file`.

use clap::Parser;
use shipguard::tool::{CommonArgs, ToolCli};

/// Deploy an image to the machines of one or more Fly.io apps, one machine at a time (the
/// first is the canary), waiting for each to start and pass its checks; on any failure put
/// every changed machine back on its previous config.
///
/// The token comes from INPUT_FLY_TOKEN or FLY_API_TOKEN (or --fly-token-file), with or
/// without a `FlyV1 `/`Bearer ` prefix: `fly tokens create deploy -a <app>`.
///
/// Exit codes: 0 deployed, 1 failed, restored, timed out or interrupted, 2 bad input,
/// 3 auth, network or server error.
#[derive(Debug, Parser)]
#[command(name = "fly-deploy", version)]
pub struct Cli {
    /// File holding the Fly API token.
    #[arg(long, value_name = "PATH")]
    pub fly_token_file: Option<String>,
    /// Fly app name; repeat for several (deployed one after the other). Input: app.
    #[arg(long = "app", value_name = "NAME")]
    pub apps: Vec<String>,
    /// Full image reference, e.g. registry.fly.io/web:deployment-01J… or ghcr.io/acme/web:sha.
    #[arg(long)]
    pub image: Option<String>,
    /// Only machines of this process group. Default app.
    #[arg(long)]
    pub process_group: Option<String>,
    /// After the canary, update this many started machines at once. Default 1.
    #[arg(long)]
    pub max_unavailable: Option<String>,
    /// How long one machine may take to start and pass its checks. Default 5m.
    #[arg(long)]
    pub wait_timeout: Option<String>,
    /// The whole deploy. Default 15m.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Put every changed machine back on its previous config when the deploy fails (the
    /// default; input restore-on-failure: true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL", overrides_with = "no_restore_on_failure")]
    pub restore_on_failure: Option<String>,
    /// Leave changed machines as they are on failure (input restore-on-failure: false).
    #[arg(long, overrides_with = "restore_on_failure")]
    pub no_restore_on_failure: bool,
    /// Time between reads of a machine's checks. Default 2s.
    #[arg(long)]
    pub poll_interval: Option<String>,
    /// Machines API address. Default https://api.machines.dev (the client adds /v1).
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
