"""The scenarios, each one row: steady, cut-off, killed, broker-restart, slow-network.

Every row checks every job's result by id against n*n; a row is correct when each submitted
job has exactly one record, done and right, and the scenario's own condition holds (the held
jobs finished on another host, the cut worker came back, no worker or producer died).
Times are wall-clock seconds (`time.time()`): the results carry the workers' wall-clock finish
times, and every host is this one machine, so the clocks agree.
"""

import time

from redis_wire import RedisError


class Run:
    """One scenario on one system: its queue, workers, batch and checks."""

    def __init__(self, cluster, system, scenario, jobs, concurrency=4):
        self.c, self.sys, self.scenario, self.jobs = cluster, system, scenario, jobs
        self.queue = f"{system.name}-{scenario}-c{concurrency}"
        self.timeout = 60 + jobs / 100
        self.notes = []
        self.row = {"system": system.name, "scenario": scenario, "hosts": len(cluster.hosts),
                    "jobs": jobs, "concurrency": concurrency, "result": 0, "correct": False,
                    "per_s": None, "recovery_s": None}
        self.procs = system.start(self.queue, concurrency)
        self.submitter = system.submit(self.queue, jobs)

    def done(self, ids=None):
        try:
            return self.sys.done(self.queue, ids)
        except RedisError:
            return None

    def wait_for(self, count, ids=None, timeout=None):
        """Waits until `count` jobs (of `ids`, or of the first batch) are done; False when the
        time runs out."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            done = self.done(ids)
            if done is not None and done >= count:
                return True
            time.sleep(0.2)
        self.notes.append(f"stalled: {self.done()} of {count} done after {timeout or self.timeout:.0f} s")
        return False

    def finish(self):
        """Waits for the whole batch, then reads every result by id."""
        self.wait_for(self.jobs)
        try:
            self.submitter.wait(timeout=10)
        except Exception:
            self.notes.append("producer still running at the end")
        if self.submitter.returncode not in (0, None):
            self.notes.append(f"producer exited with status {self.submitter.returncode}")
        self.ids = self.sys.ids(self.queue)
        self.results = self.sys.results(self.queue, self.ids)
        return self.results

    def score(self, ok=True):
        """Fills the row's result, correctness, rate and per-host share from self.results."""
        good = [r for r in self.results.values() if r.ok]
        self.row["result"] = len(good)
        extra = self.sys.extra(self.queue)
        if extra.get("dead"):
            self.notes.append(f"{extra['dead']} jobs failed for good")
        if len(good) < self.jobs and "unacked" in extra:
            self.notes.append(f"at the end {extra['queued']} jobs queued, {extra['unacked']} unacknowledged")
        if len(self.ids) != self.jobs:
            self.notes.append(f"{len(self.ids)} jobs on the broker for {self.jobs} submitted")
        self.row["correct"] = ok and len(good) == self.jobs == len(self.ids) and not extra.get("dead")
        if good:
            # The same span on both systems: first job sent to last job done, so neither the
            # producer's start-up (Python importing Celery) nor the workers' counts.
            span = max(r.done_s for r in good) - self.sys.first_sent(self.queue)
            self.row["per_s"] = round(self.jobs / span, 1) if span > 0 else None
        share = {h: 0 for h in self.c.hosts}
        for r in good:
            share[r.host] = share.get(r.host, 0) + 1
        self.row["share"] = share

    def close(self):
        self.row["notes"] = self.notes
        self.c.stop(list(self.procs.values()) + [self.submitter])
        self.c.clear_workers()
        self.c.redis.call("FLUSHALL")
        return self.row


def steady(cluster, system, jobs, scenario="steady", concurrency=4):
    run = Run(cluster, system, scenario, jobs, concurrency)
    try:
        run.finish()
        run.score()
    finally:
        row = run.close()
    return row


