//! One metric check: `NAME: QUERY OP NUMBER`, e.g.
//! `error-rate: sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m])) < 0.01`.
//! The comparison is the last `<`, `<=`, `>`, `>=`, `==` or `!=` followed by a number at the
//! end of the line; the query before it must parse as PromQL.

use std::fmt;

use serde::Serialize;

/// A comparison between a measured value and the threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    /// Two-character operators first, so `<=` is never read as `<` followed by `= 1`.
    const ALL: [(&'static str, Op); 6] = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
            Op::Eq => value == threshold,
            Op::Ne => value != threshold,
        }
    }
}

/// A parsed check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    pub query: String,
    pub op: Op,
    pub threshold: f64,
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.condition())
    }
}

impl Check {
    /// `< 0.01`: the pass condition.
    pub fn condition(&self) -> String {
        format!("{} {}", self.op.symbol(), self.threshold)
    }

    /// Parses one line. The error names what to fix and never echoes more than the name.
    pub fn parse(line: &str) -> Result<Self, String> {
        let line = line.trim();
        let (name, rest) = line
            .split_once(':')
            .ok_or_else(|| format!("`{}` is not `NAME: QUERY OP NUMBER`", preview(line)))?;
        let name = name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!(
                "`{}`: a check's name is 1-64 letters, digits, `-` or `_` before the first `:`",
                preview(name)
            ));
        }
        let (query, op, threshold) = split_comparison(rest).ok_or_else(|| {
            format!(
                "check `{name}` does not end with a comparison and a number, e.g. `< 0.01` (one of <, <=, >, >=, ==, !=)"
            )
        })?;
        if query.is_empty() {
            return Err(format!("check `{name}` has no query before its comparison"));
        }
        promql_parser::parser::parse(query)
            .map_err(|why| format!("check `{name}`: the query is not valid PromQL: {why}"))?;
        Ok(Self {
            name: name.to_owned(),
            query: query.to_owned(),
            op,
            threshold,
        })
    }
}

/// Every line a check; names unique.
pub fn parse_checks(lines: &[String]) -> Result<Vec<Check>, String> {
    let mut checks: Vec<Check> = Vec::new();
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        let check = Check::parse(line)?;
        if checks.iter().any(|c| c.name == check.name) {
            return Err(format!(
                "two checks are named `{}`; give each a unique name",
                check.name
            ));
        }
        checks.push(check);
    }
    Ok(checks)
}

/// The last operator whose remainder is a finite number: `(query, op, number)`.
fn split_comparison(text: &str) -> Option<(&str, Op, f64)> {
    let bytes = text.as_bytes();
    let mut index = bytes.len();
    while index > 0 {
        index -= 1;
        for (symbol, op) in Op::ALL {
            if text.is_char_boundary(index)
                && text[index..].starts_with(symbol)
                && let Ok(number) = text[index + symbol.len()..].trim().parse::<f64>()
                && number.is_finite()
                // `a <= 1` also reads as `a <` followed by `= 1` and `a < =1`: the
                // two-character operator is tried first at each position.
                && !(symbol.len() == 1 && index > 0 && is_op_prefix(bytes[index - 1]))
            {
                return Some((text[..index].trim(), op, number));
            }
        }
    }
    None
}

fn is_op_prefix(byte: u8) -> bool {
    matches!(byte, b'<' | b'>' | b'=' | b'!')
}

/// At most 40 characters of a line, for error messages.
fn preview(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_examples() {
        let c = Check::parse(r#"error-rate: sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m])) < 0.01"#).unwrap();
        assert_eq!(c.name, "error-rate");
        assert_eq!(
            c.query,
            r#"sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))"#
        );
        assert_eq!((c.op, c.threshold), (Op::Lt, 0.01));
        let c = Check::parse("p95: histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[2m]))) <= 1").unwrap();
        assert_eq!((c.name.as_str(), c.op, c.threshold), ("p95", Op::Le, 1.0));
        // The last comparison wins: one inside the query stays in the query.
        let c = Check::parse("up: sum(up > 0) >= 2").unwrap();
        assert_eq!(
            (c.query.as_str(), c.op, c.threshold),
            ("sum(up > 0)", Op::Ge, 2.0)
        );
        let c = Check::parse("x: rate(a[1m]) != -1.5e3").unwrap();
        assert_eq!((c.op, c.threshold), (Op::Ne, -1500.0));
        let c = Check::parse("x: rate(a[1m])==0").unwrap();
        assert_eq!(
            (c.query.as_str(), c.op, c.threshold),
            ("rate(a[1m])", Op::Eq, 0.0)
        );
    }

    #[test]
    fn bad_lines_say_what_to_fix() {
        for (line, expected) in [
            ("sum(rate(a[1m])) < 1", "is not `NAME: QUERY OP NUMBER`"),
            ("bad name: up < 1", "a check's name"),
            ("x: up", "does not end with a comparison"),
            ("x: up < NaN", "does not end with a comparison"),
            ("x: up < inf", "does not end with a comparison"),
            ("x: < 1", "has no query"),
            ("x: sum(rate(a[1m]) < 1", "not valid PromQL"),
        ] {
            let err = Check::parse(line).unwrap_err();
            assert!(err.contains(expected), "{line}: {err}");
        }
        let dup = parse_checks(&["a: up < 1".into(), "a: up > 0".into()]).unwrap_err();
        assert!(dup.contains("two checks are named `a`"), "{dup}");
    }

    #[test]
    fn operators_compare() {
        assert!(Op::Lt.holds(0.5, 1.0) && !Op::Lt.holds(1.0, 1.0));
        assert!(Op::Le.holds(1.0, 1.0) && Op::Ge.holds(1.0, 1.0));
        assert!(Op::Gt.holds(2.0, 1.0) && Op::Ne.holds(2.0, 1.0) && Op::Eq.holds(1.0, 1.0));
    }
}
