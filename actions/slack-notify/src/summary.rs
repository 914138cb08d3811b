//! The step summary: what was sent (or would be, in a dry run), where, and the exact JSON.

use shipguard::gha::summary::Summary;
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
