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
  wait-tasks           --waits asyncio.sleep coroutines, gathered      (pairs with wait-tasks)
  wait-threads         --waits threads each in time.sleep, joined      (pairs with wait-threads)

The two wait variants run only when named: each starts --waits waits of --delay-ms, all waiting
at once, and reports the most that were waiting together (checked against --waits) and the peak
memory the process reached meanwhile (peak_rss_kib, from VmHWM in /proc/self/status, reset
first through /proc/self/clear_refs). wait-threads refuses more threads than kernel.pid_max or
kernel.threads-max (exit 2), and stops with one line and exit 1 where a thread fails to start.
Thousands of threads whose sleeps end together then take turns with the GIL to finish: the
run's wall time shows what that costs.

The threads variant keeps the event loop free, but the GIL lets only one thread run Python at
a time, so the CPU steps do not run in parallel and the heartbeat waits for the GIL (up to the
5 ms switch interval per tick). The process pool is the tutorial's answer.

Same flags, JSON fields and answer checks as the Rust binary. Each executor's note gives its
heartbeat p99 as a fraction of cpu-inline's from the same run, but, unlike the Rust rows, no
factor is required of it: this loop also waits for the GIL, and on a busy machine its lateness
varies too much run to run for a fixed factor to tell a right program from a wrong one. --work
defaults to 200 000 here (Rust sizes its default from a pilot sum, millions of iterations in a
release build): one iteration of a Python loop costs tens of nanoseconds, so each step still
takes milliseconds. Pass the same --work to both to compare per-iteration speed, or the same
--job-ms to both (a pilot sum converts it to iterations) to compare steps of the same length.

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
import threading
import time

LESSON = "async-mixed"
VARIANTS = {
    "io-gather": "io-gather",
    "cpu-inline": "cpu-inline",
    "cpu-thread-executor": "cpu-spawn-blocking",
    "cpu-process-pool": "cpu-rayon",
    "wait-tasks": "wait-tasks",
    "wait-threads": "wait-threads",
}
WAITS = ("wait-tasks", "wait-threads")  # run only when named
# Each waiting thread's stack: Python's default is the process's (8 MiB here), reserved whole for
# every thread. 256 KiB leaves the interpreter's own C frames room (it needs more than a Rust
# thread: 32 KiB is its floor) while a hundred thousand reservations stay a few GiB.
THREAD_STACK = 256 * 1024
PERIOD = 0.001  # the heartbeat wants to run every millisecond


class UsageError(Exception):
    """Bad input: one line on stderr and exit status 2."""


class SpawnFailed(Exception):
    """A thread failed to start midway: one line on stderr and exit status 1."""


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


def work_for(job_ms):
    """The iterations of sum_of_squares that take about job_ms here: the fastest of a few pilot
    sums (a pilot is only ever slowed down, never sped up), scaled."""
    pilot = 20_000
    fastest = min(timed(lambda: sum_of_squares(1, pilot)) for _ in range(5))
    return max(1, round(job_ms / 1000 / max(fastest, 1e-9) * pilot))


def timed(f):
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


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
    sized_by = {} if args.job_ms is None else {"job_ms": args.job_ms}
    return row(variant, args, args.tasks, args.tasks, right, wall, **percentiles(lateness),
               heartbeat_ticks=len(lateness), work=args.work, **sized_by)


def run_variant(variant, args, port):
    if variant == "wait-tasks":
        return asyncio.run(wait_tasks(args))
    if variant == "wait-threads":
        return wait_threads(args)
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


class Waiting:
    """Counts the waits under way and the most there ever were at once. A wait counts from the
    moment its thread reaches the start line (or its coroutine first runs) to the end of its
    sleep: all that time it exists only to wait."""

    def __init__(self):
        self.lock, self.now, self.most = threading.Lock(), 0, 0

    def enter(self):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self):
        with self.lock:
            self.now -= 1


# ANCHOR: waits
async def wait_tasks(args):
    """--waits coroutines each in asyncio.sleep, gathered: gather creates every task before the
    loop runs any, so all are waiting before the first timer can fire."""
    waiting = Waiting()

    async def waiter():
        waiting.enter()
        await asyncio.sleep(args.delay_ms / 1000)
        waiting.leave()

    base = reset_peak_rss()
    start = time.perf_counter()
    await asyncio.gather(*(waiter() for _ in range(args.waits)))
    wall = time.perf_counter() - start
    return wait_row("wait-tasks", args, waiting.most, wall, base, mechanism="async")


