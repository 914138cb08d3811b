//! Property tests of the npm lock parser and resolver: hostile text never panics, and on
//! generated trees the node_modules lookup agrees with a direct model of it.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::PathBuf;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use shipguard::npm::json::Source;
use shipguard::npm::lock::Lock;
use shipguard::npm::project::{Package, Project};
use shipguard::npm::{Tree, drift, families, policy, verdict};

const REAL_LOCK: &str = include_str!("fixtures/npm/in-sync/package-lock.json");

fn project(root: Value, lock: Value) -> anyhow::Result<Project> {
    let file = Source::new("package.json", root.to_string());
    let manifest = shipguard::npm::manifest::Manifest::parse(&file)?;
    let lock = Lock::parse(Source::new("package-lock.json", lock.to_string()))?;
    Ok(Project {
        root: PathBuf::from("."),
        package: Package {
            dir: String::new(),
            name: "root".into(),
            manifest,
            file,
            workspace: false,
        },
        workspaces: BTreeMap::new(),
        linked: BTreeMap::new(),
        lock,
    })
}

/// Every check on a project, as lockfile-check runs them all.
fn check_all(project: &Project) -> anyhow::Result<Vec<shipguard::npm::Finding>> {
    let tree = Tree::build(project);
    let mut findings = verdict::check(project, &tree).all();
    findings.extend(drift::check(project).0);
    let family =
        families::parse(&["*".to_owned(), "@s/*".to_owned()]).map_err(anyhow::Error::msg)?;
    findings.extend(families::check(project, &family));
    let strict = policy::Policy {
        allowed_hosts: vec!["registry.npmjs.org".into()],
        require_https: true,
        require_integrity: true,
    };
    findings.extend(policy::check(project, &strict));
    Ok(findings)
}

fn spec() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("^1.0.0".to_owned()),
        Just("~2.1.0 || 3.x".to_owned()),
        Just("*".to_owned()),
        Just("latest".to_owned()),
        Just("npm:b@^1".to_owned()),
        Just("file:../x".to_owned()),
        Just("file:a.tgz".to_owned()),
        Just("github:u/r#semver:^1".to_owned()),
        Just("https://example.com/a.tgz".to_owned()),
        Just("workspace:*".to_owned()),
        "[ -~]{0,12}",
    ]
}

fn location() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![Just("a"), Just("b"), Just("@s/c"), Just("..")],
        1..4,
    )
    .prop_map(|names| {
        names
            .iter()
            .map(|n| format!("node_modules/{n}"))
            .collect::<Vec<_>>()
            .join("/")
    })
}

fn entry() -> impl Strategy<Value = Value> {
    (
        prop::option::of("[0-9]\\.[0-9]\\.[0-9](-pre)?"),
        prop::collection::btree_map("a|b|@s/c|d", spec(), 0..4),
        any::<bool>(),
        prop::option::of(prop_oneof![
            Just("http://x/a.tgz"),
            Just("a"),
            Just("../..")
        ]),
    )
        .prop_map(|(version, deps, link, resolved)| {
            let mut e = Map::new();
            if let Some(v) = version {
                e.insert("version".into(), v.into());
            }
            e.insert("dependencies".into(), json!(deps));
            if link {
                e.insert("link".into(), true.into());
            }
            if let Some(r) = resolved {
                e.insert("resolved".into(), r.into());
            }
            Value::Object(e)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        let source = Source::new("package-lock.json", text);
        let _ = source.line_of(&["packages", "node_modules/a"]);
        let _ = Lock::parse(source);
    }

    #[test]
    fn mutated_real_locks_never_panic(cut in 0..REAL_LOCK.len(), byte in any::<u8>(), at in 0..REAL_LOCK.len()) {
        let mut bytes = REAL_LOCK.as_bytes()[..cut.max(1)].to_vec();
        let at = at.min(bytes.len() - 1);
        bytes[at] = byte;
        if let Ok(text) = String::from_utf8(bytes) {
            let source = Source::new("package-lock.json", text);
            let _ = source.line_of(&["packages", "node_modules/ms", "version"]);
            let _ = Lock::parse(source);
        }
    }

    #[test]
    fn arbitrary_trees_never_panic(
        entries in prop::collection::btree_map(location(), entry(), 0..12),
        root_deps in prop::collection::btree_map("a|b|@s/c|d", spec(), 0..4),
        version in 1u8..=3,
    ) {
        let root = json!({"name": "root", "dependencies": root_deps, "overrides": {"a": "1.0.0", "b": {"c": "$a"}}});
        let lock = if version == 1 {
            json!({"lockfileVersion": 1, "dependencies": entries.iter().map(|(k, v)| (k.replace("node_modules/", ""), v.clone())).collect::<Map<_, _>>()})
        } else {
            json!({"lockfileVersion": version, "packages": entries})
        };
        if let Ok(project) = project(root, lock)
            && let Ok(findings) = check_all(&project)
        {
            for f in findings {
                prop_assert!(f.line.is_none_or(|l| l >= 1));
                prop_assert!(!f.message.is_empty() && !f.fix.is_empty());
            }
        }
    }

    /// A tree where every edge is satisfied (nested copies shadowing hoisted ones included)
    /// has no finding; deleting a package someone needs gives a Missing naming it.
    #[test]
    fn lookup_walks_up_from_each_location(
        majors in prop::collection::vec(1u8..5, 4),
        wants in prop::collection::vec(prop::collection::vec(any::<bool>(), 4), 4),
        nested in prop::collection::vec(any::<bool>(), 4),
        victim in 0usize..4,
    ) {
        let names = ["a", "b", "c", "d"];
        let mut packages = Map::new();
        let mut root_deps = Map::new();
        for (i, name) in names.iter().enumerate() {
            root_deps.insert((*name).to_owned(), format!("^{}.0.0", majors[i]).into());
            let mut deps = Map::new();
            for (j, dep) in names.iter().enumerate() {
                if i == j || !wants[i][j] {
                    continue;
                }
                // A nested copy at another major shadows the hoisted one for this package only.
                let major = if nested[j] { majors[j] + 10 } else { majors[j] };
                deps.insert((*dep).to_owned(), format!("^{major}.0.0").into());
                if nested[j] {
                    packages.insert(
                        format!("node_modules/{name}/node_modules/{dep}"),
                        json!({"version": format!("{major}.1.0"), "resolved": "https://registry.npmjs.org/x.tgz", "integrity": "sha512-x"}),
                    );
                }
            }
            packages.insert(
                format!("node_modules/{name}"),
                json!({"version": format!("{}.2.3", majors[i]), "dependencies": deps}),
            );
        }
        let root = json!({"name": "root", "dependencies": root_deps});
        let whole = project(root.clone(), json!({"lockfileVersion": 3, "packages": packages.clone()})).unwrap();
        let tree = Tree::build(&whole);
        let findings = verdict::check(&whole, &tree).all();
        prop_assert!(findings.is_empty(), "{:?}", findings);

        let gone = format!("node_modules/{}", names[victim]);
        packages.remove(&gone);
        let broken = project(root, json!({"lockfileVersion": 3, "packages": packages})).unwrap();
        let tree = Tree::build(&broken);
        let findings = verdict::check(&broken, &tree).all();
        prop_assert!(findings.iter().any(|f| f.code == "lockfile-missing" && f.package == names[victim]), "{:?}", findings);
    }
}
