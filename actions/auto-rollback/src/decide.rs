//! The decisions that must fail closed, kept pure so they can be tested alone: which
//! candidate to roll back to, and whether a recent rollback blocks another.

use std::time::Duration;

use crate::history::{Candidate, PastRollback};
use crate::template::same_commit;

/// The newest candidate that is not what runs now and that no rollback ever moved away from
/// (rolling back twice must go further back, never flip to the bad version again).
pub fn choose<'a>(
    candidates: &'a [Candidate],
    running: Option<&str>,
    rollbacks: &[PastRollback],
) -> Result<&'a Candidate, String> {
    let left: Vec<&str> = rollbacks.iter().map(|r| r.from_sha.as_str()).collect();
    let is_running = |sha: &str| running.is_some_and(|r| same_commit(r, sha));
    let was_left = |sha: &str| left.iter().any(|l| same_commit(l, sha));
    if let Some(found) = candidates
        .iter()
        .find(|c| !is_running(&c.sha) && !was_left(&c.sha))
    {
        return Ok(found);
    }
    if candidates.is_empty() {
        return Err("no good version found".to_owned());
    }
    let running_count = candidates.iter().filter(|c| is_running(&c.sha)).count();
    let left_count = candidates.iter().filter(|c| was_left(&c.sha)).count();
    Err(format!(
        "all {} good versions found are excluded: {running_count} is the version running now, {left_count} a rollback moved away from",
        candidates.len()
    ))
}

/// The rollback inside `cooldown`, if any: no second rollback within it.
pub fn in_cooldown(rollbacks: &[PastRollback], cooldown: Duration) -> Option<&PastRollback> {
    rollbacks
        .iter()
        .find(|r| r.age.is_some_and(|age| age < cooldown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(sha: &str) -> Candidate {
        Candidate {
            sha: sha.repeat(40 / sha.len()),
            evidence: String::new(),
        }
    }

    fn rollback(from: &str, to: &str, minutes: u64) -> PastRollback {
        PastRollback {
            from_sha: from.repeat(40 / from.len()),
            to_sha: to.repeat(40 / to.len()),
            age: Some(Duration::from_secs(minutes * 60)),
        }
    }

    #[test]
    fn skips_the_running_version_and_versions_a_rollback_left() {
        let candidates = [candidate("c"), candidate("b"), candidate("a")];
        let running = "c".repeat(40);
        assert_eq!(
            choose(&candidates, Some(&running[..7]), &[]).unwrap().sha,
            "b".repeat(40)
        );
        // After rolling back from b, b is never chosen again: go further back.
        let history = [rollback("b", "a", 5)];
        assert_eq!(
            choose(&candidates, Some(&running), &history).unwrap().sha,
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
    fn cooldown_sees_only_recent_rollbacks() {
        let history = [rollback("b", "a", 30)];
        assert!(in_cooldown(&history, Duration::from_secs(15 * 60)).is_none());
        assert!(in_cooldown(&history, Duration::from_secs(60 * 60)).is_some());
    }
}
