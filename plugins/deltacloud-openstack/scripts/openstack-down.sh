#!/bin/bash
# Stop the test cloud that openstack-up.sh started in BASE_DIR: every process it recorded (each one's
# whole process group), rabbitmq, and epmd when rabbitmq started it. Idempotent: a BASE_DIR with nothing
# running (or no BASE_DIR at all) is fine. State and logs stay; openstack-up.sh wipes them on its next start.
#
#   openstack-down.sh BASE_DIR
set -uo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BASE_DIR" >&2; exit 2; }
BASE=$(realpath -m "$1")
[ -e "$BASE/.deltacloud-openstack" ] || exit 0
exec 9>"$BASE/.lock"
flock -w 300 9 || { echo "openstack-down: another openstack-up/down holds $BASE/.lock" >&2; exit 1; }

pids=()
for f in "$BASE"/pids/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f"); [[ "$pid" =~ ^[0-9]+$ ]] && pids+=("$pid")
done

# rabbitmq first and politely (it drops to user rabbitmq through su).
if [ -e "$BASE/pids/rabbitmq.pid" ] && kill -0 "$(cat "$BASE/pids/rabbitmq.pid")" 2>/dev/null; then
    RABBITMQ_NODENAME=rabbit@localhost ERL_EPMD_ADDRESS=127.0.0.1 timeout 20 rabbitmqctl stop >/dev/null 2>&1 || true
fi

# Every service runs in its own session, so its pid is its process group: end the whole group.
signal() { local sig=$1 pid; for pid in "${pids[@]}"; do kill "-$sig" -- "-$pid" 2>/dev/null || kill "-$sig" "$pid" 2>/dev/null; done; }
running() { local pid; for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && return 0; done; return 1; }
if [ ${#pids[@]} -gt 0 ]; then
    signal TERM
    for _ in $(seq 1 50); do running || break; sleep 0.2; done   # eventlet services may ignore TERM a while
    running && signal KILL
    for _ in $(seq 1 25); do running || break; sleep 0.2; done
fi
rm -f "$BASE"/pids/*.pid

if [ -e "$BASE/epmd.ours" ]; then
    ERL_EPMD_ADDRESS=127.0.0.1 epmd -kill >/dev/null 2>&1 || true
    rm -f "$BASE/epmd.ours"
fi
rm -f "$BASE/cloud.json"
exit 0
