//! The Machines API's error answers as one line naming the cause and the fix.
//!
//! Bodies are `{"error": "…"}` or `{"status": "error", "message": "…"}` (fly-go
//! flaps/flaps.go:305-330 `handleAPIError`). What the statuses mean: docs
//! working-with-machines-api (status table), machines-resource (408 from `/wait`, 409 on a
//! held lease); 409 is also a `current_version` that no longer matches and 412/422 come from
//! the update's preconditions (Fly staff, community.fly.io/t/15555; not in the docs).

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::gha::Untrusted;

#[derive(Debug, Clone)]
pub struct ApiError {
    /// What was being done, e.g. `update machine 1234 of app web`.
    pub what: String,
    pub status: u16,
    /// The server's message, cut to one short line.
    pub message: Option<Untrusted>,
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn from_body(what: &str, status: u16, body: &str, retry_after: Option<Duration>) -> Self {
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let message = parsed
            .as_ref()
            .and_then(|v| v.get("error").or_else(|| v.get("message")))
            .and_then(Value::as_str)
            .map(|m| Untrusted::one_line(m, 300));
        Self {
            what: what.to_owned(),
            status,
            message,
            retry_after,
        }
    }

    fn hint(&self) -> &'static str {
        match self.status {
            400 => "the API refused the request as malformed",
            401 | 403 => {
                "the token was refused: create a deploy token for the app with `fly tokens create deploy -a <app>` and store it as the `fly-token` secret"
            }
            404 => {
                "no such app or machine: check `app` (the Fly app name) and that the token belongs to its organization"
            }
            408 => "the machine did not reach the state in time",
            409 => {
                "conflict: the machine is leased by someone else (another deploy?), it changed since it was read (`current_version`), or its host has no capacity"
            }
            412 => {
                "precondition failed: a volume the machine needs is in use or not where the machine is"
            }
            422 => {
                "the machine config was refused (a limit such as the machine count, or an invalid field)"
            }
            429 => {
                "rate limited: the Machines API allows 1 request/s per action and machine (bursts of 3); it was retried until the deadline"
            }
            500..=599 => "Fly's API failed; try again later (status.flyio.net)",
            _ => "unexpected answer",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: HTTP {}: {}", self.what, self.status, self.hint())?;
        if let Some(message) = &self.message {
            write!(f, " (Fly says: {message})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_cause_and_keep_the_server_text_on_one_line() {
        let err = ApiError::from_body(
            "lease machine 1 of app web",
            409,
            r#"{"error":"machine already leased\n::error::x"}"#,
            None,
        );
        let line = err.to_string();
        assert!(line.contains("leased by someone else"), "{line}");
        assert!(
            !line.contains('\n') && !line.contains("::error::"),
            "{line}"
        );
        let err = ApiError::from_body("x", 412, r#"{"status":"error","message":"vol"}"#, None);
        assert!(err.to_string().contains("volume"), "{err}");
        assert!(err.to_string().contains("Fly says: vol"), "{err}");
        for status in [408, 422, 429, 401] {
            let line = ApiError::from_body("x", status, "<html>", None).to_string();
            assert!(!line.contains("unexpected"), "{status}: {line}");
        }
    }
}
