//! Core library of the shipguard tools: the one environment reader, the GitHub Actions
//! protocol, HTTP with classified retries, redaction, exit codes and the probe engine.
//! No tool logic lives here; each tool's `main.rs` composes these pieces.

#![warn(unreachable_pub)]

pub mod bounded;
pub mod cli;
pub mod codes;
pub mod commit;
pub mod coolify;
#[cfg(feature = "github")]
pub mod deployment_record;
pub mod duration;
pub mod ending;
pub mod env;
pub mod exit;
pub mod fly;
pub mod gha;
#[cfg(feature = "github")]
pub mod github;
pub mod http;
pub mod interrupt;
pub mod logging;
pub mod metrics;
pub mod npm;
pub mod platform;
pub mod probe;
pub mod railway;
pub mod redact;
pub mod report;
pub mod slack;
pub mod timestamp;
pub mod tool;
