//! `image-template` (platform fly): how a commit becomes a full image reference, e.g.
//! `registry.fly.io/{app}:{sha}` or `ghcr.io/acme/api:main-{short_sha}`, and back: which
//! commit the image a machine runs was built from. (`image-tag-template` stays Coolify's.)

use shipguard::commit::CommitSha;
use shipguard::platform::version::without_digest;

use crate::template::Pattern;

#[derive(Debug, Clone)]
pub struct ImageTemplate {
    raw: String,
    parts: Pattern,
}

impl ImageTemplate {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) || raw.len() > 300 {
            return Err(format!(
                "{raw:?} must be one image reference without spaces"
            ));
        }
        let parts = Pattern::parse(raw, true)?;
        // The commit goes into the tag, after the last `:` of the reference.
        let last_colon = raw.rfind(':');
        let sha_at = raw.find("{sha}").or_else(|| raw.find("{short_sha}"));
        if last_colon.is_none_or(|c| sha_at.is_some_and(|s| s < c)) {
            return Err(format!(
                "{raw:?} must put the commit in the image tag, e.g. registry.fly.io/{{app}}:{{sha}}"
            ));
        }
        Ok(Self {
            raw: raw.to_owned(),
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The image of `sha` for `app` built on `branch`.
    pub fn render(&self, sha: &CommitSha, branch: &str, app: &str) -> String {
        self.parts.render(sha, branch, app)
    }

    /// The commit (full, or the 7+ hex digits of `{short_sha}`) an image stands for; a
    /// digest after `@` (what Fly reports in `image_ref`) is ignored.
    pub fn commit_of(&self, image: &str, branch: &str, app: &str) -> Option<String> {
        self.parts.commit_of(without_digest(image), branch, app)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn renders_and_reads_back_with_the_app() {
        let t = ImageTemplate::parse("registry.fly.io/{app}:{sha}").unwrap();
        let sha = CommitSha::parse(SHA).unwrap();
        let image = t.render(&sha, "main", "web");
        assert_eq!(image, format!("registry.fly.io/web:{SHA}"));
        assert_eq!(t.commit_of(&image, "main", "web").as_deref(), Some(SHA));
        assert_eq!(
            t.commit_of(&format!("{image}@sha256:abc"), "main", "web")
                .as_deref(),
            Some(SHA)
        );
        assert_eq!(t.commit_of(&image, "main", "api"), None);
        let t = ImageTemplate::parse("ghcr.io/acme/api:main-{short_sha}").unwrap();
        assert_eq!(
            t.commit_of("ghcr.io/acme/api:main-0123456", "main", "x")
                .as_deref(),
            Some("0123456")
        );
        assert_eq!(t.commit_of("ghcr.io/acme/api:latest", "main", "x"), None);
    }

    #[test]
    fn bad_templates_are_refused() {
        for bad in [
            "registry.fly.io/web:latest",
            "{sha}/web:x",
            "a:{commit}",
            "a b:{sha}",
            "a:{sha}{short_sha}",
        ] {
            assert!(ImageTemplate::parse(bad).is_err(), "{bad}");
        }
    }
}
