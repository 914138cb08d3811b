//! npm's verdict, offline: every dependency edge of the root, of every workspace and of
//! every locked package must resolve, by node_modules lookup from its location, to a
//! locked package that satisfies it. This is `npm ci`'s check on the root and workspace
//! edges plus `npm ls --all`'s on the locked tree, with arborist's rules (edge.js,
//! dep-valid.js): optional edges may be absent, peers are shared, overrides replace specs.

use std::borrow::Cow;
use std::collections::VecDeque;

use foldhash::HashMap;

use super::check::leave_to_exit;
use super::finding::Finding;
use super::manifest;
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

struct Edge<'p> {
    name: &'p str,
    spec: Cow<'p, str>,
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
        /// Whether npm ci's replacement would change the locked version (all it compares).
        ci: bool,
    },
    /// A specifier npm itself cannot install (`workspace:`, `link:` …).
    Unsupported {
        locked: String,
        why: String,
    },
}

/// Findings split by who reports them.
#[derive(Debug, Default)]
pub struct Verdict {
    /// What makes `npm ci` refuse the lock.
    pub ci: Vec<Finding>,
    /// What only `npm ls --package-lock-only --all` calls missing or invalid.
    pub tree_only: Vec<Finding>,
}

impl Verdict {
    /// npm ci's and npm ls's findings together, in tree order.
    pub fn all(self) -> Vec<Finding> {
        let mut all = self.ci;
        all.extend(self.tree_only);
        all
    }
}

/// Every finding `npm ci` or `npm ls --all` would report, in tree order.
///
/// `npm ls` (lib/commands/ls.js:123-146) walks every edge from the root, through links
/// to their targets, plus the extraneous children of each node it shows: lock entries
/// outside any node_modules that nothing links to (an old lerna `packages/x`) are never
/// visited, so their dependencies do not count.
pub fn check(project: &Project, tree: &Tree<'_>) -> Verdict {
    let mut cache = EdgeCache::new(tree.nodes.len());
    let mut specs = Specs::default();
    let ci_nodes = ci_nodes(project, tree, &mut cache);
    // Override scopes, shared: a node holds the index of its scope in `arena`.
    let mut arena = vec![Scope::top(&project.package.manifest.overrides)];
    let mut scopes: Vec<Option<usize>> = vec![None; tree.nodes.len()];
    let mut verdict = Verdict::default();
    // Each node's children by `holder`, built once, so extraneous children are found by
    // looking under the nodes shown in a round, not by scanning every node per round.
    let mut held: Vec<Vec<usize>> = vec![Vec::new(); tree.nodes.len()];
    for index in 1..tree.nodes.len() {
        if let Some(holder) = tree.holder(index) {
            held[holder].push(index);
        }
    }
    // The nodes given a scope since the last look for extraneous children.
    let mut shown = vec![0];
    let mut queue = VecDeque::new();
    scopes[0] = Some(0);
    queue.push_back(0);
    loop {
        while let Some(index) = queue.pop_front() {
            let scope_id = scopes[index].unwrap_or(0);
            let from = &tree.nodes[index];
            for (edge, to) in cache.get(project, tree, index) {
                let to = *to;
                let rule = arena[scope_id].rule_for(edge.name, &edge.spec);
                if let Some(problem) = judge(project, tree, &mut specs, from, edge, rule, to) {
                    let (ci, ls) = who_reports(edge, &problem, &ci_nodes, index, from.top);
                    if ci || ls {
                        let overridden = override_spec(project, rule);
                        let found = finding(project, from, edge, overridden.as_deref(), problem);
                        if ci {
                            verdict.ci.push(found);
                        } else {
                            verdict.tree_only.push(found);
                        }
                    }
                }
                if let Some(to) = to {
                    let target = tree.target(to);
                    let child_scope = match rule {
                        Some(rule) if !rule.children.is_empty() => {
                            arena.push(arena[scope_id].enter(Some(rule)));
                            arena.len() - 1
                        }
                        _ => scope_id,
                    };
                    for reached in [to, target] {
                        if scopes[reached].is_none() {
                            scopes[reached] = Some(child_scope);
                            queue.push_back(reached);
                            shown.push(reached);
                        }
                    }
                }
            }
        }
        // npm ls also shows a shown node's extraneous children (ls.js:425), under the
        // top-level overrides.
        for holder in std::mem::take(&mut shown) {
            for &child in &held[holder] {
                if scopes[child].is_none() {
                    scopes[child] = Some(0);
                    queue.push_back(child);
                    shown.push(child);
                }
            }
        }
        if queue.is_empty() {
            break;
        }
    }
    // Thousands of edge lists and parsed ranges, left to the process's exit.
    leave_to_exit(cache);
    leave_to_exit(specs);
    verdict
}

