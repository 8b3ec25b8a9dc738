#!/usr/bin/env python3
"""Writes the events of Scripts/bench-compare.sh, the same events in the forms each tool reads.

  bench-compare-events.py N DIR

DIR/events.jsonl   examples/conversation.jsonl (which registers the parties and procedure 2026-042),
                   then N `exchange.recorded` events with ~600-byte payloads: what `probity append` reads.
DIR/events.export  the N exchanges as systemd's journal export format (one entry per event, the event's
                   JSON line as MESSAGE), stamped from now on: what `systemd-journal-remote` reads.
DIR/lines.bin      the N exchanges' JSON lines, for the raw SQLite and SHA-256 baselines.
"""
import json
import os
import sys
import time

count, out = int(sys.argv[1]), sys.argv[2]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(root, "examples", "conversation.jsonl"), encoding="utf-8") as f:
    preamble = f.read()
if not preamble.endswith("\n"):
    preamble += "\n"

words = "le CCTP impose-t-il un enrobé tiède ou à chaud pour la couche de roulement du lot 2 ".split()
start = int(time.time() * 1_000_000)
with open(os.path.join(out, "events.jsonl"), "w", encoding="utf-8") as jsonl, \
        open(os.path.join(out, "events.export"), "w", encoding="utf-8") as export, \
        open(os.path.join(out, "lines.bin"), "w", encoding="utf-8") as lines:
    jsonl.write(preamble)
    for i in range(count):
        inbound = i % 2 == 0
        text = " ".join(words[(i + k) % len(words)] for k in range(110))[:600]
        event = {
            "type": "exchange.recorded",
            "data": {
                "procedure": "2026-042", "channel": "linkedin", "kind": "message", "visibility": "direct",
                "direction": "inbound" if inbound else "outbound",
                "from": "contact-martin" if inbound else "agent-durand",
                "to": ["agent-durand" if inbound else "contact-martin"],
                "source": {"platform": "linkedin", "id": "bench-%09d" % i},
                "occurred_at": "2026-03-%02dT%02d:%02d:00Z" % (1 + i // 86400 % 28, i // 3600 % 24, i // 60 % 60),
                "captured_at": "2026-03-29T08:00:00Z",
            },
            "payload": {"text": text, "display_names": {"from": "Julien Martin" if inbound else "Claire Durand"}},
        }
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
        jsonl.write(line + "\n")
        lines.write(line + "\n")
        # Export format: KEY=value lines, an empty line after each entry; the timestamps must not go back.
        export.write("__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\nSYSLOG_IDENTIFIER=probity\n"
                     "MESSAGE=%s\n\n" % (start + i, 1_000_000 + i, "6b1c6b8a2b7d4a0e9d3f5c2e1a0b9c8d", line))
