#!/usr/bin/env bash
# Probity beside its peer and its limits, on the same events, in one run (issue 13's benchmark, first part):
#   Scripts/bench-compare.sh [N]        (also: Scripts/bench.sh --compare [N]; N exchanges, default 200,000)
# Measures, as each tool is run by its users: journald's Forward Secure Sealing (systemd-journal-remote
# --seal into a file, then journalctl --verify --verify-key), a raw SQLite insert of the same bytes (one row
# per event, WAL, synchronous=FULL, transactions of 10,000 like `probity append`), SHA-256 of the same bytes,
# and `probity append --db` with its receipts written to a file, then `probity verify`; then `probity replay`
# of that store and its peak memory, `probity import` of a LinkedIn messages.csv, and probityd under `wrk`
# (64 connections on TCP loopback: single-event requests, then 100-event requests) on the same store, with
# its peak memory. Prints the ratios and the issue's targets beside them.
# journald runs inside `unshare -m`, with a private bind mount on /var/log/journal: the host's journal and
# its keys are never touched. Needs root for that (it is skipped, and said so, otherwise). As root, each
# writing step also starts from an empty page cache (see `settle`), so that no writer pays for the files
# the steps before it wrote.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200000}
case "$count" in '' | *[!0-9]*) echo "bench-compare: N must be a whole number of events, got \"$count\"" >&2; exit 2 ;; esac
Scripts/install-deps.sh
# A fresh machine's package lists may be empty: update them once if something must be installed.
if { [ ! -x /lib/systemd/systemd-journal-remote ] || ! command -v wrk >/dev/null; } && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  [ -x /lib/systemd/systemd-journal-remote ] || DEBIAN_FRONTEND=noninteractive apt-get install -y systemd-journal-remote >/dev/null
  command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >/dev/null
fi
swift build -c release --product probity
swift build -c release --product probityd
probity=$PWD/.build/release/probity
probityd=$PWD/.build/release/probityd
dir=$PWD/var/bench-compare
rm -rf "$dir" && mkdir -p "$dir"
echo "writing $count events (JSONL for probity, journal export format for journald)..."
python3 Scripts/bench-compare-events.py "$count" "$dir"

# Wall-clock seconds of a command, its output discarded (its exit status must be 0).
seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.3f}')"
}
# Each writing step starts from an empty page cache (as root): the files earlier steps wrote (journald's
# ~1 GB of journal, the raw baseline's database) otherwise fill it, and the next writer pays for reclaiming
# it (on this VM: a 200k append took 18-22 s with 10-12 s of system time after journald, 11 s after a drop).
# The reading steps (journalctl --verify, probity verify, replay) read what their own writer just wrote,
# after a `sync`: without it, each verify was charged for the kernel writing back its writer's dirty pages
# (~200 MB of receipts after `probity append`, which does not fsync its standard output; journald's files):
# a 200,000-entry verify took 1.76 s right after the append and 1.2 s on the same store a minute later.
settle() {
  sync
  if [ "$(id -u)" = 0 ]; then echo 1 > /proc/sys/vm/drop_caches; fi
}
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }
ratio() { python3 -c "print(f'{($1 / $2) / ($3 / $4):.2f}')"; }

