#!/usr/bin/env bash
# The web console's page times on a procedure of N events (default 100,000), release build, as a browser
# gets them: probityd on TCP loopback, a session opened through the sign-in form, then each page fetched 20
# times with curl (after one warm-up fetch), reporting the median and the slowest.
# Usage: Scripts/bench-console.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
swift build -c release --product probity >/dev/null 2>&1
swift build -c release --product probityd >/dev/null 2>&1
probity=$PWD/.build/release/probity probityd=$PWD/.build/release/probityd
dir=$PWD/var/bench-console
rm -rf "$dir" && mkdir -p "$dir"
python3 - "$dir/events.jsonl" "$count" <<'PY'
import json, sys
path, count = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    def put(e): f.write(json.dumps(e, ensure_ascii=False) + "\n")
    put({"type": "party.registered", "data": {"party": "org-ville", "role": "buyer_org", "time_zone": "Europe/Paris"}})
    put({"type": "party.registered", "data": {"party": "agent-a", "role": "buyer_agent", "org": "org-ville"}})
    for s in range(20):
        put({"type": "party.registered", "data": {"party": f"sup-{s}", "role": "supplier_org"}})
        put({"type": "party.registered", "data": {"party": f"contact-{s}", "role": "supplier_contact", "org": f"sup-{s}"}})
    put({"type": "procedure.opened", "data": {"procedure": "2026-100", "kind": "open_tender", "buyer": "org-ville",
         "published_at": "2026-01-05T09:00:00Z", "questions_deadline": "2026-06-01T12:00:00Z", "tender_deadline": "2026-06-15T12:00:00Z"}})
    for s in range(20):
        put({"type": "procedure.candidate_joined", "data": {"procedure": "2026-100", "party": f"sup-{s}"}})
    for n in range(count):
        s = n % 20
        inbound = n % 3 != 0
        put({"type": "exchange.recorded", "data": {
            "procedure": "2026-100", "channel": ["email", "linkedin", "platform"][n % 3], "kind": "message",
            "visibility": "public" if n % 10 == 0 else "direct", "direction": "inbound" if inbound else "outbound",
            "from": f"contact-{s}" if inbound else "agent-a", "to": ["agent-a"] if inbound else [f"contact-{s}"],
            "source": {"platform": "email", "id": f"<b{n}@bench>"},
            "occurred_at": f"2026-{1 + n * 5 // count:02d}-{1 + n % 27:02d}T{n % 24:02d}:{n % 60:02d}:00Z"},
            "payload": {"text": "Question sur le lot %d : délais de livraison et variantes." % (n % 4 + 1)}})
PY
"$probity" init --db "$dir/log.sqlite" --origin bench.example/console >/dev/null
"$probity" append --db "$dir/log.sqlite" --quiet "$dir/events.jsonl" >/dev/null
token=$("$probity" tokens create --db "$dir/log.sqlite" --name bench --role export --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$probityd" --store "$dir/log.sqlite" --socket "$dir/probityd.sock" --tcp "127.0.0.1:$port" --log-level warning 2> "$dir/probityd.log" &
daemon=$!
trap 'kill -TERM $daemon 2>/dev/null || true; wait 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
jar="$dir/cookies"
csrf=$(curl -s -c "$jar" "$base/ui/sign-in" | grep -o 'name="csrf" value="[^"]*"' | cut -d'"' -f4)
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "token=$token" --data-urlencode "csrf=$csrf" "$base/ui/sign-in"
last_page=$(( (count + 21 + 99) / 100 - 1 ))
echo "console pages on a procedure of $count events (release build, this machine), 20 fetches each:"
printf '%-34s %10s %10s %10s\n' page "median ms" "max ms" "KiB"
for path in "/ui/" "/ui/procedures" "/ui/procedures/2026-100" "/ui/procedures/2026-100?page=$last_page" \
  "/ui/entries/$((count / 2))" "/ui/procedures?q=2026&kind=open_tender"; do
  curl -s -b "$jar" -o /dev/null "$base$path"  # warm-up: the projections are built on the first request
  times=$(for _ in $(seq 20); do curl -s -b "$jar" -o /dev/null -w '%{time_total} %{size_download}\n' "$base$path"; done)
  python3 - "$path" <<PY
import statistics, sys
rows = [line.split() for line in """$times""".strip().splitlines()]
t = sorted(float(r[0]) * 1000 for r in rows)
print(f"{sys.argv[1]:<34} {statistics.median(t):10.1f} {t[-1]:10.1f} {int(rows[0][1]) / 1024:10.1f}")
PY
done
