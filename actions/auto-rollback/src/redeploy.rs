//! The redeploy: the target through the platform's deploy-and-wait, with restore on failure
//! and cancel at the deadline, or the platform's own rollback (`source: platform`); its
//! evidence kept in the report.

use std::time::Instant;

use shipguard::deployment_record::Recorder;
use shipguard::gha::Untrusted;
use shipguard::platform::grace::{CANCEL_GRACE, RESTORE_GRACE};
use shipguard::platform::{Outcome, Platform, Request, Rollback};

use crate::record;
use crate::report::{Reason, Report};
use crate::rollback::{Run, interrupted};
use crate::target::To;

/// Where a platform's evidence goes in the report (its fields stay as they were).
pub trait Keep {
    fn keep(self, report: &mut Report);
}

impl Keep for shipguard::coolify::git::Deployed {
    fn keep(self, report: &mut Report) {
        report.commit_pins = self.pins;
        report.deploy = Some(self.rollout);
    }
}

impl Keep for shipguard::report::auto_rollback::Railway {
    fn keep(self, report: &mut Report) {
        report.railway = Some(self);
    }
}

impl Keep for shipguard::fly::Rollout {
    fn keep(self, report: &mut Report) {
        report.fly_deploy = Some(self);
    }
}

/// Deploys every app's version of the target, or rolls every app back the platform's own
/// way; true when it finished (verification follows), else the report says why.
pub async fn redeploy<P: Platform>(
    platform: &P,
    run: &Run<'_>,
    to: &To,
    recorder: Option<&Recorder>,
    report: &mut Report,
) -> anyhow::Result<bool>
where
    P::Evidence: Keep,
{
    report.phase = "redeploy";
    let t0 = run.at();
    let deadline = Instant::now() + run.settings.deploy_timeout.min(run.left());
    let poll_interval = run.settings.poll_interval;
    let actions = &run.ctx.actions;
    let log = |line: &str| actions.log(line);
    let deployed = match to {
        To::Versions(versions) => {
            let request = Request {
                apps: versions.clone(),
                deadline,
                poll_interval,
                restore_on_failure: true,
                cancel_on_timeout: true,
                // main.rs's backstop ends the run at `deadline` plus these grace periods: a
                // restore after a failed redeploy ends before it.
                restore_until: Some(run.deadline + CANCEL_GRACE + RESTORE_GRACE),
            };
            let _group = actions.group("Redeploying");
            platform.deploy(&request, &log).await
        }
        To::Previous => {
            let request = Rollback {
                apps: run.settings.apps.clone(),
                deadline,
                poll_interval,
            };
            let _group = actions.group(&format!("Rolling back on {}", platform.name()));
            platform.roll_back(&request, &log).await
        }
    };
    let deployed = match deployed {
        Ok(deployed) => deployed,
        Err(err) => {
            record::close(recorder, "error", "the rollback could not deploy", run.ctx).await;
            return Err(err);
        }
    };
    let status = deployed.status;
    report.rolled_back = status == Outcome::Finished;
    // Before the left-changed ending too: a service rebuilt outside the retention window
    // is worth its warning whatever came after.
    for annotation in deployed.warnings {
        actions.annotate(annotation);
    }
    if !deployed.left_changed.is_empty() {
        deployed.evidence.keep(report);
        record::close(
            recorder,
            "error",
            "the rollback left a change to undo by hand",
            run.ctx,
        )
        .await;
        // Its own marker: exit 3, never read as the deadline's timeout (main.rs) nor turned
        // into 1 by a signal (tool.rs).
        return Err(shipguard::exit::left_changed(
            deployed.left_changed.join("; "),
        ));
    }
    report.phases.push(("redeploy".into(), t0, run.at()));
    deployed.evidence.keep(report);
    if status == Outcome::Interrupted {
        record::close(recorder, "error", "the rollback was interrupted", run.ctx).await;
        // The platform's own words when it gave them: a signal before the new deployment
        // was known cancels nothing, and ON_SIGNAL would say it did.
        let what = deployed.reason.as_deref().unwrap_or(P::ON_SIGNAL);
        interrupted(
            report,
            &format!("during the redeploy; {what} (see the report)"),
        );
        return Ok(false);
    }
    if status != Outcome::Finished {
        record::close(
            recorder,
            "failure",
            "the rollback deployment failed",
            run.ctx,
        )
        .await;
        report.end(
            Reason::DeployFailed,
            format!(
                "the rollback to {} did not deploy ({}); the service is still unhealthy",
                // The target's image may be the platform's text (Railway's `meta.image`).
                Untrusted::one_line(&report.to(), 200),
                match &deployed.reason {
                    Some(reason) => format!("{}: {reason}", status.as_str()),
                    None => status.as_str().to_owned(),
                }
            ),
        );
        return Ok(false);
    }
    Ok(true)
}
