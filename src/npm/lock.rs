//! package-lock.json and npm-shrinkwrap.json, versions 1 to 3, as one map of install
//! locations (`node_modules/a/node_modules/b`, `packages/web`) to locked entries. Version 1
//! nests `dependencies`; it is flattened to the same locations npm 7+ would record.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};

use serde::Deserialize;

use super::json::{LOCK_LIMIT, Source, type_name};
use super::manifest::{Deps, optional_string};
use crate::exit::usage;

/// Lockfile names in npm's order of precedence.
pub const LOCK_NAMES: [&str; 2] = ["npm-shrinkwrap.json", "package-lock.json"];

/// One locked package (or link) at an install location.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    /// The real package name when it differs from the folder (npm: aliases).
    pub name: Option<String>,
    pub version: Option<String>,
    pub resolved: Option<String>,
    pub integrity: Option<String>,
    /// A symlink (workspaces, `file:` folders); `resolved` is the target location.
    pub link: bool,
    pub deps: Deps,
    /// Workspace globs (the root entry only).
    pub workspaces: Vec<String>,
}

#[derive(Debug)]
pub struct Lock {
    pub file: Source,
    pub version: u64,
    /// Every location, `""` being the root (absent from version 1 files).
    pub entries: BTreeMap<String, Entry>,
}

impl Lock {
    /// Finds and reads the lockfile of `root`: npm-shrinkwrap.json wins, as in npm.
    pub fn find(root: &Path) -> anyhow::Result<Self> {
        let name = LOCK_NAMES
            .iter()
            .find(|name| root.join(name).exists())
            .ok_or_else(|| {
                usage(format!(
                    "no package-lock.json or npm-shrinkwrap.json in {}: run `npm install --package-lock-only` and commit the lock",
                    display_dir(root)
                ))
            })?;
        Self::parse(Source::read(root, name, LOCK_LIMIT)?)
    }

    /// Parses a lockfile. Versions 2 and 3 are read straight into typed entries (a lock
    /// of thousands of packages is most of the work); version 1 goes through a JSON tree.
    pub fn parse(file: Source) -> anyhow::Result<Self> {
        let name = file.path.clone();
        let head: Head = serde_json::from_str(&file.text).map_err(|e| file.error(&e))?;
        let version = match head.lockfile_version {
            Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
            None => {
                return Err(usage(format!(
                    "{name} has no `lockfileVersion`: is it an npm lockfile?"
                )));
            }
            Some(other) => {
                return Err(usage(format!(
                    "{name}: `lockfileVersion` must be a number, not {}",
                    type_name(&other)
                )));
            }
        };
        let entries = match version {
            2 | 3 => {
                let body: Body = serde_json::from_str(&file.text).map_err(|e| file.error(&e))?;
                let packages = body.packages.ok_or_else(|| {
                    usage(format!(
                        "{name}: lockfileVersion 2 and 3 need a `packages` object"
                    ))
                })?;
                packages
                    .into_iter()
                    .map(|(location, raw)| {
                        check_location(&location, &name)?;
                        let entry = raw.into_entry();
                        if entry.link {
                            let what = format!("{name} entry \"{location}\"");
                            check_location(entry.resolved.as_deref().unwrap_or_default(), &what)?;
                        }
                        Ok((location, entry))
                    })
                    .collect::<anyhow::Result<_>>()?
            }
            1 => {
                let value: Value = serde_json::from_str(&file.text).map_err(|e| file.error(&e))?;
                flatten_v1(&value, &name)?
            }
            other => {
                return Err(usage(format!(
                    "{name} has lockfileVersion {other}; lockfile-check reads versions 1, 2 and 3"
                )));
            }
        };
        Ok(Self {
            file,
            version,
            entries,
        })
    }
}

/// The version alone, read first so an unknown version is named before its shape is judged.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "lockfileVersion")]
    lockfile_version: Option<Value>,
}

#[derive(Deserialize)]
struct Body {
    packages: Option<BTreeMap<String, RawEntry>>,
}

/// A `packages` entry as npm writes it; unknown fields (bin, engines, license…) skipped.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RawEntry {
    name: Option<String>,
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    link: bool,
    dependencies: BTreeMap<String, String>,
    dev_dependencies: BTreeMap<String, String>,
    optional_dependencies: BTreeMap<String, String>,
    peer_dependencies: BTreeMap<String, String>,
    peer_dependencies_meta: BTreeMap<String, PeerMeta>,
    workspaces: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct PeerMeta {
    optional: bool,
}

impl RawEntry {
    fn into_entry(self) -> Entry {
        Entry {
            name: self.name,
            version: self.version,
            resolved: self.resolved,
            integrity: self.integrity,
            link: self.link,
            deps: Deps {
                prod: self.dependencies,
                dev: self.dev_dependencies,
                optional: self.optional_dependencies,
                peer: self.peer_dependencies,
                peer_optional: self
                    .peer_dependencies_meta
                    .into_iter()
                    .filter(|(_, meta)| meta.optional)
                    .map(|(name, _)| name)
                    .collect(),
            },
            workspaces: self.workspaces,
        }
    }
}

