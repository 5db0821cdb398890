#!/usr/bin/env bash
# Installs the pinned vegeta HTTP load generator (the admission benchmark's client: Go's net/http, as the
# API server's webhook client) into .tools/bin (git-ignored) with `go install` from the Go module proxy.
# Reuses the binary when the pinned version is there. Prints the binary's path on stdout.
set -euo pipefail
VEGETA_VERSION="${VEGETA_VERSION:-v12.13.0}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.tools/bin"
vegeta="$bin_dir/vegeta"
stamp="$bin_dir/.vegeta-version"

if [[ -x "$vegeta" && -f "$stamp" && "$(cat "$stamp")" == "$VEGETA_VERSION" ]]; then
  echo "$vegeta"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-vegeta: Go is not installed (needed to build vegeta ${VEGETA_VERSION} with 'go install'); install Go 1.22+ from https://go.dev/dl/ and run again" >&2
  exit 1
fi
mkdir -p "$bin_dir"
echo "install-vegeta: building github.com/tsenart/vegeta/v12@${VEGETA_VERSION} into $bin_dir (first time only)" >&2
GOBIN="$bin_dir" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "github.com/tsenart/vegeta/v12@${VEGETA_VERSION}" >&2
echo "$VEGETA_VERSION" >"$stamp"
echo "$vegeta"
