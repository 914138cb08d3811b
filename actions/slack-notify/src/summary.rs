//! The end of a run: the outputs, the step summary (what was sent, or would be in a dry run,
//! where, and the exact JSON) and the verdict.

use serde_json::{Value, json};
use shipguard::gha::summary::Summary;
use shipguard::gha::{Annotation, Level};
use shipguard::slack::{Delivered, Transport};

use crate::settings::Settings;

pub fn render(settings: &Settings, delivered: Option<&Delivered>, error: Option<&str>) -> Summary {
    let mut s = Summary::new();
    let state = match (settings.dry_run, delivered, error) {
        (true, _, _) => "dry run, nothing sent 📝",
        (_, Some(_), _) => "sent ✅",
        _ => "not sent ❌",
    };
    s.heading(3, &format!("slack-notify: {state}"));
    let transport = match &settings.transport {
        Some(Transport::Webhook { .. }) => "incoming webhook".to_owned(),
        Some(Transport::Bot { channel, .. }) => format!("bot token, channel {channel}"),
        None => "none (dry run)".to_owned(),
    };
    let mut rows = vec![
        vec!["Headline".to_owned(), settings.headline.clone()],
        vec![
            "Kind / status".to_owned(),
            format!("{:?} / {:?}", settings.kind, settings.status).to_lowercase(),
        ],
        vec!["Transport".to_owned(), transport],
    ];
    if let Some(ts) = delivered.and_then(|d| d.ts.clone()) {
        rows.push(vec!["Message ts".to_owned(), ts]);
    }
    if let Some(update) = &settings.update_ts {
        rows.push(vec!["Updated message".to_owned(), update.clone()]);
    }
    if let Some(error) = error {
        rows.push(vec!["Error".to_owned(), error.to_owned()]);
    }
    s.table(&["", ""], &rows);
    let mut json = Summary::new();
    json.code_block(&serde_json::to_string_pretty(&settings.payload).unwrap_or_default());
    s.details(&format!("Payload JSON ({})", settings.headline), &json);
    s
}

/// How the run ended, for `shipguard::ending`.
pub struct Notice<'a> {
    pub settings: &'a Settings,
    /// Slack's answer; `None` when nothing was sent (a dry run, an error).
    pub delivered: Option<&'a Delivered>,
    /// Why the message was not sent.
    pub error: Option<String>,
    /// `on-error: warn`: the error is a warning annotation and the run succeeds.
    pub warned: bool,
}

impl shipguard::ending::Ending for Notice<'_> {
    /// slack-notify's outputs are `ts`, `channel` and `payload`; it has no `report` output.
    const REPORT_OUTPUT: bool = false;

    /// A dry run prints the payload; a sent message what Slack answered.
    fn report(&self) -> anyhow::Result<Value> {
        if self.settings.dry_run {
            return Ok(serde_json::to_value(&self.settings.payload)?);
        }
        let delivered = self.delivered.cloned().unwrap_or_default();
        Ok(json!({
            "sent": self.delivered.is_some(),
            "ts": delivered.ts,
            "channel": delivered.channel,
        }))
    }

    /// The three outputs, the same whether the message was sent, previewed or not sent.
    fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        let delivered = self.delivered.cloned().unwrap_or_default();
        Ok(vec![
            ("ts", delivered.ts.unwrap_or_default()),
            ("channel", delivered.channel.unwrap_or_default()),
            ("payload", serde_json::to_string(&self.settings.payload)?),
        ])
    }

    fn summary(&self) -> Summary {
        render(self.settings, self.delivered, self.error.as_deref())
    }

    fn verdict_line(&self) -> String {
        match &self.error {
            None => format!("sent: {}", self.settings.headline),
            Some(error) => format!("not delivered: {error}"),
        }
    }

    fn always_print_report(&self) -> bool {
        self.settings.dry_run
    }

    fn annotations(&self) -> Vec<Annotation> {
        match (&self.error, self.warned) {
            (Some(error), true) => vec![Annotation::new(
                Level::Warning,
                shipguard::codes::Slack::SlackFailed,
                error.clone(),
            )],
            _ => Vec::new(),
        }
    }
}