/// Whether `npm ci` and `npm ls` report a problem on an edge of a node.
///
/// npm ci builds the ideal tree from the lock (arborist build-ideal-tree.js) and fails
/// when it differs from the lock (lib/utils/validate-lockfile.js). Only queued nodes get
/// their problem edges fixed (#problemEdges, build-ideal-tree.js:1232), and fixing one
/// places a package the lock lacks or changes one it has. Missing optional edges count
/// (only peerOptional ones are skipped, build-ideal-tree.js:1263 and :1279); `npm ls`
/// instead skips every missing optional edge (ls.js:248) but reports every invalid one.
///
/// A peer edge that a locked package does not meet fails npm ci only when the dependent
/// is the project's own (PlaceDep `isMine`, place-dep.js:457-488: the root, a workspace,
/// or a direct dependency of one); deeper, npm keeps the locked peer and warns
/// (`warnPeerConflict`, place-dep.js:155-167) when another package needs it.
fn who_reports(
    edge: &Edge<'_>,
    problem: &Problem,
    ci_nodes: &CiNodes,
    from: usize,
    top: bool,
) -> (bool, bool) {
    let peer_conflict = edge.kind == Kind::Peer
        && matches!(problem, Problem::Invalid { .. })
        && !top
        && !ci_nodes.mine[from];
    let ci = ci_nodes.judged[from] && edge.kind != Kind::PeerOptional && !peer_conflict;
    let ls = match problem {
        Problem::Missing => !edge.kind.optional(),
        Problem::Invalid { .. } | Problem::Unsupported { .. } => true,
    };
    let ci = ci && !matches!(problem, Problem::Invalid { ci: false, .. });
    (ci, ls)
}

/// The nodes whose problem edges `npm ci` fixes, and so fails on:
/// - every node reached from the root by dependency edges without crossing a link:
///   `#initTree` walks `edge.to` from the root and queues each node with a missing or
///   invalid edge (build-ideal-tree.js:333-356); a Link has no edges of its own
///   (link.js:110), so the walk stops at workspaces and `file:` folders;
/// - the root (`#applyUserRequestsToNode`, build-ideal-tree.js:520) and the targets of
///   the links of every processed node inside the project (`#resolveLinks`,
///   build-ideal-tree.js:1578-1610): workspaces and linked folders, but not what they
///   depend on.
struct CiNodes {
    /// Nodes whose problem edges npm ci fixes.
    judged: Vec<bool>,
    /// Direct (non-peer) dependencies of the root, a workspace or a linked folder.
    mine: Vec<bool>,
}

/// An edge and the node it resolves to.
type Resolved<'p> = (Edge<'p>, Option<usize>);

/// Each node's edges with the node each resolves to, worked out once.
struct EdgeCache<'p> {
    lists: Vec<Option<Vec<Resolved<'p>>>>,
}

impl<'p> EdgeCache<'p> {
    fn new(nodes: usize) -> Self {
        Self {
            lists: (0..nodes).map(|_| None).collect(),
        }
    }

    fn get(&mut self, project: &'p Project, tree: &Tree<'p>, index: usize) -> &[Resolved<'p>] {
        self.lists[index].get_or_insert_with(|| {
            edges(project, &tree.nodes[index])
                .into_iter()
                .map(|edge| {
                    let to = tree.resolve(index, edge.name);
                    (edge, to)
                })
                .collect()
        })
    }
}

fn ci_nodes<'p>(project: &'p Project, tree: &Tree<'p>, cache: &mut EdgeCache<'p>) -> CiNodes {
    let mut mine = vec![false; tree.nodes.len()];
    let mut deep = vec![false; tree.nodes.len()];
    let mut processed = vec![false; tree.nodes.len()];
    deep[0] = true;
    processed[0] = true;
    let mut stack = vec![0];
    while let Some(index) = stack.pop() {
        for (_, to) in cache.get(project, tree, index) {
            if let Some(to) = *to
                && !deep[to]
            {
                deep[to] = true;
                stack.push(to);
            }
        }
    }
    let mut stack = vec![0];
    while let Some(index) = stack.pop() {
        for (edge, to) in cache.get(project, tree, index) {
            let Some(to) = *to else {
                continue;
            };
            if !edge.kind.peer() {
                mine[to] = true;
            }
            if tree.is_link(to) {
                let target = tree.target(to);
                if target != to && !processed[target] {
                    processed[target] = true;
                    stack.push(target);
                }
            }
        }
    }
    CiNodes {
        judged: deep.iter().zip(&processed).map(|(d, p)| *d || *p).collect(),
        mine,
    }
}

