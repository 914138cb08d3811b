//! Step outputs through `$GITHUB_OUTPUT`, in the heredoc form with a random delimiter
//! (actions/toolkit `file-command.ts`): a value can never end its own block early.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};

/// One output in the heredoc form. Refuses a name or value that contains the delimiter.
pub fn format_output(name: &str, value: &str, delimiter: &str) -> anyhow::Result<String> {
    if name.contains(delimiter) || value.contains(delimiter) {
        bail!("output `{name}` contains the delimiter {delimiter:?}; refusing to write it");
    }
    if name.is_empty() || name.contains(['\n', '\r']) {
        bail!("output name {name:?} is not valid");
    }
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

/// A delimiter of the toolkit's shape: `ghadelimiter_<random>`.
pub fn random_delimiter() -> String {
    let mut rng = fastrand::Rng::new();
    let random: String = (0..32).map(|_| rng.alphanumeric()).collect();
    format!("ghadelimiter_{random}")
}

/// Appends outputs to the file, all in one write.
pub fn append_outputs(path: &Path, outputs: &[(String, String)]) -> anyhow::Result<()> {
    let mut text = String::new();
    for (name, value) in outputs {
        text.push_str(&format_output(name, value, &random_delimiter())?);
    }
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("Failed to open `$GITHUB_OUTPUT` file `{}`", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("Failed to write `$GITHUB_OUTPUT` file `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heredoc_round_trips_multiline_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let outputs = vec![
            ("healthy".to_owned(), "true".to_owned()),
            ("report".to_owned(), "{\n  \"a\": \"x<<y\"\n}".to_owned()),
        ];
        append_outputs(&path, &outputs).unwrap();
        append_outputs(&path, &[("more".to_owned(), String::new())]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = sandbox::harness::parse_outputs(&text);
        assert_eq!(parsed.len(), 3, "{text}");
        assert_eq!(parsed["healthy"], "true");
        assert_eq!(parsed["report"], outputs[1].1);
        assert_eq!(parsed["more"], "");
    }

    #[test]
    fn refuses_a_value_holding_the_delimiter() {
        let err = format_output("x", "a ghadelimiter_abc b", "ghadelimiter_abc").unwrap_err();
        assert!(err.to_string().contains("delimiter"));
        assert!(format_output("", "v", "d").is_err());
    }

    #[test]
    fn delimiters_are_random() {
        assert_ne!(random_delimiter(), random_delimiter());
    }
}
