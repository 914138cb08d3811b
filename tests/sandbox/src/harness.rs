//! Runs a tool binary the way a workflow step does: a cleared environment, `INPUT_*`
//! variables, `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files, and a time limit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A tool run being set up.
pub struct ToolRun {
    binary: PathBuf,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    dir: tempfile::TempDir,
    limit: Duration,
    /// Run through this `run:` script as the runner does (bash, `TOOL_BIN` = the binary).
    step: Option<String>,
}

/// A run under way (see [`ToolRun::spawn`]): signal it, then [`Running::finish`].
pub struct Running {
    child: std::process::Child,
    started: Instant,
    run: ToolRun,
    stdout: Option<std::thread::JoinHandle<String>>,
    stderr: Option<std::thread::JoinHandle<String>>,
}

/// What a run left behind.
#[derive(Debug)]
pub struct Finished {
    /// The exit code; `None` when killed by a signal or the time limit.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
    pub elapsed: Duration,
}

impl Finished {
    /// Fails the test with everything the tool printed unless it exited with `code`.
    #[track_caller]
    pub fn assert_exit(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }

    /// Fails the test unless stderr has exactly one `error:` line (bad input and fatal
    /// errors say one thing, once).
    #[track_caller]
    pub fn assert_one_error_line(&self) {
        let errors = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .count();
        assert_eq!(errors, 1, "{}", self.stderr);
    }

    pub fn output(&self, name: &str) -> &str {
        self.outputs.get(name).map_or("", String::as_str)
    }

    /// The `report` output parsed as JSON (Null when absent or invalid).
    pub fn report(&self) -> serde_json::Value {
        serde_json::from_str(self.output("report")).unwrap_or(serde_json::Value::Null)
    }

    /// Everything a user could see: stdout, stderr, outputs and summary.
    pub fn everything(&self) -> String {
        let outputs: Vec<String> = self
            .outputs
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "{}\n{}\n{}\n{}",
            self.stdout,
            self.stderr,
            outputs.join("\n"),
            self.summary
        )
    }
}

impl ToolRun {
    /// A run in Actions mode (`GITHUB_ACTIONS=true`) with output and summary files.
    pub fn new(binary: impl AsRef<Path>) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let mut env = BTreeMap::new();
        env.insert("GITHUB_ACTIONS".to_owned(), "true".to_owned());
        env.insert("SHIPGUARD_TEST_NO_RETRY_DELAY".to_owned(), "1".to_owned());
        env.insert(
            "GITHUB_OUTPUT".to_owned(),
            dir.path().join("output").display().to_string(),
        );
        env.insert(
            "GITHUB_STEP_SUMMARY".to_owned(),
            dir.path().join("summary").display().to_string(),
        );
        Self {
            binary: binary.as_ref().to_path_buf(),
            args: Vec::new(),
            env,
            dir,
            limit: Duration::from_secs(60),
            step: None,
        }
    }

    /// Runs the binary the way an action's `run:` step does: GitHub's runner writes the
    /// script to a file and starts `bash --noprofile --norc -e -o pipefail <file>`
    /// (actions/runner src/Runner.Worker/Handlers/ScriptHandlerHelpers.cs l. 18), with the
    /// binary's path in `TOOL_BIN` as our action.yml files pass it.
    pub fn as_step(mut self, script: &str) -> Self {
        self.step = Some(script.to_owned());
        self
    }

    /// Sets `INPUT_<UPPER_SNAKE>` for a kebab-case input.
    pub fn input(mut self, name: &str, value: &str) -> Self {
        let var = format!("INPUT_{}", name.replace('-', "_").to_uppercase());
        self.env.insert(var, value.to_owned());
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn without_env(mut self, name: &str) -> Self {
        self.env.remove(name);
        self
    }

    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    pub fn limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// A scratch directory that lives as long as the run.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file into the scratch directory and returns its path.
    pub fn file(&self, name: &str, contents: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {name}: {e}"));
        path.display().to_string()
    }

    pub fn run(self) -> Finished {
        self.spawn().finish()
    }

    /// Starts the run and returns at once.
    pub fn spawn(self) -> Running {
        let started = Instant::now();
        let mut command = match &self.step {
            Some(script) => {
                let file = self.file("step.sh", script);
                let mut command = Command::new("bash");
                command
                    .args(["--noprofile", "--norc", "-e", "-o", "pipefail", &file])
                    .env_clear()
                    .envs(&self.env)
                    .env("TOOL_BIN", &self.binary)
                    .env("PATH", "/usr/bin:/bin");
                command
            }
            None => {
                let mut command = Command::new(&self.binary);
                command.args(&self.args).env_clear().envs(&self.env);
                command
            }
        };
        // Its own process group, so the limit can end a step's bash and whatever it left
        // running (a binary the signal never reached would hold the pipes open).
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.binary.display()));
        let stdout = child.stdout.take().map(read_in_background);
        let stderr = child.stderr.take().map(read_in_background);
        Running {
            child,
            started,
            run: self,
            stdout,
            stderr,
        }
    }
}

