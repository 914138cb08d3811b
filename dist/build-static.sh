#!/usr/bin/env bash
# Builds every tool fully static for one target and, with an output folder, packs
# <tool>-v<version>-<target>.tar.gz there. Fails if a binary has any dynamic dependency.
#
#   dist/build-static.sh <target> [out-dir]
set -CeEuo pipefail
IFS=$'\n\t'

target="${1:?usage: build-static.sh <target> [out-dir]}"
out="${2:-}"
root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
version="$(sed -n '/^\[workspace.package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml | head -n 1)"
mapfile -t tools < <(cd actions && printf '%s\n' *)

for tool in "${tools[@]}"; do
  # Each tool on its own, so features do not unify across tools (health-wait must not link
  # the GitHub client that coolify-deploy needs). An explicit --target keeps +crt-static off
  # proc-macros (rust-lang/rust#78210).
  RUSTFLAGS="-C target-feature=+crt-static" cargo build --locked --profile dist --target "$target" -p "$tool"
  bin="target/$target/dist/$tool"
  if readelf -d "$bin" | grep -q NEEDED; then
    echo "::error title=static-build::$tool has dynamic dependencies:" >&2
    readelf -d "$bin" | grep NEEDED >&2
    exit 1
  fi
  printf '%s %s bytes, static\n' "$tool" "$(stat -c %s "$bin")"
  if [[ -n "$out" ]]; then
    mkdir -p "$out"
    tar -czf "$out/$tool-v$version-$target.tar.gz" -C "target/$target/dist" "$tool"
  fi
done
