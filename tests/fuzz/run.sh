#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over a scratch copy of its committed seeds and
# fails on any finding (crash, sanitizer report, leak, timeout, out of memory), printing the input
# that found it (hex) so that it can be added to the seeds as a regression case.
#
# Usage: tests/fuzz/run.sh TARGET SEEDS_DIR SECONDS [LIBFUZZER_ARGS...]
# Longer runs by hand: TARGET -max_total_time=3600 -jobs=2 CORPUS_DIR SEEDS_DIR (docs/operations.md).
set -euo pipefail
bin=$1 seeds=$2 seconds=$3
shift 3
tmp=$(mktemp -d /tmp/sb-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/corpus" "$tmp/artifacts"
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 -print_final_stats=1
      -artifact_prefix="$tmp/artifacts/" "$@" "$tmp/corpus")
[ -d "$seeds" ] && args+=("$seeds")
rc=0
"$bin" "${args[@]}" >"$tmp/log" 2>&1 || rc=$?
grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::new_units_added)' "$tmp/log" || true
if [ "$rc" != 0 ] || [ -n "$(ls -A "$tmp/artifacts")" ]; then
  tail -n 60 "$tmp/log"
  for f in "$tmp/artifacts"/*; do
    [ -f "$f" ] || continue
    echo "finding $(basename "$f") ($(stat -c %s "$f") bytes):"
    od -An -tx1 -v "$f" | head -n 64
  done
  echo "$(basename "$bin"): FAILED (exit $rc)"
  exit 1
fi
echo "$(basename "$bin"): no finding in $seconds s"
