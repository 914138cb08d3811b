#!/usr/bin/env bash
# metrics-url evaluation speed: ten checks against a 5,000-series /metrics page (two scrapes
# parsed, ten queries evaluated), whole process, with hyperfine; peak memory with GNU time.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
cargo build --release -p sandbox --bin metrics-eval
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/metrics-eval"
out=bench/out/metrics
mkdir -p "$out"
"$bin" write "$out"
wc -c "$out/before.txt"
"$bin" "$out"
hyperfine --warmup 3 --runs 30 --export-markdown "$out/hyperfine.md" "$bin $out"
/usr/bin/time -v "$bin" "$out" 2>&1 >/dev/null | grep -E "Maximum resident|Elapsed"
