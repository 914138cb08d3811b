//! Coolify versions and the first version of each behaviour the suite relies on
//! (reference/coolify-api.md §5).
//!
//! Real version strings (`config/constants.php` 'version', served by `GET /version`):
//! `4.3.11`, `v4.2.0`, `4.0.0-beta.420`, `4.0.0-beta.420.6` (the 420.x hotfix tags),
//! `4.4-rc.1` (release candidates, tag `v4.4-rc.1`) and `4.3.11-dev.<sha>` (nightly builds).
//! They are ordered as Coolify itself orders them: its updater compares versions with PHP's
//! `version_compare` (app/Actions/Server/UpdateCoolify.php L94, L100 and
//! app/Jobs/CheckForUpdatesJob.php L55, at 379abb25). Its rules, followed here:
//! numbers compare as numbers, part by part; `dev < alpha < beta < rc < a release`, so a
//! pre-release sorts before the release with the same numbers (`4.0.0-beta.420 < 4.0.0`,
//! `4.4-rc.1 < 4.4.0`); a longer run of numbers wins (`beta.420 < beta.420.6 < beta.421`).
//! One deliberate difference: a missing patch number is 0 (`4.4` = `4.4.0`), where PHP puts
//! `4.4` before `4.4.0`; no Coolify tag depends on it. The `<sha>` of a nightly build is not
//! ordered (PHP would order its letters and digits, which says nothing about age).

use std::cmp::Ordering;
use std::fmt;

use crate::gha::{Annotation, Level, Untrusted};

/// A Coolify version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// `-beta.420.6`, `-rc.1`, `-dev.<sha>`; `None` for a release.
    pub pre: Option<Pre>,
}

/// The pre-release stages, in PHP `version_compare` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    Dev,
    Alpha,
    Beta,
    Rc,
}

impl Stage {
    fn from_word(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "dev" | "nightly" => Self::Dev,
            "alpha" | "a" => Self::Alpha,
            "beta" | "b" => Self::Beta,
            "rc" => Self::Rc,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Alpha => "alpha",
            Self::Beta => "beta",
            Self::Rc => "rc",
        }
    }
}

/// A pre-release: its stage, then up to two numbers (`beta.420.6` → 420, 6). Field order is
/// the comparison order; a missing number sorts first (`beta.420 < beta.420.6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pre {
    pub stage: Stage,
    pub number: Option<u32>,
    pub hotfix: Option<u32>,
}

impl Version {
    pub const fn release(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
            pre: None,
        }
    }

    /// `4.0.0-beta.<n>`.
    pub const fn beta(n: u32) -> Self {
        Self {
            major: 4,
            minor: 0,
            patch: 0,
            pre: Some(Pre {
                stage: Stage::Beta,
                number: Some(n),
                hotfix: None,
            }),
        }
    }

    /// Reads a version as Coolify writes it; `None` for anything else (never a guess).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let text = text
            .strip_prefix(['v', 'V'])
            .unwrap_or(text)
            // Build metadata (`+abc`) never orders.
            .split('+')
            .next()?;
        let (numbers, pre) = match text.split_once('-') {
            Some((n, pre)) => (n, Some(pre)),
            None => (text, None),
        };
        let mut parts = numbers.split('.').map(number);
        let major = parts.next()??;
        let minor = parts.next()??;
        let patch = parts.next().unwrap_or(Some(0))?;
        if parts.next().is_some() {
            return None;
        }
        let pre = match pre {
            None => None,
            Some(pre) => Some(parse_pre(pre)?),
        };
        Some(Self {
            major,
            minor,
            patch,
            pre,
        })
    }
}

