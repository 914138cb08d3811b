//! Delivery: an incoming webhook, or the Web API (`chat.postMessage`, `chat.update`) with a
//! bot token. 429 (honouring Retry-After) and 5xx are retried within a bounded time; payload
//! and configuration errors never are, and Slack's error code is reported with its meaning.

use std::fmt;

use reqwest::Client;
use serde_json::{Value, json};
use url::Url;

use crate::http::{RetryPolicy, read_api_reply, read_error_body, send_with_retry};
use crate::redact::Secret;

/// Where a message goes.
#[derive(Debug, Clone)]
pub enum Transport {
    Webhook {
        url: Secret<Url>,
    },
    Bot {
        token: Secret<String>,
        api: Url,
        channel: String,
    },
}

/// What Slack said about a delivered message (the Web API only; a webhook says "ok").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub ts: Option<String>,
    pub channel: Option<String>,
}

/// Slack refused the message, or never answered.
#[derive(Debug)]
pub struct SendError {
    /// Slack's error code (`no_service`, `invalid_blocks`) or `http-<status>`.
    pub code: String,
    pub http_status: Option<u16>,
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self
            .http_status
            .map(|s| format!(" (HTTP {s})"))
            .unwrap_or_default();
        write!(f, "Slack refused the message: {}{status}", self.code)?;
        if let Some(hint) = hint(&self.code) {
            write!(f, ": {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SendError {}

/// What to do about the error codes people meet.
fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "no_service" | "no_team" => "the webhook URL is revoked or wrong; create a new one",
        "invalid_token" | "not_authed" | "token_revoked" | "account_inactive" => {
            "the bot token is invalid; check the `bot-token` secret"
        }
        "channel_not_found" => {
            "the channel does not exist or the bot cannot see it; use the channel ID"
        }
        "not_in_channel" => "invite the bot to the channel (/invite @your-bot)",
        "channel_is_archived" | "is_archived" => "the channel is archived",
        "missing_scope" => "the bot token lacks the chat:write scope",
        "invalid_payload" | "invalid_blocks" | "invalid_blocks_format" | "invalid_attachments" => {
            "the message is not valid Block Kit"
        }
        "msg_too_long" | "msg_blocks_too_long" => "the message is too long",
        "message_not_found" | "cant_update_message" => {
            "`update-ts` does not name a message this bot posted in that channel"
        }
        "action_prohibited" | "posting_to_general_channel_denied" => {
            "an admin restricts posting there"
        }
        "ratelimited" | "rate_limited" => "Slack rate-limited the request",
        _ => return None,
    })
}

/// Sends a payload; `update_ts` edits that message (bot only), `thread_ts` replies in its
/// thread.
pub async fn send(
    client: &Client,
    policy: &RetryPolicy,
    transport: &Transport,
    payload: &Value,
    update_ts: Option<&str>,
    thread_ts: Option<&str>,
) -> anyhow::Result<Delivered> {
    let mut body = payload.clone();
    if let Some(thread) = thread_ts {
        body["thread_ts"] = json!(thread);
    }
    match transport {
        Transport::Webhook { url } => {
            let response = send_with_retry(policy, "Slack webhook", || {
                client.post(url.expose().clone()).json(&body)
            })
            .await?;
            let status = response.status().as_u16();
            let text = read_error_body(response).await;
            if status == 200 {
                return Ok(Delivered::default());
            }
            Err(SendError {
                code: error_code(&text, status),
                http_status: Some(status),
            }
            .into())
        }
        Transport::Bot {
            token,
            api,
            channel,
        } => {
            body["channel"] = json!(channel);
            let method = match update_ts {
                Some(ts) => {
                    body["ts"] = json!(ts);
                    "chat.update"
                }
                None => "chat.postMessage",
            };
            let url = api.join(method)?;
            let what = format!("Slack {method}");
            let response = send_with_retry(policy, &what, || {
                client
                    .post(url.clone())
                    .bearer_auth(token.expose())
                    .json(&body)
            })
            .await?;
            let status = response.status().as_u16();
            let answer: Value = if status == 200 {
                serde_json::from_str(&read_api_reply(response, &what).await?).unwrap_or(Value::Null)
            } else {
                serde_json::from_str(&read_error_body(response).await).unwrap_or(Value::Null)
            };
            if status == 200 && answer["ok"] == json!(true) {
                return Ok(Delivered {
                    ts: answer["ts"].as_str().map(str::to_owned),
                    channel: answer["channel"].as_str().map(str::to_owned),
                });
            }
            // Slack's error codes are short snake_case words; anything else is not printed.
            let code = answer["error"]
                .as_str()
                .map_or_else(|| format!("http-{status}"), |e| error_code(e, status));
            Err(SendError {
                code,
                http_status: Some(status),
            }
            .into())
        }
    }
}

/// A webhook answers errors as a short plain-text code; anything else becomes `http-<status>`.
fn error_code(body: &str, status: u16) -> String {
    let word = body.trim();
    let is_code = !word.is_empty()
        && word.len() <= 64
        && word.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    if is_code {
        word.to_owned()
    } else {
        format!("http-{status}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_read_safely() {
        assert_eq!(error_code("no_service", 404), "no_service");
        assert_eq!(error_code("<html>oops</html>", 500), "http-500");
        let err = SendError {
            code: "no_service".into(),
            http_status: Some(404),
        };
        assert_eq!(
            err.to_string(),
            "Slack refused the message: no_service (HTTP 404): the webhook URL is revoked or wrong; create a new one"
        );
    }
}
