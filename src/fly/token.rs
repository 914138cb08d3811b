//! A Fly token, sent the way flyctl sends it.
//!
//! fly-go tokens/tokens.go:34-49 (`Parse`): any `Bearer `/`FlyV1 ` scheme the user pasted is
//! stripped (`StripAuthorizationScheme`, l. 433-446, case-insensitive, repeatedly), the rest
//! is a comma-separated list whose parts starting `fm1r_`, `fm1a_` or `fm2_` are macaroons;
//! `normalized` (l. 231-252) sends `FlyV1 <macaroons>` when there is a macaroon and
//! `Bearer <tokens>` otherwise.

use crate::redact::Secret;

/// A parsed token; its `Authorization` value never prints.
#[derive(Debug, Clone)]
pub struct Token {
    header: Secret<String>,
}

impl Token {
    /// Parses the secret as given. `Err` says what is wrong without showing it.
    pub fn parse(raw: &Secret<String>) -> Result<Self, String> {
        let stripped = strip_scheme(raw.expose());
        let parts: Vec<&str> = stripped
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let only_scheme = parts.len() == 1
            && (parts[0].eq_ignore_ascii_case("bearer") || parts[0].eq_ignore_ascii_case("flyv1"));
        if parts.is_empty() || only_scheme {
            return Err("the token is empty once its `Bearer `/`FlyV1 ` prefix is removed".into());
        }
        if parts
            .iter()
            .any(|p| p.chars().any(|c| c.is_whitespace() || c.is_control()))
        {
            return Err(
                "the token contains whitespace; paste the whole output of `fly tokens create deploy`"
                    .into(),
            );
        }
        let macaroons: Vec<&str> = parts.iter().copied().filter(|p| is_macaroon(p)).collect();
        // tokens.go:243-251: with a macaroon only the macaroons are sent, with FlyV1.
        let header = if macaroons.is_empty() {
            format!("Bearer {}", parts.join(","))
        } else {
            format!("FlyV1 {}", macaroons.join(","))
        };
        Ok(Self {
            header: Secret::new(header),
        })
    }

    /// The `Authorization` header value.
    pub fn header(&self) -> &Secret<String> {
        &self.header
    }
}

fn is_macaroon(part: &str) -> bool {
    matches!(part.split('_').next(), Some("fm1r" | "fm1a" | "fm2")) && part.contains('_')
}

fn strip_scheme(token: &str) -> &str {
    let token = token.trim();
    match token.split_once(' ') {
        Some((prefix, rest))
            if prefix.eq_ignore_ascii_case("bearer") || prefix.eq_ignore_ascii_case("flyv1") =>
        {
            strip_scheme(rest)
        }
        _ => token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(raw: &str) -> String {
        Token::parse(&Secret::new(raw.to_owned()))
            .unwrap()
            .header()
            .expose()
            .clone()
    }

    #[test]
    fn macaroons_go_as_flyv1_others_as_bearer() {
        assert_eq!(header("fm2_abc"), "FlyV1 fm2_abc");
        assert_eq!(header("FlyV1 fm2_abc,fm2_def"), "FlyV1 fm2_abc,fm2_def");
        assert_eq!(header("bearer FlyV1 fm1r_x"), "FlyV1 fm1r_x");
        assert_eq!(header("Bearer abc123"), "Bearer abc123");
        assert_eq!(header("abc123"), "Bearer abc123");
        // A user token beside a macaroon: only the macaroon goes (tokens.go:247-251).
        assert_eq!(header("fm1a_m, user"), "FlyV1 fm1a_m");
        assert_eq!(header("fm2x"), "Bearer fm2x");
    }

    #[test]
    fn empty_or_spaced_tokens_are_refused_without_showing_them() {
        for raw in ["Bearer ", "FlyV1  ", "FlyV1", ",", "fm2_a b\tc"] {
            let err = Token::parse(&Secret::new(raw.to_owned())).unwrap_err();
            assert!(!err.contains("fm2_a"), "{err}");
        }
    }
}
