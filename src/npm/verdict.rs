//! npm's verdict, offline: every dependency edge of the root, of every workspace and of
//! every locked package must resolve, by node_modules lookup from its location, to a
//! locked package that satisfies it. This is `npm ci`'s check on the root and workspace
//! edges plus `npm ls --all`'s on the locked tree, with arborist's rules (edge.js,
//! dep-valid.js): optional edges may be absent, peers are shared, overrides replace specs.

use std::collections::{BTreeMap, VecDeque};

use super::finding::Finding;
use super::overrides::{Rule, Scope};
use super::project::Project;
use super::spec::{self, Spec};
use super::tree::{Node, Origin, Tree};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Prod,
    Dev,
    Optional,
    Peer,
    PeerOptional,
    Workspace,
}

impl Kind {
    fn optional(self) -> bool {
        matches!(self, Self::Optional | Self::PeerOptional)
    }

    fn peer(self) -> bool {
        matches!(self, Self::Peer | Self::PeerOptional)
    }
}

struct Edge {
    name: String,
    spec: String,
    kind: Kind,
    /// The package.json field it comes from (`workspaces` for the root's workspace links).
    section: &'static str,
}

/// Why an edge fails.
enum Problem {
    Missing,
    Invalid {
        locked: String,
        why: String,
    },
    /// A specifier npm itself cannot install (`workspace:`, `link:` …).
    Unsupported {
        locked: String,
        why: String,
    },
}

/// Every finding npm's install or `npm ls` would report, in tree order.
pub fn check(project: &Project, tree: &Tree<'_>) -> Vec<Finding> {
    let top = Scope::top(&project.package.manifest.overrides);
    let mut scopes: Vec<Option<Scope<'_>>> = vec![None; tree.nodes.len()];
    let mut findings = Vec::new();
    let mut queue = VecDeque::new();
    scopes[0] = Some(top.clone());
    queue.push_back(0);
    let mut next_unreached = 0;
    loop {
        let index = match queue.pop_front() {
            Some(index) => index,
            // Nodes no edge reaches are still judged, under the top-level overrides.
            None => match (next_unreached..tree.nodes.len()).find(|i| scopes[*i].is_none()) {
                Some(index) => {
                    next_unreached = index + 1;
                    scopes[index] = Some(top.clone());
                    index
                }
                None => break,
            },
        };
        let scope = scopes[index].clone().unwrap_or_default();
        let from = &tree.nodes[index];
        for edge in edges(project, from) {
            let rule = scope.rule_for(&edge.name, &edge.spec);
            let overridden = rule.and_then(|r| r.replacement(&project.package.manifest.deps));
            let to = tree.resolve(from.location, &edge.name);
            if let Some(problem) = judge(tree, from, &edge, rule, overridden.as_deref(), to) {
                findings.push(finding(
                    project,
                    from,
                    &edge,
                    overridden.as_deref(),
                    problem,
                ));
            }
            if let Some(to) = to {
                let target = tree.target(to);
                for reached in [to, target] {
                    if scopes[reached].is_none() {
                        scopes[reached] = Some(scope.enter(rule));
                        queue.push_back(reached);
                    }
                }
            }
        }
    }
    findings
}

/// A node's edges with arborist's precedence: peer, then prod, optional, dev (tops only);
/// the root's workspace links are never replaced.
fn edges(project: &Project, node: &Node<'_>) -> Vec<Edge> {
    let Some(deps) = node.deps else {
        return Vec::new();
    };
    let mut edges: BTreeMap<String, Edge> = BTreeMap::new();
    if node.location.is_empty() {
        for (dir, ws) in &project.workspaces {
            edges.insert(
                ws.name.clone(),
                Edge {
                    name: ws.name.clone(),
                    spec: format!("file:{dir}"),
                    kind: Kind::Workspace,
                    section: "workspaces",
                },
            );
        }
    }
    let mut add = |map: &BTreeMap<String, String>, kind: &dyn Fn(&str) -> Kind, section| {
        for (name, spec) in map {
            if edges
                .get(name.as_str())
                .is_some_and(|e| e.kind == Kind::Workspace)
            {
                continue;
            }
            let edge = Edge {
                name: name.clone(),
                spec: spec.clone(),
                kind: kind(name),
                section,
            };
            edges.insert(name.clone(), edge);
        }
    };
    let peer_kind = |name: &str| {
        if deps.peer_optional.contains(name) {
            Kind::PeerOptional
        } else {
            Kind::Peer
        }
    };
    add(&deps.peer, &peer_kind, "peerDependencies");
    add(&deps.prod, &|_: &str| Kind::Prod, "dependencies");
    add(
        &deps.optional,
        &|_: &str| Kind::Optional,
        "optionalDependencies",
    );
    if node.top {
        add(&deps.dev, &|_: &str| Kind::Dev, "devDependencies");
    }
    edges.into_values().collect()
}

