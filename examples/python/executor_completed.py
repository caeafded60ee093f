"""executor-completed, the Python original: concurrent.futures with submit and as_completed.

ThreadPoolExecutor and ProcessPoolExecutor, `submit` returning futures, `as_completed` yielding
them as they finish; an exception and a failed assertion as errors, `as_completed(timeout=...)`,
`shutdown(cancel_futures=True)`, and priority done the only way concurrent.futures allows: by
holding tasks back in a heap and submitting the highest one whenever a worker is free
(`as_completed` itself gives no control over priority; it only reports completions).

Twin of `cargo run --release -p executor-completed`: same flags (--json, --workers, --tasks,
--variant), same JSON fields (with "mechanism": threads, or processes for the process pool), plus
"pairs_with" naming the Rust variant each row compares with; each pair does the same work.

    python3 examples/python/executor_completed.py [--json] [--workers N] [--tasks N]
"""

import argparse
import heapq
import json
import os
import threading
import time
from concurrent.futures import (
    FIRST_COMPLETED,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from concurrent.futures import TimeoutError as FuturesTimeout

LESSON = "executor-completed"
DEMO_TASKS = 8
ERROR_TASKS, FAILING_TASK, PANICKING_TASK = 8, 2, 5
DEADLINE_MS = 200
LEVELS, TASKS_PER_WORKER = [0, 2, 1], 4


# ANCHOR: tasks
def demo_sleep_ms(i):
    """160 ms, 80, 40, 20, then 10: the first task is the longest."""
    return max(160 >> i, 10)


def square(x, sleep_ms=0):
    if sleep_ms:
        time.sleep(sleep_ms / 1000)
    return x * x


def fail(x):
    raise ValueError(f"task with input {x} refused it on purpose")


def panic(x):
    assert False, f"task with input {x} failed an assertion on purpose"
# ANCHOR_END: tasks


def sum_of_squares_below(n):
    return (n - 1) * n * (2 * n - 1) // 6 if n else 0


class Tally:
    """Every submitted task counted once: finished, failed, timed out or cancelled."""

    def __init__(self):
        self.order, self.finished, self.failed = [], {}, {}
        self.timed_out, self.cancelled = [], []

    def record(self, task_id, fut):
        self.order.append(task_id)
        if fut.cancelled():
            self.cancelled.append(task_id)
        elif fut.exception() is not None:
            self.failed[task_id] = repr(fut.exception())
        else:
            self.finished[task_id] = fut.result()

    def accounted(self):
        return len(self.finished) + len(self.failed) + len(self.timed_out) + len(self.cancelled)

    def ids_unique(self):
        ids = [*self.finished, *self.failed, *self.timed_out, *self.cancelled]
        return len(set(ids)) == len(ids)

    def row(self, variant, pairs_with, workers, submitted, items, wall, ok=True,
            mechanism="threads", **extra):
        squares = all(v == i * i for i, v in self.finished.items())
        correct = submitted == self.accounted() and self.ids_unique() and squares and ok
        return {
            "lesson": LESSON, "variant": variant, "mechanism": mechanism, "pairs_with": pairs_with,
            "workers": workers, "items": items, "expected": submitted,
            "result": self.accounted(), "correct": correct, "wall_s": wall,
            "per_s": items / wall if wall > 0 else 0.0,
            "finished": len(self.finished), "failed": len(self.failed),
            "timed_out": len(self.timed_out), "cancelled": len(self.cancelled),
            "ids_unique": self.ids_unique(), "completion_order": self.order,
            "errors": [{"id": i, "error": e} for i, e in sorted(self.failed.items())],
            **extra,
        }


# ANCHOR: tutorial
def as_completed_variant(pool_class, variant, pairs_with, mechanism, workers, tasks):
    tally = Tally()
    with pool_class(max_workers=workers) as ex:
        futs = {ex.submit(square, i, demo_sleep_ms(i)): i for i in range(DEMO_TASKS)}
        for fut in as_completed(futs):
            tally.record(futs[fut], fut)
        demo_order = list(tally.order)
        start = time.perf_counter()
        futs = {ex.submit(square, i): i for i in range(DEMO_TASKS, DEMO_TASKS + tasks)}
        for fut in as_completed(futs):
            tally.record(futs[fut], fut)
        wall = time.perf_counter() - start
    total = sum(tally.finished.values()) == sum_of_squares_below(DEMO_TASKS + tasks)
    row = tally.row(variant, pairs_with, workers, DEMO_TASKS + tasks, tasks, wall,
                    ok=total and not tally.failed, mechanism=mechanism)
    row["completion_order"] = demo_order
    return row
# ANCHOR_END: tutorial


def errors(workers):
    tally = Tally()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        def job(i):
            if i == FAILING_TASK:
                return ex.submit(fail, i)
            if i == PANICKING_TASK:
                return ex.submit(panic, i)
            return ex.submit(square, i, 2 * i)
        futs = {job(i): i for i in range(ERROR_TASKS)}
        for fut in as_completed(futs):
            tally.record(futs[fut], fut)
    wall = time.perf_counter() - start
    ok = sorted(tally.failed) == [FAILING_TASK, PANICKING_TASK]
    return tally.row("errors", "errors", workers, ERROR_TASKS, ERROR_TASKS, wall, ok=ok)


def gated_task():
    """A gate, a count of started tasks, and a task that signals it started, then waits for the
    gate: what a variant uses to force an order instead of timing one with sleeps."""
    gate, started = threading.Event(), threading.Semaphore(0)

    def gated(i):
        started.release()
        gate.wait()
        return i * i

    return gate, started, gated


def timeout(workers):
    # The slow tasks wait at a gate opened only after the deadline, so they time out on every
    # run; and once every worker holds a slow one, the fast ones are done (workers take tasks
    # in order), and as_completed yields futures already done before it checks the clock.
    # Plain sleeps (fast 5 ms, slow 500 ms) would be a race against the clock on a loaded machine.
    tally, n = Tally(), 3 * workers
    gate, started, slow = gated_task()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        futs = {ex.submit(square, i, 5): i for i in range(2 * workers)}
        futs.update({ex.submit(slow, i): i for i in range(2 * workers, n)})
        for _ in range(workers):
            started.acquire()
        remaining = DEADLINE_MS / 1000 - (time.perf_counter() - start)
        try:
            for fut in as_completed(futs, timeout=max(remaining, 0)):
                tally.record(futs[fut], fut)
        except FuturesTimeout:
            pass
        out = [f for f, i in futs.items() if i not in tally.order]
        tally.timed_out = sorted(futs[f] for f in out)
        gate.set()
        late = len(wait(out).done)  # they finish anyway: the timeout stopped only the waiting
    wall = time.perf_counter() - start
    ok = tally.timed_out == list(range(2 * workers, n)) and late == workers
    return tally.row("timeout", "timeout", workers, n, n, wall, ok=ok,
                     timed_out_ids=tally.timed_out, finished_late=late)


def cancel(workers):
    tally, n = Tally(), 4 * workers
    gate, started, gated = gated_task()
    start = time.perf_counter()
    ex = ThreadPoolExecutor(max_workers=workers)
    futs = {ex.submit(gated, i): i for i in range(workers)}
    for _ in range(workers):
        started.acquire()
    futs.update({ex.submit(square, i, 1): i for i in range(workers, n)})
    ex.shutdown(wait=False, cancel_futures=True)
    gate.set()
    # Futures cancelled by shutdown are never "notified": as_completed would wait for them
    # forever (CPython 3.11; python/cpython#87893, open). Count them first, then the rest.
    for fut, i in futs.items():
        if fut.cancelled():
            tally.record(i, fut)
    for fut in as_completed([f for f in futs if not f.cancelled()]):
        tally.record(futs[fut], fut)
    ex.shutdown(wait=True)
    wall = time.perf_counter() - start
    ok = len(tally.cancelled) == n - workers
    return tally.row("cancel-futures", "cancel", workers, n, n, wall, ok=ok,
                     cancelled_by_shutdown=len(tally.cancelled))


# ANCHOR: priority
def priority(workers):
    # As in the Rust variant: one gated task holds each worker first, so every prioritised task
    # has to wait; the row counts the holders too, so both sides count the same tasks.
    tally, n = Tally(), workers + TASKS_PER_WORKER * workers
    levels = [LEVELS[(i - workers) % len(LEVELS)] for i in range(workers, n)]
    heap = [(-level, i) for i, level in zip(range(workers, n), levels)]
    heapq.heapify(heap)
    gate, started, gated = gated_task()
    start_order = []
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as ex:
        running = {ex.submit(gated, i): i for i in range(workers)}
        for _ in range(workers):
            started.acquire()
        gate.set()
        while heap or running:
            while heap and len(running) < workers:
                _, i = heapq.heappop(heap)
                start_order.append(i)
                running[ex.submit(square, i, 5)] = i
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                tally.record(running.pop(fut), fut)
    wall = time.perf_counter() - start
    want = sorted(range(workers, n), key=lambda i: -levels[i - workers])
    return tally.row("priority-heap", "priority", workers, n, n, wall, ok=start_order == want,
                     start_order=start_order, priorities=levels)
# ANCHOR_END: priority


VARIANTS = {
    "threads-as-completed": lambda a: as_completed_variant(
        ThreadPoolExecutor, "thread-pool-executor", "threads-as-completed", "threads",
        a.workers, a.tasks),
    "processes-as-completed": lambda a: as_completed_variant(
        ProcessPoolExecutor, "process-pool-executor", "processes-as-completed", "processes",
        a.workers, a.tasks),
    "errors": lambda a: errors(a.workers),
    "timeout": lambda a: timeout(a.workers),
    "cancel": lambda a: cancel(a.workers),
    "priority": lambda a: priority(a.workers),
}


def positive(limit):
    def parse(text):
        value = int(text)
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"must be between 1 and {limit}")
        return value
    return parse


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workers", type=positive(1024), default=os.cpu_count() or 1)
    parser.add_argument("--tasks", type=positive(2_000_000), default=20_000)
    parser.add_argument("--variant", action="append", choices=list(VARIANTS))
    args = parser.parse_args()
    chosen = [v for v in VARIANTS if not args.variant or v in args.variant]
    rows = [VARIANTS[v](args) for v in chosen]
    for row in rows:
        if args.json:
            print(json.dumps(row), flush=True)
        else:
            mark = "ok" if row["correct"] else "WRONG"
            print(f"{row['variant']:<22} {mark:<5} {row['result']:>7} of {row['expected']:<7}"
                  f" {row['wall_s'] * 1e3:9.1f} ms {row['per_s']:12.0f}/s"
                  f"  order {row['completion_order'][:8]}")
    if not args.json:
        print("  result of expected: tasks submitted, each counted once as finished, failed, timed"
              f" out or cancelled (the pool rows: the {DEMO_TASKS} uneven demo tasks and the"
              " --tasks timed ones)")
    raise SystemExit(0 if all(r["correct"] for r in rows) else 1)


if __name__ == "__main__":
    main()
