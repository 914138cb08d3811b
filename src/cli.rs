//! The command line as people use it, shared by every tool: boolean switches, the wording of
//! a missing secret outside Actions, the `completions` and `man` commands, and the check that
//! every flag is documented. The action path never reaches the commands (an action passes no
//! arguments), and every switch keeps its `true`/`false` input.

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Arg, ArgMatches, Command};

use crate::env::{Env, vars};
use crate::exit::{Code, usage};

/// The `--no-<flag>` twin of a switch whose default is true (`--no-wait`): the setting's raw
/// value, `"false"` when the negation was given. clap's `overrides_with` lets the last of
/// the two win, so `flag` is `None` whenever `no` is set after it.
pub fn negatable(flag: Option<String>, no: bool) -> Option<String> {
    if no { Some("false".to_owned()) } else { flag }
}

/// How a laptop user gives a secret: the environment variable, or the file flag.
pub fn secret_hint(var: &str, input: &str) -> String {
    format!("set {var}=… in the environment or pass --{input}-file PATH")
}

/// The usage error for a secret nobody gave. Inside Actions (`GITHUB_ACTIONS=true`) it keeps
/// the step's wording (`actions`, which names the input); on a command line it says how to
/// give it there (`cli`), not in YAML.
pub fn missing_secret(env: &Env, actions: &str, cli: &str) -> anyhow::Error {
    if env.is(vars::GITHUB_ACTIONS, "true") {
        usage(actions.to_owned())
    } else {
        usage(cli.to_owned())
    }
}

const COMPLETIONS: &str = "completions";
const MAN: &str = "man";

/// The tool's command with `completions <shell>` and `man` added. A tool has no positional
/// argument, so a run with flags only is exactly what it was.
pub fn with_commands(command: Command) -> Command {
    let tool = command.get_name().to_owned();
    command
        .subcommand(
            Command::new(COMPLETIONS)
                .about("Print the shell completion script (bash, zsh, fish, elvish, powershell)")
                .long_about(format!(
                    "Print the shell completion script to stdout, e.g.\n  \
                     {tool} completions bash > ~/.local/share/bash-completion/completions/{tool}"
                ))
                .arg(
                    Arg::new("shell")
                        .help("Shell to complete in")
                        .required(true)
                        .value_parser(clap::value_parser!(clap_complete::Shell)),
                ),
        )
        .subcommand(Command::new(MAN).about(format!(
            "Print the man page (roff), e.g. `{tool} man | man -l -`"
        )))
}

/// Runs `completions` or `man` when one was asked for; `None` for a normal run.
pub fn run_command(mut command: Command, matches: &ArgMatches) -> Option<ExitCode> {
    let rendered = match matches.subcommand() {
        Some((COMPLETIONS, sub)) => {
            let shell = *sub.get_one::<clap_complete::Shell>("shell")?;
            Ok(completions(&mut command, shell))
        }
        Some((MAN, _)) => man(command),
        _ => return None,
    };
    let written = rendered.and_then(|bytes| {
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)?;
        out.flush()
    });
    Some(match written {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is the reader's choice, not an error worth a line.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(err) => {
            crate::gha::write_stderr(&format!("error: cannot write to stdout: {err}"));
            ExitCode::from(Code::Operational.as_u8())
        }
    })
}

/// The completion script for `shell`, rendered in memory (clap_complete's writers panic on a
/// write error, so they never write to stdout directly).
pub fn completions(command: &mut Command, shell: clap_complete::Shell) -> Vec<u8> {
    let name = command.get_name().to_owned();
    let mut bytes = Vec::new();
    clap_complete::generate(shell, command, name, &mut bytes);
    bytes
}

/// The man page (roff), rendered in memory.
pub fn man(command: Command) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    clap_mangen::Man::new(command).render(&mut bytes)?;
    Ok(bytes)
}

/// What every tool's command line must pass (each tool's test calls this): clap's own
/// consistency rules, and help text on every flag and command, `completions` and `man` included.
pub fn assert_well_formed(command: Command) {
    command.clone().debug_assert();
    assert_eq!(undocumented(&with_commands(command)), Vec::<String>::new());
}

/// Every flag (and command) of `command`, its subcommands included, that has no help text;
/// clap's own `--help` and `--version` are documented by clap.
pub fn undocumented(command: &Command) -> Vec<String> {
    let mut missing = Vec::new();
    walk(command, command.get_name(), &mut missing);
    missing
}

fn walk(command: &Command, path: &str, missing: &mut Vec<String>) {
    for arg in command.get_arguments() {
        let id = arg.get_id().as_str();
        if matches!(id, "help" | "version") {
            continue;
        }
        let documented = arg
            .get_help()
            .is_some_and(|h| !h.to_string().trim().is_empty())
            || arg
                .get_long_help()
                .is_some_and(|h| !h.to_string().trim().is_empty());
        if !documented {
            let name = arg
                .get_long()
                .map_or_else(|| id.to_owned(), |long| format!("--{long}"));
            missing.push(format!("{path} {name}"));
        }
    }
    for sub in command.get_subcommands() {
        if sub.get_about().is_none() && sub.get_name() != "help" {
            missing.push(format!("{path} {}", sub.get_name()));
        }
        walk(sub, &format!("{path} {}", sub.get_name()), missing);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::classify;

    fn sample() -> Command {
        with_commands(
            Command::new("demo-tool")
                .arg(Arg::new("documented").long("documented").help("Has help."))
                .arg(Arg::new("bare").long("bare")),
        )
    }

    #[test]
    fn undocumented_flags_are_named() {
        assert_eq!(undocumented(&sample()), ["demo-tool --bare"]);
        let fixed = sample().mut_arg("bare", |a| a.help("Now it has."));
        assert!(undocumented(&fixed).is_empty());
    }

    #[test]
    fn the_negation_wins_when_given() {
        assert_eq!(
            negatable(Some("true".into()), true).as_deref(),
            Some("false")
        );
        assert_eq!(
            negatable(Some("true".into()), false).as_deref(),
            Some("true")
        );
        assert_eq!(negatable(None, false), None);
    }

    #[test]
    fn a_missing_secret_is_worded_for_where_it_runs() {
        let actions = Env::from_pairs([("GITHUB_ACTIONS", "true")]);
        let laptop = Env::from_pairs([("GITHUB_ACTIONS", "false")]);
        let err = missing_secret(&actions, "in yaml", "on the cli");
        assert_eq!(err.to_string(), "in yaml");
        assert_eq!(classify(&err), Code::Usage);
        assert_eq!(
            missing_secret(&laptop, "in yaml", "on the cli").to_string(),
            "on the cli"
        );
    }

    #[test]
    fn completions_and_man_name_the_flags() {
        let bash = String::from_utf8(completions(&mut sample(), clap_complete::Shell::Bash))
            .unwrap_or_default();
        assert!(bash.contains("--documented"), "{bash}");
        assert!(bash.contains("complete -F"), "{bash}");
        let man = String::from_utf8(man(sample()).unwrap_or_default()).unwrap_or_default();
        assert!(man.contains(".TH demo-tool"), "{man}");
        assert!(man.contains("documented"), "{man}");
    }

    #[test]
    fn commands_are_found_and_stray_words_refused() {
        let err = sample().try_get_matches_from(["demo-tool", "--documented", "x", "false"]);
        assert!(err.is_err());
        let ok = sample()
            .try_get_matches_from(["demo-tool", "completions", "bash"])
            .map(|m| m.subcommand_name().map(str::to_owned));
        assert_eq!(ok.ok().flatten().as_deref(), Some("completions"));
    }
}
