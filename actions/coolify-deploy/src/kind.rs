//! Docker-image app or git-based app: read from each app's `build_pack` before anything is
//! changed, and the plan made to fit. An image app is deployed by `image-tag`, a git-based
//! app by `commit` (default GITHUB_SHA); the wrong one is a usage error (exit 2) that says
//! why, never a warning followed by a deploy of something else.

use shipguard::coolify::git::{self, AppKind};
use shipguard::coolify::{Client, Feature, Plan, Target};
use shipguard::exit::usage;

use crate::settings::Commits;

/// What the run deploys, decided.
pub enum Chosen {
    /// Image apps (or a Coolify tag): the plan as given.
    AsGiven,
    /// Git-based apps: exactly this commit, through `git::run`.
    Commit,
}

/// Reads each app's kind and sets `plan.commit` for git-based apps; `notes` gets what the
/// log should say.
pub async fn choose(
    client: &Client,
    plan: &mut Plan,
    commits: &Commits,
    notes: &mut Vec<String>,
) -> anyhow::Result<Chosen> {
    let apps = match &plan.target {
        Target::Apps(apps) => apps.clone(),
        Target::Tag(tag) => {
            // DeployController.php `by_tags` (379abb25) queues each resource's own setting.
            notes.push(format!(
                "deploying by Coolify tag {tag:?}: git-based apps build their branch head (or pinned commit) and Docker-image apps their current image tag; to deploy one commit, list the apps in `app`"
            ));
            return Ok(Chosen::AsGiven);
        }
    };
    let mut image = Vec::new();
    let mut built = Vec::new();
    for app in &apps {
        let found = client.application(app).await?;
        match AppKind::of(&found).map_err(anyhow::Error::msg)? {
            AppKind::Image => image.push(app.clone()),
            AppKind::Git(pack) => built.push((app.clone(), pack)),
        }
    }
    if let (Some(img), Some((git_app, pack))) = (image.first(), built.first()) {
        return Err(usage(format!(
            "app {img} is a Docker-image app and app {git_app} is built by {pack} from a repository: they are deployed differently (`image-tag` vs `commit`); deploy them in separate steps"
        )));
    }
    let Some((first, pack)) = built.first() else {
        if let Some(commit) = &commits.explicit {
            return Err(usage(format!(
                "`commit` ({}) is for git-based apps, but app {} is a Docker-image app (build pack dockerimage): Coolify runs an image, not a commit; deploy an image with `image-tag`",
                commit.short(),
                apps.join(", ")
            )));
        }
        return Ok(Chosen::AsGiven);
    };
    if let Some(tag) = &plan.image_tag {
        // ApplicationDeploymentJob.php L1202 (v4.2.0): a git build tags its image with the
        // commit and ignores `docker_registry_image_tag`; with a registry image name it
        // would even push the branch head under that tag.
        return Err(usage(format!(
            "`image-tag` ({tag}) does not apply to app {first}: it is built by {pack} from its repository, so Coolify ignores the image tag and would build the branch head; deploy a commit with `commit: <40-hex sha>` (default: the workflow's GITHUB_SHA) instead"
        )));
    }
    let Some(commit) = commits.explicit.clone().or(commits.workflow.clone()) else {
        notes.push(format!(
            "app {first} is built by {pack} and no `commit` was given (nor GITHUB_SHA): Coolify builds the branch head"
        ));
        return Ok(Chosen::AsGiven);
    };
    if !client.supports(Feature::CommitPin) {
        let server = client
            .known_version()
            .map_or_else(|| "(unknown version)".to_owned(), |v| v.to_string());
        return Err(git::unsupported(server));
    }
    let how = if client.supports(Feature::RollbackEndpoint) {
        "POST /applications/{uuid}/rollback"
    } else {
        "git_commit_sha pinned for this deploy, then put back"
    };
    notes.push(format!(
        "{} built by {pack}: deploying commit {commit} ({how})",
        if built.len() == 1 {
            format!("app {first} is")
        } else {
            format!("{} apps are", built.len())
        }
    ));
    plan.commit = Some(commit);
    Ok(Chosen::Commit)
}
