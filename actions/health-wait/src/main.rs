//! health-wait: probe URLs until they are healthy or a deadline passes.
//! Flags: cli.rs · validation: settings.rs · probing: shipguard::probe · evidence: evidence.rs

mod cli;
mod evidence;
mod settings;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use shipguard::exit::Code;
use shipguard::probe::{Attempt, Observer};
use shipguard::redact::safe_url;
use shipguard::tool::{self, Context};

use crate::cli::Cli;
use crate::evidence::Report;
use crate::settings::Settings;

fn main() -> ExitCode {
    tool::main("health-wait", env!("CARGO_PKG_VERSION"), run)
}

async fn run(cli: Cli, ctx: &mut Context) -> anyhow::Result<Code> {
    let settings = Settings::resolve(cli, ctx)?;
    let started = Instant::now();
    let (results, metrics) = {
        let what = match settings.urls.as_slice() {
            [one] => safe_url(one),
            many => format!("{} URLs", many.len()),
        };
        let _group = ctx.actions.group(&format!("Probing {what}"));
        let logger = progress_logger(ctx, &settings);
        match settings.metrics.clone() {
            None => (settings.probe.run(&settings.urls, logger).await, None),
            Some(run) => {
                let (results, report) =
                    shipguard::metrics::alongside(&settings.probe, &settings.urls, run, logger)
                        .await;
                (results, Some(report))
            }
        }
    };
    let conditions = settings
        .conditions
        .iter()
        .map(|c| c.source().to_owned())
        .collect();
    let mut report = Report::new(
        ctx.version,
        &settings.probe.timing,
        conditions,
        &results,
        metrics,
        started.elapsed(),
    );
    if let Some((baseline, limits)) = &settings.baseline {
        report.judge_baseline(baseline, *limits);
    }
    let ending = evidence::Ending {
        report: &report,
        results: &results,
    };
    shipguard::ending::end(&ctx.actions, &ending)
}

/// One line per attempt: which URL, what came back, and how far along the threshold it is.
fn progress_logger(ctx: &Context, settings: &Settings) -> Observer {
    let actions = ctx.actions.clone();
    let labels: Vec<String> = settings.urls.iter().map(safe_url).collect();
    let threshold = settings.probe.timing.success_threshold;
    Arc::new(
        move |index: usize, attempt: &Attempt, passes: u32, hold: bool| {
            let result = attempt.describe();
            let phase = if hold {
                "hold".to_owned()
            } else {
                format!("{passes}/{threshold} passes")
            };
            actions.log(&format!(
                "{} +{:.1}s {} in {}ms ({phase})",
                labels[index],
                attempt.at.as_secs_f64(),
                result,
                attempt.latency.as_millis()
            ));
        },
    )
}
