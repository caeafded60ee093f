#!/usr/bin/env python3
"""The tutorial's CPU-bound sum on processes, plus the two-threads run that shows the GIL: the
Python twin of `cargo run --release -p cpu-processes`.

The tutorial starts one `multiprocessing.Process` per core, each running
`cpu_intensive_task(n)` (a loop summing range(n)), and says processes beat threads for
CPU-bound work. This program runs the same task four ways and times them: `sequential` (one
after another), `threads` (one `threading.Thread` each: the GIL lets one thread run Python at a
time, so this takes as long as sequential), `fork` and `spawn` (one `Process` each, started with
the "fork" and the "spawn" start method). Results come back through a `multiprocessing.Queue`
(the tutorial throws them away; here they are checked against the closed form n(n-1)/2).

    python3 examples/python/cpu_processes.py [--json] [--workers N] [--n 2000000]
        [--rounds 3]
        [--variant sequential|threads|fork|spawn ...]

The default --n is smaller than the Rust binary's (a Python loop adds about 30 million numbers
a second, Rust about a billion); pass the same --n to both to compare them. Each variant runs
--rounds times, interleaved with the others, and reports its median run. With --json, one
object per variant per line, with the fields of the Rust rows (`mechanism` among them) plus
`pairs_with`, the Rust variant it compares with. Peak memory is VmHWM from /proc/self/status,
as in Rust, set back before each run through /proc/self/clear_refs; each child reports its own
before it exits. (resource.getrusage's ru_maxrss would carry over the peak of whatever program
exec'd this one.) Standard library only; Python 3.11; Linux.
"""

import argparse
import json
import multiprocessing as mp
import os
import queue
import signal
import sys
import threading
import time

LESSON = "cpu-processes"
VARIANTS = ["sequential", "threads", "fork", "spawn"]
MECHANISM = {"sequential": "sequential", "threads": "threads", "fork": "processes",
             "spawn": "processes"}


def peak_kib():
    """This process's peak resident memory so far (VmHWM), in KiB; 0 if unreadable."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak():
    """Sets the peak back to the current resident set, so a run's figure is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


# ANCHOR: tutorial
def cpu_intensive_task(n):
    """The tutorial's task: the sum of range(n), one addition at a time."""
    result = 0
    for i in range(n):
        result += i
    return result


def process_worker(index, n, results):
    # The parent ends us on Ctrl-C or SIGTERM (terminate() sends SIGTERM): ignore the terminal's
    # SIGINT, and let SIGTERM kill us quietly instead of raising the parent's KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    total = cpu_intensive_task(n)
    results.put((index, total, peak_kib()))


def run_processes(method, n, workers):
    """One Process per task; every child joined, and ended on Ctrl-C or SIGTERM."""
    ctx = mp.get_context(method)
    results = ctx.Queue()
    children = [ctx.Process(target=process_worker, args=(i, n, results)) for i in range(workers)]
    sums, peaks = {}, []
    try:
        for child in children:
            child.start()
        # Read before joining: a child cannot exit until its queued result is consumed. A dead
        # child sends nothing, so stop waiting once every child has ended and the queue is dry.
        while len(sums) < workers:
            try:
                index, value, peak = results.get(timeout=0.05)
                sums[index] = value
                peaks.append(peak)
            except queue.Empty:
                if not any(c.is_alive() for c in children):
                    break
    finally:
        for child in children:
            if child.is_alive() and len(sums) < workers:
                child.terminate()
            child.join()
    failures = []
    for child in children:
        if child.exitcode and child.exitcode < 0:
            name = signal.Signals(-child.exitcode).name
            failures.append(f"child {child.pid} killed by {name}")
        elif child.exitcode:
            failures.append(f"child {child.pid} exited with status {child.exitcode}")
    return sum(sums.values()), failures, peaks
# ANCHOR_END: tutorial


# ANCHOR: threads
def run_threads(n, workers):
    sums = [0] * workers

    def work(index):
        sums[index] = cpu_intensive_task(n)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(sums), [], []
# ANCHOR_END: threads


def run_sequential(n, workers):
    return sum(cpu_intensive_task(n) for _ in range(workers)), [], []


