#!/usr/bin/env bash
# Build Jaeger (v2, all-in-one) from the Go module proxy, once per machine, and print its path.
#
# The binary is cached outside the repository, in ${PRESTA_AX_CACHE:-$XDG_CACHE_HOME/presta-ax}
# (default ~/.cache/presta-ax), named by version: a second run finds it and builds nothing.
# `go install github.com/jaegertracing/jaeger/cmd/jaeger@v1.75.0` is refused (the module has
# `replace` directives), so this folder is a small Go module of our own that requires Jaeger as
# a tool (go.mod: `tool github.com/jaegertracing/jaeger/cmd/jaeger`, go.sum pins every module).
# Needs Go >= the go directive of go.mod and access to the Go module proxy; the first build takes
# several minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")"

version="v1.75.0"
cache="${PRESTA_AX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/presta-ax}/jaeger"
bin="$cache/jaeger-$version"

if [ ! -x "$bin" ]; then
  command -v go >/dev/null 2>&1 || { echo "Go is needed to build Jaeger (https://go.dev/doc/install)." >&2; exit 1; }
  mkdir -p "$cache"
  echo "Building Jaeger $version into $bin (once per machine; several minutes)..." >&2
  # built into a temporary name and renamed: an interrupted build never leaves a broken binary
  go build -trimpath -o "$bin.tmp.$$" \
    -ldflags "-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion=$version" \
    github.com/jaegertracing/jaeger/cmd/jaeger
  mv -f "$bin.tmp.$$" "$bin"
fi
echo "$bin"
