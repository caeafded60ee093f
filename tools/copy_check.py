#!/usr/bin/env python3
"""Copy every examples/*.rs into a project of its own, as a reader would, and build and run it.

Each example names in its header the lines to paste under `[dependencies]`, as a fenced
```toml block that starts with `[dependencies]` (one with that line alone: the standard library
only). For each example this makes target/copy-check/<name>/ with `src/main.rs` = the example and
a Cargo.toml whose `[dependencies]` are exactly those lines, builds it with `cargo build
--offline` (a workspace build has already downloaded every crate), runs it with the small sizes
in ARGS below and requires exit status 0 within TIMEOUT_S. Nothing of the workspace leaks in: no
feature unification with other examples, no dev-dependency, no workspace lints or profiles.

Usage: python3 tools/copy_check.py [NAME ...]   (every example when no name is given)

Exit status: 0 when every example built and ran, 1 when one did not (each failure is one line
naming the example, then the compiler's or the program's output), 2 for an unknown name, 130 on
Ctrl-C. The projects and their shared target directory stay under target/copy-check/ and are
reused by the next run.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
WORK = ROOT / "target" / "copy-check"
# One target directory for every project, so a crate compiled with the same version and
# features for two examples is compiled once.
TARGET = WORK / "target"

# Each example's arguments: small sizes, read from its `Run:` line and its argument parsing.
# An example that reads no arguments runs its own fixed sizes.
ARGS = {
    "async_mixed": [],
    "cpu_processes": ["--workers", "2", "--n", "1000000"],
    "executor_completed": [],
    "pool_batch": [],
    "queue_ipc": ["10000"],
    "race_lock": [],
    "shared_memory": ["2", "10000"],
    "task_queue": [],
    "threads_basic": [],
}

# A run that takes longer is a hang (a child never waited for, a deadlock): the slowest example
# at these sizes, in a debug build, takes a few seconds.
TIMEOUT_S = 120

# Debug, not --release: the examples' dependencies (tokio, apalis, the bundled SQLite) are most
# of the time, and they build several times faster unoptimised than the runs at these sizes lose.
PROFILE_DIR = "debug"


class Failed(Exception):
    """One example failed: the message is its one line, `detail` what explains it."""

    def __init__(self, message, detail=""):
        super().__init__(message)
        self.detail = detail


def dependencies(name, source):
    """The lines of the header's ```toml block after its `[dependencies]` line."""
    header = []
    for line in source.splitlines():
        if not line.startswith("//!"):
            break
        # `//! text` or `//!` alone: the text as the reader sees it.
        header.append(line[3:].removeprefix(" "))
    for start, line in enumerate(header):
        if line.strip() != "```toml":
            continue
        block = header[start + 1 :]
        if "```" not in (l.strip() for l in block):
            raise Failed(f"{name}: its header's ```toml block is never closed")
        block = block[: [l.strip() for l in block].index("```")]
        if block and block[0].strip() == "[dependencies]":
            return [l for l in block[1:] if l.strip()]
    raise Failed(
        f"{name}: its header has no ```toml block that starts with [dependencies] "
        "(a std-only example has one with that line alone)"
    )


def make_project(name, source, deps):
    """target/copy-check/<name>/ as `cargo new` would make it, with the example and its deps."""
    project = WORK / name
    (project / "src").mkdir(parents=True, exist_ok=True)
    # The empty [workspace] keeps cargo from taking the project for a member of ours, above it.
    manifest = "\n".join(
        [
            "[package]",
            f'name = "{name}"',
            'version = "0.1.0"',
            'edition = "2024"',
            "",
            "[workspace]",
            "",
            "[dependencies]",
            *deps,
            "",
        ]
    )
    (project / "Cargo.toml").write_text(manifest)
    (project / "src" / "main.rs").write_text(source)
    # Resolved afresh each run, offline, as a new project's first build would.
    (project / "Cargo.lock").unlink(missing_ok=True)
    return project


def run_bounded(cmd, cwd=None, env=None, timeout=None):
    """Runs `cmd` in a process group of its own, killed whole on a timeout or on Ctrl-C, so no
    child it started outlives it. Returns (exit status, output), or raises TimeoutError."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
        return proc.returncode, output
    except BaseException:
        # A timeout or Ctrl-C: end the whole group (the example's children too), then reap it.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.communicate()
        raise


def check(name):
    """Builds and runs one example; raises Failed with its one line if it does not pass."""
    source = (EXAMPLES / f"{name}.rs").read_text()
    project = make_project(name, source, dependencies(name, source))
    env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET), CARGO_TERM_COLOR="never")
    build = ["cargo", "build", "--offline", "--quiet"]
    status, output = run_bounded(build, cwd=project, env=env)
    if status != 0:
        raise Failed(f"{name}: the build failed (cargo exited with {status})", output)
    exe = TARGET / PROFILE_DIR / name
    cmd = [str(exe), *ARGS[name]]
    shown = " ".join([name, *ARGS[name]])
    try:
        status, output = run_bounded(cmd, cwd=project, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Failed(f"{name}: `{shown}` did not finish within {TIMEOUT_S} s") from None
    if status != 0:
        how = f"was killed by signal {-status}" if status < 0 else f"exited with {status}"
        raise Failed(f"{name}: `{shown}` {how}", output)


def main(argv):
    found = sorted(p.stem for p in EXAMPLES.glob("*.rs"))
    unlisted = [n for n in found if n not in ARGS]
    unknown = [n for n in argv if n not in found]
    if unlisted or unknown:
        problem = (
            f"examples/{unlisted[0]}.rs has no arguments in ARGS of tools/copy_check.py"
            if unlisted
            else f"no example {unknown[0]!r}; known: {', '.join(found)}"
        )
        print(f"copy-check: {problem}", file=sys.stderr)
        return 2
    names = argv or found
    passed, failed = 0, []
    start = time.monotonic()
    for name in names:
        began = time.monotonic()
        try:
            check(name)
        except Failed as failure:
            print(f"FAIL {failure}", flush=True)
            if failure.detail:
                print(failure.detail.rstrip()[-4000:], flush=True)
            failed.append(name)
            continue
        passed += 1
        print(f"ok   {name} ({time.monotonic() - began:.1f} s)", flush=True)
    print(f"took {time.monotonic() - start:.0f} s; failed: {', '.join(failed) or 'none'}")
    print(f"copy-check: {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        # run_bounded has already killed and reaped the running build or example.
        print("copy-check: interrupted", file=sys.stderr)
        sys.exit(130)
