//! Gatus-style conditions: `[STATUS] == 200`, `[BODY].status == healthy`,
//! `[RESPONSE_TIME] < 500`, `[HEADER].x-version == abc`, `[CERTIFICATE_EXPIRATION] > 168h`,
//! `[STATUS] == any(200, 204)`, `[BODY] == pat(*ok*)`, `len([BODY].items) > 0`,
//! `has([BODY].version) == true`. Every condition is checked when it is parsed, so a bad one
//! is a usage error before the first request.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::json_path::{self, Segment};
use crate::duration;

/// What a condition looks at.
#[derive(Debug, Clone, PartialEq)]
enum Subject {
    Status,
    ResponseTime,
    CertificateExpiration,
    Header(String),
    Body(Vec<Segment>),
    BodyLen(Vec<Segment>),
    BodyHas(Vec<Segment>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    /// Longest first, so `<=` is not read as `<`.
    const ALL: [(&'static str, Op); 6] = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    fn is_ordering(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }

    fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => ordering == Equal,
            Op::Ne => ordering != Equal,
            Op::Lt => ordering == Less,
            Op::Le => ordering != Greater,
            Op::Gt => ordering == Greater,
            Op::Ge => ordering != Less,
        }
    }
}

/// The right-hand side.
#[derive(Debug, Clone, PartialEq)]
enum Expected {
    /// A literal; `number` is set when it reads as a number (durations become milliseconds).
    Value {
        text: String,
        number: Option<f64>,
    },
    Any(Vec<String>),
    Pattern(String),
}

/// One parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    source: String,
    subject: Subject,
    op: Op,
    expected: Expected,
}

/// What a response looked like, for evaluation.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub response_time: Duration,
    /// Time left on the server's certificate; `None` over plain HTTP.
    pub certificate_expires_in: Option<Duration>,
}

/// The outcome of one condition on one observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub passed: bool,
    /// The value the condition saw, for the report (`503`, `"degraded"`, `missing`).
    pub actual: String,
}

const PLACEHOLDERS: &str = "[STATUS], [BODY], [RESPONSE_TIME], [HEADER].<name>, [CERTIFICATE_EXPIRATION], len([BODY]…), has([BODY]…)";

impl Condition {
    pub fn parse(source: &str) -> Result<Self, String> {
        let source = source.trim();
        let (left, op, right) = split_operator(source)?;
        let subject = parse_subject(left.trim())?;
        let expected = parse_expected(right.trim())?;
        let condition = Condition {
            source: source.to_owned(),
            subject,
            op,
            expected,
        };
        condition.validate()?;
        Ok(condition)
    }

    /// The text as the user wrote it.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True for `[STATUS]` conditions.
    pub fn is_status(&self) -> bool {
        self.subject == Subject::Status
    }

    /// True when it needs the server certificate.
    pub fn needs_certificate(&self) -> bool {
        self.subject == Subject::CertificateExpiration
    }

    fn validate(&self) -> Result<(), String> {
        let numeric_subject = matches!(
            self.subject,
            Subject::Status
                | Subject::ResponseTime
                | Subject::CertificateExpiration
                | Subject::BodyLen(_)
        );
        match (&self.expected, self.op.is_ordering()) {
            (Expected::Any(_) | Expected::Pattern(_), true) => {
                return Err(format!(
                    "{:?}: any(…) and pat(…) work only with == and !=",
                    self.source
                ));
            }
            (Expected::Value { number: None, text }, true) => {
                return Err(format!(
                    "{:?}: {text:?} is not a number to compare with",
                    self.source
                ));
            }
            _ => {}
        }
        let check_number = |text: &str| -> Result<(), String> {
            if numeric_value(&self.subject, text).is_none() {
                Err(format!(
                    "{:?}: {text:?} is not a {}",
                    self.source,
                    match self.subject {
                        Subject::ResponseTime | Subject::CertificateExpiration =>
                            "duration (e.g. 500ms, 2s, 168h)",
                        _ => "number",
                    }
                ))
            } else {
                Ok(())
            }
        };
        if numeric_subject {
            match &self.expected {
                Expected::Value { text, .. } => check_number(text)?,
                Expected::Any(items) => items.iter().try_for_each(|i| check_number(i))?,
                Expected::Pattern(_) => {}
            }
        }
        if matches!(self.subject, Subject::BodyHas(_)) {
            match &self.expected {
                Expected::Value { text, .. } if text == "true" || text == "false" => {}
                _ => {
                    return Err(format!(
                        "{:?}: has(…) compares with true or false",
                        self.source
                    ));
                }
            }
        }
        Ok(())
    }

