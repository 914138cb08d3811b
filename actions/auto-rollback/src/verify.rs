//! Verification and the end of a rollback: the same judgement as the analysis (probes until
//! `success-threshold` passes, and the metric checks when `metrics` is set), then the
//! record's final status and the report's reason.

use shipguard::deployment_record::Recorder;

use crate::analysis;
use crate::record;
use crate::report::{Reason, Report};
use crate::rollback::{Run, interrupted};

/// Verifies the rollback within what is left of the deadline, and finishes the run.
pub async fn verify(run: &Run<'_>, recorder: Option<&Recorder>, report: &mut Report) {
    report.phase = "verification";
    let t0 = run.at();
    let mut verification = run.settings.verification.clone();
    verification.timing.timeout = verification.timing.timeout.min(run.left());
    let measured = analysis::measure(
        run.ctx,
        run.settings,
        &verification,
        "Verification",
        run.deadline,
    )
    .await;
    report.set_verification(&measured.probes);
    // A metric check that fails (or cannot be measured) after the rollback fails the
    // verification: the probes alone are not the judgement the analysis made.
    let metrics_failed = measured.metrics.as_ref().filter(|m| !m.passed()).map(|m| {
        m.reason
            .clone()
            .unwrap_or_else(|| format!("verdict {:?}", m.verdict).to_lowercase())
    });
    if let Some(why) = &metrics_failed {
        run.ctx
            .actions
            .log(&format!("verification: metrics: {why}"));
        report.verified = Some(false);
    }
    report.verification_metrics = measured.metrics;
    report.phases.push(("verification".into(), t0, run.at()));
    report.phase = "recording on GitHub";
    finish(run, recorder, report, metrics_failed).await;
}

/// The record's final status and the report's reason, from the verification.
async fn finish(
    run: &Run<'_>,
    recorder: Option<&Recorder>,
    report: &mut Report,
    metrics_failed: Option<String>,
) {
    if shipguard::interrupt::received().is_some() {
        // Probing was cut short: whether the rollback is healthy is not known.
        report.verified = None;
        let why = "the rollback was deployed, then interrupted before it was verified";
        record::close(recorder, "error", why, run.ctx).await;
        interrupted(
            report,
            "during the verification: the rollback was deployed but not verified",
        );
        return;
    }
    if report.verified == Some(true) {
        record::close(
            recorder,
            "success",
            "rolled back and verified healthy",
            run.ctx,
        )
        .await;
        report.end(
            Reason::RolledBack,
            format!(
                "rolled back from {} to {} and verified healthy",
                report.from(),
                report.to()
            ),
        );
        return;
    }
    record::close(
        recorder,
        "failure",
        "still unhealthy after the rollback",
        run.ctx,
    )
    .await;
    let metrics = metrics_failed
        .map(|why| format!(" (metrics: {why})"))
        .unwrap_or_default();
    report.end(
        Reason::VerificationFailed,
        format!(
            "rolled back from {} to {}, but it is still unhealthy{metrics}",
            report.from(),
            report.to()
        ),
    );
}
