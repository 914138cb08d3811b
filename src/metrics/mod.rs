//! Metric checks: judge real traffic, not only our probes. A check is `NAME: QUERY OP NUMBER`
//! (check.rs), measured against a Prometheus HTTP API (prometheus.rs) at every interval, and
//! judged with Argo Rollouts' analysis semantics (analysis.rs).

pub mod analysis;
pub mod check;
pub mod prometheus;

pub use analysis::{Analysis, AnalysisReport, Limits, Measurement, Outcome};
pub use check::{Check, Op};
pub use prometheus::PrometheusSource;
