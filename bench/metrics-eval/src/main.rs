//! The metrics-url evaluation on its own, for bench/metrics.sh: `metrics-eval write DIR`
//! writes two scrapes of a 5,000-series `/metrics` page (10 s apart in the counters);
//! `metrics-eval DIR` parses both and evaluates ten checks, printing each value;
//! `metrics-eval DIR again` then prepares the ten queries a second time (not in the total).

use std::time::{Duration, Instant};

use shipguard::metrics::evaluate::{eval, prepare, single};
use shipguard::metrics::scrape::Snapshot;

const CHECKS: [&str; 10] = [
    r#"sum(rate(http_requests_total{code=~"5.."}[2m])) / sum(rate(http_requests_total[2m]))"#,
    "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[2m])))",
    "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[2m])))",
    "histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[2m])))",
    r#"sum(rate(http_requests_total{code="200"}[2m]))"#,
    r#"sum(increase(http_requests_total{route!~"/static/.*"}[5m]))"#,
    r#"sum(rate(http_requests_total{method="POST",code=~"5.."}[2m])) / sum(rate(http_requests_total{method="POST"}[2m]))"#,
    r#"sum(rate(http_request_duration_seconds_sum[2m])) / sum(rate(http_request_duration_seconds_count[2m]))"#,
    r#"sum(rate(http_requests_total{code=~"4.."}[2m])) * 100"#,
    r#"sum(rate(http_requests_total{route="/api/route-7"}[2m]))"#,
];

/// 5,000 series: a request counter by route × method × code (4,000) and a latency
/// histogram by route (100 routes × 10 series).
fn page(scale: u64) -> String {
    let mut out = String::from("# TYPE http_requests_total counter\n");
    for route in 0..100 {
        for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
            for code in ["200", "201", "204", "301", "400", "401", "404", "500"] {
                out.push_str(&format!(
                    "http_requests_total{{route=\"/api/route-{route}\",method=\"{method}\",code=\"{code}\"}} {}\n",
                    (route + 1) * scale
                ));
            }
        }
    }
    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    for route in 0..100 {
        let mut cumulative = 0;
        for (i, le) in ["0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "+Inf"]
            .iter()
            .enumerate()
        {
            cumulative += (i as u64 + 1) * scale;
            out.push_str(&format!(
                "http_request_duration_seconds_bucket{{route=\"/api/route-{route}\",le=\"{le}\"}} {cumulative}\n"
            ));
        }
        out.push_str(&format!(
            "http_request_duration_seconds_sum{{route=\"/api/route-{route}\"}} {}\n",
            scale * 3
        ));
        out.push_str(&format!(
            "http_request_duration_seconds_count{{route=\"/api/route-{route}\"}} {cumulative}\n"
        ));
    }
    out
}

const USAGE: &str = "usage: metrics-eval write DIR | metrics-eval DIR [again]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [write, dir] if write == "write" => {
            std::fs::create_dir_all(dir)?;
            std::fs::write(format!("{dir}/before.txt"), page(100))?;
            std::fs::write(format!("{dir}/after.txt"), page(110))?;
            Ok(())
        }
        [dir] | [dir, _] => {
            let before = std::fs::read_to_string(format!("{dir}/before.txt"))?;
            let after = std::fs::read_to_string(format!("{dir}/after.txt"))?;
            let started = Instant::now();
            let exprs = CHECKS
                .iter()
                .map(|q| prepare(q))
                .collect::<Result<Vec<_>, _>>()?;
            let prepared = started.elapsed();
            let t0 = Instant::now();
            let prev = Snapshot::parse(before, t0)?;
            let cur = Snapshot::parse(after, t0 + Duration::from_secs(10))?;
            let parsed = started.elapsed();
            for (query, expr) in CHECKS.iter().zip(&exprs) {
                let value = eval(expr, &prev, &cur, 10.0).and_then(single);
                println!("{value:?}\t{query}");
            }
            let total = started.elapsed();
            // The same ten again, after the measured run: what the first time paid once per
            // process (the PromQL parser's tables are decoded at its first use) shows as the
            // difference.
            let again = match args.get(1).map(String::as_str) {
                Some("again") => {
                    let again = Instant::now();
                    for q in CHECKS {
                        prepare(q)?;
                    }
                    format!(" (again: {:?})", again.elapsed())
                }
                Some(_) => return Err(USAGE.into()),
                None => String::new(),
            };
            eprintln!(
                "series {} + {}; PromQL prepared {:?}{again}; + both pages parsed {:?}; total {:?}",
                prev.len(),
                cur.len(),
                prepared,
                parsed,
                total
            );
            Ok(())
        }
        _ => Err(USAGE.into()),
    }
}
