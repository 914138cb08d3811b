//! The message model: what happened (kind, status), to what (repository, environment,
//! versions), and the evidence. Rendered to Block Kit inside a coloured attachment, with a
//! plain-text fallback for notifications.

use serde_json::{Value, json};

use super::limits;
use super::text::{escape, link};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Deploy,
    Rollback,
    Incident,
    Resolved,
    Custom,
}

impl Kind {
    pub const CHOICES: &'static [&'static str] =
        &["deploy", "rollback", "incident", "resolved", "custom"];

    pub fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "deploy" => Self::Deploy,
            "rollback" => Self::Rollback,
            "incident" => Self::Incident,
            "resolved" => Self::Resolved,
            "custom" => Self::Custom,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Success,
    Failure,
    Cancelled,
    Started,
}

impl Status {
    pub const CHOICES: &'static [&'static str] = &["success", "failure", "cancelled", "started"];

    pub fn from_word(word: &str) -> Option<Self> {
        Some(match word {
            "success" => Self::Success,
            "failure" => Self::Failure,
            "cancelled" => Self::Cancelled,
            "started" => Self::Started,
            _ => return None,
        })
    }

    pub fn word(self) -> &'static str {
        Self::CHOICES[self as usize]
    }

    fn colour(self) -> &'static str {
        match self {
            Self::Success => "#2eb886",
            Self::Failure => "#d72b3f",
            Self::Cancelled => "#9e9e9e",
            Self::Started => "#439fe0",
        }
    }
}

/// Everything a message says; user text is kept as data until rendering.
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: Kind,
    pub status: Status,
    pub title: Option<String>,
    pub text: Option<String>,
    pub environment: Option<String>,
    pub version: Option<String>,
    pub from_sha: Option<String>,
    pub to_sha: Option<String>,
    pub fields: Vec<(String, String)>,
    /// Already validated Slack mention syntax (`<!here>`, `<@U123>`), shown when it applies.
    pub mention: Option<String>,
    pub repository: Option<String>,
    pub sha: Option<String>,
    pub actor: Option<String>,
    pub ref_name: Option<String>,
    pub run_url: Option<String>,
    pub commit_url: Option<String>,
    /// Blocks rendered from another tool's report.
    pub evidence: Vec<Value>,
}

impl Message {
    pub fn new(kind: Kind, status: Status) -> Self {
        Self {
            kind,
            status,
            title: None,
            text: None,
            environment: None,
            version: None,
            from_sha: None,
            to_sha: None,
            fields: Vec::new(),
            mention: None,
            repository: None,
            sha: None,
            actor: None,
            ref_name: None,
            run_url: None,
            commit_url: None,
            evidence: Vec::new(),
        }
    }

    /// The headline: the given title, else one written from kind, status and target.
    pub fn headline(&self) -> String {
        if let Some(title) = &self.title {
            return title.clone();
        }
        let what = self
            .repository
            .clone()
            .unwrap_or_else(|| "the app".to_owned());
        let env = self.environment.as_deref();
        let to = env.map(|e| format!(" to {e}")).unwrap_or_default();
        let in_env = env.map(|e| format!(" in {e}")).unwrap_or_default();
        use {Kind::*, Status::*};
        match (self.kind, self.status) {
            (Deploy, Started) => format!("🚀 Deploying {what}{to}"),
            (Deploy, Success) => format!("✅ Deployed {what}{to}"),
            (Deploy, Failure) => format!("❌ Deploy of {what}{to} failed"),
            (Deploy, Cancelled) => format!("⚪ Deploy of {what}{to} cancelled"),
            (Rollback, Started) => format!("⏪ Rolling back {what}{in_env}"),
            (Rollback, Success) => format!("⏪ Rolled back {what}{in_env}"),
            (Rollback, Failure) => format!("🔥 Could not roll back {what}{in_env}"),
            (Rollback, Cancelled) => format!("⚪ Rollback of {what}{in_env} cancelled"),
            (Incident, Success) => format!("✅ {what}{in_env} is healthy"),
            (Incident, _) => format!("🚨 Incident: {what}{in_env} is unhealthy"),
            (Resolved, _) => format!("✅ Resolved: {what}{in_env} is healthy again"),
            (Custom, Success) => format!("✅ {what}"),
            (Custom, Failure) => format!("❌ {what}"),
            (Custom, Cancelled) => format!("⚪ {what}"),
            (Custom, Started) => format!("🔵 {what}"),
        }
    }

    /// The plain-text fallback shown in notifications, with the mention when there is one.
    pub fn fallback(&self) -> String {
        let headline = escape(&self.headline());
        match &self.mention {
            Some(mention) => format!("{mention} {headline}"),
            None => headline,
        }
    }

