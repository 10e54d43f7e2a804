#!/usr/bin/env bash
# The test command: every test of the workspace (unit, snapshot, runtime against wiremock,
# generated connectors compiled through build.rs and exercised end to end, and every action of
# every sample spec against Stoplight Prism, which validates each request against its spec).
#
# Prism comes from npm, pinned, into .cache/prism (scripts/install-prism.sh), or from PRISM_BIN.
# When it cannot be had, every other test still runs and the last line says the Prism tests were
# skipped and why; with PRISM_REQUIRED=1 (as in CI) that is a failure instead.
set -euo pipefail
cd "$(dirname "$0")/.."

skipped=""
if [ -z "${PRISM_BIN:-}" ]; then
  if ! command -v npm >/dev/null 2>&1 && [ ! -x .cache/prism/node_modules/.bin/prism ]; then
    skipped="npm (Node.js 18 or newer) is not installed"
  elif PRISM_BIN="$(scripts/install-prism.sh)"; then
    export PRISM_BIN
  else
    skipped="scripts/install-prism.sh failed (see above)"
  fi
fi
if [ -n "$skipped" ] && [ "${PRISM_REQUIRED:-}" = "1" ]; then
  echo "test.sh: Prism is required (PRISM_REQUIRED=1) but cannot be installed: $skipped" >&2
  exit 1
fi

status=0
cargo test --workspace "$@" || status=$?
if [ -n "$skipped" ]; then
  echo
  echo "SKIPPED: the Prism end-to-end tests (tests/tests/prism.rs) did not run: $skipped. Every other test ran. Install Node.js 18+ with npm, or set PRISM_BIN, to run them."
fi
exit "$status"
