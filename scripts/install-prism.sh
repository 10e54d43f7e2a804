#!/usr/bin/env bash
# Installs Stoplight Prism, the OpenAPI mock server the end-to-end tests validate requests with,
# into .cache/prism under the repository (git ignores it). Pinned so that CI is reproducible.
# Idempotent: a second run with the installed version present does nothing.
#
#   scripts/install-prism.sh            # installs, prints the binary's path
#   PRISM_BIN=$(scripts/install-prism.sh) cargo test -p connector-tests --test prism
set -euo pipefail

PRISM_VERSION="5.16.0"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="$root/.cache/prism"
bin="$prefix/node_modules/.bin/prism"

installed_version() {
    # `prism --version` prints the CLI's version; an absent or broken install prints nothing.
    [ -x "$bin" ] && "$bin" --version 2>/dev/null || true
}

if [ "$(installed_version)" != "$PRISM_VERSION" ]; then
    command -v npm >/dev/null || { echo "install-prism: npm is required (Node.js 18 or newer)" >&2; exit 1; }
    mkdir -p "$prefix"
    # A package.json of our own keeps npm from walking up to any other project.
    [ -f "$prefix/package.json" ] || echo '{"name":"prism-cache","private":true}' > "$prefix/package.json"
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
        "@stoplight/prism-cli@$PRISM_VERSION" >&2
fi
if [ "$(installed_version)" != "$PRISM_VERSION" ]; then
    echo "install-prism: $bin does not report version $PRISM_VERSION after installing" >&2
    exit 1
fi
echo "$bin"
