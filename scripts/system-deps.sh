#!/usr/bin/env bash
# The Debian packages the tests need, installed in one apt transaction when some are missing.
#
#   scripts/system-deps.sh            install what is missing (needs root), else say what is there
#   scripts/system-deps.sh --list     print the wanted packages, one per line
#
# Each distribution of this repository (the core at the top, plugins/*, clients/*, docs/examples/*)
# may ship a `debian-packages.txt`: package names, one or more per line, `#` comments. The union
# is installed at once, before any suite runs, so suites running in parallel never race for the
# dpkg lock. Services that packages would start on install (postinst) are denied for the
# duration (policy-rc.d), since the tests start their own servers on their own ports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

wanted=$(cat debian-packages.txt plugins/*/debian-packages.txt clients/*/debian-packages.txt \
             docs/examples/*/debian-packages.txt 2>/dev/null | sed 's/#.*//' | tr -s ' \t' '\n\n' \
         | grep -v '^$' | sort -u || true)
if [ "${1:-}" = "--list" ]; then
    printf '%s\n' "$wanted"
    exit 0
fi
missing=""
for p in $wanted; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "system-deps: all $(printf '%s\n' "$wanted" | grep -c .) Debian packages present"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "system-deps: missing Debian packages:$missing" >&2
    echo "system-deps: run as root, or: sudo apt-get install --no-install-recommends$missing" >&2
    exit 1
fi
echo "system-deps: installing$missing"
policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    policy=yes
fi
cleanup() { if [ -n "$policy" ]; then rm -f /usr/sbin/policy-rc.d; fi; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/deltacloud-apt.XXXXXX.log)
started=$SECONDS
# shellcheck disable=SC2086  # one word per package
if ! { apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "system-deps: apt-get failed (whole log: $log)" >&2
    exit 1
fi
echo "system-deps: installed in $((SECONDS - started)) s (log: $log)"
