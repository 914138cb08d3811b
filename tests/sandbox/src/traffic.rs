//! Real traffic for the metric checks: an app whose `/work` answers according to a scenario
//! and whose `/metrics` exposes what it served in the Prometheus text format (a request
//! counter by status code and a latency histogram), plus a small load generator that keeps
//! calling `/work`.
//!
//! Scenarios: `Healthy` (every request 200, fast), `ErrorBurst` (exactly one request in 20,
//! 5 %, answers 500), `LatencyRegression` (every request takes 300 ms). The counts are exact,
//! not random, so a test knows what the error rate is.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::get;

use crate::server::{self, Running, lock};

/// What `/work` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Healthy,
    ErrorBurst,
    LatencyRegression,
}

/// The histogram's upper bounds, in seconds (`+Inf` is added when exposed).
pub const BUCKETS: [f64; 7] = [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0];

#[derive(Debug)]
struct Counters {
    scenario: Scenario,
    served: u64,
    ok: u64,
    errors: u64,
    /// Per bucket of [`BUCKETS`], cumulative as exposed; the last is `+Inf`.
    buckets: [u64; BUCKETS.len() + 1],
    sum: f64,
    /// `/metrics` requests answered.
    scrapes: u64,
}

/// The traffic app, running until dropped.
pub struct TrafficApp {
    counters: Arc<Mutex<Counters>>,
    pub server: Running,
}

impl TrafficApp {
    pub fn start(scenario: Scenario) -> anyhow::Result<Self> {
        let counters = Arc::new(Mutex::new(Counters {
            scenario,
            served: 0,
            ok: 0,
            errors: 0,
            buckets: [0; BUCKETS.len() + 1],
            sum: 0.0,
            scrapes: 0,
        }));
        let router = Router::new()
            .route("/work", get(work))
            .route("/health", get(|| async { "ok" }))
            .route("/metrics", get(metrics))
            .with_state(counters.clone());
        let server = server::spawn(router, "127.0.0.1:0".parse()?, None)?;
        Ok(Self { counters, server })
    }

    pub fn set_scenario(&self, scenario: Scenario) {
        lock(&self.counters).scenario = scenario;
    }

    /// Requests served so far: (all, 5xx).
    pub fn served(&self) -> (u64, u64) {
        let c = lock(&self.counters);
        (c.served, c.errors)
    }

    /// `/metrics` requests answered so far.
    pub fn scrapes(&self) -> u64 {
        lock(&self.counters).scrapes
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base_url())
    }

    /// Restarts the counters from zero, as a restarted process does (a counter reset).
    pub fn reset_counters(&self) {
        let mut c = lock(&self.counters);
        c.served = 0;
        c.ok = 0;
        c.errors = 0;
        c.buckets = [0; BUCKETS.len() + 1];
        c.sum = 0.0;
    }
}

async fn work(State(counters): State<Arc<Mutex<Counters>>>) -> axum::response::Response {
    let started = Instant::now();
    let (scenario, n) = {
        let mut c = lock(&counters);
        c.served += 1;
        (c.scenario, c.served)
    };
    if scenario == Scenario::LatencyRegression {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let status = if scenario == Scenario::ErrorBurst && n % 20 == 0 {
        500
    } else {
        200
    };
    let took = started.elapsed().as_secs_f64();
    {
        let mut c = lock(&counters);
        if status == 500 {
            c.errors += 1;
        } else {
            c.ok += 1;
        }
        for (i, bound) in BUCKETS.iter().enumerate() {
            if took <= *bound {
                c.buckets[i] += 1;
            }
        }
        c.buckets[BUCKETS.len()] += 1;
        c.sum += took;
    }
    server::reply(status, "done".to_owned(), None)
}

async fn metrics(State(counters): State<Arc<Mutex<Counters>>>) -> String {
    let mut c = lock(&counters);
    c.scrapes += 1;
    exposition(&c)
}

fn exposition(c: &Counters) -> String {
    let mut out = String::new();
    out.push_str("# HELP app_requests_total Requests served, by status code.\n");
    out.push_str("# TYPE app_requests_total counter\n");
    out.push_str(&format!(
        "app_requests_total{{code=\"200\",path=\"/work\"}} {}\n",
        c.ok
    ));
    out.push_str(&format!(
        "app_requests_total{{code=\"500\",path=\"/work\"}} {}\n",
        c.errors
    ));
    out.push_str("# HELP app_request_duration_seconds Time to answer a request.\n");
    out.push_str("# TYPE app_request_duration_seconds histogram\n");
    for (i, bound) in BUCKETS.iter().enumerate() {
        out.push_str(&format!(
            "app_request_duration_seconds_bucket{{le=\"{bound}\"}} {}\n",
            c.buckets[i]
        ));
    }
    out.push_str(&format!(
        "app_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n",
        c.buckets[BUCKETS.len()]
    ));
    out.push_str(&format!("app_request_duration_seconds_sum {}\n", c.sum));
    out.push_str(&format!(
        "app_request_duration_seconds_count {}\n",
        c.buckets[BUCKETS.len()]
    ));
    out
}

/// Calls `GET /work` from a few threads, one request after another each, until dropped.
pub struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Load {
    /// `workers` threads, each pausing `pause` between its requests.
    pub fn start(addr: SocketAddr, workers: usize, pause: Duration) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = (0..workers)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let _ = one_request(addr);
                        std::thread::sleep(pause);
                    }
                })
            })
            .collect();
        Self { stop, threads }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn one_request(addr: SocketAddr) -> std::io::Result<()> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.write_all(b"GET /work HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n")?;
    let mut sink = Vec::new();
    stream.read_to_end(&mut sink)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_burst_is_exactly_five_percent() {
        let app = TrafficApp::start(Scenario::ErrorBurst).unwrap();
        for _ in 0..40 {
            one_request(app.server.addr).unwrap();
        }
        assert_eq!(app.served(), (40, 2));
        let page = exposition(&lock(&app.counters));
        assert!(
            page.contains("app_requests_total{code=\"500\",path=\"/work\"} 2\n"),
            "{page}"
        );
        assert!(
            page.contains("app_request_duration_seconds_bucket{le=\"+Inf\"} 40\n"),
            "{page}"
        );
    }
}
