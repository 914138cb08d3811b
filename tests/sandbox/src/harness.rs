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
        }
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
        let started = Instant::now();
        let mut child = Command::new(&self.binary)
            .args(&self.args)
            .env_clear()
            .envs(&self.env)
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", self.binary.display()));
        let stdout = child.stdout.take().map(read_in_background);
        let stderr = child.stderr.take().map(read_in_background);
        let code = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status.code(),
                Ok(None) if started.elapsed() > self.limit => {
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
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
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
