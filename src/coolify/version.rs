//! Coolify versions (`4.3.11`, `4.0.0-beta.420`, sometimes with a `v`) and the first
//! version of each behaviour the suite relies on (reference/coolify-api.md §5).

use std::cmp::Ordering;
use std::fmt;

/// A Coolify version; a release sorts after every beta of the same number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    pub beta: Option<u32>,
}

impl Version {
    pub const fn release(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
            beta: None,
        }
    }

    pub const fn beta(n: u32) -> Self {
        Self {
            major: 4,
            minor: 0,
            patch: 0,
            beta: Some(n),
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let (numbers, pre) = match text.split_once('-') {
            Some((n, pre)) => (n, Some(pre)),
            None => (text, None),
        };
        let mut parts = numbers.split('.').map(|p| p.parse::<u32>().ok());
        let major = parts.next()??;
        let minor = parts.next()??;
        let patch = parts.next().unwrap_or(Some(0))?;
        let beta = match pre {
            None => None,
            Some(pre) => Some(pre.strip_prefix("beta.")?.parse().ok()?),
        };
        Some(Self {
            major,
            minor,
            patch,
            beta,
        })
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then(match (self.beta, other.beta) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => a.cmp(&b),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(beta) = self.beta {
            write!(f, "-beta.{beta}")?;
        }
        Ok(())
    }
}

/// A behaviour that only newer servers have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// `GET /deployments/applications/{uuid}`: finding a deduplicated deployment.
    DeploymentHistory,
    /// `POST /deployments/{uuid}/cancel`: cancelling at the timeout.
    Cancel,
    /// A deploy builds the app's `git_commit_sha` instead of resolving the branch head:
    /// ApplicationDeploymentJob.php `shouldResolveBranchHeadCommit` (commit 7a853efa79, first
    /// released in v4.2.0; before it the job overwrote the pin with `git ls-remote` HEAD).
    CommitPin,
    /// `POST /applications/{uuid}/rollback` with `{"commit"}`: routes/api.php L268 (v4.3.0),
    /// ApplicationsController.php `rollback_by_uuid` L5570 (v4.3.0); absent in v4.2.0.
    RollbackEndpoint,
}

impl Feature {
    pub fn since(self) -> Version {
        match self {
            Self::DeploymentHistory => Version::beta(402),
            Self::Cancel => Version::beta(436),
            Self::CommitPin => Version::release(4, 2, 0),
            Self::RollbackEndpoint => Version::release(4, 3, 0),
        }
    }
}

/// The oldest server every input works with: cancel is the newest feature a run may use.
pub const MINIMUM: Version = Version::beta(436);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("4.0.0-beta.420") < v("4.0.0-beta.436"));
        assert!(v("4.0.0-beta.999") < v("4.0.0"));
        assert!(v("v4.2.0") > v("4.1.9"));
        assert_eq!(v("4.3.11").to_string(), "4.3.11");
        assert_eq!(v("4.0.0-beta.420").to_string(), "4.0.0-beta.420");
        assert!(Version::parse("<html>").is_none());
        assert!(Version::parse("4.0.0-rc.1").is_none());
        assert!(Feature::Cancel.since() > Feature::DeploymentHistory.since());
    }
}
