//! Coolify's error answers turned into one line that names the cause and the fix
//! (reference/coolify-api.md §2.2 and each endpoint's table).

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use crate::gha::Untrusted;

/// Coolify answered a call with an error status.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// What was being done, e.g. `POST /deploy for app abc`.
    pub what: String,
    pub status: u16,
    /// Coolify's `message`, when the body was JSON with one.
    pub message: Option<Untrusted>,
    /// The 422 field errors, as `field: reason`; both parts come from the server.
    pub field_errors: Vec<(Untrusted, Untrusted)>,
    pub retry_after: Option<Duration>,
    /// The body was not JSON (an HTML page: a wrong URL, a proxy, or no `Accept` header).
    pub not_json: bool,
}

impl ApiError {
    pub fn from_body(what: &str, status: u16, body: &str, retry_after: Option<Duration>) -> Self {
        let parsed: Option<Value> = serde_json::from_str(body).ok();
        let message = parsed
            .as_ref()
            .and_then(|v| v.get("message"))
            .and_then(Value::as_str)
            .map(|m| Untrusted::one_line(m, 300));
        let field_errors = parsed
            .as_ref()
            .and_then(|v| v.get("errors"))
            .and_then(Value::as_object)
            .map(|fields| {
                fields
                    .iter()
                    .map(|(field, reasons)| {
                        // Usually an array of strings; some hand-written checks give one string.
                        let reasons = match reasons {
                            Value::Array(items) => items
                                .iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join("; "),
                            Value::String(one) => one.clone(),
                            other => other.to_string(),
                        };
                        (
                            Untrusted::one_line(field, 100),
                            Untrusted::one_line(&reasons, 200),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            what: what.to_owned(),
            status,
            message,
            field_errors,
            retry_after,
            not_json: parsed.is_none(),
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// What to do about it.
    fn hint(&self) -> Option<String> {
        let message = self.message.as_ref().map_or("", Untrusted::as_raw);
        Some(match self.status {
            401 if message.contains("Invalid token") => "the token's team no longer includes its user; create a new token".to_owned(),
            401 => "the token is invalid, expired or revoked; check the `coolify-token` secret (the whole `<id>|<secret>` string)".to_owned(),
            403 if message.contains("API is disabled") => "enable the API in Coolify: Settings → Configuration → Advanced → API Access".to_owned(),
            403 if message.contains("not allowed to access the API") => "add the runner's IP to Coolify's API allowlist (Settings → Advanced)".to_owned(),
            403 if message.contains("Missing required permissions") => "give the token the missing ability in Coolify (Keys & Tokens → API tokens); the suite needs read, write and deploy".to_owned(),
            403 if message.contains("team role") => "the token's user is only a team member; use a token of an admin or owner".to_owned(),
            403 => "the token is not allowed to do this; check its abilities and its user's role".to_owned(),
            404 if self.not_json || message == "Not found." => "this path does not exist; check `coolify-url` (the Coolify base URL, without /api/v1)".to_owned(),
            404 => "no such resource for this token's team; check the UUID (Coolify → the resource → its URL)".to_owned(),
            405 => "the server wants POST here (Coolify 4.2.0+); this is a client bug, please report it".to_owned(),
            409 => "a domain conflicts with another resource".to_owned(),
            422 => "Coolify rejected the values sent".to_owned(),
            429 => match self.retry_after {
                Some(wait) => format!("Coolify is busy (rate limit or full deploy queue); it asked to wait {}", crate::duration::human(wait)),
                None => "Coolify is busy (rate limit or full deploy queue); try again later".to_owned(),
            },
            500..=599 => "Coolify failed; see its logs (Coolify → Settings → Logs)".to_owned(),
            _ if self.not_json => "the answer is not JSON; check that `coolify-url` points at Coolify itself".to_owned(),
            _ => return None,
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: Coolify answered HTTP {}", self.what, self.status)?;
        if let Some(message) = &self.message {
            write!(f, " \"{message}\"")?;
        } else if self.not_json {
            f.write_str(" (not JSON)")?;
        }
        if !self.field_errors.is_empty() {
            let fields: Vec<String> = self
                .field_errors
                .iter()
                .map(|(field, reason)| format!("{field}: {reason}"))
                .collect();
            write!(f, " [{}]", fields.join(", "))?;
        }
        if let Some(hint) = self.hint() {
            write!(f, ": {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_cause_and_the_fix() {
        let e = ApiError::from_body(
            "GET /version",
            403,
            r#"{"message":"Missing required permissions: read"}"#,
            None,
        );
        let text = e.to_string();
        assert!(text.contains("HTTP 403") && text.contains("Missing required permissions: read"));
        assert!(text.contains("give the token the missing ability"));
        let e = ApiError::from_body(
            "PATCH",
            422,
            r#"{"message":"Validation failed.","errors":{"docker_registry_image_tag":["bad"],"domains":"taken"}}"#,
            None,
        );
        assert_eq!(e.field_errors.len(), 2);
        assert!(e.to_string().contains("domains: taken"));
        let e = ApiError::from_body(
            "PATCH",
            422,
            r###"{"message":"x","errors":{"a\n::error::f":["r"],"##[warning]g":"::e::"}}"###,
            None,
        );
        let text = e.to_string();
        assert!(
            !text.contains("::error::") && !text.contains("##[") && !text.contains('\n'),
            "{text}"
        );
        let e = ApiError::from_body("GET", 404, "<html>\n</html>", None);
        assert!(e.to_string().contains("(not JSON)") && e.to_string().contains("coolify-url"));
        let e = ApiError::from_body("POST /deploy", 429, "{}", Some(Duration::from_secs(60)));
        assert!(e.to_string().contains("wait 1m"), "{e}");
    }
}
