//! How long a cleanup may run after a deadline has passed: the deadline ends the wait, not
//! the undoing of what it started.

use std::time::Duration;

/// A cancel at the timeout gets this long of its own (the deadline has passed by then).
pub const CANCEL_GRACE: Duration = Duration::from_secs(10);

/// Putting back what a deploy changed (Coolify's commit pin) gets this long of its own,
/// after the rollout's deadline.
pub const RESTORE_GRACE: Duration = Duration::from_secs(15);
