//! The GitHub Actions protocol: outputs, step summary, annotations, masks, groups and
//! stop-commands around untrusted text. Everything a tool writes passes through `Actions`,
//! which scrubs every known secret on the way out.

pub mod command;
pub mod output;
pub mod summary;
pub mod untrusted;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use command::{Annotation, Level};
pub use summary::Summary;
pub use untrusted::{Untrusted, shown};

use crate::env::{Env, vars};
use crate::redact::Scrubber;

/// How a tool talks: `github` (workflow commands), `human` (plain logs), `json` (stdout holds
/// only the JSON report).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Github,
    Json,
}

impl Format {
    pub const CHOICES: &'static [&'static str] = &["human", "github", "json"];

    pub fn from_word(word: &str) -> Option<Self> {
        match word {
            "human" => Some(Self::Human),
            "github" => Some(Self::Github),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

/// The Actions side of one tool run.
#[derive(Debug, Clone)]
pub struct Actions {
    format: Format,
    output_file: Option<PathBuf>,
    summary_file: Option<PathBuf>,
    workspace: Option<PathBuf>,
    scrubber: Scrubber,
    /// `GITHUB_ACTIONS=true`: the runner reads commands from our output whatever the format.
    in_actions: bool,
}

impl Actions {
    pub fn new(env: &Env, format: Format) -> Self {
        Self {
            format,
            output_file: env.var(vars::GITHUB_OUTPUT).map(PathBuf::from),
            summary_file: env.var(vars::GITHUB_STEP_SUMMARY).map(PathBuf::from),
            workspace: env.var(vars::GITHUB_WORKSPACE).map(PathBuf::from),
            scrubber: Scrubber::default(),
            in_actions: env.is(vars::GITHUB_ACTIONS, "true"),
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    fn commands(&self) -> bool {
        self.format == Format::Github
    }

    /// One line to stderr. `eprintln!` would panic when stderr is closed; a log line that
    /// cannot be written is dropped instead.
    fn emit(line: &str) {
        write_stderr(line);
    }

    /// A result line on stdout (the verdict), scrubbed and made one safe line.
    pub fn print(&self, line: &str) -> anyhow::Result<()> {
        write_stdout(&untrusted::safe_line(&self.scrub(line)))
    }

    /// A JSON document on stdout, scrubbed and unable to start a command
    /// ([`untrusted::json_for_log`]).
    pub fn print_json(&self, json: &str) -> anyhow::Result<()> {
        write_stdout(&untrusted::json_for_log(&self.scrub(json)))
    }

    /// Masks a secret in the runner's logs and scrubs it from everything this run writes.
    /// Call it before anything derived from the secret could be printed.
    pub fn mask(&mut self, secret: &str) {
        self.scrubber.add(secret);
        // The runner masks what it is told to whatever our format (`json` keeps stdout
        // for JSON; masks go to stderr).
        if self.commands() || self.in_actions {
            for line in command::add_mask(secret) {
                Self::emit(&line);
            }
        }
    }

    /// Masks every secret part of a URL ([`crate::redact::url_secret_parts`]).
    pub fn mask_url(&mut self, url: &url::Url) {
        for part in crate::redact::url_secret_parts(url) {
            self.mask(&part);
        }
    }

    /// Masks a URL given as a secret: whole, and each part a server might echo alone.
    pub fn mask_secret_url(&mut self, raw: &str) {
        self.mask(raw);
        if let Ok(url) = url::Url::parse(raw.trim()) {
            for part in crate::redact::secret_url_parts(&url) {
                self.mask(&part);
            }
        }
    }

    /// Masks a header value whole and word by word ([`crate::redact::header_value_words`]).
    pub fn mask_header_value(&mut self, value: &str) {
        self.mask(value);
        for word in crate::redact::header_value_words(value) {
            self.mask(word);
        }
    }

    /// Text with every known secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        self.scrubber.scrub(text)
    }

    pub fn annotate(&self, mut annotation: Annotation) {
        annotation.message = self.scrub(&annotation.message);
        if self.commands() {
            Self::emit(&annotation.to_string());
        } else {
            Self::emit(&untrusted::safe_line(&annotation.human()));
        }
    }

    /// A log line for people, made one safe line ([`untrusted::safe_line`]); untrusted parts
    /// are formatted in as [`Untrusted`], whose `Display` is neutral anywhere in a line.
    pub fn log(&self, line: &str) {
        Self::emit(&untrusted::safe_line(&self.scrub(line)));
    }

    /// Starts a collapsible group, ended when the guard drops.
    pub fn group(&self, title: &str) -> Group {
        let title = untrusted::safe_line(&self.scrub(title));
        if self.commands() {
            Self::emit(&format!("::group::{}", command::escape_data(&title)));
        } else {
            Self::emit(&format!("== {title}"));
        }
        Group {
            commands: self.commands(),
        }
    }

    /// Prints many lines we did not write (build logs, API bodies) so they cannot run
    /// commands: between stop-commands markers whenever the runner is listening (in Actions,
    /// whatever the format), else line by line through [`untrusted::safe_line`].
    pub fn untrusted(&self, text: &Untrusted) {
        let text = self.scrub(text.as_raw());
        let token = (self.commands() || self.in_actions).then(command::stop_token);
        Self::emit(&untrusted::block(&text, token.as_deref()));
    }

    /// Writes step outputs; a no-op outside Actions (no `$GITHUB_OUTPUT`).
    pub fn set_outputs(&self, outputs: &[(&str, String)]) -> anyhow::Result<()> {
        let Some(path) = &self.output_file else {
            tracing::debug!("GITHUB_OUTPUT is not set; outputs are not written");
            return Ok(());
        };
        let scrubbed: Vec<(String, String)> = outputs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), self.scrub(value)))
            .collect();
        output::append_outputs(path, &scrubbed)
    }

    /// Appends the step summary; a no-op when `$GITHUB_STEP_SUMMARY` is not set.
    pub fn write_summary(&self, summary: &Summary) -> anyhow::Result<()> {
        let Some(path) = &self.summary_file else {
            return Ok(());
        };
        let text = self.scrub(&summary.render());
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .with_context(|| format!("Failed to write the step summary `{}`", path.display()))
    }

    /// A path as annotations want it: relative to `$GITHUB_WORKSPACE` when inside it.
    pub fn workspace_path(&self, path: &Path) -> String {
        let relative = self
            .workspace
            .as_deref()
            .and_then(|ws| {
                let abs = std::path::absolute(path).ok()?;
                let ws = std::path::absolute(ws).ok()?;
                abs.strip_prefix(ws).ok().map(Path::to_path_buf)
            })
            .unwrap_or_else(|| path.to_path_buf());
        relative.to_string_lossy().replace('\\', "/")
    }
}

