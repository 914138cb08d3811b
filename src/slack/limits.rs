//! Slack's Block Kit limits, enforced on the payload before it is sent: a message Slack would
//! refuse (`invalid_blocks`, `msg_too_long`) is cut down with visible markers instead.

use serde_json::Value;

use super::text::truncate;

pub const MAX_BLOCKS: usize = 50;
pub const MAX_SECTION_TEXT: usize = 3000;
pub const MAX_HEADER_TEXT: usize = 150;
pub const MAX_FIELD_TEXT: usize = 2000;
pub const MAX_FIELDS: usize = 10;
pub const MAX_CONTEXT_ELEMENTS: usize = 10;
pub const MAX_MESSAGE_TEXT: usize = 40_000;

/// Applies every limit to a list of blocks, in place. Only keys that exist are touched:
/// indexing a `Value` mutably would add `null` members Slack rejects.
pub fn enforce_blocks(blocks: &mut Vec<Value>) {
    for block in blocks.iter_mut() {
        let kind = block["type"].as_str().unwrap_or_default().to_owned();
        let max = if kind == "header" {
            MAX_HEADER_TEXT
        } else {
            MAX_SECTION_TEXT
        };
        if let Some(text) = block.get_mut("text").and_then(|t| t.get_mut("text")) {
            cut(text, max);
        }
        if let Some(fields) = block.get_mut("fields").and_then(Value::as_array_mut) {
            fields.truncate(MAX_FIELDS);
            for text in fields.iter_mut().filter_map(|f| f.get_mut("text")) {
                cut(text, MAX_FIELD_TEXT);
            }
        }
        if kind == "context"
            && let Some(elements) = block.get_mut("elements").and_then(Value::as_array_mut)
        {
            elements.truncate(MAX_CONTEXT_ELEMENTS);
            for text in elements.iter_mut().filter_map(|e| e.get_mut("text")) {
                cut(text, MAX_SECTION_TEXT);
            }
        }
    }
    if blocks.len() > MAX_BLOCKS {
        let dropped = blocks.len() - (MAX_BLOCKS - 1);
        blocks.truncate(MAX_BLOCKS - 1);
        blocks.push(serde_json::json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!("… {dropped} more blocks truncated")}]
        }));
    }
}

/// Keeps the whole message's text under Slack's 40,000 characters by shortening the longest
/// section texts first.
pub fn enforce_total(blocks: &mut [Value], fallback: &mut String) {
    *fallback = truncate(fallback, MAX_SECTION_TEXT);
    loop {
        let total: usize = blocks.iter().map(text_len).sum::<usize>() + fallback.chars().count();
        if total <= MAX_MESSAGE_TEXT {
            return;
        }
        let Some(longest) = blocks.iter_mut().max_by_key(|b| text_len(b)) else {
            return;
        };
        let len = text_len(longest);
        if len <= 100 {
            return;
        }
        let target = len.saturating_sub(total - MAX_MESSAGE_TEXT).max(100);
        if let Some(text) = longest.get_mut("text").and_then(|t| t.get_mut("text")) {
            cut(text, target);
        }
        if text_len(longest) == len {
            return; // nothing left to shorten in this block
        }
    }
}

fn text_len(block: &Value) -> usize {
    block["text"]["text"]
        .as_str()
        .map_or(0, |t| t.chars().count())
}

fn cut(value: &mut Value, max: usize) {
    if let Some(text) = value.as_str()
        && text.chars().count() > max
    {
        *value = Value::String(truncate(text, max));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn section(text: &str) -> Value {
        json!({"type": "section", "text": {"type": "plain_text", "text": text}})
    }

    #[test]
    fn sections_headers_and_block_count_are_capped() {
        let mut blocks = vec![
            json!({"type": "header", "text": {"type": "plain_text", "text": "h".repeat(400)}}),
        ];
        blocks.push(section(&"s".repeat(12_000)));
        blocks.extend((0..60).map(|i| section(&format!("block {i}"))));
        enforce_blocks(&mut blocks);
        assert_eq!(blocks.len(), MAX_BLOCKS);
        assert_eq!(
            blocks[0]["text"]["text"].as_str().unwrap().chars().count(),
            MAX_HEADER_TEXT
        );
        let long = blocks[1]["text"]["text"].as_str().unwrap();
        assert_eq!(long.chars().count(), MAX_SECTION_TEXT);
        assert!(long.ends_with("(truncated)"));
        assert!(
            blocks[49]["elements"][0]["text"]
                .as_str()
                .unwrap()
                .contains("more blocks truncated")
        );
    }

    #[test]
    fn blocks_without_text_gain_no_members() {
        let mut blocks = vec![
            json!({"type": "section", "fields": [{"type": "mrkdwn", "text": "a"}]}),
            json!({"type": "divider"}),
        ];
        let before = blocks.clone();
        enforce_blocks(&mut blocks);
        let mut fallback = String::new();
        enforce_total(&mut blocks, &mut fallback);
        assert_eq!(blocks, before);
    }

    #[test]
    fn the_whole_message_stays_under_40000() {
        let mut blocks: Vec<Value> = (0..20).map(|_| section(&"x".repeat(2900))).collect();
        let mut fallback = "y".repeat(5000);
        enforce_total(&mut blocks, &mut fallback);
        let total: usize = blocks.iter().map(text_len).sum::<usize>() + fallback.chars().count();
        assert!(total <= MAX_MESSAGE_TEXT, "{total}");
        assert_eq!(fallback.chars().count(), MAX_SECTION_TEXT);
    }
}
