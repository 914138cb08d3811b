//! The one way a glob from outside (the root's `workspaces`, the `families` input) becomes
//! a matcher: its size is bounded before globset sees it, and it is compiled on globset's
//! path that returns errors instead of panicking.
//!
//! Why both: globset (0.4.21) turns nested braces into nested regex groups, recursively
//! (`Tokens::tokens_to_regex`, src/glob.rs:713 and its `Alternates` arm at :763), so deep
//! nesting overflows the stack while the glob is still being built (seen with a million
//! nested `{` in tests/glob_fuzz.rs with the size check turned off); and
//! `Glob::compile_matcher` (src/glob.rs:295-298) `expect`s the regex to compile, which
//! fails past regex-syntax's nesting limit of 250 (regex-syntax src/ast/parse.rs:141) or
//! globset's 10 MiB NFA limit (src/lib.rs:271-285): about 250 nested braces aborted the
//! process. `GlobSetBuilder::build` (src/lib.rs:592) reports those same failures as errors.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Longer than any real workspace path or package-name pattern (npm names stop at 214).
pub const MAX_LEN: usize = 1024;
/// `{a,{b,c}}` is 2 deep; real patterns use 1.
pub const MAX_NESTING: usize = 8;
/// Alternatives across all brace groups of one pattern.
pub const MAX_ALTERNATIVES: usize = 256;
/// Patterns in one list (`workspaces`, `families`).
pub const MAX_PATTERNS: usize = 1000;

/// A compiled glob.
#[derive(Debug, Clone)]
pub struct Matcher(GlobSet);

impl Matcher {
    pub fn is_match(&self, path: &str) -> bool {
        self.0.is_match(path)
    }
}

/// Compiles `pattern` (`literal_separator`: `*` does not cross `/`). The error says why
/// it is refused, for the caller's one-line usage error naming where the pattern came from.
pub fn compile(pattern: &str, literal_separator: bool) -> Result<Matcher, String> {
    check_size(pattern)?;
    let glob = GlobBuilder::new(pattern)
        .literal_separator(literal_separator)
        .build()
        // globset quotes the offending characters raw (a newline among them).
        .map_err(|err| format!("is not a valid glob: {}", visible(&err.kind().to_string())))?;
    GlobSetBuilder::new()
        .add(glob)
        .build()
        .map(Matcher)
        // The error would quote the whole generated regex; the reason is enough.
        .map_err(|_| "is too complex to match; simplify it".to_owned())
}

/// Control characters escaped, so a message stays on one line.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// A pattern quoted for a one-line error, cut short when it is long.
pub fn shown(raw: &str) -> String {
    const SHOWN: usize = 80;
    match raw.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{:?}…", &raw[..end]),
        None => format!("{raw:?}"),
    }
}

/// Refuses a list longer than `MAX_PATTERNS`, naming it.
pub fn check_count(count: usize, what: &str) -> Result<(), String> {
    if count > MAX_PATTERNS {
        return Err(format!(
            "{what} has {count} patterns; at most {MAX_PATTERNS} are read"
        ));
    }
    Ok(())
}

/// Length, brace nesting and alternative count, judged on the raw text before any parser
/// recurses into it. `\` escapes the next character, as globset reads it on Unix; braces
/// inside `[...]` are counted too, which only ever refuses more.
fn check_size(pattern: &str) -> Result<(), String> {
    if pattern.len() > MAX_LEN {
        return Err(format!(
            "is {} bytes long; globs over {MAX_LEN} bytes are refused",
            pattern.len()
        ));
    }
    let (mut depth, mut deepest, mut alternatives) = (0usize, 0usize, 0usize);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '{' => {
                depth += 1;
                deepest = deepest.max(depth);
                alternatives += 1;
            }
            '}' => depth = depth.saturating_sub(1),
            ',' if depth > 0 => alternatives += 1,
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return Err(format!(
            "nests braces {deepest} deep; at most {MAX_NESTING} levels are allowed"
        ));
    }
    if alternatives > MAX_ALTERNATIVES {
        return Err(format!(
            "has {alternatives} brace alternatives; at most {MAX_ALTERNATIVES} are allowed"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}a{}", "{".repeat(depth), "}".repeat(depth))
    }

    #[test]
    fn real_patterns_compile_and_match() {
        let m = compile("packages/{web,api}", true).unwrap();
        assert!(m.is_match("packages/web"));
        assert!(!m.is_match("packages/db"));
        let m = compile("packages/*", true).unwrap();
        assert!(!m.is_match("packages/a/b"));
        let m = compile("@tiptap/*", false).unwrap();
        assert!(m.is_match("@tiptap/core"));
        assert!(compile(&nested(MAX_NESTING), true).is_ok());
    }

    #[test]
    fn brace_bombs_are_refused_before_globset_sees_them() {
        for depth in [MAX_NESTING + 1, 250] {
            let err = compile(&nested(depth), true).unwrap_err();
            assert!(err.starts_with("nests braces"), "{depth}: {err}");
        }
        let err = compile(&nested(100_000), false).unwrap_err();
        assert!(err.contains("bytes long"), "{err}");
        let wide = format!("{{{}}}", vec!["a"; MAX_ALTERNATIVES + 1].join(","));
        assert!(compile(&wide, true).unwrap_err().contains("alternatives"));
        assert!(compile(r"\{\{\{\{\{\{\{\{\{\{", true).is_ok());
    }

    #[test]
    fn syntax_errors_are_described() {
        let err = compile("{a,b", true).unwrap_err();
        assert!(err.starts_with("is not a valid glob"), "{err}");
        let err = compile("[--\n", true).unwrap_err();
        assert!(
            err.starts_with("is not a valid glob") && !err.contains('\n'),
            "{err:?}"
        );
    }

    #[test]
    fn long_lists_are_refused() {
        assert!(check_count(MAX_PATTERNS, "x").is_ok());
        assert!(check_count(MAX_PATTERNS + 1, "`families`").is_err());
    }
}
