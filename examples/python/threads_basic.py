"""The Python `threading` tutorial's programs, completed so that they run, and measured.

The twin of the Rust lesson `threads-basic` (crates/threads-basic): two threads printing numbers
and letters, named threads, a `Thread` subclass overriding `run()`, pausing/resuming/stopping a
worker with orders under a `threading.Condition`, and fetching URLs one after another, on one
thread each and on a `ThreadPoolExecutor`, from a local `http.server` that holds each response
back by --delay-ms; and `idle-threads`: --threads threads that only wait, all alive at once,
with the process's memory read before and while they are (VmRSS, VmSize, VmHWM from
/proc/self/status), to show what a thread costs.
The tutorial's listings lost their `start()`/`join()` lines and fetched real web sites; here every
thread is started and joined, and the site is local so the ideal time is known.

Same flags as the Rust binary for the sizes both share (--json, --workers, --numbers, --requests,
--delay-ms, --threads); with --json, one JSON object per line with the Rust rows' fields plus "pairs_with",
the Rust variant the row compares with. Each pair does the same work: the same sums, the same
CONTROL_UNITS units of 200 xorshift rounds, the same pages; and names the same "mechanism"
(io-sequential is sequential, every other row threads). Standard library only, Python 3.11.

    python3 examples/python/threads_basic.py
    python3 examples/python/threads_basic.py --json --requests 20 --delay-ms 50 --workers 8
"""

import argparse
import http.server
import json
import os
import resource
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

LESSON = "threads-basic"
PAGE_BYTES = 4096  # page i has PAGE_BYTES + i bytes, as in the Rust server
IO_POOL_DEFAULT = 8
PAUSE_S = 0.020
CONTROL_UNITS = 1000  # the controlled worker's job, as in the Rust step


def row(variant, pairs_with, workers, items, expected, result, wall, ok=True, note="", lat=None,
        mechanism="threads"):
    r = {
        "lesson": LESSON, "variant": variant, "mechanism": mechanism, "workers": workers,
        "items": items, "expected": expected, "result": result,
        "correct": expected == result and ok, "wall_s": wall,
        "per_s": items / wall if wall > 0 else 0.0, "pairs_with": pairs_with,
    }
    if lat:
        lat = sorted(lat)
        rank = lambda q: lat[min(len(lat) - 1, max(0, int(q * len(lat) + 0.5) - 1))]
        r.update(p50_ns=int(rank(0.50) * 1e9), p99_ns=int(rank(0.99) * 1e9), max_ns=int(lat[-1] * 1e9))
    if note:
        r["note"] = note
    return r


