#!/bin/bash
# A real, small OpenStack on loopback for the OpenStack driver's tests: keystone, placement, glance,
# nova (fake virt driver), neutron (ML2, no agents: neutron_noagent.py binds the ports), cinder (fake
# volume driver), swift (one replica), rabbitmq. Debian 12 ("Zed") packages; installs the missing ones
# (as root).
#
#   openstack-up.sh BASE_DIR      start it (or find it already running there); stop with openstack-down.sh BASE_DIR
#
# Prints STATUS=started or STATUS=reused and leaves BASE_DIR/cloud.json (auth URL, users, image, flavors,
# start-up seconds). On failure: a non-zero exit, the reason on stderr, everything it started stopped
# again, and the services' logs in BASE_DIR/logs/. Safe to run twice; safe to run after a crash.
# Ports (127.0.0.1 only): 5000 keystone, 8774 nova, 8778 placement, 9292 glance, 8776 cinder, 8080 swift
# proxy, 6200-6202 swift, 9696 neutron, 5672/25672 rabbitmq, 4369 epmd; MariaDB on a unix socket only.
# Nova lists at most 25 items a page, Cinder 10, Neutron 25 (their max limits), so that the accounts the
# tests can make in a few seconds still take several pages.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 BASE_DIR" >&2; exit 2; }
BASE=$(realpath -m "$1")
HERE=$(dirname "$(realpath "$0")")
PY=/usr/bin/python3   # Debian's python: the OpenStack services' libraries live in its dist-packages
MARKER=.deltacloud-openstack
PORTS="5000 8774 8778 9292 8776 8080 6200 6201 6202 9696 5672 25672"
# The same list as ../debian-packages.txt (make test installs that one up front).
PACKAGES="keystone nova-api nova-conductor nova-scheduler placement-api glance-api cinder-api cinder-scheduler
cinder-volume swift-proxy swift-account swift-container swift-object rabbitmq-server mariadb-server python3-pymysql
neutron-server"

die() { echo "openstack-up: $*" >&2; exit 1; }
case "$BASE" in /|/bin|/boot|/dev|/etc|/home|/lib*|/opt|/proc|/root|/run|/sbin|/srv|/sys|/tmp|/usr|/var) die "refusing BASE_DIR $BASE";; esac
if [ -e "$BASE" ] && [ ! -e "$BASE/$MARKER" ] && [ -n "$(ls -A "$BASE" 2>/dev/null)" ]; then
    die "$BASE exists, is not empty and was not made by this script; choose another BASE_DIR"
fi
mkdir -p "$BASE"; touch "$BASE/$MARKER"

# One up/down at a time per BASE_DIR (two test sessions may race).
exec 9>"$BASE/.lock"
flock -w 900 9 || die "another openstack-up/down holds $BASE/.lock"

T0=$EPOCHREALTIME
elapsed() { echo "$EPOCHREALTIME $T0" | awk '{printf "%.1f", $1 - $2}'; }
stamp() { printf '%-34s %6ss\n' "$1" "$(elapsed)" | tee -a "$BASE/timings.txt"; }

