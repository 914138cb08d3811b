//! Choosing the target, failing closed: a person's `to`, or the newest good version from
//! GitHub (workflow runs or Deployments) that is not what runs now and that no rollback
//! moved away from; then each app's version of it, in the form its platform deploys.

use shipguard::commit::CommitRef;
use shipguard::coolify::ImageTag;
use shipguard::gha::shown;
use shipguard::github::GitHub;
use shipguard::platform::{Platform, Served, Version};

use crate::decide;
use crate::guards::Now;
use crate::history::{self, PastRollback};
use crate::report::{Reason, Report};
use crate::rollback::Run;
use crate::settings::Source;
use crate::versions::Versions;

/// What will be deployed, and the commit it is.
pub struct Chosen {
    pub commit: CommitRef,
    /// The image tag a person gave with `to` (Coolify Docker-image apps).
    pub tag: Option<ImageTag>,
    pub evidence: String,
}

/// What the rollback brings the apps to.
pub enum To {
    /// Each app's version of the chosen commit.
    Versions(Vec<(String, Version)>),
    /// What served before, by the platform's own rollback (`source: platform`).
    Previous,
}

/// The target, and how it was chosen (for the log and the dry run).
pub struct Target {
    pub evidence: String,
    pub to: To,
}

/// The target, in the report's `to`; `None` when there is none (the report says why).
pub async fn choose<P: Platform>(
    platform: &P,
    run: &Run<'_>,
    github: Option<&GitHub>,
    now: &Now,
    rollbacks: &[PastRollback],
    report: &mut Report,
) -> anyhow::Result<Option<Target>> {
    let settings = run.settings;
    let found = match (&settings.source, github) {
        (Source::WorkflowRuns { workflow }, Some(gh)) => {
            let repository = settings
                .github
                .as_ref()
                .map(|a| a.repository.as_str())
                .unwrap_or_default();
            history::from_runs(gh, workflow, repository, &settings.branch).await?
        }
        (Source::Deployments, Some(gh)) => {
            history::from_deployments(gh, &settings.environment).await?
        }
        // A manual `to`; settings require GitHub for every other source.
        _ => history::Found::default(),
    };
    report.not_candidates = found.rejected.clone();
    report.not_candidates_total = found.rejected_total;
    let chosen = match &run.manual {
        Some(manual) => Chosen {
            commit: manual.commit.clone(),
            tag: Some(manual.tag.clone()),
            evidence: "chosen by hand (`to`)".to_owned(),
        },
        None => match decide::choose(&found.candidates, report.from_sha.as_deref(), rollbacks) {
            Ok(candidate) => Chosen {
                commit: CommitRef::from(&candidate.sha),
                tag: None,
                evidence: candidate.evidence.clone(),
            },
            Err(why) => {
                let passed_over = match found.rejected_total {
                    0 => String::new(),
                    n => format!(" ({n} history entries were not candidates; see the report)"),
                };
                report.end(
                    Reason::NoTarget,
                    format!(
                        "unhealthy, and nothing to roll back to: {why}{passed_over}; nothing was deployed"
                    ),
                );
                return Ok(None);
            }
        },
    };
    let map = Versions::of(settings);
    let versions = settings
        .apps
        .iter()
        .map(|app| Ok((app.clone(), map.version_of(now.kind, &chosen, app)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let first = &versions[0].1;
    if first.same_as(&now.version) {
        report.end(
            Reason::NoTarget,
            format!("unhealthy, and the target {first} is what runs now; nothing was deployed"),
        );
        return Ok(None);
    }
    platform.can_deploy(first)?;
    report.to_sha = Some(chosen.commit.to_string());
    report.to_tag = first.image();
    report.target_evidence = Some(chosen.evidence.clone());
    Ok(Some(Target {
        evidence: chosen.evidence,
        to: To::Versions(versions),
    }))
}

/// `source: platform`: the deployment that served before the one running now, as the
/// platform names it (the first app's), in the report's `to`; `None` when there is none (for
/// any app: all are checked before anything changes), when the apps' targets are not one
/// version, or when it cannot be recorded on GitHub (the report says why).
///
/// One version: the report and the GitHub record name one commit and one image, so every
/// app's target must be the same commit (its `meta.commitHash`, else its image mapped
/// through `image-template` with that app's `{app}`), or, where no commit is known, the
/// same image. Anything else fails closed, before anything changes.
pub async fn previous<P: Platform>(
    platform: &P,
    run: &Run<'_>,
    github: Option<&GitHub>,
    report: &mut Report,
) -> anyhow::Result<Option<Target>> {
    let first = &run.settings.apps[0];
    report.phase = "choosing the target";
    // Every app is checked before any is changed: a later app without a way back would
    // otherwise stop the rollback after the first ones were rolled back.
    let mut found = Vec::new();
    for app in &run.settings.apps {
        match platform.previous(app).await? {
            Ok(previous) => found.push(previous),
            Err(why) => {
                report.end(
                    Reason::NoTarget,
                    format!("unhealthy, and {why}; nothing was deployed"),
                );
                return Ok(None);
            }
        }
    }
    let versions = Versions::of(run.settings);
    let commit_for = |d: &Served, app: &str| {
        d.commit.clone().or_else(|| {
            d.image
                .clone()
                .and_then(|image| versions.commit_of(&Version::Image(image), app))
        })
    };
    // What each app's target is: its commit when known, else its image.
    let names: Vec<(String, Option<String>)> = run
        .settings
        .apps
        .iter()
        .zip(&found)
        .map(|(app, p)| {
            let name = commit_for(&p.to, app)
                .map(|c| format!("commit {c}"))
                .or_else(|| p.to.image.clone().map(|i| format!("image {i}")));
            (app.clone(), name)
        })
        .collect();
    if let Some((other, name)) = names.iter().skip(1).find(|(_, n)| *n != names[0].1) {
        let named =
            |n: &Option<String>| n.as_deref().map_or("no commit or image".to_owned(), shown);
        report.end(
            Reason::NoTarget,
            format!(
                "unhealthy, but the apps served different versions before: {first}'s was {}, {other}'s was {}; one rollback records one version: roll them back one per step, or set `image-template` with {{app}} if their images differ only by it; nothing was deployed",
                named(&names[0].1),
                named(name)
            ),
        );
        return Ok(None);
    }
    let Some(previous) = found.into_iter().next() else {
        anyhow::bail!("no app to roll back");
    };
    let commit_of = |d: &Served| commit_for(d, first);
    report.from_sha = report
        .from_sha
        .clone()
        .or_else(|| commit_of(&previous.from));
    report.to_tag = previous.to.image.clone();
    report.to_sha = commit_of(&previous.to);
    report.target_evidence = Some(previous.evidence.clone());
    if report.to_sha.is_none() && github.is_some() {
        report.end(
            Reason::NoTarget,
            format!(
                "unhealthy, but the target deployment {} names no commit (meta.commitHash) and its image does not map to one through `image-template`: the rollback cannot be recorded on GitHub; set `image-template`; nothing was deployed",
                shown(&previous.to.id)
            ),
        );
        return Ok(None);
    }
    Ok(Some(Target {
        evidence: previous.evidence,
        to: To::Previous,
    }))
}
