//! A checked repository as npm sees it: the root package.json, its workspaces on disk
//! (each with its package.json) and the lockfile npm would read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::json::{MANIFEST_LIMIT, Source};
use super::lock::{Lock, in_node_modules};
use super::manifest::Manifest;
use super::workspaces;
use crate::exit::usage;

/// A package.json read from disk.
#[derive(Debug)]
pub struct Package {
    /// Folder relative to the root, `""` for the root itself.
    pub dir: String,
    pub name: String,
    pub manifest: Manifest,
    pub file: Source,
    /// A workspace (else the root, or a `file:` folder the lock links to).
    pub workspace: bool,
}

impl Package {
    pub fn read(root: &Path, dir: &str, workspace: bool) -> anyhow::Result<Self> {
        let rel = if dir.is_empty() {
            "package.json".to_owned()
        } else {
            format!("{dir}/package.json")
        };
        let file = Source::read(root, &rel, MANIFEST_LIMIT)?;
        let manifest = Manifest::parse(&file)?;
        let name = manifest
            .name
            .clone()
            .unwrap_or_else(|| dir.rsplit('/').next().unwrap_or_default().to_owned());
        Ok(Self {
            dir: dir.to_owned(),
            name,
            manifest,
            file,
            workspace,
        })
    }

    /// "the root", "workspace @shop/web (packages/web)" or "linked folder …": who a
    /// finding is about.
    pub fn describe(&self) -> String {
        if self.dir.is_empty() {
            "the root".to_owned()
        } else if self.workspace {
            format!("workspace {} ({})", self.name, self.dir)
        } else {
            format!("linked folder {} ({})", self.name, self.dir)
        }
    }
}

#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub package: Package,
    /// Workspaces found on disk by the root's globs, by folder.
    pub workspaces: BTreeMap<String, Package>,
    /// Other linked folders (`file:` dependencies) the lock points at, read from disk as
    /// npm does.
    pub linked: BTreeMap<String, Package>,
    pub lock: Lock,
}

impl Project {
    /// Reads everything npm would; any unreadable or invalid input is a usage error.
    pub fn load(root: &Path) -> anyhow::Result<Self> {
        if !root.is_dir() {
            return Err(usage(format!(
                "`path` {} is not a directory",
                root.display()
            )));
        }
        let package = Package::read(root, "", false)?;
        let mut workspaces = BTreeMap::new();
        let mut names = BTreeMap::new();
        for dir in workspaces::expand(root, &package.manifest.workspaces)? {
            let ws = Package::read(root, &dir, true)?;
            if let Some(other) = names.insert(ws.name.clone(), dir.clone()) {
                return Err(usage(format!(
                    "workspaces {other} and {dir} are both named {}; npm refuses duplicate workspace names",
                    ws.name
                )));
            }
            workspaces.insert(dir, ws);
        }
        let lock = Lock::find(root)?;
        let mut linked = BTreeMap::new();
        for entry in lock.entries().values().filter(|e| e.link) {
            let Some(target) = entry.resolved.as_deref() else {
                continue;
            };
            if !in_node_modules(target)
                && !target.is_empty()
                && !workspaces.contains_key(target)
                && root.join(target).join("package.json").is_file()
            {
                linked.insert(target.to_owned(), Package::read(root, target, false)?);
            }
        }
        Ok(Self {
            root: root.to_owned(),
            package,
            workspaces,
            linked,
            lock,
        })
    }

    /// The package.json on disk of the root (`""`), a workspace or a linked folder.
    pub fn package(&self, dir: &str) -> Option<&Package> {
        if dir.is_empty() {
            Some(&self.package)
        } else {
            self.workspaces.get(dir).or_else(|| self.linked.get(dir))
        }
    }
}
