//! The deployment queue as Coolify's worker runs it (coollabsio/coolify at 379abb25):
//! at most `concurrent_builds` deployments build per server (default 2, migration
//! 2024_01_24_095449 L15) and one per app and PR (`next_queuable`, bootstrap/helpers/
//! applications.php L141-166); the rest wait `queued` and start in creation order when a
//! build ends (`queue_next_deployment`, L119-139). The job reads the image tag from the app
//! when it runs, not when it is queued (ApplicationDeploymentJob.php L611-621; the queue
//! row's `docker_registry_image_tag` is only a PR preview's tag, L238).

use std::time::Instant;

use super::{Dep, Shared, git, iso, log};

/// Advances every deployment by the clock, like the queue worker does: builds whose time
/// is up end first (freeing their slot), then queued ones start while there is room.
pub(super) fn tick(shared: &mut Shared) {
    let now = Instant::now();
    for i in 0..shared.deployments.len() {
        let dep = &shared.deployments[i];
        let done = dep.status == "in_progress"
            && dep
                .script
                .builds_for
                .is_some_and(|b| dep.started.is_some_and(|s| now >= s + b));
        if done {
            finish(shared, i);
        }
    }
    for i in 0..shared.deployments.len() {
        let dep = &shared.deployments[i];
        let due = dep.status == "queued" && now >= dep.created + dep.queued_for;
        if due && next_queuable(shared, &shared.deployments[i]) {
            start(shared, i, now);
        }
    }
}

/// `next_queuable`: nothing else of this app and PR builds, and the server has a free slot.
fn next_queuable(shared: &Shared, dep: &Dep) -> bool {
    let building = |d: &&Dep| d.status == "in_progress";
    let same_app = shared
        .deployments
        .iter()
        .filter(building)
        .any(|d| d.app == dep.app && d.pull_request_id == dep.pull_request_id);
    let running = shared.deployments.iter().filter(building).count();
    !same_app && running < shared.concurrent_builds
}

/// The job starts: it reads the app's image tag now (a git app: resolves the commit it
/// builds), and how that build goes.
fn start(shared: &mut Shared, i: usize, now: Instant) {
    let app = shared.deployments[i].app.clone();
    let (image, tag, repo) = shared
        .apps
        .get(&app)
        .map(|a| (a.image_name.clone(), a.image_tag.clone(), a.git.clone()))
        .unwrap_or_default();
    let echo = shared.echo;
    let dep = &mut shared.deployments[i];
    dep.status = "in_progress";
    dep.started = Some(now);
    // Scripted by the tag read now, or for a git app by the commit it builds.
    let key = match &repo {
        Some(repo) => {
            git::resolve_commit(repo, dep, &shared.version);
            Some(dep.commit.clone())
        }
        None => tag.clone(),
    };
    dep.script = key
        .as_ref()
        .and_then(|k| shared.scripts.get(k))
        .cloned()
        .unwrap_or_else(|| shared.default_script.clone());
    if let Some(repo) = &repo {
        git::import(repo, dep);
    }
    dep.image_tag = tag.clone();
    let tag = tag.unwrap_or_else(|| "latest".into());
    // ApplicationDeploymentJob.php L600 (the sandbox names the image).
    log(
        dep,
        &format!("Starting deployment of {image}:{tag} to localhost."),
        false,
    );
    log(dep, &format!("docker pull {image}:{tag}"), true);
    if echo {
        eprintln!("    [coolify] deployment of {app} ({tag}) in progress");
    }
}

