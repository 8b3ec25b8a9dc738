#!/usr/bin/env bash
# The main job end to end: probityd on a fresh state directory (var/demo), tokens, a procurement
# conversation appended over the API, the daemon killed with SIGKILL and restarted, the log verified,
# and the signed checkpoint and a receipt printed and checked offline (also with OpenSSL alone).
# A witness (run by someone else: here, a regional audit chamber) cosigns the daemon's checkpoints, and a
# monitor follows the log through its tiles with only the log's and the witness's keys. Two e-mails arrive
# in the procurement mailbox, which probityd captures.
# Then the procurement scenario (examples/scenario.jsonl): its timeline, and the findings it raises.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release --product probity
swift build -c release --product probityd
probity=".build/release/probity"
probityd=".build/release/probityd"
state=var/demo
rm -rf "$state"
mkdir -p "$state"
socket="$state/probityd.sock"
db="$state/log.sqlite"
daemon_pid=""
witness_pid=""
stop_daemon() { if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then kill -TERM "$daemon_pid"; wait "$daemon_pid" || true; fi; }
stop_witness() { if [ -n "$witness_pid" ] && kill -0 "$witness_pid" 2>/dev/null; then kill -TERM "$witness_pid"; wait "$witness_pid" || true; fi; }
trap 'stop_daemon; stop_witness' EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
witness_port=$(free_port)
tiles_port=$(free_port)

# The procurement mailbox, as mbsync would fill it, captured by probityd ([[capture]], docs/CAPTURE.md).
mkdir -p "$state/mail/INBOX/cur" "$state/mail/INBOX/new" "$state/mail/INBOX/tmp"
cat > "$state/parties.json" <<'JSON'
{"accounts": {"c.durand@ville-exemple.fr": "agent-durand", "j.martin@voirie-sud.example": "contact-martin"},
 "buyers": ["agent-durand"]}
JSON
cat > "$state/probityd.toml" <<TOML
[[capture]]
name = "marches"
path = "$state/mail/INBOX"
mapping = "$state/parties.json"
TOML

start_daemon() {
  "$probityd" --config "$state/probityd.toml" --store "$db" --socket "$socket" --tiles-listen "127.0.0.1:$tiles_port" \
    --witness "http://127.0.0.1:$witness_port $(cat "$state/witness/witness.vkey")" 2>> "$state/probityd.log" &
  daemon_pid=$!
  for _ in $(seq 1 100); do
    curl -sf --unix-socket "$socket" http://probityd/healthz > /dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "probityd did not start; see $state/probityd.log" >&2
  exit 1
}

echo "== probity init: the store, its Ed25519 key, and the verifier key for auditors"
"$probity" init --db "$db" --origin achats.ville-exemple.fr/probity --by "demo:operator"
echo
echo "== API tokens (the secret is printed once; only its SHA-256 is stored)"
(umask 077; "$probity" tokens create --db "$db" --name crm-connector --role ingest > "$state/ingest.token")
(umask 077; "$probity" tokens create --db "$db" --name auditor --role read > "$state/read.token")
(umask 077; "$probity" tokens create --db "$db" --name legal --role export > "$state/export.token")
"$probity" tokens list --db "$db"
echo
echo "== a witness, run by the regional audit chamber: its own key, and the log it follows"
"$probity" witness init --state "$state/witness" --name witness.crc-exemple.fr/w1
"$probity" witness serve --state "$state/witness" --tcp "127.0.0.1:$witness_port" \
  --log "$(head -n 1 "$state/log.vkey" | cut -d+ -f1)=$(cat "$state/log.vkey")" 2>> "$state/witness.log" &
