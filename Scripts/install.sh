#!/usr/bin/env bash
# Installs probity and probityd on this host as a systemd service:
#   binaries → $PREFIX/bin, the unit, sysusers and tmpfiles files → /etc/systemd/…,
#   the configuration → /etc/probity/probityd.toml (kept if present), and a new Ed25519 signing key
#   → /etc/probity/signing-key.pem (0600, kept if present).
# Usage: sudo Scripts/install.sh [--root DIR] [--prefix /usr/local] [--no-build] [--bin-dir DIR] [--no-systemctl]
#   --root DIR      install into DIR instead of / (staging, packaging, tests); implies --no-systemctl
#   --no-build      use the release binaries already in .build/release
#   --bin-dir DIR   install the binaries found in DIR (implies --no-build)
#   --no-systemctl  do not run systemd-sysusers, systemd-tmpfiles and systemctl daemon-reload
set -euo pipefail
cd "$(dirname "$0")/.."

root=""; prefix=/usr/local; build=1; systemctl=1; bin=.build/release
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="${2:?--root needs a directory}"; systemctl=0; shift 2 ;;
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --no-build) build=0; shift ;;
    --bin-dir) bin="${2:?--bin-dir needs a directory}"; build=0; shift 2 ;;
    --no-systemctl) systemctl=0; shift ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$root" ] && [ "$(id -u)" != 0 ]; then echo "install.sh: run as root (or stage with --root DIR)" >&2; exit 2; fi

if [ "$build" = 1 ]; then
  Scripts/install-deps.sh
  swift build -c release --product probity
  swift build -c release --product probityd
fi
for b in probity probityd; do
  [ -x "$bin/$b" ] || { echo "install.sh: $bin/$b is missing; build it (swift build -c release) or run without --no-build" >&2; exit 2; }
done

install -d -m 0755 "$root$prefix/bin" "$root/etc/systemd/system" "$root/etc/sysusers.d" "$root/etc/tmpfiles.d"
install -m 0755 "$bin/probity" "$bin/probityd" "$root$prefix/bin/"
sed "s#/usr/local/bin/probityd#$prefix/bin/probityd#" systemd/probityd.service > "$root/etc/systemd/system/probityd.service"
chmod 0644 "$root/etc/systemd/system/probityd.service"
sed "s#/usr/local/bin/probity #$prefix/bin/probity #" systemd/probity-witness.service > "$root/etc/systemd/system/probity-witness.service"
chmod 0644 "$root/etc/systemd/system/probity-witness.service"
install -m 0644 systemd/probity.sysusers "$root/etc/sysusers.d/probity.conf"
install -m 0644 systemd/probity.tmpfiles "$root/etc/tmpfiles.d/probity.conf"
install -d -m 0750 "$root/etc/probity"
if [ ! -e "$root/etc/probity/probityd.toml" ]; then
  install -m 0640 systemd/probityd.toml "$root/etc/probity/probityd.toml"
  echo "installed /etc/probity/probityd.toml: set store.origin to your log's name before the first start"
fi
if [ ! -e "$root/etc/probity/signing-key.pem" ]; then
  (umask 077; openssl genpkey -algorithm ed25519 -out "$root/etc/probity/signing-key.pem")
  echo "generated the signing key /etc/probity/signing-key.pem (keep a backup offline)"
fi
chmod 0600 "$root/etc/probity/signing-key.pem"

if [ "$systemctl" = 1 ]; then
  systemd-sysusers /etc/sysusers.d/probity.conf
  chgrp probity /etc/probity
  systemd-tmpfiles --create /etc/tmpfiles.d/probity.conf
  systemctl daemon-reload
fi
cat <<MSG
installed probity and probityd into ${root:-/}.
next:
  edit /etc/probity/probityd.toml (store.origin), then: systemctl enable --now probityd
  sudo -u probity probity tokens create --db /var/lib/probity/log.sqlite --name my-connector --role ingest
  journalctl -u probityd; systemctl status probityd
MSG
