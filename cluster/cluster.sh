#!/usr/bin/env bash
# `just cluster`: the task-queue lesson on a small real network made of Linux network
# namespaces on this one machine, with faults, beside Celery on the same network and Redis.
#
#   cluster/cluster.sh            3 worker hosts, 10 000 jobs, scenarios 1-5 (+ Celery 1-3)
#   cluster/cluster.sh --quick    2 worker hosts, 2 000 jobs, scenarios 1-4 (+ Celery 1-3)
#   cluster/cluster.sh --smoke    2 worker hosts, 200 jobs, steady only (the teardown check)
#   cluster/cluster.sh --down     remove what a killed run left behind, then exit
#   extra flags go to the driver: --hosts N --jobs N --only SCENARIO --no-celery
#
# Exit status: 0 when every task-queue row holds (every job's result checked by id, none lost
# or doubled, the cut worker back, the fault struck while there was something to recover), 1
# when one does not, 2 on bad input (not root, a tool or the binary missing, a left-over run).
# Celery's rows are the comparison; they do not fail the run: where Celery loses a job, its row
# says `correct: NO` and names the lost job ids. The table: target/cluster/cluster.md.
#
# The network, one namespace per host, every address private to the namespaces:
#
#     tqc-broker 10.77.0.1   tqc-prod 10.77.0.2   tqc-w1 10.77.0.11  tqc-w2 .12 ...
#         eth0                  eth0                  eth0            eth0
#          |                     |                     |               |      veth pairs
#       broker                 prod                   w1              w2
#     [------------------ bridge br0 in namespace tqc-sw ------------------]
#
# The bridge sits in a namespace of its own rather than in the machine's, so the machine's own
# network never sees a packet or an address of the cluster, and deleting the namespaces removes
# every veth and the bridge with them. A host is cut off by taking its port on the bridge down
# (its cable unplugged at the switch), killed with `kill -9` on every pid `ip netns pids` lists
# for it, slowed with netem (or a delay relay where the kernel lacks netem: hosts.py). A cut
# or a kill strikes at an instant the host holds unfinished jobs: its processes are stopped
# (SIGSTOP) while the driver reads what the broker says it holds, and the fault is made before
# they go on (scenarios.py says why).
#
# This script does the plumbing and the teardown; cluster/driver.py runs the hosts' programs
# and the scenarios from inside the producer host, as a person on that machine would.
set -euo pipefail

PREFIX=${CLUSTER_PREFIX:-tqc}
SUBNET=10.77.0
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$ROOT/target/release/task-queue
VENV=$ROOT/target/compare/venv

die_usage() { echo "error: $*" >&2; exit 2; }

namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true; }

# Everything the run made: every process in every host (the driver, workers, Redis, Celery's
# pool children), then the namespaces, which take their veths and the bridge with them, then
# the temporary directory. Safe to run twice and on a half-built network.
teardown() {
    local ns pids
    for ns in $(namespaces); do
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    done
    # A killed process leaves its namespace only once it is gone; give them a moment.
    for _ in $(seq 50); do
        local left=""
        for ns in $(namespaces); do left+=$(ip netns pids "$ns" 2>/dev/null || true); done
        [ -z "$left" ] && break
        sleep 0.1
    done
    for ns in $(namespaces); do ip netns del "$ns" 2>/dev/null || true; done
    [ -n "${TMP:-}" ] && rm -rf "$TMP"
    return 0
}

# ---- what the run needs: root, ip, tc, redis-server, the binary --------------------------
MODE=(--hosts 3 --jobs 10000 --scenarios steady,cut-off,killed,broker-restart,slow-network)
ARGS=()
while [ $# -gt 0 ]; do
    case $1 in
        --quick) MODE=(--hosts 2 --jobs 2000 --scenarios steady,cut-off,killed,broker-restart) ;;
        --smoke) MODE=(--hosts 2 --jobs 200 --scenarios steady) ;;
        --down) DOWN=1 ;;
        *) ARGS+=("$1") ;;
    esac
    shift
done

[ "$(id -u)" -eq 0 ] || die_usage "cluster needs root for ip netns and tc: run it as root (sudo -E just cluster)"
for tool in ip tc redis-server redis-cli python3; do
    command -v "$tool" >/dev/null || die_usage "cluster needs $tool: apt-get install -y iproute2 redis-server python3"
done
if [ -n "${DOWN:-}" ]; then teardown; exit 0; fi
[ -x "$BIN" ] || die_usage "no $BIN: cargo build --release --workspace"
[ -z "$(namespaces)" ] || die_usage "namespaces $PREFIX-* exist already (another run, or a killed one): cluster/cluster.sh --down"

TMP=$(mktemp -d /tmp/tq-cluster.XXXXXX)
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the network ----------------------------------------------------------------------------
# The last --hosts given wins, as it does in the driver's argparse.
HOSTS=
set -- "${MODE[@]}" "${ARGS[@]}"
while [ $# -gt 0 ]; do [ "$1" = --hosts ] && HOSTS=${2:-}; shift; done
case $HOSTS in [1-8]) ;; *) HOSTS=bad ;; esac
[ "$HOSTS" != bad ] || die_usage "--hosts must be 1 to 8"

ip netns add "$PREFIX-sw"
ip -n "$PREFIX-sw" link add br0 type bridge
ip -n "$PREFIX-sw" link set br0 up
ip -n "$PREFIX-sw" link set lo up
# add_host NAME ADDRESS: a namespace, its cable (eth0 inside, NAME on the bridge), its address.
add_host() {
    local ns=$PREFIX-$1
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add eth0 netns "$ns" type veth peer name "$1" netns "$PREFIX-sw"
    ip -n "$PREFIX-sw" link set "$1" master br0 up
    ip -n "$ns" addr add "$2/24" dev eth0
    ip -n "$ns" link set eth0 up
}
add_host broker "$SUBNET.1"
add_host prod "$SUBNET.2"
for i in $(seq "$HOSTS"); do add_host "w$i" "$SUBNET.$((10 + i))"; done

# ---- the broker's configuration: persistence on, a fresh password, its address only --------
PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
mkdir "$TMP/redis"
cat > "$TMP/redis.conf" <<EOF
bind $SUBNET.1
port 6379
protected-mode yes
requirepass $PASSWORD
dir $TMP/redis
appendonly yes
appendfsync everysec
save ""
EOF
chmod 600 "$TMP/redis.conf"

CELERY=()
[ -x "$VENV/bin/python" ] && CELERY=(--celery-python "$VENV/bin/python")

mkdir -p "$ROOT/target/cluster"
# No __pycache__ left in cluster/ by the driver or by Celery importing celery_hosts.
export PYTHONDONTWRITEBYTECODE=1
# The driver runs inside the producer host: it reaches the broker as a producer on another
# machine would, and starts each host's programs with `ip netns exec`. It runs as a background
# job that this script waits for, because `wait` returns as soon as a trapped signal arrives
# (a foreground command would first have to finish): Ctrl-C or SIGTERM then tears everything
# down at once, the driver included, since it lives in the producer's namespace.
CLUSTER_PASSWORD=$PASSWORD ip netns exec "$PREFIX-prod" python3 "$ROOT/cluster/driver.py" \
    --prefix "$PREFIX" --subnet "$SUBNET" --bin "$BIN" --redis-conf "$TMP/redis.conf" \
    --out "$ROOT/target/cluster" "${CELERY[@]}" "${MODE[@]}" "${ARGS[@]}" &
wait $!
