//! Keeping secrets out of every output: `Secret<T>`, URL redaction, and scrubbing known
//! secret values out of text we did not write (a body may echo a header back).

use std::fmt;

use url::Url;

/// A value that never shows itself through `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// The value itself; call sites are the few places that must send it.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Query parameters whose values are treated as secrets in printed URLs.
const SECRET_QUERY_KEYS: &[&str] = &[
    "token",
    "key",
    "secret",
    "password",
    "sig",
    "signature",
    "auth",
];

/// A URL for printing: user info and secret-looking query values become `***`.
pub fn safe_url(url: &Url) -> String {
    let mut shown = url.clone();
    if !shown.username().is_empty() {
        let _ = shown.set_username("***");
    }
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    if shown.query().is_some() {
        let pairs: Vec<(String, String)> = shown
            .query_pairs()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                let hidden = SECRET_QUERY_KEYS.iter().any(|s| lower.contains(s));
                (
                    k.into_owned(),
                    if hidden { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// The same URL without user info: what a link shown to people may carry.
pub fn without_credentials(url: &Url) -> Url {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown
}

/// The parts of any URL that are secrets: the user name and password (as written and
/// percent-decoded) and the values of secret-looking query keys. Mask them before anything
/// runs; a server may echo any one of them alone.
pub fn url_secret_parts(url: &Url) -> Vec<String> {
    let mut parts = Vec::new();
    let mut push = |raw: &str| {
        for part in [raw.to_owned(), decoded(raw)] {
            if !part.trim().is_empty() && !parts.contains(&part) {
                parts.push(part);
            }
        }
    };
    push(url.username());
    push(url.password().unwrap_or_default());
    for (key, value) in url.query_pairs() {
        let key = key.to_ascii_lowercase();
        if SECRET_QUERY_KEYS.iter().any(|s| key.contains(s)) {
            push(&value);
        }
    }
    parts
}

/// The parts of a URL given as a secret (a webhook): the user info and every query value.
pub fn secret_url_parts(url: &Url) -> Vec<String> {
    let mut parts = url_secret_parts(url);
    for (_, value) in url.query_pairs() {
        if !value.trim().is_empty() && !parts.iter().any(|p| *p == *value) {
            parts.push(value.into_owned());
        }
    }
    parts
}

/// Authentication schemes, which are not secret and would blank every log line that
/// mentions them if masked.
const AUTH_SCHEMES: &[&str] = &["basic", "bearer", "digest", "negotiate", "token", "apikey"];

/// Each word of a header value: a server may echo the token after `Bearer ` alone.
pub fn header_value_words(value: &str) -> impl Iterator<Item = &str> {
    value.split_whitespace().filter(|word| {
        // A short word ("1", "my") masked would blank it in every line of the job's log.
        word.len() >= MIN_SECRET_PART
            && !AUTH_SCHEMES
                .iter()
                .any(|scheme| word.eq_ignore_ascii_case(scheme))
    })
}

/// Parts of a secret shorter than this are not masked or scrubbed on their own: they would
/// hide ordinary text everywhere (the whole secret still is masked).
pub const MIN_SECRET_PART: usize = 4;

fn decoded(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Known secret values, removed from any text before it is printed or stored.
#[derive(Debug, Clone, Default)]
pub struct Scrubber {
    secrets: Vec<String>,
}

impl Scrubber {
    /// Remembers a secret; values under four characters would scrub ordinary text and are
    /// left out (they are still masked by the runner).
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() >= MIN_SECRET_PART && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            // Longest first, so a secret containing another is removed whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_formats_its_value() {
        let s = Secret::new("hunter2-sentinel".to_owned());
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.expose(), "hunter2-sentinel");
    }

    #[test]
    fn urls_lose_credentials_and_secret_query_values() {
        let url = Url::parse("https://bob:pw@example.com/h?token=abc&x=1&api_key=zz").unwrap();
        assert_eq!(
            safe_url(&url),
            "https://***:***@example.com/h?token=***&x=1&api_key=***"
        );
        let plain = Url::parse("http://127.0.0.1:8080/health").unwrap();
        assert_eq!(safe_url(&plain), "http://127.0.0.1:8080/health");
    }

    #[test]
    fn every_secret_part_of_a_url_is_named() {
        let url = Url::parse("https://u%40x:S%2FECRET@c.example.com/a?token=T0K&x=plain").unwrap();
        assert_eq!(
            url_secret_parts(&url),
            ["u%40x", "u@x", "S%2FECRET", "S/ECRET", "T0K"]
        );
        assert!(secret_url_parts(&url).contains(&"plain".to_owned()));
        assert_eq!(
            without_credentials(&url).as_str(),
            "https://c.example.com/a?token=T0K&x=plain"
        );
        let plain = Url::parse("https://c.example.com/").unwrap();
        assert!(url_secret_parts(&plain).is_empty());
    }

    #[test]
    fn header_words_are_secrets_but_schemes_are_not() {
        let words: Vec<&str> = header_value_words("Bearer  SENTINEL-1 extra").collect();
        assert_eq!(words, ["SENTINEL-1", "extra"]);
    }

    #[test]
    fn scrubber_removes_every_known_secret() {
        let mut s = Scrubber::default();
        s.add("SENTINEL-123");
        s.add("SENTINEL-123-LONGER");
        s.add("ab");
        assert_eq!(
            s.scrub("a SENTINEL-123-LONGER b SENTINEL-123 ab"),
            "a *** b *** ab"
        );
    }
}
