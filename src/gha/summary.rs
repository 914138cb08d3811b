//! The Markdown step summary: tables, Mermaid charts, details, code blocks, kept under the
//! runner's 1 MiB limit for one step.
//!
//! Text is escaped exactly once, by the function of its target: [`cell`] for table cells
//! ([`Summary::table`] calls it: give it raw text), [`inline`] for our own Markdown
//! ([`Summary::heading`] calls it; `paragraph` callers call it), [`code`] inside a code span,
//! [`html`] for HTML ([`Summary::details`] titles) and [`mermaid_label`] for Mermaid.

/// The runner refuses a step summary over 1 MiB; stay clear of it.
pub const LIMIT: usize = 1024 * 1024 - 1024;

const TRUNCATED: &str = "\n\n> **Summary truncated**: it would have exceeded GitHub's 1 MiB limit. The `report` output holds the full evidence.\n";

/// A Markdown document built from parts.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    text: String,
}

impl Summary {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn heading(&mut self, level: u8, text: &str) -> &mut Self {
        let hashes = "#".repeat(usize::from(level.clamp(1, 6)));
        self.push(&format!("{hashes} {}\n\n", inline(text)))
    }

    /// A paragraph of our own Markdown (callers escape untrusted parts with `inline`).
    pub fn paragraph(&mut self, markdown: &str) -> &mut Self {
        self.push(&format!("{markdown}\n\n"))
    }

