//! `families`: every locked package matching one glob (`@tiptap/*`), nested duplicates
//! included, must resolve to one version, so a family is never half upgraded.

use std::collections::BTreeMap;

use nodejs_semver::Version;

use super::finding::Finding;
use super::glob::{self, Matcher};
use super::manifest::SECTIONS;
use super::project::Project;

pub struct Family {
    pub pattern: String,
    matcher: Matcher,
}

/// Compiles family globs; a bad one is described for the caller's usage error.
pub fn parse(patterns: &[String]) -> Result<Vec<Family>, String> {
    glob::check_count(patterns.len(), "the list")?;
    patterns
        .iter()
        .map(|pattern| {
            let matcher = glob::compile(pattern, false)
                .map_err(|why| format!("{} {why}", glob::shown(pattern)))?;
            Ok(Family {
                pattern: pattern.clone(),
                matcher,
            })
        })
        .collect()
}

pub fn check(project: &Project, families: &[Family]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for family in families {
        // version → (package name, location), in lock order.
        let mut versions: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for (location, entry, name) in project.lock.installed() {
            if let (true, Some(version)) = (family.matcher.is_match(name), entry.version.as_deref())
            {
                versions.entry(version).or_default().push((name, location));
            }
        }
        if versions.len() < 2 {
            continue;
        }
        // The newest version is the one to align on (syncpack's default, too).
        let newest = versions
            .keys()
            .copied()
            .max_by(|a, b| match (Version::parse(a), Version::parse(b)) {
                (Ok(a), Ok(b)) => a.cmp(&b),
                _ => a.cmp(b),
            })
            .unwrap_or_default();
        let listing: Vec<String> = versions
            .iter()
            .map(|(version, places)| {
                let shown: Vec<String> = places
                    .iter()
                    .map(|(name, location)| format!("{name} at {location}"))
                    .collect();
                format!("{version} ({})", shown.join(", "))
            })
            .collect();
        let (odd_version, odd_places) = versions
            .iter()
            .find(|(v, _)| **v != newest)
            .map(|(v, p)| (*v, p))
            .unwrap_or((newest, &versions[newest]));
        let (odd_name, odd_location) = &odd_places[0];
        let (file, line) = declared_at(project, odd_name).unwrap_or_else(|| {
            (
                project.lock.file().path.clone(),
                project.lock.file().line_of(&["packages", odd_location]),
            )
        });
        findings.push(Finding {
            code: crate::codes::Finding::FamilySplit.as_str(),
            scope: format!("family {}", family.pattern),
            package: family.pattern.clone(),
            message: format!(
                "family {} is locked at {} versions: {}",
                family.pattern,
                versions.len(),
                listing.join("; ")
            ),
            why: format!(
                "{odd_name}@{odd_version} lags behind the family's newest {newest}; mixed versions of one family break at runtime"
            ),
            fix: format!(
                "give every {} dependency a range that {newest} satisfies (or upgrade them together), then run `npm install`",
                family.pattern
            ),
            file,
            line,
        });
    }
    findings
}

/// The package.json line that asks for `name` directly, if any does.
fn declared_at(project: &Project, name: &str) -> Option<(String, Option<u32>)> {
    std::iter::once(&project.package)
        .chain(project.workspaces.values())
        .find_map(|package| {
            SECTIONS
                .iter()
                .find(|section| package.manifest.deps.section(section).contains_key(name))
                .map(|section| {
                    (
                        package.file.path.clone(),
                        package.file.line_of(&[section, name]),
                    )
                })
        })
}
