//! The fields a package.json and a lock entry share (name, version, the dependency maps,
//! workspaces …), deserialized in one typed pass: a wrong type is an error naming its line
//! and column, and fields npm does not need for a verdict are skipped unread.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::json::{Source, type_name};
use super::overrides::{self, Rule};
use super::text::Text;

/// The four dependency maps, named as in package.json.
pub const SECTIONS: [&str; 4] = [
    "dependencies",
    "devDependencies",
    "optionalDependencies",
    "peerDependencies",
];

/// Names to specifiers, as written.
pub type Specs<'a> = BTreeMap<Text<'a>, Text<'a>>;

/// Dependency maps of a package.json or a lock entry, borrowing from the file's text.
#[derive(Debug, Clone, Default)]
pub struct Deps<'a> {
    pub prod: Specs<'a>,
    pub dev: Specs<'a>,
    pub optional: Specs<'a>,
    pub peer: Specs<'a>,
    /// Peers marked `peerDependenciesMeta.<name>.optional`.
    pub peer_optional: BTreeSet<Text<'a>>,
}

impl<'a> Deps<'a> {
    /// The map behind a package.json section name.
    pub fn section(&self, name: &str) -> &Specs<'a> {
        match name {
            "devDependencies" => &self.dev,
            "optionalDependencies" => &self.optional,
            "peerDependencies" => &self.peer,
            _ => &self.prod,
        }
    }

    /// The same maps, owning their strings (a package.json's outlive its text).
    pub fn into_owned(self) -> Deps<'static> {
        let owned = |specs: Specs<'a>| -> Specs<'static> {
            specs
                .into_iter()
                .map(|(name, spec)| (name.into_owned(), spec.into_owned()))
                .collect()
        };
        Deps {
            prod: owned(self.prod),
            dev: owned(self.dev),
            optional: owned(self.optional),
            peer: owned(self.peer),
            peer_optional: self
                .peer_optional
                .into_iter()
                .map(Text::into_owned)
                .collect(),
        }
    }
}

/// One package record as package.json and lock entries (versions 2 and 3) spell it.
/// Strings are borrowed from the text unless written with escapes.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Fields<'a> {
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub version: Option<Text<'a>>,
    #[serde(borrow)]
    pub resolved: Option<Text<'a>>,
    #[serde(borrow)]
    pub integrity: Option<Text<'a>>,
    pub link: bool,
    #[serde(borrow)]
    dependencies: Specs<'a>,
    #[serde(borrow)]
    dev_dependencies: Specs<'a>,
    #[serde(borrow)]
    optional_dependencies: Specs<'a>,
    #[serde(borrow)]
    peer_dependencies: Specs<'a>,
    #[serde(borrow)]
    peer_dependencies_meta: BTreeMap<Text<'a>, PeerMeta>,
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

impl<'a> Fields<'a> {
    /// Moves the dependency maps out.
    pub fn take_deps(&mut self) -> Deps<'a> {
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
    pub deps: Deps<'static>,
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
            deps: fields.take_deps().into_owned(),
            overrides: overrides::parse(fields.overrides.as_ref(), &source.path)?,
            name: fields.name.map(|name| name.0.into_owned()),
            version: fields.version.map(|version| version.0.into_owned()),
            workspaces: fields.workspaces,
            package_manager: fields.package_manager,
        })
    }
}
