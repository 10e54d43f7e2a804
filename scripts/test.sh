#!/usr/bin/env bash
# The test command: every test of the workspace (unit, snapshot, runtime against wiremock,
# generated connectors compiled through build.rs and exercised end to end, and every action of
# every sample spec against Stoplight Prism, which validates each request against its spec).
#
# Prism comes from npm, pinned, into .cache/prism (scripts/install-prism.sh), or from PRISM_BIN;
# the MCP Inspector likewise (scripts/install-inspector.sh, INSPECTOR_BIN).
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

# The MCP Inspector (npm, pinned, into .cache/inspector: scripts/install-inspector.sh), the MCP
# client written elsewhere that tests/tests/it/mcp_inspector.rs drives; and GitHub's spec from the
# corpus (scripts/fetch-corpus.sh), which the catalogue-mode test serves. Without npm those tests
# say SKIPPED; with INSPECTOR_REQUIRED=1 (as in CI) a missing Inspector fails instead.
inspector_skipped=""
if [ -z "${INSPECTOR_BIN:-}" ]; then
  if ! command -v npm >/dev/null 2>&1 && [ ! -x .cache/inspector/node_modules/.bin/mcp-inspector ]; then
    inspector_skipped="npm (Node.js 20 or newer) is not installed"
  elif INSPECTOR_BIN="$(scripts/install-inspector.sh)"; then
    export INSPECTOR_BIN
  else
    inspector_skipped="scripts/install-inspector.sh failed (see above)"
  fi
fi
if [ -n "$inspector_skipped" ] && [ "${INSPECTOR_REQUIRED:-}" = "1" ]; then
  echo "test.sh: the MCP Inspector is required (INSPECTOR_REQUIRED=1) but cannot be installed: $inspector_skipped" >&2
  exit 1
fi
if command -v npm >/dev/null 2>&1; then
  scripts/fetch-corpus.sh >/dev/null || echo "test.sh: could not install the corpus; the GitHub MCP test will say SKIPPED" >&2
fi

# Redis for the shared-state tests (runtime feature `redis`): the Debian package redis-server,
# installed when missing (as root, with apt-get), started on a free loopback port and stopped on
# exit. Without it those tests say SKIPPED, and fail in CI.
redis_pid=""
stop_redis() { if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi; }
trap stop_redis EXIT
if ! command -v redis-server >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test.sh: installing redis-server (Debian package) for the shared-state tests" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null 2>&1 \
    || echo "test.sh: could not install redis-server" >&2
fi
if command -v redis-server >/dev/null 2>&1; then
  for _ in $(seq 1 20); do
    port=$((20000 + RANDOM % 40000))
    # A port nothing answers on is free.
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  done
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no >/dev/null 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      export CONNECTOR_TEST_REDIS_URL="redis://127.0.0.1:$port/"
      break
    fi
    sleep 0.05
  done
fi

# Postgres for the store tests (connector-flows, the webhook receiver): the Debian package
# postgresql, installed when missing (as root, with apt-get), a throw-away cluster in a temporary
# folder on a free loopback port, stopped on exit. Without it those tests say SKIPPED, and fail
# in CI (POSTGRES_REQUIRED=1).
postgres_dir=""
stop_all() {
  stop_redis
  if [ -n "$postgres_dir" ] && [ -x scripts/postgres.sh ]; then scripts/postgres.sh stop "$postgres_dir" || true; fi
}
trap stop_all EXIT
if [ -z "${CONNECTOR_TEST_POSTGRES_URL:-}" ]; then
  postgres_dir="$(mktemp -d 2>/dev/null || true)"
  if [ -n "$postgres_dir" ] && [ -x scripts/postgres.sh ] && url="$(scripts/postgres.sh start "$postgres_dir")"; then
    export CONNECTOR_TEST_POSTGRES_URL="$url"
  elif [ "${POSTGRES_REQUIRED:-}" = "1" ]; then
    echo "test.sh: Postgres is required (POSTGRES_REQUIRED=1) but could not be started (see above)" >&2
    exit 1
  else
    echo "test.sh: Postgres could not be started; the Postgres store tests will say SKIPPED" >&2
  fi
fi

# The webhook signing libraries of other projects (Python standardwebhooks and stripe,
# @octokit/webhooks-methods), which the signature tests sign with: into .cache/, from PyPI and
# npm. Without them those tests say SKIPPED, and fail in CI (WEBHOOK_SIGNERS_REQUIRED=1).
if [ -z "${WEBHOOK_SIGNERS_DIR:-}" ]; then
  if [ -x scripts/install-webhook-signers.sh ] && signers="$(scripts/install-webhook-signers.sh 2>/dev/null)"; then
    export WEBHOOK_SIGNERS_DIR="$signers"
  elif [ "${WEBHOOK_SIGNERS_REQUIRED:-}" = "1" ]; then
    echo "test.sh: the webhook signing libraries are required but could not be installed (scripts/install-webhook-signers.sh)" >&2
    exit 1
  fi
fi

status=0
# The shared-state tests need the runtime's `redis` feature, which the workspace run leaves off.
cargo test -p connector-runtime --features redis --test shared_state "$@" || status=$?
# The webhook load runs (10,000 events from 50 senders, SQLite and Postgres): ignored by the
# suite for their length, run here one after the other; each prints a LOAD line with its figures.
# Built as the workspace run below builds (the same features), so that run reuses every artifact;
# `-p connector-gen-cli` alone would resolve other features and compile the tree twice. Only the
# command line's test binary has these tests.
cargo test --workspace --tests webhooks::load -- --ignored --nocapture --test-threads 1 || status=$?
cargo test --workspace "$@" || status=$?
if [ -n "$skipped" ]; then
  echo
  echo "SKIPPED: the Prism end-to-end tests (tests/tests/it/prism.rs) did not run: $skipped. Every other test ran. Install Node.js 18+ with npm, or set PRISM_BIN, to run them."
fi
if [ -n "$inspector_skipped" ]; then
  echo
  echo "SKIPPED: the MCP Inspector test (tests/tests/it/mcp_inspector.rs) did not run: $inspector_skipped. Install Node.js 20+ with npm, or set INSPECTOR_BIN, to run it."
fi
exit "$status"