# ---------- already up? ----------------------------------------------------------------------------
alive() {   # every recorded service process runs, keystone answers, setup finished
    [ -s "$BASE/cloud.json" ] && [ -d "$BASE/pids" ] || return 1
    local f n=0
    for f in "$BASE"/pids/*.pid; do [ -e "$f" ] || return 1; kill -0 "$(cat "$f")" 2>/dev/null || return 1; n=$((n+1)); done
    [ "$n" -eq 17 ] || return 1
    [ -e "$BASE/pids/neutron.pid" ] || return 1   # a cloud started before Neutron ran here: start afresh
    (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null
}
if alive; then echo "STATUS=reused"; exit 0; fi

# ---------- packages ---------------------------------------------------------------------------------
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || die "missing Debian packages:$missing (run as root, or: apt-get install --no-install-recommends$missing)"
    echo "openstack-up: installing$missing"
    # The packages' postinst scripts must not start services on our ports: deny that while installing.
    policy=""; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d; policy=yes; fi
    export DEBIAN_FRONTEND=noninteractive
    apt_ok=yes
    apt-get install -y -q --no-install-recommends $missing > "$BASE/apt.log" 2>&1 || {
        apt-get update -q >> "$BASE/apt.log" 2>&1 && apt-get install -y -q --no-install-recommends $missing >> "$BASE/apt.log" 2>&1
    } || apt_ok=no
    [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
    [ "$apt_ok" = yes ] || { tail -n 20 "$BASE/apt.log" >&2; die "apt-get install failed (log: $BASE/apt.log)"; }
    stamp "apt-get install"
fi

# ---------- a clean start: stop leftovers, wipe old state, check the ports -------------------------
flock -u 9
"$HERE/openstack-down.sh" "$BASE" >/dev/null 2>&1 || true
flock -w 900 9 || die "another openstack-up/down holds $BASE/.lock"
find "$BASE" -mindepth 1 -maxdepth 1 ! -name .lock ! -name "$MARKER" ! -name apt.log ! -name timings.txt -exec rm -rf {} +
: > "$BASE/timings.txt"; [ -z "$missing" ] || printf '%-34s %6ss\n' "apt-get install" "$(elapsed)" >> "$BASE/timings.txt"
T0=$EPOCHREALTIME
for port in $PORTS; do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        die "port $port on 127.0.0.1 is taken by another process: $(ss -ltnpH "sport = :$port" 2>/dev/null | head -1)"
    fi
done

mkdir -p "$BASE"/{fernet,cred,images,state,cstate,locks,logs,pids,mysql,rmq/mnesia,rmq/log,srv/d1}
cd "$BASE"
LOGS=$BASE/logs

on_failure() {
    local status=$?
    trap - ERR EXIT
    if [ "$status" != 0 ]; then
        echo "openstack-up: failed after $(elapsed)s; stopping what was started (logs stay in $LOGS)" >&2
        flock -u 9
        "$HERE/openstack-down.sh" "$BASE" >/dev/null 2>&1 || true
    fi
    exit "$status"
}
trap on_failure EXIT

# start NAME LOGFILE CMD...: a service in its own session (its pid is its process group).
start() {
    local name=$1 out=$2; shift 2
    setsid "$@" > "$LOGS/$out" 2>&1 < /dev/null 9>&- &   # 9: the lock, which must not outlive this script
    echo $! > "$BASE/pids/$name.pid"
}
# waitport PORT NAME LOG: bounded wait (60 s) for a listening port; on timeout show the service's log.
waitport() {
    local i
    for i in $(seq 1 300); do
        (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0
        if [ -n "${4:-}" ] && ! kill -0 "$(cat "$BASE/pids/$4.pid")" 2>/dev/null; then break; fi
        sleep 0.2
    done
    echo "openstack-up: $2 never listened on port $1; last lines of $LOGS/$3:" >&2
    tail -n 25 "$LOGS/$3" >&2 || true
    exit 1
}

AUTH="auth_url = http://127.0.0.1:5000/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
password = secret"

# ---------- rabbitmq (loopback only; as root the Debian script drops to user rabbitmq) --------------
if ERL_EPMD_ADDRESS=127.0.0.1 epmd -names >/dev/null 2>&1; then : ; else touch "$BASE/epmd.ours"; fi
chown -R rabbitmq:rabbitmq rmq
echo '[].' > rmq/enabled_plugins
printf 'listeners.tcp.default = 127.0.0.1:5672\nloopback_users = none\n' > rmq/rabbitmq.conf
RABBITMQ_NODENAME=rabbit@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1 HOME=$BASE/rmq \
RABBITMQ_MNESIA_BASE=$BASE/rmq/mnesia RABBITMQ_LOG_BASE=$BASE/rmq/log RABBITMQ_CONFIG_FILE=$BASE/rmq/rabbitmq \
RABBITMQ_ENABLED_PLUGINS_FILE=$BASE/rmq/enabled_plugins RABBITMQ_DIST_PORT=25672 \
RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    start rabbitmq rabbitmq.out rabbitmq-server

# ---------- MariaDB (unix socket only, no grant tables: a throw-away database server) ---------------
# SQLite, as first tried, makes concurrent requests fail with "database is locked" (a server build,
# a quota update), however it is tuned: the services read, then write, in one transaction.
SOCK=$BASE/mysql/mysql.sock
mariadb-install-db --no-defaults --user=root --datadir="$BASE/mysql/data" --auth-root-authentication-method=normal \
    --skip-test-db > "$LOGS/mariadb-install.out" 2>&1 || { tail -n 25 "$LOGS/mariadb-install.out" >&2; die "mariadb-install-db failed"; }
start mariadb mariadb.out mariadbd --no-defaults --user=root --datadir="$BASE/mysql/data" --socket="$SOCK" \
    --skip-networking --skip-grant-tables --skip-log-bin --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 \
    --innodb-buffer-pool-size=128M --max-connections=500 --character-set-server=utf8mb4 --pid-file="$BASE/mysql/mariadb.pid"
for _ in $(seq 1 300); do
    mariadb --no-defaults -S "$SOCK" -e "SELECT 1" >/dev/null 2>&1 && break
    kill -0 "$(cat "$BASE/pids/mariadb.pid")" 2>/dev/null || break
    sleep 0.1
done
mariadb --no-defaults -S "$SOCK" -e "CREATE DATABASE keystone; CREATE DATABASE placement; CREATE DATABASE glance;
    CREATE DATABASE nova_api; CREATE DATABASE nova; CREATE DATABASE nova_cell0; CREATE DATABASE cinder;
    CREATE DATABASE neutron;" \
    || { tail -n 25 "$LOGS/mariadb.out" >&2; die "MariaDB did not start"; }
db() { echo "mysql+pymysql://root@localhost/$1?unix_socket=$SOCK&charset=utf8"; }
stamp "mariadb"

# ---------- configuration ---------------------------------------------------------------------------
cat > placement.conf <<EOC
[DEFAULT]
log_dir = $LOGS
[placement_database]
connection = $(db placement)
[api]
auth_strategy = keystone
[keystone_authtoken]
$AUTH
username = placement
EOC
cat > glance-api.conf <<EOC
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9292
log_dir = $LOGS
workers = 1
enabled_backends = fs:file
[database]
connection = $(db glance)
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $BASE/images/
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
[keystone_authtoken]
$AUTH
username = glance
EOC
cp /etc/nova/api-paste.ini .
cat > nova.conf <<EOC
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:5672/
compute_driver = fake.FakeDriver
host = fakehost
my_ip = 127.0.0.1
state_path = $BASE/state
log_dir = $LOGS
# No agent wires the ports: do not wait for Neutron's network-vif-plugged event.
vif_plugging_is_fatal = false
vif_plugging_timeout = 0
[api]
auth_strategy = keystone
max_limit = 25
[api_database]
connection = $(db nova_api)
[database]
connection = $(db nova)
[wsgi]
api_paste_config = $BASE/api-paste.ini
[keystone_authtoken]
$AUTH
username = nova
[placement]
region_name = RegionOne
$AUTH
username = placement
[neutron]
region_name = RegionOne
$AUTH
username = neutron
default_floating_pool = public
[glance]
region_name = RegionOne
[scheduler]
discover_hosts_in_cells_interval = 2
workers = 1
[conductor]
workers = 1
[vnc]
enabled = false
[oslo_concurrency]
lock_path = $BASE/locks
[oslo_messaging_notifications]
driver = noop
[cinder]
os_region_name = RegionOne
[service_user]
send_service_user_token = true
$AUTH
username = nova
EOC
cat > cinder.conf <<EOC
[DEFAULT]
transport_url = rabbit://guest:guest@127.0.0.1:5672/
auth_strategy = keystone
enabled_backends = fake
state_path = $BASE/cstate
log_dir = $LOGS
osapi_volume_listen = 127.0.0.1
osapi_volume_workers = 1
my_ip = 127.0.0.1
host = fakehost
glance_api_servers = http://127.0.0.1:9292
api_paste_config = /etc/cinder/api-paste.ini
osapi_max_limit = 10
[database]
connection = $(db cinder)
[fake]
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
[keystone_authtoken]
$AUTH
username = cinder
[oslo_concurrency]
lock_path = $BASE/locks
[oslo_messaging_notifications]
driver = noop
EOC
# Neutron: the real API server with ML2, no agents. Its one mechanism driver (neutron_noagent.py, found
# through the entry point written below) binds every port, so Nova's builds get networks; nova-compute
# (fake virt driver) plugs nothing and does not wait for it.
mkdir -p pylib/deltacloud_noagent-1.0.dist-info nstate
cp "$HERE/neutron_noagent.py" pylib/
printf 'Metadata-Version: 2.1\nName: deltacloud-noagent\nVersion: 1.0\n' > pylib/deltacloud_noagent-1.0.dist-info/METADATA
printf '[neutron.ml2.mechanism_drivers]\ndeltacloud_noagent = neutron_noagent:NoAgentMechanismDriver\n' \
    > pylib/deltacloud_noagent-1.0.dist-info/entry_points.txt
cat > neutron.conf <<EOC
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9696
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = rabbit://guest:guest@127.0.0.1:5672/
api_paste_config = /etc/neutron/api-paste.ini
state_path = $BASE/nstate
log_dir = $LOGS
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
dhcp_agent_notification = false
pagination_max_limit = 25
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
[database]
connection = $(db neutron)
[keystone_authtoken]
$AUTH
username = neutron
[nova]
region_name = RegionOne
$AUTH
username = nova
[oslo_concurrency]
lock_path = $BASE/locks
[oslo_messaging_notifications]
driver = noop
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = deltacloud_noagent
extension_drivers = port_security
[ml2_type_flat]
flat_networks = public
[ml2_type_vxlan]
vni_ranges = 1:1000
[securitygroup]
enable_security_group = true
EOC
for r in "account 6202" "container 6201" "object 6200"; do set -- $r
    cat > $1-server.conf <<EOC
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
devices = $BASE/srv
mount_check = false
swift_dir = $BASE
workers = 0
[pipeline:main]
pipeline = $1-server
[app:$1-server]
use = egg:swift#$1
EOC
done
cat > proxy-server.conf <<EOC
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = 8080
swift_dir = $BASE
workers = 0
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging listing_formats authtoken keystoneauth copy slo dlo proxy-logging proxy-server
[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = http://127.0.0.1:5000/v3
$AUTH
username = swift
delay_auth_decision = True
[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, member
[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
EOC
cat > keystone.conf <<EOC
[DEFAULT]
log_dir = $LOGS
[database]
connection = $(db keystone)
[identity]
# bcrypt's default (12 rounds) costs ~0.25 s of CPU per login; this cloud lives for one test run.
password_hash_rounds = 4
[token]
provider = fernet
[fernet_tokens]
key_repository = $BASE/fernet
[fernet_receipts]
key_repository = $BASE/fernet
[credential]
key_repository = $BASE/cred
EOC

# ---------- databases (in parallel with keystone's) -------------------------------------------------
NM="nova-manage --config-file nova.conf"
(
    set -e
    $NM api_db sync
    $NM cell_v2 map_cell0 --database_connection "$(db nova_cell0)"
    $NM cell_v2 create_cell --name cell1
    $NM db sync
) > "$LOGS/dbsync-nova.out" 2>&1 9>&- &
NOVA_DB=$!
(
    set -e
    placement-manage --config-file placement.conf db sync
    glance-manage --config-file glance-api.conf db_sync
    cinder-manage --config-file cinder.conf db sync
    for r in "account 6202" "container 6201" "object 6200"; do set -- $r
        swift-ring-builder $1.builder create 4 1 1
        swift-ring-builder $1.builder add r1z1-127.0.0.1:$2/d1 1
        swift-ring-builder $1.builder rebalance
    done
) > "$LOGS/dbsync-others.out" 2>&1 9>&- &
OTHER_DB=$!
neutron-db-manage --config-file neutron.conf upgrade heads > "$LOGS/dbsync-neutron.out" 2>&1 9>&- &
NEUTRON_DB=$!

KM="keystone-manage --config-file keystone.conf"
{
    $KM db_sync &&
    $KM fernet_setup --keystone-user root --keystone-group root &&
    $KM credential_setup --keystone-user root --keystone-group root &&
    $KM bootstrap --bootstrap-password secret --bootstrap-region-id RegionOne \
        --bootstrap-public-url http://127.0.0.1:5000/v3/ --bootstrap-internal-url http://127.0.0.1:5000/v3/ \
        --bootstrap-admin-url http://127.0.0.1:5000/v3/
} > "$LOGS/keystone-manage.out" 2>&1 || { tail -n 25 "$LOGS/keystone-manage.out" >&2; die "keystone-manage failed"; }
stamp "keystone db + bootstrap"
OS_KEYSTONE_CONFIG_FILES=$BASE/keystone.conf start keystone keystone.out keystone-wsgi-public --host 127.0.0.1 --port 5000

# ---------- catalogue and users (while the other databases sync) -----------------------------------
waitport 5000 keystone keystone.out keystone
$PY "$HERE/cloud_setup.py" register "$BASE" > "$LOGS/setup-register.out" 2>&1 \
    || { tail -n 25 "$LOGS/setup-register.out" >&2; die "registering the catalogue failed"; }
stamp "keystone catalogue"

# ---------- the services, each as soon as its database is there -------------------------------------
wait $OTHER_DB || { tail -n 25 "$LOGS/dbsync-others.out" >&2; die "a database sync failed"; }
stamp "placement/glance/cinder databases"
OS_PLACEMENT_CONFIG_DIR=$BASE start placement placement.out placement-api --host 127.0.0.1 --port 8778
start glance glance.out glance-api --config-file glance-api.conf
for sv in account container object; do start swift-$sv swift-$sv.out swift-$sv-server $sv-server.conf; done
start swift-proxy swift-proxy.out swift-proxy-server proxy-server.conf
waitport 5672 rabbitmq rabbitmq.out rabbitmq
stamp "rabbitmq"
for sv in api scheduler volume; do start cinder-$sv cinder-$sv.out cinder-$sv --config-file cinder.conf; done
wait $NEUTRON_DB || { tail -n 25 "$LOGS/dbsync-neutron.out" >&2; die "neutron's database sync failed"; }
stamp "neutron database"
PYTHONPATH=$BASE/pylib start neutron neutron.out neutron-server --config-file neutron.conf
wait $NOVA_DB || { tail -n 25 "$LOGS/dbsync-nova.out" >&2; die "nova's database sync failed"; }
stamp "nova databases"
OS_NOVA_CONFIG_DIR=$BASE start nova-api nova-api.out nova-api-wsgi --host 127.0.0.1 --port 8774
start nova-conductor nova-conductor.out nova-conductor --config-file nova.conf
start nova-scheduler nova-scheduler.out nova-scheduler --config-file nova.conf
# nova-compute without the nova-compute package (which would pull qemu and libvirt).
start nova-compute nova-compute.out $PY -c "import sys; sys.argv=['nova-compute', '--config-file', '$BASE/nova.conf',
    '--log-file', '$LOGS/nova-compute.log']
from nova.cmd.compute import main; main()"
waitport 8778 placement placement.out placement
waitport 9292 glance glance.out glance
waitport 8774 nova-api nova-api.out nova-api
waitport 8776 cinder-api cinder-api.out cinder-api
waitport 8080 swift-proxy swift-proxy.out swift-proxy
waitport 9696 neutron neutron.out neutron
stamp "services listening"
$PY "$HERE/cloud_setup.py" finish "$BASE" > "$LOGS/setup-finish.out" 2>&1 \
    || { tail -n 25 "$LOGS/setup-finish.out" >&2; die "the services did not all report in"; }
$NM cell_v2 discover_hosts >> "$LOGS/setup-finish.out" 2>&1
stamp "compute and volume services up"
$PY "$HERE/cloud_setup.py" smoke "$BASE" > "$LOGS/setup-smoke.out" 2>&1 \
    || { tail -n 25 "$LOGS/setup-smoke.out" >&2; die "the smoke test (boot a server, create a volume) failed"; }
stamp "smoke test passed (all up)"
# Record the start-up time for whoever asks (the tests report it).
$PY - "$BASE" "$(elapsed)" <<'EOP'
import json, sys
from pathlib import Path
path = Path(sys.argv[1]) / "cloud.json"
info = json.loads(path.read_text())
info["startup_seconds"] = float(sys.argv[2])
path.write_text(json.dumps(info, indent=2) + "\n")
EOP
echo "STATUS=started"
