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
        if secret.len() >= 4 && !self.secrets.iter().any(|s| s == secret) {
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
