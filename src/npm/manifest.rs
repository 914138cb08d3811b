//! The fields a package.json and a lock entry share (name, version, the dependency maps,
//! workspaces …), deserialized in one typed pass: a wrong type is an error naming its line
//! and column, and fields npm does not need for a verdict are skipped unread.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::json::{Source, type_name};
use super::overrides::{self, Rule};

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
}

/// One package record as package.json and lock entries (versions 2 and 3) spell it.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Fields {
    pub name: Option<String>,
    pub version: Option<String>,
    pub resolved: Option<String>,
    pub integrity: Option<String>,
    pub link: bool,
    dependencies: BTreeMap<String, String>,
    dev_dependencies: BTreeMap<String, String>,
    optional_dependencies: BTreeMap<String, String>,
    peer_dependencies: BTreeMap<String, String>,
    peer_dependencies_meta: BTreeMap<String, PeerMeta>,
    #[serde(deserialize_with = "workspace_globs")]
    pub workspaces: Vec<String>,
    pub overrides: Option<Value>,
    pub package_manager: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PeerMeta {
    optional: bool,
}

impl Fields {
    /// Moves the dependency maps out.
    pub fn take_deps(&mut self) -> Deps {
        Deps {
            prod: std::mem::take(&mut self.dependencies),
            dev: std::mem::take(&mut self.dev_dependencies),
            optional: std::mem::take(&mut self.optional_dependencies),
            peer: std::mem::take(&mut self.peer_dependencies),
            peer_optional: std::mem::take(&mut self.peer_dependencies_meta)
                .into_iter()
                .filter(|(_, meta)| meta.optional)
                .map(|(name, _)| name)
                .collect(),
        }
    }
}

/// `workspaces` as an array of globs or `{"packages": [...]}`.
fn workspace_globs<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    use serde::de::Error as _;
    let value = Value::deserialize(de)?;
    let list = match &value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(list) => list,
        Value::Object(o) => match o.get("packages") {
            None => return Ok(Vec::new()),
            Some(Value::Array(list)) => list,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "`workspaces.packages` must be an array of globs, not {}",
                    type_name(other)
                )));
            }
        },
        other => {
            return Err(D::Error::custom(format!(
                "`workspaces` must be an array of globs (or {{\"packages\": [...]}}), not {}",
                type_name(other)
            )));
        }
    };
    list.iter()
        .map(|v| {
            v.as_str().map(str::to_owned).ok_or_else(|| {
                D::Error::custom(format!(
                    "every `workspaces` entry must be a string glob, not {}",
                    type_name(v)
                ))
            })
        })
        .collect()
}

/// A package.json of the root, a workspace or a linked folder.
#[derive(Debug)]
pub struct Manifest {
    pub name: Option<String>,
    pub version: Option<String>,
    pub deps: Deps,
    pub workspaces: Vec<String>,
    /// The root's `overrides` (npm ignores them elsewhere).
    pub overrides: Vec<Rule>,
    /// e.g. `npm@10.8.2`: the npm the lock is meant to be written with.
    pub package_manager: Option<String>,
}

impl Manifest {
    pub fn parse(source: &Source) -> anyhow::Result<Self> {
        source.expect_object()?;
        let mut fields: Fields =
            serde_json::from_str(&source.text).map_err(|e| source.error(&e))?;
        Ok(Self {
            deps: fields.take_deps(),
            overrides: overrides::parse(fields.overrides.as_ref(), &source.path)?,
            name: fields.name,
            version: fields.version,
            workspaces: fields.workspaces,
            package_manager: fields.package_manager,
        })
    }
}
