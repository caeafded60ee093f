#!/usr/bin/env python3
"""The tutorial's shared counter, run as written, beside the version that really loses updates
and the Lock that fixes it: the Python twin of `cargo run --release -p race-lock`.

The tutorial starts ten threads that each run `counter += 1` in a loop and says the total comes
out short. On CPython 3.11 it does not: the interpreter hands the GIL to another thread only at
a call or a backward jump (the eval breaker is checked there), and `counter += 1` compiles to
LOAD_GLOBAL, BINARY_OP, STORE_GLOBAL with neither in between, so no other thread can run
between the read and the write. This program runs it and reports what happens (`plus-equals`).
Put a call between the read and the write, `counter = add_one(counter)`, and a switch can land
inside it: that version can lose updates (`add-one-call`; how many depends on the machine and on
how long each thread runs). `lock` is the tutorial's fix.

    python3 examples/python/race_lock.py [--json] [--workers 10] [--increments 200000]
        [--variant plus-equals|add-one-call|lock ...]

With --json, one object per variant per line, with the fields of the Rust rows plus
`pairs_with`, the Rust variant it compares with. Standard library only; Python 3.11.
"""

import argparse
import json
import math
import sys
import threading
import time

LESSON = "race-lock"
# One lock acquisition in this many is timed, as in the Rust lesson (timing every one would
# measure the clock more than the lock).
SAMPLE_EVERY = 16
VARIANTS = {
    # name: (pairs_with, unsynchronised?)
    "plus-equals": ("racy", True),
    "add-one-call": ("racy", True),
    "lock": ("mutex", False),
}

# ANCHOR: tutorial
counter = 0
lock = threading.Lock()


def plus_equals(n, _waits):
    """The tutorial's worker, as written."""
    global counter
    for _ in range(n):
        counter += 1


def add_one(value):
    return value + 1


def add_one_call(n, _waits):
    """The same, with a call between the read of `counter` and the write: a switch point."""
    global counter
    for _ in range(n):
        counter = add_one(counter)


def locked(n, waits):
    """The tutorial's fix, `with lock: counter += 1`, timing one acquisition in SAMPLE_EVERY."""
    global counter
    for i in range(n):
        if i % SAMPLE_EVERY == 0:
            start = time.perf_counter_ns()
            lock.acquire()
            waits.append(time.perf_counter_ns() - start)
            counter += 1
            lock.release()
        else:
            with lock:
                counter += 1

# ANCHOR_END: tutorial

WORKERS = {"plus-equals": plus_equals, "add-one-call": add_one_call, "lock": locked}


def count(n):
    """A count with its thousands grouped by spaces, as the Rust table prints them."""
    return f"{n:,}".replace(",", " ")


def percentile(sorted_ns, q):
    """Nearest-rank percentile of a sorted list (0 when empty)."""
    if not sorted_ns:
        return 0
    return sorted_ns[max(0, math.ceil(q * len(sorted_ns)) - 1)]


def run(variant, workers, increments):
    """Runs one variant with `workers` threads and returns its row."""
    global counter
    counter = 0
    waits = [[] for _ in range(workers)]
    target = WORKERS[variant]
    # ANCHOR: threads
    threads = [threading.Thread(target=target, args=(increments, waits[i])) for i in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # ANCHOR_END: threads
    wall = time.perf_counter() - start
    expected = workers * increments
    pairs_with, unsynchronised = VARIANTS[variant]
    row = {
        "lesson": LESSON,
        "variant": variant,
        "mechanism": "threads",
        "workers": workers,
        "items": expected,
        "expected": expected,
        "result": counter,
        "correct": counter == expected,
        "wall_s": wall,
        "per_s": expected / wall if wall > 0 else 0.0,
    }
    samples = sorted(ns for per_thread in waits for ns in per_thread)
    if samples:
        row.update(p50_ns=percentile(samples, 0.50), p99_ns=percentile(samples, 0.99),
                   max_ns=samples[-1])
    if unsynchronised:
        row["expected_failure"] = True
        row["lost"] = expected - counter
        row["note"] = f"lost {count(expected - counter)}"
    row["python"] = sys.version.split()[0]
    row["pairs_with"] = pairs_with
    return row


def positive(limit):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid value '{text}': not a whole number")
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"invalid value '{text}': must be in 1..={limit}")
        return value
    return parse


class OneLineParser(argparse.ArgumentParser):
    """Bad input is one line and exit status 2, as in the Rust binaries."""

    def error(self, message):
        sys.stderr.write(f"error: {message}\n")
        sys.exit(2)


def main():
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per variant per line")
    parser.add_argument("--workers", type=positive(1024), default=10,
                        help="threads (default: 10, the tutorial's ten)")
    parser.add_argument("--increments", type=positive(10_000_000), default=200_000,
                        help="increments per thread (default: 200000)")
    parser.add_argument("--variant", action="append", choices=list(VARIANTS),
                        help="run only this variant (repeatable; default: all)")
    args = parser.parse_args()
    chosen = [v for v in VARIANTS if not args.variant or v in args.variant]
    rows = [run(v, args.workers, args.increments) for v in chosen]
    if args.json:
        for row in rows:
            print(json.dumps(row))
    else:
        print_table(rows)
    return 0 if all(r["correct"] or r.get("expected_failure") for r in rows) else 1


def print_table(rows):
    print(f"{LESSON} (Python {sys.version.split()[0]})")
    print(f"{'variant':<14}{'workers':>8}{'result':>14}{'expected':>14}{'wall':>10}{'rate':>14}"
          f"{'p50':>10}{'p99':>10}  pairs with")
    for r in rows:
        p50 = f"{r['p50_ns']} ns" if "p50_ns" in r else "-"
        p99 = f"{r['p99_ns']} ns" if "p99_ns" in r else "-"
        print(f"{r['variant']:<14}{r['workers']:>8}{count(r['result']):>14}{count(r['expected']):>14}"
              f"{r['wall_s'] * 1000:>8.1f}ms{r['per_s'] / 1e6:>10.2f} M/s{p50:>10}{p99:>10}"
              f"  {r['pairs_with']}")
    for r in rows:
        if "lost" in r:
            share = 100 * r["lost"] / r["expected"]
            print(f"{r['variant']} lost {count(r['lost'])} of {count(r['expected'])} updates "
                  f"({share:.1f} %)")
    if any(r["variant"] == "plus-equals" for r in rows):
        print("(CPython 3.11 switches threads only at calls and backward jumps: none falls between"
              " the read and the write of `counter += 1`, so it loses nothing; `add_one` puts a"
              " call there.)")


if __name__ == "__main__":
    sys.exit(main())
