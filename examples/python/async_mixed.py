#!/usr/bin/env python3
"""async-mixed, the Python original: asyncio.gather over many requests, and
loop.run_in_executor(ProcessPoolExecutor) for the CPU-bound part of each task.

The tutorial's program, completed so it runs on its own: a local asyncio HTTP server whose
every response is delayed by --delay-ms, a raw asyncio client, and a heartbeat coroutine that
wants to run every millisecond and records how late each tick was. The server runs in a process
of its own, standing in for a remote machine: started and ready before any clock starts, and
stopped at the end. In this process it would share the GIL with the event loop being measured,
and its work would show up as the heartbeat's lateness. Variants (every row's mechanism is
"async": the event loop runs the tasks, whatever runs their CPU steps):

  io-gather            --requests GETs at once with asyncio.gather     (pairs with io-gather)
  cpu-inline           CPU step on the event loop: the mistake         (pairs with cpu-inline)
  cpu-thread-executor  run_in_executor(ThreadPoolExecutor(workers))    (pairs with cpu-spawn-blocking)
  cpu-process-pool     run_in_executor(ProcessPoolExecutor(workers))   (pairs with cpu-rayon)

The threads variant keeps the event loop free, but the GIL lets only one thread run Python at
a time, so the CPU steps do not run in parallel and the heartbeat waits for the GIL (up to the
5 ms switch interval per tick). The process pool is the tutorial's answer.

Same flags, JSON fields and answer checks as the Rust binary. Each executor's note gives its
heartbeat p99 as a fraction of cpu-inline's from the same run, but, unlike the Rust rows, no
factor is required of it: this loop also waits for the GIL, and on a busy machine its lateness
varies too much run to run for a fixed factor to tell a right program from a wrong one. --work defaults to 200 000 here (Rust
sizes its default from a pilot sum, millions of iterations in a release build): one iteration of
a Python loop costs tens of nanoseconds, so each step still takes milliseconds. Pass the same
--work to both to compare per-iteration speed.

Run it: python3 examples/python/async_mixed.py [--json] [--variant NAME ...]
"""

import argparse
import asyncio
import concurrent.futures
import json
import multiprocessing
import os
import signal
import sys
import time

LESSON = "async-mixed"
VARIANTS = {
    "io-gather": "io-gather",
    "cpu-inline": "cpu-inline",
    "cpu-thread-executor": "cpu-spawn-blocking",
    "cpu-process-pool": "cpu-rayon",
}
PERIOD = 0.001  # the heartbeat wants to run every millisecond


