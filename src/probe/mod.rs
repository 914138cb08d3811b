//! The health probe engine and its condition language, shared by health-wait and
//! auto-rollback.

mod attempt;
pub mod condition;
mod engine;
pub mod json_path;
pub mod report;
pub mod stats;

pub use attempt::{Attempt, ErrorKind, Outcome, Request};
pub use condition::Condition;
pub use engine::{Hold, Observer, Probe, Timing, UrlResult, Verdict};

/// Parses every condition; the first bad one is the error.
pub fn parse_conditions(sources: &[String]) -> Result<Vec<Condition>, String> {
    sources.iter().map(|s| Condition::parse(s)).collect()
}
