#!/usr/bin/env bash
# Runs Probity's benchmark (release build) and prints a Markdown report (also in var/bench/report.md).
#   Scripts/bench.sh [--events N] [--batch B] [--proofs P]   (then probityd-bench with its defaults)
#   Scripts/bench.sh --compare [N]                            (beside journald's sealing: Scripts/bench-compare.sh)
#   Scripts/bench.sh --proofs-at [N]                          (proofs from probityd at N entries: bench-proofs.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
# --compare [N]: Probity beside journald's sealing, raw SQLite and SHA-256 on the same events (bench-compare.sh).
if [ "${1:-}" = --compare ]; then shift; exec Scripts/bench-compare.sh "$@"; fi
# --proofs-at [N]: inclusion and consistency proofs from probityd under wrk at N entries (bench-proofs.sh).
if [ "${1:-}" = --proofs-at ]; then shift; exec Scripts/bench-proofs.sh "$@"; fi
Scripts/install-deps.sh
# The product (this package) and the benchmarks (Benchmarks/, a package of its own), both release builds.
swift build -c release --product probity
swift build -c release --product probityd
swift build -c release --package-path Benchmarks
bench=Benchmarks/.build/release
$bench/probity-bench --dir var/bench "$@"
echo
echo "probity verify on the same store, as a user runs it (peak memory from /proc):"
.build/release/probity verify --db var/bench/log.sqlite &
pid=$!
peak=0
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
  [ "${rss:-0}" -gt "$peak" ] && peak=$rss
  sleep 0.2
done
wait "$pid"
echo "peak resident memory of probity verify: $((peak / 1024)) MiB"

echo
echo "probityd: 64 clients over the Unix socket, the route that appends nothing, the batch route, memory:"
PROBITYD=.build/release/probityd $bench/probityd-bench --dir var/bench-daemon --clients 64 --seconds 10 --events 1000000

echo
echo "procurement domain: findings on a 100,000-event procedure, import of a 100,000-message LinkedIn export:"
PROBITY=.build/release/probity $bench/probity-domain-bench --dir var/bench-domain --events 100000 --messages 100000

echo
echo "evidence bundles: export and verify the bundle of a 10,000-event procedure:"
Scripts/bench-bundle.sh 10000
