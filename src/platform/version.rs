//! What an app runs: a version in the form its platform deploys by.

use crate::commit::CommitSha;
use crate::coolify::ImageTag;

/// The form a platform names (and deploys) an app's version in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An image tag on a fixed repository (Coolify Docker-image apps).
    ImageTag,
    /// A commit the platform builds (Coolify git-based apps).
    Commit,
    /// A full image reference, repository and tag (Fly machines).
    Image,
}

/// One version of an app, validated: an image tag, a full commit SHA, or a full image
/// reference (as the platform reports it, possibly with `@digest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    ImageTag(ImageTag),
    Commit(CommitSha),
    Image(String),
}

impl Version {
    pub fn kind(&self) -> Kind {
        match self {
            Self::ImageTag(_) => Kind::ImageTag,
            Self::Commit(_) => Kind::Commit,
            Self::Image(_) => Kind::Image,
        }
    }

    /// The version as an image: its tag, or its full reference; `None` for a commit.
    pub fn image(&self) -> Option<String> {
        match self {
            Self::ImageTag(tag) => Some(tag.to_string()),
            Self::Image(image) => Some(image.clone()),
            Self::Commit(_) => None,
        }
    }

    /// The same version, whatever the platform added to its name: an image's `@digest`
    /// (Fly reports `image_ref` with one) does not make it another version.
    pub fn same_as(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Image(a), Self::Image(b)) => without_digest(a) == without_digest(b),
            _ => self == other,
        }
    }
}

/// An image reference without the `@digest` a platform may add to it (Fly's `image_ref`).
pub fn without_digest(image: &str) -> &str {
    image.split_once('@').map_or(image, |(name, _)| name)
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::ImageTag(tag) => tag.fmt(f),
            Self::Commit(sha) => sha.fmt(f),
            Self::Image(image) => f.write_str(image),
        }
    }
}

/// What one app runs now.
#[derive(Debug, Clone)]
pub struct Running {
    /// The form this app's versions take (what a target must be given as).
    pub kind: Kind,
    /// `None` when the platform cannot say (see `unknown`): nothing is guessed.
    pub version: Option<Version>,
    /// Why the version is not known, as a sentence about the app (used when `version` is
    /// `None`).
    pub unknown: String,
}

/// One read of an app: what it runs now and whether a deploy is under way, both from the
/// same listing of its deployments (or machines).
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub running: Running,
    /// A deploy already under way, as a sentence ending in why nothing is deployed over it;
    /// `None` when there is none.
    pub in_progress: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_does_not_make_another_image() {
        let a = Version::Image("registry.fly.io/web:abc".to_owned());
        let b = Version::Image("registry.fly.io/web:abc@sha256:00".to_owned());
        let c = Version::Image("registry.fly.io/web:abd".to_owned());
        assert!(a.same_as(&b));
        assert!(b.same_as(&a));
        assert!(!a.same_as(&c));
        assert_eq!(a.kind(), Kind::Image);
        assert_eq!(
            without_digest("registry.fly.io/web:abc@sha256:00"),
            "registry.fly.io/web:abc"
        );
    }

    #[test]
    fn a_commit_is_no_image() {
        let sha = CommitSha::parse("0123456789abcdef0123456789abcdef01234567").unwrap();
        assert_eq!(Version::Commit(sha).image(), None);
        let tag = ImageTag::parse("v1.2").unwrap();
        assert_eq!(Version::ImageTag(tag).image().as_deref(), Some("v1.2"));
        let image = Version::Image("registry.fly.io/web:abc".to_owned());
        assert_eq!(image.image().as_deref(), Some("registry.fly.io/web:abc"));
    }
}
