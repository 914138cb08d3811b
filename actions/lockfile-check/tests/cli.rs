//! lockfile-check as users run it: the real binary, a cleared environment, INPUT_*
//! variables, copies of the npm-written fixtures, and the output and summary files read back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sandbox::harness::{Finished, ToolRun};

const BIN: &str = env!("CARGO_BIN_EXE_lockfile-check");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/npm")
        .join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A run on a private copy of fixture `name`, found under `repo/` of the run's folder.
fn on_fixture(name: &str) -> ToolRun {
    let run = ToolRun::new(BIN).input("path", "repo");
    copy_dir(&fixture(name), &run.dir().join("repo"));
    let workspace = run.dir().display().to_string();
    run.env("GITHUB_WORKSPACE", &workspace)
}

fn edit(run: &ToolRun, rel: &str, change: impl FnOnce(&mut serde_json::Value)) {
    let path = run.dir().join("repo").join(rel);
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    change(&mut value);
    std::fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

fn annotations(run: &Finished) -> Vec<&str> {
    run.stderr
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect()
}

#[test]
fn an_npm_written_monorepo_is_in_sync() {
    let run = on_fixture("in-sync").run();
    run.assert_exit(0);
    assert_eq!(run.output("in-sync"), "true");
    assert_eq!(run.output("problems"), "0");
    let report = run.report();
    assert_eq!(report["lockfile"], "package-lock.json");
    assert_eq!(report["lockfile_version"], 3);
    assert_eq!(report["workspaces"].as_array().unwrap().len(), 3);
    assert!(run.summary.contains("✅ lockfile-check"), "{}", run.summary);
    assert!(annotations(&run).is_empty());
}

#[test]
fn an_unsatisfied_workspace_range_is_annotated_on_its_package_json_line() {
    let run = on_fixture("range-unsatisfied").run();
    run.assert_exit(1);
    assert_eq!(run.output("in-sync"), "false");
    assert_eq!(run.output("problems"), "1");
    let lines = annotations(&run);
    assert_eq!(lines.len(), 1, "{}", run.stdout);
    let text =
        std::fs::read_to_string(fixture("range-unsatisfied").join("packages/api/package.json"))
            .unwrap();
    let line = text.lines().position(|l| l.contains("\"semver\"")).unwrap() + 1;
    assert!(
        lines[0].starts_with(&format!(
            "::error title=lockfile-invalid,file=repo/packages/api/package.json,line={line}::"
        )),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("Invalid: lock file's semver@7.8.6 does not satisfy semver@^6.3.0"));
    assert!(lines[0].contains("workspace @shop/api (packages/api)"));
    assert!(lines[0].contains("npm install --package-lock-only"));
    let problem = &run.report()["problems"][0];
    assert_eq!(problem["code"], "lockfile-invalid");
    assert_eq!(problem["file"], "packages/api/package.json");
    assert_eq!(problem["line"], line);
    assert!(
        run.summary.contains("| Problem | Where | Why | Fix |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("packages/api/package.json:"),
        "{}",
        run.summary
    );
}

#[test]
fn a_missing_dependency_and_a_broken_transitive_entry_are_worded_as_npm_words_them() {
    let run = on_fixture("dep-added").run();
    run.assert_exit(1);
    let problem = &run.report()["problems"][0];
    assert_eq!(
        problem["message"],
        "Missing: is-number@^7.0.0 from lock file"
    );
    assert_eq!(problem["scope"], "workspace @shop/utils (packages/utils)");

    let run = on_fixture("broken-transitive").input("mode", "tree").run();
    run.assert_exit(1);
    let problem = &run.report()["problems"][0];
    assert_eq!(problem["code"], "lockfile-invalid");
    assert_eq!(problem["file"], "package-lock.json");
    assert!(
        problem["fix"]
            .as_str()
            .unwrap()
            .contains("node_modules/debug was edited")
    );
}

#[test]
fn strict_mode_reports_equivalent_and_removed_specifiers_that_npm_accepts() {
    on_fixture("equivalent-range").run().assert_exit(0);
    let run = on_fixture("equivalent-range").input("mode", "strict").run();
    run.assert_exit(1);
    let problem = &run.report()["problems"][0];
    assert_eq!(problem["code"], "lockfile-drift");
    assert_eq!(
        problem["message"],
        "debug changed in dependencies: lock ^4.3.0, package.json >=4.3.0 <5.0.0-0"
    );
    assert_eq!(run.report()["mode"], "strict");

    let run = on_fixture("dep-removed").input("mode", "strict").run();
    run.assert_exit(1);
    let problem = &run.report()["problems"][0];
    assert_eq!(
        problem["message"],
        "debug@^3.2.7 removed from dependencies but still in the lock"
    );
    assert_eq!(problem["file"], "package-lock.json");

    let run = on_fixture("new-workspace").input("mode", "strict").run();
    run.assert_exit(1);
    let everything = run.everything();
    assert!(
        everything.contains("workspace @shop/admin (packages/admin) is not in the lock"),
        "{everything}"
    );
}

#[test]
fn strict_on_a_version_1_lock_says_what_it_cannot_compare() {
    let run = on_fixture("lock-v1").input("mode", "strict").run();
    run.assert_exit(0);
    assert!(
        run.stderr.contains("::notice title=lockfile-check::"),
        "{}",
        run.stderr
    );
    assert!(run.summary.contains("lockfileVersion 1"), "{}", run.summary);
}

#[test]
fn a_family_split_names_every_version_and_where_it_is_locked() {
    on_fixture("family-split").run().assert_exit(0);
    let run = on_fixture("family-split")
        .input("families", "@tiptap/*\n@vue/*")
        .run();
    run.assert_exit(1);
    let problems = run.report()["problems"].as_array().unwrap().clone();
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0]["code"], "family-split");
    let message = problems[0]["message"].as_str().unwrap();
    assert!(message.contains("3.3.4 (@vue/reactivity at node_modules/@vue/reactivity, @vue/shared at node_modules/@vue/reactivity/node_modules/@vue/shared)"), "{message}");
    assert!(
        message.contains("3.4.38 (@vue/shared at node_modules/@vue/shared)"),
        "{message}"
    );
    assert_eq!(problems[0]["file"], "packages/web/package.json");
}

