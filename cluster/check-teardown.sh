#!/usr/bin/env bash
# Checks that `cluster/cluster.sh` leaves nothing behind: no namespace, veth, bridge, process or
# temporary directory, after a run that ends normally and after one interrupted with Ctrl-C
# (SIGINT) in the middle of a scenario. Also that missing root is refused with status 2.
#
#   cluster/check-teardown.sh        (as root; about a minute)
#
# Exit status 0 when all holds, 1 with the leftovers listed otherwise.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PREFIX=tqcheck
export CLUSTER_PREFIX=$PREFIX
FAILED=0

fail() { echo "check-teardown: FAIL: $*" >&2; FAILED=1; }

# Everything a run could leave, printed; empty output means a clean machine.
leftovers() {
    ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" | sed 's/^/namespace /'
    # Nothing is ever made in the machine's own namespace; a veth or bridge there would be ours
    # only if the plumbing went wrong, so list any with the cluster's port names.
    ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^(br0|broker|prod|w[0-9]+)(@|$)' | sed 's/^/link /'
    ls -d /tmp/tq-cluster.* 2>/dev/null | sed 's/^/temp dir /'
    pgrep -af "tq-cluster\.|task-queue worker --broker redis://:[0-9a-f]*@10\.77\.|celery_hosts" | sed 's/^/process /'
}

[ "$(id -u)" -eq 0 ] || { echo "error: check-teardown needs root (ip netns): run it as root" >&2; exit 2; }
[ -z "$(leftovers)" ] || { echo "error: leftovers before the check:" >&2; leftovers >&2; exit 2; }

# Celery's pool children are the likeliest processes to outlive a run: include Celery when its
# virtual environment is there.
CELERY=(); [ -x "$ROOT/target/compare/venv/bin/python" ] || CELERY=(--no-celery)

# 1. A run that ends by itself.
"$ROOT/cluster/cluster.sh" --smoke "${CELERY[@]}" >/tmp/check-teardown.$$.log 2>&1
status=$?
[ $status -eq 0 ] || fail "the smoke run exited with $status (see below)"
left=$(leftovers); [ -z "$left" ] || fail "after a normal run: $left"

# 2. A run interrupted mid-scenario, as Ctrl-C does it: SIGINT to the whole process group.
# Job control on, so the run gets a process group of its own and does not start with SIGINT
# ignored (what a script's background jobs get otherwise).
set -m
"$ROOT/cluster/cluster.sh" --quick --no-celery --only cut-off >>/tmp/check-teardown.$$.log 2>&1 &
pid=$!
for _ in $(seq 100); do
    # Interrupt once workers run on a host: the middle of a scenario.
    [ -n "$(ip netns pids "$PREFIX-w1" 2>/dev/null)" ] && break
    sleep 0.2
done
sleep 1
kill -INT -- -"$pid"
for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
if kill -0 "$pid" 2>/dev/null; then
    fail "an interrupted run was still running 30 s after Ctrl-C"
    kill -KILL -- -"$pid"
    "$ROOT/cluster/cluster.sh" --down
fi
wait "$pid"
status=$?
set +m
[ $status -ne 0 ] || fail "an interrupted run exited with status 0"
left=$(leftovers); [ -z "$left" ] || fail "after Ctrl-C: $left"

# 3. Not root: one line and status 2 (run as nobody when the machine has that user).
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
    out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$ROOT/cluster/cluster.sh" --smoke 2>&1)
    status=$?
    [ $status -eq 2 ] || fail "not root: exit status $status, not 2"
    [ "$(echo "$out" | wc -l)" -eq 1 ] || fail "not root: more than one line: $out"
fi

if [ $FAILED -ne 0 ]; then
    cat /tmp/check-teardown.$$.log >&2
    rm -f /tmp/check-teardown.$$.log
    exit 1
fi
rm -f /tmp/check-teardown.$$.log
echo "check-teardown: ok (normal run, Ctrl-C mid-run, not root: nothing left behind)"
