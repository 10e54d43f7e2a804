#!/usr/bin/env bash
# Installs the MCP Inspector (its command-line mode is the MCP client written elsewhere that the
# MCP server tests talk to) into .cache/inspector under the repository (git ignores .cache).
# Pinned so that CI is reproducible: 1.0.3 is the newest release that runs on Node.js 20 (2.x
# needs Node.js 22.19 or newer). Idempotent: with the pinned version present it does nothing.
#
#   scripts/install-inspector.sh            # installs, prints the CLI's path
#   INSPECTOR_BIN=$(scripts/install-inspector.sh) cargo test -p connector-tests --test it mcp_inspector
set -euo pipefail

INSPECTOR_VERSION="1.0.3"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.cache/inspector"
bin="$prefix/node_modules/.bin/mcp-inspector"
manifest="$prefix/node_modules/@modelcontextprotocol/inspector/package.json"

installed_version() {
    # The package's own manifest says which version is there; an absent install says nothing.
    [ -x "$bin" ] && [ -f "$manifest" ] && node -p "require('$manifest').version" 2>/dev/null || true
}

if [ "$(installed_version)" != "$INSPECTOR_VERSION" ]; then
    command -v npm >/dev/null || { echo "install-inspector: npm is required (Node.js 20 or newer)" >&2; exit 1; }
    mkdir -p "$prefix"
    # A package.json of our own keeps npm from walking up to any other project.
    [ -f "$prefix/package.json" ] || echo '{"name":"inspector-cache","private":true}' > "$prefix/package.json"
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
        "@modelcontextprotocol/inspector@$INSPECTOR_VERSION" >&2
fi
if [ "$(installed_version)" != "$INSPECTOR_VERSION" ]; then
    echo "install-inspector: $bin is not version $INSPECTOR_VERSION after installing" >&2
    exit 1
fi
echo "$bin"
