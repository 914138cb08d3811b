//! package-lock.json and npm-shrinkwrap.json, versions 1 to 3, as one map of install
//! locations (`node_modules/a/node_modules/b`, `packages/web`) to locked entries. Version 1
//! nests `dependencies`; it is flattened to the same locations npm 7+ would record.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;
use yoke::Yoke;

use super::json::{LOCK_LIMIT, Source, type_name};
use super::manifest::{Deps, Fields};
use super::text::Text;
use crate::exit::usage;

/// Lockfile names in npm's order of precedence.
pub const LOCK_NAMES: [&str; 2] = ["npm-shrinkwrap.json", "package-lock.json"];

/// One locked package (or link) at an install location; its strings borrow the lock's
/// text.
#[derive(Debug, Clone, Default)]
pub struct Entry<'a> {
    /// The real package name when it differs from the folder (npm: aliases).
    pub name: Option<Text<'a>>,
    pub version: Option<Text<'a>>,
    pub resolved: Option<Text<'a>>,
    pub integrity: Option<Text<'a>>,
    /// A symlink (workspaces, `file:` folders); `resolved` is the target location.
    pub link: bool,
    pub deps: Deps<'a>,
    /// Workspace globs (the root entry only).
    pub workspaces: Vec<String>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Entry<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Fields::deserialize(deserializer).map(Entry::from)
    }
}

/// Every location, `""` being the root (absent from version 1 files).
pub type Entries<'a> = BTreeMap<Text<'a>, Entry<'a>>;

/// The entries, borrowing the text they were read from.
#[derive(yoke::Yokeable)]
struct Parsed<'a> {
    entries: Entries<'a>,
}

/// A lockfile: its text and the entries read from it, which borrow that text (a lock of
/// thousands of packages holds tens of thousands of strings, none copied).
pub struct Lock {
    pub version: u64,
    parsed: Yoke<Parsed<'static>, Box<Source>>,
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lock")
            .field("file", &self.file().path)
            .field("version", &self.version)
            .field("entries", self.entries())
            .finish()
    }
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

    /// The lockfile read.
    pub fn file(&self) -> &Source {
        self.parsed.backing_cart()
    }

    /// Every location, `""` being the root (absent from version 1 files).
    pub fn entries(&self) -> &Entries<'_> {
        &self.parsed.get().entries
    }

    /// Parses a lockfile. Versions 2 and 3 are read straight into typed entries (a lock
    /// of thousands of packages is most of the work); version 1 goes through a JSON tree.
    pub fn parse(file: Source) -> anyhow::Result<Self> {
        let mut version = 0;
        let parsed = Yoke::try_attach_to_cart(Box::new(file), |file: &Source| {
            let (read, entries) = read_entries(file)?;
            version = read;
            Ok::<_, anyhow::Error>(Parsed { entries })
        })?;
        Ok(Self { version, parsed })
    }
}

/// The lock's version and entries, borrowing from `file`'s text.
fn read_entries(file: &Source) -> anyhow::Result<(u64, Entries<'_>)> {
    let name = file.path.clone();
    file.expect_object()?;
    // One pass reads the version and, when it came first (npm writes it first), the
    // entries too; a lock naming its version after its entries is read twice.
    let top: Top = serde_json::from_str(&file.text).map_err(|e| file.error(&e))?;
    let version = match &top.version {
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| {
            // -1 or 2.5 is named as written, never as the 0 a cast would make of it.
            usage(format!(
                "{name} has lockfileVersion {n}; lockfile-check reads versions 1, 2 and 3"
            ))
        })?,
        None => {
            return Err(usage(format!(
                "{name} has no `lockfileVersion`: is it an npm lockfile?"
            )));
        }
        Some(other) => {
            return Err(usage(format!(
                "{name}: `lockfileVersion` must be a number, not {}",
                type_name(other)
            )));
        }
    };
    let entries = match version {
        2 | 3 => {
            let packages = match top.packages {
                Some(packages) => Some(packages),
                None if top.later => {
                    let body: Body =
                        serde_json::from_str(&file.text).map_err(|e| file.error(&e))?;
                    body.packages
                }
                None => None,
            };
            let packages = packages.ok_or_else(|| {
                usage(format!(
                    "{name}: lockfileVersion 2 and 3 need a `packages` object"
                ))
            })?;
            if let Some(keys) = packages.key_offsets(&file.text) {
                file.hint_members(&["packages"], keys);
            }
            let packages = packages.entries;
            for (location, entry) in &packages {
                check_key(location, &name)?;
                if entry.link {
                    let what = format!("{name} entry \"{location}\"");
                    check_location(entry.resolved.as_deref().unwrap_or_default(), &what)?;
                }
            }
            packages
        }
        1 => {
            let dependencies = match top.v1 {
                Some(dependencies) => dependencies,
                None if top.later => {
                    let body: V1Body =
                        serde_json::from_str(&file.text).map_err(|e| file.error(&e))?;
                    body.dependencies
                }
                None => BTreeMap::new(),
            };
            let mut entries = BTreeMap::new();
            flatten_v1(dependencies, "", &name, &mut entries)?;
            entries
        }
        other => {
            return Err(usage(format!(
                "{name} has lockfileVersion {other}; lockfile-check reads versions 1, 2 and 3"
            )));
        }
    };
    Ok((version, entries))
}

