#!/usr/bin/env bash
# Probity beside its peer and its limits, on the same events, in one run (issue 13's benchmark, first part):
#   Scripts/bench-compare.sh [N]        (also: Scripts/bench.sh --compare [N]; N exchanges, default 200,000)
# Measures, as each tool is run by its users: journald's Forward Secure Sealing (systemd-journal-remote
# --seal into a file, then journalctl --verify --verify-key), a raw SQLite insert of the same bytes (one row
# per event, WAL, synchronous=FULL, transactions of 10,000 like `probity append`), SHA-256 of the same bytes,
# and `probity append --db` with its receipts written to a file, then `probity verify`. Prints the ratios.
# journald runs inside `unshare -m`, with a private bind mount on /var/log/journal: the host's journal and
# its keys are never touched. Needs root for that (it is skipped, and said so, otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200000}
case "$count" in '' | *[!0-9]*) echo "bench-compare: N must be a whole number of events, got \"$count\"" >&2; exit 2 ;; esac
Scripts/install-deps.sh
if [ ! -x /lib/systemd/systemd-journal-remote ] && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y systemd-journal-remote >/dev/null
fi
swift build -c release --product probity
probity=$PWD/.build/release/probity
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
rate() { python3 -c "print(f'{$1 / $2:,.0f}')"; }
ratio() { python3 -c "print(f'{($1 / $2) / ($3 / $4):.2f}')"; }

echo "raw SQLite and SHA-256 baselines..."
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
# journal-remote rotates its output as a journal file fills: verify and count every file it wrote.
journalctl --verify --verify-key="$key" --directory=/var/log/journal/remote >/dev/null 2>&1
end=$(date +%s.%N)
entries=$(journalctl --directory=/var/log/journal/remote -o export | grep -c '^MESSAGE=' || true)
[ "$entries" -gt 0 ] || { echo "journald wrote no entry" >&2; exit 1; }
python3 -c "print(f'{$middle - $start:.3f} {$end - $middle:.3f} $entries')"
SH
  )
  if [ "$journal_entries" != "$count" ]; then
    echo "bench-compare: journald holds $journal_entries entries, not the $count sent; its figures would be wrong" >&2
    exit 1
  fi
fi

echo "probity: init, append with receipts to a file, verify..."
"$probity" init --db "$dir/log.sqlite" --origin bench.example/probity >/dev/null
entries=$(wc -l < "$dir/events.jsonl")
append_s=$(seconds sh -c "'$probity' append --db '$dir/log.sqlite' '$dir/events.jsonl' > '$dir/receipts.txt' 2> '$dir/append.log'")
verify_s=$(seconds "$probity" verify --db "$dir/log.sqlite")

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
[ "$journal_seal" != skipped ] || echo "(journald skipped: it needs root for its private mount namespace, and Debian's systemd-journal-remote)"
