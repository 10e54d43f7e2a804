#!/usr/bin/env bash
# The test command: every test of the workspace (unit, snapshot, runtime against wiremock,
# generated connectors compiled through build.rs and exercised end to end, and every action of
# every sample spec against Stoplight Prism, which validates each request against its spec).
set -euo pipefail
cd "$(dirname "$0")/.."
# Prism comes from npm, pinned, into .cache/prism; without npm the Prism tests report SKIPPED
# (and fail when PRISM_REQUIRED=1, as in CI).
if command -v npm >/dev/null 2>&1; then
  PRISM_BIN="$(scripts/install-prism.sh)"
  export PRISM_BIN
fi
cargo test --workspace "$@"
