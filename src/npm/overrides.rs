//! The root's `overrides`, as npm applies them: a rule replaces the spec of a matching
//! dependency edge, and an object rule's children apply inside that dependency's subtree.

use serde_json::Value;

use super::json::type_name;
use super::manifest::Deps;
use crate::exit::usage;

#[derive(Debug)]
pub struct Rule {
    pub name: String,
    /// `name@range` keys only override edges whose range can meet this one.
    pub key: Option<String>,
    /// The replacement spec (`"."` of an object rule); `$name` refers to a root dependency.
    pub value: Option<String>,
    pub children: Vec<Rule>,
}

/// Parses the root package.json's `overrides`.
pub fn parse(value: Option<&Value>, file: &str) -> anyhow::Result<Vec<Rule>> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(map)) => map
            .iter()
            .filter(|(key, _)| key.as_str() != ".")
            .map(|(key, value)| rule(key, value, file))
            .collect(),
        Some(other) => Err(usage(format!(
            "{file}: `overrides` must be an object, not {}",
            type_name(other)
        ))),
    }
}

fn rule(key: &str, value: &Value, file: &str) -> anyhow::Result<Rule> {
    let (name, key_spec) = match key.char_indices().skip(1).find(|(_, c)| *c == '@') {
        Some((at, _)) => (&key[..at], Some(key[at + 1..].to_owned())),
        None => (key, None),
    };
    let (value, children) = match value {
        Value::String(spec) => (Some(spec.clone()), Vec::new()),
        Value::Object(map) => {
            let own = match map.get(".") {
                None => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(other) => {
                    return Err(usage(format!(
                        "{file}: `overrides` entry {key:?} has a \".\" that is {}, not a string",
                        type_name(other)
                    )));
                }
            };
            (own, parse(Some(value), file)?)
        }
        other => {
            return Err(usage(format!(
                "{file}: `overrides` entry {key:?} must be a string or an object, not {}",
                type_name(other)
            )));
        }
    };
    Ok(Rule {
        name: name.to_owned(),
        key: key_spec.filter(|k| !k.is_empty() && k != "*"),
        value,
        children,
    })
}

impl Rule {
    /// Whether this rule governs an edge `name@raw_spec`.
    pub fn matches(&self, name: &str, raw_spec: &str) -> bool {
        if self.name != name {
            return false;
        }
        match (&self.key, super::spec::range(raw_spec)) {
            (None, _) => true,
            (Some(key), Ok(edge)) => super::spec::range(key).is_ok_and(|key| key.allows_any(&edge)),
            (Some(key), Err(_)) => key == raw_spec,
        }
    }

    /// The spec an overridden edge asks for (`$name` resolved against the root's deps).
    pub fn replacement(&self, root: &Deps<'_>) -> Option<String> {
        let value = self
            .value
            .as_deref()
            .filter(|v| *v != "*" && !v.is_empty())?;
        match value.strip_prefix('$') {
            Some(reference) => [&root.dev, &root.optional, &root.prod, &root.peer]
                .iter()
                .find_map(|map| map.get(reference).map(|spec| spec.to_string())),
            None => Some(value.to_owned()),
        }
    }
}

/// The rules in force at a node: its own scope first, then the enclosing ones.
#[derive(Debug, Clone, Default)]
pub struct Scope<'r> {
    pub rules: Vec<&'r [Rule]>,
}

impl<'r> Scope<'r> {
    pub fn top(rules: &'r [Rule]) -> Self {
        Self { rules: vec![rules] }
    }

    /// The innermost rule governing an edge.
    pub fn rule_for(&self, name: &str, raw_spec: &str) -> Option<&'r Rule> {
        self.rules
            .iter()
            .find_map(|level| level.iter().find(|r| r.matches(name, raw_spec)))
    }

    /// The scope below a dependency reached through `rule`.
    pub fn enter(&self, rule: Option<&'r Rule>) -> Self {
        match rule {
            Some(rule) if !rule.children.is_empty() => {
                let mut rules = vec![rule.children.as_slice()];
                rules.extend(self.rules.iter().copied());
                Self { rules }
            }
            _ => self.clone(),
        }
    }
}
