//! The stand-in serves any version string and behaves as that version of Coolify does. It
//! orders versions with its own port of PHP's `version_compare` (php-src
//! ext/standard/versioning.c), the function Coolify itself uses (UpdateCoolify.php L94),
//! written apart from the client's parser so that the two can disagree.

use std::cmp::Ordering;

/// PHP's canonical form: `-`, `_`, `+` and other punctuation become `.`, and a `.` goes
/// between a digit and a non-digit.
fn canonical(version: &str) -> Vec<String> {
    let mut out = String::new();
    let mut last: Option<char> = None;
    for c in version.chars() {
        let digit = c.is_ascii_digit();
        let boundary = last.is_some_and(|l| l != '.' && (l.is_ascii_digit() != digit));
        if matches!(c, '-' | '_' | '+') || !c.is_ascii_alphanumeric() && c != '.' {
            if !out.ends_with('.') {
                out.push('.');
            }
        } else if c != '.' && boundary {
            if !out.ends_with('.') {
                out.push('.');
            }
            out.push(c);
        } else {
            out.push(c);
        }
        last = Some(c);
    }
    out.split('.')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// PHP's special forms: dev < alpha = a < beta = b < RC = rc < # (a number) < pl = p;
/// anything else sorts before them all. Matched by prefix, in this order.
fn special(form: &str) -> i32 {
    const FORMS: [(&str, i32); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| form.starts_with(name))
        .map_or(-6, |(_, rank)| *rank)
}

fn numeric(part: &str) -> bool {
    part.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

fn parts_cmp(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = match (numeric(x), numeric(y)) {
            (true, true) => {
                let (x, y) = (x.parse::<u64>().unwrap_or(0), y.parse::<u64>().unwrap_or(0));
                x.cmp(&y)
            }
            (false, false) => special(x).cmp(&special(y)),
            (true, false) => special("#N#").cmp(&special(y)),
            (false, true) => special(x).cmp(&special("#N#")),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    let n = a.len().min(b.len());
    match (a.get(n), b.get(n)) {
        (Some(x), _) if numeric(x) => Ordering::Greater,
        (Some(_), _) => parts_cmp(&a[n..], &["#N#".to_owned()]),
        (_, Some(y)) if numeric(y) => Ordering::Less,
        (_, Some(_)) => parts_cmp(&["#N#".to_owned()], &b[n..]),
        (None, None) => Ordering::Equal,
    }
}

/// `version_compare($a, $b)`.
pub fn compare(a: &str, b: &str) -> Ordering {
    parts_cmp(&canonical(a), &canonical(b))
}

/// `version_compare($version, $since, '>=')`.
pub fn at_least(version: &str, since: &str) -> bool {
    compare(version, since) != Ordering::Less
}

/// What the served version changes, each from the Coolify source of that version. The
/// served string is a label (`v4.2.0` is what some builds print); the behaviour is the code's,
/// so a leading `v` is dropped before comparing.
pub struct Gates<'a>(pub &'a str);

impl Gates<'_> {
    fn at_least(&self, since: &str) -> bool {
        let version = self.0.trim();
        at_least(version.strip_prefix(['v', 'V']).unwrap_or(version), since)
    }

    /// `GET /deploy` answers 405 "This endpoint has changed to a POST request." from 4.2.0
    /// (routes/api.php L86 at v4.2.0, OtherController::post_required); before, the route is
    /// `Route::match(['get', 'post'], '/deploy', …)` (L78 at v4.1.2) and a GET deploys.
    pub fn get_deploy_is_405(&self) -> bool {
        self.at_least("4.2.0")
    }

    /// `POST /deployments/{uuid}/cancel` exists from beta.436 (routes/api.php L69 at
    /// v4.0.0-beta.436; absent at beta.435).
    pub fn has_cancel(&self) -> bool {
        self.at_least("4.0.0-beta.436")
    }

    /// beta.464 to 467 answer 404 for every `GET /deployments/{uuid}`: a strict `!==`
    /// between the team id and the string from the token (DeployController.php L131 at
    /// v4.0.0-beta.465; cast to int by beta.468).
    pub fn deployment_get_is_404(&self) -> bool {
        self.at_least("4.0.0-beta.464") && !self.at_least("4.0.0-beta.468")
    }

    /// `$request->boolean('force')` from 4.2.0; before, `$request->input('force') ?? false`
    /// (DeployController.php L369 at v4.1.2), so any non-empty value but "0", `false`
    /// included, forces.
    pub fn force(&self, raw: Option<&str>) -> bool {
        match raw {
            _ if self.at_least("4.2.0") => {
                matches!(raw, Some("true" | "1" | "on" | "yes"))
            }
            None | Some("" | "0") => false,
            Some(_) => true,
        }
    }

    /// `api.token.team` (EnsureTokenBelongsToCurrentTeamMember.php L29-51 at 379abb25,
    /// added in a511bd9b67, first in v4.1.2): a token with root, write, write:sensitive,
    /// deploy or read:sensitive held by a member (not admin or owner) gets 403.
    pub fn checks_team_role(&self) -> bool {
        self.at_least("4.1.2")
    }

    /// A deploy builds `git_commit_sha` when it is pinned: the job resolved every deploy to
    /// the branch head until 7a853efa79 (`shouldResolveBranchHeadCommit`, first in v4.2.0).
    pub fn pins_commit(&self) -> bool {
        self.at_least("4.2.0")
    }

    /// `POST /applications/{uuid}/rollback` (routes/api.php L268 at v4.3.0; absent at v4.2.0).
    pub fn has_rollback_endpoint(&self) -> bool {
        self.at_least("4.3.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_version_compare_order() {
        let ascending = [
            "4.0.0-beta.420",
            "4.0.0-beta.420.6",
            "4.0.0-beta.421",
            "4.0.0",
            "4.2.0",
            "4.3.11-dev.abc",
            "4.3.11",
            "4.4-rc.1",
        ];
        for w in ascending.windows(2) {
            assert_eq!(compare(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
            assert_eq!(
                compare(w[1], w[0]),
                Ordering::Greater,
                "{} > {}",
                w[1],
                w[0]
            );
        }
        // PHP's own quirk, kept: a shorter run of numbers is older.
        assert_eq!(compare("4.4", "4.4.0"), Ordering::Less);
        assert!(Gates("4.0.0-beta.465").deployment_get_is_404());
        assert!(!Gates("4.0.0-beta.468").deployment_get_is_404());
        assert!(!Gates("4.0.0-beta.420.6").has_cancel());
        assert!(Gates("4.4-rc.1").get_deploy_is_405());
        assert!(Gates("4.1.2").force(Some("false")));
        assert!(!Gates("4.2.0").force(Some("false")));
    }
}