/// The build ends as its script says.
fn finish(shared: &mut Shared, i: usize) {
    let timestamp = iso(shared.epoch);
    let echo = shared.echo;
    let dep = &mut shared.deployments[i];
    for line in dep.script.log_lines.clone() {
        log(dep, &line, false);
    }
    log(dep, "----------------------------------------", false);
    if dep.script.rolling_update {
        // ApplicationDeploymentJob.php L1971-1977: start, health check, stop the old one.
        log(dep, "Rolling update started.", false);
    } else {
        // L1951-1954: the container is replaced without a health check.
        log(
            dep,
            "Application has ports mapped to the host system, rolling update is not supported.",
            false,
        );
    }
    let (app, tag, commit) = (dep.app.clone(), dep.image_tag.clone(), dep.commit.clone());
    if dep.script.succeeds {
        dep.status = "finished";
        if dep.script.rolling_update {
            log(dep, "Rolling update completed.", false);
        }
    } else {
        dep.status = "failed";
        // L4045: a failed health check; the old container keeps running.
        log(
            dep,
            "New container is not healthy, rolling back to the old container.",
            false,
        );
    }
    dep.finished_at = Some(timestamp);
    let succeeded = dep.status == "finished";
    if succeeded && let Some(a) = shared.apps.get_mut(&app) {
        match a.git.as_mut() {
            // A git build's image tag is its commit (ApplicationDeploymentJob.php L1202 at v4.2.0).
            Some(repo) => {
                repo.running = Some(commit.clone());
                a.running_tag = Some(commit);
            }
            None => a.running_tag = tag.clone(),
        }
    }
    if echo {
        let word = if succeeded { "finished" } else { "failed" };
        eprintln!(
            "    [coolify] deployment of {app} ({}) {word}",
            tag.unwrap_or_default()
        );
    }
}

/// Coolify restarts: at start-up it marks every queued and in-progress deployment failed,
/// writing nothing to their logs (app/Console/Commands/Init.php L94-99).
pub(super) fn restart(shared: &mut Shared) {
    let timestamp = iso(shared.epoch);
    for dep in &mut shared.deployments {
        if matches!(dep.status, "queued" | "in_progress") {
            dep.status = "failed";
            dep.finished_at = Some(timestamp.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use std::time::{Duration, Instant};

    use super::super::{Coolify, Script, create_deployment, lock};

    fn wait_for(what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "never happened: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn set_tag(coolify: &Coolify, app: &str, tag: &str) {
        if let Some(a) = lock(&coolify.shared).apps.get_mut(app) {
            a.image_tag = Some(tag.to_owned());
        }
    }

    /// Two builds fill the server; the third waits, and reads the app's tag only when it
    /// starts (ApplicationDeploymentJob.php L611-621), after one of the two ends.
    #[test]
    fn a_queued_deployment_waits_for_a_slot_and_reads_the_tag_when_it_starts() {
        let coolify = Coolify::start().unwrap();
        coolify
            .add_app("a", "a", "img", "slow")
            .add_app("b", "b", "img", "slow")
            .add_app("w", "w", "img", "old")
            .script("slow", Script::finishes_after(Duration::from_millis(300)))
            .default_script(Script::finishes_after(Duration::from_millis(10)));
        coolify.start_deployment("a").unwrap();
        coolify.start_deployment("b").unwrap();
        coolify.start_deployment("w").unwrap();
        assert_eq!(coolify.deployment_statuses("w"), vec!["queued"]);
        set_tag(&coolify, "w", "new");
        wait_for("w finished", || {
            coolify.deployment_statuses("w") == vec!["finished"]
        });
        assert_eq!(coolify.running_tag("w").as_deref(), Some("new"));
    }

    /// Dedup keys on commit and PR, not on the app's tag (applications.php L47-63); force
    /// queues anyway (L56).
    #[test]
    fn dedup_ignores_the_tag_and_force_bypasses_it() {
        let coolify = Coolify::start().unwrap();
        coolify
            .add_app("w", "w", "img", "one")
            .default_script(Script::never_ends());
        coolify.start_deployment("w").unwrap();
        set_tag(&coolify, "w", "two");
        let (_, stored) = create_deployment(&mut lock(&coolify.shared), "w", false).unwrap();
        assert!(!stored, "deduplicated although the tag changed");
        let (_, stored) = create_deployment(&mut lock(&coolify.shared), "w", true).unwrap();
        assert!(stored);
        assert_eq!(
            coolify.deployment_statuses("w"),
            vec!["in_progress", "queued"]
        );
        // A restart fails both, queued and running (Init.php L94-99).
        coolify.restart();
        assert_eq!(coolify.deployment_statuses("w"), vec!["failed", "failed"]);
    }
}
