"""The two systems under test, behind the same few verbs: start a worker on every host, submit
jobs from the producer, count finished jobs, list the jobs a host holds, read every result by
id. The scenarios (scenarios.py) are written once against these verbs.

Results are read by id from the broker's own records, because `task-queue status` gives counts
only and `submit` does not print the ids it made: apalis-redis keeps each job's input in the
hash `<queue>:data` (task id -> job JSON) and its state and result in `<queue>:meta:<task id>`;
Celery keeps each result under `celery-task-meta-<task id>`.
"""

import datetime
import json
import os
import subprocess
import time

from redis_wire import RedisError

CHUNK = 1000  # keys per pipelined read


def chunks(items, n=CHUNK):
    items = list(items)
    return [items[i:i + n] for i in range(0, len(items), n)]


class Result:
    """One job's final record: right or not, when it finished, and on which host."""

    def __init__(self, ok, done_s, host):
        self.ok, self.done_s, self.host = ok, done_s, host


class TaskQueue:
    name = "task-queue"

    def __init__(self, cluster, binary):
        self.c, self.bin = cluster, binary
        self.pid_host = {}

    def start(self, queue, concurrency=4):
        procs = {}
        for host in self.c.hosts:
            procs[host] = self.c.run_on(host, [self.bin, "worker", "--broker", self.c.worker_url(host),
                                              "--queue", queue, "--concurrency", str(concurrency)],
                                        f"{queue}-{host}.log")
            self.pid_host[procs[host].pid] = host
        # Ready once every worker has registered itself (its name ends with its pid).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            names = self.c.redis.call("ZRANGE", f"{queue}:workers", 0, -1) or []
            if all(any(n.endswith(f"-{p.pid}") for n in names) for p in procs.values()):
                return procs
            time.sleep(0.1)
        raise SystemExit(f"error: task-queue workers did not register within 30 s: see target/cluster/logs/{queue}-*.log")

    def submit(self, queue, jobs, tag="main"):
        out = open(os.path.join(self.c.logs, f"{queue}-submit.log"), "ab")
        return subprocess.Popen([self.bin, "submit", "--broker", self.c.url(), "--queue", queue,
                                 "--jobs", str(jobs)], stdout=out, stderr=subprocess.STDOUT)

    def done(self, queue, ids=None):
        """Done jobs (apalis' `<queue>:done` set, one read, so it can be asked every few
        milliseconds), or, given `ids`, done jobs among those."""
        if ids is not None:
            replies = [r for part in chunks(ids)
                       for r in self.c.redis.pipeline([("HGET", f"{queue}:meta:{i}", "status") for i in part])]
            return replies.count("Done")
        return self.c.redis.call("SCARD", f"{queue}:done")

    def ids(self, queue, tag="main"):
        """Every job on the queue, whatever batch (`tag`) it came in: task id -> its input n."""
        return {i: job["n"] for i, job in self._jobs(queue).items()}

    def _jobs(self, queue):
        flat = self.c.redis.call("HGETALL", f"{queue}:data") or []
        return {flat[i]: json.loads(flat[i + 1]) for i in range(0, len(flat), 2)}

    def first_sent(self, queue, tag="main"):
        """When the producer sent its first job (the job carries its enqueue time)."""
        return min(job["enqueued_us"] for job in self._jobs(queue).values()) / 1e6

    def held(self, queue, proc):
        """The jobs the worker `proc` holds: fetched or running, not yet acknowledged."""
        names = self.c.redis.call("ZRANGE", f"{queue}:workers", 0, -1) or []
        mine = [n for n in names if n.endswith(f"-{proc.pid}")]
        return set(self.c.redis.call("SMEMBERS", f"{queue}:inflight:{mine[0]}")) if mine else set()

    def results(self, queue, ids):
        out = {}
        for part in chunks(ids):
            replies = self.c.redis.pipeline([("HMGET", f"{queue}:meta:{i}", "status", "result") for i in part])
            for task_id, (status, result) in zip(part, replies):
                if status != "Done" or result is None:
                    continue
                value = json.loads(result).get("Ok") or {}
                ok = value.get("value") == ids[task_id] ** 2
                out[task_id] = Result(ok, value.get("done_us", 0) / 1e6, self.pid_host.get(value.get("worker_pid")))
        return out

    def dead(self, queue):
        """Jobs recorded as failed for good, which a correct run has none of."""
        return self.c.redis.call("SCARD", f"{queue}:dead")

    def pending(self, queue):
        """Jobs still waiting or in hand: not counted here (None), so a task-queue batch is
        always waited for to the end of its time."""
        return None

    def whereabouts(self, queue, ids):
        """Each job's state on the broker (task id -> place, None where it has no record), and
        where that was looked for."""
        places = {}
        for part in chunks(ids):
            replies = self.c.redis.pipeline([("HGET", f"{queue}:meta:{i}", "status") for i in part])
            places.update({i: (f"in state {s}" if s else None) for i, s in zip(part, replies)})
        return places, f"no {queue}:meta record"


