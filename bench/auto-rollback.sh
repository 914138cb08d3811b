#!/usr/bin/env bash
# auto-rollback, time to recovery (bench/README.md has the figures): from the first failing
# probe to a verified rollback, against `sandbox serve` whose app runs an unhealthy image tag
# and whose deployments take 2 s. interval 1s, failure-threshold 3, success-threshold 2,
# poll-interval 250ms. Needs: cargo, python3.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
out=bench/out
mkdir -p "$out"

bash dist/build-static.sh x86_64-unknown-linux-gnu >&2
cargo build --release --locked -p sandbox >&2

python3 - target/x86_64-unknown-linux-gnu/dist/auto-rollback target/release/sandbox "$out" <<'PY'
import json, os, statistics, subprocess, sys, time
rollback, sandbox, out = sys.argv[1:4]
good = "2222222222222222222222222222222222222222"
deploy_time, interval, threshold = 2.0, 1.0, 3
rows = []
for i in range(5):
    server = subprocess.Popen(
        [sandbox, "serve", "--deploy-time", "2s", "--unhealthy-tag", "main-1111111", "--good-run", good],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    info = {}
    while "slack_webhook_url" not in info:
        key, _, value = server.stdout.readline().strip().partition("=")
        info[key] = value
    env = {"INPUT_URL": info["web_health_url"], "INPUT_INTERVAL": "1s", "INPUT_FAILURE_THRESHOLD": str(threshold),
           "INPUT_SUCCESS_THRESHOLD": "2", "INPUT_COOLIFY_URL": info["coolify_url"],
           "INPUT_COOLIFY_TOKEN": info["coolify_token"], "INPUT_APP": info["web_app"],
           "INPUT_IMAGE_TAG_TEMPLATE": "main-{short_sha}", "INPUT_POLL_INTERVAL": "250ms",
           "INPUT_GITHUB_TOKEN": info["github_token"], "GITHUB_API_URL": info["github_api_url"],
           "GITHUB_REPOSITORY": info["github_repository"], "INPUT_SLACK_WEBHOOK_URL": info["slack_webhook_url"],
           "INPUT_FORMAT": "json", "PATH": os.environ["PATH"]}
    started = time.monotonic()
    done = subprocess.run([rollback], env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    server.stdin.close(); server.wait()
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["reason"] == "rolled-back", done.stderr
    phases = {name: (start, end) for name, start, end in report["phases"]}
    first_failure = phases["analysis"][0]
    recovered = phases["verification"][1] - first_failure
    probe_time = (threshold - 1) * interval
    overhead = recovered - probe_time - deploy_time
    rows.append({"recovered_s": round(recovered, 3), "wall_s": round(wall, 3), "overhead_s": round(overhead, 3),
                 "phases": report["phases"]})
    print(f"run {i}: first failing probe → verified {recovered:.2f}s (wall {wall:.2f}s); "
          f"beyond probes ({probe_time:.0f}s) and deploy ({deploy_time:.0f}s): {overhead:.2f}s")
json.dump(rows, open(os.path.join(out, "auto-rollback.json"), "w"), indent=1)
over = [r["overhead_s"] for r in rows]
print(f"overhead: median {statistics.median(over):.2f}s, worst {max(over):.2f}s; "
      f"recovery median {statistics.median(r['recovered_s'] for r in rows):.2f}s")
PY
