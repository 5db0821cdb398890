#!/usr/bin/env bash
# Installs the pinned OPA CLI into .tools/bin (git-ignored) with `go install` from the Go module proxy.
# Reuses the binary when the pinned version is already there. Prints the binary's path on stdout.
set -euo pipefail
OPA_VERSION="${OPA_VERSION:-v1.22.3}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin_dir="$root/.tools/bin"
opa="$bin_dir/opa"

if [[ -x "$opa" ]] && "$opa" version 2>/dev/null | grep -q "^Version: ${OPA_VERSION#v}$"; then
  echo "$opa"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "install-opa: Go is not installed (needed to build OPA ${OPA_VERSION} with 'go install'); install Go 1.24+ from https://go.dev/dl/ and run again" >&2
  exit 1
fi
mkdir -p "$bin_dir"
echo "install-opa: building github.com/open-policy-agent/opa@${OPA_VERSION} into $bin_dir (first time only)" >&2
GOBIN="$bin_dir" GOFLAGS="${GOFLAGS:--buildvcs=false}" go install "github.com/open-policy-agent/opa@${OPA_VERSION}" >&2
"$opa" version >&2
echo "$opa"