fn display_dir(root: &Path) -> String {
    let shown = root.display().to_string();
    if shown.is_empty() {
        ".".to_owned()
    } else {
        shown
    }
}

/// Whether a location is a package inside some node_modules (not a linked folder).
pub fn in_node_modules(location: &str) -> bool {
    location.starts_with("node_modules/") || location.contains("/node_modules/")
}

/// The name a location installs under: what follows its last `node_modules/`.
pub fn name_at(location: &str) -> &str {
    match location.rfind("node_modules/") {
        Some(at) => &location[at + "node_modules/".len()..],
        None => location.rsplit('/').next().unwrap_or(location),
    }
}

impl Lock {
    /// Locked packages (links excluded) with their registry name: the entry's `name` for
    /// `npm:` aliases, else the folder they install under.
    pub fn installed(&self) -> impl Iterator<Item = (&str, &Entry, String)> {
        self.entries
            .iter()
            .filter(|(location, entry)| in_node_modules(location) && !entry.link)
            .map(|(location, entry)| {
                let name = entry
                    .name
                    .clone()
                    .unwrap_or_else(|| name_at(location).to_owned());
                (location.as_str(), entry, name)
            })
    }
}

/// Rejects locations that would leave the checked directory or are not relative paths.
pub fn check_location(location: &str, what: &str) -> anyhow::Result<()> {
    let bad = location.starts_with('/')
        || location.contains('\\')
        || location.contains('\0')
        || location.split('/').any(|segment| {
            segment == ".." || segment == "." || (segment.is_empty() && !location.is_empty())
        })
        || (location.len() >= 2 && location.as_bytes()[1] == b':');
    if bad {
        return Err(usage(format!(
            "{what}: `{location}` is not a path inside the repository; lockfile-check reads nothing outside `path`"
        )));
    }
    Ok(())
}

fn entry(object: &Map<String, Value>, what: &str) -> anyhow::Result<Entry> {
    Ok(Entry {
        name: optional_string(object, "name", what)?,
        version: optional_string(object, "version", what)?,
        resolved: optional_string(object, "resolved", what)?,
        integrity: optional_string(object, "integrity", what)?,
        link: flag(object, "link", what)?,
        deps: Deps::read(object, what)?,
        workspaces: Vec::new(),
    })
}

fn flag(object: &Map<String, Value>, field: &str, what: &str) -> anyhow::Result<bool> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(usage(format!(
            "{what}: `{field}` must be true or false, not {}",
            type_name(other)
        ))),
    }
}

/// Version 1: `dependencies` nested by install location, `requires` for edges, `version`
/// doubling as `file:` link target or `npm:` alias.
fn flatten_v1(value: &Value, name: &str) -> anyhow::Result<BTreeMap<String, Entry>> {
    let mut entries = BTreeMap::new();
    if let Some(deps) = value.get("dependencies") {
        flatten_level(deps, "", name, &mut entries)?;
    }
    Ok(entries)
}

fn flatten_level(
    deps: &Value,
    parent: &str,
    file: &str,
    entries: &mut BTreeMap<String, Entry>,
) -> anyhow::Result<()> {
    let deps = deps.as_object().ok_or_else(|| {
        usage(format!(
            "{file}: `dependencies` under \"{parent}\" must be an object, not {}",
            type_name(deps)
        ))
    })?;
    for (dep, raw) in deps {
        let location = if parent.is_empty() {
            format!("node_modules/{dep}")
        } else {
            format!("{parent}/node_modules/{dep}")
        };
        check_location(&location, file)?;
        let what = format!("{file} dependency \"{location}\"");
        let object = raw
            .as_object()
            .ok_or_else(|| usage(format!("{what} must be an object, not {}", type_name(raw))))?;
        // Here `dependencies` holds nested entries and `requires` the edges.
        let mut fields = object.clone();
        fields.remove("dependencies");
        if let Some(requires) = fields.remove("requires") {
            fields.insert("dependencies".to_owned(), requires);
        }
        let mut entry = entry(&fields, &what)?;
        match entry.version.clone() {
            Some(v) if v.starts_with("file:") => {
                let target = v
                    .trim_start_matches("file:")
                    .trim_start_matches("./")
                    .to_owned();
                check_location(&target, &what)?;
                entries.entry(target.clone()).or_insert_with(|| Entry {
                    deps: entry.deps.clone(),
                    ..Entry::default()
                });
                entry.link = true;
                entry.resolved = Some(target);
                entry.version = None;
            }
            Some(v) if v.starts_with("npm:") => {
                let rest = &v[4..];
                if let Some(at) = rest.rfind('@').filter(|at| *at > 0) {
                    entry.name = Some(rest[..at].to_owned());
                    entry.version = Some(rest[at + 1..].to_owned());
                }
            }
            Some(v) if v.contains(':') => {
                entry.resolved.get_or_insert(v);
                entry.version = None;
            }
            _ => {}
        }
        // A link's nested dependencies live in its target folder.
        let children_parent = match (&entry.link, &entry.resolved) {
            (true, Some(target)) => target.clone(),
            _ => location.clone(),
        };
        if let Some(children) = object.get("dependencies") {
            flatten_level(children, &children_parent, file, entries)?;
        }
        entries.insert(location, entry);
    }
    Ok(())
}
