//! How long ago a timestamp from GitHub was, failing closed: GitHub writes RFC 3339 in UTC
//! (`2026-11-23T08:00:00Z`); anything else is "unknown", and a guard that asks "was this
//! recent?" must treat unknown as recent. Parsing is the `time` crate's RFC 3339 parser:
//! `time` (with `parsing` and `formatting`) is compiled in anyway for x509-parser (asn1-rs),
//! and chrono for promql-parser, so either costs nothing; `jiff` would add a crate and make
//! nothing here smaller (`cargo tree -p shipguard -e features -i time`).

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The age of an RFC 3339 timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    /// This long ago.
    Ago(Duration),
    /// Later than now: a clock is skewed.
    Future,
    /// Not RFC 3339 (empty, `+0000` offsets, local times, prose).
    Unknown,
}

impl Age {
    /// True unless the time is known to lie at least `window` in the past: a future or
    /// unreadable time is recent (fail closed).
    pub fn within(self, window: Duration) -> bool {
        match self {
            Self::Ago(age) => age < window,
            Self::Future | Self::Unknown => true,
        }
    }

    /// How long ago, when known.
    pub fn known(self) -> Option<Duration> {
        match self {
            Self::Ago(age) => Some(age),
            Self::Future | Self::Unknown => None,
        }
    }
}

/// The age of `text` relative to now.
pub fn age(text: &str) -> Age {
    age_at(text, OffsetDateTime::now_utc())
}

fn age_at(text: &str, now: OffsetDateTime) -> Age {
    let Ok(then) = OffsetDateTime::parse(text.trim(), &Rfc3339) else {
        return Age::Unknown;
    };
    match Duration::try_from(now - then) {
        Ok(ago) => Age::Ago(ago),
        Err(_) => Age::Future,
    }
}

/// `2026-11-23T08:00:00Z` for epoch seconds (or the number when out of range).
pub fn rfc3339(epoch: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| epoch.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_skew_and_garbage() {
        let now = OffsetDateTime::parse("2026-11-23T08:10:00Z", &Rfc3339).unwrap();
        let ten = Age::Ago(Duration::from_secs(600));
        assert_eq!(age_at("2026-11-23T08:00:00Z", now), ten);
        assert_eq!(age_at("2026-11-23T09:00:00+01:00", now), ten);
        assert_eq!(age_at("2026-11-23T08:00:00.000000z", now), ten);
        assert_eq!(age_at("2026-11-23T08:20:00Z", now), Age::Future);
        for unknown in [
            "",
            "2026-11-23T08:00:00+0000",
            "2026-11-23T08:00:00",
            "2026-13-01T00:00:00Z",
            "yesterday",
        ] {
            assert_eq!(age_at(unknown, now), Age::Unknown, "{unknown:?}");
        }
        let window = Duration::from_secs(15 * 60);
        assert!(ten.within(window));
        assert!(!Age::Ago(window).within(window));
        assert!(Age::Future.within(window));
        assert!(Age::Unknown.within(window));
    }
}
