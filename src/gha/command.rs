//! Workflow commands with the exact escaping rules of actions/toolkit (`command.ts`).
//!
//! They are written to stderr together with the logs: the runner reads commands from both
//! streams, and one stream keeps masks, groups and stop-commands markers in order with the
//! text they apply to. stdout stays free for results (`--format json` prints only JSON).

use std::fmt;

/// Escapes a command's message: `%`, CR and LF.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property: as data, plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// An annotation; `title` is a stable kebab-case code such as `health-timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub level: Level,
    pub title: String,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Annotation {
    pub fn new(level: Level, title: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            level,
            title: title.into(),
            message: message.into(),
            file: None,
            line: None,
            column: None,
        }
    }

    /// Points the annotation at a file position.
    pub fn at(mut self, file: impl Into<String>, line: u32, column: Option<u32>) -> Self {
        self.file = Some(file.into());
        self.line = Some(line);
        self.column = column;
        self
    }

    /// The one-line human form for logs outside Actions: `error[title]: message (file:line)`.
    pub fn human(&self) -> String {
        let place = match (&self.file, self.line) {
            (Some(file), Some(line)) => format!(" ({file}:{line})"),
            (Some(file), None) => format!(" ({file})"),
            _ => String::new(),
        };
        let message = self.message.replace(['\r', '\n'], " ");
        format!("{}[{}]: {message}{place}", self.level.command(), self.title)
    }
}

impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut props = vec![format!("title={}", escape_property(&self.title))];
        if let Some(file) = &self.file {
            props.push(format!("file={}", escape_property(file)));
        }
        if let Some(line) = self.line {
            props.push(format!("line={line}"));
        }
        if let Some(column) = self.column {
            props.push(format!("col={column}"));
        }
        write!(
            f,
            "::{} {}::{}",
            self.level.command(),
            props.join(","),
            escape_data(&self.message)
        )
    }
}

/// `::add-mask::` lines for a secret: the runner masks line by line, so a multi-line secret
/// needs each line masked on its own.
pub fn add_mask(secret: &str) -> Vec<String> {
    secret
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(|line| format!("::add-mask::{}", escape_data(line)))
        .collect()
}

/// A fresh token for `::stop-commands::`; unguessable, so untrusted text cannot end it.
pub fn stop_token() -> String {
    let mut rng = fastrand::Rng::new();
    (0..32).map(|_| rng.alphanumeric()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_toolkit() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn annotation_format() {
        let a = Annotation::new(Level::Error, "lockfile-drift", "line1\nline2").at(
            "packages/a/package.json",
            12,
            Some(5),
        );
        assert_eq!(
            a.to_string(),
            "::error title=lockfile-drift,file=packages/a/package.json,line=12,col=5::line1%0Aline2"
        );
        assert_eq!(
            a.human(),
            "error[lockfile-drift]: line1 line2 (packages/a/package.json:12)"
        );
        let w = Annotation::new(Level::Warning, "t,x", "m");
        assert_eq!(w.to_string(), "::warning title=t%2Cx::m");
    }

    #[test]
    fn masks_each_line() {
        assert_eq!(
            add_mask("abc\n def \n\n"),
            ["::add-mask::abc", "::add-mask::def"]
        );
    }

    #[test]
    fn stop_tokens_are_fresh() {
        let token = stop_token();
        assert_eq!(token.len(), 32);
        assert_ne!(token, stop_token());
    }
}
