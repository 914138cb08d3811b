//! SIGINT and SIGTERM: a cancelled run or a job timeout. `tool::main` installs the handlers
//! once; long waits `select!` on [`requested`] (or check [`received`] between phases), end
//! early with an `interrupted` outcome and go through the tool's normal ending: outputs,
//! summary, annotation, a final status on what the tool opened. A second signal while that
//! runs exits at once with 128 + the signal number, as a shell reports a death by signal.
//!
//! What GitHub's runner does (actions/runner, src/Runner.Sdk/ProcessInvoker.cs at 258d6c8):
//! on cancel or a job timeout it sends SIGINT to the step's process only, `kill(_proc.Id, …)`
//! (l. 829-832, not to a process group), waits up to 7.5 s for it to exit (l. 32, 448),
//! then sends SIGTERM and waits 2.5 s (l. 33, 455), then `Process.Kill()` (l. 855-868).
//! `run:` steps are started with `killProcessOnCancel: false`
//! (src/Runner.Worker/Handlers/ScriptHandler.cs l. 346), so they get that sequence. The step's
//! process is the `bash` running the step's script, which is why every action.yml `exec`s the
//! binary: without it only bash hears the signal. So the whole cleanup, Coolify cancel and
//! GitHub status included, gets [`CLEANUP`] (under the 7.5 s before SIGTERM), and the second
//! signal (the runner's SIGTERM) ends the process at once.
//!
//! Cleanup that must happen on every path (a Coolify deployment cancelled, a GitHub
//! Deployment's final status, a pinned commit restored): an interrupted wait never unwinds,
//! it returns its `interrupted` outcome, so code placed after the wait runs after a signal
//! too; wrap its requests in [`within_cleanup`] so they end within the budget.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// How long the work after a signal (cancel, final statuses, outputs) may take: the runner
/// sends SIGTERM 7.5 s after SIGINT (see the module comment).
pub const CLEANUP: Duration = Duration::from_secs(5);

/// Which signal stopped the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Interrupt,
    Terminate,
}

impl Signal {
    pub fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        }
    }

    /// The signal's number (POSIX: SIGINT 2, SIGTERM 15).
    pub fn number(self) -> u8 {
        match self {
            Self::Interrupt => 2,
            Self::Terminate => 15,
        }
    }
}

/// The first signal and when it came.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub signal: Signal,
    pub at: Instant,
}

impl Received {
    /// The end of the cleanup budget.
    pub fn cleanup_deadline(&self) -> Instant {
        self.at + CLEANUP
    }

    /// "interrupted by SIGTERM", for reports and notes.
    pub fn describe(&self) -> String {
        format!("interrupted by {}", self.signal.name())
    }
}

static STATE: LazyLock<watch::Sender<Option<Received>>> =
    LazyLock::new(|| watch::Sender::new(None));

/// Listens for SIGINT and SIGTERM for the rest of the process. Call once, inside the runtime.
pub fn install() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        let next = async |int: &mut tokio::signal::unix::Signal,
                          term: &mut tokio::signal::unix::Signal| {
            tokio::select! {
                _ = int.recv() => Signal::Interrupt,
                _ = term.recv() => Signal::Terminate,
            }
        };
        let first = next(&mut int, &mut term).await;
        crate::gha::write_stderr(&format!(
            "received {}: stopping and cleaning up (a second signal exits at once)",
            first.name()
        ));
        notify(first);
        let second = next(&mut int, &mut term).await;
        crate::gha::write_stderr(&format!("received {} again: exiting now", second.name()));
        std::process::exit(128 + i32::from(second.number()));
    });
    Ok(())
}

/// Records a signal (the handler's job; tests of the waits call it directly).
pub fn notify(signal: Signal) {
    STATE.send_if_modified(|state| {
        if state.is_some() {
            return false;
        }
        *state = Some(Received {
            signal,
            at: Instant::now(),
        });
        true
    });
}

/// The first signal, if one came.
pub fn received() -> Option<Received> {
    *STATE.borrow()
}

/// Resolves when a signal has come (at once if one already has). For `select!`.
pub async fn requested() -> Received {
    let mut rx = STATE.subscribe();
    let seen = rx
        .wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|state| *state);
    match seen {
        Some(received) => received,
        // The sender lives in a static and is never dropped: this never happens.
        None => std::future::pending().await,
    }
}

/// Resolves when the cleanup budget after a signal is spent: the backstop for a cleanup that
/// hangs.
pub async fn cleanup_spent() {
    let received = requested().await;
    tokio::time::sleep_until(received.cleanup_deadline().into()).await;
}

/// Runs `work` unless a signal comes first; `Err` carries the signal.
pub async fn unless_requested<F: Future>(work: F) -> Result<F::Output, Received> {
    tokio::select! {
        biased;
        received = requested() => Err(received),
        out = work => Ok(out),
    }
}

/// Work on the way out (a final status, an alert): after a signal it gets what is left of
/// [`CLEANUP`] and `None` when it did not finish in time; without one it runs as usual.
pub async fn within_cleanup<F: Future>(work: F) -> Option<F::Output> {
    match received() {
        Some(r) => tokio::time::timeout_at(r.cleanup_deadline().into(), work)
            .await
            .ok(),
        None => Some(work.await),
    }
}
