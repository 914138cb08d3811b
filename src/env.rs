//! The one reader of the process environment.
//!
//! `Env` is a snapshot taken once at start-up and passed down; tests build it from pairs.
//! Settings resolve as: CLI flag > non-empty `INPUT_<UPPER_SNAKE>` > a listed ecosystem
//! variable > default. An empty input means "not given", because a composite action passes
//! `''` for every input the workflow left out.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::duration;
use crate::exit::usage;
use crate::redact::Secret;

/// Every ecosystem variable the suite reads, in one place.
pub mod vars {
    /// `true` inside GitHub Actions: selects the `github` output format.
    pub const GITHUB_ACTIONS: &str = "GITHUB_ACTIONS";
    /// File that receives step outputs.
    pub const GITHUB_OUTPUT: &str = "GITHUB_OUTPUT";
    /// File that receives the Markdown step summary.
    pub const GITHUB_STEP_SUMMARY: &str = "GITHUB_STEP_SUMMARY";
    /// Workspace root: annotation paths are made relative to it.
    pub const GITHUB_WORKSPACE: &str = "GITHUB_WORKSPACE";
    pub const GITHUB_TOKEN: &str = "GITHUB_TOKEN";
    pub const GITHUB_REPOSITORY: &str = "GITHUB_REPOSITORY";
    pub const GITHUB_SHA: &str = "GITHUB_SHA";
    pub const GITHUB_API_URL: &str = "GITHUB_API_URL";
    pub const GITHUB_SERVER_URL: &str = "GITHUB_SERVER_URL";
    pub const GITHUB_RUN_ID: &str = "GITHUB_RUN_ID";
    pub const GITHUB_ACTOR: &str = "GITHUB_ACTOR";
    pub const GITHUB_REF_NAME: &str = "GITHUB_REF_NAME";
    /// `1` when the run was re-run with debug logging.
    pub const RUNNER_DEBUG: &str = "RUNNER_DEBUG";
    /// An `EnvFilter` directive for the logs, e.g. `debug`.
    pub const SHIPGUARD_LOG: &str = "SHIPGUARD_LOG";
    /// Test hook: `1` removes the sleeps between HTTP retries.
    pub const SHIPGUARD_TEST_NO_RETRY_DELAY: &str = "SHIPGUARD_TEST_NO_RETRY_DELAY";
}

/// How a multi-value input is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// One value per line: conditions and headers, whose values may hold commas.
    Lines,
    /// Newlines or commas: URLs, app UUIDs, tool names.
    LinesOrCommas,
}

/// A snapshot of the process environment.
#[derive(Debug, Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    /// `INPUT_*` variables whose value is not UTF-8: given, but unreadable.
    not_utf8: Vec<String>,
}

impl Env {
    /// Reads the process environment once. Variables that are not UTF-8 are skipped, but an
    /// `INPUT_*` one is remembered: [`Env::check_inputs`] turns it into a usage error rather
    /// than letting the input read as "not given".
    #[allow(clippy::disallowed_methods)] // the single sanctioned reader
    pub fn from_process() -> Self {
        Self::from_os(std::env::vars_os())
    }

    fn from_os(pairs: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>) -> Self {
        let mut env = Self::default();
        for (key, value) in pairs {
            let Ok(key) = key.into_string() else { continue };
            match value.into_string() {
                Ok(value) => {
                    env.vars.insert(key, value);
                }
                Err(_) if key.starts_with("INPUT_") => env.not_utf8.push(key),
                Err(_) => {}
            }
        }
        env
    }

    /// A usage error naming the first input whose value is not UTF-8. Every tool calls it
    /// before reading any input, so such an input never passes for "not given".
    pub fn check_inputs(&self) -> anyhow::Result<()> {
        match self.not_utf8.first() {
            Some(var) => {
                let name = var["INPUT_".len()..].to_lowercase().replace('_', "-");
                Err(invalid(&name, &format!("the value of {var} is not UTF-8")))
            }
            None => Ok(()),
        }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self {
            vars,
            not_utf8: Vec::new(),
        }
    }

    /// A variable's value when set and not blank.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// True when the variable is exactly `expected`.
    pub fn is(&self, name: &str, expected: &str) -> bool {
        self.vars.get(name).is_some_and(|v| v == expected)
    }

    /// The `INPUT_<UPPER_SNAKE>` variable of a kebab-case input name.
    pub fn input_var(name: &str) -> String {
        format!("INPUT_{}", name.replace([' ', '-'], "_").to_uppercase())
    }

