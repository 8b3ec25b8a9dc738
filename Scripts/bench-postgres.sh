#!/usr/bin/env bash
# The PostgreSQL store beside the SQLite store and beside a plain COPY, on the same events, in one run:
#   Scripts/bench-postgres.sh [N]     (N exchanges, default 100,000)
# Starts a throw-away PostgreSQL 15 (Scripts/pg-cluster.sh, fsync and synchronous_commit on) and measures:
# the baseline, `COPY` of the same event lines into a one-column table in one transaction by psql on the
# same machine; `probity append --store postgres://…` with its receipts written to a file; the same append
# into a SQLite file (`--db`); then `probity verify` of each; then probityd on each store under
# `wrk -t2 -c64` (single events, then 100 per request), beside the baseline for single appends: pgbench's 64
# clients each committing one INSERT of an event line per transaction (synchronous_commit on).
# Prints the figures and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
case "$count" in '' | *[!0-9]*) echo "bench-postgres: N must be a whole number of events, got \"$count\"" >&2; exit 2 ;; esac
Scripts/install-deps.sh --test >/dev/null
swift build -c release --product probity >/dev/null
swift build -c release --product probityd >/dev/null
probity=$PWD/.build/release/probity
probityd=$PWD/.build/release/probityd
command -v wrk >/dev/null || { [ "$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null; }
dir=$PWD/var/bench-postgres
rm -rf "$dir" && mkdir -p "$dir"
cluster=$(mktemp -d /tmp/probity-bench-pg.XXXXXX)
trap 'Scripts/pg-cluster.sh stop "$cluster"; rm -rf "$cluster"' EXIT
port=$((20000 + RANDOM % 20000))
password=bench-$RANDOM$RANDOM
Scripts/pg-cluster.sh primary "$cluster" "$port" "$password"
printf '127.0.0.1:*:*:probity:%s\n' "$password" >"$dir/pgpass" && chmod 600 "$dir/pgpass"
export PGPASSFILE=$dir/pgpass
url=postgres://probity@127.0.0.1:$port/probity
echo "writing $count events..."
python3 Scripts/bench-compare-events.py "$count" "$dir"
seconds() {  # a command that fails (a verify that finds the log damaged) stops the benchmark
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null || { echo "bench-postgres: $* failed" >&2; exit 1; }
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.3f}')"
}
# The same, its output written to FILE (the receipts, as a user keeps them).
seconds_into() {
  local file=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" >"$file" || { echo "bench-postgres: $* failed" >&2; exit 1; }
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.3f}')"
}
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }

