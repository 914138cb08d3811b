//! `mode: strict`: exact drift, pnpm-style. The specifiers the lock recorded for the root
//! (`packages[""]`) and for each workspace (`packages["<dir>"]`) must equal, as strings,
//! those of the package.json files; workspaces on disk and in the lock must be the same.

use std::collections::BTreeSet;

use super::finding::Finding;
use super::lock::{Entry, in_node_modules};
use super::manifest::SECTIONS;
use super::project::{Package, Project};

/// Drift findings, or a note when the lock records no specifiers (version 1).
pub fn check(project: &Project) -> (Vec<Finding>, Option<String>) {
    if project.lock.version < 2 {
        return (
            Vec::new(),
            Some(format!(
                "{} is lockfileVersion 1, which records no specifiers for the root and workspaces: strict drift needs version 2 or 3 (`npm install --package-lock-only` with npm 7+ upgrades it)",
                project.lock.file().path
            )),
        );
    }
    let mut findings = Vec::new();
    for package in std::iter::once(&project.package).chain(project.workspaces.values()) {
        match project.lock.entries().get(package.dir.as_str()) {
            Some(entry) => compare(project, package, entry, &mut findings),
            None => findings.push(drift(
                project,
                package,
                &package.name,
                format!("{} is not in the lock", package.describe()),
                if package.dir.is_empty() {
                    "the lock has no root entry (packages[\"\"])".to_owned()
                } else {
                    "a workspace added on disk after the lock was written".to_owned()
                },
                package.file.path.clone(),
                Some(1),
            )),
        }
    }
    let on_disk: BTreeSet<&str> = project.workspaces.keys().map(String::as_str).collect();
    for location in locked_workspaces(project) {
        if !on_disk.contains(location) {
            findings.push(Finding {
                code: crate::codes::Finding::LockfileDrift.as_str(),
                scope: format!("workspace {location}"),
                package: location.to_owned(),
                message: format!("workspace {location} is in the lock but no longer on disk"),
                why: "a workspace removed (or no longer matched by `workspaces`) after the lock was written".to_owned(),
                fix: regenerate(project),
                file: project.lock.file().path.clone(),
                line: project.lock.file().line_of(&["packages", location]),
            });
        }
    }
    (findings, None)
}

/// Folders the root's node_modules links to, other than `file:` folders found on disk:
/// the workspaces npm recorded.
fn locked_workspaces(project: &Project) -> Vec<&str> {
    project
        .lock
        .entries()
        .iter()
        .filter(|(location, entry)| entry.link && location.matches("node_modules/").count() == 1)
        .filter_map(|(_, entry)| entry.resolved.as_deref())
        .filter(|target| !project.linked.contains_key(*target) && !in_node_modules(target))
        .collect()
}

fn compare(project: &Project, package: &Package, entry: &Entry, findings: &mut Vec<Finding>) {
    for section in SECTIONS {
        let locked = entry.deps.section(section);
        let declared = package.manifest.deps.section(section);
        for (name, spec) in declared {
            let (message, why) = match locked.get(name) {
                None => (
                    format!("{name}@{spec} added to {section} but not to the lock"),
                    "the lock never recorded this dependency".to_owned(),
                ),
                Some(old) if old != spec => (
                    format!("{name} changed in {section}: lock {old}, package.json {spec}"),
                    "the specifier was edited after the lock was written (npm ci still passes while the locked version satisfies it)".to_owned(),
                ),
                Some(_) => continue,
            };
            findings.push(drift(
                project,
                package,
                name,
                message,
                why,
                package.file.path.clone(),
                package.file.line_of(&[section, name]),
            ));
        }
        for (name, old) in locked {
            if !declared.contains_key(name) {
                let line = project
                    .lock
                    .file()
                    .line_of(&["packages", &package.dir, section, name]);
                findings.push(drift(
                    project,
                    package,
                    name,
                    format!("{name}@{old} removed from {section} but still in the lock"),
                    "package.json no longer asks for it".to_owned(),
                    project.lock.file().path.clone(),
                    line,
                ));
            }
        }
    }
    if package.dir.is_empty() {
        let locked = entry.workspaces.clone();
        let declared = &package.manifest.workspaces;
        if !locked.is_empty() || !declared.is_empty() {
            let (mut a, mut b) = (locked.clone(), declared.clone());
            a.sort();
            b.sort();
            if a != b {
                findings.push(drift(
                    project,
                    package,
                    "workspaces",
                    format!("workspaces changed: lock {locked:?}, package.json {declared:?}"),
                    "the workspace globs were edited after the lock was written".to_owned(),
                    package.file.path.clone(),
                    package.file.line_of(&["workspaces"]),
                ));
            }
        }
    }
}

fn drift(
    project: &Project,
    package: &Package,
    name: &str,
    message: String,
    why: String,
    file: String,
    line: Option<u32>,
) -> Finding {
    Finding {
        code: crate::codes::Finding::LockfileDrift.as_str(),
        scope: package.describe(),
        package: name.to_owned(),
        message,
        why,
        fix: regenerate(project),
        file,
        line,
    }
}

fn regenerate(project: &Project) -> String {
    format!(
        "run `npm install --package-lock-only` and commit {}",
        project.lock.file().path
    )
}
