#!/usr/bin/env bash
# Runs Probity's benchmark (release build) and prints a Markdown report (also in var/bench/report.md).
#   Scripts/bench.sh [--events N] [--batch B] [--proofs P]
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh
swift build -c release --product probity-bench
.build/release/probity-bench --dir var/bench "$@"
