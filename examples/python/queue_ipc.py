"""The tutorial's inter-process communication, completed so it runs and measures itself.

multiprocessing.Queue, Pipe, a shared Value and shared_memory: the Python twins of the Rust
`queue-ipc` lesson. Same size flags, and with --json one object per line with the same fields
as the Rust rows plus "pairs_with", the Rust variant each row compares with. A pair does the
same work the same way and is timed over the same span: every clock starts once the children
are started and ready, and nothing else (no reference data built for the check) runs inside it.

    python3 examples/python/queue_ipc.py
    python3 examples/python/queue_ipc.py --json --variant queue --messages 20000
"""

import argparse
import array
import json
import multiprocessing as mp
import os
import sys
import threading
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


def row(variant, pairs_with, mechanism, workers, items, expected, result, wall, extra=None):
    """One result, with the fields of the Rust rows."""
    out = {
        "lesson": LESSON,
        "variant": variant,
        "mechanism": mechanism,
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


# ANCHOR: tutorial
def queue_child(queue, messages, size):
    queue.put("ready")  # the parent's clock starts once this arrives, as Rust's after its hello
    for seq in range(messages):
        # time.monotonic_ns is CLOCK_MONOTONIC on Linux: the same clock in both processes.
        # The payload is the pipe's: `size` copies of the sequence number's low byte.
        queue.put((seq, time.monotonic_ns(), bytes([seq & 0xFF]) * size))


def run_queue(args):
    queue = mp.Queue()
    child = mp.Process(target=queue_child, args=(queue, args.messages, args.bytes))
    child.start()
    latencies, received = [], 0
    try:
        ready = queue.get(timeout=30) == "ready"
    except Exception:  # queue.Empty: the child died before it said ready
        ready = False
    start = time.perf_counter()
    while ready and received < args.messages:
        try:
            seq, sent, payload = queue.get(timeout=2)
        except Exception:  # queue.Empty: the child died, or stalled
            break
        latencies.append(time.monotonic_ns() - sent)
        if seq != received or payload != bytes([seq & 0xFF]) * args.bytes:
            break
        received += 1
    wall = time.perf_counter() - start
    reap(child)
    extra = percentiles(latencies)
    moved = received * (16 + args.bytes)  # stamp and payload, as the Rust row counts them
    extra.update({"payload_bytes": args.bytes, "bytes_per_s": moved / wall if wall else 0.0})
    return row("queue", "ipc-channel", "processes", 1, received, args.messages, received, wall,
               extra)
# ANCHOR_END: tutorial


# --- Pipe: bytes through a socket pair ---------------------------------------------------------
# Every frame is Rust's: a 4-byte length (send_bytes writes it), then sequence number, send time
# and payload. `pipe` sends one frame per send_bytes, as the tutorial does, beside Rust's
# pipe-per-message (one write per frame); `pipe-batched` packs frames into 64 KiB sends, beside
# Rust's pipe (a 64 KiB BufWriter).

BATCH = 64 * 1024


# ANCHOR: pipe
def frame_body(seq, size):
    # time.monotonic_ns is CLOCK_MONOTONIC on Linux: the same clock in both processes.
    head = seq.to_bytes(8, "little") + time.monotonic_ns().to_bytes(8, "little")
    return head + bytes([seq & 0xFF]) * size


def pipe_child(conn, messages, size):
    conn.send_bytes(b"ready")
    for seq in range(messages):
        conn.send_bytes(frame_body(seq, size))
    conn.close()
# ANCHOR_END: pipe


def pipe_batched_child(conn, messages, size):
    conn.send_bytes(b"ready")
    batch = bytearray()
    for seq in range(messages):
        body = frame_body(seq, size)
        if batch and len(batch) + 4 + len(body) > BATCH:
            conn.send_bytes(batch)
            batch = bytearray()
        batch += len(body).to_bytes(4, "little") + body
    if batch:
        conn.send_bytes(batch)
    conn.close()


def frames_of(reader, batched):
    """Every frame body the child sends, one at a time, until end of file."""
    while True:
        try:
            message = reader.recv_bytes()
        except EOFError:
            return
        if not batched:
            yield message
            continue
        view, at = memoryview(message), 0
        while at < len(message):
            length = int.from_bytes(view[at:at + 4], "little")
            yield view[at + 4:at + 4 + length]
            at += 4 + length


def run_pipe(args, batched=False):
    reader, writer = mp.Pipe(duplex=False)
    target = pipe_batched_child if batched else pipe_child
    child = mp.Process(target=target, args=(writer, args.messages, args.bytes))
    child.start()
    writer.close()  # ours; otherwise recv_bytes never sees end of file when the child dies
    latencies, received = [], 0
    try:
        ready = reader.recv_bytes() == b"ready"
    except EOFError:
        ready = False
    start = time.perf_counter()
    for frame in frames_of(reader, batched) if ready else ():
        seq = int.from_bytes(frame[:8], "little")
        latencies.append(time.monotonic_ns() - int.from_bytes(frame[8:16], "little"))
        intact = len(frame) == 16 + args.bytes and frame[16:] == bytes([seq & 0xFF]) * args.bytes
        if seq != received or not intact:
            break
        received += 1
        if received == args.messages:
            break
    wall = time.perf_counter() - start
    reader.close()  # a child still sending then fails instead of blocking on a full pipe
    reap(child)
    moved = received * (20 + args.bytes)
    extra = percentiles(latencies)
    extra.update({"payload_bytes": args.bytes, "bytes_per_s": moved / wall if wall else 0.0})
    variant, pairs_with = ("pipe-batched", "pipe") if batched else ("pipe", "pipe-per-message")
    return row(variant, pairs_with, "processes", 1, received, args.messages, received, wall, extra)


# --- Value: a lock-guarded counter in shared memory ---------------------------------------------
# Its lock is an RLock on a POSIX semaphore in shared memory, taken and released around every
# `+= 1`: the Rust pair is shm-counter-locked, a sem_t in the segment around a load and a store.
# (Rust's lock-free shm-counter has no Python counterpart: a Value has no atomic add.)


# ANCHOR: value
def value_child(counter, increments, ready, go):
    ready.wait()  # started and attached, as Rust's children say "ready"
    go.wait()  # the starting gun
    for _ in range(increments):
        with counter.get_lock():  # without it, `counter.value += 1` loses updates
            counter.value += 1
# ANCHOR_END: value


def run_value(args):
    counter = mp.Value("Q", 0)
    ready, go = mp.Barrier(args.workers + 1), mp.Event()
    children = [mp.Process(target=value_child, args=(counter, args.increments, ready, go))
                for _ in range(args.workers)]
    for child in children:
        child.start()
    try:
        ready.wait(timeout=60)
    except threading.BrokenBarrierError:  # a child died before it was ready
        for child in children:
            child.terminate()
    start = time.perf_counter()
    go.set()
    for child in children:
        child.join()
    wall = time.perf_counter() - start
    expected = args.workers * args.increments
    result = counter.value if all(c.exitcode == 0 for c in children) else -1
    return row("value", "shm-counter-locked", "shared-memory", args.workers, counter.value,
               expected, result, wall)


# --- shared_memory: an array filled by a child, checked by the parent ---------------------------


# ANCHOR: array
def array_child(name, elements):
    # Attaching registers the name with the resource tracker as if we owned it (CPython issue
    # 82300). Under the "fork" start method (Linux's default) the child shares the parent's
    # tracker, so that is a no-op; under "spawn" the tracker would unlink the segment early.
    shm = shared_memory.SharedMemory(name=name)
    shm.buf.cast("Q")[:] = array.array("Q", range(elements))
    shm.close()
# ANCHOR_END: array


def run_shared_memory(args):
    n = args.elements
    shm = shared_memory.SharedMemory(create=True, size=n * 8)
    try:
        child = mp.Process(target=array_child, args=(shm.name, n))
        child.start()
        child.join()
        words = shm.buf.cast("Q")
        # The answer to check against, built before the clock: the timed span is the parent's
        # read of the child's array, as in Rust's shm-array.
        reference = array.array("Q", range(n))
        start = time.perf_counter()
        total = sum(words)
        intact = words == reference  # element by element, in C
        wall = time.perf_counter() - start
        copy_start = time.perf_counter()
        copied = bytes(shm.buf)  # the memcpy to compare with
        copy_wall = time.perf_counter() - copy_start
        del words, copied, reference
    finally:
        shm.close()
        shm.unlink()
    expected = n * (n - 1) // 2
    extra = {"bytes": n * 8, "read_bytes_per_s": n * 8 / wall,
             "memcpy_bytes_per_s": n * 8 / max(copy_wall, 1e-9)}
    result = total if intact and child.exitcode == 0 else -1
    return row("shared-memory", "shm-array", "shared-memory", 1, n, expected, result, wall, extra)


VARIANTS = {
    "queue": run_queue,
    "pipe": run_pipe,
    "pipe-batched": lambda args: run_pipe(args, batched=True),
    "value": run_value,
    "shared-memory": run_shared_memory,
}
# --variant also takes the names of the Rust variants these pair with.
RUST_NAMES = {"ipc-channel": "queue", "pipe-per-message": "pipe",
              "shm-counter-locked": "value", "shm-array": "shared-memory"}


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
    parser.add_argument("--bytes", type=positive, default=256,
                        help="payload bytes per message (queue, pipes)")
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
