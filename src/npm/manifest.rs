//! The parts of a package.json (or of a lock entry, which records the same fields) that
//! decide dependency edges, read with their types checked.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::json::type_name;
use crate::exit::usage;

/// The four dependency maps, named as in package.json.
pub const SECTIONS: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
];

/// Dependency maps of a package.json or a lock entry.
#[derive(Debug, Clone, Default)]
pub struct Deps {
    pub prod: BTreeMap<String, String>,
    pub dev: BTreeMap<String, String>,
    pub optional: BTreeMap<String, String>,
    pub peer: BTreeMap<String, String>,
    /// Peers marked `peerDependenciesMeta.<name>.optional`.
    pub peer_optional: BTreeSet<String>,
}

impl Deps {
    /// The map behind a package.json section name.
    pub fn section(&self, name: &str) -> &BTreeMap<String, String> {
        match name {
            "devDependencies" => &self.dev,
            "optionalDependencies" => &self.optional,
            "peerDependencies" => &self.peer,
            _ => &self.prod,
        }
    }

    /// Reads the dependency fields of `object`; `what` names it in errors.
    pub fn read(object: &Map<String, Value>, what: &str) -> anyhow::Result<Self> {
        let mut deps = Self {
            prod: string_map(object, "dependencies", what)?,
            dev: string_map(object, "devDependencies", what)?,
            optional: string_map(object, "optionalDependencies", what)?,
            peer: string_map(object, "peerDependencies", what)?,
            peer_optional: BTreeSet::new(),
        };
        if let Some(meta) = object.get("peerDependenciesMeta") {
            let meta = meta.as_object().ok_or_else(|| {
                usage(format!(
                    "{what}: `peerDependenciesMeta` must be an object, not {}",
                    type_name(meta)
                ))
            })?;
            for (name, entry) in meta {
                if entry.get("optional").and_then(Value::as_bool) == Some(true) {
                    deps.peer_optional.insert(name.clone());
                }
            }
        }
        Ok(deps)
    }
}

/// A `{name: spec}` map whose values must all be strings.
fn string_map(
    object: &Map<String, Value>,
    field: &str,
    what: &str,
) -> anyhow::Result<BTreeMap<String, String>> {
    let Some(value) = object.get(field) else {
        return Ok(BTreeMap::new());
    };
    let Some(map) = value.as_object() else {
        return Err(usage(format!(
            "{what}: `{field}` must be an object of name: version range, not {}",
            type_name(value)
        )));
    };
    map.iter()
        .map(|(name, spec)| match spec.as_str() {
            Some(spec) => Ok((name.clone(), spec.to_owned())),
            None => Err(usage(format!(
                "{what}: `{field}.{name}` must be a string, not {}",
                type_name(spec)
            ))),
        })
        .collect()
}

/// A package.json of the root, a workspace or a linked folder.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub name: Option<String>,
    pub version: Option<String>,
    pub deps: Deps,
    /// Workspace patterns, from either the array or the `{packages: […]}` form.
    pub workspaces: Vec<String>,
    pub overrides: Option<Value>,
}

impl Manifest {
    pub fn read(value: &Value, what: &str) -> anyhow::Result<Self> {
        let object = value
            .as_object()
            .ok_or_else(|| usage(format!("{what} must hold a JSON object")))?;
        Ok(Self {
            name: optional_string(object, "name", what)?,
            version: optional_string(object, "version", what)?,
            deps: Deps::read(object, what)?,
            workspaces: workspaces(object, what)?,
            overrides: object.get("overrides").cloned(),
        })
    }
}

pub fn optional_string(
    object: &Map<String, Value>,
    field: &str,
    what: &str,
) -> anyhow::Result<Option<String>> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(usage(format!(
            "{what}: `{field}` must be a string, not {}",
            type_name(other)
        ))),
    }
}

fn workspaces(object: &Map<String, Value>, what: &str) -> anyhow::Result<Vec<String>> {
    let list = match object.get("workspaces") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(Value::Object(o)) => match o.get("packages") {
            Some(Value::Array(list)) => list,
            None => return Ok(Vec::new()),
            Some(other) => {
                return Err(usage(format!(
                    "{what}: `workspaces.packages` must be an array of globs, not {}",
                    type_name(other)
                )));
            }
        },
        Some(other) => {
            return Err(usage(format!(
                "{what}: `workspaces` must be an array of globs (or {{\"packages\": [...]}}), not {}",
                type_name(other)
            )));
        }
    };
    list.iter()
        .map(|v| {
            v.as_str().map(str::to_owned).ok_or_else(|| {
                usage(format!(
                    "{what}: every `workspaces` entry must be a string glob, not {}",
                    type_name(v)
                ))
            })
        })
        .collect()
}
