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

/// The condition used when `expect` is empty.
pub const DEFAULT_CONDITION: &str = "[STATUS] == 200";

/// The `url` and `expect` inputs every probing tool takes: URLs (newline or comma list,
/// at least one) and conditions (one per line, default `[STATUS] == 200`).
pub fn targets(
    env: &crate::env::Env,
    url_flags: Vec<String>,
    expect_flags: Vec<String>,
) -> anyhow::Result<(Vec<url::Url>, Vec<Condition>)> {
    use crate::env::{Split, invalid};
    let urls = env
        .list("url", url_flags, Split::LinesOrCommas)
        .iter()
        .map(|raw| crate::http::parse_url("url", raw))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if urls.is_empty() {
        return Err(crate::exit::usage(
            "missing input `url`: give at least one http:// or https:// URL to probe, e.g. `url: https://shop.example.com/health`",
        ));
    }
    let mut expect = env.list("expect", expect_flags, Split::Lines);
    if expect.is_empty() {
        expect.push(DEFAULT_CONDITION.to_owned());
    }
    let conditions = parse_conditions(&expect).map_err(|why| invalid("expect", &why))?;
    Ok((urls, conditions))
}