/// `overridden`: the spec an override puts in place of the edge's own.
fn judge(
    tree: &Tree<'_>,
    from: &Node<'_>,
    edge: &Edge,
    rule: Option<&Rule>,
    overridden: Option<&str>,
    to: Option<usize>,
) -> Option<Problem> {
    let Some(to) = to else {
        return (!edge.kind.optional()).then_some(Problem::Missing);
    };
    let child = &tree.nodes[to];
    let locked = || {
        let version = tree.version_of(to).unwrap_or("(no version)");
        if child.package_name == child.name {
            format!("{}@{version}", child.name)
        } else {
            format!("{}@npm:{}@{version}", child.name, child.package_name)
        }
    };
    let below_itself = child
        .location
        .strip_prefix(from.location)
        .is_some_and(|rest| rest.strip_prefix("/node_modules/") == Some(edge.name.as_str()));
    if edge.kind.peer() && !from.top && below_itself {
        return Some(Problem::Invalid {
            locked: locked(),
            why: format!(
                "{} is a peer dependency but is locked inside {}'s own node_modules, where nothing else can share it",
                edge.name, from.location
            ),
        });
    }
    let wanted = spec::parse(overridden.unwrap_or(&edge.spec));
    if let Spec::Unsupported(why) = wanted {
        return Some(Problem::Unsupported {
            locked: locked(),
            why,
        });
    }
    let satisfies = |raw: &str| valid(tree, from, to, &spec::parse(raw)).is_ok();
    let ok = match valid(tree, from, to, &wanted) {
        Ok(()) => Ok(()),
        // A keyed override that does not apply to this version leaves the edge alone.
        Err(why) => match rule.and_then(|r| r.key.as_deref()) {
            Some(key) if satisfies(&edge.spec) && !satisfies(key) => Ok(()),
            _ => Err(why),
        },
    };
    ok.err().map(|why| Problem::Invalid {
        locked: locked(),
        why,
    })
}

/// arborist's dep-valid: does the node at `to` satisfy `spec` asked for from `from`?
fn valid(tree: &Tree<'_>, from: &Node<'_>, to: usize, spec: &Spec) -> Result<(), String> {
    let child = &tree.nodes[to];
    let version = tree.version_of(to);
    match spec {
        Spec::Any => Ok(()),
        Spec::Range(range) => match version {
            Some(v) if spec::satisfies(v, range) => Ok(()),
            Some(v) => Err(format!("{v} is outside the range")),
            None => Err("the locked entry has no version".to_owned()),
        },
        Spec::Alias { spec, .. } => valid(tree, from, to, spec),
        Spec::Tag(tag) => match child.resolved {
            Some(url) if !url.starts_with("http://") && !url.starts_with("https://") => Err(
                format!("the dist-tag `{tag}` needs a registry package, but it resolves to {url}"),
            ),
            _ => Ok(()),
        },
        Spec::Directory(path) => {
            let wanted = join(from.location, path);
            match child.link_target {
                Some(target) if Some(target) == wanted.as_deref() => Ok(()),
                Some(target) => Err(format!(
                    "it links to {target}, not {}",
                    wanted.unwrap_or_default()
                )),
                None => Err("it is a locked package, not a link to that folder".to_owned()),
            }
        }
        Spec::Tarball(path) => {
            let wanted = join(from.location, path).map(|p| format!("file:{p}"));
            let got = child.resolved.map(|r| r.replace('\\', "/"));
            if child.link_target.is_none() && got.is_some() && got == wanted {
                Ok(())
            } else {
                Err(format!(
                    "it was not resolved from {}",
                    wanted.unwrap_or_default()
                ))
            }
        }
        Spec::Remote(url) => match child.resolved {
            Some(resolved) if resolved == url => Ok(()),
            other => Err(format!(
                "it was resolved from {}",
                other.unwrap_or("nowhere")
            )),
        },
        Spec::Git(wanted) => {
            let got = child.resolved.and_then(spec::git);
            let Some(got) = got else {
                return Err("it was not resolved from git".to_owned());
            };
            if got.repo != wanted.repo {
                return Err(format!("it comes from {}, not {}", got.repo, wanted.repo));
            }
            if let Some(commit) = wanted.commit()
                && got.committish.as_deref() != Some(commit)
            {
                return Err(format!("it is locked at another commit than {commit}"));
            }
            match &wanted.range {
                Some(range) if !version.is_some_and(|v| spec::satisfies(v, range)) => {
                    Err("its version is outside the #semver: range".to_owned())
                }
                _ => Ok(()),
            }
        }
        Spec::Unsupported(why) => Err(why.clone()),
    }
}

