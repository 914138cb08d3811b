//! The installed tree a lockfile describes: one node per location, the root and linked
//! folders (workspaces, `file:` folders) read from their package.json on disk as npm does,
//! and `resolve`, npm's node_modules lookup walking up from a location.

use foldhash::{HashMap, HashMapExt};

use super::lock::{in_node_modules, name_at};
use super::manifest::Deps;
use super::project::Project;

/// Where a node's dependency list comes from, for annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'p> {
    /// A package.json on disk: the root (`""`) or a workspace folder.
    Manifest(&'p str),
    /// A lock entry.
    Lock,
}

#[derive(Debug)]
pub struct Node<'p> {
    pub location: &'p str,
    /// The folder name it is installed under (an alias for `npm:` dependencies).
    pub name: &'p str,
    /// The registry name (differs from `name` for aliases).
    pub package_name: &'p str,
    pub version: Option<&'p str>,
    pub resolved: Option<&'p str>,
    /// For a link: the location it points at.
    pub link_target: Option<&'p str>,
    /// The root and linked folders: their devDependencies are edges too.
    pub top: bool,
    pub deps: Option<&'p Deps<'p>>,
    /// The dependency specs the lock recorded for this location (arborist reads the
    /// committish a git dependency was locked at from here, dep-valid.js:14).
    pub locked_deps: Option<&'p Deps<'p>>,
    pub origin: Origin<'p>,
}

pub struct Tree<'p> {
    pub nodes: Vec<Node<'p>>,
    index: HashMap<&'p str, usize>,
    /// Per node: the nearest enclosing node (`parent`), where its lookup continues.
    up: Vec<usize>,
    /// Per node inside a node_modules folder: the node whose node_modules holds it
    /// (arborist's `parent`), when that location is a node.
    holder: Vec<Option<usize>>,
    /// (node whose node_modules holds it, name) → the node installed there.
    children: HashMap<(usize, &'p str), usize>,
}

impl<'p> Tree<'p> {
    pub fn build(project: &'p Project) -> Self {
        let mut nodes = vec![Node {
            location: "",
            name: &project.package.name,
            package_name: &project.package.name,
            version: project.package.manifest.version.as_deref(),
            resolved: None,
            link_target: None,
            top: true,
            deps: Some(&project.package.manifest.deps),
            locked_deps: project.lock.entries().get("").map(|e| &e.deps),
            origin: Origin::Manifest(""),
        }];
        for (location, entry) in project.lock.entries() {
            if location.is_empty() {
                continue;
            }
            let disk = project.package(location);
            let inside = in_node_modules(location);
            let name = match disk {
                Some(ws) => &ws.name,
                None => entry.name.as_deref().unwrap_or_else(|| name_at(location)),
            };
            nodes.push(Node {
                location,
                name: name_at(location),
                package_name: name,
                version: match disk {
                    Some(ws) => ws.manifest.version.as_deref(),
                    None => entry.version.as_deref(),
                },
                resolved: entry.resolved.as_deref(),
                link_target: entry
                    .link
                    .then(|| entry.resolved.as_deref().unwrap_or_default()),
                top: !inside,
                deps: if entry.link {
                    None
                } else {
                    Some(disk.map_or(&entry.deps, |ws| &ws.manifest.deps))
                },
                locked_deps: Some(&entry.deps),
                origin: if disk.is_some() {
                    Origin::Manifest(location)
                } else {
                    Origin::Lock
                },
            });
        }
        // Workspaces on disk that the lock has never seen still have edges of their own.
        for (dir, ws) in &project.workspaces {
            if !project.lock.entries().contains_key(dir.as_str()) {
                nodes.push(Node {
                    location: dir,
                    name: &ws.name,
                    package_name: &ws.name,
                    version: ws.manifest.version.as_deref(),
                    resolved: None,
                    link_target: None,
                    top: true,
                    deps: Some(&ws.manifest.deps),
                    locked_deps: None,
                    origin: Origin::Manifest(dir),
                });
            }
        }
        let mut index = HashMap::with_capacity(nodes.len());
        for (i, node) in nodes.iter().enumerate() {
            index.insert(node.location, i);
        }
        let mut tree = Self {
            nodes,
            index,
            up: Vec::new(),
            holder: Vec::new(),
            children: HashMap::new(),
        };
        tree.up = (0..tree.nodes.len())
            .map(|i| tree.index[tree.parent(tree.nodes[i].location)])
            .collect();
        // A node under a folder that is no node is never looked up: `resolve` only asks
        // the nodes on the way up.
        let mut children = HashMap::with_capacity(tree.nodes.len());
        let mut holder = Vec::with_capacity(tree.nodes.len());
        for (i, node) in tree.nodes.iter().enumerate() {
            let held = split_node_modules(node.location)
                .and_then(|(folder, name)| Some((*tree.index.get(folder)?, name)));
            if let Some(key) = held {
                children.insert(key, i);
            }
            holder.push(held.map(|(at, _)| at));
        }
        tree.children = children;
        tree.holder = holder;
        tree
    }

    /// The node whose node_modules folder holds `index` (arborist's `parent`; `None` for
    /// the root and for folders outside any node_modules, which are only `fsChildren`).
    pub fn holder(&self, index: usize) -> Option<usize> {
        self.holder[index]
    }

    pub fn is_link(&self, index: usize) -> bool {
        self.nodes[index].link_target.is_some()
    }

    /// The node a link points at (its own index for anything else).
    pub fn target(&self, index: usize) -> usize {
        self.nodes[index]
            .link_target
            .and_then(|target| self.index.get(target).copied())
            .unwrap_or(index)
    }

    /// The version a dependency resolving to `node` gets (a link: its target's).
    pub fn version_of(&self, index: usize) -> Option<&'p str> {
        self.nodes[self.target(index)].version
    }

    /// npm's lookup: `<loc>/node_modules/<name>`, then the same from each enclosing node,
    /// up to the root's `node_modules/<name>`.
    pub fn resolve(&self, from: usize, name: &str) -> Option<usize> {
        let mut at = from;
        loop {
            if let Some(index) = self.children.get(&(at, name)) {
                return Some(*index);
            }
            if at == 0 {
                return None;
            }
            at = self.up[at];
        }
    }

    /// The nearest enclosing location that holds a node (`""`, the root, at the latest).
    pub fn parent<'l>(&self, location: &'l str) -> &'l str {
        let mut end = location.len();
        while let Some(slash) = location[..end].rfind('/') {
            let prefix = &location[..slash];
            if self.index.contains_key(prefix) {
                return prefix;
            }
            end = slash;
        }
        ""
    }
}

/// `a/node_modules/@s/b` → (`a`, `@s/b`); `node_modules/b` → (``, `b`); `None` outside
/// any node_modules.
fn split_node_modules(location: &str) -> Option<(&str, &str)> {
    let name = name_at(location);
    let folder = location.strip_suffix(name)?.strip_suffix("node_modules/")?;
    let folder = match folder.strip_suffix('/') {
        Some(folder) => folder,
        None if folder.is_empty() => "",
        None => return None,
    };
    (!name.is_empty()).then_some((folder, name))
}
