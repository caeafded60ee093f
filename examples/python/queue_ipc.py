"""The tutorial's inter-process communication, completed so it runs and measures itself.

multiprocessing.Queue, Pipe, a shared Value and shared_memory: the Python twins of the Rust
`queue-ipc` lesson. Same size flags, and with --json one object per line with the same fields
as the Rust rows plus "pairs_with", the Rust variant each row compares with.

    python3 examples/python/queue_ipc.py
    python3 examples/python/queue_ipc.py --json --variant queue --messages 20000
"""

import argparse
import array
import json
import multiprocessing as mp
import os
import sys
import time
from multiprocessing import shared_memory

LESSON = "queue-ipc"


def percentiles(latencies):
    """p50, p99 and max of a list of nanosecond latencies."""
    if not latencies:
        return {"p50_ns": 0, "p99_ns": 0, "max_ns": 0}
    ordered = sorted(latencies)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]
    return {"p50_ns": at(0.50), "p99_ns": at(0.99), "max_ns": ordered[-1]}


def row(variant, pairs_with, workers, items, expected, result, wall, extra=None):
    """One result, with the fields of the Rust rows."""
    out = {
        "lesson": LESSON,
        "variant": variant,
        "workers": workers,
        "items": items,
        "expected": expected,
        "result": result,
        "correct": expected == result,
        "wall_s": wall,
        "per_s": items / wall if wall > 0 else 0.0,
        "pairs_with": pairs_with,
    }
    out.update(extra or {})
    return out


def reap(child):
    """Joins `child`, ending it first if it is stuck (a Queue child cannot exit while items it
    put are still buffered, so joining it after reading stopped early would wait forever)."""
    child.join(timeout=5)
    if child.is_alive():
        child.terminate()
        child.join()


# --- Queue: pickled tuples through a pipe and a feeder thread --------------------------------


def queue_child(queue, messages):
    for seq in range(messages):
        # time.monotonic_ns is CLOCK_MONOTONIC on Linux: the same clock in both processes.
        queue.put((seq, time.monotonic_ns()))


def run_queue(args):
    queue = mp.Queue()
    child = mp.Process(target=queue_child, args=(queue, args.messages))
    child.start()
    latencies, received = [], 0
    start = time.perf_counter()
    while received < args.messages:
        try:
            seq, sent = queue.get(timeout=2)
        except Exception:  # queue.Empty: the child died, or stalled
            break
        latencies.append(time.monotonic_ns() - sent)
        if seq != received:
            break
        received += 1
    wall = time.perf_counter() - start
    reap(child)
    return row("queue", "ipc-channel", 1, received, args.messages, received, wall,
               percentiles(latencies))


# --- Pipe: bytes through a socket pair ---------------------------------------------------------


def pipe_child(conn, messages, size):
    for seq in range(messages):
        header = seq.to_bytes(8, "little") + time.monotonic_ns().to_bytes(8, "little")
        conn.send_bytes(header + bytes([seq & 0xFF]) * size)
    conn.close()


def run_pipe(args):
    reader, writer = mp.Pipe(duplex=False)
    child = mp.Process(target=pipe_child, args=(writer, args.messages, args.bytes))
    child.start()
    writer.close()  # ours; otherwise recv_bytes never sees end of file when the child dies
    latencies, received = [], 0
    start = time.perf_counter()
    while received < args.messages:
        try:
            frame = reader.recv_bytes()
        except EOFError:
            break
        seq = int.from_bytes(frame[:8], "little")
        latencies.append(time.monotonic_ns() - int.from_bytes(frame[8:16], "little"))
        intact = len(frame) == 16 + args.bytes and frame[16:] == bytes([seq & 0xFF]) * args.bytes
        if seq != received or not intact:
            break
        received += 1
    wall = time.perf_counter() - start
    reader.close()  # a child still sending then fails instead of blocking on a full pipe
    reap(child)
    moved = received * (16 + args.bytes)
    extra = percentiles(latencies)
    extra.update({"payload_bytes": args.bytes, "bytes_per_s": moved / wall if wall else 0.0})
    return row("pipe", "pipe", 1, received, args.messages, received, wall, extra)


