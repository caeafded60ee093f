"""The tutorial's Pool programs, corrected so they run and measured: the Python twin of the Rust
`pool-batch` lesson.

`multiprocessing.Pool(n).map(square, numbers)` with and without `chunksize`, the same map on a
`multiprocessing.pool.ThreadPool` (threads, so the GIL runs one task at a time), and the
tutorial's answer to "more tasks than cores": cut the numbers into batches of `2 * cores` and
open a new `with Pool() as pool:` for every batch, beside one pool for all batches; the
batches on process pools, as the tutorial runs them, and on thread pools.

    python3 examples/python/pool_batch.py [--json] [--workers N] [--items N] [--chunk N]
        [--batches N] [--task square|sqrt|work] [--work ROUNDS]

With --json, one JSON object per line with the Rust rows' fields, plus "pairs_with": the Rust
variant to compare it with. Every row says its "mechanism" (threads or processes) and pairs with
a Rust row of the same mechanism and the same items, except the tutorial's `Pool.map` beside
rayon, marked "cross_mechanism": Rust needs no processes for this.
"""

import argparse
import json
import math
import os
import sys
import time
from multiprocessing import Pool
from multiprocessing.pool import ThreadPool

LESSON = "pool-batch"
MASK = (1 << 64) - 1
LCG_A = 6364136223846793005
LCG_C = 1442695040888963407


def square(x):
    return x * x


def isqrt_float(x):
    # The tutorial's math.sqrt, keeping the integer part so the sum has an exact closed form.
    return int(math.sqrt(x))


def work(args):
    x, rounds = args
    h = x
    for _ in range(rounds):
        h = (h * LCG_A + LCG_C) & MASK
    return h >> 32


def make_items(args, n):
    # Module-level functions only: Pool pickles a function by name to send it to a worker.
    if args.task == "work":
        return work, [(x, args.work) for x in range(1, n + 1)]
    return (square if args.task == "square" else isqrt_float), list(range(1, n + 1))


