//! The demo's bundled npm monorepo: the `in-sync` fixture whose lock npm itself wrote
//! (tests/fixtures/npm), embedded so `sandbox demo` runs from anywhere.

use std::path::Path;

use anyhow::Context as _;

const FILES: &[(&str, &str)] = &[
    (
        "package.json",
        include_str!("../../fixtures/npm/in-sync/package.json"),
    ),
    (
        "package-lock.json",
        include_str!("../../fixtures/npm/in-sync/package-lock.json"),
    ),
    (
        "packages/api/package.json",
        include_str!("../../fixtures/npm/in-sync/packages/api/package.json"),
    ),
    (
        "packages/utils/package.json",
        include_str!("../../fixtures/npm/in-sync/packages/utils/package.json"),
    ),
    (
        "packages/web/package.json",
        include_str!("../../fixtures/npm/in-sync/packages/web/package.json"),
    ),
];

/// Writes the monorepo into `dir`.
pub fn write(dir: &Path) -> anyhow::Result<()> {
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The drift that cost the team a deploy: a workspace range bumped without `npm install`.
pub fn bump_without_install(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("packages/api/package.json");
    let text = std::fs::read_to_string(&path)?;
    std::fs::write(
        &path,
        text.replace("\"semver\": \"^7.5.0\"", "\"semver\": \"^6.3.0\""),
    )?;
    Ok(())
}
