//! The annotations a rollout's evidence calls for, the same in every tool that deploys:
//! tags that could not be put back (errors), tags put back, skipped health checks and
//! deployments failed by a Coolify restart.

use super::log_facts::RESTART_NOTE;
use super::rollout::{Outcome, Rollout};
use crate::gha::{Annotation, Level};

pub fn annotations(rollout: &Rollout) -> Vec<Annotation> {
    let mut out = Vec::new();
    for failure in &rollout.restore_failures {
        out.push(Annotation::new(
            Level::Error,
            crate::codes::Coolify::ImageTagNotRestored,
            failure.message(),
        ));
    }
    for (app, tag) in &rollout.restored_image_tags {
        let tag = crate::gha::Untrusted::from(tag.as_str());
        out.push(Annotation::new(
            Level::Notice,
            crate::codes::Coolify::ImageTagRestored,
            format!(
                "the deployment of app {app} did not finish; its image tag was set back to \"{tag}\", the version still running"
            ),
        ));
    }
    for t in &rollout.deployments {
        if let (Some(line), Outcome::Finished) = (&t.skipped_health_check, t.outcome) {
            out.push(Annotation::new(
                Level::Warning,
                crate::codes::Coolify::HealthCheckSkipped,
                format!(
                    "Coolify did not health-check {}: its log says \"{line}\", so `finished` only means the container started; a health-wait step is what proves it healthy",
                    t.name()
                ),
            ));
        }
        if t.note.as_deref() == Some(RESTART_NOTE) {
            out.push(Annotation::new(
                Level::Warning,
                crate::codes::Coolify::CoolifyRestarted,
                format!("deployment of {} {RESTART_NOTE}", t.name()),
            ));
        }
    }
    out
}
