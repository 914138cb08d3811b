//! `image-tag-template`: how a commit becomes a Docker image tag (`main-{short_sha}`,
//! `{sha}`, `{branch}-{short_sha}`), and back: which commit an image tag was built from.

use shipguard::commit::CommitSha;
use shipguard::coolify::ImageTag;

/// A validated template.
#[derive(Debug, Clone)]
pub struct TagTemplate {
    raw: String,
    parts: Pattern,
}

/// The placeholders of a template, shared with `image-template` (platform fly), which also
/// allows `{app}`: parsed once, rendered for a commit, and matched back to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern(Vec<Part>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Sha,
    ShortSha,
    Branch,
    App,
}

impl Pattern {
    /// Reads `raw`; `{app}` only when `with_app`. Exactly one `{sha}` or `{short_sha}`.
    pub(crate) fn parse(raw: &str, with_app: bool) -> Result<Self, String> {
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
                "app" if with_app => Part::App,
                other => {
                    let app = if with_app { "{app}, " } else { "" };
                    return Err(format!(
                        "unknown placeholder {{{other}}}; use {app}{{sha}}, {{short_sha}} or {{branch}}"
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
        Ok(Self(parts))
    }

    /// The text for `sha` built on `branch` (for `app`, where the pattern names it).
    pub(crate) fn render(&self, sha: &CommitSha, branch: &str, app: &str) -> String {
        self.0
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

    /// The commit (full, or the 7+ hex digits of `{short_sha}`) `text` stands for.
    pub(crate) fn commit_of(&self, text: &str, branch: &str, app: &str) -> Option<String> {
        let mut rest = text;
        let mut found = None;
        for part in &self.0 {
            match part {
                Part::Literal(literal) => rest = rest.strip_prefix(literal.as_str())?,
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

impl TagTemplate {
    /// `{sha}`: the default, the image tag is the full commit SHA.
    pub fn full_sha() -> Self {
        Self {
            raw: "{sha}".to_owned(),
            parts: Pattern(vec![Part::Sha]),
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let parts = Pattern::parse(raw.trim(), false)?;
        let template = Self {
            raw: raw.trim().to_owned(),
            parts,
        };
        template.check("main")?;
        Ok(template)
    }

    /// Whether every commit renders to a valid Docker image tag on `branch`.
    pub fn check(&self, branch: &str) -> Result<(), String> {
        let sample = CommitSha::parse(&"0".repeat(40))?;
        self.render(&sample, branch).map(drop)
    }

    /// The image tag of `sha` built on `branch`, checked against Docker's tag grammar.
    pub fn render(&self, sha: &CommitSha, branch: &str) -> Result<ImageTag, String> {
        let text = self.parts.render(sha, branch, "");
        ImageTag::parse(&text)
    }

    /// The template as given, for messages.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The commit (full, or the 7+ hex digits of `{short_sha}`) an image tag stands for.
    pub fn commit_of(&self, tag: &str, branch: &str) -> Option<String> {
        self.parts.commit_of(tag, branch, "")
    }
}

/// A branch as image tags write it (docker/metadata-action's rule): `/` and other characters
/// a tag cannot hold become `-`.
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
    fn renders_and_reads_back() {
        let t = TagTemplate::parse("{branch}-{short_sha}").unwrap();
        let sha = CommitSha::parse(SHA).unwrap();
        assert_eq!(
            t.render(&sha, "feature/x").unwrap().as_str(),
            "feature-x-0123456"
        );
        assert!(t.render(&sha, &"b".repeat(130)).is_err());
        assert_eq!(
            t.commit_of("feature-x-0123456", "feature/x").as_deref(),
            Some("0123456")
        );
        assert_eq!(t.commit_of("main-0123456", "feature/x"), None);
        let t = TagTemplate::parse("sha-{sha}").unwrap();
        assert_eq!(
            t.commit_of(&format!("sha-{SHA}"), "main").as_deref(),
            Some(SHA)
        );
        assert_eq!(t.commit_of("sha-0123456", "main"), None);
    }

    #[test]
    fn bad_templates_are_refused() {
        for bad in ["latest", "{sha}-{short_sha}", "{commit}", "{sha", "a/{sha}"] {
            assert!(TagTemplate::parse(bad).is_err(), "{bad}");
        }
    }
}
