#!/usr/bin/env bash
# Installs one shipguard tool and prints `path=<binary>` to $GITHUB_OUTPUT.
#
#   dist/install.sh <tool> [--add-to-path]
#
# A released version downloads <tool>-v<version>-<target>.tar.gz and SHA256SUMS from the
# release of the action's own repository, verifies the checksum (a mismatch is an error,
# never a silent fallback) and caches the binary under $RUNNER_TOOL_CACHE. A -dev version,
# or a platform without a release asset, is built from source with cargo.
#
# Environment: RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_OUTPUT,
# GITHUB_PATH, ACTION_REPOSITORY (owner/name of the action), RUNNER_DEBUG,
# SHIPGUARD_RELEASE_BASE_URL (download base; tests point it at a local server),
# SHIPGUARD_GITHUB_SERVER (default https://github.com).
set -CeEuo pipefail
IFS=$'\n\t'
[[ "${RUNNER_DEBUG:-}" == 1 ]] && set -x

bail() { printf '::error title=install::%s\n' "$*" >&2; exit 1; }
warn() { printf '::warning title=install::%s\n' "$*" >&2; }
info() { printf '%s\n' "$*" >&2; }

tool="${1:-}"
add_to_path="${2:-}"
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
# The tools are the folders under actions/ (the same list setup.sh offers).
[[ "$tool" =~ ^[a-z][a-z-]*$ && -f "$root/actions/$tool/action.yml" ]] ||
  bail "unknown tool '${tool}'; expected one of: $(cd "$root/actions" && printf '%s ' *)"
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)"
[[ -n "$version" ]] || bail "cannot read [workspace.package] version from $root/Cargo.toml"

case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-gnu ;;
  *) target="" ;;
esac

build_from_source() {
  command -v cargo >/dev/null || bail "no release asset fits ${RUNNER_OS:-?}/${RUNNER_ARCH:-?} and cargo is not installed to build ${tool} ${version} from source"
  info "::group::Building ${tool} ${version} from source"
  cargo build --locked --release --manifest-path "$root/Cargo.toml" -p "$tool" >&2
  info "::endgroup::"
  bin="$root/target/release/$tool"
}

download_release() {
  local repo="${ACTION_REPOSITORY:-}" cache asset base tmp expected
  [[ -n "$repo" ]] || return 1
  cache="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/shipguard/${version}/${target}"
  bin="$cache/$tool"
  if [[ -x "$bin" && -f "$cache/$tool.complete" ]]; then
    info "Using cached ${tool} ${version} (${target})"
    return 0
  fi
  asset="${tool}-v${version}-${target}.tar.gz"
  base="${SHIPGUARD_RELEASE_BASE_URL:-${SHIPGUARD_GITHUB_SERVER:-https://github.com}/${repo}/releases/download/v${version}}"
  tmp="$(mktemp -d)"
  trap 'rm -rf -- "$tmp"' RETURN
  info "Downloading ${asset}"
  if ! curl --proto '=https,http' -fsSL --retry 3 --retry-connrefused -o "$tmp/$asset" "$base/$asset"; then
    warn "no release asset ${asset}; building from source instead"
    return 1
  fi
  curl --proto '=https,http' -fsSL --retry 3 --retry-connrefused -o "$tmp/SHA256SUMS" "$base/SHA256SUMS" ||
    bail "downloaded ${asset} but not SHA256SUMS: refusing an unverified binary"
  expected="$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1 }' "$tmp/SHA256SUMS")"
  [[ -n "$expected" ]] || bail "SHA256SUMS has no entry for ${asset}: refusing an unverified binary"
  if command -v sha256sum >/dev/null; then
    actual="$(sha256sum "$tmp/$asset" | cut -d' ' -f1)"
  else
    actual="$(shasum -a 256 "$tmp/$asset" | cut -d' ' -f1)"
  fi
  [[ "$actual" == "$expected" ]] || bail "checksum mismatch for ${asset}: SHA256SUMS says ${expected}, the download is ${actual}"
  mkdir -p "$cache"
  tar -xzf "$tmp/$asset" -C "$cache" "$tool"
  chmod +x "$bin"
  touch "$cache/$tool.complete"
}

if [[ "$version" == *-dev* || -z "$target" ]]; then
  build_from_source
elif ! download_release; then
  build_from_source
fi

info "::group::${tool} --version"
"$bin" --version >&2
info "::endgroup::"
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  printf 'path=%s\n' "$bin" >>"$GITHUB_OUTPUT"
fi
if [[ "$add_to_path" == --add-to-path && -n "${GITHUB_PATH:-}" ]]; then
  dirname -- "$bin" >>"$GITHUB_PATH"
fi
printf '%s\n' "$bin"
