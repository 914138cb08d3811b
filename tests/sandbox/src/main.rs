//! `sandbox`: local stand-ins for the servers shipguard talks to.
//!
//!   sandbox demo
//!       The suite's main job against local stand-ins, with the real binaries, narrated.
//!
//!   sandbox app [--bind ADDR] [--healthy-after DURATION] [--delay DURATION]
//!       A demo app whose every path answers 503 until DURATION after its first request,
//!       then 200 `{"status":"healthy"}`. Prints `url=<base URL>` and serves until stdin
//!       closes or the process is stopped. Benchmarks use it.

use std::io::Read as _;
use std::time::Duration;

use sandbox::app::{App, Plan, Reply};

fn main() -> std::process::ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> anyhow::Result<()> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("demo") => sandbox::demo::run(),
        Some("app") => app(args.collect()),
        _ => anyhow::bail!(
            "usage: sandbox demo | sandbox app [--bind ADDR] [--healthy-after DURATION] [--delay DURATION]"
        ),
    }
}

fn app(args: Vec<String>) -> anyhow::Result<()> {
    let mut bind = "127.0.0.1:0".to_owned();
    let mut healthy_after = Duration::ZERO;
    let mut delay = Duration::ZERO;
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--bind" => bind = value,
            "--healthy-after" => healthy_after = millis(&value)?,
            "--delay" => delay = millis(&value)?,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    let app = App::start_on(bind.parse()?, None)?;
    app.forget_requests();
    app.fallback(Plan::SwitchAfter {
        after: healthy_after,
        before: Reply::json(503, serde_json::json!({"status": "starting"})).delay(delay),
        then: Reply::json(200, serde_json::json!({"status": "healthy"})).delay(delay),
    });
    println!("url={}", app.server.base_url());
    // Serve until whoever started us closes our stdin (or stops us).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    Ok(())
}

/// `250ms`, `3s` or a bare number of milliseconds.
fn millis(text: &str) -> anyhow::Result<Duration> {
    let (number, scale) = match text.strip_suffix("ms") {
        Some(n) => (n, 1),
        None => match text.strip_suffix('s') {
            Some(n) => (n, 1000),
            None => (text, 1),
        },
    };
    Ok(Duration::from_millis(number.parse::<u64>()? * scale))
}
