#!/usr/bin/env bash
# Live capture throughput, as an administrator runs it, on a Maildir of N messages (default 100,000):
#   - baseline: reading every message file (cat), in the same run;
#   - `probity capture maildir` (one run by hand, release build): parse, map, tag, append, ledger;
#   - probityd with a [[capture]] section on the same Maildir (a fresh store): from start until every
#     message is in the capture ledger.
# The messages are ~1.5 KB, from 50 suppliers' contacts to 5 buyer agents, over 20 procedures, a tenth of
# them replies, a twentieth with a small attachment, references in half the subjects.
# Usage: Scripts/bench-capture.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
swift build -c release --product probity >/dev/null 2>&1
swift build -c release --product probityd >/dev/null 2>&1
probity=$PWD/.build/release/probity probityd=$PWD/.build/release/probityd
dir=$PWD/var/bench-capture
rm -rf "$dir" && mkdir -p "$dir"

python3 - "$dir" "$count" <<'PY'
import base64, json, os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
random.seed(7)
buyers = [f"agent{i}@ville-exemple.fr" for i in range(5)]
suppliers = [f"contact{i}@fournisseur{i}.fr" for i in range(50)]
events = [{"type": "party.registered", "data": {"party": "org-ville", "role": "buyer_org"}}]
accounts = {}
for i, a in enumerate(buyers):
    events.append({"type": "party.registered", "data": {"party": f"agent-{i}", "role": "buyer_agent", "org": "org-ville"}})
    accounts[a] = f"agent-{i}"
for i, a in enumerate(suppliers):
    events.append({"type": "party.registered", "data": {"party": f"sup-{i}", "role": "supplier_org"}})
    events.append({"type": "party.registered", "data": {"party": f"contact-{i}", "role": "supplier_contact", "org": f"sup-{i}"}})
    accounts[a] = f"contact-{i}"
procedures = [f"2026-{100 + p:03d}" for p in range(20)]
for p in procedures:
    events.append({"type": "procedure.opened", "data": {"procedure": p, "kind": "open_tender", "buyer": "org-ville",
                                                        "tender_deadline": "2026-12-30T12:00:00Z"}})
    for s in random.sample(range(50), 5):
        events.append({"type": "procedure.candidate_joined", "data": {"procedure": p, "party": f"sup-{s}"}})
with open(os.path.join(root, "registry.jsonl"), "w") as f:
    for e in events: f.write(json.dumps(e) + "\n")
with open(os.path.join(root, "parties.json"), "w") as f:
    json.dump({"accounts": accounts, "buyers": list(accounts[a] for a in buyers)}, f)
maildir = os.path.join(root, "INBOX")
for sub in ("cur", "new", "tmp"): os.makedirs(os.path.join(maildir, sub))
text = ("Bonjour,\n\nPourriez-vous préciser les conditions de la visite de site et le format attendu du "
        "mémoire technique ? Nous souhaitons également savoir si les variantes sont autorisées pour le lot 2.\n\n"
        "Bien cordialement,\n") * 3
attachment = base64.encodebytes(os.urandom(3000)).decode()
for n in range(count):
    s = random.randrange(50); b = random.randrange(5); p = random.choice(procedures)
    inbound = random.random() < 0.7
    frm, to = (suppliers[s], buyers[b]) if inbound else (buyers[b], suppliers[s])
    subject = f"Question {p} lot {n % 4 + 1}" if n % 2 == 0 else "Question sur la consultation"
    headers = [f"From: {frm}", f"To: {to}", f"Subject: {subject}",
               f"Date: Tue, 10 Mar 2026 {n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d} +0100",
               f"Message-ID: <bench-{n}@bench.example>"]
    if n % 10 == 9: headers += [f"In-Reply-To: <bench-{n - 1}@bench.example>", f"References: <bench-{n - 1}@bench.example>"]
    if n % 20 == 0:
        body = ("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\nContent-Type: text/plain; charset=utf-8\n\n"
                + text + "\n--b\nContent-Type: application/pdf; name=\"annexe.pdf\"\nContent-Transfer-Encoding: base64\n\n"
                + attachment + "--b--\n")
        message = "\n".join(headers) + "\n" + body
    else:
        message = "\n".join(headers) + "\nContent-Type: text/plain; charset=utf-8\n\n" + text
    with open(os.path.join(maildir, "new", f"{1796000000 + n}.M{n}P1.bench,U={n + 1}:2,"), "w") as f:
        f.write(message)
PY
bytes=$(du -sb "$dir/INBOX" | cut -f1)
echo "bench-capture: $count messages, $((bytes / 1024 / 1024)) MiB in $dir/INBOX"
sync

now() { date +%s.%N; }
rate() { python3 -c "import sys; n, t = int(sys.argv[1]), float(sys.argv[2]); print(f'{n / t:,.0f} messages/s ({t:.2f} s)')" "$@"; }
newstore() {
  rm -f "$1" "$1"-wal "$1"-shm "${1%.sqlite}".key.pem
  "$probity" init --db "$1" --origin bench.example/capture >/dev/null
  "$probity" append --db "$1" --quiet "$dir/registry.jsonl" >/dev/null
}

start=$(now)
find "$dir/INBOX/new" -type f -exec cat {} + > /dev/null
read_s=$(python3 -c "print($(now) - $start)")
echo "reading the files (cat): $(rate "$count" "$read_s")"

newstore "$dir/cli.sqlite"
start=$(now)
"$probity" capture maildir --db "$dir/cli.sqlite" --mapping "$dir/parties.json" --name bench --json "$dir/INBOX" > "$dir/cli.json"
cli_s=$(python3 -c "print($(now) - $start)")
summary=$(python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); print("%d recorded, %d failed, %d untagged" % (r["recorded"], len(r["failed"]), r["untagged"]))' "$dir/cli.json")
echo "probity capture maildir: $(rate "$count" "$cli_s"); $summary"
echo "  ratio to reading the files: $(python3 -c "print(f'{$read_s / $cli_s:.3f}x')")"

newstore "$dir/daemon.sqlite"
cat > "$dir/probityd.toml" <<EOF
[[capture]]
name = "bench"
path = "$dir/INBOX"
mapping = "$dir/parties.json"
EOF
start=$(now)
"$probityd" --store "$dir/daemon.sqlite" --socket "$dir/probityd.sock" --config "$dir/probityd.toml" --log-level warning 2> "$dir/probityd.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; wait 2>/dev/null || true' EXIT
while :; do
  done_count=$(python3 -c "
import sqlite3, sys
try:
    print(sqlite3.connect('file:$dir/daemon.sqlite?mode=ro', uri=True).execute('SELECT COUNT(*) FROM capture_items').fetchone()[0])
except Exception: print(0)")
  [ "$done_count" -ge "$count" ] && break
  kill -0 $daemon 2>/dev/null || { echo "probityd exited: $(tail -3 "$dir/probityd.log")" >&2; exit 1; }
  sleep 0.5
done
daemon_s=$(python3 -c "print($(now) - $start)")
rss=$(ps -o rss= -p $daemon | awk '{printf "%.0f", $1 / 1024}')
echo "probityd [[capture]] (start to all in the ledger): $(rate "$count" "$daemon_s"), RSS ${rss} MiB"
kill -TERM $daemon; wait $daemon || true
"$probity" verify --db "$dir/daemon.sqlite" --json | python3 -c 'import json,sys; r = json.load(sys.stdin); print("verify:", "intact" if r["intact"] else "FAILED", r["size"], "entries")'
