//! A real Prometheus (Debian's `prometheus` package; CI installs it) on loopback, scraping
//! one target every second, for the metric checks' integration tests. `start` gives `None`
//! when the binary is not installed, so a test can say it was skipped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A Prometheus process, killed and reaped when dropped.
pub struct RealPrometheus {
    child: Child,
    pub addr: SocketAddr,
    _data: tempfile::TempDir,
}

impl RealPrometheus {
    /// Starts Prometheus scraping `target`'s `/metrics` every second and waits (up to 30 s)
    /// until it is ready. `Ok(None)`: not installed.
    pub fn start(target: SocketAddr) -> anyhow::Result<Option<Self>> {
        let Some(binary) = find_binary() else {
            return Ok(None);
        };
        let data = tempfile::tempdir()?;
        let config = data.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )?;
        // A free port: bound, read, released for Prometheus to take.
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                data.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let prometheus = Self {
            child,
            addr,
            _data: data,
        };
        let ready = prometheus.wait_until(Duration::from_secs(30), |p| {
            get(p.addr, "/-/ready").is_some_and(|(status, _)| status == 200)
        });
        anyhow::ensure!(ready, "Prometheus on {addr} was not ready within 30 s");
        Ok(Some(prometheus))
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// One instant query: the single value, if there is exactly one.
    pub fn query(&self, query: &str) -> Option<f64> {
        let mut url = url::Url::parse("http://prometheus/api/v1/query").ok()?;
        url.query_pairs_mut().append_pair("query", query);
        let path = format!("{}?{}", url.path(), url.query()?);
        let (status, body) = get(self.addr, &path)?;
        if status != 200 {
            return None;
        }
        let reply: serde_json::Value = serde_json::from_str(&body).ok()?;
        let result = reply["data"]["result"].as_array()?;
        match result.as_slice() {
            [one] => one["value"][1].as_str()?.parse().ok(),
            _ => None,
        }
    }

    /// Polls `ready` every 200 ms until it holds or `limit` passes.
    pub fn wait_until(&self, limit: Duration, mut ready: impl FnMut(&Self) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if ready(self) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        false
    }
}

impl Drop for RealPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_binary() -> Option<std::path::PathBuf> {
    let env = shipguard::env::Env::from_process();
    let path = env.var("PATH")?;
    std::env::split_paths(path)
        .map(|dir| dir.join("prometheus"))
        .find(|candidate| candidate.is_file())
}

/// A plain HTTP/1.0 GET (no chunked answers): status and body.
fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: prometheus\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}