impl Running {
    /// The process id (bash's for a step: the process GitHub's runner signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `ready` holds (checked every few milliseconds, up to the run's limit);
    /// false if the process ended first or the limit passed.
    pub fn wait_for(&mut self, mut ready: impl FnMut() -> bool) -> bool {
        while self.run.limit > self.started.elapsed() {
            if ready() {
                return true;
            }
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    /// Sends a signal (`INT`, `TERM`) to the process only, as GitHub's runner does
    /// (`kill(pid, sig)`, actions/runner src/Runner.Sdk/ProcessInvoker.cs l. 832).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.pid().to_string()])
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .status()
            .unwrap_or_else(|e| panic!("kill: {e}"));
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Waits for the end (killing the process at the run's limit) and reads what it left.
    pub fn finish(self) -> Finished {
        let Self {
            mut child,
            started,
            run: this,
            stdout,
            stderr,
        } = self;
        let code = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if started.elapsed() > this.limit => {
                    let _ = Command::new("kill")
                        .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                        .env_clear()
                        .env("PATH", "/usr/bin:/bin")
                        .status();
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("wait: {e}"),
            }
        };
        let elapsed = started.elapsed();
        let join = |h: Option<std::thread::JoinHandle<String>>| {
            h.and_then(|h| h.join().ok()).unwrap_or_default()
        };
        let read =
            |name: &str| std::fs::read_to_string(this.dir.path().join(name)).unwrap_or_default();
        let outputs = parse_outputs(&read("output"));
        Finished {
            code,
            stdout: join(stdout),
            stderr: join(stderr),
            outputs,
            summary: read("summary"),
            elapsed,
        }
    }
}

fn read_in_background(
    mut pipe: impl std::io::Read + Send + 'static,
) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Reads a `$GITHUB_OUTPUT` file written in the heredoc form.
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let value: Vec<&str> = lines.by_ref().take_while(|l| *l != delimiter).collect();
            outputs.insert(name.to_owned(), value.join("\n"));
        }
    }
    outputs
}

/// The script of an action's `run` step (`- id: run` … `run: <script>`), as the runner gets
/// it: a plain or single-quoted YAML scalar on one line.
pub fn action_run_script(action_yml: &Path) -> String {
    let text = std::fs::read_to_string(action_yml)
        .unwrap_or_else(|e| panic!("read {}: {e}", action_yml.display()));
    let line = text
        .lines()
        .skip_while(|l| l.trim() != "- id: run")
        .find_map(|l| l.trim().strip_prefix("run: "))
        .unwrap_or_else(|| panic!("{}: no `run` step", action_yml.display()));
    match line.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')) {
        Some(quoted) => quoted.replace("''", "'"),
        None => line.to_owned(),
    }
}
