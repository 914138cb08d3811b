//! slack-notify's flags; each mirrors an action input and stays a string until settings.rs
//! validates flags and inputs with the same messages. Secrets have no flag: only the
//! environment or a `--*-file`.

use clap::Parser;
use shipguard::tool::{CommonArgs, ToolCli};

/// Send a typed Slack message about a deploy, rollback or incident.
///
/// The webhook URL comes from INPUT_WEBHOOK_URL or SLACK_WEBHOOK_URL (or --webhook-url-file);
/// the bot token from INPUT_BOT_TOKEN or SLACK_BOT_TOKEN (or --bot-token-file).
///
/// Exit codes: 0 sent (or dry run, or on-error: warn), 2 bad input, 3 Slack refused the
/// message or could not be reached.
#[derive(Debug, Parser)]
#[command(name = "slack-notify", version)]
pub struct Cli {
    /// deploy, rollback, incident, resolved or custom. Default deploy.
    #[arg(long)]
    pub kind: Option<String>,
    /// success, failure, cancelled or started (required except for kind custom).
    #[arg(long)]
    pub status: Option<String>,
    /// Headline; by default written from kind, status, repository and environment.
    #[arg(long)]
    pub title: Option<String>,
    /// Free text, shown exactly as given (a commit message, say).
    #[arg(long)]
    pub text: Option<String>,
    /// Environment the message is about, e.g. production.
    #[arg(long)]
    pub environment: Option<String>,
    /// The version being deployed (input `version`; `--version` prints this tool's own).
    #[arg(long = "app-version", value_name = "VERSION")]
    pub app_version: Option<String>,
    /// Commit the environment ran before (a deploy's or rollback's "from").
    #[arg(long)]
    pub from_sha: Option<String>,
    /// Commit the environment runs now (a deploy's or rollback's "to").
    #[arg(long)]
    pub to_sha: Option<String>,
    /// Extra facts, `Key=Value`, one per line; repeat the flag for several.
    #[arg(long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,
    /// A Slack mention such as `<!here>` or `<@U0123ABC>`.
    #[arg(long)]
    pub mention: Option<String>,
    /// Statuses that get the mention. Default failure.
    #[arg(long)]
    pub mention_on: Option<String>,
    /// Path of a JSON report from health-wait, coolify-deploy or auto-rollback. Input: report (the JSON itself).
    #[arg(long, value_name = "PATH")]
    pub report_file: Option<String>,
    /// Repository (default GITHUB_REPOSITORY).
    #[arg(long)]
    pub repository: Option<String>,
    /// Commit SHA (default GITHUB_SHA).
    #[arg(long)]
    pub sha: Option<String>,
    /// Actor (default GITHUB_ACTOR).
    #[arg(long)]
    pub actor: Option<String>,
    /// Ref name (default GITHUB_REF_NAME).
    #[arg(long = "ref")]
    pub ref_name: Option<String>,
    /// Link to the run (default GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID).
    #[arg(long)]
    pub run_url: Option<String>,
    /// File holding the incoming webhook URL.
    #[arg(long, value_name = "PATH")]
    pub webhook_url_file: Option<String>,
    /// File holding the bot token.
    #[arg(long, value_name = "PATH")]
    pub bot_token_file: Option<String>,
    /// Channel ID or name, with a bot token.
    #[arg(long)]
    pub channel: Option<String>,
    /// Update this message (bot token): turn "deploy started" into "deploy finished".
    #[arg(long)]
    pub update_ts: Option<String>,
    /// Reply in this message's thread.
    #[arg(long)]
    pub thread_ts: Option<String>,
    /// Web API base URL. Default https://slack.com/api/.
    #[arg(long)]
    pub slack_api_url: Option<String>,
    /// Raw Block Kit JSON for kind custom.
    #[arg(long)]
    pub payload: Option<String>,
    /// File of raw Block Kit JSON for kind custom.
    #[arg(long, value_name = "PATH")]
    pub payload_file: Option<String>,
    /// fail (default) or warn: what a Slack failure does to the step.
    #[arg(long)]
    pub on_error: Option<String>,
    /// Send nothing, print the exact JSON and a preview (a switch; input dry-run: true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub dry_run: Option<String>,
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
