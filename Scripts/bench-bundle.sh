#!/usr/bin/env bash
# Evidence-bundle benchmark (issue 5): export and verify the bundle of one procedure of N events.
#   Scripts/bench-bundle.sh [N]   (default 10000; release build; store in var/bench-bundle)
# Prints the median of 3 runs of each step, and the JSONL timeline export of the same procedure as the
# baseline measured in the same run (the bundle's extra cost is proofs, stream head, ZIP and manifest).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-10000}
swift build -c release --product probity >/dev/null
probity=.build/release/probity
dir=var/bench-bundle
rm -rf "$dir" && mkdir -p "$dir"
$probity init --db "$dir/log.sqlite" --origin bench.example/probity >/dev/null
$probity append --db "$dir/log.sqlite" --quiet examples/scenario.jsonl
python3 - "$events" > "$dir/exchanges.jsonl" <<'PY'
import json, sys
for i in range(int(sys.argv[1]) - 17):
    sender, receiver = ("contact-roux", "agent-lefevre") if i % 2 else ("agent-lefevre", "contact-roux")
    print(json.dumps({"type": "exchange.recorded", "data": {
        "procedure": "2026-057", "channel": "email", "kind": "message", "visibility": "direct", "from": sender, "to": [receiver],
        "source": {"platform": "email", "id": "bench-%d" % i}, "occurred_at": "2026-03-20T10:00:00Z"},
        "payload": {"text": "Message %d au sujet du lot 2 : merci de préciser les quantités." % i}}, ensure_ascii=False))
PY
$probity append --db "$dir/log.sqlite" --quiet "$dir/exchanges.jsonl" 2>/dev/null
vkey=$(cat "$dir/log.vkey")

median() { sort -n | sed -n 2p; }
run3() { for _ in 1 2 3; do /usr/bin/time -f %e "$@" 2>&1 >/dev/null | tail -1; done | median; }

baseline=$(run3 $probity export timeline --db "$dir/log.sqlite" --procedure 2026-057 --format jsonl -o "$dir/timeline.jsonl")
export=$(run3 $probity export bundle --db "$dir/log.sqlite" --procedure 2026-057 -o "$dir/bundle.zip")
verify=$(run3 $probity verify-bundle "$dir/bundle.zip" --vkey "$vkey")
python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('10_verify_bundle.py', sys.argv[2])" "$dir/bundle.zip" "$dir"
script=$(run3 python3 "$dir/10_verify_bundle.py" "$dir/bundle.zip" --vkey "$vkey")
files=$(python3 -c "import sys, zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))" "$dir/bundle.zip")
bytes=$(stat -c %s "$dir/bundle.zip")
entries=$($probity verify-bundle "$dir/bundle.zip" --vkey "$vkey" | sed -n 's/.*all \([0-9]*\) entries of procedure.*/\1/p')

echo "| evidence bundle, procedure of $entries events ($files files, $((bytes / 1024)) KiB) | seconds (median of 3) |"
echo "|---|---|"
echo "| baseline: \`export timeline --format jsonl\` of the same procedure | $baseline |"
echo "| \`probity export bundle\` | $export ($(python3 -c "print(f'{$export / max($baseline, 0.001):.1f}')")× the baseline) |"
echo "| \`probity verify-bundle\` | $verify |"
echo "| \`10_verify_bundle.py\` (Python + openssl) | $script |"
