#!/usr/bin/env bash
# metrics-url evaluation speed: ten checks against a 5,000-series /metrics page (two scrapes
# parsed, ten queries evaluated), whole process: CPU time with perf stat (steadier than wall
# time on a shared machine), wall time with hyperfine, peak memory with GNU time.
# metrics-eval is its own crate (bench/metrics-eval), compiled as the tools are (opt-level 3).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
cargo build --release -p metrics-eval
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/metrics-eval"
out=bench/out/metrics
mkdir -p "$out"
"$bin" write "$out"
wc -c "$out/before.txt"
"$bin" "$out"
uptime
if command -v perf >/dev/null; then
  perf stat -r 30 -e task-clock "$bin" "$out" 2>&1 >/dev/null | grep -E "task-clock|elapsed"
fi
hyperfine -N --warmup 3 --runs 30 --export-markdown "$out/hyperfine.md" "$bin $out"
/usr/bin/time -v "$bin" "$out" 2>&1 >/dev/null | grep -E "Maximum resident|Elapsed"
