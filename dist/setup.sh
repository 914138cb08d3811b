#!/usr/bin/env bash
# The root setup action: installs each tool in INPUT_TOOLS (or all) with install.sh and
# puts them on PATH. Prints `bin-dir=<dir>` to $GITHUB_OUTPUT.
set -CeEuo pipefail
IFS=$'\n\t'
[[ "${RUNNER_DEBUG:-}" == 1 ]] && set -x

here="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
mapfile -t all < <(cd "$here/../actions" && printf '%s\n' *)
requested="$(printf '%s' "${INPUT_TOOLS:-all}" | tr ',' '\n' | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$' || true)"
if [[ -z "$requested" || "$requested" == all ]]; then
  requested="$(printf '%s\n' "${all[@]}")"
fi
# Membership by comparing whole words: IFS holds no space here, so "${all[*]}" would join
# the names with newlines and a pattern match on spaces would never succeed.
known() {
  local name
  for name in "${all[@]}"; do [[ "$name" == "$1" ]] && return 0; done
  return 1
}
bin_dir=""
while IFS= read -r tool; do
  known "$tool" || {
    printf '::error title=install::unknown tool %s in `tools`; use all or some of: %s\n' "$tool" "$(printf '%s ' "${all[@]}")" >&2
    exit 2
  }
  bin="$(GITHUB_OUTPUT=/dev/null bash --noprofile --norc "$here/install.sh" "$tool")"
  dir="$(dirname -- "$bin")"
  if [[ "$dir" != "$bin_dir" ]]; then
    [[ -n "${GITHUB_PATH:-}" ]] && printf '%s\n' "$dir" >>"$GITHUB_PATH"
    bin_dir="$dir"
  fi
done <<<"$requested"
[[ -n "${GITHUB_OUTPUT:-}" ]] && printf 'bin-dir=%s\n' "$bin_dir" >>"$GITHUB_OUTPUT"
exit 0