witness_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$witness_port/healthz" > /dev/null 2>&1 && break; sleep 0.1; done
echo
echo "== probityd on $socket (public tiles on 127.0.0.1:$tiles_port, checkpoints sent to the witness)"
start_daemon
curl -s --unix-socket "$socket" http://probityd/healthz; echo
echo
echo "== the connector appends the conversation through the daemon (receipts in $state/receipts.jsonl)"
export PROBITY_TOKEN="$(cat "$state/ingest.token")"
"$probity" append --socket "$socket" --json examples/conversation.jsonl > "$state/receipts.jsonl"
echo "$(wc -l < "$state/receipts.jsonl") receipts"
echo "-- its exchanges sent again (a retry after a lost answer): recorded exchanges are not appended twice"
grep '"exchange.recorded"' examples/conversation.jsonl | "$probity" append --socket "$socket" --quiet - 2>&1 | tail -1
echo "-- an event naming a party the log does not know is refused (422), and nothing is appended"
curl -s --unix-socket "$socket" -H "Authorization: Bearer $PROBITY_TOKEN" http://probityd/v1/events -d '{"type": "procedure.candidate_joined",
  "data": {"procedure": "2026-042", "party": "sup-inconnu"}}'; echo
echo
echo "== an auditor keeps today's checkpoint"
PROBITY_TOKEN="$(cat "$state/read.token")" "$probity" checkpoint --socket "$socket" > "$state/kept.checkpoint"
cat "$state/kept.checkpoint"
echo
echo "== kill -9 probityd, and restart it"
kill -KILL "$daemon_pid"; wait "$daemon_pid" 2>/dev/null || true
start_daemon
curl -s --unix-socket "$socket" http://probityd/healthz; echo
echo "-- one more exchange, over plain HTTP with curl"
curl -s --unix-socket "$socket" -H "Authorization: Bearer $PROBITY_TOKEN" http://probityd/v1/events -d '{
  "type": "exchange.recorded",
  "data": {"procedure": "2026-042", "channel": "email", "kind": "message", "visibility": "restricted", "direction": "outbound",
           "from": "agent-durand", "to": ["contact-martin", "sup-bitume-nord"], "source": {"platform": "email", "id": "<demo-followup@ville-exemple.fr>"},
           "occurred_at": "2026-03-14T09:00:00Z"},
  "payload": {"subject": "Réponse publiée", "text": "La réponse à votre question est publiée sur le profil acheteur."}}' \
  | head -c 160; echo " …"
echo
echo "== two e-mails arrive in the procurement mailbox (delivered as mbsync does: tmp/, then new/)"
deliver() {
  printf '%s' "$2" > "$state/mail/INBOX/tmp/$1"
  mv "$state/mail/INBOX/tmp/$1" "$state/mail/INBOX/new/$1"
}
deliver 1773392400.demo1.mail "From: Jean Martin <j.martin@voirie-sud.example>
To: c.durand@ville-exemple.fr
Subject: RE: 2026-042 - visite du site
Date: Fri, 13 Mar 2026 10:15:00 +0100
Message-ID: <visite-2026-042@voirie-sud.example>

Bonjour, pouvons-nous visiter le site la semaine prochaine ?
"
deliver 1773392460.demo2.mail "From: Someone <prospect@inconnu.example>
To: c.durand@ville-exemple.fr
Subject: Présentation
Date: Fri, 13 Mar 2026 10:16:00 +0100
Message-ID: <hello@inconnu.example>

Bonjour, je souhaite vous présenter nos services.
"
for _ in $(seq 1 100); do
  [ "$("$probity" capture status --db "$db" --all --json | grep -o '"item"' | wc -l)" -ge 2 ] && break
  sleep 0.1
done
echo "-- probity capture status: one recorded (procedure 2026-042, from its subject), one waiting for a mapping"
"$probity" capture status --db "$db" --all
echo
echo "== the checkpoint the witness cosigned (GET /v1/checkpoint?witnessed=1 waits for it)"
curl -sf --unix-socket "$socket" -H "Authorization: Bearer $(cat "$state/read.token")" \
  "http://probityd/v1/checkpoint?witnessed=1"
echo
echo "== a monitor follows the log through its public tiles, with the log's and the witness's keys only"
"$probity" monitor --url "http://127.0.0.1:$tiles_port/tlog" --vkey "$(cat "$state/log.vkey")" \
  --witness "$(cat "$state/witness/witness.vkey")" --state "$state/monitor" --once
stop_daemon
echo
echo "== probity verify (with the verifier key given out of band, the checkpoint kept before the crash, and the witness)"
"$probity" verify --db "$db" --vkey "$(cat "$state/log.vkey")" --checkpoint "$state/kept.checkpoint" \
  --witness "$(cat "$state/witness/witness.vkey")"