def lost_host(cluster, system, jobs, scenario):
    """cut-off: the last host's cable cut while its worker runs; killed: every process on it
    killed. The others must finish everything, the held jobs included; after a cut the cable is
    mended and the worker must take jobs again by itself without spoiling a result."""
    run = Run(cluster, system, scenario, jobs)
    victim = cluster.hosts[-1]
    try:
        # Strike while the victim holds jobs, or the fault shows nothing. Waiting for a share of
        # the batch first (as broker_restart does) would often miss them: trivial jobs drain
        # faster than `task-queue status` can be asked.
        deadline = time.monotonic() + 10
        while not system.held(run.queue, run.procs[victim]) and time.monotonic() < deadline:
            time.sleep(0.01)
        t_fault = time.time()
        cluster.cut(victim) if scenario == "cut-off" else cluster.kill_host(victim)
        time.sleep(0.3)  # what the victim acknowledged before the fault has landed by now
        held = system.held(run.queue, run.procs[victim])
        results = run.finish()
        # Celery stores a result before it acknowledges (acks_late), so a message can still be
        # unacknowledged when its result is in: done before the fault, it was not held.
        held = {h for h in held if h not in results or results[h].done_s > t_fault}
        late = [results[h] for h in held if h in results]
        run.row["held"] = len(held)
        if not held:
            run.notes.append("the lost host held no job at the fault: recovery not measured")
        elsewhere = all(r.host != victim for r in late) and len(late) == len(held)
        if elsewhere and late:
            run.row["recovery_s"] = round(max(r.done_s for r in late) - t_fault, 2)
        elif not elsewhere:
            run.notes.append(f"{len(held) - len(late)} held jobs unfinished, "
                             f"{sum(r.host == victim for r in late)} finished on the lost host")
        back = scenario == "killed" or rejoin(cluster, system, run, victim)
        run.score(elsewhere and back)
    finally:
        for host in list(cluster.cut_hosts):
            cluster.mend(host)
        row = run.close()
    return row


def rejoin(cluster, system, run, victim):
    """Mends the cable, lets late acknowledgements and results land, checks the first batch's
    records did not change, then submits a second batch the mended worker must share in."""
    before = {i: (r.ok, r.done_s) for i, r in run.results.items()}
    cluster.mend(victim)
    time.sleep(5)
    worker = run.procs[victim]
    if worker.poll() is not None:
        run.notes.append(f"the cut worker exited with status {worker.returncode} while cut off")
        run.row["rejoined"] = False
        return False
    after = system.results(run.queue, run.ids)
    changed = sum(1 for i, r in after.items() if i in before and before[i] != (r.ok, r.done_s))
    if changed:
        run.notes.append(f"{changed} results changed after the cable was mended")
    if len(after) != len(before):
        run.notes.append(f"{len(after) - len(before)} jobs finished only after the cable was mended")
    # Up to three batches: with trivial jobs the other hosts can empty a batch before an idle
    # worker's next poll, which would be no proof that the mended one is dead.
    second, ran = min(1000, run.jobs), 0
    for tag in ("rejoin1", "rejoin2", "rejoin3"):
        known = set(system.ids(run.queue)) if system.name != "celery" else set()
        sub = system.submit(run.queue, second, tag=tag)
        sub.wait(timeout=60)
        if system.name == "celery":
            new_ids = system.ids(run.queue, tag=tag)
        else:
            new_ids = {i: n for i, n in system.ids(run.queue).items() if i not in known}
        run.wait_for(len(new_ids), ids=new_ids, timeout=60)
        hosts = [r.host for r in system.results(run.queue, new_ids).values()]
        ran += hosts.count(victim)
        if ran:
            break
    run.row["rejoined"] = ran > 0
    run.notes.append(f"after mending, the cut host ran {ran} of {second} new jobs"
                     + ("" if ran else " in each of 3 batches"))
    return run.row["rejoined"] and not changed and len(after) == len(before)


def broker_restart(cluster, system, jobs, down_s=2.0):
    """redis-server stopped (SIGTERM) and started again on its append-only file; nobody else
    is restarted. recovery_s is from the broker serving again to the first job finished."""
    run = Run(cluster, system, "broker-restart", jobs)
    try:
        # As soon as jobs flow: a small batch of trivial jobs is done before a poll sees 30%.
        run.wait_for(1)
        producing = run.submitter.poll() is None
        t_down = time.time()
        cluster.stop_redis()
        time.sleep(down_s)
        cluster.start_redis()
        t_up = time.time()
        results = run.finish()
        after = [r.done_s for r in results.values() if r.done_s > t_up]
        if after:
            run.row["recovery_s"] = round(min(after) - t_up, 2)
        else:
            run.notes.append("every job was done before the broker stopped: nothing measured")
        before = [r.done_s for r in results.values() if r.done_s < t_down]
        if after and before:
            run.row["pause_s"] = round(min(after) - max(before), 2)
        dead = [h for h, p in run.procs.items() if p.poll() is not None]
        if dead:
            run.notes.append("workers exited: " + ", ".join(f"{h} ({run.procs[h].returncode})" for h in dead))
        run.notes.append(f"producer {'was' if producing else 'was not'} submitting when the broker stopped")
        run.score(not dead)
    finally:
        row = run.close()
    return row


def slow_network(cluster, system, jobs, concurrency):
    how = {cluster.slow(host) for host in cluster.hosts}
    try:
        row = steady(cluster, system, jobs, "slow-network", concurrency)
        row["notes"].append("20 ms round trip by " + " and ".join(sorted(how)))
        return row
    finally:
        for host in cluster.hosts:
            cluster.unslow(host)