/// A node's edges with arborist's precedence: peer, then prod, optional, dev (tops only);
/// the root's workspace links are never replaced.
fn edges<'p>(project: &'p Project, node: &Node<'p>) -> Vec<Edge<'p>> {
    let Some(deps) = node.deps else {
        return Vec::new();
    };
    // Every candidate in order of precedence, then one per name: a workspace link if
    // there is one (pushed first), else the last pushed. Sorted by name.
    let mut edges: Vec<Edge<'p>> = Vec::new();
    if node.location.is_empty() {
        for (dir, ws) in &project.workspaces {
            edges.push(Edge {
                name: &ws.name,
                spec: Cow::Owned(format!("file:{dir}")),
                kind: Kind::Workspace,
                section: "workspaces",
            });
        }
    }
    let mut add = |map: &'p manifest::Specs<'p>, kind: &dyn Fn(&str) -> Kind, section| {
        edges.extend(map.iter().map(|(name, spec)| Edge {
            name,
            spec: Cow::Borrowed(spec),
            kind: kind(name),
            section,
        }));
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
    // Most entries have one map, already sorted and without repeats.
    if edges.is_sorted_by(|a, b| a.name < b.name) {
        return edges;
    }
    // Stable: same names stay in the order pushed.
    edges.sort_by(|a, b| a.name.cmp(b.name));
    let mut kept: Vec<Edge<'p>> = Vec::with_capacity(edges.len());
    for edge in edges {
        match kept.last_mut() {
            Some(last) if last.name == edge.name => {
                if last.kind != Kind::Workspace {
                    *last = edge;
                }
            }
            _ => kept.push(edge),
        }
    }
    kept
}

/// The spec an override puts in place of the edge's own.
fn override_spec(project: &Project, rule: Option<&Rule>) -> Option<String> {
    rule.and_then(|r| r.replacement(&project.package.manifest.deps))
}

/// Specifiers parsed once per text: a lock repeats the same ranges thousands of times.
#[derive(Default)]
struct Specs<'p>(HashMap<&'p str, Spec>);

impl<'p> Specs<'p> {
    fn parse(&mut self, raw: &'p str) -> &Spec {
        self.0.entry(raw).or_insert_with(|| spec::parse(raw))
    }
}

/// `rule`: the override governing the edge, if any.
fn judge<'p>(
    project: &Project,
    tree: &Tree<'_>,
    specs: &mut Specs<'p>,
    from: &Node<'_>,
    edge: &Edge<'p>,
    rule: Option<&Rule>,
    to: Option<usize>,
) -> Option<Problem> {
    let overridden = override_spec(project, rule);
    let overridden = overridden.as_deref();
    let Some(to) = to else {
        return Some(Problem::Missing);
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
        .is_some_and(|rest| rest.strip_prefix("/node_modules/") == Some(edge.name));
    if edge.kind.peer() && !from.top && below_itself {
        return Some(Problem::Invalid {
            locked: locked(),
            why: format!(
                "{} is a peer dependency but is locked inside {}'s own node_modules, where nothing else can share it",
                edge.name, from.location
            ),
            ci: true,
        });
    }
    let parsed;
    let wanted = match (overridden, &edge.spec) {
        (None, Cow::Borrowed(raw)) => specs.parse(raw),
        (over, _) => {
            parsed = spec::parse(over.unwrap_or(&edge.spec));
            &parsed
        }
    };
    if let Spec::Unsupported(why) = wanted {
        return Some(Problem::Unsupported {
            locked: locked(),
            why: why.clone(),
        });
    }
    // An override's own spec resolves from the project root, not from the dependent
    // (from-path.js:10-19): `file:` overrides name folders relative to the root.
    let base = if overridden.is_some() {
        ""
    } else {
        from.location
    };
    let satisfies = |raw: &str| valid(tree, from, edge.name, "", to, &spec::parse(raw)).is_ok();
    let ok = match valid(tree, from, edge.name, base, to, wanted) {
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
        ci: changes_version(project, tree, base, to, wanted),
    })
}

/// npm ci fixes an invalid edge by placing what the spec asks for, then compares only
/// versions with the lock (lib/utils/validate-lockfile.js:18-25). A folder spec places a
/// link whose version is the folder's: it fails only when that differs from the locked
/// version, which is known when the folder is one npm reads (a workspace or linked
/// folder). A range or a git ref that the locked package does not meet always places
/// another version (for git that is what npm does when the ref's version changed, the
/// only case seen; the ref's content cannot be read offline).
fn changes_version(
    project: &Project,
    tree: &Tree<'_>,
    base: &str,
    to: usize,
    wanted: &Spec,
) -> bool {
    match wanted {
        Spec::Alias { spec, .. } => changes_version(project, tree, base, to, spec),
        Spec::Directory(path) => join(base, path)
            .and_then(|dir| project.package(&dir))
            .is_some_and(|folder| folder.manifest.version.as_deref() != tree.version_of(to)),
        _ => true,
    }
}

