#!/usr/bin/env bash
# The project's whole test suite, as the README and CI run it (npm test):
# OPA toolchain, Rego checks and tests, the committed wasm bundle is fresh, TypeScript builds, ava.
set -euo pipefail
# Tests start servers in process; their info logs (audit lines, requests) would bury the test report.
export LOG_LEVEL="${LOG_LEVEL:-warn}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-test-deps.sh
opa="$(bash scripts/install-opa.sh)"
echo "== opa fmt / check --strict"
unformatted="$("$opa" fmt --list rego)"
if [[ -n "$unformatted" ]]; then
  echo "Rego files not opa fmt-clean (run: $opa fmt -w rego):" >&2
  echo "$unformatted" >&2
  exit 1
fi
"$opa" check --strict rego
echo "== opa test rego"
"$opa" test rego
echo "== committed wasm bundle is up to date"
npx tsx scripts/build-policy.ts --check
echo "== TypeScript"
npm run build --silent
npx tsc -p tsconfig.test.json
echo "== ava"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
npx ava "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line for whoever reads only the end of the log.
passed=$( (grep -Eo '^ *[0-9]+ tests? passed' "$log" || true) | grep -Eo '[0-9]+' | tail -1 || true)
# With failures ava prints no "N tests passed" line: count the passing tests it listed instead.
[[ -n "$passed" ]] || passed=$(grep -Ec '^ *✔ ' "$log" || true)
failed=$( (grep -Eo '^ *[0-9]+ (tests? failed|known failures?|uncaught exceptions?|unhandled rejections?)' "$log" || true) | awk '{s += $1} END {print s + 0}')
echo "ava: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