def body_for(n):
    """The body of /item/{n}: the line "item {n}" repeated to about a kilobyte."""
    line = f"item {n}\n"
    return (line * -(-1024 // len(line))).encode()


def sum_of_squares(start, work):
    """The CPU step: sum of k*k for k in start..start+work, one term at a time."""
    total = 0
    for k in range(start, start + work):
        total += k * k
    return total


def closed_form(start, work):
    """The same sum from (n-1)n(2n-1)/6: an independent check of every task's answer."""
    below = lambda n: (n - 1) * n * (2 * n - 1) // 6 if n else 0
    return below(start + work) - below(start)


async def handle(delay, reader, writer):
    """GET /item/{n}: wait, as a slow service would, then answer with body_for(n)."""
    try:
        request = await reader.readuntil(b"\r\n\r\n")
        path = request.split(b" ", 2)[1].decode()
        n = int(path.rsplit("/", 1)[1])
        await asyncio.sleep(delay)
        body = body_for(n)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % len(body) + body)
        await writer.drain()
    except (asyncio.IncompleteReadError, ValueError, IndexError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(delay, conn):
    """Binds 127.0.0.1:0, sends the port up `conn`, and serves until a message or EOF arrives
    on `conn`: EOF means the parent is gone, so the server never outlives it."""
    # backlog 1024: io-gather opens hundreds of connections at once.
    server = await asyncio.start_server(lambda r, w: handle(delay, r, w), "127.0.0.1", 0,
                                        backlog=1024)
    conn.send(server.sockets[0].getsockname()[1])
    stop = asyncio.Event()
    asyncio.get_running_loop().add_reader(conn.fileno(), stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def server_process(delay, conn):
    """The server process's entry point."""
    # Ctrl-C goes to the whole process group; the parent decides when the server stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asyncio.run(serve(delay, conn))


class DelayServer:
    """The server in a process of its own, bound and ready when the constructor returns."""

    def __init__(self, delay):
        # "spawn", not "fork": a fresh interpreter, sharing nothing with this one.
        context = multiprocessing.get_context("spawn")
        self.conn, child_end = context.Pipe()
        self.process = context.Process(target=server_process, args=(delay, child_end),
                                       name="delay-server")
        self.process.start()
        child_end.close()  # the child's copy is its own; ours would hide its EOF
        try:
            self.port = self.conn.recv()
        except EOFError:
            self.process.join()
            raise RuntimeError(f"the server process ended before it was bound "
                               f"(exit code {self.process.exitcode})") from None

    def shutdown(self):
        """Tells the server to stop, waits for it, and kills it if it will not."""
        try:
            self.conn.send("stop")
        except OSError:
            pass  # it is gone already; join says how it ended
        self.conn.close()
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


async def fetch(port, n):
    """GET /item/{n} with a raw asyncio connection; returns the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET /item/{n} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                     .encode())
        await writer.drain()
        response = await reader.read()  # the server closes after one response
    finally:
        writer.close()
        await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"unexpected response {head[:40]!r}")
    return body


async def heartbeat(stop, lateness):
    """Runs every PERIOD and records how late each tick was, in nanoseconds. Like tokio's
    MissedTickBehavior::Burst: after a stall every overdue tick runs at once, each recording its
    own lateness, so a stall counts once per millisecond it lasted."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    while not stop.is_set():
        await asyncio.sleep(max(0.0, due - loop.time()))
        lateness.append(int((loop.time() - due) * 1e9))
        due += PERIOD
    now = loop.time()
    while due <= now:  # ticks due when the stop came were held up by the same stall
        lateness.append(int((now - due) * 1e9))
        due += PERIOD


def percentiles(samples):
    ordered = sorted(samples) or [0]
    rank = lambda q: ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]
    return {"p50_ns": rank(0.50), "p99_ns": rank(0.99), "max_ns": ordered[-1]}


def row(variant, args, items, expected, result, wall, **extra):
    out = {"lesson": LESSON, "variant": variant, "mechanism": "async", "workers": args.workers,
           "items": items, "expected": expected, "result": result, "correct": expected == result,
           "wall_s": wall, "per_s": items / wall if wall > 0 else 0.0}
    out.update(extra)
    out["pairs_with"] = VARIANTS[variant]
    return out


def against_inline(rows):
    """Notes each executor's heartbeat p99 as a fraction of cpu-inline's, when cpu-inline ran."""
    inline = next((r for r in rows if r["variant"] == "cpu-inline"), None)
    for r in rows:
        if r["variant"] not in ("cpu-thread-executor", "cpu-process-pool"):
            continue
        if inline is None:
            r["note"] = "not compared: cpu-inline did not run"
        else:
            r["inline_p99_ns"] = inline["p99_ns"]
            r["note"] = f"p99 1/{inline['p99_ns'] / max(r['p99_ns'], 1):.1f} of cpu-inline's"


# ANCHOR: gather
async def io_gather(args, port):
    start = time.perf_counter()
    outcomes = await asyncio.gather(*(fetch(port, n) for n in range(args.requests)),
                                    return_exceptions=True)
    wall = time.perf_counter() - start
    whole = sum(1 for n, body in enumerate(outcomes) if body == body_for(n))
    return row("io-gather", args, args.requests, args.requests, whole, wall,
               delay_ms=args.delay_ms, note=f"{wall / (args.delay_ms / 1000):.1f}x one delay")
# ANCHOR_END: gather


# ANCHOR: tutorial
async def mixed(variant, args, port, executor):
    """--tasks tasks: fetch an item, then sum squares from its number, beside a heartbeat."""
    loop = asyncio.get_running_loop()

    async def task(item):
        body = await fetch(port, item)
        seed = int(body.split(b"\n", 1)[0].removeprefix(b"item "))
        if executor is None:
            total = sum_of_squares(seed, args.work)  # the mistake: the loop runs nothing else
        else:
            total = await loop.run_in_executor(executor, sum_of_squares, seed, args.work)
        return seed == item and total == closed_form(item, args.work)

    stop, lateness = asyncio.Event(), []
    beat = asyncio.create_task(heartbeat(stop, lateness))
    start = time.perf_counter()
    outcomes = await asyncio.gather(*(task(i) for i in range(args.tasks)), return_exceptions=True)
    wall = time.perf_counter() - start
    stop.set()
    await beat
    right = sum(1 for o in outcomes if o is True)
    return row(variant, args, args.tasks, args.tasks, right, wall, **percentiles(lateness),
               heartbeat_ticks=len(lateness), work=args.work)


def run_variant(variant, args, port):
    if variant == "io-gather":
        return asyncio.run(io_gather(args, port))
    if variant == "cpu-inline":
        return asyncio.run(mixed(variant, args, port, None))
    if variant == "cpu-thread-executor":
        with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
            return asyncio.run(mixed(variant, args, port, pool))
    # "spawn", like the server: fresh interpreters that inherit nothing of this one ("fork" would
    # copy it whole, with any lock another thread held at that moment).
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=context) as pool:
        list(pool.map(abs, range(args.workers)))  # start the workers before the clock does
        return asyncio.run(mixed(variant, args, port, pool))
# ANCHOR_END: tutorial


def sized(low, high):
    def parse(text):
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not in {low}..={high}")
        return value
    return parse


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="one JSON object per variant per line")
    p.add_argument("--workers", type=sized(1, 1024), default=os.cpu_count() or 1)
    p.add_argument("--variant", action="append", choices=list(VARIANTS), default=[])
    p.add_argument("--requests", type=sized(1, 400), default=200)
    p.add_argument("--delay-ms", type=sized(1, 10_000), default=50)
    p.add_argument("--tasks", type=sized(1, 10_000), default=32)
    p.add_argument("--work", type=sized(1, 1_000_000_000), default=200_000)
    return p.parse_args()


