"""The hosts of the cluster and what can happen to them: programs started on a host, its cable
cut and mended, every process on it killed, its link slowed, the broker stopped and started.

Each host is a network namespace made by cluster.sh; a program runs "on" host w1 by
`ip netns exec tqc-w1 PROGRAM`, which enters the namespace and then execs the program, so the
pid the driver holds is the program's own and signals reach it directly.
"""

import os
import signal
import subprocess
import sys
import time

from redis_wire import Redis, RedisError

RELAY_PORT = 6380  # where a slowed host's relay listens, on the host's own 127.0.0.1


class Cluster:
    def __init__(self, prefix, subnet, hosts, redis_conf, logs):
        self.prefix = prefix
        self.hosts = [f"w{i}" for i in range(1, hosts + 1)]
        self.broker_ip = f"{subnet}.1"
        self.redis_conf = redis_conf
        self.password = os.environ["CLUSTER_PASSWORD"]
        self.logs = logs
        self.procs = []  # every program started, to stop and reap at the end
        self.redis_proc = None
        self.cut_hosts = set()
        self.slowed = {}  # host -> its delay relay, or None where netem slows it
        self.redis = Redis(self.broker_ip, 6379, self.password)

    def url(self, db_suffix=""):
        return f"redis://:{self.password}@{self.broker_ip}:6379{db_suffix}"

    def ns(self, host):
        return f"{self.prefix}-{host}"

    def run_on(self, host, argv, log, env=None, cwd=None):
        """Starts `argv` on `host`, its output appended to logs/`log`."""
        out = open(os.path.join(self.logs, log), "ab")
        proc = subprocess.Popen(["ip", "netns", "exec", self.ns(host), *argv],
                                stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        out.close()
        self.procs.append(proc)
        return proc

    # ---- the broker ------------------------------------------------------------------------
    def start_redis(self, timeout=30):
        self.redis_proc = self.run_on("broker", ["redis-server", self.redis_conf], "redis.log")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                # LOADING while it replays the append-only file; PONG once it serves.
                if self.redis.call("PING") == "PONG":
                    return
            except RedisError:
                pass
            if self.redis_proc.poll() is not None:
                raise SystemExit(f"error: redis-server exited ({self.redis_proc.returncode}): see logs/redis.log")
            time.sleep(0.05)
        raise SystemExit("error: redis-server did not answer within 30 s")

    def stop_redis(self):
        """SIGTERM: Redis flushes its append-only file and exits, as `systemctl stop` does."""
        self.redis.close()
        self.redis_proc.send_signal(signal.SIGTERM)
        self.redis_proc.wait(timeout=30)

    # ---- faults ----------------------------------------------------------------------------
    def cut(self, host):
        """Unplugs the host's cable at the switch: its port on the bridge goes down. The host
        keeps its address and its programs run on, unaware; their packets go nowhere. (netem
        `loss 100%` would do the same, where the kernel has netem.)"""
        subprocess.run(["ip", "-n", f"{self.prefix}-sw", "link", "set", host, "down"], check=True)
        self.cut_hosts.add(host)

    def mend(self, host):
        subprocess.run(["ip", "-n", f"{self.prefix}-sw", "link", "set", host, "up"], check=True)
        self.cut_hosts.discard(host)

    def slow(self, host, delay_ms=20):
        """Adds `delay_ms` to every round trip between the host and the broker: netem on the
        host's eth0, or, where the kernel has no netem, a relay on the host that holds each
        direction for half of it (delay_relay.py). Returns which one."""
        netem = subprocess.run(["tc", "-n", self.ns(host), "qdisc", "add", "dev", "eth0", "root",
                                "netem", "delay", f"{delay_ms}ms"], capture_output=True)
        if netem.returncode == 0:
            self.slowed[host] = None
            return "netem"
        relay = os.path.join(os.path.dirname(os.path.abspath(__file__)), "delay_relay.py")
        log = f"relay-{host}.log"
        path = os.path.join(self.logs, log)
        seen = os.path.getsize(path) if os.path.exists(path) else 0  # the log of an earlier relay
        self.slowed[host] = self.run_on(host, [sys.executable, relay, str(RELAY_PORT), self.broker_ip, "6379",
                                               str(delay_ms // 2)], log)
        # A worker refuses to start when its broker is not there, so wait until the relay says
        # it listens (a busy machine can take seconds to start Python).
        deadline = time.monotonic() + 30
        while "listening" not in open(path).read()[seen:]:
            if self.slowed[host].poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"error: the delay relay on {host} did not start: see target/cluster/logs/{log}")
            time.sleep(0.05)
        return "relay"

    def unslow(self, host):
        relay = self.slowed.pop(host)
        if relay is None:
            subprocess.run(["tc", "-n", self.ns(host), "qdisc", "del", "dev", "eth0", "root"], check=True)
        else:
            self.stop([relay])

    def worker_url(self, host):
        """The broker as a worker on `host` reaches it: through the host's relay if it has one."""
        if self.slowed.get(host) is not None:
            return f"redis://:{self.password}@127.0.0.1:{RELAY_PORT}"
        return self.url()

    def pids(self, host):
        out = subprocess.run(["ip", "netns", "pids", self.ns(host)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def freeze(self, pids):
        """Stops the host's processes `pids` (SIGSTOP): while frozen the host neither finishes
        nor acknowledges a job, so what the broker says it holds stays true until a fault
        strikes. Nothing else changes: its sockets stay open, its cable in."""
        self.signal(pids, signal.SIGSTOP)

    def thaw(self, pids):
        self.signal(pids, signal.SIGCONT)

    @staticmethod
    def signal(pids, sig):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def kill_host(self, host):
        """`kill -9` on every process in the host's namespace, as if its power were cut."""
        self.signal(self.pids(host), signal.SIGKILL)
        self.reap()

    # ---- stopping ---------------------------------------------------------------------------
    def reap(self):
        for p in self.procs:
            p.poll()

    def stop(self, procs, grace=15):
        """SIGTERM (both systems finish the jobs in hand), then SIGKILL after `grace` s."""
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def clear_workers(self):
        """Between scenarios: nothing of the last one may still run on a worker host (Celery's
        pool children outlive a parent killed with SIGKILL)."""
        for host in self.hosts:
            for pid in self.pids(host):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        while any(self.pids(h) for h in self.hosts):
            time.sleep(0.05)
        self.reap()

    def close(self):
        self.stop([p for p in self.procs if p is not self.redis_proc], grace=5)
        if self.redis_proc is not None and self.redis_proc.poll() is None:
            self.stop_redis()
        self.reap()
