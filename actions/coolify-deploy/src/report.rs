//! The evidence of one run: the `report` JSON, the outputs, and the step summary (one row
//! per app and a Mermaid timeline of each deployment's queue and build).

use std::collections::BTreeMap;

use serde::Serialize;
use shipguard::codes::Deploy;
use shipguard::commit::CommitSha;
use shipguard::coolify::git::Pin;
use shipguard::coolify::rollout::log_tail;
use shipguard::coolify::{Outcome, Rollout};
use shipguard::gha::summary::{Span, inline, timeline};
use shipguard::gha::{Actions, Annotation, Summary, Untrusted};
use shipguard::report::coolify_deploy;

/// The core report ([`shipguard::report::coolify_deploy`]) with this tool's rendering, and
/// the rollout's warnings to annotate.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Report {
    pub report: coolify_deploy::Report,
    #[serde(skip)]
    pub annotations: Vec<Annotation>,
}

impl Report {
    pub fn new(
        version: &'static str,
        target: String,
        coolify_version: Option<String>,
        image_tag: Option<String>,
        rollout: Rollout,
        log_lines: usize,
    ) -> Self {
        let log_tails = rollout
            .deployments
            .iter()
            .filter(|t| {
                matches!(
                    t.outcome,
                    Outcome::Failed | Outcome::Timeout | Outcome::Cancelled | Outcome::Interrupted
                )
            })
            .filter_map(|t| Some((t.app.clone(), log_tail(t.logs.as_deref()?, log_lines))))
            .collect();
        let annotations = shipguard::coolify::warnings::annotations(&rollout);
        let report = coolify_deploy::Report {
            schema: shipguard::report::schema_id(coolify_deploy::TOOL),
            tool: coolify_deploy::TOOL,
            version: version.to_owned(),
            kind: "deploy",
            status: rollout.status,
            target,
            coolify_version,
            image_tag,
            duration_seconds: round(rollout.duration_seconds),
            previous_image_tags: rollout.previous_image_tags,
            restored_image_tags: rollout.restored_image_tags,
            restore_failures: rollout.restore_failures,
            deployments: rollout.deployments,
            log_tails,
            github_deployment_id: None,
            commit: None,
            commits: BTreeMap::new(),
            commit_pins: Vec::new(),
        };
        Self {
            report,
            annotations,
        }
    }

    /// A commit deploy: what was asked for, what each deployment says it built, and the pins.
    pub fn set_commit(&mut self, commit: Option<&CommitSha>, pins: Vec<Pin>) {
        let Some(commit) = commit else { return };
        let report = &mut self.report;
        report.commit = Some(commit.to_string());
        report.commit_pins = pins;
        for t in &mut report.deployments {
            let built = t
                .commit
                .as_ref()
                .map(|c| c.as_raw().trim().to_ascii_lowercase());
            match built {
                Some(built) if CommitSha::parse(&built).is_ok() => {
                    if built != commit.as_str() {
                        t.note = Some(format!(
                            "Coolify reports commit {built}, not the {} asked for",
                            commit.short()
                        ));
                    }
                    report.commits.insert(t.app.as_raw().to_owned(), built);
                }
                // Not waited for, or not resolved yet: the commit asked for.
                _ => {
                    report
                        .commits
                        .insert(t.app.as_raw().to_owned(), commit.to_string());
                }
            }
        }
    }