echo "raw SQLite and SHA-256 baselines..."
settle
read -r raw_s sha_s < <(python3 - "$dir" <<'PY'
import hashlib, os, sqlite3, sys, time
d = sys.argv[1]
lines = [l.rstrip(b"\n") for l in open(os.path.join(d, "lines.bin"), "rb")]
db = sqlite3.connect(os.path.join(d, "raw.sqlite"), isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE entries (seq INTEGER PRIMARY KEY, bytes BLOB NOT NULL)")
t = time.perf_counter()
for start in range(0, len(lines), 10_000):
    db.execute("BEGIN")
    db.executemany("INSERT INTO entries (seq, bytes) VALUES (?, ?)",
                   ((start + i, line) for i, line in enumerate(lines[start:start + 10_000])))
    db.execute("COMMIT")
raw = time.perf_counter() - t
t = time.perf_counter()
for line in lines:
    hashlib.sha256(line).digest()
print(f"{raw:.3f} {time.perf_counter() - t:.3f}")
PY
)

journal_seal=skipped journal_verify=skipped journal_entries=0
if [ "$(id -u)" = 0 ] && [ -x /lib/systemd/systemd-journal-remote ]; then
  echo "journald: sealing and verifying in a private mount namespace..."
  settle
  mkdir -p "$dir/journal"
  read -r journal_seal journal_verify journal_entries < <(unshare -m bash -s "$dir" <<'SH'
set -euo pipefail
dir=$1
mount --bind "$dir/journal" /var/log/journal
mkdir -p "/var/log/journal/$(cat /etc/machine-id)" /var/log/journal/remote
key=$(journalctl --setup-keys --force --interval=15min 2>/dev/null)
start=$(date +%s.%N)
/lib/systemd/systemd-journal-remote --seal=yes --split-mode=none --output=/var/log/journal/remote/bench.journal \
  "$dir/events.export" 2>/dev/null
middle=$(date +%s.%N)
sync  # the verify below reads; it does not pay for writing back what the seal left dirty (see `settle`)
verifying=$(date +%s.%N)
# journal-remote rotates its output as a journal file fills: verify and count every file it wrote.
journalctl --verify --verify-key="$key" --directory=/var/log/journal/remote >/dev/null 2>&1
end=$(date +%s.%N)
entries=$(journalctl --directory=/var/log/journal/remote -o export | grep -c '^MESSAGE=' || true)
[ "$entries" -gt 0 ] || { echo "journald wrote no entry" >&2; exit 1; }
python3 -c "print(f'{$middle - $start:.3f} {$end - $verifying:.3f} $entries')"
SH
  )
  if [ "$journal_entries" != "$count" ]; then
    echo "bench-compare: journald holds $journal_entries entries, not the $count sent; its figures would be wrong" >&2
    exit 1
  fi
fi

echo "probity: init, append with receipts to a file, verify..."
settle
"$probity" init --db "$dir/log.sqlite" --origin bench.example/probity >/dev/null
entries=$(wc -l < "$dir/events.jsonl")
append_s=$(seconds sh -c "'$probity' append --db '$dir/log.sqlite' '$dir/events.jsonl' > '$dir/receipts.txt' 2> '$dir/append.log'")
sync  # as for journald: the verify does not pay for writing back the append's receipts file
verify_s=$(seconds "$probity" verify --db "$dir/log.sqlite")

# Seconds and peak resident memory (MiB) of a command, its output discarded (its exit status must be 0).
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
seconds = time.perf_counter() - t
print(f"{seconds:.3f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f}")
PY
}
echo "probity replay of that store..."
read -r replay_s replay_mib < <(measure "$probity" replay --db "$dir/log.sqlite")

imports=$(( count < 100000 ? count : 100000 ))
echo "probity import of a $imports-message LinkedIn messages.csv..."
python3 - "$dir" "$imports" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
agent, contact = "https://www.linkedin.com/in/claire-durand", "https://www.linkedin.com/in/julien-martin"
with open(os.path.join(d, "messages.csv"), "w", encoding="utf-8") as f:
    f.write("CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,DATE,SUBJECT,CONTENT,FOLDER,ATTACHMENTS\n")
    for i in range(n):
        inbound = i % 2 == 0
        sender, recipient = (contact, agent) if inbound else (agent, contact)
        names = ("Julien Martin", "Claire Durand") if inbound else ("Claire Durand", "Julien Martin")
        f.write(f"2-conv-{i % 50},,{names[0]},{sender},{names[1]},{recipient},2026-03-{1 + i // 86400 % 28:02d} "
                f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} UTC,,\"Bonjour, concernant le lot {i % 7}, "
                f"pourriez-vous préciser les délais de livraison « franco de port » ? Message {i}.\",INBOX,\n")
with open(os.path.join(d, "mapping.json"), "w") as f:
    f.write('{"accounts": {"%s": "agent-durand", "%s": "contact-martin"}, "buyers": ["agent-durand"]}' % (agent, contact))
PY
"$probity" init --db "$dir/import.sqlite" --origin bench.example/import >/dev/null
"$probity" append --db "$dir/import.sqlite" --quiet examples/conversation.jsonl 2>/dev/null
settle
import_s=$(seconds "$probity" import --db "$dir/import.sqlite" --format linkedin-csv --procedure 2026-042 \
  --mapping "$dir/mapping.json" "$dir/messages.csv")
