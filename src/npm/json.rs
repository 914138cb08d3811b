//! Reading package.json and lock files: size limits, a BOM, parse errors with line and
//! column, and finding the line of a key so annotations point at the exact entry.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use serde_json::Value;

use crate::exit::usage;

/// Real package.json files are kilobytes; anything this large is not one.
pub const MANIFEST_LIMIT: u64 = 8 << 20;
/// The largest real lockfiles are tens of megabytes.
pub const LOCK_LIMIT: u64 = 256 << 20;

/// The text of one file of the checked repository, kept so findings can name lines.
#[derive(Debug)]
pub struct Source {
    /// Path relative to the checked directory, with `/` separators.
    pub path: String,
    pub text: String,
    /// What `line_of` has learnt about the text, so each finding costs a lookup, not a
    /// scan of the whole file (100,000 findings on one file used to take minutes).
    index: KeyIndex,
}

/// Built lazily and once: line starts, and the members of each object looked into.
#[derive(Debug, Default)]
struct KeyIndex {
    /// Byte offset of every `\n`, in order (files are far below 4 GiB).
    newlines: OnceLock<Vec<u32>>,
    /// By the offset of an object's `{`: its members' names → (offset of the key, offset
    /// of its value). Each object is scanned at most once.
    objects: Mutex<HashMap<usize, Members>>,
}

/// An object's members: name → (offset of the key, offset of its value).
type Members = HashMap<String, (usize, usize)>;

impl Source {
    /// Reads `rel` under `root` (size-limited, UTF-8, without a byte-order mark, as npm
    /// reads it); every failure is a usage error naming the file.
    pub fn read(root: &Path, rel: &str, limit: u64) -> anyhow::Result<Self> {
        let full = inside(root, rel)?;
        let shown = root.join(rel);
        let shown = shown.display();
        let meta =
            std::fs::metadata(&full).map_err(|err| usage(format!("cannot read {shown}: {err}")))?;
        if !meta.is_file() {
            return Err(usage(format!("{shown} is not a file")));
        }
        if meta.len() > limit {
            return Err(usage(format!(
                "{shown} is {} MiB; files over {} MiB are not read (is it really a {}?)",
                meta.len() >> 20,
                limit >> 20,
                file_kind(rel)
            )));
        }
        let bytes =
            std::fs::read(&full).map_err(|err| usage(format!("cannot read {shown}: {err}")))?;
        let text = String::from_utf8(bytes).map_err(|err| {
            usage(format!(
                "{shown} is not UTF-8 (byte {})",
                err.utf8_error().valid_up_to()
            ))
        })?;
        Ok(Self::new(rel, text))
    }

    pub fn new(rel: &str, mut text: String) -> Self {
        if text.starts_with('\u{feff}') {
            text.drain(..3);
        }
        Self {
            path: rel.to_owned(),
            text,
            index: KeyIndex::default(),
        }
    }

    /// package.json and lockfiles are objects; serde would read a struct from an array.
    pub fn expect_object(&self) -> anyhow::Result<()> {
        if self.text.trim_start().starts_with('{') {
            Ok(())
        } else {
            Err(usage(format!("{} must hold a JSON object", self.path)))
        }
    }

    /// The usage error for JSON that does not parse (or not into the expected shape).
    pub fn error(&self, err: &serde_json::Error) -> anyhow::Error {
        let what = match err.classify() {
            serde_json::error::Category::Data => {
                format!("is not a valid {}", file_kind(&self.path))
            }
            _ => "is not valid JSON".to_owned(),
        };
        usage(format!(
            "{} {what}: {} at line {} column {}",
            self.path,
            describe(err),
            err.line(),
            err.column()
        ))
    }

    /// The 1-based line of the key at `keys` (e.g. `["dependencies", "ms"]`), if present.
    pub fn line_of(&self, keys: &[&str]) -> Option<u32> {
        let offset = self.locate(keys)?;
        let newlines = self.index.newlines.get_or_init(|| {
            self.text
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .filter_map(|(at, _)| u32::try_from(at).ok())
                .collect()
        });
        let before =
            newlines.partition_point(|at| usize::try_from(*at).is_ok_and(|at| at < offset));
        u32::try_from(before + 1).ok()
    }

    /// Byte offset of the key reached by following `keys` from the top object. The text
    /// has already parsed as JSON; any surprise still just answers `None`.
    fn locate(&self, keys: &[&str]) -> Option<usize> {
        let mut objects = self
            .index
            .objects
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut scan = Scanner {
            bytes: self.text.as_bytes(),
            pos: 0,
        };
        let mut found = None;
        for key in keys {
            scan.skip_ws();
            if scan.peek()? != b'{' {
                return None;
            }
            let members = objects
                .entry(scan.pos)
                .or_insert_with(|| scan.clone().members());
            let (key_at, value_at) = *members.get(*key)?;
            found = Some(key_at);
            scan.pos = value_at;
        }
        found
    }
}

