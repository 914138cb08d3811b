//! The evidence of one run: the `report` JSON, the step outputs, the summary (one row per
//! service) and the verdict line.

use serde_json::{Map, Value, json};
use shipguard::codes::Deploy;
use shipguard::gha::Summary;
use shipguard::gha::shown;
use shipguard::gha::summary::{cell, code};
use shipguard::railway::deploy::{Outcome, Run};
use shipguard::report::railway_deploy;

/// The core report ([`shipguard::report::railway_deploy`]) with this tool's rendering (the report is field `0`).
#[derive(Debug)]
pub struct Report(pub railway_deploy::Report);

impl Report {
    pub fn new(version: &str, api_url: String, token_kind: &'static str, run: Run) -> Self {
        Self(railway_deploy::Report::new(
            version, api_url, token_kind, run,
        ))
    }

    pub fn ok(&self) -> bool {
        self.0.run.status == Outcome::Success
    }

    /// service → the new deployment's id.
    pub fn deployment_ids(&self) -> Value {
        let map: Map<String, Value> = self
            .0
            .run
            .services
            .iter()
            .filter_map(|s| {
                s.deployment_id
                    .as_ref()
                    .map(|id| (s.service.clone(), json!(id)))
            })
            .collect();
        Value::Object(map)
    }

    /// service → the deployment (and its image or commit) that served before.
    pub fn previous(&self) -> Value {
        let map: Map<String, Value> = self
            .0
            .run
            .services
            .iter()
            .filter_map(|s| {
                s.previous.as_ref().map(|p| {
                    (
                        s.service.clone(),
                        serde_json::to_value(p).unwrap_or(Value::Null),
                    )
                })
            })
            .collect();
        Value::Object(map)
    }

    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("status", self.0.run.status.as_str().to_owned()),
            ("deployment-ids", self.deployment_ids().to_string()),
            ("previous", self.previous().to_string()),
            (
                "duration-seconds",
                format!("{:.0}", self.0.run.seconds.ceil()),
            ),
        ]
    }

    pub fn failure_code(&self) -> &'static str {
        match self.0.run.status {
            Outcome::Timeout => Deploy::DeployTimeout.as_str(),
            Outcome::Interrupted => shipguard::codes::Run::Interrupted.as_str(),
            _ => Deploy::DeployFailed.as_str(),
        }
    }
}

impl shipguard::ending::Ending for Report {
    fn report(&self) -> anyhow::Result<Value> {
        Ok(serde_json::to_value(&self.0)?)
    }

    fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(Report::outputs(self))
    }

    fn summary(&self) -> Summary {
        let r = &self.0.run;
        let mut summary = Summary::new();
        let icon = if self.ok() { "✅" } else { "❌" };
        summary.heading(
            3,
            &format!(
                "{icon} railway-deploy {}: {}",
                r.status.as_str(),
                cell(&r.source)
            ),
        );
        if let Some(reason) = &r.reason {
            summary.paragraph(&cell(reason));
        }
        let rows: Vec<Vec<String>> = r
            .services
            .iter()
            .map(|s| {
                vec![
                    code(&s.service),
                    cell(
                        &s.previous
                            .as_ref()
                            .map(|p| {
                                p.image
                                    .clone()
                                    .or_else(|| p.commit.clone())
                                    .unwrap_or_else(|| p.deployment.clone())
                            })
                            .unwrap_or_default(),
                    ),
                    code(s.deployment_id.as_deref().unwrap_or("")),
                    cell(
                        &s.status
                            .as_ref()
                            .map_or_else(String::new, |st| st.as_str().into_owned()),
                    ),
                    if s.cancelled {
                        "cancelled".into()
                    } else {
                        String::new()
                    },
                    cell(s.note.as_deref().unwrap_or("")),
                ]
            })
            .collect();
        summary.table(
            &[
                "Service",
                "Before",
                "Deployment",
                "Railway status",
                "Cancel",
                "Note",
            ],
            rows,
        );
        summary.paragraph(&format!(
            "{} GraphQL request(s), {} poll(s), {:.0} s.",
            r.requests, r.polls, r.seconds
        ));
        summary
    }

    fn verdict_line(&self) -> String {
        let r = &self.0.run;
        let requests = format!("{} API request(s)", r.requests);
        match r.status {
            Outcome::Success => format!(
                "{} service(s) deployed {}: Railway says SUCCESS ({requests})",
                r.services.len(),
                shown(&r.source)
            ),
            status => format!(
                "railway deploy {}: {} ({requests})",
                status.as_str(),
                r.reason.as_deref().unwrap_or("no reason recorded")
            ),
        }
    }

    fn failure(&self) -> Option<&'static str> {
        (!self.ok()).then(|| self.failure_code())
    }
}
