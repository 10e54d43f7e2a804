#!/usr/bin/env bash
# Installs the webhook signing libraries written by others that the signature tests sign with:
# Python's standardwebhooks and stripe (PyPI) and @octokit/webhooks-methods (npm), pinned, into
# .cache/webhook-signers (never committed). Prints the folder on stdout; exits non-zero when
# either cannot be had.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=".cache/webhook-signers"
mkdir -p "$dir"
if [ ! -f "$dir/python/.done" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --target "$dir/python" \
    standardwebhooks==1.0.0 stripe==16.1.0 >&2
  touch "$dir/python/.done"
fi
if [ ! -f "$dir/node/.done" ]; then
  npm install --silent --no-audit --no-fund --prefix "$dir/node" @octokit/webhooks-methods@6.0.0 >&2
  touch "$dir/node/.done"
fi
cd "$dir" && pwd
