//! Metric checks: judge real traffic, not only our probes. A check is `NAME: QUERY OP NUMBER`
//! (check.rs), measured against a Prometheus HTTP API (prometheus.rs) at every interval, and
//! judged with Argo Rollouts' analysis semantics (analysis.rs).

mod alongside;
pub mod analysis;
pub mod baseline;
pub mod check;
pub mod evaluate;
pub mod exposition;
pub mod prometheus;
pub mod run;
pub mod scrape;
pub mod settings;
pub mod summary;

pub use alongside::alongside;
pub use analysis::{Analysis, AnalysisReport, CheckReport, Limits, Measurement, Outcome, Verdict};
pub use check::{Check, Op};
pub use prometheus::PrometheusSource;
pub use run::{MetricRun, Source};
