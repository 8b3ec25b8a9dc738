#!/usr/bin/env bash
# Installs what the tests need, builds everything, runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/install-deps.sh --test
swift build --build-tests
swift test --skip-build "$@"
