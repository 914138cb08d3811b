//! lockfile-check's flags. Each mirrors an action input and stays a string until
//! settings.rs validates flags and inputs alike.

use clap::Parser;
use shipguard::tool::{CommonArgs, ToolCli};

/// Is package-lock.json (or npm-shrinkwrap.json) in sync with package.json and every npm
/// workspace? Decided offline, with the verdict npm ci (and npm ls) would give.
///
/// Exit codes: 0 in sync, 1 problems found, 2 the input cannot be judged (no lock, invalid
/// JSON, unsupported lockfileVersion, bad glob).
#[derive(Debug, Parser)]
#[command(name = "lockfile-check", version)]
pub struct Cli {
    /// Folder holding package.json and the lock. Default `.`.
    #[arg(long)]
    pub path: Option<String>,
    /// ci (fail when npm ci would; what only npm ls calls broken is a warning), tree (fail
    /// on npm ci's and npm ls's verdict) or strict (tree plus exact specifier drift).
    /// Default ci; `npm` is an alias of ci.
    #[arg(long)]
    pub mode: Option<String>,
    /// Package family glob such as `@tiptap/*` that must be locked at one version; repeat.
    #[arg(long, value_name = "GLOB")]
    pub families: Vec<String>,
    /// Host a `resolved` URL may come from (`npm` for registry.npmjs.org); repeat.
    #[arg(long, value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// Every `resolved` URL must be https (a switch; input require-https: true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub require_https: Option<String>,
    /// Every downloaded package needs a sha512 integrity hash (a switch; input
    /// require-integrity: true).
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", value_name = "BOOL")]
    pub require_integrity: Option<String>,
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