#[test]
fn registry_policies_are_off_by_default_and_strict_when_asked() {
    let run = on_fixture("in-sync")
        .input("require-https", "true")
        .input("require-integrity", "true")
        .input("allowed-hosts", "npm")
        .run();
    run.assert_exit(0);

    let run = on_fixture("in-sync");
    edit(&run, "package-lock.json", |lock| {
        let ms = lock["packages"].get_mut("node_modules/ms").unwrap();
        ms["resolved"] = "http://mirror.example/ms/-/ms-2.1.3.tgz".into();
        ms.as_object_mut().unwrap().remove("integrity");
    });
    on_fixture("in-sync").run().assert_exit(0);
    let run = run
        .input("require-https", "true")
        .input("require-integrity", "true")
        .input("allowed-hosts", "https://registry.npmjs.org/")
        .run();
    run.assert_exit(1);
    let codes: Vec<String> = run.report()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        codes,
        ["lockfile-host", "lockfile-https", "lockfile-integrity"]
    );
}

/// Every file under `dir` with its contents.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[test]
fn it_never_writes_to_the_checked_repository() {
    for case in ["in-sync", "new-workspace", "lock-v1"] {
        let kept = tempfile::tempdir().unwrap();
        let repo = kept.path().join("repo");
        copy_dir(&fixture(case), &repo);
        let before = snapshot(&repo);
        let finished = ToolRun::new(BIN)
            .input("path", &repo.display().to_string())
            .input("mode", "strict")
            .run();
        assert!(finished.code.is_some());
        assert_eq!(snapshot(&repo), before, "{case}: the repository changed");
    }
}

