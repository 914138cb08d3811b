//! The evidence of one run: the `report` JSON, the step outputs, the summary (one row per
//! machine and a Mermaid timeline) and the verdict line.

use shipguard::codes::Deploy;
use shipguard::fly::rollout::{Outcome, Rollout, Step};
use shipguard::gha::Summary;
use shipguard::gha::summary::{Span, cell, code, timeline};
use shipguard::report::fly_deploy;

/// The core report ([`shipguard::report::fly_deploy`]) with this tool's rendering (the report is field `0`).
#[derive(Debug)]
pub struct Report(pub fly_deploy::Report);

impl Report {
    pub fn new(version: &str, api_url: String, rollout: Rollout) -> Self {
        Self(fly_deploy::Report::new(version, api_url, rollout))
    }

    pub fn ok(&self) -> bool {
        self.0.rollout.status == Outcome::Finished
    }

    /// app → the canary's image before the run.
    pub fn previous_images(&self) -> serde_json::Value {
        let map: serde_json::Map<String, serde_json::Value> = self
            .0
            .rollout
            .apps
            .iter()
            .filter_map(|a| {
                a.previous_image
                    .as_ref()
                    .map(|i| (a.app.clone(), serde_json::Value::String(i.clone())))
            })
            .collect();
        serde_json::Value::Object(map)
    }

    pub fn outputs(&self) -> Vec<(&'static str, String)> {
        vec![
            ("status", self.0.rollout.status.as_str().to_owned()),
            ("previous-images", self.previous_images().to_string()),
            ("machines", self.0.rollout.updated.to_string()),
            (
                "duration-seconds",
                format!("{:.0}", self.0.rollout.seconds.ceil()),
            ),
        ]
    }

    pub fn failure_code(&self) -> &'static str {
        match self.0.rollout.status {
            Outcome::Timeout => Deploy::DeployTimeout.as_str(),
            Outcome::Interrupted => shipguard::codes::Run::Interrupted.as_str(),
            _ if self.0.rollout.mixed => Deploy::RestoreFailed.as_str(),
            _ => Deploy::DeployFailed.as_str(),
        }
    }
}

fn step_word(step: Step) -> &'static str {
    match step {
        Step::Unchanged => "unchanged",
        Step::Updated => "updated",
        Step::Failed => "failed",
        Step::Restored => "restored",
        Step::RestoreFailed => "**restore failed**",
    }
}

impl shipguard::ending::Ending for Report {
    fn report(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.0)?)
    }

    fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(Report::outputs(self))
    }

    fn summary(&self) -> Summary {
        let r = &self.0.rollout;
        let mut summary = Summary::new();
        let icon = match r.status {
            Outcome::Finished => "✅",
            Outcome::Restored => "↩️",
            _ => "❌",
        };
        summary.heading(
            3,
            &format!(
                "{icon} fly-deploy {}: {}",
                r.status.as_str(),
                cell(r.image.as_deref().unwrap_or("each app's own image"))
            ),
        );
        if let Some(reason) = &r.reason {
            summary.paragraph(&cell(reason));
        }
        let rows: Vec<Vec<String>> = r
            .apps
            .iter()
            .flat_map(|a| &a.machines)
            .map(|m| {
                vec![
                    cell(&m.app),
                    code(&m.id),
                    cell(&m.region),
                    cell(&m.state_before),
                    cell(&m.image_before),
                    cell(&m.image_now),
                    step_word(m.step).to_owned(),
                    cell(m.note.as_deref().unwrap_or("")),
                ]
            })
            .collect();
        if !rows.is_empty() {
            summary.table(
                &[
                    "App",
                    "Machine",
                    "Region",
                    "Before",
                    "Image before",
                    "Image now",
                    "Result",
                    "Note",
                ],
                rows,
            );
        }
        let mut spans = Vec::new();
        for m in r.apps.iter().flat_map(|a| &a.machines) {
            let section = format!("{} {}", m.app, m.id);
            if let Some((from, to)) = m.update_ms {
                spans.push(Span {
                    section: section.clone(),
                    label: "update".into(),
                    start: from as f64 / 1000.0,
                    end: to as f64 / 1000.0,
                });
            }
            if let Some((from, to)) = m.restore_ms {
                spans.push(Span {
                    section,
                    label: "restore".into(),
                    start: from as f64 / 1000.0,
                    end: to as f64 / 1000.0,
                });
            }
        }
        if !spans.is_empty() {
            summary.mermaid(&timeline("fly-deploy", &spans));
        }
        summary
    }

    fn verdict_line(&self) -> String {
        let r = &self.0.rollout;
        let machines: usize = r.apps.iter().map(|a| a.machines.len()).sum();
        match r.status {
            Outcome::Finished => format!(
                "{} machine(s) of {} app(s) run {} and pass their checks",
                r.updated,
                r.apps.len(),
                r.image.as_deref().unwrap_or("each app's own image")
            ),
            status => {
                let mut line = format!(
                    "fly deploy {}: {}",
                    status.as_str(),
                    r.reason.as_deref().unwrap_or("no reason recorded")
                );
                if r.mixed {
                    let images: Vec<String> = r
                        .apps
                        .iter()
                        .flat_map(|a| &a.machines)
                        .map(|m| format!("{} {}", m.id, shipguard::gha::shown(&m.image_now)))
                        .collect();
                    line.push_str(&format!(
                        " — MIXED STATE, machines now run: {}",
                        images.join(", ")
                    ));
                } else if machines == 0 {
                    line.push_str(" (no machine was changed)");
                }
                line
            }
        }
    }

    fn failure(&self) -> Option<&'static str> {
        (!self.ok()).then(|| self.failure_code())
    }
}
