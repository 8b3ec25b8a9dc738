#!/usr/bin/env bash
# The PostgreSQL store beside the SQLite store and beside a plain COPY, on the same events, in one run:
#   Scripts/bench-postgres.sh [N]     (N exchanges, default 100,000)
# Starts a throw-away PostgreSQL 15 (Scripts/pg-cluster.sh, fsync and synchronous_commit on) and measures:
# the baseline, `COPY` of the same event lines into a one-column table in one transaction by psql on the
# same machine; `probity append --store postgres://…` with its receipts written to a file; the same append
# into a SQLite file (`--db`); then `probity verify` of each. Prints the figures and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
case "$count" in '' | *[!0-9]*) echo "bench-postgres: N must be a whole number of events, got \"$count\"" >&2; exit 2 ;; esac
Scripts/install-deps.sh --test >/dev/null
swift build -c release --product probity >/dev/null
probity=$PWD/.build/release/probity
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
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.3f}')"
}
# The same, its output written to FILE (the receipts, as a user keeps them).
seconds_into() {
  local file=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" >"$file"
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.3f}')"
}
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }

echo "baseline: COPY of the same lines (psql, one transaction)..."
psql_() { PGPASSWORD=$password psql -h 127.0.0.1 -p "$port" -U probity -d probity -q -v ON_ERROR_STOP=1 "$@"; }
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
REPORT
