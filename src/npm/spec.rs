//! Dependency specifiers classified the way npm-package-arg does, so an edge is judged by
//! the same rule npm applies (`ranges`, `npm:` aliases, `file:` paths, git, tarball URLs,
//! tags), and specifiers npm refuses (`workspace:`, `link:`, …) are named as such.

use nodejs_semver::{Range, Version};

/// What a dependency specifier asks for.
#[derive(Debug, Clone)]
pub enum Spec {
    /// `*`, `""`, `x`: anything.
    Any,
    /// A semver range or exact version.
    Range(Range),
    /// A dist-tag such as `latest`: only a registry resolution can be checked.
    Tag(String),
    /// `npm:real-name@spec`.
    Alias { name: String, spec: Box<Spec> },
    /// A folder (`file:../lib`, `./lib`): must be a link to that folder.
    Directory(String),
    /// A local tarball (`file:vendor/x.tgz`).
    Tarball(String),
    /// An http(s) tarball URL: must be resolved from exactly that URL.
    Remote(String),
    /// A git repository, with an optional commit-ish or `#semver:` range.
    Git(Git),
    /// Something npm itself cannot install.
    Unsupported(String),
}

#[derive(Debug, Clone)]
pub struct Git {
    /// `github:user/repo` for hosted repositories, else the URL without its `#…`.
    pub repo: String,
    pub committish: Option<String>,
    pub range: Option<Range>,
}

impl Git {
    /// A full commit hash pins the resolution.
    pub fn commit(&self) -> Option<&str> {
        self.committish
            .as_deref()
            .filter(|c| (40..=64).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

const HOSTS: [(&str, &str); 3] = [
    ("github.com", "github"),
    ("gitlab.com", "gitlab"),
    ("bitbucket.org", "bitbucket"),
];

/// Classifies a dependency specifier as npm-package-arg would.
pub fn parse(raw: &str) -> Spec {
    let raw = raw.trim();
    if let Some(rest) = raw.strip_prefix("npm:") {
        return alias(rest);
    }
    if let Some(path) = raw.strip_prefix("file:") {
        return local(path);
    }
    if raw.starts_with(['.', '/', '\\']) || raw.starts_with("~/") || has_drive_letter(raw) {
        return local(raw);
    }
    if let Some(git) = git(raw) {
        return Spec::Git(git);
    }
    if raw.starts_with("http://") || raw.starts_with("https://") {
        return Spec::Remote(raw.to_owned());
    }
    if let Some((scheme, _)) = raw.split_once(':')
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+')
        && !raw.contains(' ')
        && range(raw).is_err()
    {
        return Spec::Unsupported(format!("npm does not support `{scheme}:` specifiers"));
    }
    registry(raw)
}

/// A node-semver range as npm reads it; the one place ranges are parsed.
pub(crate) fn range(raw: &str) -> Result<Range, nodejs_semver::SemverError> {
    Range::parse(raw).or_else(|e| {
        // node-semver reads `^*` and `~*` as a caret or tilde on "any version": `>=0.0.0`,
        // which, unlike a bare `*`, leaves prereleases out (semver/classes/range.js
        // replaceCaret, range.js:348 in npm 11's semver: an `x` major gives an empty comparator;
        // dep-valid.js:68 only short-cuts a literal `*`).
        let wildcard = raw
            .strip_prefix(['^', '~'])
            .map(|rest| rest.trim_start_matches('>').trim());
        match wildcard {
            Some("*" | "x" | "X") => Range::parse(">=0.0.0"),
            _ => Err(e),
        }
    })
}

fn registry(raw: &str) -> Spec {
    if matches!(raw, "" | "*" | "x" | "X") {
        return Spec::Any;
    }
    match range(raw) {
        Ok(range) => Spec::Range(range),
        Err(_) if is_tag(raw) => Spec::Tag(raw.to_owned()),
        Err(_) => Spec::Unsupported(format!("`{raw}` is neither a semver range nor a valid tag")),
    }
}

/// npm accepts a tag only when URL-encoding leaves it unchanged.
fn is_tag(raw: &str) -> bool {
    !raw.is_empty()
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b))
}

fn alias(rest: &str) -> Spec {
    // `npm:@scope/name@range`: the name's own `@` is the first character.
    let split = rest
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '@')
        .map(|(at, _)| at);
    let (name, spec) = match split {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, "*"),
    };
    if name.is_empty() {
        return Spec::Unsupported("`npm:` needs a package name".to_owned());
    }
    match registry(spec) {
        Spec::Unsupported(why) => Spec::Unsupported(why),
        inner => Spec::Alias {
            name: name.to_owned(),
            spec: Box::new(inner),
        },
    }
}

fn local(path: &str) -> Spec {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".tgz") || lower.ends_with(".tar.gz") || lower.ends_with(".tar") {
        Spec::Tarball(path.to_owned())
    } else {
        Spec::Directory(path.to_owned())
    }
}

fn has_drive_letter(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Git specs: `git+https://…`, `git://…`, `github:u/r`, `u/r`, and URLs on known hosts.
pub fn git(raw: &str) -> Option<Git> {
    let (base, fragment) = match raw.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (raw, None),
    };
    let repo = hosted(base).or_else(|| {
        let plain = ["git+", "git://"].iter().any(|p| base.starts_with(p));
        plain.then(|| base.trim_start_matches("git+").to_owned())
    })?;
    let (committish, range) = match fragment {
        Some(f) if f.starts_with("semver:") => (None, range(&f[7..]).ok()),
        Some(f) if !f.is_empty() => (Some(f.to_owned()), None),
        _ => (None, None),
    };
    Some(Git {
        repo,
        committish,
        range,
    })
}