# --- Value: a lock-guarded counter in shared memory ---------------------------------------------


def value_child(counter, increments):
    for _ in range(increments):
        with counter.get_lock():  # without it, `counter.value += 1` loses updates
            counter.value += 1


def run_value(args):
    counter = mp.Value("Q", 0)
    children = [mp.Process(target=value_child, args=(counter, args.increments))
                for _ in range(args.workers)]
    start = time.perf_counter()
    for child in children:
        child.start()
    for child in children:
        child.join()
    wall = time.perf_counter() - start
    expected = args.workers * args.increments
    return row("value", "shm-counter", args.workers, counter.value, expected, counter.value, wall)


# --- shared_memory: an array filled by a child, checked by the parent ---------------------------


def array_child(name, elements):
    # Attaching registers the name with the resource tracker as if we owned it (CPython issue
    # 82300). Under the "fork" start method (Linux's default) the child shares the parent's
    # tracker, so that is a no-op; under "spawn" the tracker would unlink the segment early.
    shm = shared_memory.SharedMemory(name=name)
    shm.buf.cast("Q")[:] = array.array("Q", range(elements))
    shm.close()


def run_shared_memory(args):
    n = args.elements
    shm = shared_memory.SharedMemory(create=True, size=n * 8)
    try:
        child = mp.Process(target=array_child, args=(shm.name, n))
        child.start()
        child.join()
        words = shm.buf.cast("Q")
        start = time.perf_counter()
        total = sum(words)
        intact = words == array.array("Q", range(n))  # element by element, in C
        wall = time.perf_counter() - start
        copy_start = time.perf_counter()
        copied = bytes(shm.buf)  # the memcpy to compare with
        copy_wall = time.perf_counter() - copy_start
        del words, copied
    finally:
        shm.close()
        shm.unlink()
    expected = n * (n - 1) // 2
    extra = {"bytes": n * 8, "read_bytes_per_s": n * 8 / wall,
             "memcpy_bytes_per_s": n * 8 / max(copy_wall, 1e-9)}
    result = total if intact and child.exitcode == 0 else -1
    return row("shared-memory", "shm-array", 1, n, expected, result, wall, extra)


VARIANTS = {
    "queue": run_queue,
    "pipe": run_pipe,
    "value": run_value,
    "shared-memory": run_shared_memory,
}
# --variant also takes the Rust names.
RUST_NAMES = {"ipc-channel": "queue", "shm-counter": "value", "shm-array": "shared-memory"}


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--workers", type=positive, default=os.cpu_count() or 1)
    parser.add_argument("--variant", action="append",
                        choices=sorted(VARIANTS) + sorted(RUST_NAMES))
    parser.add_argument("--messages", type=positive, default=100_000)
    parser.add_argument("--bytes", type=positive, default=256)
    parser.add_argument("--increments", type=positive, default=1_000_000)
    parser.add_argument("--elements", type=positive, default=1 << 23)
    args = parser.parse_args()

    chosen = {RUST_NAMES.get(v, v) for v in args.variant or VARIANTS}
    rows = [VARIANTS[name](args) for name in VARIANTS if name in chosen]
    if args.json:
        for r in rows:
            print(json.dumps(r))
    else:
        print(f"{'variant':<14} {'items':>10} {'ok':>5} {'wall':>9} {'rate':>12}")
        for r in sorted(rows, key=lambda r: r["wall_s"]):
            print(f"{r['variant']:<14} {r['items']:>10} {str(r['correct']):>5} "
                  f"{r['wall_s'] * 1e3:>7.1f}ms {r['per_s']:>10.0f}/s")
    return 0 if all(r["correct"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
