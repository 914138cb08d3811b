//! Plain terminal renderings of what an Actions user looks at: a job summary (the Markdown a
//! tool wrote to `GITHUB_STEP_SUMMARY`) and a Slack message (its Block Kit payload). Headings
//! stay headings, tables become aligned text (long cells cut at [`MAX_CELL`] characters), HTML
//! tags are left out and code blocks and Mermaid charts become a one-line pointer to the
//! Markdown file, which has everything.

/// The widest table cell shown; the Markdown file has the rest.
pub const MAX_CELL: usize = 48;

use serde_json::Value;

/// A job summary's Markdown as plain text.
pub fn markdown(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut table: Vec<Vec<String>> = Vec::new();
    // The kind of the code block being skipped, and its lines so far.
    let mut fence: Option<(String, usize)> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some((kind, lines)) = &mut fence {
            if trimmed.starts_with("```") {
                out.push(if kind == "mermaid" {
                    "    (a chart: see the Markdown file)".to_owned()
                } else {
                    format!("    ({lines} lines of {kind}: see the Markdown file)")
                });
                fence = None;
            } else {
                *lines += 1;
            }
            continue;
        }
        if !trimmed.starts_with('|') && !table.is_empty() {
            out.extend(aligned(&std::mem::take(&mut table)));
        }
        if let Some(info) = trimmed.strip_prefix("```") {
            let kind = match info.trim() {
                "" => "code".to_owned(),
                kind => kind.to_owned(),
            };
            fence = Some((kind, 0));
            continue;
        }
        if trimmed.starts_with('|') {
            let row = cells(trimmed);
            if !is_separator(&row) {
                table.push(row);
            }
            continue;
        }
        let plain = inline(&strip_tags(trimmed));
        if let Some((level, heading)) = heading(&plain) {
            let underline = if level <= 2 { '=' } else { '-' };
            out.push(heading.to_owned());
            out.push(underline.to_string().repeat(heading.chars().count()));
            continue;
        }
        if plain.is_empty() && out.last().is_none_or(String::is_empty) {
            continue;
        }
        out.push(plain);
    }
    if !table.is_empty() {
        out.extend(aligned(&table));
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out.join("\n")
}

/// A Slack payload as it would read: the blocks (top level or in the first attachment) as
/// plain text, else the fallback `text`.
pub fn slack(payload: &Value) -> String {
    let blocks = payload["blocks"]
        .as_array()
        .or_else(|| payload["attachments"][0]["blocks"].as_array());
    let mut out = Vec::new();
    match blocks {
        Some(blocks) if !blocks.is_empty() => {
            for block in blocks {
                out.extend(block_lines(block));
            }
        }
        _ => out.push(mrkdwn(payload["text"].as_str().unwrap_or_default())),
    }
    out.retain(|l| !l.trim().is_empty());
    out.join("\n")
}

fn block_lines(block: &Value) -> Vec<String> {
    let text = |v: &Value| mrkdwn(v["text"].as_str().unwrap_or_default());
    match block["type"].as_str().unwrap_or_default() {
        "header" => {
            let line = text(&block["text"]);
            let width = line.chars().count();
            vec![line, "━".repeat(width)]
        }
        "divider" => vec!["────────".to_owned()],
        "context" => vec![
            block["elements"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect::<Vec<_>>()
                .join(" · "),
        ],
        "actions" => vec![
            block["elements"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| format!("[{}]", text(&e["text"])))
                .collect::<Vec<_>>()
                .join(" "),
        ],
        _ => {
            let mut lines: Vec<String> = Vec::new();
            if block["text"].is_object() {
                lines.extend(text(&block["text"]).lines().map(str::to_owned));
            }
            for field in block["fields"].as_array().into_iter().flatten() {
                let field = text(field);
                let mut parts = field.splitn(2, '\n');
                let first = parts.next().unwrap_or_default();
                match parts.next() {
                    Some(rest) => lines.push(format!("{first}: {}", rest.replace('\n', " "))),
                    None => lines.push(first.to_owned()),
                }
            }
            lines
        }
    }
}

/// Slack mrkdwn as plain text: `<url|label>` → `label (url)`, mentions, `*bold*`, entities.
pub fn mrkdwn(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let inner = &after[..end];
        out.push_str(&match inner.split_once('|') {
            Some((url, label)) => format!("{label} ({url})"),
            None if inner.starts_with('!') => format!("@{}", &inner[1..]),
            None if inner.starts_with('@') || inner.starts_with('#') => inner.to_owned(),
            None => inner.to_owned(),
        });
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    let out = strip_emphasis(&out, '*').replace('`', "");
    entities(&out)
}

/// `*word*` → `word`, only where the marks pair up around a word on one line.
fn strip_emphasis(text: &str, mark: char) -> String {
    text.lines()
        .map(|line| {
            if line.matches(mark).count() % 2 == 0 {
                line.replace(mark, "")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#124;", "|")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    if level == 0 || level > 6 {
        return None;
    }
    line[level..]
        .strip_prefix(' ')
        .map(|text| (level, text.trim()))
}

/// The cells of a table row; `\|` is a pipe inside a cell.
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell)),
            other => cell.push(other),
        }
    }
    cells.push(cell);
    cells
        .iter()
        .map(|c| {
            let cell = inline(&strip_tags(c.trim()));
            if cell.chars().count() > MAX_CELL {
                let cut: String = cell.chars().take(MAX_CELL - 1).collect();
                format!("{cut}…")
            } else {
                cell
            }
        })
        .collect()
}

