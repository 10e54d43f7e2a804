#!/usr/bin/env bash
# Installs real-world Swagger 2.0 documents from npm into a cache folder that git ignores, and
# prints its path: Kubernetes' API (`kubernetes-client`, four releases, shipped gzipped) and
# AutoRest's test-server specs (`@microsoft.azure/autorest.testserver`, Microsoft's Swagger 2.0
# documents with their x-ms-* extensions). The packages are fetched with `npm pack` (their
# tarballs only, no dependencies) at pinned versions; specs are used from there, never copied
# into the repository.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${SWAGGER2_CORPUS_DIR:-$root/.cache/swagger2}"
if [ ! -f "$cache/.complete" ]; then
  rm -rf "$cache"
  mkdir -p "$cache/tarballs" "$cache/specs/kubernetes" "$cache/specs/autorest"
  (cd "$cache/tarballs" && npm pack --silent kubernetes-client@9.0.0 @microsoft.azure/autorest.testserver@3.3.51 >&2)
  tar -xzf "$cache/tarballs/kubernetes-client-9.0.0.tgz" -C "$cache/tarballs"
  for gz in "$cache"/tarballs/package/lib/specs/swagger-*.json.gz; do
    name=$(basename "$gz" .gz)
    gunzip -c "$gz" > "$cache/specs/kubernetes/$name"
  done
  rm -rf "$cache/tarballs/package"
  tar -xzf "$cache/tarballs/microsoft.azure-autorest.testserver-3.3.51.tgz" -C "$cache/tarballs"
  for spec in "$cache"/tarballs/package/swagger/*.json; do
    # Only the Swagger 2.0 documents (the folder also holds a few OpenAPI 3 ones and examples).
    if head -c 300 "$spec" | grep -q '"swagger"'; then
      cp "$spec" "$cache/specs/autorest/"
    fi
  done
  rm -rf "$cache/tarballs/package"
  touch "$cache/.complete"
fi
echo "$cache/specs"
