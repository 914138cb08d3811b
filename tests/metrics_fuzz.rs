//! Property tests of the `/metrics` reader (src/metrics/exposition.rs): hostile text never
//! panics, generated pages (labels in any order, escapes, spacing, quoted names, timestamps)
//! read back as written, and two scrapes that list their series in different orders and
//! spellings are joined series by series.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use shipguard::metrics::evaluate::{eval, prepare, single};
use shipguard::metrics::scrape::Snapshot;

const NAMES: [&str; 3] = ["a", "b_total", "c:d"];
const LABELS: [&str; 4] = ["x", "y", "le", "_z9"];

/// A label value with everything that trips a careless reader.
fn label_value() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("v"),
        Just(","),
        Just("="),
        Just("{"),
        Just("}"),
        Just("\""),
        Just("\\"),
        Just("\n"),
        Just("é"),
        Just("\\é"),
        Just("#"),
        Just(" "),
    ];
    proptest::collection::vec(piece, 0..5).prop_map(|p| p.concat())
}

/// One generated series: name, labels (index into LABELS → value), value, how it is written.
type Generated = (usize, BTreeMap<usize, String>, u32, u8);

fn series() -> impl Strategy<Value = Generated> {
    (
        0..NAMES.len(),
        proptest::collection::btree_map(0..LABELS.len(), label_value(), 0..4),
        0..1000u32,
        any::<u8>(),
    )
}

/// The identity of a series as Prometheus has it: its name and its non-empty labels.
type Identity = (String, BTreeMap<String, String>);

fn identity((name, labels, _, _): &Generated) -> Identity {
    (
        NAMES[*name].to_owned(),
        labels
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (LABELS[*k].to_owned(), v.clone()))
            .collect(),
    )
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One sample line, spelled as `style` says: label order rotated, spaces, the name inside
/// the braces, a `.0` or a timestamp after the value.
fn line((name, labels, _, style): &Generated, value: u64) -> String {
    let mut pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{}=\"{}\"", LABELS[*k], escape(v)))
        .collect();
    let len = pairs.len().max(1);
    pairs.rotate_left(usize::from(*style) % len);
    let space = if style & 0x10 != 0 { " " } else { "" };
    let inside = style & 0x20 != 0;
    if inside {
        pairs.insert(0, format!("\"{}\"", NAMES[*name]));
    }
    let set = pairs.join(&format!(",{space}"));
    let mut out = String::new();
    if style & 0x40 != 0 {
        out.push('\t');
    }
    if !inside {
        out.push_str(NAMES[*name]);
    }
    if inside || !pairs.is_empty() || style & 0x08 != 0 {
        out.push_str(&format!("{space}{{{space}{set}{space}}}"));
    }
    out.push_str(&format!(" {value}"));
    if style & 0x80 != 0 {
        out.push_str(".0 1700000000000");
    }
    out.push('\n');
    out
}

/// Distinct series (by identity), the first of each kept.
fn distinct(all: Vec<Generated>) -> Vec<Generated> {
    let mut seen = BTreeMap::new();
    for s in all {
        seen.entry(identity(&s)).or_insert(s);
    }
    seen.into_values().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_text_never_panics(text in "[a-z_:{}=,\" \\\\#\\t\\n0-9.+eEIiNnfFé-]{0,200}") {
        let _ = Snapshot::parse(text.as_str(), Instant::now());
    }

    #[test]
    fn generated_pages_read_back_as_written(all in proptest::collection::vec(series(), 0..40)) {
        let all = distinct(all);
        let page: String = all.iter().map(|s| line(s, u64::from(s.2))).collect();
        let snapshot = Snapshot::parse(page.as_str(), Instant::now())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{page}")))?;
        prop_assert_eq!(snapshot.len(), all.len());
        let expected: BTreeMap<Identity, f64> =
            all.iter().map(|s| (identity(s), f64::from(s.2))).collect();
        for s in snapshot.all() {
            let labels: Vec<(String, String)> = snapshot
                .labels(s)
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            prop_assert!(labels.windows(2).all(|w| w[0].0 < w[1].0), "{:?}", labels);
            let id = (snapshot.name(s).to_owned(), labels.into_iter().collect());
            prop_assert_eq!(expected.get(&id).copied(), Some(s.value), "{:?}", id);
        }
    }

    #[test]
    fn two_scrapes_in_different_orders_are_joined(
        all in proptest::collection::vec(series(), 1..40),
        growth in proptest::collection::vec(0..50u32, 40),
        restyle in any::<u8>(),
    ) {
        let all = distinct(all);
        let before: String = all.iter().map(|s| line(s, u64::from(s.2))).collect();
        // The second scrape lists the series backwards, spelled differently, each grown.
        let after: String = all
            .iter()
            .zip(&growth)
            .rev()
            .map(|(s, g)| {
                let mut s = s.clone();
                s.3 ^= restyle;
                line(&s, u64::from(s.2) + u64::from(*g))
            })
            .collect();
        let t0 = Instant::now();
        let prev = Snapshot::parse(before.as_str(), t0).unwrap();
        let cur = Snapshot::parse(after.as_str(), t0 + Duration::from_secs(10)).unwrap();
        for name in NAMES {
            let grown: Vec<u32> = all
                .iter()
                .zip(&growth)
                .filter(|(s, _)| NAMES[s.0] == name)
                .map(|(_, g)| *g)
                .collect();
            let expr = prepare(&format!("sum(increase({name}[1m]))")).unwrap();
            let got = eval(&expr, &prev, &cur, 10.0).and_then(single);
            if grown.is_empty() {
                prop_assert!(got.is_err(), "{name}: {got:?}");
            } else {
                let total: f64 = grown.iter().map(|g| f64::from(*g)).sum();
                prop_assert_eq!(got, Ok(total), "{}", name);
            }
        }
    }
}
