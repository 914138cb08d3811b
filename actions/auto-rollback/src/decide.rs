//! The decisions that must fail closed, kept pure so they can be tested alone: which
//! candidate to roll back to, and whether a recent rollback blocks another.

use std::time::Duration;

use shipguard::commit::CommitRef;

use crate::history::{Candidate, PastRollback};

/// The newest candidate that is not what runs now (`running`: 7 to 40 hex digits) and that
/// no rollback ever moved away from (rolling back twice must go further back, never flip to
/// the bad version again).
pub fn choose<'a>(
    candidates: &'a [Candidate],
    running: Option<&str>,
    rollbacks: &[PastRollback],
) -> Result<&'a Candidate, String> {
    let is_running = |c: &Candidate| running.is_some_and(|r| c.sha.starts_with(r));
    let was_left = |c: &Candidate| {
        rollbacks
            .iter()
            .filter_map(|r| r.from_sha.as_ref().map(CommitRef::as_str))
            .any(|from| c.sha.starts_with(from))
    };
    if let Some(found) = candidates.iter().find(|c| !is_running(c) && !was_left(c)) {
        return Ok(found);
    }
    if candidates.is_empty() {
        return Err("no good version found".to_owned());
    }
    let running_count = candidates.iter().filter(|c| is_running(c)).count();
    let left_count = candidates.iter().filter(|c| was_left(c)).count();
    Err(format!(
        "all {} good versions found are excluded: {running_count} is the version running now, {left_count} a rollback moved away from",
        candidates.len()
    ))
}

/// The rollback inside `cooldown`, if any: no second rollback within it. A record whose time
/// is in the future (clock skew) or unreadable counts as recent: the guard fails closed.
pub fn in_cooldown(rollbacks: &[PastRollback], cooldown: Duration) -> Option<&PastRollback> {
    rollbacks.iter().find(|r| r.age.within(cooldown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipguard::commit::CommitSha;
    use shipguard::timestamp::Age;

    fn candidate(digit: &str) -> Candidate {
        Candidate {
            sha: CommitSha::parse(&digit.repeat(40)).unwrap(),
            evidence: String::new(),
        }
    }

    fn rollback(from: &str, to: &str, age: Age) -> PastRollback {
        PastRollback {
            from_sha: CommitRef::parse(&from.repeat(40)).ok(),
            to_sha: CommitRef::parse(&to.repeat(40)).ok(),
            age,
        }
    }

    fn minutes(m: u64) -> Age {
        Age::Ago(Duration::from_secs(m * 60))
    }

    #[test]
    fn skips_the_running_version_and_versions_a_rollback_left() {
        let candidates = [candidate("c"), candidate("b"), candidate("a")];
        let running = "c".repeat(40);
        assert_eq!(
            choose(&candidates, Some(&running[..7]), &[])
                .unwrap()
                .sha
                .as_str(),
            "b".repeat(40)
        );
        // After rolling back from b, b is never chosen again: go further back.
        let history = [rollback("b", "a", minutes(5))];
        assert_eq!(
            choose(&candidates, Some(&running), &history)
                .unwrap()
                .sha
                .as_str(),
            "a".repeat(40)
        );
    }

    #[test]
    fn fails_closed_when_nothing_qualifies() {
        let running = "a".repeat(40);
        let err = choose(&[candidate("a")], Some(&running), &[]).unwrap_err();
        assert!(err.contains("1 is the version running now"), "{err}");
        assert_eq!(choose(&[], None, &[]).unwrap_err(), "no good version found");
    }

    #[test]
    fn cooldown_sees_recent_future_and_unreadable_rollbacks() {
        let window = Duration::from_secs(15 * 60);
        assert!(in_cooldown(&[rollback("b", "a", minutes(30))], window).is_none());
        assert!(in_cooldown(&[rollback("b", "a", minutes(5))], window).is_some());
        assert!(in_cooldown(&[rollback("b", "a", Age::Future)], window).is_some());
        assert!(in_cooldown(&[rollback("b", "a", Age::Unknown)], window).is_some());
    }
}
