//! Everything lockfile-check judges, in one call: npm's verdict, then (when asked) strict
//! drift, families and registry policies, findings in a stable order.

use std::path::Path;

use super::families::{self, Family};
use super::finding::Finding;
use super::policy::{self, Policy};
use super::project::Project;
use super::tree::Tree;
use super::{drift, verdict};

#[derive(Default)]
pub struct Options {
    /// `mode: strict`: exact specifier drift too.
    pub strict: bool,
    pub families: Vec<Family>,
    pub policy: Policy,
}

pub struct Outcome {
    pub findings: Vec<Finding>,
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
    let mut findings = verdict::check(&project, &tree);
    let mut notes = Vec::new();
    if options.strict {
        let (drift, note) = drift::check(&project);
        findings.extend(drift);
        notes.extend(note);
    }
    findings.extend(families::check(&project, &options.families));
    findings.extend(policy::check(&project, &options.policy));
    Ok(Outcome {
        findings,
        notes,
        lockfile: project.lock.file.path.clone(),
        lockfile_version: project.lock.version,
        workspaces: project.workspaces.keys().cloned().collect(),
        packages: project
            .lock
            .entries
            .iter()
            .filter(|(location, entry)| !location.is_empty() && !entry.link)
            .count(),
        package_manager: project.package.manifest.package_manager.clone(),
    })
}
