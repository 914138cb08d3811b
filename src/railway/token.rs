//! A Railway token and the header it goes in.
//!
//! railwayapp/cli src/client.rs:39-50 (`new_authorized`): a project token (`RAILWAY_TOKEN`)
//! is sent as `project-access-token: <token>`, an account or workspace token
//! (`RAILWAY_API_TOKEN`) as `authorization: Bearer <token>`; docs integrations/api.md:68-110
//! say the same. Nothing in a token says which kind it is, so the kind is an input.

use crate::redact::Secret;

/// Which kind of token, hence which header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Scoped to one environment of one project; `Project-Access-Token`.
    Project,
    /// An account or workspace token; `Authorization: Bearer`.
    Account,
}

impl TokenKind {
    pub const CHOICES: &'static [&'static str] = &["project", "account"];

    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "project" => Some(Self::Project),
            "account" => Some(Self::Account),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Project => "project",
            Self::Account => "account",
        }
    }

    /// The variable the token falls back to (cli src/consts.rs `RAILWAY_TOKEN_ENV`,
    /// `RAILWAY_API_TOKEN_ENV`).
    pub fn fallback_var(self) -> &'static str {
        match self {
            Self::Project => "RAILWAY_TOKEN",
            Self::Account => "RAILWAY_API_TOKEN",
        }
    }
}

/// A token with its kind; the value never prints.
#[derive(Debug, Clone)]
pub struct Token {
    kind: TokenKind,
    value: Secret<String>,
}

impl Token {
    /// `Err` says what is wrong without showing the token.
    pub fn new(kind: TokenKind, raw: &Secret<String>) -> Result<Self, String> {
        let value = raw.expose().trim();
        if value.is_empty() {
            return Err("the token is empty".into());
        }
        if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(
                "the token contains whitespace; give the token alone, without `Bearer ` or a header name"
                    .into(),
            );
        }
        Ok(Self {
            kind,
            value: Secret::new(value.to_owned()),
        })
    }

    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The header name and value to send (cli src/client.rs:41-46).
    pub fn header(&self) -> (&'static str, Secret<String>) {
        match self.kind {
            TokenKind::Project => ("project-access-token", self.value.clone()),
            TokenKind::Account => (
                "authorization",
                Secret::new(format!("Bearer {}", self.value.expose())),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_goes_in_its_own_header() {
        let raw = Secret::new(" tok-123 ".to_owned());
        let project = Token::new(TokenKind::Project, &raw).unwrap();
        let (name, value) = project.header();
        assert_eq!(
            (name, value.expose().as_str()),
            ("project-access-token", "tok-123")
        );
        let account = Token::new(TokenKind::Account, &raw).unwrap();
        let (name, value) = account.header();
        assert_eq!(
            (name, value.expose().as_str()),
            ("authorization", "Bearer tok-123")
        );
    }

    #[test]
    fn blank_or_spaced_tokens_are_refused_without_showing_them() {
        for raw in ["", "  ", "Bearer abcsecret", "abc\nsecret"] {
            let err = Token::new(TokenKind::Account, &Secret::new(raw.to_owned())).unwrap_err();
            assert!(!err.contains("secret"), "{err}");
        }
    }
}
