//! Deploy one image to Fly apps machine by machine, and put every changed machine back when
//! anything fails.
//!
//! The per-machine steps are flyctl's (internal/command/deploy/machines_deploymachinesapp.go:
//! 162-240 `updateMachine`/`waitForMachine`; internal/machine/leasable_machine.go): lease,
//! update with the nonce, wait for `started` on the new `instance_id`, crash-loop check,
//! wait until every configured check passes. What flyctl does not do, and this does: it
//! refuses to start when a machine's host is not ok, snapshots every config first, and on a
//! failure restores the snapshot configs in reverse order and verifies them (flyctl's rolling
//! strategy leaves updated machines on the new image, `updateUsingRollingStrategy` l. 847).
//! Started machines go first: the first alone (the canary), then `max_unavailable` at a time;
//! then stopped ones, without starting them. There is no server-side cancel: to cancel is to stop
//! the loop and restore. Apps are deployed one after the other; a failure stops at that app
//! (apps before it stay on the new image, the report says which).

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Map, Value};

use super::client::{Client, Lease, Waited};
use super::error::ApiError;
use super::model::Machine;
use crate::gha::shown;
use crate::http::{MaybeSent, is_deadline};
use crate::interrupt;
pub use crate::platform::Outcome;

/// flyctl's smoke check: a machine without checks counts as up once it ran this long
/// without crash-looping (leasable_machine.go:318,340).
const SMOKE_WINDOW: Duration = Duration::from_secs(10);
/// A restore after a failure (not after a signal) gets at least this long per machine.
const RESTORE_MIN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Plan {
    pub apps: Vec<String>,
    pub image: String,
    /// Only machines of this process group are deployed (fly.toml `[processes]`; default `app`).
    pub process_group: String,
    /// How long one machine may take to start and pass its checks.
    pub wait_timeout: Duration,
    /// The whole run, from the first request to the last deployed machine.
    pub timeout: Duration,
    pub restore_on_failure: bool,
    /// Between reads of a machine's checks (the API allows 5 GETs/s per machine).
    pub poll_interval: Duration,
    /// No restore runs past this (a caller with an outer deadline of its own); `None`: each
    /// restored machine gets `max(wait_timeout, 30 s)`.
    pub restore_until: Option<Instant>,
    /// How many started machines are updated at once after the canary (at least 1).
    pub max_unavailable: usize,
    /// Lease TTL; refreshed every third of it while a machine is waited for.
    pub lease_ttl: Duration,
}