    /// The action's outputs, `report` included.
    pub fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        let uuids: Vec<&str> = self
            .report
            .deployments
            .iter()
            .filter_map(|t| t.deployment_uuid.as_ref().map(Untrusted::as_raw))
            .collect();
        Ok(vec![
            ("deployment-uuids", uuids.join(",")),
            ("status", self.report.status.as_str().to_owned()),
            (
                "previous-image-tags",
                serde_json::to_string(&self.report.previous_image_tags)?,
            ),
            ("commits", serde_json::to_string(&self.report.commits)?),
            (
                "restored-image-tags",
                serde_json::to_string(&self.report.restored_image_tags)?,
            ),
            (
                "duration-seconds",
                format!("{:.0}", self.report.duration_seconds.ceil()),
            ),
        ])
    }

    fn count(&self, outcome: Outcome) -> usize {
        self.report
            .deployments
            .iter()
            .filter(|t| t.outcome == outcome)
            .count()
    }

    /// The annotation title for a negative verdict.
    pub fn failure_code(&self) -> &'static str {
        match self.report.status {
            Outcome::Timeout => Deploy::DeployTimeout.as_str(),
            Outcome::Cancelled => Deploy::DeployCancelled.as_str(),
            Outcome::Interrupted => Deploy::DeployInterrupted.as_str(),
            _ => Deploy::DeployFailed.as_str(),
        }
    }

    fn spans(&self) -> Vec<Span> {
        let mut spans = Vec::new();
        for t in &self.report.deployments {
            let section = t.name().as_raw().to_owned();
            let Some(end) = t.ended_at else { continue };
            let build_start = t.started_at.unwrap_or(end);
            if build_start > t.queued_at {
                spans.push(Span {
                    section: section.clone(),
                    label: "queued".into(),
                    start: t.queued_at,
                    end: build_start,
                });
            }
            spans.push(Span {
                section,
                label: t.outcome.as_str().into(),
                start: build_start,
                end,
            });
        }
        spans
    }
}

