//! Everything lockfile-check judges, in one call: npm's verdict, then (when asked) strict
//! drift, families and registry policies, findings in a stable order. The mode decides
//! what fails: `ci` only what `npm ci` refuses (the rest of `npm ls`'s verdict becomes a
//! warning), `tree` both, `strict` both plus exact drift.

use std::path::Path;

use super::families::{self, Family};
use super::finding::Finding;
use super::policy::{self, Policy};
use super::project::Project;
use super::tree::Tree;
use super::{drift, verdict};

/// What fails the check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Fail exactly when `npm ci` would refuse the lock.
    #[default]
    Ci,
    /// Also fail on what `npm ls --package-lock-only --all` calls missing or invalid.
    Tree,
    /// Tree plus exact specifier drift.
    Strict,
}

impl Mode {
    /// Every spelling the `mode` input takes.
    pub const NAMES: [&'static str; 4] = ["ci", "tree", "strict", "npm"];

    /// The input's spelling; `npm` is the former name of `ci`.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ci" | "npm" => Some(Self::Ci),
            "tree" => Some(Self::Tree),
            "strict" => Some(Self::Strict),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Ci => "ci",
            Self::Tree => "tree",
            Self::Strict => "strict",
        }
    }
}

#[derive(Default)]
pub struct Options {
    pub mode: Mode,
    pub families: Vec<Family>,
    pub policy: Policy,
}

pub struct Outcome {
    /// What fails the check in this mode.
    pub findings: Vec<Finding>,
    /// What only `npm ls` would report, in `mode: ci`: shown, not failing.
    pub warnings: Vec<Finding>,
    /// Things the reader should know that are not problems (e.g. strict on a v1 lock).
    pub notes: Vec<String>,
    pub lockfile: String,
    pub lockfile_version: u64,
    pub workspaces: Vec<String>,
    /// Locked packages (links excluded).
    pub packages: usize,
    /// The root's `packageManager`, e.g. `npm@10.8.2`, when it names one.
    pub package_manager: Option<String>,
}

pub fn run(root: &Path, options: &Options) -> anyhow::Result<Outcome> {
    let project = Project::load(root)?;
    let tree = Tree::build(&project);
    let verdict = verdict::check(&project, &tree);
    let (mut findings, warnings) = match options.mode {
        Mode::Ci => (verdict.ci, verdict.tree_only),
        Mode::Tree | Mode::Strict => (verdict.all(), Vec::new()),
    };
    let mut notes = Vec::new();
    if options.mode == Mode::Strict {
        let (drift, note) = drift::check(&project);
        findings.extend(drift);
        notes.extend(note);
    }
    findings.extend(families::check(&project, &options.families));
    findings.extend(policy::check(&project, &options.policy));
    let outcome = Outcome {
        findings,
        warnings,
        notes,
        lockfile: project.lock.file().path.clone(),
        lockfile_version: project.lock.version,
        workspaces: project.workspaces.keys().cloned().collect(),
        packages: project
            .lock
            .entries()
            .iter()
            .filter(|(location, entry)| !location.is_empty() && !entry.link)
            .count(),
        package_manager: project.package.manifest.package_manager.clone(),
    };
    leave_to_exit(tree);
    leave_to_exit(project);
    Ok(outcome)
}

/// Leaves what a check built to the end of the process instead of freeing it piece by
/// piece: the parsed lock and its tree are tens of thousands of small allocations, and
/// freeing them took 5 to 7 % of a run on a 3,000-entry lock (bench/README.md). The
/// outcome owns everything it reports, and a process runs one check, so nothing grows;
/// tests that run many checks leak a few MiB at most.
pub(crate) fn leave_to_exit<T>(built: T) {
    std::mem::forget(built);
}