echo
echo "== probity replay"
"$probity" replay --db "$db"
echo
echo "== the signed checkpoint"
"$probity" checkpoint --db "$db"
echo
echo "== the receipt of seq 10 (the supplier's question on X), as the connector got it, checked offline"
grep '"seq":10}' "$state/receipts.jsonl"
"$probity" show --db "$db" 10 > "$state/10.json"
# The receipt's "proof" member is the .tlog-proof text, JSON-escaped (its only escapes are \n).
printf '%b' "$(grep '"seq":10}' "$state/receipts.jsonl" | sed -E 's/.*"proof":"([^"]*)".*/\1/')" > "$state/10.tlog-proof"
"$probity" verify-proof --entry "$state/10.json" --proof "$state/10.tlog-proof" --vkey "$(cat "$state/log.vkey")"
echo
echo "== the checkpoint signature checked by OpenSSL alone"
"$probity" checkpoint --db "$db" > "$state/checkpoint.note"
# The signed message is the note text up to the blank line; the signature is the base64 blob after the
# key name, without its 4-byte key ID.
awk 'NF == 0 { exit } { print }' "$state/checkpoint.note" > "$state/checkpoint.msg"
grep '^— ' "$state/checkpoint.note" | head -n 1 | awk '{ print $3 }' | base64 -d | tail -c 64 > "$state/checkpoint.sig"
openssl pkeyutl -verify -pubin -inkey "$state/log.pub.pem" -rawin -in "$state/checkpoint.msg" -sigfile "$state/checkpoint.sig"
echo
echo "== the procurement scenario: sourcing on LinkedIn, an open tender with a question on X answered privately,"
echo "   a disclosure 3 days before the deadline, a direct message during the standstill (examples/scenario.jsonl)"
start_daemon
"$probity" append --socket "$socket" --quiet examples/scenario.jsonl
echo "-- the procedures, as an auditor's read token sees them through probityd"
curl -s --unix-socket "$socket" -H "Authorization: Bearer $(cat "$state/read.token")" http://probityd/v1/procedures \
  | grep -o '"procedure":"[^"]*"\|"phase":"[^"]*"' | paste -sd ' ' -
echo "-- the legal team's evidence bundle of procedure 2026-057, streamed by probityd to its export token"
curl -sf --unix-socket "$socket" -H "Authorization: Bearer $(cat "$state/export.token")" \
  "http://probityd/v1/export/bundle?procedure=2026-057&lang=fr" -o "$state/2026-057.zip"
stop_daemon
echo
echo "== probity timeline --procedure 2026-057 (times in the buyer's time zone, Europe/Paris)"
"$probity" timeline --db "$db" --procedure 2026-057
echo
echo "== probity findings --procedure 2026-057"
"$probity" findings --db "$db" --procedure 2026-057
echo
echo "== the evidence bundle, checked by a court expert with the verifier key only: with probity, then with"
echo "   the Python script inside the bundle (Python's standard library and openssl, no Probity)"
"$probity" verify-bundle "$state/2026-057.zip" --vkey "$(cat "$state/log.vkey")"
python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('10_verify_bundle.py', sys.argv[2])" "$state/2026-057.zip" "$state"
python3 "$state/10_verify_bundle.py" "$state/2026-057.zip" --vkey "$(cat "$state/log.vkey")"
echo "-- and once an entry of it is changed (one character of its time):"
python3 - "$state/2026-057.zip" "$state/tampered.zip" <<'PY'
import sys, zipfile
source, target = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], "w")
for info in source.infolist():
    data = source.read(info)
    if info.filename.startswith("entries/E00002_") and info.filename.endswith(".json") and b'"time":"' in data:
        data = data.replace(b'"time":"2', b'"time":"1', 1)
    target.writestr(info, data)
target.close()
PY
"$probity" verify-bundle "$state/tampered.zip" --vkey "$(cat "$state/log.vkey")" || echo "(exit $?: refused, as it must be)"
echo
echo "== the web console, for the legal team (docs/CONSOLE.md): start the daemon with a TCP listener,"
echo "   open the address in a browser and sign in with the read token"
echo "  $probityd --store $db --socket $socket --tcp 127.0.0.1:8787"
echo "  console: http://127.0.0.1:8787/ui/"
echo "  read token: $(cat "$state/read.token")"
