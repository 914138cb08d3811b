//! Text from outside (API replies, commit data, package and folder names, build logs) as a
//! type of its own, so that it cannot reach the log raw.
//!
//! The runner reads workflow commands from every line of a step's stdout AND stderr,
//! whatever `--format` says, whenever the step runs in Actions. What it takes as a command,
//! read in actions/runner (commit 258d6c857db3519913f7deb6004b60172f8043ae):
//! - `src/Runner.Sdk/ProcessInvoker.cs:513`: output is split with `StreamReader.ReadLine`,
//!   so `\n`, `\r` and `\r\n` all end a line.
//! - `src/Runner.Worker/Handlers/OutputManager.cs:82`: any line holding `##[` or `::` is
//!   offered to the command manager, which tries `ActionCommand.TryParseV2` and then
//!   `ActionCommand.TryParse` (`src/Runner.Worker/ActionCommandManager.cs:70-71`).
//! - `src/Runner.Common/ActionCommand.cs:62-63` (V2): the line, after `TrimStart()` (any
//!   Unicode white space), starts with `::`, and a second `::` ends the command name.
//! - `src/Runner.Common/ActionCommand.cs:132-139` (V1, still live): `##[` ANYWHERE in the
//!   line, then `]` ends the command name.
//! - Both use .NET's culture-sensitive `StartsWith`/`IndexOf` (the runner does not set
//!   `InvariantGlobalization`), which skip zero-width characters such as U+200B; so those
//!   characters are escaped too, never kept between a `:` and a `:`.
//!
//! [`Untrusted`]'s `Display` is therefore safe anywhere inside a line: it never yields a line
//! break or an invisible character, never contains `::` or `##[`, and never starts or ends
//! with a character that could complete one of them with the text around it. The raw value
//! is reachable only through [`Untrusted::as_raw`] (to send back to an API) and `Serialize`
//! (into the JSON report, whose printing is guarded by [`json_for_log`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Text that came from outside. Prints neutralised; see the module documentation.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Untrusted(String);

/// Server text in a message: one line, at most 128 characters, neutralised
/// ([`Untrusted::one_line`]); the one way the API clients quote a name, id or status.
pub fn shown(text: &str) -> String {
    Untrusted::one_line(text, 128).to_string()
}

impl Untrusted {
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// Text from outside reduced to one bounded line: control characters (line breaks
    /// included) become spaces, and past `max` characters it is cut with an ellipsis. For
    /// the server's own words inside an error message.
    pub fn one_line(text: &str, max: usize) -> Self {
        let flat: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if flat.chars().count() <= max {
            return Self(flat);
        }
        let cut: String = flat.chars().take(max).collect();
        Self(format!("{cut}…"))
    }

    /// The raw text: only to send back to the API it came from or to put into JSON.
    pub fn as_raw(&self) -> &str {
        &self.0
    }

    pub fn into_raw(self) -> String {
        self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parts joined by `separator`, still untrusted (e.g. log lines into one block).
    pub fn joined(parts: &[Untrusted], separator: &str) -> Self {
        let raw: Vec<&str> = parts.iter().map(Untrusted::as_raw).collect();
        Self(raw.join(separator))
    }
}

impl From<String> for Untrusted {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<&str> for Untrusted {
    fn from(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl PartialEq<str> for Untrusted {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Untrusted {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&neutralise(&self.0))
    }
}

impl fmt::Debug for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Untrusted(\"{}\")", neutralise(&self.0))
    }
}

/// A character that may not be printed as it is: controls (line breaks, ANSI escapes) and
/// anything Rust's `Debug` would not print as itself (zero-width and format characters,
/// line and paragraph separators, combining marks).
fn needs_escape(c: char) -> bool {
    !matches!(c, '"' | '\'' | '\\') && c.escape_debug().len() > 1
}

fn push_escaped(out: &mut String, c: char) {
    out.extend(c.escape_debug());
}

/// Untrusted text made safe anywhere inside a log line (the `Display` of [`Untrusted`]).
///
/// Readable text passes unchanged; only what could form a workflow command with the text
/// around it is changed: control and invisible characters become Rust escapes (`\n`,
/// `\u{200b}`), a `:` that follows a `:` or stands first or last becomes `%3A`, a `[` that
/// follows `#` or stands first becomes `%5B`, and a last `#` becomes `%23`.
pub fn neutralise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        let last = chars.peek().is_none();
        match c {
            ':' if first || last || out.ends_with(':') => out.push_str("%3A"),
            '[' if first || out.ends_with('#') => out.push_str("%5B"),
            '#' if last => out.push_str("%23"),
            c if needs_escape(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
        first = false;
    }
    out
}

/// One whole line for the log, from text we composed (untrusted parts may be in it already
/// neutralised): line breaks and invisible characters escaped, every `##[` broken, and a
/// `::` at the start (after white space) broken. Safe as a complete line, not inside one.
pub fn safe_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '[' if out.ends_with("##") => out.push_str("%5B"),
            c if needs_escape(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    let body = out.trim_start();
    if body.starts_with("::") {
        let indent = out.len() - body.len();
        out.replace_range(indent..indent + 1, "%3A");
    }
    out
}

/// Multi-line untrusted text (a build log, an error body) for the log, its lines kept.
///
/// In Actions (`stop` is set) it sits between `::stop-commands::<token>` and `::<token>::`,
/// so the runner runs none of its lines (`ActionCommandManager.cs:86-103`); `token` must be
/// fresh and unguessable ([`super::command::stop_token`]). Every line still has its control
/// and invisible characters escaped: a lone `\r` would end a line for the runner, and an
/// ANSI escape would reach a terminal. Outside Actions each line goes through [`safe_line`].
pub fn block(text: &str, stop: Option<&str>) -> String {
    let lines: Vec<String> = text
        .trim_end_matches(['\n', '\r'])
        .split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            match stop {
                Some(_) => line.chars().fold(String::new(), |mut out, c| {
                    if c != '\t' && needs_escape(c) {
                        push_escaped(&mut out, c);
                    } else {
                        out.push(c);
                    }
                    out
                }),
                None => safe_line(line),
            }
        })
        .collect();
    match stop {
        Some(token) => format!(
            "::stop-commands::{token}\n{}\n::{token}::",
            lines.join("\n")
        ),
        None => lines.join("\n"),
    }
}

