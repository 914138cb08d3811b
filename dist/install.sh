#!/usr/bin/env bash
# Installs one shipguard tool and prints `path=<binary>` to $GITHUB_OUTPUT.
#
#   dist/install.sh <tool> [--add-to-path]
#
# A released version downloads <tool>-v<version>-<target>.tar.gz and SHA256SUMS from the
# release of the action's own repository, verifies the checksum (a mismatch is an error,
# never a silent fallback) and caches the binary under $RUNNER_TOOL_CACHE. Building from
# source with cargo happens only when asked (INPUT_FALLBACK=build): for a -dev version, a
# platform without release assets, or a release without this asset. Every other failure
# says its own cause: no curl or wget, an unknown action repository, a download error.
#
# Environment: RUNNER_OS, RUNNER_ARCH, RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_OUTPUT,
# GITHUB_PATH, ACTION_REPOSITORY (owner/name of the action, from github.action_repository;
# when empty it is read from where the runner put the action), INPUT_FALLBACK (`build` or
# empty), RUNNER_DEBUG, SHIPGUARD_RELEASE_BASE_URL (download base; tests point it at a local
# http server, the only case where plain http is allowed), SHIPGUARD_GITHUB_SERVER (default
# https://github.com).
set -CeEuo pipefail
IFS=$'\n\t'
[[ "${RUNNER_DEBUG:-}" == 1 ]] && set -x

bail() { printf '::error title=install::%s\n' "$*" >&2; exit 1; }
warn() { printf '::warning title=install::%s\n' "$*" >&2; }
notice() { printf '::notice title=install::%s\n' "$*" >&2; }
info() { printf '%s\n' "$*" >&2; }

tool="${1:-}"
add_to_path="${2:-}"
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
# The tools are the folders under actions/ (the same list setup.sh offers).
[[ "$tool" =~ ^[a-z][a-z-]*$ && -f "$root/actions/$tool/action.yml" ]] ||
  bail "unknown tool '${tool}'; expected one of: $(cd "$root/actions" && printf '%s ' *)"
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' "$root/Cargo.toml" | head -n 1)"
[[ -n "$version" ]] || bail "cannot read [workspace.package] version from $root/Cargo.toml"
fallback="${INPUT_FALLBACK:-}"
case "$fallback" in
  "" | none) fallback="" ;;
  build) ;;
  *) printf '::error title=install::invalid input `fallback`: %q is not `build` or `none`\n' "$fallback" >&2; exit 2 ;;
esac

case "${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)}" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-gnu ;;
  Linux/ARM64 | Linux/aarch64) target=aarch64-unknown-linux-gnu ;;
  *) target="" ;;
esac

# Builds from source when the user asked for it (`fallback: build`); otherwise stops with
# why there is no binary to download and how to get one.
build_or_stop() {
  local why="$1"
  [[ -n "$fallback" ]] || bail "${why}; use a released version of the action (such as @v0), or set \`fallback: build\` to build ${tool} from source with cargo"
  command -v cargo >/dev/null || bail "${why}, and \`fallback: build\` needs cargo, which is not installed (add a Rust toolchain step first)"
  notice "${why}: building ${tool} ${version} from source (fallback: build); this takes several minutes and about 1 GB of disk on a 2-core runner"
  info "::group::Building ${tool} ${version} from source"
  cargo build --locked --release --manifest-path "$root/Cargo.toml" -p "$tool" >&2
  info "::endgroup::"
  bin="$root/target/release/$tool"
}

# owner/name of the action: github.action_repository, or, when the runner leaves it empty
# (an action used from inside another composite action), the folder the runner checked it
# out to: <actions dir>/<owner>/<name>/<ref> (actions/runner, src/Runner.Worker/ActionManager.cs
# line 715: Path.Combine(Actions, repoAction.Name, repoAction.Ref)).
action_repository() {
  if [[ -n "${ACTION_REPOSITORY:-}" ]]; then
    printf '%s\n' "$ACTION_REPOSITORY"
    return 0
  fi
  local ref_dir owner_dir
  ref_dir="$root"
  owner_dir="$(dirname -- "$(dirname -- "$ref_dir")")"
  if [[ "$(basename -- "$(dirname -- "$owner_dir")")" == _actions ]]; then
    printf '%s/%s\n' "$(basename -- "$owner_dir")" "$(basename -- "$(dirname -- "$ref_dir")")"
    return 0
  fi
  return 1
}

# Downloads $1 to $2. Returns 0, or 44 when the server says the file does not exist; any
# other failure (after curl's own retries of transient errors) stops with its cause.
proto='=https'
[[ -n "${SHIPGUARD_RELEASE_BASE_URL:-}" ]] && proto='=https,http'
fetch() {
  local url="$1" dest="$2" code rc=0 err
  err="$(mktemp)"
  if command -v curl >/dev/null; then
    code="$(curl --proto "$proto" --proto-redir "$proto" -sSL --retry 3 --retry-connrefused --retry-delay 1 \
      --connect-timeout 20 --max-time 300 -w '%{http_code}' -o "$dest" "$url" 2>|"$err")" || rc=$?
    if [[ $rc -eq 0 && "$code" == 2?? ]]; then rm -f -- "$err"; return 0; fi
    [[ "$code" == 404 ]] && { rm -f -- "$err"; return 44; }
    bail "downloading ${url} failed after retries: $(if [[ "$code" != 000 ]]; then printf 'HTTP %s' "$code"; else tr '\n' ' ' <"$err"; fi)"
  elif command -v wget >/dev/null; then
    [[ "$url" == https://* || -n "${SHIPGUARD_RELEASE_BASE_URL:-}" ]] || bail "refusing a download that is not https: ${url}"
    local try
    for try in 1 2 3; do
      rc=0
      # -T bounds each read; `timeout` bounds the whole try (GNU wget retries by itself).
      timeout 300 wget -q -S -T 20 -O "$dest" "$url" 2>|"$err" || rc=$?
      [[ $rc -eq 0 ]] && { rm -f -- "$err"; return 0; }
      grep -q ' 404 ' "$err" && { rm -f -- "$err"; return 44; }
      sleep "$try"
    done
    bail "downloading ${url} with wget failed after 3 tries: $(grep -v '^ ' "$err" | tr '\n' ' ')"
  else
    bail "curl or wget is needed to download ${tool} (install curl in the job's container, e.g. apt-get install -y curl or apk add curl)"
  fi
}

download_release() {
  local repo cache asset base tmp expected rc
  repo="$(action_repository)" ||
    bail "cannot tell which repository this action comes from: github.action_repository is empty and ${root} is not under _actions/<owner>/<name>/<ref>; pass ACTION_REPOSITORY"
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
  info "Downloading ${asset} from ${repo}"
  rc=0
  fetch "$base/$asset" "$tmp/$asset" || rc=$?
  if [[ $rc -eq 44 ]]; then
    build_or_stop "the release v${version} of ${repo} has no asset ${asset}"
    return 0
  fi
  rc=0
  fetch "$base/SHA256SUMS" "$tmp/SHA256SUMS" || rc=$?
  [[ $rc -eq 0 ]] || bail "downloaded ${asset} but the release has no SHA256SUMS: refusing an unverified binary"
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

if [[ "$version" == *-dev* ]]; then
  build_or_stop "${tool} ${version} is a development version, which has no release assets"
elif [[ -z "$target" ]]; then
  build_or_stop "no release asset is built for ${RUNNER_OS:-$(uname -s)}/${RUNNER_ARCH:-$(uname -m)} (Linux x86_64 and aarch64 are)"
else
  download_release
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
