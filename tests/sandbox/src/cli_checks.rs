//! Checks of the command line every tool shares: `<tool> completions bash` is a script bash
//! accepts and that registers the tool's completion, and `<tool> man` is a man page naming
//! the flags. Run on the real binaries with a cleared environment.

use std::process::Command;

use crate::harness::{Finished, ToolRun};

/// A laptop run: a cleared environment, not in Actions.
pub fn laptop(binary: &str) -> ToolRun {
    ToolRun::new(binary).without_env("GITHUB_ACTIONS")
}

/// Fails unless the tool prints a bash completion that bash loads and that completes `flags`,
/// and a man page that names them.
#[track_caller]
pub fn assert_completions_and_man(binary: &str, tool: &str, flags: &[&str]) {
    let run = laptop(binary).arg("completions").arg("bash").run();
    run.assert_exit(0);
    for flag in flags {
        assert!(
            run.stdout.contains(flag),
            "{flag} not completed:\n{}",
            run.stdout
        );
    }
    let script = std::env::temp_dir().join(format!("{tool}-{}.bash", std::process::id()));
    std::fs::write(&script, &run.stdout).unwrap_or_else(|e| panic!("write: {e}"));
    // Loading the script must register exactly this tool's completion function.
    let loaded = Command::new("bash")
        .arg("--noprofile")
        .arg("--norc")
        .arg("-c")
        .arg(format!("source \"$0\" && complete -p {tool}"))
        .arg(&script)
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("bash: {e}"));
    let _ = std::fs::remove_file(&script);
    let registered = String::from_utf8_lossy(&loaded.stdout);
    assert!(
        loaded.status.success() && registered.contains(tool),
        "bash did not load the completion: {registered}\n{}",
        String::from_utf8_lossy(&loaded.stderr)
    );

    let man: Finished = laptop(binary).arg("man").run();
    man.assert_exit(0);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH"),
        "{}",
        man.stdout
    );
    assert!(
        man.stdout.contains(&format!(".TH {tool} 1")),
        "{}",
        man.stdout
    );
    for flag in flags {
        // roff escapes the dashes of a flag: `\-\-dry\-run`.
        let escaped = flag.replace('-', "\\-");
        assert!(man.stdout.contains(&escaped), "{flag} not in the man page");
    }
    assert!(
        man.stdout.contains("completions"),
        "the man page lists the commands"
    );

    // Without a shell, or with one clap_complete does not know: one line naming it, exit 2.
    for args in [&["completions"][..], &["completions", "tcsh"][..]] {
        let mut run = laptop(binary);
        for arg in args {
            run = run.arg(arg);
        }
        let run = run.run();
        run.assert_exit(2);
        run.assert_one_error_line();
        assert!(run.stderr.contains("<shell>"), "{}", run.stderr);
    }
}
