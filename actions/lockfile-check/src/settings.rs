//! Flags, inputs and defaults merged and validated before anything is read: a bad mode,
//! boolean or glob is exit 2 with a line naming the input.

use std::path::PathBuf;

use shipguard::env::{Split, invalid};
use shipguard::npm::check::{Mode, Options};
use shipguard::npm::families;
use shipguard::npm::policy::Policy;
use shipguard::tool::Context;

use crate::cli::Cli;

pub struct Settings {
    pub path: PathBuf,
    pub options: Options,
}

impl Settings {
    pub fn resolve(cli: Cli, ctx: &Context) -> anyhow::Result<Self> {
        let env = &ctx.env;
        let path = env
            .setting("path", cli.path)
            .optional()
            .unwrap_or_else(|| ".".to_owned());
        let mode = env
            .setting("mode", cli.mode)
            .choice(&Mode::NAMES)?
            .map_or(Some(Mode::default()), Mode::parse)
            .ok_or_else(|| invalid("mode", "is not a mode lockfile-check knows"))?;
        let families = families::parse(&env.list("families", cli.families, Split::LinesOrCommas))
            .map_err(|why| invalid("families", &why))?;
        let policy = Policy {
            allowed_hosts: env
                .list("allowed-hosts", cli.allowed_hosts, Split::LinesOrCommas)
                .iter()
                .map(|h| Policy::host_of(h))
                .collect(),
            require_https: env
                .setting("require-https", cli.require_https)
                .bool()?
                .unwrap_or(false),
            require_integrity: env
                .setting("require-integrity", cli.require_integrity)
                .bool()?
                .unwrap_or(false),
        };
        Ok(Self {
            path: PathBuf::from(path),
            options: Options {
                mode,
                families,
                policy,
            },
        })
    }
}