fn round(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

impl Report {
    fn ok(&self) -> bool {
        matches!(self.report.status, Outcome::Finished | Outcome::Queued)
    }

    /// The last build log lines of every deployment that did not finish, each in its own
    /// group; build logs are untrusted, printed between stop-commands markers.
    pub fn print_log_tails(&self, actions: &Actions) {
        for t in &self.report.deployments {
            if !matches!(
                t.outcome,
                Outcome::Failed | Outcome::Timeout | Outcome::Cancelled | Outcome::Interrupted
            ) {
                continue;
            }
            let name = t.name();
            match self.report.log_tails.get(&t.app) {
                Some(lines) => {
                    let _group =
                        actions.group(&format!("Last {} log lines of {name}", lines.len()));
                    actions.untrusted(&Untrusted::joined(lines, "\n"));
                }
                None => actions.log(&format!(
                    "{name}: no deployment log (the token needs read:sensitive to read logs)"
                )),
            }
        }
    }
}

impl shipguard::ending::Ending for Report {
    fn report(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.report)?)
    }

    fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        Report::outputs(self)
    }

    fn summary(&self) -> Summary {
        let mut s = Summary::new();
        let icon = match self.report.status {
            Outcome::Finished | Outcome::Queued => "✅",
            _ => "❌",
        };
        s.heading(
            3,
            &format!("{icon} coolify-deploy: {}", self.verdict_line()),
        );
        let mut facts = vec![format!("Target: {}", inline(&self.report.target))];
        if let Some(v) = &self.report.coolify_version {
            facts.push(format!("Coolify {}", inline(v)));
        }
        if let Some(commit) = &self.report.commit {
            facts.push(format!("Commit {}", inline(commit)));
        }
        for pin in &self.report.commit_pins {
            facts.push(if pin.restored {
                format!(
                    "commit pin of {} put back to {}",
                    inline(&pin.app),
                    inline(&pin.restore_to)
                )
            } else {
                format!(
                    "⚠️ commit pin of {} NOT put back to {}",
                    inline(&pin.app),
                    inline(&pin.restore_to)
                )
            });
        }
        s.paragraph(&facts.join(" · "));
        if !self.report.restored_image_tags.is_empty() {
            let restored: Vec<String> = self
                .report
                .restored_image_tags
                .iter()
                .map(|(app, tag)| format!("{} → {}", inline(app), inline(tag)))
                .collect();
            s.paragraph(&format!(
                "Image tags set back (the deployment did not finish): {}",
                restored.join(", ")
            ));
        }
        for failure in &self.report.restore_failures {
            s.paragraph(&format!(
                "⚠️ Image tag NOT set back on {}: set it to {} by hand",
                inline(&failure.app),
                inline(&failure.tag)
            ));
        }
        let rows: Vec<Vec<String>> = self
            .report
            .deployments
            .iter()
            .map(|t| {
                let duration = match (t.ended_at, t.queued_at) {
                    (Some(end), start) => format!("{:.1}s", end - start),
                    (None, _) => String::new(),
                };
                let previous = self
                    .report
                    .previous_image_tags
                    .get(t.app.as_raw())
                    .cloned()
                    .unwrap_or_default();
                // Raw text: each cell is escaped once, by `Summary::table`.
                vec![
                    t.name().as_raw().to_owned(),
                    t.deployment_uuid.clone().unwrap_or_default().into_raw(),
                    t.outcome.as_str().to_owned(),
                    duration,
                    previous,
                    t.link.clone().unwrap_or_default(),
                    t.note.clone().unwrap_or_default(),
                ]
            })
            .collect();
        s.table(
            &[
                "App",
                "Deployment",
                "Status",
                "Duration",
                "Previous tag",
                "Link",
                "Note",
            ],
            &rows,
        );
        let spans = self.spans();
        if !spans.is_empty() {
            s.mermaid(&timeline("Deployments", &spans));
        }
        for (app, lines) in &self.report.log_tails {
            let mut body = Summary::new();
            body.code_block(Untrusted::joined(lines, "\n").as_raw());
            s.details(
                &format!("Last {} log lines of {}", lines.len(), app.as_raw()),
                &body,
            );
        }
        s
    }

    /// One line for the log and the annotation.
    fn verdict_line(&self) -> String {
        let apps = self.report.deployments.len();
        let noun = if apps == 1 {
            "deployment"
        } else {
            "deployments"
        };
        let tag = match (&self.report.image_tag, &self.report.commit) {
            (Some(t), _) => format!(" of image tag {t}"),
            (None, Some(c)) => format!(" of commit {}", c.chars().take(7).collect::<String>()),
            (None, None) => String::new(),
        };
        match self.report.status {
            Outcome::Finished => format!(
                "{apps} {noun}{tag} finished in {:.1}s",
                self.report.duration_seconds
            ),
            Outcome::Queued => format!("{apps} {noun}{tag} queued (not waited for)"),
            Outcome::Failed => format!(
                "{} of {apps} {noun}{tag} failed",
                self.count(Outcome::Failed)
            ),
            Outcome::Cancelled => format!(
                "{} of {apps} {noun}{tag} cancelled",
                self.count(Outcome::Cancelled)
            ),
            // Coolify's rollout never ends so (it is Fly's): named for completeness.
            Outcome::Restored => format!(
                "{} of {apps} {noun}{tag} failed and put back",
                self.count(Outcome::Restored)
            ),
            Outcome::Timeout => format!(
                "{} of {apps} {noun}{tag} still running after {:.0}s",
                self.count(Outcome::Timeout),
                self.report.duration_seconds
            ),
            Outcome::Interrupted => format!(
                "{} of {apps} {noun}{tag} stopped after {:.0}s: the run was interrupted (cancelled or timed out)",
                self.count(Outcome::Interrupted),
                self.report.duration_seconds
            ),
        }
    }

    /// The rollout's warnings, then the failure's error.
    fn failure(&self) -> Option<&'static str> {
        (!self.ok()).then(|| self.failure_code())
    }

    fn annotations(&self) -> Vec<Annotation> {
        let mut annotations = self.annotations.clone();
        annotations.extend(shipguard::ending::failure_annotation(self));
        annotations
    }
}

/// A deploy webhook's answer: the deploy is queued, nothing more is known.
pub struct Queued {
    pub report: coolify_deploy::Queued,
    pub http_status: u16,
    pub seconds: f64,
}

impl shipguard::ending::Ending for Queued {
    fn report(&self) -> anyhow::Result<serde_json::Value> {
        Ok(serde_json::to_value(&self.report)?)
    }

    fn outputs(&self) -> anyhow::Result<Vec<(&'static str, String)>> {
        Ok(vec![
            ("deployment-uuids", String::new()),
            ("status", self.report.status.to_owned()),
            ("previous-image-tags", "{}".to_owned()),
            ("duration-seconds", format!("{:.0}", self.seconds.ceil())),
        ])
    }

    fn summary(&self) -> Summary {
        let mut summary = Summary::new();
        summary.heading(3, &format!("✅ coolify-deploy: {}", self.verdict_line()));
        summary
    }

    fn verdict_line(&self) -> String {
        format!(
            "deploy webhook accepted the deploy (HTTP {})",
            self.http_status
        )
    }
}
