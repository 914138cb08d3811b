//! One problem lockfile-check found: what npm would say, who it concerns, why, how to
//! fix it, and the file and line an annotation points at.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Finding {
    /// Stable kebab-case code: `lockfile-missing`, `lockfile-invalid`, `lockfile-drift`,
    /// `family-split`, `lockfile-host`, `lockfile-https`, `lockfile-integrity`.
    pub code: &'static str,
    /// The root, a workspace, or the locked package whose entry is wrong.
    pub scope: String,
    /// The dependency (or family) concerned.
    pub package: String,
    /// npm's words where npm has them (`Missing: …`, `Invalid: …`).
    pub message: String,
    pub why: String,
    pub fix: String,
    pub file: String,
    pub line: Option<u32>,
}

impl Finding {
    /// The one-line form used in logs and annotations.
    pub fn line_text(&self) -> String {
        format!(
            "{} ({}): {} Fix: {}",
            self.message, self.scope, self.why, self.fix
        )
    }
}
