//! The path after `[BODY]`: `.status`, `.checks.database.status`, `.items[0].name`, `[1]`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// Parses a path; empty means the whole body.
pub fn parse(path: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('.') {
            let end = after.find(['.', '[']).unwrap_or(after.len());
            let key = &after[..end];
            if key.is_empty() {
                return Err(format!("empty key in JSON path {path:?}"));
            }
            segments.push(Segment::Key(key.to_owned()));
            rest = &after[end..];
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after
                .find(']')
                .ok_or_else(|| format!("unclosed `[` in JSON path {path:?}"))?;
            let index = after[..end].trim().parse::<usize>().map_err(|_| {
                format!(
                    "`[{}]` in JSON path {path:?} is not an array index",
                    &after[..end]
                )
            })?;
            segments.push(Segment::Index(index));
            rest = &after[end + 1..];
        } else {
            return Err(format!(
                "JSON path {path:?} must continue with `.key` or `[index]`"
            ));
        }
    }
    Ok(segments)
}

/// The value at a path, if present.
pub fn lookup<'a>(value: &'a Value, path: &[Segment]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |current, segment| match segment {
            Segment::Key(key) => current.get(key.as_str()),
            Segment::Index(i) => current.get(*i),
        })
}

/// A JSON value as conditions compare it: strings bare, everything else as JSON text.
pub fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_keys_and_indexes() {
        assert_eq!(parse("").unwrap(), vec![]);
        assert_eq!(
            parse(".checks.db[2].up").unwrap(),
            vec![
                Segment::Key("checks".into()),
                Segment::Key("db".into()),
                Segment::Index(2),
                Segment::Key("up".into())
            ]
        );
        assert_eq!(parse("[0]").unwrap(), vec![Segment::Index(0)]);
        for bad in [".", "..a", "[x]", "[1", "a", ".a[]"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn looks_up_nested_values() {
        let v = json!({"checks": {"db": [{"up": true}, {"up": false}]}, "n": 3, "s": "ok"});
        let at = |p: &str| lookup(&v, &parse(p).unwrap()).map(as_text);
        assert_eq!(at(".checks.db[1].up").as_deref(), Some("false"));
        assert_eq!(at(".n").as_deref(), Some("3"));
        assert_eq!(at(".s").as_deref(), Some("ok"));
        assert_eq!(at(".missing"), None);
        assert_eq!(at(".checks.db[9]"), None);
    }
}
