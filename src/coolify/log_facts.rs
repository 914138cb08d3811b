//! What a deployment's log says that its status does not (coollabsio/coolify at 379abb25).

use super::model::{Deployment, DeploymentStatus, LogEntry};
use crate::gha::Untrusted;

/// The log line by which Coolify says it replaced the container without its health check:
/// the rolling update (start new, health-check, stop old) is skipped for mapped host ports,
/// a fixed container name, a custom internal name, PR deployments and a custom IP; the old
/// container is stopped and the new one started, and `finished` then only means started
/// (ApplicationDeploymentJob.php L1951-1970; the health check runs only on L1973-1977).
const SKIPPED_HEALTH_CHECK: &str = "rolling update is not supported";

/// The visible log line that says Coolify skipped its health check, if any.
pub fn skipped_health_check(logs: &[LogEntry]) -> Option<Untrusted> {
    logs.iter()
        .filter(|e| !e.hidden)
        .flat_map(|e| e.output.as_raw().lines())
        .find(|line| line.contains(SKIPPED_HEALTH_CHECK))
        .map(|line| Untrusted::from(line.trim()))
}

/// Lines every failure the job itself reports leaves in the log: `failed()` writes
/// "Deployment failed: …" (L5017; "Oops something is not okay" before 4.2.0, L2487 at
/// v4.0.0-beta.420.6), and a failed health check "New container is not healthy, rolling
/// back to the old container." (L4045).
const FAILURE_LINES: [&str; 3] = [
    "Deployment failed",
    "Oops something is not okay",
    "New container is not healthy",
];

/// True when a failed deployment's log (which must be readable) shows no failure of its
/// own: what Coolify's start-up does, marking every queued and in-progress deployment
/// `failed` without a log line (app/Console/Commands/Init.php L94-99).
pub fn failed_by_restart(deployment: &Deployment) -> bool {
    let Some(logs) = &deployment.logs else {
        return false;
    };
    deployment.status == DeploymentStatus::Failed
        && !logs
            .iter()
            .any(|e| FAILURE_LINES.iter().any(|f| e.output.as_raw().contains(f)))
}

/// The note for a deployment [`failed_by_restart`].
pub const RESTART_NOTE: &str = "marked failed with no failure in its log: Coolify restarted during the deployment (at start-up it marks every queued and running deployment failed); deploy again";

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(output: &str, hidden: bool) -> LogEntry {
        LogEntry {
            output: output.into(),
            stream: None,
            hidden,
            order: None,
        }
    }

    fn failed(logs: Option<Vec<LogEntry>>) -> Deployment {
        Deployment {
            deployment_uuid: "d".into(),
            status: DeploymentStatus::Failed,
            application_name: None,
            deployment_url: None,
            commit: None,
            created_at: None,
            updated_at: None,
            finished_at: None,
            logs,
            server_id: None,
            pull_request_id: None,
        }
    }

    #[test]
    fn a_skipped_health_check_is_found_in_visible_lines_only() {
        let logs = vec![
            entry(
                "docker run --name app rolling update is not supported",
                true,
            ),
            entry(
                "Application has ports mapped to the host system, rolling update is not supported.",
                false,
            ),
        ];
        assert_eq!(
            skipped_health_check(&logs).unwrap(),
            "Application has ports mapped to the host system, rolling update is not supported."
        );
        assert!(skipped_health_check(&logs[..1]).is_none());
    }

    #[test]
    fn a_failure_without_its_own_log_line_is_a_restart() {
        let building = vec![entry("Starting deployment of web to localhost.", false)];
        assert!(failed_by_restart(&failed(Some(building.clone()))));
        assert!(failed_by_restart(&failed(Some(Vec::new()))));
        let mut own = building;
        own.push(entry("Deployment failed: build error", false));
        assert!(!failed_by_restart(&failed(Some(own))));
        // Unreadable logs prove nothing.
        assert!(!failed_by_restart(&failed(None)));
    }
}