    /// Checks one observation.
    pub fn evaluate(&self, observation: &Observation) -> Evaluation {
        let actual = match self.actual(observation) {
            Ok(actual) => actual,
            Err(missing) => {
                return Evaluation {
                    // A missing value still satisfies `!=`: the body has no such version.
                    passed: self.op == Op::Ne,
                    actual: missing,
                };
            }
        };
        let passed = match &self.expected {
            Expected::Value { text, number } => {
                let actual_number = numeric_value(&self.subject, &actual);
                match (actual_number, number) {
                    (Some(a), Some(e)) => a.partial_cmp(e).is_some_and(|o| self.op.holds(o)),
                    _ if self.op.is_ordering() => false,
                    _ => (actual == *text) == (self.op == Op::Eq),
                }
            }
            Expected::Any(items) => {
                let hit = items.iter().any(|item| equal(&self.subject, &actual, item));
                hit == (self.op == Op::Eq)
            }
            Expected::Pattern(pattern) => glob_match(pattern, &actual) == (self.op == Op::Eq),
        };
        Evaluation {
            passed,
            actual: self.shown(actual),
        }
    }

    /// How the actual value reads in reports: durations with their unit.
    fn shown(&self, actual: String) -> String {
        match self.subject {
            Subject::ResponseTime => format!("{actual}ms"),
            Subject::CertificateExpiration => actual
                .parse::<f64>()
                .map(|ms| duration::human(Duration::from_millis(ms as u64)))
                .unwrap_or(actual),
            _ => actual,
        }
    }

