//! Fly.io as a [`Platform`]: an app runs the image of its started machines (one image, or a
//! deploy is under way); a deploy is fly-deploy's rolling update (`rollout.rs`), app after
//! app. Restore is the rollout's: the snapshot configs put back in reverse order and
//! verified. Fly has no server-side cancel: at the deadline or a signal the rollout stops
//! and restores what it changed.

use std::time::{Duration, Instant};

use super::client::Client;
use super::model::Machine;
use super::rollout::{self, Plan, Rollout};
use crate::gha::shown;
use crate::platform::{
    self, AppResult, Deployed, Kind, Outcome, Request, Running, Snapshot, Version,
};

/// The Machines API, and which machines of an app a rollback deploys.
pub struct Fly {
    client: Client,
    /// Only machines of this process group (fly.toml `[processes]`; fly-deploy's default `app`).
    pub process_group: String,
    /// Started machines updated at once after the canary.
    pub max_unavailable: usize,
    /// Lease TTL; refreshed while a machine is waited for.
    pub lease_ttl: Duration,
}

impl Fly {
    /// The `app` process group, one machine at a time, 30 s leases (fly-deploy's defaults).
    pub fn new(client: Client) -> Self {
        Self {
            client,
            process_group: "app".to_owned(),
            max_unavailable: 1,
            lease_ttl: Duration::from_secs(30),
        }
    }

    async fn deployable(&self, app: &str) -> anyhow::Result<Vec<Machine>> {
        let machines = self.client.list(app).await?;
        Ok(machines
            .into_iter()
            .filter(|m| m.is_deployable(&self.process_group))
            .collect())
    }
}

/// The images the started machines name, each once.
fn started_images(machines: &[Machine]) -> Vec<String> {
    let mut images: Vec<String> = machines
        .iter()
        .filter(|m| m.launches())
        .filter_map(|m| m.config_image().map(str::to_owned))
        .collect();
    images.sort();
    images.dedup();
    images
}

/// A held lease, or started machines on different `images`: a deploy under way on `app`.
fn in_progress(app: &str, machines: &[Machine], images: &[String]) -> Option<String> {
    if let Some(leased) = machines
        .iter()
        .find(|m| m.nonce.as_deref().is_some_and(|n| !n.is_empty()))
    {
        return Some(format!(
            "machine {} of app {} is leased (a deploy or `fly` command is under way): not rolling back over it",
            shown(&leased.id),
            shown(app)
        ));
    }
    (images.len() > 1).then(|| {
        format!(
            "the started machines of app {} run {} different images ({}): a deploy is under way or left them mixed; not rolling back over it",
            shown(app),
            images.len(),
            images
                .iter()
                .map(|i| shown(i))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

impl platform::Platform for Fly {
    /// Machine by machine, every app in turn.
    type Evidence = Rollout;

    const ON_SIGNAL: &'static str = "the changed machines were restored";

    fn name(&self) -> &'static str {
        "Fly"
    }

    /// The app's deployable machines, listed once: it runs the one image its started
    /// machines name; a held lease, or started machines on different images, is a deploy
    /// under way.
    async fn snapshot(&self, app: &str) -> anyhow::Result<Snapshot> {
        let machines = self.deployable(app).await?;
        let mut images = started_images(&machines);
        let in_progress = in_progress(app, &machines, &images);
        let unknown = match images.len() {
            0 => format!(
                "app {} has no started machine in process group {}",
                shown(app),
                shown(&self.process_group)
            ),
            _ => format!(
                "the started machines of app {} run {} different images",
                shown(app),
                images.len()
            ),
        };
        let running = Running {
            kind: Kind::Image,
            version: (images.len() == 1)
                .then(|| images.pop())
                .flatten()
                .map(Version::Image),
            unknown,
        };
        Ok(Snapshot {
            running,
            in_progress,
        })
    }

    fn can_deploy(&self, version: &Version) -> anyhow::Result<()> {
        match version {
            Version::Image(_) => Ok(()),
            _ => Err(crate::exit::usage(
                "Fly deploys a full image reference, not an image tag or a commit",
            )),
        }
    }

    /// fly-deploy's algorithm, one app after the other; the first that does not finish
    /// stops the rest (apps before it stay on their new image). Each app's machines share
    /// the request's deadline. Fly cannot cancel: whatever ends the wait (a failure, the
    /// deadline, a signal), the changed machines are restored when `restore_on_failure`
    /// asks for it, by `restore_until`.
    async fn deploy(
        &self,
        request: &Request,
        log: &(dyn Fn(&str) + Sync),
    ) -> anyhow::Result<Deployed<Rollout>> {
        // Every version checked before the first app changes: a refusal leaves nothing half done.
        for (_, version) in &request.apps {
            self.can_deploy(version)?;
        }
        let started = Instant::now();
        let mut apps = Vec::new();
        for (app, version) in &request.apps {
            let budget = request.deadline.saturating_duration_since(Instant::now());
            let plan = Plan {
                apps: vec![app.clone()],
                image: version.to_string(),
                process_group: self.process_group.clone(),
                wait_timeout: budget,
                timeout: budget,
                restore_on_failure: request.restore_on_failure,
                poll_interval: request.poll_interval,
                restore_until: request.restore_until,
                max_unavailable: self.max_unavailable,
                lease_ttl: self.lease_ttl,
            };
            let client = self.client.until(Instant::now() + budget);
            let rollout = rollout::run(&client, &plan, log).await?;
            let done = rollout.status == Outcome::Finished;
            apps.extend(rollout.apps);
            if !done {
                break;
            }
        }
        if apps.is_empty() {
            anyhow::bail!("nothing to deploy: no app");
        }
        // One total over every app, each run naming its own image.
        let rollout = Rollout::of(apps, started.elapsed().as_secs_f64());
        Ok(Deployed {
            status: rollout.status,
            apps: rollout
                .apps
                .iter()
                .map(|a| AppResult {
                    app: a.app.clone(),
                    outcome: a.outcome,
                })
                .collect(),
            warnings: Vec::new(),
            reason: rollout.reason.clone(),
            left_changed: Vec::new(),
            evidence: rollout,
        })
    }
}
