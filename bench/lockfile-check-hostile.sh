#!/usr/bin/env bash
# lockfile-check on hostile repositories (bench/README.md has the figures): whole-process
# time on generated repositories with very many findings, which used to grow with the
# square of their number (10,000 invalid edges: 26-37 s; 100,000 missing root
# dependencies: not done after 5 minutes). Target: under 2 s for 100,000 findings.
# The repositories are generated here, not committed (the largest lock is ~2 MB).
# Needs: cargo, python3, hyperfine (apt-get install hyperfine), GNU time (/usr/bin/time).
# LOCKFILE_CHECK=<binary> measures that binary instead of building one.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
out=bench/out
mkdir -p "$out"

if [[ -n "${LOCKFILE_CHECK:-}" ]]; then
  lc=$LOCKFILE_CHECK
else
  cargo build --profile dist -p lockfile-check >&2
  lc="${CARGO_TARGET_DIR:-$PWD/target}/dist/lockfile-check"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# gen <dir> <missing> <invalid>: a package.json asking for <missing> dependencies the lock
# lacks (each a `Missing` found in package.json), and one locked package `hub` whose
# <invalid> dependencies are locked at a version outside their range (each an `Invalid`
# found in the lock).
gen() {
  python3 - "$@" <<'EOF'
import json, os, sys
out, missing, invalid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
deps = {f"dep-{i}": "^1.0.0" for i in range(missing)}
deps["hub"] = "^1.0.0"
packages = {
    "": {"name": "hostile", "version": "1.0.0", "dependencies": {"hub": "^1.0.0"}},
    "node_modules/hub": {"version": "1.0.0",
                         "dependencies": {f"leaf-{i}": "^2.0.0" for i in range(invalid)}},
}
for i in range(invalid):
    packages[f"node_modules/leaf-{i}"] = {"version": "1.0.0"}
manifest = {"name": "hostile", "version": "1.0.0", "dependencies": deps}
lock = {"name": "hostile", "version": "1.0.0", "lockfileVersion": 3, "packages": packages}
for name, value in (("package.json", manifest), ("package-lock.json", lock)):
    with open(os.path.join(out, name), "w") as f:
        json.dump(value, f, indent=2)
EOF
}

gen "$work/missing-100k" 100000 0
gen "$work/invalid-10k" 0 10000
gen "$work/mixed-100k" 90000 10000
for repo in missing-100k invalid-10k mixed-100k; do
  echo "## $repo: $(wc -c <"$work/$repo/package.json") + $(wc -c <"$work/$repo/package-lock.json") bytes"
  "$lc" --path "$work/$repo" --format human 2>/dev/null | tail -1 || true
done

# Actions mode writes every output (the `report` holds all findings) and the summary.
actions() {
  printf 'env GITHUB_ACTIONS=true GITHUB_OUTPUT=%s/output GITHUB_STEP_SUMMARY=%s/summary %s --path %s' \
    "$work" "$work" "$lc" "$work/$1"
}

echo "## whole-process time (exit 1 expected: problems found)"
hyperfine --warmup 1 --min-runs 10 -i --export-json "$out/lockfile-check-hostile.json" \
  --prepare "rm -f $work/output $work/summary" \
  -n "100,000 missing, human" "$lc --path $work/missing-100k --format human" \
  -n "10,000 invalid, human" "$lc --path $work/invalid-10k --format human" \
  -n "90,000 missing + 10,000 invalid, human" "$lc --path $work/mixed-100k --format human" \
  -n "90,000 missing + 10,000 invalid, Actions" "$(actions mixed-100k)"

echo "## peak memory (max RSS) and what Actions mode writes"
rm -f "$work/output" "$work/summary"
/usr/bin/time -f "mixed-100k, Actions: %M KiB, %e s" bash -c "$(actions mixed-100k) >/dev/null 2>&1" || true
echo "outputs: $(wc -c <"$work/output") bytes, summary: $(wc -c <"$work/summary") bytes"
