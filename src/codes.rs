//! Every annotation title and report code, as enums per domain: each variant's text is its
//! name in kebab-case (serde's `rename_all = "kebab-case"`, checked by a test), and the full
//! list is committed in `src/codes.txt`, so renaming a code is a visible decision (a workflow
//! may match on it). `rollback-<reason>` titles come from [`crate::report::auto_rollback::Reason`].

/// An enum of codes: `as_str` gives the text, `ALL` every variant, and the text is the
/// variant's name in kebab-case (the test `every_code_is_its_name_in_kebab_case`).
macro_rules! codes {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<$name> for String {
            fn from(code: $name) -> String {
                code.as_str().to_owned()
            }
        }
    };
}
pub(crate) use codes;

codes! {
    /// lockfile-check's findings (`Finding::code`, the annotation title of each).
    pub enum Finding {
        LockfileMissing => "lockfile-missing",
        LockfileInvalid => "lockfile-invalid",
        LockfileDrift => "lockfile-drift",
        FamilySplit => "family-split",
        LockfileHost => "lockfile-host",
        LockfileHttps => "lockfile-https",
        LockfileIntegrity => "lockfile-integrity",
    }
}

codes! {
    /// health-wait's verdict when it is not healthy.
    pub enum Health {
        HealthTimeout => "health-timeout",
        HealthFailedFast => "health-failed-fast",
        HealthHoldFailed => "health-hold-failed",
        HealthInterrupted => "health-interrupted",
        HealthMetricsFailed => "health-metrics-failed",
        HealthMetricsInconclusive => "health-metrics-inconclusive",
        HealthBaselineFailed => "health-baseline-failed",
    }
}

codes! {
    /// A deploy's verdict when it did not finish (coolify-deploy, fly-deploy).
    pub enum Deploy {
        DeployFailed => "deploy-failed",
        DeployTimeout => "deploy-timeout",
        DeployCancelled => "deploy-cancelled",
        DeployInterrupted => "deploy-interrupted",
        RestoreFailed => "restore-failed",
    }
}

codes! {
    /// What a Coolify rollout's evidence calls for (`coolify::warnings`).
    pub enum Coolify {
        ImageTagNotRestored => "image-tag-not-restored",
        ImageTagRestored => "image-tag-restored",
        HealthCheckSkipped => "health-check-skipped",
        CoolifyRestarted => "coolify-restarted",
        CoolifyVersionUnknown => "coolify-version-unknown",
        CoolifyTooOld => "coolify-too-old",
    }
}

codes! {
    /// What a Railway rollback's evidence calls for (auto-rollback `platform: railway`).
    pub enum Railway {
        /// The target was past Railway's image retention: rebuilt from its source instead.
        RailwayRedeploy => "railway-redeploy",
    }
}

codes! {
    /// The GitHub Deployment record of a run.
    pub enum Github {
        GithubDeploymentFailed => "github-deployment-failed",
    }
}

codes! {
    /// A Slack message that was not sent.
    pub enum Slack {
        SlackFailed => "slack-failed",
        SlackInterrupted => "slack-interrupted",
    }
}

codes! {
    /// Any tool's run.
    pub enum Run {
        /// A signal cut the run short.
        Interrupted => "interrupted",
        /// Bad flags or inputs (exit 2).
        UsageError => "usage-error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::auto_rollback::Reason;

    /// Every code of every domain, in order.
    fn all() -> Vec<String> {
        fn each<T: Copy + serde::Serialize>(all: &[T], text: fn(T) -> &'static str) -> Vec<String> {
            all.iter()
                .map(|&code| {
                    let name = serde_json::to_value(code).unwrap();
                    assert_eq!(
                        name,
                        text(code),
                        "the text of a code is its kebab-case name"
                    );
                    text(code).to_owned()
                })
                .collect()
        }
        let mut codes = Vec::new();
        codes.extend(each(Finding::ALL, Finding::as_str));
        codes.extend(each(Health::ALL, Health::as_str));
        codes.extend(each(Deploy::ALL, Deploy::as_str));
        codes.extend(each(Coolify::ALL, Coolify::as_str));
        codes.extend(each(Railway::ALL, Railway::as_str));
        codes.extend(each(Github::ALL, Github::as_str));
        codes.extend(each(Slack::ALL, Slack::as_str));
        codes.extend(each(Run::ALL, Run::as_str));
        codes.extend(
            Reason::ALL
                .iter()
                .filter(|r| r.annotated())
                .map(|r| r.title()),
        );
        codes
    }

    #[test]
    fn every_code_is_its_name_in_kebab_case() {
        for code in all() {
            assert!(
                !code.is_empty()
                    && code
                        .split('-')
                        .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase())),
                "{code}"
            );
        }
    }

    #[test]
    fn codes_are_unique() {
        let codes = all();
        let mut seen = std::collections::BTreeSet::new();
        for code in &codes {
            assert!(seen.insert(code), "{code} is used twice");
        }
    }

    /// Renaming, adding or removing a code changes `src/codes.txt` too.
    #[test]
    fn codes_are_stable() {
        let committed = include_str!("codes.txt");
        let listed: Vec<&str> = committed
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        assert_eq!(listed, all(), "src/codes.txt differs from the code enums");
    }
}
