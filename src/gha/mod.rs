//! The GitHub Actions protocol: outputs, step summary, annotations, masks, groups and
//! stop-commands around untrusted text. Everything a tool writes passes through `Actions`,
//! which scrubs every known secret on the way out.

pub mod command;
pub mod output;
pub mod summary;

use std::path::{Path, PathBuf};

use anyhow::Context as _;

pub use command::{Annotation, Level};
pub use summary::Summary;

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
}

impl Actions {
    pub fn new(env: &Env, format: Format) -> Self {
        Self {
            format,
            output_file: env.var(vars::GITHUB_OUTPUT).map(PathBuf::from),
            summary_file: env.var(vars::GITHUB_STEP_SUMMARY).map(PathBuf::from),
            workspace: env.var(vars::GITHUB_WORKSPACE).map(PathBuf::from),
            scrubber: Scrubber::default(),
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    fn commands(&self) -> bool {
        self.format == Format::Github
    }

    fn emit(line: &str) {
        eprintln!("{line}");
    }

    /// Masks a secret in the runner's logs and scrubs it from everything this run writes.
    /// Call it before anything derived from the secret could be printed.
    pub fn mask(&mut self, secret: &str) {
        self.scrubber.add(secret);
        if self.commands() {
            for line in command::add_mask(secret) {
                Self::emit(&line);
            }
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
            Self::emit(&annotation.human());
        }
    }

    /// A log line for people; any untrusted part must already be quoted onto this one line.
    pub fn log(&self, line: &str) {
        Self::emit(&self.scrub(&line.replace(['\r', '\n'], " ")));
    }

    /// Starts a collapsible group, ended when the guard drops.
    pub fn group(&self, title: &str) -> Group {
        let title = self.scrub(title).replace(['\r', '\n'], " ");
        if self.commands() {
            Self::emit(&format!("::group::{}", command::escape_data(&title)));
        } else {
            Self::emit(&format!("== {title}"));
        }
        Group {
            commands: self.commands(),
        }
    }

    /// Prints text we did not write (build logs, API bodies) so it cannot run commands.
    pub fn untrusted(&self, text: &str) {
        let text = self.scrub(text);
        if self.commands() {
            Self::emit(&command::stop_commands(&text, &command::stop_token()));
        } else {
            Self::emit(text.trim_end());
        }
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