    /// A table; every cell is escaped, so any text is safe in it. Rows stop where the
    /// summary would pass [`LIMIT`], and a last line says how many were left out.
    pub fn table<R: AsRef<[String]>>(
        &mut self,
        header: &[&str],
        rows: impl IntoIterator<Item = R>,
    ) -> &mut Self {
        let mut t = format!(
            "| {} |\n",
            header
                .iter()
                .map(|h| cell(h))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        t.push_str(&format!("|{}\n", " --- |".repeat(header.len())));
        // Room for the table, the line about left-out rows, and the truncation notice.
        let room = LIMIT.saturating_sub(self.text.len() + TRUNCATED.len() + 200);
        let mut rows = rows.into_iter();
        for row in rows.by_ref() {
            let line = format!(
                "| {} |\n",
                row.as_ref()
                    .iter()
                    .map(|c| cell(c))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
            if t.len() + line.len() > room {
                let left_out = 1 + rows.count();
                t.push_str(&format!(
                    "\n_{left_out} more rows not shown: a step summary holds at most 1 MiB._\n"
                ));
                break;
            }
            t.push_str(&line);
        }
        t.push('\n');
        self.push(&t)
    }

    /// A Mermaid diagram (GitHub renders ```mermaid blocks).
    pub fn mermaid(&mut self, diagram: &str) -> &mut Self {
        self.push(&format!("```mermaid\n{}\n```\n\n", diagram.trim_end()))
    }

    /// Verbatim text in a fence longer than any backtick run inside it.
    pub fn code_block(&mut self, text: &str) -> &mut Self {
        let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
        self.push(&format!("{fence}text\n{}\n{fence}\n\n", text.trim_end()))
    }

    /// A collapsed section around Markdown built by `body`.
    pub fn details(&mut self, title: &str, body: &Summary) -> &mut Self {
        self.push(&format!(
            "<details><summary>{}</summary>\n\n{}</details>\n\n",
            html(title),
            body.text
        ))
    }

    fn push(&mut self, part: &str) -> &mut Self {
        self.text.push_str(part);
        self
    }

    /// The document, truncated with a visible note when over the limit.
    pub fn render(&self) -> String {
        if self.text.len() <= LIMIT {
            return self.text.clone();
        }
        let mut end = LIMIT - TRUNCATED.len();
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}{TRUNCATED}", &self.text[..end])
    }
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// Escapes HTML-significant characters.
pub fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Escapes text for inline Markdown: HTML, and the characters that start formatting.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in html(text).chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out.replace(['\r', '\n'], " ")
}

/// A Markdown code span around any text: the fence is longer than any backtick run inside
/// (CommonMark code spans show their content literally, so it is never backslash-escaped).
pub fn code(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ");
    let fence = "`".repeat(longest_backtick_run(&text) + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A Mermaid label (chart title, axis, gantt section or task): Mermaid reads `:` `#` `;`
/// `"` and line breaks as syntax, so they become spaces. No backslashes: Mermaid shows them.
pub fn mermaid_label(text: &str) -> String {
    text.chars()
        .map(|c| {
            if matches!(c, ':' | '#' | ';' | '"' | '`') || c.is_control() {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Escapes a table cell: one line, no pipes, no HTML.
pub fn cell(text: &str) -> String {
    let escaped = inline(text);
    if escaped.is_empty() {
        "–".to_owned()
    } else {
        escaped
    }
}

/// A Mermaid `xychart-beta` line chart of one series, e.g. latency per attempt.
pub fn xychart(title: &str, x_label: &str, y_label: &str, values: &[f64]) -> String {
    let label = mermaid_label;
    let max = values.iter().copied().fold(0.0_f64, f64::max).max(1.0);
    let points: Vec<String> = values.iter().map(|v| format!("{v:.0}")).collect();
    format!(
        "xychart-beta\n    title \"{}\"\n    x-axis \"{}\" 1 --> {}\n    y-axis \"{}\" 0 --> {:.0}\n    line [{}]",
        label(title),
        label(x_label),
        values.len().max(2),
        label(y_label),
        (max * 1.1).ceil(),
        points.join(", ")
    )
}

/// One bar of a timeline: a section (an app), a label, and its span in seconds from the start.
#[derive(Debug, Clone)]
pub struct Span {
    pub section: String,
    pub label: String,
    pub start: f64,
    pub end: f64,
}

/// A Mermaid `gantt` timeline of spans, in milliseconds from zero (labels through
/// [`mermaid_label`]).
pub fn timeline(title: &str, spans: &[Span]) -> String {
    let clean = mermaid_label;
    let mut out = format!(
        "gantt\n    title {}\n    dateFormat x\n    axisFormat %M:%S",
        clean(title)
    );
    let mut section = None;
    for span in spans {
        if section != Some(&span.section) {
            out.push_str(&format!("\n    section {}", clean(&span.section)));
            section = Some(&span.section);
        }
        let start = (span.start * 1000.0).round() as u64;
        // A zero-length bar does not render; give it one millisecond.
        let end = ((span.end * 1000.0).round() as u64).max(start + 1);
        out.push_str(&format!("\n    {} :{start}, {end}", clean(&span.label)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_escape_untrusted_cells() {
        let mut s = Summary::new();
        s.heading(3, "health-wait")
            .table(&["a", "b"], &[vec!["x|y\n<b>".into(), String::new()]]);
        assert_eq!(
            s.render(),
            "### health-wait\n\n| a | b |\n| --- | --- |\n| x\\|y &lt;b&gt; | – |\n\n"
        );
    }

    #[test]
    fn a_package_name_is_escaped_exactly_once_per_target() {
        let name = "@scope/a_b|c";
        let mut s = Summary::new();
        s.heading(3, name)
            .table(&["Package"], &[vec![name.to_owned()]]);
        let text = s.render();
        assert_eq!(
            text,
            "### @scope/a\\_b\\|c\n\n| Package |\n| --- |\n| @scope/a\\_b\\|c |\n\n"
        );
        assert!(!text.contains("\\\\"), "doubled backslashes: {text}");
        assert_eq!(code(name), "`@scope/a_b|c`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        let spans = [Span {
            section: name.into(),
            label: "a:b#c".into(),
            start: 0.0,
            end: 1.0,
        }];
        let chart = timeline(name, &spans);
        assert!(chart.contains("section @scope/a_b|c\n"), "{chart}");
        assert!(!chart.contains('\\'), "{chart}");
    }

    #[test]
    fn code_blocks_outlast_backticks_in_the_text() {
        let mut s = Summary::new();
        s.code_block("a ```` b");
        assert!(s.render().starts_with("`````text\n"));
    }

    #[test]
    fn stays_under_the_limit_with_a_note() {
        let mut s = Summary::new();
        let big = "é".repeat(LIMIT);
        s.paragraph(&big);
        let out = s.render();
        assert!(out.len() <= LIMIT);
        assert!(out.contains("Summary truncated"));
    }

    #[test]
    fn timeline_sanitises_labels() {
        let spans = [Span {
            section: "web: app".into(),
            label: "build #1".into(),
            start: 0.5,
            end: 0.5,
        }];
        let chart = timeline("Deploy", &spans);
        assert!(chart.contains("section web  app"), "{chart}");
        assert!(chart.contains("build  1 :500, 501"), "{chart}");
    }

    #[test]
    fn chart_lists_every_point() {
        let chart = xychart("Latency", "attempt", "ms", &[12.4, 30.0, 7.0]);
        assert!(chart.contains("line [12, 30, 7]"), "{chart}");
        assert!(chart.contains("y-axis \"ms\" 0 --> 33"), "{chart}");
    }
}
