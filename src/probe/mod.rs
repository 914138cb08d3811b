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

/// A URL to probe, from input `name`: http(s) with a host. Errors never show credentials.
pub fn parse_url(name: &str, raw: &str) -> anyhow::Result<url::Url> {
    use crate::env::invalid;
    let url = url::Url::parse(raw).map_err(|err| {
        invalid(
            name,
            &format!("{:?} is not a URL: {err}", without_userinfo(raw)),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            name,
            &format!(
                "{:?} must be an http:// or https:// URL with a host",
                crate::redact::safe_url(&url)
            ),
        ));
    }
    Ok(url)
}

/// A URL that did not parse may still hold credentials: show only up to the authority.
fn without_userinfo(raw: &str) -> String {
    match raw.split_once('@') {
        Some((_, rest)) => format!("***@{rest}"),
        None => raw.to_owned(),
    }
}
