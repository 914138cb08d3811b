//! What lockfile-check tells: the JSON report (output `report`), one annotation per
//! finding at its file and line, and the step summary table.

use std::path::Path;

use shipguard::exit::Code;
use shipguard::gha::summary::{code, inline};
use shipguard::gha::{Actions, Annotation, Level, Summary};
use shipguard::npm::Finding;
use shipguard::npm::check::{Mode, Outcome};
use shipguard::report::lockfile_check;

/// The core report ([`shipguard::report::lockfile_check`]) with this tool's rendering (the report is field `0`).
pub struct Report(pub lockfile_check::Report);

impl Report {
    pub fn new(version: &str, mode: Mode, path: String, outcome: Outcome) -> Self {
        Self(lockfile_check::Report::new(version, mode, path, outcome))
    }

    /// The one line that ends the log.
    pub fn verdict_line(&self) -> String {
        let what = format!(
            "{} ({} packages, {} workspaces)",
            self.0.lockfile,
            self.0.packages,
            self.0.workspaces.len()
        );
        let verdict = match self.0.problems.len() {
            0 => format!("{what} is in sync"),
            1 => format!("{what}: 1 problem"),
            n => format!("{what}: {n} problems"),
        };
        match self.0.warnings.len() {
            0 => verdict,
            1 => format!("{verdict} (1 warning: npm ls would call the tree broken)"),
            n => format!("{verdict} ({n} warnings: npm ls would call the tree broken)"),
        }
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary::new();
        let icon = if self.0.in_sync { "✅" } else { "❌" };
        summary.heading(
            3,
            &format!("{icon} lockfile-check: {}", self.verdict_line()),
        );
        let written = self
            .0
            .package_manager
            .as_deref()
            .map(|pm| format!(", root declares {}", code(pm)))
            .unwrap_or_default();
        summary.paragraph(&format!(
            "Mode `{}`, lockfileVersion {}{written}.",
            self.0.mode, self.0.lockfile_version
        ));
        if !self.0.problems.is_empty() {
            // The table stops at the summary's limit and says how many rows it left out;
            // `--format json` lists every finding.
            summary.table(
                &["Problem", "Where", "Why", "Fix"],
                self.0.problems.iter().map(row),
            );
        }
        if !self.0.warnings.is_empty() {
            summary.paragraph(
                "⚠️ Warnings: npm ci accepts the lock, but `npm ls --all` reports these (`mode: tree` fails on them).",
            );
            summary.table(
                &["Problem", "Where", "Why", "Fix"],
                self.0.warnings.iter().map(row),
            );
        }
        for note in &self.0.notes {
            summary.paragraph(&format!("ℹ️ {}", inline(note)));
        }
        summary
    }
}

/// GitHub shows 10 error annotations per step; past this many a log line per problem is
/// noise (a hostile lock can hold 100,000); `--format json` prints every one.
const MAX_ANNOTATIONS: usize = 1000;

impl Report {
    /// One annotation per finding at its file and line (relative to the workspace), up to
    /// [`MAX_ANNOTATIONS`], then one notice for the rest.
    pub fn annotate_findings(&self, actions: &Actions, root: &Path) {
        let levels = [
            (Level::Error, &self.0.problems),
            (Level::Warning, &self.0.warnings),
        ];
        let mut room = MAX_ANNOTATIONS;
        let mut unannotated = 0;
        for (level, findings) in levels {
            let shown = findings.len().min(room);
            room -= shown;
            unannotated += findings.len() - shown;
            for finding in &findings[..shown] {
                let file = actions.workspace_path(&root.join(&finding.file));
                let mut annotation = Annotation::new(level, finding.code, finding.line_text());
                if let Some(line) = finding.line {
                    annotation = annotation.at(file, line, None);
                }
                actions.annotate(annotation);
            }
        }
        if unannotated > 0 {
            actions.annotate(Annotation::new(
                Level::Notice,
                "lockfile-check",
                format!(
                    "{unannotated} more findings are not annotated one by one; `lockfile-check --format json` lists them all"
                ),
            ));
        }
    }
}

impl shipguard::ending::Ending for Report {
    fn report(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.0)?)
    }

    fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(vec![
            ("in-sync", self.0.in_sync.to_string()),
            ("problems", self.0.problems.len().to_string()),
        ])
    }

    fn summary(&self) -> Summary {
        Report::summary(self)
    }

    fn verdict_line(&self) -> String {
        Report::verdict_line(self)
    }

    fn annotations(&self) -> Vec<Annotation> {
        self.0
            .notes
            .iter()
            .map(|note| Annotation::new(Level::Notice, "lockfile-check", note.clone()))
            .collect()
    }

    fn code(&self) -> Code {
        if self.0.in_sync {
            Code::Success
        } else {
            Code::Negative
        }
    }
}

/// Raw text: `Summary::table` escapes each cell, once.
fn row(f: &Finding) -> Vec<String> {
    let place = match f.line {
        Some(line) => format!("{}:{line}", f.file),
        None => f.file.clone(),
    };
    vec![
        f.message.clone(),
        format!("{} — {place}", f.scope),
        f.why.clone(),
        f.fix.clone(),
    ]
}
