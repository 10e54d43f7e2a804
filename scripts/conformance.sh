#!/usr/bin/env bash
# Real-world conformance: installs the spec corpus (scripts/fetch-corpus.sh: OpenAPI 3.0 and 3.1)
# and real-world Swagger 2.0 documents (scripts/fetch-swagger2-corpus.sh), generates a connector
# for every spec (or a seeded sample: --limit N), optionally compiles a seeded sample (--compile N,
# with some 3.1 and 2.0 specs always in it), and writes CSVs to target/conformance. Counts are
# printed per OpenAPI version. Extra arguments go to the conformance binary.
#   scripts/conformance.sh                      # full generation sweep
#   scripts/conformance.sh --compile 100        # plus the 100-spec compile sample (GitHub included)
#   scripts/conformance.sh --limit 150          # what CI runs
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$(scripts/fetch-corpus.sh)
swagger2=$(scripts/fetch-swagger2-corpus.sh)
profile=${CONFORMANCE_PROFILE:-release}
flag=""; [ "$profile" = "release" ] && flag="--release"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --quiet $flag -p connector-tests --bin conformance
"$CARGO_TARGET_DIR/$profile/conformance" --corpus "$corpus" --swagger2 "$swagger2" --out target/conformance "$@"
