//! How an app's version maps to a commit and back, by the form its platform deploys by:
//! an image tag through `image-tag-template` (Coolify), a commit as itself (Coolify
//! git-based apps), a full image reference through `image-template` (Fly).

use shipguard::commit::CommitSha;
use shipguard::gha::shown;
use shipguard::platform::{Kind, Version};

use crate::image_template::ImageTemplate;
use crate::settings::{Platform, Settings};
use crate::target::Chosen;
use crate::template::TagTemplate;

pub struct Versions<'a> {
    tags: &'a TagTemplate,
    images: Option<&'a ImageTemplate>,
    branch: &'a str,
}

impl<'a> Versions<'a> {
    pub fn of(settings: &'a Settings) -> Self {
        Self {
            tags: &settings.template,
            images: match &settings.platform {
                Platform::Fly(fly) => Some(&fly.template),
                Platform::Railway(railway) => railway.template.as_ref(),
                Platform::Coolify { .. } => None,
            },
            branch: &settings.branch,
        }
    }

    /// The commit (full, or the 7+ hex digits a template keeps) `version` of `app` was
    /// built from, when its template says.
    pub fn commit_of(&self, version: &Version, app: &str) -> Option<String> {
        match version {
            Version::ImageTag(tag) => self.tags.commit_of(tag.as_str(), self.branch),
            Version::Commit(sha) => Some(sha.to_string()),
            Version::Image(image) => self.images?.commit_of(image, self.branch, app),
        }
    }

    /// Why `version` of `app` does not map to a commit, and what to set.
    pub fn unmapped(&self, version: &Version, app: &str) -> String {
        match (version, self.images) {
            (Version::Image(image), Some(template)) => format!(
                "the image {} of app {app} does not map to a commit through `image-template` ({}): set it to how your images are named, or roll back by hand with `to: <commit sha>`",
                shown(image),
                template.as_str()
            ),
            _ => {
                let shown: String = version.to_string().chars().take(140).collect();
                format!(
                    "the image tag {shown:?} of app {app} does not map to a commit through `image-tag-template`: set `image-tag-template` to how your images are tagged (now {:?}, which would make e.g. {:?}), or roll back by hand with `to: <commit sha>`",
                    self.tags.as_str(),
                    self.sample_tag()
                )
            }
        }
    }

    /// The version of `chosen` for `app`, in the form `kind`. A commit or an image comes
    /// from the full SHA only (an abbreviation could name another commit).
    pub fn version_of(&self, kind: Kind, chosen: &Chosen, app: &str) -> anyhow::Result<Version> {
        let full = |why: &str| {
            CommitSha::parse(chosen.commit.as_str()).map_err(|_| shipguard::env::invalid("to", why))
        };
        Ok(match kind {
            Kind::ImageTag => match &chosen.tag {
                Some(tag) => Version::ImageTag(tag.clone()),
                None => Version::ImageTag(
                    self.tags
                        .render(&full("give the full 40-digit commit SHA")?, self.branch)
                        .map_err(|why| shipguard::env::invalid("image-tag-template", &why))?,
                ),
            },
            Kind::Commit => Version::Commit(full(&format!(
                "app {app} is a git-based app, deployed by commit: give the full 40-digit commit SHA, not {}",
                chosen.commit
            ))?),
            Kind::Image => {
                let sha = full(
                    "on platform fly give the full 40-digit commit SHA; its image comes from `image-template`",
                )?;
                let Some(template) = self.images else {
                    anyhow::bail!("no `image-template` to make the image of {sha}");
                };
                Version::Image(template.render(&sha, self.branch, app))
            }
        })
    }

    /// What the tag template makes of an example commit, for the fix hint.
    fn sample_tag(&self) -> String {
        CommitSha::parse("0123456789abcdef0123456789abcdef01234567")
            .ok()
            .and_then(|sha| self.tags.render(&sha, self.branch).ok())
            .map(|t| t.to_string())
            .unwrap_or_default()
    }
}
