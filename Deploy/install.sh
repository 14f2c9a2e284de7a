#!/usr/bin/env bash
# Installs a built viaduct on this gateway: the binary, the systemd unit, the daemon options file
# (/etc/default/viaduct, only if absent), the module list, the name of Viaduct's route protocol
# for iproute2, and the documentation. Run from a checkout after `swift build -c release`, as
# root. Touches nothing else; safe to run again. (Scripts/package builds a Debian package instead.)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root" >&2; exit 1; }
bin=$(swift build -c release --show-bin-path)/viaduct
[ -x "$bin" ] || { echo "install.sh: build first: swift build -c release" >&2; exit 1; }
install -D -m 0755 "$bin" /usr/local/bin/viaduct
install -D -m 0644 Deploy/systemd/viaduct@.service /etc/systemd/system/viaduct@.service
[ -e /etc/default/viaduct ] || install -D -m 0644 Deploy/default/viaduct /etc/default/viaduct
install -D -m 0644 Deploy/systemd/viaduct-modules.conf /etc/modules-load.d/viaduct.conf
install -D -m 0755 Deploy/bird/viaduct-bird-reload /usr/local/lib/viaduct/viaduct-bird-reload
install -d -m 0750 /etc/viaduct
install -D -m 0644 /dev/stdin /etc/iproute2/rt_protos.d/viaduct.conf <<<'222 viaduct'
install -d /usr/local/share/doc/viaduct
install -m 0644 docs/*.md /usr/local/share/doc/viaduct/
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
cat <<TXT
installed /usr/local/bin/viaduct ($(/usr/local/bin/viaduct --version 2>/dev/null || echo built))
next:
  1. put the topology in /etc/viaduct/topology.yaml (and its certificates, e.g. with 'viaduct pki init')
  2. viaduct validate /etc/viaduct/topology.yaml --node NAME
  3. systemctl enable --now viaduct@NAME    (daemon options, e.g. --metrics: /etc/default/viaduct)
  4. for BGP: /usr/local/lib/viaduct/viaduct-bird-reload NAME   (writes /etc/bird/viaduct.conf; include it from bird.conf)
TXT
