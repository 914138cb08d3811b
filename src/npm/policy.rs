//! Registry policies on locked packages, off by default: `allowed-hosts` for `resolved`
//! URLs, `require-https`, and `require-integrity` (a sha512 hash on every downloaded package).

use url::Url;

use super::finding::Finding;
use super::project::Project;

#[derive(Debug, Default, Clone)]
pub struct Policy {
    /// Host names; `npm` and `yarn` stand for their registries. Empty: any host.
    pub allowed_hosts: Vec<String>,
    pub require_https: bool,
    pub require_integrity: bool,
}

impl Policy {
    pub fn is_active(&self) -> bool {
        !self.allowed_hosts.is_empty() || self.require_https || self.require_integrity
    }

    /// `npm` → registry.npmjs.org, a URL → its host, else the word itself, lower-cased.
    pub fn host_of(raw: &str) -> String {
        match raw.trim().to_ascii_lowercase().as_str() {
            "npm" => "registry.npmjs.org".to_owned(),
            "yarn" => "registry.yarnpkg.com".to_owned(),
            other => Url::parse(other)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_else(|| other.to_owned()),
        }
    }
}

pub fn check(project: &Project, policy: &Policy) -> Vec<Finding> {
    let mut findings = Vec::new();
    if !policy.is_active() {
        return findings;
    }
    let lock = &project.lock.file();
    for (location, entry, name) in project.lock.installed() {
        let version = entry.version.as_deref().unwrap_or("?");
        let line = lock.line_of(&["packages", location]);
        let mut add = |code: &'static str, message: String, why: String, fix: String| {
            findings.push(Finding {
                code,
                scope: format!("locked {name}@{version} ({location})"),
                package: name.to_owned(),
                message,
                why,
                fix,
                file: lock.path.clone(),
                line,
            });
        };
        let resolved = entry.resolved.as_deref();
        let url = resolved.and_then(|r| Url::parse(r.trim_start_matches("git+")).ok());
        let is_local = resolved.is_some_and(|r| r.starts_with("file:"));
        if let (Some(url), Some(raw)) = (&url, resolved) {
            let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
            if !policy.allowed_hosts.is_empty() && !policy.allowed_hosts.contains(&host) {
                add(
                    crate::codes::Finding::LockfileHost.as_str(),
                    format!(
                        "{name}@{version} is resolved from {host}, which is not an allowed host"
                    ),
                    format!("resolved: {raw}"),
                    format!(
                        "install it from an allowed registry, or add {host} to `allowed-hosts`"
                    ),
                );
            }
            if policy.require_https && url.scheme() != "https" && !raw.starts_with("git+ssh:") {
                add(
                    crate::codes::Finding::LockfileHttps.as_str(),
                    format!(
                        "{name}@{version} is downloaded over {}, not https",
                        url.scheme()
                    ),
                    format!("resolved: {raw}"),
                    "point the registry (or the dependency URL) at https and reinstall".to_owned(),
                );
            }
        }
        let downloaded = !is_local && !resolved.is_some_and(|r| r.starts_with("git"));
        if policy.require_integrity && downloaded {
            let strong = entry
                .integrity
                .as_deref()
                .is_some_and(|i| i.split_whitespace().any(|h| h.starts_with("sha512-")));
            if !strong {
                let why = match &entry.integrity {
                    None => "the lock entry has no integrity hash".to_owned(),
                    Some(i) => format!("its only hash is {}", i.split('-').next().unwrap_or("?")),
                };
                add(
                    crate::codes::Finding::LockfileIntegrity.as_str(),
                    format!("{name}@{version} has no sha512 integrity in the lock"),
                    why,
                    "run `npm install --package-lock-only` against a registry that serves sha512 hashes".to_owned(),
                );
            }
        }
    }
    findings
}
