//! Logs to stderr through `tracing`: `SHIPGUARD_LOG` (an EnvFilter directive) wins, then
//! `RUNNER_DEBUG=1` turns on debug, else info. No timestamps: the runner adds its own.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::env::{Env, vars};

pub fn init(env: &Env) {
    let directive = env
        .var(vars::SHIPGUARD_LOG)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            if env.is(vars::RUNNER_DEBUG, "1") {
                "debug"
            } else {
                "info"
            }
            .to_owned()
        });
    let (filter, bad_directive) = match EnvFilter::try_new(&directive) {
        Ok(filter) => (filter, false),
        Err(_) => (EnvFilter::new("info"), true),
    };
    let verbose = directive.contains("debug") || directive.contains("trace");
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_level(verbose)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
    if bad_directive {
        tracing::warn!("SHIPGUARD_LOG={directive:?} is not a valid filter; logging at info");
    }
}