def expected_sum(args, n):
    """The answer, computed without any pool (closed forms; the LCG's jump-ahead for work)."""
    if args.task == "square":
        return n * (n + 1) * (2 * n + 1) // 6
    if args.task == "sqrt":
        m = math.isqrt(n)
        k = m - 1
        return 2 * (k * (k + 1) * (2 * k + 1) // 6) + k * (k + 1) // 2 + m * (n - m * m + 1)
    # `rounds` LCG steps are one affine map h -> A*h + C (mod 2^64).
    a, c = 1, 0
    step_a, step_c, k = LCG_A, LCG_C, args.work
    while k:  # compose the power-of-two runs of steps that make up `rounds`
        if k & 1:
            a, c = (step_a * a) & MASK, (step_a * c + step_c) & MASK
        step_a, step_c = (step_a * step_a) & MASK, (step_a * step_c + step_c) & MASK
        k >>= 1
    return sum(((a * x + c) & MASK) >> 32 for x in range(1, n + 1)) & MASK


def sequential_per_task(f, items):
    """Seconds per task with no pool, on up to ~50 ms of items."""
    start = time.perf_counter()
    done = 0
    for item in items:
        f(item)
        done += 1
        if done % 256 == 0 and time.perf_counter() - start > 0.05:
            break
    return (time.perf_counter() - start) / max(done, 1)


def row(args, variant, mechanism, pairs_with, n, results, wall, seq):
    f, items = make_items(args, n)
    in_order = len(results) == n and all(r == f(i) for r, i in zip(results, items))
    expected = expected_sum(args, n)
    result = sum(results) & MASK
    per_task = wall * args.workers / n
    return {
        "lesson": LESSON,
        "variant": variant,
        "mechanism": mechanism,
        "workers": args.workers,
        "items": n,
        "expected": expected,
        "result": result,
        "correct": expected == result and in_order,
        "wall_s": wall,
        "per_s": n / wall if wall > 0 else 0.0,
        "task": args.task,
        "in_order": in_order,
        "overhead_ns": (per_task - seq) * 1e9,
        "pairs_with": pairs_with,
    }


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run(args):
    f, items = make_items(args, args.items)
    seq = sequential_per_task(f, items)
    rows = []
    # ANCHOR: tutorial
    with ThreadPool(args.workers) as pool:
        out, wall = timed(lambda: pool.map(f, items, chunksize=1))
        rows.append(row(args, "threadpool-map", "threads", "thread-pool", args.items, out, wall, seq))
        out, wall = timed(lambda: pool.map(f, items, chunksize=args.chunk))
        rows.append(row(args, "threadpool-map-chunked", "threads", "thread-pool-chunked",
                        args.items, out, wall, seq))
    with Pool(args.workers) as pool:
        out, wall = timed(lambda: pool.map(f, items, chunksize=args.chunk))
        rows.append(row(args, "pool-map-chunked", "processes", "process-pool", args.items, out, wall, seq))
        # Pool.map's own chunksize: len / (4 * workers), rounded up: its answer to dispatch cost.
        # Beside rayon on purpose: the tutorial's way against Rust's, which needs no processes.
        out, wall = timed(lambda: pool.map(f, items))
        cross = row(args, "pool-map-default-chunks", "processes", "rayon", args.items, out, wall, seq)
        cross["cross_mechanism"] = True
        rows.append(cross)
    # ANCHOR_END: tutorial
    rows.extend(batch_rows(args, seq))
    return rows


def batch_rows(args, seq):
    """The tutorial's batches of 2 * workers items: a new pool per batch, and one pool for all;
    on process pools (the tutorial's Pool) and on thread pools."""
    size = 2 * args.workers
    n = args.batches * size
    f, all_items = make_items(args, n)
    batches = [all_items[i:i + size] for i in range(0, n, size)]

    # ANCHOR: batches
    def new_pool_each(make_pool):
        results = []
        for batch in batches:  # the tutorial's loop: a fresh pool for every batch
            with make_pool(args.workers) as pool:
                results.extend(pool.map(f, batch))
        return results

    def one_pool(make_pool):
        results = []
        with make_pool(args.workers) as pool:
            for batch in batches:
                results.extend(pool.map(f, batch))
        return results
    # ANCHOR_END: batches

    rows = []
    for make_pool, prefix, mechanism, rust in [(ThreadPool, "threadpool", "threads", ""),
                                               (Pool, "pool", "processes", "process-")]:
        out, wall = timed(lambda: new_pool_each(make_pool))
        rows.append(row(args, f"{prefix}-batch-new-pool-each", mechanism, f"{rust}batch-new-pool-each",
                        n, out, wall, seq))
        out, wall = timed(lambda: one_pool(make_pool))
        rows.append(row(args, f"{prefix}-batch-one-pool", mechanism, f"{rust}batch-one-pool",
                        n, out, wall, seq))
    return rows


def positive(limit):
    def parse(text):
        value = int(text)
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"{value} is not in 1..={limit}")
        return value
    return parse


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--workers", type=positive(1024), default=os.cpu_count() or 1)
    parser.add_argument("--items", type=positive(3_000_000), default=1_000_000)
    parser.add_argument("--chunk", type=positive(1_000_000), default=1000)
    parser.add_argument("--batches", type=positive(100_000), default=100)
    parser.add_argument("--task", choices=["square", "sqrt", "work"], default="square")
    parser.add_argument("--work", type=positive(10_000_000))
    args = parser.parse_args()
    if args.work is not None and args.task != "work":
        parser.error("--work sets the rounds of --task work; add --task work")
    args.work = args.work or 1000
    rows = run(args)
    if args.json:
        for r in rows:
            print(json.dumps(r))
    else:
        print(LESSON)
        for r in sorted(rows, key=lambda r: r["wall_s"]):
            check = "ok" if r["correct"] else "WRONG"
            print(f"{r['variant']:30} {r['mechanism']:9} {r['items']:>9} {check:5} "
                  f"{r['wall_s'] * 1e3:10.2f} ms {r['per_s'] / 1e3:10.1f} k/s  (pairs with {r['pairs_with']})")
    return 0 if all(r["correct"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