/// What became of one machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Never touched.
    Unchanged,
    /// Runs the new image and passed its checks.
    Updated,
    /// The update failed here; restore follows if asked.
    Failed,
    /// Back on its snapshot config, verified.
    Restored,
    /// The restore failed: the machine may run either image (see `image_now`).
    RestoreFailed,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct MachineRun {
    pub app: String,
    pub id: String,
    pub region: String,
    pub state_before: String,
    pub image_before: String,
    /// What it ran when last read.
    pub image_now: String,
    pub step: Step,
    pub note: Option<String>,
    /// Milliseconds since the run started: update, and restore when there was one.
    pub update_ms: Option<(u64, u64)>,
    pub restore_ms: Option<(u64, u64)>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct AppRun {
    pub app: String,
    /// The image this app was given.
    pub image: String,
    /// The canary's image before the run.
    pub previous_image: Option<String>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    /// False when nothing was sent that could change a machine.
    pub changed: bool,
    /// Some machines may run the new image and others the old one.
    pub mixed: bool,
    pub machines: Vec<MachineRun>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Rollout {
    pub status: Outcome,
    pub reason: Option<String>,
    /// The image every app was given; `null` when the apps were given different images
    /// (auto-rollback's `image-template` with `{app}`: each app's run names its own).
    pub image: Option<String>,
    pub apps: Vec<AppRun>,
    /// Machines now on the new image (not counting those put back).
    pub updated: usize,
    /// Some machine may run either image: a restore failed or was not asked for.
    pub mixed: bool,
    pub seconds: f64,
}

impl Rollout {
    /// The whole run from its apps' runs, in order (the first that did not finish ended
    /// it): that app's outcome and reason, the machines updated, whether any app is left
    /// mixed, and the image when every app was given the same one.
    pub fn of(apps: Vec<AppRun>, seconds: f64) -> Self {
        let stopped = apps.iter().find(|a| a.outcome != Outcome::Finished);
        let status = stopped.map_or(Outcome::Finished, |a| a.outcome);
        let reason = stopped.and_then(|a| a.reason.clone());
        let updated = apps
            .iter()
            .flat_map(|a| &a.machines)
            .filter(|m| m.step == Step::Updated)
            .count();
        let mixed = apps.iter().any(|a| a.mixed);
        let image = apps
            .first()
            .map(|a| a.image.clone())
            .filter(|first| apps.iter().all(|a| &a.image == first));
        Self {
            status,
            reason,
            image,
            apps,
            updated,
            mixed,
            seconds,
        }
    }
}

/// Why one machine's update stopped.
struct Stop {
    outcome: Outcome,
    reason: String,
    /// The update may have reached the machine.
    changed: bool,
}

impl Stop {
    fn failed(reason: impl Into<String>, changed: bool) -> Self {
        Self {
            outcome: Outcome::Failed,
            reason: reason.into(),
            changed,
        }
    }
}

/// Deploys `plan.image` to every app in turn; `log` gets one line per step.
pub async fn run(client: &Client, plan: &Plan, log: &dyn Fn(&str)) -> anyhow::Result<Rollout> {
    let started = Instant::now();
    let deadline = started + plan.timeout;
    let client = client.until(deadline);
    let mut apps = Vec::new();
    for app in &plan.apps {
        let run = deploy_app(&client, plan, app, started, log).await?;
        let finished = run.outcome == Outcome::Finished;
        apps.push(run);
        if !finished {
            break;
        }
    }
    Ok(Rollout::of(apps, started.elapsed().as_secs_f64()))
}

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Machine ids go into URL paths and logs: only what Fly issues (hex and letters).
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

async fn deploy_app(
    client: &Client,
    plan: &Plan,
    app: &str,
    started: Instant,
    log: &dyn Fn(&str),
) -> anyhow::Result<AppRun> {
    let refuse = |reason: String| AppRun {
        app: app.to_owned(),
        image: plan.image.clone(),
        previous_image: None,
        outcome: Outcome::Failed,
        reason: Some(reason),
        changed: false,
        mixed: false,
        machines: Vec::new(),
    };
    let listed = match interrupt::unless_requested(client.list(app)).await {
        Ok(listed) => listed,
        Err(received) => {
            let mut run = refuse(format!("{} before any change", received.describe()));
            run.outcome = Outcome::Interrupted;
            return Ok(run);
        }
    };
    let listed = match listed {
        Ok(listed) => listed,
        Err(err) if is_deadline(&err) => {
            let mut run = refuse(format!("timeout before any change: {err}"));
            run.outcome = Outcome::Timeout;
            return Ok(run);
        }
        Err(err) => return Err(err),
    };
    let mut machines: Vec<Machine> = listed
        .into_iter()
        .filter(|m| m.is_deployable(&plan.process_group))
        .collect();
    if let Some(bad) = machines.iter().find(|m| !valid_id(&m.id)) {
        return Ok(refuse(format!(
            "app {}: the API listed a machine id that is not alphanumeric ({}); nothing changed",
            shown(app),
            shown(&bad.id)
        )));
    }
    if machines.is_empty() {
        return Ok(refuse(format!(
            "app {} has no deployable machine in process group {} (active, platform v2, not a release-command or console machine); nothing changed. Create them once with `fly deploy`",
            shown(app),
            shown(&plan.process_group)
        )));
    }
    if let Some(bad) = machines.iter().find(|m| m.host_status != "ok") {
        return Ok(refuse(format!(
            "app {}: the host of machine {} is {} (not ok), so its config cannot be read whole nor restored; nothing changed. Wait until `fly machine status` shows the host ok",
            shown(app),
            shown(&bad.id),
            shown(if bad.host_status.is_empty() {
                "unreported"
            } else {
                &bad.host_status
            })
        )));
    }
    if let Some(bad) = machines.iter().find(|m| m.config.is_none()) {
        return Ok(refuse(format!(
            "app {}: machine {} came without its config; nothing changed",
            shown(app),
            shown(&bad.id)
        )));
    }
    // Started machines first (the first is the canary), then the others; by id within each,
    // as flyctl sorts (machines_deploymachinesapp.go `updateUsingRollingStrategy`).
    machines.sort_by(|a, b| (!a.launches(), &a.id).cmp(&(!b.launches(), &b.id)));
    let mut runs: Vec<MachineRun> = machines
        .iter()
        .map(|m| MachineRun {
            app: app.to_owned(),
            id: m.id.clone(),
            region: m.region.clone(),
            state_before: m.state.clone(),
            image_before: m.running_image(),
            image_now: m.running_image(),
            step: Step::Unchanged,
            note: None,
            update_ms: None,
            restore_ms: None,
        })
        .collect();
    let previous_image = machines
        .first()
        .and_then(|m| m.config_image())
        .map(str::to_owned);
    let mut stop: Option<Stop> = None;
    let mut changed_at = vec![false; machines.len()];
    let mut i = 0;
    while i < machines.len() && stop.is_none() {
        // The canary alone; then pools of `max_unavailable` machines of the same kind
        // (started or not), as flyctl's rolling strategy after its spearhead
        // (machines_deploymachinesapp.go `updateUsingRollingStrategy`).
        let size = if i == 0 {
            1
        } else {
            plan.max_unavailable.max(1)
        };
        let kind = machines[i].launches();
        let end = (i..machines.len())
            .take(size)
            .take_while(|&j| machines[j].launches() == kind)
            .last()
            .map_or(i + 1, |j| j + 1);
        for (j, machine) in machines.iter().enumerate().take(end).skip(i) {
            let role = if j == 0 { " (canary)" } else { "" };
            log(&format!(
                "{}: updating machine {}{role} in {}",
                shown(app),
                machine.id,
                shown(&machine.region)
            ));
        }
        let mut pool = tokio::task::JoinSet::new();
        for (j, machine) in machines.iter().enumerate().take(end).skip(i) {
            let (client, plan, app, machine) = (
                client.clone(),
                plan.clone(),
                app.to_owned(),
                machine.clone(),
            );
            pool.spawn(async move {
                let from = ms(started);
                let result = update_one(&client, &plan, &app, &machine).await;
                (j, from, ms(started), result)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = pool.join_next().await {
            match joined {
                Ok(done) => results.push(done),
                Err(err) => anyhow::bail!("a machine update task failed: {err}"),
            }
        }
        results.sort_by_key(|r| r.0);
        for (j, from, to, result) in results {
            runs[j].update_ms = Some((from, to));
            let id = &machines[j].id;
            match result {
                Ok(now) => {
                    runs[j].step = Step::Updated;
                    runs[j].image_now = now.running_image();
                    changed_at[j] = true;
                    log(&format!("{}: machine {id} runs the new image", shown(app)));
                }
                Err(s) => {
                    runs[j].step = Step::Failed;
                    runs[j].note = Some(s.reason.clone());
                    changed_at[j] = s.changed;
                    // Every reason names the machine already.
                    log(&format!("{}: {}", shown(app), s.reason));
                    if stop.is_none() {
                        stop = Some(s);
                    }
                }
            }
        }
        i = end;
    }
    let touched: Vec<usize> = (0..machines.len()).filter(|&j| changed_at[j]).collect();
    let Some(stop) = stop else {
        return Ok(AppRun {
            app: app.to_owned(),
            image: plan.image.clone(),
            previous_image,
            outcome: Outcome::Finished,
            reason: None,
            changed: true,
            mixed: false,
            machines: runs,
        });
    };
    let changed = !touched.is_empty();
    let mut outcome = stop.outcome;
    let mut reason = stop.reason;
    let mut mixed = changed;
    if changed && plan.restore_on_failure {
        log(&format!(
            "{}: restoring {} machine(s) to their previous config",
            shown(app),
            touched.len()
        ));
        let mut all_back = true;
        for &i in touched.iter().rev() {
            let from = ms(started);
            let restored = restore_one(client, plan, app, &machines[i]).await;
            runs[i].restore_ms = Some((from, ms(started)));
            match restored {
                Ok(now) => {
                    runs[i].step = Step::Restored;
                    runs[i].image_now = now.running_image();
                    log(&format!(
                        "{}: machine {} restored",
                        shown(app),
                        machines[i].id
                    ));
                }
                Err(why) => {
                    all_back = false;
                    runs[i].step = Step::RestoreFailed;
                    runs[i].note = Some(why.clone());
                    // What it runs now, if it can still be read.
                    if let Ok(Ok(now)) = tokio::time::timeout(
                        Duration::from_secs(5),
                        client
                            .until(Instant::now() + Duration::from_secs(5))
                            .get(app, &machines[i].id),
                    )
                    .await
                    {
                        runs[i].image_now = now.running_image();
                    }
                    log(&format!(
                        "{}: machine {} NOT restored: {why}",
                        shown(app),
                        machines[i].id
                    ));
                }
            }
        }
        mixed = !all_back;
        if all_back {
            if outcome == Outcome::Failed {
                outcome = Outcome::Restored;
            }
            reason = format!("{reason}; every changed machine was restored");
        } else {
            outcome = Outcome::Failed;
            reason = format!("{reason}; the restore failed, machines run mixed images");
        }
    } else if changed {
        reason = format!("{reason}; not restored (restore-on-failure: false)");
    }
    Ok(AppRun {
        app: app.to_owned(),
        image: plan.image.clone(),
        previous_image,
        outcome,
        reason: Some(reason),
        changed,
        mixed,
        machines: runs,
    })
}

/// The error as a Stop: a deadline is the run's timeout, an API error or anything else a
/// failure.
fn stop_from(err: &anyhow::Error, changed: bool) -> Stop {
    if is_deadline(err) {
        return Stop {
            outcome: Outcome::Timeout,
            reason: format!("timeout: {err}"),
            changed,
        };
    }
    Stop::failed(crate::http::describe_error(err.as_ref()), changed)
}

async fn update_one(
    client: &Client,
    plan: &Plan,
    app: &str,
    machine: &Machine,
) -> Result<Machine, Stop> {
    if let Some(received) = interrupt::received() {
        return Err(Stop {
            outcome: Outcome::Interrupted,
            reason: received.describe(),
            changed: false,
        });
    }
    let lease = match client.lease(app, &machine.id, plan.lease_ttl, None).await {
        Ok(lease) => lease,
        Err(err) => {
            let held = err
                .downcast_ref::<ApiError>()
                .is_some_and(|e| e.status == 409);
            let mut stop = stop_from(&err, false);
            if held {
                stop.reason = format!(
                    "machine {} is leased by someone else (another deploy or `fly` command?); left as it was: {}",
                    shown(&machine.id),
                    stop.reason
                );
            }
            return Err(stop);
        }
    };
    let result = update_leased(client, plan, app, machine, &lease).await;
    release(client, app, &machine.id, &lease).await;
    result
}

async fn update_leased(
    client: &Client,
    plan: &Plan,
    app: &str,
    machine: &Machine,
    lease: &Lease,
) -> Result<Machine, Stop> {
    // Read again under the lease: a machine changed since the list is not ours to change.
    let fresh = client
        .get(app, &machine.id)
        .await
        .map_err(|e| stop_from(&e, false))?;
    if fresh.instance_id != machine.instance_id {
        return Err(Stop::failed(
            format!(
                "machine {} changed since it was listed (instance {} → {}); left as it is",
                shown(&machine.id),
                shown(&machine.instance_id),
                shown(&fresh.instance_id)
            ),
            false,
        ));
    }
    let mut config: Map<String, Value> = machine.config.clone().unwrap_or_default();
    config.insert("image".to_owned(), Value::String(plan.image.clone()));
    let updated = client
        .update(
            app,
            &machine.id,
            &config,
            &fresh.instance_id,
            &lease.nonce,
            !machine.launches(),
        )
        .await
        .map_err(|e| {
            let maybe = e.chain().any(|c| c.is::<MaybeSent>());
            stop_from(&e, maybe)
        })?;
    if !machine.launches() {
        return Ok(updated);
    }
    let per_machine = Instant::now() + plan.wait_timeout;
    let until = client.deadline().min(per_machine);
    let run_deadline = client.deadline() <= per_machine;
    wait_healthy(
        client,
        plan,
        app,
        &machine.id,
        &updated.instance_id,
        lease,
        until,
        run_deadline,
        true,
    )
    .await
}

/// Waits until the machine is `started` on `instance_id`, not crash-looping, and every
/// configured check passes; `interruptible` ends the wait at a signal.
#[allow(clippy::too_many_arguments)]
async fn wait_healthy(
    client: &Client,
    plan: &Plan,
    app: &str,
    id: &str,
    instance_id: &str,
    lease: &Lease,
    until: Instant,
    run_deadline: bool,
    interruptible: bool,
) -> Result<Machine, Stop> {
    let client = client.until(until);
    let timed_out = |what: &str| {
        if run_deadline {
            Stop {
                outcome: Outcome::Timeout,
                reason: format!(
                    "timeout: machine {} {what} before the run's timeout",
                    shown(id)
                ),
                changed: true,
            }
        } else {
            Stop::failed(
                format!("machine {} {what} within wait-timeout", shown(id)),
                true,
            )
        }
    };
    let work = async {
        let mut refreshed = Instant::now();
        loop {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out("did not start"));
            }
            match client.wait(app, id, instance_id, "started", left).await {
                Ok(Waited::Reached) => break,
                Ok(Waited::NotYet) => {}
                Err(e) if is_deadline(&e) => return Err(timed_out("did not start")),
                Err(e) => return Err(stop_from(&e, true)),
            }
            refresh(&client, plan, app, id, lease, &mut refreshed).await;
        }
        let since_start = Instant::now();
        // The failing checks at the last reading: a read cut short by the deadline (after a
        // poll interval and a lease refresh, little may be left) still says what was seen.
        let mut seen: Option<String> = None;
        loop {
            let machine = match client.get(app, id).await {
                Ok(m) => m,
                Err(e) if is_deadline(&e) => {
                    return Err(timed_out(&not_passed(seen.as_deref())));
                }
                Err(e) => return Err(stop_from(&e, true)),
            };
            if machine.crash_looping() {
                return Err(Stop::failed(
                    format!(
                        "machine {}: the app appears to be crashing (it exits non-zero and keeps restarting)",
                        shown(id)
                    ),
                    true,
                ));
            }
            if machine.instance_id != instance_id {
                return Err(Stop::failed(
                    format!(
                        "machine {} was changed by someone else during the deploy",
                        shown(id)
                    ),
                    true,
                ));
            }
            let checks = machine.configured_checks();
            if checks == 0 && since_start.elapsed() >= SMOKE_WINDOW.min(plan.wait_timeout) {
                return Ok(machine);
            }
            if checks > 0 && machine.checks_pass() {
                return Ok(machine);
            }
            let failing: Vec<String> = machine
                .checks
                .iter()
                .filter(|c| c.status != "passing")
                .map(|c| format!("{} {}", shown(&c.name), shown(&c.status)))
                .collect();
            let failing = if failing.is_empty() {
                "none reported".to_owned()
            } else {
                failing.join(", ")
            };
            if Instant::now() + plan.poll_interval >= until {
                return Err(timed_out(&not_passed(Some(&failing))));
            }
            seen = Some(failing);
            tokio::time::sleep(plan.poll_interval).await;
            refresh(&client, plan, app, id, lease, &mut refreshed).await;
        }
    };
    if !interruptible {
        return work.await;
    }
    match interrupt::unless_requested(work).await {
        Ok(result) => result,
        Err(received) => Err(Stop {
            outcome: Outcome::Interrupted,
            reason: received.describe(),
            changed: true,
        }),
    }
}

/// "did not pass its checks", with the failing checks of the last reading when there was one.
fn not_passed(seen: Option<&str>) -> String {
    match seen {
        Some(failing) => format!("did not pass its checks ({failing})"),
        None => "did not pass its checks (no reading before the deadline)".to_owned(),
    }
}

/// Keeps the lease alive: refreshed once a third of its TTL has passed (flyctl refreshes
/// every (ttl-1s)/3, internal/command/deploy/machines.go).
async fn refresh(
    client: &Client,
    plan: &Plan,
    app: &str,
    id: &str,
    lease: &Lease,
    last: &mut Instant,
) {
    if last.elapsed() < plan.lease_ttl / 3 {
        return;
    }
    match client
        .lease(app, id, plan.lease_ttl, Some(&lease.nonce))
        .await
    {
        Ok(_) => *last = Instant::now(),
        Err(err) => tracing::warn!("could not refresh the lease on machine {id}: {err:#}"),
    }
}

async fn release(client: &Client, app: &str, id: &str, lease: &Lease) {
    // On the way out, within the cleanup budget after a signal; a lease not released expires
    // at its TTL anyway.
    let client = client.until(Instant::now() + Duration::from_secs(10));
    match interrupt::within_cleanup(client.release(app, id, &lease.nonce)).await {
        Some(Ok(())) => {}
        Some(Err(err)) => tracing::warn!("could not release the lease on machine {id}: {err:#}"),
        None => tracing::warn!(
            "no time left to release the lease on machine {id}; it expires on its own"
        ),
    }
}

/// Puts the snapshot config back and verifies it (started, checks passing, the old image).
async fn restore_one(
    client: &Client,
    plan: &Plan,
    app: &str,
    machine: &Machine,
) -> Result<Machine, String> {
    let until = match interrupt::received() {
        Some(received) => received.cleanup_deadline(),
        None => {
            let own = Instant::now() + plan.wait_timeout.max(RESTORE_MIN);
            plan.restore_until.map_or(own, |cap| own.min(cap))
        }
    };
    let client = client.until(until);
    let lease = client
        .lease(app, &machine.id, plan.lease_ttl, None)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let result = async {
        let fresh = client
            .get(app, &machine.id)
            .await
            .map_err(|e| format!("{e:#}"))?;
        let config = machine.config.clone().unwrap_or_default();
        let updated = client
            .update(
                app,
                &machine.id,
                &config,
                &fresh.instance_id,
                &lease.nonce,
                !machine.launches(),
            )
            .await
            .map_err(|e| format!("{e:#}"))?;
        let now = if machine.launches() {
            wait_healthy(
                &client,
                plan,
                app,
                &machine.id,
                &updated.instance_id,
                &lease,
                until,
                false,
                false,
            )
            .await
            .map_err(|s| s.reason)?
        } else {
            updated
        };
        if now.config_image() != machine.config_image() {
            return Err(format!(
                "machine {} runs {} after the restore, not {}",
                machine.id,
                shown(now.config_image().unwrap_or("nothing")),
                shown(machine.config_image().unwrap_or("nothing"))
            ));
        }
        Ok(now)
    }
    .await;
    release(&client, app, &machine.id, &lease).await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str, image: &str, outcome: Outcome, updated: usize) -> AppRun {
        let machine = |i: usize| MachineRun {
            app: name.to_owned(),
            id: format!("m{i}"),
            region: "ams".to_owned(),
            state_before: "started".to_owned(),
            image_before: "old".to_owned(),
            image_now: image.to_owned(),
            step: Step::Updated,
            note: None,
            update_ms: None,
            restore_ms: None,
        };
        AppRun {
            app: name.to_owned(),
            image: image.to_owned(),
            previous_image: None,
            outcome,
            reason: (outcome != Outcome::Finished).then(|| format!("{name} stopped")),
            changed: true,
            mixed: outcome == Outcome::Failed,
            machines: (0..updated).map(machine).collect(),
        }
    }

    #[test]
    fn apps_given_different_images_name_no_common_image() {
        let web = app("web", "registry.fly.io/web:abc", Outcome::Finished, 2);
        let api = app("api", "registry.fly.io/api:abc", Outcome::Failed, 1);
        let rollout = Rollout::of(vec![web, api], 3.0);
        assert_eq!(rollout.image, None);
        assert_eq!(rollout.apps[1].image, "registry.fly.io/api:abc");
        assert_eq!(rollout.status, Outcome::Failed);
        assert_eq!(rollout.reason.as_deref(), Some("api stopped"));
        assert_eq!(rollout.updated, 3);
        assert!(rollout.mixed);
    }

    #[test]
    fn apps_given_one_image_name_it() {
        let web = app("web", "registry.fly.io/shared:abc", Outcome::Finished, 1);
        let api = app("api", "registry.fly.io/shared:abc", Outcome::Finished, 1);
        let rollout = Rollout::of(vec![web, api], 1.0);
        assert_eq!(rollout.image.as_deref(), Some("registry.fly.io/shared:abc"));
        assert_eq!(rollout.status, Outcome::Finished);
        assert_eq!(rollout.reason, None);
        assert!(!rollout.mixed);
    }
}
