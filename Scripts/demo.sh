#!/usr/bin/env bash
# The main job end to end on an embedded SQLite store: create a log under ./var/demo, append a
# procurement conversation, verify it, and print the signed checkpoint and an inclusion proof.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release --product probity
probity=".build/release/probity"
demo=var/demo
rm -rf "$demo"
mkdir -p "$demo"

echo "== probity init"
"$probity" init --db "$demo/log.sqlite" --origin achats.ville-exemple.fr/probity --by "demo:operator"
echo
echo "== probity append examples/conversation.jsonl (receipts in $demo/receipts.jsonl)"
"$probity" append --db "$demo/log.sqlite" --by "demo:connector" --json examples/conversation.jsonl > "$demo/receipts.jsonl"
echo "$(wc -l < "$demo/receipts.jsonl") receipts"
echo
echo "== an auditor keeps today's checkpoint"
"$probity" checkpoint --db "$demo/log.sqlite" > "$demo/kept.checkpoint"
echo
echo "== probity verify (with the verifier key given out of band and the kept checkpoint)"
"$probity" verify --db "$demo/log.sqlite" --vkey "$(cat "$demo/log.vkey")" --checkpoint "$demo/kept.checkpoint"
echo
echo "== probity replay"
"$probity" replay --db "$demo/log.sqlite"
echo
echo "== the signed checkpoint"
"$probity" checkpoint --db "$demo/log.sqlite"
echo
echo "== inclusion proof of seq 10 (the supplier's question on X), checked offline"
"$probity" show --db "$demo/log.sqlite" 10 > "$demo/10.json"
"$probity" prove inclusion --db "$demo/log.sqlite" 10 | tee "$demo/10.tlog-proof"
"$probity" verify-proof --entry "$demo/10.json" --proof "$demo/10.tlog-proof" --vkey "$(cat "$demo/log.vkey")"
echo
echo "== the same checkpoint signature checked by OpenSSL alone"
"$probity" checkpoint --db "$demo/log.sqlite" > "$demo/checkpoint.note"
# The signed message is the note text up to the blank line; the signature is the base64 blob after the
# key name, without its 4-byte key ID.
awk 'NF == 0 { exit } { print }' "$demo/checkpoint.note" > "$demo/checkpoint.msg"
grep '^— ' "$demo/checkpoint.note" | head -n 1 | awk '{ print $3 }' | base64 -d | tail -c 64 > "$demo/checkpoint.sig"
openssl pkeyutl -verify -pubin -inkey "$demo/log.pub.pem" -rawin -in "$demo/checkpoint.msg" -sigfile "$demo/checkpoint.sig"