    /// The Block Kit payload, within Slack's limits.
    pub fn render(&self) -> Value {
        let mut blocks = vec![json!({
            "type": "header",
            "text": {"type": "plain_text", "text": self.headline(), "emoji": true}
        })];
        if let Some(mention) = &self.mention {
            blocks.push(mrkdwn_section(mention));
        }
        if let Some(text) = self.text.as_deref().filter(|t| !t.trim().is_empty()) {
            // plain_text shows user text exactly: no mrkdwn, no mentions, no links.
            blocks.push(json!({"type": "section", "text": {"type": "plain_text", "text": text, "emoji": true}}));
        }
        for chunk in self.facts().chunks(limits::MAX_FIELDS) {
            blocks.push(fields_section(chunk));
        }
        let custom: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("*{}*\n{}", escape(k), escape(v)))
            .collect();
        for chunk in custom.chunks(limits::MAX_FIELDS) {
            blocks.push(fields_section(chunk));
        }
        blocks.extend(self.evidence.iter().cloned());
        blocks.push(self.footer());
        limits::enforce_blocks(&mut blocks);
        let mut fallback = self.fallback();
        limits::enforce_total(&mut blocks, &mut fallback);
        json!({
            "text": fallback,
            "attachments": [{"color": self.status.colour(), "blocks": blocks}]
        })
    }

    /// The structured facts, as mrkdwn fields.
    fn facts(&self) -> Vec<String> {
        let mut facts = Vec::new();
        let mut fact = |label: &str, value: String| facts.push(format!("*{label}*\n{value}"));
        if let Some(repo) = &self.repository {
            fact("Repository", escape(repo));
        }
        if let Some(env) = &self.environment {
            fact("Environment", escape(env));
        }
        if let Some(version) = &self.version {
            fact("Version", escape(version));
        }
        match (&self.from_sha, &self.to_sha) {
            (Some(from), Some(to)) => fact(
                "Change",
                format!("`{}` → `{}`", escape(short(from)), escape(short(to))),
            ),
            (Some(from), None) => fact("From", format!("`{}`", escape(short(from)))),
            (None, Some(to)) => fact("To", format!("`{}`", escape(short(to)))),
            (None, None) => {}
        }
        if let Some(sha) = &self.sha {
            let label = format!("`{}`", short(sha));
            let value = match &self.commit_url {
                Some(url) => link(url, short(sha)),
                None => escape(&label),
            };
            fact("Commit", value);
        }
        if let Some(reference) = &self.ref_name {
            fact("Ref", escape(reference));
        }
        if let Some(actor) = &self.actor {
            fact("Actor", escape(actor));
        }
        facts
    }

    fn footer(&self) -> Value {
        let mut parts = vec![format!("{} · {}", kind_word(self.kind), self.status.word())];
        if let Some(url) = &self.run_url {
            parts.push(link(url, "Workflow run"));
        }
        parts.push("shipguard slack-notify".to_owned());
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": parts.join(" · ")}]})
    }
}

fn kind_word(kind: Kind) -> &'static str {
    Kind::CHOICES[kind as usize]
}

/// The first 7 characters of a SHA; anything else is shown whole.
fn short(sha: &str) -> &str {
    if sha.len() > 7 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        &sha[..7]
    } else {
        sha
    }
}

/// A section of our own mrkdwn (callers escape user parts).
pub fn mrkdwn_section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

fn fields_section(fields: &[String]) -> Value {
    let fields: Vec<Value> = fields
        .iter()
        .map(|f| json!({"type": "mrkdwn", "text": f}))
        .collect();
    json!({"type": "section", "fields": fields})
}

/// Checks a mention: Slack's special mentions and user or group ids, space-separated.
pub fn parse_mention(text: &str) -> Result<String, String> {
    let valid = |token: &str| {
        matches!(token, "<!here>" | "<!channel>" | "<!everyone>")
            || token
                .strip_prefix("<@")
                .or_else(|| token.strip_prefix("<!subteam^"))
                .and_then(|rest| rest.strip_suffix('>'))
                .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
    };
    let tokens: Vec<&str> = text.split_whitespace().collect();
    if tokens.is_empty() || !tokens.iter().all(|t| valid(t)) {
        return Err(format!(
            "{text:?} is not a Slack mention; use <!here>, <!channel>, <@U0123ABC> or <!subteam^S0123ABC>"
        ));
    }
    Ok(tokens.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_validated() {
        assert_eq!(
            parse_mention(" <!here>  <@U01AB> ").unwrap(),
            "<!here> <@U01AB>"
        );
        assert!(parse_mention("<!subteam^S9>").is_ok());
        for bad in ["@here", "<!here", "<@U1|x>", "<https://evil|click>", ""] {
            assert!(parse_mention(bad).is_err(), "{bad}");
        }
    }

    /// One snapshot per kind and status, with every field set and hostile user text.
    #[test]
    fn rendered_block_kit_snapshots() {
        for kind in Kind::CHOICES {
            for status in Status::CHOICES {
                let mut m = Message::new(
                    Kind::from_word(kind).unwrap(),
                    Status::from_word(status).unwrap(),
                );
                m.text = Some("Fix \"checkout\" <script> & `tick`\nsecond line".into());
                m.environment = Some("production".into());
                m.version = Some("v2.3.0".into());
                m.from_sha = Some("1111111aaaaaaa".into());
                m.to_sha = Some("2222222bbbbbbb".into());
                m.fields = vec![("Region".into(), "eu-west <1>".into())];
                m.mention = (*status == "failure").then(|| "<!here>".into());
                m.repository = Some("acme/shop".into());
                m.sha = Some("0123456789abcdef0123456789abcdef01234567".into());
                m.actor = Some("octocat".into());
                m.ref_name = Some("main".into());
                m.run_url = Some("https://github.com/acme/shop/actions/runs/42".into());
                m.commit_url = Some(
                    "https://github.com/acme/shop/commit/0123456789abcdef0123456789abcdef01234567"
                        .into(),
                );
                let rendered = serde_json::to_string_pretty(&m.render()).unwrap();
                insta::assert_snapshot!(format!("{kind}_{status}"), rendered);
            }
        }
    }

    #[test]
    fn short_shas() {
        assert_eq!(short("0123456789abcdef"), "0123456");
        assert_eq!(short("main-42"), "main-42");
    }
}
