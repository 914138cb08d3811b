//! Every tool's `report` output kept under a budget, as valid JSON. An output becomes an
//! environment variable of the next step, and Linux limits one of those to 128 KiB
//! (MAX_ARG_STRLEN): a 13 MB report of a huge body could not be passed on at all. A report
//! over the budget is cut the same way for every tool, and says what was left out.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// The `report` output of every tool stays under this many bytes.
pub const REPORT_BUDGET: usize = 64 * 1024;

/// The key of the note a cut report carries.
pub const NOTE_KEY: &str = "report_truncated";

/// Cuts, mildest first: (longest string in characters, most items per array).
const STEPS: [(usize, usize); 6] = [
    (4000, 200),
    (1000, 100),
    (300, 50),
    (120, 20),
    (60, 5),
    (30, 1),
];

/// `value` as JSON of at most `budget` bytes: whole when it fits; else with long strings
/// shortened (marked `…`) and long arrays cut to their latest items, plus a top-level
/// `report_truncated` note saying how; as a last resort only the short top-level fields.
pub fn to_json(value: &impl Serialize, budget: usize) -> serde_json::Result<String> {
    let whole = serde_json::to_string(value)?;
    if whole.len() <= budget {
        return Ok(whole);
    }
    let full = serde_json::to_value(value)?;
    for (max_chars, max_items) in STEPS {
        let mut cuts = Cuts::default();
        let mut cut = full.clone();
        shrink(&mut cut, max_chars, max_items, "$", &mut cuts);
        let note = json!({
            "budget_bytes": budget,
            "full_bytes": whole.len(),
            "strings_shortened": cuts.strings,
            "longest_string_chars": max_chars,
            "arrays_cut": cuts.arrays,
            "note": "the full report was larger than the output budget: long strings end in … and long arrays keep only their latest items; the log and the step summary have the rest",
        });
        if let Some(text) = with_note(cut, note, budget)? {
            return Ok(text);
        }
    }
    // Nothing fits: the short top-level fields (tool, status, verdict) and the note.
    let mut kept = Map::new();
    if let Value::Object(map) = &full {
        for (key, value) in map {
            if !matches!(value, Value::Object(_) | Value::Array(_))
                && serde_json::to_string(value)?.len() <= 200
            {
                kept.insert(key.clone(), value.clone());
            }
        }
    }
    let note = json!({
        "budget_bytes": budget,
        "full_bytes": whole.len(),
        "note": "the full report was far larger than the output budget: only its short top-level fields are kept; the log and the step summary have the rest",
    });
    if let Some(text) = with_note(Value::Object(kept), note.clone(), budget)? {
        return Ok(text);
    }
    serde_json::to_string(&json!({ NOTE_KEY: note }))
}

/// The value with the note added (objects only), if it fits.
fn with_note(mut value: Value, note: Value, budget: usize) -> serde_json::Result<Option<String>> {
    if let Value::Object(map) = &mut value {
        map.insert(NOTE_KEY.to_owned(), note);
    }
    let text = serde_json::to_string(&value)?;
    Ok((text.len() <= budget).then_some(text))
}

#[derive(Default)]
struct Cuts {
    strings: usize,
    /// `path: kept N of M`, for the first few arrays cut.
    arrays: Vec<String>,
}

fn shrink(value: &mut Value, max_chars: usize, max_items: usize, path: &str, cuts: &mut Cuts) {
    match value {
        Value::String(text) if text.chars().nth(max_chars).is_some() => {
            let mut short: String = text.chars().take(max_chars).collect();
            short.push('…');
            *text = short;
            cuts.strings += 1;
        }
        Value::Array(items) => {
            if items.len() > max_items {
                if cuts.arrays.len() < 20 {
                    cuts.arrays.push(format!(
                        "{path}: kept the last {max_items} of {}",
                        items.len()
                    ));
                }
                items.drain(..items.len() - max_items);
            }
            for (i, item) in items.iter_mut().enumerate() {
                shrink(item, max_chars, max_items, &format!("{path}[{i}]"), cuts);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                shrink(item, max_chars, max_items, &format!("{path}.{key}"), cuts);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_report_is_kept_whole_and_in_order() {
        #[derive(Serialize)]
        struct Report {
            tool: &'static str,
            items: Vec<u32>,
        }
        let report = Report {
            tool: "t",
            items: vec![1, 2, 3],
        };
        assert_eq!(
            to_json(&report, REPORT_BUDGET).unwrap(),
            r#"{"tool":"t","items":[1,2,3]}"#
        );
    }

    #[test]
    fn a_huge_report_fits_the_budget_and_says_what_was_cut() {
        let samples: Vec<Value> = (0..500)
            .map(|i| json!({"at": i, "error": "x".repeat(10_000)}))
            .collect();
        let report = json!({"tool": "health-wait", "healthy": false, "samples": samples});
        let text = to_json(&report, REPORT_BUDGET).unwrap();
        assert!(text.len() <= REPORT_BUDGET, "{}", text.len());
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["tool"], json!("health-wait"));
        assert_eq!(back["healthy"], json!(false));
        let kept = back["samples"].as_array().unwrap();
        assert!(!kept.is_empty() && kept.len() < 500);
        // The latest samples are the ones kept.
        assert_eq!(kept.last().unwrap()["at"], json!(499));
        let note = &back[NOTE_KEY];
        assert!(note["strings_shortened"].as_u64().unwrap() > 0, "{note}");
        assert!(
            note["arrays_cut"][0]
                .as_str()
                .unwrap()
                .starts_with("$.samples: kept the last"),
            "{note}"
        );
    }

    #[test]
    fn even_a_report_of_countless_keys_fits() {
        let mut map = Map::new();
        for i in 0..20_000 {
            map.insert(format!("key-{i}"), json!({"v": i}));
        }
        map.insert("tool".into(), json!("x"));
        let text = to_json(&Value::Object(map), 4096).unwrap();
        assert!(text.len() <= 4096);
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["tool"], json!("x"));
        assert!(back[NOTE_KEY].is_object());
    }
}