def split(n, parts):
    return [range(n * i // parts + 1, n * (i + 1) // parts + 1) for i in range(parts)]


def hello():
    """The tutorial's first program: one thread prints numbers, one letters; both joined."""
    # ANCHOR: tutorial
    out = []  # list.append is atomic under the GIL; the tutorial printed instead

    def print_numbers():
        for n in "12345":
            out.append(n)
            time.sleep(0.001)

    def print_letters():
        for c in "abcde":
            out.append(c)
            time.sleep(0.001)
    # ANCHOR_END: tutorial

    t0 = time.perf_counter()
    # ANCHOR: start_join
    threads = [threading.Thread(target=print_numbers),
               threading.Thread(target=print_letters)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # ANCHOR_END: start_join
    wall = time.perf_counter() - t0
    kept = [x for x in out if x.isdigit()] == list("12345")
    return row("hello", "hello", 2, len(out), 10, len(out), wall, kept, "arrived: " + " ".join(out))


def named(n, workers):
    """Thread(name=...) and results handed back through a shared list, one slot per thread."""
    results = [None] * workers

    def work(i, r):
        results[i] = (threading.current_thread().name, sum(r))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i, r), name=f"summer-{i}")
               for i, r in enumerate(split(n, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    names_kept = all(results[i][0] == f"summer-{i}" for i in range(workers))
    total = sum(s for _, s in results)
    return row("named", "named", workers, n, n * (n + 1) // 2, total, wall, names_kept)


# ANCHOR: subclass
class SumThread(threading.Thread):
    """The tutorial's subclass: state in self, work in run(), the result left on the object."""

    def __init__(self, index, numbers):
        super().__init__(name=f"sum-{index}")
        self.numbers = numbers
        self.result = None

    def run(self):
        self.result = sum(self.numbers)
# ANCHOR_END: subclass


def subclass(n, workers):
    t0 = time.perf_counter()
    threads = [SumThread(i, r) for i, r in enumerate(split(n, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return row("subclass", "job-trait", workers, n, n * (n + 1) // 2, sum(t.result for t in threads), wall)


def unit_of_work(seed):
    """The Rust step's unit: 200 rounds of xorshift64."""
    x = seed | 1
    for _ in range(200):
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
    return x


def control():
    """Pause, resume, stop: Python cannot kill a thread either; the worker is asked. Its orders
    are an allowance (units it may have done before it waits: 0 pauses it, CONTROL_UNITS lets it
    finish its job) and a stop flag, under a Condition it sleeps on while it has no allowance.
    As in the Rust step, it starts with half its job, so it pauses at the same unit every run."""
    cond = threading.Condition()
    orders = {"allowed": CONTROL_UNITS // 2, "stop": False, "parked": False}
    done, returned = [0], []

    def worker():
        units = 0
        while True:
            with cond:
                while units >= orders["allowed"] and not orders["stop"]:
                    orders["parked"] = True
                    cond.wait()
                orders["parked"] = False
                if orders["stop"]:
                    returned.append(units)
                    return
            unit_of_work(units)
            units += 1
            done[0] = units

    def order(**changes):
        with cond:
            orders.update(changes)
            cond.notify_all()

    def wait_for(cond_fn):
        deadline = time.monotonic() + 2.0
        while not cond_fn():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.00005)
        return True

    t0 = time.perf_counter()
    t = threading.Thread(target=worker, name="controlled")
    t.start()
    was_parked = wait_for(lambda: orders["parked"])
    paused_at = done[0]
    time.sleep(PAUSE_S)
    while_paused = done[0] - paused_at
    order(allowed=CONTROL_UNITS)  # resume, to the end of the job
    finished = wait_for(lambda: done[0] >= CONTROL_UNITS)
    s0 = time.perf_counter()
    order(stop=True)
    t.join(2.0)
    stop_took = time.perf_counter() - s0
    ended = not t.is_alive()
    wall = time.perf_counter() - t0
    units = returned[0] if returned else 0
    ok = (was_parked and paused_at == CONTROL_UNITS // 2 and while_paused == 0 and finished
          and ended and units == done[0])
    note = (f"paused at unit {paused_at} of {CONTROL_UNITS}; {while_paused} units while paused "
            f"{PAUSE_S * 1e3:.1f} ms; ended {stop_took * 1e6:.0f} us after stop")
    r = row("control", "control", 1, units, CONTROL_UNITS, units, wall, ok, note)
    r.update(paused_at=paused_at, units_while_paused=while_paused)
    return r


class SlowHandler(http.server.BaseHTTPRequestHandler):
    """GET /page/<i>: PAGE_BYTES + i bytes after the server's delay."""

    def do_GET(self):
        time.sleep(self.server.delay)
        try:
            i = int(self.path.removeprefix("/page/"))
        except ValueError:
            self.send_error(404)
            return
        body = bytes([ord("a") + i % 26]) * (PAGE_BYTES + i)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # no access log on stderr


class SlowServer(http.server.ThreadingHTTPServer):
    """One thread per request, so the delays of concurrent requests overlap; non-daemon request
    threads, so server_close() joins them all (a clean shutdown, nothing left running)."""

    daemon_threads = False
    block_on_close = True
    # socketserver's default listen backlog is 5: twenty clients connecting at once overflow it,
    # the kernel drops their SYNs, and they retry after a full second. Rust's std uses 128.
    request_queue_size = 128


def start_server(delay):
    server = SlowServer(("127.0.0.1", 0), SlowHandler)
    server.delay = delay
    # A short poll interval: shutdown() waits up to one interval (default 0.5 s) to be noticed.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), name="http-server")
    thread.start()
    return server, thread


def stop_server(server, thread):
    server.shutdown()  # stops serve_forever
    server.server_close()  # closes the socket and joins every request thread
    thread.join()


def fetch(base, page):
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(f"{base}/page/{page}", timeout=30) as response:
            n = len(response.read())
    except OSError as e:
        n = e
    return page, n, time.perf_counter() - t0


def io_variant(variant, pairs_with, requests, delay, in_flight, fetch_all, mechanism="threads"):
    server, thread = start_server(delay)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        t0 = time.perf_counter()
        fetched = fetch_all(base)
        wall = time.perf_counter() - t0
    finally:
        stop_server(server, thread)
    expected = requests * PAGE_BYTES + requests * (requests - 1) // 2
    received = sum(n for _, n, _ in fetched if isinstance(n, int))
    whole = len({p for p, n, _ in fetched if n == PAGE_BYTES + p})
    note = f"{whole} pages whole, {in_flight} in flight"
    r = row(variant, pairs_with, in_flight, requests, expected, received, wall,
            whole == requests, note, [t for _, _, t in fetched], mechanism)
    r["delay_ms"] = round(delay * 1000)
    return r


def io_sequential(requests, delay):
    return io_variant("io-sequential", "io-sequential", requests, delay, 1,
                      lambda base: [fetch(base, p) for p in range(requests)], "sequential")


def io_threads(requests, delay):
    # ANCHOR: thread_per_url
    def fetch_all(base):
        results = [None] * requests

        def one(p):
            results[p] = fetch(base, p)

        threads = [threading.Thread(target=one, args=(p,)) for p in range(requests)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results
    # ANCHOR_END: thread_per_url

    return io_variant("io-threads", "io-thread-per-request", requests, delay, requests, fetch_all)


def io_executor(requests, delay, workers):
    workers = min(workers, requests)

    # ANCHOR: executor
    def fetch_all(base):
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda p: fetch(base, p), range(requests)))
    # ANCHOR_END: executor

    return io_variant("io-executor", "io-pool", requests, delay, workers, fetch_all)


def memory_now():
    """VmRSS, VmSize and VmHWM of this process in KiB, or None without /proc."""
    try:
        with open("/proc/self/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
        return tuple(int(fields[k].split()[0]) for k in ("VmRSS", "VmSize", "VmHWM"))
    except (OSError, KeyError, ValueError):
        return None


def thread_limits():
    """The machine's limits on threads, as the Rust binary reads them: (name, value) pairs."""
    def read(path):
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None
    nproc = None
    try:
        with open("/proc/self/limits") as f:
            line = next((l for l in f if l.startswith("Max processes")), "")
        nproc = int(line[len("Max processes"):].split()[0])
    except (OSError, ValueError, IndexError):
        pass
    max_map = read("/proc/sys/vm/max_map_count")
    try:
        with open("/proc/self/maps") as f:
            mapped = sum(1 for _ in f) + 256  # spare, as in Rust: the allocator's arenas
    except OSError:
        mapped = 256
    # Two mappings a thread, its stack and guard page: CPython gives threads no signal stack of
    # their own, where Rust's std does (four there).
    limits = [("kernel.pid_max", read("/proc/sys/kernel/pid_max")),
              ("kernel.threads-max", read("/proc/sys/kernel/threads-max")),
              ("ulimit -u", nproc),
              (f"vm.max_map_count {max_map} less {mapped} mapped or spare, at 2 a thread",
               max(0, max_map - mapped) // 2 if max_map else None)]
    return [(name, v) for name, v in limits if v is not None]


def idle_threads(n):
    """n threads that only wait at a gate until all n are alive; the memory read meanwhile."""
    # ANCHOR: idle_threads
    # One lock, a Condition for each direction: the last thread in wakes the main thread, the
    # main thread wakes them all. One Condition for both would wake every waiting thread at
    # each arrival, n * n wake-ups.
    lock = threading.Lock()
    all_arrived, opened = threading.Condition(lock), threading.Condition(lock)
    state = {"arrived": 0, "started": None, "open": False}

    def wait_at_gate():
        with lock:
            state["arrived"] += 1
            if state["arrived"] == state["started"]:
                all_arrived.notify()
            opened.wait_for(lambda: state["open"])

    before = memory_now()
    t0 = time.perf_counter()
    threads, failed = [], None
    for i in range(n):
        t = threading.Thread(target=wait_at_gate, name=f"idle-{i}")
        try:
            t.start()  # RuntimeError: can't start new thread, when the machine says no
        except RuntimeError as e:
            failed = f"could not start thread idle-{i}: {e}"
            break
        threads.append(t)
    # A Barrier(n + 1) would hang the started threads after a failed start; this gate opens
    # for however many did start.
    with lock:
        state["started"] = len(threads)
        all_arrived.wait_for(lambda: state["arrived"] == state["started"])
        alive_at_once = state["arrived"]
    alive = memory_now()
    with lock:
        state["open"] = True
        opened.notify_all()
    for t in threads:
        t.join()
    # ANCHOR_END: idle_threads
    wall = time.perf_counter() - t0
    if failed:
        print(f"error: {failed}", file=sys.stderr)
        sys.exit(1)
    after = memory_now()
    ok = None not in (before, alive, after)
    (base_rss, base_size, _), (alive_rss, alive_size, _), (_, _, peak) = (
        (before, alive, after) if ok else ((0, 0, 0),) * 3)
    rss_each = max(0, alive_rss - base_rss) // n
    size_each = max(0, alive_size - base_size) // n
    count = lambda k: f"{k:,}".replace(",", " ")
    r = row("idle-threads", "idle-threads", n, n, n, alive_at_once, wall, ok,
            f"{count(n)} idle threads: {count(rss_each)} KiB each resident, "
            f"{count(size_each)} KiB each reserved")
    # stack_size() 0 means the C library's default, which glibc takes from `ulimit -s` (0 here
    # when that is unlimited: glibc then uses a size of its own).
    stack = threading.stack_size() or resource.getrlimit(resource.RLIMIT_STACK)[0]
    r.update(stack_kib=max(stack, 0) // 1024, base_rss_kib=base_rss,
             alive_rss_kib=alive_rss, peak_rss_kib=peak, base_size_kib=base_size,
             alive_size_kib=alive_size, rss_kib_per_thread=rss_each,
             size_kib_per_thread=size_each)
    return r


VARIANTS = ["hello", "named", "subclass", "control", "io-sequential", "io-threads", "io-executor",
            "idle-threads"]


def sized(lo, hi):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number '{text}'")
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is not in {lo}..={hi}")
        return value
    return parse


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--json", action="store_true", help="one JSON object per variant per line")
    p.add_argument("--workers", type=sized(1, 1024), help="threads [default: cores; io-executor: 8]")
    p.add_argument("--variant", action="append", choices=VARIANTS, help="repeatable; default all")
    p.add_argument("--numbers", type=sized(1, 20_000_000), default=1_000_000)
    p.add_argument("--requests", type=sized(1, 1000), default=20)
    p.add_argument("--delay-ms", type=sized(0, 10_000), default=50)
    p.add_argument("--threads", type=sized(1, 4_194_304), default=1000,
                   help="threads idle-threads holds alive at once")
    a = p.parse_args()
    if not a.variant or "idle-threads" in a.variant:
        tightest = min(thread_limits(), key=lambda lim: lim[1], default=None)
        if tightest and a.threads >= tightest[1]:
            print(f"error: --threads {a.threads}: this machine allows fewer threads than that "
                  f"({tightest[0]}: {tightest[1]}); pass a smaller --threads", file=sys.stderr)
            return 2
    workers = a.workers or os.cpu_count() or 1
    pool = a.workers or IO_POOL_DEFAULT
    delay = a.delay_ms / 1000
    run = {
        "hello": hello,
        "named": lambda: named(a.numbers, workers),
        "subclass": lambda: subclass(a.numbers, workers),
        "control": control,
        "io-sequential": lambda: io_sequential(a.requests, delay),
        "io-threads": lambda: io_threads(a.requests, delay),
        "io-executor": lambda: io_executor(a.requests, delay, pool),
        "idle-threads": lambda: idle_threads(a.threads),
    }
    rows = [run[v]() for v in VARIANTS if not a.variant or v in a.variant]
    if a.json:
        for r in rows:
            print(json.dumps(r))
    else:
        print(f"{'variant':<14} {'workers':>7} {'items':>9} {'check':<8} {'wall':>10}  note")
        for r in sorted(rows, key=lambda r: r["wall_s"]):
            check = "ok" if r["correct"] else f"WRONG {r['result']} of {r['expected']}"
            print(f"{r['variant']:<14} {r['workers']:>7} {r['items']:>9} {check:<8} "
                  f"{r['wall_s'] * 1e3:>7.2f} ms  {r.get('note', '')}")
        seq = next((r for r in rows if r["variant"] == "io-sequential"), None)
        if seq:
            print(f"io-sequential: {seq['wall_s']:.2f} s, of which {seq['items'] * seq['delay_ms'] / 1e3:.2f} s "
                  f"waiting ({seq['items']} requests x {seq['delay_ms']} ms, one at a time)")
        for r in rows:
            if seq and r["variant"] in ("io-threads", "io-executor"):
                rounds = -(-r["items"] // r["workers"])
                print(f"{r['variant']}: {seq['wall_s'] / r['wall_s']:.1f}x faster than io-sequential "
                      f"(ideal {r['items'] / rounds:.1f}x: {r['workers']} requests in flight)")
    return 0 if all(r["correct"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
