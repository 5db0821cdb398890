#!/usr/bin/env bash
# Installs what the test suite needs beyond npm packages, reusing whatever is already there:
# the pinned OPA CLI (.tools/), kube-apiserver and etcd built from the Go module proxy (cached in
# ~/.cache/kube-policy-mcp; the first build takes several minutes), and Debian's Chromium for the
# dashboard's browser tests (playwright-core downloads no browser).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-opa.sh >/dev/null
bash scripts/install-kube.sh >/dev/null
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: installing Debian's chromium for the browser tests" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "install-test-deps: /usr/bin/chromium is missing; install Debian's chromium package (sudo apt-get install chromium)" >&2
    exit 1
  fi
fi
