#!/usr/bin/env bash
# install.sh -- installs the Debian packages the interop suite (go test -tags
# interop ./interop/...) needs: Kamailio (registrar/proxy, and its tls.so in
# kamailio-tls-modules), SIPp (sip-tester),
# baresip (baresip-core, no GUI), coturn (STUN/TURN), sox (media checks by
# hand), iproute2 (ip netns, tc) and procps.
#
# Idempotent and non-interactive: when everything is installed it makes no apt
# call at all. Runs as root, or through sudo when not root. `apt-get update`
# runs only when a package is missing and the first install attempt fails.
#
# The packages ship kamailio/coturn system services that the suite never uses:
# a temporary policy-rc.d keeps Debian from starting them during the install,
# and on systemd hosts they are disabled afterwards, so nothing takes
# 5060/3478 behind the tests' back.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PKGS=(kamailio kamailio-tls-modules sip-tester baresip-core coturn sox iproute2 procps)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "interop/install.sh: not root and no sudo" >&2; exit 1; }
	SUDO=(sudo -n)
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "interop: all ${#PKGS[@]} packages already installed"
	exit 0
fi
echo "interop: installing ${missing[*]}"

# Keep postinst scripts from starting the kamailio/coturn daemons.
PRC=/usr/sbin/policy-rc.d
made_prc=0
if [ ! -e "$PRC" ]; then
	printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$PRC" >/dev/null
	"${SUDO[@]}" chmod +x "$PRC"
	made_prc=1
fi
cleanup() { if [ "$made_prc" = 1 ]; then "${SUDO[@]}" rm -f "$PRC"; fi; }
trap cleanup EXIT

APT=(apt-get install -y -q --no-install-recommends
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "${APT[@]}" "${missing[@]}"; then
	"${SUDO[@]}" apt-get update -q
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "${APT[@]}" "${missing[@]}"
fi

if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
	"${SUDO[@]}" systemctl disable --now kamailio coturn >/dev/null 2>&1 || true
fi
echo "interop: done"