/// `root/rel` with every symlink and `..` resolved, refused unless it stays inside `root`
/// (itself resolved): a repository under review must not make us read, and report on,
/// files elsewhere on the runner. The resolved path is what gets read.
fn inside(root: &Path, rel: &str) -> anyhow::Result<PathBuf> {
    let canonical_root = root
        .canonicalize()
        .map_err(|err| usage(format!("cannot read `path` {}: {err}", root.display())))?;
    let full = root
        .join(rel)
        .canonicalize()
        .map_err(|err| usage(format!("cannot read {}: {err}", root.join(rel).display())))?;
    if !full.starts_with(&canonical_root) {
        return Err(usage(format!(
            "{rel} leads outside `path` (a symlink or `..`); lockfile-check reads nothing outside the checked folder: replace the link with the file itself"
        )));
    }
    Ok(full)
}

fn file_kind(rel: &str) -> &'static str {
    if rel.ends_with("package.json") {
        "package.json"
    } else {
        "lockfile"
    }
}

/// serde_json's message without its own " at line L column C" tail (we add ours).
fn describe(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// "a number", "an array" … for messages about wrong types.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[derive(Clone)]
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// At an object's `{`: each member's name (decoded) → the offsets of its key and its
    /// value; the first of duplicate names wins. A surprise ends the scan with what it has.
    fn members(mut self) -> Members {
        let mut members = HashMap::new();
        self.pos += 1;
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'"') => {
                    let start = self.pos;
                    let Some(raw) = self.string() else {
                        return members;
                    };
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        return members;
                    }
                    self.pos += 1;
                    self.skip_ws();
                    if let Some(name) = decode(raw) {
                        members.entry(name).or_insert((start, self.pos));
                    }
                    if self.skip_value().is_none() {
                        return members;
                    }
                }
                _ => return members,
            }
        }
    }

    /// Skips a string starting at `"`; returns its raw text including quotes.
    fn string(&mut self) -> Option<&'a str> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.peek()? {
                b'\\' => self.pos += 2,
                b'"' => {
                    self.pos += 1;
                    let bytes: &'a [u8] = self.bytes;
                    return std::str::from_utf8(bytes.get(start..self.pos)?).ok();
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Skips one value of any kind, nesting counted without recursion.
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            self.skip_ws();
            match self.peek()? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.pos += 1;
                    continue;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.pos += 1;
                }
                b',' | b':' if depth > 0 => {
                    self.pos += 1;
                    continue;
                }
                _ => {
                    while !matches!(
                        self.peek(),
                        None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                    ) {
                        self.pos += 1;
                    }
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
}

fn decode(raw: &str) -> Option<String> {
    if raw.contains('\\') {
        serde_json::from_str(raw).ok()
    } else {
        raw.get(1..raw.len().checked_sub(1)?).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Source {
        Source::new("package.json", text.to_owned())
    }

    #[test]
    fn finds_the_line_of_nested_keys_and_skips_lookalikes() {
        let f = file(
            "{\n  \"name\": \"dependencies\",\n  \"devDependencies\": {\"ms\": \"1\"},\n  \"dependencies\": {\n    \"a\": [1, {\"ms\": 2}],\n    \"ms\": \"^2\"\n  }\n}\n",
        );
        assert_eq!(f.line_of(&["dependencies", "ms"]), Some(6));
        assert_eq!(f.line_of(&["devDependencies", "ms"]), Some(3));
        assert_eq!(f.line_of(&["dependencies", "nope"]), None);
        assert_eq!(f.line_of(&["name", "x"]), None);
    }

    #[test]
    fn every_key_of_a_large_object_gets_its_own_line_from_one_scan() {
        let members: Vec<String> = (0..500)
            .map(|i| format!("  \"k{i}\": {{\"v\": {i}}}"))
            .collect();
        let f = file(&format!("{{\"a\": {{\n{}\n}}}}", members.join(",\n")));
        for i in (0..500).rev() {
            let key = format!("k{i}");
            assert_eq!(f.line_of(&["a", &key]), Some(i + 2));
            assert_eq!(f.line_of(&["a", &key, "v"]), Some(i + 2));
        }
        assert_eq!(f.line_of(&["a", "k500"]), None);
        assert_eq!(f.line_of(&["a", "k1", "v", "x"]), None);
    }

    #[test]
    fn escaped_keys_are_compared_decoded() {
        let f = file("{\"packages\": {\n\"node_modules/\\u0061\": {}}}");
        assert_eq!(f.line_of(&["packages", "node_modules/a"]), Some(2));
    }

    #[test]
    fn errors_say_whether_the_json_or_its_shape_is_wrong() {
        let lock = Source::new("package-lock.json", String::new());
        let syntax = serde_json::from_str::<Value>("{\n  \"a\": 1,\n  \"b\": }").unwrap_err();
        let err = lock.error(&syntax).to_string();
        assert!(
            err.starts_with("package-lock.json is not valid JSON"),
            "{err}"
        );
        assert!(err.contains("at line 3 column"), "{err}");
        let shape = serde_json::from_str::<String>("\n 4").unwrap_err();
        let err = lock.error(&shape).to_string();
        assert!(
            err.starts_with("package-lock.json is not a valid lockfile: invalid type"),
            "{err}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        assert_eq!(file("\u{feff}{}").text, "{}");
    }
}
