//! `image-tag-template`: how a commit becomes a Docker image tag (`main-{short_sha}`,
//! `{sha}`, `{branch}-{short_sha}`), and back: which commit an image tag was built from.

/// A validated template.
#[derive(Debug, Clone)]
pub struct TagTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Sha,
    ShortSha,
    Branch,
}

impl TagTemplate {
    /// `{sha}`: the default, the image tag is the full commit SHA.
    pub fn full_sha() -> Self {
        Self {
            parts: vec![Part::Sha],
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut rest = raw.trim();
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
                other => {
                    return Err(format!(
                        "unknown placeholder {{{other}}}; use {{sha}}, {{short_sha}} or {{branch}}"
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
        let template = Self { parts };
        let sample = template.render(&"0".repeat(40), "main");
        shipguard::coolify::model::check_image_tag(&sample)?;
        Ok(template)
    }

    /// The image tag of `sha` built on `branch`.
    pub fn render(&self, sha: &str, branch: &str) -> String {
        self.parts
            .iter()
            .map(|p| match p {
                Part::Literal(text) => text.clone(),
                Part::Sha => sha.to_owned(),
                Part::ShortSha => sha.chars().take(7).collect(),
                Part::Branch => branch_tag(branch),
            })
            .collect()
    }

    /// The commit (full, or the 7+ hex digits of `{short_sha}`) an image tag stands for.
    pub fn commit_of(&self, tag: &str, branch: &str) -> Option<String> {
        let mut rest = tag;
        let mut found = None;
        for part in &self.parts {
            match part {
                Part::Literal(text) => rest = rest.strip_prefix(text.as_str())?,
                Part::Branch => rest = rest.strip_prefix(branch_tag(branch).as_str())?,
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

/// True when a full SHA and a possibly short one name the same commit.
pub fn same_commit(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    a.len() >= 7 && b.len() >= 7 && (a.starts_with(&b) || b.starts_with(&a))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn renders_and_reads_back() {
        let t = TagTemplate::parse("{branch}-{short_sha}").unwrap();
        assert_eq!(t.render(SHA, "feature/x"), "feature-x-0123456");
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
        assert!(same_commit(SHA, "0123456"));
        assert!(!same_commit(SHA, "0123457"));
    }

    #[test]
    fn bad_templates_are_refused() {
        for bad in ["latest", "{sha}-{short_sha}", "{commit}", "{sha", "a/{sha}"] {
            assert!(TagTemplate::parse(bad).is_err(), "{bad}");
        }
    }
}
