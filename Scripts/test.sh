#!/usr/bin/env bash
# Installs what the tests need, checks the module graph, fuzzes every parser briefly, builds everything, runs the whole test suite.
# Arguments go to `swift test` (e.g. --filter BundleTests); with arguments, the fuzzing is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh --test
# Every import in Sources/ must be one docs/ARCHITECTURE.md allows.
python3 Scripts/check-architecture.py
# The tree is formatted as .swift-format says (fix with: swift format -i -r Sources Tests Benchmarks Package.swift).
swift format lint --strict --recursive --parallel Sources Tests Benchmarks Package.swift
if [ $# -eq 0 ]; then
  # A short coverage-guided run of every fuzz target (a minute in all); Scripts/fuzz.sh TARGET SECONDS for more.
  Scripts/fuzz.sh all 56
fi
swift build --build-tests
swift test --skip-build "$@"