def print_table(rows):
    print(f"{LESSON} (Python)")
    print(f"{'variant':<20} {'check':>9} {'wall':>9} {'p50':>9} {'p99':>9} {'max':>9}  note")
    for r in sorted(rows, key=lambda r: r["wall_s"]):
        ms = lambda key: f"{r[key] / 1e6:.2f} ms" if key in r else "-"
        check = f"{'ok' if r['correct'] else 'WRONG'} {r['result']}"
        print(f"{r['variant']:<20} {check:>9} {r['wall_s'] * 1e3:>6.1f} ms "
              f"{ms('p50_ns'):>9} {ms('p99_ns'):>9} {ms('max_ns'):>9}  {r.get('note', '')}")
    print(f"  p50/p99/max: how late the heartbeat ran, a coroutine due every {PERIOD * 1e3:.0f} ms "
          "on the same event loop (every tick due during the run counted)")
    print("  check: tasks whose sum matched the closed form (io-gather: whole bodies)")


def main():
    args = parse_args()
    chosen = [v for v in VARIANTS if not args.variant or v in args.variant]
    server = DelayServer(args.delay_ms / 1000)
    try:
        rows = [run_variant(v, args, server.port) for v in chosen]
    finally:
        server.shutdown()
    against_inline(rows)
    if args.json:
        for r in rows:
            print(json.dumps(r))
    else:
        print_table(rows)
    return 0 if all(r["correct"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