#[test]
fn untrusted_names_cannot_inject_workflow_commands_or_break_the_report() {
    let run = on_fixture("in-sync");
    edit(&run, "packages/web/package.json", |pkg| {
        pkg["dependencies"]["evil\n::error::pwned%0A::warning::x"] = "^1.0.0".into();
    });
    let run = run.run();
    run.assert_exit(1);
    for line in run.stdout.lines().chain(run.stderr.lines()) {
        assert!(
            !line.starts_with("::") || line.starts_with("::error title=lockfile-missing,file="),
            "injected: {line}"
        );
    }
    assert!(!run.stderr.contains("\n::error::pwned"));
    assert!(
        run.report()["problems"][0]["package"]
            .as_str()
            .unwrap()
            .contains("pwned")
    );
}

/// The binary as a `Command` with a cleared environment, run in a copy of fixture `name`
/// (so a tool that ignored its inputs would check the in-sync working directory and pass).
fn command_in_fixture(name: &str) -> (tempfile::TempDir, std::process::Command) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture(name), dir.path());
    let mut command = std::process::Command::new(BIN);
    command
        .env_clear()
        .env("GITHUB_ACTIONS", "true")
        .current_dir(dir.path())
        .stdin(std::process::Stdio::null());
    (dir, command)
}

#[test]
fn an_input_that_is_not_utf8_is_a_usage_error_naming_it() {
    use std::os::unix::ffi::OsStringExt as _;
    let (_dir, mut command) = command_in_fixture("in-sync");
    let path = std::ffi::OsString::from_vec(b"elsewhere-\xff".to_vec());
    let out = command.env("INPUT_PATH", path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: invalid input `path`: the value of INPUT_PATH is not UTF-8"),
        "{stderr}"
    );
}

