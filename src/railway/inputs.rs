//! The Railway token as a tool reads it from its inputs: `token-kind`, then `railway-token`
//! (or `--railway-token-file`, or the kind's environment variable), masked at once.

use crate::env::invalid;
use crate::tool::Context;

use super::{Token, TokenKind};

/// `needs` ends the missing-token error in Actions: what to create and how to pass it.
pub fn token(
    ctx: &mut Context,
    kind_flag: Option<String>,
    file: Option<&str>,
    needs: &str,
) -> anyhow::Result<Token> {
    let kind = ctx
        .env
        .setting("token-kind", kind_flag)
        .choice(TokenKind::CHOICES)?
        .and_then(TokenKind::from_word)
        .unwrap_or(TokenKind::Project);
    let var = kind.fallback_var();
    let Some(secret) = ctx.env.secret_from("railway-token", Some(var), file)? else {
        return Err(crate::cli::missing_secret(
            &ctx.env,
            &format!(
                "missing input `railway-token`: {needs}, e.g. `railway-token: ${{{{ secrets.{var} }}}}` with the matching `token-kind`"
            ),
            &format!(
                "missing Railway token (token-kind {}): {}",
                kind.as_str(),
                crate::cli::secret_hint(var, "railway-token")
            ),
        ));
    };
    ctx.actions.mask(secret.expose());
    Token::new(kind, &secret).map_err(|why| invalid("railway-token", &why))
}
