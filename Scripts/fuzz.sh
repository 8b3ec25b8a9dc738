#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer) of the parsers that take outside bytes.
#
# Usage: Scripts/fuzz.sh TARGET|all [SECONDS]
#   TARGET: json event note zip email csv exports query (Sources/Fuzz/*); SECONDS: how long (default 60;
#   with "all", shared between the targets).
#
# Builds the target in .build-fuzz with -sanitize=fuzzer,address and runs it from the committed seeds
# (Tests/Fuzz/TARGET, and the fixture folders listed in Tests/Fuzz/TARGET.seeds; read only) plus what
# earlier runs found (.build-fuzz/corpus/TARGET). A crash, a
# failed invariant, a leak-free timeout (10 s per input) or 2 GB of memory stops it: the input is saved as
# .build-fuzz/crashes/TARGET-*, the script exits 1. Once fixed, copy that input into Tests/Fuzz/TARGET:
# the test suite replays every seed through the ordinary build of each target.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(json event note zip email csv exports query)
usage() { echo "usage: Scripts/fuzz.sh TARGET|all [SECONDS]; targets: ${targets[*]}" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
seconds="${2:-60}"
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: SECONDS must be a positive whole number, got \"$seconds\"" >&2; exit 2; }
if [ "$1" = all ]; then
  chosen=("${targets[@]}")
  per=$(( seconds / ${#targets[@]} )); [ "$per" -ge 1 ] || per=1
else
  [[ " ${targets[*]} " == *" $1 "* ]] || { echo "fuzz.sh: unknown target \"$1\"" >&2; usage; }
  chosen=("$1"); per="$seconds"
fi

flags=(--build-path .build-fuzz -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xlinker --allow-multiple-definition)
for target in "${chosen[@]}"; do
  swift build "${flags[@]}" --product "fuzz-$target" 2>&1 | grep -E "error|warning: unre" >&2 || true
  [ -x ".build-fuzz/debug/fuzz-$target" ] || { echo "fuzz.sh: could not build fuzz-$target" >&2; exit 2; }
done

mkdir -p .build-fuzz/crashes
status=0
for target in "${chosen[@]}"; do
  mkdir -p ".build-fuzz/corpus/$target"
  log=".build-fuzz/fuzz-$target.log"
  seeds=("Tests/Fuzz/$target")
  if [ -f "Tests/Fuzz/$target.seeds" ]; then mapfile -t -O 1 seeds < "Tests/Fuzz/$target.seeds"; fi
  # Leak checks off: the Swift runtime's caches live until exit by design.
  if ASAN_OPTIONS=detect_leaks=0 ".build-fuzz/debug/fuzz-$target" -max_total_time="$per" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix=".build-fuzz/crashes/$target-" \
      ".build-fuzz/corpus/$target" "${seeds[@]}" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    echo "fuzz $target: $runs executions in ${per} s, no crash"
  else
    status=1
    echo "fuzz $target: FAILED; the input is in .build-fuzz/crashes/ — the end of $log:" >&2
    tail -n 30 "$log" >&2
  fi
done
exit $status