#[test]
fn a_closed_stdout_ends_the_tool_quietly() {
    for (fixture, format, code) in [
        ("dep-added", "json", 1),
        ("in-sync", "json", 0),
        ("in-sync", "human", 0),
    ] {
        let (_dir, mut command) = command_in_fixture(fixture);
        // The reading end is closed before the tool starts: its first write gets EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = command
            .env("INPUT_FORMAT", format)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{fixture} {format}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn the_summary_escapes_a_package_name_once() {
    let run = on_fixture("in-sync");
    edit(&run, "packages/web/package.json", |pkg| {
        pkg["dependencies"]["@scope/a_b|c"] = "^1.0.0".into();
    });
    let run = run.run();
    run.assert_exit(1);
    assert!(run.summary.contains("@scope/a\\_b\\|c"), "{}", run.summary);
    assert!(
        !run.summary.contains("\\\\"),
        "doubled backslashes:\n{}",
        run.summary
    );
}

#[test]
fn json_and_human_formats() {
    let run = on_fixture("dep-added").input("format", "json").run();
    run.assert_exit(1);
    let report: serde_json::Value =
        serde_json::from_str(run.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(report["in_sync"], false);

    let run = on_fixture("dep-added").input("format", "human").run();
    run.assert_exit(1);
    assert!(
        run.stderr.contains("error[lockfile-missing]")
            || run.stdout.contains("error[lockfile-missing]"),
        "{}",
        run.everything()
    );
    assert!(
        run.stdout
            .contains("package-lock.json (9 packages, 3 workspaces): 1 problem")
    );
}

/// Malformed and hostile inputs: each is exit 2 with one clear error line, never a panic.
#[test]
fn malformed_and_hostile_inputs_are_usage_errors() {
    type Setup = Box<dyn Fn(&Path)>;
    let write = |rel: &'static str, text: String| -> Setup {
        Box::new(move |repo: &Path| std::fs::write(repo.join(rel), &text).unwrap())
    };
    let lock_text = std::fs::read_to_string(fixture("in-sync").join("package-lock.json")).unwrap();
    let truncated = lock_text[..lock_text.len() / 2].to_owned();
    let cases: Vec<(&str, Setup, &str)> = vec![
        (
            "no lock",
            Box::new(|repo: &Path| std::fs::remove_file(repo.join("package-lock.json")).unwrap()),
            "no package-lock.json or npm-shrinkwrap.json",
        ),
        (
            "truncated lock",
            write("package-lock.json", truncated),
            "package-lock.json is not valid JSON: EOF while parsing",
        ),
        (
            "truncated package.json",
            write(
                "package.json",
                "{\"name\": \"shop\",\n \"workspaces\": [".into(),
            ),
            "package.json is not valid JSON",
        ),
        (
            "lockfileVersion 4",
            write(
                "package-lock.json",
                lock_text.replace("\"lockfileVersion\": 3", "\"lockfileVersion\": 4"),
            ),
            "lockfileVersion 4; lockfile-check reads versions 1, 2 and 3",
        ),
        (
            "lockfileVersion -1",
            write(
                "package-lock.json",
                lock_text.replace("\"lockfileVersion\": 3", "\"lockfileVersion\": -1"),
            ),
            "lockfileVersion -1; lockfile-check reads versions 1, 2 and 3",
        ),
        (
            "lockfileVersion as a string",
            write(
                "package-lock.json",
                lock_text.replace("\"lockfileVersion\": 3", "\"lockfileVersion\": \"3\""),
            ),
            "`lockfileVersion` must be a number, not a string",
        ),
        (
            "packages as an array",
            write(
                "package-lock.json",
                "{\"lockfileVersion\": 3, \"packages\": []}".into(),
            ),
            "package-lock.json is not a valid lockfile: invalid type: sequence, expected a map at line 1",
        ),
        (
            "a range that is a number",
            write(
                "packages/web/package.json",
                "{\"name\": \"@shop/web\", \"dependencies\": {\"debug\": 4}}".into(),
            ),
            "packages/web/package.json is not a valid package.json: invalid type: integer `4`, expected a string at line 1 column 49",
        ),
        (
            "workspaces as a string",
            write(
                "package.json",
                "{\"name\": \"shop\", \"workspaces\": \"packages/*\"}".into(),
            ),
            "`workspaces` must be an array",
        ),
        (
            "workspace glob with ..",
            write(
                "package.json",
                "{\"name\": \"shop\", \"workspaces\": [\"../outside/*\"]}".into(),
            ),
            "leaves the repository",
        ),
        (
            "absolute workspace glob",
            write(
                "package.json",
                "{\"name\": \"shop\", \"workspaces\": [\"/etc/*\"]}".into(),
            ),
            "leaves the repository",
        ),
        (
            "invalid workspace glob",
            write(
                "package.json",
                "{\"name\": \"shop\", \"workspaces\": [\"packages/[\"]}".into(),
            ),
            "is not a valid glob",
        ),
        (
            "lock path with ..",
            write(
                "package-lock.json",
                lock_text.replace("\"node_modules/ms\"", "\"node_modules/../../../etc/ms\""),
            ),
            "is not a path inside the repository",
        ),
        (
            "link out of the repository",
            write(
                "package-lock.json",
                lock_text.replace(
                    "\"resolved\": \"packages/api\"",
                    "\"resolved\": \"../../etc\"",
                ),
            ),
            "is not a path inside the repository",
        ),
        (
            "deep nesting in package.json",
            write(
                "package.json",
                format!(
                    "{{\"name\": \"shop\", \"overrides\": {}{}}}",
                    "[".repeat(100_000),
                    "]".repeat(100_000)
                ),
            ),
            "recursion limit exceeded",
        ),
        (
            "deep nesting in a lock entry",
            write(
                "package-lock.json",
                lock_text.replacen(
                    "\"dependencies\": {",
                    &format!(
                        "\"dependencies\": {}{}, \"x\": {{",
                        "[".repeat(100_000),
                        "]".repeat(100_000)
                    ),
                    1,
                ),
            ),
            "invalid type: sequence, expected a map",
        ),
        (
            "huge package.json",
            Box::new(|repo: &Path| {
                std::fs::File::options()
                    .write(true)
                    .open(repo.join("package.json"))
                    .unwrap()
                    .set_len(9 << 20)
                    .unwrap()
            }),
            "files over 8 MiB are not read",
        ),
        (
            "symlink loop",
            Box::new(|repo: &Path| {
                std::fs::write(
                    repo.join("package.json"),
                    "{\"name\": \"shop\", \"workspaces\": [\"packages/**\"]}",
                )
                .unwrap();
                std::os::unix::fs::symlink("..", repo.join("packages/web/loop")).unwrap();
            }),
            "symlink loop",
        ),
        (
            "symlink out of the repository",
            Box::new(|repo: &Path| {
                std::os::unix::fs::symlink("/tmp", repo.join("packages/outside")).unwrap();
            }),
            "symlink out of the repository",
        ),
        (
            "empty lock",
            write("package-lock.json", String::new()),
            "package-lock.json must hold a JSON object",
        ),
        (
            "binary lock",
            Box::new(|repo: &Path| {
                std::fs::write(repo.join("package-lock.json"), [0xff, 0xfe, 0x00, 0x7b]).unwrap()
            }),
            "is not UTF-8",
        ),
        (
            "package.json is an array",
            write("package.json", "[]".into()),
            "package.json must hold a JSON object",
        ),
        (
            "duplicate workspace names",
            write(
                "packages/api/package.json",
                "{\"name\": \"@shop/web\"}".into(),
            ),
            "are both named @shop/web",
        ),
        (
            "locked version is a number",
            write(
                "package-lock.json",
                lock_text.replace("\"version\": \"2.1.3\"", "\"version\": 2.13"),
            ),
            "package-lock.json is not a valid lockfile: invalid type: floating point `2.13`, expected a string at line",
        ),
        (
            "overrides as an array",
            write(
                "package.json",
                "{\"name\": \"shop\", \"workspaces\": [\"packages/*\"], \"overrides\": []}".into(),
            ),
            "`overrides` must be an object",
        ),
        (
            "brace bomb in a workspaces entry",
            write(
                "package.json",
                format!(
                    "{{\"name\": \"shop\", \"workspaces\": [\"packages/*\", \"packages/{}\"]}}",
                    nested_braces(250)
                ),
            ),
            "workspace pattern \"packages/{{{{",
        ),
        (
            "thousands of nested braces in a workspaces entry",
            write(
                "package.json",
                format!(
                    "{{\"name\": \"shop\", \"workspaces\": [\"{}\"]}}",
                    nested_braces(50_000)
                ),
            ),
            "bytes long; globs over 1024 bytes are refused",
        ),
        (
            "root package.json a symlink out of the repository",
            Box::new(|repo: &Path| link_out(repo, "package.json")),
            "package.json leads outside `path`",
        ),
        (
            "package-lock.json a symlink out of the repository",
            Box::new(|repo: &Path| link_out(repo, "package-lock.json")),
            "package-lock.json leads outside `path`",
        ),
        (
            "a workspace's package.json a symlink out of the repository",
            Box::new(|repo: &Path| link_out(repo, "packages/web/package.json")),
            "packages/web/package.json leads outside `path`",
        ),
    ];
    assert!(cases.len() >= 15);
    for (what, setup, expected) in &cases {
        let run = on_fixture("in-sync");
        setup(&run.dir().join("repo"));
        let run = run.run();
        assert_eq!(run.code, Some(2), "{what}: {}", run.everything());
        run.assert_one_error_line();
        assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
        assert!(
            run.stderr.contains(expected),
            "{what}: expected {expected:?} in {}",
            run.stderr
        );
        assert_eq!(
            run.output("in-sync"),
            "",
            "{what}: no verdict on input that cannot be judged"
        );
    }
}

#[test]
fn mode_ci_warns_on_what_only_npm_ls_calls_broken_and_tree_fails_on_it() {
    // npm ci accepts broken-transitive (the edited entry is reached only through a
    // workspace); npm ls calls it invalid.
    for mode in [None, Some("ci"), Some("npm")] {
        let mut run = on_fixture("broken-transitive");
        if let Some(mode) = mode {
            run = run.input("mode", mode);
        }
        let run = run.run();
        run.assert_exit(0);
        let report = run.report();
        assert_eq!(report["mode"], "ci", "{mode:?}");
        assert_eq!(report["in_sync"], true);
        assert_eq!(report["problems"].as_array().unwrap().len(), 0);
        let warning = &report["warnings"][0];
        assert!(
            warning["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid: lock file's ms@"),
            "{warning}"
        );
        assert!(
            run.stderr.lines().any(|l| l
                .starts_with("::warning title=lockfile-invalid,file=repo/package-lock.json,line=")),
            "{}",
            run.stderr
        );
        assert!(annotations(&run).is_empty(), "{}", run.stderr);
        assert!(run.summary.contains("Warnings"), "{}", run.summary);
    }
    for mode in ["tree", "strict"] {
        let run = on_fixture("broken-transitive").input("mode", mode).run();
        run.assert_exit(1);
        let report = run.report();
        assert_eq!(report["mode"], mode);
        assert_eq!(report["warnings"].as_array().unwrap().len(), 0);
        assert_eq!(report["problems"][0]["code"], "lockfile-invalid");
    }
}

#[test]
fn cases_from_real_repositories_get_npm_cis_verdict() {
    // Unlinked leftovers (an old lerna layout, a `site` folder) and a lock key above the
    // repository: npm visits and reads none of them.
    for case in ["unlinked-folders", "lock-key-outside"] {
        for mode in ["ci", "tree"] {
            let run = on_fixture(case).input("mode", mode).run();
            run.assert_exit(0);
            assert_eq!(
                run.report()["warnings"].as_array().unwrap().len(),
                0,
                "{case}"
            );
        }
    }
    // An optional dependency absent from the lock, reached from the root: npm ci places
    // it and refuses; npm ls does not mind.
    let run = on_fixture("optional-absent-from-root").run();
    run.assert_exit(1);
    let problem = &run.report()["problems"][0];
    assert_eq!(
        problem["message"],
        "Missing: fsevents@~2.3.2 from lock file"
    );
    assert!(
        problem["why"].as_str().unwrap().contains("optional"),
        "{problem}"
    );
    // The same absence reached only through a workspace passes.
    on_fixture("optional-platform-absent").run().assert_exit(0);
}

#[test]
fn bad_settings_are_usage_errors() {
    let cases = [
        ("mode", "lenient", "invalid input `mode`"),
        ("require-https", "maybe", "invalid input `require-https`"),
        ("families", "@tiptap/[", "invalid input `families`"),
        ("path", "no/such/dir", "is not a directory"),
    ];
    for (input, value, expected) in cases {
        let run = on_fixture("in-sync").input(input, value).run();
        assert_eq!(run.code, Some(2), "{input}: {}", run.everything());
        run.assert_one_error_line();
        assert!(run.stderr.contains(expected), "{input}: {}", run.stderr);
    }
}

/// `{{{…a…}}}`, `depth` braces deep.
fn nested_braces(depth: usize) -> String {
    format!("{}a{}", "{".repeat(depth), "}".repeat(depth))
}

/// Moves `rel` out of the repository (next to it, in the run's folder, still a valid file
/// that would otherwise be judged) and leaves a symlink to it in its place.
fn link_out(repo: &Path, rel: &str) {
    let outside = repo.parent().unwrap().join("outside").join(rel);
    std::fs::create_dir_all(outside.parent().unwrap()).unwrap();
    std::fs::rename(repo.join(rel), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, repo.join(rel)).unwrap();
}

#[test]
fn a_symlink_that_stays_inside_the_repository_is_read() {
    let run = on_fixture("in-sync");
    let repo = run.dir().join("repo");
    std::fs::rename(repo.join("package-lock.json"), repo.join("lock.json")).unwrap();
    std::os::unix::fs::symlink("lock.json", repo.join("package-lock.json")).unwrap();
    let run = run.run();
    run.assert_exit(0);
}

#[test]
fn a_brace_bomb_in_families_is_a_usage_error() {
    for (depth, expected) in [
        (250, "nests braces 250 deep; at most 8 levels are allowed"),
        // 60 kB: environment strings stop at 128 KiB.
        (30_000, "globs over 1024 bytes are refused"),
    ] {
        let run = on_fixture("in-sync")
            .input(
                "families",
                &format!("@tiptap/*\n@x/{}", nested_braces(depth)),
            )
            .run();
        assert_eq!(run.code, Some(2), "{depth}: {}", run.everything());
        run.assert_one_error_line();
        assert!(
            run.stderr.contains("invalid input `families`") && run.stderr.contains(expected),
            "{depth}: {}",
            run.stderr
        );
        assert!(run.stderr.len() < 1000, "the pattern is not echoed whole");
    }
}

/// A package.json asking for `missing` dependencies the lock lacks, and one locked package
/// whose `invalid` dependencies are all locked at a version outside their range.
fn hostile_repo(repo: &Path, missing: usize, invalid: usize) {
    use serde_json::{Map, Value, json};
    let mut deps: Map<String, Value> = (0..missing)
        .map(|i| (format!("dep-{i}"), json!("^1.0.0")))
        .collect();
    deps.insert("hub".into(), json!("^1.0.0"));
    let leaves: Map<String, Value> = (0..invalid)
        .map(|i| (format!("leaf-{i}"), json!("^2.0.0")))
        .collect();
    let mut packages = Map::new();
    packages.insert(
        String::new(),
        json!({"name": "hostile", "version": "1.0.0", "dependencies": {"hub": "^1.0.0"}}),
    );
    packages.insert(
        "node_modules/hub".into(),
        json!({"version": "1.0.0", "dependencies": leaves}),
    );
    for i in 0..invalid {
        packages.insert(
            format!("node_modules/leaf-{i}"),
            json!({"version": "1.0.0"}),
        );
    }
    let manifest = json!({"name": "hostile", "version": "1.0.0", "dependencies": deps});
    let lock = json!({"name": "hostile", "lockfileVersion": 3, "packages": packages});
    std::fs::create_dir_all(repo).unwrap();
    for (name, value) in [("package.json", manifest), ("package-lock.json", lock)] {
        std::fs::write(
            repo.join(name),
            serde_json::to_string_pretty(&value).unwrap(),
        )
        .unwrap();
    }
}

#[test]
fn a_hundred_thousand_findings_are_all_reported_with_their_lines() {
    let (missing, invalid) = (90_000, 10_000);
    let run = ToolRun::new(BIN)
        .input("path", "repo")
        .input("format", "json")
        // Only a guard against a hang; bench/lockfile-check-hostile.sh measures the speed.
        .limit(std::time::Duration::from_secs(900));
    let repo = run.dir().join("repo");
    hostile_repo(&repo, missing, invalid);
    let manifest = std::fs::read_to_string(repo.join("package.json")).unwrap();
    let lock = std::fs::read_to_string(repo.join("package-lock.json")).unwrap();
    let run = run.run();
    run.assert_exit(1);
    assert_eq!(run.output("problems"), (missing + invalid).to_string());
    // The `report` output fits in the next step's environment and says what it left out;
    // stdout (`--format json`) holds every finding.
    let output = run.output("report");
    assert!(output.len() <= 64 * 1024, "{} bytes", output.len());
    let bounded: serde_json::Value = serde_json::from_str(output).unwrap();
    assert!(bounded.get("report_truncated").is_some(), "{bounded}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), missing + invalid);
    // Lines come from the index, not a rescan: spot-check both files at their ends.
    let line_in = |text: &str, needle: &str| {
        let at = text.lines().position(|l| l.contains(needle));
        u64::try_from(at.unwrap_or_else(|| panic!("no {needle} in the files")) + 1).unwrap()
    };
    let find = |package: &str| {
        problems
            .iter()
            .find(|p| p["package"] == package)
            .unwrap_or_else(|| panic!("no finding for {package}"))
    };
    let last_dep = find(&format!("dep-{}", missing - 1));
    assert_eq!(last_dep["code"], "lockfile-missing");
    assert_eq!(last_dep["file"], "package.json");
    assert_eq!(
        last_dep["line"],
        line_in(&manifest, &format!("\"dep-{}\"", missing - 1))
    );
    let last_leaf = find(&format!("leaf-{}", invalid - 1));
    assert_eq!(last_leaf["code"], "lockfile-invalid");
    assert_eq!(last_leaf["file"], "package-lock.json");
    assert_eq!(
        last_leaf["line"],
        line_in(&lock, &format!("\"leaf-{}\": \"^2.0.0\"", invalid - 1))
    );
    // Bounded: 1,000 annotations (in their human form under `--format json`) and a notice
    // for the rest; the summary under 1 MiB.
    let annotated = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error[lockfile-"))
        .count();
    assert_eq!(annotated, 1000);
    assert!(
        run.stderr.contains(&format!(
            "{} more findings are not annotated one by one",
            missing + invalid - 1000
        )),
        "{}",
        &run.stderr[run.stderr.len().saturating_sub(2000)..]
    );
    assert!(run.summary.len() < 1 << 20);
    assert!(
        run.summary
            .contains("more rows not shown: a step summary holds at most 1 MiB"),
        "{}",
        &run.summary[..2000]
    );
}

#[test]
fn switches_on_the_command_line_and_true_false_inputs_agree() {
    let http_lock = |run: ToolRun| {
        edit(&run, "package-lock.json", |lock| {
            let ms = lock["packages"].get_mut("node_modules/ms").unwrap();
            ms["resolved"] = "http://mirror.example/ms/-/ms-2.1.3.tgz".into();
        });
        run
    };
    http_lock(on_fixture("in-sync")).run().assert_exit(0);
    let run = http_lock(on_fixture("in-sync"))
        .arg("--require-https")
        .run();
    run.assert_exit(1);
    assert!(
        run.summary.contains("http://mirror.example"),
        "{}",
        run.summary
    );
    http_lock(on_fixture("in-sync"))
        .arg("--require-https=false")
        .input("require-https", "true")
        .run()
        .assert_exit(0);
    http_lock(on_fixture("in-sync"))
        .input("require-https", "true")
        .run()
        .assert_exit(1);
    let run = on_fixture("in-sync").arg("--require-https=yes").run();
    run.assert_exit(2);
    assert!(
        run.stderr.contains("invalid input `require-https`"),
        "{}",
        run.stderr
    );
    let run = on_fixture("in-sync")
        .arg("--require-https")
        .arg("true")
        .run();
    run.assert_exit(2);
    run.assert_one_error_line();
    assert!(run.stderr.contains("--<switch>=true"), "{}", run.stderr);
}

#[test]
fn a_folder_without_package_json_is_named_in_full() {
    let run = ToolRun::new(BIN).without_env("GITHUB_ACTIONS");
    let folder = run.dir().join("empty");
    std::fs::create_dir(&folder).unwrap();
    let run = run.arg("--path").arg(&folder.display().to_string()).run();
    run.assert_exit(2);
    run.assert_one_error_line();
    let named = folder.join("package.json").display().to_string();
    assert!(
        run.stderr.contains(&format!("cannot read {named}:")),
        "{}",
        run.stderr
    );
}

#[test]
fn completions_and_man_page() {
    sandbox::cli_checks::assert_completions_and_man(
        BIN,
        "lockfile-check",
        &["--path", "--mode", "--require-https", "--require-integrity"],
    );
}
