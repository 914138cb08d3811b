//! How every tool's run ends: its outputs (the `report` output included), the step summary,
//! its annotations, the verdict line (or, with `--format json`, the JSON report) and the exit
//! code, written by one function, [`end`], from anything that implements [`Ending`].
//!
//! The report is scrubbed as a JSON value, string by string, before it is cut to the output
//! budget ([`crate::bounded`]) or serialized: a secret the JSON encoding escapes (a `"` or a
//! `\` in it) or that the budget's cut shortens would slip past a scrub of the finished text.

use serde_json::Value;

use crate::exit::Code;
use crate::gha::{Actions, Annotation, Format, Level, Summary};

/// What a tool's evidence offers the ending. A tool's report (or a view of it with whatever
/// else its summary needs) implements it; `main.rs` then ends with `ending::end`.
pub trait Ending {
    /// Whether [`Ending::report`] is also the step's `report` output (slack-notify's JSON
    /// document is only printed).
    const REPORT_OUTPUT: bool = true;

    /// The JSON report: the `report` output (cut to its budget) and, whole, what
    /// `--format json` prints.
    fn report(&self) -> anyhow::Result<Value>;

    /// The step's other outputs (not `report`).
    fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>>;

    /// The step summary (Markdown).
    fn summary(&self) -> Summary;

    /// The one line that ends the log.
    fn verdict_line(&self) -> String;

    /// Print the JSON report on stdout whatever the format (slack-notify's dry run shows
    /// the payload it would send).
    fn always_print_report(&self) -> bool {
        false
    }

    /// The failure's code (the title of its `::error` annotation) when the run failed;
    /// `None` when it succeeded. The default annotations and exit code follow from it.
    fn failure(&self) -> Option<&'static str> {
        None
    }

    /// Annotations written at the end: by default the failure's `::error` with the verdict
    /// line.
    fn annotations(&self) -> Vec<Annotation> {
        failure_annotation(self).into_iter().collect()
    }

    /// The exit code this evidence stands for: by default 1 after a failure, else 0.
    fn code(&self) -> Code {
        if self.failure().is_some() {
            Code::Negative
        } else {
            Code::Success
        }
    }
}

/// The failure's `::error` annotation, for an [`Ending`] that adds annotations of its own.
pub fn failure_annotation(ending: &(impl Ending + ?Sized)) -> Option<Annotation> {
    let code = ending.failure()?;
    Some(Annotation::new(Level::Error, code, ending.verdict_line()))
}

/// Ends a run: [`record`], then [`announce`]; returns the exit code.
pub fn end(actions: &Actions, ending: &impl Ending) -> anyhow::Result<Code> {
    let report = record(actions, ending)?;
    announce(actions, ending, &report)?;
    Ok(ending.code())
}

/// Writes the outputs and the step summary, and returns the scrubbed report. A run that
/// ends in an error after its evidence is known (auto-rollback) records it, then returns
/// the error for `tool::main` to print.
pub fn record<E: Ending>(actions: &Actions, ending: &E) -> anyhow::Result<Value> {
    let mut report = ending.report()?;
    scrub(actions, &mut report);
    let mut outputs = ending.outputs()?;
    if E::REPORT_OUTPUT {
        let json = crate::bounded::to_json(&report, crate::bounded::REPORT_BUDGET)?;
        outputs.push(("report", json));
    }
    actions.set_outputs(&outputs)?;
    actions.write_summary(&ending.summary())?;
    Ok(report)
}

/// Writes the annotations and the verdict line, or the whole JSON report with
/// `--format json` (stdout has no size limit).
pub fn announce(actions: &Actions, ending: &impl Ending, report: &Value) -> anyhow::Result<()> {
    for annotation in ending.annotations() {
        actions.annotate(annotation);
    }
    match actions.format() {
        _ if ending.always_print_report() => actions.print_json(&serde_json::to_string(report)?),
        Format::Json => actions.print_json(&serde_json::to_string(report)?),
        Format::Human | Format::Github => actions.print(&ending.verdict_line()),
    }
}

/// Every string in the value (object keys too) with every known secret replaced.
fn scrub(actions: &Actions, value: &mut Value) {
    match value {
        Value::String(text) => *text = actions.scrub(text),
        Value::Array(items) => items.iter_mut().for_each(|item| scrub(actions, item)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                scrub(actions, &mut item);
                map.insert(actions.scrub(&key), item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use serde_json::json;

    /// A secret with a quote in it (JSON escapes it) and another that sits where the output
    /// budget cuts a long string.
    const QUOTED: &str = "SENTINEL\"quoted-secret";
    const LONG: &str = "SENTINEL-long-secret-0123456789";

    struct Fake {
        report: Value,
    }

    impl Ending for Fake {
        fn report(&self) -> anyhow::Result<Value> {
            Ok(self.report.clone())
        }
        fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
            Ok(vec![("verdict", format!("bad {QUOTED}"))])
        }
        fn summary(&self) -> Summary {
            let mut summary = Summary::new();
            summary.paragraph(&format!("summary {LONG}"));
            summary
        }
        fn verdict_line(&self) -> String {
            format!("verdict {QUOTED}")
        }
        fn code(&self) -> Code {
            Code::Negative
        }
    }

    fn run(report: Value) -> (String, String, Code) {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let sum = dir.path().join("sum");
        let env = Env::from_pairs([
            ("GITHUB_OUTPUT", out.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", sum.to_str().unwrap()),
        ]);
        let mut actions = Actions::new(&env, Format::Human);
        actions.mask(QUOTED);
        actions.mask(LONG);
        let code = end(&actions, &Fake { report }).unwrap();
        (
            std::fs::read_to_string(out).unwrap(),
            std::fs::read_to_string(sum).unwrap(),
            code,
        )
    }

    #[test]
    fn a_secret_the_json_escapes_is_scrubbed_from_the_report_output() {
        let (out, sum, code) = run(json!({"tool": "t", "error": format!("echoed {QUOTED}")}));
        assert_eq!(code, Code::Negative);
        assert!(!out.contains("quoted-secret"), "{out}");
        assert!(out.contains("echoed ***"), "{out}");
        assert!(out.contains("bad ***"), "{out}");
        assert!(
            sum.contains("summary ***") && !sum.contains("SENTINEL"),
            "{sum}"
        );
    }

    #[test]
    fn a_secret_the_budget_would_cut_is_scrubbed_before_the_cut() {
        // Over the budget: every string is cut to its first 4000 characters, right inside
        // the secret, which then no longer matches a scrub of the cut text.
        let padded = format!("{}{LONG}{}", "x".repeat(3990), "y".repeat(70_000));
        let report = json!({"tool": "t", "samples": [padded]});
        let (out, _, _) = run(report);
        let parsed = sandbox::harness::parse_outputs(&out);
        let back: Value = serde_json::from_str(&parsed["report"]).unwrap();
        assert!(
            back[crate::bounded::NOTE_KEY].is_object(),
            "not cut: {back}"
        );
        assert!(!out.contains("SENTINEL"), "a cut secret survived");
    }

    #[test]
    fn keys_are_scrubbed_too() {
        let mut value = json!({ LONG: [LONG, 1, {"k": LONG}] });
        let env = Env::from_pairs([("X", "1")]);
        let mut actions = Actions::new(&env, Format::Human);
        actions.mask(LONG);
        scrub(&actions, &mut value);
        assert_eq!(value, json!({"***": ["***", 1, {"k": "***"}]}));
    }
}
