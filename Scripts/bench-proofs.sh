#!/usr/bin/env bash
# Proof latency on a large log (issue 13's target: inclusion and consistency proofs ≤ 1 ms p99 at
# 10,000,000 entries), measured as auditors' tools meet it: probityd's GET /v1/proofs/inclusion and
# /v1/proofs/consistency under wrk, each request for a random entry or size (Scripts/bench-wrk-proofs.lua).
#   Scripts/bench-proofs.sh [N]     (N entries, default 10,000,000; the store is kept in var/bench-proofs)
# The log is built with `probity append` in transactions of 1,000,000 small exchanges (the proofs depend on
# the tree's size, not on the entries' bytes); an existing store of the same size is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-10000000}
case "$count" in '' | *[!0-9]*) echo "bench-proofs: N must be a whole number of entries, got \"$count\"" >&2; exit 2 ;; esac
Scripts/install-deps.sh
if ! command -v wrk >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "bench-proofs: needs Debian's wrk (apt-get install wrk)" >&2; exit 2; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null
fi
swift build -c release --product probity
swift build -c release --product probityd
probity=$PWD/.build/release/probity
probityd=$PWD/.build/release/probityd
dir=$PWD/var/bench-proofs
mkdir -p "$dir"
size() { "$probity" checkpoint --db "$dir/log.sqlite" --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])' || echo 0; }
if [ ! -f "$dir/log.sqlite" ] || [ "$(size)" -lt "$count" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  "$probity" init --db "$dir/log.sqlite" --origin bench.example/proofs >/dev/null
  "$probity" append --db "$dir/log.sqlite" --quiet examples/conversation.jsonl 2>/dev/null
  have=$(size)
  echo "appending $((count - have)) small exchanges (1,000,000 per transaction)..."
  while [ "$have" -lt "$count" ]; do
    n=$(( count - have < 1000000 ? count - have : 1000000 ))
    python3 - "$have" "$n" <<'PY' | "$probity" append --db "$dir/log.sqlite" --quiet - 2>/dev/null
import sys
first, n = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout
for i in range(first, first + n):
    inbound = i % 2 == 0
    out.write('{"type":"exchange.recorded","data":{"procedure":"2026-042","channel":"linkedin","kind":"message",'
              '"visibility":"direct","direction":"%s","from":"%s","to":["%s"],"source":{"platform":"linkedin",'
              '"id":"p-%d"},"occurred_at":"2026-03-02T10:00:00Z"}}\n'
              % ((("inbound", "contact-martin", "agent-durand") if inbound else ("outbound", "agent-durand", "contact-martin")) + (i,)))
PY
    have=$(size)
    echo "  $have entries"
  done
fi
entries=$(size)
# A served log's tiles stay in the page cache (39,063 full tiles, 320 MB at 10M entries): read them once,
# so that the figures are the daemon's, not this VM's disk. (Its page cache is reclaimed aggressively: on
# a cold cache each proof waits for three random reads of a tile's pages.)
python3 - "$dir/log.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
tiles = sum(1 for _ in db.execute("SELECT hashes FROM tiles"))
print(f"page cache: read {tiles} tiles")
PY
(umask 077; "$probity" tokens create --db "$dir/log.sqlite" --name "bench-proofs-$(date +%s)" --role read > "$dir/read.token")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$probityd" --store "$dir/log.sqlite" --socket "$dir/probityd.sock" --tcp "127.0.0.1:$port" --log-level warning \
  2> "$dir/probityd.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
run_wrk() {  # KIND CONNECTIONS → "requests/s p50_ms p99_ms"
  PROBITY_TOKEN=$(cat "$dir/read.token") BENCH_PROOF=$1 BENCH_SIZE=$entries wrk -t"$(( $2 < 2 ? 1 : 2 ))" -c"$2" -d10s \
    --latency -s Scripts/bench-wrk-proofs.lua "http://127.0.0.1:$port" > "$dir/wrk-$1-$2.txt"
  ! grep -q "Non-2xx" "$dir/wrk-$1-$2.txt" || { echo "bench-proofs: probityd refused requests:" >&2; cat "$dir/wrk-$1-$2.txt" >&2; exit 1; }
  python3 - "$dir/wrk-$1-$2.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(p):
    value, unit = re.search(r"\n\s+%s%%\s+([\d.]+)(us|ms|s)" % p, text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{rate:.0f} {ms(50):.2f} {ms(99):.2f}")
PY
}
echo
echo "## Proofs from probityd at $entries entries ($(nproc) cores, random entry or size per request)"
echo
echo "| proof | connections | requests/s | p50 ms | p99 ms | goal |"
echo "|---|---:|---:|---:|---:|---|"
for kind in inclusion consistency; do
  for connections in 1 16; do
    read -r rate p50 p99 < <(run_wrk "$kind" "$connections")
    echo "| $kind | $connections | $rate | $p50 | $p99 | p99 ≤ 1 ms |"
  done
done