class Celery:
    name = "celery"

    def __init__(self, cluster, python):
        self.c, self.python = cluster, python
        self.here = os.path.dirname(os.path.abspath(__file__))
        self.env = dict(os.environ, CLUSTER_BROKER=cluster.url("/0"))

    def start(self, queue, concurrency=4):
        procs = {}
        for host in self.c.hosts:
            procs[host] = self.c.run_on(
                host, [self.python, "-m", "celery", "-A", "celery_hosts", "worker", "--pool", "prefork",
                       "--concurrency", str(concurrency), "-Q", queue, "-n", f"{host}@%h", "--loglevel", "WARNING"],
                f"{queue}-{host}.log", env=self.env, cwd=self.here)
        ping = subprocess.run([self.python, "celery_hosts.py", "ping", "--count", str(len(procs))],
                              env=self.env, cwd=self.here)
        if ping.returncode != 0:
            raise SystemExit(f"error: celery workers did not start: see target/cluster/logs/{queue}-*.log")
        return procs

    def _ids_file(self, queue, tag):
        return os.path.join(self.c.logs, f"{queue}-{tag}-ids.txt")

    def submit(self, queue, jobs, tag="main"):
        out = open(os.path.join(self.c.logs, f"{queue}-submit.log"), "ab")
        return subprocess.Popen([self.python, "celery_hosts.py", "submit", "--queue", queue, "--jobs", str(jobs),
                                 "--ids", self._ids_file(queue, tag)], env=self.env, cwd=self.here,
                                stdout=out, stderr=subprocess.STDOUT)

    def ids(self, queue, tag="main"):
        try:
            with open(self._ids_file(queue, tag)) as f:
                lines = [line.split() for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return {}
        return {task_id: int(n) for task_id, n, _ in lines}

    def first_sent(self, queue, tag="main"):
        with open(self._ids_file(queue, tag)) as f:
            return float(f.readline().split()[2])

    def done(self, queue, ids=None):
        ids = ids if ids is not None else self.ids(queue)
        try:
            return sum(self.c.redis.call("EXISTS", *[f"celery-task-meta-{i}" for i in part])
                       for part in chunks(ids)) if ids else 0
        except RedisError:
            return None

    def held(self, queue, proc):
        """Every message delivered and not yet acknowledged, on any host: kombu's `unacked`
        hash does not say which worker holds a message. Those of live hosts finish within
        moments, so the last of them to finish is the cut host's."""
        flat = self.c.redis.call("HGETALL", "unacked") or []
        return {json.loads(flat[i + 1])[0]["headers"]["id"] for i in range(0, len(flat), 2)}

    def results(self, queue, ids):
        out = {}
        for part in chunks(ids):
            for task_id, raw in zip(part, self.c.redis.call("MGET", *[f"celery-task-meta-{i}" for i in part])):
                if raw is None:
                    continue
                meta = json.loads(raw)
                if meta.get("status") != "SUCCESS":
                    continue
                done = datetime.datetime.fromisoformat(meta["date_done"])
                if done.tzinfo is None:
                    done = done.replace(tzinfo=datetime.timezone.utc)
                host = (meta.get("worker") or "").split("@")[0] or None
                out[task_id] = Result(meta["result"] == ids[task_id] ** 2, done.timestamp(), host)
        return out

    def dead(self, queue):
        """Celery records a job that failed for good as its result: whereabouts() counts those."""
        return 0

    def _queued(self, queue):
        """The queue's lists (kombu keeps one a priority band, named after the queue)."""
        return [k for k in self.c.redis.call("KEYS", f"{queue}*") or []
                if self.c.redis.call("TYPE", k) == "list"]

    def pending(self, queue):
        """Messages waiting in the queue's lists plus those delivered and unacknowledged."""
        waiting = sum(self.c.redis.call("LLEN", k) for k in self._queued(queue))
        return waiting + self.c.redis.call("HLEN", "unacked")

    def whereabouts(self, queue, ids):
        """Where each unfinished job is (task id -> place, None where it is in no record): a
        result that is not SUCCESS, waiting in the queue's list, or delivered and unacknowledged
        (kombu's `unacked` hash); and where that was looked for."""
        queued = set()
        for key in self._queued(queue):
            queued |= {json.loads(m)["headers"]["id"] for m in self.c.redis.call("LRANGE", key, 0, -1) or []}
        flat = self.c.redis.call("HGETALL", "unacked") or []
        unacked = {json.loads(flat[i + 1])[0]["headers"]["id"] for i in range(0, len(flat), 2)}
        places = {}
        for part in chunks(ids):
            for task_id, raw in zip(part, self.c.redis.call("MGET", *[f"celery-task-meta-{i}" for i in part])):
                if raw is not None:
                    places[task_id] = f"with result {json.loads(raw).get('status')}"
                elif task_id in queued:
                    places[task_id] = f"waiting in {queue}"
                elif task_id in unacked:
                    places[task_id] = "unacknowledged"
                else:
                    places[task_id] = None
        return places, f"no celery-task-meta result, not in list {queue}, not in hash unacked"
