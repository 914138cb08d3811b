#!/usr/bin/env bash
# lockfile-check benchmark (bench/README.md has the figures and how to read them): whole-
# process time against `npm ls --package-lock-only --all` and `npm ci --dry-run` on
# npm-written locks (bench/fixtures/large: 1,295 entries; bench/fixtures/big: several
# thousand, five workspaces, bundled dependencies), and peak memory.
# LC=<binary> measures an already built lockfile-check instead of building the static one.
# Needs: cargo, npm, hyperfine (apt-get install hyperfine), GNU time (/usr/bin/time).
# npm ci --dry-run may ask the registry for metadata; run with the network up.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
out=bench/out
mkdir -p "$out"

if [[ -z "${LC:-}" ]]; then
  bash dist/build-static.sh x86_64-unknown-linux-gnu >&2
  LC="$PWD/target/x86_64-unknown-linux-gnu/dist/lockfile-check"
fi
lc="$LC"

# npm works on a scratch copy so nothing is written next to the fixture; clean config.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'audit=false\nfund=false\nupdate-notifier=false\n' >"$work/npmrc"
export npm_config_userconfig="$work/npmrc"
bench_dir="$PWD/$out"
for fixture in large big; do
cp -r "bench/fixtures/$fixture" "$work/$fixture"
pushd "$work/$fixture" >/dev/null
echo "# fixture $fixture"

packages=$(grep -c '"node_modules/' package-lock.json)
echo "## lock: $packages entries, $(wc -c <package-lock.json) bytes, $(npm --version) npm"

echo "## verdicts (lockfile-check's must be npm ci's; tree mode's npm ls's)"
"$lc" --path . --format human || true
"$lc" --path . --format human --mode tree || true
npm ls --package-lock-only --all >/dev/null 2>&1 && echo "npm ls: ok" || echo "npm ls: fails"
npm ci --dry-run --ignore-scripts >/dev/null 2>&1 && echo "npm ci --dry-run: ok" || echo "npm ci --dry-run: fails"

echo "## whole-process time"
hyperfine -i --warmup 3 --min-runs 20 --export-json "$bench_dir/lockfile-check-$fixture.json" \
  -n lockfile-check "$lc --path . --format human" \
  -n "lockfile-check --mode tree" "$lc --path . --format human --mode tree" \
  -n "npm ls" "npm ls --package-lock-only --all" \
  -n "npm ci --dry-run" "npm ci --dry-run --ignore-scripts"

echo "## peak memory (max RSS)"
for i in 1 2 3; do
  /usr/bin/time -f "lockfile-check: %M KiB, %e s" "$lc" --path . --format human >/dev/null
done
/usr/bin/time -f "npm ls: %M KiB, %e s" npm ls --package-lock-only --all >/dev/null
echo "## strict mode and families on the same lock"
/usr/bin/time -f "lockfile-check strict + families: %M KiB, %e s" \
  "$lc" --path . --format human --mode strict --families '@babel/*' --families '@jest/*' >/dev/null || true
popd >/dev/null
done