def wait_threads(args):
    """--waits threads each in time.sleep, started behind a start line so none sleeps before the
    last has started, then joined. A thread that fails to start ends the spawning; the started
    ones still run and are joined before the failure is reported.

    The start line is a Lock held while spawning: each thread takes and drops it, so they pass one
    after another as fast as the lock is handed on. Not an Event: its set() wakes its waiters
    through a Condition whose notify_all takes time quadratic in the waiters, seconds at ten
    thousand."""
    limits = thread_limits()
    cap = min(limits["kernel.pid_max"], limits["kernel.threads-max"])
    if args.waits > cap:
        raise UsageError(f"--waits {args.waits} is more threads than this machine can run at once "
                         f"({describe(limits)}): pass --waits {cap} or fewer for wait-threads, "
                         "or use wait-tasks")
    waiting, start_line = Waiting(), threading.Lock()

    def waiter():
        waiting.enter()
        with start_line:
            pass
        time.sleep(args.delay_ms / 1000)
        waiting.leave()

    base = reset_peak_rss()
    start_line.acquire()
    previous = threading.stack_size(THREAD_STACK)
    threads, failed = [], None
    start = time.perf_counter()
    try:
        for _ in range(args.waits):
            # daemon: a Ctrl-C ends the program without waiting out every sleep.
            thread = threading.Thread(target=waiter, daemon=True)
            try:
                thread.start()
            except RuntimeError as err:  # "can't start new thread"
                failed = err
                break
            threads.append(thread)
    finally:
        threading.stack_size(previous)
    while waiting.now < len(threads):  # none has left yet: those under way are at the line
        time.sleep(0.001)
    start_line.release()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    if failed is not None:
        raise SpawnFailed(f"wait-threads ({describe(limits)}): starting thread {len(threads) + 1} "
                          f"of {args.waits} failed ({failed}); the {len(threads)} started were "
                          "joined")
    return wait_row("wait-threads", args, waiting.most, wall, base, mechanism="threads",
                    workers=args.waits, stack_kib=THREAD_STACK // 1024)
# ANCHOR_END: waits


def wait_row(variant, args, most, wall, base, **extra):
    peak = status_kib("VmHWM")
    per_wait = max(0, peak - base) * 1024 // args.waits
    note = (f"{wall / (args.delay_ms / 1000):.1f}x one delay; {per_wait} B a wait"
            if most == args.waits else
            f"only {most} of {args.waits} waiting at once: the first ended before the last began")
    return row(variant, args, args.waits, args.waits, most, wall, delay_ms=args.delay_ms,
               base_rss_kib=base, peak_rss_kib=peak, note=note, **extra)


def thread_limits():
    paths = {"kernel.pid_max": "/proc/sys/kernel/pid_max",
             "kernel.threads-max": "/proc/sys/kernel/threads-max",
             "vm.max_map_count": "/proc/sys/vm/max_map_count"}
    limits = {}
    for name, path in paths.items():
        with open(path) as f:
            limits[name] = int(f.read())
    return limits


def describe(limits):
    return ", ".join(f"{name} {value}" for name, value in limits.items())


def reset_peak_rss():
    """Resets the process's peak resident set (VmHWM) to its current size; returns that, KiB."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status_kib("VmRSS")


def status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


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
    p.add_argument("--work", type=sized(1, 1_000_000_000))
    p.add_argument("--job-ms", type=sized(1, 10_000))
    p.add_argument("--waits", type=sized(1, 1_000_000), default=10_000)
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
    if args.work is not None and args.job_ms is not None:
        print("error: --work and --job-ms both size the CPU step: pass one of them",
              file=sys.stderr)
        return 2
    if args.work is None:
        args.work = 200_000 if args.job_ms is None else work_for(args.job_ms)
    chosen = [v for v in VARIANTS
              if v in args.variant or (not args.variant and v not in WAITS)]
    server = DelayServer(args.delay_ms / 1000)
    try:
        rows = [run_variant(v, args, server.port) for v in chosen]
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SpawnFailed as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
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