/// `github:user/repo` for every way of writing a repository on a known host.
fn hosted(base: &str) -> Option<String> {
    for (_, short) in HOSTS {
        if let Some(rest) = base.strip_prefix(short).and_then(|r| r.strip_prefix(':')) {
            return user_repo(rest).map(|ur| format!("{short}:{ur}"));
        }
    }
    if let Some(rest) = base.strip_prefix("gist:") {
        return Some(format!("gist:{rest}"));
    }
    if !base.contains(':') && !base.starts_with('@') && base.matches('/').count() == 1 {
        return user_repo(base).map(|ur| format!("github:{ur}"));
    }
    let without_scheme = base.split_once("://").map(|(_, rest)| rest)?;
    let without_user = without_scheme
        .split_once('@')
        .map_or(without_scheme, |(_, rest)| rest);
    for (host, short) in HOSTS {
        if let Some(rest) = without_user
            .strip_prefix(host)
            .and_then(|r| r.strip_prefix(['/', ':']))
        {
            return user_repo(rest).map(|ur| format!("{short}:{ur}"));
        }
    }
    None
}

fn user_repo(rest: &str) -> Option<String> {
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    let (user, repo) = rest.split_once('/')?;
    let ok = |s: &str| !s.is_empty() && !s.contains(['/', ' ', ':']);
    (ok(user) && ok(repo)).then(|| format!("{user}/{repo}"))
}

/// npm's `semver.satisfies(version, range, loose)`; an unparsable version never satisfies.
pub fn satisfies(version: &str, range: &Range) -> bool {
    Version::parse(version.trim().trim_start_matches(['v', '='])).is_ok_and(|v| range.satisfies(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_specs() {
        assert!(matches!(parse("^1.2.0"), Spec::Range(_)));
        assert!(matches!(parse(">=4.3.0 <5.0.0-0"), Spec::Range(_)));
        assert!(matches!(parse("1.x || 2"), Spec::Range(_)));
        assert!(matches!(parse(""), Spec::Any));
        assert!(matches!(parse("*"), Spec::Any));
        assert!(matches!(parse("~3.0.0"), Spec::Range(_)));
        assert!(matches!(parse("~/lib"), Spec::Directory(_)));
        assert!(matches!(parse("latest"), Spec::Tag(_)));
        assert!(matches!(parse("next tag"), Spec::Unsupported(_)));
        let Spec::Range(caret_any) = parse("^*") else {
            panic!("^* is a range")
        };
        assert!(satisfies("2.1.3", &caret_any));
        assert!(!satisfies("3.0.0-canary.1", &caret_any));
        assert!(matches!(parse("~*"), Spec::Range(_)));
        assert!(matches!(parse("^*x"), Spec::Unsupported(_)));
    }

    #[test]
    fn aliases_keep_scope_and_range() {
        match parse("npm:@vue/shared@^3.4.0") {
            Spec::Alias { name, spec } => {
                assert_eq!(name, "@vue/shared");
                assert!(matches!(*spec, Spec::Range(_)));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(parse("npm:ms"), Spec::Alias { .. }));
        assert!(matches!(parse("npm:"), Spec::Unsupported(_)));
    }

    #[test]
    fn local_remote_and_unsupported() {
        assert!(matches!(parse("file:vendor/lib"), Spec::Directory(_)));
        assert!(matches!(parse("../lib"), Spec::Directory(_)));
        assert!(matches!(parse("file:vendor/x-1.0.0.tgz"), Spec::Tarball(_)));
        assert!(matches!(
            parse("https://example.com/x.tgz"),
            Spec::Remote(_)
        ));
        assert!(matches!(parse("workspace:*"), Spec::Unsupported(_)));
        assert!(matches!(parse("link:../lib"), Spec::Unsupported(_)));
    }

    #[test]
    fn git_specs_name_the_same_repository_however_written() {
        let forms = [
            "github:acme/lib",
            "acme/lib",
            "git+https://github.com/acme/lib.git",
            "git+ssh://git@github.com/acme/lib.git",
            "https://github.com/acme/lib",
        ];
        for form in forms {
            match parse(form) {
                Spec::Git(g) => assert_eq!(g.repo, "github:acme/lib", "{form}"),
                other => panic!("{form}: {other:?}"),
            }
        }
        let Spec::Git(g) = parse("acme/lib#semver:^2") else {
            panic!()
        };
        assert!(g.range.is_some() && g.committish.is_none());
        let Spec::Git(g) = parse("github:acme/lib#0123456789abcdef0123456789abcdef01234567") else {
            panic!()
        };
        assert!(g.commit().is_some());
    }

    #[test]
    fn prereleases_follow_node_semver() {
        let caret = Range::parse("^2.1.0").unwrap();
        assert!(!satisfies("3.0.0-canary.1", &caret));
        assert!(!satisfies("2.2.0-beta.1", &caret));
        let pre = Range::parse("^3.0.0-canary.1").unwrap();
        assert!(satisfies("3.0.0-canary.202508261828", &pre));
        assert!(satisfies("v2.1.3", &caret));
        assert!(!satisfies("not-a-version", &caret));
    }
}
