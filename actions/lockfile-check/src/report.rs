//! What lockfile-check tells: the JSON report (output `report`), one annotation per
//! finding at its file and line, and the step summary table.

use serde::Serialize;
use shipguard::gha::Summary;
use shipguard::gha::summary::{code, inline};
use shipguard::npm::Finding;
use shipguard::npm::check::{Mode, Outcome};

#[derive(Serialize)]
pub struct Report<'a> {
    pub tool: &'static str,
    pub version: &'a str,
    pub in_sync: bool,
    pub mode: &'static str,
    /// The checked folder, as given.
    pub path: String,
    pub lockfile: String,
    pub lockfile_version: u64,
    pub package_manager: Option<String>,
    pub workspaces: Vec<String>,
    pub packages: usize,
    pub problems: Vec<Finding>,
    /// `mode: ci`: what only `npm ls` calls missing or invalid; reported, not failing.
    pub warnings: Vec<Finding>,
    pub notes: Vec<String>,
}

impl<'a> Report<'a> {
    pub fn new(version: &'a str, mode: Mode, path: String, outcome: Outcome) -> Self {
        Self {
            tool: "lockfile-check",
            version,
            in_sync: outcome.findings.is_empty(),
            mode: mode.name(),
            path,
            lockfile: outcome.lockfile,
            lockfile_version: outcome.lockfile_version,
            package_manager: outcome.package_manager,
            workspaces: outcome.workspaces,
            packages: outcome.packages,
            problems: outcome.findings,
            warnings: outcome.warnings,
            notes: outcome.notes,
        }
    }

    /// The one line that ends the log.
    pub fn verdict_line(&self) -> String {
        let what = format!(
            "{} ({} packages, {} workspaces)",
            self.lockfile,
            self.packages,
            self.workspaces.len()
        );
        let verdict = match self.problems.len() {
            0 => format!("{what} is in sync"),
            1 => format!("{what}: 1 problem"),
            n => format!("{what}: {n} problems"),
        };
        match self.warnings.len() {
            0 => verdict,
            1 => format!("{verdict} (1 warning: npm ls would call the tree broken)"),
            n => format!("{verdict} ({n} warnings: npm ls would call the tree broken)"),
        }
    }

    pub fn summary(&self) -> Summary {
        let mut summary = Summary::new();
        let icon = if self.in_sync { "✅" } else { "❌" };
        summary.heading(
            3,
            &format!("{icon} lockfile-check: {}", self.verdict_line()),
        );
        let written = self
            .package_manager
            .as_deref()
            .map(|pm| format!(", root declares {}", code(pm)))
            .unwrap_or_default();
        summary.paragraph(&format!(
            "Mode `{}`, lockfileVersion {}{written}.",
            self.mode, self.lockfile_version
        ));
        if !self.problems.is_empty() {
            // The table stops at the summary's limit and says how many rows it left out;
            // `--format json` lists every finding.
            summary.table(
                &["Problem", "Where", "Why", "Fix"],
                self.problems.iter().map(row),
            );
        }
        if !self.warnings.is_empty() {
            summary.paragraph(
                "⚠️ Warnings: npm ci accepts the lock, but `npm ls --all` reports these (`mode: tree` fails on them).",
            );
            summary.table(
                &["Problem", "Where", "Why", "Fix"],
                self.warnings.iter().map(row),
            );
        }
        for note in &self.notes {
            summary.paragraph(&format!("ℹ️ {}", inline(note)));
        }
        summary
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