/// A decimal number of at most 9 digits (no sign, no spaces).
fn number(text: &str) -> Option<u32> {
    (!text.is_empty() && text.len() <= 9 && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// `beta.420.6`, `rc.1`, `rc1`, `dev.<sha>`, `dev`.
fn parse_pre(text: &str) -> Option<Pre> {
    let mut parts = text.split('.');
    let first = parts.next()?;
    let digits_at = first
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(first.len());
    let stage = Stage::from_word(&first[..digits_at])?;
    if stage == Stage::Dev {
        // `dev.<sha>`: the rest names a commit, which is not ordered; it must still be a
        // plain word, so a page of HTML never reads as a nightly build.
        let rest_ok = parts.all(|p| {
            !p.is_empty() && p.len() <= 64 && p.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        return (rest_ok && digits_at == first.len()).then_some(Pre {
            stage,
            number: None,
            hotfix: None,
        });
    }
    let mut numbers = Vec::new();
    if digits_at < first.len() {
        numbers.push(number(&first[digits_at..])?);
    }
    for part in parts {
        numbers.push(number(part)?);
    }
    if numbers.len() > 2 {
        return None;
    }
    Some(Pre {
        stage,
        number: numbers.first().copied(),
        hotfix: numbers.get(1).copied(),
    })
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then(match (self.pre, other.pre) {
                (None, None) => Ordering::Equal,
                // A release sorts after every pre-release of the same numbers.
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
        if let Some(pre) = self.pre {
            write!(f, "-{}", pre.stage.as_str())?;
            for n in [pre.number, pre.hotfix].into_iter().flatten() {
                write!(f, ".{n}")?;
            }
        }
        Ok(())
    }
}

/// What `GET /version` said: a version, or text this client cannot read. An unreadable one
/// never stops a deploy: the tools warn and assume the newest behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerVersion {
    Known(Version),
    /// The first 60 characters of what the server sent.
    Unreadable(Untrusted),
}

impl ServerVersion {
    pub fn read(text: &str) -> Self {
        match Version::parse(text) {
            Some(v) => Self::Known(v),
            None => Self::Unreadable(Untrusted::new(
                text.trim().chars().take(60).collect::<String>(),
            )),
        }
    }

    pub fn known(&self) -> Option<Version> {
        match self {
            Self::Known(v) => Some(*v),
            Self::Unreadable(_) => None,
        }
    }

    /// The version for reports: the version, or `unknown`.
    pub fn label(&self) -> String {
        match self {
            Self::Known(v) => v.to_string(),
            Self::Unreadable(_) => "unknown".to_owned(),
        }
    }

    /// The warning a run prints about this server's version, if any: unreadable (the run
    /// goes on as if it were the newest) or older than [`MINIMUM`].
    pub fn warning(&self) -> Option<Annotation> {
        match self {
            Self::Unreadable(text) => Some(Annotation::new(
                Level::Warning,
                crate::codes::Coolify::CoolifyVersionUnknown,
                format!(
                    "GET /version answered \"{text}\", which is not a Coolify version this tool can read; going on as if it were the newest Coolify (check that `coolify-url` points at Coolify)"
                ),
            )),
            Self::Known(v) if *v < MINIMUM => Some(Annotation::new(
                Level::Warning,
                crate::codes::Coolify::CoolifyTooOld,
                format!(
                    "Coolify {v} is older than {MINIMUM}: cancelling and following deduplicated deployments may not work; upgrade Coolify"
                ),
            )),
            Self::Known(_) => None,
        }
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Known(v) => v.fmt(f),
            Self::Unreadable(text) => write!(f, "of unknown version (\"{text}\")"),
        }
    }
}

/// A behaviour that only newer servers have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    /// `GET /deployments/applications/{uuid}`: finding a deduplicated deployment.
    DeploymentHistory,
    /// `POST /deployments/{uuid}/cancel`: cancelling at the timeout (routes/api.php L69 at
    /// v4.0.0-beta.436; absent at beta.435).
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

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn real_version_strings_parse() {
        for (text, shown) in [
            ("4.3.11", "4.3.11"),
            ("v4.2.0", "4.2.0"),
            ("4.0.0-beta.420", "4.0.0-beta.420"),
            ("4.0.0-beta.420.6", "4.0.0-beta.420.6"),
            ("4.4-rc.1", "4.4.0-rc.1"),
            ("4.3.11-dev.3f2a9c1", "4.3.11-dev"),
            (" 4.3.11\n", "4.3.11"),
            ("4.4.0-RC1", "4.4.0-rc.1"),
        ] {
            assert_eq!(v(text).to_string(), shown, "{text}");
        }
        for bad in [
            "<html>",
            "",
            "4",
            "4.x.1",
            "4.0.0-gamma.1",
            "4.0.0-beta.x",
            "4.0.0-beta.1.2.3",
            "4.0.0.1",
            "4.0.0-dev.<script>",
            "99999999999.0.0",
            "+4.0.0",
        ] {
            assert!(Version::parse(bad).is_none(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn versions_order_as_php_version_compare() {
        let ascending = [
            "4.0.0-beta.400",
            "4.0.0-beta.420",
            "4.0.0-beta.420.1",
            "4.0.0-beta.420.6",
            "4.0.0-beta.421",
            "4.0.0-beta.474",
            "4.0.0",
            "4.1.2",
            "v4.2.0",
            "4.3.10",
            "4.3.11-dev.abc123",
            "4.3.11",
            "4.4-rc.1",
            "4.4-rc.2",
            "4.4.0",
        ];
        for pair in ascending.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
            assert!(v(pair[1]) > v(pair[0]), "{} > {}", pair[1], pair[0]);
        }
        assert_eq!(v("4.4"), v("4.4.0"));
        assert_eq!(
            v("4.3.11-dev.aaa").cmp(&v("4.3.11-dev.bbb")),
            Ordering::Equal
        );
        assert!(Feature::Cancel.since() > Feature::DeploymentHistory.since());
        assert!(v("4.0.0-beta.435") < Feature::Cancel.since());
        assert!(v("4.0.0-beta.436") >= Feature::Cancel.since());
    }

    #[test]
    fn an_unreadable_version_warns_and_is_assumed_newest() {
        let unknown = ServerVersion::read("nightly build ::error::x");
        assert_eq!(unknown.known(), None);
        assert_eq!(unknown.label(), "unknown");
        let warning = unknown.warning().unwrap();
        assert!(format!("{warning:?}").contains("coolify-version-unknown"));
        assert!(ServerVersion::read("4.3.11").warning().is_none());
        let old = ServerVersion::read("4.0.0-beta.420.6").warning().unwrap();
        assert!(format!("{old:?}").contains("coolify-too-old"));
    }
}