/// `base/rel` normalised; `None` when it climbs above the repository root.
fn join(base: &str, rel: &str) -> Option<String> {
    let rel = rel.replace('\\', "/");
    let mut parts: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for segment in rel.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn finding(
    project: &Project,
    from: &Node<'_>,
    edge: &Edge,
    overridden: Option<&str>,
    problem: Problem,
) -> Finding {
    let spec_shown = match overridden {
        Some(over) => format!("{over} (overridden from {})", edge.spec),
        None => edge.spec.clone(),
    };
    let (scope, file, line) = match from.origin {
        Origin::Manifest(dir) => {
            let package = project.package(dir);
            let keys: &[&str] = if edge.kind == Kind::Workspace {
                &["workspaces"]
            } else {
                &[edge.section, &edge.name]
            };
            (
                package.map_or_else(|| dir.to_owned(), |p| p.describe()),
                package.map_or_else(|| "package.json".to_owned(), |p| p.file.path.clone()),
                package.and_then(|p| p.file.line_of(keys)),
            )
        }
        Origin::Lock => {
            let lock = &project.lock.file;
            let line = lock
                .line_of(&["packages", from.location, edge.section, &edge.name])
                .or_else(|| lock.line_of(&["packages", from.location]));
            (
                format!(
                    "locked {}@{} ({})",
                    from.package_name,
                    from.version.unwrap_or("?"),
                    from.location
                ),
                lock.path.clone(),
                line,
            )
        }
    };
    let lock_name = &project.lock.file.path;
    let regenerate = format!("run `npm install --package-lock-only` and commit {lock_name}");
    let unsupported = matches!(problem, Problem::Unsupported { .. });
    let (code, message, why, fix) = match problem {
        Problem::Missing => (
            "lockfile-missing",
            format!("Missing: {}@{spec_shown} from lock file", edge.name),
            format!(
                "{} needs it ({}) but no {} is locked where {} can find it",
                describe_from(from),
                edge.section,
                edge.name,
                if from.location.is_empty() {
                    "the root"
                } else {
                    from.location
                }
            ),
            regenerate,
        ),
        Problem::Invalid { locked, why } | Problem::Unsupported { locked, why } => {
            let fix = match from.origin {
                Origin::Manifest(_) if unsupported => format!(
                    "npm cannot install `{}`: write a semver range (`*` for a workspace), `npm:`, `file:`, git or a tarball URL in {file}",
                    edge.spec
                ),
                Origin::Manifest(_) if edge.kind != Kind::Workspace => format!(
                    "{regenerate}, or change `{}` in {file} to a range that the locked version satisfies",
                    edge.name
                ),
                Origin::Manifest(_) => regenerate,
                Origin::Lock => format!(
                    "the lock entry {} was edited or merged by hand: {regenerate} to rewrite it",
                    from.location
                ),
            };
            (
                "lockfile-invalid",
                format!(
                    "Invalid: lock file's {locked} does not satisfy {}@{spec_shown}",
                    edge.name
                ),
                format!("{} needs it ({}): {why}", describe_from(from), edge.section),
                fix,
            )
        }
    };
    Finding {
        code,
        scope,
        package: edge.name.clone(),
        message,
        why,
        fix,
        file,
        line,
    }
}

fn describe_from(from: &Node<'_>) -> String {
    match from.origin {
        Origin::Manifest("") => "the root package.json".to_owned(),
        Origin::Manifest(dir) => format!("{dir}/package.json"),
        Origin::Lock => format!("{}@{}", from.package_name, from.version.unwrap_or("?")),
    }
}
