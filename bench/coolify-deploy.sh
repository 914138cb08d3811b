#!/usr/bin/env bash
# coolify-deploy overhead (bench/README.md has the figures): the wall time of a whole
# deploy-and-wait run against `sandbox serve`, minus the time the sandbox itself takes to
# deploy. The deploy time is spread across one poll interval (2.0 s to 2.9 s at a 1 s
# interval), so the figures include the worst case, where the deployment ends just after a
# status read. Needs: cargo, python3.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
out=bench/out
mkdir -p "$out"

bash dist/build-static.sh x86_64-unknown-linux-gnu >&2
cargo build --release --locked -p sandbox >&2

python3 - target/x86_64-unknown-linux-gnu/dist/coolify-deploy target/release/sandbox "$out" <<'PY'
import json, os, statistics, subprocess, sys, time
deploy, sandbox, out = sys.argv[1:4]
rows = []
for i in range(10):
    deploy_time = 2.0 + i / 10
    server = subprocess.Popen([sandbox, "serve", "--deploy-time", f"{int(deploy_time * 1000)}ms"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    info = {}
    while "slack_webhook_url" not in info:
        key, _, value = server.stdout.readline().strip().partition("=")
        info[key] = value
    env = {"INPUT_COOLIFY_URL": info["coolify_url"], "INPUT_COOLIFY_TOKEN": info["coolify_token"],
           "INPUT_APP": info["web_app"], "INPUT_IMAGE_TAG": f"main-{i}", "INPUT_POLL_INTERVAL": "1s",
           "INPUT_FORMAT": "json", "PATH": os.environ["PATH"]}
    started = time.monotonic()
    done = subprocess.run([deploy], env=env, capture_output=True, text=True)
    wall = time.monotonic() - started
    server.stdin.close(); server.wait()
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["status"] == "finished", done.stderr
    rows.append({"deploy_time_s": deploy_time, "wall_s": round(wall, 3), "overhead_s": round(wall - deploy_time, 3)})
    print(f"deploy {deploy_time:.1f}s  wall {wall:.3f}s  overhead {wall - deploy_time:.3f}s")
json.dump(rows, open(os.path.join(out, "coolify-deploy.json"), "w"), indent=1)
over = [r["overhead_s"] for r in rows]
print(f"overhead: median {statistics.median(over):.3f}s, worst {max(over):.3f}s, best {min(over):.3f}s (poll interval 1 s)")
PY