def measure(variant, n, workers):
    reset_peak()
    start = time.perf_counter()
    if variant == "sequential":
        total, failures, peaks = run_sequential(n, workers)
    elif variant == "threads":
        total, failures, peaks = run_threads(n, workers)
    else:
        total, failures, peaks = run_processes(variant, n, workers)
    wall = time.perf_counter() - start
    expected = workers * (n * (n - 1) // 2)
    items = n * workers
    row = {
        "lesson": LESSON,
        "variant": variant,
        "mechanism": MECHANISM[variant],
        "workers": 1 if variant == "sequential" else workers,
        "items": items,
        "expected": expected,
        "result": total,
        "correct": total == expected and not failures,
        "wall_s": wall,
        "per_s": items / wall if wall > 0 else 0.0,
        "peak_rss_kib": peak_kib(),
        "pairs_with": variant,
    }
    if variant in ("fork", "spawn"):
        row["child_peak_rss_kib"] = max(peaks, default=0)
        row["failed_children"] = failures
    return row


def median_of(runs):
    first = runs[0]  # memory is the first round's, as in Rust
    runs = sorted(runs, key=lambda r: r["wall_s"])
    row = dict(runs[len(runs) // 2])
    for key in ("peak_rss_kib", "child_peak_rss_kib"):
        if key in first:
            row[key] = first[key]
    row["correct"] = all(r["correct"] for r in runs)
    if "failed_children" in row:
        row["failed_children"] = [f for r in runs for f in r["failed_children"]]
    row.update(rounds=len(runs), wall_min_s=runs[0]["wall_s"], wall_max_s=runs[-1]["wall_s"])
    return row


def annotate(rows):
    base = next((r["wall_s"] for r in rows if r["variant"] == "sequential"), None)
    for r in rows:
        if base and r["wall_s"] > 0:
            r["speedup"] = base / r["wall_s"]
            r["efficiency"] = r["speedup"] / r["workers"]


def print_table(rows, workers):
    print(f"{LESSON} (Python {sys.version.split()[0]})")
    print(f"{'variant':<11} {'workers':>7} {'check':>6} {'wall':>9} {'speedup':>8} {'eff.':>5}"
          f" {'peak RSS':>9} {'child RSS':>10}")
    for r in sorted(rows, key=lambda r: r["wall_s"]):
        speedup = f"{r['speedup']:.2f}x" if "speedup" in r else "-"
        eff = f"{r['efficiency'] * 100:.0f}%" if "efficiency" in r else "-"
        child = f"{r['child_peak_rss_kib']} KiB" if "child_peak_rss_kib" in r else "-"
        check = "ok" if r["correct"] else "WRONG"
        print(f"{r['variant']:<11} {r['workers']:>7} {check:>6} {r['wall_s'] * 1e3:>7.0f}ms"
              f" {speedup:>8} {eff:>5} {r['peak_rss_kib']:>5} KiB {child:>10}")
        for failure in r.get("failed_children", []):
            print(f"  {failure}")
    by = {r["variant"]: r for r in rows}
    if "threads" in by and "speedup" in by["threads"] and workers > 1:
        speedup = by["threads"]["speedup"]
        # Below 1.3x: the threads took turns, as the GIL makes them.
        why = ("the GIL runs one thread at a time" if speedup < 1.3
               else "more than the GIL should allow: a noisy machine? run again")
        print(f"threads: {speedup:.2f}x on {workers} workers: {why}")
    for v in ("fork", "spawn"):
        if v in by and "speedup" in by[v]:
            print(f"{v}: {by[v]['speedup']:.2f}x on {by[v]['workers']} processes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--n", type=int, default=2_000_000)
    parser.add_argument("--variant", action="append", choices=VARIANTS)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.workers < 1 or args.n < 1 or args.rounds < 1:
        parser.error("--workers, --n and --rounds must be at least 1")

    # SIGTERM ends the run like Ctrl-C: `run_processes`' `finally` ends and joins the children.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    chosen = [v for v in VARIANTS if not args.variant or v in args.variant]
    try:
        # Rounds interleave the variants, as in Rust; each variant reports its median run.
        runs = {v: [] for v in chosen}
        for _ in range(args.rounds):
            for v in chosen:
                runs[v].append(measure(v, args.n, args.workers))
        rows = [median_of(runs[v]) for v in chosen]
    except KeyboardInterrupt:
        print("interrupted: every child was ended and joined", file=sys.stderr)
        return 130
    annotate(rows)
    if args.json:
        for r in rows:
            print(json.dumps(r))
    else:
        print_table(rows, args.workers)
    return 0 if all(r["correct"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
