//! Reading package.json and lock files: size limits, a BOM, parse errors with line and
//! column, and finding the line of a key so annotations point at the exact entry.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use foldhash::{HashMap, HashMapExt};
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
    /// By the offset of an object's `{`: its members met so far. Each object is scanned at
    /// most once, and only as far as the furthest member asked for.
    objects: Mutex<HashMap<usize, Members>>,
    /// Where a parse already met every member of one object, so it is never scanned.
    hint: OnceLock<Hint>,
}

/// The object reached by `path` from the top, and the offset of each of its members' keys
/// (their opening quotes), in order, as a parse met them.
#[derive(Debug)]
struct Hint {
    path: Vec<String>,
    keys: Vec<usize>,
}

/// An object's members met so far: name → (offset of the key, offset of its value), and
/// where the scan goes on (`None` once it met the end or a surprise).
#[derive(Debug)]
struct Members {
    known: HashMap<String, (usize, usize)>,
    next: Option<usize>,
    /// `next` is the value of the member last found, still to be skipped.
    skip_first: bool,
}

impl Members {
    /// An object whose `{` is at `open`, not scanned yet.
    fn at(open: usize) -> Self {
        Self {
            known: HashMap::new(),
            next: Some(open + 1),
            skip_first: false,
        }
    }

    /// Every member of the object whose `{` is at `open`, from the offsets of their keys;
    /// `None` unless the first is the object's first member and each is a key.
    fn from_keys(bytes: &[u8], open: usize, keys: &[usize]) -> Option<Self> {
        let mut first = Scanner {
            bytes,
            pos: open + 1,
        };
        first.skip_ws();
        if keys.first() != Some(&first.pos) {
            return None;
        }
        let mut known = HashMap::with_capacity(keys.len());
        for &key_at in keys {
            let mut scan = Scanner { bytes, pos: key_at };
            if scan.peek()? != b'"' {
                return None;
            }
            let raw = scan.string()?;
            scan.skip_ws();
            if scan.peek()? != b':' {
                return None;
            }
            scan.pos += 1;
            scan.skip_ws();
            known.entry(decode(raw)?).or_insert((key_at, scan.pos));
        }
        Some(Self {
            known,
            next: None,
            skip_first: false,
        })
    }

    /// The member `wanted`, scanning on from where the last search stopped; the first of
    /// duplicate names wins. A surprise ends the scan with what it has.
    fn find(&mut self, bytes: &[u8], wanted: &str) -> Option<(usize, usize)> {
        if let Some(found) = self.known.get(wanted) {
            return Some(*found);
        }
        let mut scan = Scanner {
            bytes,
            pos: self.next.take()?,
        };
        if std::mem::take(&mut self.skip_first) {
            scan.skip_value()?;
        }
        loop {
            scan.skip_ws();
            match scan.peek()? {
                b',' => scan.pos += 1,
                b'"' => {
                    let key_at = scan.pos;
                    let raw = scan.string()?;
                    scan.skip_ws();
                    if scan.peek() != Some(b':') {
                        return None;
                    }
                    scan.pos += 1;
                    scan.skip_ws();
                    let value_at = scan.pos;
                    let hit = match decode(raw) {
                        Some(name) => {
                            let hit = name == wanted;
                            self.known.entry(name).or_insert((key_at, value_at));
                            hit
                        }
                        None => false,
                    };
                    if hit {
                        // Its value is skipped by the next search, if there is one: the
                        // member asked for may be most of the file (`packages`).
                        self.next = Some(value_at);
                        self.skip_first = true;
                        return Some((key_at, value_at));
                    }
                    scan.skip_value()?;
                }
                _ => return None,
            }
        }
    }
}

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

    /// Records where a parse met the keys of the object at `path` (e.g. `["packages"]`):
    /// the offset of every member's opening quote, in order. `line_of` then looks that
    /// object's members up without scanning it. The first hint given is kept.
    pub fn hint_members(&self, path: &[&str], keys: Vec<usize>) {
        let path = path.iter().map(|key| (*key).to_owned()).collect();
        let _ = self.index.hint.set(Hint { path, keys });
    }

    /// The 1-based line of the key at `keys` (e.g. `["dependencies", "ms"]`), if present.
    pub fn line_of(&self, keys: &[&str]) -> Option<u32> {
        let offset = self.locate(keys)?;
        let newlines = self.index.newlines.get_or_init(|| {
            memchr::memchr_iter(b'\n', self.text.as_bytes())
                .filter_map(|at| u32::try_from(at).ok())
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
        for (depth, key) in keys.iter().enumerate() {
            scan.skip_ws();
            if scan.peek()? != b'{' {
                return None;
            }
            let members = objects.entry(scan.pos).or_insert_with(|| {
                self.index
                    .hint
                    .get()
                    .filter(|hint| hint.path == keys[..depth])
                    .and_then(|hint| Members::from_keys(scan.bytes, scan.pos, &hint.keys))
                    .unwrap_or_else(|| Members::at(scan.pos))
            });
            let (key_at, value_at) = members.find(scan.bytes, key)?;
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

    /// Skips a string starting at `"`; returns its raw bytes including quotes.
    fn string(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        self.pos = string_end(self.bytes, start + 1)?;
        self.bytes.get(start..self.pos)
    }

    /// Skips one value of any kind, nesting counted without recursion. In valid JSON the
    /// braces outside strings balance on their own, and so do the brackets: an object is
    /// skipped by jumping from quote or brace to the next (SIMD search), an array likewise.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                let bytes = self.bytes;
                let mut at = self.pos + 1;
                let mut depth = 1usize;
                loop {
                    at += memchr::memchr3(b'"', open, close, bytes.get(at..)?)?;
                    let byte = *bytes.get(at)?;
                    at += 1;
                    if byte == b'"' {
                        at = string_end(bytes, at)?;
                    } else if byte == open {
                        depth += 1;
                    } else {
                        depth -= 1;
                        if depth == 0 {
                            self.pos = at;
                            break;
                        }
                    }
                }
            }
            b'}' | b']' => return None,
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
                ) {
                    self.pos += 1;
                }
            }
        }
        Some(())
    }
}

