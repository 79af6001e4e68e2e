#!/usr/bin/env bash
# run.sh -- runs the interop suite: go test -tags interop ./interop/...
# against the real peers that install.sh installs. Exits non-zero when a test
# fails. With CI=true a missing peer program (or not being root, for the
# namespace tests) is a failure; elsewhere those tests are skipped.
#
# When pkg-config finds libopus, the tags are interop,opus: our phone is
# built with Opus (cgo) and the opus tests run against baresip. With CI=true
# its absence is an error (.ci/install-deps.sh installs libopus-dev);
# elsewhere the suite runs with -tags interop and the opus tests skip.
#
# Extra arguments go to go test, e.g. bash interop/run.sh -run Kamailio
#
# Whatever happens to the test binary (a panic, a timeout), every process
# group and network namespace the tests recorded in $INTEROP_CLEANUP_FILE is
# ended/deleted afterwards: only those, never anything found by name.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

TIMEOUT_MIN=${INTEROP_TIMEOUT_MIN:-8}   # go test -timeout, in minutes
INTEROP_CLEANUP_FILE=$(mktemp /tmp/xphone-interop-cleanup.XXXXXX)
export INTEROP_CLEANUP_FILE

cleanup() {
	local kind value
	while read -r kind value; do
		case $kind in
		pgid) kill -KILL -- "-$value" 2>/dev/null && echo "interop: killed leftover process group $value" || true ;;
		netns) ip netns del "$value" 2>/dev/null && echo "interop: deleted leftover namespace $value" || true ;;
		esac
	done < "$INTEROP_CLEANUP_FILE"
	rm -f "$INTEROP_CLEANUP_FILE"
}
trap cleanup EXIT

TAGS=interop
if pkg-config --exists opus 2>/dev/null; then
	TAGS=interop,opus
elif [ "${CI:-}" = "true" ]; then
	echo "interop: pkg-config finds no libopus, needed in CI for the opus tests (run .ci/install-deps.sh)" >&2
	exit 1
fi

echo "interop: go test -tags $TAGS (CI=${CI:-false}, timeout ${TIMEOUT_MIN}m)"
# The outer timeout is a safety net should go test itself hang.
timeout --kill-after=30s "$((TIMEOUT_MIN * 60 + 60))" \
	go test -tags "$TAGS" -count=1 -timeout "${TIMEOUT_MIN}m" -v "$@" ./interop/...
