//! Expands the root's `workspaces` globs to folders holding a package.json, as npm's
//! map-workspaces does (`!` excludes, `node_modules` never searched), refusing patterns
//! that leave the repository and symlink loops instead of walking them forever.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::glob::{self, Matcher};
use crate::exit::usage;

/// Deeper than any real monorepo; a walk past it is a loop or a mistake.
const MAX_DEPTH: usize = 32;
/// Folders visited in one expansion before giving up.
const MAX_FOLDERS: usize = 100_000;

/// Workspace folders (relative, `/`-separated), sorted.
pub fn expand(root: &Path, patterns: &[String]) -> anyhow::Result<Vec<String>> {
    glob::check_count(patterns.len(), "package.json `workspaces`").map_err(usage)?;
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for raw in patterns {
        let (negated, pattern) = match raw.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, raw.as_str()),
        };
        let pattern = normalise(pattern, raw)?;
        let matcher = compile(&pattern, raw)?;
        if negated {
            exclude.push(matcher);
        } else {
            include.push((pattern, matcher));
        }
    }
    let canonical_root = root
        .canonicalize()
        .map_err(|err| usage(format!("cannot read {}: {err}", root.display())))?;
    let mut found = BTreeSet::new();
    let mut budget = MAX_FOLDERS;
    for (pattern, matcher) in &include {
        let base = literal_prefix(pattern);
        let depth = if pattern.contains("**") {
            MAX_DEPTH
        } else {
            pattern.split('/').count()
        };
        let start = root.join(&base);
        if !start.is_dir() {
            continue;
        }
        let mut walk = Walk {
            root: &canonical_root,
            pattern,
            matcher,
            found: &mut found,
            budget: &mut budget,
            ancestors: Vec::new(),
        };
        walk.visit(&start, &base, depth.saturating_sub(segments(&base)))?;
    }
    Ok(found
        .into_iter()
        .filter(|dir| !exclude.iter().any(|m| m.is_match(dir)))
        .collect())
}

/// `./packages/*/` → `packages/*`; absolute patterns and `..` are refused.
fn normalise(pattern: &str, raw: &str) -> anyhow::Result<String> {
    let trimmed = pattern
        .trim()
        .trim_start_matches("./")
        .trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(usage(format!(
            "workspace pattern {} is empty",
            glob::shown(raw)
        )));
    }
    if trimmed.starts_with('/') || trimmed.contains('\\') || trimmed.split('/').any(|s| s == "..") {
        return Err(usage(format!(
            "workspace pattern {} leaves the repository; lockfile-check only reads inside `path`",
            glob::shown(raw)
        )));
    }
    Ok(trimmed.to_owned())
}

fn compile(pattern: &str, raw: &str) -> anyhow::Result<Matcher> {
    glob::compile(pattern, true).map_err(|why| {
        usage(format!(
            "workspace pattern {} in package.json `workspaces` {why}",
            glob::shown(raw)
        ))
    })
}

/// The leading segments without glob characters: where the walk starts.
fn literal_prefix(pattern: &str) -> String {
    pattern
        .split('/')
        .take_while(|s| !s.contains(['*', '?', '[', '{']))
        .collect::<Vec<_>>()
        .join("/")
}

fn segments(path: &str) -> usize {
    if path.is_empty() {
        0
    } else {
        path.split('/').count()
    }
}

struct Walk<'a> {
    root: &'a Path,
    pattern: &'a str,
    matcher: &'a Matcher,
    found: &'a mut BTreeSet<String>,
    budget: &'a mut usize,
    /// Canonical folders on the current path, to see a symlink loop.
    ancestors: Vec<PathBuf>,
}

impl Walk<'_> {
    fn visit(&mut self, dir: &Path, rel: &str, depth_left: usize) -> anyhow::Result<()> {
        let canonical = dir.canonicalize().map_err(|err| {
            usage(format!(
                "cannot read workspace folder {}: {err}",
                dir.display()
            ))
        })?;
        if !canonical.starts_with(self.root) {
            return Err(usage(format!(
                "workspace folder {rel} (pattern {}) is a symlink out of the repository",
                glob::shown(self.pattern)
            )));
        }
        if self.ancestors.contains(&canonical) {
            return Err(usage(format!(
                "workspace pattern {} runs into a symlink loop at {rel}; remove the link or narrow the pattern",
                glob::shown(self.pattern)
            )));
        }
        *self.budget = self.budget.checked_sub(1).ok_or_else(|| {
            usage(format!(
                "workspace pattern {} matches more than {MAX_FOLDERS} folders; narrow it",
                glob::shown(self.pattern)
            ))
        })?;
        if !rel.is_empty() && self.matcher.is_match(rel) && dir.join("package.json").is_file() {
            self.found.insert(rel.to_owned());
        }
        if depth_left == 0 {
            return Ok(());
        }
        if self.ancestors.len() >= MAX_DEPTH {
            return Err(usage(format!(
                "workspace pattern {} goes deeper than {MAX_DEPTH} folders at {rel}",
                glob::shown(self.pattern)
            )));
        }
        let mut children: Vec<_> = std::fs::read_dir(dir)
            .map_err(|err| usage(format!("cannot list workspace folder {rel}: {err}")))?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .filter(|name| name != "node_modules" && !name.starts_with('.'))
            .collect();
        children.sort();
        self.ancestors.push(canonical);
        for child in children {
            let child_rel = if rel.is_empty() {
                child.clone()
            } else {
                format!("{rel}/{child}")
            };
            self.visit(&dir.join(&child), &child_rel, depth_left - 1)?;
        }
        self.ancestors.pop();
        Ok(())
    }
}
