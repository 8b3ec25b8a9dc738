#!/usr/bin/env bash
# Installs the Debian packages Probity needs to build and run; with --test, also those the test suite
# uses (Go and golang.org/x/mod, to check Probity's notes and proofs with the Go sumdb packages; systemd,
# for systemd-analyze on the units; chromium and DejaVu fonts, to render the HTML export headless; pyflakes3, to lint the bundled Python verifier;
# dovecot-imapd and isync, the IMAP server and mbsync the capture tests run on loopback; python3-venv, for
# Playwright and axe-core, which drive chromium in the console's browser tests; nginx, which the console test
# runs with the example site of systemd/nginx-probity.conf; postgresql-15, whose initdb and pg_ctl the PostgreSQL
# store's tests run in temporary directories, a primary and a streaming standby). python3 is
# always installed: evidence bundles ship a verifier written for it (and the tests run it).
# Idempotent: does nothing when they are already there.
set -euo pipefail
packages=(libsqlite3-dev libssl-dev pkg-config openssl util-linux coreutils curl python3)
if [ "${1:-}" = "--test" ]; then
  packages+=(golang-go golang-golang-x-mod-dev systemd chromium fonts-dejavu-core pyflakes3 dovecot-imapd isync python3-venv nginx postgresql-15)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # The tests make their own throw-away PostgreSQL clusters: the package's default cluster is not wanted.
  if [[ " ${missing[*]} " == *" postgresql-15 "* ]]; then
    $SUDO mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # The tests start their own throw-away Dovecot; the system one the package enables is not wanted here.
  if [[ " ${missing[*]} " == *" dovecot-imapd "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
  fi
  if [[ " ${missing[*]} " == *" nginx "* ]] && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now nginx.service >/dev/null 2>&1 || true
  fi
fi
if [ "${1:-}" = "--test" ]; then
  # Playwright and axe-core for the console's browser tests, from PyPI, in a venv of their own (Debian's
  # Python is externally managed). Playwright drives Debian's chromium: it downloads no browser.
  venv="$(dirname "$0")/../.build/browser-venv"
  if ! "$venv/bin/python" -c 'import playwright, axe_playwright_python' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check playwright==1.65.2 axe-playwright-python==0.1.8
  fi
fi
command -v swift >/dev/null || { echo "swift is not on PATH: install Swift 6.3 (https://swift.org/install) first" >&2; exit 2; }