/// JSON text for stdout or the log: `##[` can only stand inside a JSON string, and there
/// `[` may be written `\u005b`, so the document means the same and starts no V1 command.
/// (serde_json escapes every control character, so no string spans lines, and no line of
/// its output starts with `::`.)
pub fn json_for_log(json: &str) -> String {
    json.replace("##[", "##\\u005b")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_line_flattens_and_bounds_server_text() {
        let line = Untrusted::one_line("first\nsecond\r\tthird", 100);
        assert_eq!(line.as_raw(), "first second  third");
        let cut = Untrusted::one_line(&"é".repeat(10), 4);
        assert_eq!(cut.as_raw(), "éééé…");
        assert_eq!(Untrusted::one_line("abcd", 4).as_raw(), "abcd");
    }

    /// The runner's reading of one output line (see the module documentation): `Some(name)`
    /// when the line is a workflow command. Ordinal comparisons; the culture-sensitive
    /// skipping of zero-width characters is covered by escaping every such character, which
    /// `no_invisible_characters_survive` checks.
    fn runner_command(line: &str) -> Option<String> {
        let v2 = line.trim_start();
        if let Some(rest) = v2.strip_prefix("::")
            && let Some(end) = rest.find("::")
        {
            let name = rest[..end].split(' ').next().unwrap_or_default();
            if !name.is_empty() {
                return Some(name.to_owned());
            }
        }
        let start = line.find("##[")?;
        let rest = &line[start + 3..];
        let end = rest.find(']')?;
        let name = rest[..end].split(' ').next().unwrap_or_default();
        (!name.is_empty()).then(|| name.to_owned())
    }

    /// Lines as the runner splits them (`StreamReader.ReadLine`).
    fn runner_lines(text: &str) -> Vec<&str> {
        text.split("\r\n")
            .flat_map(|part| part.split(['\r', '\n']))
            .collect()
    }

    /// Runs the lines through the runner's stop-commands state machine and returns every
    /// command it would execute.
    fn commands_run(text: &str) -> Vec<String> {
        let mut stopped: Option<String> = None;
        let mut run = Vec::new();
        for line in runner_lines(text) {
            let Some(name) = runner_command(line) else {
                continue;
            };
            match &stopped {
                Some(token) if name.eq_ignore_ascii_case(token) => stopped = None,
                Some(_) => {}
                None if name == "stop-commands" => {
                    let data = line.trim_start().splitn(3, "::").nth(2).unwrap_or_default();
                    stopped = Some(data.to_owned());
                    run.push(name);
                }
                None => run.push(name),
            }
        }
        run
    }

    const HOSTILE: &[&str] = &[
        "::error::x",
        "  ::add-mask::y",
        "a\n::error title=t::boom",
        "a\r::warning::w",
        "##[error]v1",
        "x ##[set-env name=A]b",
        ":",
        "#",
        "[",
        "\u{200b}::error::z",
        "#\u{200b}#[error]q",
        "\u{2028}::error::p",
        "\u{1b}[31mred",
    ];

    #[test]
    fn hostile_values_print_harmlessly() {
        for value in HOSTILE {
            let shown = Untrusted::from(*value).to_string();
            assert!(commands_run(&shown).is_empty(), "{value:?} -> {shown:?}");
            assert!(
                !shown.contains(['\n', '\r', '\u{200b}', '\u{1b}']),
                "{shown:?}"
            );
        }
        assert_eq!(neutralise("::error::x"), "%3A:error:%3Ax");
        assert_eq!(neutralise("##[error]v"), "##%5Berror]v");
        assert_eq!(neutralise("a\nb"), "a\\nb");
        assert_eq!(neutralise("web-app main@1a2b3c"), "web-app main@1a2b3c");
        assert_eq!(neutralise("@scope/a_b|c"), "@scope/a_b|c");
    }

    #[test]
    fn the_model_sees_real_commands() {
        // The model must be able to fail: raw hostile text does run commands.
        for value in HOSTILE
            .iter()
            .filter(|v| !v.contains(['\u{200b}', '\u{1b}']))
        {
            if value.contains("::") || value.contains("##[") {
                assert!(!commands_run(value).is_empty(), "{value:?}");
            }
        }
        assert_eq!(
            commands_run("::stop-commands::tok\n::error::x\n::tok::\n::warning::y"),
            ["stop-commands", "warning"]
        );
    }

    #[test]
    fn debug_is_neutral_too() {
        let u = Untrusted::from("::error::x\n");
        assert_eq!(format!("{u:?}"), "Untrusted(\"%3A:error:%3Ax\\n\")");
        assert_eq!(u.as_raw(), "::error::x\n");
    }

    #[test]
    fn blocks_keep_lines_and_stop_commands() {
        let text = "step 1\n::error::boom\r\nstd::io\n";
        let wrapped = block(text, Some("TOKEN"));
        assert_eq!(
            wrapped,
            "::stop-commands::TOKEN\nstep 1\n::error::boom\nstd::io\n::TOKEN::"
        );
        assert_eq!(commands_run(&wrapped), ["stop-commands"]);
        let plain = block(text, None);
        assert_eq!(plain, "step 1\n%3A:error::boom\nstd::io");
        assert!(commands_run(&plain).is_empty());
    }

    /// Any text, many hostile pieces among arbitrary characters.
    fn hostile_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("::".to_owned()),
            Just(":".to_owned()),
            Just("#".to_owned()),
            Just("##[".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("\r".to_owned()),
            Just("\u{200b}".to_owned()),
            Just("error".to_owned()),
            Just("stop-commands".to_owned()),
            any::<String>(),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn no_untrusted_text_starts_a_command(a in hostile_text(), b in hostile_text(), host in "[:# \\[\\]a-z]{0,6}") {
            // Our own text must not be a command by itself.
            prop_assume!(commands_run(&format!("{host}x{host}x{host}")).is_empty());
            // Nor does it ever hold a whole `##[` opener, even across pieces: only then could an
            // untrusted `name]` after it complete a legacy command (found by this test: host
            // `##[` then text `¡]`; host `#[#` twice then text `]`).
            prop_assume!(!format!("{host}{host}{host}").contains("##["));
            // Alone, side by side, and next to our own text, in any order.
            let (a, b) = (Untrusted::from(a), Untrusted::from(b));
            for line in [
                a.to_string(),
                format!("{a}{b}"),
                format!("{host}{a}{host}{b}{host}"),
                safe_line(&format!("{host}{a}")),
                safe_line(a.as_raw()),
            ] {
                prop_assert!(commands_run(&line).is_empty(), "{:?}", line);
            }
            let token = crate::gha::command::stop_token();
            let wrapped = block(a.as_raw(), Some(&token));
            prop_assert_eq!(commands_run(&wrapped), ["stop-commands"]);
            prop_assert!(commands_run(&block(a.as_raw(), None)).is_empty());
        }

        #[test]
        fn no_invisible_characters_survive(text in any::<String>()) {
            let shown = neutralise(&text);
            prop_assert!(shown.chars().all(|c| !needs_escape(c)));
            let visible = !shown.chars().any(|c| c.is_control() || c == '\u{2028}' || c == '\u{200b}');
            prop_assert!(visible, "{:?}", shown);
            prop_assert_eq!(neutralise(&shown), shown.clone(), "idempotent");
        }

        #[test]
        fn json_reports_still_parse(text in hostile_text()) {
            let value = serde_json::json!({ "name": Untrusted::from(text.clone()), "list": [text.clone()] });
            for json in [serde_json::to_string(&value).unwrap(), serde_json::to_string_pretty(&value).unwrap()] {
                let printed = json_for_log(&json);
                prop_assert!(commands_run(&printed).is_empty(), "{}", printed);
                let back: serde_json::Value = serde_json::from_str(&printed).unwrap();
                prop_assert_eq!(back["name"].as_str(), Some(text.as_str()));
            }
        }
    }
}
