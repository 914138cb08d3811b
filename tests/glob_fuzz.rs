//! Property tests of the one glob compiler (workspaces and families): any string either
//! compiles or gives a one-line reason, and never panics or overflows the stack (which
//! would abort this test process, failing it).

use proptest::prelude::*;
use shipguard::npm::families;
use shipguard::npm::glob::{self, MAX_LEN};

/// Strings rich in what globs treat specially, any characters in between.
fn globbish(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => prop::sample::select(vec![
                "{", "}", ",", "[", "]", "!", "^", "-", "*", "**", "?", "\\", "/", "a", "@s/",
                "[!a-z]", "{a,b}", "\u{10FFFF}", "[\u{80}-\u{10FFFF}]",
            ])
            .prop_map(str::to_owned),
            1 => any::<char>().prop_map(String::from),
        ],
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

/// Nested brace groups within the limits, each alternative a glob of its own: the hardest
/// patterns that get past the size check to globset.
fn deep(depth: u32) -> BoxedStrategy<String> {
    let leaf = globbish(6).boxed();
    leaf.prop_recursive(depth, 256, 8, |inner| {
        prop::collection::vec(inner, 1..8).prop_map(|alts| format!("{{{}}}", alts.join(",")))
    })
    .boxed()
}

fn judged(pattern: &str) -> Result<(), TestCaseError> {
    for separator in [true, false] {
        match glob::compile(pattern, separator) {
            Ok(matcher) => {
                prop_assert!(pattern.len() <= MAX_LEN);
                let _ = matcher.is_match("packages/a/b");
                let _ = matcher.is_match(pattern);
            }
            Err(why) => {
                prop_assert!(!why.is_empty() && !why.contains('\n'), "{why:?}");
                prop_assert!(
                    why.len() < 200,
                    "the reason does not echo the pattern: {why}"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_compile_or_are_refused(pattern in globbish(400)) {
        judged(&pattern)?;
    }

    #[test]
    fn nested_alternatives_compile_or_are_refused(pattern in deep(10)) {
        judged(&pattern)?;
    }

    #[test]
    fn family_lists_compile_or_name_the_bad_pattern(
        patterns in prop::collection::vec(globbish(60), 0..4)
    ) {
        if let Err(why) = families::parse(&patterns) {
            prop_assert!(!why.contains('\n'), "{why:?}");
        }
    }
}

#[test]
fn bombs_far_past_the_limits_are_refused_quickly() {
    for pattern in [
        format!("{}a{}", "{".repeat(1_000_000), "}".repeat(1_000_000)),
        "{".repeat(1_000_000),
        format!("{{{}}}", ",".repeat(1_000_000)),
        "[".repeat(1_000_000),
        "*".repeat(MAX_LEN),
        format!("{{{}}}", vec!["[\u{80}-\u{10FFFF}]"; 60].join(",")),
    ] {
        judged(&pattern).unwrap();
    }
}
