"""The Celery twin's app (examples/python/task_queue.py: its `square` task) configured for
hosts that fail, plus the producer's two commands:

    python celery_hosts.py submit --queue Q --jobs N --ids FILE   # "task-id n sent-time" a job
    python celery_hosts.py ping --count N                         # wait for N workers
    celery -A celery_hosts worker -Q Q ...                         # a worker host

The settings are the ones Celery's documentation gives for work that must survive a dead
worker, set to the same failure-detection budget as the Rust workers (a 1 s heartbeat, dead
after 3 missed beats):
- task_acks_late: acknowledge after the task ran, not when it starts, so a worker that dies
  mid-task has not already thrown the message away;
- task_reject_on_worker_lost: a pool child killed mid-task puts its message back instead of
  recording WorkerLostError as the result;
- visibility_timeout 3 s: the Redis transport has no heartbeat-based recovery; a message not
  acknowledged within this time is given to another worker, dead or not. 3 s is the Rust
  budget (heartbeat x missed beats); Celery's default is one hour.
- unacked_restore_interval 1 s, unacked_restore_throttle 1: how often a live worker looks for
  such messages. kombu's defaults (10 s, acting on every 10th look) make that every 100 s,
  which would hide the visibility timeout; its documentation gives these two settings for a
  low visibility_timeout.
- result_extended: the result records which worker produced it (the per-host share).
"""

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples", "python"))
os.environ["TASK_QUEUE_TWIN_BROKER"] = os.environ["CLUSTER_BROKER"]

from task_queue import app, square  # noqa: E402  (the twin reads its broker at import)

FAILURE_DETECTION_S = 3

app.conf.update(
    broker_url=os.environ["CLUSTER_BROKER"],
    result_backend=os.environ["CLUSTER_BROKER"],
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    broker_transport_options={"visibility_timeout": FAILURE_DETECTION_S,
                              "unacked_restore_interval": 1, "unacked_restore_throttle": 1},
    result_extended=True,
    result_expires=None,
    broker_connection_retry_on_startup=True,
)


def submit(queue, jobs, ids_file):
    # One line a job, flushed as it goes: the driver reads the ids of the jobs sent so far to
    # follow progress before the last one is sent.
    with open(ids_file, "w") as out:
        for n in range(jobs):
            sent = time.time()
            result = square.apply_async((n,), queue=queue)
            out.write(f"{result.id} {n} {sent:.6f}\n")
            if n % 100 == 99:
                out.flush()


def ping(count, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=0.5)) >= count:
            return 0
    print(f"error: fewer than {count} celery workers answered within {timeout_s} s", file=sys.stderr)
    return 1


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("submit")
    s.add_argument("--queue", required=True)
    s.add_argument("--jobs", type=int, required=True)
    s.add_argument("--ids", required=True)
    p = sub.add_parser("ping")
    p.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    if args.command == "submit":
        submit(args.queue, args.jobs, args.ids)
        return 0
    return ping(args.count)


if __name__ == "__main__":
    sys.exit(main())
