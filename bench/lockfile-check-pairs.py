#!/usr/bin/env python3
"""lockfile-check against `npm ls --package-lock-only --all`, whole process against whole
process, in turn A B A B so both see the same machine load (bench/README.md has the figures).

usage: lockfile-check-pairs.py <fixture folder> <pairs> <command>...
A command without a space is a lockfile-check binary, run as `<it> --path . --format human`;
anything else runs as written inside a scratch copy of the fixture (e.g. the parse floor:
"target/release/examples/parse-floor value package-lock.json" with an absolute path).
Each turn: hyperfine, 30 runs of each command (median), then one run of npm ls. Prints the
medians over the pairs and the ratio to npm ls taken pair by pair, wall and CPU (user + sys).
Needs: hyperfine, npm. npm runs with a clean config (no audit, fund or update notices).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile


def main():
    fixture, pairs, commands = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    work = tempfile.mkdtemp()
    try:
        folder = os.path.join(work, "fixture")
        shutil.copytree(fixture, folder)
        npmrc = os.path.join(work, "npmrc")
        with open(npmrc, "w") as f:
            f.write("audit=false\nfund=false\nupdate-notifier=false\n")
        env = dict(os.environ, npm_config_userconfig=npmrc)
        out = os.path.join(work, "result.json")

        def measure(command, runs, shell):
            args = ["hyperfine", "-i", "--warmup", "1", "--runs", str(runs), "--style", "none",
                    "--export-json", out]
            if not shell:
                args.append("-N")
            subprocess.run(args + [command], cwd=folder, env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(out) as f:
                result = json.load(f)["results"][0]
            return result["median"], result["user"] + result["system"]

        runs = {command: [] for command in commands}
        npm = []
        for _ in range(pairs):
            for command in commands:
                line = command if " " in command else f"{command} --path . --format human"
                runs[command].append(measure(line, 30, shell=False))
            npm.append(measure("npm ls --package-lock-only --all", 1, shell=True))
        print(f"{fixture}: npm ls wall {statistics.median(w for w, _ in npm) * 1000:.0f} ms, "
              f"cpu {statistics.median(c for _, c in npm) * 1000:.0f} ms")
        for command in commands:
            wall = statistics.median(w for w, _ in runs[command])
            cpu = statistics.median(c for _, c in runs[command])
            ratio_wall = statistics.median(n[0] / r[0] for n, r in zip(npm, runs[command]))
            ratio_cpu = statistics.median(n[1] / r[1] for n, r in zip(npm, runs[command]))
            print(f"  {command}: wall {wall * 1000:.1f} ms, cpu {cpu * 1000:.1f} ms; "
                  f"ratio wall {ratio_wall:.0f}x, cpu {ratio_cpu:.0f}x")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