fn is_separator(row: &[String]) -> bool {
    row.iter().all(|c| {
        let c = c.trim();
        !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':'))
    })
}

/// Rows padded to their columns' widths; a rule under the header row.
fn aligned(rows: &[Vec<String>]) -> Vec<String> {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |row: &Vec<String>| {
        let padded: Vec<String> = (0..columns)
            .map(|i| {
                let cell = row.get(i).map_or("", String::as_str);
                let pad = widths[i].saturating_sub(cell.chars().count());
                format!("{cell}{}", " ".repeat(pad))
            })
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        out.push(line(row));
        if index == 0 && rows.len() > 1 {
            out.push(
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("  "),
            );
        }
    }
    out
}

/// Removes HTML tags (`<details>`, `<summary>`, `<br>`, …); a `<` that opens no tag stays.
fn strip_tags(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let opens_tag = after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!');
        match after.find('>') {
            Some(end) if opens_tag => {
                let tag = after[..end].trim_start_matches('/').to_ascii_lowercase();
                if tag.starts_with("br") {
                    out.push(' ');
                }
                rest = &after[end + 1..];
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Inline Markdown as plain text: `**bold**`, `` `code` `` and `[label](url)` → `label (url)`.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('[') {
        let after = &rest[start + 1..];
        let link = after
            .find("](")
            .and_then(|mid| after[mid + 2..].find(')').map(|end| (mid, mid + 2 + end)));
        match link {
            Some((mid, end)) => {
                out.push_str(&rest[..start]);
                out.push_str(&format!("{} ({})", &after[..mid], &after[mid + 2..end]));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[..=start]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    entities(&unmark(&out))
}

/// Drops `**` and backticks and resolves backslash escapes (`\_` → `_`), whose characters
/// stay as written.
fn unmark(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek().is_some_and(char::is_ascii_punctuation) => {
                out.extend(chars.next());
            }
            '`' => {}
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_summary_reads_as_aligned_text() {
        let md = "## health-wait: healthy\n\n| URL | Status | p95 |\n|---|:---:|--:|\n| `http://a/\\_health` | **200** | 12 ms |\n| http://b | 503 \\| 200 | 1 ms |\n\n<details><summary>Report JSON</summary>\n\n```json\n{\"a\":1}\n```\n</details>\n\n```mermaid\nxychart-beta\n```\n";
        let text = markdown(md);
        assert_eq!(
            text,
            "health-wait: healthy\n\
             ====================\n\
             \n\
             URL               Status     p95\n\
             ----------------  ---------  -----\n\
             http://a/_health  200        12 ms\n\
             http://b          503 | 200  1 ms\n\
             \n\
             Report JSON\n\
             \n    (1 lines of json: see the Markdown file)\n\
             \n    (a chart: see the Markdown file)"
        );
        assert!(!text.contains('<'), "{text}");
    }

    #[test]
    fn long_cells_are_cut_and_escapes_resolved() {
        let long = "x".repeat(MAX_CELL + 10);
        let text = markdown(&format!(
            "| a | b |\n|---|---|\n| {long} | \\[STATUS\\] == 200 |"
        ));
        let row = text.lines().nth(2).unwrap_or_default();
        assert!(
            row.starts_with(&format!("{}…  ", "x".repeat(MAX_CELL - 1))),
            "{text}"
        );
        assert!(row.ends_with("[STATUS] == 200"), "{text}");
    }

    #[test]
    fn links_and_lone_angle_brackets_survive() {
        assert_eq!(
            markdown("### Next\n- see [the run](https://x/1) & `a < b`"),
            "Next\n----\n- see the run (https://x/1) & a < b"
        );
    }

    #[test]
    fn a_slack_message_reads_as_text() {
        let payload = json!({
            "text": "fallback",
            "attachments": [{"color": "#2eb886", "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Rolled back shop"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": "*Deploy* `e4f5a6b` failed &amp; <!here>"},
                 "fields": [{"type": "mrkdwn", "text": "*Commit*\n<https://github.com/a/b/commit/1|1234567>"}]},
                {"type": "divider"},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": "<https://run|Workflow run>"}, {"type": "plain_text", "text": "by octocat"}]}
            ]}]
        });
        assert_eq!(
            slack(&payload),
            "Rolled back shop\n\
             ━━━━━━━━━━━━━━━━\n\
             Deploy e4f5a6b failed & @here\n\
             Commit: 1234567 (https://github.com/a/b/commit/1)\n\
             ────────\n\
             Workflow run (https://run) · by octocat"
        );
        assert_eq!(slack(&json!({"text": "*only* text"})), "only text");
    }
}