/// arborist's dep-valid: does the node at `to` satisfy `spec` asked for from `from`
/// (relative paths resolved from `base`)?
fn valid(
    tree: &Tree<'_>,
    from: &Node<'_>,
    name: &str,
    base: &str,
    to: usize,
    spec: &Spec,
) -> Result<(), String> {
    let child = &tree.nodes[to];
    let version = tree.version_of(to);
    match spec {
        Spec::Any => Ok(()),
        Spec::Range(range) => match version {
            Some(v) if spec::satisfies(v, range) => Ok(()),
            Some(v) => Err(format!("{v} is outside the range")),
            None => Err("the locked entry has no version".to_owned()),
        },
        Spec::Alias { spec, .. } => valid(tree, from, name, base, to, spec),
        Spec::Tag(tag) => match child.resolved {
            Some(url) if !url.starts_with("http://") && !url.starts_with("https://") => Err(
                format!("the dist-tag `{tag}` needs a registry package, but it resolves to {url}"),
            ),
            _ => Ok(()),
        },
        Spec::Directory(path) => {
            let wanted = join(base, path);
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
            let wanted = join(base, path).map(|p| format!("file:{p}"));
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
            // A branch or tag must be the one the lock recorded for this dependent
            // (dep-valid.js:14-31 and :117-126), even when the repository is the same.
            if wanted.commit().is_none()
                && wanted.range.is_none()
                && let Some(locked) = locked_committish(from, name)
                && locked != wanted.committish.as_deref().unwrap_or_default()
            {
                return Err(format!(
                    "the lock recorded #{locked}, package.json now asks for #{}",
                    wanted.committish.as_deref().unwrap_or_default()
                ));
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

/// The committish of the git spec the lock recorded for `name` in `from`'s entry
/// (`""` for none), when it recorded a git spec (dep-valid.js:14-31).
fn locked_committish<'p>(from: &Node<'p>, name: &str) -> Option<&'p str> {
    let deps = from.locked_deps?;
    let raw = [&deps.prod, &deps.optional, &deps.dev, &deps.peer]
        .iter()
        .find_map(|map| map.get(name))?;
    match spec::parse(raw) {
        Spec::Git(git) => Some(match raw.split_once('#') {
            Some((_, committish)) if git.committish.is_some() => committish,
            _ => "",
        }),
        _ => None,
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
    edge: &Edge<'_>,
    overridden: Option<&str>,
    problem: Problem,
) -> Finding {
    let spec_shown = match overridden {
        Some(over) => format!("{over} (overridden from {})", edge.spec),
        None => edge.spec.to_string(),
    };
    let (scope, file, line) = match from.origin {
        Origin::Manifest(dir) => {
            let package = project.package(dir);
            let keys: &[&str] = if edge.kind == Kind::Workspace {
                &["workspaces"]
            } else {
                &[edge.section, edge.name]
            };
            (
                package.map_or_else(|| dir.to_owned(), |p| p.describe()),
                package.map_or_else(|| "package.json".to_owned(), |p| p.file.path.clone()),
                package.and_then(|p| p.file.line_of(keys)),
            )
        }
        Origin::Lock => {
            let lock = &project.lock.file();
            // `line_of` indexes each object once, so a finding costs a lookup, not a scan.
            let line = lock
                .line_of(&["packages", from.location, edge.section, edge.name])
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
    let lock_name = &project.lock.file().path;
    let regenerate = format!("run `npm install --package-lock-only` and commit {lock_name}");
    let unsupported = matches!(problem, Problem::Unsupported { .. });
    let (code, message, why, fix) = match problem {
        Problem::Missing => (
            crate::codes::Finding::LockfileMissing.as_str(),
            format!("Missing: {}@{spec_shown} from lock file", edge.name),
            format!(
                "{} needs it ({}) but no {} is locked where {} can find it{}",
                describe_from(from),
                edge.section,
                edge.name,
                if from.location.is_empty() {
                    "the root"
                } else {
                    from.location
                },
                if edge.kind == Kind::Optional {
                    " (npm ci places optional dependencies too, whatever the platform, and refuses a lock that lacks one)"
                } else {
                    ""
                }
            ),
            regenerate,
        ),
        Problem::Invalid { locked, why, .. } | Problem::Unsupported { locked, why } => {
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
                // npm itself writes locks with peer ranges it could not meet (it warns
                // and keeps the locked peer, place-dep.js:155-167).
                Origin::Lock if edge.kind.peer() => format!(
                    "{} asks for a peer range the locked {} does not meet (npm warned when it wrote the lock): upgrade or override {} or {}, or keep `mode: ci`, which npm ci's verdict decides",
                    from.package_name, edge.name, from.package_name, edge.name
                ),
                Origin::Lock => format!(
                    "the lock entry {} was edited or merged by hand: {regenerate} to rewrite it",
                    from.location
                ),
            };
            (
                crate::codes::Finding::LockfileInvalid.as_str(),
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
        package: edge.name.to_owned(),
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
