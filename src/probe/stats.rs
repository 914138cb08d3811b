//! Latency statistics over a run of attempts.

use std::time::Duration;

/// Nearest-rank percentile (`p` in 0..=100) of unsorted samples.
pub fn percentile(samples: &[Duration], p: f64) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// p50, p95 and max in milliseconds, for outputs and the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Latency {
    pub p50_ms: u64,
    pub p95_ms: u64,
    pub max_ms: u64,
}

impl Latency {
    pub fn of(samples: &[Duration]) -> Option<Self> {
        let ms = |d: Option<Duration>| d.map_or(0, |d| d.as_millis() as u64);
        Some(Self {
            p50_ms: ms(Some(percentile(samples, 50.0)?)),
            p95_ms: ms(percentile(samples, 95.0)),
            max_ms: ms(samples.iter().max().copied()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let ms = |v: &[u64]| {
            v.iter()
                .map(|&m| Duration::from_millis(m))
                .collect::<Vec<_>>()
        };
        let samples = ms(&[50, 10, 40, 20, 30]);
        assert_eq!(percentile(&samples, 50.0), Some(Duration::from_millis(30)));
        assert_eq!(percentile(&samples, 95.0), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&samples, 0.0), Some(Duration::from_millis(10)));
        assert_eq!(percentile(&[], 50.0), None);
        let hundred = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&hundred, 95.0), Some(Duration::from_millis(95)));
        assert_eq!(
            Latency::of(&samples),
            Some(Latency {
                p50_ms: 30,
                p95_ms: 50,
                max_ms: 50
            })
        );
    }
}