imported=$(( $("$probity" verify --db "$dir/import.sqlite" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])') - 14 ))
[ "$imported" = "$imports" ] || { echo "bench-compare: the import appended $imported messages, not $imports" >&2; exit 1; }

wrk_single=skipped wrk_batch=skipped
if command -v wrk >/dev/null; then
  echo "probityd on that store under wrk (64 connections, TCP loopback)..."
  settle
  (umask 077; "$probity" tokens create --db "$dir/log.sqlite" --name bench --role ingest > "$dir/ingest.token")
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  before=$("$probity" verify --db "$dir/log.sqlite" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
  "$probityd" --store "$dir/log.sqlite" --socket "$dir/probityd.sock" --tcp "127.0.0.1:$port" --log-level warning \
    2> "$dir/probityd.log" &
  daemon=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  run_wrk() {  # BATCH CONNECTIONS → "requests/s p99_ms"
    PROBITY_TOKEN=$(cat "$dir/ingest.token") BENCH_BATCH=$1 wrk -t2 -c"$2" -d10s --latency \
      -s Scripts/bench-wrk-events.lua "http://127.0.0.1:$port" > "$dir/wrk-$1.txt"
    ! grep -q "Non-2xx" "$dir/wrk-$1.txt" || { echo "bench-compare: probityd refused requests:" >&2; cat "$dir/wrk-$1.txt" >&2; exit 1; }
    python3 Scripts/wrk-summary.py "$dir/wrk-$1.txt"
  }
  read -r wrk_single wrk_single_p99 < <(run_wrk 1 64)
  read -r wrk_batch wrk_batch_p99 < <(run_wrk 100 64)
  daemon_mib=$(( $(awk '/VmHWM/ { print $2 }' "/proc/$daemon/status") / 1024 ))
  kill -TERM "$daemon"; wait "$daemon" || true
  after=$("$probity" verify --db "$dir/log.sqlite" --json | python3 -c 'import json,sys; r = json.load(sys.stdin); assert r["intact"]; print(r["size"])')
  daemon_entries=$(( after - before ))
fi

echo
echo "## Probity beside journald's sealing and its limits: $count exchanges (~$(( $(wc -c < "$dir/lines.bin") / count )) bytes each), $(nproc) cores"
echo
echo "| measure | seconds | events/s | ratio |"
echo "|---|---:|---:|---|"
echo "| raw SQLite insert of the same bytes (one row per event, WAL, synchronous=FULL, 10,000 per transaction) | $raw_s | $(rate "$count" "$raw_s") | |"
echo "| SHA-256 of the same bytes (Python's hashlib, one call per event) | $sha_s | $(rate "$count" "$sha_s") | |"
if [ "$journal_seal" != skipped ]; then
  echo "| journald: \`systemd-journal-remote --seal=yes\` ($journal_entries entries) | $journal_seal | $(rate "$count" "$journal_seal") | |"
  echo "| journald: \`journalctl --verify --verify-key\` | $journal_verify | $(rate "$count" "$journal_verify") | |"
fi
echo "| **probity append --db**, receipts written to a file ($entries entries) | $append_s | $(rate "$entries" "$append_s") | $( [ "$journal_seal" != skipped ] && echo "$(ratio "$entries" "$append_s" "$count" "$journal_seal")× journald's sealing, ")$(ratio "$entries" "$append_s" "$count" "$raw_s")× raw SQLite |"
echo "| **probity verify** | $verify_s | $(rate "$entries" "$verify_s") | $( [ "$journal_verify" != skipped ] && echo "$(ratio "$entries" "$verify_s" "$count" "$journal_verify")× journalctl --verify, ")$(ratio "$entries" "$verify_s" "$count" "$sha_s")× SHA-256 |"
echo "| probity replay of that store (peak memory $replay_mib MiB at $entries entries; goal ≤ 150 MB at 1,000,000) | $replay_s | $(rate "$entries" "$replay_s") | goal ≥ 300,000/s |"
echo "| probity import, LinkedIn messages.csv ($imports messages) | $import_s | $(rate "$imports" "$import_s") msg/s | goal ≥ 50,000/s |"
if [ "$wrk_single" != skipped ]; then
  echo "| probityd, \`wrk -t2 -c64\`, one event per request (p99 $wrk_single_p99 ms; goal ≥ 20,000/s, p99 ≤ 20 ms) | 10 | $wrk_single req/s | |"
  echo "| probityd, \`wrk -t2 -c64\`, 100 events per request (p99 $wrk_batch_p99 ms; goal ≥ 100,000 ev/s) | 10 | $((wrk_batch * 100)) ev/s | |"
  echo "| probityd's peak memory, serving a log of $before to $after entries | | $daemon_mib MiB | goal ≤ 150 MB at 1,000,000 |"
  echo "(probityd appended $daemon_entries entries under wrk, every one acknowledged; the log verifies intact after it)"
else
  echo "(probityd skipped: install Debian's wrk)"
fi
[ "$journal_seal" != skipped ] || echo "(journald skipped: it needs root for its private mount namespace, and Debian's systemd-journal-remote)"
