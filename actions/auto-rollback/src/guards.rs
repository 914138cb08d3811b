//! The guards before anything is chosen, each failing closed: what runs now must be known
//! (and map to a commit, unless a person chose the target); no rollback over a deploy under
//! way (on the platform, or a run of the deploy workflow); no second rollback inside the
//! cooldown.

use shipguard::commit::CommitRef;
use shipguard::github::GitHub;
use shipguard::platform::{Kind, Platform, Version};

use crate::decide;
use crate::history::{self, PastRollback};
use crate::report::{Reason, Report};
use crate::rollback::Run;
use crate::versions::Versions;

/// What the first app runs now, known (a guard ends the run when it is not).
pub struct Now {
    /// The form the app's versions take (what a target must be given as).
    pub kind: Kind,
    pub version: Version,
}

/// What the first app runs now, in the report's `from`; `None` when a guard ended the run.
pub async fn running<P: Platform>(
    platform: &P,
    run: &Run<'_>,
    report: &mut Report,
) -> anyhow::Result<Option<Now>> {
    let apps = &run.settings.apps;
    let first = platform.snapshot(&apps[0]).await?;
    let running = first.running;
    if let Some(version) = &running.version {
        report.from_tag = version.image();
        report.from_sha = Versions::of(run.settings).commit_of(version, &apps[0]);
    }
    // Every app is read once; the first's read also says what runs now.
    let mut busy = first.in_progress;
    for app in &apps[1..] {
        if busy.is_some() {
            break;
        }
        busy = platform.snapshot(app).await?.in_progress;
    }
    if let Some(busy) = busy {
        report.end(
            Reason::DeploymentInProgress,
            format!("unhealthy, but {busy}"),
        );
        return Ok(None);
    }
    // Never guess what runs now: a rollback record always names where it came from.
    let Some(version) = running.version else {
        report.end(
            Reason::UnknownRunningVersion,
            format!("unhealthy, but {}; nothing was deployed", running.unknown),
        );
        return Ok(None);
    };
    // `source: platform` needs no commit to choose its target (the platform names it).
    let platform_source = matches!(run.settings.source, crate::settings::Source::Platform);
    if report.from_sha.is_none() && run.manual.is_none() && !platform_source {
        let why = Versions::of(run.settings).unmapped(&version, &apps[0]);
        report.end(
            Reason::UnknownRunningVersion,
            format!("unhealthy, but {why}; nothing was deployed"),
        );
        return Ok(None);
    }
    Ok(Some(Now {
        kind: running.kind,
        version,
    }))
}

/// No deploy workflow run under way, no rollback inside the cooldown; the earlier rollbacks
/// (which the target must not undo), or `None` when a guard ended the run.
pub async fn history(
    run: &Run<'_>,
    github: Option<&GitHub>,
    report: &mut Report,
) -> anyhow::Result<Option<Vec<PastRollback>>> {
    let settings = run.settings;
    if let (Some(workflow), Some(gh)) = (&settings.deploy_workflow, github) {
        report.phase = "checking the deploy workflow";
        // Fail closed: an error here is an error of the run (exit 3), never "no deploy".
        let unfinished = gh.unfinished_runs(workflow, settings.run_id).await?;
        if let Some(run) = unfinished.first() {
            report.end(
                Reason::DeploymentInProgress,
                format!(
                    "unhealthy, but run #{} of {workflow} is {} ({} unfinished run(s) in all): not rolling back while a deploy may be under way; nothing was deployed",
                    run.run_number,
                    run.status,
                    unfinished.len()
                ),
            );
            return Ok(None);
        }
    }
    report.phase = "reading GitHub history";
    let rollbacks = match github {
        Some(gh) => history::rollbacks(gh, &settings.environment).await?,
        None => Vec::new(),
    };
    if run.manual.is_none()
        && let Some(recent) = decide::in_cooldown(&rollbacks, settings.cooldown)
    {
        let when = match recent.age.known() {
            Some(age) => format!("{} ago", shipguard::duration::human(age)),
            None => "at a time that is in the future or unreadable (counted as recent)".to_owned(),
        };
        report.end(
            Reason::Cooldown,
            format!(
                "unhealthy, but a rollback ({} → {}) happened {when}, inside the {} cooldown: not rolling back again",
                short(recent.from_sha.as_ref().map(CommitRef::as_str)),
                short(recent.to_sha.as_ref().map(CommitRef::as_str)),
                shipguard::duration::human(settings.cooldown)
            ),
        );
        return Ok(None);
    }
    Ok(Some(rollbacks))
}

/// The first seven digits of a commit named in a record, or `?`.
fn short(sha: Option<&str>) -> String {
    sha.map_or_else(|| "?".to_owned(), |s| s.chars().take(7).collect())
}
