//! How a deploy ended, as every tool reports it (`status` outputs, report JSON).

use serde::Serialize;

/// How one deployment (or a whole deploy: see [`Outcome::overall`]) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Runs the new version (and passes its checks, where the platform has them).
    Finished,
    /// Did not deploy; nothing was put back (not asked, not possible, or it failed).
    Failed,
    /// Did not deploy, and everything it changed was put back and verified.
    Restored,
    Cancelled,
    Timeout,
    /// Not waited for (`wait: false`), or a service/database with nothing to follow.
    Queued,
    /// A signal (a cancelled run, a job timeout) ended the wait; cancelled when it could be.
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Finished => "finished",
            Self::Failed => "failed",
            Self::Restored => "restored",
            Self::Cancelled => "cancelled",
            Self::Timeout => "timeout",
            Self::Queued => "queued",
            Self::Interrupted => "interrupted",
        }
    }

    /// The run's overall status: the worst of its deployments.
    pub fn overall(outcomes: impl IntoIterator<Item = Self>) -> Self {
        let rank = |o: &Self| match o {
            Self::Failed => 4,
            Self::Interrupted | Self::Timeout => 3,
            Self::Restored | Self::Cancelled => 2,
            Self::Queued => 1,
            Self::Finished => 0,
        };
        outcomes
            .into_iter()
            .max_by_key(rank)
            .unwrap_or(Self::Finished)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_outcome_wins() {
        use Outcome::*;
        assert_eq!(Outcome::overall([Finished, Finished]), Finished);
        assert_eq!(Outcome::overall([Finished, Cancelled, Timeout]), Timeout);
        assert_eq!(Outcome::overall([Timeout, Failed]), Failed);
        assert_eq!(Outcome::overall([Finished, Restored]), Restored);
        assert_eq!(Outcome::overall([]), Finished);
    }

    #[test]
    fn names_are_the_serialized_names() {
        // Coolify's kebab-case and Fly's snake_case agree: every name is one word.
        for o in [Outcome::Restored, Outcome::Interrupted, Outcome::Queued] {
            let serialized = serde_json::to_value(o).ok();
            assert_eq!(serialized, Some(serde_json::Value::from(o.as_str())));
        }
    }
}