echo "baseline: COPY of the same lines (psql, one transaction)..."
# In a database of its own: `probity verify` refuses tables it did not create in the log's database.
PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U probity -d probity -q -c "CREATE DATABASE baseline"
psql_() { PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U probity -d baseline -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -c "CREATE TABLE raw (seq bigserial PRIMARY KEY, line bytea NOT NULL)"
# bytea in COPY's text format: the lines as hex, so that their bytes arrive as they are.
python3 -c "
import sys
with open('$dir/lines.bin','rb') as f, open('$dir/lines.copy','w') as out:
    for l in f: out.write('\\\\\\\\x' + l.rstrip(b'\n').hex() + '\n')
"
copy_s=$(seconds psql_ -c "\\copy raw(line) FROM '$dir/lines.copy'")
echo "probity append --store (receipts to a file)..."
"$probity" init --db "$dir/seed.sqlite" --origin bench.example/log >/dev/null
"$probity" init --store "$url" --origin bench.example/log --key "$dir/seed.key.pem" >/dev/null
pg_s=$(seconds_into "$dir/receipts-pg.txt" "$probity" append --store "$url" "$dir/events.jsonl")
"$probity" append --store "$url" "$dir/events.jsonl" --quiet 2>/dev/null && { echo "the second append should refuse (parties registered)" >&2; exit 1; } || true
echo "probity append --db (receipts to a file)..."
"$probity" init --db "$dir/log.sqlite" --origin bench.example/log --key "$dir/seed.key.pem" >/dev/null
sqlite_s=$(seconds_into "$dir/receipts-sqlite.txt" "$probity" append --db "$dir/log.sqlite" "$dir/events.jsonl")
echo "probity verify..."
vkey=$(cat "$dir/seed.vkey")
pg_verify_s=$(seconds "$probity" verify --store "$url" --vkey "$vkey")
sqlite_verify_s=$(seconds "$probity" verify --db "$dir/log.sqlite" --vkey "$vkey")

# probityd under wrk: 64 connections, single events, then 100 per request; prints "requests/s p99_ms".
run_wrk() {  # PORT BATCH NAME
  PROBITY_TOKEN=$(cat "$dir/ingest-$3.token") BENCH_BATCH=$2 wrk -t2 -c64 -d10s --latency \
    -s Scripts/bench-wrk-events.lua "http://127.0.0.1:$1" >"$dir/wrk-$3-$2.txt"
  ! grep -q "Non-2xx" "$dir/wrk-$3-$2.txt" || { echo "bench-postgres: probityd refused requests:" >&2; cat "$dir/wrk-$3-$2.txt" >&2; exit 1; }
  python3 Scripts/wrk-summary.py "$dir/wrk-$3-$2.txt"
}
daemon_on() {  # STORE NAME → runs wrk against a probityd on STORE, prints "single p99 batch p99 peak_MiB"
  local port daemon
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  (umask 077; "$probity" tokens create --db "$1" --name "bench-$2" --role ingest >"$dir/ingest-$2.token")
  "$probityd" --store "$1" --key-file "$dir/seed.key.pem" --socket "$dir/probityd-$2.sock" --tcp "127.0.0.1:$port" \
    --log-level warning 2>"$dir/probityd-$2.log" &
  daemon=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  read -r single single_p99 < <(run_wrk "$port" 1 "$2")
  read -r batch batch_p99 < <(run_wrk "$port" 100 "$2")
  local mib=$(( $(awk '/VmHWM/ { print $2 }' "/proc/$daemon/status") / 1024 ))
  kill -TERM "$daemon"; wait "$daemon" || true
  echo "$single $single_p99 $batch $batch_p99 $mib"
}
echo "probityd on SQLite, then on PostgreSQL, under wrk -c64..."
read -r sq_single sq_single_p99 sq_batch sq_batch_p99 sq_mib < <(daemon_on "$dir/log.sqlite" sqlite)
read -r pg_single pg_single_p99 pg_batch pg_batch_p99 pg_mib < <(daemon_on "$url" pg)
echo "baseline: pgbench, 64 clients, one INSERT of an event line per transaction..."
line_hex=$(head -1 "$dir/lines.bin" | python3 -c 'import sys; print(sys.stdin.buffer.read().rstrip(b"\n").hex())')
printf "INSERT INTO raw(line) VALUES ('\\\\x%s'::bytea);\n" "$line_hex" >"$dir/insert.sql"
PGPASSWORD=$password /usr/lib/postgresql/15/bin/pgbench -h 127.0.0.1 -p "$port" -U probity -n -c 64 -j 2 -T 10 \
  -f "$dir/insert.sql" baseline >"$dir/pgbench.txt" 2>&1
pgbench_tps=$(python3 - "$dir/pgbench.txt" <<'PY'
import re, sys
print(f"{float(re.search(r'tps = ([0-9.]+)', open(sys.argv[1]).read()).group(1)):.0f}")
PY
)
pg_verify_after=$("$probity" verify --store "$url" --vkey "$vkey" --json | python3 -c 'import json,sys; r = json.load(sys.stdin); assert r["intact"]; print(r["size"])')

events=$((count + $(wc -l < examples/conversation.jsonl)))
cat <<REPORT

PostgreSQL store, $count exchanges (~600-byte payloads), PostgreSQL 15 on this machine (fsync, synchronous_commit on)
| measure | seconds | events/s | ratio |
|---|---:|---:|---:|
| baseline: psql \\copy of the same lines, one transaction | $copy_s | $(rate "$count" "$copy_s") | 1.00 |
| probity append --store postgres:// (receipts printed) | $pg_s | $(rate "$events" "$pg_s") | $(python3 -c "print(f'{($events / $pg_s) / ($count / $copy_s):.2f}')") × COPY |
| probity append --db (SQLite, receipts printed) | $sqlite_s | $(rate "$events" "$sqlite_s") | PostgreSQL/SQLite $(python3 -c "print(f'{$sqlite_s / $pg_s:.2f}')") |
| probity verify --store postgres:// (one snapshot, rows streamed) | $pg_verify_s | $(rate "$events" "$pg_verify_s") | |
| probity verify --db | $sqlite_verify_s | $(rate "$events" "$sqlite_verify_s") | PostgreSQL/SQLite $(python3 -c "print(f'{$sqlite_verify_s / $pg_verify_s:.2f}')") |

probityd under \`wrk -t2 -c64 -d10s\`, TCP loopback (the PostgreSQL log then verifies intact at $pg_verify_after entries)
| measure | requests/s | p99 | ratio |
|---|---:|---:|---:|
| baseline: pgbench, 64 clients, one durable INSERT of an event line per transaction | $pgbench_tps | | 1.00 |
| probityd on PostgreSQL, one event per request (goal ≥ 10,000/s) | $pg_single | $pg_single_p99 ms | $(python3 -c "print(f'{$pg_single / $pgbench_tps:.2f}')") × pgbench |
| probityd on SQLite, one event per request | $sq_single | $sq_single_p99 ms | PostgreSQL/SQLite $(python3 -c "print(f'{$pg_single / $sq_single:.2f}')") |
| probityd on PostgreSQL, 100 events per request | $pg_batch ($((pg_batch * 100)) ev/s) | $pg_batch_p99 ms | |
| probityd on SQLite, 100 events per request | $sq_batch ($((sq_batch * 100)) ev/s) | $sq_batch_p99 ms | PostgreSQL/SQLite $(python3 -c "print(f'{$pg_batch / $sq_batch:.2f}')") |
| probityd's peak memory (VmHWM) over both wrk runs, PostgreSQL / SQLite | $pg_mib MiB / $sq_mib MiB | | |
REPORT