/// The lock's top level in one pass: `lockfileVersion`, then the entries in the shape that
/// version has. Entries met before the version are skipped (`later`) and read once the
/// version is known, so an unknown version is named before the shape is judged.
#[derive(Default)]
struct Top<'a> {
    version: Option<Value>,
    packages: Option<Packages<'a>>,
    v1: Option<BTreeMap<String, V1Entry>>,
    later: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for Top<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> serde::de::Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        use serde::de::IgnoredAny;
        let mut top = Top::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let known = top.version.as_ref().and_then(Value::as_u64);
            match (key.as_ref(), known) {
                ("lockfileVersion", _) => top.version = Some(map.next_value()?),
                ("packages", Some(2 | 3)) => top.packages = Some(map.next_value()?),
                ("dependencies", Some(1)) => top.v1 = Some(map.next_value()?),
                ("packages" | "dependencies", None) => {
                    map.next_value::<IgnoredAny>()?;
                    top.later = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(top)
    }
}

/// The `packages` object: its entries, and where each key sits in the text (the
/// address of its first character, borrowed from the text) while every key is written
/// without escapes, so findings get their lines without a second scan of the lock.
struct Packages<'a> {
    entries: Entries<'a>,
    keys: Option<Vec<usize>>,
}

impl Packages<'_> {
    /// Each key's opening quote as an offset into `text`, the text it was parsed from.
    fn key_offsets(&self, text: &str) -> Option<Vec<usize>> {
        let base = text.as_ptr().addr();
        self.keys
            .as_ref()?
            .iter()
            .map(|addr| {
                addr.checked_sub(base)?
                    .checked_sub(1)
                    .filter(|at| *at < text.len())
            })
            .collect()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Packages<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PackagesVisitor)
    }
}

struct PackagesVisitor;

impl<'de> serde::de::Visitor<'de> for PackagesVisitor {
    type Value = Packages<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<Packages<'de>, A::Error> {
        // Collected, then built in one go: the map sorts once (npm writes the keys nearly
        // in order) instead of searching the tree per key; the last of repeated keys wins,
        // as with inserts.
        let mut entries = Vec::new();
        let mut keys = Some(Vec::new());
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &key.0 {
                Cow::Borrowed(text) => {
                    if let Some(keys) = keys.as_mut() {
                        keys.push(text.as_ptr().addr());
                    }
                }
                Cow::Owned(_) => keys = None,
            }
            entries.push((key, map.next_value()?));
        }
        Ok(Packages {
            entries: BTreeMap::from_iter(entries),
            keys,
        })
    }
}

#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow)]
    packages: Option<Packages<'a>>,
}

impl<'a> From<Fields<'a>> for Entry<'a> {
    fn from(mut fields: Fields<'a>) -> Self {
        Self {
            deps: fields.take_deps(),
            name: fields.name,
            version: fields.version,
            resolved: fields.resolved,
            integrity: fields.integrity,
            link: fields.link,
            workspaces: fields.workspaces,
        }
    }
}

