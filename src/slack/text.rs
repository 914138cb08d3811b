//! Text as Slack needs it: mrkdwn escapes only `&`, `<` and `>`; everything else (quotes,
//! backslashes, newlines, backticks) is carried by JSON encoding and arrives as written.

/// Escapes user text for a mrkdwn field.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A mrkdwn link; the label is escaped, and a URL that could break the link syntax is not
/// linked at all.
pub fn link(url: &str, label: &str) -> String {
    if (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains(['<', '>', '|', ' ', '\n'])
    {
        return format!("<{url}|{}>", escape(label));
    }
    escape(label)
}

/// Cuts text to at most `max` characters, ending with a visible marker when it does.
pub fn truncate(text: &str, max: usize) -> String {
    const MARKER: &str = "… (truncated)";
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(MARKER.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    // Never leave half an escape such as `&am` behind.
    if let Some(amp) = out.rfind('&')
        && !out[amp..].contains(';')
    {
        out.truncate(amp);
    }
    out.push_str(MARKER);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_only_what_slack_requires() {
        assert_eq!(
            escape(r#"a & <b> "q" \ `c` 'd'"#),
            r#"a &amp; &lt;b&gt; "q" \ `c` 'd'"#
        );
    }

    #[test]
    fn links_refuse_hostile_urls() {
        assert_eq!(
            link("https://x.test/run/1", "run <1>"),
            "<https://x.test/run/1|run &lt;1&gt;>"
        );
        assert_eq!(link("https://x.test/a|b", "run"), "run");
        assert_eq!(link("javascript:alert(1)", "run"), "run");
    }

    #[test]
    fn truncates_with_a_marker_and_no_broken_escape() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate(&"x".repeat(50), 20);
        assert_eq!(cut.chars().count(), 20);
        assert!(cut.ends_with("… (truncated)"));
        let cut = truncate("aaaaaa&amp;bbbbbbbbbbbbbbbbbbbbbbbbbb", 20);
        assert_eq!(cut, "aaaaaa… (truncated)");
    }
}
