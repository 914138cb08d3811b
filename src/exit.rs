//! Exit codes (README "The contract every tool keeps"; docs/ARCHITECTURE.md) and the marker errors that select them.
//!
//! Tools return `anyhow::Result`; `classify` walks the error chain, so a marker wrapped in
//! any amount of `.context(...)` still decides the code.

use std::fmt;

/// The four exit codes every tool uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Success: healthy, in sync, deployed, sent.
    Success = 0,
    /// The tool worked and the verdict is negative.
    Negative = 1,
    /// Bad flag, bad input, unreadable or invalid file.
    Usage = 2,
    /// Network, auth or server failure after retries.
    Operational = 3,
}

impl Code {
    pub fn as_u8(self) -> u8 {
        self as u8
    }
}

/// A usage or input error: exit 2. The message names what to fix.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Builds a usage error (exit 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// A negative verdict reached as an error (exit 1), with a stable kebab-case code.
#[derive(Debug)]
pub struct CheckFailed {
    pub code: &'static str,
    pub message: String,
}

impl fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CheckFailed {}

/// Builds a negative-verdict error (exit 1).
pub fn check_failed(code: &'static str, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(CheckFailed {
        code,
        message: message.into(),
    })
}

/// A change this run made and could not finish or undo, left for a person: exit 3 always.
/// Neither the run's deadline (a timeout is 1) nor a signal (tool.rs turns 3 into 1 after
/// one) overrides it: "look at this by hand" must not read as "the tool worked".
#[derive(Debug)]
pub struct LeftChanged(pub String);

impl fmt::Display for LeftChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LeftChanged {}

/// Builds a left-changed error (exit 3, whatever came after).
pub fn left_changed(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(LeftChanged(message.into()))
}

/// True when `err` says a change was left to undo by hand ([`LeftChanged`] in its chain).
pub fn is_left_changed(err: &anyhow::Error) -> bool {
    // `downcast_ref` finds it given as a `.context(...)` too, which `chain` does not.
    err.downcast_ref::<LeftChanged>().is_some()
        || err.chain().any(|cause| cause.is::<LeftChanged>())
}

/// The exit code an error stands for: the first marker in its chain, else operational.
pub fn classify(err: &anyhow::Error) -> Code {
    if is_left_changed(err) {
        return Code::Operational;
    }
    for cause in err.chain() {
        if cause.is::<UsageError>() {
            return Code::Usage;
        }
        if cause.is::<CheckFailed>() {
            return Code::Negative;
        }
    }
    Code::Operational
}

/// The annotation title for an error: the marker's code, else the tool's name.
pub fn title_of<'a>(err: &'a anyhow::Error, tool: &'a str) -> &'a str {
    for cause in err.chain() {
        if let Some(failed) = cause.downcast_ref::<CheckFailed>() {
            return failed.code;
        }
        if cause.is::<UsageError>() {
            return crate::codes::Run::UsageError.as_str();
        }
    }
    tool
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context as _;

    #[test]
    fn markers_decide_the_code_through_context() {
        let err = Err::<(), _>(usage("bad `timeout`"))
            .context("reading inputs")
            .unwrap_err();
        assert_eq!(classify(&err), Code::Usage);
        assert_eq!(title_of(&err, "t"), "usage-error");
        let err = check_failed("health-timeout", "not healthy");
        assert_eq!(classify(&err), Code::Negative);
        assert_eq!(title_of(&err, "t"), "health-timeout");
        let err = anyhow::anyhow!("connection refused");
        assert_eq!(classify(&err), Code::Operational);
        assert_eq!(title_of(&err, "tool"), "tool");
        // A change left behind outranks a marker wrapped around it.
        let err = anyhow::Error::new(CheckFailed {
            code: "x",
            message: "y".into(),
        })
        .context(LeftChanged("service web was rolled back".into()));
        assert_eq!(classify(&err), Code::Operational);
        assert!(is_left_changed(&err));
        let err = left_changed("service web was rolled back").context("while redeploying");
        assert_eq!(classify(&err), Code::Operational);
        assert!(is_left_changed(&err));
        assert!(!is_left_changed(&usage("bad")));
    }
}
