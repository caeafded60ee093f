"""The tutorial's Celery program, completed so that it runs: worker processes pulling `square`
jobs from a Redis broker, the producer waiting for every result.

Twin of the Rust lesson `task-queue` (`cargo run --release -p task-queue -- --broker redis://...`).
Unlike the other twins it needs two packages from PyPI, `celery` and `redis`, and a running Redis:

    python3 -m venv target/compare/venv
    target/compare/venv/bin/pip install celery redis
    target/compare/venv/bin/python examples/python/task_queue.py --broker redis://127.0.0.1:6379/0

`just compare` does this itself. Celery runs as the tutorial configures it (prefork pool, the
default late-acknowledgement settings off), on a queue named for this run so that nothing else on
the broker is touched, and its results are forgotten at the end.

Same flags, same work as the Rust demo: `--workers W --concurrency C` gives W x C jobs in flight
on both sides (Rust: W worker processes running C jobs each; Celery: one worker with W x C
prefork children, its way of running that many at once). Both submit every job, then wait for
all the results together (here one native join over the result backend, not a `get()` per job
in turn).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

try:
    import redis
    from celery import Celery
    from celery.result import ResultSet
except ImportError:
    sys.exit("error: this twin needs celery and redis from PyPI: see the top of examples/python/task_queue.py")

# The worker process imports this module by name, so the broker reaches it through the
# environment rather than through argv.
BROKER = os.environ.get("TASK_QUEUE_TWIN_BROKER", "redis://127.0.0.1:6379/0")
# ANCHOR: tutorial
app = Celery("task_queue", broker=BROKER, backend=BROKER)
app.conf.update(result_expires=300, worker_hijack_root_logger=False)


@app.task
def square(x):
    return x * x
# ANCHOR_END: tutorial


def start_worker(broker, queue, children):
    env = dict(os.environ, TASK_QUEUE_TWIN_BROKER=broker)
    here = os.path.dirname(os.path.abspath(__file__))
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "task_queue", "worker", "--pool", "prefork",
         "--concurrency", str(children), "-Q", queue, "-n", f"{queue}@%h", "--loglevel", "WARNING"],
        cwd=here, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until_ready(worker, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            sys.exit(f"error: the celery worker exited with status {worker.returncode}")
        if app.control.ping(timeout=0.5):
            return
    sys.exit("error: the celery worker did not answer within a minute")


def stop(worker):
    worker.send_signal(signal.SIGTERM)  # Celery's warm shutdown: finish what runs, then exit.
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def forget_queue(broker, queue):
    # Kombu leaves its queue bindings on the broker; this run's queue is ours to remove.
    client = redis.Redis.from_url(broker)
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--concurrency", type=int, default=4,
                        help="jobs each worker runs at once (the Rust demo's --concurrency)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.broker or not args.broker.startswith("redis://"):
        sys.exit("error: give --broker redis://HOST:PORT (or set REDIS_URL)")
    if args.jobs < 1 or args.workers < 1 or args.concurrency < 1:
        sys.exit("error: --jobs, --workers and --concurrency must be at least 1")
    in_flight = args.workers * args.concurrency
    app.conf.update(broker_url=args.broker, result_backend=args.broker)

    queue = f"task-queue-twin-{os.getpid()}"
    worker = start_worker(args.broker, queue, in_flight)
    try:
        wait_until_ready(worker)
        start = time.perf_counter()
        # ANCHOR: delay
        pending = ResultSet([square.apply_async((i,), queue=queue) for i in range(args.jobs)])
        # Every result at once, as the Rust producer waits for them: one native join (the
        # Redis backend's pub/sub) rather than a round trip per job.
        total = sum(pending.join_native(timeout=120))
        # ANCHOR_END: delay
        wall = time.perf_counter() - start
        pending.forget()
    finally:
        stop(worker)
        forget_queue(args.broker, queue)

    n = args.jobs
    expected = (n - 1) * n * (2 * n - 1) // 6  # sum of i*i for i in 0..n, in closed form
    row = {"lesson": "task-queue", "variant": "celery-prefork", "mechanism": "broker",
           "workers": args.workers, "concurrency": args.concurrency, "in_flight": in_flight,
           "items": n, "expected": expected, "result": total, "correct": total == expected,
           "wall_s": wall, "per_s": n / wall, "pairs_with": "redis",
           "note": f"one celery worker, {in_flight} prefork children = {args.workers} x "
                   f"{args.concurrency} in flight; all submitted, then one join"}
    if args.json:
        print(json.dumps(row))
    else:
        print(f"celery prefork, {in_flight} children ({args.workers} x {args.concurrency}): {n} jobs in {wall:.3f} s "
              f"({n / wall:.0f} jobs/s), result {'ok' if row['correct'] else 'WRONG'}")
    return 0 if row["correct"] else 1


if __name__ == "__main__":
    sys.exit(main())
