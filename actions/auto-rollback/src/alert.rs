//! The Slack alert (through the core slack module): rollback done and verified, rollback
//! failed, no target, still unhealthy. A failed alert never changes the verdict; it is a
//! warning, so the step's own exit code stays the truth.

use shipguard::gha::{Actions, Annotation, Level};
use shipguard::http::RetryPolicy;
use shipguard::redact::Secret;
use shipguard::slack::{self, Kind, Message, Status, Transport};
use url::Url;

use crate::report::{Reason, Report};

pub async fn send(
    http: &reqwest::Client,
    policy: &RetryPolicy,
    webhook: &Secret<Url>,
    report: &Report,
    run_url: Option<&str>,
    actions: &Actions,
) {
    let (kind, status) = match report.reason {
        Reason::RolledBack => (Kind::Rollback, Status::Success),
        Reason::DeployFailed | Reason::VerificationFailed => (Kind::Rollback, Status::Failure),
        Reason::Interrupted => (Kind::Rollback, Status::Cancelled),
        // Could not roll back: the service is down and nothing was done. Always loud.
        _ => (Kind::Incident, Status::Failure),
    };
    let mut message = Message::new(kind, status);
    message.title = Some(match report.reason {
        Reason::RolledBack => format!("Rolled back {} and verified healthy", report.environment),
        Reason::DeployFailed => format!("Rollback of {} failed to deploy", report.environment),
        Reason::Interrupted => format!(
            "Rollback of {} was interrupted before it was verified",
            report.environment
        ),
        Reason::VerificationFailed => {
            format!(
                "{} is still unhealthy after the rollback",
                report.environment
            )
        }
        _ => format!(
            "{} is unhealthy and could not be rolled back",
            report.environment
        ),
    });
    let mut text = report.message.clone();
    let failing = report.failing_checks();
    if !failing.is_empty() {
        text.push_str("\nFailing checks:\n");
        text.push_str(&failing.join("\n"));
    }
    message.text = Some(text);
    message.environment = Some(report.environment.clone());
    message.from_sha = report.from_sha.clone().or(report.from_tag.clone());
    message.to_sha = report.to_sha.clone().or(report.to_tag.clone());
    message.run_url = run_url.map(str::to_owned);
    let payload = message.render();
    let transport = Transport::Webhook {
        url: webhook.clone(),
    };
    match slack::send::send(http, policy, &transport, &payload, None, None).await {
        Ok(_) => actions.log("Slack alert sent"),
        Err(err) => actions.annotate(Annotation::new(
            Level::Warning,
            shipguard::codes::Slack::SlackFailed,
            format!("the Slack alert was not sent: {err:#}"),
        )),
    }
}
