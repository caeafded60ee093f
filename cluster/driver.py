"""Runs the cluster's scenarios from the producer host and writes the side-by-side results:
target/cluster/cluster.md (a table, with date and machine) and target/cluster/cluster.jsonl
(one object per system and scenario). cluster.sh builds the network and starts this inside
the producer's namespace; everything here is Python 3.11's standard library.

Exit status: 0 when every task-queue row is correct, 1 when one is not (or none ran), 2 on bad
flags. Celery's rows are the comparison; they do not fail the run: a job Celery lost shows as
`correct: false` in its row, with the lost job ids in its notes.
"""

import argparse
import datetime
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import scenarios  # noqa: E402
from hosts import Cluster  # noqa: E402
from systems import Celery, TaskQueue  # noqa: E402

SCENARIOS = ["steady", "cut-off", "killed", "broker-restart", "slow-network"]
CELERY_SCENARIOS = {"steady", "cut-off", "killed"}  # Celery's side of the comparison
SLOW_CONCURRENCY = (4, 32)  # the default, then enough jobs in flight to hide a 20 ms round trip


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--prefix", required=True)
    p.add_argument("--subnet", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--redis-conf", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--celery-python")
    p.add_argument("--hosts", type=int, default=3)
    p.add_argument("--jobs", type=int, default=10000)
    p.add_argument("--scenarios", default=",".join(SCENARIOS))
    p.add_argument("--only", help="run this one scenario")
    p.add_argument("--no-celery", action="store_true")
    args = p.parse_args()
    chosen = [args.only] if args.only else args.scenarios.split(",")
    bad = [s for s in chosen if s not in SCENARIOS]
    if bad:
        p.error(f"unknown scenario {bad[0]}: pick from {', '.join(SCENARIOS)}")
    if not 100 <= args.jobs <= 100_000:
        p.error("--jobs must be 100 to 100000")
    if not args.no_celery and not args.celery_python:
        p.error("Celery needs target/compare/venv (python3 -m venv target/compare/venv && "
                "target/compare/venv/bin/pip install -r examples/python/requirements-celery.txt), or --no-celery")
    args.chosen = chosen
    return args


def run_one(cluster, system, name, jobs):
    print(f"cluster: {system.name} {name}, {len(cluster.hosts)} hosts, {jobs} jobs ...", file=sys.stderr, flush=True)
    if name in ("cut-off", "killed"):
        return [scenarios.lost_host(cluster, system, jobs, name)]
    if name == "broker-restart":
        return [scenarios.broker_restart(cluster, system, jobs)]
    if name == "slow-network":
        return [scenarios.slow_network(cluster, system, jobs, c) for c in SLOW_CONCURRENCY]
    return [scenarios.steady(cluster, system, jobs)]


def fmt(v, digits=1):
    return "-" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)


def table(rows):
    head = "| system | scenario | hosts | jobs | result | correct | jobs/s | recovery s | share per host | notes |"
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        share = " ".join(f"{h}:{n}" for h, n in sorted(r.get("share", {}).items(), key=lambda kv: str(kv[0])))
        notes = [f"concurrency {r['concurrency']}"] if r["scenario"] == "slow-network" else []
        notes += [f"held {r['held']}"] if "held" in r else []
        notes += [f"pause {r['pause_s']} s"] if r.get("pause_s") is not None else []
        notes += r.get("notes", [])
        result = r["result"] if r["result"] == r["jobs"] else f"{r['result']} of {r['jobs']}"
        lines.append(f"| {r['system']} | {r['scenario']} | {r['hosts']} | {r['jobs']} | {result} | "
                     f"{'yes' if r['correct'] else 'NO'} | {fmt(r['per_s'])} | {fmt(r['recovery_s'], 2)} | "
                     f"{share} | {'; '.join(notes)} |")
    return "\n".join(lines)


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} CPUs, Linux {platform.release()}"


def write(out, rows, args):
    now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    with open(os.path.join(out, "cluster.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    text = (f"# task-queue across hosts, beside Celery\n\n{now}, {machine()}. "
            f"{args.hosts} worker hosts (network namespaces on one machine, one bridge), one Redis "
            f"broker host (append-only file on), one producer host; {args.jobs} jobs a scenario. "
            f"The run passes when every task-queue row is correct. Celery's rows are the comparison; "
            f"they do not fail the run.\n\n{table(rows)}\n")
    with open(os.path.join(out, "cluster.md"), "w") as f:
        f.write(text)
    print(text)


def main():
    args = parse()
    logs = os.path.join(args.out, "logs")
    os.makedirs(logs, exist_ok=True)
    for old in os.listdir(logs):
        os.remove(os.path.join(logs, old))
    cluster = Cluster(args.prefix, args.subnet, args.hosts, args.redis_conf, logs)
    systems = [TaskQueue(cluster, args.bin)]
    if not args.no_celery:
        systems.append(Celery(cluster, args.celery_python))
    rows = []
    try:
        cluster.start_redis()
        # Scenario by scenario, each system in turn: the two rows of a scenario sit together.
        for name in args.chosen:
            for system in systems:
                if system.name == "celery" and name not in CELERY_SCENARIOS:
                    continue
                rows += run_one(cluster, system, name, args.jobs)
    except KeyboardInterrupt:
        print("cluster: interrupted", file=sys.stderr)
        return 130
    finally:
        cluster.close()
        if rows:
            write(args.out, rows, args)
    ours = [r for r in rows if r["system"] == TaskQueue.name]
    wrong = [r["scenario"] for r in ours if not r["correct"]]
    if ours and not wrong:
        print(f"cluster: ok, every task-queue row correct ({len(ours)})", file=sys.stderr)
        return 0
    print(f"cluster: FAILED: task-queue rows not correct: {', '.join(wrong) or 'none ran'}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