/// The one writer of stdout. A reader that went away (`lockfile-check --format json | true`)
/// is not an error: the tool ends as it would have (`println!` panics on `EPIPE` instead;
/// Rust ignores SIGPIPE, so the write returns `BrokenPipe`). Any other failure is reported.
/// A line on stderr; a closed stderr is ignored (never a panic, as `eprintln!` would).
pub fn write_stderr(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(err).context("Failed to write to stdout"))
        }
        _ => Ok(()),
    }
}

/// An open `::group::`; dropping it ends the group.
#[derive(Debug)]
pub struct Group {
    commands: bool,
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.commands {
            Actions::emit("::endgroup::");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_and_summary_are_scrubbed() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let sum = dir.path().join("sum");
        let env = Env::from_pairs([
            ("GITHUB_OUTPUT", out.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", sum.to_str().unwrap()),
        ]);
        let mut actions = Actions::new(&env, Format::Human);
        actions.mask("SENTINEL-xyz");
        actions
            .set_outputs(&[("report", "has SENTINEL-xyz".into())])
            .unwrap();
        let mut s = Summary::new();
        s.paragraph("body SENTINEL-xyz");
        actions.write_summary(&s).unwrap();
        let out = std::fs::read_to_string(out).unwrap();
        let sum = std::fs::read_to_string(sum).unwrap();
        assert!(
            out.contains("has ***") && !out.contains("SENTINEL"),
            "{out}"
        );
        assert!(
            sum.contains("body ***") && !sum.contains("SENTINEL"),
            "{sum}"
        );
    }

    #[test]
    fn workspace_paths_are_relative() {
        let env = Env::from_pairs([("GITHUB_WORKSPACE", "/repo")]);
        let actions = Actions::new(&env, Format::Github);
        assert_eq!(
            actions.workspace_path(Path::new("/repo/a/package.json")),
            "a/package.json"
        );
        assert_eq!(
            actions.workspace_path(Path::new("/elsewhere/x")),
            "/elsewhere/x"
        );
    }
}