    /// An input's trimmed value; empty means not given.
    pub fn input(&self, name: &str) -> Option<&str> {
        self.vars
            .get(&Self::input_var(name))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A setting from its flag, else its input.
    pub fn setting(&self, name: &'static str, flag: Option<String>) -> Setting {
        let raw = flag
            .filter(|v| !v.trim().is_empty())
            .or_else(|| self.input(name).map(str::to_owned));
        Setting { name, raw }
    }

    /// A multi-value setting: the flags when any were given, else the input, split.
    pub fn list(&self, name: &str, flags: Vec<String>, split: Split) -> Vec<String> {
        let joined = if flags.is_empty() {
            self.input(name).unwrap_or_default().to_owned()
        } else {
            flags.join("\n")
        };
        split_values(&joined, split)
    }

    /// A secret input, which never comes from a flag value (it would show in `ps`).
    pub fn secret(&self, name: &str) -> Option<Secret<String>> {
        self.input(name).map(|v| Secret::new(v.to_owned()))
    }

    /// A secret from `--<name>-file` when given, else the input, else `var` if any.
    pub fn secret_from(
        &self,
        name: &str,
        var: Option<&str>,
        file: Option<&str>,
    ) -> anyhow::Result<Option<Secret<String>>> {
        let Some(path) = file else {
            return Ok(match var {
                Some(var) => self.secret_or_var(name, var),
                None => self.secret(name),
            });
        };
        let text = std::fs::read_to_string(path).map_err(|err| {
            usage(format!(
                "invalid flag --{name}-file: cannot read `{path}`: {err}"
            ))
        })?;
        let text = text.trim();
        if text.is_empty() {
            return Err(usage(format!(
                "invalid flag --{name}-file: `{path}` is empty"
            )));
        }
        Ok(Some(Secret::new(text.to_owned())))
    }

    /// The link to this workflow run, from GITHUB_SERVER_URL (default github.com),
    /// GITHUB_REPOSITORY and GITHUB_RUN_ID; `None` outside Actions.
    pub fn run_url(&self) -> Option<String> {
        let server = self
            .var(vars::GITHUB_SERVER_URL)
            .unwrap_or("https://github.com")
            .trim_end_matches('/');
        let repository = self.var(vars::GITHUB_REPOSITORY)?;
        let run = self.var(vars::GITHUB_RUN_ID)?;
        Some(format!("{server}/{repository}/actions/runs/{run}"))
    }

    /// A secret from the input, else a listed ecosystem variable.
    pub fn secret_or_var(&self, name: &str, var: &str) -> Option<Secret<String>> {
        self.secret(name)
            .or_else(|| self.var(var).map(|v| Secret::new(v.trim().to_owned())))
    }
}

/// Splits a multi-value input, dropping blanks.
pub fn split_values(text: &str, split: Split) -> Vec<String> {
    let is_separator = |c: char| c == '\n' || (split == Split::LinesOrCommas && c == ',');
    text.split(is_separator)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A single-value setting on its way to a typed value; errors name the input and the flag.
#[derive(Debug, Clone)]
pub struct Setting {
    name: &'static str,
    raw: Option<String>,
}

impl Setting {
    /// Falls back to an ecosystem variable when neither flag nor input was given.
    pub fn or_var(mut self, env: &Env, var: &str) -> Self {
        if self.raw.is_none() {
            self.raw = env.var(var).map(|v| v.trim().to_owned());
        }
        self
    }

    pub fn optional(self) -> Option<String> {
        self.raw
    }

    /// The value, or a usage error saying how to give it.
    pub fn required(self) -> anyhow::Result<String> {
        let name = self.name;
        self.raw.ok_or_else(|| {
            usage(format!(
                "missing input `{name}`: set `{name}:` in the step's `with:` or pass --{name}"
            ))
        })
    }

    /// Parses the value with `parse`, whose error says what is wrong with it.
    pub fn parse<T>(
        self,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> anyhow::Result<Option<T>> {
        let name = self.name;
        self.raw
            .map(|raw| parse(&raw).map_err(|why| invalid(name, &why)))
            .transpose()
    }

    pub fn duration(self) -> anyhow::Result<Option<Duration>> {
        self.parse(duration::parse)
    }

    /// `true` or `false` only (YAML 1.2 literals), as actions/toolkit's getBooleanInput.
    pub fn bool(self) -> anyhow::Result<Option<bool>> {
        self.parse(|raw| match raw {
            "true" | "True" | "TRUE" => Ok(true),
            "false" | "False" | "FALSE" => Ok(false),
            other => Err(format!("{other:?} is not a boolean; use true or false")),
        })
    }

    /// A whole number of at least `min`.
    pub fn count(self, min: u32) -> anyhow::Result<Option<u32>> {
        self.parse(|raw| match raw.parse::<u32>() {
            Ok(n) if n >= min => Ok(n),
            _ => Err(format!("{raw:?} is not a whole number of at least {min}")),
        })
    }

    /// One of a fixed set of words.
    pub fn choice(self, choices: &[&'static str]) -> anyhow::Result<Option<&'static str>> {
        self.parse(|raw| {
            choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(raw))
                .copied()
                .ok_or_else(|| format!("{raw:?} is not one of {}", choices.join(", ")))
        })
    }
}

/// The usage error for a value that does not parse. It names the input only: its flag,
/// where there is one, has the same name, and secrets have no flag at all.
pub fn invalid(name: &str, why: &str) -> anyhow::Error {
    usage(format!("invalid input `{name}`: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{Code, classify};

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn flag_beats_input_beats_ecosystem_variable() {
        let e = env(&[("INPUT_GITHUB_SHA", "input"), ("GITHUB_SHA", "eco")]);
        let got = e
            .setting("github-sha", Some("flag".into()))
            .or_var(&e, "GITHUB_SHA");
        assert_eq!(got.optional().as_deref(), Some("flag"));
        let got = e.setting("github-sha", None).or_var(&e, "GITHUB_SHA");
        assert_eq!(got.optional().as_deref(), Some("input"));
        let e = env(&[("INPUT_GITHUB_SHA", ""), ("GITHUB_SHA", "eco")]);
        let got = e.setting("github-sha", None).or_var(&e, "GITHUB_SHA");
        assert_eq!(got.optional().as_deref(), Some("eco"));
    }

    #[test]
    fn empty_or_blank_input_means_not_given() {
        let e = env(&[("INPUT_TIMEOUT", "  "), ("INPUT_URL", "")]);
        assert_eq!(e.setting("timeout", None).duration().unwrap(), None);
        assert_eq!(e.input("url"), None);
        assert_eq!(e.setting("timeout", Some(String::new())).optional(), None);
    }

    #[test]
    fn kebab_names_map_to_upper_snake() {
        assert_eq!(Env::input_var("coolify-url"), "INPUT_COOLIFY_URL");
        assert_eq!(
            Env::input_var("success-threshold"),
            "INPUT_SUCCESS_THRESHOLD"
        );
    }

    #[test]
    fn booleans_are_strict() {
        let e = env(&[
            ("INPUT_A", "true"),
            ("INPUT_B", "False"),
            ("INPUT_C", "yes"),
        ]);
        assert_eq!(e.setting("a", None).bool().unwrap(), Some(true));
        assert_eq!(e.setting("b", None).bool().unwrap(), Some(false));
        let err = e.setting("c", None).bool().unwrap_err();
        assert_eq!(classify(&err), Code::Usage);
        assert!(err.to_string().contains("`c`"), "{err}");
    }

    #[test]
    fn lists_split_by_lines_or_commas() {
        let e = env(&[
            ("INPUT_URL", "a, b\n\nc\n"),
            ("INPUT_EXPECT", "[STATUS] == any(200, 204)\n[BODY] == x"),
        ]);
        assert_eq!(e.list("url", vec![], Split::LinesOrCommas), ["a", "b", "c"]);
        assert_eq!(
            e.list("expect", vec![], Split::Lines),
            ["[STATUS] == any(200, 204)", "[BODY] == x"]
        );
        assert_eq!(e.list("url", vec!["z".into()], Split::LinesOrCommas), ["z"]);
    }

    #[test]
    fn counts_and_choices_name_the_input() {
        let e = env(&[("INPUT_N", "0"), ("INPUT_F", "xml"), ("INPUT_OK", "3")]);
        let err = e.setting("n", None).count(1).unwrap_err();
        assert!(err.to_string().contains("invalid input `n`"), "{err}");
        assert_eq!(e.setting("ok", None).count(1).unwrap(), Some(3));
        let err = e.setting("f", None).choice(&["human", "json"]).unwrap_err();
        assert!(err.to_string().contains("human, json"), "{err}");
    }

    #[test]
    fn an_input_that_is_not_utf8_is_a_usage_error() {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt as _;
        let e = Env::from_os([
            (
                OsString::from("INPUT_LOCKFILE_PATH"),
                OsString::from_vec(vec![b'a', 0xff]),
            ),
            (OsString::from("OTHER"), OsString::from_vec(vec![0xfe])),
            (OsString::from("INPUT_OK"), OsString::from("yes")),
        ]);
        assert_eq!(e.input("ok"), Some("yes"));
        let err = e.check_inputs().unwrap_err();
        assert_eq!(classify(&err), Code::Usage);
        assert_eq!(
            err.to_string(),
            "invalid input `lockfile-path`: the value of INPUT_LOCKFILE_PATH is not UTF-8"
        );
        let fine = Env::from_os([(OsString::from("X"), OsString::from_vec(vec![0xff]))]);
        assert!(fine.check_inputs().is_ok());
    }

    #[test]
    fn missing_required_input_says_how_to_set_it() {
        let err = env(&[]).setting("url", None).required().unwrap_err();
        assert_eq!(classify(&err), Code::Usage);
        assert!(err.to_string().contains("missing input `url`"));
    }
}