/// A version 1 entry: `requires` holds the edges, `dependencies` the nested entries.
#[derive(Deserialize)]
struct V1Body {
    #[serde(default)]
    dependencies: BTreeMap<String, V1Entry>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct V1Entry {
    version: Option<String>,
    resolved: Option<String>,
    integrity: Option<String>,
    requires: BTreeMap<String, String>,
    dependencies: BTreeMap<String, V1Entry>,
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
    // The usual shapes first (`…node_modules/name`, `…node_modules/@scope/name`): no
    // later `node_modules/` can hide in a last segment, nor in `@scope/name`.
    const NM: &str = "node_modules/";
    let last = location.rfind('/').map_or(0, |slash| slash + 1);
    if location[..last].ends_with(NM) {
        return &location[last..];
    }
    if let Some(scope) = location[..last.saturating_sub(1)].rfind('/').map(|s| s + 1)
        && location[scope..].starts_with('@')
        && location[..scope].ends_with(NM)
    {
        return &location[scope..];
    }
    match location.rfind(NM) {
        Some(at) => &location[at + NM.len()..],
        None => location.rsplit('/').next().unwrap_or(location),
    }
}

impl Lock {
    /// Locked packages (links excluded) with their registry name: the entry's `name` for
    /// `npm:` aliases, else the folder they install under.
    pub fn installed(&self) -> impl Iterator<Item = (&str, &Entry<'_>, &str)> {
        self.entries()
            .iter()
            .filter(|(location, entry)| in_node_modules(location) && !entry.link)
            .map(|(location, entry)| {
                let name = entry.name.as_deref().unwrap_or_else(|| name_at(location));
                (&**location, entry, name)
            })
    }
}

/// A lock key: a location inside the repository, or one above it (`../other/packages/x`,
/// leading `..` only). npm accepts the latter and reads nothing there unless something
/// links to it (load-virtual.js: `#assertContained` only checks in subtreeOnly mode,
/// and only link targets' package.json files are read, `#resolveLinks`); lockfile-check
/// never reads it either, as a link's target is held to [`check_location`].
fn check_key(location: &str, what: &str) -> anyhow::Result<()> {
    let mut inside = location;
    while let Some(rest) = inside.strip_prefix("../") {
        inside = rest;
    }
    if inside.is_empty() {
        return check_location(location, what);
    }
    check_location(inside, what)
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

/// Version 1 nests entries by install location and doubles `version` as a `file:` link
/// target or an `npm:` alias; flattened to the locations npm 7+ records.
fn flatten_v1(
    level: BTreeMap<String, V1Entry>,
    parent: &str,
    file: &str,
    entries: &mut Entries<'_>,
) -> anyhow::Result<()> {
    for (dep, raw) in level {
        let location = if parent.is_empty() {
            format!("node_modules/{dep}")
        } else {
            format!("{parent}/node_modules/{dep}")
        };
        check_location(&location, file)?;
        let mut entry = Entry {
            resolved: raw.resolved.map(Text::from),
            integrity: raw.integrity.map(Text::from),
            deps: Deps {
                prod: raw
                    .requires
                    .into_iter()
                    .map(|(name, spec)| (Text::from(name), Text::from(spec)))
                    .collect(),
                ..Deps::default()
            },
            ..Entry::default()
        };
        match raw.version {
            Some(v) if v.starts_with("file:") => {
                let target = v
                    .trim_start_matches("file:")
                    .trim_start_matches("./")
                    .to_owned();
                check_location(&target, &format!("{file} dependency \"{location}\""))?;
                entries
                    .entry(Text::from(target.clone()))
                    .or_insert_with(|| Entry {
                        deps: entry.deps.clone(),
                        ..Entry::default()
                    });
                entry.link = true;
                entry.resolved = Some(Text::from(target));
            }
            Some(v) if v.starts_with("npm:") => match v[4..].rfind('@').filter(|at| *at > 0) {
                Some(at) => {
                    entry.name = Some(Text::from(v[4..4 + at].to_owned()));
                    entry.version = Some(Text::from(v[4 + at + 1..].to_owned()));
                }
                None => entry.version = Some(Text::from(v)),
            },
            Some(v) if v.contains(':') => {
                entry.resolved.get_or_insert(Text::from(v));
            }
            other => entry.version = other.map(Text::from),
        }
        // A link's nested dependencies live in its target folder.
        let children_parent = match (&entry.link, &entry.resolved) {
            (true, Some(target)) => target.to_string(),
            _ => location.clone(),
        };
        flatten_v1(raw.dependencies, &children_parent, file, entries)?;
        entries.insert(Text::from(location), entry);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Lock> {
        Lock::parse(Source::new("package-lock.json", text.to_owned()))
    }

    #[test]
    fn entries_before_the_version_are_read_once_it_is_known() {
        let first =
            r#"{"lockfileVersion": 3, "packages": {"node_modules/ms": {"version": "2.1.3"}}}"#;
        let after =
            r#"{"packages": {"node_modules/ms": {"version": "2.1.3"}}, "lockfileVersion": 3}"#;
        for text in [first, after] {
            let lock = parse(text).unwrap();
            assert_eq!(lock.version, 3);
            assert_eq!(
                lock.entries()["node_modules/ms"].version.as_deref(),
                Some("2.1.3")
            );
        }
        let v1 = r#"{"dependencies": {"ms": {"version": "2.1.3"}}, "lockfileVersion": 1}"#;
        assert_eq!(parse(v1).unwrap().entries().len(), 1);
    }

    #[test]
    fn the_last_of_repeated_keys_wins_as_in_npm() {
        let text = r#"{"lockfileVersion": 3, "packages": {"node_modules/b": {}, "node_modules/ms": {"version": "1.0.0"}, "node_modules/a": {}, "node_modules/ms": {"version": "2.1.3"}}}"#;
        let lock = parse(text).unwrap();
        assert_eq!(
            lock.entries()["node_modules/ms"].version.as_deref(),
            Some("2.1.3")
        );
        assert_eq!(lock.entries().len(), 3);
    }

    #[test]
    fn the_parse_records_where_each_packages_key_sits() {
        let text = "{\"lockfileVersion\": 3, \"packages\": {\n  \"\": {},\n  \"node_modules/ms\": {\"version\": \"2.1.3\"}}}";
        let top: Top = serde_json::from_str(text).unwrap();
        let offsets = top.packages.unwrap().key_offsets(text).unwrap();
        let keys: Vec<&str> = offsets.iter().map(|at| &text[*at..]).collect();
        assert!(keys[0].starts_with("\"\": {}"), "{keys:?}");
        assert!(keys[1].starts_with("\"node_modules/ms\": {"), "{keys:?}");
        assert_eq!(keys.len(), 2);
        // An escaped key has no place in the text as parsed: no offsets at all.
        let text = r#"{"lockfileVersion": 3, "packages": {"node_modules/\u006ds": {}}}"#;
        let top: Top = serde_json::from_str(text).unwrap();
        assert!(top.packages.unwrap().key_offsets(text).is_none());
        // Lines are the same either way.
        let lock = parse(text).unwrap();
        assert_eq!(
            lock.file().line_of(&["packages", "node_modules/ms"]),
            Some(1)
        );
    }

    #[test]
    fn escaped_strings_read_the_same_as_plain_ones() {
        let plain = r#"{"lockfileVersion": 3, "packages": {"node_modules/a": {"name": "b", "version": "1.0.0", "dependencies": {"ms": "^2"}, "peerDependenciesMeta": {"ms": {"optional": true}}}}}"#;
        let escaped = r#"{"lockfileVersion": 3, "packages": {"node_modules/\u0061": {"name": "\u0062", "version": "1.0.\u0030", "dependencies": {"m\u0073": "^\u0032"}, "peerDependenciesMeta": {"m\u0073": {"optional": true}}}}}"#;
        let (plain, escaped) = (parse(plain).unwrap(), parse(escaped).unwrap());
        assert_eq!(
            format!("{:?}", plain.entries()),
            format!("{:?}", escaped.entries())
        );
        let entry = &escaped.entries()["node_modules/a"];
        assert_eq!(entry.name.as_deref(), Some("b"));
        assert_eq!(entry.deps.prod.get("ms").map(|spec| &**spec), Some("^2"));
        assert!(entry.deps.peer_optional.contains("ms"));
    }

    #[test]
    fn an_unknown_version_is_named_before_the_shape_is_judged() {
        let text = r#"{"packages": [1, 2], "lockfileVersion": 4}"#;
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("lockfileVersion 4"), "{err}");
        let text = r#"{"lockfileVersion": 4, "packages": "nope"}"#;
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("lockfileVersion 4"), "{err}");
    }

    #[test]
    fn keys_above_the_repository_are_accepted_but_not_link_targets() {
        let text = r#"{"lockfileVersion": 3, "packages": {"../primitives/packages/x": {"version": "1.0.0"}}}"#;
        assert!(parse(text).is_ok());
        for bad in ["../", "node_modules/../../x", "/etc/x", "a/../../b"] {
            let text = format!(r#"{{"lockfileVersion": 3, "packages": {{"{bad}": {{}}}}}}"#);
            assert!(parse(&text).is_err(), "{bad}");
        }
        let text = r#"{"lockfileVersion": 3, "packages": {"node_modules/x": {"link": true, "resolved": "../outside"}}}"#;
        assert!(parse(text).is_err());
    }
}
