//! Railway's error answers as one line naming the cause and the fix.
//!
//! GraphQL errors come as `{"errors": [{"message": …}], "data": …}`, usually with HTTP 200
//! (cli src/client.rs:587-616 reads `errors` before `data`, whatever the status). Messages
//! the CLI recognises: "Not Authorized" (l. 596: a token refused, or one of the wrong kind),
//! "Project Token not found" (l. 589-594: a project token that does not exist, e.g. an
//! account token sent as a project token). 429 carries `Retry-After` (l. 577-585; docs
//! integrations/api.md:134-148).

use std::fmt;
use std::time::Duration;

use crate::gha::Untrusted;

use super::token::TokenKind;

/// An answer with a non-empty `errors[]`: the operation did not happen.
#[derive(Debug, Clone)]
pub struct GraphQlError {
    /// What was being done, e.g. `deploy service 1234`.
    pub what: String,
    /// The servers' messages (at most three, each on one short line).
    pub messages: Vec<Untrusted>,
    pub kind: TokenKind,
}

impl GraphQlError {
    pub fn new(what: &str, messages: Vec<String>, kind: TokenKind) -> Self {
        Self {
            what: what.to_owned(),
            messages: messages
                .into_iter()
                .take(3)
                .map(|m| Untrusted::one_line(&m, 300))
                .collect(),
            kind,
        }
    }

    fn any(&self, needle: &str) -> bool {
        self.messages
            .iter()
            .any(|m| m.as_raw().to_ascii_lowercase().contains(needle))
    }

    /// The token was refused (or is of the other kind).
    pub fn is_auth(&self) -> bool {
        self.any("not authorized") || self.any("project token not found")
    }

    fn hint(&self) -> &'static str {
        if self.is_auth() {
            return match self.kind {
                TokenKind::Account => {
                    "the token was refused as `Authorization: Bearer` (token-kind: account); a project token goes in `Project-Access-Token`: set `token-kind: project`; an account or workspace token must be able to reach the project"
                }
                TokenKind::Project => {
                    "the token was refused as `Project-Access-Token` (token-kind: project); an account or workspace token goes in `Authorization: Bearer`: set `token-kind: account`; a project token must belong to railway-project and railway-environment"
                }
            };
        }
        "Railway refused the request"
    }
}

impl fmt::Display for GraphQlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.hint())?;
        let said: Vec<String> = self.messages.iter().map(ToString::to_string).collect();
        if !said.is_empty() {
            write!(f, " (Railway says: {})", said.join("; "))?;
        }
        Ok(())
    }
}

impl std::error::Error for GraphQlError {}

/// A non-2xx answer without GraphQL errors in it.
#[derive(Debug, Clone)]
pub struct HttpError {
    pub what: String,
    pub status: u16,
    pub retry_after: Option<Duration>,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hint = match self.status {
            401 | 403 => {
                "the token was refused (check `token-kind`: project tokens go in Project-Access-Token, account and workspace tokens in Authorization: Bearer)"
            }
            404 => {
                "no GraphQL endpoint here: check `api-url` (https://backboard.railway.com/graphql/v2)"
            }
            429 => {
                "rate limited (the Free plan allows 100 requests an hour); retried until the deadline"
            }
            500..=599 => "Railway's API failed; try again later (status.railway.com)",
            _ => "unexpected answer",
        };
        write!(f, "{}: HTTP {}: {hint}", self.what, self.status)?;
        if let Some(wait) = self.retry_after {
            write!(f, " (Retry-After {} s)", wait.as_secs())?;
        }
        Ok(())
    }
}

impl std::error::Error for HttpError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_token_names_token_kind() {
        let err = GraphQlError::new("list", vec!["Not Authorized".into()], TokenKind::Account);
        assert!(err.is_auth());
        let line = err.to_string();
        assert!(line.contains("token-kind: project"), "{line}");
        let err = GraphQlError::new(
            "list",
            vec!["Project Token not found\n::error::x".into()],
            TokenKind::Project,
        );
        let line = err.to_string();
        assert!(line.contains("token-kind: account"), "{line}");
        assert!(
            !line.contains('\n') && !line.contains("::error::"),
            "{line}"
        );
        let err = GraphQlError::new("x", vec!["Deployment not found".into()], TokenKind::Project);
        assert!(!err.is_auth());
    }
}
