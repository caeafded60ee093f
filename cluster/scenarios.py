"""The scenarios, each one row: steady, cut-off, killed, broker-restart, slow-network.

Each is written against `Run` (run.py), which checks every job's result by id; a scenario adds
its own condition (the held jobs finished on another host, the cut worker came back, no worker
or producer died, the fault hit while there was something to recover).
"""

import time

from run import Run


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
    mended and the worker must take jobs again by itself without spoiling a result.
    A fault that hits a host holding no job tests no recovery: the scenario is run once more
    on a fresh batch, and if the host holds none again the row is not correct."""
    row = strike(cluster, system, jobs, scenario)
    if row["held"]:
        return row
    again = strike(cluster, system, jobs, scenario, attempt=2)
    share = " ".join(f"{h}:{n}" for h, n in sorted(row.get("share", {}).items(), key=lambda kv: str(kv[0])))
    first = f"first run: {share}" + "".join(f"; {n}" for n in row["notes"])
    if again["held"]:
        again["notes"].insert(0, f"run twice: at the first fault the lost host held no job ({first})")
    else:
        again["correct"] = False
        again["notes"].insert(0, f"the lost host held no job at either of two faults: recovery not tested ({first})")
    return again


def strike(cluster, system, jobs, scenario, attempt=1):
    run = Run(cluster, system, scenario, jobs, attempt=attempt)
    victim = cluster.hosts[-1]
    try:
        t_fault = strike_holding(cluster, system, run, victim, scenario)
        time.sleep(0.3)  # what the victim acknowledged before the fault has landed by now
        held = system.held(run.queue, run.procs[victim])
        results = run.finish()
        # A result stored before the fault (Celery stores one before it acknowledges, with
        # acks_late) means that job was finished, not held.
        held = {h for h in held if h not in results or results[h].done_s > t_fault}
        late = [results[h] for h in held if h in results]
        run.row["held"] = len(held)
        elsewhere = all(r.host != victim for r in late) and len(late) == len(held)
        # Recovered means every job done while the host was still lost: a time measured over
        # some held jobs while others were nowhere to be seen would flatter.
        unfinished = len(run.ids) - len(results)
        if unfinished:
            run.notes.append(f"no recovery time: {unfinished} of {len(run.ids)} jobs not done while the host was lost")
        elif elsewhere and late:
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


def strike_holding(cluster, system, run, victim, scenario, within_s=10):
    """Cuts or kills the victim at an instant it holds unfinished jobs, and returns the time
    of the fault. A trivial job passes through a worker in well under a millisecond, so a
    fault at a moment picked by the clock usually finds the host holding nothing. Instead the
    host is frozen (SIGSTOP), what it holds is read from the broker, and the fault is made
    before it goes on; if it held nothing it is let go and looked at again a moment later.
    Freezing changes nothing the fault would see: the same jobs, sockets and cable."""
    deadline = time.monotonic() + within_s
    pids = cluster.pids(victim)
    while True:
        # Frozen only once the broker shows it holding something, so a host that holds nothing
        # for a while is not slowed by being stopped over and over.
        if system.held(run.queue, run.procs[victim]) or time.monotonic() > deadline:
            cluster.freeze(pids)
            try:
                held = system.held(run.queue, run.procs[victim])
                # Finished but not yet acknowledged is not held: its result is stored already.
                held -= set(system.results(run.queue, {h: 0 for h in held}))
                if held or time.monotonic() > deadline:
                    cluster.cut(victim) if scenario == "cut-off" else cluster.kill_host(victim)
                    if not held:
                        run.notes.append(f"the lost host held no unfinished job within {within_s} s: struck anyway")
                    return time.time()
            finally:
                cluster.thaw(pids)
        time.sleep(0.002)


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
        late = len(after) - len(before)
        run.notes.append(f"{late} job{'s' if late != 1 else ''} finished only after the cable was mended")
    run.results = after  # the row counts every job finished by the end, these included
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
        # As soon as jobs flow, looked for every few milliseconds: trivial jobs drain a small
        # batch in a fraction of a second, and a restart after the last one would test nothing.
        deadline = time.monotonic() + run.timeout
        while not run.done() and time.monotonic() < deadline:
            time.sleep(0.003)
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
            run.notes.append("no job was done after the broker came back: recovery not tested")
        before = [r.done_s for r in results.values() if r.done_s < t_down]
        if after and before:
            run.row["pause_s"] = round(min(after) - max(before), 2)
        dead = [h for h, p in run.procs.items() if p.poll() is not None]
        if dead:
            run.notes.append("workers exited: " + ", ".join(f"{h} ({run.procs[h].returncode})" for h in dead))
        run.notes.append(f"producer {'was' if producing else 'was not'} submitting when the broker stopped")
        run.score(not dead and bool(after))
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
