//! `image-template` (platform fly): how a commit becomes a full image reference, e.g.
//! `registry.fly.io/{app}:{sha}` or `ghcr.io/acme/api:main-{short_sha}`, and back: which
//! commit the image a machine runs was built from. (`image-tag-template` stays Coolify's.)

use shipguard::commit::CommitSha;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Sha,
    ShortSha,
    Branch,
    App,
}

#[derive(Debug, Clone)]
pub struct ImageTemplate {
    raw: String,
    parts: Vec<Part>,
}

impl ImageTemplate {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) || raw.len() > 300 {
            return Err(format!(
                "{raw:?} must be one image reference without spaces"
            ));
        }
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("{raw:?} has an unclosed `{{`"))?;
            parts.push(match &rest[open + 1..open + close] {
                "sha" => Part::Sha,
                "short_sha" => Part::ShortSha,
                "branch" => Part::Branch,
                "app" => Part::App,
                other => {
                    return Err(format!(
                        "unknown placeholder {{{other}}}; use {{app}}, {{sha}}, {{short_sha}} or {{branch}}"
                    ));
                }
            });
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        let shas = parts
            .iter()
            .filter(|p| matches!(p, Part::Sha | Part::ShortSha))
            .count();
        if shas != 1 {
            return Err(format!(
                "{raw:?} must contain exactly one {{sha}} or {{short_sha}}"
            ));
        }
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
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(text) => text.clone(),
                Part::Sha => sha.as_str().to_owned(),
                Part::ShortSha => sha.short().to_owned(),
                Part::Branch => branch_tag(branch),
                Part::App => app.to_owned(),
            })
            .collect()
    }

    /// The commit (full, or the 7+ hex digits of `{short_sha}`) an image stands for; a
    /// digest after `@` (what Fly reports in `image_ref`) is ignored.
    pub fn commit_of(&self, image: &str, branch: &str, app: &str) -> Option<String> {
        let image = image.split_once('@').map_or(image, |(name, _)| name);
        let mut rest = image;
        let mut found = None;
        for part in &self.parts {
            match part {
                Part::Literal(text) => rest = rest.strip_prefix(text.as_str())?,
                Part::Branch => rest = rest.strip_prefix(branch_tag(branch).as_str())?,
                Part::App => rest = rest.strip_prefix(app)?,
                Part::Sha | Part::ShortSha => {
                    let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
                    let want = if *part == Part::Sha { 40..=40 } else { 7..=40 };
                    if !want.contains(&hex) {
                        return None;
                    }
                    found = Some(rest[..hex].to_ascii_lowercase());
                    rest = &rest[hex..];
                }
            }
        }
        rest.is_empty().then_some(found).flatten()
    }
}

/// A branch as image tags write it: `/` and other characters a tag cannot hold become `-`.
fn branch_tag(branch: &str) -> String {
    branch
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
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