/// The offset just past the closing quote of a string whose text starts at `at`.
fn string_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        at += memchr::memchr2(b'"', b'\\', bytes.get(at..)?)?;
        if *bytes.get(at)? == b'"' {
            return Some(at + 1);
        }
        at += 2;
    }
}

/// A key's raw bytes (with quotes) as text; escapes decoded.
fn decode(raw: &[u8]) -> Option<String> {
    if raw.contains(&b'\\') {
        serde_json::from_slice(raw).ok()
    } else {
        let inner = raw.get(1..raw.len().checked_sub(1)?)?;
        std::str::from_utf8(inner).ok().map(str::to_owned)
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
    fn a_hint_replaces_the_scan_of_its_object_only_when_it_fits() {
        let text = "{\"packages\": {\n\"a\": {\"v\": 1},\n\"b\": {}\n}, \"packages\": {\"c\": {}}}";
        let second_a = text.rfind("\"c\"").unwrap();
        let first_a = text.find("\"a\"").unwrap();
        // A hint naming only `a` is taken as the whole object: `b` is then not looked for.
        let f = file(text);
        f.hint_members(&["packages"], vec![first_a]);
        assert_eq!(f.line_of(&["packages", "a", "v"]), Some(2));
        assert_eq!(f.line_of(&["packages", "b"]), None);
        // A hint from another object (a repeated `packages`) is not this one's: scanned.
        let f = file(text);
        f.hint_members(&["packages"], vec![second_a]);
        assert_eq!(f.line_of(&["packages", "b"]), Some(3));
        assert_eq!(f.line_of(&["packages", "c"]), None);
        // Offsets that are not keys are ignored too.
        let f = file(text);
        f.hint_members(&["packages"], vec![first_a, first_a + 1]);
        assert_eq!(f.line_of(&["packages", "b"]), Some(3));
    }

    #[test]
    fn a_found_member_is_skipped_only_when_a_later_one_is_asked_for() {
        let f = file("{\"a\": {\"x\": 1},\n\"b\": [1, {\"}\": \"]\"}],\n\"c\": 3}");
        assert_eq!(f.line_of(&["a"]), Some(1));
        assert_eq!(f.line_of(&["c"]), Some(3));
        assert_eq!(f.line_of(&["b"]), Some(2));
        assert_eq!(f.line_of(&["a", "x"]), Some(1));
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
