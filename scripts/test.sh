#!/usr/bin/env bash
# The test command: every test of the workspace (unit, snapshot, runtime against wiremock,
# generated connectors compiled through build.rs and exercised end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace "$@"
