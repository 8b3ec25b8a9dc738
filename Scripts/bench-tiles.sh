#!/usr/bin/env bash
# Tiles, witnesses and the monitor, as users run them, on a copy of a store (default: the one
# `Scripts/bench.sh --compare` leaves in var/bench-compare): probityd (release) serving its tiles on a
# public listener and sending its checkpoints to one `probity witness serve`, then
#   - full tile reads under wrk (hash tiles and entry bundles, random tile, 16 connections, 10 s);
#   - cosigning: single-event appends under wrk for 10 s while the witness cosigns, and the daemon's
#     probity_witness_round_duration (send to the witness, its fsync, the cosignature stored);
#   - `probity monitor --once` following the whole log from nothing through the public tiles.
# Usage: Scripts/bench-tiles.sh [STORE]
set -euo pipefail
cd "$(dirname "$0")/.."
source_store=${1:-var/bench-compare/log.sqlite}
[ -f "$source_store" ] || { echo "bench-tiles: no store at $source_store (run Scripts/bench.sh --compare first)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench-tiles: wrk is not installed (apt-get install wrk)" >&2; exit 2; }
swift build -c release --product probity >/dev/null 2>&1
swift build -c release --product probityd >/dev/null 2>&1
probity=.build/release/probity probityd=.build/release/probityd
dir=var/bench-tiles
rm -rf "$dir" && mkdir -p "$dir"
sqlite3 "$source_store" ".backup '$dir/log.sqlite'"
# (the copy records the same signing key path as the original)
vkey=$("$probity" keys show --db "$dir/log.sqlite" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["current"])')
origin=${vkey%%+*}
size=$("$probity" verify --db "$dir/log.sqlite" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
witness_port=$(port) tiles_port=$(port) api_port=$(port)
"$probity" witness init --state "$dir/witness" --name bench.example/witness >/dev/null
"$probity" witness serve --state "$dir/witness" --tcp "127.0.0.1:$witness_port" --log "$origin=$vkey" 2> "$dir/witness.log" &
witness=$!
"$probityd" --store "$dir/log.sqlite" --socket "$dir/probityd.sock" --tcp "127.0.0.1:$api_port" --tiles-listen "127.0.0.1:$tiles_port" \
  --witness "http://127.0.0.1:$witness_port $(cat "$dir/witness/witness.vkey")" --log-level warning 2> "$dir/probityd.log" &
daemon=$!
trap 'kill -TERM $daemon $witness 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$tiles_port/tlog/checkpoint" >/dev/null && break; sleep 0.1; done

wrk_line() {  # wrk output file → "requests/s p50_ms p99_ms"
  python3 - "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(p):
    v, u = re.search(r"\n\s+%s%%\s+([\d.]+)(us|ms|s)" % p, text).groups()
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u]
print("%.0f %.2f %.2f" % (float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)), ms(50), ms(99)))
PY
}
echo "tile reads..."
# The tiles read once first, as a served log keeps them in the page cache.
cat "$dir/log.sqlite" > /dev/null
for kind in hashes entries; do
  BENCH_SIZE=$size BENCH_KIND=$kind wrk -t2 -c16 -d10s --latency -s Scripts/bench-wrk-tiles.lua "http://127.0.0.1:$tiles_port" > "$dir/wrk-$kind.txt"
  ! grep -q "Non-2xx" "$dir/wrk-$kind.txt" || { echo "bench-tiles: tile reads failed:" >&2; cat "$dir/wrk-$kind.txt" >&2; exit 1; }
done
read -r hashes_rate hashes_p50 hashes_p99 < <(wrk_line "$dir/wrk-hashes.txt")
read -r entries_rate entries_p50 entries_p99 < <(wrk_line "$dir/wrk-entries.txt")

echo "appends while the witness cosigns..."
(umask 077; "$probity" tokens create --db "$dir/log.sqlite" --name "bench-tiles-$$" --role ingest > "$dir/ingest.token")
PROBITY_TOKEN=$(cat "$dir/ingest.token") BENCH_BATCH=1 wrk -t2 -c64 -d10s --latency -s Scripts/bench-wrk-events.lua \
  "http://127.0.0.1:$api_port" > "$dir/wrk-appends.txt"
read -r append_rate append_p50 append_p99 < <(wrk_line "$dir/wrk-appends.txt")
sleep 2
curl -s "http://127.0.0.1:$api_port/metrics" > "$dir/metrics.txt"
read -r rounds round_ms < <(python3 - "$dir/metrics.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
count = float(re.search(r"probity_witness_round_duration_seconds_count (\S+)", text).group(1))
total = float(re.search(r"probity_witness_round_duration_seconds_sum (\S+)", text).group(1))
print("%d %.1f" % (count, 1000 * total / max(count, 1)))
PY
)
witnessed=$(curl -s -H "Authorization: Bearer $(cat "$dir/ingest.token")" "http://127.0.0.1:$api_port/v1/checkpoint?witnessed=1" | sed -n 2p)

echo "probity monitor --once from nothing..."
final=$(curl -s "http://127.0.0.1:$tiles_port/tlog/checkpoint" | sed -n 2p)
start=$(date +%s.%N)
"$probity" monitor --url "http://127.0.0.1:$tiles_port/tlog" --vkey "$vkey" --witness "$(cat "$dir/witness/witness.vkey")" \
  --state "$dir/monitor" --once > "$dir/monitor.txt"
monitor_s=$(python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')")

echo
echo "## Tiles, witness and monitor on a log of $size entries, $(nproc) cores"
echo
echo "| measure | figure |"
echo "|---|---|"
echo "| full hash tiles (8 KiB), wrk -c16, random tile | $hashes_rate req/s, p50 $hashes_p50 ms, p99 $hashes_p99 ms |"
echo "| full entry bundles (~220 KiB), wrk -c16, random bundle | $entries_rate req/s, p50 $entries_p50 ms, p99 $entries_p99 ms |"
echo "| single-event appends, wrk -c64, while the witness cosigns | $append_rate req/s, p50 $append_p50 ms, p99 $append_p99 ms |"
echo "| witness rounds during those 10 s: checkpoint sent, fsynced by the witness, cosignature stored | $rounds rounds, mean $round_ms ms; witnessed size $witnessed |"
echo "| probity monitor --once, the whole log from nothing ($final entries) | $monitor_s s, $(python3 -c "print(f'{$final / $monitor_s:,.0f}')") entries/s |"
