//! The lines of lock entries, for annotations, without rescanning the lock per finding
//! (`Source::line_of` walks the JSON from the top each time, which made a run's time grow
//! with its findings). npm writes its lock with `JSON.stringify(data, null, 2)`
//! (@npmcli/arborist lib/shrinkwrap.js, `toString`), so each `packages` member starts a
//! line `    "<location>": {` and its dependency maps sit two spaces deeper. One pass
//! indexes those lines; whatever is not found that way (a lock formatted otherwise, an
//! escaped name) falls back to the exact `line_of`.

use std::collections::HashMap;

use super::json::Source;

pub struct LockLines<'a> {
    text: &'a str,
    /// Location → byte offset of the line holding its key.
    entries: HashMap<&'a str, usize>,
    /// Byte offsets of every newline, ascending.
    newlines: Vec<usize>,
}

const ENTRY: &str = "\n    \"";
const ENTRY_END: &str = "\n    }";

impl<'a> LockLines<'a> {
    pub fn new(lock: &'a Source) -> Self {
        let text = lock.text.as_str();
        let mut entries = HashMap::new();
        if let Some(start) = text.find("\n  \"packages\": {") {
            let end = text[start..]
                .find("\n  }")
                .map_or(text.len(), |e| start + e);
            let body = &text[start..end];
            let mut from = 0;
            while let Some(at) = body[from..].find(ENTRY) {
                let key_start = from + at + ENTRY.len();
                let Some(len) = body[key_start..].find('"') else {
                    break;
                };
                let key = &body[key_start..key_start + len];
                if !key.contains('\\') {
                    entries.entry(key).or_insert(start + from + at + 1);
                }
                from = key_start + len;
            }
        }
        let newlines = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i)
            .collect();
        Self {
            text,
            entries,
            newlines,
        }
    }

    fn line(&self, offset: usize) -> Option<u32> {
        u32::try_from(self.newlines.partition_point(|n| *n < offset) + 1).ok()
    }

    /// The line of `packages[location]`, else of `packages[location][section][name]`
    /// when `member` is given and found.
    pub fn find(&self, location: &str, member: Option<(&str, &str)>) -> Option<u32> {
        let at = *self.entries.get(location)?;
        let Some((section, name)) = member else {
            return self.line(at);
        };
        if section.contains(['"', '\\']) || name.contains(['"', '\\']) {
            return None;
        }
        let entry_end = self.text[at..]
            .find(ENTRY_END)
            .map_or(self.text.len(), |e| at + e);
        let entry = &self.text[at..entry_end];
        let section_at = entry.find(&format!("\n      \"{section}\": {{"))?;
        let map = &entry[section_at..];
        let map = &map[..map.find("\n      }").unwrap_or(map.len())];
        let name_at = map.find(&format!("\n        \"{name}\": "))?;
        self.line(at + section_at + name_at + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_line_of_finds_on_an_npm_written_lock() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npm");
        let lock = Source::read(&root.join("in-sync"), "package-lock.json", 1 << 20).unwrap();
        let lines = LockLines::new(&lock);
        assert!(lines.entries.len() > 5);
        for location in lines.entries.keys() {
            assert_eq!(
                lines.find(location, None),
                lock.line_of(&["packages", location]),
                "{location}"
            );
        }
        assert_eq!(
            lines.find("node_modules/debug", Some(("dependencies", "ms"))),
            lock.line_of(&["packages", "node_modules/debug", "dependencies", "ms"])
        );
        assert!(
            lines
                .find("node_modules/debug", Some(("dependencies", "nope")))
                .is_none()
        );
        assert!(lines.find("node_modules/nope", None).is_none());
    }
}
