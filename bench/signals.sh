#!/usr/bin/env bash
# How long health-wait takes from a signal to its exit, outputs and summary written: the
# runner allows 7.5 s before SIGTERM (actions/runner src/Runner.Sdk/ProcessInvoker.cs).
# Usage: HW=<health-wait binary> bash bench/signals.sh [runs]   (default: target/debug)
set -euo pipefail
hw="${HW:-target/debug/health-wait}"
runs="${1:-20}"
out="$(mktemp -d)"
trap 'rm -rf -- "$out"' EXIT
for sig in INT TERM; do
  times=()
  for _ in $(seq "$runs"); do
    # Port 9 (discard) is closed on loopback: every probe is refused, the wait goes on.
    env -i PATH=/usr/bin:/bin GITHUB_OUTPUT="$out/o" GITHUB_STEP_SUMMARY="$out/s" \
      INPUT_URL=http://127.0.0.1:9/health INPUT_INTERVAL=200ms INPUT_TIMEOUT=10m \
      "$hw" >/dev/null 2>&1 &
    pid=$!
    sleep 0.5
    t0=$(date +%s%N)
    kill -s "$sig" "$pid"
    rc=0
    wait "$pid" || rc=$?
    t1=$(date +%s%N)
    [[ $rc -eq 1 ]] || { echo "SIG$sig: exit $rc, expected 1" >&2; exit 1; }
    times+=($(( (t1 - t0) / 1000000 )))
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -n))
  echo "SIG$sig: median ${sorted[$(( runs / 2 ))]} ms, max ${sorted[-1]} ms over $runs runs"
done
