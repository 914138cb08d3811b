//! What every tool's `main` shares: parse flags, snapshot the environment, pick the output
//! format, start logging and the runtime, run, and turn the result into an exit code with
//! one clear `error:` line. Nothing here panics on bad input.

use std::process::ExitCode;

use crate::env::Env;
use crate::exit::{self, Code};
use crate::gha::{Actions, Annotation, Format, Level};
use crate::logging;

/// Flags every tool has.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
    /// Output format: human, github (chosen when GITHUB_ACTIONS=true) or json (stdout holds
    /// only the JSON report). Env: INPUT_FORMAT.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
}

/// A tool's parsed flags expose the common ones.
pub trait ToolCli: clap::Parser {
    fn common(&self) -> &CommonArgs;
}

/// One run of a tool.
#[derive(Debug)]
pub struct Context {
    pub tool: &'static str,
    pub version: &'static str,
    pub env: Env,
    pub actions: Actions,
}

impl Context {
    /// The user agent every HTTP request of this tool carries.
    pub fn user_agent(&self) -> String {
        format!("shipguard-{}/{}", self.tool, self.version)
    }
}

/// Runs a tool's body and exits with the code it returns or its error stands for.
pub fn main<C, F>(tool: &'static str, version: &'static str, body: F) -> ExitCode
where
    C: ToolCli,
    F: AsyncFnOnce(C, &mut Context) -> anyhow::Result<Code>,
{
    let env = Env::from_process();
    let matches = match crate::cli::with_commands(C::command()).try_get_matches() {
        Ok(matches) => matches,
        Err(err) => return clap_exit(&err),
    };
    // The command is built a second time only for `completions` or `man`: building one is a
    // few per cent of a run on a small lock (bench/README.md, lockfile-check start-up).
    if matches.subcommand().is_some()
        && let Some(code) =
            crate::cli::run_command(crate::cli::with_commands(C::command()), &matches)
    {
        return code;
    }
    let cli = match C::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => return clap_exit(&err),
    };
    let format = match env
        .check_inputs()
        .and_then(|()| resolve_format(&env, cli.common().format.clone()))
    {
        Ok(format) => format,
        Err(err) => {
            print_fatal(&Actions::new(&env, Format::Human), tool, &err);
            return ExitCode::from(Code::Usage.as_u8());
        }
    };
    logging::init(&env);
    // No crypto provider here: `http::client`, the one place a TLS client is built, installs
    // it. A tool that never builds one (lockfile-check) then links no rustls or ring, and
    // starts with fewer relocations and page faults (bench/README.md, lockfile-check).
    let actions = Actions::new(&env, format);
    let mut context = Context {
        tool,
        version,
        env,
        actions,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            crate::gha::write_stderr(&format!("error: cannot start the async runtime: {err}"));
            return ExitCode::from(Code::Operational.as_u8());
        }
    };
    let result = runtime.block_on(async {
        if let Err(err) = crate::interrupt::install() {
            tracing::warn!("cannot listen for SIGINT/SIGTERM: {err}");
        }
        body(cli, &mut context).await
    });
    let code = match result {
        Ok(code) => interrupted_code(&context.actions, tool, code),
        Err(err) => {
            print_fatal(&context.actions, tool, &err);
            let code = exit::classify(&err);
            // A change left to undo by hand stays 3 whatever signal came (exit.rs).
            if exit::is_left_changed(&err) {
                code
            } else {
                interrupted_code(&context.actions, tool, code)
            }
        }
    };
    ExitCode::from(code.as_u8())
}

/// A run a signal cut short exits 1, the contract's "the tool worked and the verdict is
/// negative" (a wait ended before its verdict, like the tool's own timeout, which is 1 too),
/// whatever it concluded or whichever request the signal cut (an operational error after a
/// signal is the signal's doing); bad input stays 2. The signal's conventional 130/143 would
/// be a fifth code; only a second signal, which skips the normal ending, exits with it. A
/// tool that never waits (lockfile-check: offline, milliseconds) simply finishes its work.
fn interrupted_code(actions: &Actions, tool: &str, code: Code) -> Code {
    let Some(received) = crate::interrupt::received() else {
        return code;
    };
    match code {
        Code::Success => {
            let message = format!("{tool} was {}", received.describe());
            crate::gha::write_stderr(&format!("error: {message}"));
            if actions.format() == Format::Github {
                actions.annotate(Annotation::new(
                    Level::Error,
                    crate::codes::Run::Interrupted,
                    message,
                ));
            }
            Code::Negative
        }
        Code::Operational => {
            crate::gha::write_stderr(&format!("({}: exit 1)", received.describe()));
            Code::Negative
        }
        Code::Negative | Code::Usage => code,
    }
}

/// `--format` > `INPUT_FORMAT` > github inside Actions > human.
fn resolve_format(env: &Env, flag: Option<String>) -> anyhow::Result<Format> {
    let chosen = env.setting("format", flag).choice(Format::CHOICES)?;
    Ok(match chosen.and_then(Format::from_word) {
        Some(format) => format,
        None if env.is(crate::env::vars::GITHUB_ACTIONS, "true") => Format::Github,
        None => Format::Human,
    })
}

/// Help and version exit 0; any other flag error is one line and exit 2.
fn clap_exit(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    if err.kind() == ErrorKind::InvalidSubcommand
        && let Some(clap::error::ContextValue::String(word)) =
            err.get(clap::error::ContextKind::InvalidSubcommand)
        && matches!(word.to_ascii_lowercase().as_str(), "true" | "false")
    {
        crate::gha::write_stderr(&format!(
            "error: unexpected `{word}`: a switch takes its value after `=` (`--<switch>` or `--<switch>={word}`) (see --help)"
        ));
        return ExitCode::from(Code::Usage.as_u8());
    }
    let rendered = err.render().to_string();
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut first = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .to_owned();
    // "the following required arguments were not provided:" names them on the next line.
    if first.ends_with(':')
        && let Some(next) = lines.next()
    {
        first = format!("{first} {next}");
    }
    crate::gha::write_stderr(&format!("{first} (see --help)"));
    ExitCode::from(Code::Usage.as_u8())
}

/// One `error:` line, and in Actions one `::error` annotation, secrets scrubbed.
pub fn print_fatal(actions: &Actions, tool: &str, err: &anyhow::Error) {
    let message = actions.scrub(&format!("{err:#}"));
    crate::gha::write_stderr(&crate::gha::untrusted::safe_line(&format!(
        "error: {message}"
    )));
    if actions.format() == Format::Github {
        actions.annotate(Annotation::new(
            Level::Error,
            exit::title_of(err, tool),
            message,
        ));
    }
}