    /// The observed value as text; `Err` describes what is missing.
    fn actual(&self, o: &Observation) -> Result<String, String> {
        match &self.subject {
            Subject::Status => Ok(o.status.to_string()),
            Subject::ResponseTime => Ok(o.response_time.as_millis().to_string()),
            Subject::CertificateExpiration => o
                .certificate_expires_in
                .map(|d| d.as_millis().to_string())
                .ok_or_else(|| "no TLS certificate (plain HTTP)".to_owned()),
            Subject::Header(name) => o
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .ok_or_else(|| format!("no `{name}` header")),
            Subject::Body(path) if path.is_empty() => Ok(o.body.clone()),
            Subject::Body(path) => body_value(o, path).map(|v| json_path::as_text(&v)),
            Subject::BodyLen(path) => {
                if path.is_empty() && serde_json::from_str::<Value>(&o.body).is_err() {
                    return Ok(o.body.chars().count().to_string());
                }
                body_value(o, path).map(|v| match v {
                    Value::Array(a) => a.len().to_string(),
                    Value::Object(m) => m.len().to_string(),
                    Value::String(s) => s.chars().count().to_string(),
                    other => other.to_string().len().to_string(),
                })
            }
            Subject::BodyHas(path) => Ok(body_value(o, path).is_ok().to_string()),
        }
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn body_value(o: &Observation, path: &[Segment]) -> Result<Value, String> {
    let json: Value = serde_json::from_str(&o.body).map_err(|_| "body is not JSON".to_owned())?;
    json_path::lookup(&json, path)
        .cloned()
        .ok_or_else(|| "path not found in body".to_owned())
}

/// A literal as a number for numeric subjects: durations become milliseconds.
fn numeric_value(subject: &Subject, text: &str) -> Option<f64> {
    // A bare number is milliseconds for durations, as in Gatus.
    if let Ok(n) = text.trim().parse::<f64>() {
        return Some(n);
    }
    match subject {
        Subject::ResponseTime | Subject::CertificateExpiration => {
            duration::parse(text).ok().map(|d| d.as_secs_f64() * 1000.0)
        }
        _ => None,
    }
}

fn equal(subject: &Subject, actual: &str, expected: &str) -> bool {
    match (
        numeric_value(subject, actual),
        numeric_value(subject, expected),
    ) {
        (Some(a), Some(e)) => a == e,
        _ => actual == expected,
    }
}

/// `*` matches any run of characters (Gatus `pat`).
fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

fn split_operator(source: &str) -> Result<(&str, Op, &str), String> {
    // The subject never contains an operator character, so the first one ends it.
    let start = source
        .find(['=', '!', '<', '>'])
        .ok_or_else(|| format!("{source:?} has no operator; use ==, !=, <, <=, > or >="))?;
    let rest = &source[start..];
    let (token, op) = Op::ALL
        .iter()
        .find(|(token, _)| rest.starts_with(token))
        .ok_or_else(|| format!("{source:?}: unknown operator; use ==, !=, <, <=, > or >="))?;
    let right = &rest[token.len()..];
    if right.trim().is_empty() {
        return Err(format!(
            "{source:?} has nothing to compare with after {token}"
        ));
    }
    Ok((&source[..start], *op, right))
}

fn parse_subject(left: &str) -> Result<Subject, String> {
    if let Some(inner) = function_argument(left, "len") {
        return body_path(inner).map(Subject::BodyLen);
    }
    if let Some(inner) = function_argument(left, "has") {
        return body_path(inner).map(Subject::BodyHas);
    }
    match left {
        "[STATUS]" => return Ok(Subject::Status),
        "[RESPONSE_TIME]" => return Ok(Subject::ResponseTime),
        "[CERTIFICATE_EXPIRATION]" => return Ok(Subject::CertificateExpiration),
        _ => {}
    }
    if let Some(name) = left.strip_prefix("[HEADER].") {
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        return if valid {
            Ok(Subject::Header(name.to_ascii_lowercase()))
        } else {
            Err(format!("{left:?}: {name:?} is not a header name"))
        };
    }
    if left.starts_with("[BODY]") {
        return body_path(left).map(Subject::Body);
    }
    Err(format!("{left:?} is not a placeholder; use {PLACEHOLDERS}"))
}

fn body_path(text: &str) -> Result<Vec<Segment>, String> {
    let path = text
        .trim()
        .strip_prefix("[BODY]")
        .ok_or_else(|| format!("{text:?}: len(…) and has(…) take a [BODY] path"))?;
    json_path::parse(path)
}

/// `name(inner)` → `inner`.
fn function_argument<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')
}

fn parse_expected(right: &str) -> Result<Expected, String> {
    if let Some(inner) = function_argument(right, "any") {
        let items: Vec<String> = inner
            .split(',')
            .map(|i| unquote(i.trim()).to_owned())
            .collect();
        if items.iter().any(String::is_empty) {
            return Err(format!(
                "{right:?}: any(…) needs a comma-separated list of values"
            ));
        }
        return Ok(Expected::Any(items));
    }
    if let Some(inner) = function_argument(right, "pat") {
        return Ok(Expected::Pattern(unquote(inner.trim()).to_owned()));
    }
    if right.starts_with("any(") || right.starts_with("pat(") {
        return Err(format!("{right:?}: unclosed `(`"));
    }
    let text = unquote(right).to_owned();
    let number = text.parse::<f64>().ok().or_else(|| {
        duration::parse(&text)
            .ok()
            .filter(|_| text.ends_with(|c: char| c.is_ascii_alphabetic()))
            .map(|d| d.as_secs_f64() * 1000.0)
    });
    Ok(Expected::Value { text, number })
}

fn unquote(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            return inner;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(status: u16, body: &str) -> Observation {
        Observation {
            status,
            headers: vec![("x-version".into(), "abc123".into())],
            body: body.into(),
            response_time: Duration::from_millis(120),
            certificate_expires_in: Some(Duration::from_secs(10 * 86_400)),
        }
    }

    fn check(condition: &str, o: &Observation) -> (bool, String) {
        let e = Condition::parse(condition).unwrap().evaluate(o);
        (e.passed, e.actual)
    }

    #[test]
    fn status_conditions() {
        let ok = obs(200, "");
        let down = obs(503, "");
        assert_eq!(check("[STATUS] == 200", &ok), (true, "200".into()));
        assert_eq!(check("[STATUS] == 200", &down), (false, "503".into()));
        assert!(check("[STATUS] != 503", &ok).0);
        assert!(check("[STATUS] < 400", &ok).0);
        assert!(!check("[STATUS] < 400", &down).0);
        assert!(check("[STATUS]<=200", &ok).0);
        assert!(check("[STATUS] >= 500", &down).0);
        assert!(check("[STATUS] > 199", &ok).0);
        assert!(check("[STATUS] == any(200, 204)", &ok).0);
        assert!(!check("[STATUS] == any(200, 204)", &down).0);
        assert!(check("[STATUS] != any(500, 502)", &ok).0);
        assert!(check("[STATUS] == pat(2*)", &ok).0);
    }

    #[test]
    fn body_conditions() {
        let o = obs(
            200,
            r#"{"status":"healthy","checks":{"database":{"status":"up"}},"items":[{"v":"1.2"}],"n":3}"#,
        );
        assert!(check("[BODY].status == healthy", &o).0);
        assert!(check("[BODY].status == \"healthy\"", &o).0);
        assert!(check("[BODY].checks.database.status == up", &o).0);
        assert!(check("[BODY].items[0].v == 1.2", &o).0);
        assert!(check("[BODY].n > 2", &o).0);
        assert!(check("[BODY] == pat(*healthy*)", &o).0);
        assert!(check("len([BODY].items) == 1", &o).0);
        assert!(check("has([BODY].n) == true", &o).0);
        assert!(check("has([BODY].nope) == false", &o).0);
        assert_eq!(
            check("[BODY].missing == x", &o),
            (false, "path not found in body".into())
        );
        assert_eq!(
            check("[BODY].status == x", &obs(200, "<html>")),
            (false, "body is not JSON".into())
        );
        let degraded = obs(200, r#"{"status":"degraded"}"#);
        assert_eq!(
            check("[BODY].status == healthy", &degraded),
            (false, "degraded".into())
        );
        assert!(check("[BODY] == pat(*ok*)", &obs(200, "all ok here")).0);
        assert!(!check("[BODY] == pat(*ok*)", &obs(200, "fine")).0);
        assert!(check("len([BODY]) == 4", &obs(200, "fine")).0);
    }

    #[test]
    fn time_header_and_certificate_conditions() {
        let o = obs(200, "");
        assert_eq!(check("[RESPONSE_TIME] < 500", &o), (true, "120ms".into()));
        assert!(!check("[RESPONSE_TIME] < 100ms", &o).0);
        assert!(check("[RESPONSE_TIME] < 1s", &o).0);
        assert!(check("[HEADER].X-Version == abc123", &o).0);
        assert_eq!(
            check("[HEADER].x-other == a", &o),
            (false, "no `x-other` header".into())
        );
        assert!(check("[CERTIFICATE_EXPIRATION] > 168h", &o).0);
        assert!(!check("[CERTIFICATE_EXPIRATION] > 30d", &o).0);
        let mut plain = o.clone();
        plain.certificate_expires_in = None;
        assert!(!check("[CERTIFICATE_EXPIRATION] > 1h", &plain).0);
    }

    #[test]
    fn malformed_conditions_are_rejected_with_a_reason() {
        for (bad, why) in [
            ("[STATUS]", "no operator"),
            ("[STATUS] = 200", "unknown operator"),
            ("[STATUS] ==", "nothing to compare"),
            ("[STATUS] == abc", "not a number"),
            ("[STATUS] < any(200)", "only with == and !="),
            ("[RESPONSE_TIME] < fast", "not a number"),
            ("[CERTIFICATE_EXPIRATION] > soon", "not a number"),
            ("[STATUSCODE] == 200", "not a placeholder"),
            ("[HEADER]. == x", "not a header name"),
            ("[BODY].a..b == 1", "empty key"),
            ("[BODY][x] == 1", "array index"),
            ("[BODY].x == any(1,,2)", "comma-separated"),
            ("[BODY] == pat(*ok*", "unclosed"),
            ("has([BODY].x) == maybe", "true or false"),
            ("len(x) > 1", "[BODY] path"),
            ("[BODY].status < healthy", "not a number"),
        ] {
            let err = Condition::parse(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
