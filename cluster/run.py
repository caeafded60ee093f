"""One scenario on one system (`Run`): its queue, its workers and producer, waiting for the
batch, and the row's checks. The scenarios themselves (scenarios.py) are written against it.

Every row checks every job's result by id against n*n; a row is correct when each submitted
job has exactly one record, done and right, and the scenario's own condition holds. A job
without a good result is looked for where the system could still hold it, and one found in
none of those places is named in the row's notes as lost.
Times are wall-clock seconds (`time.time()`): the results carry the workers' wall-clock finish
times, and every host is this one machine, so the clocks agree.
"""

import time

from redis_wire import RedisError

# A batch that has made no progress for this long while the system says nothing is waiting or
# in hand anywhere will not finish: stop waiting for it. Longer than Celery's visibility
# timeout plus its sweep interval (celery_hosts.py), so a message that is only late is not
# taken for lost.
SETTLED_S = 10


class Run:
    """One scenario on one system: its queue, workers, batch and checks."""

    def __init__(self, cluster, system, scenario, jobs, concurrency=4, attempt=1):
        self.c, self.sys, self.scenario, self.jobs = cluster, system, scenario, jobs
        self.queue = f"{system.name}-{scenario}-c{concurrency}" + (f"-try{attempt}" if attempt > 1 else "")
        # A batch is given up on when no job has finished for this long, not at a fixed time
        # from its start: on a busy machine Celery may take minutes for a large batch.
        self.timeout = 60
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

    def settled(self):
        """True when the system says no job waits or is in hand anywhere (False if unknown)."""
        try:
            return self.sys.pending(self.queue) == 0 and self.submitter.poll() is not None
        except RedisError:
            return False

    def wait_for(self, count, ids=None, timeout=None):
        """Waits until `count` jobs (of `ids`, or of the first batch) are done; False when none
        has finished for `timeout` seconds, or the batch has settled short of `count`."""
        timeout = timeout or self.timeout
        last, progress = None, time.monotonic()
        while time.monotonic() < progress + timeout:
            done = self.done(ids)
            if done is not None and done >= count:
                return True
            if done != last:
                last, progress = done, time.monotonic()
            elif time.monotonic() - progress > SETTLED_S and self.settled():
                self.notes.append(f"{done} of {count} done, then none for {SETTLED_S} s with nothing "
                                  "queued or in hand: stopped waiting")
                return False
            time.sleep(0.2)
        self.notes.append(f"stalled: {self.done()} of {count} done, then none for {timeout:.0f} s")
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
        if len(good) < len(self.results):
            self.notes.append(f"{len(self.results) - len(good)} results wrong")
        dead = self.sys.dead(self.queue)
        if dead:
            self.notes.append(f"{dead} jobs failed for good")
        self.account_for_missing()
        if len(self.ids) != self.jobs:
            self.notes.append(f"{len(self.ids)} jobs on the broker for {self.jobs} submitted")
        self.row["correct"] = ok and len(good) == self.jobs == len(self.ids) and not dead
        if good:
            # The same span on both systems: first job sent to last job done, so neither the
            # producer's start-up (Python importing Celery) nor the workers' counts.
            span = max(r.done_s for r in good) - self.sys.first_sent(self.queue)
            self.row["per_s"] = round(self.jobs / span, 1) if span > 0 else None
        share = {h: 0 for h in self.c.hosts}
        for r in good:
            share[r.host] = share.get(r.host, 0) + 1
        self.row["share"] = share

    def account_for_missing(self):
        """Says where each job without a result is: counted by place, and the lost ones (in no
        place the system could still hold them) by id and input."""
        missing = [i for i in self.ids if i not in self.results]
        if not missing:
            return
        places, looked = self.sys.whereabouts(self.queue, missing)
        counts = {}
        for place in places.values():
            if place is not None:
                counts[place] = counts.get(place, 0) + 1
        for place, n in sorted(counts.items()):
            self.notes.append(f"{n} without a result {place}")
        lost = sorted(i for i, place in places.items() if place is None)
        if lost:
            self.row["lost"] = lost
            named = ", ".join(f"{i} (n={self.ids[i]})" for i in lost)
            self.notes.append(f"{len(lost)} lost, in no record ({looked}): {named}")

    def close(self):
        self.row["notes"] = self.notes
        self.c.stop(list(self.procs.values()) + [self.submitter])
        self.c.clear_workers()
        self.c.redis.call("FLUSHALL")
        return self.row
